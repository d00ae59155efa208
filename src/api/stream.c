/* SPDX-License-Identifier: MIT */
/*
 * stream.c - the agents' WebSocket (see stream.h): committed events, notifications, and the
 * client's own frames, which say what the agent views and where he types (presence.h).
 */
#include "stream.h"
#include "bus.h"
#include "online.h"
#include "presence.h"
#include "visitor.h"
#include "../base/clock.h"
#include "../base/log.h"
#include "../base/tmpl.h"
#include "../proto/websocket.h"

#include <stdarg.h>
#include <strings.h>

enum {
    MAX_TEAMS = 1024,
    REPLAY_MAX = 1000,
    CLIENT_FRAME_MAX = 4096, /* the client's frames are small JSON objects */
    TYPING_MS = 5000,        /* typing ends this long after the agent's last typing frame */
    FRAMES_PER_SECOND = 20,  /* more presence frames than this from one client are refused */
};

struct client {
    struct client *prev, *next;
    struct kp_conn *conn;
    struct kp_stream *stream;
    int64_t agent_id;
    bool admin;
    int64_t *teams; /* malloc'd, n_teams long: most agents are in a team or two */
    size_t n_teams;
    int64_t last_id;         /* newest event id sent: replay and live never send one twice */
    uint8_t cred[32];        /* hash of the session or token it was opened with */
    uint64_t key;            /* this connection in presence notices, unique across loops */
    int64_t viewing;         /* the conversation the client views, 0 = none */
    bool typing;             /* the agent types in viewing */
    int64_t typing_until_ms; /* monotonic */
    int64_t window_ms, window_frames; /* presence frames in the current second */
};

struct kp_stream {
    struct client *clients;
    size_t n;
    struct kp_store *store;
    struct kp_api *api;
    struct kp_presence *presence; /* this loop's replica of every loop's presence */
    uv_timer_t typing_timer;      /* ends typing that was not renewed */
    uint64_t loop_tag, serial;    /* make client keys unique across loops */
};

static void on_typing_timer(uv_timer_t *t);

int kp_stream_new(struct kp_api *api, struct kp_stream **out)
{
    struct kp_stream *s = kp_xcalloc(1, sizeof(*s));
    s->api = api;
    s->store = api->store;
    kp_presence_new(&s->presence);
    for (size_t i = 0; i < api->n_peers; i++)
        if (api->peers[i] == api)
            s->loop_tag = (uint64_t)(i + 1) << 40;
    uv_timer_init(api->loop, &s->typing_timer);
    s->typing_timer.data = s;
    uv_unref((uv_handle_t *)&s->typing_timer); /* the loop ends when its server is gone */
    *out = s;
    return 0;
}

/* Loads the agent's teams into c (replacing what it had). */
static int load_teams(struct kp_store *store, struct client *c)
{
    int64_t teams[MAX_TEAMS];
    size_t n = MAX_TEAMS;
    int rc = KP_STORE(store, agent_teams, c->agent_id, teams, &n);
    free(c->teams);
    c->teams = NULL;
    c->n_teams = 0;
    if (rc)
        return rc;
    if (n) {
        c->teams = kp_xmalloc(n * sizeof(*teams));
        memcpy(c->teams, teams, n * sizeof(*teams));
    }
    c->n_teams = n;
    return 0;
}

static void client_free(struct client *c)
{
    if (c)
        free(c->teams);
    free(c);
}

void kp_stream_free(struct kp_stream *s)
{
    while (s && s->clients) {
        struct client *c = s->clients;
        s->clients = c->next;
        c->stream = NULL;
    }
    if (s)
        kp_presence_free(s->presence);
    free(s);
}

static int64_t mono_ms(void)
{
    return (int64_t)(kp_clock_mono_ns() / 1000000);
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

/* ---- notifications ---- */

void kp_stream_notification(struct kp_stream *s, int64_t agent_id, int64_t id)
{
    struct kp_buf text;
    kp_buf_init(&text, 0);
    for (struct client *c = s->clients; c; c = c->next) {
        if (c->agent_id != agent_id)
            continue;
        if (!text.len) {
            json_t *n;
            if (KP_STORE(s->store, notification_get, agent_id, id, &n))
                break; /* gone since, with its conversation */
            json_t *frame = json_pack("{ssso}", "type", "notification", "notification", n);
            char *t = json_dumps(frame, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(frame);
            if (!t)
                break;
            kp_buf_puts(&text, t);
            free(t);
        }
        kp_ws_send(c->conn, text.data, text.len);
    }
    kp_buf_release(&text);
}

/* ---- presence ---- */

void kp_api_ws_error(struct kp_conn *conn, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *frame = json_pack("{ssss}", "type", "error", "message", msg);
    char *text = json_dumps(frame, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(frame);
    if (text)
        kp_ws_send(conn, text, strlen(text));
    free(text);
}

/* An agent came online or went offline: every loop tells its chat visitors when that changes
 * whether someone can answer them. */
static void post_online(struct kp_api *api)
{
    struct kp_notice n = {.kind = KP_NOTICE_AGENTS_ONLINE};
    for (size_t i = 0; i < api->n_peers; i++)
        kp_bus_post(api->peers[i], &n);
}

/* Tells every loop (this one too, through its bus) what c views and whether it types. */
static void post_presence(struct kp_stream *s, const struct client *c)
{
    struct kp_notice n = {.kind = KP_NOTICE_PRESENCE,
                          .presence = {.conn = c->key,
                                       .agent_id = c->agent_id,
                                       .conversation_id = c->viewing,
                                       .typing = c->typing}};
    for (size_t i = 0; i < s->api->n_peers; i++)
        kp_bus_post(s->api->peers[i], &n);
}

static bool watched_here(const struct kp_stream *s, int64_t conversation_id)
{
    for (const struct client *c = s->clients; c; c = c->next)
        if (c->viewing == conversation_id)
            return true;
    return false;
}

/* Sends conversation_id's presence frame to one client (only) or to every client of this loop
 * that views it. */
static void send_presence(struct kp_stream *s, int64_t conversation_id, struct client *only,
                          const struct kp_buf *frame)
{
    for (struct client *c = s->clients; c; c = c->next)
        if ((!only || c == only) && c->viewing == conversation_id)
            kp_ws_send(c->conn, frame->data, frame->len);
}

void kp_stream_presence(struct kp_stream *s, const struct kp_presence_change *ch)
{
    /* the conversations whose picture may change: the one viewed now and the one left */
    int64_t left = kp_presence_viewing(s->presence, ch->conn);
    bool was_typing = kp_presence_typing(s->presence, ch->conn);
    int64_t convs[2] = {ch->conversation_id, left != ch->conversation_id ? left : 0};
    struct kp_buf before[2], after;
    for (int i = 0; i < 2; i++) {
        kp_buf_init(&before[i], 0);
        if (convs[i] && watched_here(s, convs[i]))
            kp_presence_frame(s->presence, convs[i], &before[i]);
        else
            convs[i] = 0; /* nobody here to tell */
    }
    /* a copy: the replica's memory moves when it grows */
    struct kp_principal who = {0};
    const char *known = kp_presence_agent_name(s->presence, ch->agent_id);
    if (known)
        snprintf(who.name, sizeof(who.name), "%s", known);
    else if (ch->conversation_id)
        KP_STORE(s->store, agent_principal, ch->agent_id, &who);
    kp_presence_apply(s->presence, ch, who.name);
    /* a chat visitor sees the agent type in his conversation (each loop tells its own) */
    char first[64];
    kp_tmpl_first_word(who.name, first, sizeof(first));
    if (was_typing && (left != ch->conversation_id || !ch->typing))
        kp_visitor_agent_typing(s->api->visitors, left, first, false);
    if (ch->typing && (!was_typing || left != ch->conversation_id))
        kp_visitor_agent_typing(s->api->visitors, ch->conversation_id, first, true);
    struct client *origin = NULL;
    for (struct client *c = s->clients; c && !origin; c = c->next)
        if (c->key == ch->conn)
            origin = c;
    kp_buf_init(&after, 0);
    for (int i = 0; i < 2; i++) {
        if (!convs[i])
            continue;
        kp_buf_reset(&after);
        if (kp_presence_frame(s->presence, convs[i], &after) == 0) {
            bool changed = after.len != before[i].len ||
                           (after.len && memcmp(after.data, before[i].data, after.len) != 0);
            /* a client that starts viewing learns who is there even when its agent was
             * already there with another tab */
            if (changed)
                send_presence(s, convs[i], NULL, &after);
            else if (origin && i == 0 && left != ch->conversation_id)
                send_presence(s, convs[i], origin, &after);
        }
        kp_buf_release(&before[i]);
    }
    kp_buf_release(&after);
}

void kp_stream_visitor_typing(struct kp_stream *s, int64_t conversation_id, bool typing)
{
    char frame[112];
    int len = snprintf(frame, sizeof(frame),
                       "{\"type\":\"visitor_typing\",\"conversation_id\":%lld,\"typing\":%s}",
                       (long long)conversation_id, typing ? "true" : "false");
    for (struct client *c = s->clients; c; c = c->next)
        if (c->viewing == conversation_id)
            kp_ws_send(c->conn, frame, (size_t)len);
}

/* Earliest end of a typing period on this loop, or stops the timer when nobody types. */
static void arm_typing(struct kp_stream *s)
{
    int64_t next = INT64_MAX;
    for (const struct client *c = s->clients; c; c = c->next)
        if (c->typing && c->typing_until_ms < next)
            next = c->typing_until_ms;
    if (next == INT64_MAX) {
        uv_timer_stop(&s->typing_timer);
        return;
    }
    int64_t wait = next - mono_ms();
    uv_timer_start(&s->typing_timer, on_typing_timer, wait > 0 ? (uint64_t)wait : 0, 0);
}

static void on_typing_timer(uv_timer_t *t)
{
    struct kp_stream *s = t->data;
    int64_t now = mono_ms();
    for (struct client *c = s->clients; c; c = c->next) {
        if (c->typing && c->typing_until_ms <= now) {
            c->typing = false;
            post_presence(s, c);
        }
    }
    arm_typing(s);
}

/* Sets what c views and whether it types; tells every loop when that changed. A watch frame
 * for what c views already only asks for the picture again. */
static void set_presence(struct client *c, int64_t viewing, bool typing, bool watch)
{
    struct kp_stream *s = c->stream;
    bool was_typing = c->typing;
    if (typing && !watch)
        c->typing_until_ms = mono_ms() + TYPING_MS;
    if (c->viewing == viewing && c->typing == typing) {
        if (watch && viewing) {
            struct kp_buf frame;
            kp_buf_init(&frame, 0);
            if (kp_presence_frame(s->presence, viewing, &frame) == 0)
                send_presence(s, viewing, c, &frame);
            kp_buf_release(&frame);
        }
        return; /* a renewed typing frame only moves the deadline */
    }
    c->viewing = viewing;
    c->typing = typing;
    post_presence(s, c);
    if (typing && !was_typing)
        arm_typing(s);
}

/* conversation_id of a client frame: *id > 0, or 0 for null or 0 when none_ok. */
static int frame_conversation(json_t *frame, bool none_ok, int64_t *id)
{
    json_t *v = json_object_get(frame, "conversation_id");
    if (none_ok && (!v || json_is_null(v))) {
        *id = 0;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (!none_ok && !json_integer_value(v)))
        return KP_EINVAL;
    *id = json_integer_value(v);
    return 0;
}

/* Too many presence frames from one client in the current second? */
static bool flooding(struct client *c)
{
    int64_t now = mono_ms();
    if (now - c->window_ms >= 1000) {
        c->window_ms = now;
        c->window_frames = 0;
    }
    return ++c->window_frames > FRAMES_PER_SECOND;
}

static void client_frame(struct client *c, json_t *frame)
{
    struct kp_conn *conn = c->conn;
    const char *type = kp_json_str(frame, "type");
    if (!type) {
        kp_api_ws_error(conn, "a frame needs a string field 'type'");
        return;
    }
    if (strcmp(type, "ping") == 0) {
        kp_ws_send(conn, "{\"type\":\"pong\"}", 15);
        return;
    }
    bool watch = strcmp(type, "watch") == 0;
    if (!watch && strcmp(type, "typing") != 0) {
        kp_api_ws_error(conn, "unknown frame type '%.40s' (watch, typing or ping)", type);
        return;
    }
    int64_t id;
    if (frame_conversation(frame, watch, &id)) {
        kp_api_ws_error(conn, watch ? "'conversation_id' must be a conversation id or null"
                                    : "'conversation_id' must be a conversation id");
        return;
    }
    json_t *flag = json_object_get(frame, "typing");
    if (!watch && flag && !json_is_boolean(flag)) {
        kp_api_ws_error(conn, "'typing' must be true or false");
        return;
    }
    /* typing in a conversation views it; viewing another one ends the typing */
    bool typing = watch ? id == c->viewing && c->typing : !flag || json_is_true(flag);
    if (flooding(c)) {
        kp_api_ws_error(conn, "too many frames, at most %d a second", FRAMES_PER_SECOND);
        return;
    }
    if (!watch && !typing && c->viewing != id)
        return; /* stops typing where it does not type: nothing to do */
    if (id && id != c->viewing) {
        struct kp_viewer v = {.agent_id = c->agent_id, .admin = c->admin};
        int64_t team, assignee;
        int rc = KP_STORE(c->stream->store, conversation_access, &v, id, &team, &assignee);
        if (rc) {
            kp_api_ws_error(conn,
                            rc == KP_ENOTFOUND ? "conversation %lld not found"
                                               : "cannot check conversation %lld now",
                            (long long)id);
            return;
        }
    }
    set_presence(c, id, typing, watch);
}

static void on_message(struct kp_conn *conn, void *user, const char *data, size_t len)
{
    struct client *c = user;
    /* a "ping" text gets a "pong" for liveness checks */
    if (len == 4 && memcmp(data, "ping", 4) == 0) {
        kp_ws_send(conn, "pong", 4);
        return;
    }
    if (!c->stream)
        return;
    if (len > CLIENT_FRAME_MAX) {
        kp_api_ws_error(conn, "frame of %zu bytes is too large (at most %d)", len,
                        CLIENT_FRAME_MAX);
        return;
    }
    json_t *frame;
    struct kp_json_error err;
    if (kp_json_parse_body(data, len, c->stream->api->limits.json_depth, &frame, &err)) {
        kp_api_ws_error(conn, "invalid frame: %s", err.message);
        return;
    }
    client_frame(c, frame);
    json_decref(frame);
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
        if (c->viewing) {
            c->viewing = 0;
            c->typing = false;
            post_presence(s, c); /* gone: the others see it leave */
        }
        if (kp_online_remove(s->api->online, c->agent_id))
            post_online(s->api);
    }
    client_free(c);
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
        if (KP_STORE(s->store, agent_principal, agent_id, &who) || !who.active ||
            load_teams(s->store, c)) {
            c->n_teams = 0;
            c->admin = false;
            kp_ws_close(c->conn, 4403, "access revoked");
            continue;
        }
        c->admin = who.admin;
        kp_online_update(s->api->online, agent_id, who.admin, c->teams, c->n_teams);
        /* what it views it may no longer see */
        struct kp_viewer v = {.agent_id = agent_id, .admin = who.admin};
        int64_t team, assignee;
        if (c->viewing && KP_STORE(s->store, conversation_access, &v, c->viewing, &team,
                                   &assignee) == KP_ENOTFOUND) {
            c->viewing = 0;
            c->typing = false;
            post_presence(s, c);
        }
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
    if (kp_call_websocket(call))
        return;
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
    if (load_teams(api->store, c)) {
        client_free(c);
        kp_call_store_error(call, KP_EIO, "teams");
        return;
    }
    /* the newest committed event: live pushes start after it */
    int64_t newest = 0;
    if (KP_STORE(api->store, event_last, &newest)) {
        client_free(c);
        kp_call_store_error(call, KP_EIO, "events");
        return;
    }
    c->conn = call->req->conn;
    c->stream = api->stream;
    c->key = api->stream->loop_tag | ++api->stream->serial;
    struct kp_conn *conn = call->req->conn;
    int rc = kp_req_upgrade(call->req, &handler, c);
    if (rc) {
        client_free(c);
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
    if (kp_online_add(api->online, c->agent_id, c->admin, c->teams, c->n_teams))
        post_online(api);
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
