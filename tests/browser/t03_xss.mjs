// SPDX-License-Identifier: MIT
// t03_xss.mjs - hostile messages from customers (through the API channel) are shown as text or
// as sanitised HTML: in the list, the conversation and the search results nothing runs. The
// context bypasses the page's Content-Security-Policy so that the sanitiser alone is tested: any
// handler that got through would run and set window.__xss or open a dialog.
import { ADMIN, apiInbox, apiSession, apiToken, assert, login, uniq, waitText } from './lib.mjs';

const RUN = 'window.__xss=1;alert(1)';
const PAYLOADS = [
  `<script>${RUN}</script>`,
  `<img src=x onerror="${RUN}">`,
  `<a href="javascript:${RUN}">js link</a>`,
  `<a href="jav&#x09;ascript:${RUN}">tab link</a>`,
  `<svg onload="${RUN}"><circle r="5"/></svg>`,
  `<svg><script>${RUN}</script></svg>`,
  `<iframe srcdoc="<script>parent.__xss=1;parent.alert(1)</script>"></iframe>`,
  `<math><mtext><table><mglyph><style><img src=x onerror="${RUN}"></style></mglyph></table></mtext></math>`,
  `<math><maction actiontype="statusline" xlink:href="javascript:${RUN}">m</maction></math>`,
  `"><img src=x onerror="${RUN}">`,
  `'><svg/onload=${RUN}>`,
  `<form action="javascript:${RUN}"><button>go</button></form>`,
  `<details open ontoggle="${RUN}">d</details>`,
  `<object data="javascript:${RUN}"></object>`,
  `<embed src="javascript:${RUN}">`,
  `<noscript><p title="</noscript><img src=x onerror=${RUN}>"></noscript>`,
  `<style>@import "javascript:${RUN}";</style>`,
  `<meta http-equiv="refresh" content="0;url=javascript:${RUN}">`,
  `<div style="background:url(javascript:${RUN})">styled</div>`,
];

/** Everything in the page that could run code, as a list of findings (empty = clean). */
function findInjected() {
  const bad = [];
  for (const el of document.body.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) bad.push(`${el.tagName} ${a.name}`);
      if (/^(href|src|action|formaction|data|xlink:href)$/i.test(a.name) &&
          /^\s*(javascript|vbscript|data):/i.test(a.value) && !/^data:image\/(png|gif|jpe?g|webp);/i.test(a.value)) {
        bad.push(`${el.tagName} ${a.name}=${a.value.slice(0, 30)}`);
      }
    }
  }
  for (const el of document.querySelectorAll('[data-testid=msg-html] *, [data-testid=snippet] *')) {
    if (/^(script|iframe|frame|object|embed|form|svg|math|style|link|meta|base|input|button|details)$/i.test(el.tagName)) {
      bad.push(`element ${el.tagName}`);
    }
  }
  return bad;
}

async function assertClean(page, dialogs, where) {
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  const flag = await page.evaluate(() => window.__xss);
  assert(flag === undefined, `a payload ran ${where} (window.__xss = ${flag})`);
  assert(dialogs.length === 0, `a dialog opened ${where}: ${dialogs.join(', ')}`);
  const bad = await page.evaluate(findInjected);
  assert(bad.length === 0, `dangerous markup ${where}: ${bad.join('; ')}`);
}

export async function hostileMessagesDoNothing({ base, newContext }) {
  const admin = await apiSession(base, ADMIN);
  const bot = await apiToken(base, admin, 'xss-test');
  const inbox = await apiInbox(admin);
  const token = uniq('xssprobe');
  const sender = { kind: 'email', value: `${token}@example.com`, name: `<img src=x onerror="${RUN}">Mallory` };
  const textOnly = await bot.post(`/inboxes/${inbox}/messages`, {
    sender,
    subject: `"><script>${RUN}</script> order ${token}`,
    text: `${token} ${PAYLOADS.join(' ')}`,
  });
  await bot.post(`/inboxes/${inbox}/messages`, {
    sender,
    text: `${token} html version`,
    html: `<p>Hello <b>${token}</b></p><p><a href="https://example.com/ok">safe link</a></p>${PAYLOADS.join('\n')}`,
  });
  const id = textOnly.conversation_id;

  const ctx = await newContext({ bypassCSP: true });
  const page = await ctx.newPage();
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  await login(page, base, ADMIN, undefined, '#/inbox/all');

  // the list shows the hostile contact name and subject as text
  const row = page.locator(`[data-testid=conversation-row][data-id="${id}"]`);
  await waitText(row, 'Mallory');
  await waitText(row, '<img src=x onerror=');
  await assertClean(page, dialogs, 'in the list');

  // the conversation: the text-only message shows the payloads literally ...
  await row.click();
  const timeline = page.getByTestId('timeline');
  await waitText(timeline.getByTestId('message'), `<script>${RUN}</script>`);
  await waitText(page.getByTestId('conv-title'), '"><script>');
  // ... the HTML one keeps its harmless formatting and links, which open in a new tab
  const html = page.getByTestId('msg-html').filter({ hasText: 'safe link' });
  await html.waitFor();
  await assertClean(page, dialogs, 'in the conversation');
  assert(await html.locator('b').filter({ hasText: token }).isVisible(), 'bold text survives');
  const link = html.locator('a', { hasText: 'safe link' });
  assert((await link.getAttribute('href')) === 'https://example.com/ok', 'the safe link keeps its href');
  assert((await link.getAttribute('target')) === '_blank', 'links open in a new tab');
  assert((await link.getAttribute('rel')) === 'noopener noreferrer', 'links carry rel=noopener noreferrer');
  const jsLink = html.locator('a', { hasText: 'js link' });
  assert((await jsLink.count()) === 0 || (await jsLink.getAttribute('href')) === null, 'javascript: links lose their href');

  // the search results highlight the hit and show the rest as text
  await page.getByTestId('search-input').fill(token);
  await page.getByTestId('search-input').press('Enter');
  const hit = page.getByTestId('search-hit').first();
  await hit.waitFor();
  await waitText(hit.locator('mark'), token);
  await assertClean(page, dialogs, 'in the search results');
  await hit.click();
  await page.getByTestId('msg-html').first().waitFor();
  await assertClean(page, dialogs, 'in a conversation opened from the search');
}
