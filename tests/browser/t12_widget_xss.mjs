// SPDX-License-Identifier: MIT
// t12_widget_xss.mjs - hostile text and file names sent through the chat widget run nothing:
// not in the agent workspace (list, timeline, attachment links) and not in the widget itself
// (the visitor's own messages and an agent's reply with the same payloads). Both contexts bypass
// the Content-Security-Policy, so that only the rendering is tested: a handler that got through
// would set window.__xss or open a dialog.
import { ADMIN, apiSession, assert, findChat, login, openWidget, uniq, waitText, widgetSay } from './lib.mjs';

const RUN = 'window.__xss=1;alert(1)';
const PAYLOADS = [
  `<script>${RUN}</script>`,
  `<img src=x onerror="${RUN}">`,
  `<svg onload="${RUN}"><circle r="5"/></svg>`,
  `<a href="javascript:${RUN}">js link</a>`,
  `<iframe srcdoc="<script>parent.__xss=1;parent.alert(1)</script>"></iframe>`,
  `"><img src=x onerror="${RUN}">`,
  `<details open ontoggle="${RUN}">d</details>`,
  `javascript:${RUN}`,
];

function findInjected() {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) bad.push(`${el.tagName} ${a.name}`);
      if (/^(href|src|action|srcdoc|data)$/i.test(a.name) && /^\s*(javascript|vbscript|data:text)/i.test(a.value)) {
        bad.push(`${el.tagName} ${a.name}=${a.value.slice(0, 30)}`);
      }
    }
    // in a message nothing but our own icons (an aria-hidden svg of class "icon") is markup
    const own = el.closest('svg.icon[aria-hidden=true]');
    if (/^(script|iframe|svg|circle|details|object|embed)$/i.test(el.tagName) && !own &&
        el.closest('[data-testid=chat-log], [data-testid=timeline]')) {
      bad.push(`element ${el.tagName}`);
    }
  }
  return bad;
}

async function assertClean(target, dialogs, where) {
  const flag = await target.evaluate(() => window.__xss);
  assert(flag === undefined, `a payload ran ${where} (window.__xss = ${flag})`);
  assert(dialogs.length === 0, `a dialog opened ${where}: ${dialogs.join(', ')}`);
  const bad = await target.evaluate(findInjected);
  assert(bad.length === 0, `dangerous markup ${where}: ${bad.join('; ')}`);
}

export async function hostileWidgetInputDoesNothing({ base, newContext }) {
  const admin = await apiSession(base, ADMIN);
  const marker = uniq('xss');
  const shopCtx = await newContext({ bypassCSP: true, locale: 'de-DE' });
  const shop = await shopCtx.newPage();
  const dialogs = [];
  shop.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  await shop.goto(`${base}/demo/shop?guest=1`);
  const chat = await openWidget(shop);
  const fileName = `<img src=x onerror="${RUN}">${marker}.png`;
  await chat.getByTestId('chat-file').setInputFiles({
    name: fileName,
    mimeType: 'image/png',
    buffer: Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'),
  });
  await chat.locator('[data-testid=chat-message][data-id] [data-testid=chat-attachment]').filter({ hasText: marker }).waitFor();
  const text = `${marker} ${PAYLOADS.join(' ')}`;
  await widgetSay(chat, text);
  const frame = shop.frames().find((f) => f.url().includes('/widget/v1/frame'));
  assert(frame, 'the widget frame is there');
  await assertClean(frame, dialogs, 'in the widget');
  await assertClean(shop, dialogs, 'on the shop page');

  // the agent sees it all as text
  const conv = await findChat(admin, marker);
  const agentCtx = await newContext({ bypassCSP: true });
  const agent = await agentCtx.newPage();
  const agentDialogs = [];
  agent.on('dialog', (d) => {
    agentDialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  await login(agent, base, ADMIN, undefined, `#/inbox/all/${conv.id}`);
  const timeline = agent.getByTestId('timeline');
  await waitText(timeline.getByTestId('message'), `<script>${RUN}</script>`);
  await waitText(timeline.getByTestId('attachment-link'), fileName);
  await agent.getByTestId('conversation-list').waitFor().catch(() => {});
  await assertClean(agent, agentDialogs, 'in the agent workspace');

  // an agent's reply with the same payloads is text in the widget too
  const reply = `Antwort ${uniq('rx')} ${PAYLOADS.join(' ')}`;
  await agent.getByTestId('composer-input').fill(reply);
  await agent.getByTestId('send-btn').click();
  await waitText(chat.locator('[data-testid=chat-message][data-direction=out]'), `<img src=x onerror="${RUN}">`);
  await assertClean(frame, dialogs, 'in the widget after the reply');
  await assertClean(agent, agentDialogs, 'in the workspace after the reply');
}
