// SPDX-License-Identifier: MIT
// t14_email.mjs - the email channel in the workspace. Mails are delivered over LMTP, as a mail
// server would, to an email inbox made through the API or the admin page; Chromium then shows
// an HTML mail with its formatting and its inline image (and nothing of the script in it), its
// header, flags and threading, the source download, moving a mail to another conversation, and
// a reply that waits in the outbox (no SMTP server is configured here) with the delivery state
// the API reports, updated live. A reply by email to a customer without an address is refused
// with a clear message; the admin page sets up an inbox and lists the mails it kept.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { ADMIN, apiInbox, apiSession, apiToken, assert, lmtpDeliver, login, uniq, waitText } from './lib.mjs';

const RUN = 'window.__xss=1;alert(1)';

/** A w x h PNG of one colour (for an inline image that visibly loads). */
function png(w, h, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const x of buf) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => [r, g, b]).flat())]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const base64Lines = (buf) => buf.toString('base64').replace(/.{1,76}/g, '$&\n');

/** An email inbox receiving at address, made through the API. */
async function emailInbox(admin, address) {
  const inbox = await admin.post('/inboxes', { name: `Mail ${address}`, channel: 'email' });
  await admin.put(`/inboxes/${inbox.id}/email`, { address });
  return inbox.id;
}

/** The conversation of the inbox whose subject contains marker, as the API sees it. */
async function conversationWith(client, inboxId, marker, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const { items } = await client.get(`/conversations?inbox_id=${inboxId}&limit=50`);
    const c = items.find((x) => (x.subject || '').includes(marker));
    if (c) return client.get(`/conversations/${c.id}`);
    if (Date.now() > deadline) throw new Error(`no conversation with "${marker}" in inbox ${inboxId}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function until(what, fn, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export async function emailConversationInTheWorkspace({ base, lmtp, newContext, artifactDir, log }) {
  assert(lmtp, 'the server said where its LMTP server listens');
  const admin = await apiSession(base, ADMIN);
  const token = uniq('mail');
  const support = `support-${token}@shop.example`;
  const erika = `erika.${token}@example.com`;
  const paul = `paul.${token}@example.org`;
  const inboxId = await emailInbox(admin, support);
  const cid = `damage.${token}@example.com`;
  const image = png(48, 32, [200, 30, 30]);
  const hostile = [
    `<script>${RUN}</script>`,
    `<img src=x onerror="${RUN}">`,
    `<img src="cid:nothing-${token}" onerror="${RUN}">`,
    `<a href="javascript:${RUN}">js link</a>`,
    `<svg onload="${RUN}"><circle r="5"/></svg>`,
    `<div style="background:url(javascript:${RUN})" onclick="${RUN}">styled</div>`,
    `<iframe srcdoc="<script>parent.__xss=1;parent.alert(1)</script>"></iframe>`,
  ].join('\n');

  // 1. a new conversation: HTML with an inline image (multipart/related), a forwarded mail
  await lmtpDeliver(lmtp, {
    from: erika,
    to: support,
    data: `From: "Erika Muster" <${erika}>
To: Support <${support}>
Cc: "Max Muster" <max.${token}@example.com>
Subject: Order ${token} arrived broken
Message-ID: <a1.${token}@example.com>
Date: ${new Date().toUTCString().replace('GMT', '+0000')}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix-${token}"

--mix-${token}
Content-Type: multipart/related; boundary="rel-${token}"

--rel-${token}
Content-Type: text/html; charset=utf-8

<html><head><style>p { color: red }</style></head><body>
<p>Hello, <b>my order ${token}</b> arrived <i>broken</i>:</p>
<ul><li>one cup</li><li>two plates</li></ul>
<p><img src="cid:${cid}" alt="photo of the damage"></p>
${hostile}
<p><a href="https://example.com/order">my order</a></p>
</body></html>
--rel-${token}
Content-Type: image/png; name="damage.png"
Content-Transfer-Encoding: base64
Content-ID: <${cid}>
Content-Disposition: inline; filename="damage.png"

${base64Lines(image)}--rel-${token}--
--mix-${token}
Content-Type: message/rfc822

From: shop@shop.example
To: ${erika}
Subject: Your order ${token} has shipped
Message-ID: <ship.${token}@shop.example>

Your parcel is on its way.
--mix-${token}--
`,
  });
  // 2. an out-of-office answer to it: threaded by In-Reply-To, flagged automatic
  await lmtpDeliver(lmtp, {
    from: erika,
    to: support,
    data: `From: ${erika}
To: ${support}
Subject: Automatic reply: Re: Order ${token} arrived broken
Message-ID: <a2.${token}@example.com>
In-Reply-To: <a1.${token}@example.com>
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday (${token}-ooo).
`,
  });
  // 3. another customer's own conversation, then 4. a mail of the first customer about his
  // matter that names her conversation's number in its subject: threaded there by the subject
  // tag (a tag counts only from the conversation's own customer), and moved by the agent
  await lmtpDeliver(lmtp, {
    from: paul,
    to: support,
    data: `From: Paul Beispiel <${paul}>
To: ${support}
Subject: Invoice ${token}-paul
Message-ID: <p1.${token}@example.org>

Where is my invoice?
`,
  });
  const convA = await conversationWith(admin, inboxId, `Order ${token}`);
  const convB = await conversationWith(admin, inboxId, `Invoice ${token}-paul`);
  await lmtpDeliver(lmtp, {
    from: erika,
    to: support,
    data: `From: "Erika Muster" <${erika}>
To: ${support}
Subject: Invoice for Paul again [#${convA.id}]
Message-ID: <p2.${token}@example.org>

.A line with a leading dot (${token}-dot), and still no invoice.
`,
  });
  const a = await until('four mails in conversation A', async () => {
    const c = await admin.get(`/conversations/${convA.id}`);
    return c.messages.length >= 3 && c;
  });
  const [m1, m2, m3] = a.messages;
  assert(m1.email && m1.email.thread_rule === 'new', `mail 1 opened the conversation: ${JSON.stringify(m1.email)}`);
  assert(m2.email && m2.email.thread_rule === 'in_reply_to', `mail 2 threaded by In-Reply-To: ${JSON.stringify(m2.email)}`);
  assert(m3.email && m3.email.thread_rule === 'subject_tag', `mail 3 threaded by the subject tag: ${JSON.stringify(m3.email)}`);
  assert(m3.text.includes(`.A line with a leading dot (${token}-dot)`), `the dot-stuffed line arrives as written: ${m3.text}`);
  const inlineAtt = m1.attachments.find((x) => x.content_id === cid);
  assert(inlineAtt, `the inline image is an attachment with its Content-ID: ${JSON.stringify(m1.attachments)}`);

  const ctx = await newContext({ bypassCSP: true });
  const page = await ctx.newPage();
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  await login(page, base, ADMIN, undefined, `#/inbox/all/${convA.id}`);
  const timeline = page.getByTestId('timeline');
  const msg1 = timeline.locator(`[data-testid=message][data-id="${m1.id}"]`);
  await msg1.waitFor();

  // the HTML with its formatting, its link, and the inline image loaded from the attachment
  const html = msg1.getByTestId('msg-html');
  await waitText(html.locator('b'), `my order ${token}`);
  assert(await html.locator('i', { hasText: 'broken' }).isVisible(), 'italics survive');
  assert((await html.locator('ul > li').count()) === 2, 'the list survives');
  const link = html.locator('a', { hasText: 'my order' });
  assert((await link.getAttribute('href')) === 'https://example.com/order', 'the link keeps its href');
  assert((await link.getAttribute('target')) === '_blank', 'the link opens in a new tab');
  const img = html.locator('img[alt="photo of the damage"]');
  await img.scrollIntoViewIfNeeded();
  assert((await img.getAttribute('src')) === `/api/v1/attachments/${inlineAtt.id}`,
    `the cid: image points at its attachment: ${await img.getAttribute('src')}`);
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  assert((await img.evaluate((el) => el.naturalWidth)) === 48, 'the inline image is the PNG of the mail');
  assert((await msg1.getByTestId('attachment-link').filter({ hasText: 'damage.png' }).count()) === 0,
    'the inline image is not listed again as an attachment');

  // nothing of the hostile markup ran or is left
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  assert((await page.evaluate(() => window.__xss)) === undefined, 'no script of the mail ran');
  assert(dialogs.length === 0, `no dialog opened: ${dialogs.join(', ')}`);
  const bad = await html.evaluate((root) => {
    const found = [];
    for (const el of root.querySelectorAll('*')) {
      if (/^(script|iframe|svg|style|object|embed|form)$/i.test(el.tagName)) found.push(el.tagName);
      for (const at of el.attributes) {
        if (/^on/i.test(at.name) || at.name === 'style' || /^\s*javascript:/i.test(at.value)) found.push(`${el.tagName} ${at.name}`);
      }
    }
    return found;
  });
  assert(bad.length === 0, `dangerous markup in the mail: ${bad.join(', ')}`);

  // the header: from, to, cc (the subject is the conversation's, so not repeated)
  const head = msg1.getByTestId('mail-head');
  await waitText(head.locator('[data-field=from]'), erika);
  await waitText(head.locator('[data-field=to]'), support);
  await waitText(head.locator('[data-field=cc]'), `max.${token}@example.com`);
  assert((await head.locator('[data-field=subject]').count()) === 0, 'the same subject is not repeated');
  // flags and threading
  await waitText(msg1.locator('[data-flag=forwarded]'), 'forwarded');
  await waitText(msg1.getByTestId('thread-rule'), 'new conversation');
  const msg2 = timeline.locator(`[data-testid=message][data-id="${m2.id}"]`);
  await waitText(msg2.locator('[data-flag=auto_reply]'), 'Automatic reply');
  await waitText(msg2.getByTestId('thread-rule'), 'Threaded by In-Reply-To');
  await waitText(msg2.locator('[data-field=subject]'), 'Automatic reply: Re: Order');
  const msg3 = timeline.locator(`[data-testid=message][data-id="${m3.id}"]`);
  await waitText(msg3.getByTestId('thread-rule'), 'conversation number in the subject');
  await waitText(msg3.locator('[data-field=from]'), erika);
  await msg1.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artifactDir, 't14_email-html-mail.png') });

  // the source: a download of the mail as received
  assert(m1.email.has_raw, 'the API says mail 1 has its source');
  const [download] = await Promise.all([page.waitForEvent('download'), msg1.getByTestId('raw-link').click()]);
  const raw = readFileSync(await download.path(), 'utf8');
  assert(raw.includes(`Message-ID: <a1.${token}@example.com>`), 'the download is the raw mail');
  assert(raw.includes(`Content-ID: <${cid}>`), 'the download is the whole raw mail');

  // moving: a wrong number is refused with the server's error, then mail 3 goes to Paul's
  await msg3.getByTestId('move-btn').click();
  const dialog = page.getByTestId('move-dialog');
  await dialog.getByTestId('move-input').fill('999999999');
  await dialog.getByTestId('move-submit').click();
  await waitText(dialog.getByTestId('form-error'), 'Not found');
  await dialog.getByTestId('move-input').fill(String(convB.id));
  await dialog.getByTestId('move-submit').click();
  await dialog.waitFor({ state: 'detached' });
  await msg3.waitFor({ state: 'detached' });
  await waitText(page.getByTestId('toast'), `conversation #${convB.id}`);
  const movedB = await admin.get(`/conversations/${convB.id}`);
  const moved = movedB.messages.find((x) => x.id === m3.id);
  assert(moved && moved.email.thread_rule === 'moved', 'the API has mail 3 in Paul\'s conversation, marked moved');
  assert(!(await admin.get(`/conversations/${convA.id}`)).messages.some((x) => x.id === m3.id), 'and no longer in the first');

  // the reply box says where a reply goes: to the sender of the last mail
  await waitText(page.getByTestId('reply-by-email'), `by email to ${erika}`);
  const marker = uniq('answer');
  await page.getByTestId('composer-input').fill(`Sorry to hear that! We send a new cup. ${marker}`);
  await page.getByTestId('send-btn').click();
  const reply = timeline.getByTestId('message').filter({ hasText: marker });
  await reply.waitFor();
  assert((await reply.getAttribute('data-direction')) === 'out', 'the reply is shown as a reply');
  // a delivery state shows at once: "Queued", or already the first attempt's result (the
  // outbox looks every 250 ms, and without an SMTP server the attempt fails at once)
  await reply.getByTestId('delivery').waitFor();
  await waitText(page.getByTestId('toast'), 'by email');
  // the outbox tries at once; without an SMTP server the attempt fails and is retried later:
  // the page shows what the API says, after the stream's message.updated
  const replyId = Number(await reply.getAttribute('data-id'));
  const stored = await until('the first delivery attempt', async () => {
    const c = await admin.get(`/conversations/${convA.id}`);
    const m = c.messages.find((x) => x.id === replyId);
    return m && m.delivery && m.delivery.attempts >= 1 && m;
  });
  log(`delivery after the first attempt: ${JSON.stringify(stored.delivery)}`);
  assert(stored.email && stored.email.to === erika, `the reply is addressed to Erika: ${JSON.stringify(stored.email)}`);
  const delivery = reply.getByTestId('delivery');
  await page.waitForFunction(([sel, state]) => {
    const el = document.querySelector(sel);
    return el && el.dataset.state === state && el.querySelector('[data-testid=delivery-error]');
  }, [`[data-testid=message][data-id="${replyId}"] [data-testid=delivery]`, stored.delivery.state]);
  await waitText(delivery.getByTestId('delivery-error'), stored.delivery.error);
  await waitText(delivery, stored.delivery.state === 'queued' ? 'next attempt' : stored.delivery.state === 'failed' ? 'Not delivered' : 'Sent');
  await waitText(delivery, '1 attempt');

  // Paul's conversation shows the moved mail, marked so
  await page.goto(`${base}/#/inbox/all/${convB.id}`);
  const there = page.locator(`[data-testid=message][data-id="${m3.id}"]`);
  await waitText(there.getByTestId('thread-rule'), 'Moved here by an agent');
  await waitText(there, `${token}-dot`);
  assert((await page.evaluate(() => window.__xss)) === undefined && dialogs.length === 0, 'still nothing ran');
}

export async function replyByEmailThatCannotGoIsExplained({ base, newPage }) {
  // a customer of the API channel with an email address; no email inbox here has an SMTP server
  // (this suite configures none), so a reply by email has no way out: 409 no_email_address
  const admin = await apiSession(base, ADMIN);
  const bot = await apiToken(base, admin, 'email-409');
  const inbox = await apiInbox(admin);
  const token = uniq('noway');
  const address = `${token}@example.com`;
  const { conversation_id: id } = await bot.post(`/inboxes/${inbox}/messages`, {
    sender: { kind: 'email', value: address, name: `Nomail ${token}` },
    subject: `No way out ${token}`,
    text: `Please answer by mail (${token})`,
  });
  let refused = null;
  try {
    await admin.post(`/conversations/${id}/messages`, { type: 'reply', text: 'by mail', channel: 'email' });
  } catch (e) {
    refused = e.message;
  }
  assert(refused && refused.includes('409') && refused.includes('no_email_address'),
    `the API refuses this reply by email: ${refused}`);

  const page = await newPage();
  await login(page, base, ADMIN, undefined, `#/inbox/all/${id}`);
  await page.getByTestId('composer').waitFor();
  assert((await page.getByTestId('reply-by-email').count()) === 0, 'a reply on the API channel says nothing of email');
  await page.getByTestId('reply-channel').selectOption('email');
  await waitText(page.getByTestId('reply-by-email'), `This reply goes out by email to ${address}.`);
  await page.getByTestId('composer-input').fill(`Here is the answer (${token})`);
  await page.getByTestId('send-btn').click();
  await waitText(page.getByTestId('composer-error'), 'would go out by email, but');
  assert((await page.getByTestId('composer-input').inputValue()).includes(token), 'the text stays in the box');
  const after = await admin.get(`/conversations/${id}`);
  assert(!after.messages.some((m) => m.text.includes(token) && m.direction === 'out'), 'nothing was stored');
}

export async function adminSetsUpEmailInboxAndSeesKeptMail({ base, lmtp, newPage }) {
  const admin = await apiSession(base, ADMIN);
  const token = uniq('box');
  const address = `help-${token}@shop.example`;
  const page = await newPage();
  await login(page, base, ADMIN, undefined, '#/admin/inboxes');

  // create an email inbox
  await page.getByTestId('inbox-new-name').fill(`Help ${token}`);
  await page.getByTestId('inbox-new-channel').selectOption('email');
  await page.getByTestId('inbox-create').click();
  const card = page.locator('[data-testid=inbox-card][data-channel=email]').filter({ hasText: `Help ${token}` });
  await card.waitFor();
  const inboxId = Number(await card.getAttribute('data-id'));
  const form = card.getByTestId('email-settings');
  await waitText(form, 'No address yet');
  await waitText(form.locator(`[data-testid=smtp-password-${inboxId}-state]`), 'No password stored');

  // a wrong address is refused with the server's reason; a good one is saved with a password
  await form.getByTestId('email-address').fill(`not-an-address-${token}@nodot`);
  await form.getByTestId('email-save').click();
  await waitText(form.getByTestId('form-error'), 'Address');
  await form.getByTestId('email-address').fill(address);
  await form.getByLabel('User name').first().fill(`user-${token}`);
  await form.getByTestId(`smtp-password-${inboxId}`).fill('s3cret-password');
  await form.getByTestId('email-save').click();
  await waitText(page.getByTestId('toast'), 'Email settings saved');
  await waitText(form.locator(`[data-testid=smtp-password-${inboxId}-state]`), 'A password is stored');
  assert((await form.getByTestId(`smtp-password-${inboxId}`).inputValue()) === '', 'the password is not shown again');
  const saved = await admin.get(`/inboxes/${inboxId}/email`);
  assert(saved.address === address && saved.smtp_user === `user-${token}` && saved.smtp_password_set === true,
    `stored: ${JSON.stringify(saved)}`);
  assert(!('smtp_password' in saved), 'the API never shows the password');

  // saving again without typing a password keeps it
  await form.getByLabel('Sender name on replies').fill(`Help desk ${token}`);
  await form.getByTestId('email-save').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=toast]').length > 0);
  await until('the display name', async () => (await admin.get(`/inboxes/${inboxId}/email`)).display_name === `Help desk ${token}`);
  assert((await admin.get(`/inboxes/${inboxId}/email`)).smtp_password_set === true, 'the password is kept');

  // automatic mails outside any conversation are kept, not opened as conversations
  await lmtpDeliver(lmtp, {
    from: `someone.${token}@example.com`,
    to: address,
    data: `From: someone.${token}@example.com
To: ${address}
Subject: Out of office ${token}
Message-ID: <ooo.${token}@example.com>
Auto-Submitted: auto-replied

I am away.
`,
  });
  await lmtpDeliver(lmtp, {
    from: '',
    to: address,
    data: `From: Mail Delivery System <MAILER-DAEMON@mx.example>
To: ${address}
Subject: Undelivered Mail Returned to Sender ${token}
Message-ID: <bounce.${token}@mx.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-${token}"

--dsn-${token}
Content-Type: text/plain

Your message could not be delivered to nobody.${token}@example.net.
--dsn-${token}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example

Final-Recipient: rfc822; nobody.${token}@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown
--dsn-${token}
Content-Type: text/rfc822-headers

Message-ID: <kp.999999.${token}@shop.example>
Subject: Re: something
--dsn-${token}--
`,
  });
  const kept = await until('two kept mails', async () => {
    const r = await admin.get(`/inboxes/${inboxId}/email/kept`);
    return r.items.length >= 2 && r.items;
  });
  const kinds = kept.map((k) => k.kind).sort();
  assert(kinds.join() === 'auto_reply,bounce', `kept: ${JSON.stringify(kept)}`);
  const { items: convs } = await admin.get(`/conversations?inbox_id=${inboxId}`);
  assert(convs.length === 0, 'no conversation was opened by them');

  await card.getByTestId('kept-mail').getByRole('button', { name: 'Reload' }).click();
  const items = card.getByTestId('kept-item');
  await waitText(items.filter({ hasText: `Out of office ${token}` }), 'Automatic reply');
  await waitText(items.filter({ hasText: `Undelivered Mail Returned to Sender ${token}` }), 'Bounce');
  assert((await items.count()) === kept.length, 'the page lists what the API lists');
  const bounce = kept.find((k) => k.kind === 'bounce');
  if (bounce.reason) await waitText(items.filter({ hasText: 'Bounce' }), bounce.reason);
}
