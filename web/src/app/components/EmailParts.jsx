// SPDX-License-Identifier: MIT
// EmailParts.jsx - what the timeline shows of a message that is a mail: its header (from, to,
// cc, a subject that differs from the conversation's), its flags (damaged, automatic, signed,
// ...), how it was threaded, where its raw source is, the way to move it to another
// conversation, and for a reply the state of its delivery.
import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { t } from '../i18n.js';
import { formatDateTime } from '../format.js';
import { toast } from '../store.js';
import { FormError } from '../admin/FormError.jsx';
import { Icon } from './Icon.jsx';
import { Modal } from './Modal.jsx';

const FLAGS = ['broken', 'auto_reply', 'bulk', 'bounce', 'mailer_daemon', 'forwarded', 'signed', 'encrypted'];

/** The subject without reply prefixes and conversation tags, for comparing. */
function bareSubject(s) {
  let v = String(s || '').replace(/\[#\d+\]/g, ' ');
  for (let prev = null; prev !== v;) {
    prev = v;
    v = v.replace(/^\s*(re|aw|fwd?|wg|sv|antw)\s*:\s*/i, '');
  }
  return v.replace(/\s+/g, ' ').trim().toLowerCase();
}

export function EmailHead({ email, convSubject }) {
  const rows = [
    ['from', email.from],
    ['to', email.to],
    ['cc', email.cc],
    ['subject', email.subject && bareSubject(email.subject) !== bareSubject(convSubject) ? email.subject : null],
  ].filter(([, v]) => v);
  if (!rows.length) return null;
  return (
    <dl class="mail-head" aria-label={t('mail.headers')} data-testid="mail-head">
      {rows.map(([k, v]) => (
        <div key={k} data-field={k}><dt>{t(`mail.${k}`)}</dt><dd>{v}</dd></div>
      ))}
    </dl>
  );
}

export function EmailFlags({ email }) {
  const flags = FLAGS.filter((f) => (email.flags || []).includes(f));
  if (!flags.length) return null;
  return (
    <ul class="mail-flags" aria-label={t('mail.flags')} data-testid="mail-flags">
      {flags.map((f) => (
        <li key={f} class={`mail-flag flag-${f}`} data-flag={f}>
          {f === 'broken' && email.problem ? t('mail.flag.broken_problem', { problem: email.problem }) : t(`mail.flag.${f}`)}
        </li>
      ))}
    </ul>
  );
}

function MoveDialog({ message, onClose, onMoved }) {
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  async function submit(e) {
    e.preventDefault();
    const id = Number(String(to).replace(/^\s*#/, ''));
    if (!Number.isInteger(id) || id < 1) return;
    setBusy(true);
    setError(null);
    try {
      const m = await api.moveMessage(message.id, id);
      toast(t('move.done', { id: m.conversation_id }));
      onMoved(m);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <Modal title={t('move.title')} onClose={onClose} testid="move-dialog">
      <form onSubmit={submit} class="stack">
        <p class="muted small">{t('move.hint', { id: message.conversation_id })}</p>
        <label class="field">
          <span>{t('move.number')}</span>
          <input type="text" inputMode="numeric" pattern="\s*#?\d+\s*" required value={to} autofocus
            onInput={(e) => setTo(e.currentTarget.value)} data-testid="move-input" />
        </label>
        <FormError error={error} />
        <div class="form-actions">
          <button type="button" class="btn btn-secondary" onClick={onClose}>{t('common.cancel')}</button>
          <button type="submit" class="btn btn-primary" disabled={busy || !to.trim()} data-testid="move-submit">
            {t('move.submit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** How the mail was threaded, its raw source, and moving it elsewhere. */
export function EmailFoot({ m, onMoved }) {
  const [moving, setMoving] = useState(false);
  const rule = m.email.thread_rule;
  return (
    <div class="mail-foot">
      {rule && <span class="muted small" data-testid="thread-rule" data-rule={rule}>{t(`mail.thread.${rule}`)}</span>}
      {m.email.has_raw && (
        <a class="btn-link small" href={api.messageRawUrl(m.id)} download={`message-${m.id}.eml`} data-testid="raw-link">
          <Icon name="download" size={14} /> {t('mail.source')}
        </a>
      )}
      <button type="button" class="btn-link small" onClick={() => setMoving(true)} data-testid="move-btn">
        <Icon name="transfer" size={14} /> {t('mail.move')}
      </button>
      {moving && <MoveDialog message={m} onClose={() => setMoving(false)}
        onMoved={(moved) => { setMoving(false); onMoved && onMoved(moved); }} />}
    </div>
  );
}

/** The delivery of a reply by email: queued (with the next attempt), sent, or failed. */
export function Delivery({ d }) {
  const attempts = d.attempts ? t('delivery.attempts', { count: d.attempts }) : '';
  let text;
  if (d.state === 'sent') text = t('delivery.sent');
  else if (d.state === 'failed') text = t('delivery.failed');
  else text = d.next_attempt_at && d.attempts
    ? t('delivery.queued_next', { time: formatDateTime(d.next_attempt_at) })
    : t('delivery.queued');
  return (
    <div class={`delivery delivery-${d.state}`} data-testid="delivery" data-state={d.state}>
      <Icon name={d.state === 'sent' ? 'check' : d.state === 'failed' ? 'close' : 'clock'} size={14} />
      <span>{text}</span>
      {attempts && d.state !== 'sent' && <span class="muted">· {attempts}</span>}
      {d.error && d.state !== 'sent' && <span class="delivery-error" data-testid="delivery-error">{d.error}</span>}
    </div>
  );
}
