/* SPDX-License-Identifier: MIT */
/*
 * api_session.c - login and logout for the web app (session cookie + CSRF token) and personal
 * API tokens. Password checks are argon2id and run on libuv's worker pool, off the event loop.
 */
#include "api.h"
#include "auth.h"
#include "../base/clock.h"

#include <sodium.h>

enum { SESSION_MS = 12 * 3600 * 1000 };

struct login {
    struct kp_call *call;
    uv_work_t work;
    char email[256], password[256];
    char hash[KP_AUTH_HASH_LEN];
    int64_t agent_id;
    bool ok;
    /* for the write */
    char session[KP_AUTH_TOKEN_LEN], csrf[64];
    uint8_t session_hash[32];
};

/* What the web app checks before sending files. */
static json_t *limits(const struct kp_api *api)
{
    return json_pack("{sIsi}", "attachment_bytes", (json_int_t)kp_api_attachment_limit(api),
                     "attachments", KP_API_MAX_ATTACHMENTS);
}

static json_t *session_body(struct kp_api *api, int64_t agent_id, const char *csrf)
{
    json_t *agent = NULL;
    if (KP_STORE(api->store, agent_get, agent_id, &agent))
        return NULL;
    return json_pack("{sossso}", "agent", agent, "csrf_token", csrf, "limits", limits(api));
}

static int login_write(struct kp_store *s, void *ctx)
{
    struct login *l = ctx;
    int rc = KP_STORE(s, session_create, l->session_hash, l->agent_id, l->csrf,
                      kp_clock_now_ms() + SESSION_MS);
    if (!rc)
        rc = KP_STORE(s, audit_add, l->agent_id, "session.login", "agent", l->agent_id, NULL);
    return rc;
}

static void login_done(struct kp_call *call, void *ctx, int rc)
{
    struct login *l = ctx;
    if (rc) {
        kp_call_store_error(call, rc, "session");
        return;
    }
    char cookie[256];
    snprintf(cookie, sizeof(cookie),
             "Set-Cookie: kp_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s\r\n",
             l->session, SESSION_MS / 1000, call->api->cookie_secure ? "; Secure" : "");
    json_t *body = session_body(call->api, l->agent_id, l->csrf);
    if (!body) {
        kp_call_store_error(call, KP_EIO, "agent");
        return;
    }
    kp_call_json_headers(call, 200, cookie, body);
}

static void verify_work(uv_work_t *w)
{
    struct login *l = w->data;
    if (l->agent_id) {
        l->ok = kp_auth_verify_password(l->hash, l->password);
    } else {
        /* an unknown email costs one hash too, so timing does not tell which emails exist */
        unsigned char out[32], salt[crypto_pwhash_SALTBYTES] = {0};
        (void)!crypto_pwhash(out, sizeof(out), l->password, strlen(l->password), salt,
                             crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                             crypto_pwhash_ALG_ARGON2ID13);
        l->ok = false;
    }
    sodium_memzero(l->password, sizeof(l->password));
}

static void verify_done(uv_work_t *w, int status)
{
    struct login *l = w->data;
    struct kp_call *call = l->call;
    kp_auth_login_result(call->api->auth, l->email, status == 0 && l->ok, kp_clock_now_ms());
    if (status != 0 || !l->ok) {
        kp_call_error(call, 401, "invalid_credentials", NULL, "wrong email or password");
        return;
    }
    kp_auth_new_token("", l->session, sizeof(l->session));
    kp_auth_new_token("", l->csrf, sizeof(l->csrf));
    kp_auth_hash_token(l->session, l->session_hash);
    kp_call_write(call, l, login_write, login_done);
}

static void login(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"email", KP_JSON_STRING, true, false, 254},
        {"password", KP_JSON_STRING, true, false, 200},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    int64_t wait =
        kp_auth_login_wait(call->api->auth, kp_json_str(call->body, "email"), kp_clock_now_ms());
    if (wait) {
        char hdr[48];
        snprintf(hdr, sizeof(hdr), "Retry-After: %lld\r\n", (long long)wait);
        json_t *e = json_pack("{s{ssss}}", "error", "code", "too_many_attempts", "message",
                              "too many failed logins for this email; try again later");
        kp_call_json_headers(call, 429, hdr, e);
        return;
    }
    struct login *l = kp_call_write_ctx(call, sizeof(*l));
    l->call = call;
    snprintf(l->email, sizeof(l->email), "%s", kp_json_str(call->body, "email"));
    snprintf(l->password, sizeof(l->password), "%s", kp_json_str(call->body, "password"));
    int rc = KP_STORE(call->api->store, agent_credentials, l->email, &l->agent_id, l->hash,
                      sizeof(l->hash));
    if (rc && rc != KP_ENOTFOUND) {
        kp_call_store_error(call, rc, "agent");
        return;
    }
    if (rc)
        l->agent_id = 0;
    l->work.data = l;
    uv_queue_work(call->api->loop, &l->work, verify_work, verify_done);
}

static void current(struct kp_call *call)
{
    /* cookie sessions get their CSRF token back (the web app after a reload); Bearer callers
     * need none and get null */
    json_t *agent = NULL;
    int rc = KP_STORE(call->api->store, agent_get, call->auth.who.agent_id, &agent);
    if (rc) {
        kp_call_store_error(call, rc, "agent");
        return;
    }
    kp_call_json(call, 200,
                 json_pack("{sososo}", "agent", agent, "csrf_token",
                           call->auth.via_cookie ? json_string(call->auth.csrf) : json_null(),
                           "limits", limits(call->api)));
}

struct logout {
    uint8_t hash[32];
    int64_t agent_id;
};

static int logout_write(struct kp_store *s, void *ctx)
{
    struct logout *l = ctx;
    int rc = KP_STORE(s, session_delete, l->hash);
    if (!rc)
        rc = KP_STORE(s, audit_add, l->agent_id, "session.logout", "agent", l->agent_id, NULL);
    return rc ? rc : kp_api_notify_revoke(s, l->hash);
}

static void logout_done(struct kp_call *call, void *ctx, int rc)
{
    if (rc) {
        kp_call_store_error(call, rc, "session");
        return;
    }
    (void)ctx; /* the commit's notice clears every loop's credential cache */
    kp_req_respond(call->req, 204, "application/json",
                   "Set-Cookie: kp_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0\r\n", "",
                   0);
}

static void logout(struct kp_call *call)
{
    char secret[128];
    const char *cookie = kp_http_header(call->req->http, "Cookie");
    if (!call->auth.via_cookie || !cookie || kp_auth_cookie(cookie, secret, sizeof(secret))) {
        kp_call_error(call, 400, "bad_request", NULL, "logout needs a session cookie");
        return;
    }
    struct logout *l = kp_call_write_ctx(call, sizeof(*l));
    kp_auth_hash_token(secret, l->hash);
    l->agent_id = call->auth.who.agent_id;
    kp_call_write(call, l, logout_write, logout_done);
}

/* ---- personal API tokens ---- */

struct token {
    int64_t agent_id, id;
    char name[128], token[KP_AUTH_TOKEN_LEN];
    uint8_t hash[32];
};

static int token_write(struct kp_store *s, void *ctx)
{
    struct token *t = ctx;
    int rc = KP_STORE(s, token_create, t->agent_id, t->name, t->hash, &t->id);
    if (!rc)
        rc = KP_STORE(s, audit_add, t->agent_id, "token.create", "token", t->id, NULL);
    return rc;
}

static void token_done(struct kp_call *call, void *ctx, int rc)
{
    struct token *t = ctx;
    if (rc) {
        kp_call_store_error(call, rc, "token");
        return;
    }
    kp_call_json(
        call, 201,
        json_pack("{sIssss}", "id", (json_int_t)t->id, "name", t->name, "token", t->token));
}

static void token_create(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {{"name", KP_JSON_STRING, true, false, 100}};
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct token *t = kp_call_write_ctx(call, sizeof(*t));
    t->agent_id = call->auth.who.agent_id;
    snprintf(t->name, sizeof(t->name), "%s", kp_json_str(call->body, "name"));
    kp_auth_new_token("kpt_", t->token, sizeof(t->token));
    kp_auth_hash_token(t->token, t->hash);
    kp_call_write(call, t, token_write, token_done);
}

static void token_list(struct kp_call *call)
{
    json_t *items;
    int rc = KP_STORE(call->api->store, token_list, call->auth.who.agent_id, &items);
    if (rc) {
        kp_call_store_error(call, rc, "tokens");
        return;
    }
    kp_call_json(call, 200, json_pack("{so}", "items", items));
}

static int token_delete_write(struct kp_store *s, void *ctx)
{
    struct token *t = ctx;
    int rc = KP_STORE(s, token_delete, t->agent_id, t->id, t->hash);
    if (!rc)
        rc = KP_STORE(s, audit_add, t->agent_id, "token.delete", "token", t->id, NULL);
    return rc ? rc : kp_api_notify_revoke(s, t->hash);
}

static void token_delete_done(struct kp_call *call, void *ctx, int rc)
{
    (void)ctx; /* the commit's notice clears every loop's credential cache */
    if (rc) {
        kp_call_store_error(call, rc, "token");
        return;
    }
    kp_req_respond(call->req, 204, "application/json", "", "", 0);
}

static void token_delete(struct kp_call *call)
{
    struct token *t = kp_call_write_ctx(call, sizeof(*t));
    t->agent_id = call->auth.who.agent_id;
    t->id = call->ids[0];
    kp_call_write(call, t, token_delete_write, token_delete_done);
}

const struct kp_route kp_api_session_routes[] = {
    {"POST", "/api/v1/session", login, KP_PUBLIC, true},
    {"GET", "/api/v1/session", current, KP_AGENT, false},
    {"DELETE", "/api/v1/session", logout, KP_AGENT, false},
    {"GET", "/api/v1/tokens", token_list, KP_AGENT, false},
    {"POST", "/api/v1/tokens", token_create, KP_AGENT, true},
    {"DELETE", "/api/v1/tokens/{id}", token_delete, KP_AGENT, false},
    {0},
};
