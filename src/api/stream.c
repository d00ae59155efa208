/* SPDX-License-Identifier: MIT */
/* stream.c - the agents' event WebSocket (see stream.h). */
#include "stream.h"
#include "../base/log.h"
#include "../proto/websocket.h"

#include <strings.h>

enum { MAX_TEAMS = 1024, REPLAY_MAX = 1000 };

struct client {
    struct client *prev, *next;
    struct kp_conn *conn;
    struct kp_stream *stream;
    int64_t agent_id;
    bool admin;
    int64_t teams[MAX_TEAMS];
    size_t n_teams;
    int64_t last_id;  /* newest event id sent: replay and live never send one twice */
    uint8_t cred[32]; /* hash of the session or token it was opened with */
};

struct kp_stream {
    struct client *clients;
    size_t n;
    struct kp_store *store;
};

int kp_stream_new(struct kp_store *store, struct kp_stream **out)
{
    *out = kp_xcalloc(1, sizeof(**out));
    (*out)->store = store;
    return 0;
}

void kp_stream_free(struct kp_stream *s)
{
    while (s && s->clients) {
        struct client *c = s->clients;
        s->clients = c->next;
        c->stream = NULL;
    }
    free(s);
}

static bool may_see(const struct client *c, int64_t team_id, int64_t assignee_id)
{
    if (c->admin || (assignee_id && assignee_id == c->agent_id))
        return true;
    for (size_t i = 0; i < c->n_teams; i++)
        if (team_id && c->teams[i] == team_id)
            return true;
    return false;
}

/* {"id":..,"type":..,"conversation_id":..,"payload":{"conversation":..,"message":..}} into b,
 * the payload read now. A conversation or message deleted since gives a null part. */
static void render(struct kp_store *store, struct kp_buf *b, const struct kp_event *ev)
{
    kp_buf_printf(b,
                  "{\"id\":%lld,\"type\":\"%s\",\"conversation_id\":%lld,\"payload\":"
                  "{\"conversation\":",
                  (long long)ev->id, ev->type, (long long)ev->conversation_id);
    size_t mark = b->len;
    if (KP_STORE(store, conversation_text, ev->conversation_id, b)) {
        b->len = mark;
        kp_buf_puts(b, "null");
    }
    if (ev->message_id) {
        kp_buf_puts(b, ",\"message\":");
        mark = b->len;
        if (KP_STORE(store, message_text, ev->message_id, b)) {
            b->len = mark;
            kp_buf_puts(b, "null");
        }
    }
    kp_buf_puts(b, "}}");
}

/* Who may see the conversation now: its current team and assignee decide, not those at the
 * time of the event (a transfer since must not leak what the new team writes). */
static int current_route(struct kp_store *store, const struct kp_event *ev, int64_t *team,
                         int64_t *assignee)
{
    static const struct kp_viewer all = {.admin = true};
    return KP_STORE(store, conversation_access, &all, ev->conversation_id, team, assignee);
}

void kp_stream_publish(struct kp_stream *s, const struct kp_event *ev)
{
    if (!s->clients)
        return;
    int64_t team, assignee;
    if (current_route(s->store, ev, &team, &assignee))
        return; /* gone since: nothing to show */
    struct kp_buf text;
    kp_buf_init(&text, 0);
    for (struct client *c = s->clients; c; c = c->next) {
        if (ev->id <= c->last_id || !may_see(c, team, assignee))
            continue;
        if (!text.len)
            render(s->store, &text, ev);
        kp_ws_send(c->conn, text.data, text.len);
        c->last_id = ev->id;
    }
    kp_buf_release(&text);
}

static void on_message(struct kp_conn *conn, void *user, const char *data, size_t len)
{
    /* clients only listen for now; a "ping" text gets a "pong" for liveness checks */
    (void)user;
    if (len == 4 && memcmp(data, "ping", 4) == 0)
        kp_ws_send(conn, "pong", 4);
}

static void on_close(struct kp_conn *conn, void *user)
{
    struct client *c = user;
    (void)conn;
    struct kp_stream *s = c->stream;
    if (s) {
        if (c->prev)
            c->prev->next = c->next;
        else
            s->clients = c->next;
        if (c->next)
            c->next->prev = c->prev;
        s->n--;
    }
    free(c);
}

static const struct kp_ws_handler handler = {.on_message = on_message, .on_close = on_close};

void kp_stream_revoke(struct kp_stream *s, const uint8_t hash[32])
{
    for (struct client *c = s->clients; c; c = c->next)
        if (memcmp(c->cred, hash, 32) == 0)
            kp_ws_close(c->conn, 4401, "signed out");
}

void kp_stream_agent_changed(struct kp_stream *s, int64_t agent_id)
{
    for (struct client *c = s->clients, *next; c; c = next) {
        next = c->next;
        if (c->agent_id != agent_id)
            continue;
        struct kp_principal who;
        size_t n = MAX_TEAMS;
        if (KP_STORE(s->store, agent_principal, agent_id, &who) || !who.active ||
            KP_STORE(s->store, agent_teams, agent_id, c->teams, &n)) {
            c->n_teams = 0;
            c->admin = false;
            kp_ws_close(c->conn, 4403, "access revoked");
            continue;
        }
        c->admin = who.admin;
        c->n_teams = n;
    }
}

/* Cookie sessions from a browser: the page must come from this server (no cross-site
 * WebSocket hijacking). */
static bool origin_ok(const struct kp_http_request *h)
{
    const char *origin = kp_http_header(h, "Origin");
    const char *host = kp_http_header(h, "Host");
    if (!origin || !host)
        return false;
    const char *p = strstr(origin, "://");
    return p && strcasecmp(p + 3, host) == 0;
}

static void replay(struct kp_api *api, struct client *c, int64_t since)
{
    json_t *events;
    if (KP_STORE(api->store, event_since, since, REPLAY_MAX + 1, &events))
        return;
    if (json_array_size(events) > REPLAY_MAX) {
        /* too much was missed: the client should reload instead of replaying */
        static const char msg[] = "{\"type\":\"resync\"}";
        kp_ws_send(c->conn, msg, sizeof(msg) - 1);
        json_decref(events);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        struct kp_event ev = {
            .id = kp_json_int(e, "id", 0),
            .type = kp_json_str(e, "type"),
            .conversation_id = kp_json_int(e, "conversation_id", 0),
            .message_id = kp_json_int(e, "message_id", 0),
            .team_id = kp_json_int(e, "team_id", 0),
            .assignee_id = kp_json_int(e, "assignee_id", 0),
        };
        c->last_id = ev.id;
        int64_t team, assignee;
        if (current_route(api->store, &ev, &team, &assignee) || !may_see(c, team, assignee))
            continue;
        struct kp_buf text;
        kp_buf_init(&text, 0);
        render(api->store, &text, &ev);
        kp_ws_send(c->conn, text.data, text.len);
        kp_buf_release(&text);
    }
    json_decref(events);
}

static void stream_open(struct kp_call *call)
{
    struct kp_api *api = call->api;
    const struct kp_http_request *h = call->req->http;
    const char *why;
    if (kp_websocket_check(h, &why)) {
        kp_call_error(call, kp_http_header(h, "Upgrade") ? 400 : 426, "websocket_required", NULL,
                      "%s", why);
        return;
    }
    if (call->auth.via_cookie && !origin_ok(h)) {
        kp_call_error(call, 403, "forbidden", NULL, "WebSocket origin does not match the host");
        return;
    }
    int64_t since = -1;
    if (kp_call_query_int(call, "since", 0, INT64_MAX, -1, &since))
        return;
    struct client *c = kp_xcalloc(1, sizeof(*c));
    c->agent_id = call->auth.who.agent_id;
    memcpy(c->cred, call->auth.hash, sizeof(c->cred));
    c->admin = call->auth.who.admin;
    c->n_teams = MAX_TEAMS;
    if (KP_STORE(api->store, agent_teams, c->agent_id, c->teams, &c->n_teams)) {
        free(c);
        kp_call_store_error(call, KP_EIO, "teams");
        return;
    }
    /* the newest committed event: live pushes start after it */
    int64_t newest = 0;
    if (KP_STORE(api->store, event_last, &newest)) {
        free(c);
        kp_call_store_error(call, KP_EIO, "events");
        return;
    }
    c->conn = call->req->conn;
    c->stream = api->stream;
    struct kp_conn *conn = call->req->conn;
    int rc = kp_req_upgrade(call->req, &handler, c);
    if (rc) {
        free(c);
        if (rc != KP_EIO)
            kp_call_error(call, 400, "websocket_required", NULL, "cannot upgrade");
        return;
    }
    struct kp_stream *s = api->stream;
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->n++;
    json_t *hello = json_pack("{sssIsI}", "type", "hello", "agent_id", (json_int_t)c->agent_id,
                              "last_event_id", (json_int_t)newest);
    char *text = json_dumps(hello, JSON_COMPACT);
    json_decref(hello);
    kp_ws_send(conn, text, strlen(text));
    free(text);
    if (since >= 0)
        replay(api, c, since);
    if (c->last_id < newest)
        c->last_id = newest;
    kp_ws_start(conn);
}

const struct kp_route kp_api_stream_routes[] = {
    {"GET", "/api/v1/stream", stream_open, KP_AGENT, false},
    {0},
};
