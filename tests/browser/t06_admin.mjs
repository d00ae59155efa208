// SPDX-License-Identifier: MIT
// t06_admin.mjs - admin pages: an inbox shows the widget snippet for this server; a new agent
// can be created and put into a team; canned answers are created, edited and deleted; signing out
// returns to the login screen, and so does a session ended elsewhere.
import { ADMIN, apiSession, assert, login, uniq, waitText } from './lib.mjs';

export async function adminSetupAndSignOut({ base, newPage }) {
  const page = await newPage();
  await login(page, base, ADMIN, undefined, '#/admin/inboxes');
  const snippet = page.getByTestId('widget-snippet').first();
  await waitText(snippet, `<script src="${base}/widget/v1/widget.js" data-inbox="`);

  // create an agent with a team and a password; he appears in the list
  await page.getByTestId('admin-agents').click();
  const email = `${uniq('new')}@example.com`;
  await page.getByTestId('agent-name').fill('Nora Neu');
  await page.getByTestId('agent-email').fill(email);
  await page.getByTestId('agent-password').fill('geheim-123');
  await page.getByTestId('agent-form').getByLabel('Kundenservice').check();
  await page.getByTestId('agent-create').click();
  await waitText(page.getByTestId('agents-table'), email);
  // a validation error is shown in words
  await page.getByTestId('agent-name').fill('Nora Doppelt');
  await page.getByTestId('agent-email').fill(email);
  await page.getByTestId('agent-create').click();
  await page.getByTestId('form-error').waitFor();

  // team membership: the new agent joins a second team
  const api = await apiSession(base, ADMIN);
  const nora = (await api.get('/agents')).items.find((a) => a.email === email);
  await page.getByTestId('admin-teams').click();
  const card = page.getByRole('region', { name: 'Buchhaltung' });
  await card.getByLabel('Nora Neu').check();
  await waitText(card, '3 members');
  const team = (await api.get('/teams')).items.find((tm) => tm.name === 'Buchhaltung');
  assert(team.members.includes(nora.id), 'the membership is stored');

  // canned answers: create, edit, delete
  await page.getByTestId('admin-canned').click();
  const shortcut = uniq('c');
  await page.getByTestId('canned-shortcut').fill(shortcut);
  await page.getByTestId('canned-title').fill('Opening hours');
  await page.getByTestId('canned-body').fill('Hi {{contact.first_name}}, we are there Mon-Fri 8-18.');
  await page.getByTestId('canned-save').click();
  const list = page.getByTestId('canned-list');
  await waitText(list, `/${shortcut}`);
  await page.getByRole('button', { name: `Edit /${shortcut}` }).click();
  await page.getByTestId('canned-title').fill('Opening hours (new)');
  await page.getByTestId('canned-save').click();
  await waitText(list, 'Opening hours (new)');
  await page.getByRole('button', { name: `Delete /${shortcut}` }).click();
  await page.getByRole('button', { name: 'Really delete?' }).click();
  await list.filter({ hasText: `/${shortcut}` }).waitFor({ state: 'hidden' });
  assert(!(await api.get(`/canned?q=${shortcut}`)).items.length, 'the canned answer is gone');

  // the new agent can sign in in another browser; signing out brings the login back
  const other = await newPage();
  await login(other, base, email, 'geheim-123');
  await other.getByTestId('user-menu').click();
  await other.getByTestId('logout').click();
  await other.getByTestId('login-form').waitFor();

  // the session ends behind the app's back (as when it expires): the app returns to the login
  await page.evaluate(async () => {
    const s = await (await fetch('/api/v1/session')).json();
    await fetch('/api/v1/session', { method: 'DELETE', headers: { 'X-CSRF-Token': s.csrf_token } });
  });
  await page.getByTestId('login-form').waitFor();
  assert(!(await page.getByTestId('user-menu').isVisible()), 'the workspace is gone');
}
