// SPDX-License-Identifier: MIT
// t01_reply.mjs - an agent answers a customer with a canned answer chosen by typing "/" in the
// composer, and the reply is stored.
import { ADMIN, ANNA, apiSession, assert, login, uniq, waitText } from './lib.mjs';

export async function agentRepliesWithCannedAnswer({ base, newPage }) {
  const anna = await apiSession(base, ANNA);
  const admin = await apiSession(base, ADMIN); // canned answers are kept by admins
  const shortcut = uniq('thx');
  await admin.post('/canned', {
    shortcut,
    title: 'Thanks for waiting',
    body: 'Hello {{contact.first_name}}, thank you for your patience. Best regards, {{agent.first_name}}',
  });

  const page = await newPage();
  await login(page, base, ANNA);
  // "Mine" is the first view: open its first conversation from the list, as a user would
  const row = page.getByTestId('conversation-row').first();
  await row.waitFor();
  const id = Number(await row.getAttribute('data-id'));
  await row.click();
  await page.getByTestId('timeline').waitFor();
  const conv = await anna.get(`/conversations/${id}`);
  await waitText(page.getByTestId('conv-title'), conv.subject || `#${id}`);
  const first = conv.contact.name.split(/\s+/)[0];

  // "/" plus the beginning of the shortcut offers the answer; Enter inserts it rendered
  const input = page.getByTestId('composer-input');
  await input.click();
  await input.pressSequentially(`/${shortcut.slice(0, 6)}`);
  const popup = page.getByTestId('canned-popup');
  await waitText(popup.getByTestId('canned-option'), shortcut);
  await input.press('ArrowDown');
  await input.press('ArrowUp');
  await popup.getByTestId('canned-option').filter({ hasText: shortcut }).click();
  const expected = `Hello ${first}, thank you for your patience. Best regards, Anna`;
  await page.waitForFunction(
    ([sel, text]) => document.querySelector(sel).value.includes(text),
    ['[data-testid=composer-input]', expected],
  );
  assert(!(await popup.isVisible()), 'the canned answer list closes after the choice');
  const marker = uniq('ref');
  await input.press('End');
  await input.pressSequentially(` (${marker})`);
  await page.getByTestId('send-btn').click();

  // the reply shows in the timeline, marked as a reply, and the composer is empty again
  const sent = page.getByTestId('message').filter({ hasText: marker });
  await sent.waitFor();
  assert((await sent.getAttribute('data-direction')) === 'out', 'the new message is a reply');
  await waitText(sent, expected);
  assert((await input.inputValue()) === '', 'the composer is cleared after sending');

  // and it is stored: the conversation read back through the API has it
  const after = await anna.get(`/conversations/${id}`);
  const stored = after.messages.find((m) => m.text.includes(marker));
  assert(stored, 'the reply is stored');
  assert(stored.direction === 'out' && stored.text === `${expected} (${marker})`, `stored text: ${stored.text}`);
  assert(stored.author_agent_id === anna.agent.id, 'the reply is Anna\'s');
}
