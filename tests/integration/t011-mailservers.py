# SPDX-License-Identifier: MIT
"""t011 - the private mail servers of the email tests (mailsrv.py), without Knotenpunkt:
swaks -> Postfix -> Dovecot LMTP -> IMAP, routes to a second domain, 1,000 direct
deliveries that survive a SIGKILL of Dovecot, and stopping without leftovers or any change to
the machine's own mail setup."""
import os
import re
import shutil
import socket
import tempfile
import time

import kp
import mailsrv
from kp import check, eq

TIMEOUT = 120


def _root():
    """A folder for this test's servers, removed after them by the runner's cleanup."""
    root = tempfile.mkdtemp(prefix="kp-mail-")
    kp.LIVE_SERVERS.append(_Folder(root))
    return root


class _Folder:
    """A test folder in kp.LIVE_SERVERS: its cleanup stops the servers inside it first."""

    def __init__(self, path):
        self.path = path

    def kill(self):
        pass

    def cleanup(self):
        for s in list(kp.LIVE_SERVERS):
            if s is not self and getattr(s, "dir", "").startswith(self.path + os.sep):
                s.cleanup()
        if os.environ.get("KP_KEEP_DATA") != "1":
            shutil.rmtree(self.path, ignore_errors=True)
        if self in kp.LIVE_SERVERS:
            kp.LIVE_SERVERS.remove(self)


def _subjects(imap, mailbox="INBOX"):
    typ, data = imap.select(mailbox, readonly=True)
    eq(typ, "OK", "IMAP SELECT %s" % mailbox)
    n = int(data[0])
    if n == 0:
        return []
    typ, data = imap.fetch("1:%d" % n, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    eq(typ, "OK", "IMAP FETCH subjects")
    out = []
    for item in data:
        if isinstance(item, tuple):
            m = re.search(rb"Subject: ([^\r\n]*)", item[1])
            out.append(m.group(1).decode() if m else None)
    return out


def _mail(subject, to, sender="kunde@customer.test", body="Guten Tag,\r\ndie Rechnung fehlt.\r\n"):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@customer.test>\r\n\r\n%s"
            % (sender, to, subject, re.sub(r"\W", "", subject), body)).encode()


def _config_snapshot():
    """Every file of the machine's own Postfix and Dovecot configuration: path, size, mtime."""
    snap = {}
    for top in ("/etc/postfix", "/etc/dovecot", "/etc/aliases", "/etc/mailname"):
        for dirpath, dirnames, filenames in os.walk(top):
            for name in filenames + dirnames:
                p = os.path.join(dirpath, name)
                try:
                    st = os.lstat(p)
                    snap[p] = (st.st_size, st.st_mtime_ns, st.st_mode)
                except OSError:
                    pass
        if os.path.isfile(top):
            st = os.lstat(top)
            snap[top] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return snap


def test_swaks_through_postfix_to_dovecot(binary):
    root = _root()
    dov = mailsrv.Dovecot(os.path.join(root, "dovecot"))
    pf = mailsrv.Postfix(os.path.join(root, "postfix"), dov.lmtp_port,
                         routes={"customer.test": ("lmtp", dov.lmtp_port)})
    check(not pf.queue(), "a fresh Postfix queue should be empty")
    # inbound: a customer writes to the helpdesk's domain
    out = mailsrv.swaks(pf.smtp_port, "support@kp.test",
                        _mail("Rechnung 4711 fehlt", "support@kp.test"))
    check(re.search(r"250 2\.0\.0 Ok: queued as", out), "swaks transcript: %s" % out[-500:])
    pf.wait_log(r"to=<support@kp\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d.*status=sent"
                % dov.lmtp_port)
    imap = dov.imap_login("support")
    try:
        eq(_subjects(imap), ["Rechnung 4711 fehlt"], "subjects in support's INBOX")
        typ, data = imap.fetch("1", "(BODY.PEEK[TEXT])")
        check(b"die Rechnung fehlt." in data[0][1], "delivered body: %r" % (data[0][1],))
    finally:
        imap.logout()
    # outbound: the helpdesk answers a customer of the second domain, routed by transport_maps;
    # UTF-8 and a leading dot in the body come through unchanged
    body = "Hallo J\u00fcrgen,\r\n.punkt am Zeilenanfang\r\n".encode()
    mailsrv.swaks(pf.smtp_port, "kunde@customer.test",
                  _mail("Re: Rechnung 4711 fehlt", "kunde@customer.test", "support@kp.test")
                  .replace(b"Guten Tag,\r\ndie Rechnung fehlt.\r\n", body),
                  sender="support@kp.test")
    pf.wait_log(r"to=<kunde@customer\.test>.*status=sent")
    imap = dov.imap_login("kunde")
    try:
        eq(_subjects(imap), ["Re: Rechnung 4711 fehlt"], "subjects in kunde's INBOX")
        typ, data = imap.fetch("1", "(BODY.PEEK[TEXT])")
        eq(data[0][1], body, "body of the answer")
    finally:
        imap.logout()
    # a domain without a route bounces at once instead of waiting for DNS
    mailsrv.swaks(pf.smtp_port, "someone@elsewhere.test", _mail("lost", "someone@elsewhere.test"),
                  sender="support@kp.test")
    pf.wait_log(r"to=<someone@elsewhere\.test>.*status=bounced \(no route outside the test\)")
    pf.wait_queue_empty()
    # the bounce went back to the sender's mailbox
    imap = dov.imap_login("support")
    try:
        subjects = _subjects(imap)
        eq(len(subjects), 2, "support's INBOX after the bounce (%r)" % subjects)
        check("Undelivered" in (subjects[1] or ""), "bounce subject %r" % subjects[1])
    finally:
        imap.logout()
    warnings = [l for l in pf.log().splitlines() if re.search(r": (warning|fatal|panic):", l)]
    eq(warnings, [], "warnings in the Postfix log")


def test_deferred_mail_is_retried_within_seconds(binary):
    root = _root()
    port = mailsrv.free_port()   # nothing listens there yet
    pf = mailsrv.Postfix(os.path.join(root, "postfix"), port)
    mailsrv.swaks(pf.smtp_port, "support@kp.test", _mail("später", "support@kp.test"))
    pf.wait_log(r"to=<support@kp\.test>.*status=deferred")
    eq(len(pf.queue()), 1, "messages in the queue while the LMTP server is down")
    dov = mailsrv.Dovecot(os.path.join(root, "dovecot"), lmtp_port=port)
    t0 = time.monotonic()
    pf.wait_log(r"to=<support@kp\.test>.*status=sent", timeout=10)   # no flush: backoff 1 s
    pf.wait_queue_empty(timeout=10)
    check(time.monotonic() - t0 < 8, "the retry took %.1f s" % (time.monotonic() - t0))
    eq(dov.count("support"), 1, "messages in support's INBOX after the retry")
    # flush() tries deferred mail at once
    dov.kill()
    mailsrv.swaks(pf.smtp_port, "support@kp.test", _mail("noch später", "support@kp.test"))
    pf.wait_log(r"to=<support@kp\.test>.*status=deferred", count=2)
    dov.restart()
    pf.flush()
    pf.wait_log(r"to=<support@kp\.test>.*status=sent", count=2, timeout=10)
    pf.wait_queue_empty(timeout=10)
    eq(dov.count("support"), 2, "messages in support's INBOX after flush()")


def test_thousand_messages_survive_a_dovecot_crash(binary):
    root = _root()
    dov = mailsrv.Dovecot(os.path.join(root, "dovecot"))
    for i in range(1000):
        dov.deliver("import", _mail("Nachricht %04d" % i, "import@kp.test"))
    eq(dov.count("import"), 1000, "messages in import's INBOX over IMAP")
    imap = dov.imap_login("import")
    try:
        imap.select("INBOX", readonly=True)
        typ, data = imap.search(None, "SUBJECT", '"Nachricht 0999"')
        eq(len(data[0].split()), 1, "IMAP SEARCH for the last message")
    finally:
        imap.logout()
    before = dov.processes()
    check(len(before) >= 3, "dovecot should run a master and children: %r" % before)
    dov.kill()
    eq(dov.processes(), [], "dovecot processes after kill()")
    check(not any(mailsrv.pid_alive(p) for p in before), "a killed process is still alive")
    dov.restart()
    eq(dov.count("import"), 1000, "messages in import's INBOX after kill() and restart()")
    dov.deliver("import", _mail("nach dem Neustart", "import@kp.test"))
    eq(dov.count("import"), 1001, "messages after one more delivery")


def test_stop_leaves_nothing_behind(binary):
    before = _config_snapshot()
    root = _root()
    dov = mailsrv.Dovecot(os.path.join(root, "dovecot"))
    pf = mailsrv.Postfix(os.path.join(root, "postfix"), dov.lmtp_port)
    mailsrv.swaks(pf.smtp_port, "support@kp.test", _mail("eine", "support@kp.test"))
    pf.wait_log(r"status=sent")
    imap = dov.imap_login("support")   # an open IMAP session while stopping
    pf_pids, dov_pids = pf.processes(), dov.processes()
    check(pf_pids and dov_pids, "both servers run processes: %r %r" % (pf_pids, dov_pids))
    pf.stop()
    dov.stop()
    try:
        imap.logout()
    except Exception:
        pass
    eq(pf.processes(), [], "postfix processes after stop()")
    eq(dov.processes(), [], "dovecot processes after stop()")
    left = [p for p in pf_pids + dov_pids if mailsrv.pid_alive(p)]
    eq(left, [], "processes of the servers still alive")
    # no process anywhere still uses the test's folder
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/cmdline" % name, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ")
            except OSError:
                continue
            check(root.encode() not in cmd, "process %s still runs from %s: %r" % (name, root, cmd))
    for port in (pf.smtp_port, dov.imap_port, dov.lmtp_port):
        with socket.socket() as sock:
            sock.settimeout(2)
            check(sock.connect_ex((mailsrv.HOST, port)) != 0,
                  "port %d still accepts connections after stop()" % port)
    eq(_config_snapshot(), before, "the machine's own Postfix and Dovecot configuration")
