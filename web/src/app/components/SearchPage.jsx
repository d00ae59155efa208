// SPDX-License-Identifier: MIT
// SearchPage.jsx - full-text search over every message the agent may see, hits highlighted
// (the server's snippet, reduced by DOMPurify to text and <mark>), beside the chosen conversation.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { errorText, t } from '../i18n.js';
import { formatShort } from '../format.js';
import { useShortcut } from '../keys.js';
import { navigate } from '../router.js';
import { sanitizeSnippet } from '../sanitize.js';
import { ChannelBadge } from './ChannelBadge.jsx';
import { ConversationView } from './ConversationView.jsx';
import { Icon } from './Icon.jsx';

export function SearchPage({ route }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const { q, conversationId } = route;

  useEffect(() => {
    if (!q) {
      setItems([]);
      return undefined;
    }
    const ctrl = new AbortController();
    setItems(null);
    setError(null);
    api.search(q, 50, { signal: ctrl.signal })
      .then((r) => setItems(r.items))
      .catch((e) => {
        if (e.name === 'AbortError') return;
        setError(e);
        setItems([]);
      });
    return () => ctrl.abort();
  }, [q]);

  const open = (id) => navigate({ page: 'search', q, conversationId: id });
  function move(d) {
    if (!items || !items.length) return;
    const ids = [...new Set(items.map((h) => h.conversation_id))];
    const i = ids.indexOf(conversationId);
    const next = ids[Math.max(0, Math.min(ids.length - 1, i < 0 ? 0 : i + d))];
    if (next !== conversationId) open(next);
  }
  useShortcut('j', () => move(1));
  useShortcut('k', () => move(-1));

  return (
    <div class={`split${conversationId ? ' has-selection' : ''}`}>
      <section class="pane list-pane" aria-labelledby="search-title" data-testid="search-results">
        <div class="list-head">
          <h1 id="search-title">{t('search.title')}</h1>
          {q && items && (
            <p class="muted small" aria-live="polite">{t('search.count', { count: items.length, q })}</p>
          )}
        </div>
        <div class="list-scroll">
          {error && <p class="form-error" role="alert">{errorText(error)}</p>}
          {!q && <p class="empty">{t('search.empty_query')}</p>}
          {q && !items && <p class="loading">{t('common.loading')}</p>}
          {q && items && !items.length && !error && <p class="empty">{t('search.no_hits')}</p>}
          {items && items.length > 0 && (
            <ul class="conv-list">
              {items.map((h) => (
                <li key={h.message_id}>
                  <a href={`#/search?q=${encodeURIComponent(q)}&c=${h.conversation_id}`} data-testid="search-hit"
                    class={`conv-row${h.conversation_id === conversationId ? ' selected' : ''}`}
                    aria-current={h.conversation_id === conversationId ? 'true' : undefined}>
                    <div class="conv-row-top">
                      <span class="conv-contact">{(h.contact && h.contact.name) || t('conv.unknown_contact')}</span>
                      <time class="conv-time" dateTime={h.created_at}>{formatShort(h.created_at)}</time>
                    </div>
                    {h.subject && <div class="conv-subject">{h.subject}</div>}
                    {/* the snippet is HTML-escaped by the server; DOMPurify keeps only <mark> */}
                    <div class="snippet" data-testid="snippet" dangerouslySetInnerHTML={{ __html: sanitizeSnippet(h.snippet) }} />
                    <div class="conv-meta">
                      <ChannelBadge channel={h.channel} />
                      <span class={`msg-kind kind-${h.direction}`}>{t(`msg.kind.${h.direction}`)}</span>
                      <span class="muted small">#{h.conversation_id}</span>
                    </div>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </div>
      </section>
      {conversationId ? (
        <ConversationView key={conversationId} id={conversationId}
          onBack={() => navigate({ page: 'search', q })} />
      ) : (
        <section class="pane conv-empty">
          <Icon name="search" size={40} />
          <h2>{t('search.pick')}</h2>
        </section>
      )}
    </div>
  );
}
