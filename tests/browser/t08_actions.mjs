// SPDX-License-Identifier: MIT
// t08_actions.mjs - working on a conversation: attachments are listed and images previewed; tags,
// priority, assignment (key "a"), transfer with a note and resolving (key "e") take effect, as
// the API confirms; "?" lists the shortcuts.
import { ADMIN, apiInbox, apiSession, assert, login, uniq, waitText } from './lib.mjs';

// a 2x2 red PNG
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==';

export async function workOnAConversation({ base, newPage }) {
  const admin = await apiSession(base, ADMIN);
  const inbox = await apiInbox(admin);
  const sender = { kind: 'email', value: `${uniq('act')}@example.com`, name: 'Petra Paket' };
  const { conversation_id: id } = await admin.post(`/inboxes/${inbox}/messages`, {
    sender,
    text: 'My parcel arrived damaged, photo attached.',
    attachments: [
      { filename: 'damage.png', content_type: 'image/png', data: PNG },
      { filename: 'receipt.txt', content_type: 'text/plain', data: Buffer.from('receipt 42').toString('base64') },
    ],
  });
  const { items: teams } = await admin.get('/teams');
  const { items: agents } = await admin.get('/agents');
  const target = teams.find((tm) => tm.name.startsWith('Versand'));
  const mehmet = agents.find((a) => a.email.startsWith('mehmet@'));

  const page = await newPage();
  await login(page, base, ADMIN, undefined, `#/inbox/all/${id}`);
  await page.locator(`[data-testid=conversation-row][data-id="${id}"]`).waitFor();
  await waitText(page.getByTestId('timeline'), 'arrived damaged');

  // attachments: both listed for download, the image shown
  const links = page.getByTestId('attachment-link');
  await waitText(links, 'damage.png');
  await waitText(links, 'receipt.txt');
  const img = page.locator('.att-preview img');
  await page.waitForFunction(() => {
    const i = document.querySelector('.att-preview img');
    return i && i.complete && i.naturalWidth === 2;
  });
  assert((await img.getAttribute('alt')) === 'damage.png', 'the preview has the file name as alt text');

  // a tag added and removed again
  const tag = uniq('tag').toLowerCase();
  await page.getByTestId('tag-input').fill(tag);
  await page.getByTestId('tag-input').press('Enter');
  await waitText(page.getByTestId('tags'), tag);
  assert((await admin.get(`/conversations/${id}`)).tags.includes(tag), 'the tag is stored');
  await page.getByRole('button', { name: `Remove tag ${tag}` }).click();
  await page.getByTestId('tags').filter({ hasText: tag }).waitFor({ state: 'hidden' });

  // priority
  await page.getByTestId('priority-select').selectOption('urgent');
  await waitText(page.locator(`[data-testid=conversation-row][data-id="${id}"]`), 'Urgent');
  await expectApi(admin, id, (c) => c.priority === 'urgent', 'priority urgent');

  // "a" assigns the conversation to me
  await page.getByTestId('timeline').focus();
  await page.keyboard.press('a');
  await page.waitForFunction(() => document.querySelector('[data-testid=assign-select]').value === '1');
  await expectApi(admin, id, (c) => c.assignee_id === admin.agent.id, 'assigned to the admin');

  // transfer to another team and agent, with a note for them
  await page.getByTestId('transfer-btn').click();
  const dialog = page.getByTestId('transfer-dialog');
  await dialog.getByTestId('transfer-team').selectOption(String(target.id));
  await dialog.getByTestId('transfer-agent').selectOption(String(mehmet.id));
  const note = `Please check the damage ${uniq('n')}`;
  await dialog.getByTestId('transfer-note').fill(note);
  await dialog.getByTestId('transfer-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  await waitText(page.locator('[data-testid=message][data-direction=note]'), note);
  await expectApi(admin, id, (c) => c.team_id === target.id && c.assignee_id === mehmet.id, 'transferred');

  // "e" resolves it
  await page.getByTestId('timeline').focus();
  await page.keyboard.press('e');
  await page.getByTestId('reopen-btn').waitFor();
  await expectApi(admin, id, (c) => c.state === 'resolved', 'resolved');

  // "?" shows the shortcuts, Escape closes them
  await page.keyboard.press('?');
  await waitText(page.getByTestId('shortcuts-dialog'), 'Resolve the conversation');
  await page.keyboard.press('Escape');
  await page.getByTestId('shortcuts-dialog').waitFor({ state: 'detached' });
}

async function expectApi(client, id, pred, what) {
  const c = await client.get(`/conversations/${id}`);
  assert(pred(c), `${what}: ${JSON.stringify({ state: c.state, priority: c.priority, team_id: c.team_id, assignee_id: c.assignee_id })}`);
}
