// SPDX-License-Identifier: MIT
// t13_widget_typing.mjs - typing shows both ways: the customer types in the widget and the agent
// viewing his chat sees "Customer is typing…"; the agent types a reply and the widget shows
// "Anna schreibt …"; both go away when the typing stops.
import { ANNA, apiSession, findChat, login, openWidget, uniq, waitText, widgetSay } from './lib.mjs';

export async function typingShowsBothWays({ base, newPage }) {
  const anna = await apiSession(base, ANNA);
  const shop = await newPage({ locale: 'de-DE' });
  await shop.goto(`${base}/demo/shop?guest=1`);
  const chat = await openWidget(shop);
  const marker = uniq('typing');
  await widgetSay(chat, `Eine Frage zu den Versandkosten (${marker})`);
  const conv = await findChat(anna, marker);

  const agent = await newPage();
  // the typing frames the agent app sends on its stream
  const typingFrames = [];
  agent.on('websocket', (ws) => ws.on('framesent', (f) => {
    if (typeof f.payload === 'string' && f.payload.includes('"typing"')) typingFrames.push(f.payload);
  }));
  await login(agent, base, ANNA, undefined, `#/inbox/teams/${conv.id}`);
  await agent.getByTestId('timeline').waitFor();
  const collision = agent.getByTestId('collision');

  // the customer types
  await chat.getByTestId('chat-input').pressSequentially('Und was kostet der Versand nach', { delay: 30 });
  await waitText(collision.getByTestId('customer-typing'), 'Customer is typing');
  // ... and clears his draft: the agent stops seeing it
  await chat.getByTestId('chat-input').fill('');
  await collision.getByTestId('customer-typing').waitFor({ state: 'hidden' });

  // an internal note is not for the customer: writing one announces no typing at all
  await agent.getByTestId('mode-note').click();
  await agent.getByTestId('composer-input').pressSequentially('Kunde fragt nach Versand', { delay: 20 });
  if (typingFrames.length) throw new Error(`typing a note sent ${typingFrames.length} typing frames`);
  await agent.getByTestId('composer-input').fill('');
  await agent.getByTestId('mode-reply').click();

  // the agent types a reply
  await agent.getByTestId('composer-input').pressSequentially('Hallo, der Versand kostet', { delay: 30 });
  const typing = chat.getByTestId('chat-typing');
  await waitText(typing, 'Anna schreibt');
  // she leaves the conversation: the widget stops showing it
  await agent.getByTestId('view-teams').click();
  await typing.waitFor({ state: 'hidden' });
}
