# SPDX-License-Identifier: MIT
"""t008 - what the agent workspace needs from the server: canned answers (roles, validation,
rendering with variables), @mentions in internal notes (notification on the mentioned agent's
stream, the notifications API), and collision (who views and types in a conversation, over the
stream WebSocket). The server runs four event loops, so that agents whose streams sit on
different loops must still see each other."""
import socket
import time

import kp
from kp import check, eq, fail

SERVER_ENV = {"KNOTENPUNKT_THREADS": "4"}

Q = kp.urlquote


def setup(srv):
    """Admin; Red team with Anna and Carl, Blue team with Bob; an inbox per team."""
    admin = srv.admin()
    me = admin.get("/api/v1/session")["agent"]
    red = kp.make_team(admin, "Red")
    blue = kp.make_team(admin, "Blue")
    in_red = kp.make_inbox(admin, "Red inbox", red["id"])
    in_blue = kp.make_inbox(admin, "Blue inbox", blue["id"])
    people = {"admin": (me, admin)}
    for key, email, name, team in (("anna", "anna@test.example", "Anna Becker", red),
                                   ("carl", "carl@test.example", "Carl Vogel", red),
                                   ("bob", "bob@test.example", "Bob Brown", blue)):
        a = kp.make_agent(admin, email, name, [team["id"]])
        people[key] = (a, kp.agent_client(srv, email))
    return admin, people, in_red, in_blue


def err(got, status, code, field=None, what=""):
    kp.expect_error(got, status, code, what)
    if field is not None:
        eq(got[2]["error"].get("field"), field, "%s: error field" % what)


def stream(srv, client):
    ws = kp.WebSocket(srv.port, "/api/v1/stream", {"Authorization": "Bearer " + client.token})
    h = ws.recv_json()
    eq(h.get("type"), "hello", "first stream frame")
    return ws


# ---- canned answers ----


def test_canned_crud_and_roles(srv):
    admin, people, in_red, in_blue = setup(srv)
    anna = people["anna"][1]
    admin_id = people["admin"][0]["id"]
    c = admin.post("/api/v1/canned", {"shortcut": "greeting", "title": "Begrüßung",
                                      "body": "Hallo {{contact.first_name}}!"})
    eq(sorted(c), ["body", "created_at", "created_by", "id", "shortcut", "title", "updated_at"],
       "canned answer fields")
    eq((c["shortcut"], c["title"], c["body"], c["created_by"]),
       ("greeting", "Begrüßung", "Hallo {{contact.first_name}}!", admin_id), "created answer")
    # agents read, only admins write
    err(anna.request("POST", "/api/v1/canned", {"shortcut": "mine", "title": "t", "body": "b"}),
        403, "forbidden", what="agent creates a canned answer")
    err(anna.request("PATCH", "/api/v1/canned/%d" % c["id"], {"title": "x"}), 403, "forbidden",
        what="agent changes a canned answer")
    err(anna.request("DELETE", "/api/v1/canned/%d" % c["id"]), 403, "forbidden",
        what="agent deletes a canned answer")
    eq(anna.get("/api/v1/canned")["items"], [c], "the agent's list")
    eq(anna.get("/api/v1/canned/%d" % c["id"]), c, "the agent reads one")
    # shortcuts are unique regardless of case, and kept in lower case
    err(admin.request("POST", "/api/v1/canned", {"shortcut": "GREETING", "title": "t",
                                                 "body": "b"}),
        409, "conflict", "shortcut", "duplicate shortcut in another case")
    r = admin.post("/api/v1/canned", {"shortcut": "Refund-OK", "title": "Refund issued",
                                      "body": "We have refunded your order."})
    eq(r["shortcut"], "refund-ok", "shortcut stored in lower case")
    admin.post("/api/v1/canned", {"shortcut": "bye", "title": "Closing",
                                  "body": "Have a nice day, {{contact.first_name}}!"})
    # search: shortcut prefix, title or body anywhere, any case; ordered by shortcut
    def shortcuts(q):
        return [x["shortcut"] for x in anna.get("/api/v1/canned" + q)["items"]]
    eq(shortcuts(""), ["bye", "greeting", "refund-ok"], "all, by shortcut")
    eq(shortcuts("?q=GRE"), ["greeting"], "shortcut prefix")
    eq(shortcuts("?q=nice%20DAY"), ["bye"], "body text")
    eq(shortcuts("?q=issued"), ["refund-ok"], "title text")
    eq(shortcuts("?q=first_name"), ["bye", "greeting"], "variable names in bodies")
    eq(shortcuts("?q=nothing-like-this"), [], "no match")
    eq(shortcuts("?q="), ["bye", "greeting", "refund-ok"], "empty q is no filter")
    eq(shortcuts("?limit=2"), ["bye", "greeting"], "limit")
    # an admin changes part of it; the rest stays
    u = admin.patch("/api/v1/canned/%d" % c["id"], {"title": "Greeting (de)"})
    eq((u["shortcut"], u["title"], u["body"]), ("greeting", "Greeting (de)", c["body"]),
       "after changing only the title")
    check(u["updated_at"] >= c["updated_at"], "updated_at moves on")
    eq(u["created_at"], c["created_at"], "created_at stays")
    err(admin.request("PATCH", "/api/v1/canned/%d" % c["id"], {"shortcut": "BYE"}), 409,
        "conflict", "shortcut", "renaming to a taken shortcut")
    u = admin.patch("/api/v1/canned/%d" % c["id"], {"shortcut": "hallo", "body": "Hallo!"})
    eq((u["shortcut"], u["body"]), ("hallo", "Hallo!"), "after changing shortcut and body")
    admin.delete("/api/v1/canned/%d" % c["id"], status=204)
    err(anna.request("GET", "/api/v1/canned/%d" % c["id"]), 404, "not_found", what="deleted")
    err(admin.request("DELETE", "/api/v1/canned/%d" % c["id"]), 404, "not_found",
        what="deleted twice")
    eq(shortcuts(""), ["bye", "refund-ok"], "list after the delete")
    audit = admin.get("/api/v1/audit?limit=100")["items"]
    mine = [(x["action"], x["agent_id"]) for x in audit if x["object_type"] == "canned_answer"
            and x["object_id"] == c["id"]]
    eq(sorted(mine), sorted([("canned.create", admin_id), ("canned.update", admin_id),
                             ("canned.update", admin_id), ("canned.delete", admin_id)]),
       "audit entries of the answer")
    deleted = next(x for x in audit if x["action"] == "canned.delete")
    eq(deleted["detail"].get("shortcut"), "hallo", "audit detail of the delete")


def test_canned_validation(srv):
    admin = srv.admin()
    ok = {"shortcut": "ok", "title": "Title", "body": "Body"}

    def create(**kw):
        b = dict(ok)
        b.update(kw)
        for k in [k for k, v in b.items() if v is None]:
            del b[k]
        return admin.request("POST", "/api/v1/canned", b)

    err(create(shortcut=None), 400, "missing_field", "shortcut", "no shortcut")
    err(create(title=None), 400, "missing_field", "title", "no title")
    err(create(body=None), 400, "missing_field", "body", "no body")
    err(create(shortcut=""), 400, "invalid_value", "shortcut", "empty shortcut")
    err(create(shortcut="two words"), 400, "invalid_value", "shortcut", "shortcut with a space")
    err(create(shortcut="grüße"), 400, "invalid_value", "shortcut", "shortcut with umlauts")
    err(create(shortcut="/slash"), 400, "invalid_value", "shortcut", "shortcut with a slash")
    err(create(shortcut="x" * 33), 400, "too_long", "shortcut", "shortcut of 33 characters")
    err(create(shortcut=5), 400, "wrong_type", "shortcut", "numeric shortcut")
    err(create(title=""), 400, "invalid_value", "title", "empty title")
    err(create(title="   "), 400, "invalid_value", "title", "blank title")
    err(create(title="ä" * 201), 400, "too_long", "title", "title of 201 characters")
    err(create(body=""), 400, "invalid_value", "body", "empty body")
    err(create(body="b" * 10001), 400, "too_long", "body", "body of 10,001 characters")
    err(create(body=None, text="x"), 400, "missing_field", "body", "text instead of body")
    err(create(extra=1), 400, "unknown_field", "extra", "unknown field")
    err(admin.request("POST", "/api/v1/canned", "{not json",
                      {"Content-Type": "application/json"}), 400, "invalid_json",
        what="malformed JSON")
    err(admin.request("POST", "/api/v1/canned", '["a"]', {"Content-Type": "application/json"}),
        400, "invalid_json", what="JSON array body")
    err(admin.request("POST", "/api/v1/canned", "shortcut=x"), 415, "unsupported_media_type",
        what="form body")
    # the limits themselves are fine: 32 characters, 200 and 10,000 multi-byte characters
    c = admin.post("/api/v1/canned", {"shortcut": "a" * 32, "title": "ä" * 200,
                                      "body": "ü" * 10000})
    eq((len(c["shortcut"]), len(c["title"]), len(c["body"])), (32, 200, 10000),
       "answer at the limits")
    path = "/api/v1/canned/%d" % c["id"]
    err(admin.request("PATCH", path, {}), 400, "missing_field", what="empty change")
    err(admin.request("PATCH", path, {"title": ""}), 400, "invalid_value", "title",
        "change to an empty title")
    err(admin.request("PATCH", path, {"shortcut": "no way"}), 400, "invalid_value", "shortcut",
        "change to a bad shortcut")
    err(admin.request("PATCH", path, {"created_by": 1}), 400, "unknown_field", "created_by",
        "change of created_by")
    err(admin.request("PATCH", "/api/v1/canned/999999", {"title": "x"}), 404, "not_found",
        what="change of a missing answer")
    err(admin.request("GET", "/api/v1/canned?limit=0"), 400, "invalid_value", "limit",
        what="limit 0")
    err(admin.request("GET", "/api/v1/canned?limit=101"), 400, "invalid_value", "limit",
        what="limit 101")
    err(admin.request("GET", "/api/v1/canned?q=" + "x" * 300), 400, "invalid_value", "q",
        what="long q")
    err(admin.request("GET", "/api/v1/canned/abc"), 404, "not_found", what="non-numeric id")
    render = path + "/render"
    err(admin.request("POST", render, {}), 400, "missing_field", "conversation_id",
        "render without conversation")
    err(admin.request("POST", render, {"conversation_id": "1"}), 400, "wrong_type",
        "conversation_id", "render with a string id")
    err(admin.request("POST", render, {"conversation_id": 0}), 400, "invalid_value",
        "conversation_id", "render with id 0")
    eq(admin.get("/api/v1/canned")["items"], [c], "nothing else was stored")


def test_render_with_variables(srv):
    admin, people, in_red, in_blue = setup(srv)
    anna = people["anna"][1]
    bob = people["bob"][1]
    r = kp.ingest(admin, in_red["id"], "lena.schmidt@example.de", "Wo bleibt mein Paket?",
                  sender={"kind": "email", "value": "lena.schmidt@example.de",
                          "name": "Lena Marie Schmidt"})
    # a later address is not the one that counts, nor a phone number
    admin.post("/api/v1/contacts/%d/identities" % r["contact_id"],
               {"kind": "phone", "value": "+4915112345678"})
    admin.post("/api/v1/contacts/%d/identities" % r["contact_id"],
               {"kind": "email", "value": "lena@work.example"})
    body = ("Hallo {{contact.first_name}} ({{contact.name}}, {{contact.email}}),\n"
            "hier ist {{agent.first_name}} ({{ agent.name }}), Vorgang #{{conversation.id}}. "
            "{{order.number}} {{contact.first_name")
    c = admin.post("/api/v1/canned", {"shortcut": "paket", "title": "Paket", "body": body})
    path = "/api/v1/canned/%d/render" % c["id"]
    got = anna.post(path, {"conversation_id": r["conversation_id"]}, status=200)
    eq(got, {"text": "Hallo Lena (Lena Marie Schmidt, lena.schmidt@example.de),\n"
                     "hier ist Anna (Anna Becker), Vorgang #%d. {{order.number}} "
                     "{{contact.first_name" % r["conversation_id"]},
       "rendered for Anna")
    # the caller is the agent: the admin's own name goes in
    got = admin.post(path, {"conversation_id": r["conversation_id"]}, status=200)
    check("hier ist Admin (Admin)" in got["text"], "rendered for the admin: %r" % got["text"])
    # a contact without name and email: the values are empty
    anon = kp.ingest(admin, in_red["id"], "+491701234567", "Rückruf bitte", kind="phone")
    got = anna.post(path, {"conversation_id": anon["conversation_id"]}, status=200)
    check(got["text"].startswith("Hallo  (, ),\nhier ist Anna"),
          "rendered without name and email: %r" % got["text"])
    # what the agent cannot see, and what does not exist, is not found
    err(bob.request("POST", path, {"conversation_id": r["conversation_id"]}), 404, "not_found",
        what="render for a conversation of another team")
    err(anna.request("POST", path, {"conversation_id": 999999}), 404, "not_found",
        what="render for a missing conversation")
    err(anna.request("POST", "/api/v1/canned/999999/render",
                     {"conversation_id": r["conversation_id"]}), 404, "not_found",
        what="render of a missing answer")
    # Bob sees it once the conversation is his
    admin.post("/api/v1/conversations/%d/assign" % r["conversation_id"],
               {"assignee_id": people["bob"][0]["id"]}, status=200)
    got = bob.post(path, {"conversation_id": r["conversation_id"]}, status=200)
    check("hier ist Bob (Bob Brown)" in got["text"], "rendered for Bob: %r" % got["text"])


# ---- mentions ----


def notification_frame(ws, message_id, timeout=10):
    n, _ = ws.recv_until(lambda m: m.get("type") == "notification"
                         and (m.get("notification") or {}).get("message_id") == message_id,
                         timeout)
    return n["notification"]


def note(client, conv_id, text, mentions, status=201):
    return client.call("POST", "/api/v1/conversations/%d/messages" % conv_id,
                       {"type": "note", "text": text, "mentions": mentions}, status)


def test_mention_notifies(srv):
    admin, people, in_red, in_blue = setup(srv)
    (anna_a, anna), (carl_a, carl), (bob_a, bob) = people["anna"], people["carl"], people["bob"]
    r = kp.ingest(admin, in_red["id"], "kunde@example.de", "Ich möchte kündigen.")
    conv = r["conversation_id"]
    carl_ws = [stream(srv, carl) for _ in range(2)]  # two tabs, perhaps on two event loops
    bob_ws = stream(srv, bob)
    admin_ws = stream(srv, admin)
    try:
        m = note(anna, conv, "@Carl kannst du übernehmen?", [carl_a["id"], anna_a["id"],
                                                            carl_a["id"]])
        eq(m["direction"], "note", "the note")
        for i, ws in enumerate(carl_ws):
            n = notification_frame(ws, m["id"])
            eq((n["kind"], n["conversation_id"], n["message_id"], n["by_agent_id"], n["read_at"]),
               ("mention", conv, m["id"], anna_a["id"], None), "notification on Carl's tab %d" % i)
        # nobody else is notified: the admin sees the note's event but no notification
        _, before = admin_ws.recv_until(
            lambda e: e.get("type") == "message.created"
            and e["payload"]["message"]["id"] == m["id"])
        check(not [x for x in before if x.get("type") == "notification"],
              "the admin got a notification: %s" % before)
        got = carl.get("/api/v1/notifications")
        eq(got["unread"], 1, "Carl's unread count")
        eq([x["id"] for x in got["items"]], [n["id"]], "Carl's notifications")
        eq(got["items"][0], n, "the listed notification is the pushed one")
        eq(carl.get("/api/v1/notifications?unread=1")["items"], [n], "Carl's unread ones")
        eq(anna.get("/api/v1/notifications"), {"items": [], "unread": 0},
           "Anna mentioned herself: no notification")
        eq(bob.get("/api/v1/notifications"), {"items": [], "unread": 0}, "Bob's notifications")
        # someone else cannot read or mark it
        err(bob.request("POST", "/api/v1/notifications/%d/read" % n["id"]), 404, "not_found",
            what="Bob marks Carl's notification")
        read = carl.post("/api/v1/notifications/%d/read" % n["id"], status=200)
        eq(read["id"], n["id"], "marked notification")
        check(isinstance(read["read_at"], str) and read["read_at"] >= n["created_at"],
              "read_at after marking: %r" % read)
        again = carl.post("/api/v1/notifications/%d/read" % n["id"], status=200)
        eq(again["read_at"], read["read_at"], "read_at of a notification marked twice")
        eq(carl.get("/api/v1/notifications?unread=1"), {"items": [], "unread": 0},
           "Carl's unread ones after reading")
        eq(carl.get("/api/v1/notifications")["items"], [read], "Carl's list after reading")
        # two more; marking all read; newest first
        m2 = note(admin, conv, "Bitte heute noch", [carl_a["id"]])
        m3 = note(anna, conv, "Danke!", [carl_a["id"]])
        n3 = notification_frame(carl_ws[0], m3["id"])
        got = carl.get("/api/v1/notifications")
        eq([x["message_id"] for x in got["items"]], [m3["id"], m2["id"], m["id"]],
           "Carl's notifications, newest first")
        eq(got["unread"], 2, "unread after two more")
        eq([x["id"] for x in carl.get("/api/v1/notifications?limit=1")["items"]], [n3["id"]],
           "limit 1")
        eq([x["message_id"] for x in
            carl.get("/api/v1/notifications?before=%d" % n3["id"])["items"]],
           [m2["id"], m["id"]], "before the newest")
        carl.post("/api/v1/notifications/read", status=204)
        eq(carl.get("/api/v1/notifications?unread=1"), {"items": [], "unread": 0},
           "after marking all read")
        err(carl.request("GET", "/api/v1/notifications?unread=maybe"), 400, "invalid_value",
            "unread", "unread=maybe")
    finally:
        for ws in carl_ws + [bob_ws, admin_ws]:
            ws.close()


def test_invalid_mentions(srv):
    admin, people, in_red, in_blue = setup(srv)
    (anna_a, anna), (carl_a, carl), (bob_a, bob) = people["anna"], people["carl"], people["bob"]
    r = kp.ingest(admin, in_red["id"], "kunde@example.de", "Hallo")
    conv = r["conversation_id"]
    path = "/api/v1/conversations/%d/messages" % conv

    def bad(mentions, status, code, what, type_="note"):
        err(anna.request("POST", path, {"type": type_, "text": "@x", "mentions": mentions}),
            status, code, "mentions", what)

    bad([bob_a["id"]], 400, "invalid_value", "an agent who cannot see the conversation")
    bad([carl_a["id"], 999999], 400, "invalid_value", "an agent who does not exist")
    bad(["carl"], 400, "wrong_type", "a name instead of an id")
    bad([0], 400, "wrong_type", "id 0")
    bad(list(range(1, 22)), 400, "too_long", "21 mentions")
    bad([carl_a["id"]], 400, "invalid_value", "mentions in a reply", type_="reply")
    admin.patch("/api/v1/agents/%d" % carl_a["id"], {"active": False})
    bad([carl_a["id"]], 400, "invalid_value", "a deactivated agent")
    # none of them stored anything
    eq(admin.get("/api/v1/conversations/%d" % conv)["message_count"], 1, "messages after them")
    eq(bob.get("/api/v1/notifications")["unread"], 0, "Bob's notifications")
    # the admin sees every conversation, and an empty list is no mention
    m = note(anna, conv, "FYI", [people["admin"][0]["id"]])
    eq(admin.get("/api/v1/notifications")["items"][0]["message_id"], m["id"],
       "the admin's notification")
    anna.post(path, {"type": "reply", "text": "Hallo!", "mentions": []})


# ---- presence ----


def presence(ws, conv, pred=lambda m: True, timeout=10):
    m, _ = ws.recv_until(lambda m: m.get("type") == "presence"
                         and m.get("conversation_id") == conv and pred(m), timeout)
    check(isinstance(m.get("viewers"), list) and isinstance(m.get("typing"), list),
          "presence frame shape: %r" % m)
    return m


def viewer_ids(m):
    return [v["agent_id"] for v in m["viewers"]]


def error_frame(ws, timeout=10):
    m, _ = ws.recv_until(lambda m: m.get("type") == "error", timeout)
    check(isinstance(m.get("message"), str) and m["message"], "error frame: %r" % m)
    return m


def test_presence_viewers(srv):
    admin, people, in_red, in_blue = setup(srv)
    (anna_a, anna), (carl_a, carl), (bob_a, bob) = people["anna"], people["carl"], people["bob"]
    conv = kp.ingest(admin, in_red["id"], "kunde@example.de", "Hallo")["conversation_id"]
    other = kp.ingest(admin, in_red["id"], "zwei@example.de", "Hallo")["conversation_id"]
    blue = kp.ingest(admin, in_blue["id"], "blau@example.de", "Hallo")["conversation_id"]
    anna_ws = stream(srv, anna)
    carl_ws = [stream(srv, carl) for _ in range(3)]  # three tabs: counted once
    bob_ws = stream(srv, bob)
    both = sorted([anna_a["id"], carl_a["id"]])
    try:
        anna_ws.send_json({"type": "watch", "conversation_id": conv})
        m = presence(anna_ws, conv)
        eq(m["viewers"], [{"agent_id": anna_a["id"], "name": "Anna Becker"}],
           "Anna alone in the conversation")
        eq(m["typing"], [], "nobody types yet")
        for ws in carl_ws:
            ws.send_json({"type": "watch", "conversation_id": conv})
        for i, ws in enumerate(carl_ws):
            m = presence(ws, conv, lambda m: viewer_ids(m) == both)
            eq(m["viewers"], [{"agent_id": a, "name": n} for a, n in
                              sorted([(anna_a["id"], "Anna Becker"),
                                      (carl_a["id"], "Carl Vogel")])],
               "viewers on Carl's tab %d" % i)
        m = presence(anna_ws, conv, lambda m: carl_a["id"] in viewer_ids(m))
        eq(viewer_ids(m), both, "Anna sees Carl once")
        # Bob may not see the conversation: his watch is refused and changes nothing
        bob_ws.send_json({"type": "watch", "conversation_id": conv})
        check("not found" in error_frame(bob_ws)["message"], "Bob's error")
        # one of Carl's tabs moves on: he is still there with the others
        carl_ws[0].send_json({"type": "watch", "conversation_id": other})
        m = presence(carl_ws[0], other)
        eq(viewer_ids(m), [carl_a["id"]], "the other conversation")
        # all of Carl's tabs leave: Anna is alone again (and Bob never showed up)
        carl_ws[1].send_json({"type": "watch", "conversation_id": None})
        carl_ws[2].close()
        m = presence(anna_ws, conv, lambda m: carl_a["id"] not in viewer_ids(m))
        eq(viewer_ids(m), [anna_a["id"]], "after Carl left")
        # watching the same again returns the picture; watching nothing ends it
        anna_ws.send_json({"type": "watch", "conversation_id": conv})
        eq(viewer_ids(presence(anna_ws, conv)), [anna_a["id"]], "the picture on request")
        bob_ws.send_json({"type": "watch", "conversation_id": blue})
        eq(viewer_ids(presence(bob_ws, blue)), [bob_a["id"]], "Bob in his own conversation")
    finally:
        for ws in [anna_ws, bob_ws] + carl_ws:
            ws.close()


def test_presence_typing(srv):
    admin, people, in_red, in_blue = setup(srv)
    (anna_a, anna), (carl_a, carl) = people["anna"], people["carl"]
    conv = kp.ingest(admin, in_red["id"], "kunde@example.de", "Hallo")["conversation_id"]
    other = kp.ingest(admin, in_red["id"], "zwei@example.de", "Hallo")["conversation_id"]
    anna_ws = stream(srv, anna)
    carl_ws = [stream(srv, carl) for _ in range(2)]
    try:
        anna_ws.send_json({"type": "watch", "conversation_id": conv})
        presence(anna_ws, conv)
        carl_ws[0].send_json({"type": "watch", "conversation_id": conv})
        presence(anna_ws, conv, lambda m: carl_a["id"] in viewer_ids(m))

        # typing shows up, and ends 5 s after the last typing frame
        carl_ws[0].send_json({"type": "typing", "conversation_id": conv})
        presence(anna_ws, conv, lambda m: m["typing"] == [carl_a["id"]])
        t0 = time.monotonic()
        m = presence(anna_ws, conv, lambda m: m["typing"] == [], timeout=10)
        waited = time.monotonic() - t0
        check(4.0 <= waited <= 7.0, "typing ended after %.1f s, expected about 5 s" % waited)
        eq(viewer_ids(m), sorted([anna_a["id"], carl_a["id"]]), "Carl still views it")

        # renewed typing frames keep it going
        carl_ws[0].send_json({"type": "typing", "conversation_id": conv})
        presence(anna_ws, conv, lambda m: m["typing"] == [carl_a["id"]])
        t0 = time.monotonic()
        for _ in range(2):
            try:
                anna_ws.recv_until(lambda m: m.get("type") == "presence", timeout=2)
                fail("typing ended although Carl kept typing")
            except kp.Failure as e:
                if "not received" not in str(e):
                    raise
            carl_ws[0].send_json({"type": "typing", "conversation_id": conv})
        presence(anna_ws, conv, lambda m: m["typing"] == [], timeout=10)
        check(time.monotonic() - t0 >= 8.0, "typing ended %.1f s after the first of three "
              "frames 2 s apart" % (time.monotonic() - t0))

        # typing in a conversation views it; watching another ends the typing at once
        carl_ws[1].send_json({"type": "typing", "conversation_id": conv})
        m = presence(anna_ws, conv, lambda m: m["typing"] == [carl_a["id"]])
        eq(viewer_ids(m), sorted([anna_a["id"], carl_a["id"]]), "viewers while typing")
        t0 = time.monotonic()
        carl_ws[1].send_json({"type": "watch", "conversation_id": other})
        presence(anna_ws, conv, lambda m: m["typing"] == [])
        check(time.monotonic() - t0 < 2.0, "typing did not end with the watch of another")
        # an explicit stop, and a disconnect, end it too
        carl_ws[0].send_json({"type": "typing", "conversation_id": conv})
        presence(anna_ws, conv, lambda m: m["typing"] == [carl_a["id"]])
        carl_ws[0].send_json({"type": "typing", "conversation_id": conv, "typing": False})
        presence(anna_ws, conv, lambda m: m["typing"] == [])
        carl_ws[0].send_json({"type": "typing", "conversation_id": conv})
        presence(anna_ws, conv, lambda m: m["typing"] == [carl_a["id"]])
        t0 = time.monotonic()
        carl_ws[0].close()
        m = presence(anna_ws, conv, lambda m: m["typing"] == [])
        eq(viewer_ids(m), [anna_a["id"]], "after Carl's tab closed")
        check(time.monotonic() - t0 < 2.0, "a disconnect ends typing at once")
    finally:
        for ws in [anna_ws] + carl_ws:
            ws.close()


def test_bad_client_frames(srv):
    admin, people, in_red, in_blue = setup(srv)
    anna = people["anna"][1]
    blue = kp.ingest(admin, in_blue["id"], "blau@example.de", "Hallo")["conversation_id"]
    ws = stream(srv, anna)
    keep = stream(srv, anna)
    try:
        for frame in ("not json", "[1,2]", '{"type":5}', '{"no":"type"}', '{"type":"dance"}',
                      '{"type":"watch","conversation_id":"7"}',
                      '{"type":"watch","conversation_id":-1}',
                      '{"type":"typing","conversation_id":null}',
                      '{"type":"typing","conversation_id":%d,"typing":"yes"}' % blue,
                      '{"type":"typing","conversation_id":%d}' % blue,
                      '{"type":"watch","conversation_id":999999}',
                      '{"type":"watch","conversation_id":1,"type":"typing"}',
                      '{"a":' * 100 + "1" + "}" * 100,
                      '{"type":"watch","conversation_id":%s}' % ("9" * 40),
                      "x" * 5000):
            ws.send_text(frame)
            error_frame(ws)
        ws._send_frame(0x2, b"\xff\xfe\x00binary")
        error_frame(ws)
        ws.send_json({"type": "ping"})
        ws.recv_until(lambda m: m.get("type") == "pong")
        # a message over the server's limit ends only that connection
        try:
            ws._send_frame(0x1, b"{" + b" " * 70000 + b"}")
            ws.recv_until(lambda m: False, timeout=5)
            fail("a 70 kB frame did not end the connection")
        except (kp.WebSocketClosed, OSError):
            pass
        r = kp.ingest(admin, in_red["id"], "ok@example.de", "still here")
        keep.recv_until(lambda e: e.get("type") == "message.created"
                        and e["conversation_id"] == r["conversation_id"])
    finally:
        ws.close()
        keep.close()
