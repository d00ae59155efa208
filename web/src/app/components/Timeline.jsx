// SPDX-License-Identifier: MIT
// Timeline.jsx - the messages of a conversation across channels, oldest first: inbound, replies
// and internal notes, each with channel, direction, author and time; inbound HTML only after
// DOMPurify (a mail's inline images from its own attachments); attachments with download links
// and image previews; for mails their header, flags, threading and delivery (EmailParts).
import { useEffect, useLayoutEffect, useMemo, useRef } from 'preact/hooks';
import { attachmentUrl } from '../api.js';
import { t } from '../i18n.js';
import { agentName, formatDateTime, formatSize } from '../format.js';
import { cidOf, sanitizeMessageHtml } from '../sanitize.js';
import { Avatar } from './Avatar.jsx';
import { ChannelBadge } from './ChannelBadge.jsx';
import { Delivery, EmailFlags, EmailFoot, EmailHead } from './EmailParts.jsx';
import { Icon } from './Icon.jsx';

/** Content-ID -> URL of the message's attachments that have one. */
function cidUrls(attachments) {
  const map = new Map();
  for (const a of attachments || []) if (a.content_id) map.set(a.content_id, attachmentUrl(a.id));
  return map;
}

/** The Content-IDs the html shows as images: those attachments are not listed again. */
function shownCids(html) {
  const set = new Set();
  if (!html) return set;
  for (const img of new DOMParser().parseFromString(html, 'text/html').images) {
    const id = cidOf(img.getAttribute('src'));
    if (id) set.add(id);
  }
  return set;
}

/** The sanitised HTML body, put into the DOM as nodes (never as a string). */
function HtmlBody({ html, attachments }) {
  const ref = useRef(null);
  useLayoutEffect(() => {
    const el = ref.current;
    el.replaceChildren(sanitizeMessageHtml(html, cidUrls(attachments)));
  }, [html, attachments]);
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

function Message({ m, conv, onMoved }) {
  const note = m.direction === 'note';
  const inbound = m.direction === 'in';
  const contactName = conv.contact && conv.contact.name;
  const author = inbound ? contactName || t('conv.unknown_contact') : agentName(m.author_agent_id) || t('msg.system');
  const label = t(`msg.kind.${m.direction}`);
  const html = inbound && m.html;
  const inline = useMemo(() => (html && m.email ? shownCids(html) : null), [html, !!m.email]);
  const listed = inline ? (m.attachments || []).filter((a) => !a.content_id || !inline.has(a.content_id)) : m.attachments;
  return (
    <li class={`msg msg-${m.direction}`} data-testid="message" data-direction={m.direction} data-id={m.id}>
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
        {m.email && <EmailHead email={m.email} convSubject={conv.subject} />}
        {m.email && <EmailFlags email={m.email} />}
        {html ? <HtmlBody html={html} attachments={m.attachments} /> : <div class="msg-text">{m.text}</div>}
        <Attachments items={listed} />
        {m.delivery && <Delivery d={m.delivery} />}
        {m.email && <EmailFoot m={m} onMoved={onMoved} />}
      </article>
    </li>
  );
}

export function Timeline({ conv, onMoved }) {
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
          <Message key={m.id} m={m} conv={conv} onMoved={onMoved} />
        ))}
      </ol>
      {conv.message_count > conv.messages.length && (
        <p class="muted small center">{t('msg.truncated', { n: conv.messages.length, total: conv.message_count })}</p>
      )}
    </div>
  );
}
