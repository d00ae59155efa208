// SPDX-License-Identifier: MIT
// t15_composer_files.mjs - agents attach files in the composer. Two files (one binary, one text)
// chosen through the file picker go with a reply that has no text; the timeline lists them as
// downloads and the API gives back exactly the bytes attached. A selection over the limits (one
// file over 10 MiB, eleven files) is refused before anything is sent, with the reason shown;
// removing files by keyboard clears it. A file the server refuses (its name too long) leaves the
// text and the files in the composer with the server's reason; corrected, they go as a note.
// Files dropped on the composer and pasted screenshots are attached too.
import { readFileSync } from 'node:fs';
import { ADMIN, apiInbox, apiSession, apiToken, assert, login, uniq, waitText } from './lib.mjs';

const MiB = 1024 * 1024;

/** A new conversation on the API channel, opened in a signed-in workspace. */
async function openConversation({ base, newPage }, label) {
  const admin = await apiSession(base, ADMIN);
  const bot = await apiToken(base, admin, `files-${label}`);
  const inbox = await apiInbox(admin);
  const token = uniq(label);
  const { conversation_id: id } = await bot.post(`/inboxes/${inbox}/messages`, {
    sender: { kind: 'email', value: `${token}@example.com`, name: `Files ${token}` },
    subject: `Files ${token}`,
    text: `Please send me the documents (${token})`,
  });
  const page = await newPage();
  await login(page, base, ADMIN, undefined, `#/inbox/all/${id}`);
  await page.getByTestId('composer').waitFor();
  return { admin, id, token, page };
}

/** Every byte value, then some more: a binary file that survives no text mangling. */
function binary(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

const fileNames = (page) => page.getByTestId('composer-file').locator('.att-name').allTextContents();

export async function replyWithTwoFiles(ctx) {
  const { admin, id, token, page } = await openConversation(ctx, 'two');
  const photo = { name: `data-${token}.bin`, mimeType: 'application/octet-stream', buffer: binary(3000) };
  const notes = { name: `notes-${token}.txt`, mimeType: 'text/plain',
    buffer: Buffer.from(`Grüße aus Köln – ${token}\r\nLine two\n`, 'utf8') };
  const input = page.getByTestId('composer-file-input');
  const send = page.getByTestId('send-btn');
  assert(await send.isDisabled(), 'nothing to send yet');

  // the picker is reached by a labelled button; the chosen files are listed with their sizes
  await waitText(page.getByTestId('attach-btn'), 'Attach files');
  await input.setInputFiles([photo, notes]);
  const list = page.getByTestId('composer-files');
  await waitText(list.getByTestId('composer-file'), photo.name);
  await waitText(list.getByTestId('composer-file').filter({ hasText: photo.name }), '2.9 KB');
  await waitText(list.getByTestId('composer-file').filter({ hasText: notes.name }), `${notes.buffer.length} B`);

  // a third one, then removed again by keyboard
  await input.setInputFiles({ name: 'extra.txt', mimeType: 'text/plain', buffer: Buffer.from('not this one') });
  await waitText(list.getByTestId('composer-file'), 'extra.txt');
  assert((await fileNames(page)).length === 3, 'a second choice adds to the first');
  const remove = page.getByRole('button', { name: 'Remove extra.txt' });
  await remove.focus();
  await page.keyboard.press('Enter');
  await list.getByTestId('composer-file').filter({ hasText: 'extra.txt' }).waitFor({ state: 'detached' });
  assert(JSON.stringify(await fileNames(page)) === JSON.stringify([photo.name, notes.name]),
    `the two files are left: ${await fileNames(page)}`);
  const focused = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
  assert(focused === `Remove ${notes.name}`, `the focus stays in the list, not on the page: ${focused}`);

  // no text: the files alone are a reply
  assert(await send.isEnabled(), 'files without text can be sent');
  await send.click();
  const sent = page.locator('[data-testid=message][data-direction=out]')
    .filter({ has: page.getByTestId('attachment-link').filter({ hasText: photo.name }) });
  await sent.waitFor();
  await waitText(sent.getByTestId('attachment-link'), notes.name);
  await list.waitFor({ state: 'detached' });
  assert((await page.getByTestId('composer-error').count()) === 0, 'no error');

  // the API has the reply with both attachments, byte for byte
  const conv = await admin.get(`/conversations/${id}`);
  const msg = conv.messages.find((m) => m.direction === 'out' && (m.attachments || []).length);
  assert(msg, `the reply is stored with its attachments: ${JSON.stringify(conv.messages.map((m) => m.attachments))}`);
  assert(msg.text === '', `the reply has no text: ${JSON.stringify(msg.text)}`);
  assert(msg.author_agent_id === admin.agent.id, 'the reply is the admin\'s');
  const byName = Object.fromEntries(msg.attachments.map((a) => [a.filename, a]));
  assert(msg.attachments.length === 2 && byName[photo.name] && byName[notes.name],
    `both files: ${JSON.stringify(msg.attachments)}`);
  for (const f of [photo, notes]) {
    const a = byName[f.name];
    assert(a.size === f.buffer.length, `${f.name}: size ${a.size}, attached ${f.buffer.length}`);
    assert(a.content_type.startsWith(f.mimeType), `${f.name}: type ${a.content_type}`);
    const got = await admin.download(`/attachments/${a.id}`);
    assert(got.status === 200 && got.bytes.equals(f.buffer), `${f.name}: the download is what was attached`);
  }
  // and the link in the timeline downloads the same bytes
  const [dl] = await Promise.all([page.waitForEvent('download'),
    sent.getByTestId('attachment-link').filter({ hasText: photo.name }).click()]);
  assert(dl.suggestedFilename() === photo.name, `download name: ${dl.suggestedFilename()}`);
  assert(readFileSync(await dl.path()).equals(photo.buffer), 'the timeline link downloads the attached bytes');
}

export async function selectionOverTheLimitsIsRefused(ctx) {
  const { admin, id, token, page } = await openConversation(ctx, 'big');
  const input = page.getByTestId('composer-file-input');
  const send = page.getByTestId('send-btn');
  const problem = page.getByTestId('composer-files-error');
  const text = page.getByTestId('composer-input');
  await text.fill(`Here are the files (${token})`);

  // one byte over what the session says a message can carry: the reason shows at once and
  // nothing can be sent
  const max = (await admin.get('/session')).limits.attachment_bytes;
  assert(max > 0 && max <= 10 * MiB, `the session's attachment limit: ${max}`);
  await input.setInputFiles([
    { name: 'small.txt', mimeType: 'text/plain', buffer: Buffer.from('small') },
    { name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(max + 1 - 5, 0x61) },
  ]);
  const mb = (n, round) => `${(round(n / (MiB / 10)) / 10).toFixed(1)} MB`;
  await waitText(problem, `The files come to ${mb(max + 1, Math.ceil)}: at most ${mb(max, Math.floor)} go with one message`);
  assert((await problem.getAttribute('role')) === 'alert', 'the reason is announced');
  assert(await send.isDisabled(), 'the send button is disabled while the files are too large');
  await text.press('Control+Enter');
  await page.waitForTimeout(300);
  // the big one removed, the rest can go
  await page.getByRole('button', { name: 'Remove huge.bin' }).click();
  await problem.waitFor({ state: 'detached' });
  assert(JSON.stringify(await fileNames(page)) === '["small.txt"]', 'only the small file is left');
  assert(await send.isEnabled(), 'sendable again');

  // eleven files: too many
  await input.setInputFiles(Array.from({ length: 10 }, (_, i) =>
    ({ name: `part-${i + 1}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`part ${i + 1} ${token}`) })));
  await waitText(problem, '11 files chosen: at most 10 go with one message');
  assert(await send.isDisabled(), 'the send button is disabled with too many files');
  const after = await admin.get(`/conversations/${id}`);
  assert(!after.messages.some((m) => m.direction === 'out'), 'nothing was sent while the files were refused');
  await page.getByRole('button', { name: 'Remove small.txt' }).click();
  await problem.waitFor({ state: 'detached' });

  // ten files go
  await send.click();
  await page.getByTestId('composer-files').waitFor({ state: 'detached' });
  const sent = page.locator('[data-testid=message][data-direction=out]').filter({ hasText: token });
  await sent.waitFor();
  await waitText(sent.getByTestId('attachment-link'), 'part-10.txt');
  const conv = await admin.get(`/conversations/${id}`);
  const msg = conv.messages.find((m) => m.direction === 'out');
  assert(msg && msg.attachments.length === 10, `ten attachments: ${JSON.stringify(msg && msg.attachments)}`);
  assert((await text.inputValue()) === '', 'the text is cleared after sending');
}

export async function serverRefusalKeepsTheFiles(ctx) {
  const { admin, id, token, page } = await openConversation(ctx, 'refused');
  const input = page.getByTestId('composer-file-input');
  const long = `${'x'.repeat(300)}.txt`; // the API takes file names of up to 255 bytes
  await page.getByTestId('mode-note').click();
  await page.getByTestId('composer-input').fill(`Contract attached (${token})`);
  await input.setInputFiles([
    { name: long, mimeType: 'text/plain', buffer: Buffer.from('named too long') },
    { name: 'contract.pdf', mimeType: 'application/pdf', buffer: Buffer.from(`%PDF-1.4 ${token}`) },
  ]);
  await page.getByTestId('send-btn').click();
  await waitText(page.getByTestId('composer-error'), 'File name is too long');
  assert((await fileNames(page)).length === 2, 'the files stay after the server refused them');
  assert((await page.getByTestId('composer-input').inputValue()).includes(token), 'the text stays too');
  let conv = await admin.get(`/conversations/${id}`);
  assert(!conv.messages.some((m) => m.direction === 'note'), 'nothing was stored');

  await page.getByRole('button', { name: `Remove ${long}` }).click();
  assert((await page.getByTestId('composer-error').count()) === 0, 'the error goes with the file');
  await page.getByTestId('send-btn').click();
  const note = page.locator('[data-testid=message][data-direction=note]').filter({ hasText: token });
  await note.waitFor();
  await waitText(note.getByTestId('attachment-link'), 'contract.pdf');
  await page.getByTestId('composer-files').waitFor({ state: 'detached' });
  conv = await admin.get(`/conversations/${id}`);
  const stored = conv.messages.find((m) => m.direction === 'note');
  assert(stored && stored.attachments.length === 1 && stored.attachments[0].filename === 'contract.pdf',
    `the note has the pdf: ${JSON.stringify(stored)}`);
  const got = await admin.download(`/attachments/${stored.attachments[0].id}`);
  assert(got.bytes.toString() === `%PDF-1.4 ${token}`, 'the pdf is what was attached');
}

export async function droppedAndPastedFilesAreAttached(ctx) {
  const { admin, id, token, page } = await openConversation(ctx, 'drop');
  const composer = page.getByTestId('composer');
  // a file dragged over the composer: it says where to drop; dropped, it is listed
  await composer.evaluate((el, name) => {
    const dt = new DataTransfer();
    dt.items.add(new File([`dropped ${name}`], name, { type: 'text/plain' }));
    el.querySelector('textarea').dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, `dropped-${token}.txt`);
  await waitText(composer, 'Drop files here to attach them');
  await composer.evaluate((el, name) => {
    const dt = new DataTransfer();
    dt.items.add(new File([`dropped ${name}`], name, { type: 'text/plain' }));
    el.querySelector('textarea').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, `dropped-${token}.txt`);
  await waitText(page.getByTestId('composer-file'), `dropped-${token}.txt`);
  assert(!(await composer.getByText('Drop files here to attach them').count()), 'the drop hint goes');

  // two screenshots pasted (both called image.png by the browser), then text that came with a
  // picture of itself: the text is not turned into a file
  const paste = (withText) => page.getByTestId('composer-input').evaluate((el, [png, text]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(png)], 'image.png', { type: 'image/png' }));
    if (text) dt.setData('text/plain', 'copied words');
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, [[137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3], withText]);
  await paste(false);
  await paste(false);
  await paste(true);
  await waitText(page.getByTestId('composer-file'), 'image-2.png');
  const names = await fileNames(page);
  assert(JSON.stringify(names) === JSON.stringify([`dropped-${token}.txt`, 'image.png', 'image-2.png']),
    `dropped and pasted: ${names}`);

  await page.getByTestId('composer-input').fill(`Screenshots (${token})`);
  await page.getByTestId('send-btn').click();
  const sent = page.locator('[data-testid=message][data-direction=out]').filter({ hasText: token });
  await sent.waitFor();
  await waitText(sent.getByTestId('attachment-link'), 'image-2.png');
  const conv = await admin.get(`/conversations/${id}`);
  const msg = conv.messages.find((m) => m.direction === 'out');
  assert(JSON.stringify(msg.attachments.map((a) => a.filename)) === JSON.stringify(names),
    `the reply has the three files: ${JSON.stringify(msg.attachments)}`);
}
