// SPDX-License-Identifier: MIT
// Notifications.jsx - the bell with the unread count and the list of @mentions; opening one marks
// it read and shows the conversation.
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api.js';
import { errorText, t } from '../i18n.js';
import { agentName, formatShort } from '../format.js';
import { navigate, parseRoute } from '../router.js';
import { setState, toast, useStore } from '../store.js';
import { Icon } from './Icon.jsx';

function markRead(ids) {
  setState((st) => {
    const items = st.notifications.items.map((n) =>
      ids === 'all' || ids.includes(n.id) ? { ...n, read_at: n.read_at || new Date().toISOString() } : n,
    );
    const unread = ids === 'all' ? 0 : Math.max(0, st.notifications.unread -
      st.notifications.items.filter((n) => ids.includes(n.id) && !n.read_at).length);
    return { notifications: { ...st.notifications, items, unread } };
  });
}

export function Notifications() {
  const notif = useStore((s) => s.notifications);
  const [open, setOpen] = useState(false);
  const ref = useRef(null);

  useEffect(() => {
    if (!open) return undefined;
    api.listNotifications({ limit: 30 })
      .then((n) => setState((st) => ({
        notifications: { ...st.notifications, items: n.items || [], unread: n.unread ?? st.notifications.unread },
      })))
      .catch(() => {});
    const close = (e) => ref.current && !ref.current.contains(e.target) && setOpen(false);
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);

  if (!notif.available) return null;

  async function openOne(n) {
    setOpen(false);
    if (!n.read_at) {
      markRead([n.id]);
      api.readNotification(n.id).catch(() => {});
    }
    const r = parseRoute();
    navigate({ page: 'inbox', view: r.page === 'inbox' ? r.view : 'mine', conversationId: n.conversation_id });
  }

  async function readAll() {
    try {
      await api.readAllNotifications();
      markRead('all');
    } catch (e) {
      toast(errorText(e), 'error');
    }
  }

  const label = notif.unread
    ? t('notif.label_unread', { count: notif.unread })
    : t('notif.label');
  return (
    <div class="menu-wrap" ref={ref}>
      <button type="button" class="icon-btn bell" aria-label={label} title={label} aria-haspopup="true"
        aria-expanded={open} onClick={() => setOpen(!open)} data-testid="notif-button">
        <Icon name="bell" />
        {notif.unread > 0 && (
          <span class="bell-badge" data-testid="notif-badge">{notif.unread > 99 ? '99+' : notif.unread}</span>
        )}
      </button>
      {open && (
        <div class="popover notif-panel" data-testid="notif-panel"
          onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
          <div class="notif-head">
            <h2>{t('notif.title')}</h2>
            <button type="button" class="btn btn-link" onClick={readAll} disabled={!notif.unread}>
              {t('notif.read_all')}
            </button>
          </div>
          {notif.items.length === 0 ? (
            <p class="empty small">{t('notif.empty')}</p>
          ) : (
            <ul class="notif-list">
              {notif.items.map((n) => (
                <li key={n.id}>
                  <button type="button" class={`notif-item${n.read_at ? '' : ' unread'}`} onClick={() => openOne(n)}>
                    <span class="notif-text">
                      {t(`notif.kind.${n.kind}`, { name: agentName(n.by_agent_id) || t('notif.someone'), id: n.conversation_id })}
                    </span>
                    <span class="muted small">{formatShort(n.created_at)}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
