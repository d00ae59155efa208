/* SPDX-License-Identifier: MIT */
/*
 * visitor.c - the chat widget's WebSocket and this loop's registry of its connections (see
 * visitor.h). Frames from the visitor (JSON, at most 4 KiB, 10 a second):
 *   {"type":"typing","typing"?:bool}   he types (send it at most every 2 s) or stopped
 *   {"type":"page","url","title"?,"seconds_on_previous"?}   he moved to another page
 *   {"type":"ping"}                     answered {"type":"pong"}
 * Bad frames are answered {"type":"error","message":"..."} and change nothing.
 */
#include "visitor.h"
#include "api_widget.h"
#include "bus.h"
#include "../base/clock.h"
#include "../base/log.h"
#include "../proto/websocket.h"

#include <stdarg.h>
#include <strings.h>

enum {
    FRAME_MAX = 4096,
    FRAMES_PER_SECOND = 10,
    TYPING_EVERY_MS = 1500, /* renewed typing is passed on at most this often */
    PAGE_EVERY_MS = 1000,   /* page views from one connection, at most one a second */
    FIRST_BUCKETS = 64,
};

/* One connection; kept small, as a site may hold many idle ones. */
struct visitor {
    struct kp_conn *conn;
    struct visitor *next; /* in its bucket */
    struct kp_visitors *reg;
    int64_t contact_id, inbox_id;
    uint32_t window_ms; /* start of the current second of frames, monotonic, wraps */
    uint32_t typing_ms, page_ms;
    uint16_t frames;
    bool typing;
    bool online; /* what the visitor was told last: an agent who can answer is online */
};

struct kp_visitors {
    struct kp_api *api;
    struct visitor **buckets; /* by contact id; n_buckets is a power of two */
    size_t n_buckets, n;
    size_t busy; /* page views being written */
};

static uint32_t mono_ms(void)
{
    return (uint32_t)(kp_clock_mono_ns() / 1000000);
}

void kp_visitor_new(struct kp_api *api, struct kp_visitors **out)
{
    struct kp_visitors *v = kp_xcalloc(1, sizeof(*v));
    v->api = api;
    v->n_buckets = FIRST_BUCKETS;
    v->buckets = kp_xcalloc(v->n_buckets, sizeof(*v->buckets));
    *out = v;
}

void kp_visitor_free(struct kp_visitors *v)
{
    if (!v)
        return;
    /* connections still open are freed by the server's close callbacks; they must not reach
     * back into the registry */
    for (size_t i = 0; i < v->n_buckets; i++)
        for (struct visitor *x = v->buckets[i]; x; x = x->next)
            x->reg = NULL;
    free(v->buckets);
    free(v);
}

size_t kp_visitor_busy(const struct kp_visitors *v)
{
    return v ? v->busy : 0;
}

size_t kp_visitor_count(const struct kp_visitors *v)
{
    return v ? v->n : 0;
}

static size_t bucket_of(const struct kp_visitors *v, int64_t contact_id)
{
    uint64_t h = (uint64_t)contact_id * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 32) & (v->n_buckets - 1);
}

static void insert(struct kp_visitors *v, struct visitor *x)
{
    if (v->n >= v->n_buckets) {
        /* twice as many buckets: the chains stay short */
        struct visitor **old = v->buckets;
        size_t n_old = v->n_buckets;
        v->n_buckets *= 2;
        v->buckets = kp_xcalloc(v->n_buckets, sizeof(*v->buckets));
        for (size_t i = 0; i < n_old; i++) {
            for (struct visitor *y = old[i], *next; y; y = next) {
                next = y->next;
                size_t b = bucket_of(v, y->contact_id);
                y->next = v->buckets[b];
                v->buckets[b] = y;
            }
        }
        free(old);
    }
    size_t b = bucket_of(v, x->contact_id);
    x->next = v->buckets[b];
    v->buckets[b] = x;
    v->n++;
}

static void unlink_visitor(struct kp_visitors *v, struct visitor *x)
{
    for (struct visitor **p = &v->buckets[bucket_of(v, x->contact_id)]; *p; p = &(*p)->next) {
        if (*p == x) {
            *p = x->next;
            v->n--;
            return;
        }
    }
}

/* Sends frame to every visitor of contact_id on this loop whose widget belongs to inbox_id
 * (0: any). */
static void send_to(struct kp_visitors *v, int64_t contact_id, int64_t inbox_id, const char *frame,
                    size_t len)
{
    for (struct visitor *x = v->buckets[bucket_of(v, contact_id)]; x; x = x->next)
        if (x->contact_id == contact_id && (!inbox_id || x->inbox_id == inbox_id))
            kp_ws_send(x->conn, frame, len);
}

static bool connected(const struct kp_visitors *v, int64_t contact_id, int64_t inbox_id)
{
    for (struct visitor *x = v->buckets[bucket_of(v, contact_id)]; x; x = x->next)
        if (x->contact_id == contact_id && (!inbox_id || x->inbox_id == inbox_id))
            return true;
    return false;
}

/* ---- from the other loops and the writer ---- */

void kp_visitor_publish(struct kp_visitors *v, const struct kp_event *ev)
{
    if (!v || !v->n || !ev->message_id || strcmp(ev->type, "message.created") != 0)
        return;
    struct kp_store *store = v->api->store;
    int64_t contact, inbox;
    if (KP_STORE(store, visitor_route, ev->conversation_id, &contact, &inbox) ||
        !connected(v, contact, inbox))
        return; /* not a web chat, or nobody of it here */
    struct kp_buf b;
    kp_buf_init(&b, 0);
    kp_buf_puts(&b, "{\"type\":\"message\",\"message\":");
    if (KP_STORE(store, visitor_message, ev->message_id, &b) == 0) { /* notes are not found */
        kp_buf_puts(&b, "}");
        send_to(v, contact, inbox, b.data, b.len);
    }
    kp_buf_release(&b);
}

void kp_visitor_open(struct kp_visitors *v, const struct kp_visitor_notice *n)
{
    if (!v || !connected(v, n->contact_id, 0))
        return;
    json_t *frame = json_pack("{ss}", "type", "open");
    if (n->message_id) {
        struct kp_buf b;
        kp_buf_init(&b, 0);
        json_t *m = NULL;
        if (KP_STORE(v->api->store, visitor_message, n->message_id, &b) == 0)
            m = json_loadb(b.data, b.len, 0, NULL);
        kp_buf_release(&b);
        if (m) {
            json_object_set(frame, "text", json_object_get(m, "text"));
            json_object_set_new(frame, "message_id", json_integer(n->message_id));
            json_decref(m);
        }
    }
    char *text = json_dumps(frame, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(frame);
    if (text)
        send_to(v, n->contact_id, 0, text, strlen(text));
    free(text);
}

void kp_visitor_agent_typing(struct kp_visitors *v, int64_t conversation_id, const char *agent,
                             bool typing)
{
    int64_t contact, inbox;
    if (!v || !v->n || !conversation_id ||
        KP_STORE(v->api->store, visitor_route, conversation_id, &contact, &inbox) ||
        !connected(v, contact, inbox))
        return;
    json_t *frame =
        json_pack("{sssssb}", "type", "typing", "agent", agent ? agent : "", "typing", typing);
    char *text = frame ? json_dumps(frame, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(frame);
    if (text)
        send_to(v, contact, inbox, text, strlen(text));
    free(text);
}

void kp_visitor_agents_changed(struct kp_visitors *v)
{
    if (!v || !v->n)
        return;
    /* few inboxes, many visitors: each inbox's answer once */
    enum { SEEN = 16 };
    int64_t inbox[SEEN];
    bool online[SEEN];
    size_t n_seen = 0;
    struct kp_widget *w = kp_xmalloc(sizeof(*w));
    for (size_t b = 0; b < v->n_buckets; b++) {
        for (struct visitor *x = v->buckets[b]; x; x = x->next) {
            size_t i = 0;
            while (i < n_seen && inbox[i] != x->inbox_id)
                i++;
            bool now;
            if (i < n_seen) {
                now = online[i];
            } else {
                now = KP_STORE(v->api->store, widget_get, x->inbox_id, w) == 0 &&
                      kp_api_widget_agents_online(v->api, w);
                if (n_seen < SEEN) {
                    inbox[n_seen] = x->inbox_id;
                    online[n_seen++] = now;
                }
            }
            if (now == x->online)
                continue;
            x->online = now;
            const char *frame = now ? "{\"type\":\"agents\",\"online\":true}"
                                    : "{\"type\":\"agents\",\"online\":false}";
            kp_ws_send(x->conn, frame, strlen(frame));
        }
    }
    free(w);
}

/* ---- the visitor's frames ---- */

static bool flooding(struct visitor *x, uint32_t now)
{
    if (now - x->window_ms >= 1000) {
        x->window_ms = now;
        x->frames = 0;
    }
    return ++x->frames > FRAMES_PER_SECOND;
}

/* The visitor types (or stopped): every loop tells the agents who view his conversation. */
static void on_typing(struct visitor *x, json_t *frame, uint32_t now)
{
    json_t *flag = json_object_get(frame, "typing");
    if (flag && !json_is_boolean(flag)) {
        kp_api_ws_error(x->conn, "'typing' must be true or false");
        return;
    }
    bool typing = !flag || json_is_true(flag);
    if (typing && x->typing && now - x->typing_ms < TYPING_EVERY_MS)
        return; /* a renewal the agents' timers do not need yet */
    if (!typing && !x->typing)
        return;
    struct kp_api *api = x->reg->api;
    int64_t conv = 0;
    if (KP_STORE(api->store, visitor_conversation, x->contact_id, x->inbox_id, false, &conv) ||
        !conv)
        return; /* no conversation yet: no agent can be looking at it */
    x->typing = typing;
    x->typing_ms = now;
    struct kp_notice n = {
        .kind = KP_NOTICE_VISITOR_TYPING,
        .visitor = {.contact_id = x->contact_id, .conversation_id = conv, .typing = typing}};
    for (size_t i = 0; i < api->n_peers; i++)
        kp_bus_post(api->peers[i], &n);
}

struct page_job {
    struct kp_writer_job job;
    struct kp_visitors *reg;
    struct kp_visitor_event ev;
    char url[KP_VISITOR_URL_MAX + 1], title[KP_VISITOR_TITLE_MAX + 1];
};

static int page_run(struct kp_store *s, void *ctx)
{
    struct page_job *p = ctx;
    int rc = KP_STORE(s, visitor_event_add, &p->ev, NULL);
    return rc == KP_EBUSY ? 0 : rc; /* over the rate: not recorded */
}

static void page_done(void *ctx, int rc)
{
    struct page_job *p = ctx;
    if (rc && rc != KP_ENOTFOUND)
        kp_log_warn("cannot store a page view: %s", kp_strerror(rc));
    p->reg->busy--;
    free(p);
}

static bool bad_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* The visitor moved on to another page: stored as a page view, without an answer. */
static void on_page(struct visitor *x, json_t *frame, uint32_t now)
{
    static const struct kp_json_field fields[] = {
        {"type", KP_JSON_STRING, true, false, 16},
        {"url", KP_JSON_STRING, true, false, KP_VISITOR_URL_MAX},
        {"title", KP_JSON_STRING, false, true, KP_VISITOR_TITLE_MAX},
        {"seconds_on_previous", KP_JSON_INT, false, true, 0},
    };
    struct kp_json_error err;
    if (kp_json_check(frame, fields, KP_ARRAY_LEN(fields), true, &err)) {
        kp_api_ws_error(x->conn, "invalid page frame: %s", err.message);
        return;
    }
    const char *url = kp_json_str(frame, "url"), *title = kp_json_str(frame, "title");
    int64_t secs = kp_json_int(frame, "seconds_on_previous", -1);
    bool has_secs = json_is_integer(json_object_get(frame, "seconds_on_previous"));
    if ((strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) ||
        bad_text(url) || strchr(url, ' ') || (title && bad_text(title)) ||
        (has_secs && (secs < 0 || secs > KP_WIDGET_SECONDS_MAX))) {
        kp_api_ws_error(x->conn, "a page needs an http(s) url, a title without control characters "
                                 "and seconds_on_previous from 0 to 604800");
        return;
    }
    if (x->page_ms && now - x->page_ms < PAGE_EVERY_MS) {
        kp_api_ws_error(x->conn, "too many page views, at most one a second");
        return;
    }
    x->page_ms = now ? now : 1;
    struct page_job *p = kp_xcalloc(1, sizeof(*p));
    p->reg = x->reg;
    snprintf(p->url, sizeof(p->url), "%s", url);
    snprintf(p->title, sizeof(p->title), "%s", title ? title : "");
    p->ev = (struct kp_visitor_event){
        .contact_id = x->contact_id, .url = p->url, .title = p->title, .seconds_prev = secs};
    p->job = (struct kp_writer_job){
        .run = page_run, .done = page_done, .ctx = p, .port = x->reg->api->port};
    x->reg->busy++;
    kp_writer_submit(x->reg->api->writer, &p->job);
}

static void on_message(struct kp_conn *conn, void *user, const char *data, size_t len)
{
    struct visitor *x = user;
    if (!x->reg)
        return;
    uint32_t now = mono_ms();
    if (flooding(x, now)) {
        kp_api_ws_error(conn, "too many frames, at most %d a second", FRAMES_PER_SECOND);
        return;
    }
    if (len > FRAME_MAX) {
        kp_api_ws_error(conn, "frame of %zu bytes is too large (at most %d)", len, FRAME_MAX);
        return;
    }
    json_t *frame;
    struct kp_json_error err;
    if (kp_json_parse_body(data, len, x->reg->api->limits.json_depth, &frame, &err)) {
        kp_api_ws_error(conn, "invalid frame: %s", err.message);
        return;
    }
    const char *type = kp_json_str(frame, "type");
    if (!type)
        kp_api_ws_error(conn, "a frame needs a string field 'type'");
    else if (strcmp(type, "ping") == 0)
        kp_ws_send(conn, "{\"type\":\"pong\"}", 15);
    else if (strcmp(type, "typing") == 0)
        on_typing(x, frame, now);
    else if (strcmp(type, "page") == 0)
        on_page(x, frame, now);
    else
        kp_api_ws_error(conn, "unknown frame type '%.40s' (typing, page or ping)", type);
    json_decref(frame);
}

static void on_close(struct kp_conn *conn, void *user)
{
    struct visitor *x = user;
    (void)conn;
    if (x->reg) {
        if (x->typing) {
            /* gone while typing: the agents stop seeing it now rather than later */
            x->typing = false;
            int64_t conv = 0;
            struct kp_api *api = x->reg->api;
            if (KP_STORE(api->store, visitor_conversation, x->contact_id, x->inbox_id, false,
                         &conv) == 0 &&
                conv) {
                struct kp_notice n = {
                    .kind = KP_NOTICE_VISITOR_TYPING,
                    .visitor = {.contact_id = x->contact_id, .conversation_id = conv}};
                for (size_t i = 0; i < api->n_peers; i++)
                    kp_bus_post(api->peers[i], &n);
            }
        }
        unlink_visitor(x->reg, x);
    }
    free(x);
}

static const struct kp_ws_handler handler = {.on_message = on_message, .on_close = on_close};

/* ---- GET /widget/v1/stream ---- */

static void stream_open(struct kp_call *call)
{
    struct kp_api *api = call->api;
    const struct kp_http_request *h = call->req->http;
    if (kp_call_websocket(call))
        return;
    char token[KP_WIDGET_TOKEN_MAX + 1];
    int n = kp_call_query(call, "token", token, sizeof(token));
    struct kp_visitor_session v;
    int rc = n > 0 ? kp_api_widget_session(api, token, &v) : KP_ENOTFOUND;
    if (rc) {
        if (rc == KP_ENOTFOUND)
            kp_call_error(call, 401, "invalid_token", "token",
                          "query parameter 'token' must be a valid visitor token");
        else
            kp_call_store_error(call, rc, "session");
        return;
    }
    struct kp_widget *w = kp_call_alloc(call, sizeof(*w));
    if ((rc = KP_STORE(api->store, widget_get, v.inbox_id, w))) {
        kp_call_store_error(call, rc, "widget");
        return;
    }
    if (!kp_api_widget_origin_ok(h, w)) {
        kp_call_error(call, 403, "origin_not_allowed", NULL,
                      "this site is not allowed to use the chat widget");
        return;
    }
    int64_t conv = 0;
    if ((rc = KP_STORE(api->store, visitor_conversation, v.contact_id, v.inbox_id, false, &conv))) {
        kp_call_store_error(call, rc, "conversation");
        return;
    }
    bool online = kp_api_widget_agents_online(api, w);
    struct visitor *x = kp_xcalloc(1, sizeof(*x));
    x->contact_id = v.contact_id;
    x->inbox_id = v.inbox_id;
    x->online = online;
    struct kp_conn *conn = call->req->conn;
    x->conn = conn;
    rc = kp_req_upgrade(call->req, &handler, x);
    if (rc) {
        free(x);
        if (rc != KP_EIO)
            kp_call_error(call, 400, "websocket_required", NULL, "cannot upgrade");
        return;
    }
    x->reg = api->visitors;
    insert(api->visitors, x);
    char conv_text[24] = "null", hello[160];
    if (conv)
        snprintf(conv_text, sizeof(conv_text), "%lld", (long long)conv);
    int len = snprintf(hello, sizeof(hello),
                       "{\"type\":\"hello\",\"contact_id\":%lld,\"conversation_id\":%s,"
                       "\"agents_online\":%s}",
                       (long long)v.contact_id, conv_text, online ? "true" : "false");
    kp_ws_send(conn, hello, (size_t)len);
    kp_ws_start(conn);
}

const struct kp_route kp_api_visitor_routes[] = {
    {"GET", "/widget/v1/stream", stream_open, KP_PUBLIC, false},
    {0},
};
