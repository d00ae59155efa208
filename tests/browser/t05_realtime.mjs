// SPDX-License-Identifier: MIT
// t05_realtime.mjs - messages that arrive while the agent looks at the inbox appear in the list
// and in the open conversation without a reload.
import { ADMIN, apiInbox, apiSession, assert, login, uniq, waitText } from './lib.mjs';

export async function newMessagesAppearLive({ base, newPage }) {
  const admin = await apiSession(base, ADMIN);
  const inbox = await apiInbox(admin);
  const page = await newPage();
  await login(page, base, ADMIN, undefined, '#/inbox/all');
  await page.getByTestId('conversation-row').first().waitFor();
  await waitText(page.getByTestId('conn-status'), 'Live');
  // a mark on the window: a reload would lose it
  await page.evaluate(() => { window.__noReload = true; });

  // a new customer writes: the conversation appears at the top of the list
  const name = `Live ${uniq('Kunde')}`;
  const sender = { kind: 'email', value: `${uniq('live')}@example.com`, name };
  const first = uniq('first');
  const { conversation_id: id } = await admin.post(`/inboxes/${inbox}/messages`, {
    sender, subject: `Realtime check ${first}`, text: `Hello, this is ${first}`,
  });
  const row = page.locator(`[data-testid=conversation-row][data-id="${id}"]`);
  await waitText(row, name);
  const top = await page.getByTestId('conversation-row').first().getAttribute('data-id');
  assert(Number(top) === id, 'the new conversation is at the top of the list');

  // open it; the next message of the customer shows up in the timeline by itself
  await row.click();
  await waitText(page.getByTestId('timeline'), first);
  const second = uniq('second');
  await admin.post(`/inboxes/${inbox}/messages`, { sender, text: `And one more thing: ${second}` });
  await waitText(page.getByTestId('message'), second);

  // a colleague's note and an assignment made elsewhere show up as well
  await admin.post(`/conversations/${id}/messages`, { type: 'note', text: `Note ${second}` });
  await waitText(page.locator('[data-testid=message][data-direction=note]'), `Note ${second}`);
  const anna = (await admin.get('/agents')).items.find((a) => a.email.startsWith('anna@'));
  await admin.post(`/conversations/${id}/assign`, { assignee_id: anna.id });
  await page.waitForFunction((v) => document.querySelector('[data-testid=assign-select]').value === String(v), anna.id);
  await waitText(row, 'Anna Becker');

  assert(await page.evaluate(() => window.__noReload === true), 'the page was not reloaded');
}
