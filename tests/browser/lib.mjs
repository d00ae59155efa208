// SPDX-License-Identifier: MIT
// lib.mjs - helpers of the browser suite: Playwright from web/node_modules, signing in through
// the login screen, an API client with a session (cookie + CSRF header) for setting up and
// checking data, and waits that assert what a user sees.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
export const { chromium } = require('playwright-core');

export const PASSWORD = 'knotenpunkt';
export const ADMIN = 'admin@demo.knotenpunkt.test';
export const ANNA = 'anna@demo.knotenpunkt.test';

/** A unique word for this run, so that searches and assertions find only what the test made. */
export function uniq(prefix = 'kp') {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
}

/** Signs in through the login screen and waits for the workspace. */
export async function login(page, base, email, password = PASSWORD, hash = '') {
  await page.goto(`${base}/${hash}`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('user-menu').waitFor({ state: 'visible' });
}

/** Waits until locator (or one of its matches) is visible and contains text (string or RegExp). */
export async function waitText(locator, text, timeout = 10_000) {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible', timeout });
}

/**
 * An API client signed in as email, the way the web app is: session cookie plus X-CSRF-Token.
 * request() throws on a non-2xx answer with the server's error in the message.
 */
export async function apiSession(base, email, password = PASSWORD) {
  const res = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`login of ${email} failed: ${res.status} ${await res.text()}`);
  const body = await res.json();
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = body.csrf_token;
  async function request(method, path, data, headers = {}) {
    const r = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        Cookie: cookie,
        ...(method === 'GET' ? {} : { 'X-CSRF-Token': csrf }),
        ...(data === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: data === undefined ? undefined : JSON.stringify(data),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  return {
    agent: body.agent,
    request,
    get: (p) => request('GET', p),
    post: (p, d = {}, h) => request('POST', p, d, h),
    patch: (p, d) => request('PATCH', p, d),
    del: (p) => request('DELETE', p),
  };
}

/** A personal API token of the session's agent, and a client that uses it (Bearer auth). */
export async function apiToken(base, session, name = 'browser-test') {
  const { token } = await session.post('/tokens', { name });
  async function request(method, path, data) {
    const r = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(data === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: data === undefined ? undefined : JSON.stringify(data),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  return {
    token,
    get: (p) => request('GET', p),
    post: (p, d = {}) => request('POST', p, d),
  };
}

/** The id of the inbox of the generic API channel. */
export async function apiInbox(client) {
  const { items } = await client.get('/inboxes');
  const inbox = items.find((i) => i.channel === 'api');
  if (!inbox) throw new Error('no inbox of the api channel in the demo data');
  return inbox.id;
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Opens the chat widget on a shop page (its launcher is in a shadow root) and returns the
 * chat window, an iframe, as a FrameLocator. */
export async function openWidget(page) {
  const launcher = page.getByTestId('kp-launcher');
  await launcher.waitFor();
  if ((await launcher.getAttribute('aria-expanded')) !== 'true') await launcher.click();
  await page.getByTestId('kp-panel').waitFor({ state: 'visible' });
  await page.waitForTimeout(250); // the opening animation, for the screenshots
  return page.frameLocator('[data-testid=kp-frame]');
}

/** Writes text in the open widget and waits until the server stored it (the bubble shows its
 * time instead of "sending"). */
export async function widgetSay(chat, text) {
  await chat.getByTestId('chat-input').fill(text);
  await chat.getByTestId('chat-send').click();
  const mine = chat.locator('[data-testid=chat-message][data-direction=in][data-id]').filter({ hasText: text });
  await mine.waitFor();
  return mine;
}

/** The id of the web chat conversation whose preview contains marker, as client sees it. */
export async function findChat(client, marker, timeout = 10_000) {
  const { items: inboxes } = await client.get('/inboxes');
  const inbox = inboxes.find((i) => i.channel === 'webchat');
  const deadline = Date.now() + timeout;
  for (;;) {
    const { items } = await client.get(`/conversations?inbox_id=${inbox.id}&limit=20`);
    const c = items.find((x) => (x.preview || '').includes(marker));
    if (c) return c;
    if (Date.now() > deadline) throw new Error(`no web chat conversation with "${marker}"`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
