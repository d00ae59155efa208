// SPDX-License-Identifier: MIT
// lib.mjs - helpers of the browser suite: Playwright from web/node_modules, signing in through
// the login screen, an API client with a session (cookie + CSRF header) for setting up and
// checking data, waits that assert what a user sees, and an LMTP client that delivers mail to
// the server the way a mail server does.
import { createRequire } from 'node:module';
import { connect } from 'node:net';

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
 * request() throws on a non-2xx answer with the server's error in the message; download(path)
 * returns the raw bytes of a GET.
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
  /** The raw answer to GET path: {status, type (Content-Type), bytes (a Buffer)}. */
  async function download(path) {
    const r = await fetch(`${base}/api/v1${path}`, { headers: { Cookie: cookie } });
    return { status: r.status, type: r.headers.get('content-type'), bytes: Buffer.from(await r.arrayBuffer()) };
  }
  return {
    agent: body.agent,
    request,
    download,
    get: (p) => request('GET', p),
    post: (p, d = {}, h) => request('POST', p, d, h),
    patch: (p, d) => request('PATCH', p, d),
    put: (p, d) => request('PUT', p, d),
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

/**
 * Delivers one mail over LMTP (RFC 2033) to lmtp {host, port}: LHLO, MAIL FROM, RCPT TO for each
 * recipient, DATA (line ends made CRLF, lines starting with "." doubled), QUIT. Every reply code
 * is checked (an unexpected one throws with the server's text); after the data LMTP answers once
 * per recipient. from "" is the null sender of bounces. Returns the replies to the data.
 */
export function lmtpDeliver(lmtp, { from, to, data }, timeout = 10_000) {
  const rcpts = Array.isArray(to) ? to : [to];
  return new Promise((ok, fail) => {
    const sock = connect(lmtp.port, lmtp.host);
    const lines = [];
    let buf = '';
    let wake = null;
    let closed = null;
    const timer = setTimeout(() => sock.destroy(new Error(`LMTP: no answer within ${timeout / 1000} s`)), timeout);
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      buf += d;
      for (let i; (i = buf.indexOf('\r\n')) >= 0; buf = buf.slice(i + 2)) lines.push(buf.slice(0, i));
      if (wake) wake();
    });
    sock.on('error', (e) => {
      closed = e;
      if (wake) wake();
    });
    sock.on('close', () => {
      closed = closed || new Error('LMTP: the server closed the connection');
      if (wake) wake();
    });
    /** The next complete reply ("250-..." lines up to "250 ..."), checked against code. */
    async function expect(code, after) {
      const text = [];
      for (;;) {
        while (!lines.length) {
          if (closed) throw closed;
          await new Promise((r) => { wake = r; });
          wake = null;
        }
        const line = lines.shift();
        text.push(line);
        if (/^\d{3}(?: |$)/.test(line)) break;
      }
      const got = Number(text[text.length - 1].slice(0, 3));
      if (got !== code) throw new Error(`LMTP: ${code} expected after ${after}, got: ${text.join(' | ')}`);
      return text[text.length - 1];
    }
    const send = (line) => sock.write(`${line}\r\n`);
    (async () => {
      await expect(220, 'connecting');
      send('LHLO browser-test.example');
      await expect(250, 'LHLO');
      send(`MAIL FROM:<${from}>`);
      await expect(250, 'MAIL FROM');
      for (const r of rcpts) {
        send(`RCPT TO:<${r}>`);
        await expect(250, `RCPT TO ${r}`);
      }
      send('DATA');
      await expect(354, 'DATA');
      const body = data.replace(/\r?\n/g, '\r\n').replace(/(\r\n)?$/, '\r\n');
      sock.write(`${body.replace(/^\./gm, '..')}.\r\n`);
      const replies = [];
      for (const r of rcpts) replies.push(await expect(250, `the data for ${r}`));
      send('QUIT');
      await expect(221, 'QUIT');
      sock.end();
      return replies;
    })().then(ok, (e) => {
      sock.destroy();
      fail(e);
    }).finally(() => clearTimeout(timer));
  });
}
