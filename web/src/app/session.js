// SPDX-License-Identifier: MIT
// session.js - signing in and out: the directory of agents, teams and inboxes, the stream and its
// listeners that feed the store (presence, a chat customer's typing, notifications), and the way
// back to the login.
import * as api from './api.js';
import { stream } from './stream.js';
import { agentName } from './format.js';
import { t } from './i18n.js';
import { getState, setState, toast } from './store.js';

/** Reloads agents, teams and inboxes into the store (after login and after admin changes). */
export async function loadDirectory() {
  const [agents, teams, inboxes] = await Promise.all([
    api.listAgents().catch(() => ({ items: [] })),
    api.listTeams().catch(() => ({ items: [] })),
    api.listInboxes().catch(() => ({ items: [] })),
  ]);
  setState({ agents: agents.items, teams: teams.items, inboxes: inboxes.items });
}

export async function loadNotifications() {
  try {
    const n = await api.listNotifications({ unread: 1, limit: 50 });
    setState({ notifications: { items: n.items || [], unread: n.unread || 0, available: true } });
  } catch (e) {
    // not offered by this server (yet): hide the bell rather than fail
    if (e.status === 404 || e.status === 405) {
      setState({ notifications: { items: [], unread: 0, available: false } });
    }
  }
}

export async function startSession(session) {
  await loadDirectory();
  setState({ session });
  stream.start();
  loadNotifications();
}

function signedOut() {
  stream.stop();
  api.setCsrf(null);
  setState({ session: null, presence: {}, visitorTyping: {}, notifications: { items: [], unread: 0, available: true } });
}

api.setUnauthorizedHandler(() => {
  if (getState().session) signedOut();
});

stream.on('status', (s) => setState({ conn: s }));
stream.on('closed', () => signedOut());
stream.on('presence', (f) => {
  setState((st) => ({
    presence: { ...st.presence, [f.conversation_id]: { viewers: f.viewers || [], typing: f.typing || [] } },
  }));
});
// A chat customer types: shown until he stops, sends, or 6 s pass without a new typing frame.
const visitorTimers = new Map();
function visitorTyping(id, on) {
  clearTimeout(visitorTimers.get(id));
  visitorTimers.delete(id);
  if (on) visitorTimers.set(id, setTimeout(() => visitorTyping(id, false), 6000));
  if (!!getState().visitorTyping[id] === on) return;
  setState((st) => {
    const next = { ...st.visitorTyping };
    if (on) next[id] = true;
    else delete next[id];
    return { visitorTyping: next };
  });
}
stream.on('visitor_typing', (f) => visitorTyping(f.conversation_id, f.typing !== false));
stream.on('event', (ev) => {
  const m = ev.payload && ev.payload.message;
  if (m && m.direction === 'in') visitorTyping(ev.conversation_id, false);
});
stream.on('notification', (n) => {
  if (!n) return;
  setState((st) => {
    const items = [n, ...st.notifications.items.filter((x) => x.id !== n.id)];
    return { notifications: { ...st.notifications, items, unread: st.notifications.unread + (n.read_at ? 0 : 1) } };
  });
  if (n.kind === 'mention') toast(t('notif.toast', { name: agentName(n.by_agent_id) || t('notif.someone'), id: n.conversation_id }));
});
stream.on('resync', () => loadNotifications());

export async function doLogout() {
  try {
    await api.logout();
  } catch {
    /* the session is gone either way */
  }
  signedOut();
}

