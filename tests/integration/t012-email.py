# SPDX-License-Identifier: MIT
"""t012 - the email channel over its own LMTP and SMTP listeners: delivery answered after the
commit, recipients mapped to inboxes, SIZE, one message per Message-ID, threading by
In-Reply-To, References and the subject tag, contacts by address, broken mail kept and
flagged, the raw source, moving a message, automatic mail and bounces opening no conversation.
Python's smtplib is the delivering mail server here; t013 has real Postfix and Dovecot."""
import smtplib
import time

import kp
from kp import check, eq

SERVER_ENV = {"KNOTENPUNKT_LMTP_LISTEN": "127.0.0.1:0", "KNOTENPUNKT_SMTP_LISTEN": "127.0.0.1:0",
              "KNOTENPUNKT_MAIL_MAX_SIZE": "200000"}
ADDRESS = "support@shop.example"


def setup(srv, address=ADDRESS, **settings):
    admin = srv.admin()
    team = kp.make_team(admin, "Mail")
    inbox = admin.post("/api/v1/inboxes", {"name": "Support mail", "channel": "email",
                                           "team_id": team["id"]})
    body = {"address": address}
    body.update(settings)
    s = admin.put("/api/v1/inboxes/%d/email" % inbox["id"], body)
    eq(s["address"], address, "stored address")
    return admin, inbox


def mail(frm="Carla Kunde <Carla@Customer.Example>", to=ADDRESS, subject="Paket fehlt",
         body="Hallo, mein Paket ist nicht angekommen.", msgid="<m1@customer.example>",
         headers=()):
    lines = ["From: %s" % frm, "To: %s" % to, "Subject: %s" % subject,
             "Date: Fri, 27 Nov 2026 10:00:00 +0100"]
    if msgid:
        lines.append("Message-ID: %s" % msgid)
    lines += list(headers)
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()


def lmtp(srv, timeout=15):
    c = smtplib.LMTP("127.0.0.1", srv.lmtp_port, timeout=timeout)
    code, _ = c.ehlo("postfix.test")  # LMTP's ehlo says LHLO
    eq(code, 250, "LHLO answer")
    return c


def deliver(srv, raw, rcpts=(ADDRESS,), sender="carla@customer.example", timeout=15):
    """One mail over LMTP; returns {rcpt: (code, text)} as the server answered each."""
    c = lmtp(srv, timeout)
    try:
        refused = c.sendmail(sender, list(rcpts), raw)
    except smtplib.SMTPRecipientsRefused as e:
        refused = e.recipients
    finally:
        c.close()
    return refused


def conversations(admin, inbox_id):
    return admin.get("/api/v1/conversations?inbox_id=%d&limit=100" % inbox_id)["items"]


def messages(admin, conv_id):
    return admin.get("/api/v1/conversations/%d" % conv_id)["messages"]


def test_lmtp_delivery_makes_a_conversation_with_the_contact(srv):
    admin, inbox = setup(srv)
    raw = mail()
    eq(deliver(srv, raw), {}, "recipients refused")
    convs = conversations(admin, inbox["id"])
    eq(len(convs), 1, "conversations after one mail")
    c = admin.get("/api/v1/conversations/%d" % convs[0]["id"])
    eq(c["channel"], "email", "channel")
    eq(c["subject"], "Paket fehlt", "subject")
    eq(c["contact"]["name"], "Carla Kunde", "contact name from From")
    m = c["messages"][0]
    check("Paket ist nicht angekommen" in m["text"], "text %r" % m["text"])
    eq(m["email"]["message_id"], "m1@customer.example", "Message-ID kept")
    eq(m["email"]["thread_rule"], "new", "thread rule of a first mail")
    eq(m["email"]["flags"], [], "flags of a clean mail")
    contact = admin.get("/api/v1/contacts/%d" % c["contact"]["id"])
    eq([(i["kind"], i["value"]) for i in contact["identities"]],
       [("email", "carla@customer.example")], "identity: the address in lower case")
    st, hdrs, body = admin.request("GET", "/api/v1/messages/%d/raw" % m["id"])
    eq(st, 200, "raw source status")
    eq(hdrs.get("content-type"), "message/rfc822", "raw source type")
    eq(body if isinstance(body, bytes) else body.encode(), raw, "raw source bytes")


def test_same_message_id_twice_is_one_message(srv):
    admin, inbox = setup(srv)
    deliver(srv, mail())
    deliver(srv, mail(body="the same mail, resent by another path"))
    convs = conversations(admin, inbox["id"])
    eq(len(convs), 1, "conversations")
    eq(len(messages(admin, convs[0]["id"])), 1, "messages after the same Message-ID twice")
    # no Message-ID at all: the very same bytes twice are one message, other bytes another
    other = mail(msgid=None, subject="Ohne ID", frm="otto@customer.example")
    deliver(srv, other)
    deliver(srv, other)
    eq(len(conversations(admin, inbox["id"])), 2, "conversations after an id-less mail twice")


def test_threading_by_in_reply_to_references_and_subject_tag(srv):
    admin, inbox = setup(srv)
    deliver(srv, mail())
    first = conversations(admin, inbox["id"])[0]["id"]
    deliver(srv, mail(subject="Re: Paket fehlt", msgid="<m2@customer.example>",
                      headers=["In-Reply-To: <m1@customer.example>"]))
    deliver(srv, mail(subject="Noch was", msgid="<m3@customer.example>",
                      headers=["References: <unknown@x.example> <m2@customer.example>"]))
    deliver(srv, mail(subject="Wieder ich [#%d]" % first, msgid="<m4@customer.example>"))
    deliver(srv, mail(subject="Ganz neue Frage", msgid="<m5@customer.example>"))
    convs = conversations(admin, inbox["id"])
    eq(len(convs), 2, "conversations: one thread and one new question")
    rules = [(m["email"]["message_id"], m["email"]["thread_rule"])
             for m in messages(admin, first)]
    eq(rules, [("m1@customer.example", "new"), ("m2@customer.example", "in_reply_to"),
               ("m3@customer.example", "references"), ("m4@customer.example", "subject_tag")],
       "thread rules in the first conversation")
    # an agent moves the wrongly threaded message to the other conversation
    other = [c["id"] for c in convs if c["id"] != first][0]
    moving = messages(admin, first)[3]["id"]
    moved = admin.post("/api/v1/messages/%d/move" % moving, {"conversation_id": other},
                       status=200)
    eq(moved["conversation_id"], other, "moved message's conversation")
    eq(moved["email"]["thread_rule"], "moved", "thread rule after the move")
    eq(admin.get("/api/v1/conversations/%d" % first)["message_count"], 3, "count after move")
    eq(admin.get("/api/v1/conversations/%d" % other)["message_count"], 2, "count after move")


def test_a_reply_reopens_a_resolved_conversation(srv):
    admin, inbox = setup(srv)
    deliver(srv, mail())
    cid = conversations(admin, inbox["id"])[0]["id"]
    admin.patch("/api/v1/conversations/%d" % cid, {"state": "resolved"})
    deliver(srv, mail(msgid="<m9@customer.example>", headers=["In-Reply-To: <m1@customer.example>"]))
    eq(admin.get("/api/v1/conversations/%d" % cid)["state"], "open", "state after the reply")


def test_recipients_map_to_inboxes_and_unknown_ones_are_refused(srv):
    admin, inbox = setup(srv)
    admin2 = srv.admin()
    other = admin2.post("/api/v1/inboxes", {"name": "Sales", "channel": "email"})
    admin2.put("/api/v1/inboxes/%d/email" % other["id"], {"address": "sales@shop.example"})
    refused = deliver(srv, mail(to="support@shop.example, sales@shop.example"),
                      rcpts=("SUPPORT@shop.example", "sales@shop.example", "nobody@shop.example"))
    eq(list(refused), ["nobody@shop.example"], "refused recipients")
    eq(refused["nobody@shop.example"][0], 550, "unknown recipient's code")
    eq(len(conversations(admin, inbox["id"])), 1, "support got the mail")
    eq(len(conversations(admin, other["id"])), 1, "sales got the mail")


def test_size_is_announced_and_enforced(srv):
    admin, inbox = setup(srv)
    c = lmtp(srv)
    try:
        check(c.has_extn("size"), "SIZE announced: %r" % c.esmtp_features)
        eq(int(c.esmtp_features["size"]), 200000, "announced SIZE")
        code, _ = c.docmd("MAIL FROM:<a@b.example> SIZE=300000")
        eq(code, 552, "MAIL with a SIZE over the limit")
    finally:
        c.close()
    big = mail(body="x" * 250000)
    try:
        deliver(srv, big)
        check(False, "a mail over the limit was taken")
    except smtplib.SMTPSenderRefused as e:
        eq(e.smtp_code, 552, "MAIL with the SIZE smtplib announces")
    # a client that announces no SIZE is refused after the data, and the session goes on
    c = lmtp(srv)
    try:
        eq(c.docmd("MAIL FROM:<carla@customer.example>")[0], 250, "MAIL without SIZE")
        eq(c.docmd("RCPT TO:<%s>" % ADDRESS)[0], 250, "RCPT")
        eq(c.docmd("DATA")[0], 354, "DATA")
        c.send(big.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        eq(c.getreply()[0], 552, "the answer to data over the limit")
        eq(c.docmd("RSET")[0], 250, "the session goes on")
    finally:
        c.close()
    eq(conversations(admin, inbox["id"]), [], "nothing stored")


def test_smtp_listener_takes_mail_too(srv):
    admin, inbox = setup(srv)
    c = smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=15)
    try:
        c.ehlo("mx.test")
        check(c.has_extn("pipelining") and c.has_extn("8bitmime"), "EHLO features %r"
              % c.esmtp_features)
        eq(c.sendmail("carla@customer.example", [ADDRESS], mail()), {}, "refused")
    finally:
        c.quit()
    eq(len(conversations(admin, inbox["id"])), 1, "conversations after SMTP delivery")


def test_broken_mail_is_stored_raw_and_flagged(srv):
    admin, inbox = setup(srv)
    raw = (b"From: broken@customer.example\r\nSubject: kaputt\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"!!!not base64\xff\xfe\r\n--b1\r\nContent-Type: image/png\r\n")
    eq(deliver(srv, raw, sender="broken@customer.example"), {}, "refused")
    convs = conversations(admin, inbox["id"])
    eq(len(convs), 1, "a conversation for the broken mail")
    m = messages(admin, convs[0]["id"])[0]
    check("broken" in m["email"]["flags"], "broken flag: %r" % m["email"])
    check(m["email"]["problem"], "a problem text for the agent")
    st, _, body = admin.request("GET", "/api/v1/messages/%d/raw" % m["id"])
    eq((st, body), (200, raw), "raw source of the broken mail")


def test_automatic_mail_and_bounces_open_no_conversation(srv):
    admin, inbox = setup(srv, autoreply="Danke, wir melden uns.")
    ooo = mail(frm="boss@customer.example", subject="Abwesend", msgid="<ooo@customer.example>",
               headers=["Auto-Submitted: auto-replied"])
    eq(deliver(srv, ooo), {}, "refused")
    lst = mail(frm="news@list.example", subject="Newsletter", msgid="<n1@list.example>",
               headers=["List-Id: <news.list.example>", "Precedence: list"])
    deliver(srv, lst)
    bounce = ("From: MAILER-DAEMON@mx.customer.example\r\nTo: %s\r\nSubject: Undelivered Mail\r\n"
              "Message-ID: <b1@mx.customer.example>\r\nMIME-Version: 1.0\r\n"
              "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n"
              "--r\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
              "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
              "Final-Recipient: rfc822; gone@customer.example\r\nAction: failed\r\n"
              "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
              "--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
              "Message-ID: <never-sent@shop.example>\r\nSubject: hello\r\n\r\n--r--\r\n"
              % ADDRESS).encode()
    eq(deliver(srv, bounce, sender=""), {}, "refused")
    # delivered again (a second path, a retry): kept once
    eq(deliver(srv, bounce, sender=""), {}, "refused")
    eq(deliver(srv, ooo), {}, "refused")
    eq(conversations(admin, inbox["id"]), [], "conversations after automatic mail and a bounce")
    kept = admin.get("/api/v1/inboxes/%d/email/kept" % inbox["id"])["items"]
    eq(sorted(k["kind"] for k in kept), ["auto_reply", "auto_reply", "bounce"], "kept mails")
    b = [k for k in kept if k["kind"] == "bounce"][0]
    eq(b["message_id"], None, "an unmatched bounce names no message")
    st, hdrs, body = admin.request("GET", "/api/v1/inboxes/%d/email/kept/%d/raw"
                                   % (inbox["id"], b["id"]))
    eq((st, hdrs.get("content-type"), body), (200, "message/rfc822", bounce),
       "the kept bounce's source")
    admin.get("/api/v1/inboxes/%d/email/kept/%d/raw" % (inbox["id"] + 1, b["id"]), status=404)


def test_email_settings_are_checked_and_passwords_never_shown(srv):
    admin, inbox = setup(srv, smtp_url="smtp://127.0.0.1:25", smtp_user="u",
                         smtp_password="geheim")
    s = admin.get("/api/v1/inboxes/%d/email" % inbox["id"])
    eq(s["smtp_password_set"], True, "password stored")
    check("geheim" not in str(s), "password not shown")
    for bad in ({"address": "not-an-address"}, {"address": ADDRESS, "smtp_url": "http://x"},
                {"address": ADDRESS, "imap_after": "burn"}, {"address": ADDRESS,
                                                              "imap_poll_s": 0}):
        admin.put("/api/v1/inboxes/%d/email" % inbox["id"], bad, status=400)
    api_inbox = kp.make_inbox(admin, "API")
    admin.put("/api/v1/inboxes/%d/email" % api_inbox["id"], {"address": "x@shop.example"},
              status=409)
    # keeping the password when it is left out
    admin.put("/api/v1/inboxes/%d/email" % inbox["id"], {"address": ADDRESS,
                                                          "smtp_url": "smtp://127.0.0.1:26"})
    eq(admin.get("/api/v1/inboxes/%d/email" % inbox["id"])["smtp_password_set"], True,
       "password kept when left out")


@kp.timeout(120)
def test_a_store_that_cannot_write_answers_451_and_the_retry_is_taken(srv):
    import sqlite3
    import os
    admin, inbox = setup(srv)
    # another process holds the database's write lock longer than the writer waits (10 s)
    db = sqlite3.connect(os.path.join(srv.data, "knotenpunkt.db"), timeout=5,
                         isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    try:
        refused = deliver(srv, mail(), rcpts=(ADDRESS,), timeout=60)
    except smtplib.SMTPDataError as e:
        refused = {ADDRESS: (e.smtp_code, e.smtp_error)}
    finally:
        db.execute("ROLLBACK")
        db.close()
    eq(refused[ADDRESS][0], 451, "answer while the store cannot write")
    eq(conversations(admin, inbox["id"]), [], "nothing stored")
    eq(deliver(srv, mail()), {}, "the sender's retry")
    eq(len(conversations(admin, inbox["id"])), 1, "stored once, on the retry")


CORPORA = [("/usr/lib/python3.11/test/test_email/data", "msg_*.txt"),
           ("/usr/lib/python3/dist-packages/flufl/bounce/tests/data", "*.txt"),
           ("/usr/lib/python3/dist-packages/dkim/tests/data", "*.msg*"),
           ("/usr/lib/python3/dist-packages/dkim/tests/data", "*.message*")]


@kp.timeout(240)
def test_real_world_corpus_is_taken_and_stored(srv):
    """Every mail of the real-world corpora (tests/corpus-licences.md; installed by
    scripts/deps.sh) is accepted over LMTP and can be found again: as a message or a kept mail
    with its exact source, or as a duplicate of an earlier file with its Message-ID."""
    import email.parser
    import glob
    import hashlib
    import os
    admin, inbox = setup(srv)
    files = sorted(set(f for d, pat in CORPORA for f in glob.glob(os.path.join(d, pat))))
    check(len(files) >= 150, "corpus files found: %d (scripts/deps.sh check installs them)"
          % len(files))
    seen_ids = set()
    expect = {}  # sha256 of the source -> file, for those that must be stored themselves
    c = lmtp(srv)
    try:
        for path in files:
            raw = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            msgid = email.parser.BytesHeaderParser().parsebytes(raw).get("Message-ID")
            msgid = str(msgid).strip() if msgid else None
            refused = c.sendmail("corpus@customer.example", [ADDRESS], raw)
            eq(refused, {}, "refused %s" % path)
            if msgid and msgid in seen_ids:
                continue  # a duplicate: one message for both
            if msgid:
                seen_ids.add(msgid)
            expect[hashlib.sha256(raw).hexdigest()] = path
    finally:
        c.close()
    stored = set()
    cursor = None
    while True:
        page = admin.get("/api/v1/conversations?inbox_id=%d&limit=100%s"
                         % (inbox["id"], "&cursor=" + cursor if cursor else ""))
        for conv in page["items"]:
            for m in admin.get("/api/v1/conversations/%d" % conv["id"])["messages"]:
                st, _, body = admin.request("GET", "/api/v1/messages/%d/raw" % m["id"])
                eq(st, 200, "source of message %d" % m["id"])
                stored.add(hashlib.sha256(body).hexdigest())
        cursor = page.get("next_cursor")
        if not cursor:
            break
    before = 0
    while True:
        kept = admin.get("/api/v1/inboxes/%d/email/kept?limit=100%s" % (
            inbox["id"], "&before_id=%d" % before if before else ""))["items"]
        for k in kept:
            st, _, body = admin.request("GET", "/api/v1/inboxes/%d/email/kept/%d/raw"
                                        % (inbox["id"], k["id"]))
            stored.add(hashlib.sha256(body).hexdigest())
        if len(kept) < 100:
            break
        before = kept[-1]["id"]
    missing = [p for h, p in expect.items() if h not in stored]
    eq(missing, [], "corpus mails not found in the store")


def test_a_subject_tag_from_a_stranger_opens_a_new_conversation(srv):
    """Anyone can write "[#id]" in a subject: only the conversation's own customer threads by
    it, so a stranger can neither join nor receive the agent's answers."""
    admin, inbox = setup(srv)
    deliver(srv, mail())
    cid = conversations(admin, inbox["id"])[0]["id"]
    deliver(srv, mail(frm="Mallory <mallory@evil.example>", subject="Re: whatever [#%d]" % cid,
                      msgid="<x1@evil.example>"), sender="mallory@evil.example")
    convs = conversations(admin, inbox["id"])
    eq(len(convs), 2, "the stranger's mail opened a conversation of its own")
    eq(admin.get("/api/v1/conversations/%d" % cid)["message_count"], 1, "nothing joined")


def test_header_injection_is_refused(srv):
    admin, inbox = setup(srv)
    api = kp.make_inbox(admin, "API")
    for value in ("bob@x.example>\r\nRCPT TO:<hidden@evil.example", "a@b.example\nX: y"):
        st, _, body = admin.request("POST", "/api/v1/inboxes/%d/messages" % api["id"], {
            "sender": {"kind": "email", "value": value}, "text": "hi"})
        eq((st, body["error"]["field"]), (400, "sender.value"), "sender with a line break")
    deliver(srv, mail())
    cid = conversations(admin, inbox["id"])[0]["id"]
    st, _, body = admin.request("POST", "/api/v1/conversations/%d/messages" % cid, {
        "type": "reply", "text": "x", "attachments": [{
            "filename": "a\r\nX-Injected: 1.txt", "content_type": "text/plain",
            "data": "aGk="}]})
    eq(st, 400, "an attachment name with a line break")


@kp.timeout(60)
def test_a_client_that_does_not_read_its_answers_is_not_read_either(srv):
    """Commands sent without reading the answers: the server stops reading that connection
    instead of queueing answers without end."""
    import socket
    setup(srv)

    def rss_kb():
        with open("/proc/%d/status" % srv.proc.pid) as f:
            return int([l for l in f if l.startswith("VmRSS:")][0].split()[1])
    before = rss_kb()
    s = socket.create_connection(("127.0.0.1", srv.lmtp_port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    chunk = b"NOOP\r\n" * 10000
    sent, stalled = 0, 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sent < 200 << 20:
        try:
            sent += s.send(chunk)
            stalled = 0
        except BlockingIOError:
            stalled += 1
            if stalled > 200:  # 2 s without progress: the server has stopped reading
                break
            time.sleep(0.01)
    grown = rss_kb() - before
    s.close()
    check(stalled > 200, "the server kept reading %d bytes of commands whose answers were "
          "not taken" % sent)
    check(grown < 32 * 1024, "server memory grew by %d KB" % grown)
