// SPDX-License-Identifier: MIT
// Workspace.jsx - the frame around every page once signed in: top bar (search, connection status,
// notifications, language, user), the navigation of views, the page of the current route, the
// shortcut list and the live region that announces new messages.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { useShortcut } from '../keys.js';
import { navigate, useRoute } from '../router.js';
import { doLogout } from '../session.js';
import { stream } from '../stream.js';
import { isAdmin, useStore } from '../store.js';
import { agentName } from '../format.js';
import { Icon } from './Icon.jsx';
import { LangSelect } from './LangSelect.jsx';
import { Nav } from './Nav.jsx';
import { InboxPage } from './InboxPage.jsx';
import { SearchPage } from './SearchPage.jsx';
import { AdminPage } from '../admin/AdminPage.jsx';
import { Notifications } from './Notifications.jsx';
import { ShortcutsDialog } from './ShortcutsDialog.jsx';
import { Avatar } from './Avatar.jsx';

function ConnStatus() {
  const conn = useStore((s) => s.conn);
  return (
    <div class={`conn conn-${conn}`} data-testid="conn-status" role="status" title={t(`conn.${conn}.title`)}>
      <span class="conn-dot" aria-hidden="true" />
      <span class="conn-label">{t(`conn.${conn}`)}</span>
    </div>
  );
}

function SearchBox({ route }) {
  const [q, setQ] = useState(route.page === 'search' ? route.q : '');
  const input = useRef(null);
  useEffect(() => {
    if (route.page === 'search') setQ(route.q);
  }, [route.page, route.q]);
  useShortcut('/', () => input.current && input.current.focus());
  return (
    <form class="searchbox" role="search" onSubmit={(e) => {
      e.preventDefault();
      if (q.trim()) navigate({ page: 'search', q: q.trim() });
    }}>
      <Icon name="search" size={16} />
      <input ref={input} type="search" value={q} placeholder={t('search.placeholder')}
        aria-label={t('search.label')} data-testid="search-input"
        onInput={(e) => setQ(e.currentTarget.value)}
        onKeyDown={(e) => e.key === 'Escape' && e.currentTarget.blur()} />
      <kbd class="kbd-hint" aria-hidden="true">/</kbd>
    </form>
  );
}

function UserMenu() {
  const session = useStore((s) => s.session);
  const [open, setOpen] = useState(false);
  const ref = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const close = (e) => ref.current && !ref.current.contains(e.target) && setOpen(false);
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);
  const a = session.agent;
  return (
    <div class="menu-wrap" ref={ref}>
      <button type="button" class="user-btn" aria-haspopup="true" aria-expanded={open}
        onClick={() => setOpen(!open)} data-testid="user-menu" aria-label={t('user.menu', { name: a.name })}>
        <Avatar name={a.name} size="sm" />
        <span class="user-name">{a.name}</span>
      </button>
      {open && (
        <div class="popover menu" onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
          <div class="menu-head">
            <strong>{a.name}</strong>
            <span class="muted">{a.email}</span>
            <span class="badge">{t(`role.${a.role}`)}</span>
          </div>
          <div class="menu-row"><LangSelect /></div>
          <button type="button" class="menu-item" onClick={doLogout} data-testid="logout">
            <Icon name="logout" size={16} /> {t('user.logout')}
          </button>
        </div>
      )}
    </div>
  );
}

/** Announces new inbound messages (and mentions) to screen readers. */
function LiveAnnouncer() {
  const [text, setText] = useState('');
  useEffect(() => stream.on('event', (ev) => {
    const m = ev.payload && ev.payload.message;
    const c = ev.payload && ev.payload.conversation;
    if (ev.type === 'message.created' && m && m.direction === 'in' && c) {
      setText(t('live.new_message', { name: (c.contact && c.contact.name) || t('conv.unknown_contact'), id: c.id }));
    } else if (ev.type === 'message.created' && m && m.direction === 'note' && c) {
      setText(t('live.new_note', { name: agentName(m.author_agent_id), id: c.id }));
    }
  }), []);
  return <div class="sr-only" aria-live="polite" data-testid="live-region">{text}</div>;
}

export function Workspace() {
  const route = useRoute();
  const [navOpen, setNavOpen] = useState(false);
  const [help, setHelp] = useState(false);
  const admin = isAdmin();
  useShortcut('?', () => setHelp(true));
  useEffect(() => setNavOpen(false), [route.page, route.view, route.section]);

  let page;
  if (route.page === 'search') page = <SearchPage route={route} />;
  else if (route.page === 'admin') page = <AdminPage section={route.section} />;
  else page = <InboxPage route={route} />;

  return (
    <div class={`ws${navOpen ? ' nav-open' : ''}`}>
      <a class="skip-link" href="#main">{t('a11y.skip')}</a>
      <header class="topbar">
        <button type="button" class="icon-btn nav-toggle" aria-label={t('nav.toggle')}
          aria-expanded={navOpen} onClick={() => setNavOpen(!navOpen)}>
          <Icon name="menu" />
        </button>
        <a class="brand" href="#/inbox/mine" aria-label={t('nav.home')}>
          <span class="brand-mark" aria-hidden="true">K</span>
          <span class="brand-name">Knotenpunkt</span>
        </a>
        <SearchBox route={route} />
        <div class="topbar-right">
          <ConnStatus />
          <Notifications />
          <button type="button" class="icon-btn" aria-label={t('keys.title')} title={t('keys.title')}
            onClick={() => setHelp(true)} data-testid="shortcuts-btn">
            <Icon name="keyboard" />
          </button>
          <LangSelect compact />
          <UserMenu />
        </div>
      </header>
      <div class="ws-body">
        <Nav route={route} admin={admin} />
        {navOpen && <div class="scrim" onClick={() => setNavOpen(false)} aria-hidden="true" />}
        <div class="ws-main" id="main">{page}</div>
      </div>
      {help && <ShortcutsDialog onClose={() => setHelp(false)} />}
      <LiveAnnouncer />
    </div>
  );
}
