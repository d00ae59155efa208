// SPDX-License-Identifier: MIT
// AdminCanned.jsx - the canned answers shared by every agent: list, create, edit, delete, with
// the variables a body may use.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { errorText, t } from '../i18n.js';
import { toast } from '../store.js';
import { FormError } from './FormError.jsx';

const VARIABLES = [
  ['{{contact.name}}', 'canned.var.contact_name'],
  ['{{contact.first_name}}', 'canned.var.contact_first_name'],
  ['{{contact.email}}', 'canned.var.contact_email'],
  ['{{agent.name}}', 'canned.var.agent_name'],
  ['{{agent.first_name}}', 'canned.var.agent_first_name'],
  ['{{conversation.id}}', 'canned.var.conversation_id'],
];

function CannedForm({ item, onSaved, onCancel }) {
  const [f, setF] = useState({ shortcut: item ? item.shortcut : '', title: item ? item.title : '', body: item ? item.body : '' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { shortcut: f.shortcut.trim().toLowerCase(), title: f.title.trim(), body: f.body };
    try {
      if (item) await api.updateCanned(item.id, body);
      else await api.createCanned(body);
      toast(t(item ? 'canned.updated' : 'canned.created', { shortcut: body.shortcut }));
      onSaved();
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  }

  return (
    <form class="card form-grid" onSubmit={submit} data-testid="canned-form">
      <h2>{item ? t('canned.edit_title', { shortcut: item.shortcut }) : t('canned.new')}</h2>
      <label class="field">
        <span>{t('field.shortcut')}</span>
        <span class="prefixed"><span aria-hidden="true">/</span>
          <input value={f.shortcut} required maxLength={32} pattern="[a-zA-Z0-9_\-]{1,32}"
            onInput={set('shortcut')} aria-describedby="shortcut-hint" data-testid="canned-shortcut" />
        </span>
        <small id="shortcut-hint" class="muted">{t('canned.shortcut_hint')}</small>
      </label>
      <label class="field">
        <span>{t('field.title')}</span>
        <input value={f.title} required maxLength={200} onInput={set('title')} data-testid="canned-title" />
      </label>
      <label class="field span-2">
        <span>{t('field.body')}</span>
        <textarea rows={7} value={f.body} required maxLength={10000} onInput={set('body')}
          aria-describedby="canned-vars" data-testid="canned-body" />
      </label>
      <div class="vars span-2" id="canned-vars">
        <p class="small">{t('canned.vars_intro')}</p>
        <dl>
          {VARIABLES.map(([v, k]) => (
            <div key={v}><dt><code>{v}</code></dt><dd>{t(k)}</dd></div>
          ))}
        </dl>
      </div>
      <FormError error={error} />
      <div class="form-actions span-2">
        {onCancel && <button type="button" class="btn btn-secondary" onClick={onCancel}>{t('common.cancel')}</button>}
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="canned-save">
          {item ? t('common.save') : t('canned.create')}
        </button>
      </div>
    </form>
  );
}

export function AdminCanned() {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [editing, setEditing] = useState(null);
  const [confirm, setConfirm] = useState(null);
  const [q, setQ] = useState('');

  async function load() {
    try {
      const r = await api.listCanned(q.trim() || undefined);
      setItems(r.items || []);
      setError(null);
    } catch (e) {
      setError(e);
      setItems([]);
    }
  }
  useEffect(() => {
    const timer = setTimeout(load, 150);
    return () => clearTimeout(timer);
  }, [q]);

  async function remove(item) {
    try {
      await api.deleteCanned(item.id);
      toast(t('canned.deleted', { shortcut: item.shortcut }));
      setConfirm(null);
      load();
    } catch (e) {
      toast(errorText(e), 'error');
    }
  }

  if (error && error.status === 404) {
    return <div class="card"><p class="empty">{t('canned.unavailable')}</p></div>;
  }

  return (
    <div class="admin-grid">
      <section class="card">
        <div class="card-title">
          <h2>{t('admin.canned')}</h2>
          <input type="search" class="grow" value={q} onInput={(e) => setQ(e.currentTarget.value)}
            placeholder={t('canned.search')} aria-label={t('canned.search')} />
        </div>
        <FormError error={error} />
        {items && !items.length && <p class="empty">{t('canned.none')}</p>}
        {items && items.length > 0 && (
          <ul class="canned-list" data-testid="canned-list">
            {items.map((c) => (
              <li key={c.id} class="canned-item">
                <div class="canned-main">
                  <div><code>/{c.shortcut}</code> <strong>{c.title}</strong></div>
                  <p class="muted small canned-body">{c.body}</p>
                </div>
                <div class="actions">
                  <button type="button" class="btn btn-small btn-secondary" onClick={() => setEditing(c)}
                    aria-label={t('canned.edit_named', { shortcut: c.shortcut })}>{t('common.edit')}</button>
                  {confirm === c.id ? (
                    <button type="button" class="btn btn-small btn-danger" onClick={() => remove(c)}>
                      {t('canned.confirm_delete')}
                    </button>
                  ) : (
                    <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => setConfirm(c.id)}
                      aria-label={t('canned.delete_named', { shortcut: c.shortcut })}>{t('common.delete')}</button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>
      <CannedForm key={editing ? editing.id : 'new'} item={editing}
        onSaved={() => { setEditing(null); load(); }}
        onCancel={editing ? () => setEditing(null) : null} />
    </div>
  );
}
