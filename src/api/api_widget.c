/* SPDX-License-Identifier: MIT */
/*
 * api_widget.c - the website chat widget's REST side. Public routes under /widget/v1 for the
 * visitor's frame: a session (a random token the browser keeps; a signed-in shop customer is
 * recognised by the signature of his id, email and name), messages and files (through the
 * store's ingest, like every inbound channel, answered only after the commit and idempotent on
 * the client's id), and an email address for answers when no agent is online. For agents:
 * POST /api/v1/widget/open asks a contact's open widgets to open, with a message or without.
 * The visitor's WebSocket is in visitor.c, the frame page in api_web.c.
 */
#include "api_widget.h"
#include "auth.h"
#include "bus.h"
#include "metrics.h"
#include "online.h"
#include "../base/clock.h"
#include "../base/tmpl.h"

#include <sodium.h>
#include <strings.h>

/* ---- signatures, origins, greetings ---- */

void kp_api_widget_sign(const char *secret, const char *id, const char *email, const char *name,
                        char out[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    const char *parts[] = {id ? id : "", "\n", email ? email : "", "\n", name ? name : ""};
    for (size_t i = 0; i < KP_ARRAY_LEN(parts); i++)
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)parts[i], strlen(parts[i]));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}

bool kp_api_widget_verify(const char *secret, const char *id, const char *email, const char *name,
                          const char *hash)
{
    unsigned char want[32], got[32];
    size_t len = 0;
    if (!hash || strlen(hash) != 64 ||
        sodium_hex2bin(got, sizeof(got), hash, 64, NULL, &len, NULL) != 0 || len != 32)
        return false;
    char hex[65];
    kp_api_widget_sign(secret, id, email, name, hex);
    sodium_hex2bin(want, sizeof(want), hex, 64, NULL, &len, NULL);
    return crypto_verify_32(want, got) == 0;
}

void kp_api_widget_new_secret(char out[KP_WIDGET_SECRET_LEN + 1])
{
    unsigned char rnd[KP_WIDGET_SECRET_LEN / 2];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(out, KP_WIDGET_SECRET_LEN + 1, rnd, sizeof(rnd));
}

/* An order number in s ("KP-123456": 2 to 4 capital letters, '-', 4 or more digits, not
 * followed by another '-' as invoice numbers are) into out. */
static bool order_number(const char *s, char *out, size_t cap)
{
    for (const char *p = s; *p; p++) {
        if (p > s && ((p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= 'a' && p[-1] <= 'z') ||
                      (p[-1] >= '0' && p[-1] <= '9') || p[-1] == '-'))
            continue; /* not at the start of a word */
        size_t letters = 0, digits = 0;
        while (p[letters] >= 'A' && p[letters] <= 'Z')
            letters++;
        if (letters < 2 || letters > 4 || p[letters] != '-')
            continue;
        const char *d = p + letters + 1;
        while (d[digits] >= '0' && d[digits] <= '9')
            digits++;
        if (digits < 4 || d[digits] == '-' || (d[digits] >= 'A' && d[digits] <= 'Z'))
            continue;
        size_t n = letters + 1 + digits;
        if (n >= cap)
            return false;
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

void kp_api_widget_greeting(const char *lang, const struct kp_visitor_facts *f, bool identified,
                            const struct kp_widget *w, char *out, size_t cap)
{
    bool de = lang && strncasecmp(lang, "de", 2) == 0;
    if (!identified) {
        const char *own = w ? (de ? w->greeting_de : w->greeting_en) : "";
        const char *other = w ? (de ? w->greeting_en : w->greeting_de) : "";
        snprintf(out, cap, "%s",
                 own[0]     ? own
                 : other[0] ? other
                 : de       ? "Hallo! Wie können wir Ihnen helfen?"
                            : "Hi there! How can we help you today?");
        return;
    }
    char first[64], order[sizeof(f->last_order)];
    kp_tmpl_first_word(f->name, first, sizeof(first));
    bool has_order = order_number(f->subject, order, sizeof(order));
    if (!has_order && f->last_order[0]) {
        snprintf(order, sizeof(order), "%s", f->last_order);
        has_order = true;
    }
    char hello[128], ask[512];
    if (first[0])
        snprintf(hello, sizeof(hello), de ? "Hallo %s!" : "Hi %s!", first);
    else
        snprintf(hello, sizeof(hello), "%s", de ? "Hallo!" : "Hi there!");
    if (has_order)
        snprintf(ask, sizeof(ask),
                 de ? "Geht es um Ihre Bestellung %s?" : "Is this about your order %s?", order);
    else if (f->subject[0])
        snprintf(ask, sizeof(ask),
                 de ? "Geht es um Ihre Anfrage „%s“?" : "Is this about your request “%s”?",
                 f->subject);
    else
        snprintf(ask, sizeof(ask), "%s",
                 de ? "Wie können wir Ihnen helfen?" : "How can we help you today?");
    snprintf(out, cap, "%s %s", hello, ask);
}

bool kp_api_widget_origin_allowed(const struct kp_widget *w, const char *origin)
{
    if (!w->origins[0])
        return true;
    size_t n = strlen(origin);
    for (const char *p = w->origins; *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && strncasecmp(p, origin, n) == 0)
            return true;
        p += len;
        while (*p == ' ')
            p++;
    }
    return false;
}

bool kp_api_widget_origin_ok(const struct kp_http_request *h, const struct kp_widget *w)
{
    const char *origin = kp_http_header(h, "Origin");
    if (!origin || !w->origins[0])
        return true;
    const char *host = kp_http_header(h, "Host");
    const char *p = strstr(origin, "://");
    if (host && p && strcasecmp(p + 3, host) == 0)
        return true; /* the widget's own frame */
    return kp_api_widget_origin_allowed(w, origin);
}

bool kp_api_widget_agents_online(struct kp_api *api, const struct kp_widget *w)
{
    return api->online && kp_online_for_team(api->online, w->team_id);
}

int kp_api_widget_session(struct kp_api *api, const char *token, struct kp_visitor_session *out)
{
    if (!token || !token[0] || strlen(token) > KP_WIDGET_TOKEN_MAX)
        return KP_ENOTFOUND;
    uint8_t hash[32];
    kp_auth_hash_token(token, hash);
    int rc = KP_STORE(api->store, visitor_session_get, hash, kp_clock_now_ms(), out);
    return rc == KP_ENOTFOUND ? rc : rc ? KP_EIO : 0;
}

/* ---- input checks ---- */

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* A plausible address: one '@' with something on both sides, a dot in the domain, no spaces. */
static bool valid_email(const char *e)
{
    size_t n = strlen(e);
    const char *at = strchr(e, '@');
    if (n < 3 || n > KP_WIDGET_EMAIL_MAX || !at || at == e || strchr(at + 1, '@') || has_control(e))
        return false;
    const char *dot = strrchr(at, '.');
    if (!dot || dot == at + 1 || !dot[1])
        return false;
    for (const char *p = e; *p; p++)
        if (*p == ' ' || *p == '<' || *p == '>' || *p == '"' || *p == ',' || *p == ';')
            return false;
    return true;
}

static bool valid_client_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\n' && *s != '\r' && *s != '\t')
            return false;
    return true;
}

/* Checks a sub-object against fields, answering 400 with "parent.field" itself. */
static int check_object(struct kp_call *call, json_t *obj, const char *parent,
                        const struct kp_json_field *fields, size_t n)
{
    struct kp_json_error err;
    if (!obj || kp_json_check(obj, fields, n, true, &err) == 0)
        return 0;
    char field[sizeof(err.field)];
    snprintf(field, sizeof(field), "%s.%.40s", parent, err.field);
    memcpy(err.field, field, sizeof(field));
    kp_call_json_error(call, &err);
    return -1;
}

/* A page the visitor is on, {"url","title"?,"seconds_on_previous"?}, into ev. */
static int read_page(struct kp_call *call, json_t *page, struct kp_visitor_event *ev)
{
    static const struct kp_json_field fields[] = {
        {"url", KP_JSON_STRING, true, false, KP_VISITOR_URL_MAX},
        {"title", KP_JSON_STRING, false, true, KP_VISITOR_TITLE_MAX},
        {"seconds_on_previous", KP_JSON_INT, false, true, 0},
    };
    if (check_object(call, page, "page", fields, KP_ARRAY_LEN(fields)))
        return -1;
    ev->url = kp_json_str(page, "url");
    ev->title = kp_json_str(page, "title");
    ev->seconds_prev = kp_json_int(page, "seconds_on_previous", -1);
    if ((strncasecmp(ev->url, "http://", 7) != 0 && strncasecmp(ev->url, "https://", 8) != 0) ||
        has_control(ev->url) || strchr(ev->url, ' ')) {
        kp_call_error(call, 400, "invalid_value", "page.url",
                      "page url must be an http or https URL without spaces");
        return -1;
    }
    if (ev->title && has_control(ev->title)) {
        kp_call_error(call, 400, "invalid_value", "page.title",
                      "page title must not hold control characters");
        return -1;
    }
    if (json_object_get(page, "seconds_on_previous") &&
        !json_is_null(json_object_get(page, "seconds_on_previous")) &&
        (ev->seconds_prev < 0 || ev->seconds_prev > KP_WIDGET_SECONDS_MAX)) {
        kp_call_error(call, 400, "invalid_value", "page.seconds_on_previous",
                      "seconds_on_previous must be from 0 to %d", KP_WIDGET_SECONDS_MAX);
        return -1;
    }
    return 0;
}

/* The inbox's widget and the request's origin: answers 404 or 403 itself. */
static int load_widget(struct kp_call *call, int64_t inbox_id, struct kp_widget *w)
{
    int rc = KP_STORE(call->api->store, widget_get, inbox_id, w);
    if (rc == KP_ENOTFOUND) {
        kp_call_error(call, 404, "not_found", "inbox_id", "inbox %lld has no chat widget",
                      (long long)inbox_id);
        return -1;
    }
    if (rc) {
        kp_call_store_error(call, rc, "widget");
        return -1;
    }
    if (!kp_api_widget_origin_ok(call->req->http, w)) {
        kp_call_error(call, 403, "origin_not_allowed", NULL,
                      "this site is not allowed to use the chat widget of inbox %lld",
                      (long long)inbox_id);
        return -1;
    }
    return 0;
}

/* The caller's visitor session from X-Visitor-Token, with its widget; answers 401 itself. */
static int visitor_auth(struct kp_call *call, struct kp_visitor_session *v, struct kp_widget *w)
{
    int rc =
        kp_api_widget_session(call->api, kp_http_header(call->req->http, "X-Visitor-Token"), v);
    if (rc == KP_ENOTFOUND) {
        kp_call_error(call, 401, "invalid_token", "X-Visitor-Token",
                      "the X-Visitor-Token header must carry a valid visitor token "
                      "(POST /widget/v1/sessions gives one)");
        return -1;
    }
    if (rc) {
        kp_call_store_error(call, rc, "session");
        return -1;
    }
    return load_widget(call, v->inbox_id, w);
}

/* ---- POST /widget/v1/sessions ---- */

struct session_write {
    struct kp_widget widget;
    int64_t inbox_id;
    struct kp_visitor_user user;
    bool has_user, has_old, has_page;
    struct kp_visitor_session old;
    uint8_t old_hash[32], new_hash[32];
    const char *old_token;
    char new_token[KP_AUTH_TOKEN_LEN];
    struct kp_visitor_event page;
    char lang[8];
    /* results */
    int64_t contact_id;
    bool reused;
};

static int session_run(struct kp_store *s, void *ctx)
{
    struct session_write *w = ctx;
    int64_t contact = 0, expires = kp_clock_now_ms() + KP_WIDGET_SESSION_DAYS * 86400000LL;
    int rc;
    w->reused = false;
    if (w->has_user) {
        if ((rc = KP_STORE(s, visitor_identify, &w->user, &contact)))
            return rc;
        /* the same customer as before: his session goes on; another one gets his own */
        w->reused = w->has_old && w->old.identified && w->old.contact_id == contact;
    } else if (w->has_old && !w->old.identified) {
        /* an anonymous visitor comes back; a signed-in customer's chat is never shown to an
         * anonymous visit of the same browser */
        contact = w->old.contact_id;
        w->reused = true;
    }
    if (w->reused) {
        rc = KP_STORE(s, visitor_session_touch, w->old_hash, expires);
    } else {
        struct kp_contact_new anon = {0};
        if (!contact && (rc = KP_STORE(s, contact_create, &anon, &contact)))
            return rc;
        struct kp_visitor_session in = {
            .inbox_id = w->inbox_id, .contact_id = contact, .identified = w->has_user};
        rc = KP_STORE(s, visitor_session_create, w->new_hash, &in, expires);
    }
    if (rc)
        return rc;
    w->contact_id = contact;
    if (w->has_page) {
        w->page.contact_id = contact;
        rc = KP_STORE(s, visitor_event_add, &w->page, NULL);
        if (rc == KP_EBUSY)
            rc = 0; /* too many page views: this one is not recorded, the chat goes on */
    }
    return rc;
}

/* The conversation's channel is "email": answers go out by email. */
static bool replies_by_email(struct kp_store *store, int64_t conversation_id)
{
    static const struct kp_viewer all = {.admin = true};
    json_t *c;
    if (!conversation_id || KP_STORE(store, conversation_get, &all, conversation_id, &c))
        return false;
    const char *ch = kp_json_str(c, "channel");
    bool email = ch && strcmp(ch, "email") == 0;
    json_decref(c);
    return email;
}

static void session_done(struct kp_call *call, void *ctx, int rc)
{
    struct session_write *w = ctx;
    if (rc) {
        kp_call_store_error(call, rc, "visitor session");
        return;
    }
    struct kp_api *api = call->api;
    struct kp_visitor_facts facts = {0};
    int64_t conv = 0;
    json_t *history = NULL;
    if ((rc = KP_STORE(api->store, visitor_facts, w->contact_id, &facts)) ||
        (rc = KP_STORE(api->store, visitor_conversation, w->contact_id, w->inbox_id, false,
                       &conv)) ||
        (conv && (rc = KP_STORE(api->store, visitor_history, conv, KP_WIDGET_HISTORY, &history)))) {
        kp_call_store_error(call, rc, "visitor session");
        return;
    }
    char greeting[KP_WIDGET_GREETING_CAP];
    kp_api_widget_greeting(w->lang, &facts, w->has_user, &w->widget, greeting, sizeof(greeting));
    size_t attach_max = kp_api_attachment_limit(api);
    json_t *o = json_object();
    json_object_set_new(o, "visitor_token", json_string(w->reused ? w->old_token : w->new_token));
    json_object_set_new(o, "contact_id", json_integer(w->contact_id));
    json_object_set_new(o, "conversation_id", conv ? json_integer(conv) : json_null());
    json_object_set_new(o, "messages", history ? history : json_array());
    json_object_set_new(o, "greeting", json_string(greeting));
    json_object_set_new(o, "agents_online",
                        json_boolean(kp_api_widget_agents_online(api, &w->widget)));
    json_object_set_new(o, "identified", json_boolean(w->has_user));
    json_object_set_new(o, "name",
                        w->has_user && facts.name[0] ? json_string(facts.name) : json_null());
    json_object_set_new(o, "email",
                        w->has_user && facts.email[0] ? json_string(facts.email) : json_null());
    json_object_set_new(o, "reply_by_email", json_boolean(replies_by_email(api->store, conv)));
    json_object_set_new(o, "limits",
                        json_pack("{sisI}", "text_bytes", KP_WIDGET_TEXT_MAX, "attachment_bytes",
                                  (json_int_t)attach_max));
    kp_call_json(call, w->reused ? 200 : 201, o);
}

static void sessions(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"inbox_id", KP_JSON_INT, true, false, 0},
        {"visitor_token", KP_JSON_STRING, false, true, KP_WIDGET_TOKEN_MAX},
        {"user", KP_JSON_OBJECT, false, true, 0},
        {"page", KP_JSON_OBJECT, false, true, 0},
        {"locale", KP_JSON_STRING, false, true, 35},
    };
    static const struct kp_json_field user_fields[] = {
        {"id", KP_JSON_STRING, false, true, KP_WIDGET_USER_ID_MAX},
        {"email", KP_JSON_STRING, false, true, KP_WIDGET_EMAIL_MAX},
        {"name", KP_JSON_STRING, false, true, KP_WIDGET_NAME_MAX},
        {"hash", KP_JSON_STRING, true, false, 64},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct kp_api *api = call->api;
    struct session_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->inbox_id = kp_json_int(call->body, "inbox_id", 0);
    if (w->inbox_id <= 0) {
        kp_call_error(call, 400, "invalid_value", "inbox_id", "inbox_id must be an inbox id");
        return;
    }
    const char *locale = kp_json_str(call->body, "locale");
    snprintf(w->lang, sizeof(w->lang), "%s",
             locale && strncasecmp(locale, "de", 2) == 0 ? "de" : "en");
    json_t *user = json_object_get(call->body, "user");
    json_t *page = json_object_get(call->body, "page");
    if (json_is_null(user))
        user = NULL;
    if (json_is_null(page))
        page = NULL;
    if (check_object(call, user, "user", user_fields, KP_ARRAY_LEN(user_fields)))
        return;
    if (page && read_page(call, page, &w->page))
        return;
    w->has_page = page != NULL;
    if (load_widget(call, w->inbox_id, &w->widget))
        return;
    if (user) {
        struct kp_visitor_user *u = &w->user;
        u->id = kp_json_str(user, "id");
        u->email = kp_json_str(user, "email");
        u->name = kp_json_str(user, "name");
        bool has_id = u->id && u->id[0], has_email = u->email && u->email[0];
        if (!has_id && !has_email) {
            kp_call_error(call, 400, "missing_field", "user.id",
                          "a signed-in user needs an id or an email address");
            return;
        }
        if ((has_id && has_control(u->id)) || (u->name && has_control(u->name))) {
            kp_call_error(call, 400, "invalid_value",
                          has_id && has_control(u->id) ? "user.id" : "user.name",
                          "user id and name must not hold control characters");
            return;
        }
        if (has_email && !valid_email(u->email)) {
            kp_call_error(call, 400, "invalid_value", "user.email",
                          "user email must be an email address");
            return;
        }
        const char *hash = kp_json_str(user, "hash");
        size_t hl = strlen(hash);
        if (hl != 64 || strspn(hash, "0123456789abcdefABCDEF") != 64) {
            kp_call_error(call, 400, "invalid_value", "user.hash",
                          "user hash must be 64 hex digits: HMAC-SHA256 of id, email and name");
            return;
        }
        if (!kp_api_widget_verify(w->widget.secret, u->id, u->email, u->name, hash)) {
            kp_call_error(call, 403, "bad_signature", "user.hash",
                          "the user's hash does not match: sign id + \"\\n\" + email + \"\\n\" + "
                          "name with the inbox's widget secret");
            return;
        }
        if (!has_id)
            u->id = NULL;
        if (!has_email)
            u->email = NULL;
        w->has_user = true;
    }
    w->old_token = kp_json_str(call->body, "visitor_token");
    if (w->old_token && w->old_token[0]) {
        int rc = kp_api_widget_session(api, w->old_token, &w->old);
        if (rc && rc != KP_ENOTFOUND) {
            kp_call_store_error(call, rc, "visitor session");
            return;
        }
        /* unknown or expired, or of another inbox: a new session */
        w->has_old = rc == 0 && w->old.inbox_id == w->inbox_id;
        if (w->has_old)
            kp_auth_hash_token(w->old_token, w->old_hash);
    }
    kp_auth_new_token("kpv_", w->new_token, sizeof(w->new_token));
    kp_auth_hash_token(w->new_token, w->new_hash);
    kp_call_write(call, w, session_run, session_done);
}

/* ---- POST /widget/v1/messages and /widget/v1/attachments ---- */

struct visitor_message {
    struct kp_inbound in;
    struct kp_attachment_new att;
    struct kp_ingest_result res;
    struct kp_event ev;
    char key[96];
};

static int message_run(struct kp_store *s, void *ctx)
{
    struct visitor_message *g = ctx;
    return kp_api_ingest(s, &g->in, &g->res, &g->ev);
}

static void message_done(struct kp_call *call, void *ctx, int rc)
{
    struct visitor_message *g = ctx;
    if (rc) {
        kp_call_store_error(call, rc, "conversation");
        return;
    }
    kp_metrics_ingested(call->api->metrics, "webchat", g->res.duplicate);
    struct kp_buf b;
    kp_buf_init(&b, 16 << 20);
    kp_buf_printf(&b, "{\"duplicate\":%s,\"conversation_id\":%lld,\"message\":",
                  g->res.duplicate ? "true" : "false", (long long)g->res.conversation_id);
    size_t mark = b.len;
    if (KP_STORE(call->api->store, visitor_message, g->res.message_id, &b)) {
        b.len = mark;
        kp_buf_puts(&b, "null");
    }
    kp_buf_puts(&b, "}");
    kp_req_respond(call->req, g->res.duplicate ? 200 : 201, "application/json", "", b.data, b.len);
    kp_buf_release(&b);
}

/* The ingest of a visitor's message, keyed by his client id; NULL after answering 4xx. */
static struct visitor_message *new_message(struct kp_call *call, const struct kp_visitor_session *v,
                                           const char *text)
{
    const char *client_id = kp_json_str(call->body, "client_id");
    if (!valid_client_id(client_id)) {
        kp_call_error(call, 400, "invalid_value", "client_id",
                      "client_id must have 1 to 64 letters, digits, '-' or '_'");
        return NULL;
    }
    struct visitor_message *g = kp_call_write_ctx(call, sizeof(*g));
    /* per contact: another visitor cannot claim an id this one will use */
    snprintf(g->key, sizeof(g->key), "w%lld:%s", (long long)v->contact_id, client_id);
    g->in = (struct kp_inbound){.inbox_id = v->inbox_id,
                                .contact_id = v->contact_id,
                                .channel = "webchat",
                                .identity_kind = "webchat",
                                .text = text ? text : "",
                                .idempotency_key = g->key};
    return g;
}

static void messages(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"text", KP_JSON_STRING, true, false, KP_WIDGET_TEXT_MAX},
        {"client_id", KP_JSON_STRING, true, false, 64},
    };
    struct kp_visitor_session v;
    struct kp_widget *w = kp_call_alloc(call, sizeof(*w));
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)) || visitor_auth(call, &v, w))
        return;
    const char *text = kp_json_str(call->body, "text");
    if (blank(text)) {
        kp_call_error(call, 400, "invalid_value", "text", "text must not be empty");
        return;
    }
    struct visitor_message *g = new_message(call, &v, text);
    if (g)
        kp_call_write(call, g, message_run, message_done);
}

/* A file name without paths or control characters; "file" when nothing is left. */
static const char *clean_filename(struct kp_call *call, const char *name)
{
    char *out = kp_call_alloc(call, strlen(name) + 5);
    size_t o = 0;
    for (const char *p = name; *p; p++)
        out[o++] = ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\') ? '_' : *p;
    out[o] = '\0';
    if (blank(out) || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        memcpy(out, "file", 5); /* 5 bytes were allocated beyond the name */
    return out;
}

/* "type/subtype" of letters, digits and the usual punctuation, else application/octet-stream. */
static const char *clean_type(struct kp_call *call, const char *t)
{
    size_t slash = strcspn(t, "/"), n = strlen(t);
    bool ok = slash > 0 && slash < n - 1 && n <= 127;
    for (size_t i = 0; ok && i < n; i++) {
        char c = t[i];
        ok = i == slash || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (c >= '0' && c <= '9') || strchr("!#$&^_.+-", c);
    }
    if (!ok)
        return "application/octet-stream";
    char *lower = kp_arena_strdup(&call->req->arena, t);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    return lower;
}

static void attachments(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"filename", KP_JSON_STRING, true, false, 255},
        {"content_type", KP_JSON_STRING, true, false, 127},
        {"data", KP_JSON_STRING, true, false, 0},
        {"client_id", KP_JSON_STRING, true, false, 64},
        {"text", KP_JSON_STRING, false, true, KP_WIDGET_TEXT_MAX},
    };
    struct kp_visitor_session v;
    struct kp_widget *w = kp_call_alloc(call, sizeof(*w));
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)) || visitor_auth(call, &v, w))
        return;
    const char *b64 = kp_json_str(call->body, "data");
    size_t b64len = strlen(b64), cap = b64len / 4 * 3 + 3, len = 0;
    if (cap > call->api->limits.max_attachment_bytes + 3) {
        kp_call_error(call, 413, "too_large", "data", "the file is larger than %zu bytes",
                      call->api->limits.max_attachment_bytes);
        return;
    }
    unsigned char *bin = kp_call_alloc(call, cap);
    if (sodium_base642bin(bin, cap, b64, b64len, "\r\n", &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        kp_call_error(call, 400, "invalid_value", "data", "data must be standard base64");
        return;
    }
    if (len == 0 || len > call->api->limits.max_attachment_bytes) {
        kp_call_error(call, len ? 413 : 400, len ? "too_large" : "invalid_value", "data",
                      len ? "the file is too large" : "the file is empty");
        return;
    }
    const char *text = kp_json_str(call->body, "text");
    struct visitor_message *g = new_message(call, &v, text && !blank(text) ? text : "");
    if (!g)
        return;
    g->att = (struct kp_attachment_new){clean_filename(call, kp_json_str(call->body, "filename")),
                                        clean_type(call, kp_json_str(call->body, "content_type")),
                                        bin, len, NULL};
    g->in.attachments = &g->att;
    g->in.n_attachments = 1;
    kp_call_write(call, g, message_run, message_done);
}

/* ---- POST /widget/v1/email ---- */

struct email_write {
    int64_t contact_id, inbox_id, conversation_id;
    char *email;
    struct kp_event ev;
};

static int email_run(struct kp_store *s, void *ctx)
{
    struct email_write *w = ctx;
    int64_t owner = 0;
    int rc = KP_STORE(s, identity_owner, "email", w->email, &owner);
    if (rc == KP_ENOTFOUND) {
        rc = KP_STORE(s, identity_add, w->contact_id, "email", w->email, NULL);
    } else if (!rc && owner != w->contact_id) {
        /* another contact's address: kept as an unverified detail, never linked */
        json_t *attrs = json_pack("{ss}", "email", w->email);
        rc = KP_STORE(s, contact_update, w->contact_id, NULL, attrs);
        json_decref(attrs);
    }
    if (rc || (rc = KP_STORE(s, visitor_conversation, w->contact_id, w->inbox_id, false,
                             &w->conversation_id)))
        return rc;
    if (!w->conversation_id)
        return 0;
    struct kp_conv_change ch = {.channel = "email"};
    if ((rc = KP_STORE(s, conversation_update, w->conversation_id, &ch)))
        return rc;
    return kp_api_conversation_event(s, "conversation.updated", w->conversation_id, 0, &w->ev);
}

static void email_done(struct kp_call *call, void *ctx, int rc)
{
    struct email_write *w = ctx;
    if (rc) {
        kp_call_store_error(call, rc, "contact");
        return;
    }
    kp_call_json(call, 200,
                 json_pack("{sssosb}", "email", w->email, "conversation_id",
                           w->conversation_id ? json_integer(w->conversation_id) : json_null(),
                           "reply_by_email", w->conversation_id != 0));
}

static void email(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"email", KP_JSON_STRING, true, false, KP_WIDGET_EMAIL_MAX},
    };
    struct kp_visitor_session v;
    struct kp_widget *wd = kp_call_alloc(call, sizeof(*wd));
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)) || visitor_auth(call, &v, wd))
        return;
    struct email_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->email = kp_arena_strdup(&call->req->arena, kp_json_str(call->body, "email"));
    char *e = w->email;
    while (*e == ' ')
        e++;
    w->email = e;
    for (size_t n = strlen(e); n > 0 && e[n - 1] == ' '; n--)
        e[n - 1] = '\0';
    for (; *e; e++)
        if (*e >= 'A' && *e <= 'Z')
            *e = (char)(*e + 32);
    if (!valid_email(w->email)) {
        kp_call_error(call, 400, "invalid_value", "email", "email must be an email address");
        return;
    }
    w->contact_id = v.contact_id;
    w->inbox_id = v.inbox_id;
    kp_call_write(call, w, email_run, email_done);
}

/* ---- POST /api/v1/widget/open ---- */

struct open_write {
    struct kp_viewer viewer;
    int64_t contact_id, inbox_id, conversation_id, message_id;
    const char *text;
    struct kp_event ev;
};

static int open_run(struct kp_store *s, void *ctx)
{
    struct open_write *w = ctx;
    int64_t team, assignee;
    int rc;
    if ((rc = KP_STORE(s, visitor_inbox, w->contact_id, &w->inbox_id)) ||
        (rc = KP_STORE(s, visitor_conversation, w->contact_id, w->inbox_id, true,
                       &w->conversation_id)) ||
        (rc = KP_STORE(s, conversation_access, &w->viewer, w->conversation_id, &team, &assignee)))
        return rc;
    struct kp_message_new m = {.conversation_id = w->conversation_id,
                               .direction = "out",
                               .channel = "webchat",
                               .author_agent_id = w->viewer.agent_id,
                               .text = w->text};
    if ((rc = KP_STORE(s, message_add, &m, &w->message_id)) ||
        (rc = KP_STORE(s, audit_add, w->viewer.agent_id, "widget.open", "contact", w->contact_id,
                       NULL)) ||
        (rc = kp_api_conversation_event(s, "message.created", w->conversation_id, w->message_id,
                                        &w->ev)))
        return rc;
    /* after the message's event: the widget shows the message, then opens */
    struct kp_notice n = {.kind = KP_NOTICE_WIDGET_OPEN,
                          .visitor = {.contact_id = w->contact_id,
                                      .conversation_id = w->conversation_id,
                                      .message_id = w->message_id}};
    return KP_STORE(s, notify, &n);
}

static void open_answer(struct kp_call *call, const struct open_write *w)
{
    kp_call_json(call, 202,
                 json_pack("{sIsoso}", "contact_id", (json_int_t)w->contact_id, "conversation_id",
                           w->conversation_id ? json_integer(w->conversation_id) : json_null(),
                           "message_id",
                           w->message_id ? json_integer(w->message_id) : json_null()));
}

static void open_done(struct kp_call *call, void *ctx, int rc)
{
    if (rc == KP_ENOTFOUND)
        kp_call_error(call, 404, "not_found", "contact_id",
                      "the contact has no chat you may write in (no web chat yet, or not "
                      "visible to you)");
    else if (rc)
        kp_call_store_error(call, rc, "conversation");
    else
        open_answer(call, ctx);
}

static void widget_open(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"contact_id", KP_JSON_INT, true, false, 0},
        {"text", KP_JSON_STRING, false, true, KP_WIDGET_TEXT_MAX},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct open_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->viewer = kp_call_viewer(call);
    w->contact_id = kp_json_int(call->body, "contact_id", 0);
    w->text = kp_json_str(call->body, "text");
    if (w->contact_id <= 0) {
        kp_call_error(call, 400, "invalid_value", "contact_id", "contact_id must be a contact id");
        return;
    }
    int rc = KP_STORE(call->api->store, contact_access, &w->viewer, w->contact_id);
    if (rc) {
        kp_call_store_error(call, rc, "contact");
        return;
    }
    if (w->text && !blank(w->text)) {
        kp_call_write(call, w, open_run, open_done);
        return;
    }
    /* nothing to store: straight to every loop's widgets */
    struct kp_notice n = {.kind = KP_NOTICE_WIDGET_OPEN, .visitor = {.contact_id = w->contact_id}};
    for (size_t i = 0; i < call->api->n_peers; i++)
        kp_bus_post(call->api->peers[i], &n);
    open_answer(call, w);
}

const struct kp_route kp_api_widget_routes[] = {
    {"POST", "/widget/v1/sessions", sessions, KP_PUBLIC, true},
    {"POST", "/widget/v1/messages", messages, KP_PUBLIC, true},
    {"POST", "/widget/v1/attachments", attachments, KP_PUBLIC, true},
    {"POST", "/widget/v1/email", email, KP_PUBLIC, true},
    {"POST", "/api/v1/widget/open", widget_open, KP_AGENT, true},
    {0},
};
