/* SPDX-License-Identifier: MIT */
/*
 * api_conversations.c - /api/v1/conversations: the inbox list with filters and cursor
 * pagination, the timeline, replies and internal notes (which may @mention agents: they get a
 * notification), assignment, transfer to another team, state, priority and tags. Every change
 * is checked against what the agent may see inside the write transaction, recorded in the audit
 * log and the event log, and pushed after commit.
 */
#include "api.h"
#include "cache.h"
#include "stream.h"
#include "../channel/email.h"

#include <sodium.h>

enum { TIMELINE_MAX = 200, MENTIONS_MAX = 20 };

int kp_api_conversation_event(struct kp_store *s, const char *type, int64_t conversation_id,
                              int64_t message_id, struct kp_event *ev)
{
    static const struct kp_viewer all = {.admin = true};
    *ev = (struct kp_event){
        .type = type, .conversation_id = conversation_id, .message_id = message_id};
    int rc =
        KP_STORE(s, conversation_access, &all, conversation_id, &ev->team_id, &ev->assignee_id);
    return rc ? rc : KP_STORE(s, event_add, ev);
}

int kp_api_notify_agent(struct kp_store *s, int64_t agent_id)
{
    struct kp_notice n = {.kind = KP_NOTICE_AGENT, .agent_id = agent_id};
    return KP_STORE(s, notify, &n);
}

int kp_api_notify_revoke(struct kp_store *s, const uint8_t hash[32])
{
    struct kp_notice n = {.kind = KP_NOTICE_REVOKE};
    memcpy(n.hash, hash, sizeof(n.hash));
    return KP_STORE(s, notify, &n);
}

/* Answers with one row rendered by render (conversation_text or message_text). */
static void respond_text(struct kp_call *call, int status, int64_t id, bool message)
{
    struct kp_buf b;
    kp_buf_init(&b, 16 << 20);
    struct kp_store *s = call->api->store;
    int rc = message ? KP_STORE(s, message_text, id, &b) : KP_STORE(s, conversation_text, id, &b);
    if (rc)
        kp_call_store_error(call, rc, message ? "message" : "conversation");
    else
        kp_req_respond(call->req, status, "application/json", "", b.data, b.len);
    kp_buf_release(&b);
}

void kp_call_conversation(struct kp_call *call, int status, int64_t id)
{
    respond_text(call, status, id, false);
}

void kp_call_message(struct kp_call *call, int status, int64_t id)
{
    respond_text(call, status, id, true);
}

/* ---- reads ---- */

static bool one_of(const char *v, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, set[i]) == 0)
            return true;
    return false;
}

static const char *const states[] = {"open", "pending", "snoozed", "resolved"};
static const char *const priorities[] = {"low", "normal", "high", "urgent"};

/* Reads a string query parameter into buf; NULL when absent or empty; answers 400 when
 * malformed. */
static int query_str(struct kp_call *call, const char *key, char *buf, size_t cap, const char **out)
{
    int n = kp_call_query(call, key, buf, cap);
    *out = n > 0 ? buf : NULL; /* an empty value is no filter, like a cleared search box */
    if (n == -2) {
        kp_call_error(call, 400, "invalid_value", key,
                      "query parameter '%s' is too long or malformed", key);
        return -1;
    }
    return 0;
}

static void list(struct kp_call *call)
{
    struct kp_conv_query q = {.viewer = kp_call_viewer(call)};
    char state[16], channel[24], tag[64], text[256], cursor[64], assignee[24], team_b[24], sort[16];
    const char *assignee_s, *team_s, *sort_s;
    int64_t limit, inbox, contact;
    if (query_str(call, "state", state, sizeof(state), &q.state) ||
        query_str(call, "channel", channel, sizeof(channel), &q.channel) ||
        query_str(call, "tag", tag, sizeof(tag), &q.tag) ||
        query_str(call, "q", text, sizeof(text), &q.text) ||
        query_str(call, "cursor", cursor, sizeof(cursor), &q.cursor) ||
        query_str(call, "assignee_id", assignee, sizeof(assignee), &assignee_s) ||
        kp_call_query_int(call, "limit", 1, KP_QUERY_MAX_LIMIT, 25, &limit) ||
        query_str(call, "team_id", team_b, sizeof(team_b), &team_s) ||
        query_str(call, "sort", sort, sizeof(sort), &sort_s) ||
        kp_call_query_int(call, "inbox_id", 1, INT64_MAX, 0, &inbox) ||
        kp_call_query_int(call, "contact_id", 1, INT64_MAX, 0, &contact))
        return;
    if (q.state && !one_of(q.state, states, KP_ARRAY_LEN(states))) {
        kp_call_error(call, 400, "invalid_value", "state",
                      "state must be open, pending, snoozed or resolved");
        return;
    }
    if (assignee_s) {
        char *end;
        if (strcmp(assignee_s, "me") == 0)
            q.assignee_id = call->auth.who.agent_id;
        else if (strcmp(assignee_s, "none") == 0)
            q.assignee_id = -1;
        else if ((q.assignee_id = strtoll(assignee_s, &end, 10)) <= 0 || *end) {
            kp_call_error(call, 400, "invalid_value", "assignee_id",
                          "assignee_id must be 'me', 'none' or an agent id");
            return;
        }
    }
    if (team_s) {
        char *end;
        if (strcmp(team_s, "mine") == 0)
            q.my_teams = true;
        else if ((q.team_id = strtoll(team_s, &end, 10)) <= 0 || *end) {
            kp_call_error(call, 400, "invalid_value", "team_id",
                          "team_id must be 'mine' or a team id");
            return;
        }
    }
    if (sort_s && strcmp(sort_s, "waiting") == 0)
        q.waiting = true;
    else if (sort_s && strcmp(sort_s, "recent") != 0) {
        kp_call_error(call, 400, "invalid_value", "sort", "sort must be 'recent' or 'waiting'");
        return;
    }
    q.limit = (int)limit;
    q.inbox_id = inbox;
    q.contact_id = contact;
    /* the same view for the same agent is the same answer until the next commit */
    struct kp_api *api = call->api;
    uint64_t version = kp_api_store_version(api);
    unsigned char digest[16];
    const char *query = call->req->http->query;
    crypto_generichash(digest, sizeof(digest), (const unsigned char *)query, strlen(query), NULL,
                       0);
    char key[80];
    int kl =
        snprintf(key, sizeof(key), "conv:%lld:%d:", (long long)q.viewer.agent_id, q.viewer.admin);
    sodium_bin2hex(key + kl, sizeof(key) - (size_t)kl, digest, sizeof(digest));
    size_t len;
    const char *cached = kp_cache_get(api->cache, key, version, &len);
    if (cached) {
        kp_req_respond(call->req, 200, "application/json", "", cached, len);
        return;
    }
    struct kp_buf page;
    kp_buf_init(&page, 64 << 20);
    int rc = KP_STORE(api->store, conversation_list, &q, &page);
    if (rc == KP_EINVAL) {
        kp_call_error(call, 400, "invalid_value", "cursor", "cursor is not valid");
    } else if (rc) {
        kp_call_store_error(call, rc, "conversations");
    } else {
        kp_cache_put(api->cache, key, version, page.data, page.len);
        kp_req_respond(call->req, 200, "application/json", "", page.data, page.len);
    }
    kp_buf_release(&page);
}

static void get(struct kp_call *call)
{
    struct kp_viewer v = kp_call_viewer(call);
    json_t *conv, *msgs;
    int rc = KP_STORE(call->api->store, conversation_get, &v, call->ids[0], &conv);
    if (rc) {
        kp_call_store_error(call, rc, "conversation");
        return;
    }
    rc = KP_STORE(call->api->store, message_list, call->ids[0], 0, TIMELINE_MAX, &msgs);
    if (rc) {
        json_decref(conv);
        kp_call_store_error(call, rc, "messages");
        return;
    }
    json_object_set_new(conv, "messages", msgs);
    kp_call_json(call, 200, conv);
}

static void messages(struct kp_call *call)
{
    struct kp_viewer v = kp_call_viewer(call);
    int64_t after, limit;
    if (kp_call_query_int(call, "after", 0, INT64_MAX, 0, &after) ||
        kp_call_query_int(call, "limit", 1, TIMELINE_MAX, 50, &limit))
        return;
    json_t *msgs;
    int64_t team, assignee;
    int rc = KP_STORE(call->api->store, conversation_access, &v, call->ids[0], &team, &assignee);
    if (rc) {
        kp_call_store_error(call, rc, "conversation");
        return;
    }
    rc = KP_STORE(call->api->store, message_list, call->ids[0], after, (int)limit, &msgs);
    if (rc)
        kp_call_store_error(call, rc, "messages");
    else
        kp_call_json(call, 200, json_pack("{so}", "items", msgs));
}

/* ---- writes ---- */

enum op { UPDATE, ASSIGN, TRANSFER, TAG_ADD, TAG_REMOVE, MESSAGE };

struct conv_write {
    enum op op;
    struct kp_viewer viewer;
    int64_t id;
    struct kp_conv_change ch;
    const char *tag, *note;
    struct kp_message_new msg;
    int64_t message_id;
    struct kp_event ev;
    json_t *detail;                 /* for the audit log, borrowed from the body */
    int64_t mentions[MENTIONS_MAX]; /* agents @mentioned in a note */
    size_t n_mentions;
    int64_t bad_mention; /* one who cannot be mentioned here */
};

/* In the write job, after the note is stored: every mentioned agent must be active and see the
 * conversation (else KP_EINVAL with w->bad_mention, and the job is undone); each but the author
 * gets a notification, pushed to his streams after the commit. */
static int mention(struct kp_store *s, struct conv_write *w)
{
    for (size_t i = 0; i < w->n_mentions; i++) {
        int64_t agent = w->mentions[i];
        struct kp_principal who;
        int64_t team, assignee;
        int rc = KP_STORE(s, agent_principal, agent, &who);
        if (!rc && !who.active)
            rc = KP_ENOTFOUND;
        if (!rc) {
            struct kp_viewer v = {.agent_id = agent, .admin = who.admin};
            rc = KP_STORE(s, conversation_access, &v, w->id, &team, &assignee);
        }
        if (rc == KP_ENOTFOUND) {
            w->bad_mention = agent;
            return KP_EINVAL;
        }
        if (rc)
            return rc;
        if (agent == w->viewer.agent_id)
            continue;
        struct kp_notification_new n = {.agent_id = agent,
                                        .kind = "mention",
                                        .conversation_id = w->id,
                                        .message_id = w->message_id,
                                        .by_agent_id = w->viewer.agent_id};
        struct kp_notice notice = {.kind = KP_NOTICE_NOTIFICATION, .agent_id = agent};
        if ((rc = KP_STORE(s, notification_add, &n, &notice.notification_id)) ||
            (rc = KP_STORE(s, notify, &notice)))
            return rc;
    }
    return 0;
}

static int write_run(struct kp_store *s, void *ctx)
{
    struct conv_write *w = ctx;
    int64_t team, assignee;
    w->message_id = 0;
    w->bad_mention = 0;
    int rc = KP_STORE(s, conversation_access, &w->viewer, w->id, &team, &assignee);
    if (rc)
        return rc;
    switch (w->op) {
    case UPDATE:
    case ASSIGN:
        rc = KP_STORE(s, conversation_update, w->id, &w->ch);
        break;
    case TRANSFER:
        rc = KP_STORE(s, conversation_update, w->id, &w->ch);
        if (!rc && w->note) {
            struct kp_message_new n = {.conversation_id = w->id,
                                       .direction = "note",
                                       .author_agent_id = w->viewer.agent_id,
                                       .text = w->note};
            rc = KP_STORE(s, message_add, &n, &w->message_id);
        }
        break;
    case TAG_ADD:
    case TAG_REMOVE:
        rc = KP_STORE(s, conversation_tag, w->id, w->tag, w->op == TAG_ADD);
        break;
    case MESSAGE:
        rc = KP_STORE(s, message_add, &w->msg, &w->message_id);
        if (!rc && strcmp(w->msg.direction, "out") == 0)
            rc = kp_email_queue_reply(s, w->id, w->message_id, w->msg.channel, false);
        if (!rc)
            rc = mention(s, w);
        break;
    }
    if (rc)
        return rc;
    static const char *actions[] = {"conversation.update",     "conversation.assign",
                                    "conversation.transfer",   "conversation.tag_add",
                                    "conversation.tag_remove", "conversation.message"};
    rc = KP_STORE(s, audit_add, w->viewer.agent_id, actions[w->op], "conversation", w->id,
                  w->detail);
    if (!rc)
        rc = kp_api_conversation_event(
            s, w->op == MESSAGE ? "message.created" : "conversation.updated", w->id, w->message_id,
            &w->ev);
    return rc;
}

static void write_done(struct kp_call *call, void *ctx, int rc)
{
    struct conv_write *w = ctx;
    if (rc == KP_ECONFLICT && w->op == MESSAGE) {
        kp_call_error(call, 409, "no_email_address", NULL,
                      "this reply goes by email, but the customer has no email address or no "
                      "email inbox can send");
        return;
    }
    if (rc == KP_EINVAL && w->bad_mention) {
        kp_call_error(call, 400, "invalid_value", "mentions",
                      "agent %lld cannot be mentioned here: not an active agent who can see "
                      "this conversation",
                      (long long)w->bad_mention);
        return;
    }
    if (rc) {
        kp_call_store_error(call, rc,
                            rc == KP_ENOTFOUND && w->op >= ASSIGN && w->op <= TRANSFER
                                ? "conversation, team or agent"
                                : "conversation");
        return;
    }
    if (w->op == MESSAGE)
        kp_call_message(call, 201, w->message_id);
    else
        kp_call_conversation(call, 200, w->id);
}

static struct conv_write *new_write(struct kp_call *call, enum op op)
{
    struct conv_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->op = op;
    w->viewer = kp_call_viewer(call);
    w->id = call->ids[0];
    w->detail = call->body;
    return w;
}

static void update(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"state", KP_JSON_STRING, false, false, 16},
        {"priority", KP_JSON_STRING, false, false, 16},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    const char *state = kp_json_str(call->body, "state");
    const char *prio = kp_json_str(call->body, "priority");
    if (state && !one_of(state, states, KP_ARRAY_LEN(states))) {
        kp_call_error(call, 400, "invalid_value", "state",
                      "state must be open, pending, snoozed or resolved");
        return;
    }
    if (prio && !one_of(prio, priorities, KP_ARRAY_LEN(priorities))) {
        kp_call_error(call, 400, "invalid_value", "priority",
                      "priority must be low, normal, high or urgent");
        return;
    }
    if (!state && !prio) {
        kp_call_error(call, 400, "missing_field", NULL,
                      "nothing to change: send state or priority");
        return;
    }
    struct conv_write *w = new_write(call, UPDATE);
    w->ch.state = state;
    w->ch.priority = prio;
    kp_call_write(call, w, write_run, write_done);
}

/* Reads "assignee_id": id or null into ch (-1 = unassign). */
static int read_assignee(struct kp_call *call, struct kp_conv_change *ch, bool required)
{
    json_t *a = json_object_get(call->body, "assignee_id");
    if (!a) {
        if (required)
            kp_call_error(call, 400, "missing_field", "assignee_id",
                          "field 'assignee_id' is required (an agent id or null)");
        return required ? -1 : 0;
    }
    if (json_is_null(a)) {
        ch->assignee_id = -1;
        return 0;
    }
    if (!json_is_integer(a) || json_integer_value(a) <= 0) {
        kp_call_error(call, 400, "wrong_type", "assignee_id",
                      "field 'assignee_id' must be an agent id or null");
        return -1;
    }
    ch->assignee_id = json_integer_value(a);
    return 0;
}

static void assign(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {{"assignee_id", KP_JSON_INT, false, true, 0}};
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct conv_write *w = new_write(call, ASSIGN);
    if (read_assignee(call, &w->ch, true))
        return;
    kp_call_write(call, w, write_run, write_done);
}

static void transfer(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"team_id", KP_JSON_INT, true, false, 0},
        {"assignee_id", KP_JSON_INT, false, true, 0},
        {"note", KP_JSON_STRING, false, true, 65536},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct conv_write *w = new_write(call, TRANSFER);
    w->ch.team_id = kp_json_int(call->body, "team_id", 0);
    if (w->ch.team_id <= 0) {
        kp_call_error(call, 400, "invalid_value", "team_id", "team_id must be a team id");
        return;
    }
    if (read_assignee(call, &w->ch, false))
        return;
    if (!json_object_get(call->body, "assignee_id"))
        w->ch.assignee_id = -1; /* a transfer leaves the new team to pick, unless told */
    w->note = kp_json_str(call->body, "note");
    if (w->note && !w->note[0])
        w->note = NULL;
    kp_call_write(call, w, write_run, write_done);
}

static bool valid_tag(const char *t)
{
    if (!t[0] || strlen(t) > 50)
        return false;
    for (; *t; t++)
        if ((unsigned char)*t < 0x20 || *t == ',' || *t == '/')
            return false;
    return true;
}

static void tag_add(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {{"tag", KP_JSON_STRING, true, false, 50}};
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct conv_write *w = new_write(call, TAG_ADD);
    w->tag = kp_json_str(call->body, "tag");
    if (!valid_tag(w->tag)) {
        kp_call_error(call, 400, "invalid_value", "tag",
                      "a tag has 1 to 50 characters without ',', '/' or control characters");
        return;
    }
    kp_call_write(call, w, write_run, write_done);
}

static void tag_remove(struct kp_call *call)
{
    struct conv_write *w = new_write(call, TAG_REMOVE);
    w->tag = call->params[1];
    kp_call_write(call, w, write_run, write_done);
}

/* "mentions": [agent ids] of a note, each once, into w. */
static int read_mentions(struct kp_call *call, struct conv_write *w, bool note)
{
    json_t *list = json_object_get(call->body, "mentions");
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m)
    {
        if (!json_is_integer(m) || json_integer_value(m) <= 0) {
            kp_call_error(call, 400, "wrong_type", "mentions", "mentions must be agent ids");
            return -1;
        }
        if (!note) {
            kp_call_error(call, 400, "invalid_value", "mentions",
                          "only internal notes (type 'note') can mention agents");
            return -1;
        }
        int64_t id = json_integer_value(m);
        size_t k = 0;
        while (k < w->n_mentions && w->mentions[k] != id)
            k++;
        if (k == w->n_mentions)
            w->mentions[w->n_mentions++] = id; /* at most MENTIONS_MAX: checked with the body */
    }
    return 0;
}

static void post_message(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"type", KP_JSON_STRING, true, false, 8},
        {"text", KP_JSON_STRING, true, false, 262144},
        {"channel", KP_JSON_STRING, false, true, 16},
        {"mentions", KP_JSON_ARRAY, false, false, MENTIONS_MAX},
        {"attachments", KP_JSON_ARRAY, false, false, KP_API_MAX_ATTACHMENTS},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    const char *type = kp_json_str(call->body, "type");
    const char *text = kp_json_str(call->body, "text");
    bool note = strcmp(type, "note") == 0;
    if (!note && strcmp(type, "reply") != 0) {
        kp_call_error(call, 400, "invalid_value", "type", "type must be 'reply' or 'note'");
        return;
    }
    json_t *attachments = json_object_get(call->body, "attachments");
    if (!text[0] && !json_array_size(attachments)) {
        kp_call_error(call, 400, "invalid_value", "text",
                      "text must not be empty (unless there are attachments)");
        return;
    }
    const char *channel = kp_json_str(call->body, "channel");
    if (channel && !kp_api_channel_is_known(channel)) {
        kp_call_error(call, 400, "invalid_value", "channel", "unknown channel '%.20s'", channel);
        return;
    }
    struct conv_write *w = new_write(call, MESSAGE);
    if (read_mentions(call, w, note))
        return;
    struct kp_attachment_new *att = kp_call_alloc(call, sizeof(*att) * KP_API_MAX_ATTACHMENTS);
    size_t n_att = 0;
    if (kp_call_attachments(call, attachments, att, &n_att))
        return;
    w->detail = NULL; /* the text is in the message itself */
    w->msg = (struct kp_message_new){.conversation_id = w->id,
                                     .direction = note ? "note" : "out",
                                     .channel = channel,
                                     .author_agent_id = call->auth.who.agent_id,
                                     .text = text,
                                     .attachments = att,
                                     .n_attachments = n_att};
    kp_call_write(call, w, write_run, write_done);
}

const struct kp_route kp_api_conversations_routes[] = {
    {"GET", "/api/v1/conversations", list, KP_AGENT, false},
    {"GET", "/api/v1/conversations/{id}", get, KP_AGENT, false},
    {"PATCH", "/api/v1/conversations/{id}", update, KP_AGENT, true},
    {"GET", "/api/v1/conversations/{id}/messages", messages, KP_AGENT, false},
    {"POST", "/api/v1/conversations/{id}/messages", post_message, KP_AGENT, true},
    {"POST", "/api/v1/conversations/{id}/assign", assign, KP_AGENT, true},
    {"POST", "/api/v1/conversations/{id}/transfer", transfer, KP_AGENT, true},
    {"POST", "/api/v1/conversations/{id}/tags", tag_add, KP_AGENT, true},
    {"DELETE", "/api/v1/conversations/{id}/tags/{tag}", tag_remove, KP_AGENT, false},
    {0},
};
