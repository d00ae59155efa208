// SPDX-License-Identifier: MIT
// widget.js - the website chat widget's loader, for any web page:
//
//   <script src="https://HOST/widget/v1/widget.js" data-inbox="ID" async></script>
//
// A signed-in shop customer is named by data-user-id, data-user-name, data-user-email and
// data-user-hash on the same tag (or window.KnotenpunktWidget = {user: {id, name, email, hash}}
// set before it); hash = hex HMAC-SHA256(key = the inbox's widget secret, message = id + "\n" +
// email + "\n" + name), computed by the shop's server. Optional: data-lang (de|en), data-color.
//
// It draws a launcher button and the chat window in a shadow root of its own element, untouched
// by the page's CSS and needing none of its scripts; the chat itself is an iframe served by
// Knotenpunkt (/widget/v1/frame), to which the loader passes the identity and the page by
// postMessage (origins checked on both sides). The page gets one global back:
// window.KnotenpunktWidget = {open(), close(), toggle(), isOpen(), on('message'|'open'|'close', fn)}.
(() => {
  const W = window;
  const D = document;
  const prev = W.KnotenpunktWidget;
  if (prev && prev.__knotenpunkt) return; // loaded twice

  const script = D.currentScript || D.querySelector('script[src*="/widget/v1/widget.js"][data-inbox]');
  if (!script) return;
  const ORIGIN = new URL(script.src, location.href).origin;
  const pre = prev && typeof prev === 'object' ? prev : {};
  const ds = script.dataset;
  const inbox = String(ds.inbox || pre.inbox || '');
  if (!/^[1-9]\d{0,17}$/.test(inbox)) {
    console.warn('Knotenpunkt widget: data-inbox must be the id of a webchat inbox');
    return;
  }
  const pu = pre.user && typeof pre.user === 'object' ? pre.user : {};
  const str = (v) => (v == null ? '' : String(v));
  const user = ds.userHash || pu.hash
    ? {
      id: str(ds.userId ?? pu.id),
      name: str(ds.userName ?? pu.name),
      email: str(ds.userEmail ?? pu.email),
      hash: str(ds.userHash ?? pu.hash),
    }
    : null;
  const langOf = (l) => (str(l).toLowerCase().startsWith('de') ? 'de' : 'en');
  const lang = langOf(ds.lang || pre.lang || D.documentElement.lang || navigator.language);
  const colorIn = str(ds.color || pre.color);
  const color = /^#[0-9a-f]{6}$/i.test(colorIn) ? colorIn : '#2153c8';
  const T = {
    de: { open: 'Chat öffnen', close: 'Chat schließen', frame: 'Chat mit dem Kundenservice', unread: 'neue Nachrichten', dismiss: 'Ausblenden' },
    en: { open: 'Open chat', close: 'Close chat', frame: 'Chat with customer service', unread: 'new messages', dismiss: 'Dismiss' },
  }[lang];

  const CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.root { --kp: ${color}; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1b2331; }
.launcher { position: fixed; right: 20px; bottom: 20px; width: 60px; height: 60px; margin: 0; padding: 0; border: 0;
  border-radius: 50%; background: var(--kp); color: #fff; cursor: pointer; display: grid; place-items: center;
  box-shadow: 0 8px 24px rgba(17,24,39,.24), 0 2px 6px rgba(17,24,39,.14); transition: transform .18s ease, box-shadow .18s ease; }
.launcher:hover { transform: scale(1.06); box-shadow: 0 10px 28px rgba(17,24,39,.28), 0 2px 6px rgba(17,24,39,.14); }
.launcher:active { transform: scale(.97); }
.launcher:focus-visible { outline: 3px solid var(--kp); outline-offset: 3px; }
.launcher svg { position: absolute; width: 28px; height: 28px; fill: none; stroke: currentColor; stroke-width: 2;
  stroke-linecap: round; stroke-linejoin: round; transition: transform .22s ease, opacity .18s ease; }
.launcher .i-close { opacity: 0; transform: rotate(-90deg) scale(.5); }
.open .launcher .i-chat { opacity: 0; transform: rotate(90deg) scale(.5); }
.open .launcher .i-close { opacity: 1; transform: none; }
.badge { position: absolute; top: -3px; right: -3px; min-width: 22px; height: 22px; padding: 0 6px; border-radius: 11px;
  background: #e5484d; color: #fff; border: 2px solid #fff; font: 700 12px/18px system-ui, sans-serif; text-align: center; display: none; }
.badge.on { display: block; }
.panel { position: fixed; right: 20px; bottom: 92px; width: 380px; height: 640px; max-height: calc(100vh - 112px);
  border-radius: 16px; overflow: hidden; background: #fff; box-shadow: 0 24px 64px rgba(17,24,39,.26), 0 4px 14px rgba(17,24,39,.12);
  opacity: 0; transform: translateY(14px) scale(.98); transform-origin: bottom right; visibility: hidden; pointer-events: none;
  transition: opacity .2s ease, transform .2s ease, visibility 0s linear .2s; }
.open .panel { opacity: 1; transform: none; visibility: visible; pointer-events: auto; transition: opacity .2s ease, transform .2s ease; }
.panel iframe { display: block; width: 100%; height: 100%; border: 0; background: #fff; color-scheme: light; }
.teaser { position: fixed; right: 20px; bottom: 92px; width: 300px; padding: 12px 36px 12px 14px; border-radius: 14px; background: #fff;
  color: #1b2331; cursor: pointer; box-shadow: 0 12px 32px rgba(17,24,39,.2), 0 2px 6px rgba(17,24,39,.1); display: none;
  animation: kp-in .25s ease; }
.teaser.on { display: block; }
.teaser b { display: block; font-size: 13px; margin-bottom: 2px; }
.teaser span { display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; white-space: pre-wrap; }
.teaser button { position: absolute; top: 6px; right: 6px; width: 24px; height: 24px; border: 0; border-radius: 50%;
  background: transparent; color: #586274; cursor: pointer; font: 16px/24px system-ui, sans-serif; padding: 0; }
.teaser button:hover { background: #f1f3f7; }
.open .teaser { display: none; }
@keyframes kp-in { from { opacity: 0; transform: translateY(8px); } }
@media (max-width: 480px) {
  .panel { right: 0; bottom: 0; width: 100vw; height: 100%; max-height: none; border-radius: 0; }
  .open .launcher { display: none; }
}
@media (prefers-reduced-motion: reduce) { .launcher, .launcher svg, .panel, .teaser { transition: none; animation: none; } }
`;

  function el(tag, cls, attrs) {
    const e = D.createElement(tag);
    if (cls) e.className = cls;
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  function icon(cls, paths) {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = D.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('class', cls);
    svg.setAttribute('aria-hidden', 'true');
    for (const d of paths) {
      const p = D.createElementNS(NS, 'path');
      p.setAttribute('d', d);
      svg.appendChild(p);
    }
    return svg;
  }

  const listeners = new Map();
  function emit(type, data) {
    for (const fn of listeners.get(type) || []) {
      try {
        fn(data);
      } catch (e) {
        console.error(e);
      }
    }
  }

  let root;
  let frame;
  let launcher;
  let badge;
  let teaser;
  let open = false;
  let ready = false;
  const queue = [];

  function post(msg) {
    if (!ready || !frame.contentWindow) {
      queue.push(msg);
      return;
    }
    frame.contentWindow.postMessage({ kp: 1, ...msg }, ORIGIN);
  }

  function setOpen(v) {
    v = !!v;
    if (!root || v === open) return;
    open = v;
    root.classList.toggle('open', open);
    launcher.setAttribute('aria-expanded', String(open));
    launcher.setAttribute('aria-label', open ? T.close : T.open);
    if (open) {
      badge.classList.remove('on');
      teaser.classList.remove('on');
    }
    post({ type: 'visible', open });
    emit(open ? 'open' : 'close');
  }

  function page() {
    return { url: location.href, title: D.title };
  }

  function onMessage(e) {
    if (e.origin !== ORIGIN || !frame || e.source !== frame.contentWindow) return;
    const d = e.data;
    if (!d || d.kp !== 1 || typeof d.type !== 'string') return;
    switch (d.type) {
      case 'ready':
        ready = true;
        frame.contentWindow.postMessage({ kp: 1, type: 'init', user, page: page(), locale: lang, color, open }, ORIGIN);
        while (queue.length) post(queue.shift());
        break;
      case 'open':
        setOpen(true);
        break;
      case 'close':
        setOpen(false);
        launcher.focus();
        break;
      case 'unread': {
        const n = Number(d.count) || 0;
        badge.textContent = n > 9 ? '9+' : String(n);
        badge.classList.toggle('on', n > 0 && !open);
        launcher.setAttribute('aria-label', n > 0 && !open ? `${T.open} (${n} ${T.unread})` : open ? T.close : T.open);
        if (d.preview && !open) {
          teaser.firstChild.textContent = str(d.preview.author).slice(0, 80);
          teaser.childNodes[1].textContent = str(d.preview.text).slice(0, 300);
          teaser.classList.add('on');
        }
        if (!n) teaser.classList.remove('on');
        break;
      }
      case 'message':
        emit('message', d.message);
        break;
      default:
        break;
    }
  }

  function mount() {
    const host = el('div', '', { 'data-knotenpunkt-widget': '' });
    host.id = 'knotenpunkt-widget';
    for (const [k, v] of [['all', 'initial'], ['position', 'fixed'], ['z-index', '2147483000'], ['right', '0'],
      ['bottom', '0'], ['width', '0'], ['height', '0'], ['display', 'block']]) {
      host.style.setProperty(k, v, 'important');
    }
    const shadow = host.attachShadow({ mode: 'open' });
    // a constructed sheet passes a page's CSP that forbids inline styles
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } catch {
      const style = D.createElement('style');
      style.textContent = CSS;
      shadow.appendChild(style);
    }
    root = el('div', 'root');
    const panel = el('div', 'panel', { 'data-testid': 'kp-panel' });
    const q = new URLSearchParams({ inbox, lang });
    if (/^https?:\/\//.test(location.origin)) q.set('origin', location.origin);
    frame = el('iframe', '', {
      title: T.frame,
      src: `${ORIGIN}/widget/v1/frame?${q}`,
      allow: 'clipboard-write',
      'data-testid': 'kp-frame',
    });
    panel.appendChild(frame);
    teaser = el('div', 'teaser', { role: 'status', 'data-testid': 'kp-teaser' });
    const close = el('button', '', { type: 'button', 'aria-label': T.dismiss });
    close.textContent = '×';
    close.addEventListener('click', (e) => {
      e.stopPropagation();
      teaser.classList.remove('on');
    });
    teaser.append(el('b'), el('span'), close);
    teaser.addEventListener('click', () => setOpen(true));
    launcher = el('button', 'launcher', {
      type: 'button',
      'aria-label': T.open,
      'aria-expanded': 'false',
      'data-testid': 'kp-launcher',
    });
    badge = el('span', 'badge', { 'aria-hidden': 'true' });
    launcher.append(
      icon('i-chat', ['M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z', 'M8.5 12h.01M12 12h.01M15.5 12h.01']),
      icon('i-close', ['M6 6l12 12M18 6L6 18']),
      badge,
    );
    launcher.addEventListener('click', () => setOpen(!open));
    root.append(panel, teaser, launcher);
    shadow.appendChild(root);
    W.addEventListener('message', onMessage);
    D.body.appendChild(host);
    // single-page shops: a new address is a new page view
    let last = location.href;
    setInterval(() => {
      if (location.href === last) return;
      last = location.href;
      post({ type: 'page', ...page() });
    }, 1000);
  }

  W.KnotenpunktWidget = Object.freeze({
    __knotenpunkt: true,
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(!open),
    isOpen: () => open,
    on(type, fn) {
      if (typeof fn !== 'function') return () => {};
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type).add(fn);
      return () => listeners.get(type).delete(fn);
    },
  });

  if (D.body) mount();
  else D.addEventListener('DOMContentLoaded', mount, { once: true });
})();
