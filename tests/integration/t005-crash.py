# SPDX-License-Identifier: MIT
"""t005 - nothing acknowledged is lost, nothing is stored twice: 10,000 messages from 16
keep-alive clients while the server is killed with SIGKILL four times and restarted.
Clients retry their current message with the same Idempotency-Key after a connection error
until it is acknowledged; afterwards every acknowledged message is stored exactly once."""
import http.client
import json
import threading
import time

import kp
from kp import check, eq, fail

THREADS = 16
PER_THREAD = 625                    # 16 x 625 = 10,000
TOTAL = THREADS * PER_THREAD
KILL_AT = (1400, 3900, 6300, 8600)  # acknowledged messages before each SIGKILL
POST_DEADLINE = 150                 # seconds for all posting, restarts included


def ext_id(t, i):
    return "crash-%02d-%04d" % (t, i)


@kp.timeout(280)
def test_crash_loses_nothing(srv):
    admin = srv.admin()
    inbox = kp.make_inbox(admin, "Crash inbox")
    path = "/api/v1/inboxes/%d/messages" % inbox["id"]
    lock = threading.Lock()
    st = {"port": srv.port, "acked": 0, "kills": [], "reconnects": 0}
    acks = {}          # external_id -> (status, message_id, conversation_id)
    errors = []
    bad_status = []    # non-2xx answers seen
    abort = threading.Event()
    deadline = time.monotonic() + POST_DEADLINE

    def worker(t):
        conn = None
        try:
            for i in range(PER_THREAD):
                ext = ext_id(t, i)
                body = json.dumps({"sender": {"kind": "api", "value": "crash-sender-%02d" % t},
                                   "text": "crash message " + ext, "external_id": ext}).encode()
                headers = {"Authorization": "Bearer " + srv.token,
                           "Content-Type": "application/json", "Idempotency-Key": "idem-" + ext}
                while True:
                    if abort.is_set():
                        return
                    if time.monotonic() > deadline:
                        errors.append("thread %d: %s not acknowledged within %d s"
                                      % (t, ext, POST_DEADLINE))
                        return
                    if conn is None:
                        with lock:
                            port = st["port"]
                        conn = http.client.HTTPConnection(kp.HOST, port, timeout=10)
                    try:
                        conn.request("POST", path, body, headers)
                        resp = conn.getresponse()
                        data = resp.read()
                    except (OSError, http.client.HTTPException):
                        conn.close()
                        conn = None
                        with lock:
                            st["reconnects"] += 1
                        time.sleep(0.02)
                        continue
                    if resp.will_close:
                        conn.close()
                        conn = None
                    if resp.status in (200, 201):
                        r = json.loads(data)
                        if resp.status == 201 and r.get("duplicate") is not False:
                            errors.append("%s: 201 with duplicate=%r" % (ext, r.get("duplicate")))
                        if resp.status == 200 and r.get("duplicate") is not True:
                            errors.append("%s: 200 with duplicate=%r" % (ext, r.get("duplicate")))
                        with lock:
                            acks[ext] = (resp.status, r["message_id"], r["conversation_id"])
                            st["acked"] += 1
                        break
                    with lock:
                        bad_status.append("%s -> %d %s" % (ext, resp.status, data[:200]))
                    if resp.status < 500:
                        errors.append("%s refused: %d %s" % (ext, resp.status, data[:200]))
                        return
                    time.sleep(0.05)  # 5xx: retry the same message
        except Exception as e:  # noqa: B902 - reported as a test failure
            errors.append("thread %d: %s: %s" % (t, type(e).__name__, e))
        finally:
            if conn is not None:
                conn.close()

    def killer():
        try:
            for at in KILL_AT:
                while not abort.is_set():
                    with lock:
                        n = st["acked"]
                    if n >= at:
                        break
                    time.sleep(0.005)
                if abort.is_set():
                    return
                srv.kill()
                with lock:
                    st["kills"].append(st["acked"])
                srv.restart()
                with lock:
                    st["port"] = srv.port
        except Exception as e:  # noqa: B902
            errors.append("killer: %s: %s" % (type(e).__name__, e))
            abort.set()

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(THREADS)]
    kt = threading.Thread(target=killer, daemon=True)
    try:
        for th in threads:
            th.start()
        kt.start()
        for th in threads:
            th.join(POST_DEADLINE + 30)
        abort.set()
        kt.join(30)
    finally:
        abort.set()

    check(not any(th.is_alive() for th in threads), "client threads still running")
    if errors:
        fail("%d client errors: %s" % (len(errors), "; ".join(errors[:8])))
    eq(len(st["kills"]), len(KILL_AT), "SIGKILLs done")
    check(all(n < TOTAL for n in st["kills"]), "a SIGKILL came after all messages were "
          "acknowledged: %r" % st["kills"])
    check(srv.alive(), "server not running after the last restart")
    check(not bad_status, "non-2xx answers: %s" % "; ".join(bad_status[:5]))
    eq(len(acks), TOTAL, "acknowledged messages")

    # read everything back through the API
    admin = kp.Client(srv.port, srv.token, timeout=30)
    convs, _ = kp.all_pages(admin, "/api/v1/conversations?inbox_id=%d" % inbox["id"], limit=100)
    stored = {}        # external_id -> [(message id, conversation id, text)]
    for c in convs:
        after = None
        while True:
            q = "/api/v1/conversations/%d/messages?limit=100" % c["id"]
            if after is not None:
                q += "&after=%d" % after
            items = admin.get(q)["items"]
            if not items:
                break
            for m in items:
                stored.setdefault(m.get("external_id"), []).append((m["id"], c["id"], m["text"]))
            check(items[-1]["id"] != after, "messages?after= does not advance")
            after = items[-1]["id"]
    twice = sorted(e for e, v in stored.items() if len(v) > 1)
    missing = sorted(e for e in acks if e not in stored)
    unknown = sorted(str(e) for e in stored if e not in acks)
    check(not missing, "%d acknowledged messages lost, e.g. %s" % (len(missing), missing[:5]))
    check(not twice, "%d messages stored more than once, e.g. %s" % (len(twice), twice[:5]))
    check(not unknown, "%d unexpected messages stored, e.g. %s" % (len(unknown), unknown[:5]))
    eq(sum(len(v) for v in stored.values()), TOTAL, "messages stored")
    eq(sum(c["message_count"] for c in convs), TOTAL, "sum of conversations' message_count")
    wrong_id = [e for e, a in acks.items() if stored[e][0][0] != a[1] or stored[e][0][1] != a[2]]
    check(not wrong_id, "%d acknowledgements name other ids than stored, e.g. %s -> %r vs %r"
          % (len(wrong_id), wrong_id[:1], acks[wrong_id[0]] if wrong_id else None,
             stored[wrong_id[0]] if wrong_id else None))
    wrong_text = [e for e, v in stored.items() if v[0][2] != "crash message " + e]
    check(not wrong_text, "message text differs for %s" % wrong_text[:5])
    for t in range(THREADS):
        mine = [stored[ext_id(t, i)][0] for i in range(PER_THREAD)]
        eq(len({m[1] for m in mine}), 1, "conversations of sender %d" % t)
        ids = [m[0] for m in mine]
        check(ids == sorted(ids), "sender %d's messages stored out of posting order" % t)
    eq(len(convs), THREADS, "conversations (one per sender)")
    # the pipeline caught up across the kills: each message is in the search index once
    kp.wait_pipeline(admin, timeout=60)
    for e in sorted(acks)[::TOTAL // 25]:
        hits = admin.get("/api/v1/search?q=%s" % kp.urlquote('"crash message %s"' % e))["items"]
        eq([h["message_id"] for h in hits], [acks[e][1]], "search hits for %s" % e)
    print("    crash: kills at %r acknowledged, %d reconnects, %d duplicates answered"
          % (st["kills"], st["reconnects"], sum(1 for a in acks.values() if a[0] == 200)))
