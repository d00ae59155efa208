// SPDX-License-Identifier: MIT
// t09_a11y.mjs - every control on the main screens has an accessible name, keyboard focus is
// visible, new messages are announced (live regions), and the phone layout shows one pane at
// a time.
import { ADMIN, assert, login } from './lib.mjs';

/** Controls without an accessible name, described for the failure message. */
function unnamedControls() {
  const out = [];
  const named = (el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.getAttribute('title')) return true;
    if (el.labels && [...el.labels].some((l) => l.textContent.trim())) return true;
    if ((el.tagName === 'BUTTON' || el.tagName === 'A') && el.textContent.trim()) return true;
    return false;
  };
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href]')) {
    if (el.closest('[data-testid=msg-html]')) continue; // customer content
    const r = el.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    if (!named(el)) out.push(el.outerHTML.slice(0, 120));
  }
  return out;
}

async function checkNames(page, where) {
  const bad = await page.evaluate(unnamedControls);
  assert(bad.length === 0, `controls without a name ${where}: ${bad.join(' | ')}`);
}

export async function controlsAreLabelledAndFocusIsVisible({ base, newPage }) {
  const page = await newPage();
  await page.goto(`${base}/`);
  await page.getByTestId('login-form').waitFor();
  await checkNames(page, 'on the login');
  await login(page, base, ADMIN, undefined, '#/inbox/all');
  await page.getByTestId('conversation-row').first().click();
  await page.getByTestId('timeline').waitFor();
  await page.getByTestId('customer-panel').getByTestId('contact-history').waitFor();
  await checkNames(page, 'in the inbox');
  const live = await page.getByTestId('timeline').getAttribute('aria-live');
  assert(live === 'polite' && (await page.getByTestId('timeline').getAttribute('role')) === 'log', 'the timeline is a live log');
  assert((await page.getByTestId('collision').getAttribute('aria-live')) === 'polite', 'collision changes are announced');

  // keyboard focus is visible: Tab from the search box lands on a control with an outline
  await page.getByTestId('search-input').focus();
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  });
  assert(outline, 'the focused control shows a focus outline');

  for (const section of ['agents', 'teams', 'inboxes', 'canned']) {
    await page.getByTestId(`admin-${section}`).click();
    await page.getByTestId(`admin-page-${section}`).waitFor();
    await page.locator('.card').first().waitFor();
    await checkNames(page, `on the ${section} page`);
  }

  // phone width: the list alone, then the conversation alone with a way back
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/#/inbox/all`);
  const list = page.getByTestId('conversation-list');
  await list.waitFor();
  await page.getByTestId('conversation-row').first().click();
  await page.getByTestId('timeline').waitFor();
  assert(!(await list.isVisible()), 'on a phone the list hides while a conversation is open');
  await page.getByRole('button', { name: 'Back' }).first().click();
  await list.waitFor();
  await checkNames(page, 'on a phone');
}
