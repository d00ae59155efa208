// SPDX-License-Identifier: MIT
// CustomerPanel.jsx - the customer beside the conversation: identities on every channel,
// attributes, the pages he viewed on the website (chat widget), every conversation of the
// contact on every channel, and the place for a summary.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { t } from '../i18n.js';
import { formatDate, formatShort, stateLabel } from '../format.js';
import { parseRoute } from '../router.js';
import { Avatar } from './Avatar.jsx';
import { ChannelBadge } from './ChannelBadge.jsx';
import { Icon } from './Icon.jsx';

const attrLabel = (k) => k.charAt(0).toUpperCase() + k.slice(1).replace(/_/g, ' ');

function pageLabel(e) {
  if (e.title) return e.title;
  try {
    const u = new URL(e.url);
    return u.pathname + u.search;
  } catch {
    return e.url;
  }
}

function duration(s) {
  if (s == null) return '';
  return s < 60 ? t('customer.seconds', { n: s }) : t('customer.minutes', { n: Math.round(s / 60) });
}

/** Pages the customer viewed on the website, newest first (from the chat widget). */
function PagesVisited({ contactId, refresh }) {
  const [items, setItems] = useState(null);
  useEffect(() => {
    const ctrl = new AbortController();
    api.listContactEvents(contactId, { limit: 10 }, { signal: ctrl.signal })
      .then((p) => setItems(p.items || []))
      .catch((e) => e.name !== 'AbortError' && setItems([]));
    return () => ctrl.abort();
  }, [contactId, refresh]);
  if (!items || !items.length) return null; // nothing to show for customers who never browsed
  return (
    <section class="panel-section">
      <h3>{t('customer.pages')}</h3>
      <ol class="pages" data-testid="pages-visited">
        {items.map((e) => (
          <li key={e.id}>
            {/^https?:\/\//i.test(e.url)
              ? <a href={e.url} target="_blank" rel="noopener noreferrer" title={e.url}>{pageLabel(e)}</a>
              : <span title={e.url}>{pageLabel(e)}</span>}
            <span class="muted small">
              <time dateTime={e.created_at}>{formatShort(e.created_at)}</time>
              {e.seconds != null && ` · ${duration(e.seconds)}`}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function History({ contactId, current }) {
  const currentId = current.id;
  const [items, setItems] = useState(null);
  const [cursor, setCursor] = useState(null);
  useEffect(() => {
    const ctrl = new AbortController();
    api.listConversations({ contact_id: contactId, limit: 20 }, { signal: ctrl.signal })
      .then((p) => {
        setItems(p.items);
        setCursor(p.next_cursor);
      })
      .catch(() => setItems([]));
    return () => ctrl.abort();
  }, [contactId]);
  if (!items) return <p class="muted small">{t('common.loading')}</p>;
  if (!items.length) return <p class="muted small">{t('customer.no_history')}</p>;
  const r = parseRoute();
  const base = r.page === 'inbox' ? `#/inbox/${r.view}` : '#/inbox/all';
  async function more() {
    const p = await api.listConversations({ contact_id: contactId, limit: 20, cursor });
    setItems([...items, ...p.items]);
    setCursor(p.next_cursor);
  }
  return (
    <>
      <ul class="history" data-testid="contact-history">
        {items.map((item) => {
          // the open conversation as it is now (the stream keeps it current), the rest as loaded
          const c = item.id === currentId ? { ...item, ...current } : item;
          return (
          <li key={c.id}>
            <a href={`${base}/${c.id}`} class={c.id === currentId ? 'current' : ''}
              aria-current={c.id === currentId ? 'true' : undefined}>
              <span class="history-top">
                <ChannelBadge channel={c.channel} />
                <span class={`state-pill state-${c.state}`}>{stateLabel(c.state)}</span>
                <time class="muted small" dateTime={c.last_message_at}>{formatShort(c.last_message_at)}</time>
              </span>
              <span class="history-subject">{c.subject || c.preview || t('conv.untitled', { id: c.id })}</span>
            </a>
          </li>
          );
        })}
      </ul>
      {cursor && <button type="button" class="btn btn-link" onClick={more}>{t('list.load_more')}</button>}
    </>
  );
}

export function CustomerPanel({ contact, conv, onClose }) {
  return (
    <aside class="customer-panel" aria-label={t('customer.title')} data-testid="customer-panel">
      <div class="panel-head">
        <h2>{t('customer.title')}</h2>
        <button type="button" class="icon-btn panel-close" onClick={onClose} aria-label={t('common.close')}>
          <Icon name="close" />
        </button>
      </div>
      {!contact ? (
        <p class="muted small pad">{t('common.loading')}</p>
      ) : (
        <div class="panel-body">
          <div class="contact-card">
            <Avatar name={contact.name} size="lg" kind="customer" />
            <div>
              <div class="contact-name" data-testid="contact-name">{contact.name || t('conv.unknown_contact')}</div>
              <div class="muted small">{t('customer.since', { date: formatDate(contact.created_at) })}</div>
            </div>
          </div>
          <section class="panel-section">
            <h3>{t('customer.identities')}</h3>
            {contact.identities.length ? (
              <ul class="identities">
                {contact.identities.map((i) => (
                  <li key={i.id}>
                    <span class="id-kind">{t(`kind.${i.kind}`) === `kind.${i.kind}` ? i.kind : t(`kind.${i.kind}`)}</span>
                    <span class="id-value">{i.value}</span>
                  </li>
                ))}
              </ul>
            ) : <p class="muted small">{t('customer.no_identities')}</p>}
          </section>
          <section class="panel-section">
            <h3>{t('customer.attributes')}</h3>
            {Object.keys(contact.attributes || {}).length ? (
              <dl class="attrs">
                {Object.entries(contact.attributes).map(([k, v]) => (
                  <div key={k} class="attr">
                    <dt>{t(`attr.${k}`) === `attr.${k}` ? attrLabel(k) : t(`attr.${k}`)}</dt>
                    <dd>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
                  </div>
                ))}
              </dl>
            ) : <p class="muted small">{t('customer.no_attributes')}</p>}
          </section>
          <PagesVisited contactId={contact.id} refresh={conv && conv.message_count} />
          <section class="panel-section">
            <h3>{t('customer.summary')}</h3>
            <p class="summary-placeholder" data-testid="contact-summary">{t('customer.summary_placeholder')}</p>
          </section>
          <section class="panel-section">
            <h3>{t('customer.history')}</h3>
            <History contactId={contact.id} current={conv} />
          </section>
        </div>
      )}
    </aside>
  );
}
