/* SPDX-License-Identifier: MIT */
/*
 * api_inboxes.c - /api/v1/inboxes and the generic API channel: POST /inboxes/{id}/messages takes
 * an inbound message with its sender's identity, links it to a contact and a conversation, and
 * answers only after the commit that holds it. Retries (same Idempotency-Key or external_id)
 * answer the first result and store nothing.
 */
#include "api.h"
#include "metrics.h"
#include "../base/clock.h"

#include <sodium.h>

enum { MAX_ATTACHMENTS = 10 };

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
};

static int write_run(struct kp_store *s, void *ctx)
{
    struct inbox_write *w = ctx;
    int rc = w->update ? KP_STORE(s, inbox_update, w->id, w->name, w->team_id)
                       : KP_STORE(s, inbox_create, w->name, w->channel, w->team_id, &w->id);
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
    kp_call_write(call, w, write_run, write_done);
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
    struct kp_attachment_new att[MAX_ATTACHMENTS];
    struct kp_ingest_result res;
    struct kp_event ev;
};

static int ingest_run(struct kp_store *s, void *ctx)
{
    struct ingest *g = ctx;
    int rc = KP_STORE(s, ingest, &g->in, &g->res);
    if (rc || g->res.duplicate)
        return rc;
    /* the ingest knows who may see the conversation: no need to look it up again */
    g->ev = (struct kp_event){.type = "message.created",
                              .conversation_id = g->res.conversation_id,
                              .message_id = g->res.message_id,
                              .team_id = g->res.team_id,
                              .assignee_id = g->res.assignee_id};
    return KP_STORE(s, event_add, &g->ev);
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

static int read_attachments(struct kp_call *call, struct ingest *g)
{
    static const struct kp_json_field fields[] = {
        {"filename", KP_JSON_STRING, true, false, 255},
        {"content_type", KP_JSON_STRING, true, false, 127},
        {"data", KP_JSON_STRING, true, false, 0},
    };
    size_t total = 0, i;
    json_t *a;
    json_array_foreach(json_object_get(call->body, "attachments"), i, a)
    {
        struct kp_json_error err;
        if (!json_is_object(a)) {
            kp_call_error(call, 400, "wrong_type", "attachments", "attachments must be objects");
            return -1;
        }
        if (kp_json_check(a, fields, KP_ARRAY_LEN(fields), true, &err)) {
            kp_call_json_error(call, &err);
            return -1;
        }
        const char *b64 = kp_json_str(a, "data");
        size_t b64len = strlen(b64), cap = b64len / 4 * 3 + 3, len = 0;
        total += cap;
        if (total > call->api->limits.max_attachment_bytes + 3) {
            kp_call_error(call, 413, "too_large", "attachments", "attachments are too large");
            return -1;
        }
        unsigned char *bin = kp_call_alloc(call, cap);
        if (sodium_base642bin(bin, cap, b64, b64len, "\r\n", &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0) {
            kp_call_error(call, 400, "invalid_value", "attachments",
                          "attachment data must be standard base64");
            return -1;
        }
        g->att[i] = (struct kp_attachment_new){kp_json_str(a, "filename"),
                                               kp_json_str(a, "content_type"), bin, len};
    }
    g->in.attachments = g->att;
    g->in.n_attachments = json_array_size(json_object_get(call->body, "attachments"));
    return 0;
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
        {"attachments", KP_JSON_ARRAY, false, false, MAX_ATTACHMENTS},
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
    if (read_attachments(call, g))
        return;
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
    {0},
};
