// SPDX-License-Identifier: MIT
// AdminInboxEmail.jsx - an email inbox's settings (its address, the SMTP server replies go out
// by, the IMAP mailbox mail is fetched from, the acknowledgement of new conversations; passwords
// are write-only) and the mails it kept without a conversation (bounces, automatic replies).
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { t } from '../i18n.js';
import { formatDateTime, formatSize } from '../format.js';
import { toast } from '../store.js';
import { FormError } from './FormError.jsx';

const EMPTY = {
  address: '', display_name: '', smtp_url: '', smtp_user: '', imap_url: '', imap_user: '',
  imap_poll_s: 60, imap_after: 'seen', autoreply: '', smtp_password_set: false, imap_password_set: false,
};

/** A labelled control with an optional hint under it. */
function Field({ label, hint, id, children }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
      {hint && <small id={id} class="muted">{hint}</small>}
    </label>
  );
}

/** A mail server: its URL, user and write-only password (empty keeps the stored one). */
function Server({ kind, f, set, pw, setPw, inboxId }) {
  const id = `${kind}-password-${inboxId}`;
  const isSet = f[`${kind}_password_set`];
  const clear = pw[`${kind}_clear`];
  const hintId = `${kind}-hint-${inboxId}`;
  return (
    <>
      <Field label={t('email.server')} hint={t(`email.${kind}_hint`)} id={hintId}>
        <input value={f[`${kind}_url`]} onInput={set(`${kind}_url`)} aria-describedby={hintId}
          placeholder={kind === 'smtp' ? 'smtps://mail.shop.example' : 'imaps://mail.shop.example/INBOX'} />
      </Field>
      <Field label={t('email.user')}>
        <input value={f[`${kind}_user`]} onInput={set(`${kind}_user`)} autocomplete="off" />
      </Field>
      <div class="field">
        <label for={id}>{t('field.password')}</label>
        <input type="password" id={id} value={pw[kind]} autocomplete="new-password" aria-describedby={`${id}-hint`}
          placeholder={isSet && !clear ? '••••••••' : ''} data-testid={id}
          onInput={(e) => setPw({ ...pw, [kind]: e.currentTarget.value, [`${kind}_clear`]: false })} />
        <small id={`${id}-hint`} class="muted" data-testid={`${id}-state`}>
          {t(clear ? 'email.password_cleared' : isSet ? 'email.password_set' : 'email.password_unset')}
          {isSet && !clear && !pw[kind] && (
            <button type="button" class="btn-link small" onClick={() => setPw({ ...pw, [`${kind}_clear`]: true })}>
              {t('email.password_clear')}
            </button>
          )}
        </small>
      </div>
    </>
  );
}

const NO_PASSWORDS = { smtp: '', imap: '', smtp_clear: false, imap_clear: false };

function Settings({ inbox }) {
  const [f, setF] = useState(null);
  const [pw, setPw] = useState(NO_PASSWORDS);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.getInboxEmail(inbox.id)
      .then((s) => setF({ ...EMPTY, ...s }))
      .catch((e) => {
        setF({ ...EMPTY });
        if (e.status !== 404) setError(e);
      });
  }, [inbox.id]);

  if (!f) return <p class="loading">{t('common.loading')}</p>;
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const after = f.imap_after.startsWith('move:') ? 'move' : f.imap_after;
  const folder = after === 'move' ? f.imap_after.slice(5) : '';
  const ack = `ack-hint-${inbox.id}`;

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { imap_poll_s: Number(f.imap_poll_s) };
    for (const k of ['address', 'display_name', 'smtp_url', 'smtp_user', 'imap_url', 'imap_user', 'imap_after', 'autoreply']) {
      body[k] = /address|_url/.test(k) ? f[k].trim() : f[k];
    }
    // a password left empty stays as it is; "remove" sends an empty one
    for (const k of ['smtp', 'imap']) if (pw[k] || pw[`${k}_clear`]) body[`${k}_password`] = pw[k];
    try {
      setF({ ...EMPTY, ...(await api.putInboxEmail(inbox.id, body)) });
      setPw(NO_PASSWORDS);
      toast(t('email.saved'));
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  }

  const server = { f, set, pw, setPw, inboxId: inbox.id };
  return (
    <form class="email-settings stack" onSubmit={submit} data-testid="email-settings">
      <h4>{t('email.settings')}</h4>
      {!f.address && <p class="muted small">{t('email.no_address')}</p>}
      <Field label={t('email.address')}>
        <input type="email" required value={f.address} onInput={set('address')} maxLength={254}
          placeholder="support@shop.example" data-testid="email-address" />
      </Field>
      <Field label={t('email.display_name')}>
        <input value={f.display_name} onInput={set('display_name')} maxLength={200} />
      </Field>
      <fieldset class="field email-group">
        <legend>{t('email.smtp')}</legend>
        <Server kind="smtp" {...server} />
      </fieldset>
      <fieldset class="field email-group">
        <legend>{t('email.imap')}</legend>
        <Server kind="imap" {...server} />
        <Field label={t('email.poll')}>
          <input type="number" min={1} max={86400} required value={f.imap_poll_s} onInput={set('imap_poll_s')} />
        </Field>
        <Field label={t('email.after')}>
          <select value={after} onChange={(e) => {
            const v = e.currentTarget.value;
            setF({ ...f, imap_after: v === 'move' ? `move:${folder || 'Archive'}` : v });
          }}>
            {['seen', 'delete', 'move'].map((v) => <option key={v} value={v}>{t(`email.after.${v}`)}</option>)}
          </select>
        </Field>
        {after === 'move' && (
          <Field label={t('email.folder')}>
            <input value={folder} required onInput={(e) => setF({ ...f, imap_after: `move:${e.currentTarget.value}` })} />
          </Field>
        )}
      </fieldset>
      <Field label={t('email.autoreply')} hint={t('email.autoreply_hint')} id={ack}>
        <textarea rows={3} value={f.autoreply} onInput={set('autoreply')} aria-describedby={ack} />
      </Field>
      <FormError error={error} />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="email-save">{t('common.save')}</button>
      </div>
    </form>
  );
}

/** Bounces and automatic replies that opened no conversation, newest first. */
function Kept({ inbox }) {
  const [items, setItems] = useState(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState(null);
  const PAGE = 20;

  async function load(before) {
    setError(null);
    try {
      const r = await api.listKeptMail(inbox.id, { before_id: before, limit: PAGE });
      const got = r.items || [];
      setItems((prev) => (before ? [...(prev || []), ...got] : got));
      setMore(got.length === PAGE);
    } catch (e) {
      setError(e);
      setItems((prev) => prev || []);
    }
  }
  useEffect(() => {
    load();
  }, [inbox.id]);

  return (
    <section class="kept" aria-labelledby={`kept-${inbox.id}`} data-testid="kept-mail">
      <div class="snippet-label">
        <h4 id={`kept-${inbox.id}`}>{t('email.kept')}</h4>
        <button type="button" class="btn btn-small btn-secondary" onClick={() => load()}>{t('email.reload')}</button>
      </div>
      <p class="muted small">{t('email.kept_hint')}</p>
      <FormError error={error} />
      {items && !items.length && !error && <p class="muted small">{t('email.kept_none')}</p>}
      {items && items.length > 0 && (
        <ul class="kept-list">
          {items.map((k) => (
            <li key={k.id} data-testid="kept-item" data-kind={k.kind}>
              <div>
                <span class={`mail-flag flag-${k.kind}`}>{t(`email.kept.${k.kind}`)}</span>{' '}
                <strong>{k.subject || t('email.no_subject')}</strong>
              </div>
              <div class="muted small">
                {k.from_addr || t('email.no_sender')} · <time dateTime={k.created_at}>{formatDateTime(k.created_at)}</time>
                {k.size != null && ` · ${formatSize(k.size)}`}
                {k.message_id && ` · ${t('email.kept_about', { id: k.message_id })}`}
              </div>
              {k.reason && <div class="small">{k.reason}</div>}
            </li>
          ))}
        </ul>
      )}
      {more && (
        <button type="button" class="btn btn-small btn-secondary" onClick={() => load(items[items.length - 1].id)}>
          {t('list.load_more')}
        </button>
      )}
    </section>
  );
}

export function EmailBox({ inbox }) {
  return (
    <div class="email-box">
      <Settings inbox={inbox} />
      <Kept inbox={inbox} />
    </div>
  );
}
