# SPDX-License-Identifier: MIT
"""
email_load.py - the email channel's benchmarks, run by bench/run.sh (`make bench`).

    email_load.py lmtp    KP_BIN WORKDIR [total [conns]]
    email_load.py postfix KP_BIN WORKDIR [total [conns]]
    email_load.py imap    KP_BIN WORKDIR [total]

Each mode starts its own Knotenpunkt (kp.Server: fresh data folder, admin token, LMTP on an
ephemeral port), a private Dovecot and, for `postfix`, two private Postfixes with the same
settings (tests/integration/mailsrv.py), all on 127.0.0.1, and stops them all at the end.
It prints one line per measurement as `name key=value ...` for bench/run.sh:

lmtp     the corpus over `conns` parallel LMTP connections straight into Knotenpunkt, timed
         until the last mail is stored and indexed (GET /healthz: store.messages = total and
         store.pipeline_pending = 0); then the same mails with the same clients into Dovecot's
         LMTP (Maildir), timed until the last 250. With the CPU time of the clients, of the
         server and of the whole machine (from /proc/stat), and the server's RSS afterwards.
postfix  the corpus submitted over SMTP by `conns` parallel clients to a private Postfix that
         delivers to Knotenpunkt over LMTP, timed until Knotenpunkt has stored every mail; and
         the same through another Postfix, configured the same, delivering to Dovecot's LMTP,
         timed until every mail is in the Maildir; twice each, in the order Knotenpunkt,
         Dovecot, Dovecot, Knotenpunkt, with fresh servers each time; the rate of a route is
         its mails over its two runs' time.
imap     `total` mails put into a Dovecot mailbox (Dovecot.deliver), then an email inbox with
         imap_url on it and imap_poll_s 1, timed from the PUT until every mail is stored and
         indexed; reference: imaplib fetching the same mails with BODY.PEEK[], one UID FETCH
         per mail (as Knotenpunkt does) and all in one FETCH.

The corpus is generated here, deterministically (a fixed seed): text/plain + text/html
alternatives, about a third with a base64 PDF or PNG attachment of a few KB, about a third
replies (In-Reply-To and References to an earlier mail of the same sender), about a fifth in
ISO-8859-1 (quoted-printable, RFC 2047 subjects); about 10 KB on average.

The load clients are separate processes (fork), one connection each, speaking SMTP/LMTP over
raw sockets with PIPELINING (MAIL, RCPT, DATA in one write; the body after the 354) and
prepared, dot-stuffed bytes, so that they cost little CPU; the CPU they used is printed so
that a run can tell whether the client was the bottleneck. Every wait is bounded. Python 3
standard library only; needs root (the mail servers), like the integration tests.
"""
import base64
import http.client
import json
import multiprocessing
import os
import quopri
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import kp  # noqa: E402
import mailsrv  # noqa: E402

HOST = "127.0.0.1"
SUPPORT = "support@shop.test"
SEED = 20261127
RUN_TIMEOUT = 120.0      # any single load run or wait
CLK = os.sysconf("SC_CLK_TCK")

# The same Postfix settings for both routes: no waiting anywhere, enough processes for the
# clients and the LMTP deliveries, full LMTP concurrency from the start.
POSTFIX_TUNING = """\
default_process_limit = 200
lmtp_initial_destination_concurrency = 20
lmtp_destination_concurrency_limit = 20
lmtp_destination_recipient_limit = 50
lmtp_connection_cache_on_demand = yes
qmgr_message_active_limit = 20000
"""

# --------------------------------------------------------------------------------------------
# the corpus

WORDS_DE = ("Bestellung Rechnung Lieferung Paket Rücksendung Größe Farbe Kundennummer "
            "bitte danke leider schon wieder noch nicht angekommen falsch geliefert "
            "Umtausch Gutschein Zahlung Überweisung Adresse Straße möchte würde könnten "
            "Sie mir helfen Grüße freundlichen heute gestern nächste Woche").split()
WORDS_EN = ("order invoice delivery parcel return size colour customer number please "
            "thanks unfortunately again still not arrived wrong delivered exchange voucher "
            "payment transfer address street would could you help me regards kind today "
            "yesterday next week").split()
SUBJECTS = ["Bestellung KP-%05d", "Rechnung zu KP-%05d", "Lieferung fehlt (KP-%05d)",
            "Order KP-%05d not arrived", "Rücksendung KP-%05d", "Question about KP-%05d",
            "Größe passt nicht, KP-%05d", "Refund for KP-%05d"]
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
PDF_HEAD = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def _paragraphs(rng, words, nbytes):
    out, size = [], 0
    while size < nbytes:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(8, 14)))
        line = line[0].upper() + line[1:] + "."
        out.append(line)
        size += len(line) + 2
    return out


def _qp(text, charset):
    return quopri.encodestring(text.encode(charset).replace(b"\n", b"\r\n")).replace(
        b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _b64_lines(data):
    b = base64.b64encode(data)
    return b"\r\n".join(b[i:i + 76] for i in range(0, len(b), 76)) + b"\r\n"


def _subject_header(subject, latin1):
    if latin1 and any(ord(c) > 127 for c in subject):
        q = quopri.encodestring(subject.encode("iso-8859-1"), header=True).decode()
        return "=?ISO-8859-1?Q?%s?=" % q.replace("?", "=3F")
    if any(ord(c) > 127 for c in subject):
        return "=?UTF-8?B?%s?=" % base64.b64encode(subject.encode()).decode()
    return subject


def corpus(total, rcpt_domain="shop.test"):
    """total mails as bytes (CRLF), always the same for the same total."""
    rng = random.Random(SEED)
    mails, meta = [], []
    for i in range(total):
        latin1 = rng.random() < 0.2
        charset = "iso-8859-1" if latin1 else "utf-8"
        words = WORDS_DE if (latin1 or rng.random() < 0.6) else WORDS_EN
        parent = None
        if i >= 60 and rng.random() < 0.33:
            parent = meta[rng.randint(max(0, i - 400), i - 50)]
        if parent:
            sender = parent["sender"]
            subject = parent["subject"] if parent["subject"].startswith("Re: ") else \
                "Re: " + parent["subject"]
            refs = parent["refs"] + [parent["msgid"]]
        else:
            sender = rng.randint(1, 700)
            subject = rng.choice(SUBJECTS) % rng.randint(1, 99999)
            refs = []
        msgid = "bench-%06d.%d@customer.test" % (i, SEED)
        meta.append({"sender": sender, "subject": subject, "msgid": msgid, "refs": refs[-5:]})
        name = "Kundin Müller %d" % sender if latin1 else "Kunde %d" % sender
        hdr = ["From: %s <kunde%d@customer.test>" % (_subject_header(name, latin1), sender),
               "To: Support <%s>" % SUPPORT.replace("shop.test", rcpt_domain),
               "Subject: %s" % _subject_header(subject, latin1),
               "Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S +0100",
                                          time.gmtime(1790000000 + i * 37)),
               "Message-ID: <%s>" % msgid,
               "MIME-Version: 1.0"]
        if parent:
            hdr.append("In-Reply-To: <%s>" % parent["msgid"])
            hdr.append("References: %s" % " ".join("<%s>" % r for r in refs[-5:]))
        paras = _paragraphs(rng, words, rng.randint(900, 3600))
        plain = "\n".join(paras) + "\n\n-- \nKunde %d\n" % sender
        html = ("<html><body>" + "".join("<p>%s</p>\n" % p for p in paras) +
                "<p>--<br>Kunde %d</p></body></html>\n" % sender)
        alt_b = "alt-%06d" % i
        alt = ["--" + alt_b,
               "Content-Type: text/plain; charset=%s" % charset,
               "Content-Transfer-Encoding: quoted-printable", ""]
        body = "\r\n".join(alt).encode() + b"\r\n" + _qp(plain, charset) + b"\r\n"
        body += ("--%s\r\nContent-Type: text/html; charset=%s\r\n"
                 "Content-Transfer-Encoding: quoted-printable\r\n\r\n" % (alt_b, charset)).encode()
        body += _qp(html, charset) + ("\r\n--%s--\r\n" % alt_b).encode()
        if rng.random() < 0.35:
            mix_b = "mix-%06d" % i
            if rng.random() < 0.5:
                ctype, fname, head = "application/pdf", "rechnung-%d.pdf" % i, PDF_HEAD
            else:
                ctype, fname, head = "image/png", "foto-%d.png" % i, PNG_HEAD
            blob = head + rng.randbytes(rng.randint(3000, 12000))
            part = ("--%s\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
                    % (mix_b, alt_b)).encode() + body
            part += ("\r\n--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
                     "Content-Disposition: attachment; filename=\"%s\"\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n"
                     % (mix_b, ctype, fname, fname)).encode()
            part += _b64_lines(blob) + ("--%s--\r\n" % mix_b).encode()
            hdr.append("Content-Type: multipart/mixed; boundary=\"%s\"" % mix_b)
            body = part
        else:
            hdr.append("Content-Type: multipart/alternative; boundary=\"%s\"" % alt_b)
        mails.append("\r\n".join(hdr).encode() + b"\r\n\r\n" + body)
    return mails


def dot_stuff(raw):
    """raw as the DATA phase sends it: dot-stuffed, ending in CRLF . CRLF."""
    if not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    if raw.startswith(b"."):
        raw = b"." + raw
    return raw.replace(b"\r\n.", b"\r\n..") + b".\r\n"


# --------------------------------------------------------------------------------------------
# the load client: one process per connection


class Conn:
    def __init__(self, port, lmtp, pipelining):
        self.pipelining = pipelining
        self.s = socket.create_connection((HOST, port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.reply("greeting")
        self.s.sendall(b"%s bench.customer.test\r\n" % (b"LHLO" if lmtp else b"EHLO"))
        self.reply("LHLO" if lmtp else "EHLO")

    def reply(self, what):
        """Reads one (multi-line) reply; returns its code."""
        while True:
            i = self.buf.find(b"\r\n")
            while i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                if len(line) < 4 or line[3:4] != b"-":
                    return int(line[:3])
                i = self.buf.find(b"\r\n")
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection after %s" % what)
            self.buf += chunk

    def send(self, sender, rcpt, data):
        """One mail; True when it was accepted (250 after the data)."""
        if self.pipelining:
            self.s.sendall(b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (sender, rcpt))
            c1, c2, c3 = self.reply("MAIL"), self.reply("RCPT"), self.reply("DATA")
        else:
            self.s.sendall(b"MAIL FROM:<%s>\r\n" % sender)
            c1 = self.reply("MAIL")
            self.s.sendall(b"RCPT TO:<%s>\r\n" % rcpt)
            c2 = self.reply("RCPT")
            self.s.sendall(b"DATA\r\n")
            c3 = self.reply("DATA")
        if c1 != 250 or c2 != 250 or c3 != 354:
            if c3 == 354:
                self.s.sendall(b".\r\n")
                self.reply("data")
            else:
                self.s.sendall(b"RSET\r\n")
                self.reply("RSET")
            return False
        self.s.sendall(data)
        return self.reply("data") == 250

    def close(self):
        try:
            self.s.sendall(b"QUIT\r\n")
            self.reply("QUIT")
        except OSError:
            pass
        self.s.close()


def _client(port, lmtp, pipelining, rcpt, datas, senders, start, results):
    ok = err = 0
    t_end = None
    try:
        c = Conn(port, lmtp, pipelining)
        start.wait(RUN_TIMEOUT)
        deadline = time.monotonic() + RUN_TIMEOUT
        for data, sender in zip(datas, senders):
            if c.send(sender, rcpt, data):
                ok += 1
            else:
                err += 1
            if time.monotonic() > deadline:
                break
        t_end = time.monotonic()
        c.close()
    except Exception as e:  # reported, counted as errors
        sys.stderr.write("email_load: client: %s\n" % e)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    results.put((ok, err, t_end, ru.ru_utime + ru.ru_stime))


def cpu_total():
    """(busy, all) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


def proc_cpu(pid):
    """CPU seconds of pid (all threads)."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Load:
    """conns client processes, connected and waiting; go() releases them."""

    def __init__(self, port, lmtp, rcpt, mails, conns, pipelining=True):
        ctx = multiprocessing.get_context("fork")
        self.start = ctx.Event()
        self.results = ctx.Queue()
        self.procs = []
        self.total = len(mails)
        datas = [dot_stuff(m) for m in mails]
        senders = [b"kunde%d@customer.test" % (i % 700) for i in range(len(mails))]
        for k in range(conns):
            # mail i goes to connection i % conns: the mails leave in about corpus order
            p = ctx.Process(target=_client,
                            args=(port, lmtp, pipelining, rcpt.encode(), datas[k::conns],
                                  senders[k::conns], self.start, self.results))
            p.start()
            self.procs.append(p)
        time.sleep(0.3)  # the connections are up and greeted

    def go(self):
        self.cpu0 = cpu_total()
        self.t0 = time.monotonic()
        self.start.set()
        return self.t0

    def wait(self):
        """Waits for every client; returns (ok, errors, last client end, client CPU s)."""
        ok = err = 0
        t_end = self.t0
        cpu = 0.0
        for _ in self.procs:
            o, e, t, c = self.results.get(timeout=RUN_TIMEOUT + 30)
            ok, err, cpu = ok + o, err + e, cpu + c
            t_end = max(t_end, t or t_end)
        for p in self.procs:
            p.join(10)
        return ok, err, t_end, cpu

    def machine_cores(self):
        b0, a0 = self.cpu0
        b1, a1 = cpu_total()
        return (b1 - b0) / max(1, a1 - a0) * os.cpu_count()


# --------------------------------------------------------------------------------------------
# Knotenpunkt


def healthz(srv):
    c = http.client.HTTPConnection(HOST, srv.port, timeout=10)
    try:
        c.request("GET", "/healthz")
        return json.loads(c.getresponse().read())["store"]
    finally:
        c.close()


def wait_store(srv, messages, indexed, timeout=RUN_TIMEOUT, every=0.02):
    """Waits until the store holds `messages` messages (and, with indexed, none pending);
    returns (monotonic time it was seen, last healthz store)."""
    deadline = time.monotonic() + timeout
    while True:
        st = healthz(srv)
        if st["messages"] >= messages and (not indexed or st["pipeline_pending"] == 0):
            return time.monotonic(), st
        if time.monotonic() > deadline:
            return None, st
        time.sleep(every)


def writer_stats(srv):
    """(commits, write jobs, seconds in commits) from the server's /metrics."""
    st, _, body = srv.admin().request("GET", "/metrics")
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    v = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            v[parts[0]] = float(parts[1])
    return (v.get("kp_store_commits_total", 0), v.get("kp_store_writes_total", 0),
            v.get("kp_store_commit_duration_seconds_sum", 0.0))


def start_kp(binary, env=None):
    e = {"KNOTENPUNKT_LMTP_LISTEN": "127.0.0.1:0",
         "KNOTENPUNKT_SYNC": os.environ.get("BENCH_SYNC", "full")}
    e.update(env or {})
    srv = kp.Server(binary, e)
    kp.check(srv.lmtp_port, "the server printed no 'lmtp on' line")
    return srv


def email_inbox(srv, settings=None):
    admin = srv.admin()
    inbox = admin.post("/api/v1/inboxes", {"name": "Shop mail", "channel": "email"})
    body = {"address": SUPPORT}
    body.update(settings or {})
    admin.put("/api/v1/inboxes/%d/email" % inbox["id"], body)
    return admin, inbox


def maildir_count(dov, user):
    d = os.path.join(dov.mail, user)
    n = 0
    for sub in ("new", "cur"):
        try:
            n += len(os.listdir(os.path.join(d, sub)))
        except FileNotFoundError:
            pass
    return n


def perf_start(pid, name):
    """With EMAIL_LOAD_PERF=DIR: `perf record` of the server while it runs under load, into
    DIR/NAME.data (read with `perf report -i ... --no-children --sort comm,dso,sym`)."""
    out = os.environ.get("EMAIL_LOAD_PERF")
    if not out:
        return None
    os.makedirs(out, exist_ok=True)
    p = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "999",
                          "--call-graph", "dwarf,16384", "-p", str(pid), "-o",
                          os.path.join(out, name + ".data")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return p


def perf_stop(p):
    if p is not None:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def fmt(name, **kw):
    print(name + " " + " ".join("%s=%s" % (k, ("%.3f" % v if isinstance(v, float) else v))
                                for k, v in kw.items()), flush=True)


# --------------------------------------------------------------------------------------------
# modes


def lmtp_kp(binary, mails, conns, pipelining, name):
    srv = start_kp(binary)
    try:
        email_inbox(srv)
        load = Load(srv.lmtp_port, True, SUPPORT, mails, conns, pipelining)
        commits0, jobs0, csecs0 = writer_stats(srv)
        rss0 = rss_kb(srv.proc.pid)
        perf = perf_start(srv.proc.pid, name)
        cpu0 = proc_cpu(srv.proc.pid)
        t0 = load.go()
        ok, err, t_ack, ccpu = load.wait()
        t_done, st = wait_store(srv, ok, True)
        perf_stop(perf)
        machine = load.machine_cores()
        scpu = proc_cpu(srv.proc.pid) - cpu0
        rss = rss_kb(srv.proc.pid)
        wall = (t_done or time.monotonic()) - t0
        commits, jobs, csecs = writer_stats(srv)
        commits, jobs, csecs = commits - commits0, jobs - jobs0, csecs - csecs0
        fmt(name, ok=ok, errors=err, stored=st["messages"], pending=st["pipeline_pending"],
            conversations=st["conversations"], complete=int(t_done is not None),
            ack_s=t_ack - t0, ack_per_s=ok / (t_ack - t0), secs=wall, per_s=ok / wall,
            client_cpu_s=ccpu, client_cores=ccpu / wall, server_cpu_s=scpu,
            server_cores=scpu / wall, machine_cores=machine, rss_kb=rss, rss_before_kb=rss0,
            commits=int(commits),
            jobs_per_commit=jobs / max(1, commits), commit_s=csecs)
        srv.stop()
    finally:
        srv.cleanup()


def mode_lmtp(binary, work, total, conns):
    mails = corpus(total)
    size = sum(len(m) for m in mails)
    fmt("corpus", mails=total, bytes=size, avg_bytes=size // total)
    # as a mail server sends: MAIL, RCPT and DATA in one write (Postfix's LMTP client does)
    lmtp_kp(binary, mails, conns, True, "lmtp_kp")
    # each command awaited: what the server manages when no answer waits on another
    lmtp_kp(binary, mails, conns, False, "lmtp_kp_nopipe")

    dov = mailsrv.Dovecot(os.path.join(work, "dovecot-lmtp"))
    try:
        load = Load(dov.lmtp_port, True, "support@shop.test", mails, conns)
        t0 = load.go()
        ok, err, t_ack, ccpu = load.wait()
        machine = load.machine_cores()
        wall = t_ack - t0
        n = maildir_count(dov, "support")
        fmt("lmtp_dovecot", ok=ok, errors=err, stored=n, secs=wall, per_s=ok / wall,
            client_cpu_s=ccpu, client_cores=ccpu / wall, machine_cores=machine)
    finally:
        dov.cleanup()


def postfix_kp(binary, work, mails, conns, name):
    """One run: SMTP into a fresh Postfix, LMTP into a fresh Knotenpunkt; returns the fields."""
    srv = start_kp(binary)
    pf = None
    try:
        email_inbox(srv)
        pf = mailsrv.Postfix(os.path.join(work, "postfix-" + name), srv.lmtp_port,
                             domain="shop.test", main_cf_extra=POSTFIX_TUNING)
        load = Load(pf.smtp_port, False, SUPPORT, mails, conns)
        cpu0 = proc_cpu(srv.proc.pid)
        t0 = load.go()
        ok, err, t_sub, ccpu = load.wait()
        t_done, st = wait_store(srv, ok, False, every=0.02)
        t_idx, st2 = wait_store(srv, ok, True, timeout=30, every=0.02)
        machine = load.machine_cores()
        scpu = proc_cpu(srv.proc.pid) - cpu0
        wall = (t_done or time.monotonic()) - t0
        r = dict(ok=ok, errors=err, stored=st["messages"], complete=int(t_done is not None),
                 submit_s=t_sub - t0, submit_per_s=ok / (t_sub - t0), secs=wall, per_s=ok / wall,
                 indexed_s=(t_idx or time.monotonic()) - t0, client_cores=ccpu / wall,
                 server_cores=scpu / wall, machine_cores=machine)
        fmt(name, **r)
        pf.stop()
        srv.stop()
        return r
    finally:
        if pf:
            pf.cleanup()
        srv.cleanup()


def postfix_dovecot(work, mails, conns, name):
    """One run: SMTP into a fresh Postfix, LMTP into a fresh Dovecot; returns the fields."""
    dov = mailsrv.Dovecot(os.path.join(work, "dovecot-" + name))
    pf = None
    try:
        pf = mailsrv.Postfix(os.path.join(work, "postfix-" + name), dov.lmtp_port,
                             domain="shop.test", main_cf_extra=POSTFIX_TUNING)
        load = Load(pf.smtp_port, False, SUPPORT, mails, conns)
        t0 = load.go()
        ok, err, t_sub, ccpu = load.wait()
        deadline = time.monotonic() + RUN_TIMEOUT
        n = maildir_count(dov, "support")
        while n < ok and time.monotonic() < deadline:
            time.sleep(0.02)
            n = maildir_count(dov, "support")
        t_done = time.monotonic()
        machine = load.machine_cores()
        wall = t_done - t0
        r = dict(ok=ok, errors=err, stored=n, complete=int(n >= ok), submit_s=t_sub - t0,
                 submit_per_s=ok / (t_sub - t0), secs=wall, per_s=ok / wall,
                 client_cores=ccpu / wall, machine_cores=machine)
        fmt(name, **r)
        pf.stop()
        return r
    finally:
        if pf:
            pf.cleanup()
        dov.cleanup()


def _combine(name, runs):
    """Sums of two runs of the same mails: rates over the total time; runs= each rate."""
    ok = sum(r["ok"] for r in runs)
    secs = sum(r["secs"] for r in runs)
    sub = sum(r["submit_s"] for r in runs)
    out = dict(ok=ok, errors=sum(r["errors"] for r in runs),
               stored=sum(r["stored"] for r in runs),
               complete=int(all(r["complete"] for r in runs)), secs=secs, per_s=ok / secs,
               submit_per_s=ok / sub, runs="/".join("%.0f" % r["per_s"] for r in runs),
               machine_cores=sum(r["machine_cores"] * r["secs"] for r in runs) / secs)
    if "server_cores" in runs[0]:
        out["server_cores"] = sum(r["server_cores"] * r["secs"] for r in runs) / secs
    fmt(name, **out)


def mode_postfix(binary, work, total, conns):
    mails = corpus(total)
    fmt("corpus", mails=total, bytes=sum(len(m) for m in mails))
    # Knotenpunkt, Dovecot, Dovecot, Knotenpunkt: a machine that gets busier or quieter
    # during the runs weighs on both routes alike
    k1 = postfix_kp(binary, work, mails, conns, "postfix_kp_1")
    d1 = postfix_dovecot(work, mails, conns, "postfix_dovecot_1")
    d2 = postfix_dovecot(work, mails, conns, "postfix_dovecot_2")
    k2 = postfix_kp(binary, work, mails, conns, "postfix_kp_2")
    _combine("postfix_kp", [k1, k2])
    _combine("postfix_dovecot", [d1, d2])


def imap_reference(dov, total):
    """(seconds for one UID FETCH per mail, seconds for one FETCH of all, bytes)."""
    imap = dov.imap_login("support")
    try:
        t0 = time.monotonic()
        typ, data = imap.select("INBOX", readonly=True)
        typ, data = imap.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
        bulk = time.monotonic() - t0
        nbytes = sum(len(p[1]) for p in data if isinstance(p, tuple))
        kp.check(sum(1 for p in data if isinstance(p, tuple)) == total,
                 "imaplib fetched %d mails, not %d" % (len(data), total))
    finally:
        imap.logout()
    imap = dov.imap_login("support")
    try:
        t0 = time.monotonic()
        imap.select("INBOX", readonly=True)
        typ, data = imap.uid("SEARCH", None, "ALL")
        uids = data[0].split()
        got = 0
        for u in uids:
            typ, parts = imap.uid("FETCH", u, "(UID BODY.PEEK[])")
            got += 1 if typ == "OK" and isinstance(parts[0], tuple) else 0
        each = time.monotonic() - t0
        kp.check(got == total, "imaplib fetched %d of %d mails one by one" % (got, total))
    finally:
        imap.logout()
    return each, bulk, nbytes


def mode_imap(binary, work, total):
    mails = corpus(total, rcpt_domain="kp.test")
    dov = mailsrv.Dovecot(os.path.join(work, "dovecot-imap"))
    srv = None
    try:
        t0 = time.monotonic()
        for m in mails:
            dov.deliver("support", m)
        fmt("imap_setup", delivered=dov.count("support"), deliver_s=time.monotonic() - t0)
        each, bulk, nbytes = imap_reference(dov, total)
        fmt("imap_imaplib", mails=total, bytes=nbytes, each_s=each, each_per_s=total / each,
            bulk_s=bulk, bulk_per_s=total / bulk)

        srv = start_kp(binary)
        admin = srv.admin()
        inbox = admin.post("/api/v1/inboxes", {"name": "Shop mail", "channel": "email"})
        perf = perf_start(srv.proc.pid, "imap_kp")
        cpu0 = proc_cpu(srv.proc.pid)
        t0 = time.monotonic()
        admin.put("/api/v1/inboxes/%d/email" % inbox["id"], {
            "address": SUPPORT, "imap_url": "imap://127.0.0.1:%d/INBOX" % dov.imap_port,
            "imap_user": "support", "imap_password": mailsrv.PASSWORD, "imap_poll_s": 1})
        t_stored, st = wait_store(srv, total, False, every=0.02)
        t_idx, st2 = wait_store(srv, total, True, timeout=30, every=0.02)
        perf_stop(perf)
        scpu = proc_cpu(srv.proc.pid) - cpu0
        wall = (t_stored or time.monotonic()) - t0
        fmt("imap_kp", stored=st["messages"], complete=int(t_stored is not None), secs=wall,
            per_s=st["messages"] / wall, indexed_s=(t_idx or time.monotonic()) - t0,
            server_cores=scpu / wall, rss_kb=rss_kb(srv.proc.pid))
        srv.stop()
    finally:
        if srv:
            srv.cleanup()
        dov.cleanup()


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("lmtp", "postfix", "imap"):
        sys.exit(__doc__)
    mode, binary, work = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    tempfile.tempdir = work  # kp.Server's data folder goes there too
    total = int(sys.argv[4]) if len(sys.argv) > 4 else (1000 if mode == "imap" else 10000)
    conns = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    try:
        if mode == "lmtp":
            mode_lmtp(binary, work, total, conns)
        elif mode == "postfix":
            mode_postfix(binary, work, total, conns)
        else:
            mode_imap(binary, work, total)
    finally:
        for s in list(kp.LIVE_SERVERS):
            try:
                s.cleanup()
            except Exception as e:
                sys.stderr.write("email_load: cleanup: %s\n" % e)


if __name__ == "__main__":
    main()
