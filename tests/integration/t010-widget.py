# SPDX-License-Identifier: MIT
"""t010 - the website chat widget, server side: the admin's secret, snippet, settings and
rotation; visitor sessions (anonymous, signed-in customers linked to their contact by a valid
HMAC, forged and tampered hashes refused, the token restoring the chat); messages and files
from the visitor (stored once however often retried, on the agents' stream at once); agent
replies on the visitor's WebSocket, internal notes never; typing both ways; page views stored
and listed; agents opening a visitor's widget; the offline flow that turns a chat into an email
conversation; allowed origins; and bad input of every kind answered with a 4xx JSON error. The
server runs four event loops and each test opens several connections, so that what one loop
receives must reach connections on the others."""
import base64
import hashlib
import hmac
import json
import re
import socket
import time

import kp
from kp import check, eq, fail

SERVER_ENV = {"KNOTENPUNKT_THREADS": "4"}

Q = kp.urlquote
PAGE = {"url": "https://shop.example/produkte/kaffee", "title": "Kaffeevollautomaten"}


def sign(secret, uid, email, name):
    msg = "%s\n%s\n%s" % (uid or "", email or "", name or "")
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()


def err(got, status, code, field=None, what=""):
    kp.expect_error(got, status, code, what)
    if field is not None:
        eq(got[2]["error"].get("field"), field, "%s: error field" % what)


def widget_inbox(admin, team_id=None, name="Shop-Chat"):
    body = {"name": name, "channel": "webchat"}
    if team_id is not None:
        body["team_id"] = team_id
    inbox = admin.post("/api/v1/inboxes", body)
    eq(inbox["channel"], "webchat", "inbox channel")
    w = admin.get("/api/v1/inboxes/%d/widget" % inbox["id"])
    return inbox, w


def setup(srv):
    """Admin; team Support with Anna (and the chat inbox), team Billing with Bob; Lena, an
    existing customer with an email identity (she wrote to the API channel before)."""
    admin = srv.admin()
    support = kp.make_team(admin, "Support")
    billing = kp.make_team(admin, "Billing")
    anna = kp.make_agent(admin, "anna@test.example", "Anna Becker", [support["id"]])
    bob = kp.make_agent(admin, "bob@test.example", "Bob Brown", [billing["id"]])
    api_inbox = kp.make_inbox(admin, "API", support["id"])
    lena = kp.ingest(admin, api_inbox["id"], "lena@example.de", "Hallo, wo bleibt mein Paket?",
                     subject="Bestellung KP-123456",
                     sender={"kind": "email", "value": "lena@example.de", "name": "Lena Schmidt"})
    inbox, widget = widget_inbox(admin, support["id"])
    return {"admin": admin, "support": support, "billing": billing, "inbox": inbox,
            "widget": widget, "api_inbox": api_inbox, "lena": lena["contact_id"],
            "anna": (anna, kp.agent_client(srv, "anna@test.example")),
            "bob": (bob, kp.agent_client(srv, "bob@test.example"))}


class Visitor:
    """A browser's widget: its own HTTP connection, its visitor token."""

    def __init__(self, srv, inbox_id, user=None, token=None, page=None, locale="de",
                 status=None, headers=None):
        self.srv = srv
        self.inbox_id = inbox_id
        self.http = srv.client()
        body = {"inbox_id": inbox_id, "locale": locale}
        if token:
            body["visitor_token"] = token
        if user:
            body["user"] = user
        if page:
            body["page"] = page
        st, _, s = self.http.request("POST", "/widget/v1/sessions", body, headers)
        check(st in (200, 201), "session: expected 200 or 201, got %d %s" % (st, s))
        if status is not None:
            eq(st, status, "session status")
        self.status = st
        self.session = s
        self.token = s["visitor_token"]
        self.contact_id = s["contact_id"]

    def request(self, method, path, body=None, token=True):
        h = {"X-Visitor-Token": self.token} if token else {}
        return self.http.request(method, path, body, h)

    def say(self, text, client_id=None, status=201):
        st, _, r = self.request("POST", "/widget/v1/messages",
                                {"text": text, "client_id": client_id or kp_uid()})
        if st != status:
            fail("visitor message: expected %d, got %d %s" % (status, st, r))
        return r

    def ws(self, headers=None):
        w = kp.WebSocket(self.srv.port, "/widget/v1/stream?token=" + Q(self.token), headers)
        hello = w.recv_json()
        eq(hello.get("type"), "hello", "first widget frame")
        eq(hello.get("contact_id"), self.contact_id, "hello contact_id")
        return w, hello


_uid = [0]


def kp_uid():
    _uid[0] += 1
    return "c%d-%d" % (int(time.time() * 1000), _uid[0])


def agent_stream(srv, client):
    ws = kp.WebSocket(srv.port, "/api/v1/stream", {"Authorization": "Bearer " + client.token})
    eq(ws.recv_json().get("type"), "hello", "first agent stream frame")
    return ws


def is_message(m, direction=None):
    return m.get("type") == "message" and (direction is None
                                           or m["message"]["direction"] == direction)


def no_frame(ws, pred, seconds, what):
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            m = ws.recv_json(left)
        except socket.timeout:
            return
        if pred(m):
            fail("%s: got %r" % (what, m))


# ---- admin: secret, snippet, settings ----


def test_admin_widget_secret_and_settings(srv):
    s = setup(srv)
    admin, inbox, w = s["admin"], s["inbox"], s["widget"]
    eq(sorted(w), ["allowed_origins", "greeting", "inbox_id", "secret", "snippet"], "widget fields")
    check(re.fullmatch(r"[0-9a-f]{64}", w["secret"]), "secret is 64 hex digits: %r" % w["secret"])
    eq(w["snippet"], '<script src="http://127.0.0.1:%d/widget/v1/widget.js" data-inbox="%d" '
       'async></script>' % (srv.port, inbox["id"]), "snippet")
    eq(w["allowed_origins"], [], "no origins: any site")
    eq(w["greeting"], {"de": "", "en": ""}, "no greetings yet")
    # every webchat inbox has its own secret; other channels have no widget
    _, w2 = widget_inbox(admin, name="Second shop")
    check(w2["secret"] != w["secret"], "each inbox has its own secret")
    err(admin.request("GET", "/api/v1/inboxes/%d/widget" % s["api_inbox"]["id"]), 404,
        "not_found", what="widget of an API inbox")
    err(admin.request("POST", "/api/v1/inboxes/%d/widget/rotate" % s["api_inbox"]["id"]), 404,
        "not_found", what="rotating an API inbox")
    err(admin.request("GET", "/api/v1/inboxes/99999/widget"), 404, "not_found",
        what="widget of a missing inbox")
    anna = s["anna"][1]
    err(anna.request("GET", "/api/v1/inboxes/%d/widget" % inbox["id"]), 403, "forbidden",
        what="an agent reads the secret")
    err(anna.request("POST", "/api/v1/inboxes/%d/widget/rotate" % inbox["id"]), 403,
        "forbidden", what="an agent rotates")
    # settings
    p = admin.patch("/api/v1/inboxes/%d/widget" % inbox["id"],
                    {"greeting_de": "Moin! Was können wir für Sie tun?",
                     "allowed_origins": ["https://shop.example", "http://localhost:8080"]})
    eq(p["greeting"]["de"], "Moin! Was können wir für Sie tun?", "German greeting")
    eq(p["allowed_origins"], ["https://shop.example", "http://localhost:8080"], "origins")
    eq(p["secret"], w["secret"], "settings leave the secret")
    for bad in (["shop.example"], ["https://shop.example/path"], ["javascript:alert(1)"],
                ["https://a b.example"], ["https://"], ["https://x.example:123456"], [5]):
        err(admin.request("PATCH", "/api/v1/inboxes/%d/widget" % inbox["id"],
                          {"allowed_origins": bad}), 400, "invalid_value", "allowed_origins",
            "origin %r" % bad)
    err(admin.request("PATCH", "/api/v1/inboxes/%d/widget" % inbox["id"],
                      {"allowed_origins": ["https://x.example"] * 21}), 400, "too_long",
        "allowed_origins", "21 origins")
    err(admin.request("PATCH", "/api/v1/inboxes/%d/widget" % inbox["id"],
                      {"greeting_en": "x" * 501}), 400, "too_long", "greeting_en", "long greeting")
    err(admin.request("PATCH", "/api/v1/inboxes/%d/widget" % inbox["id"], {}), 400,
        "missing_field", what="empty change")
    err(admin.request("PATCH", "/api/v1/inboxes/%d/widget" % inbox["id"], {"secret": "x"}), 400,
        "unknown_field", "secret", "setting the secret")
    p = admin.patch("/api/v1/inboxes/%d/widget" % inbox["id"], {"allowed_origins": []})
    eq(p["allowed_origins"], [], "origins cleared")
    audit = [x["action"] for x in admin.get("/api/v1/audit?limit=50")["items"]
             if x["object_type"] == "inbox" and x["object_id"] == inbox["id"]]
    check("inbox.widget" in audit, "settings are audited: %r" % audit)


def test_rotation_invalidates_old_hashes(srv):
    s = setup(srv)
    admin, inbox, secret = s["admin"], s["inbox"], s["widget"]["secret"]
    user = {"id": "cust-1", "email": "lena@example.de", "name": "Lena Schmidt"}
    signed = dict(user, hash=sign(secret, user["id"], user["email"], user["name"]))
    v = Visitor(srv, inbox["id"], user=signed)
    eq(v.contact_id, s["lena"], "signed-in customer before rotation")
    r = admin.post("/api/v1/inboxes/%d/widget/rotate" % inbox["id"], status=200)
    check(r["secret"] != secret and re.fullmatch(r"[0-9a-f]{64}", r["secret"]), "a new secret")
    eq(admin.get("/api/v1/inboxes/%d/widget" % inbox["id"])["secret"], r["secret"],
       "the new secret is kept")
    c = srv.client()
    err(c.request("POST", "/widget/v1/sessions", {"inbox_id": inbox["id"], "user": signed}), 403,
        "bad_signature", "user.hash", "old hash after rotation")
    fresh = dict(user, hash=sign(r["secret"], "cust-1", user["email"], user["name"]))
    v2 = Visitor(srv, inbox["id"], user=fresh)
    eq(v2.contact_id, s["lena"], "new hash after rotation")
    # a session opened before goes on with its token
    v.say("still here")
    audit = [x["action"] for x in admin.get("/api/v1/audit?limit=50")["items"]]
    check("inbox.widget_rotate" in audit, "rotation is audited")


# ---- sessions ----


def test_sessions_anonymous_identified_forged(srv):
    s = setup(srv)
    inbox, secret = s["inbox"], s["widget"]["secret"]
    a = Visitor(srv, inbox["id"], page=PAGE, status=201)
    sess = a.session
    check(sess["visitor_token"].startswith("kpv_"), "token %r" % sess["visitor_token"])
    check(sess["contact_id"] != s["lena"], "anonymous visitors get a contact of their own")
    eq((sess["conversation_id"], sess["messages"], sess["identified"], sess["name"],
        sess["email"], sess["reply_by_email"]), (None, [], False, None, None, False),
       "a new anonymous session")
    eq(sess["greeting"], "Hallo! Wie können wir Ihnen helfen?", "default greeting in German")
    check(sess["limits"]["text_bytes"] >= 10000 and sess["limits"]["attachment_bytes"] > 0,
          "limits: %r" % sess["limits"])
    # the token brings the same visitor back, with his chat
    a.say("Gibt es den Barista Pro auch in Weiß?")
    again = Visitor(srv, inbox["id"], token=a.token, locale="en", status=200)
    eq(again.token, a.token, "the same token")
    eq(again.contact_id, a.contact_id, "the same contact")
    eq([m["text"] for m in again.session["messages"]], ["Gibt es den Barista Pro auch in Weiß?"],
       "history restored")
    eq(again.session["greeting"], "Hi there! How can we help you today?", "English default")
    # unknown and another inbox's tokens start over
    other, _ = widget_inbox(s["admin"], name="Other shop")
    x = Visitor(srv, other["id"], token=a.token, status=201)
    check(x.token != a.token and x.contact_id != a.contact_id, "another inbox: a new session")
    y = Visitor(srv, inbox["id"], token="kpv_doesnotexist", status=201)
    check(y.token != "kpv_doesnotexist", "an unknown token: a new session")

    # a signed-in customer: linked to Lena, greeted with what is known of her
    user = {"id": "cust-1", "email": "lena@example.de", "name": "Lena Schmidt"}
    user["hash"] = sign(secret, user["id"], user["email"], user["name"])
    lena = Visitor(srv, inbox["id"], user=user, status=201)
    eq(lena.contact_id, s["lena"], "linked to the contact owning the email identity")
    eq(lena.session["identified"], True, "identified")
    eq(lena.session["name"], "Lena Schmidt", "name")
    eq(lena.session["email"], "lena@example.de", "email")
    eq(lena.session["greeting"], "Hallo Lena! Geht es um Ihre Bestellung KP-123456?",
       "a context-aware greeting from her open conversation")
    contact = s["admin"].get("/api/v1/contacts/%d" % s["lena"])
    check({"kind": "shop", "value": "cust-1"} in
          [{"kind": i["kind"], "value": i["value"]} for i in contact["identities"]],
          "the shop account became Lena's identity: %r" % contact["identities"])
    # the same customer again: the same session
    lena2 = Visitor(srv, inbox["id"], user=user, token=lena.token, status=200)
    eq(lena2.token, lena.token, "signed-in customer resumes")
    # an anonymous visit with her token never sees her chat
    anon = Visitor(srv, inbox["id"], token=lena.token, status=201)
    check(anon.token != lena.token and anon.contact_id != s["lena"],
          "an anonymous visit on a signed-in customer's token starts over")
    # a customer by shop id only finds her too
    by_id = {"id": "cust-1", "hash": sign(secret, "cust-1", "", "")}
    eq(Visitor(srv, inbox["id"], user=by_id).contact_id, s["lena"], "found by the shop id")
    # a new customer gets a new contact with both identities
    new = {"id": "cust-2", "email": "max@example.de", "name": "Max Mustermann"}
    new["hash"] = sign(secret, new["id"], new["email"], new["name"])
    m = Visitor(srv, inbox["id"], user=new, locale="en")
    eq(m.session["greeting"], "Hi Max! How can we help you today?", "greeting of a new customer")
    mc = s["admin"].get("/api/v1/contacts/%d" % m.contact_id)
    eq(mc["name"], "Max Mustermann", "new contact's name")
    eq(sorted((i["kind"], i["value"]) for i in mc["identities"]),
       [("email", "max@example.de"), ("shop", "cust-2")], "new contact's identities")

    # forged and tampered hashes are refused
    c = srv.client()
    tampered = dict(user, name="Eve")
    err(c.request("POST", "/widget/v1/sessions", {"inbox_id": inbox["id"], "user": tampered}),
        403, "bad_signature", "user.hash", "tampered name")
    tampered = dict(user, email="eve@example.de")
    err(c.request("POST", "/widget/v1/sessions", {"inbox_id": inbox["id"], "user": tampered}),
        403, "bad_signature", "user.hash", "tampered email")
    forged = dict(user, hash=sign("0" * 64, user["id"], user["email"], user["name"]))
    err(c.request("POST", "/widget/v1/sessions", {"inbox_id": inbox["id"], "user": forged}),
        403, "bad_signature", "user.hash", "hash made with another secret")
    flipped = dict(user, hash=user["hash"][:-1] + ("0" if user["hash"][-1] != "0" else "1"))
    err(c.request("POST", "/widget/v1/sessions", {"inbox_id": inbox["id"], "user": flipped}),
        403, "bad_signature", "user.hash", "one digit changed")
    # the forged visitor got nothing: no session, no contact change
    eq(s["admin"].get("/api/v1/contacts/%d" % s["lena"])["name"], "Lena Schmidt", "Lena intact")


# ---- messages ----


def test_messages_reach_agents_once(srv):
    s = setup(srv)
    anna = s["anna"][1]
    streams = [agent_stream(srv, anna) for _ in range(3)]
    v = Visitor(srv, s["inbox"]["id"], page=PAGE)
    r = v.say("Hallo, ich brauche Hilfe mit meiner Bestellung", client_id="msg-1")
    eq(r["duplicate"], False, "first delivery")
    msg = r["message"]
    eq((msg["direction"], msg["text"], msg["author_name"]),
       ("in", "Hallo, ich brauche Hilfe mit meiner Bestellung", None), "the stored message")
    conv = r["conversation_id"]
    # every agent stream (on any loop) has it, after the commit
    for ws in streams:
        ev, _ = ws.recv_until(lambda m: m.get("type") == "message.created"
                              and m["payload"]["message"]["id"] == msg["id"])
        eq(ev["conversation_id"], conv, "event conversation")
        eq(ev["payload"]["conversation"]["channel"], "webchat", "conversation channel")
        eq(ev["payload"]["conversation"]["contact"]["id"], v.contact_id, "conversation contact")
    # a retry with the same client id stores nothing
    again = v.say("Hallo, ich brauche Hilfe mit meiner Bestellung", client_id="msg-1", status=200)
    eq((again["duplicate"], again["message"]["id"], again["conversation_id"]),
       (True, msg["id"], conv), "retry answer")
    for ws in streams:
        no_frame(ws, lambda m: m.get("type") == "message.created", 0.5, "event for a retry")
    stored = anna.get("/api/v1/conversations/%d" % conv)
    eq([m["text"] for m in stored["messages"]], ["Hallo, ich brauche Hilfe mit meiner Bestellung"],
       "stored once")
    eq((stored["inbox_id"], stored["team_id"]), (s["inbox"]["id"], s["support"]["id"]),
       "conversation in the widget's inbox and team")
    # another visitor's identical client id is his own message
    other = Visitor(srv, s["inbox"]["id"])
    eq(other.say("Hallo", client_id="msg-1")["duplicate"], False, "client ids are per visitor")
    # the next message joins the same conversation; the token restores both
    v.say("Es geht um KP-555555")
    back = Visitor(srv, s["inbox"]["id"], token=v.token, status=200)
    eq(back.session["conversation_id"], conv, "the same conversation")
    eq([m["text"] for m in back.session["messages"]],
       ["Hallo, ich brauche Hilfe mit meiner Bestellung", "Es geht um KP-555555"], "history")
    for ws in streams:
        ws.close()


def test_reply_reaches_visitor_and_notes_do_not(srv):
    s = setup(srv)
    anna_agent, anna = s["anna"]
    v = Visitor(srv, s["inbox"]["id"])
    conv = v.say("Wann kommt mein Paket?")["conversation_id"]
    sockets = [v.ws()[0] for _ in range(4)]  # several tabs, on several loops
    hello = v.ws()
    eq(hello[1]["conversation_id"], conv, "hello names the conversation")
    sockets.append(hello[0])
    # the visitor's own message from another tab reaches every tab
    mine = v.say("Hallo? Ist jemand da?")
    for ws in sockets:
        f, _ = ws.recv_until(lambda m: is_message(m))
        eq((f["message"]["id"], f["message"]["direction"]), (mine["message"]["id"], "in"),
           "own message in the other tabs")
    anna.post("/api/v1/conversations/%d/messages" % conv,
              {"type": "note", "text": "Intern: Kunde ist VIP, bitte schnell antworten"})
    reply = anna.post("/api/v1/conversations/%d/messages" % conv,
                      {"type": "reply", "text": "Hallo! Ihr Paket kommt morgen."})
    for ws in sockets:
        f, before = ws.recv_until(lambda m: is_message(m))
        eq(f["message"]["id"], reply["id"], "the first message after the note is the reply")
        eq((f["message"]["direction"], f["message"]["text"], f["message"]["author_name"]),
           ("out", "Hallo! Ihr Paket kommt morgen.", "Anna"), "reply as the widget shows it")
        check(not any("Intern" in json.dumps(m) for m in before), "no note: %r" % before)
        check("author_agent_id" not in f["message"], "no agent ids for visitors")
    # history: the reply, never the note
    back = Visitor(srv, s["inbox"]["id"], token=v.token)
    texts = [m["text"] for m in back.session["messages"]]
    eq(texts, ["Wann kommt mein Paket?", "Hallo? Ist jemand da?", "Hallo! Ihr Paket kommt morgen."],
       "history without the note")
    # another visitor's widget hears nothing of it
    stranger = Visitor(srv, s["inbox"]["id"])
    sws, _ = stranger.ws()
    anna.post("/api/v1/conversations/%d/messages" % conv, {"type": "reply", "text": "Noch etwas?"})
    for ws in sockets:
        ws.recv_until(lambda m: is_message(m, "out"))
    no_frame(sws, is_message, 0.5, "a stranger's widget")
    for ws in sockets + [sws]:
        ws.close()


# ---- typing ----


def test_typing_both_ways(srv):
    s = setup(srv)
    anna = s["anna"][1]
    v = Visitor(srv, s["inbox"]["id"])
    conv = v.say("Hallo")["conversation_id"]
    agents = [agent_stream(srv, anna) for _ in range(3)]
    for ws in agents:
        ws.send_json({"type": "watch", "conversation_id": conv})
        ws.recv_until(lambda m: m.get("type") == "presence")
    vws = [v.ws()[0] for _ in range(3)]
    # the visitor types: every agent viewing the conversation sees it, on any loop
    vws[0].send_json({"type": "typing"})
    for ws in agents:
        f, _ = ws.recv_until(lambda m: m.get("type") == "visitor_typing")
        eq(f, {"type": "visitor_typing", "conversation_id": conv, "typing": True},
           "visitor typing frame")
    vws[0].send_json({"type": "typing", "typing": False})
    for ws in agents:
        f, _ = ws.recv_until(lambda m: m.get("type") == "visitor_typing")
        eq(f["typing"], False, "visitor stopped typing")
    # an agent types: the visitor's widgets show it, by first name
    agents[1].send_json({"type": "typing", "conversation_id": conv})
    for ws in vws:
        f, _ = ws.recv_until(lambda m: m.get("type") == "typing")
        eq(f, {"type": "typing", "agent": "Anna", "typing": True}, "agent typing frame")
    # and stops when she moves on
    agents[1].send_json({"type": "watch", "conversation_id": None})
    for ws in vws:
        f, _ = ws.recv_until(lambda m: m.get("type") == "typing")
        eq(f["typing"], False, "agent stopped typing")
    # bad visitor frames are answered and change nothing
    for bad, why in (("not json", "invalid frame"), ('{"type":1}', "string field 'type'"),
                     ('{"type":"dance"}', "unknown frame type"),
                     ('{"type":"typing","typing":"yes"}', "true or false"),
                     ("[1,2]", "invalid frame")):
        vws[2].send_text(bad)
        f, _ = vws[2].recv_until(lambda m: m.get("type") == "error")
        check(why in f["message"], "%r: error %r" % (bad, f["message"]))
    vws[2].send_text("x" * 5000)
    f, _ = vws[2].recv_until(lambda m: m.get("type") == "error")
    check("too large" in f["message"], "a frame of 5000 bytes: %r" % f)
    vws[2].send_json({"type": "ping"})
    vws[2].recv_until(lambda m: m.get("type") == "pong")
    for ws in agents + vws:
        ws.close()


# ---- page views ----


def test_page_events_stored_and_listed(srv):
    s = setup(srv)
    admin, anna, bob = s["admin"], s["anna"][1], s["bob"][1]
    v = Visitor(srv, s["inbox"]["id"], page=PAGE)
    ws, _ = v.ws()
    ws.send_json({"type": "page", "url": "https://shop.example/hilfe/versand",
                  "title": "Versand & Lieferung", "seconds_on_previous": 95})
    deadline = time.monotonic() + 5
    while True:
        items = admin.get("/api/v1/contacts/%d/events" % v.contact_id)["items"]
        if len(items) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    eq([(e["kind"], e["url"], e["title"], e["seconds"]) for e in items],
       [("page_view", "https://shop.example/hilfe/versand", "Versand & Lieferung", None),
        ("page_view", PAGE["url"], PAGE["title"], 95)], "page views, newest first")
    check(all(isinstance(e["id"], int) and e["created_at"].endswith("Z") for e in items),
          "ids and times")
    eq(len(admin.get("/api/v1/contacts/%d/events?limit=1" % v.contact_id)["items"]), 1, "limit")
    eq(admin.get("/api/v1/contacts/%d/events?before=%d" % (v.contact_id, items[0]["id"]))
       ["items"], items[1:], "before")
    # agents see it once they may see a conversation of the contact
    err(anna.request("GET", "/api/v1/contacts/%d/events" % v.contact_id), 404, "not_found",
        what="agent, contact without conversations")
    v.say("Frage zum Versand")
    eq(len(anna.get("/api/v1/contacts/%d/events" % v.contact_id)["items"]), 2,
       "agent of the inbox's team")
    err(bob.request("GET", "/api/v1/contacts/%d/events" % v.contact_id), 404, "not_found",
        what="agent of another team")
    err(admin.request("GET", "/api/v1/contacts/999999/events"), 404, "not_found",
        what="missing contact")
    err(admin.request("GET", "/api/v1/contacts/%d/events?limit=0" % v.contact_id), 400,
        "invalid_value", "limit", "limit 0")
    # bad page frames are refused; more than one a second too
    for bad in ({"type": "page"}, {"type": "page", "url": "javascript:alert(1)"},
                {"type": "page", "url": "https://x.example/", "seconds_on_previous": -1},
                {"type": "page", "url": "https://x.example/" + "a" * 2100},
                {"type": "page", "url": "https://x.example/", "title": "t\u0001"},
                {"type": "page", "url": "https://x.example/", "extra": 1}):
        ws.send_json(bad)
        f, _ = ws.recv_until(lambda m: m.get("type") == "error")
        check(f["message"], "error for %r" % bad)
    time.sleep(1.1)
    ws.send_json({"type": "page", "url": "https://shop.example/a"})
    ws.send_json({"type": "page", "url": "https://shop.example/b"})
    f, _ = ws.recv_until(lambda m: m.get("type") == "error")
    check("too many page views" in f["message"], "page views are rate-limited: %r" % f)
    ws.send_json({"type": "ping"})
    _, between = ws.recv_until(lambda m: m.get("type") == "pong")
    eq(between, [], "one page view of the two was refused")
    deadline = time.monotonic() + 5
    while admin.get("/api/v1/contacts/%d/events?limit=1" % v.contact_id)["items"][0]["url"] \
            != "https://shop.example/a":
        check(time.monotonic() < deadline, "the first of the two page views is stored")
        time.sleep(0.05)
    # more than ten frames a second are refused
    for _ in range(12):
        ws.send_json({"type": "ping"})
    f, _ = ws.recv_until(lambda m: m.get("type") == "error")
    check("too many frames" in f["message"], "frames are rate-limited: %r" % f)
    ws.close()


# ---- opening a visitor's widget ----


def test_widget_open(srv):
    s = setup(srv)
    admin, anna, bob = s["admin"], s["anna"][1], s["bob"][1]
    v = Visitor(srv, s["inbox"]["id"], page=PAGE)
    sockets = [v.ws()[0] for _ in range(3)]
    r = admin.post("/api/v1/widget/open", {"contact_id": v.contact_id}, status=202)
    eq(r, {"contact_id": v.contact_id, "conversation_id": None, "message_id": None}, "open answer")
    for ws in sockets:
        f, _ = ws.recv_until(lambda m: m.get("type") == "open")
        eq(f, {"type": "open"}, "open without text")
    # with a text: stored as a reply in a new chat conversation, shown, then opened
    r = admin.post("/api/v1/widget/open", {"contact_id": v.contact_id,
                                           "text": "Können wir Ihnen bei der Auswahl helfen?"},
                   status=202)
    check(isinstance(r["conversation_id"], int) and isinstance(r["message_id"], int),
          "open with text: %r" % r)
    for ws in sockets:
        f, _ = ws.recv_until(lambda m: m.get("type") in ("message", "open"))
        eq((f["type"], f["message"]["text"], f["message"]["direction"]),
           ("message", "Können wir Ihnen bei der Auswahl helfen?", "out"), "the message first")
        f, _ = ws.recv_until(lambda m: m.get("type") == "open")
        eq(f, {"type": "open", "text": "Können wir Ihnen bei der Auswahl helfen?",
               "message_id": r["message_id"]}, "then open")
    conv = admin.get("/api/v1/conversations/%d" % r["conversation_id"])
    eq((conv["inbox_id"], conv["channel"], conv["contact"]["id"]),
       (s["inbox"]["id"], "webchat", v.contact_id), "the conversation")
    eq([(m["direction"], m["author_agent_id"]) for m in conv["messages"]],
       [("out", admin.get("/api/v1/session")["agent"]["id"])], "stored as the admin's reply")
    back = Visitor(srv, s["inbox"]["id"], token=v.token)
    eq([m["text"] for m in back.session["messages"]],
       ["Können wir Ihnen bei der Auswahl helfen?"], "in the visitor's history")
    # agents: only for contacts they may see; the visitor's reply joins the conversation
    eq(v.say("Ja, gern!")["conversation_id"], r["conversation_id"], "the visitor answers there")
    anna.post("/api/v1/widget/open", {"contact_id": v.contact_id}, status=202)
    err(bob.request("POST", "/api/v1/widget/open", {"contact_id": v.contact_id}), 404,
        "not_found", what="agent of another team")
    err(admin.request("POST", "/api/v1/widget/open", {"contact_id": 999999}), 404, "not_found",
        what="missing contact")
    err(admin.request("POST", "/api/v1/widget/open", {"contact_id": s["lena"], "text": "Hi"}),
        404, "not_found", "contact_id", "a contact who never chatted")
    err(admin.request("POST", "/api/v1/widget/open", {"contact_id": "1"}), 400, "wrong_type",
        "contact_id", "contact id as a string")
    err(admin.request("POST", "/api/v1/widget/open", {}), 400, "missing_field", "contact_id",
        "no contact")
    err(admin.request("POST", "/api/v1/widget/open", {"contact_id": v.contact_id,
                                                      "text": "x" * 20001}),
        400, "too_long", "text", "long text")
    err(srv.client().request("POST", "/api/v1/widget/open", {"contact_id": v.contact_id}), 401,
        "unauthorized", what="without credentials")
    for ws in sockets:
        ws.close()


# ---- offline: answers by email ----


def test_offline_email_flow(srv):
    s = setup(srv)
    admin, anna = s["admin"], s["anna"][1]
    # Bob (another team) online does not count for this inbox
    bob_ws = agent_stream(srv, s["bob"][1])
    v = Visitor(srv, s["inbox"]["id"])
    eq(v.session["agents_online"], False, "nobody of the inbox's team online")
    ws, hello = v.ws()
    eq(hello["agents_online"], False, "hello: offline")
    conv = v.say("Ist jemand da?")["conversation_id"]
    # the visitor leaves an address; then Anna comes online, and his widget hears it
    watch = agent_stream(srv, anna)
    f, _ = ws.recv_until(lambda m: m.get("type") == "agents")
    eq(f, {"type": "agents", "online": True}, "an agent of the inbox came online")
    st, _, r = v.request("POST", "/widget/v1/email", {"email": "  Gast@Example.DE "})
    eq(st, 200, "email status (%r)" % r)
    eq(r, {"email": "gast@example.de", "conversation_id": conv, "reply_by_email": True},
       "email answer")
    ev, _ = watch.recv_until(lambda m: m.get("type") == "conversation.updated"
                             and m["conversation_id"] == conv)
    eq(ev["payload"]["conversation"]["channel"], "email", "the conversation's channel")
    contact = admin.get("/api/v1/contacts/%d" % v.contact_id)
    check(("email", "gast@example.de") in [(i["kind"], i["value"]) for i in contact["identities"]],
          "the address became his identity: %r" % contact["identities"])
    # the message is stored and answered when an agent comes; the composer's default follows
    eq(anna.get("/api/v1/conversations/%d" % conv)["channel"], "email", "stored channel")
    back = Visitor(srv, s["inbox"]["id"], token=v.token)
    eq((back.session["reply_by_email"], back.session["agents_online"]), (True, True),
       "a later session: replies by email, and Anna is online now")
    watch.close()
    f, _ = ws.recv_until(lambda m: m.get("type") == "agents")
    eq(f, {"type": "agents", "online": False}, "the last one went")
    deadline = time.monotonic() + 5
    while Visitor(srv, s["inbox"]["id"], token=v.token).session["agents_online"]:
        check(time.monotonic() < deadline, "offline again once Anna's stream closed")
        time.sleep(0.05)
    # another contact's address is only kept as a detail
    other = Visitor(srv, s["inbox"]["id"])
    other.say("Hallo")
    st, _, r = other.request("POST", "/widget/v1/email", {"email": "lena@example.de"})
    eq(st, 200, "someone else's address")
    oc = admin.get("/api/v1/contacts/%d" % other.contact_id)
    eq(oc["attributes"].get("email"), "lena@example.de", "kept as attribute")
    check(all(i["kind"] != "email" for i in oc["identities"]), "not linked")
    eq(admin.get("/api/v1/contacts/%d" % s["lena"])["id"], s["lena"], "Lena unchanged")
    # before the first message there is no conversation to switch
    fresh = Visitor(srv, s["inbox"]["id"])
    st, _, r = fresh.request("POST", "/widget/v1/email", {"email": "neu@example.de"})
    eq((st, r["conversation_id"], r["reply_by_email"]), (200, None, False), "no conversation yet")
    for bad in ("", "no-at-sign", "a@b", "two@@example.de", "sp ace@example.de",
                "<x>@example.de", "x@example.de\n"):
        err(v.request("POST", "/widget/v1/email", {"email": bad}), 400, "invalid_value", "email",
            "email %r" % bad)
    err(v.request("POST", "/widget/v1/email", {"email": "a" * 250 + "@example.de"}), 400,
        "too_long", "email", "long email")
    err(v.request("POST", "/widget/v1/email", {"email": "x@example.de"}, token=False), 401,
        "invalid_token", "X-Visitor-Token", "email without token")
    ws.close()
    bob_ws.close()


# ---- files ----


def test_attachments(srv):
    s = setup(srv)
    anna = s["anna"][1]
    v = Visitor(srv, s["inbox"]["id"])
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    body = {"filename": "../../etc/foto\u0001.png", "content_type": "IMAGE/PNG",
            "data": base64.b64encode(data).decode(), "client_id": "file-1"}
    st, _, r = v.request("POST", "/widget/v1/attachments", body)
    eq(st, 201, "upload status (%r)" % r)
    att = r["message"]["attachments"]
    eq(len(att), 1, "one attachment")
    eq((att[0]["filename"], att[0]["content_type"], att[0]["size"]),
       (".._.._etc_foto_.png", "image/png", len(data)), "sanitised name, type, size")
    st, _, again = v.request("POST", "/widget/v1/attachments", body)
    eq((st, again["duplicate"], again["message"]["id"]), (200, True, r["message"]["id"]), "retry")
    st, hdrs, raw = anna.request("GET", "/api/v1/attachments/%d" % att[0]["id"])
    eq((st, raw), (200, data), "the agent downloads the bytes")
    conv = anna.get("/api/v1/conversations/%d" % r["conversation_id"])
    eq(len(conv["messages"]), 1, "stored once")
    # bad files
    for bad, code, field, status in (
            (dict(body, data="not base64!", client_id="f2"), "invalid_value", "data", 400),
            (dict(body, data="", client_id="f3"), "invalid_value", "data", 400),
            (dict(body, client_id="bad id"), "invalid_value", "client_id", 400),
            (dict(body, filename="x" * 256, client_id="f4"), "too_long", "filename", 400)):
        err(v.request("POST", "/widget/v1/attachments", bad), status, code, field,
            "attachment %s" % code)
    big = base64.b64encode(b"x" * (300 * 1024)).decode()
    err(v.request("POST", "/widget/v1/attachments", dict(body, data=big, client_id="f5")), 413,
        "too_large", "data", "a file over max_attachment")


test_attachments = kp.env(KNOTENPUNKT_MAX_ATTACHMENT="200000")(test_attachments)


# ---- origins and the frame ----


def test_origins_and_frame(srv):
    s = setup(srv)
    admin, inbox = s["admin"], s["inbox"]
    c = srv.client()
    st, hdrs, body = c.request("GET", "/widget/v1/frame?inbox=%d" % inbox["id"])
    eq(st, 200, "frame")
    csp = hdrs.get("content-security-policy", "")
    for part in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                 "connect-src 'self'", "img-src 'self' data: blob:", "frame-ancestors *"):
        check(part in csp, "frame CSP has %r: %r" % (part, csp))
    check("x-frame-options" not in hdrs, "the frame can be framed")
    check(b"/widget/v1/frame.js" in body, "the frame loads its script")
    for f in ("/widget/v1/frame.js", "/widget/v1/frame.css", "/widget/v1/widget.js"):
        st, h, b = c.request("GET", f)
        eq(st, 200, f)
        check(len(b) > 100 and h.get("etag"), "%s has content and an ETag" % f)
    err(c.request("GET", "/widget/v1/frame?inbox=%d" % s["api_inbox"]["id"]), 404, "not_found",
        what="frame of an API inbox")
    err(c.request("GET", "/widget/v1/frame"), 404, "not_found", what="frame without inbox")
    err(c.request("GET", "/widget/v1/frame?inbox=abc"), 400, "invalid_value", "inbox",
        "frame of inbox abc")
    admin.patch("/api/v1/inboxes/%d/widget" % inbox["id"],
                {"allowed_origins": ["https://shop.example"]})
    st, hdrs, _ = c.request("GET", "/widget/v1/frame?inbox=%d&origin=%s"
                            % (inbox["id"], Q("https://shop.example")))
    eq(st, 200, "frame for an allowed origin")
    check("frame-ancestors 'self' https://shop.example" in hdrs["content-security-policy"],
          "frame-ancestors: %r" % hdrs["content-security-policy"])
    err(c.request("GET", "/widget/v1/frame?inbox=%d&origin=%s"
                  % (inbox["id"], Q("https://evil.example"))), 403, "origin_not_allowed",
        "origin", "frame for another site")
    # API calls from other sites are refused; the frame's own origin and the shop's work
    body = {"inbox_id": inbox["id"]}
    err(c.request("POST", "/widget/v1/sessions", body, {"Origin": "https://evil.example"}), 403,
        "origin_not_allowed", what="session from another site")
    Visitor(srv, inbox["id"], headers={"Origin": "https://shop.example"})
    v = Visitor(srv, inbox["id"], headers={"Origin": "http://127.0.0.1:%d" % srv.port})
    try:
        kp.WebSocket(srv.port, "/widget/v1/stream?token=" + Q(v.token),
                     {"Origin": "https://evil.example"})
        fail("widget websocket from another site was accepted")
    except kp.WebSocketRefused as e:
        eq(e.status, 403, "websocket from another site")
    v.ws({"Origin": "https://shop.example"})[0].close()
    st, _, _ = v.http.request("POST", "/widget/v1/messages", {"text": "x", "client_id": "o1"},
                              {"X-Visitor-Token": v.token, "Origin": "https://evil.example"})
    eq(st, 403, "message from another site")


# ---- bad input ----


def test_bad_input(srv):
    s = setup(srv)
    inbox, secret = s["inbox"]["id"], s["widget"]["secret"]
    c = srv.client()

    def session(body, status, code, field=None, what=""):
        err(c.request("POST", "/widget/v1/sessions", body), status, code, field, what)

    session({}, 400, "missing_field", "inbox_id", "no inbox")
    session({"inbox_id": "1"}, 400, "wrong_type", "inbox_id", "inbox as string")
    session({"inbox_id": 0}, 400, "invalid_value", "inbox_id", "inbox 0")
    session({"inbox_id": 99999}, 404, "not_found", "inbox_id", "missing inbox")
    session({"inbox_id": s["api_inbox"]["id"]}, 404, "not_found", "inbox_id", "API inbox")
    session({"inbox_id": inbox, "extra": 1}, 400, "unknown_field", "extra", "unknown field")
    session({"inbox_id": inbox, "visitor_token": "x" * 101}, 400, "too_long", "visitor_token",
            "long token")
    session({"inbox_id": inbox, "user": "me"}, 400, "wrong_type", "user", "user as string")
    session({"inbox_id": inbox, "user": {"id": "1"}}, 400, "missing_field", "user.hash",
            "user without hash")
    session({"inbox_id": inbox, "user": {"hash": "0" * 64}}, 400, "missing_field", "user.id",
            "user without id and email")
    session({"inbox_id": inbox, "user": {"id": "1", "hash": "xyz"}}, 400, "invalid_value",
            "user.hash", "short hash")
    session({"inbox_id": inbox, "user": {"id": "1", "hash": "g" * 64}}, 400, "invalid_value",
            "user.hash", "hash not hex")
    session({"inbox_id": inbox, "user": {"id": "1", "hash": "0" * 65}}, 400, "too_long",
            "user.hash", "long hash")
    session({"inbox_id": inbox, "user": {"id": "x" * 129, "hash": "0" * 64}}, 400, "too_long",
            "user.id", "long id")
    session({"inbox_id": inbox, "user": {"id": "1", "email": "no-address",
                                         "hash": sign(secret, "1", "no-address", "")}},
            400, "invalid_value", "user.email", "user email not an address")
    session({"inbox_id": inbox, "user": {"id": "1", "hash": "0" * 64, "role": "admin"}}, 400,
            "unknown_field", "user.role", "unknown user field")
    session({"inbox_id": inbox, "page": {"title": "x"}}, 400, "missing_field", "page.url",
            "page without url")
    session({"inbox_id": inbox, "page": {"url": "ftp://x.example/"}}, 400, "invalid_value",
            "page.url", "ftp page")
    session({"inbox_id": inbox, "page": {"url": "https://x.example/" + "a" * 2048}}, 400,
            "too_long", "page.url", "long url")
    session({"inbox_id": inbox, "page": {"url": "https://x.example/", "title": "t" * 301}}, 400,
            "too_long", "page.title", "long title")
    session({"inbox_id": inbox, "page": {"url": "https://x.example/",
                                         "seconds_on_previous": 10 ** 7}},
            400, "invalid_value", "page.seconds_on_previous", "huge seconds")
    session({"inbox_id": inbox, "locale": "x" * 36}, 400, "too_long", "locale", "long locale")
    err(c.request("POST", "/widget/v1/sessions", "{not json",
                  {"Content-Type": "application/json"}), 400, "invalid_json", what="bad JSON")
    err(c.request("POST", "/widget/v1/sessions", json.dumps({"inbox_id": inbox}),
                  {"Content-Type": "text/plain"}), 415, "unsupported_media_type",
        what="not JSON")

    v = Visitor(srv, inbox)

    def message(body, status, code, field=None, what="", token=True):
        err(v.request("POST", "/widget/v1/messages", body, token), status, code, field, what)

    message({"text": "hi", "client_id": "a"}, 401, "invalid_token", "X-Visitor-Token",
            "no token", token=False)
    err(v.http.request("POST", "/widget/v1/messages", {"text": "hi", "client_id": "a"},
                       {"X-Visitor-Token": "kpv_wrong"}), 401, "invalid_token", what="bad token")
    message({"client_id": "a"}, 400, "missing_field", "text", "no text")
    message({"text": "hi"}, 400, "missing_field", "client_id", "no client id")
    message({"text": "   \n", "client_id": "a"}, 400, "invalid_value", "text", "blank text")
    message({"text": "x" * 20001, "client_id": "a"}, 400, "too_long", "text", "long text")
    message({"text": 5, "client_id": "a"}, 400, "wrong_type", "text", "numeric text")
    message({"text": "hi", "client_id": "has space"}, 400, "invalid_value", "client_id",
            "client id with a space")
    message({"text": "hi", "client_id": "x" * 65}, 400, "too_long", "client_id",
            "long client id")
    message({"text": "hi", "client_id": "a", "html": "<b>"}, 400, "unknown_field", "html",
            "html from a visitor")
    # the visitor's WebSocket
    for path, status in (("/widget/v1/stream", 401), ("/widget/v1/stream?token=kpv_nope", 401),
                         ("/widget/v1/stream?token=" + "x" * 200, 401)):
        try:
            kp.WebSocket(srv.port, path)
            fail("%s was accepted" % path)
        except kp.WebSocketRefused as e:
            eq(e.status, status, path)
            eq(kp.error_code(e.body), "invalid_token", "%s: error code" % path)
    err(c.request("GET", "/widget/v1/stream?token=" + Q(v.token)), 426, "websocket_required",
        what="stream without upgrade")
    err(c.request("GET", "/widget/v1/sessions"), 405, "method_not_allowed", what="GET sessions")
    err(c.request("POST", "/widget/v1/nothing", {}), 404, "not_found", what="unknown route")
    # nothing of this crashed the server or left a 5xx (the runner checks), and it still works
    v.say("Und jetzt funktioniert es?")
