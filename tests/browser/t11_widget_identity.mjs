// SPDX-License-Identifier: MIT
// t11_widget_identity.mjs - the demo shop's signed-in customer is recognised by the signature
// the shop puts on the widget's tag: greeted by name and linked to his existing contact (checked
// through the API); a page whose hash was tampered with gets an error in the widget, not an
// anonymous chat.
import { createServer } from 'node:http';
import { ADMIN, apiSession, assert, findChat, openWidget, uniq, waitText, widgetSay } from './lib.mjs';

const SHOP_ID = 'cust-4711'; // the demo customer's shop account (src/app/demo.h)

export async function signedInCustomerIsLinked({ base, newPage }) {
  const admin = await apiSession(base, ADMIN);
  const { items } = await admin.get(`/contacts?q=${SHOP_ID}`);
  const contact = items.find((c) => c.identities.some((i) => i.kind === 'shop' && i.value === SHOP_ID));
  assert(contact, 'the demo data has the shop customer');

  const shop = await newPage({ locale: 'de-DE' });
  await shop.goto(`${base}/demo/shop`);
  await waitText(shop.getByTestId('shop-account'), contact.name);
  const chat = await openWidget(shop);
  const first = contact.name.split(' ')[0];
  await waitText(chat.getByTestId('chat-greeting'), `Hallo ${first}! Geht es um Ihre Bestellung`);
  const marker = uniq('linked');
  await widgetSay(chat, `Ich möchte meine Lieferadresse ändern (${marker})`);

  // the chat belongs to the existing contact, not to a new one
  const conv = await findChat(admin, marker);
  assert(conv.contact.id === contact.id, `chat of contact ${conv.contact.id}, expected ${contact.id}`);
  assert(conv.channel === 'webchat', `channel ${conv.channel}`);
  const after = await admin.get(`/contacts?q=${SHOP_ID}`);
  assert(after.items.length === 1, 'no second contact with the shop account');
  const again = await admin.get(`/contacts/${contact.id}`);
  assert(again.name === contact.name, 'the contact keeps its name');
}

export async function forgedHashIsRefused({ base, newPage }) {
  const shop = await newPage({ locale: 'de-DE' });
  // the page as an attacker would serve it: the signed-in customer's hash changed by one digit
  let forged = false;
  await shop.route(`${base}/demo/shop`, async (route) => {
    const res = await route.fetch();
    const body = (await res.text()).replace(/data-user-hash="([0-9a-f]{64})"/, (m, h) => {
      forged = true;
      return `data-user-hash="${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}"`;
    });
    await route.fulfill({ response: res, body });
  });
  const sessions = [];
  shop.on('response', (r) => {
    if (r.url().endsWith('/widget/v1/sessions')) sessions.push(r.status());
  });
  await shop.goto(`${base}/demo/shop`);
  assert(forged, 'the page had a hash to forge');
  const chat = await openWidget(shop);
  await waitText(chat.getByTestId('chat-error'), 'Ihre Anmeldung konnte nicht bestätigt werden');
  assert((await chat.getByTestId('chat-input').count()) === 0, 'no chat without a valid sign-in');
  assert(sessions.length === 1 && sessions[0] === 403, `the server refused the session: ${sessions}`);
}

/** Serves html from another port of this machine while fn(origin) runs: another site (a page
 * the browser made up itself would count as public and may not load from a loopback server). */
async function otherSite(html, fn) {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    await fn(`http://127.0.0.1:${server.address().port}`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

// The widget on another site (its own origin), signed in through window.KnotenpunktWidget set
// before the script instead of data attributes, on a page whose CSS tries to hide and restyle
// everything: the launcher still shows, the chat works across origins, and the page's script
// hears the agent's reply through KnotenpunktWidget.on('message').
export async function embeddedOnAnotherSite({ base, newPage }) {
  const admin = await apiSession(base, ADMIN);
  const shopPage = await (await fetch(`${base}/demo/shop`)).text();
  const attr = (name) => (new RegExp(`data-${name}="([^"]*)"`).exec(shopPage) || [])[1];
  const unescape = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const user = { id: attr('user-id'), name: unescape(attr('user-name')), email: attr('user-email'), hash: attr('user-hash') };
  const inbox = attr('inbox');
  assert(user.hash && inbox, 'the demo shop names its customer');
  const html = `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Fremder Shop</title>
<style>* { all: unset !important; font-family: serif !important; } div, button, iframe { display: none !important; }</style></head>
<body><h1>Ein anderer Shop</h1>
<script>window.KnotenpunktWidget = { user: ${JSON.stringify(user).replace(/</g, '\\u003c')} };</script>
<script src="${base}/widget/v1/widget.js" data-inbox="${inbox}" async></script></body></html>`;
  await otherSite(html, async (site) => {
    const page = await newPage({ locale: 'de-DE' });
    await page.goto(`${site}/fremder-shop`);
    await page.waitForFunction(() => window.KnotenpunktWidget && typeof window.KnotenpunktWidget.open === 'function');
    await page.evaluate(() => {
      window.kpMessages = [];
      window.KnotenpunktWidget.on('message', (m) => window.kpMessages.push(m));
    });
    // the page's CSS does not reach into the widget
    const launcher = page.getByTestId('kp-launcher');
    await launcher.waitFor({ state: 'visible' });
    const box = await launcher.boundingBox();
    assert(box && box.width >= 50 && box.height >= 50, `the launcher keeps its size: ${JSON.stringify(box)}`);
    await page.evaluate(() => window.KnotenpunktWidget.open());
    const chat = page.frameLocator('[data-testid=kp-frame]');
    await waitText(chat.getByTestId('chat-greeting'), `Hallo ${user.name.split(' ')[0]}!`);
    const marker = uniq('far');
    await widgetSay(chat, `Ich schreibe von einer anderen Seite (${marker})`);
    const conv = await findChat(admin, marker);
    const { items } = await admin.get(`/contacts?q=${SHOP_ID}`);
    assert(conv.contact.id === items[0].id, 'linked to the shop customer from another origin too');
    const text = `Antwort an die andere Seite ${uniq('r')}`;
    await admin.post(`/conversations/${conv.id}/messages`, { type: 'reply', text });
    await waitText(chat.locator('[data-testid=chat-message][data-direction=out]'), text);
    await page.waitForFunction((t) => window.kpMessages.some((m) => m.text === t && m.direction === 'out'), text);
    assert(await page.evaluate(() => window.KnotenpunktWidget.isOpen()), 'the API tells the widget is open');
  });
}
