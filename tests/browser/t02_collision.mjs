// SPDX-License-Identifier: MIT
// t02_collision.mjs - two agents open the same conversation: each sees the other, and typing in
// one browser shows "typing" in the other.
import { ADMIN, ANNA, apiSession, login, waitText } from './lib.mjs';

export async function twoAgentsSeeEachOther({ base, newPage }) {
  const anna = await apiSession(base, ANNA);
  // a conversation of Anna's team, which the admin sees as well
  const team = anna.agent.teams[0];
  const { items } = await anna.get(`/conversations?team_id=${team}&state=open&limit=1`);
  const id = items[0].id;

  const adminPage = await newPage();
  const annaPage = await newPage();
  await login(adminPage, base, ADMIN, undefined, `#/inbox/all/${id}`);
  await login(annaPage, base, ANNA, undefined, `#/inbox/teams/${id}`);
  await adminPage.getByTestId('timeline').waitFor();
  await annaPage.getByTestId('timeline').waitFor();

  const adminSees = adminPage.getByTestId('collision');
  const annaSees = annaPage.getByTestId('collision');
  await waitText(adminSees, 'Anna Becker is also viewing');
  await waitText(annaSees, 'Demo Admin is also viewing');

  // Anna types: the admin is told, by first name
  await annaPage.getByTestId('composer-input').pressSequentially('Hallo, ich schaue gleich nach', { delay: 20 });
  await waitText(adminSees, 'Anna is typing');
  // nobody sees himself
  const own = await annaSees.textContent();
  if (/Anna/.test(own)) throw new Error(`Anna sees herself in the collision warning: ${own}`);

  // the admin leaves the conversation: Anna no longer sees him
  await adminPage.getByTestId('view-all').click();
  await adminPage.getByTestId('conversation-list').waitFor();
  await annaSees.filter({ hasText: 'Demo Admin' }).waitFor({ state: 'hidden' });
}
