# SPDX-License-Identifier: MIT
"""t006 - the command line: help and version, settings from a config file, the environment
and flags in that order, and agent administration with `knotenpunkt user`."""
import os
import re
import subprocess
import tempfile
import threading
import time

import kp
from kp import check, eq


def run(srv, *args, env=None, rc=0):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([srv.binary] + list(args), capture_output=True, text=True, env=e,
                       timeout=30)
    eq(p.returncode, rc, "exit code of %s (stderr: %s)" % (" ".join(args), p.stderr[-300:]))
    return p.stdout, p.stderr


def test_help_and_version(srv):
    out, _ = run(srv, "--help")
    for cmd in ("serve", "demo", "user", "migrate", "version"):
        check(cmd in out, "knotenpunkt --help does not list %r" % cmd)
    for cmd in ("serve", "demo", "migrate"):
        out, _ = run(srv, cmd, "--help")
        check("KNOTENPUNKT_LISTEN" in out and "usage" in out,
              "%s --help lacks usage or settings: %s" % (cmd, out[:200]))
    out, _ = run(srv, "user", "--help")
    check("token" in out and "passwd" in out, "user --help: %s" % out[:200])
    out, _ = run(srv, "version")
    check(re.match(r"knotenpunkt \d+\.\d+\.\d+", out), "version output %r" % out)
    _, err = run(srv, "fly", rc=2)
    check("unknown command" in err, "unknown command message: %r" % err)
    _, err = run(srv, "serve", "--listen", "nowhere", rc=2)
    check("listen" in err, "bad --listen message: %r" % err)


def test_user_admin(srv):
    data = srv.data
    run(srv, "user", "add", "--data", data, "--email", "lea@test.example", "--name", "Lea",
        "--role", "agent", "--password", "first-pass-1")
    _, err = run(srv, "user", "add", "--data", data, "--email", "lea@test.example", "--name",
                 "Lea", rc=1)
    check("exists" in err, "adding an existing email: %r" % err)
    run(srv, "user", "add", "--data", data, "--email", "x@test.example", "--role", "boss", rc=2)
    out, _ = run(srv, "user", "list", "--data", data)
    check("lea@test.example" in out and "agent" in out, "user list: %r" % out)
    run(srv, "user", "passwd", "--data", data, "--email", "lea@test.example", "--password",
        "second-pass-2")
    c = kp.Client(srv.port)
    st, _, _ = c.request("POST", "/api/v1/session",
                         {"email": "lea@test.example", "password": "first-pass-1"})
    eq(st, 401, "login with the old password")
    c.login("lea@test.example", "second-pass-2")
    out, _ = run(srv, "user", "token", "--data", data, "--email", "lea@test.example")
    tok = out.strip()
    check(tok.startswith("kpt_"), "user token output %r" % out)
    eq(kp.Client(srv.port, tok).get("/api/v1/session")["agent"]["email"], "lea@test.example",
       "the new token's agent")


def test_config_file_env_flags(srv):
    srv.stop()
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "kp.conf")
        with open(conf, "w") as f:
            f.write("# test settings\nlisten = 127.0.0.1:1\nlog_level = warn\n"
                    "max_body = 2048\ndata = %s\n" % srv.data)
        # the environment beats the file, a flag beats both
        p = subprocess.Popen([srv.binary, "serve", "--config", conf, "--listen", "127.0.0.1:0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env=dict(os.environ, KNOTENPUNKT_MAX_BODY="4096"))
        try:
            line = p.stdout.readline()
            m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", line)
            check(m and int(m.group(1)) > 1, "listening line %r" % line)
            c = kp.Client(int(m.group(1)), srv.token)
            body = {"sender": {"kind": "email", "value": "m@x.example"}, "text": "y" * 3000}
            inbox = kp.make_inbox(c, "Conf")
            st, _, _ = c.request("POST", "/api/v1/inboxes/%d/messages" % inbox["id"], body)
            eq(st, 201, "a 3,000-byte body under KNOTENPUNKT_MAX_BODY=4096 (file says 2048)")
            body["text"] = "y" * 5000
            st, _, _ = c.request("POST", "/api/v1/inboxes/%d/messages" % inbox["id"], body)
            eq(st, 413, "a 5,000-byte body over KNOTENPUNKT_MAX_BODY=4096")
        finally:
            p.terminate()
            eq(p.wait(10), 0, "exit code after SIGTERM")
    _, err = run(srv, "serve", "--config", "/nonexistent/kp.conf", rc=2)
    check("cannot open config file" in err, "missing config file: %r" % err)
    srv.start()


def test_backup_and_restore(srv):
    """A backup taken while the server runs and takes messages restores into a new data
    directory with everything that was committed before it started."""
    admin = srv.admin()
    inbox = kp.make_inbox(admin, "Backup")
    before = [kp.ingest(admin, inbox["id"], "nia%d@customer.example" % i, "kept %d" % i)
              for i in range(20)]
    stop = threading.Event()

    def keep_posting():
        c = srv.client(srv.token)
        i = 0
        while not stop.is_set():
            kp.ingest(c, inbox["id"], "ongoing@customer.example", "during the backup %d" % i)
            i += 1

    t = threading.Thread(target=keep_posting)
    t.start()
    with tempfile.TemporaryDirectory() as d:
        file = os.path.join(d, "kp.backup")
        try:
            time.sleep(0.2)
            out, _ = run(srv, "backup", "--data", srv.data, file)
        finally:
            stop.set()
            t.join(30)
        check(os.path.getsize(file) > 0 and "wrote" in out, "backup output %r" % out)
        _, err = run(srv, "backup", "--data", srv.data, file, rc=1)
        check("exists" in err, "a second backup onto the same file: %r" % err)
        target = os.path.join(d, "restored")
        out, _ = run(srv, "restore", "--data", target, file)
        check("restored" in out, "restore output %r" % out)
        _, err = run(srv, "restore", "--data", target, file, rc=1)
        check("already holds" in err, "restoring over a database: %r" % err)
        junk = os.path.join(d, "junk")
        with open(junk, "wb") as f:
            f.write(b"not a database" * 100)
        _, err = run(srv, "restore", "--data", os.path.join(d, "other"), junk, rc=1)
        check("not an intact" in err, "restoring junk: %r" % err)
        p = subprocess.Popen([srv.binary, "serve", "--data", target, "--listen", "127.0.0.1:0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env=dict(os.environ, KNOTENPUNKT_LOG_LEVEL="warn"))
        try:
            m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", p.stdout.readline())
            check(m, "the restored server did not start")
            c = kp.Client(int(m.group(1)), srv.token)
            for r in before:
                conv = c.get("/api/v1/conversations/%d" % r["conversation_id"])
                eq([x["id"] for x in conv["messages"]], [r["message_id"]],
                   "restored conversation %d" % r["conversation_id"])
        finally:
            p.terminate()
            eq(p.wait(10), 0, "restored server exit code")
