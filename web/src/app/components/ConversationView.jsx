// SPDX-License-Identifier: MIT
// ConversationView.jsx - one conversation: header with its actions, who else is here (collision),
// the timeline across channels, the composer and the customer panel. Tells the stream which
// conversation is open and merges the stream's events into what it shows: new messages, changed
// ones (a mail's delivery) in place, and messages moved to or from another conversation.
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api.js';
import { errorText, t } from '../i18n.js';
import { useShortcut } from '../keys.js';
import { stream } from '../stream.js';
import { me, toast } from '../store.js';
import { ConversationHeader } from './ConversationHeader.jsx';
import { Collision } from './Collision.jsx';
import { Timeline } from './Timeline.jsx';
import { Composer } from './Composer.jsx';
import { CustomerPanel } from './CustomerPanel.jsx';

function withMessage(conv, m) {
  if (!conv || conv.messages.some((x) => x.id === m.id)) return conv;
  const messages = [...conv.messages, m].sort((a, b) =>
    a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id - b.id);
  return { ...conv, messages };
}

/** The message as it is now: replaced where it is, added when it came here, dropped when it
 * went to another conversation. */
function updatedMessage(conv, m) {
  if (!conv) return conv;
  const here = conv.messages.some((x) => x.id === m.id);
  if (m.conversation_id !== conv.id) {
    return here ? { ...conv, messages: conv.messages.filter((x) => x.id !== m.id) } : conv;
  }
  return here ? { ...conv, messages: conv.messages.map((x) => (x.id === m.id ? m : x)) } : withMessage(conv, m);
}

export function ConversationView({ id, onBack }) {
  const [conv, setConv] = useState(null);
  const [contact, setContact] = useState(null);
  const [error, setError] = useState(null);
  const [panelOpen, setPanelOpen] = useState(false);
  const [reload, setReload] = useState(0);
  const composer = useRef(null);
  const current = useRef(null);
  current.current = conv;

  useEffect(() => {
    const ctrl = new AbortController();
    setError(null);
    api.getConversation(id, { signal: ctrl.signal })
      .then((c) => setConv(c))
      .catch((e) => e.name !== 'AbortError' && setError(e));
    return () => ctrl.abort();
  }, [id, reload]);

  const contactId = conv && conv.contact && conv.contact.id;
  useEffect(() => {
    if (!contactId) return undefined;
    const ctrl = new AbortController();
    api.getContact(contactId, { signal: ctrl.signal }).then(setContact).catch(() => {});
    return () => ctrl.abort();
  }, [contactId]);

  useEffect(() => {
    stream.watch(id);
    const offEvent = stream.on('event', (ev) => {
      const c = ev.payload && ev.payload.conversation;
      const m = ev.payload && ev.payload.message;
      // a message moved away from here is announced for the conversation it went to
      if (ev.type === 'message.updated' && m) setConv((prev) => updatedMessage(prev, m));
      if (ev.conversation_id !== id && !(c && c.id === id)) return;
      // fewer messages than before: one was moved away (maybe where this agent cannot follow)
      const shown = current.current;
      if (c && ev.type === 'conversation.updated' && shown && c.message_count < shown.message_count) {
        setReload((n) => n + 1);
      }
      setConv((prev) => {
        if (!prev) return prev;
        let next = c ? { ...prev, ...c, messages: prev.messages } : prev;
        if (m && ev.type !== 'message.updated') next = withMessage(next, m);
        return next;
      });
    });
    const offResync = stream.on('resync', () => setReload((n) => n + 1));
    return () => {
      offEvent();
      offResync();
      stream.watch(null);
    };
  }, [id]);

  async function act(fn, okText) {
    try {
      const c = await fn();
      if (c && c.id === id) setConv((prev) => ({ ...prev, ...c, messages: prev.messages }));
      if (okText) toast(okText);
      return true;
    } catch (e) {
      toast(errorText(e), 'error');
      return false;
    }
  }

  useShortcut('r', () => composer.current && composer.current.focus('reply'));
  useShortcut('n', () => composer.current && composer.current.focus('note'));
  useShortcut('e', () => {
    if (conv && conv.state !== 'resolved') act(() => api.updateConversation(id, { state: 'resolved' }), t('conv.resolved_toast'));
  });
  useShortcut('a', () => {
    if (conv && conv.assignee_id !== me().id) act(() => api.assignConversation(id, me().id), t('conv.assigned_me_toast'));
  });
  useShortcut('Escape', () => onBack());

  if (error) {
    return (
      <section class="pane conv-pane">
        <div class="conv-error">
          <button type="button" class="btn btn-secondary back-btn" onClick={onBack}>{t('common.back')}</button>
          <p class="form-error" role="alert">
            {error.status === 404 ? t('conv.not_found') : errorText(error)}
          </p>
        </div>
      </section>
    );
  }
  if (!conv) {
    return <section class="pane conv-pane"><p class="loading">{t('common.loading')}</p></section>;
  }

  return (
    <div class={`conv-wrap${panelOpen ? ' panel-open' : ''}`}>
      <section class="pane conv-pane" aria-labelledby="conv-title" data-testid="conversation">
        <ConversationHeader conv={conv} act={act} onBack={onBack}
          onTogglePanel={() => setPanelOpen(!panelOpen)} panelOpen={panelOpen} />
        <Collision conversationId={id} />
        <Timeline conv={conv} onMoved={(m) => setConv((prev) => updatedMessage(prev, m))} />
        <Composer handle={composer} conv={conv} contact={contact}
          onSent={(m) => setConv((prev) => withMessage(prev, m))} />
      </section>
      <CustomerPanel contact={contact} conv={conv} onClose={() => setPanelOpen(false)} />
    </div>
  );
}
