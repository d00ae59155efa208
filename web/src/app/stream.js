// SPDX-License-Identifier: MIT
// stream.js - the real-time link: one WebSocket to /api/v1/stream (cookie auth), reconnected with
// exponential backoff and resumed with ?since=<last event id seen>, so that no event is missed.
// Listeners: "status" (connecting|live|offline), "event" (message.created|message.updated|
// conversation.updated; message.updated: a mail's delivery state changed or the message moved),
// "resync" (too much was missed: reload), "presence", "notification", "visitor_typing" (a web
// chat customer types), "closed" (signed out).

const MAX_BACKOFF_MS = 30000;

export class Stream {
  constructor() {
    this.ws = null;
    this.lastEventId = null;
    this.listeners = new Map();
    this.status = 'offline';
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this.watching = null;
    this.lastTyping = 0;
  }

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, data) {
    for (const fn of this.listeners.get(type) || []) {
      try {
        fn(data);
      } catch (e) {
        console.error(e);
      }
    }
  }

  setStatus(s) {
    if (this.status === s) return;
    this.status = s;
    this.emit('status', s);
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close(1000);
      this.ws = null;
    }
    this.lastEventId = null;
    this.watching = null;
    this.setStatus('offline');
  }

  connect() {
    clearTimeout(this.timer);
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const since = this.lastEventId != null ? `?since=${this.lastEventId}` : '';
    this.setStatus('connecting');
    let ws;
    try {
      ws = new WebSocket(`${proto}//${location.host}/api/v1/stream${since}`);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onmessage = (m) => this.onFrame(m.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (ev.code === 4401 || ev.code === 4403) {
        this.stopped = true;
        this.setStatus('offline');
        this.emit('closed', ev.code);
        return;
      }
      this.retry();
    };
  }

  retry() {
    if (this.stopped) return;
    this.setStatus('offline');
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.attempt, 5));
    this.attempt++;
    this.timer = setTimeout(() => this.connect(), base / 2 + Math.random() * (base / 2));
  }

  onFrame(raw) {
    let f;
    try {
      f = JSON.parse(raw);
    } catch {
      return;
    }
    if (!f || typeof f !== 'object') return;
    switch (f.type) {
      case 'hello':
        this.attempt = 0;
        if (this.lastEventId == null) this.lastEventId = f.last_event_id ?? 0;
        this.setStatus('live');
        if (this.watching != null) this.send({ type: 'watch', conversation_id: this.watching });
        break;
      case 'resync':
        if (f.last_event_id != null) this.lastEventId = f.last_event_id;
        this.emit('resync', f);
        break;
      case 'presence':
        this.emit('presence', f);
        break;
      case 'notification':
        this.emit('notification', f.notification);
        break;
      case 'visitor_typing':
        this.emit('visitor_typing', f);
        break;
      case 'message.created':
      case 'message.updated':
      case 'conversation.updated':
        if (typeof f.id === 'number' && (this.lastEventId == null || f.id > this.lastEventId)) {
          this.lastEventId = f.id;
        }
        this.emit('event', f);
        break;
      default:
        break;
    }
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }

  /** Tells the server which conversation this tab shows (null: none). */
  watch(conversationId) {
    this.watching = conversationId;
    this.lastTyping = 0;
    this.send({ type: 'watch', conversation_id: conversationId });
  }

  /** Says "I am typing here", at most every 2 seconds (replies only: the customer of a chat
   * sees it too). */
  typing(conversationId) {
    const now = Date.now();
    if (now - this.lastTyping < 2000) return;
    if (this.send({ type: 'typing', conversation_id: conversationId })) this.lastTyping = now;
  }
}

export const stream = new Stream();
