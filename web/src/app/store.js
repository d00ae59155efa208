// SPDX-License-Identifier: MIT
// store.js - the little shared state of the workspace (who is signed in, the directory of agents,
// teams and inboxes, the stream's status, notifications, presence) with a hook to read it.
import { useEffect, useRef, useState } from 'preact/hooks';

const state = {
  session: null, // {agent, csrf_token}
  agents: [],
  teams: [],
  inboxes: [],
  conn: 'offline',
  notifications: { items: [], unread: 0, available: true },
  presence: {}, // conversation id -> {viewers, typing}
  visitorTyping: {}, // conversation id -> true while its web chat customer types
  toast: null,
};

const subs = new Set();

export function getState() {
  return state;
}

export function setState(patch) {
  Object.assign(state, typeof patch === 'function' ? patch(state) : patch);
  for (const fn of subs) fn();
}

export function subscribe(fn) {
  subs.add(fn);
  return () => subs.delete(fn);
}

/** Re-renders the calling component whenever the selected slice changes. */
export function useStore(select) {
  const [, force] = useState(0);
  const ref = useRef(null);
  const value = select(state);
  ref.current = { select, value };
  useEffect(
    () =>
      subscribe(() => {
        if (ref.current.select(state) !== ref.current.value) force((n) => n + 1);
      }),
    [],
  );
  return value;
}

export const me = () => state.session && state.session.agent;
export const isAdmin = () => !!(state.session && state.session.agent.role === 'admin');
export const agentById = (id) => state.agents.find((a) => a.id === id);
export const teamById = (id) => state.teams.find((t) => t.id === id);
export const inboxById = (id) => state.inboxes.find((i) => i.id === id);

let toastTimer = null;
/** Shows a short message at the bottom of the screen; kind "error" or "info". */
export function toast(text, kind = 'info') {
  clearTimeout(toastTimer);
  setState({ toast: { text, kind, at: Date.now() } });
  toastTimer = setTimeout(() => setState({ toast: null }), kind === 'error' ? 7000 : 3500);
}
