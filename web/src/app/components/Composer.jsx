// SPDX-License-Identifier: MIT
// Composer.jsx - writes a reply (on a channel the customer can be reached on; by email it says to
// whom) or an internal note. "/" at the start of a word opens the canned answers (searchable, by
// keyboard), "@" in a note offers the agents to mention. Files come by the attach button, by
// dropping them on the composer or by pasting (screenshots); they travel base64-encoded with the
// reply or note, checked against the API's limits first. Typing is reported to the stream for the
// collision warning.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api.js';
import { errorText, t } from '../i18n.js';
import { channelLabel, formatSize, replyChannels } from '../format.js';
import { stream } from '../stream.js';
import { getState, inboxById, toast, useStore } from '../store.js';
import { Icon } from './Icon.jsx';

const drafts = new Map(); // conversation id -> {text, mode, mentions, files}

/* what POST /conversations/{id}/messages takes at most: 10 files, and the bytes the session
 * says (max_attachment, less when the request body limit is smaller) */
const MAX_FILES = 10;
const maxFileBytes = () => {
  const s = getState().session;
  return (s && s.limits && s.limits.attachment_bytes) || 10 * 1024 * 1024;
};

/** The files to send plus those added, without one picked twice; a name already in the list
 * gets a number ("image-2.png"), as pasted screenshots all come as "image.png". */
function addFiles(list, added) {
  const out = [...list];
  for (const file of added) {
    if (out.some((f) => f.file.name === file.name && f.file.size === file.size &&
      f.file.lastModified === file.lastModified)) continue;
    let name = file.name || 'file';
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    for (let n = 2; out.some((f) => f.name === name); n++) name = `${stem}-${n}${ext}`;
    out.push({ file, name });
  }
  return out;
}

/** Why the files cannot go as they are (too many, too large together), or null. */
function filesProblem(files) {
  if (files.length > MAX_FILES) return t('composer.too_many_files', { max: MAX_FILES, n: files.length });
  const total = files.reduce((n, f) => n + f.file.size, 0);
  const max = maxFileBytes();
  if (total > max) {
    /* the total rounded up and the limit down, so that they never read the same */
    const mb = (n, round) => `${(round(n / (1024 * 1024 / 10)) / 10).toFixed(1)} MB`;
    return t('composer.files_too_large', { size: mb(total, Math.ceil), max: mb(max, Math.floor) });
  }
  return null;
}

/** The file's bytes as standard base64 (the data URL without its head). */
function readBase64(file) {
  return new Promise((ok, fail) => {
    const r = new FileReader();
    r.onload = () => ok(String(r.result).slice(String(r.result).indexOf(',') + 1));
    r.onerror = () => fail(r.error);
    r.readAsDataURL(file);
  });
}

/** The text of a failed send: the server's "too large" said of the files when there are some. */
function sendErrorText(err, hasFiles) {
  if (err.unreadable) return t('composer.file_unreadable', { name: err.unreadable });
  if (hasFiles && (err.code === 'too_large' || err.code === 'too_many')) return t('composer.files_refused');
  return errorText(err);
}

/** What the word before the caret asks for: canned answers ("/word") or a mention ("@name"). */
function detect(text, caret, mode) {
  const before = text.slice(0, caret);
  let m = /(^|\s)\/([\p{L}\p{N}_-]*)$/u.exec(before);
  if (m) return { kind: 'canned', query: m[2], start: caret - m[2].length - 1 };
  if (mode === 'note') {
    m = /(^|\s)@([\p{L}\p{N}._-]*)$/u.exec(before);
    if (m) return { kind: 'mention', query: m[2], start: caret - m[2].length - 1 };
  }
  return null;
}

/** Where a reply by email goes, as far as the workspace knows: the sender of the last mail,
 * else the customer's first email address; null when unknown. */
function emailRecipient(conv, contact) {
  for (let i = conv.messages.length - 1; i >= 0; i--) {
    const m = conv.messages[i];
    if (m.direction === 'in' && m.email && m.email.from) return m.email.from;
  }
  const id = ((contact && contact.identities) || []).find((x) => x.kind === 'email');
  return id ? id.value : null;
}

function lastInboundChannel(conv) {
  for (let i = conv.messages.length - 1; i >= 0; i--) {
    if (conv.messages[i].direction === 'in') return conv.messages[i].channel;
  }
  return conv.channel;
}

export function Composer({ handle, conv, contact }) {
  const agents = useStore((s) => s.agents);
  const teams = useStore((s) => s.teams);
  const draft = drafts.get(conv.id) || { text: '', mode: 'reply', mentions: [], files: [] };
  const [text, setText] = useState(draft.text);
  const [mode, setMode] = useState(draft.mode);
  const [mentions, setMentions] = useState(draft.mentions);
  const [files, setFiles] = useState(draft.files || []); // [{file, name}]
  const [dragging, setDragging] = useState(false);
  const [chosenChannel, setChosenChannel] = useState(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState(null);
  const [popup, setPopup] = useState(null); // {kind, query, start, items, index, loading, error}
  const area = useRef(null);
  const root = useRef(null);
  const picker = useRef(null);
  const caretAfter = useRef(null);
  const cannedReq = useRef(0);

  const channels = replyChannels(contact, conv);
  // a web chat whose customer asked for answers by email (nobody was online) is answered by email
  const inbox = inboxById(conv.inbox_id);
  const byEmail = conv.channel === 'email' && inbox && inbox.channel === 'webchat';
  const defaultChannel = byEmail ? 'email' : lastInboundChannel(conv);
  const channel = chosenChannel || defaultChannel;
  const recipient = channel === 'email' ? emailRecipient(conv, contact) : null;

  useEffect(() => {
    drafts.set(conv.id, { text, mode, mentions, files });
  }, [text, mode, mentions, files]);

  handle.current = {
    focus(m) {
      if (m) setMode(m);
      area.current && area.current.focus();
    },
  };

  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight + 2, 320)}px`;
    if (caretAfter.current != null) {
      el.setSelectionRange(caretAfter.current, caretAfter.current);
      caretAfter.current = null;
    }
  }, [text]);

  // the canned answers matching the typed word, a little after the last key
  const cannedQuery = popup && popup.kind === 'canned' ? popup.query : null;
  useEffect(() => {
    if (cannedQuery === null) return undefined;
    const n = ++cannedReq.current;
    const timer = setTimeout(() => {
      api.listCanned(cannedQuery)
        .then((r) => n === cannedReq.current &&
          setPopup((p) => (p && p.kind === 'canned' ? { ...p, items: r.items || [], index: 0, loading: false, error: null } : p)))
        .catch((e) => n === cannedReq.current &&
          setPopup((p) => (p && p.kind === 'canned' ? { ...p, items: [], loading: false, error: e } : p)));
    }, 120);
    return () => clearTimeout(timer);
  }, [cannedQuery]);

  function updatePopup(value, caret, m = mode) {
    const d = detect(value, caret, m);
    if (!d) {
      setPopup(null);
      return;
    }
    if (d.kind === 'mention') {
      const q = d.query.toLowerCase();
      // only colleagues who may see the conversation can be mentioned
      const team = teams.find((tm) => tm.id === conv.team_id);
      const canSee = (a) => a.role === 'admin' || a.id === conv.assignee_id || (team && team.members.includes(a.id));
      const items = agents
        .filter((a) => a.active && canSee(a) && (!q || a.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(q)) ||
          a.name.toLowerCase().startsWith(q)))
        .slice(0, 8);
      setPopup({ ...d, items, index: 0, loading: false });
    } else {
      setPopup((p) => ({ ...d, items: p && p.kind === 'canned' ? p.items : [], index: 0, loading: !(p && p.kind === 'canned') }));
    }
  }

  function onInput(e) {
    const v = e.currentTarget.value;
    setText(v);
    setError(null);
    updatePopup(v, e.currentTarget.selectionStart);
    /* only replies: a chat customer sees "typing" too, and a note is not for them */
    if (v && mode === 'reply') stream.typing(conv.id);
  }

  function replaceWord(insert) {
    const el = area.current;
    const caret = el ? el.selectionStart : text.length;
    const next = text.slice(0, popup.start) + insert + text.slice(caret);
    caretAfter.current = popup.start + insert.length;
    setText(next);
    setPopup(null);
    el && el.focus();
  }

  async function choose(item) {
    if (!popup || !item) return;
    if (popup.kind === 'mention') {
      replaceWord(`@${item.name} `);
      setMentions((ms) => (ms.some((x) => x.id === item.id) ? ms : [...ms, { id: item.id, name: item.name }]));
      return;
    }
    let body = item.body || '';
    try {
      const r = await api.renderCanned(item.id, conv.id);
      body = r.text;
    } catch (e) {
      if (e.status !== 404 && e.status !== 405) {
        toast(errorText(e), 'error');
        return;
      }
    }
    replaceWord(body);
  }

  function onKeyDown(e) {
    if (popup && popup.items && popup.items.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const d = e.key === 'ArrowDown' ? 1 : -1;
        setPopup({ ...popup, index: (popup.index + d + popup.items.length) % popup.items.length });
        return;
      }
      if ((e.key === 'Enter' && !e.ctrlKey && !e.metaKey) || e.key === 'Tab') {
        e.preventDefault();
        choose(popup.items[popup.index]);
        return;
      }
    }
    if (popup && e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      setPopup(null);
      return;
    }
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      send();
    } else if (e.key === 'Escape') {
      e.currentTarget.blur();
    }
  }

  function attach(list) {
    const added = [...(list || [])];
    if (!added.length || sending) return; /* what is being sent is cleared when it went */
    setFiles((fs) => addFiles(fs, added));
    setError(null);
  }

  /** Removes file i; the focus goes to the remove button now in its place (or the one before
   * it), after the last file back to the attach button. */
  function removeFile(i) {
    setFiles((fs) => fs.filter((_, k) => k !== i));
    setError(null);
    setTimeout(() => {
      const el = root.current;
      if (!el) return;
      const buttons = el.querySelectorAll('[data-testid=composer-file-remove]');
      const next = buttons[Math.min(i, buttons.length - 1)] || el.querySelector('[data-testid=attach-btn]');
      next && next.focus();
    });
  }

  const hasFiles = (dt) => dt && [...dt.types].includes('Files');
  function onDragOver(e) {
    if (!hasFiles(e.dataTransfer)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    if (!dragging) setDragging(true);
  }
  function onDragLeave(e) {
    if (!root.current || !root.current.contains(e.relatedTarget)) setDragging(false);
  }
  function onDrop(e) {
    if (!hasFiles(e.dataTransfer)) return;
    e.preventDefault();
    setDragging(false);
    attach(e.dataTransfer.files);
  }
  function onPaste(e) {
    const cb = e.clipboardData;
    /* a screenshot or a copied image comes without text; text copied from a word processor
     * may bring a picture of itself, and is pasted as text */
    if (!cb || !cb.files.length || [...cb.types].includes('text/plain')) return;
    e.preventDefault();
    attach(cb.files);
  }

  const problem = filesProblem(files);

  async function send() {
    const body = text.trim();
    if ((!body && !files.length) || sending || problem) return;
    setSending(true);
    setError(null);
    const req = { type: mode, text: body };
    if (mode === 'reply') req.channel = channel;
    if (mode === 'note') {
      const ids = mentions.filter((m) => body.includes(`@${m.name}`)).map((m) => m.id);
      if (ids.length) req.mentions = ids;
    }
    try {
      if (files.length) {
        req.attachments = await Promise.all(files.map(({ file, name }) => readBase64(file)
          .then((data) => ({ filename: name, content_type: file.type || 'application/octet-stream', data }))
          .catch(() => { throw Object.assign(new Error('unreadable'), { unreadable: name }); })));
      }
      await api.sendMessage(conv.id, req);
      setText('');
      setMentions([]);
      setFiles([]);
      setPopup(null);
      drafts.delete(conv.id);
      toast(mode === 'note' ? t('composer.note_saved')
        : channel === 'email' ? t('composer.reply_queued')
          : t('composer.reply_sent', { channel: channelLabel(channel) }));
    } catch (err) {
      setError(err);
    }
    setSending(false);
  }

  function switchMode(m) {
    setMode(m);
    updatePopup(text, area.current ? area.current.selectionStart : text.length, m);
    area.current && area.current.focus();
  }

  const popupId = `composer-popup-${conv.id}`;
  const active = popup && popup.items && popup.items[popup.index];
  return (
    <div class={`composer composer-${mode}${dragging ? ' composer-drop' : ''}`} data-testid="composer" ref={root}
      onDragOver={onDragOver} onDragLeave={onDragLeave} onDrop={onDrop}>
      <div class="composer-bar">
        <div class="seg" role="group" aria-label={t('composer.mode')}>
          <button type="button" class={mode === 'reply' ? 'on' : ''} aria-pressed={mode === 'reply'}
            onClick={() => switchMode('reply')} data-testid="mode-reply">
            <Icon name="reply" size={15} /> {t('composer.reply')} <kbd aria-hidden="true">r</kbd>
          </button>
          <button type="button" class={mode === 'note' ? 'on' : ''} aria-pressed={mode === 'note'}
            onClick={() => switchMode('note')} data-testid="mode-note">
            <Icon name="note" size={15} /> {t('composer.note')} <kbd aria-hidden="true">n</kbd>
          </button>
        </div>
        {mode === 'reply' && (
          <label class="inline-field">
            <span>{t('composer.via')}</span>
            <select value={channel} onChange={(e) => setChosenChannel(e.currentTarget.value)} data-testid="reply-channel">
              {(channels.includes(channel) ? channels : [channel, ...channels]).map((c) => (
                <option key={c} value={c}>{channelLabel(c)}</option>
              ))}
            </select>
          </label>
        )}
      </div>
      <div class="composer-box">
        {popup && (
          <div class="suggest" data-testid={popup.kind === 'canned' ? 'canned-popup' : 'mention-popup'}>
            <div class="suggest-head">
              {popup.kind === 'canned' ? t('canned.popup_title') : t('mention.popup_title')}
              {popup.query && <span class="muted"> · {popup.kind === 'canned' ? '/' : '@'}{popup.query}</span>}
            </div>
            {popup.loading ? (
              <p class="suggest-empty">{t('common.loading')}</p>
            ) : popup.error ? (
              <p class="suggest-empty">{popup.error.status === 404 ? t('canned.unavailable') : errorText(popup.error)}</p>
            ) : !popup.items.length ? (
              <p class="suggest-empty">{popup.kind === 'canned' ? t('canned.none') : t('mention.none')}</p>
            ) : (
              <ul role="listbox" id={popupId} aria-label={popup.kind === 'canned' ? t('canned.popup_title') : t('mention.popup_title')}>
                {popup.items.map((it, i) => (
                  <li key={it.id} id={`${popupId}-${i}`} role="option" aria-selected={i === popup.index}
                    class={i === popup.index ? 'active' : ''}
                    data-testid={popup.kind === 'canned' ? 'canned-option' : 'mention-option'}
                    onMouseDown={(e) => { e.preventDefault(); choose(it); }}
                    onMouseEnter={() => setPopup({ ...popup, index: i })}>
                    {popup.kind === 'canned' ? (
                      <>
                        <span class="suggest-main"><code>/{it.shortcut}</code> {it.title}</span>
                        <span class="suggest-sub">{(it.body || '').slice(0, 110)}</span>
                      </>
                    ) : (
                      <span class="suggest-main">{it.name} <span class="muted">{it.email}</span></span>
                    )}
                  </li>
                ))}
              </ul>
            )}
            <div class="suggest-foot muted">{t('suggest.hint')}</div>
          </div>
        )}
        <label class="sr-only" for={`composer-${conv.id}`}>
          {mode === 'note' ? t('composer.note_label') : t('composer.reply_label')}
        </label>
        <textarea id={`composer-${conv.id}`} ref={area} value={text} rows={3}
          placeholder={mode === 'note' ? t('composer.note_placeholder') : t('composer.reply_placeholder')}
          onInput={onInput} onKeyDown={onKeyDown} onPaste={onPaste}
          onClick={(e) => updatePopup(text, e.currentTarget.selectionStart)}
          onBlur={() => setTimeout(() => setPopup(null), 150)}
          aria-autocomplete="list" aria-controls={popup ? popupId : undefined}
          aria-activedescendant={active ? `${popupId}-${popup.index}` : undefined}
          data-testid="composer-input" />
        {dragging && <div class="composer-drop-hint" aria-hidden="true">{t('composer.drop')}</div>}
      </div>
      {files.length > 0 && (
        <ul class="composer-files" aria-label={t('composer.files')} data-testid="composer-files">
          {files.map((f, i) => (
            <li key={f.name} class="composer-file" data-testid="composer-file">
              <Icon name="paperclip" size={14} />
              <span class="att-name">{f.name}</span>
              <span class="muted small">{formatSize(f.file.size)}</span>
              <button type="button" class="icon-btn composer-file-remove" onClick={() => removeFile(i)} disabled={sending}
                aria-label={t('composer.remove_file', { name: f.name })} title={t('composer.remove_file', { name: f.name })}
                data-testid="composer-file-remove">
                <Icon name="close" size={14} />
              </button>
            </li>
          ))}
        </ul>
      )}
      {problem && <p class="form-error" role="alert" data-testid="composer-files-error">{problem}</p>}
      {mode === 'reply' && channel === 'email' && (
        <p class="composer-email muted small" data-testid="reply-by-email">
          <Icon name="send" size={13} />
          {recipient ? t('composer.by_email_to', { address: recipient }) : t('composer.by_email')}
        </p>
      )}
      {error && <p class="form-error" role="alert" data-testid="composer-error">{sendErrorText(error, files.length > 0)}</p>}
      <div class="composer-foot">
        <input type="file" multiple hidden ref={picker} tabIndex={-1} aria-label={t('composer.attach')}
          onChange={(e) => { attach(e.currentTarget.files); e.currentTarget.value = ''; }}
          data-testid="composer-file-input" />
        <button type="button" class="btn btn-secondary btn-small composer-attach" onClick={() => picker.current.click()}
          disabled={sending} data-testid="attach-btn">
          <Icon name="paperclip" size={15} /> {t('composer.attach')}
        </button>
        <span class="muted small">{mode === 'note' ? t('composer.note_hint') : t('composer.hint')}</span>
        <button type="button" class={`btn ${mode === 'note' ? 'btn-note' : 'btn-primary'}`} onClick={send}
          disabled={sending || (!text.trim() && !files.length) || !!problem} data-testid="send-btn">
          <Icon name="send" size={16} />
          {mode === 'note' ? t('composer.save_note') : t('composer.send')}
        </button>
      </div>
    </div>
  );
}
