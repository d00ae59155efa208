# SPDX-License-Identifier: MIT
"""t003 - the real-time stream: hello, message events, visibility per team, replay with
?since=, Origin check for cookie-authenticated upgrades."""
import base64
import os
import socket
import struct
import threading
import time

import kp
from kp import check, eq, fail


def setup(srv):
    admin = srv.admin()
    me = admin.get("/api/v1/agents")["items"][0]
    red = kp.make_team(admin, "Red")
    blue = kp.make_team(admin, "Blue")
    in_red = kp.make_inbox(admin, "Red inbox", red["id"])
    in_blue = kp.make_inbox(admin, "Blue inbox", blue["id"])
    return admin, me, red, blue, in_red, in_blue


def bearer_ws(srv, token, path="/api/v1/stream"):
    return kp.WebSocket(srv.port, path, {"Authorization": "Bearer " + token})


def hello(ws, agent_id):
    h = ws.recv_json()
    eq(h.get("type"), "hello", "first stream frame type")
    eq(h.get("agent_id"), agent_id, "hello agent_id")
    check(isinstance(h.get("last_event_id"), int), "hello last_event_id: %r" % h)
    return h


def created(message_id):
    return lambda e: (e.get("type") == "message.created"
                      and ((e.get("payload") or {}).get("message") or {}).get("id") == message_id)


def check_event(e, after_id):
    check(isinstance(e.get("id"), int) and e["id"] > after_id,
          "event id %r not after %r" % (e.get("id"), after_id))
    check(e.get("type") in ("message.created", "conversation.updated"), "event type %r" % e)
    check(isinstance((e.get("payload") or {}).get("conversation"), dict),
          "event lacks payload.conversation: %s" % kp._short(e))


def test_hello_and_message_event(srv):
    admin, me, red, blue, in_red, in_blue = setup(srv)
    ws = bearer_ws(srv, srv.token)
    try:
        h = hello(ws, me["id"])
        r = kp.ingest(admin, in_red["id"], "ann@customer.example", "live message")
        e, before = ws.recv_until(created(r["message_id"]))
        for x in before + [e]:
            check_event(x, h["last_event_id"])
            eq(x["conversation_id"], r["conversation_id"], "conversation of event %r" % x["id"])
        eq(e["payload"]["message"]["text"], "live message", "event message text")
        eq(e["payload"]["conversation"]["id"], r["conversation_id"], "event conversation id")
        eq(e["payload"]["message"]["direction"], "in", "event message direction")
        # a state change is published too
        admin.patch("/api/v1/conversations/%d" % r["conversation_id"], {"state": "pending"})
        u, _ = ws.recv_until(lambda x: x.get("type") == "conversation.updated"
                             and x["payload"]["conversation"].get("state") == "pending")
        eq(u["conversation_id"], r["conversation_id"], "updated event conversation")
        check(u["id"] > e["id"], "event ids increase")
        # frames the client sends do not break the stream
        ws.send_json({"type": "ping"})
        r2 = kp.ingest(admin, in_red["id"], "ann@customer.example", "second live message")
        e2, _ = ws.recv_until(created(r2["message_id"]))
        eq(e2["conversation_id"], r["conversation_id"], "second event conversation")
    finally:
        ws.close()


def test_other_team_gets_no_events(srv):
    admin, me, red, blue, in_red, in_blue = setup(srv)
    kp.make_agent(admin, "bob@test.example", "Bob", [blue["id"]])
    bob = kp.agent_client(srv, "bob@test.example")
    agents = admin.get("/api/v1/agents")["items"]
    bob_id = next(a["id"] for a in agents if a["email"] == "bob@test.example")
    ws_bob = bearer_ws(srv, bob.token)
    ws_admin = bearer_ws(srv, srv.token)
    try:
        hb = hello(ws_bob, bob_id)
        hello(ws_admin, me["id"])
        red_msg = kp.ingest(admin, in_red["id"], "rudi@customer.example", "red only")
        blue_msg = kp.ingest(admin, in_blue["id"], "bea@customer.example", "blue only")
        # the admin sees both, in commit order
        e1, _ = ws_admin.recv_until(created(red_msg["message_id"]))
        e2, _ = ws_admin.recv_until(created(blue_msg["message_id"]))
        check(e1["id"] < e2["id"], "events out of commit order")
        # bob's stream goes straight to the blue message: nothing of red in between
        e, before = ws_bob.recv_until(created(blue_msg["message_id"]))
        for x in before + [e]:
            check_event(x, hb["last_event_id"])
            eq(x["conversation_id"], blue_msg["conversation_id"],
               "conversation of an event Bob received")
        eq(e["id"], e2["id"], "same event id for Bob and the admin")
        # replay from the start is filtered the same way
        ws_old = bearer_ws(srv, bob.token, "/api/v1/stream?since=0")
        try:
            hello(ws_old, bob_id)
            e, before = ws_old.recv_until(created(blue_msg["message_id"]))
            eq(sorted({x["conversation_id"] for x in before + [e]}),
               [blue_msg["conversation_id"]], "conversations in Bob's replay")
        finally:
            ws_old.close()
        # assigning a Red conversation to Bob makes it visible to him
        admin.post("/api/v1/conversations/%d/assign" % red_msg["conversation_id"],
                   {"assignee_id": bob_id}, status=200)
        u, _ = ws_bob.recv_until(lambda x: x.get("type") == "conversation.updated"
                                 and x.get("conversation_id") == red_msg["conversation_id"])
        eq(u["conversation_id"], red_msg["conversation_id"], "event after assigning to Bob")
        eq(u["payload"]["conversation"]["assignee_id"], bob_id, "assignee in the event")
    finally:
        ws_bob.close()
        ws_admin.close()


def test_replay_since(srv):
    admin, me, red, blue, in_red, in_blue = setup(srv)
    observer = bearer_ws(srv, srv.token)  # stays connected and sees everything
    ws = bearer_ws(srv, srv.token)
    seen = []

    def observe(message_id):
        e, before = observer.recv_until(created(message_id))
        seen.extend(before + [e])

    try:
        hello(observer, me["id"])
        hello(ws, me["id"])
        m1 = kp.ingest(admin, in_red["id"], "s1@customer.example", "before the gap")
        e1, _ = ws.recv_until(created(m1["message_id"]))
        observe(m1["message_id"])
        ws.close()
        # posted while disconnected: several conversations, a new one and an update
        m2 = kp.ingest(admin, in_red["id"], "s2@customer.example", "missed one")
        m3 = kp.ingest(admin, in_blue["id"], "s3@customer.example", "missed two")
        admin.patch("/api/v1/conversations/%d" % m1["conversation_id"], {"priority": "urgent"})
        m4 = kp.ingest(admin, in_red["id"], "s1@customer.example", "missed three")
        observe(m4["message_id"])
        ws = bearer_ws(srv, srv.token, "/api/v1/stream?since=%d" % e1["id"])
        hello(ws, me["id"])
        # a message after reconnecting ends both sequences at the same event
        m5 = kp.ingest(admin, in_red["id"], "s5@customer.example", "after the gap")
        observe(m5["message_id"])
        end, replayed = ws.recv_until(created(m5["message_id"]))
        got = [(x["id"], x["type"], x["conversation_id"]) for x in replayed + [end]]
        want = [(x["id"], x["type"], x["conversation_id"]) for x in seen if x["id"] > e1["id"]]
        eq(got, want, "events after since=%d (replay, then live)" % e1["id"])
        missed = [x["payload"]["message"]["id"] for x in replayed
                  if x["type"] == "message.created"]
        eq(missed, [m2["message_id"], m3["message_id"], m4["message_id"]],
           "message.created events replayed")
        check(any(x["type"] == "conversation.updated"
                  and x["conversation_id"] == m1["conversation_id"] for x in replayed),
              "the priority change was not replayed")
        ids = [x[0] for x in got]
        eq(ids, sorted(set(ids)), "replayed event ids strictly increase")
    finally:
        ws.close()
        observer.close()


def test_cookie_origin(srv):
    admin, me, red, blue, in_red, in_blue = setup(srv)
    c = kp.Client(srv.port)
    c.login(kp.ADMIN_EMAIL, kp.ADMIN_PASSWORD)
    cookie = "kp_session=" + c.session
    try:
        kp.WebSocket(srv.port, headers={"Cookie": cookie, "Origin": "http://evil.example"})
        fail("cookie websocket with a foreign Origin was accepted")
    except kp.WebSocketRefused as e:
        eq(e.status, 403, "status for a foreign Origin")
        check(kp.error_code(e.body) is not None, "refusal is not a JSON error: %r" % e.body)
    try:
        kp.WebSocket(srv.port, headers={"Cookie": cookie})
        fail("cookie websocket without Origin was accepted")
    except kp.WebSocketRefused as e:
        eq(e.status, 403, "status for a cookie upgrade without Origin")
    try:
        kp.WebSocket(srv.port)
        fail("websocket without credentials was accepted")
    except kp.WebSocketRefused as e:
        eq(e.status, 401, "status for an upgrade without credentials")
    ws = kp.WebSocket(srv.port, headers={"Cookie": cookie,
                                         "Origin": "http://127.0.0.1:%d" % srv.port})
    try:
        hello(ws, me["id"])
        r = kp.ingest(admin, in_blue["id"], "o@customer.example", "cookie stream")
        e, _ = ws.recv_until(created(r["message_id"]))
        eq(e["conversation_id"], r["conversation_id"], "event on the cookie stream")
    finally:
        ws.close()


def test_rights_change_on_open_stream(srv):
    """A team membership granted or taken while the stream is open applies to the next event;
    deactivating the agent closes the stream."""
    admin, me, red, blue, in_red, in_blue = setup(srv)
    carl = kp.make_agent(admin, "carl@test.example", "Carl", [red["id"]])
    carl_c = kp.agent_client(srv, "carl@test.example")
    ws = bearer_ws(srv, carl_c.token)
    try:
        hello(ws, carl["id"])
        admin.put("/api/v1/teams/%d/members/%d" % (blue["id"], carl["id"]))
        r = kp.ingest(admin, in_blue["id"], "dora@customer.example", "for blue")
        e, _ = ws.recv_until(created(r["message_id"]))
        eq(e["conversation_id"], r["conversation_id"], "event after joining Blue")
        admin.delete("/api/v1/teams/%d/members/%d" % (blue["id"], carl["id"]))
        hidden = kp.ingest(admin, in_blue["id"], "erik@customer.example", "blue only")
        shown = kp.ingest(admin, in_red["id"], "fay@customer.example", "for red")
        e, before = ws.recv_until(created(shown["message_id"]))
        for x in before + [e]:
            check(x.get("conversation_id") != hidden["conversation_id"],
                  "an agent who left Blue still got its event: %s" % kp._short(x))
        admin.patch("/api/v1/agents/%d" % carl["id"], {"active": False})
        try:
            ws.recv_until(lambda x: False, timeout=5)
            fail("the stream of a deactivated agent stayed open")
        except kp.WebSocketClosed:
            pass
    finally:
        ws.close()


def _masked_close_frame():
    mask = b"\x01\x02\x03\x04"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(struct.pack("!H", 1000)))
    return b"\x88\x82" + mask + payload


def test_close_right_behind_handshake(srv):
    """A client that sends its close frame in the same packet as the handshake, while other
    streams are open: the server stays up and the other streams keep receiving."""
    admin, me, red, blue, in_red, in_blue = setup(srv)
    ws = bearer_ws(srv, srv.token)
    try:
        hello(ws, me["id"])
        for _ in range(20):
            s = kp.connect(srv.port)
            key = base64.b64encode(os.urandom(16)).decode()
            req = ("GET /api/v1/stream HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                   "Authorization: Bearer %s\r\n\r\n" % (kp.HOST, srv.port, key, srv.token))
            s.sendall(req.encode() + _masked_close_frame())
            s.close()
        r = kp.ingest(admin, in_red["id"], "gil@customer.example", "still streaming")
        e, _ = ws.recv_until(created(r["message_id"]))
        eq(e["conversation_id"], r["conversation_id"], "event after the early closes")
    finally:
        ws.close()
    eq(admin.request("GET", "/healthz")[0], 200, "healthz after the early closes")


def test_clients_reset_while_events_flow(srv):
    """Stream clients that vanish (TCP reset) while messages are being pushed."""
    admin, me, red, blue, in_red, in_blue = setup(srv)
    keep = bearer_ws(srv, srv.token)
    try:
        hello(keep, me["id"])
        doomed = [bearer_ws(srv, srv.token) for _ in range(30)]
        for d in doomed:
            d.recv_json()
        stop = threading.Event()
        sent = []

        def post():
            c = srv.admin()
            i = 0
            while not stop.is_set() and i < 200:
                sent.append(kp.ingest(c, in_red["id"], "hal%d@customer.example" % (i % 5),
                                      "burst %d" % i))
                i += 1

        t = threading.Thread(target=post)
        t.start()
        time.sleep(0.05)
        for d in doomed:
            d.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            d.sock.close()
        t.join(60)
        stop.set()
        check(sent, "no message was posted")
        last = sent[-1]
        e, _ = keep.recv_until(created(last["message_id"]), timeout=20)
        eq(e["conversation_id"], last["conversation_id"], "last event on the surviving stream")
    finally:
        keep.close()
    eq(admin.request("GET", "/healthz")[0], 200, "healthz after the resets")


def test_transfer_hides_later_events(srv):
    """After a conversation moves to another team, an agent of the old team gets none of its
    events, live or replayed: they would show what the new team writes."""
    admin, me, red, blue, in_red, in_blue = setup(srv)
    gus = kp.make_agent(admin, "gus@test.example", "Gus", [red["id"]])
    gus_c = kp.agent_client(srv, "gus@test.example")
    first = kp.ingest(admin, in_red["id"], "ida@customer.example", "before the transfer")
    conv = first["conversation_id"]
    ws = bearer_ws(srv, gus_c.token)
    try:
        h = hello(ws, gus["id"])
        admin.post("/api/v1/conversations/%d/transfer" % conv, {"team_id": blue["id"]}, status=200)
        secret = kp.ingest(admin, in_red["id"], "ida@customer.example", "PRIVATE after transfer")
        eq(secret["conversation_id"], conv, "the follow-up joins the transferred conversation")
        marker = kp.ingest(admin, in_red["id"], "jo@customer.example", "marker")
        e, before = ws.recv_until(created(marker["message_id"]))
        for x in before + [e]:
            check(x.get("conversation_id") != conv,
                  "an agent of the old team got an event of the transferred conversation: %s"
                  % kp._short(x))
    finally:
        ws.close()
    replay = bearer_ws(srv, gus_c.token, "/api/v1/stream?since=0")
    try:
        hello(replay, gus["id"])
        e, before = replay.recv_until(created(marker["message_id"]))
        for x in before + [e]:
            check(x.get("conversation_id") != conv,
                  "replay showed the transferred conversation: %s" % kp._short(x))
    finally:
        replay.close()


def test_revoked_credentials_end_streams(srv):
    """Deleting the token a stream was opened with, or logging out of its session, closes it;
    other streams of the same agent stay."""
    admin, me, red, blue, in_red, in_blue = setup(srv)
    tok = admin.post("/api/v1/tokens", {"name": "short-lived"})
    ws_tok = bearer_ws(srv, tok["token"])
    ws_keep = bearer_ws(srv, srv.token)
    c = kp.Client(srv.port)
    c.login(kp.ADMIN_EMAIL, kp.ADMIN_PASSWORD)
    ws_cookie = kp.WebSocket(srv.port, "/api/v1/stream",
                             {"Cookie": "kp_session=" + c.session,
                              "Origin": "http://%s:%d" % (kp.HOST, srv.port)})
    try:
        for w in (ws_tok, ws_keep, ws_cookie):
            hello(w, me["id"])
        admin.delete("/api/v1/tokens/%d" % tok["id"], status=204)
        try:
            ws_tok.recv_until(lambda x: False, timeout=5)
            fail("the stream of a deleted token stayed open")
        except kp.WebSocketClosed:
            pass
        c.delete("/api/v1/session", status=204)
        try:
            ws_cookie.recv_until(lambda x: False, timeout=5)
            fail("the stream of a closed session stayed open")
        except kp.WebSocketClosed:
            pass
        r = kp.ingest(admin, in_red["id"], "lou@customer.example", "still here")
        ws_keep.recv_until(created(r["message_id"]))
    finally:
        for w in (ws_tok, ws_keep, ws_cookie):
            w.close()


def test_hello_comes_first(srv):
    """A client that pipelines a ping behind the handshake still gets hello first."""
    admin, me, red, blue, in_red, in_blue = setup(srv)
    ws = bearer_ws(srv, srv.token)
    try:
        # the frames travel right behind the handshake response's request in one packet is not
        # possible after the fact; send ping frames before reading anything instead
        ws.send_text("ping")
        ws.send_text("ping")
        eq(ws.recv_json().get("type"), "hello", "first frame")
    finally:
        ws.close()


def test_ping_flood_without_reading(srv):
    """A client that sends many pings and never reads the pongs is dropped; the server and
    other streams go on."""
    admin, me, red, blue, in_red, in_blue = setup(srv)
    keep = bearer_ws(srv, srv.token)
    try:
        hello(keep, me["id"])
        flood = bearer_ws(srv, srv.token)
        flood.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            for _ in range(20000):
                flood.send_text("ping")
        except OSError:
            pass  # dropped by the server: fine
        flood.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        flood.sock.close()
        r = kp.ingest(admin, in_red["id"], "max@customer.example", "after the flood")
        e, _ = keep.recv_until(created(r["message_id"]))
        eq(e["conversation_id"], r["conversation_id"], "event after the flood")
    finally:
        keep.close()


def test_every_event_once_in_order_under_load(srv):
    """Messages posted on many connections at once (spread over the server's event loops): a
    stream client receives each message.created event exactly once, ids increasing."""
    admin, me, red, blue, in_red, in_blue = setup(srv)
    ws = bearer_ws(srv, srv.token)
    acks, lock = [], threading.Lock()
    try:
        hello(ws, me["id"])

        def post(n):
            c = srv.client(srv.token)
            for i in range(40):
                r = kp.ingest(c, in_red["id"], "load%d@customer.example" % n, "m %d %d" % (n, i))
                with lock:
                    acks.append(r["message_id"])

        threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        eq(len(acks), 320, "messages acknowledged")
        want, got, ids = set(acks), [], []
        while set(got) != want:
            try:
                e = ws.recv_json(timeout=10)
            except socket.timeout:
                break
            if e.get("type") == "message.created":
                got.append(e["payload"]["message"]["id"])
                ids.append(e["id"])
        eq(sorted(got), sorted(want), "message events received (each once)")
        eq(ids, sorted(ids), "event ids in commit order")
        eq(len(set(ids)), len(ids), "no event twice")
    finally:
        ws.close()


@kp.env(KNOTENPUNKT_THREADS="4")
@kp.timeout(120)
def test_no_events_after_losing_access(srv):
    """An agent taken out of a team gets no event of that team's conversations committed after
    the removal, even while other agents change them at full speed on other event loops (the
    removal and the changes reach every loop in commit order). The audit log gives the order."""
    admin = srv.admin()
    red = kp.make_team(admin, "Red")
    inbox = kp.make_inbox(admin, "Red inbox", red["id"])
    carl = kp.make_agent(admin, "carl@test.example", "Carl", [red["id"]])
    carl_c = kp.agent_client(srv, "carl@test.example")
    convs = [kp.ingest(admin, inbox["id"], "c%d@customer.example" % i, "hi")["conversation_id"]
             for i in range(12)]
    stop, got = threading.Event(), {"carl": [], "admin": []}

    def reader(name, token):
        ws = bearer_ws(srv, token)
        ws.recv_json()
        while not stop.is_set():
            try:
                got[name].append(ws.recv_json(timeout=0.5))
            except socket.timeout:
                pass
        while True:
            try:
                got[name].append(ws.recv_json(timeout=1.5))
            except socket.timeout:
                break
        ws.close()

    readers = [threading.Thread(target=reader, args=("carl", carl_c.token)),
               threading.Thread(target=reader, args=("admin", srv.token))]
    for t in readers:
        t.start()
    time.sleep(0.3)
    flood_stop = threading.Event()

    def flood(n):
        c = srv.client(srv.token)
        i = 0
        while not flood_stop.is_set():
            c.patch("/api/v1/conversations/%d" % convs[(n + i) % len(convs)],
                    {"state": ("open", "pending")[i % 2]})
            i += 1

    floods = [threading.Thread(target=flood, args=(i,)) for i in range(6)]
    for t in floods:
        t.start()
    tog = srv.client(srv.token)
    for _ in range(25):
        tog.request("DELETE", "/api/v1/teams/%d/members/%d" % (red["id"], carl["id"]))
        time.sleep(0.01)
        tog.request("PUT", "/api/v1/teams/%d/members/%d" % (red["id"], carl["id"]))
        time.sleep(0.01)
    flood_stop.set()
    for t in floods:
        t.join(30)
    time.sleep(0.3)
    stop.set()
    for t in readers:
        t.join(30)
    audit, before = [], None
    while True:
        page = admin.get("/api/v1/audit?limit=100" + ("&before=%d" % before if before else ""))
        if not page["items"]:
            break
        audit += page["items"]
        before = min(x["id"] for x in page["items"])
    audit.sort(key=lambda x: x["id"])
    steps = [x["action"] for x in audit
             if x["action"] in ("conversation.update", "team.member_add", "team.member_remove")]
    updates = sorted((e for e in got["admin"] if e["type"] == "conversation.updated"),
                     key=lambda e: e["id"])
    eq(len(updates), steps.count("conversation.update"), "events the admin got, one per change")
    member, k, carl_may_see = True, 0, {}
    for step in steps:
        if step == "team.member_remove":
            member = False
        elif step == "team.member_add":
            member = True
        else:
            carl_may_see[updates[k]["id"]] = member
            k += 1
    leaked = [e["id"] for e in got["carl"]
              if e["type"] == "conversation.updated" and carl_may_see.get(e["id"]) is False]
    check(not leaked, "Carl got %d events committed while he was out of Red: %s"
          % (len(leaked), leaked[:10]))
