// SPDX-License-Identifier: MIT
// router.js - hash routes, so that the server only ever serves "/":
//   #/inbox/<view>[/<conversation id>]   views: mine, unassigned, teams, all, waiting
//   #/search?q=...[&c=<conversation id>]
//   #/admin/<section>                    sections: agents, teams, inboxes, canned
import { useEffect, useState } from 'preact/hooks';

export function parseRoute(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(qs || ''));
  const page = parts[0] || 'inbox';
  if (page === 'search') {
    return { page, q: params.q || '', conversationId: params.c ? Number(params.c) || null : null };
  }
  if (page === 'admin') return { page, section: parts[1] || 'agents' };
  return { page: 'inbox', view: parts[1] || 'mine', conversationId: Number(parts[2]) || null };
}

export function href(route) {
  if (route.page === 'search') {
    const q = new URLSearchParams();
    if (route.q) q.set('q', route.q);
    if (route.conversationId) q.set('c', route.conversationId);
    return `#/search?${q}`;
  }
  if (route.page === 'admin') return `#/admin/${route.section || 'agents'}`;
  return `#/inbox/${route.view || 'mine'}${route.conversationId ? `/${route.conversationId}` : ''}`;
}

export function navigate(route, replace = false) {
  const h = typeof route === 'string' ? route : href(route);
  if (replace) {
    history.replaceState(null, '', h);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = h;
  }
}

export function useRoute() {
  const [route, setRoute] = useState(() => parseRoute());
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
