# SPDX-License-Identifier: MIT
"""t001 - health, OpenAPI, sessions with CSRF, Bearer tokens, team visibility, keep-alive,
pipelining."""
import json

import kp
from kp import check, eq, fail


def test_healthz(srv):
    c = kp.Client(srv.port)
    st, hdrs, body = c.request("GET", "/healthz")
    eq(st, 200, "GET /healthz status")
    check("application/json" in hdrs.get("content-type", ""), "healthz content type %r"
          % hdrs.get("content-type"))
    eq(body.get("status"), "ok", "healthz status field")


def test_openapi(srv):
    c = kp.Client(srv.port)
    st, hdrs, raw = c.request("GET", "/api/v1/openapi.json")
    eq(st, 200, "GET /api/v1/openapi.json status")
    doc = raw if isinstance(raw, dict) else json.loads(raw.decode("utf-8"))
    check(isinstance(doc, dict), "openapi document is not an object")
    check(str(doc.get("openapi", "")).startswith("3.1"), "openapi version %r" % doc.get("openapi"))
    paths = doc.get("paths")
    check(isinstance(paths, dict) and any("conversations" in p for p in paths),
          "openapi paths lack conversations: %r" % (list(paths)[:20] if paths else paths))


def test_cookie_login_and_csrf(srv):
    c = kp.Client(srv.port)
    st, hdrs, body = c.request("POST", "/api/v1/session",
                               {"email": kp.ADMIN_EMAIL, "password": "wrong-password"})
    kp.expect_error((st, hdrs, body), 401, "invalid_credentials", "login with a wrong password")
    check(kp.session_cookie(hdrs) is None, "a failed login must not set a session cookie")

    st, hdrs, body = c.request("POST", "/api/v1/session",
                               {"email": kp.ADMIN_EMAIL, "password": kp.ADMIN_PASSWORD})
    eq(st, 200, "login status")
    eq(body["agent"]["email"], kp.ADMIN_EMAIL, "logged-in agent email")
    eq(body["agent"]["role"], "admin", "logged-in agent role")
    cookie_line = next(l for l in hdrs.get("set-cookie", "").split("\n") if "kp_session=" in l)
    low = cookie_line.lower().replace(" ", "")
    check("httponly" in low, "session cookie lacks HttpOnly: %r" % cookie_line)
    check("samesite=strict" in low, "session cookie lacks SameSite=Strict: %r" % cookie_line)
    check("path=/" in low, "session cookie lacks Path=/: %r" % cookie_line)
    c.session = kp.session_cookie(hdrs)
    c.csrf = body["csrf_token"]

    me = c.get("/api/v1/session")
    eq(me["agent"]["email"], kp.ADMIN_EMAIL, "GET /session agent")
    check(me.get("csrf_token"), "GET /session lacks csrf_token")

    c.send_csrf = False
    got = c.request("POST", "/api/v1/teams", {"name": "No CSRF"})
    kp.expect_error(got, 403, "csrf_failed", "cookie POST without X-CSRF-Token")
    got = c.request("POST", "/api/v1/teams", {"name": "Bad CSRF"},
                    headers={"X-CSRF-Token": "not-the-token"})
    kp.expect_error(got, 403, "csrf_failed", "cookie POST with a wrong X-CSRF-Token")
    c.send_csrf = True
    team = c.post("/api/v1/teams", {"name": "With CSRF"})
    eq(team["name"], "With CSRF", "team created with CSRF token")
    names = [t["name"] for t in c.get("/api/v1/teams")["items"]]
    eq(sorted(names), ["With CSRF"], "teams after the refused requests")

    c.delete("/api/v1/session", status=204)
    got = c.request("GET", "/api/v1/session")
    kp.expect_error(got, 401, "unauthorized", "GET /session after logout")
    got = c.request("GET", "/api/v1/teams")
    kp.expect_error(got, 401, "unauthorized", "old session cookie after logout")


def test_login_throttle(srv):
    """Password guessing: ten failures for one email lock its logins for a while, even with the
    right password, while other accounts can still log in."""
    c = kp.Client(srv.port)
    for i in range(10):
        got = c.request("POST", "/api/v1/session",
                        {"email": kp.ADMIN_EMAIL.upper(), "password": "guess-%d" % i})
        kp.expect_error(got, 401, "invalid_credentials", "wrong password #%d" % (i + 1))
    st, hdrs, body = c.request("POST", "/api/v1/session",
                               {"email": kp.ADMIN_EMAIL, "password": kp.ADMIN_PASSWORD})
    kp.expect_error((st, hdrs, body), 429, "too_many_attempts", "login after ten failures")
    check(int(hdrs.get("retry-after", "0")) > 0, "a 429 must say when to retry: %r" % hdrs)
    admin = srv.admin()
    admin.post("/api/v1/agents", {"email": "other@test.example", "name": "Other",
                                  "role": "agent", "password": "other-pass-1"})
    st, _, body = c.request("POST", "/api/v1/session",
                            {"email": "other@test.example", "password": "other-pass-1"})
    eq(st, 200, "another account logs in while the first is locked")


def test_bearer_tokens(srv):
    admin = srv.admin()
    agents = admin.get("/api/v1/agents")["items"]
    eq([a["email"] for a in agents], [kp.ADMIN_EMAIL], "agents seen with the CLI token")
    # Bearer requests need no CSRF token
    t = admin.post("/api/v1/tokens", {"name": "ci"})
    eq(t["name"], "ci", "token name")
    check(t["token"].startswith("kpt_"), "token prefix: %r" % t["token"])
    listed = admin.get("/api/v1/tokens")["items"]
    check(any(x["id"] == t["id"] and x["name"] == "ci" for x in listed), "new token not listed")
    check(all("token" not in x for x in listed), "token list must not show secrets: %r" % listed)

    other = kp.Client(srv.port, t["token"])
    eq(other.get("/api/v1/agents")["items"][0]["email"], kp.ADMIN_EMAIL, "new token works")
    admin.delete("/api/v1/tokens/%d" % t["id"], status=204)
    got = other.request("GET", "/api/v1/agents")
    kp.expect_error(got, 401, "unauthorized", "deleted token")
    got = kp.Client(srv.port, "kpt_" + "0" * 40).request("GET", "/api/v1/agents")
    kp.expect_error(got, 401, "unauthorized", "unknown token")
    eq(admin.request("GET", "/api/v1/agents")[0], 200, "CLI token still works")


def test_bearer_on_session_route(srv):
    # the contract: "Bearer: Authorization: Bearer kpt_... on any route"
    me = srv.admin().get("/api/v1/session")
    eq(me["agent"]["email"], kp.ADMIN_EMAIL, "GET /session with a Bearer token")


def test_no_credentials(srv):
    c = kp.Client(srv.port)
    for path in ("/api/v1/conversations", "/api/v1/agents", "/api/v1/session",
                 "/api/v1/search?q=x"):
        kp.expect_error(c.request("GET", path), 401, "unauthorized", "GET %s without credentials"
                        % path)
    got = c.request("POST", "/api/v1/teams", {"name": "x"})
    kp.expect_error(got, 401, "unauthorized", "POST /teams without credentials")


def test_team_visibility(srv):
    admin = srv.admin()
    red = kp.make_team(admin, "Red")
    blue = kp.make_team(admin, "Blue")
    agent = kp.make_agent(admin, "rita@test.example", "Rita", [red["id"]])
    eq(agent["active"], True, "new agent active")
    team = admin.get("/api/v1/teams/%d" % red["id"])
    eq(team["members"], [agent["id"]], "Red team members")
    eq(admin.get("/api/v1/teams/%d" % blue["id"])["members"], [], "Blue team members")
    in_red = kp.make_inbox(admin, "Red inbox", red["id"])
    in_blue = kp.make_inbox(admin, "Blue inbox", blue["id"])
    eq(admin.get("/api/v1/inboxes/%d" % in_red["id"])["name"], "Red inbox", "GET inbox")

    a = kp.ingest(admin, in_red["id"], "anna@customer.example", "Red question")
    b = kp.ingest(admin, in_blue["id"], "bert@customer.example", "Blue question")
    check(a["conversation_id"] != b["conversation_id"], "two inboxes, one conversation")

    rita = kp.Client(srv.port)
    login = rita.login("rita@test.example", "agent-pass-1")
    eq(login["agent"]["role"], "agent", "agent login role")
    eq(login["agent"]["teams"], [red["id"]], "agent login teams")
    seen = [c["id"] for c in rita.get("/api/v1/conversations")["items"]]
    eq(seen, [a["conversation_id"]], "conversations the Red agent sees")
    conv = rita.get("/api/v1/conversations/%d" % a["conversation_id"])
    eq(conv["team_id"], red["id"], "conversation team from its inbox")
    eq([m["text"] for m in conv["messages"]], ["Red question"], "messages of the Red conversation")
    got = rita.request("GET", "/api/v1/conversations/%d" % b["conversation_id"])
    kp.expect_error(got, 404, "not_found", "agent reading another team's conversation")
    got = rita.request("GET", "/api/v1/conversations/%d/messages" % b["conversation_id"])
    kp.expect_error(got, 404, "not_found", "agent reading another team's messages")
    got = rita.request("POST", "/api/v1/conversations/%d/messages" % b["conversation_id"],
                       {"type": "reply", "text": "sneaky"})
    kp.expect_error(got, 404, "not_found", "agent replying in another team's conversation")
    kp.wait_pipeline(rita)
    hits = rita.get("/api/v1/search?q=question")["items"]
    eq([h["conversation_id"] for h in hits], [a["conversation_id"]], "agent search results")

    both = sorted(c["id"] for c in admin.get("/api/v1/conversations")["items"])
    eq(both, sorted([a["conversation_id"], b["conversation_id"]]), "conversations admin sees")
    blue_conv = admin.get("/api/v1/conversations/%d" % b["conversation_id"])
    eq(blue_conv["messages"][0]["text"], "Blue question", "admin reads the Blue conversation")
    eq(len(blue_conv["messages"]), 1, "Blue conversation message count")

    # membership changes take effect at once
    t = admin.put("/api/v1/teams/%d/members/%d" % (blue["id"], agent["id"]))
    eq(t["members"], [agent["id"]], "Blue members after PUT")
    seen = sorted(c["id"] for c in rita.get("/api/v1/conversations")["items"])
    eq(seen, sorted([a["conversation_id"], b["conversation_id"]]), "agent in both teams sees")
    eq(sorted(rita.get("/api/v1/session")["agent"]["teams"]), sorted([red["id"], blue["id"]]),
       "agent teams after PUT")
    t = admin.delete("/api/v1/teams/%d/members/%d" % (red["id"], agent["id"]))
    eq(t["members"], [], "Red members after DELETE")
    seen = [c["id"] for c in rita.get("/api/v1/conversations")["items"]]
    eq(seen, [b["conversation_id"]], "agent moved to Blue sees")
    kp.expect_error(rita.request("GET", "/api/v1/conversations/%d" % a["conversation_id"]),
                    404, "not_found", "agent reading her old team's conversation")


def test_deactivated_agent_locked_out(srv):
    admin = srv.admin()
    ag = kp.make_agent(admin, "vera@test.example", "Vera")
    vera = kp.agent_client(srv, "vera@test.example")
    eq(vera.request("GET", "/api/v1/conversations")[0], 200, "active agent's token")
    cookie = kp.Client(srv.port)
    cookie.login("vera@test.example", "agent-pass-1")
    me = vera.patch("/api/v1/agents/%d" % ag["id"], {"name": "Vera V."})
    eq(me["name"], "Vera V.", "agent renames herself")
    p = admin.patch("/api/v1/agents/%d" % ag["id"], {"active": False})
    eq(p["active"], False, "active after PATCH")
    kp.expect_error(vera.request("GET", "/api/v1/conversations"), 401, "unauthorized",
                    "deactivated agent's token")
    kp.expect_error(cookie.request("GET", "/api/v1/conversations"), 401, "unauthorized",
                    "deactivated agent's session")
    got = kp.Client(srv.port).request("POST", "/api/v1/session",
                                      {"email": "vera@test.example", "password": "agent-pass-1"})
    kp.expect_error(got, 401, "invalid_credentials", "deactivated agent's login")


def test_keep_alive(srv):
    c = srv.admin()
    c.get("/healthz")
    sock = c.conn.sock
    check(sock is not None, "connection closed after the first response")
    for i in range(8):
        c.post("/api/v1/teams", {"name": "Team %d" % i})
        eq(len(c.get("/api/v1/teams")["items"]), i + 1, "teams after %d creations" % (i + 1))
        check(c.conn.sock is sock, "server closed the keep-alive connection after request %d" % i)
    # error answers keep the connection too
    kp.expect_error(c.request("GET", "/api/v1/conversations/424242"), 404, "not_found", "404")
    kp.expect_error(c.request("POST", "/api/v1/teams", b"{nope",
                              {"Content-Type": "application/json"}), 400, "invalid_json", "400")
    eq(c.request("GET", "/healthz")[0], 200, "request after error answers")
    check(c.conn.sock is sock, "server closed the keep-alive connection after an error answer")


def test_pipelining(srv):
    admin = srv.admin()
    ids = [kp.make_team(admin, name)["id"] for name in ("Alpha", "Beta", "Gamma")]
    auth = {"Authorization": "Bearer " + srv.token}
    data = b"".join(kp.build_request("GET", "/api/v1/teams/%d" % i, auth, port=srv.port)
                    for i in ids)
    s = kp.connect(srv.port)
    try:
        s.sendall(data)  # three requests in one write
        r = kp.RawReader(s)
        names = []
        for i in ids:
            got = kp.read_response(r, "GET", "/api/v1/teams/%d" % i)
            check(got is not None, "connection closed after %d pipelined responses" % len(names))
            eq(got[0], 200, "pipelined response %d status" % (len(names) + 1))
            eq(got[2]["id"], i, "pipelined response %d team id" % (len(names) + 1))
            names.append(got[2]["name"])
        eq(names, ["Alpha", "Beta", "Gamma"], "pipelined responses in request order")
        # a POST with a body between two GETs, in one write
        body = b'{"name":"Delta"}'
        post = kp.build_request("POST", "/api/v1/teams", dict(auth, **{
            "Content-Type": "application/json"}), body, port=srv.port)
        s.sendall(kp.build_request("GET", "/api/v1/teams/%d" % ids[0], auth, port=srv.port)
                  + post + kp.build_request("GET", "/api/v1/teams", auth, port=srv.port))
        got = [kp.read_response(r) for _ in range(3)]
        eq([g[0] for g in got], [200, 201, 200], "statuses of GET, POST, GET")
        eq(got[1][2]["name"], "Delta", "pipelined POST answer")
        eq(sorted(t["name"] for t in got[2][2]["items"]), ["Alpha", "Beta", "Delta", "Gamma"],
           "GET after the pipelined POST sees it")
        # the connection is still usable after the pipelined batch
        s.sendall(kp.build_request("GET", "/healthz", port=srv.port))
        got = kp.read_response(r)
        eq(got[0], 200, "request after the pipelined batch")
    finally:
        s.close()
