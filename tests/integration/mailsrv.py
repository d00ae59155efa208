# SPDX-License-Identifier: MIT
"""
mailsrv.py - a private Postfix and a private Dovecot for the email channel's tests, on
127.0.0.1 with their own ports, run from a folder of the test run, with no effect on the
machine's own mail setup: the system's main.cf, master.cf and dovecot.conf are not read, and
nothing under /etc, /var/spool/postfix or /var/lib/dovecot is written (Postfix still reads
its program files in /etc/postfix: postfix-script, postfix-files, dynamicmaps.cf). Python 3
standard library only. Needs root, like the tests.

    dov = Dovecot(os.path.join(root, "dovecot"))          # IMAP + LMTP, any user, PASSWORD
    pf = Postfix(os.path.join(root, "postfix"), dov.lmtp_port)   # kp.test -> that LMTP
    swaks(pf.smtp_port, "support@kp.test", b"Subject: hi\\r\\n\\r\\nhello\\r\\n")
    pf.wait_log(r"status=sent")
    imap = dov.imap_login("support")

Postfix(dir, lmtp_port, domain="kp.test", routes=None, relayhost=None, main_cf_extra="")
    Mail to `domain` (a virtual mailbox domain, every address accepted) goes to LMTP on
    127.0.0.1:lmtp_port. `routes` sends other domains elsewhere: {"customer.test":
    ("lmtp", port)} or ("smtp", port), or a Postfix transport string. Mail for any other
    domain goes to `relayhost` ("127.0.0.1:port" or a port, by SMTP) when given, else it
    bounces at once ("no route outside the test"). Clients on 127.0.0.0/8 may relay.
    main_cf_extra: lines appended to main.cf (bench/email_load.py tunes for throughput).
    Helpers: wait_log(regex), log(), queue(), queue_empty(), wait_queue_empty(), flush(),
    stop(), kill(), processes().
Dovecot(dir)
    IMAP on imap_port, LMTP on lmtp_port; any user logs in with PASSWORD; Maildir under
    dir/mail/%n (the local part: "alice" and "alice@customer.test" share one mailbox).
    Helpers: imap_login(user), deliver(user, raw), count(user), kill(), restart(), stop(),
    processes().
swaks(port, to, data, sender=..., timeout=...)  runs the swaks binary; returns its output.

Both servers register in kp.LIVE_SERVERS, so run.py's watchdog kills them and its cleanup
stops them and removes their folders after each test (KP_KEEP_DATA=1 keeps the folders).

Timings measured on this machine (Debian 12, 2 cores, as root; medians of 5 runs):
    Postfix 3.7  start 0.34 s (0.30-0.39) until smtpd answers its banner
                 stop  0.08 s (rarely 1.1 s) until the master and every child are gone
    Dovecot 2.3  start 0.03 s until IMAP and LMTP accept connections
                 stop  1.1 s: the master takes a second to exit after SIGTERM
                 kill() + restart() 0.08 s
    deliver(): about 230 messages/s over one LMTP connection (1,000 in 4.3 s; pipelining
    would save only a fifth: Dovecot's delivery itself takes 3.5 ms), count() of 1,000: 0.03 s
    swaks -> Postfix -> Dovecot LMTP -> visible over IMAP: 0.14 s for one message.
What made these fast: Postfix's `postfix` command sleeps (0.3 s steps, about 2 s) while
main.cf is very young, so config files are written dated a minute back; Dovecot's master
leaves open IMAP sessions running for 10 s after it exits, so stop() sends them SIGTERM; and
Dovecot processes wait 5 s at shutdown for the stats process unless
stats_writer_socket_path is empty.
"""
import grp
import imaplib
import json
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

import kp
from kp import check, fail

HOST = "127.0.0.1"
PASSWORD = "mail-pass-1"     # Dovecot accepts it for every user
MAIL_USER = "nobody"         # owner of the Maildirs
MAIL_GROUP = "nogroup"
CMD_TIMEOUT = 30             # any postfix/postqueue/dovecot/swaks command
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0


def free_port():
    """An ephemeral port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port, timeout, what, alive=None):
    """Waits until 127.0.0.1:port accepts a connection; alive() False means give up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            pass
        if alive is not None and not alive():
            fail("%s died before listening on port %d" % (what, port))
        if time.monotonic() > deadline:
            fail("%s does not listen on port %d after %.0f s" % (what, port, timeout))
        time.sleep(0.02)


def run(args, what, timeout=CMD_TIMEOUT, env=None, check_rc=True):
    """Runs a command; returns (rc, stdout + stderr as text). Fails on a nonzero exit. The
    output goes through a file, not a pipe: a daemon the command starts inherits it."""
    with tempfile.TemporaryFile() as outf:
        try:
            r = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=outf,
                               stderr=subprocess.STDOUT, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            fail("%s: '%s' did not finish within %d s" % (what, " ".join(args), timeout))
        outf.seek(0)
        out = outf.read().decode(errors="replace")
    if check_rc and r.returncode != 0:
        fail("%s: '%s' exited %d: %s" % (what, " ".join(args), r.returncode, out.strip()))
    return r.returncode, out


def _make_dir(path, mode=0o755, owner=None, group=None):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, pwd.getpwnam(owner).pw_uid,
                 grp.getgrnam(group).gr_gid if group else -1)


def _let_daemons_in(path):
    """The daemons run as postfix, dovecot, dovenull and nobody: they must be able to walk
    down to path. Folders under the temporary directory (mkdtemp makes them 0700) get o+x;
    anything else must already allow it."""
    tmp = os.path.realpath(tempfile.gettempdir())
    p = os.path.realpath(path)
    while p not in ("/", tmp) and p.startswith(tmp + "/"):
        st = os.stat(p)
        if not st.st_mode & 0o001:
            os.chmod(p, (st.st_mode & 0o7777) | 0o011)
        p = os.path.dirname(p)


def _write(path, text, mode=0o644):
    """Writes a config file dated a minute back: Postfix waits (up to 2 s, in 0.3 s steps)
    while its main.cf is younger than a second."""
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    past = time.time() - 60
    os.utime(path, (past, past))


def pid_alive(pid):
    """True while pid runs (a zombie waiting for init to reap it counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:][:1] not in ("Z", "X", "")


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _sid_of(pid):
    try:
        return os.getsid(pid) if pid else None
    except ProcessLookupError:
        return None


def session_processes(sid):
    """Pids of the live processes in session sid (both masters call setsid, and their
    children stay in the session even when the master is gone)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...; comm may hold spaces and parentheses
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 3 and fields[0] != "Z" and int(fields[3]) == sid:
            found.append(int(name))
    return found


def _kill_session(sid, sig=signal.SIGKILL, timeout=STOP_TIMEOUT):
    """Signals every process of session sid until none is left."""
    deadline = time.monotonic() + timeout
    while True:
        pids = session_processes(sid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            fail("processes %s of session %d survive signal %d" % (pids, sid, sig))
        time.sleep(0.02)


def _wait_gone(sid, timeout):
    deadline = time.monotonic() + timeout
    while session_processes(sid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _remove(path):
    if os.environ.get("KP_KEEP_DATA") != "1":
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Postfix

MAIN_CF = """\
# A private Postfix for tests (tests/integration/mailsrv.py); nothing outside {dir} is used.
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
# Postfix 3.4+ logs to a file without syslog through the postlog service (master.cf)
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
syslog_name = postfix-test
myhostname = mx.{domain}
mydomain = {domain}
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery in tests
biff = no
append_dot_mydomain = no
smtputf8_enable = yes
message_size_limit = 52428800

# the helpdesk's domain: every address, by LMTP
virtual_mailbox_domains = {domain}
virtual_mailbox_maps =
virtual_alias_maps =
virtual_transport = lmtp:inet:127.0.0.1:{lmtp_port}
# other domains of the test, by SMTP or LMTP to given ports; the rest to relayhost or bounced
relay_domains = {relay_domains}
transport_maps = texthash:{dir}/etc/transport
relayhost = {relayhost}
default_transport = {default_transport}

# accept from loopback without questions
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_reject_unlisted_recipient = no
smtpd_tls_security_level = none
smtp_tls_security_level = none
lmtp_tls_security_level = none
smtpd_peername_lookup = no

# fast for tests: no DNS at all, short timeouts, deferred mail retried within seconds
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtp_connect_timeout = 5s
lmtp_connect_timeout = 5s
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
delay_warning_time = 0h
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
default_destination_rate_delay = 0
notify_classes =
"""

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
{smtp_port} inet n - n - - smtpd
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


# /etc/postfix/postfix-files: $queue_directory's folders (name, owner, group, mode)
QUEUE_DIRS = [("", "root", "root", 0o755), ("pid", "root", "root", 0o755),
              ("maildrop", "postfix", "postdrop", 0o730), ("public", "postfix", "postdrop", 0o710)]
QUEUE_DIRS += [(d, "postfix", "root", 0o700) for d in (
    "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private",
    "saved", "trace")]


def _transport(route):
    """("lmtp", port) / ("smtp", port) / a Postfix transport string."""
    if isinstance(route, str):
        return route
    kind, port = route
    if kind == "lmtp":
        return "lmtp:inet:127.0.0.1:%d" % port
    if kind == "smtp":
        return "smtp:[127.0.0.1]:%d" % port   # brackets: no MX lookup
    raise ValueError("route kind must be lmtp or smtp, not %r" % kind)


class _Daemon:
    """What Postfix and Dovecot share: a master whose pid is in pid_file and which starts a
    session of its own (sid), so that its children are found and killed by the session."""

    def master_pid(self):
        pid = _read_pid(self.pid_file)
        return pid if pid and pid_alive(pid) else None

    def processes(self):
        """Pids of the master and its children."""
        if self.sid is None:
            self.sid = _sid_of(self.master_pid())
        return session_processes(self.sid) if self.sid else []

    def alive(self):
        return bool(self.processes())


class Postfix(_Daemon):
    """A private Postfix, started by `postfix -c DIR/etc start`; see the module doc."""

    def __init__(self, dir=None, lmtp_port=None, domain="kp.test", routes=None,
                 relayhost=None, smtp_port=None, main_cf_extra=""):
        check(lmtp_port is not None, "Postfix needs the LMTP port for %s" % domain)
        self.dir = os.path.abspath(dir) if dir else tempfile.mkdtemp(prefix="kp-postfix-")
        self.domain = domain
        self.lmtp_port = lmtp_port
        self.smtp_port = smtp_port or free_port()
        self.etc = os.path.join(self.dir, "etc")
        self.maillog = os.path.join(self.dir, "maillog")
        self.pid_file = os.path.join(self.dir, "queue", "pid", "master.pid")
        self.sid = None
        self.start_seconds = self.stop_seconds = None
        os.makedirs(self.dir, exist_ok=True)
        _let_daemons_in(self.dir)
        os.chmod(self.dir, 0o755)
        _make_dir(self.etc)
        # the queue as Postfix's post-install would create it (that takes 2 s on first start)
        for name, owner, group, mode in QUEUE_DIRS:
            _make_dir(os.path.join(self.dir, "queue", name), mode, owner, group)
        _make_dir(os.path.join(self.dir, "data"), 0o700, "postfix", "postfix")
        routes = dict(routes or {})
        _write(os.path.join(self.etc, "transport"),
               "".join("%s %s\n" % (d, _transport(r)) for d, r in sorted(routes.items())))
        _write(os.path.join(self.etc, "main.cf"), MAIN_CF.format(
            dir=self.dir, domain=domain, lmtp_port=lmtp_port,
            relay_domains=", ".join(sorted(routes)),
            relayhost="[127.0.0.1]:%d" % int(str(relayhost).rsplit(":", 1)[-1])
            if relayhost else "",
            default_transport="smtp" if relayhost else
            "error:5.1.2 no route outside the test") + main_cf_extra)
        _write(os.path.join(self.etc, "master.cf"),
               MASTER_CF.format(smtp_port="%s:%d" % (HOST, self.smtp_port)))
        open(self.maillog, "a").close()
        kp.LIVE_SERVERS.append(self)
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise

    def _env(self):
        e = dict(os.environ)
        e["MAIL_CONFIG"] = self.etc
        return e

    def postfix(self, *args, check_rc=True):
        return run(["postfix", "-c", self.etc] + list(args), "postfix", env=self._env(),
                   check_rc=check_rc)

    def start(self):
        t0 = time.monotonic()
        check(self.sid is None or not session_processes(self.sid), "postfix already running")
        self.postfix("start")
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            pid = _read_pid(self.pid_file)
            if pid and pid_alive(pid):
                break
            check(time.monotonic() < deadline, "postfix master did not write %s; log: %s"
                  % (self.pid_file, self.log_tail()))
            time.sleep(0.02)
        self.sid = _sid_of(pid)
        wait_port(self.smtp_port, START_TIMEOUT, "postfix smtpd",
                  lambda: pid_alive(pid))
        self._wait_banner()
        self.start_seconds = time.monotonic() - t0

    def _wait_banner(self):
        """smtpd answers its 220 banner (the master listens before smtpd is spawned)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with socket.create_connection((HOST, self.smtp_port), timeout=5) as s:
                    s.settimeout(5)
                    if s.recv(512).startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        return
            except OSError:
                pass
            check(time.monotonic() < deadline, "postfix smtpd sends no banner; log: %s"
                  % self.log_tail())
            time.sleep(0.05)

    def stop(self):
        """`postfix stop`; SIGKILL whatever is left after STOP_TIMEOUT."""
        t0 = time.monotonic()
        if not self.alive():
            return
        rc, out = self.postfix("stop", check_rc=False)
        if not _wait_gone(self.sid, STOP_TIMEOUT):
            _kill_session(self.sid)
            fail("postfix did not stop within %.0f s (%s)" % (STOP_TIMEOUT, out.strip()))
        self.stop_seconds = time.monotonic() - t0

    def kill(self):
        """SIGKILL the master and its children; the queue stays."""
        if self.processes():
            _kill_session(self.sid)

    def cleanup(self):
        try:
            if self.alive():
                self.postfix("stop", check_rc=False)
                if not _wait_gone(self.sid, 5):
                    self.kill()
        finally:
            self.kill()
            _remove(self.dir)
            if self in kp.LIVE_SERVERS:
                kp.LIVE_SERVERS.remove(self)

    # the log and the queue

    def log(self):
        try:
            with open(self.maillog, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n=1500):
        text = self.log()
        return text[-n:]

    def wait_log(self, regex, timeout=15, count=1):
        """Waits until regex matches `count` lines of the maillog; returns the matches."""
        rx = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in (rx.search(line) for line in self.log().splitlines()) if m]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                fail("postfix log: %d of %d lines match %r within %.0f s; log ends: %s"
                     % (len(found), count, regex, timeout, self.log_tail()))
            time.sleep(0.05)

    def queue(self):
        """The queued messages, as `postqueue -j` describes them (a list of dicts)."""
        _, out = run(["postqueue", "-c", self.etc, "-j"], "postqueue", env=self._env())
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def queue_empty(self):
        return not self.queue()

    def wait_queue_empty(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            q = self.queue()
            if not q:
                return
            if time.monotonic() > deadline:
                fail("postfix queue still holds %d messages after %.0f s: %s"
                     % (len(q), timeout, json.dumps(q)[:800]))
            time.sleep(0.1)

    def flush(self):
        """postqueue -f: tries every deferred message now."""
        run(["postqueue", "-c", self.etc, "-f"], "postqueue -f", env=self._env())


# --------------------------------------------------------------------------------------------
# Dovecot

DOVECOT_CONF = """\
# A private Dovecot for tests (tests/integration/mailsrv.py). No !include: nothing of
# /etc/dovecot is read; what is not set here is Dovecot's built-in default.
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
instance_name = dovecot-test-{imap_port}
listen = 127.0.0.1
protocols = imap lmtp
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
hostname = imap.test
postmaster_address = postmaster@kp.test
mail_location = maildir:{dir}/mail/%n
mail_fsync = never
# no stats process connections: at shutdown, processes would wait 5-10 s for its handshake
stats_writer_socket_path =
first_valid_uid = 1
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/mail/%n allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
# SASL for a Postfix that asks clients to log in (smtpd_sasl_path = inet:127.0.0.1:auth_port)
service auth {{
  inet_listener {{
    address = 127.0.0.1
    port = {auth_port}
  }}
}}
"""


def make_cert(dir):
    """A self-signed certificate for 127.0.0.1 (and localhost) in dir: (cert, key) paths. The
    certificate is its own CA: give it to clients as their CA file."""
    os.makedirs(dir, exist_ok=True)
    cert, key = os.path.join(dir, "cert.pem"), os.path.join(dir, "key.pem")
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", key, "-out", cert], "openssl")
    os.chmod(key, 0o644)  # the servers' unprivileged processes read it in tests
    return cert, key


class Dovecot(_Daemon):
    """A private Dovecot, started by `dovecot -c FILE`; see the module doc. With tls=(cert,
    key): TLS required (STARTTLS on imap_port, implicit TLS on imaps_port)."""

    def __init__(self, dir=None, imap_port=None, lmtp_port=None, tls=None):
        self.dir = os.path.abspath(dir) if dir else tempfile.mkdtemp(prefix="kp-dovecot-")
        self.imaps_port = free_port() if tls else 0
        self.imap_port = imap_port or free_port()
        self.lmtp_port = lmtp_port or free_port()
        self.auth_port = free_port()
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.pid_file = os.path.join(self.dir, "run", "master.pid")
        self.log_file = os.path.join(self.dir, "dovecot.log")
        self.mail = os.path.join(self.dir, "mail")
        self.sid = None
        self._lmtp = None
        self.start_seconds = self.stop_seconds = None
        os.makedirs(self.dir, exist_ok=True)
        _let_daemons_in(self.dir)
        os.chmod(self.dir, 0o755)
        _make_dir(self.mail, 0o700, MAIL_USER, MAIL_GROUP)
        pw = pwd.getpwnam(MAIL_USER)
        conf = DOVECOT_CONF.format(
            dir=self.dir, imap_port=self.imap_port, lmtp_port=self.lmtp_port,
            auth_port=self.auth_port, password=PASSWORD, uid=pw.pw_uid, gid=grp.getgrnam(MAIL_GROUP).gr_gid)
        if tls:
            conf = conf.replace("ssl = no\n", "ssl = required\nssl_cert = <%s\nssl_key = <%s\n"
                                % tls).replace("  inet_listener imaps {\n    port = 0\n",
                                               "  inet_listener imaps {\n    address = 127.0.0.1\n"
                                               "    port = %d\n" % self.imaps_port)
        _write(self.conf, conf)
        kp.LIVE_SERVERS.append(self)
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise

    def start(self):
        t0 = time.monotonic()
        check(not self.alive(), "dovecot already running")
        if _read_pid(self.pid_file) and not self.master_pid():
            # left by kill(); Dovecot would take a dead master that init has not reaped yet
            # for a running one
            os.unlink(self.pid_file)
        run(["dovecot", "-c", self.conf], "dovecot")
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            pid = self.master_pid()
            if pid:
                break
            check(time.monotonic() < deadline, "dovecot wrote no %s; log: %s"
                  % (self.pid_file, self.log_tail()))
            time.sleep(0.01)
        self.sid = _sid_of(pid)
        alive = lambda: pid_alive(pid)  # noqa: E731
        wait_port(self.imap_port, START_TIMEOUT, "dovecot imap", alive)
        wait_port(self.lmtp_port, START_TIMEOUT, "dovecot lmtp", alive)
        self.start_seconds = time.monotonic() - t0

    def _drop_lmtp(self):
        if self._lmtp is not None:
            try:
                self._lmtp.close()
            except OSError:
                pass
            self._lmtp = None

    def stop(self):
        """SIGTERM to the pid in base_dir/master.pid; waits until every process is gone. The
        master exits within about a second, but leaves open IMAP sessions running for 10 s
        more; those get a SIGTERM of their own once the master is gone."""
        t0 = time.monotonic()
        self._drop_lmtp()
        pid = self.master_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
        if self.sid and self.processes():
            for p in self.processes():
                try:
                    os.kill(p, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            if not _wait_gone(self.sid, STOP_TIMEOUT):
                _kill_session(self.sid)
                fail("dovecot did not stop within %.0f s of SIGTERM" % STOP_TIMEOUT)
        self.stop_seconds = time.monotonic() - t0

    def kill(self):
        """SIGKILL the master and all its children, as a crash would."""
        self._drop_lmtp()
        if self.processes():
            _kill_session(self.sid)

    def restart(self):
        """Starts again on the same folder (after kill() or stop())."""
        if self.alive():
            self.stop()
        self.start()

    def cleanup(self):
        try:
            if self.alive():
                self.stop()
        finally:
            self.kill()
            _remove(self.dir)
            if self in kp.LIVE_SERVERS:
                kp.LIVE_SERVERS.remove(self)

    def log_tail(self, n=1500):
        try:
            with open(self.log_file, "rb") as f:
                return f.read().decode(errors="replace")[-n:]
        except OSError:
            return ""

    # mail

    def imap_login(self, user, password=PASSWORD, timeout=15):
        """An imaplib.IMAP4 connection logged in as user; the caller logs out."""
        imap = imaplib.IMAP4(HOST, self.imap_port, timeout=timeout)
        try:
            imap.login(user, password)
        except BaseException:
            imap.shutdown()
            raise
        return imap

    def count(self, user, mailbox="INBOX"):
        """Number of messages in a user's mailbox, over IMAP."""
        imap = self.imap_login(user)
        try:
            typ, data = imap.select(mailbox, readonly=True)
            check(typ == "OK", "IMAP SELECT %s for %s: %r" % (mailbox, user, data))
            return int(data[0])
        finally:
            imap.logout()

    def deliver(self, user, raw, sender="sender@customer.test", timeout=15):
        """Puts one message (bytes, CRLF or LF) into user's INBOX over LMTP; the connection is
        kept for the next call. user without a domain gets @kp.test."""
        rcpt = user if "@" in user else user + "@kp.test"
        for attempt in (1, 2):
            if self._lmtp is None:
                self._lmtp = smtplib.LMTP(HOST, self.lmtp_port, timeout=timeout)
                self._lmtp.ehlo_or_helo_if_needed()
            try:
                refused = self._lmtp.sendmail(sender, [rcpt], raw)
                check(not refused, "LMTP refused %s: %r" % (rcpt, refused))
                return
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self._drop_lmtp()
                if attempt == 2:
                    raise


# --------------------------------------------------------------------------------------------
# swaks


def swaks(server_port, to, data, sender="kunde@customer.test", timeout=30, extra=()):
    """Sends one mail with the swaks binary to 127.0.0.1:server_port. data: the message as
    bytes/str (arrives exactly so), or the path of a prepared file (swaks adds an empty last
    line unless the file ends with a "." line). swaks dot-stuffs. Returns swaks' transcript;
    fails when swaks exits nonzero (any 4xx/5xx)."""
    tmp = None
    try:
        if isinstance(data, (bytes, str)) and not (isinstance(data, str)
                                                   and os.path.isfile(data)):
            raw = data.encode() if isinstance(data, str) else data
            # swaks ends the data with CRLF "." CRLF itself, adding an empty line to a message
            # that ends in CRLF, unless the final dot is there already
            if raw.endswith(b"\n"):
                raw += b".\r\n"
            fd, tmp = tempfile.mkstemp(prefix="kp-swaks-", suffix=".eml")
            with os.fdopen(fd, "wb") as f:
                f.write(raw)
            path = tmp
        else:
            path = data
        args = ["swaks", "--server", "%s:%d" % (HOST, server_port), "--to", to,
                "--from", sender, "--data", "@" + path, "--timeout", "%ds" % timeout,
                "--helo", "client.customer.test"] + list(extra)
        _, out = run(args, "swaks", timeout=timeout + 10)
        return out
    finally:
        if tmp:
            os.unlink(tmp)
