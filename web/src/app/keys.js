// SPDX-License-Identifier: MIT
// keys.js - single-key shortcuts (j, k, r, n, e, /, ?): one document listener; a component binds
// a key for as long as it is mounted. Keys typed into a field never trigger a shortcut.
import { useEffect, useRef } from 'preact/hooks';

const bindings = new Map(); // key -> stack of refs, the newest wins

function typingInField(el) {
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

document.addEventListener('keydown', (ev) => {
  if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (typingInField(ev.target)) return;
  if (document.querySelector('[role="dialog"][aria-modal="true"]')) return;
  const stack = bindings.get(ev.key);
  if (!stack || !stack.length) return;
  const ref = stack[stack.length - 1];
  ev.preventDefault();
  ref.current(ev);
});

/** Binds key to fn while the calling component is mounted. */
export function useShortcut(key, fn) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!bindings.has(key)) bindings.set(key, []);
    const stack = bindings.get(key);
    stack.push(ref);
    return () => stack.splice(stack.indexOf(ref), 1);
  }, [key]);
}

/** The shortcut list as shown by "?": [keys, i18n key]. */
export const SHORTCUTS = [
  ['j', 'keys.next'],
  ['k', 'keys.prev'],
  ['Enter', 'keys.open'],
  ['r', 'keys.reply'],
  ['n', 'keys.note'],
  ['e', 'keys.resolve'],
  ['a', 'keys.assign_me'],
  ['/', 'keys.search'],
  ['Ctrl+Enter', 'keys.send'],
  ['Esc', 'keys.escape'],
  ['?', 'keys.help'],
];
