// SPDX-License-Identifier: MIT
// AdminInboxes.jsx - the inboxes: create, rename, choose the team; for web chat inboxes the
// widget snippet to copy into the shop's pages and the secret that signs signed-in customers, for
// email inboxes their mail settings and kept mails (AdminInboxEmail).
import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { t } from '../i18n.js';
import { CHANNELS, channelLabel } from '../format.js';
import { loadDirectory } from '../session.js';
import { toast, useStore } from '../store.js';
import { Icon } from '../components/Icon.jsx';
import { EmailBox } from './AdminInboxEmail.jsx';
import { FormError } from './FormError.jsx';

export function widgetSnippet(inboxId) {
  return `<script src="${location.origin}/widget/v1/widget.js" data-inbox="${inboxId}" async></script>`;
}

async function copy(text, el) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t('inboxes.copied'));
  } catch {
    // no clipboard permission: select the text so that Ctrl+C works
    const sel = getSelection();
    const range = document.createRange();
    range.selectNodeContents(el);
    sel.removeAllRanges();
    sel.addRange(range);
    toast(t('inboxes.copy_manual'));
  }
}

/** The snippet, and the secret on request (GET /inboxes/{id}/widget), with a way to replace it. */
function WidgetBox({ inbox }) {
  const [secret, setSecret] = useState(null);
  const [error, setError] = useState(null);
  const snippet = widgetSnippet(inbox.id);
  let code = null;

  async function load(rotate) {
    setError(null);
    if (rotate && !window.confirm(t('inboxes.rotate_confirm'))) return;
    try {
      const w = rotate ? await api.rotateInboxWidget(inbox.id) : await api.getInboxWidget(inbox.id);
      setSecret(w.secret);
      if (rotate) toast(t('inboxes.rotated'));
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div class="snippet-box">
      <div class="snippet-label">
        <span>{t('inboxes.snippet')}</span>
        <button type="button" class="btn btn-small btn-secondary" onClick={() => copy(snippet, code)}
          aria-label={t('inboxes.copy_named', { name: inbox.name })}>
          <Icon name="copy" size={14} /> {t('inboxes.copy')}
        </button>
      </div>
      <code class="code" ref={(el) => { code = el; }} data-testid="widget-snippet">{snippet}</code>
      <div class="snippet-label">
        <span>{t('inboxes.secret')}</span>
        {secret === null
          ? <button type="button" class="btn btn-small btn-secondary" onClick={() => load(false)}>{t('inboxes.show_secret')}</button>
          : <button type="button" class="btn btn-small btn-secondary" onClick={() => load(true)}>{t('inboxes.rotate')}</button>}
      </div>
      {secret !== null && <code class="code" data-testid="widget-secret">{secret}</code>}
      <FormError error={error} />
    </div>
  );
}

function InboxCard({ inbox, teams }) {
  const [name, setName] = useState(inbox.name);
  const [error, setError] = useState(null);

  async function save(body, okText) {
    setError(null);
    try {
      await api.updateInbox(inbox.id, body);
      await loadDirectory();
      toast(okText);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section class="card" data-testid="inbox-card" data-id={inbox.id} data-channel={inbox.channel}>
      <div class="card-title">
        <h3>{inbox.name}</h3>
        <span class={`chan chan-${inbox.channel}`}>{channelLabel(inbox.channel)}</span>
        <span class="muted small">#{inbox.id}</span>
      </div>
      <div class="inbox-fields">
        <form class="inline-form" onSubmit={(e) => {
          e.preventDefault();
          save({ name: name.trim() }, t('inboxes.renamed', { name: name.trim() }));
        }}>
          <label class="field grow">
            <span>{t('field.name')}</span>
            <input value={name} required maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn btn-secondary" disabled={!name.trim() || name.trim() === inbox.name}>
            {t('common.rename')}
          </button>
        </form>
        <label class="field">
          <span>{t('field.team')}</span>
          <select value={inbox.team_id || ''} onChange={(e) => {
            const v = e.currentTarget.value;
            save({ team_id: v ? Number(v) : null }, t('inboxes.team_changed'));
          }}>
            <option value="">{t('inboxes.no_team')}</option>
            {teams.map((tm) => <option key={tm.id} value={tm.id}>{tm.name}</option>)}
          </select>
        </label>
      </div>
      <FormError error={error} />
      {inbox.channel === 'webchat' && <WidgetBox inbox={inbox} />}
      {inbox.channel === 'email' && <EmailBox inbox={inbox} />}
    </section>
  );
}

export function AdminInboxes() {
  const inboxes = useStore((s) => s.inboxes);
  const teams = useStore((s) => s.teams);
  const [f, setF] = useState({ name: '', channel: 'api', team_id: '' });
  const [error, setError] = useState(null);

  async function create(e) {
    e.preventDefault();
    setError(null);
    const body = { name: f.name.trim(), channel: f.channel };
    if (f.team_id) body.team_id = Number(f.team_id);
    try {
      await api.createInbox(body);
      await loadDirectory();
      toast(t('inboxes.created', { name: body.name }));
      setF({ name: '', channel: 'api', team_id: '' });
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div class="admin-stack">
      <form class="card form-row" onSubmit={create}>
        <label class="field grow">
          <span>{t('inboxes.new')}</span>
          <input value={f.name} required maxLength={100} placeholder={t('inboxes.new_placeholder')}
            onInput={(e) => setF({ ...f, name: e.currentTarget.value })} data-testid="inbox-new-name" />
        </label>
        <label class="field">
          <span>{t('field.channel')}</span>
          <select value={f.channel} onChange={(e) => setF({ ...f, channel: e.currentTarget.value })}
            data-testid="inbox-new-channel">
            {CHANNELS.map((c) => <option key={c} value={c}>{channelLabel(c)}</option>)}
          </select>
        </label>
        <label class="field">
          <span>{t('field.team')}</span>
          <select value={f.team_id} onChange={(e) => setF({ ...f, team_id: e.currentTarget.value })}>
            <option value="">{t('inboxes.no_team')}</option>
            {teams.map((tm) => <option key={tm.id} value={tm.id}>{tm.name}</option>)}
          </select>
        </label>
        <div class="form-actions end">
          <button type="submit" class="btn btn-primary" disabled={!f.name.trim()} data-testid="inbox-create">
            {t('inboxes.create')}
          </button>
        </div>
        <FormError error={error} />
      </form>
      <div class="cards">
        {inboxes.map((i) => <InboxCard key={`${i.id}:${i.name}:${i.team_id}`} inbox={i} teams={teams} />)}
      </div>
    </div>
  );
}
