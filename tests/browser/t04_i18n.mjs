// SPDX-License-Identifier: MIT
// t04_i18n.mjs - a browser set to German gets the German workspace (also for a failed login);
// switching to English changes every label at once and is remembered across a reload.
import { ANNA, PASSWORD, assert, waitText } from './lib.mjs';

export async function germanUiAndSwitchToEnglish({ base, newPage }) {
  const page = await newPage({ locale: 'de-DE' });
  await page.goto(`${base}/`);
  await waitText(page.locator('h1'), 'Anmelden');
  assert((await page.getAttribute('html', 'lang')) === 'de', 'the page says it is German');

  // a wrong password is explained in German
  await page.getByLabel('E-Mail').fill(ANNA);
  await page.getByLabel('Passwort').fill('falsch-falsch');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await waitText(page.getByRole('alert'), 'E-Mail oder Passwort ist falsch.');

  await page.getByLabel('Passwort').fill(PASSWORD);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  const nav = page.getByRole('navigation', { name: 'Ansichten' });
  await waitText(nav, 'Nicht zugewiesen');
  await waitText(nav, 'Wartet auf Antwort');
  await waitText(page.getByTestId('conversation-list'), 'Meine');
  await page.getByTestId('conversation-row').first().click();
  await waitText(page.getByTestId('composer'), 'Interne Notiz');
  await waitText(page.getByTestId('customer-panel'), 'Identitäten');

  // switch to English in the top bar
  await page.getByRole('combobox', { name: 'Sprache' }).first().selectOption('en');
  const navEn = page.getByRole('navigation', { name: 'Views' });
  await waitText(navEn, 'Unassigned');
  await waitText(navEn, 'Waiting for an answer');
  await waitText(page.getByTestId('composer'), 'Internal note');
  await waitText(page.getByTestId('customer-panel'), 'Identities');
  assert(!(await page.getByText('Nicht zugewiesen').first().isVisible().catch(() => false)), 'no German left in the navigation');
  assert((await page.getAttribute('html', 'lang')) === 'en', 'the page says it is English');

  // remembered: a reload of the German browser stays English
  await page.reload();
  await waitText(page.getByRole('navigation', { name: 'Views' }), 'Mine');
}
