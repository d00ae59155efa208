# SPDX-License-Identifier: MIT
"""t002 - the generic API channel and the conversation API: ingest, threading, idempotency,
identities, replies and notes, assignment, transfer, tags, filters, pagination, search, the
message pipeline (language, index), attachments, audit."""
import base64
import os

import kp
from kp import check, eq, fail

Q = kp.urlquote


def setup(srv):
    admin = srv.admin()
    team = kp.make_team(admin, "Support")
    inbox = kp.make_inbox(admin, "Shop API", team["id"])
    return admin, team, inbox


def conv(admin, cid):
    return admin.get("/api/v1/conversations/%d" % cid)


def test_ingest_creates_contact_conversation_message(srv):
    admin, team, inbox = setup(srv)
    r = kp.ingest(admin, inbox["id"], "carla@customer.example", "Where is my parcel?",
                  subject="Order 1001", external_id="ext-1",
                  sender={"kind": "email", "value": "carla@customer.example", "name": "Carla"})
    contact = admin.get("/api/v1/contacts/%d" % r["contact_id"])
    eq(contact["name"], "Carla", "contact name from sender.name")
    eq([(i["kind"], i["value"]) for i in contact["identities"]],
       [("email", "carla@customer.example")], "contact identities")
    c = conv(admin, r["conversation_id"])
    eq(c["inbox_id"], inbox["id"], "conversation inbox")
    eq(c["channel"], "api", "conversation channel")
    eq(c["state"], "open", "new conversation state")
    eq(c["team_id"], team["id"], "conversation team (the inbox's team)")
    eq(c["assignee_id"], None, "new conversation assignee")
    eq(c["subject"], "Order 1001", "conversation subject")
    eq(c["message_count"], 1, "conversation message_count")
    eq(c["contact"], {"id": r["contact_id"], "name": "Carla"}, "conversation contact")
    check("parcel" in (c.get("preview") or ""), "preview %r" % c.get("preview"))
    eq(len(c["messages"]), 1, "messages in the conversation")
    m = c["messages"][0]
    eq(m["id"], r["message_id"], "message id")
    eq(m["conversation_id"], r["conversation_id"], "message conversation_id")
    eq(m["direction"], "in", "inbound direction")
    eq(m["channel"], "api", "message channel")
    eq(m["text"], "Where is my parcel?", "message text")
    eq(m["external_id"], "ext-1", "message external_id")
    eq(m["author_contact_id"], r["contact_id"], "message author_contact_id")
    eq(m["author_agent_id"], None, "inbound message author_agent_id")
    eq(m["attachments"], [], "message attachments")
    listed = admin.get("/api/v1/contacts?q=carla")["items"]
    eq([x["id"] for x in listed], [r["contact_id"]], "contacts found by q=carla")


def test_same_sender_same_conversation(srv):
    admin, team, inbox = setup(srv)
    a = kp.ingest(admin, inbox["id"], "dora@customer.example", "first")
    b = kp.ingest(admin, inbox["id"], "dora@customer.example", "second")
    o = kp.ingest(admin, inbox["id"], "emil@customer.example", "other person")
    eq(b["conversation_id"], a["conversation_id"], "second message's conversation")
    eq(b["contact_id"], a["contact_id"], "second message's contact")
    check(b["message_id"] != a["message_id"], "second message got the first one's id")
    check(o["conversation_id"] != a["conversation_id"], "other sender joined the conversation")
    check(o["contact_id"] != a["contact_id"], "other sender got the same contact")
    c = conv(admin, a["conversation_id"])
    eq(c["message_count"], 2, "message_count")
    eq([m["text"] for m in c["messages"]], ["first", "second"], "messages oldest first")


def test_idempotency_key_retry(srv):
    admin, team, inbox = setup(srv)
    key = {"Idempotency-Key": "order-42-msg-1"}
    a = kp.ingest(admin, inbox["id"], "fritz@customer.example", "hello once", headers=key)
    b = kp.ingest(admin, inbox["id"], "fritz@customer.example", "hello once", headers=key,
                  status=200)
    for k in ("message_id", "conversation_id", "contact_id"):
        eq(b[k], a[k], "retry %s" % k)
    c = conv(admin, a["conversation_id"])
    eq(c["message_count"], 1, "message_count after retry")
    eq(len(c["messages"]), 1, "stored messages after retry")
    # a different key is a different message
    d = kp.ingest(admin, inbox["id"], "fritz@customer.example", "hello once",
                  headers={"Idempotency-Key": "order-42-msg-2"})
    check(d["message_id"] != a["message_id"], "new key reused the message")
    eq(conv(admin, a["conversation_id"])["message_count"], 2, "message_count after a new key")


def test_external_id_retry(srv):
    admin, team, inbox = setup(srv)
    a = kp.ingest(admin, inbox["id"], "gina@customer.example", "via provider",
                  external_id="prov-777")
    b = kp.ingest(admin, inbox["id"], "gina@customer.example", "via provider",
                  external_id="prov-777", status=200)
    eq((b["message_id"], b["conversation_id"], b["contact_id"]),
       (a["message_id"], a["conversation_id"], a["contact_id"]), "duplicate ids")
    eq(conv(admin, a["conversation_id"])["message_count"], 1, "message_count after retry")


def test_resolved_conversation_gets_new_one(srv):
    admin, team, inbox = setup(srv)
    a = kp.ingest(admin, inbox["id"], "hans@customer.example", "problem")
    c = admin.patch("/api/v1/conversations/%d" % a["conversation_id"], {"state": "resolved"})
    eq(c["state"], "resolved", "state after PATCH")
    b = kp.ingest(admin, inbox["id"], "hans@customer.example", "new problem")
    check(b["conversation_id"] != a["conversation_id"], "message joined a resolved conversation")
    eq(b["contact_id"], a["contact_id"], "same contact for the new conversation")
    eq(conv(admin, a["conversation_id"])["message_count"], 1, "resolved conversation unchanged")
    eq(conv(admin, b["conversation_id"])["state"], "open", "new conversation state")
    # a pending conversation is unresolved and keeps receiving
    admin.patch("/api/v1/conversations/%d" % b["conversation_id"], {"state": "pending"})
    d = kp.ingest(admin, inbox["id"], "hans@customer.example", "more")
    eq(d["conversation_id"], b["conversation_id"], "message to a pending conversation")


def test_contact_identities(srv):
    admin, team, inbox = setup(srv)
    alice = admin.post("/api/v1/contacts", {"name": "Alice", "attributes": {"tier": "gold"},
                                            "identities": [{"kind": "email",
                                                            "value": "alice@customer.example"}]})
    eq(alice["name"], "Alice", "contact name")
    eq(alice["attributes"], {"tier": "gold"}, "contact attributes")
    withphone = admin.post("/api/v1/contacts/%d/identities" % alice["id"],
                           {"kind": "phone", "value": "+493012345678"})
    eq(sorted((i["kind"], i["value"]) for i in withphone["identities"]),
       [("email", "alice@customer.example"), ("phone", "+493012345678")], "identities")
    r = kp.ingest(admin, inbox["id"], "+493012345678", "calling about my order", kind="phone")
    eq(r["contact_id"], alice["id"], "message linked to the contact owning the phone")
    e = kp.ingest(admin, inbox["id"], "alice@customer.example", "and by mail")
    eq(e["contact_id"], alice["id"], "message linked to the contact owning the email")
    eq(e["conversation_id"], r["conversation_id"], "same contact, same open conversation")
    got = admin.request("POST", "/api/v1/contacts",
                        {"name": "Impostor", "identities": [{"kind": "phone",
                                                             "value": "+493012345678"}]})
    kp.expect_error(got, 409, "conflict", "contact with a taken identity")
    p = admin.patch("/api/v1/contacts/%d" % alice["id"],
                    {"attributes": {"tier": None, "city": "Berlin"}})
    eq(p["attributes"], {"city": "Berlin"}, "attributes after merge with a null")
    phone_id = next(i["id"] for i in withphone["identities"] if i["kind"] == "phone")
    left = admin.delete("/api/v1/contacts/%d/identities/%d" % (alice["id"], phone_id))
    eq([i["kind"] for i in left["identities"]], ["email"], "identities after delete")
    n = kp.ingest(admin, inbox["id"], "+493012345678", "new number owner", kind="phone")
    check(n["contact_id"] != alice["id"], "removed identity still links to Alice")


def test_reply_and_note(srv):
    admin, team, inbox = setup(srv)
    me = admin.get("/api/v1/agents")["items"][0]
    r = kp.ingest(admin, inbox["id"], "ida@customer.example", "help me")
    path = "/api/v1/conversations/%d/messages" % r["conversation_id"]
    reply = admin.post(path, {"type": "reply", "text": "We are on it"})
    eq(reply["direction"], "out", "reply direction")
    eq(reply["author_agent_id"], me["id"], "reply author")
    eq(reply["conversation_id"], r["conversation_id"], "reply conversation")
    note = admin.post(path, {"type": "note", "text": "customer is nervous"})
    eq(note["direction"], "note", "note direction")
    timeline = conv(admin, r["conversation_id"])["messages"]
    eq([(m["direction"], m["text"]) for m in timeline],
       [("in", "help me"), ("out", "We are on it"), ("note", "customer is nervous")], "timeline")
    items = admin.get(path)["items"]
    eq([m["id"] for m in items], [m["id"] for m in timeline], "GET messages ids")
    after = admin.get(path + "?after=%d" % r["message_id"])["items"]
    eq([m["id"] for m in after], [reply["id"], note["id"]], "messages after the first")
    one = admin.get(path + "?limit=1")["items"]
    eq([m["id"] for m in one], [r["message_id"]], "messages limit=1")
    got = admin.request("POST", path, {"type": "shout", "text": "x"})
    kp.expect_error(got, 400, "invalid_value", "message type shout")


def test_assign_transfer_state_tags(srv):
    admin, team, inbox = setup(srv)
    billing = kp.make_team(admin, "Billing")
    joe = kp.make_agent(admin, "joe@test.example", "Joe", [team["id"]])
    kim = kp.make_agent(admin, "kim@test.example", "Kim", [billing["id"]])
    r = kp.ingest(admin, inbox["id"], "jan@customer.example", "invoice wrong")
    base = "/api/v1/conversations/%d" % r["conversation_id"]

    c = admin.post(base + "/assign", {"assignee_id": joe["id"]}, status=200)
    eq(c["assignee_id"], joe["id"], "assignee after assign")
    eq(conv(admin, r["conversation_id"])["assignee_id"], joe["id"], "GET assignee")

    c = admin.post(base + "/transfer", {"team_id": billing["id"], "assignee_id": kim["id"],
                                        "note": "billing question"}, status=200)
    eq((c["team_id"], c["assignee_id"]), (billing["id"], kim["id"]), "team/assignee after transfer")
    got = conv(admin, r["conversation_id"])
    eq((got["team_id"], got["assignee_id"]), (billing["id"], kim["id"]), "GET after transfer")
    check(any(m["direction"] == "note" and "billing question" in (m["text"] or "")
              for m in got["messages"]), "transfer note not in the timeline")
    # joe lost access with the transfer, kim gained it
    joe_c = kp.agent_client(srv, "joe@test.example")
    kp.expect_error(joe_c.request("GET", base), 404, "not_found", "Joe after transfer")
    kim_c = kp.agent_client(srv, "kim@test.example")
    eq(kim_c.get(base)["id"], r["conversation_id"], "Kim reads the transferred conversation")

    c = admin.post(base + "/assign", {"assignee_id": None}, status=200)
    eq(c["assignee_id"], None, "assignee after unassign")

    c = admin.patch(base, {"state": "pending", "priority": "high"})
    eq((c["state"], c["priority"]), ("pending", "high"), "state/priority after PATCH")
    got = conv(admin, r["conversation_id"])
    eq((got["state"], got["priority"]), ("pending", "high"), "GET state/priority")

    admin.post(base + "/tags", {"tag": "vip"}, status=200)
    c = admin.post(base + "/tags", {"tag": "refund"}, status=200)
    eq(sorted(c["tags"]), ["refund", "vip"], "tags after adding two")
    c = admin.post(base + "/tags", {"tag": "vip"}, status=200)
    eq(sorted(c["tags"]), ["refund", "vip"], "adding a tag twice keeps one")
    c = admin.delete(base + "/tags/vip")
    eq(c["tags"], ["refund"], "tags after delete")
    eq(conv(admin, r["conversation_id"])["tags"], ["refund"], "GET tags")


def ids(client, query):
    return sorted(c["id"] for c in client.get("/api/v1/conversations" + query)["items"])


def test_list_filters(srv):
    admin, red, inbox_red = setup(srv)
    me = admin.get("/api/v1/agents")["items"][0]
    blue = kp.make_team(admin, "Blue")
    inbox_blue = kp.make_inbox(admin, "Blue API", blue["id"])
    ag = kp.make_agent(admin, "lea@test.example", "Lea", [red["id"]])
    a = kp.ingest(admin, inbox_red["id"], "a@c.example", "about a lamp", subject="lamp")
    b = kp.ingest(admin, inbox_red["id"], "b@c.example", "about a kettle quokka",
                  subject="kettle quokka")
    c = kp.ingest(admin, inbox_blue["id"], "c@c.example", "about a chair", subject="chair")
    d = kp.ingest(admin, inbox_blue["id"], "d@c.example", "about a table", subject="table")
    A, B, C, D = (x["conversation_id"] for x in (a, b, c, d))
    admin.patch("/api/v1/conversations/%d" % B, {"state": "pending"})
    admin.patch("/api/v1/conversations/%d" % D, {"state": "resolved"})
    admin.post("/api/v1/conversations/%d/assign" % A, {"assignee_id": me["id"]}, status=200)
    admin.post("/api/v1/conversations/%d/assign" % C, {"assignee_id": ag["id"]}, status=200)
    admin.post("/api/v1/conversations/%d/tags" % C, {"tag": "urgent-ish"}, status=200)
    admin.post("/api/v1/conversations/%d/tags" % A, {"tag": "lamp-tag"}, status=200)

    eq(ids(admin, ""), sorted([A, B, C, D]), "no filter")
    eq(ids(admin, "?state=open"), sorted([A, C]), "state=open")
    eq(ids(admin, "?state=pending"), [B], "state=pending")
    eq(ids(admin, "?state=resolved"), [D], "state=resolved")
    eq(ids(admin, "?team_id=%d" % red["id"]), sorted([A, B]), "team_id=red")
    eq(ids(admin, "?team_id=%d" % blue["id"]), sorted([C, D]), "team_id=blue")
    eq(ids(admin, "?assignee_id=me"), [A], "assignee_id=me")
    eq(ids(admin, "?assignee_id=none"), sorted([B, D]), "assignee_id=none")
    eq(ids(admin, "?assignee_id=%d" % ag["id"]), [C], "assignee_id=<id>")
    eq(ids(admin, "?inbox_id=%d" % inbox_blue["id"]), sorted([C, D]), "inbox_id")
    eq(ids(admin, "?contact_id=%d" % b["contact_id"]), [B], "contact_id")
    eq(ids(admin, "?channel=api"), sorted([A, B, C, D]), "channel=api")
    eq(ids(admin, "?channel=email"), [], "channel=email")
    eq(ids(admin, "?tag=urgent-ish"), [C], "tag")
    eq(ids(admin, "?tag=nothing"), [], "unknown tag")
    kp.wait_pipeline(admin)
    eq(ids(admin, "?q=quokka"), [B], "q=quokka")
    eq(ids(admin, "?state=open&team_id=%d" % blue["id"]), [C], "state+team_id")
    eq(ids(admin, "?team_id=mine"), [], "team_id=mine for an admin in no team")
    got = admin.request("GET", "/api/v1/conversations?team_id=red")
    kp.expect_error(got, 400, "invalid_value", "team_id=red")
    got = admin.request("GET", "/api/v1/conversations?sort=oldest")
    kp.expect_error(got, 400, "invalid_value", "sort=oldest")
    # waiting for an answer, the longest waiting first; a reply ends the wait
    # (D was resolved: nobody waits there any more)
    waiting = [c["id"] for c in admin.get("/api/v1/conversations?sort=waiting")["items"]]
    eq(waiting, [A, B, C], "sort=waiting: the oldest first")
    admin.post("/api/v1/conversations/%d/messages" % A, {"type": "reply", "text": "on it"})
    first = admin.get("/api/v1/conversations?sort=waiting&limit=1")
    eq([c["id"] for c in first["items"]], [B], "sort=waiting after A got an answer")
    rest = admin.get("/api/v1/conversations?sort=waiting&limit=1&cursor=" + Q(first["next_cursor"]))
    eq([c["id"] for c in rest["items"]], [C], "sort=waiting, second page")
    eq(rest["next_cursor"], None, "sort=waiting, no third page")
    # the agent: member of red, and C is assigned to her
    lea = kp.agent_client(srv, "lea@test.example")
    eq(ids(lea, ""), sorted([A, B, C]), "agent sees her team's and her assigned conversations")
    eq(ids(lea, "?assignee_id=me"), [C], "agent assignee_id=me")
    eq(ids(lea, "?team_id=mine"), sorted([A, B]), "agent team_id=mine: her team's only")


def test_cursor_pagination(srv):
    admin, team, inbox = setup(srv)
    made = []
    for i in range(60):
        r = kp.ingest(admin, inbox["id"], "p%02d@customer.example" % i, "page test %d" % i)
        made.append(r["conversation_id"])
    eq(len(set(made)), 60, "distinct conversations created")
    items, pages = kp.all_pages(admin, "/api/v1/conversations", limit=25)
    got = [c["id"] for c in items]
    eq(pages, 3, "pages for 60 conversations at limit 25")
    eq(len(got), 60, "conversations over all pages")
    eq(sorted(set(got)), sorted(made), "each conversation exactly once")
    eq(got[0], made[-1], "newest activity first")
    eq(got[-1], made[0], "oldest activity last")
    first = admin.get("/api/v1/conversations")
    eq(len(first["items"]), 25, "default limit")
    check(first["next_cursor"] is not None, "first page has a next_cursor")
    # new activity on the oldest conversation moves it to the front
    kp.ingest(admin, inbox["id"], "p00@customer.example", "bump")
    eq(admin.get("/api/v1/conversations?limit=1")["items"][0]["id"], made[0],
       "conversation with the newest message first")
    # a filtered listing pages too
    sub, _ = kp.all_pages(admin, "/api/v1/conversations?state=open", limit=7)
    eq(sorted(c["id"] for c in sub), sorted(made), "filtered pages")


def test_search_snippet(srv):
    admin, team, inbox = setup(srv)
    kp.ingest(admin, inbox["id"], "x@customer.example", "nothing to see here")
    r = kp.ingest(admin, inbox["id"], "m@customer.example",
                  "Tom & Jerry's order <script>alert(1)</script> zebrafinch never arrived",
                  sender={"kind": "email", "value": "m@customer.example", "name": "Mara"},
                  subject="Lost order")
    kp.wait_pipeline(admin)
    items = admin.get("/api/v1/search?q=zebrafinch")["items"]
    eq([h["message_id"] for h in items], [r["message_id"]], "search hits")
    h = items[0]
    eq(h["conversation_id"], r["conversation_id"], "hit conversation")
    eq(h["direction"], "in", "hit direction")
    eq(h["channel"], "api", "hit channel")
    eq(h["contact"], {"id": r["contact_id"], "name": "Mara"}, "hit contact")
    eq(h["subject"], "Lost order", "hit subject")
    snip = h["snippet"]
    check("<mark>zebrafinch</mark>" in snip, "snippet lacks the marked hit: %r" % snip)
    check("<script" not in snip, "snippet is not HTML-escaped: %r" % snip)
    check("&lt;script&gt;" in snip, "snippet lacks the escaped tag: %r" % snip)
    check("&amp;" in snip and " & " not in snip, "snippet does not escape '&': %r" % snip)
    eq(snip.replace("<mark>", "").replace("</mark>", "").count("<"), 0,
       "raw '<' left in the snippet %r" % snip)
    eq(admin.get("/api/v1/search?q=ptarmigan")["items"], [], "search without hits")
    nohit = admin.get("/api/v1/search?q=nothing")["items"]
    eq(len(nohit), 1, "hits for 'nothing'")


def test_pipeline_language_and_index(srv):
    admin, team, inbox = setup(srv)
    de = kp.ingest(admin, inbox["id"], "de@customer.example",
                   "Guten Tag, meine Bestellung ist noch nicht angekommen. Können Sie bitte "
                   "nachsehen, wo das Paket gerade ist? Vielen Dank")
    en = kp.ingest(admin, inbox["id"], "en@customer.example",
                   "Hello, I was charged twice for my subscription this month and would like "
                   "a refund of the second payment, please")
    reply = admin.post("/api/v1/conversations/%d/messages" % en["conversation_id"],
                       {"type": "reply", "text": "The kingfisher refund is on its way"})
    kp.wait_pipeline(admin)
    langs = {m["id"]: m["lang"]
             for c in (de, en) for m in conv(admin, c["conversation_id"])["messages"]}
    eq(langs[de["message_id"]], "de", "language of the German message")
    eq(langs[en["message_id"]], "en", "language of the English message")
    hits = admin.get("/api/v1/search?q=kingfisher")["items"]
    eq([h["message_id"] for h in hits], [reply["id"]], "agent replies are searchable")
    hits = admin.get("/api/v1/search?q=Bestellung")["items"]
    eq([h["message_id"] for h in hits], [de["message_id"]], "inbound messages are searchable")

    # killed right after the answers, perhaps before the pipeline ran: it catches up after the
    # restart and indexes nothing twice
    srv.kill()
    srv.restart()
    admin = srv.admin()
    late = kp.ingest(admin, inbox["id"], "late@customer.example", "a late albatross sighting")
    srv.kill()
    srv.restart()
    admin = srv.admin()
    kp.wait_pipeline(admin)
    hits = admin.get("/api/v1/search?q=albatross")["items"]
    eq([h["message_id"] for h in hits], [late["message_id"]], "indexed once after the restart")
    eq(len(admin.get("/api/v1/search?q=kingfisher")["items"]), 1, "earlier hits not doubled")


def test_attachments(srv):
    admin, team, inbox = setup(srv)
    blob = bytes(range(256)) * 12 + os.urandom(1000)
    r = kp.ingest(admin, inbox["id"], "n@customer.example", "see the photo",
                  attachments=[{"filename": "photo.png", "content_type": "image/png",
                                "data": base64.b64encode(blob).decode()},
                               {"filename": "notes.txt", "content_type": "text/plain",
                                "data": base64.b64encode(b"hello\n").decode()}])
    m = conv(admin, r["conversation_id"])["messages"][0]
    eq([(a["filename"], a["content_type"], a["size"]) for a in m["attachments"]],
       [("photo.png", "image/png", len(blob)), ("notes.txt", "text/plain", 6)], "attachments")
    st, hdrs, body = admin.request("GET", "/api/v1/attachments/%d" % m["attachments"][0]["id"])
    eq(st, 200, "GET attachment status")
    check(hdrs.get("content-type", "").startswith("image/png"), "attachment content type %r"
          % hdrs.get("content-type"))
    check(body == blob, "attachment bytes differ (%d bytes back, %d sent)"
          % (len(body) if isinstance(body, bytes) else -1, len(blob)))
    st, hdrs, body = admin.request("GET", "/api/v1/attachments/%d" % m["attachments"][1]["id"])
    eq((st, body), (200, b"hello\n"), "text attachment")
    got = admin.request("GET", "/api/v1/attachments/999999")
    kp.expect_error(got, 404, "not_found", "unknown attachment")
    other = kp.make_team(admin, "Elsewhere")
    kp.make_agent(admin, "pia@test.example", "Pia", [other["id"]])
    pia = kp.agent_client(srv, "pia@test.example")
    got = pia.request("GET", "/api/v1/attachments/%d" % m["attachments"][0]["id"])
    kp.expect_error(got, 404, "not_found", "attachment of a conversation the agent cannot see")


def test_audit(srv):
    admin = srv.admin()
    me = admin.get("/api/v1/agents")["items"][0]
    team = kp.make_team(admin, "Audited")
    agent = kp.make_agent(admin, "olga@test.example", "Olga", [team["id"]])
    inbox = kp.make_inbox(admin, "Audited inbox", team["id"])
    admin.patch("/api/v1/teams/%d" % team["id"], {"name": "Audited 2"})
    items = admin.get("/api/v1/audit?limit=100")["items"]
    for typ, oid in (("team", team["id"]), ("agent", agent["id"]), ("inbox", inbox["id"])):
        mine = [e for e in items if e.get("object_type") == typ and e.get("object_id") == oid]
        check(mine, "no audit entry for %s %d in %s" % (typ, oid, kp._short(items, 1500)))
        check(all(e["agent_id"] == me["id"] for e in mine), "audit agent for %s: %r" % (typ, mine))
        check(all(isinstance(e.get("action"), str) and e["action"] for e in mine),
              "audit action for %s: %r" % (typ, mine))
    check(len([e for e in items if e.get("object_type") == "team" and e.get("object_id")
               == team["id"]]) >= 2, "audit lacks the team rename: %s" % kp._short(items, 1500))
    ids_ = [e["id"] for e in items]
    eq(ids_, sorted(ids_, reverse=True), "audit newest first")
    older = admin.get("/api/v1/audit?before=%d&limit=100" % ids_[0])["items"]
    eq([e["id"] for e in older], ids_[1:], "audit before=")
    olga = kp.agent_client(srv, "olga@test.example")
    kp.expect_error(olga.request("GET", "/api/v1/audit"), 403, "forbidden", "agent reads audit")


def test_list_cache_keys_whole_query(srv):
    """Two list queries that differ only after a long prefix are two different answers (the
    answer cache must key on the whole query)."""
    admin = srv.admin()
    inbox = kp.make_inbox(admin, "Cache")
    r = kp.ingest(admin, inbox["id"], "kim@customer.example", "open one")
    pad = "p=" + "x" * 900 + "&"
    eq(admin.get("/api/v1/conversations?" + pad + "state=resolved")["items"], [],
       "resolved conversations")
    ids = [c["id"] for c in admin.get("/api/v1/conversations?" + pad + "state=open")["items"]]
    eq(ids, [r["conversation_id"]], "open conversations after a resolved query with the same prefix")


def test_inbox_update(srv):
    """An inbox renamed and given to another team: new conversations belong to that team,
    existing ones keep theirs; agents may not change inboxes."""
    admin = srv.admin()
    red = kp.make_team(admin, "Red")
    blue = kp.make_team(admin, "Blue")
    inbox = kp.make_inbox(admin, "Shop", red["id"])
    old = kp.ingest(admin, inbox["id"], "ola@customer.example", "first")
    changed = admin.patch("/api/v1/inboxes/%d" % inbox["id"], {"name": "Shop DE",
                                                               "team_id": blue["id"]})
    eq((changed["name"], changed["team_id"]), ("Shop DE", blue["id"]), "changed inbox")
    new = kp.ingest(admin, inbox["id"], "per@customer.example", "second")
    eq(admin.get("/api/v1/conversations/%d" % old["conversation_id"])["team_id"], red["id"],
       "existing conversation keeps its team")
    eq(admin.get("/api/v1/conversations/%d" % new["conversation_id"])["team_id"], blue["id"],
       "new conversation gets the inbox's new team")
    eq(admin.patch("/api/v1/inboxes/%d" % inbox["id"], {"team_id": None})["team_id"], None,
       "inbox without team")
    kp.expect_error(admin.request("PATCH", "/api/v1/inboxes/%d" % inbox["id"], {"team_id": 999}),
                    404, "not_found", "unknown team")
    kp.expect_error(admin.request("PATCH", "/api/v1/inboxes/%d" % inbox["id"], {}), 400,
                    "missing_field", "empty change")
    kp.make_agent(admin, "quin@test.example", "Quin", [red["id"]])
    quin = kp.agent_client(srv, "quin@test.example")
    kp.expect_error(quin.request("PATCH", "/api/v1/inboxes/%d" % inbox["id"], {"name": "x"}),
                    403, "forbidden", "agent changing an inbox")
