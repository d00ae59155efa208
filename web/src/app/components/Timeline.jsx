// SPDX-License-Identifier: MIT
// Timeline.jsx - the messages of a conversation across channels, oldest first: inbound, replies
// and internal notes, each with channel, direction, author and time; inbound HTML only after
// DOMPurify; attachments with download links and image previews.
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { attachmentUrl } from '../api.js';
import { t } from '../i18n.js';
import { agentName, formatDateTime, formatSize } from '../format.js';
import { sanitizeMessageHtml } from '../sanitize.js';
import { Avatar } from './Avatar.jsx';
import { ChannelBadge } from './ChannelBadge.jsx';
import { Icon } from './Icon.jsx';

/** The sanitised HTML body, put into the DOM as nodes (never as a string). */
function HtmlBody({ html }) {
  const ref = useRef(null);
  useLayoutEffect(() => {
    const el = ref.current;
    el.replaceChildren(sanitizeMessageHtml(html));
  }, [html]);
  return <div class="msg-html" ref={ref} data-testid="msg-html" />;
}

function Attachments({ items }) {
  if (!items || !items.length) return null;
  return (
    <ul class="attachments" aria-label={t('msg.attachments')}>
      {items.map((a) => {
        const url = attachmentUrl(a.id);
        const isImage = /^image\/(png|jpe?g|gif|webp)$/i.test(a.content_type || '');
        return (
          <li key={a.id} class="attachment">
            {isImage && (
              <a href={url} target="_blank" rel="noopener noreferrer" class="att-preview">
                <img src={url} alt={a.filename} loading="lazy" />
              </a>
            )}
            <a href={url} download={a.filename} class="att-link" data-testid="attachment-link">
              <Icon name={isImage ? 'download' : 'paperclip'} size={15} />
              <span class="att-name">{a.filename}</span>
              <span class="muted small">{formatSize(a.size || 0)}</span>
            </a>
          </li>
        );
      })}
    </ul>
  );
}

function Message({ m, contactName }) {
  const note = m.direction === 'note';
  const inbound = m.direction === 'in';
  const author = inbound ? contactName || t('conv.unknown_contact') : agentName(m.author_agent_id) || t('msg.system');
  const label = t(`msg.kind.${m.direction}`);
  return (
    <li class={`msg msg-${m.direction}`} data-testid="message" data-direction={m.direction}>
      <Avatar name={author} size="sm" kind={inbound ? 'customer' : 'agent'} />
      <article class="msg-card" aria-label={`${label}: ${author}`}>
        <header class="msg-head">
          <strong class="msg-author">{author}</strong>
          <span class={`msg-kind kind-${m.direction}`}>
            {note ? <Icon name="note" size={13} /> : inbound ? null : <Icon name="reply" size={13} />}
            {label}
          </span>
          {!note && <ChannelBadge channel={m.channel} />}
          <time class="msg-time" dateTime={m.created_at}>{formatDateTime(m.created_at)}</time>
        </header>
        {inbound && m.html ? <HtmlBody html={m.html} /> : <div class="msg-text">{m.text}</div>}
        <Attachments items={m.attachments} />
      </article>
    </li>
  );
}

export function Timeline({ conv }) {
  const scroller = useRef(null);
  const stick = useRef(true);
  const count = conv.messages.length;
  useEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [count]);
  useEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [conv.id]);
  return (
    <div class="timeline" ref={scroller} tabIndex={0} aria-label={t('msg.timeline')}
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      }}>
      <ol class="msg-list" role="log" aria-live="polite" aria-relevant="additions" data-testid="timeline">
        {conv.messages.map((m) => (
          <Message key={m.id} m={m} contactName={conv.contact && conv.contact.name} />
        ))}
      </ol>
      {conv.message_count > conv.messages.length && (
        <p class="muted small center">{t('msg.truncated', { n: conv.messages.length, total: conv.message_count })}</p>
      )}
    </div>
  );
}
