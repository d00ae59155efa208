// SPDX-License-Identifier: MIT
// t10_widget_chat.mjs - the website chat widget end to end: a guest on the demo shop opens the
// widget and writes; an agent in the workspace sees the new chat appear without reloading and
// answers; the visitor sees the answer; his next message appears in the agent's timeline live;
// after a reload of the shop page the whole chat is still there.
import { ANNA, assert, login, openWidget, uniq, waitText, widgetSay } from './lib.mjs';

export async function visitorAndAgentChat({ base, newPage }) {
  const agent = await newPage();
  await login(agent, base, ANNA, undefined, '#/inbox/teams');
  await agent.getByTestId('conversation-list').waitFor();

  const shop = await newPage({ locale: 'de-DE' });
  await shop.goto(`${base}/demo/shop?guest=1`);
  let chat = await openWidget(shop);
  await waitText(chat.getByTestId('chat-greeting'), 'Wie können wir Ihnen helfen?');
  const marker = uniq('chat');
  const first = `Hallo, wann wird meine Bestellung geliefert? (${marker})`;
  await widgetSay(chat, first);

  // the agent's list shows the new chat by itself; she opens it
  const row = agent.getByTestId('conversation-row').filter({ hasText: marker });
  await row.waitFor({ timeout: 15_000 });
  await row.click();
  const timeline = agent.getByTestId('timeline');
  await waitText(timeline.getByTestId('message'), first);
  const answer = `Hallo! Ihr Paket ist unterwegs und kommt morgen. (${uniq('re')})`;
  await agent.getByTestId('composer-input').fill(answer);
  await agent.getByTestId('send-btn').click();
  await waitText(timeline.getByTestId('message'), answer);

  // the visitor sees the answer, from Anna
  const reply = chat.locator('[data-testid=chat-message][data-direction=out]').filter({ hasText: answer });
  await reply.waitFor();
  await waitText(reply, 'Anna');

  // his next message appears in the open conversation without a reload
  const second = `Super, vielen Dank! (${uniq('thx')})`;
  await widgetSay(chat, second);
  await waitText(timeline.getByTestId('message'), second);

  // a reload keeps the chat: the token is in the widget's storage
  await shop.reload();
  chat = await openWidget(shop);
  const log = chat.getByTestId('chat-log');
  for (const text of [first, answer, second]) await waitText(log.getByTestId('chat-message'), text);
  const texts = await log.getByTestId('chat-message').allTextContents();
  const at = (s) => texts.findIndex((x) => x.includes(s));
  assert(at(first) < at(answer) && at(answer) < at(second), `history in order: ${texts.join(' | ')}`);
}
