// SPDX-License-Identifier: MIT
// ConversationList.jsx - one view of the inbox with its filters (channel, state, tag, team),
// cursor pagination and live updates from the stream: a changed conversation moves to its place,
// leaves the view when it no longer matches, or joins it when it now does.
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api.js';
import { errorText, t } from '../i18n.js';
import { useShortcut } from '../keys.js';
import { stream } from '../stream.js';
import { isAdmin, me, useStore } from '../store.js';
import { agentName, CHANNELS, channelLabel, formatAge, formatShort, priorityLabel, STATES, stateLabel } from '../format.js';
import { ChannelBadge } from './ChannelBadge.jsx';

const savedFilters = new Map(); // view -> filters, kept while the page lives

function defaultFilters() {
  return { state: 'open', channel: '', tag: '', team_id: '' };
}

/** The query of a view with its filters. */
function viewQuery(view, f, myTeams) {
  const q = { state: f.state, channel: f.channel, tag: f.tag.trim(), team_id: f.team_id, limit: 25 };
  if (view === 'mine') q.assignee_id = 'me';
  else if (view === 'unassigned') q.assignee_id = 'none';
  else if (view === 'teams' && !q.team_id) q.team_id = 'mine'; /* every team the agent is in */
  else if (view === 'waiting') {
    q.state = 'open';
    q.sort = 'waiting'; /* the server orders by waiting time, the longest first */
  }
  return q;
}

/** Whether conversation c belongs in the view (the server has checked that the agent may see it). */
function matches(c, view, q, myTeamIds) {
  if (q.state && c.state !== q.state) return false;
  if (q.channel && c.channel !== q.channel) return false;
  if (q.tag && !(c.tags || []).includes(q.tag)) return false;
  if (q.team_id && q.team_id !== 'mine' && c.team_id !== Number(q.team_id)) return false;
  if (q.assignee_id === 'me' && c.assignee_id !== me().id) return false;
  if (q.assignee_id === 'none' && c.assignee_id != null) return false;
  if (q.team_id === 'mine' && !myTeamIds.includes(c.team_id)) return false;
  if (view === 'waiting' && !c.waiting_since) return false;
  return true;
}

function sortItems(items, view) {
  const key = view === 'waiting' ? (c) => c.waiting_since || '' : (c) => c.last_message_at || c.updated_at || '';
  const dir = view === 'waiting' ? 1 : -1;
  return [...items].sort((a, b) => (key(a) < key(b) ? -dir : key(a) > key(b) ? dir : b.id - a.id));
}

export function ConversationList({ view, selectedId, onSelect }) {
  const teams = useStore((s) => s.teams);
  const session = useStore((s) => s.session);
  const admin = isAdmin();
  const myTeamIds = session.agent.teams || [];
  const myTeams = teams.filter((tm) => myTeamIds.includes(tm.id));
  const teamChoices = admin ? teams : myTeams;
  const [filters, setFilters] = useState(() => savedFilters.get(view) || defaultFilters());
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);
  const [fresh, setFresh] = useState(() => new Set());
  const [reload, setReload] = useState(0);
  const listRef = useRef(null);
  const q = viewQuery(view, filters, myTeams);
  const qKey = JSON.stringify(q);
  const ctx = useRef({});
  ctx.current = { view, q, myTeamIds, cursor };

  useEffect(() => {
    savedFilters.set(view, filters);
  }, [filters]);

  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    setError(null);
    api.listConversations(q, { signal: ctrl.signal })
      .then((page) => {
        let list = page.items;
        if (view === 'waiting') list = list.filter((c) => c.waiting_since);
        setItems(sortItems(list, view));
        setCursor(page.next_cursor);
        setLoading(false);
      })
      .catch((e) => {
        if (e.name === 'AbortError') return;
        setError(e);
        setLoading(false);
      });
    return () => ctrl.abort();
  }, [qKey, reload]);

  useEffect(() => {
    const offEvent = stream.on('event', (ev) => {
      const c = ev.payload && ev.payload.conversation;
      if (!c) return;
      const { view: v, q: cq, myTeamIds: teamIds, cursor: cur } = ctx.current;
      setItems((prev) => {
        const rest = prev.filter((x) => x.id !== c.id);
        const was = rest.length !== prev.length;
        if (!matches(c, v, cq, teamIds)) return was ? rest : prev;
        // a conversation outside the loaded page joins only when it sorts into it
        if (!was && cur && prev.length) {
          const sorted = sortItems([...prev, c], v);
          if (sorted[sorted.length - 1].id === c.id) return prev;
        }
        return sortItems([...rest, c], v);
      });
      const m = ev.payload.message;
      if (ev.type === 'message.created' && m && m.direction === 'in') {
        setFresh((s) => new Set(s).add(c.id));
      }
    });
    const offResync = stream.on('resync', () => setReload((n) => n + 1));
    return () => {
      offEvent();
      offResync();
    };
  }, []);

  useEffect(() => {
    if (selectedId && fresh.has(selectedId)) {
      setFresh((s) => {
        const n = new Set(s);
        n.delete(selectedId);
        return n;
      });
    }
  }, [selectedId, fresh]);

  async function loadMore() {
    setLoading(true);
    try {
      const page = await api.listConversations({ ...q, cursor });
      let list = page.items;
      if (view === 'waiting') list = list.filter((c) => c.waiting_since);
      setItems((prev) => sortItems([...prev, ...list.filter((c) => !prev.some((p) => p.id === c.id))], view));
      setCursor(page.next_cursor);
    } catch (e) {
      setError(e);
    }
    setLoading(false);
  }

  function move(delta) {
    if (!items.length) return;
    const i = items.findIndex((c) => c.id === selectedId);
    const next = items[Math.max(0, Math.min(items.length - 1, i < 0 ? 0 : i + delta))];
    if (next && next.id !== selectedId) {
      onSelect(next.id);
      const el = listRef.current && listRef.current.querySelector(`[data-id="${next.id}"]`);
      if (el) {
        el.scrollIntoView({ block: 'nearest' });
        el.focus({ preventScroll: true });
      }
    }
  }
  useShortcut('j', () => move(1));
  useShortcut('k', () => move(-1));

  const set = (k) => (e) => setFilters({ ...filters, [k]: e.currentTarget.value });
  const noTeams = view === 'teams' && !teamChoices.length;

  return (
    <section class="pane list-pane" aria-labelledby="list-title" data-testid="conversation-list">
      <div class="list-head">
        <h1 id="list-title">{t(`view.${view}`)}</h1>
        {view === 'waiting' && <p class="muted small">{t('view.waiting_hint')}</p>}
      </div>
      <div class="filters" role="group" aria-label={t('filter.label')}>
        {view !== 'waiting' && (
          <label class="filter">
            <span class="sr-only">{t('filter.state')}</span>
            <select value={filters.state} onChange={set('state')} data-testid="filter-state" aria-label={t('filter.state')}>
              <option value="">{t('filter.any_state')}</option>
              {STATES.map((s) => <option key={s} value={s}>{stateLabel(s)}</option>)}
            </select>
          </label>
        )}
        <label class="filter">
          <span class="sr-only">{t('filter.channel')}</span>
          <select value={filters.channel} onChange={set('channel')} data-testid="filter-channel" aria-label={t('filter.channel')}>
            <option value="">{t('filter.any_channel')}</option>
            {CHANNELS.map((c) => <option key={c} value={c}>{channelLabel(c)}</option>)}
          </select>
        </label>
        {(view === 'teams' || view === 'all' || view === 'waiting' || view === 'unassigned') && teamChoices.length > 0 && (
          <label class="filter">
            <span class="sr-only">{t('filter.team')}</span>
            <select value={filters.team_id || ''}
              onChange={set('team_id')} data-testid="filter-team" aria-label={t('filter.team')}>
              <option value="">{view === 'teams' ? t('filter.my_teams') : t('filter.any_team')}</option>
              {(view === 'teams' ? myTeams : teamChoices).map((tm) => <option key={tm.id} value={tm.id}>{tm.name}</option>)}
            </select>
          </label>
        )}
        <label class="filter filter-tag">
          <span class="sr-only">{t('filter.tag')}</span>
          <input type="text" value={filters.tag} placeholder={t('filter.tag_placeholder')} aria-label={t('filter.tag')}
            onChange={set('tag')} onKeyDown={(e) => e.key === 'Enter' && set('tag')(e)} data-testid="filter-tag" />
        </label>
      </div>
      <div class="list-scroll" ref={listRef}>
        {error && <p class="form-error" role="alert">{errorText(error)}</p>}
        {noTeams ? (
          <p class="empty">{t('view.no_teams')}</p>
        ) : !loading && !items.length && !error ? (
          <p class="empty" data-testid="list-empty">{t('list.empty')}</p>
        ) : (
          <ul class="conv-list" aria-label={t('list.label')}>
            {items.map((c) => (
              <ConversationRow key={c.id} c={c} view={view} selected={c.id === selectedId}
                fresh={fresh.has(c.id)} onSelect={onSelect} />
            ))}
          </ul>
        )}
        {loading && <p class="loading" aria-live="polite">{t('common.loading')}</p>}
        {!loading && cursor && (
          <button type="button" class="btn btn-secondary btn-block load-more" onClick={loadMore} data-testid="load-more">
            {t('list.load_more')}
          </button>
        )}
      </div>
    </section>
  );
}

function ConversationRow({ c, view, selected, fresh, onSelect }) {
  const title = c.subject || c.preview || t('conv.untitled', { id: c.id });
  return (
    <li>
      <a href={`#/inbox/${view}/${c.id}`} data-id={c.id} data-testid="conversation-row"
        class={`conv-row${selected ? ' selected' : ''}${fresh ? ' fresh' : ''}`}
        aria-current={selected ? 'true' : undefined}
        onClick={(e) => {
          if (e.ctrlKey || e.metaKey || e.shiftKey) return;
          e.preventDefault();
          onSelect(c.id);
        }}>
        <div class="conv-row-top">
          <span class="conv-contact">{(c.contact && c.contact.name) || t('conv.unknown_contact')}</span>
          <time class="conv-time" dateTime={c.last_message_at}>
            {view === 'waiting' && c.waiting_since ? formatAge(c.waiting_since) : formatShort(c.last_message_at)}
          </time>
        </div>
        <div class="conv-subject">{title}</div>
        {c.subject && c.preview && <div class="conv-preview">{c.preview}</div>}
        <div class="conv-meta">
          <ChannelBadge channel={c.channel} />
          <span class={`state-pill state-${c.state}`}>{stateLabel(c.state)}</span>
          {c.priority !== 'normal' && <span class={`prio prio-${c.priority}`}>{priorityLabel(c.priority)}</span>}
          {c.waiting_since && view !== 'waiting' && (
            <span class="waiting" title={t('conv.waiting_since', { age: formatAge(c.waiting_since) })}>
              {t('conv.waiting_short', { age: formatAge(c.waiting_since) })}
            </span>
          )}
          <span class="conv-assignee">{c.assignee_id ? agentName(c.assignee_id) : t('conv.unassigned')}</span>
        </div>
      </a>
    </li>
  );
}
