// SPDX-License-Identifier: MIT
// api.js - the REST client of the agent workspace: JSON in and out, the session cookie plus the
// X-CSRF-Token header on every unsafe request, errors as ApiError, and one hook for a 401.

const BASE = '/api/v1';

let csrf = null;
let onUnauthorized = () => {};

/** An answer with a 4xx/5xx status, or no answer at all (status 0, code "network"). */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

export function setCsrf(token) {
  csrf = token || null;
}

/** fn runs when any request other than the login itself answers 401. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/** Builds "?a=1&b=2" from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'network error');
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || `http_${res.status}`, e.message, e.field);
    if (res.status === 401 && !opts.noAuthRedirect) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body === undefined ? {} : body, opts);
export const patch = (path, body, opts) => request('PATCH', path, body, opts);
export const put = (path, body, opts) => request('PUT', path, body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

// ---- session ----
export async function login(email, password) {
  const s = await request('POST', '/session', { email, password }, { noAuthRedirect: true });
  setCsrf(s.csrf_token);
  return s;
}

export async function currentSession() {
  const s = await request('GET', '/session', undefined, { noAuthRedirect: true });
  setCsrf(s.csrf_token);
  return s;
}

export async function logout() {
  try {
    await request('DELETE', '/session', undefined, { noAuthRedirect: true });
  } finally {
    setCsrf(null);
  }
}

// ---- resources ----
export const listConversations = (params, opts) => get(`/conversations${query(params)}`, opts);
export const getConversation = (id, opts) => get(`/conversations/${id}`, opts);
export const updateConversation = (id, body) => patch(`/conversations/${id}`, body);
export const assignConversation = (id, assigneeId) =>
  post(`/conversations/${id}/assign`, { assignee_id: assigneeId });
export const transferConversation = (id, body) => post(`/conversations/${id}/transfer`, body);
export const addTag = (id, tag) => post(`/conversations/${id}/tags`, { tag });
export const removeTag = (id, tag) => del(`/conversations/${id}/tags/${encodeURIComponent(tag)}`);

/** Posts a reply or note; a server that does not know "mentions" yet gets it without them. */
export async function sendMessage(id, body) {
  try {
    return await post(`/conversations/${id}/messages`, body);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'unknown_field' && body.mentions) {
      const { mentions, ...rest } = body;
      return post(`/conversations/${id}/messages`, rest);
    }
    throw e;
  }
}

export const getContact = (id, opts) => get(`/contacts/${id}`, opts);
export const listContactEvents = (id, params, opts) => get(`/contacts/${id}/events${query(params)}`, opts);
export const search = (q, limit, opts) => get(`/search${query({ q, limit })}`, opts);

export const listAgents = () => get('/agents');
export const createAgent = (body) => post('/agents', body);
export const updateAgent = (id, body) => patch(`/agents/${id}`, body);
export const listTeams = () => get('/teams');
export const createTeam = (name) => post('/teams', { name });
export const renameTeam = (id, name) => patch(`/teams/${id}`, { name });
export const addMember = (teamId, agentId) => put(`/teams/${teamId}/members/${agentId}`);
export const removeMember = (teamId, agentId) => del(`/teams/${teamId}/members/${agentId}`);
export const listInboxes = () => get('/inboxes');
export const createInbox = (body) => post('/inboxes', body);
export const updateInbox = (id, body) => patch(`/inboxes/${id}`, body);
export const getInboxWidget = (id) => get(`/inboxes/${id}/widget`);
export const rotateInboxWidget = (id) => post(`/inboxes/${id}/widget/rotate`);
export const getInboxEmail = (id) => get(`/inboxes/${id}/email`);
export const putInboxEmail = (id, body) => put(`/inboxes/${id}/email`, body);
export const listKeptMail = (id, params) => get(`/inboxes/${id}/email/kept${query(params)}`);

export const listCanned = (q, opts) => get(`/canned${query({ q })}`, opts);
export const createCanned = (body) => post('/canned', body);
export const updateCanned = (id, body) => patch(`/canned/${id}`, body);
export const deleteCanned = (id) => del(`/canned/${id}`);
export const renderCanned = (id, conversationId) =>
  post(`/canned/${id}/render`, { conversation_id: conversationId });

export const listNotifications = (params) => get(`/notifications${query(params)}`);
export const readNotification = (id) => post(`/notifications/${id}/read`);
export const readAllNotifications = () => post('/notifications/read');

export const attachmentUrl = (id) => `${BASE}/attachments/${id}`;
export const messageRawUrl = (id) => `${BASE}/messages/${id}/raw`;
export const moveMessage = (id, conversationId) => post(`/messages/${id}/move`, { conversation_id: conversationId });
