# SPDX-License-Identifier: MIT
"""t007 - operating the server: Prometheus metrics, one JSON log line per request, the
connection limit, and SIGTERM under load (every acknowledged message stays stored)."""
import json
import re
import signal
import threading
import time

import kp
from kp import check, eq


def metric(text, name, labels=""):
    """The value of a sample `name{labels} value`; labels is the exact brace content."""
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape("{%s}" % labels) if labels else ""),
                  text, re.M)
    return float(m.group(1)) if m else None


def test_metrics(srv):
    admin = srv.admin()
    inbox = kp.make_inbox(admin, "Metrics")
    for i in range(3):
        kp.ingest(admin, inbox["id"], "m%d@customer.example" % i, "count me")
    admin.request("GET", "/api/v1/nothing-here")
    ws = kp.WebSocket(srv.port, "/api/v1/stream", {"Authorization": "Bearer " + srv.token})
    try:
        ws.recv_json()
        st, hdrs, body = admin.request("GET", "/metrics")
        eq(st, 200, "GET /metrics")
        check(hdrs.get("content-type", "").startswith("text/plain"), "metrics content type")
        text = body.decode() if isinstance(body, bytes) else body
        route = 'route="/api/v1/inboxes/{id}/messages",status="201"'
        eq(metric(text, "kp_http_requests_total", route), 3.0, "ingest requests counted")
        eq(metric(text, "kp_http_requests_total", 'route="(unknown)",status="404"'), 1.0,
           "unknown route counted")
        eq(metric(text, "kp_messages_ingested_total", 'channel="api"'), 3.0, "messages ingested")
        eq(metric(text, "kp_websockets_open"), 1.0, "open WebSockets")
        check((metric(text, "kp_store_commits_total") or 0) >= 3, "store commits counted")
        check((metric(text, "kp_store_commit_duration_seconds_count") or 0) >= 3,
              "commit latency histogram has samples")
        inf = metric(text, "kp_http_request_duration_seconds_bucket",
                     'route="/api/v1/inboxes/{id}/messages",le="+Inf"')
        eq(inf, 3.0, "latency histogram +Inf bucket of the ingest route")
    finally:
        ws.close()


@kp.env(KNOTENPUNKT_LOG_LEVEL="info")
def test_request_log_lines(srv):
    c = srv.client(srv.token)
    st, hdrs, _ = c.request("GET", "/api/v1/conversations?limit=3")
    eq(st, 200, "list")
    rid = hdrs.get("x-request-id")
    check(rid, "answers carry X-Request-Id")
    deadline = time.monotonic() + 5
    found = None
    while found is None and time.monotonic() < deadline:
        for line in srv.stderr_tail(20000).splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("req") == rid:
                found = rec
        time.sleep(0.05)
    check(found is not None, "no log line for request %s" % rid)
    eq(found.get("route"), "/api/v1/conversations", "logged route")
    eq(found.get("status"), 200, "logged status")
    eq(found.get("method"), "GET", "logged method")
    check(isinstance(found.get("ms"), (int, float)), "logged latency: %r" % found)
    check("ts" in found and found.get("level") == "info", "logged time and level: %r" % found)


@kp.env(KNOTENPUNKT_MAX_CONNECTIONS="4")
def test_connection_limit(srv):
    held = []
    try:
        for i in range(3):  # the harness keeps none open; 3 + the probe below fill the limit
            s = kp.connect(srv.port)
            s.sendall(kp.build_request("GET", "/healthz", port=srv.port))
            eq(kp.read_response(kp.RawReader(s), "GET", "/healthz")[0], 200, "held %d" % i)
            held.append(s)
        fourth = kp.connect(srv.port)
        held.append(fourth)
        fourth.sendall(kp.build_request("GET", "/healthz", port=srv.port))
        eq(kp.read_response(kp.RawReader(fourth), "GET", "/healthz")[0], 200, "fourth")
        over = kp.connect(srv.port)
        got = kp.read_response(kp.RawReader(over), "GET", "(over the limit)")
        check(got is not None, "a connection over the limit got no answer")
        kp.expect_error(got, 503, "overloaded", "connection over the limit")
        over.close()
        # overload is the one 5xx that is right: it is no bad input, and it says retry later
        kp.SEEN_5XX.remove("GET (over the limit) -> 503")
    finally:
        for s in held:
            s.close()
    time.sleep(0.2)
    eq(srv.client(srv.token).request("GET", "/healthz")[0], 200, "healthz after the limit")


@kp.timeout(120)
def test_sigterm_under_load(srv):
    admin = srv.admin()
    inbox = kp.make_inbox(admin, "Term")
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def post(n):
        c = kp.Client(srv.port, srv.token)
        i = 0
        while not stop.is_set():
            ext = "t%d-%d" % (n, i)
            try:
                st, _, body = c.request("POST", "/api/v1/inboxes/%d/messages" % inbox["id"],
                                        {"sender": {"kind": "email", "value": "s%d@x.example" % n},
                                         "text": "term " + ext, "external_id": ext})
            except OSError:
                return  # the server is gone: this one was never acknowledged
            if st in (200, 201):
                with lock:
                    acked.append(ext)
            elif st == 0:
                return
            i += 1

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.7)
    srv.proc.send_signal(signal.SIGTERM)
    code = srv.proc.wait(30)
    stop.set()
    for t in threads:
        t.join(30)
    eq(code, 0, "exit code after SIGTERM under load")
    check(len(acked) > 50, "too few messages acknowledged before SIGTERM: %d" % len(acked))
    srv.start()
    admin = srv.admin()
    stored = set()
    convs, _ = kp.all_pages(admin, "/api/v1/conversations?inbox_id=%d" % inbox["id"], limit=100)
    for conv in convs:
        after = 0
        while True:
            page = admin.get("/api/v1/conversations/%d/messages?after=%d&limit=200"
                             % (conv["id"], after))["items"]
            if not page:
                break
            stored.update(m["external_id"] for m in page)
            after = page[-1]["id"]
    missing = [x for x in acked if x not in stored]
    check(not missing, "%d acknowledged messages are missing after SIGTERM: %s"
          % (len(missing), missing[:5]))


def test_port_in_use(srv):
    """A second server on a port that is taken refuses to start; the first keeps serving."""
    import os
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([srv.binary, "serve", "--data", d, "--listen",
                            "127.0.0.1:%d" % srv.port], capture_output=True, text=True,
                           timeout=20, env=dict(os.environ, KNOTENPUNKT_LOG_LEVEL="warn"))
    eq(p.returncode, 1, "exit code of a second server on the same port")
    check("address already in use" in p.stderr, "error message: %r" % p.stderr[-300:])
    eq(srv.client(srv.token).request("GET", "/healthz")[0], 200, "the first server")
