// SPDX-License-Identifier: MIT
// run.mjs BINARY ARTIFACT_DIR - the browser suite: starts BINARY in demo mode on an ephemeral
// loopback port (and its LMTP server on another) with a fresh data directory, drives Debian's
// Chromium through playwright-core,
// runs every exported async function of tests/browser/t*.mjs with a time limit, takes a screenshot
// of every page a test opened (also on failure) into ARTIFACT_DIR, prints ok/FAIL lines and a
// summary, and always stops the server and the browser. Exit status 1 on any failure.
//
// A test gets one argument, ctx: {base, lmtp: {host, port}, browser, artifactDir, name,
// newContext(opts), newPage(opts), log(...)} plus the helpers of lib.mjs (login, apiSession,
// waitText, lmtpDeliver, ...).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from './lib.mjs';
import * as lib from './lib.mjs';

const TEST_TIMEOUT_MS = 45_000;
const SUITE_TIMEOUT_MS = 240_000;
const START_TIMEOUT_MS = 20_000;

const here = dirname(fileURLToPath(import.meta.url));
const [binaryArg, artifactArg] = process.argv.slice(2);
if (!binaryArg || !artifactArg) {
  console.error('usage: node tests/browser/run.mjs BINARY ARTIFACT_DIR [FILTER]');
  process.exit(2);
}
const binary = resolve(binaryArg);
const artifactDir = resolve(artifactArg);
const filter = process.argv[4] || process.env.KP_BROWSER_FILTER || '';
mkdirSync(artifactDir, { recursive: true });

let server = null;
let browser = null;
let dataDir = null;
let lmtp = null;
const serverLog = [];

function startServer() {
  dataDir = mkdtempSync(join(tmpdir(), 'kp-browser-'));
  return new Promise((ok, fail) => {
    server = spawn(binary, ['demo', '--data', dataDir, '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KNOTENPUNKT_LMTP_LISTEN: '127.0.0.1:0' },
    });
    const timer = setTimeout(() => fail(new Error('the server did not say where it listens')), START_TIMEOUT_MS);
    let buf = '';
    server.stdout.on('data', (d) => {
      const s = d.toString();
      serverLog.push(s);
      buf += s;
      const l = /^lmtp on (127\.0\.0\.1):(\d+)$/m.exec(buf);
      if (l && !lmtp) lmtp = { host: l[1], port: Number(l[2]) };
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    server.stderr.on('data', (d) => serverLog.push(d.toString()));
    server.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    server.on('exit', (code, sig) => {
      clearTimeout(timer);
      fail(new Error(`the server exited early (${code ?? sig})`));
    });
  });
}

function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => {
    const kill = setTimeout(() => server.kill('SIGKILL'), 5000);
    server.once('exit', () => {
      clearTimeout(kill);
      ok();
    });
    server.kill('SIGTERM');
  });
}

let cleaning = null;
function cleanup() {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    if (browser) {
      await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    }
    await stopServer();
    try {
      writeFileSync(join(artifactDir, 'server.log'), serverLog.join(''));
    } catch {
      /* best effort */
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await cleanup();
    process.exit(130);
  });
}
const watchdog = setTimeout(async () => {
  console.error(`FAIL the browser suite ran longer than ${SUITE_TIMEOUT_MS / 1000} s`);
  await cleanup();
  process.exit(1);
}, SUITE_TIMEOUT_MS);

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, fail) => {
      timer = setTimeout(() => fail(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function runTest(file, name, fn, base) {
  const contexts = [];
  const pages = [];
  const errors = [];
  const ctx = {
    ...lib,
    base,
    lmtp,
    browser,
    artifactDir,
    name: `${file}:${name}`,
    async newContext(opts = {}) {
      const c = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US', ...opts });
      c.setDefaultTimeout(10_000);
      c.on('page', (p) => {
        pages.push(p);
        p.on('pageerror', (e) => errors.push(e.message));
      });
      contexts.push(c);
      return c;
    },
    async newPage(opts = {}) {
      const c = await ctx.newContext(opts);
      return c.newPage();
    },
    log: (...a) => console.log('   ', ...a),
  };
  const t0 = Date.now();
  let failure = null;
  try {
    await withTimeout(fn(ctx), TEST_TIMEOUT_MS, name);
    if (errors.length) throw new Error(`uncaught error in the page: ${errors[0]}`);
  } catch (e) {
    failure = e;
  }
  const stem = `${basename(file, '.mjs')}-${name}`;
  for (let i = 0; i < pages.length; i++) {
    if (pages[i].isClosed()) continue;
    const path = join(artifactDir, `${stem}${pages.length > 1 ? `-${i + 1}` : ''}.png`);
    await withTimeout(pages[i].screenshot({ path }), 10_000, 'screenshot').catch(() => {});
  }
  for (const c of contexts) await withTimeout(c.close(), 10_000, 'closing a context').catch(() => {});
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (failure) {
    console.log(`FAIL ${file} ${name} (${secs} s)`);
    console.log(`     ${String(failure.stack || failure).split('\n').slice(0, 6).join('\n     ')}`);
  } else {
    console.log(`ok   ${file} ${name} (${secs} s)`);
  }
  return !failure;
}

async function main() {
  const t0 = Date.now();
  const files = readdirSync(here).filter((f) => /^t.*\.mjs$/.test(f)).sort();
  const base = await startServer();
  browser = await chromium.launch({
    executablePath: process.env.KP_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu'],
    timeout: 30_000,
  });
  console.log(`# ${base}, Chromium ${browser.version()}, ${files.length} files`);
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const mod = await import(pathToFileURL(join(here, file)).href);
    for (const [name, fn] of Object.entries(mod)) {
      if (typeof fn !== 'function' || (filter && !`${file}:${name}`.includes(filter))) continue;
      if (await runTest(file, name, fn, base)) passed++;
      else failed++;
    }
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`# browser: ${passed} passed, ${failed} failed in ${secs} s; screenshots in ${artifactDir}`);
  return failed === 0 && passed > 0;
}

let ok = false;
try {
  ok = await main();
} catch (e) {
  console.log(`FAIL setup: ${e.stack || e}`);
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(ok ? 0 : 1);
