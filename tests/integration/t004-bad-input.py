# SPDX-License-Identifier: MIT
"""t004 - malformed requests get the right 4xx with a JSON error, never a 5xx or a crash;
slow clients are cut off by the request timeout without stalling others."""
import json
import select
import signal
import socket
import time
import urllib.parse

import kp
from kp import check, eq, fail


def setup(srv):
    admin = srv.admin()
    red = kp.make_team(admin, "Red")
    inbox = kp.make_inbox(admin, "Red inbox", red["id"])
    kp.make_agent(admin, "ute@test.example", "Ute", [red["id"]])
    agent = kp.agent_client(srv, "ute@test.example")
    agent.id = next(a["id"] for a in admin.get("/api/v1/agents")["items"]
                    if a["email"] == "ute@test.example")
    r = kp.ingest(admin, inbox["id"], "c@customer.example", "hello")
    return admin, agent, inbox, r


def send_head_first(port, head, body, method, path):
    """Sends the header block, gives the server a chance to refuse before the body, then
    sends the body; returns (status, headers, body)."""
    s = kp.connect(port, timeout=15)
    try:
        s.sendall(head)
        r = kp.RawReader(s)
        ready, _, _ = select.select([s], [], [], 2.0)
        if not ready:
            try:
                s.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
        got = kp.read_response(r, method, path)
        check(got is not None, "%s %s: closed without a response" % (method, path))
        return got
    finally:
        s.close()


def test_malformed_requests(srv):
    admin, agent, inbox, r = setup(srv)
    P = srv.port
    tok = srv.token
    ING = "/api/v1/inboxes/%d/messages" % inbox["id"]
    CONV = "/api/v1/conversations/%d" % r["conversation_id"]
    sender = {"kind": "email", "value": "x@customer.example"}

    def js(obj):
        return json.dumps(obj).encode()

    # (name, method, path, body bytes, extra headers, status, codes); body None = no body.
    # Default headers: Bearer admin token, Content-Type application/json.
    cases = [
        ("malformed JSON", "POST", ING, b'{"sender": {"kind": "email", "value": "x@c"', {},
         400, "invalid_json"),
        ("trailing garbage after JSON", "POST", ING,
         js({"sender": sender, "text": "a"}) + b" trailing", {}, 400, "invalid_json"),
        ("empty body", "POST", ING, b"", {}, 400, ("invalid_json", "bad_request")),
        ("JSON array instead of object", "POST", ING, b'[{"text": "a"}]', {}, 400,
         ("wrong_type", "invalid_json", "bad_request")),
        ("JSON string instead of object", "POST", ING, b'"hello"', {}, 400,
         ("wrong_type", "invalid_json", "bad_request")),
        ("text as number", "POST", ING, js({"sender": sender, "text": 42}), {}, 400,
         "wrong_type"),
        ("sender as string", "POST", ING, js({"sender": "x@c.example", "text": "a"}), {}, 400,
         "wrong_type"),
        ("sender.value as list", "POST", ING,
         js({"sender": {"kind": "email", "value": ["x"]}, "text": "a"}), {}, 400, "wrong_type"),
        ("attachments as object", "POST", ING,
         js({"sender": sender, "text": "a", "attachments": {"a": 1}}), {}, 400, "wrong_type"),
        ("missing sender", "POST", ING, js({"text": "a"}), {}, 400, "missing_field"),
        ("missing sender.value", "POST", ING, js({"sender": {"kind": "email"}, "text": "a"}),
         {}, 400, "missing_field"),
        ("missing sender.kind", "POST", ING, js({"sender": {"value": "x@c"}, "text": "a"}),
         {}, 400, "missing_field"),
        ("unknown field on ingest", "POST", ING,
         js({"sender": sender, "text": "a", "colour": "blue"}), {}, 400, "unknown_field"),
        ("unknown field in sender", "POST", ING,
         js({"sender": dict(sender, age=3), "text": "a"}), {}, 400, "unknown_field"),
        ("invalid UTF-8 in a string", "POST", ING,
         b'{"sender": {"kind": "email", "value": "x@c"}, "text": "caf\xc3\x28 \xff"}', {},
         400, ("invalid_utf8", "invalid_json")),
        ("raw NUL byte in a string", "POST", ING,
         b'{"sender": {"kind": "email", "value": "x@c"}, "text": "a\x00b"}', {}, 400,
         ("invalid_json", "invalid_value", "bad_request", "invalid_utf8")),
        ("escaped NUL in text", "POST", ING,
         b'{"sender": {"kind": "email", "value": "x@c"}, "text": "a\\u0000b"}', {}, 400,
         ("invalid_json", "invalid_value")),
        ("JSON nested 1000 deep", "POST", ING,
         b'{"sender": ' + b"[" * 1000 + b"]" * 1000 + b', "text": "a"}', {}, 400, "too_deep"),
        ("objects nested 1000 deep", "POST", "/api/v1/contacts",
         b'{"attributes": ' + b'{"a":' * 1000 + b"1" + b"}" * 1000 + b"}", {}, 400, "too_deep"),
        ("invalid base64 attachment", "POST", ING,
         js({"sender": sender, "text": "a", "attachments": [
             {"filename": "a.png", "content_type": "image/png", "data": "@@not base64!!"}]}),
         {}, 400, "invalid_value"),
        ("attachment without data", "POST", ING,
         js({"sender": sender, "text": "a", "attachments": [
             {"filename": "a.png", "content_type": "image/png"}]}), {}, 400, "missing_field"),
        ("bad sent_at", "POST", ING, js({"sender": sender, "text": "a", "sent_at": "yesterday"}),
         {}, 400, "invalid_value"),
        ("sent_at month 13", "POST", ING,
         js({"sender": sender, "text": "a", "sent_at": "2024-13-01T10:00:00Z"}), {}, 400,
         "invalid_value"),
        ("text/plain content type", "POST", ING, js({"sender": sender, "text": "a"}),
         {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        ("form content type", "POST", "/api/v1/teams", b"name=x",
         {"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
        ("no content type on POST", "POST", "/api/v1/teams", js({"name": "x"}),
         {"Content-Type": None}, 415, "unsupported_media_type"),
        ("unknown route", "GET", "/api/v1/nothing-here", None, {}, 404, "not_found"),
        ("unknown sub-route", "GET", CONV + "/bogus", None, {}, 404, "not_found"),
        ("wrong method on collection", "PUT", "/api/v1/conversations", js({}), {}, 405,
         "method_not_allowed"),
        ("wrong method on item", "DELETE", CONV, None, {}, 405, "method_not_allowed"),
        ("missing Bearer", "GET", "/api/v1/conversations", None, {"Authorization": None}, 401,
         "unauthorized"),
        ("wrong Bearer", "GET", "/api/v1/conversations", None,
         {"Authorization": "Bearer kpt_wrongwrongwrong"}, 401, "unauthorized"),
        ("Basic auth", "GET", "/api/v1/conversations", None,
         {"Authorization": "Basic YWRtaW46c2VjcmV0"}, 401, "unauthorized"),
        ("empty Bearer", "GET", "/api/v1/conversations", None, {"Authorization": "Bearer "},
         401, "unauthorized"),
        ("agent creates a team", "POST", "/api/v1/teams", js({"name": "Mine"}),
         {"Authorization": "Bearer " + agent.token}, 403, "forbidden"),
        ("agent creates an inbox", "POST", "/api/v1/inboxes", js({"name": "I", "channel": "api"}),
         {"Authorization": "Bearer " + agent.token}, 403, "forbidden"),
        ("agent reads audit", "GET", "/api/v1/audit", None,
         {"Authorization": "Bearer " + agent.token}, 403, "forbidden"),
        ("agent makes herself admin", "PATCH",
         "/api/v1/agents/%d" % agent.id,
         js({"role": "admin"}), {"Authorization": "Bearer " + agent.token}, 403, "forbidden"),
        ("non-numeric id", "GET", "/api/v1/conversations/abc", None, {}, 404, "not_found"),
        ("negative id", "GET", "/api/v1/conversations/-1", None, {}, 404, "not_found"),
        ("huge id", "GET", "/api/v1/conversations/99999999999999999999999", None, {}, 404,
         "not_found"),
        ("unknown conversation", "GET", "/api/v1/conversations/987654", None, {}, 404,
         "not_found"),
        ("ingest into unknown inbox", "POST", "/api/v1/inboxes/987654/messages",
         js({"sender": sender, "text": "a"}), {}, 404, "not_found"),
        ("negative limit", "GET", "/api/v1/conversations?limit=-1", None, {}, 400,
         "invalid_value"),
        ("limit 0", "GET", "/api/v1/conversations?limit=0", None, {}, 400, "invalid_value"),
        ("limit 101", "GET", "/api/v1/conversations?limit=101", None, {}, 400, "invalid_value"),
        ("limit not a number", "GET", "/api/v1/conversations?limit=ten", None, {}, 400,
         "invalid_value"),
        ("bad cursor", "GET", "/api/v1/conversations?cursor=%21%21garbage", None, {}, 400,
         "invalid_value"),
        ("bad state filter", "GET", "/api/v1/conversations?state=sleeping", None, {}, 400,
         "invalid_value"),
        ("bad assignee filter", "GET", "/api/v1/conversations?assignee_id=somebody", None, {},
         400, "invalid_value"),
        ("bad state value", "PATCH", CONV, js({"state": "sleeping"}), {}, 400, "invalid_value"),
        ("priority as number", "PATCH", CONV, js({"priority": 3}), {}, 400, "wrong_type"),
        ("unknown field on PATCH", "PATCH", CONV, js({"colour": "red"}), {}, 400,
         "unknown_field"),
        ("bad message type", "POST", CONV + "/messages", js({"type": "shout", "text": "a"}), {},
         400, "invalid_value"),
        ("reply without text", "POST", CONV + "/messages", js({"type": "reply"}), {}, 400,
         "missing_field"),
        ("tag as number", "POST", CONV + "/tags", js({"tag": 5}), {}, 400, "wrong_type"),
        ("team without name", "POST", "/api/v1/teams", js({}), {}, 400, "missing_field"),
        ("inbox with unknown channel", "POST", "/api/v1/inboxes",
         js({"name": "I", "channel": "carrier-pigeon"}), {}, 400, "invalid_value"),
        ("agent with bad role", "POST", "/api/v1/agents",
         js({"email": "z@test.example", "name": "Z", "role": "king"}), {}, 400,
         "invalid_value"),
        ("duplicate agent email", "POST", "/api/v1/agents",
         js({"email": kp.ADMIN_EMAIL, "name": "Again", "role": "agent"}), {}, 409, "conflict"),
        ("login with a wrong password", "POST", "/api/v1/session",
         js({"email": kp.ADMIN_EMAIL, "password": "nope"}), {"Authorization": None}, 401,
         "invalid_credentials"),
        ("login for an unknown email", "POST", "/api/v1/session",
         js({"email": "ghost@test.example", "password": "nope"}), {"Authorization": None}, 401,
         "invalid_credentials"),
        ("bad percent escape in path", "GET", "/api/v1/conversations/%zz", None, {}, 400,
         ("bad_request", "invalid_value")),
        ("Content-Length not a number", "POST", ING, b"{}", {"Content-Length": "ten"}, 400,
         "bad_request"),
        ("bad chunk size", "POST", ING, b"zz\r\n{}\r\n0\r\n\r\n",
         {"Transfer-Encoding": "chunked"}, 400, "bad_request"),
    ]
    failures = []
    for name, method, path, body, extra, status, codes in cases:
        headers = {"Authorization": "Bearer " + tok, "Connection": "close"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for k, v in extra.items():
            headers.pop(k, None)
            if v is not None:
                headers[k] = v
        data = kp.build_request(method, path, headers, body or b"", port=P)
        try:
            st, hdrs, parsed, _ = kp.raw_request(P, data, method=method, path=path)
            kp.expect_error((st, hdrs, parsed), status, codes, name)
        except (kp.Failure, OSError) as e:
            failures.append("%s (%s %s): %s" % (name, method, path[:60], e))

    # limits on the request itself
    big_header = {"X-Filler": "a" * (17 * 1024)}
    many = {"X-Filler-%03d" % i: "b" * 100 for i in range(180)}
    long_url = "/api/v1/conversations?q=" + "u" * 20000
    raw_cases = [
        ("header block > 16 KiB", kp.build_request("GET", "/healthz", big_header, port=P),
         431, "headers_too_large"),
        ("many headers > 16 KiB", kp.build_request("GET", "/healthz", many, port=P),
         431, "headers_too_large"),
        ("URL too long", kp.build_request("GET", long_url, {"Authorization": "Bearer " + tok},
                                          port=P), 414, "uri_too_long"),
        ("garbage instead of HTTP", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(
            range(256)) + b"\r\n\r\n", 400, "bad_request"),
        ("HTTP/1.1 without a request target", b"GET HTTP/1.1\r\nHost: x\r\n\r\n", 400,
         "bad_request"),
        ("relative request target", b"GET healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400,
         "bad_request"),
    ]
    for name, data, status, code in raw_cases:
        try:
            st, hdrs, parsed, closed = kp.raw_request(P, data, method="RAW", path=name)
            kp.expect_error((st, hdrs, parsed), status, code, name)
            if status in (400, 431, 414):
                eq(hdrs.get("connection", "").lower(), "close", name + ": Connection header")
                eq(closed, True, name + ": server closes the connection")
        except (kp.Failure, OSError) as e:
            failures.append("%s: %s" % (name, e))

    # oversize bodies: the default limit is 1 MiB
    for name, size in (("body > 1 MiB (Content-Length)", (1 << 20) + 1),
                       ("body of 3 MiB", 3 << 20)):
        body = b'{"sender":{"kind":"email","value":"x@c"},"text":"' + b"a" * size + b'"}'
        head = kp.build_request("POST", ING, {"Authorization": "Bearer " + tok,
                                              "Content-Type": "application/json",
                                              "Content-Length": str(len(body))}, port=P)
        try:
            got = send_head_first(P, head, body, "POST", ING)
            kp.expect_error(got, 413, "too_large", name)
        except (kp.Failure, OSError) as e:
            failures.append("%s: %s" % (name, e))
    # chunked body over the limit, no Content-Length to refuse early
    chunk = b"b" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    head = kp.build_request("POST", ING, {"Authorization": "Bearer " + tok,
                                          "Content-Type": "application/json",
                                          "Transfer-Encoding": "chunked"}, port=P)
    try:
        got = send_head_first(P, head, chunks, "POST", ING)
        kp.expect_error(got, 413, "too_large", "chunked body > 1 MiB")
    except (kp.Failure, OSError) as e:
        failures.append("chunked body > 1 MiB: %s" % e)

    check(srv.alive(), "server died during the malformed requests (status %r)"
          % srv.proc.poll())
    # nothing was stored by the refused ingests
    c = admin.get("/api/v1/conversations/%d" % r["conversation_id"])
    eq(c["message_count"], 1, "message_count after refused ingests")
    eq(len(admin.get("/api/v1/conversations")["items"]), 1, "conversations after refusals")
    eq([t["name"] for t in admin.get("/api/v1/teams")["items"]], ["Red"], "teams after refusals")
    st, _, body = kp.Client(P).request("GET", "/healthz")
    eq((st, body.get("status") if isinstance(body, dict) else body), (200, "ok"),
       "healthz after the malformed requests")
    if failures:
        fail("%d of %d malformed requests answered wrongly:\n    %s"
             % (len(failures), len(cases) + len(raw_cases) + 3, "\n    ".join(failures)))


@kp.env(KNOTENPUNKT_MAX_BODY=65536)
def test_configured_body_limit(srv):
    admin = srv.admin()
    inbox = kp.make_inbox(admin, "Small")
    path = "/api/v1/inboxes/%d/messages" % inbox["id"]
    ok = kp.ingest(admin, inbox["id"], "s@customer.example", "x" * 60000)
    eq(len(admin.get("/api/v1/conversations/%d" % ok["conversation_id"])["messages"][0]["text"]),
       60000, "stored text under the limit")
    body = json.dumps({"sender": {"kind": "email", "value": "s@customer.example"},
                       "text": "y" * 70000}).encode()
    head = kp.build_request("POST", path, {"Authorization": "Bearer " + srv.token,
                                           "Content-Type": "application/json",
                                           "Content-Length": str(len(body))}, port=srv.port)
    kp.expect_error(send_head_first(srv.port, head, body, "POST", path), 413, "too_large",
                    "body over KNOTENPUNKT_MAX_BODY")
    eq(admin.get("/api/v1/conversations/%d" % ok["conversation_id"])["message_count"], 1,
       "message_count after the refused body")


@kp.env(KNOTENPUNKT_REQUEST_TIMEOUT_MS=500)
def test_slow_client_timeout(srv):
    slow = kp.connect(srv.port, timeout=15)
    try:
        slow.sendall(b"GET /hea")  # half a request line, then nothing
        # others are served meanwhile, on new and on keep-alive connections
        c = kp.Client(srv.port, srv.token)
        for _ in range(5):
            eq(c.request("GET", "/healthz")[0], 200, "healthz while a client stalls")
        eq(len(c.get("/api/v1/teams")["items"]), 0, "API while a client stalls")
        r = kp.RawReader(slow)
        got = kp.read_response(r, "GET", "/hea...")
        check(got is not None, "stalled client was closed without a 408")
        kp.expect_error(got, 408, None, "stalled request")
        check(r.closed_by_peer(), "connection stays open after the 408")
        eq(c.request("GET", "/healthz")[0], 200, "healthz after the timeout")
    finally:
        slow.close()


@kp.env(KNOTENPUNKT_REQUEST_TIMEOUT_MS="600")
def test_drip_fed_request_times_out(srv):
    """A client that sends a byte now and then cannot stretch the request timeout: it runs
    from the first byte of the request, not from the last."""
    slow = kp.connect(srv.port, timeout=15)
    try:
        started = time.monotonic()
        answered = None
        for ch in b"GET /healthz HTTP/1.1\r\nX-Drip: " + b"a" * 40:
            try:
                slow.sendall(bytes([ch]))
            except OSError:
                break
            time.sleep(0.1)
            if time.monotonic() - started > 3:
                break
        r = kp.RawReader(slow)
        answered = kp.read_response(r, "GET", "/healthz (drip)")
        check(answered is not None, "the drip-fed request was closed without a 408")
        kp.expect_error(answered, 408, None, "drip-fed request")
        check(time.monotonic() - started < 3.5,
              "the request timeout was extended by each byte (%.1f s)" % (time.monotonic() - started))
    finally:
        slow.close()


def test_long_pipeline(srv):
    """Thousands of pipelined requests in one write are all answered, in order."""
    n = 3000
    s = kp.connect(srv.port, timeout=30)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * n)
        r = kp.RawReader(s)
        for i in range(n):
            got = kp.read_response(r, "GET", "/healthz #%d" % i)
            check(got is not None, "pipelined answer %d of %d missing" % (i + 1, n))
            eq(got[0], 200, "pipelined answer %d status" % (i + 1))
    finally:
        s.close()
    eq(srv.client(srv.token).request("GET", "/healthz")[0], 200, "healthz after the pipeline")


def test_bad_cursors(srv):
    c = srv.admin()
    for cur in ("99999999999999999999.1", "-5.-5", "1.", ".1", "1.2.3", "1e3.4", " 1.2"):
        got = c.request("GET", "/api/v1/conversations?cursor=" + urllib.parse.quote(cur))
        kp.expect_error(got, 400, "invalid_value", "cursor %r" % cur)


def _read_all(sock, limit=64 << 20):
    data = b""
    sock.settimeout(10)
    while len(data) < limit:
        try:
            d = sock.recv(1 << 20)
        except OSError:
            break
        if not d:
            break
        data += d
    return data


def test_connection_close_in_a_pipeline(srv):
    """A request with Connection: close ends the pipeline: it is answered once, nothing after
    it is, and the connection closes - also while earlier answers still wait to be sent."""
    s = kp.connect(srv.port, timeout=15)
    try:
        big = kp.build_request("GET", "/api/v1/openapi.json", port=srv.port)
        last = kp.build_request("GET", "/healthz", {"Connection": "close"}, port=srv.port)
        s.sendall(big * 200 + last + kp.build_request("GET", "/healthz", port=srv.port) * 3)
        time.sleep(1)  # answers pile up in the server's write queue while nobody reads
        data = _read_all(s)
        eq(data.count(b"HTTP/1.1 200"), 201, "answers (200 documents and the closing request)")
        eq(data.count(b'"status":"ok"'), 1, "answers to the Connection: close request")
    finally:
        s.close()


def test_nothing_after_a_bad_request(srv):
    """After a malformed request the server answers 400 once and reads nothing more; the 400
    arrives even when the client keeps sending (no reset destroys it)."""
    s = kp.connect(srv.port, timeout=15)
    try:
        good = kp.build_request("GET", "/healthz", port=srv.port)
        big = kp.build_request("GET", "/api/v1/openapi.json", port=srv.port)
        s.sendall(big * 50 + b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        for _ in range(5):
            time.sleep(0.2)
            try:
                s.sendall(good)
            except OSError:
                break
        data = _read_all(s)
        eq(data.count(b"HTTP/1.1 200"), 50, "answers before the bad request")
        eq(data.count(b"HTTP/1.1 400"), 1, "400 answers")
        eq(data.count(b'"status":"ok"'), 0, "requests answered after the bad one")
    finally:
        s.close()


@kp.env(KNOTENPUNKT_REQUEST_TIMEOUT_MS="300")
def test_empty_lines_between_requests(srv):
    """HTTP allows empty lines before a request: they start no request timeout."""
    s = kp.connect(srv.port, timeout=15)
    try:
        r = kp.RawReader(s)
        s.sendall(kp.build_request("GET", "/healthz", port=srv.port))
        eq(kp.read_response(r, "GET", "/healthz")[0], 200, "first request")
        s.sendall(b"\r\n\r\n")  # now idle between requests, with a keep-alive timeout of 60 s
        time.sleep(0.8)
        s.sendall(kp.build_request("GET", "/healthz", port=srv.port))
        got = kp.read_response(r, "GET", "/healthz after empty lines")
        check(got is not None, "the connection was closed after empty lines")
        eq(got[0], 200, "a request after empty lines on an idle connection")
    finally:
        s.close()


@kp.timeout(60)
def test_sigterm_delivers_queued_answers(srv):
    """Answers already queued when SIGTERM arrives reach the client whole."""
    s = kp.connect(srv.port, timeout=20)
    try:
        s.sendall(kp.build_request("GET", "/api/v1/openapi.json", port=srv.port) * 40)
        r = kp.RawReader(s)
        first = kp.read_response(r, "GET", "/api/v1/openapi.json #0")
        eq(first[0], 200, "first answer")
        srv.proc.send_signal(signal.SIGTERM)
        n = 1
        while True:
            try:
                got = kp.read_response(r, "GET", "/api/v1/openapi.json #%d" % n)
            except kp.Failure as e:
                fail("answer %d was cut off after SIGTERM: %s" % (n, e))
            if got is None:
                break
            eq(got[0], 200, "answer %d" % n)
            n += 1
        eq(srv.proc.wait(20), 0, "exit code")
    finally:
        s.close()
    srv.start()
