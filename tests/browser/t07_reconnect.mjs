// SPDX-License-Identifier: MIT
// t07_reconnect.mjs - the real-time connection drops: the app says so, reconnects by itself with
// ?since=<last event id seen>, and shows what was missed meanwhile without a reload.
import { ADMIN, apiInbox, apiSession, assert, login, uniq, waitText } from './lib.mjs';

export async function reconnectsAndCatchesUp({ base, newPage }) {
  const admin = await apiSession(base, ADMIN);
  const inbox = await apiInbox(admin);
  const page = await newPage();
  const urls = [];
  const sockets = [];
  let release;
  const missedPosted = new Promise((r) => { release = r; });
  await page.routeWebSocket(/\/api\/v1\/stream/, async (ws) => {
    urls.push(ws.url());
    // the second connection is held back until the missed message is stored
    if (urls.length === 2) await missedPosted;
    ws.connectToServer();
    sockets.push(ws);
  });
  await login(page, base, ADMIN, undefined, '#/inbox/all');
  const status = page.getByTestId('conn-status');
  await waitText(status, 'Live');

  // a first message arrives live, so that the app has seen an event id
  const sender = { kind: 'email', value: `${uniq('drop')}@example.com`, name: `Drop ${uniq('Test')}` };
  const { conversation_id: id } = await admin.post(`/inboxes/${inbox}/messages`, { sender, text: 'before the drop' });
  const row = page.locator(`[data-testid=conversation-row][data-id="${id}"]`);
  await row.click();
  await waitText(page.getByTestId('timeline'), 'before the drop');

  // the connection breaks: the indicator says so
  await sockets[0].close({ code: 4000, reason: 'test drop' });
  await waitText(status, /Offline|Connecting/);

  // a message arrives while the app is not connected; after the reconnect it is there
  const missed = uniq('missed');
  await admin.post(`/inboxes/${inbox}/messages`, { sender, text: `while away: ${missed}` });
  release();
  await waitText(page.getByTestId('message'), missed);
  await waitText(status, 'Live');
  assert(/[?&]since=\d+/.test(urls[1]), `the reconnect asks for what was missed: ${urls[1]}`);
}
