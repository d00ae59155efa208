# SPDX-License-Identifier: MIT
"""t013 - the email channel with real mail servers (tests/integration/mailsrv.py): Postfix
delivers a customer's mail to Knotenpunkt over LMTP; the agent's reply goes out through Postfix
to the customer's Dovecot mailbox with correct threading headers; the customer's answer joins
the conversation; the acknowledgement carries Auto-Submitted and is never sent to automatic
mail; a bounce from Postfix marks the reply failed; sending retries until the server is back;
IMAP fetch imports 1,000 mails exactly once although Dovecot and Knotenpunkt are killed during
the import."""
import base64
import email
import email.policy
import os
import shutil
import tempfile
import time

import kp
import mailsrv
from kp import check, eq

SERVER_ENV = {"KNOTENPUNKT_LMTP_LISTEN": "127.0.0.1:0", "KNOTENPUNKT_MAIL_RETRY_MS": "300"}
SUPPORT = "support@shop.test"


def wait_for(what, fn, timeout=30, every=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        check(time.monotonic() < deadline, "timed out waiting for %s" % what)
        time.sleep(every)


def setup(srv, **settings):
    dov = mailsrv.Dovecot(os.path.join(srv.root, "dovecot"))
    pf = mailsrv.Postfix(os.path.join(srv.root, "postfix"), srv.lmtp_port, domain="shop.test",
                         routes={"customer.test": ("lmtp", dov.lmtp_port)})
    admin = srv.admin()
    inbox = admin.post("/api/v1/inboxes", {"name": "Shop mail", "channel": "email"})
    body = {"address": SUPPORT, "smtp_url": "smtp://127.0.0.1:%d" % pf.smtp_port}
    body.update(settings)
    admin.put("/api/v1/inboxes/%d/email" % inbox["id"], body)
    return admin, inbox, dov, pf


def conversations(admin, inbox_id):
    return admin.get("/api/v1/conversations?inbox_id=%d&limit=100" % inbox_id)["items"]


def customer_mail(subject, msgid, body, extra=""):
    return ("From: Carla Kunde <carla@customer.test>\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <%s>\r\n%sMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "\r\n%s\r\n" % (SUPPORT, subject, msgid, extra, body)).encode()


def fetch_all(dov, user):
    """Every message in user's INBOX over IMAP, parsed."""
    imap = dov.imap_login(user)
    try:
        imap.select("INBOX", readonly=True)
        typ, data = imap.search(None, "ALL")
        out = []
        for num in data[0].split():
            typ, parts = imap.fetch(num, "(BODY.PEEK[])")
            out.append(email.message_from_bytes(parts[0][1], policy=email.policy.default))
        return out
    finally:
        imap.logout()


def reply_delivery(admin, conv_id, message_id):
    for m in admin.get("/api/v1/conversations/%d" % conv_id)["messages"]:
        if m["id"] == message_id:
            return m
    return None


@kp.timeout(180)
def test_postfix_to_knotenpunkt_reply_to_dovecot_and_back(srv):
    admin, inbox, dov, pf = setup(srv)
    mailsrv.swaks(pf.smtp_port, SUPPORT, customer_mail("Rechnung fehlt", "c1@customer.test",
                                                       "Wo ist meine Rechnung?"),
                  sender="carla@customer.test")
    convs = wait_for("the mail as a conversation", lambda: conversations(admin, inbox["id"]))
    cid = convs[0]["id"]
    first = admin.get("/api/v1/conversations/%d" % cid)["messages"][0]
    eq(first["email"]["message_id"], "c1@customer.test", "inbound Message-ID")
    pdf = b"%PDF-1.4 Rechnung 4711\n%%EOF\n"
    reply = admin.post("/api/v1/conversations/%d/messages" % cid, {
        "text": "Hallo Carla,\nanbei die Rechnung.\nGrüße", "type": "reply",
        "attachments": [{"filename": "Rechnung 4711.pdf", "content_type": "application/pdf",
                         "data": base64.b64encode(pdf).decode()}]})
    eq(reply["delivery"]["state"], "queued", "a new reply's delivery state")
    sent = wait_for("the reply sent", lambda: (reply_delivery(admin, cid, reply["id"]) or {})
                    .get("delivery", {}).get("state") == "sent" and
                    reply_delivery(admin, cid, reply["id"]))
    msgs = wait_for("the reply in Dovecot", lambda: fetch_all(dov, "carla"))
    eq(len(msgs), 1, "mails in the customer's mailbox")
    m = msgs[0]
    eq(m["Message-ID"].strip("<>"), sent["email"]["message_id"], "Message-ID as stored")
    eq(m["In-Reply-To"], "<c1@customer.test>", "In-Reply-To")
    check("<c1@customer.test>" in m["References"], "References %r" % m["References"])
    eq(m["Subject"], "Re: Rechnung fehlt [#%d]" % cid, "subject with the conversation tag")
    check(SUPPORT in m["From"], "From %r" % m["From"])
    check(m["Auto-Submitted"] is None, "an agent's reply is not Auto-Submitted")
    eq(m.get_content_type(), "multipart/mixed", "reply's MIME structure")
    files = [(a.get_filename(), a.get_content_type(), a.get_content())
             for a in m.iter_attachments()]
    eq(files, [("Rechnung 4711.pdf", "application/pdf", pdf)], "the reply's attachment")
    plain = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    check("anbei die Rechnung" in plain and "Grüße" in plain, "text part %r" % plain)
    check("anbei die Rechnung" in html, "html part %r" % html)
    st, _, raw = admin.request("GET", "/api/v1/messages/%d/raw" % reply["id"])
    eq(st, 200, "raw source of the sent reply")
    check(m["Message-ID"].encode() in raw, "the raw source is what was sent")
    # the customer answers the reply: it joins the conversation
    mailsrv.swaks(pf.smtp_port, SUPPORT, customer_mail(
        "Re: Rechnung fehlt [#%d]" % cid, "c2@customer.test", "Danke!",
        "In-Reply-To: %s\r\nReferences: <c1@customer.test> %s\r\n" % (m["Message-ID"],
                                                                   m["Message-ID"])),
        sender="carla@customer.test")
    answer = wait_for("the answer", lambda: [x for x in admin.get(
        "/api/v1/conversations/%d" % cid)["messages"] if x["direction"] == "in"][1:])
    eq(answer[0]["email"]["thread_rule"], "in_reply_to", "the answer's thread rule")
    eq(len(conversations(admin, inbox["id"])), 1, "still one conversation")


@kp.timeout(180)
def test_acknowledgement_is_auto_submitted_and_never_sent_to_automatic_mail(srv):
    admin, inbox, dov, pf = setup(srv, autoreply="Danke, wir antworten bald.")
    mailsrv.swaks(pf.smtp_port, SUPPORT, customer_mail("Frage", "q1@customer.test", "Eine Frage"),
                  sender="carla@customer.test")
    acks = wait_for("the acknowledgement", lambda: fetch_all(dov, "carla"))
    eq(acks[0]["Auto-Submitted"], "auto-replied", "acknowledgement's Auto-Submitted")
    check("Danke, wir antworten bald." in acks[0].get_body(("plain",)).get_content(),
          "acknowledgement text")
    # an out-of-office reply and a second question within the hour get no acknowledgement
    mailsrv.swaks(pf.smtp_port, SUPPORT, customer_mail(
        "Abwesend", "ooo@customer.test", "Bin weg", "Auto-Submitted: auto-replied\r\n"),
        sender="carla@customer.test")
    mailsrv.swaks(pf.smtp_port, SUPPORT, customer_mail("Noch eine Frage", "q2@customer.test",
                                                       "Zweite Frage"),
                  sender="carla@customer.test")
    wait_for("the second question", lambda: len(conversations(admin, inbox["id"])) == 2)
    time.sleep(1.5)  # the sender polls every 250 ms: an acknowledgement would be out by now
    pf.wait_queue_empty()
    eq(len(fetch_all(dov, "carla")), 1, "acknowledgements: one per sender and hour, none to "
       "automatic mail")
    kept = admin.get("/api/v1/inboxes/%d/email/kept" % inbox["id"])["items"]
    eq([k["kind"] for k in kept], ["auto_reply"], "the out-of-office reply is kept, no conversation")


@kp.timeout(180)
def test_bounce_marks_the_reply_failed(srv):
    admin, inbox, dov, pf = setup(srv)
    mailsrv.swaks(pf.smtp_port, SUPPORT, (
        "From: Ghost <ghost@nowhere.test>\r\nTo: %s\r\nSubject: Hallo\r\n"
        "Message-ID: <g1@nowhere.test>\r\n\r\nHallo\r\n" % SUPPORT).encode(),
        sender="ghost@nowhere.test")
    cid = wait_for("the mail", lambda: conversations(admin, inbox["id"]))[0]["id"]
    reply = admin.post("/api/v1/conversations/%d/messages" % cid,
                       {"text": "Antwort", "type": "reply"})
    # Postfix takes the reply, finds no route to nowhere.test and returns a DSN to support@
    failed = wait_for("the bounce to mark the reply failed",
                      lambda: (reply_delivery(admin, cid, reply["id"]) or {}).get(
                          "delivery", {}).get("state") == "failed" and
                      reply_delivery(admin, cid, reply["id"]), timeout=60)
    check(failed["delivery"]["error"], "the reason is shown: %r" % failed["delivery"])
    eq(len(conversations(admin, inbox["id"])), 1, "the bounce opened no conversation")
    kept = admin.get("/api/v1/inboxes/%d/email/kept" % inbox["id"])["items"]
    eq([(k["kind"], k["message_id"]) for k in kept], [("bounce", reply["id"])],
       "the bounce is kept and names the reply")


@kp.timeout(180)
def test_sending_retries_until_the_server_is_back(srv):
    admin, inbox, dov, pf = setup(srv)
    mailsrv.swaks(pf.smtp_port, SUPPORT, customer_mail("Frage", "r1@customer.test", "Hallo"),
                  sender="carla@customer.test")
    cid = wait_for("the mail", lambda: conversations(admin, inbox["id"]))[0]["id"]
    pf.stop()
    reply = admin.post("/api/v1/conversations/%d/messages" % cid,
                       {"text": "Antwort trotz Ausfall", "type": "reply"})
    retried = wait_for("a failed attempt", lambda: (reply_delivery(admin, cid, reply["id"]) or {})
                       .get("delivery", {}).get("attempts", 0) >= 1 and
                       reply_delivery(admin, cid, reply["id"]))
    eq(retried["delivery"]["state"], "queued", "state while the server is down")
    check(retried["delivery"]["error"], "the last error is shown")
    pf.start()
    wait_for("the reply sent after the server is back",
             lambda: reply_delivery(admin, cid, reply["id"])["delivery"]["state"] == "sent",
             timeout=60)
    wait_for("the reply in Dovecot", lambda: fetch_all(dov, "carla"))


@kp.timeout(420)
def test_imap_fetch_imports_each_mail_once_despite_kills(srv):
    dov = mailsrv.Dovecot(os.path.join(srv.root, "dovecot"))
    total = 1000
    for i in range(total):
        dov.deliver("shop", ("From: kunde%d@customer.test\r\nTo: shop@kp.test\r\n"
                             "Subject: Frage %d\r\nMessage-ID: <imap%d@customer.test>\r\n\r\n"
                             "Frage Nummer %d\r\n" % (i % 37, i, i, i)).encode())
    admin = srv.admin()
    inbox = admin.post("/api/v1/inboxes", {"name": "IMAP", "channel": "email"})
    admin.put("/api/v1/inboxes/%d/email" % inbox["id"], {
        "address": "shop@kp.test", "imap_url": "imap://127.0.0.1:%d/INBOX" % dov.imap_port,
        "imap_user": "shop", "imap_password": mailsrv.PASSWORD, "imap_poll_s": 1})

    def messages():
        return admin.get("/healthz")["store"]["messages"]
    wait_for("the import to start", lambda: messages() > 0, timeout=60, every=0.02)
    dov.kill()      # the IMAP server dies during the import
    dov.restart()
    # a session to the killed server may wait out its 30 s answer timeout first
    wait_for("more imported", lambda: messages() >= 300, timeout=150, every=0.02)
    srv.kill()      # and Knotenpunkt too
    srv.start()
    admin = srv.admin()
    wait_for("all imported", lambda: messages() >= total, timeout=120, every=0.2)
    time.sleep(2)   # two more polls: nothing more may come
    eq(messages(), total, "messages after the import")
    # every mail exactly once: the Message-IDs of all messages
    ids = set()
    cursor = None
    while True:
        page = admin.get("/api/v1/conversations?inbox_id=%d&limit=100%s" % (
            inbox["id"], "&cursor=" + cursor if cursor else ""))
        for c in page["items"]:
            for m in admin.get("/api/v1/conversations/%d" % c["id"])["messages"]:
                check(m["email"]["message_id"] not in ids, "imported twice: %s"
                      % m["email"]["message_id"])
                ids.add(m["email"]["message_id"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    eq(len(ids), total, "distinct Message-IDs imported")
    imap = dov.imap_login("shop")
    try:
        imap.select("INBOX", readonly=True)
        typ, data = imap.search(None, "UNSEEN")
        eq(data[0].split(), [], "every imported mail is marked seen on the server")
    finally:
        imap.logout()


@kp.timeout(180)
def test_tls_imaps_starttls_and_smtp_starttls(binary):
    """IMAPS and IMAP with STARTTLS against a Dovecot that requires TLS, and replies through a
    Postfix that offers STARTTLS, all checked against the test's own CA (mail_ca_file)."""
    tls_dir = tempfile.mkdtemp(prefix="kp-tls-")
    try:
        tls_run(binary, *mailsrv.make_cert(tls_dir))
    finally:
        shutil.rmtree(tls_dir, ignore_errors=True)


def tls_run(binary, cert, key):
    srv = kp.Server(binary, dict(SERVER_ENV, KNOTENPUNKT_MAIL_CA_FILE=cert))
    dov = mailsrv.Dovecot(os.path.join(srv.root, "dovecot"), tls=(cert, key))
    pf = mailsrv.Postfix(os.path.join(srv.root, "postfix"), srv.lmtp_port, domain="shop.test",
                         routes={"customer.test": ("lmtp", dov.lmtp_port)},
                         main_cf_extra="smtpd_tls_security_level = may\n"
                         "smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\n"
                         "smtpd_tls_loglevel = 1\n" % (cert, key))
    for user in ("shop", "desk"):
        for i in range(3):
            dov.deliver(user, ("From: kunde@customer.test\r\nSubject: %s %d\r\n"
                               "Message-ID: <%s%d@customer.test>\r\n\r\nHallo\r\n"
                               % (user, i, user, i)).encode())
    admin = srv.admin()
    boxes = {}
    for user, url in (("shop", "imaps://127.0.0.1:%d/INBOX" % dov.imaps_port),
                      ("desk", "imap://127.0.0.1:%d/INBOX" % dov.imap_port)):
        inbox = admin.post("/api/v1/inboxes", {"name": user, "channel": "email"})
        admin.put("/api/v1/inboxes/%d/email" % inbox["id"], {
            "address": "%s@shop.test" % user, "imap_url": url, "imap_user": user,
            "imap_password": mailsrv.PASSWORD, "imap_poll_s": 1,
            "smtp_url": "smtp://127.0.0.1:%d" % pf.smtp_port})
        boxes[user] = inbox["id"]
    for user, inbox_id in boxes.items():
        wait_for("3 mails over %s" % user, lambda: len(conversations(admin, inbox_id)) == 3)
    cid = conversations(admin, boxes["desk"])[0]["id"]
    reply = admin.post("/api/v1/conversations/%d/messages" % cid,
                       {"text": "Antwort über TLS", "type": "reply"})
    wait_for("the reply sent", lambda: reply_delivery(admin, cid, reply["id"])["delivery"]
             ["state"] == "sent")
    pf.wait_log(r"TLS connection established from")
    wait_for("the reply at the customer's", lambda: fetch_all(dov, "kunde"))
    srv.stop()


@kp.timeout(180)
def test_smtp_auth_with_the_inbox_credentials(srv):
    """Replies go out through a Postfix that takes mail only from clients that log in (SASL
    through Dovecot): with the inbox's user and password they are sent; with a wrong password
    the server's 5xx fails them at once, with the reason shown."""
    dov = mailsrv.Dovecot(os.path.join(srv.root, "dovecot"))
    pf = mailsrv.Postfix(os.path.join(srv.root, "postfix"), srv.lmtp_port, domain="shop.test",
                         routes={"customer.test": ("lmtp", dov.lmtp_port)},
                         main_cf_extra="smtpd_sasl_auth_enable = yes\n"
                         "smtpd_sasl_type = dovecot\n"
                         "smtpd_sasl_path = inet:127.0.0.1:%d\n"
                         "smtpd_tls_auth_only = no\n"
                         "mynetworks = 192.0.2.1/32\n"
                         "smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination\n"
                         "smtpd_recipient_restrictions = permit_sasl_authenticated, "
                         "permit_auth_destination, reject\n" % dov.auth_port)
    admin = srv.admin()
    inbox = admin.post("/api/v1/inboxes", {"name": "Shop mail", "channel": "email"})
    settings = {"address": SUPPORT, "smtp_url": "smtp://127.0.0.1:%d" % pf.smtp_port,
                "smtp_user": "support", "smtp_password": mailsrv.PASSWORD}
    admin.put("/api/v1/inboxes/%d/email" % inbox["id"], settings)
    mailsrv.swaks(pf.smtp_port, SUPPORT, customer_mail("Frage", "a1@customer.test", "Hallo"),
                  sender="carla@customer.test")
    cid = wait_for("the mail", lambda: conversations(admin, inbox["id"]))[0]["id"]
    reply = admin.post("/api/v1/conversations/%d/messages" % cid,
                       {"text": "Mit Anmeldung", "type": "reply"})
    wait_for("the reply sent", lambda: reply_delivery(admin, cid, reply["id"])["delivery"]
             ["state"] == "sent")
    pf.wait_log(r"sasl_method=\w+, sasl_username=support")
    wait_for("the reply at the customer's", lambda: fetch_all(dov, "carla"))
    # a wrong password: 535 is permanent
    admin.put("/api/v1/inboxes/%d/email" % inbox["id"], dict(settings, smtp_password="falsch"))
    wrong = admin.post("/api/v1/conversations/%d/messages" % cid,
                       {"text": "Ohne Anmeldung", "type": "reply"})
    failed = wait_for("the reply failed", lambda: reply_delivery(admin, cid, wrong["id"])[
        "delivery"]["state"] == "failed" and reply_delivery(admin, cid, wrong["id"]))
    check("535" in failed["delivery"]["error"] or "Login denied" in failed["delivery"]["error"],
          "the reason names the refused login: %r" % failed["delivery"]["error"])


@kp.timeout(120)
def test_imap_after_import_move_or_delete(srv):
    """imap_after move:FOLDER moves imported mails there; delete removes them; both only after
    they are stored."""
    dov = mailsrv.Dovecot(os.path.join(srv.root, "dovecot"))
    for user in ("mover", "deleter"):
        for i in range(5):
            dov.deliver(user, ("From: kunde@customer.test\r\nSubject: %s %d\r\n"
                               "Message-ID: <%s%d@customer.test>\r\n\r\nHallo\r\n"
                               % (user, i, user, i)).encode())
    imap = dov.imap_login("mover")
    try:
        eq(imap.create("Erledigt")[0], "OK", "create the target folder")
    finally:
        imap.logout()
    admin = srv.admin()
    boxes = {}
    for user, after in (("mover", "move:Erledigt"), ("deleter", "delete")):
        inbox = admin.post("/api/v1/inboxes", {"name": user, "channel": "email"})
        admin.put("/api/v1/inboxes/%d/email" % inbox["id"], {
            "address": "%s@shop.test" % user,
            "imap_url": "imap://127.0.0.1:%d/INBOX" % dov.imap_port, "imap_user": user,
            "imap_password": mailsrv.PASSWORD, "imap_poll_s": 1, "imap_after": after})
        boxes[user] = inbox["id"]
    for user, inbox_id in boxes.items():
        wait_for("5 mails of %s" % user, lambda: len(conversations(admin, inbox_id)) == 5)
    wait_for("the INBOXes emptied", lambda: dov.count("mover") == 0 and dov.count("deleter") == 0)
    eq(dov.count("mover", "Erledigt"), 5, "moved mails in the target folder")
    time.sleep(2)  # more polls: nothing is imported twice from the moved mails
    eq([len(conversations(admin, i)) for i in boxes.values()], [5, 5], "conversations")
