// SPDX-License-Identifier: MIT
// frame.js - the chat window of the website widget, in an iframe from Knotenpunkt
// (/widget/v1/frame?inbox=ID&origin=PAGE_ORIGIN&lang=de|en). The loader on the shop's page
// (widget.js) sends the signed-in customer and the page by postMessage; only messages from the
// parent window with the origin named in the URL are taken, and answers go only there.
//
// The visitor token from POST /widget/v1/sessions is kept in localStorage, so the chat goes on
// across reloads and pages. Messages are sent with POST /widget/v1/messages (a client id makes
// retries safe) and shown as sent only when the server answered, i.e. after they were stored;
// replies, typing and "open" come over the WebSocket /widget/v1/stream. No framework: the DOM is
// built with createElement and text is only ever set as text.

const params = new URLSearchParams(location.search);
const INBOX = Number(params.get('inbox')) || 0;
const PARENT = /^https?:\/\/[^\s/?#]+$/.test(params.get('origin') || '') ? params.get('origin') : '';
const EMBEDDED = window.parent !== window;
const KEY = `kp.widget.${INBOX}`;

const STRINGS = {
  de: {
    title: 'Wir sind für Sie da',
    online: 'Online – wir antworten in wenigen Minuten',
    offline: 'Gerade nicht besetzt – wir melden uns',
    connecting: 'Verbinde …',
    team: 'Kundenservice',
    you: 'Sie',
    placeholder: 'Nachricht schreiben …',
    send: 'Senden',
    attach: 'Datei anhängen',
    close: 'Chat schließen',
    typing: '{name} schreibt …',
    sending: 'Wird gesendet …',
    failed: 'Nicht gesendet – erneut versuchen',
    offline_note: 'Gerade ist niemand aus unserem Team online. Schreiben Sie uns trotzdem – wir antworten, sobald jemand da ist.',
    email_ask: 'Möchten Sie die Antwort per E-Mail erhalten?',
    email_label: 'Ihre E-Mail-Adresse',
    email_save: 'Per E-Mail antworten',
    email_bad: 'Bitte geben Sie eine gültige E-Mail-Adresse ein.',
    email_done: 'Danke! Wir antworten an {email}.',
    error_title: 'Chat nicht verfügbar',
    bad_signature: 'Ihre Anmeldung konnte nicht bestätigt werden. Bitte laden Sie die Seite neu oder melden Sie sich erneut an.',
    error_generic: 'Der Chat ist gerade nicht erreichbar. Bitte versuchen Sie es später noch einmal.',
    retry: 'Erneut versuchen',
    too_large: 'Die Datei ist zu groß (höchstens {size}).',
    file_failed: 'Die Datei konnte nicht gesendet werden.',
    powered: 'Chat von Knotenpunkt',
    log: 'Nachrichten',
    today: 'Heute',
  },
  en: {
    title: 'We’re here to help',
    online: 'Online – we reply in a few minutes',
    offline: 'Away right now – we’ll get back to you',
    connecting: 'Connecting …',
    team: 'Customer service',
    you: 'You',
    placeholder: 'Write a message …',
    send: 'Send',
    attach: 'Attach a file',
    close: 'Close chat',
    typing: '{name} is typing …',
    sending: 'Sending …',
    failed: 'Not sent – tap to retry',
    offline_note: 'Nobody from our team is online right now. Write to us anyway – we’ll answer as soon as someone is back.',
    email_ask: 'Would you like the answer by email?',
    email_label: 'Your email address',
    email_save: 'Answer by email',
    email_bad: 'Please enter a valid email address.',
    email_done: 'Thanks! We’ll answer to {email}.',
    error_title: 'Chat unavailable',
    bad_signature: 'We could not verify your sign-in. Please reload the page or sign in again.',
    error_generic: 'The chat cannot be reached right now. Please try again later.',
    retry: 'Try again',
    too_large: 'The file is too large (at most {size}).',
    file_failed: 'The file could not be sent.',
    powered: 'Chat by Knotenpunkt',
    log: 'Messages',
    today: 'Today',
  },
};

let lang = params.get('lang') === 'de' ? 'de' : 'en';
const t = (key, vars) =>
  (STRINGS[lang][key] || key).replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));

// ---- storage (may be blocked: then the chat lasts as long as the page) ----

const memory = {};
const store = {
  get(k) {
    try {
      return localStorage.getItem(`${KEY}.${k}`);
    } catch {
      return memory[k] ?? null;
    }
  },
  set(k, v) {
    try {
      if (v == null) localStorage.removeItem(`${KEY}.${k}`);
      else localStorage.setItem(`${KEY}.${k}`, v);
    } catch {
      memory[k] = v;
    }
  },
};

// ---- state ----

let started = false;
let user = null;
let session = null; // the last answer of POST /widget/v1/sessions
let token = store.get('token');
let visible = !EMBEDDED;
let unread = 0;
let ws = null;
let wsTries = 0;
let wsTimer = null;
let lastTyping = 0;
let typingSent = false;
const messages = new Map(); // id -> message as the server shows it
const pending = new Map(); // client id -> {client_id, text, file, state}
const typists = new Map(); // agent name -> timer
let emailState = 'none'; // none | ask | done
let emailAddress = '';

// ---- talking to the page ----

function toParent(type, data) {
  if (EMBEDDED && PARENT) window.parent.postMessage({ kp: 1, type, ...data }, PARENT);
}

window.addEventListener('message', (e) => {
  if (!EMBEDDED || e.source !== window.parent || !PARENT || e.origin !== PARENT) return;
  const d = e.data;
  if (!d || d.kp !== 1 || typeof d.type !== 'string') return;
  if (d.type === 'init' && !started) start(d);
  else if (d.type === 'page' && started) reportPage(d);
  else if (d.type === 'visible') setVisible(!!d.open);
});

// ---- DOM helpers ----

function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null && c !== false) e.append(c);
  return e;
}

function svg(paths, cls = 'icon') {
  const NS = 'http://www.w3.org/2000/svg';
  const s = document.createElementNS(NS, 'svg');
  s.setAttribute('viewBox', '0 0 24 24');
  s.setAttribute('class', cls);
  s.setAttribute('aria-hidden', 'true');
  for (const d of paths) {
    const p = document.createElementNS(NS, 'path');
    p.setAttribute('d', d);
    s.append(p);
  }
  return s;
}

/** Text with its http(s) links made clickable; everything stays text. */
function richText(text) {
  const out = [];
  const re = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer' }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const initials = (name) => (name || '?').trim().slice(0, 1).toUpperCase() || '?';

const locale = () => (lang === 'de' ? 'de-DE' : 'en-GB');

function timeOf(iso) {
  const d = iso ? new Date(iso) : new Date();
  return d.toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
}

/** "Today", or the date for older messages. */
function dayOf(iso) {
  const d = iso ? new Date(iso) : new Date();
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return t('today');
  return d.toLocaleDateString(locale(), { day: 'numeric', month: 'long', year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric' });
}

function sizeText(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}

function randomId() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// ---- the window ----

const ui = {};

function build() {
  const root = document.getElementById('chat');
  root.replaceChildren();
  ui.status = h('span', { class: 'status', 'data-testid': 'chat-status' }, t('connecting'));
  ui.dot = h('span', { class: 'dot' });
  const head = h('header', { class: 'head' },
    h('div', { class: 'head-avatar', 'aria-hidden': 'true' }, svg(['M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z'])),
    h('div', { class: 'head-text' }, h('h1', {}, t('title')), h('p', {}, ui.dot, ui.status)),
    EMBEDDED && h('button', {
      type: 'button', class: 'head-close', 'aria-label': t('close'), 'data-testid': 'chat-close',
      onclick: () => toParent('close'),
    }, svg(['M6 6l12 12M18 6L6 18'])));
  ui.notice = h('div', { class: 'notice', hidden: true, 'data-testid': 'chat-offline' }, t('offline_note'));
  ui.list = h('ol', { class: 'list', role: 'log', 'aria-label': t('log'), 'aria-live': 'polite', 'data-testid': 'chat-log' });
  ui.typing = h('div', { class: 'typing', hidden: true, 'data-testid': 'chat-typing' });
  ui.scroll = h('div', { class: 'scroll' }, ui.notice, ui.list, ui.typing);
  ui.input = h('textarea', {
    class: 'input', rows: '1', placeholder: t('placeholder'), 'aria-label': t('placeholder'),
    maxlength: '10000', 'data-testid': 'chat-input',
  });
  ui.send = h('button', { type: 'submit', class: 'send', 'aria-label': t('send'), disabled: true, 'data-testid': 'chat-send' },
    svg(['M5 12l14-7-5 16-3-7-6-2z', 'M11 14l8-9']));
  ui.file = h('input', { type: 'file', class: 'file-input', tabindex: '-1', 'aria-hidden': 'true', 'data-testid': 'chat-file' });
  const attach = h('button', { type: 'button', class: 'attach', 'aria-label': t('attach'), onclick: () => ui.file.click() },
    svg(['M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l8-8']));
  ui.form = h('form', { class: 'composer' }, attach, ui.file, ui.input, ui.send);
  const foot = h('footer', { class: 'foot' }, t('powered'));
  root.append(head, ui.scroll, ui.form, foot);

  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && EMBEDDED) {
      toParent('close');
    }
  });
  ui.input.addEventListener('input', () => {
    grow();
    ui.send.disabled = !ui.input.value.trim();
    if (ui.input.value.trim()) typing(true);
    else typing(false);
  });
  ui.file.addEventListener('change', () => {
    const f = ui.file.files && ui.file.files[0];
    ui.file.value = '';
    if (f) sendFile(f);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && EMBEDDED) toParent('close');
  });
}

function grow() {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 120)}px`;
}

function atBottom() {
  const s = ui.scroll;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 60;
}

function scrollDown(force) {
  if (force || atBottom()) ui.scroll.scrollTop = ui.scroll.scrollHeight;
}

function showError(text, retry) {
  const root = document.getElementById('chat');
  const head = h('header', { class: 'head' },
    h('div', { class: 'head-avatar', 'aria-hidden': 'true' }, svg(['M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z'])),
    h('div', { class: 'head-text' }, h('h1', {}, t('title'))),
    EMBEDDED && h('button', {
      type: 'button', class: 'head-close', 'aria-label': t('close'), onclick: () => toParent('close'),
    }, svg(['M6 6l12 12M18 6L6 18'])));
  root.replaceChildren(head, h('div', { class: 'error', role: 'alert', 'data-testid': 'chat-error' },
    h('div', { class: 'error-icon', 'aria-hidden': 'true' }, '!'),
    h('h1', {}, t('error_title')),
    h('p', {}, text),
    retry && h('button', { type: 'button', class: 'btn', onclick: retry }, t('retry')),
    EMBEDDED && h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => toParent('close') }, t('close'))));
}

function setOnline(on) {
  ui.dot.className = `dot ${on ? 'on' : 'off'}`;
  ui.status.textContent = on ? t('online') : t('offline');
  ui.notice.hidden = on;
  if (session) session.agents_online = on;
}

// ---- messages ----

function fileList(files) {
  if (!files || !files.length) return null;
  return h('ul', { class: 'files' }, files.map((f) => h('li', { class: 'file', 'data-testid': 'chat-attachment' },
    svg(['M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z', 'M14 3v5h5']),
    h('span', { class: 'file-name' }, f.filename), h('span', { class: 'file-size' }, sizeText(f.size || 0)))));
}

function bubble(m, opts = {}) {
  const mine = m.direction === 'in';
  const author = mine ? t('you') : m.author_name || t('team');
  const li = h('li', {
    class: `msg ${mine ? 'mine' : 'theirs'}${opts.state ? ` ${opts.state}` : ''}`,
    'data-testid': opts.greeting ? 'chat-greeting' : 'chat-message',
    'data-direction': m.direction,
    'data-id': m.id != null ? String(m.id) : null,
  });
  if (!mine) li.append(h('div', { class: 'avatar', 'aria-hidden': 'true' }, initials(author)));
  const body = h('div', { class: 'bubble' });
  if (!mine) body.append(h('div', { class: 'author' }, author));
  if (m.text) body.append(h('div', { class: 'text' }, richText(m.text)));
  const files = fileList(m.attachments);
  if (files) body.append(files);
  const meta = h('div', { class: 'meta' });
  if (opts.state === 'sending') meta.append(t('sending'));
  else if (opts.state === 'failed') meta.append(h('button', { type: 'button', class: 'retry', onclick: opts.retry }, t('failed')));
  else meta.append(h('time', { datetime: m.created_at || '' }, timeOf(m.created_at)));
  body.append(meta);
  li.append(body);
  return li;
}

// Rendered list items by key, reused while what they show is the same: a new message adds one
// node instead of rebuilding (and re-animating) the list, and the email form keeps its input.
const nodes = new Map(); // key -> {sig, el}

function render() {
  const stick = atBottom();
  const items = [];
  const used = new Set();
  const keep = (key, sig, make) => {
    used.add(key);
    const c = nodes.get(key);
    if (c && c.sig === sig) return c.el;
    const el = make();
    nodes.set(key, { sig, el });
    return el;
  };
  if (session && session.greeting) {
    items.push(keep('greeting', session.greeting, () => bubble({
      direction: 'out', text: session.greeting, author_name: t('team'), created_at: null,
    }, { greeting: true })));
  }
  const sorted = [...messages.values()].sort((a, b) => a.id - b.id);
  let day = null;
  for (const m of sorted) {
    const d = dayOf(m.created_at);
    if (d !== day && (day !== null || d !== t('today'))) {
      items.push(keep(`day:${m.id}`, d, () => h('li', { class: 'day' }, h('span', {}, d))));
    }
    day = d;
    items.push(keep(`m:${m.id}`, `${m.text}|${(m.attachments || []).length}`, () => bubble(m)));
  }
  for (const p of pending.values()) {
    items.push(keep(`p:${p.client_id}`, `${p.state}|${p.text}`, () => bubble({
      direction: 'in',
      text: p.text,
      attachments: p.file ? [{ filename: p.file.name, size: p.file.size }] : null,
    }, { state: p.state, retry: () => retry(p) })));
  }
  if (emailState === 'ask') items.push(keep('email', 'ask', emailCard));
  else if (emailState === 'done') {
    items.push(keep('email', `done|${emailAddress}`, () => h('li', { class: 'sys', 'data-testid': 'chat-email-done' },
      t('email_done', { email: emailAddress }))));
  }
  for (const k of nodes.keys()) if (!used.has(k)) nodes.delete(k);
  // move only what changed: nodes that stay in place are not re-inserted (nor re-animated)
  let cur = ui.list.firstChild;
  for (const el of items) {
    if (el === cur) cur = cur.nextSibling;
    else ui.list.insertBefore(el, cur);
  }
  while (cur) {
    const next = cur.nextSibling;
    cur.remove();
    cur = next;
  }
  if (stick) scrollDown(true);
}

function emailCard() {
  const input = h('input', {
    type: 'email', class: 'email-input', placeholder: 'name@example.com', autocomplete: 'email',
    'aria-label': t('email_label'), required: true, maxlength: '254', 'data-testid': 'chat-email-input',
  });
  if (session && session.email) input.value = session.email;
  const err = h('p', { class: 'email-error', hidden: true, role: 'alert' });
  const form = h('form', { class: 'email-form', novalidate: true },
    input, h('button', { type: 'submit', class: 'btn', 'data-testid': 'chat-email-save' }, t('email_save')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = input.value.trim();
    if (!/^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/.test(v)) {
      err.textContent = t('email_bad');
      err.hidden = false;
      return;
    }
    const r = await api('POST', '/widget/v1/email', { email: v });
    if (r.ok) {
      emailAddress = r.body.email;
      emailState = 'done';
      store.set('email', emailAddress);
      render();
    } else {
      err.textContent = r.status === 400 ? t('email_bad') : t('error_generic');
      err.hidden = false;
    }
  });
  return h('li', { class: 'sys email-card', 'data-testid': 'chat-email' }, h('p', {}, t('email_ask')), form, err);
}

function add(m, fromStream) {
  if (!m || m.id == null) return;
  const isNew = !messages.has(m.id);
  messages.set(m.id, m);
  if (!isNew) return;
  if (m.direction === 'out') {
    typists.clear();
    showTyping();
    if (fromStream && emailState === 'ask') emailState = 'none'; // someone answers in the chat
    if (fromStream && !visible) {
      unread++;
      toParent('unread', { count: unread, preview: { author: m.author_name || t('team'), text: m.text || '' } });
    }
  }
  if (fromStream) toParent('message', { message: m });
  render();
}

// ---- the server ----

async function api(method, path, body) {
  try {
    const res = await fetch(path, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { 'X-Visitor-Token': token } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
    });
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    return { ok: res.ok, status: res.status, body: data, code: data && data.error && data.error.code };
  } catch {
    return { ok: false, status: 0, body: null, code: 'network' };
  }
}

function pageBody(p) {
  const now = Date.now();
  const out = { url: String(p.url || '').slice(0, 2048), title: String(p.title || '').slice(0, 300) };
  const before = Number(store.get('page_at'));
  if (before && now - before < 30 * 60 * 1000 && now > before) out.seconds_on_previous = Math.round((now - before) / 1000);
  store.set('page_at', String(now));
  return /^https?:\/\//i.test(out.url) ? out : null;
}

/** Opens (or resumes) the visitor's session and shows his chat; quiet: no error screen on
 * failure (a reconnect tries again later). */
async function openSession(page, quiet) {
  const body = { inbox_id: INBOX, locale: lang };
  if (token) body.visitor_token = token;
  if (user) body.user = user;
  if (page) body.page = page;
  const r = await api('POST', '/widget/v1/sessions', body);
  if (!r.ok) {
    if (quiet && r.code !== 'bad_signature') return false;
    if (r.code === 'bad_signature') {
      showError(t('bad_signature'));
      toParent('error', { code: r.code });
      return false;
    }
    showError(t('error_generic'), () => {
      build();
      openSession(null);
    });
    return false;
  }
  session = r.body;
  if (session.visitor_token !== token) {
    // another visitor (or a new chat): what the old one saw goes, and so does his socket
    if (token) messages.clear();
    token = session.visitor_token;
    store.set('token', token);
    if (ws) {
      const old = ws;
      ws = null;
      old.close();
    }
  }
  for (const m of session.messages || []) messages.set(m.id, m);
  emailAddress = store.get('email') || '';
  emailState = session.reply_by_email && emailAddress ? 'done' : emailState === 'ask' ? 'ask' : 'none';
  setOnline(!!session.agents_online);
  render();
  scrollDown(true);
  connect();
  return true;
}

function connect() {
  clearTimeout(wsTimer);
  if (ws || !token) return;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let sock;
  try {
    sock = new WebSocket(`${proto}//${location.host}/widget/v1/stream?token=${encodeURIComponent(token)}`);
  } catch {
    reconnect();
    return;
  }
  ws = sock;
  sock.onmessage = (e) => {
    let f;
    try {
      f = JSON.parse(e.data);
    } catch {
      return;
    }
    if (!f || typeof f !== 'object') return;
    if (f.type === 'hello') {
      wsTries = 0;
      setOnline(!!f.agents_online);
    } else if (f.type === 'message') {
      add(f.message, true);
    } else if (f.type === 'typing') {
      agentTyping(String(f.agent || ''), f.typing !== false);
    } else if (f.type === 'open') {
      toParent('open');
    } else if (f.type === 'agents') {
      setOnline(!!f.online);
      if (f.online && emailState === 'ask') {
        emailState = 'none'; // someone is here to answer in the chat
        render();
      }
    }
  };
  sock.onclose = (e) => {
    if (ws !== sock) return;
    ws = null;
    if (e.code === 1008 || e.code === 4401) return;
    reconnect();
  };
}

function reconnect() {
  const wait = Math.min(30000, 1000 * 2 ** Math.min(wsTries++, 5));
  wsTimer = setTimeout(async () => {
    // catch up with what was missed, then listen again (openSession connects)
    if (!(await openSession(null, true))) reconnect();
  }, wait / 2 + Math.random() * (wait / 2));
}

function wsSend(obj) {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify(obj));
    return true;
  }
  return false;
}

function typing(on) {
  const now = Date.now();
  if (on) {
    if (now - lastTyping < 2000) return;
    if (wsSend({ type: 'typing' })) {
      lastTyping = now;
      typingSent = true;
    }
  } else if (typingSent) {
    wsSend({ type: 'typing', typing: false });
    typingSent = false;
    lastTyping = 0;
  }
}

function agentTyping(name, on) {
  clearTimeout(typists.get(name));
  if (on) typists.set(name, setTimeout(() => agentTyping(name, false), 30000));
  else typists.delete(name);
  showTyping();
}

function showTyping() {
  const names = [...typists.keys()];
  ui.typing.hidden = !names.length;
  if (names.length) {
    const stick = atBottom();
    ui.typing.replaceChildren(
      h('span', { class: 'avatar small', 'aria-hidden': 'true' }, initials(names[0])),
      h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')),
      h('span', { class: 'typing-text' }, t('typing', { name: names.join(', ') || t('team') })));
    if (stick) scrollDown(true);
  }
}

// ---- sending ----

async function deliver(p) {
  p.state = 'sending';
  render();
  scrollDown(true);
  let r;
  if (p.file) {
    r = await api('POST', '/widget/v1/attachments', {
      filename: p.file.name || 'file', content_type: p.file.type || 'application/octet-stream',
      data: p.data, client_id: p.client_id,
    });
  } else {
    r = await api('POST', '/widget/v1/messages', { text: p.text, client_id: p.client_id });
  }
  if (r.status === 401 && !p.renewed) {
    // the token expired: a new session, and the same message again
    p.renewed = true;
    if (await openSession(null, true)) return deliver(p);
  }
  if (!r.ok) {
    p.state = 'failed';
    if (r.status === 413) p.text = `${p.text ? `${p.text}\n` : ''}${t('too_large', { size: sizeText(limit()) })}`;
    render();
    return;
  }
  pending.delete(p.client_id);
  if (session && !session.conversation_id) session.conversation_id = r.body.conversation_id;
  add(r.body.message, false);
  if (session && !session.agents_online && emailState === 'none' && !session.reply_by_email) {
    emailState = 'ask';
    render();
  }
  scrollDown(true);
}

function retry(p) {
  if (p.state === 'failed') deliver(p);
}

function submit() {
  const text = ui.input.value.trim();
  if (!text || !session) return;
  ui.input.value = '';
  grow();
  ui.send.disabled = true;
  typing(false);
  const p = { client_id: randomId(), text, state: 'sending' };
  pending.set(p.client_id, p);
  deliver(p);
}

const limit = () => (session && session.limits && session.limits.attachment_bytes) || 10 << 20;

function sendFile(file) {
  if (!session) return;
  const p = { client_id: randomId(), text: '', file: { name: file.name, size: file.size, type: file.type }, state: 'sending' };
  if (file.size > limit() || file.size > 700 * 1024) {
    p.state = 'failed';
    p.text = t('too_large', { size: sizeText(Math.min(limit(), 700 * 1024)) });
    pending.set(p.client_id, p);
    render();
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    p.data = String(reader.result).replace(/^data:[^,]*,/, '');
    pending.set(p.client_id, p);
    deliver(p);
  };
  reader.onerror = () => {
    p.state = 'failed';
    p.text = t('file_failed');
    pending.set(p.client_id, p);
    render();
  };
  reader.readAsDataURL(file);
}

// ---- pages and visibility ----

function reportPage(d) {
  const page = pageBody(d);
  if (page && !wsSend({ type: 'page', ...page })) store.set('page_at', String(Date.now()));
}

function setVisible(v) {
  visible = v;
  if (v) {
    unread = 0;
    toParent('unread', { count: 0 });
    if (ui.input && !matchMedia('(pointer: coarse)').matches) ui.input.focus({ preventScroll: true });
    scrollDown(true);
  }
}

// ---- start ----

function cleanUser(u) {
  if (!u || typeof u !== 'object' || typeof u.hash !== 'string' || !u.hash) return null;
  const s = (v, n) => String(v == null ? '' : v).slice(0, n);
  return { id: s(u.id, 128), name: s(u.name, 200), email: s(u.email, 254), hash: s(u.hash, 64) };
}

function start(init) {
  started = true;
  user = cleanUser(init.user);
  if (init.locale) lang = String(init.locale).toLowerCase().startsWith('de') ? 'de' : 'en';
  document.documentElement.lang = lang;
  if (typeof init.color === 'string' && /^#[0-9a-f]{6}$/i.test(init.color)) {
    document.documentElement.style.setProperty('--kp', init.color);
  }
  if (init.open) visible = true;
  build();
  if (!INBOX) {
    showError(t('error_generic'));
    return;
  }
  openSession(init.page ? pageBody(init.page) : null);
}

toParent('ready');
if (!EMBEDDED || !PARENT) start({});
else setTimeout(() => started || start({}), 5000);
