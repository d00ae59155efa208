/* SPDX-License-Identifier: MIT */
/*
 * api_inboxes.c - /api/v1/inboxes and the generic API channel: POST /inboxes/{id}/messages takes
 * an inbound message with its sender's identity, links it to a contact and a conversation, and
 * answers only after the commit that holds it. Retries (same Idempotency-Key or external_id)
 * answer the first result and store nothing. A webchat inbox has a chat widget: its secret
 * (made with the inbox), the snippet for web pages and the widget's settings are under
 * /inboxes/{id}/widget, for admins.
 */
#include "api.h"
#include "api_widget.h"
#include "metrics.h"
#include "../base/clock.h"

#include <strings.h>

#include <sodium.h>

bool kp_api_channel_is_known(const char *c)
{
    static const char *known[] = {"api",      "email",     "webchat",  "whatsapp", "sms",
                                  "facebook", "instagram", "telegram", "twitter",  "phone"};
    for (size_t i = 0; i < KP_ARRAY_LEN(known); i++)
        if (strcmp(c, known[i]) == 0)
            return true;
    return false;
}

static void list(struct kp_call *call)
{
    json_t *items;
    int rc = KP_STORE(call->api->store, inbox_list, &items);
    if (rc)
        kp_call_store_error(call, rc, "inboxes");
    else
        kp_call_json(call, 200, json_pack("{so}", "items", items));
}

static void get(struct kp_call *call)
{
    json_t *inbox;
    int rc = KP_STORE(call->api->store, inbox_get, call->ids[0], &inbox);
    if (rc)
        kp_call_store_error(call, rc, "inbox");
    else
        kp_call_json(call, 200, inbox);
}

struct inbox_write {
    int64_t actor, id, team_id;
    const char *name, *channel;
    bool update;
    char secret[KP_WIDGET_SECRET_LEN + 1]; /* of a new webchat inbox */
};

static int write_run(struct kp_store *s, void *ctx)
{
    struct inbox_write *w = ctx;
    int rc = w->update ? KP_STORE(s, inbox_update, w->id, w->name, w->team_id)
                       : KP_STORE(s, inbox_create, w->name, w->channel, w->team_id, &w->id);
    if (!rc && w->secret[0])
        rc = KP_STORE(s, widget_secret, w->id, w->secret);
    if (!rc)
        rc = KP_STORE(s, audit_add, w->actor, w->update ? "inbox.update" : "inbox.create", "inbox",
                      w->id, NULL);
    return rc;
}

static void write_done(struct kp_call *call, void *ctx, int rc)
{
    struct inbox_write *w = ctx;
    json_t *inbox;
    if (!rc && (rc = KP_STORE(call->api->store, inbox_get, w->id, &inbox)) == 0) {
        kp_call_json(call, w->update ? 200 : 201, inbox);
        return;
    }
    kp_call_store_error(call, rc, w->update ? "inbox or team" : "team");
}

static void create(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"name", KP_JSON_STRING, true, false, 100},
        {"channel", KP_JSON_STRING, true, false, 16},
        {"team_id", KP_JSON_INT, false, true, 0},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct inbox_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->actor = call->auth.who.agent_id;
    w->name = kp_json_str(call->body, "name");
    w->channel = kp_json_str(call->body, "channel");
    w->team_id = kp_json_int(call->body, "team_id", 0);
    if (!w->name[0]) {
        kp_call_error(call, 400, "invalid_value", "name", "inbox name must not be empty");
        return;
    }
    if (!kp_api_channel_is_known(w->channel)) {
        kp_call_error(call, 400, "invalid_value", "channel",
                      "channel must be one of api, email, webchat, whatsapp, sms, facebook, "
                      "instagram, telegram, twitter, phone");
        return;
    }
    if (json_is_integer(json_object_get(call->body, "team_id")) && w->team_id <= 0) {
        kp_call_error(call, 400, "invalid_value", "team_id", "team_id must be a team id or null");
        return;
    }
    if (strcmp(w->channel, "webchat") == 0)
        kp_api_widget_new_secret(w->secret);
    kp_call_write(call, w, write_run, write_done);
}

/* ---- the chat widget of a webchat inbox ---- */

/* The Host header when it is a plain host[:port], else "localhost". */
static const char *snippet_host(struct kp_call *call)
{
    const char *host = kp_http_header(call->req->http, "Host");
    if (!host || !host[0] || strlen(host) > 255 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
            strlen(host))
        return "localhost";
    return host;
}

static void widget_answer(struct kp_call *call, int64_t inbox_id)
{
    struct kp_widget *w = kp_call_alloc(call, sizeof(*w));
    int rc = KP_STORE(call->api->store, widget_get, inbox_id, w);
    if (rc == KP_ENOTFOUND) {
        json_t *inbox;
        rc = KP_STORE(call->api->store, inbox_get, inbox_id, &inbox);
        json_decref(inbox);
        if (rc == 0)
            kp_call_error(call, 404, "not_found", NULL,
                          "inbox %lld has no chat widget: its channel is not webchat",
                          (long long)inbox_id);
        else
            kp_call_store_error(call, rc, "inbox");
        return;
    }
    if (rc) {
        kp_call_store_error(call, rc, "widget");
        return;
    }
    char *snippet = kp_arena_printf(
        &call->req->arena,
        "<script src=\"%s://%s/widget/v1/widget.js\" data-inbox=\"%lld\" async></script>",
        call->api->cookie_secure ? "https" : "http", snippet_host(call), (long long)inbox_id);
    json_t *origins = json_array();
    for (const char *p = w->origins; *p;) {
        size_t len = strcspn(p, " ");
        json_array_append_new(origins, json_stringn(p, len));
        p += len;
        while (*p == ' ')
            p++;
    }
    kp_call_json(call, 200,
                 json_pack("{sIsssss{ssss}so}", "inbox_id", (json_int_t)inbox_id, "secret",
                           w->secret, "snippet", snippet, "greeting", "de", w->greeting_de, "en",
                           w->greeting_en, "allowed_origins", origins));
}

static void widget_get(struct kp_call *call)
{
    widget_answer(call, call->ids[0]);
}

struct widget_write {
    int64_t actor, id;
    char secret[KP_WIDGET_SECRET_LEN + 1]; /* rotate; "" = settings */
    struct kp_widget_change ch;
    json_t *detail; /* borrowed from the body */
};

static int widget_run(struct kp_store *s, void *ctx)
{
    struct widget_write *w = ctx;
    int rc = w->secret[0] ? KP_STORE(s, widget_secret, w->id, w->secret)
                          : KP_STORE(s, widget_update, w->id, &w->ch);
    if (!rc)
        rc = KP_STORE(s, audit_add, w->actor, w->secret[0] ? "inbox.widget_rotate" : "inbox.widget",
                      "inbox", w->id, w->detail);
    return rc;
}

static void widget_done(struct kp_call *call, void *ctx, int rc)
{
    struct widget_write *w = ctx;
    if (rc == KP_EINVAL || rc == KP_ENOTFOUND)
        widget_answer(call, w->id); /* answers why: no such inbox, or not webchat */
    else if (rc)
        kp_call_store_error(call, rc, "widget");
    else
        widget_answer(call, w->id);
}

static void widget_rotate(struct kp_call *call)
{
    struct widget_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->actor = call->auth.who.agent_id;
    w->id = call->ids[0];
    kp_api_widget_new_secret(w->secret);
    kp_call_write(call, w, widget_run, widget_done);
}

/* "https://shop.example" or "http://localhost:8080": a scheme, a host and perhaps a port. */
static bool valid_origin(const char *o)
{
    const char *host = strncasecmp(o, "https://", 8) == 0  ? o + 8
                       : strncasecmp(o, "http://", 7) == 0 ? o + 7
                                                           : NULL;
    if (!host || !*host || strlen(o) > KP_WIDGET_ORIGIN_MAX)
        return false;
    size_t h = strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
    if (h == 0 || host[0] == '.' || host[0] == '-')
        return false;
    if (host[h] == ':') {
        size_t d = strspn(host + h + 1, "0123456789");
        return d >= 1 && d <= 5 && host[h + 1 + d] == '\0';
    }
    return host[h] == '\0';
}

static void widget_update(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"greeting_de", KP_JSON_STRING, false, false, KP_WIDGET_GREETING_MAX},
        {"greeting_en", KP_JSON_STRING, false, false, KP_WIDGET_GREETING_MAX},
        {"allowed_origins", KP_JSON_ARRAY, false, false, KP_WIDGET_ORIGINS_MAX},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct widget_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->actor = call->auth.who.agent_id;
    w->id = call->ids[0];
    w->detail = call->body;
    w->ch.greeting_de = kp_json_str(call->body, "greeting_de");
    w->ch.greeting_en = kp_json_str(call->body, "greeting_en");
    json_t *origins = json_object_get(call->body, "allowed_origins");
    if (!w->ch.greeting_de && !w->ch.greeting_en && !origins) {
        kp_call_error(call, 400, "missing_field", NULL,
                      "nothing to change: send greeting_de, greeting_en or allowed_origins");
        return;
    }
    if (origins) {
        struct kp_buf b;
        kp_buf_init(&b, 0);
        size_t i;
        json_t *o;
        json_array_foreach(origins, i, o)
        {
            const char *v = json_string_value(o);
            if (!v || !valid_origin(v)) {
                kp_buf_release(&b);
                kp_call_error(call, 400, "invalid_value", "allowed_origins",
                              "allowed_origins must be origins like \"https://shop.example\" "
                              "(scheme, host, optional port; no path)");
                return;
            }
            kp_buf_printf(&b, "%s%s", i ? " " : "", v); /* browsers send exactly this form */
        }
        w->ch.origins = kp_arena_strdup(&call->req->arena, b.data ? b.data : "");
        kp_buf_release(&b);
    }
    kp_call_write(call, w, widget_run, widget_done);
}

static void update(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"name", KP_JSON_STRING, false, false, 100},
        {"team_id", KP_JSON_INT, false, true, 0},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct inbox_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->update = true;
    w->actor = call->auth.who.agent_id;
    w->id = call->ids[0];
    w->name = kp_json_str(call->body, "name");
    json_t *team = json_object_get(call->body, "team_id");
    w->team_id = !team ? 0 : json_is_null(team) ? -1 : json_integer_value(team);
    if ((w->name && !w->name[0]) || (team && !json_is_null(team) && w->team_id <= 0)) {
        kp_call_error(call, 400, "invalid_value", w->name && !w->name[0] ? "name" : "team_id",
                      "a non-empty name, and a team id or null");
        return;
    }
    if (!w->name && !team) {
        kp_call_error(call, 400, "missing_field", NULL, "nothing to change: send name or team_id");
        return;
    }
    kp_call_write(call, w, write_run, write_done);
}

/* ---- the API channel ---- */

struct ingest {
    struct kp_inbound in;
    struct kp_attachment_new att[KP_API_MAX_ATTACHMENTS];
    struct kp_ingest_result res;
    struct kp_event ev;
};

int kp_api_ingest(struct kp_store *s, const struct kp_inbound *in, struct kp_ingest_result *res,
                  struct kp_event *ev)
{
    int rc = KP_STORE(s, ingest, in, res);
    if (rc || res->duplicate)
        return rc;
    /* the ingest knows who may see the conversation: no need to look it up again */
    *ev = (struct kp_event){.type = "message.created",
                            .conversation_id = res->conversation_id,
                            .message_id = res->message_id,
                            .team_id = res->team_id,
                            .assignee_id = res->assignee_id};
    return KP_STORE(s, event_add, ev);
}

static int ingest_run(struct kp_store *s, void *ctx)
{
    struct ingest *g = ctx;
    return kp_api_ingest(s, &g->in, &g->res, &g->ev);
}

static void ingest_done(struct kp_call *call, void *ctx, int rc)
{
    struct ingest *g = ctx;
    if (rc) {
        kp_call_store_error(call, rc, "inbox");
        return;
    }
    struct kp_api *api = call->api;
    kp_metrics_ingested(api->metrics, "api", g->res.duplicate);
    kp_call_json(call, g->res.duplicate ? 200 : 201,
                 json_pack("{sIsIsIsb}", "message_id", (json_int_t)g->res.message_id,
                           "conversation_id", (json_int_t)g->res.conversation_id, "contact_id",
                           (json_int_t)g->res.contact_id, "duplicate", g->res.duplicate));
}

static bool valid_kind(const char *k)
{
    if (!*k)
        return false;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || *k == '_' || (*k >= '0' && *k <= '9')))
            return false;
    return true;
}

static void ingest(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"sender", KP_JSON_OBJECT, true, false, 0},
        {"text", KP_JSON_STRING, true, false, 262144},
        {"html", KP_JSON_STRING, false, true, 1048576},
        {"subject", KP_JSON_STRING, false, true, 998},
        {"external_id", KP_JSON_STRING, false, true, 256},
        {"sent_at", KP_JSON_STRING, false, true, 40},
        {"attachments", KP_JSON_ARRAY, false, false, KP_API_MAX_ATTACHMENTS},
    };
    static const struct kp_json_field sender_fields[] = {
        {"kind", KP_JSON_STRING, true, false, 32},
        {"value", KP_JSON_STRING, true, false, 320},
        {"name", KP_JSON_STRING, false, true, 200},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    json_t *sender = json_object_get(call->body, "sender");
    struct kp_json_error err;
    if (kp_json_check(sender, sender_fields, KP_ARRAY_LEN(sender_fields), true, &err)) {
        char field[sizeof(err.field)];
        snprintf(field, sizeof(field), "sender.%.48s", err.field);
        memcpy(err.field, field, sizeof(field));
        kp_call_json_error(call, &err);
        return;
    }
    struct ingest *g = kp_call_write_ctx(call, sizeof(*g));
    struct kp_inbound *in = &g->in;
    in->inbox_id = call->ids[0];
    in->channel = "api";
    in->identity_kind = kp_json_str(sender, "kind");
    in->identity_value = kp_json_str(sender, "value");
    in->sender_name = kp_json_str(sender, "name");
    in->text = kp_json_str(call->body, "text");
    in->html = kp_json_str(call->body, "html");
    in->subject = kp_json_str(call->body, "subject");
    in->external_id = kp_json_str(call->body, "external_id");
    in->idempotency_key = kp_http_header(call->req->http, "Idempotency-Key");
    if (!valid_kind(in->identity_kind) || !in->identity_value[0]) {
        kp_call_error(call, 400, "invalid_value", "sender.kind",
                      "sender kind must be lowercase letters, digits or '_' and value non-empty");
        return;
    }
    if (!kp_api_printable(in->identity_value)) {
        kp_call_error(call, 400, "invalid_value", "sender.value",
                      "sender value must not contain control characters");
        return;
    }
    if (in->idempotency_key && (!in->idempotency_key[0] || strlen(in->idempotency_key) > 200)) {
        kp_call_error(call, 400, "invalid_value", "Idempotency-Key",
                      "Idempotency-Key must have 1 to 200 characters");
        return;
    }
    if (in->external_id && !in->external_id[0]) {
        kp_call_error(call, 400, "invalid_value", "external_id", "external_id must not be empty");
        return;
    }
    const char *sent_at = kp_json_str(call->body, "sent_at");
    if (sent_at && kp_clock_parse_iso8601(sent_at, &in->sent_at_ms)) {
        kp_call_error(call, 400, "invalid_value", "sent_at",
                      "sent_at must be an ISO 8601 UTC time like 2026-11-27T10:00:00Z");
        return;
    }
    if (kp_call_attachments(call, json_object_get(call->body, "attachments"), g->att,
                            &g->in.n_attachments))
        return;
    g->in.attachments = g->att;
    if (!in->text[0] && !in->n_attachments) {
        kp_call_error(call, 400, "invalid_value", "text",
                      "a message needs text or at least one attachment");
        return;
    }
    kp_call_write(call, g, ingest_run, ingest_done);
}

const struct kp_route kp_api_inboxes_routes[] = {
    {"GET", "/api/v1/inboxes", list, KP_AGENT, false},
    {"POST", "/api/v1/inboxes", create, KP_ADMIN, true},
    {"GET", "/api/v1/inboxes/{id}", get, KP_AGENT, false},
    {"PATCH", "/api/v1/inboxes/{id}", update, KP_ADMIN, true},
    {"POST", "/api/v1/inboxes/{id}/messages", ingest, KP_AGENT, true},
    {"GET", "/api/v1/inboxes/{id}/widget", widget_get, KP_ADMIN, false},
    {"PATCH", "/api/v1/inboxes/{id}/widget", widget_update, KP_ADMIN, true},
    {"POST", "/api/v1/inboxes/{id}/widget/rotate", widget_rotate, KP_ADMIN, false},
    {0},
};
