/* SPDX-License-Identifier: MIT */
/*
 * server.c - connections, HTTP/1.1 framing, timeouts and WebSocket I/O on libuv (see server.h).
 *
 * A connection is in one of three modes: HTTP idle/reading, HTTP busy (a request is with the
 * handler; reading is paused, which also bounds pipelined input), or WebSocket. It is freed
 * only from its close callback, and never while a request is with the handler: a peer that
 * goes away mid-request marks the connection, and kp_req_respond finishes the job.
 */
#include "server.h"
#include "../base/clock.h"
#include "../base/json.h"
#include "../base/log.h"
#include "../proto/websocket.h"

#include <errno.h>
#include <sodium.h>
#include <unistd.h>

enum {
    READ_CHUNK = 65536,
    WS_OUT_CAP = 8 << 20,
    WS_PING_MS = 25000,
    WS_DEAD_MS = 70000,
    LINGER_MS = 2000,
};

struct kp_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    bool listening;
    struct kp_server_config cfg;
    struct kp_conn *conns; /* doubly linked */
    size_t n_conns, n_busy;
    atomic_int own_open, *open; /* open connections of every loop, counted for the limit */
    atomic_int own_ws, *ws;     /* open WebSockets of every loop, for the metrics */
    uint64_t next_req;
    char id_prefix[9];
    char chunk[READ_CHUNK]; /* reads land here and are copied out at once */
};

enum mode { HTTP, WEBSOCKET };

struct kp_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    struct kp_server *srv;
    struct kp_conn *prev, *next;
    enum mode mode;
    struct kp_http1 *http;  /* HTTP only: freed when the connection becomes a WebSocket */
    struct kp_buf in;       /* received, not yet parsed */
    bool busy;              /* a request is with the handler */
    bool closing;           /* no more I/O; the handles close as soon as the request is answered */
    bool receiving;         /* a request has started arriving: the request timeout runs */
    bool processing;        /* inside process(): answers do not recurse into it */
    bool close_after_write; /* answer what is queued, then close */
    bool lingering;         /* write side shut down: reading only to see the peer go */
    uv_shutdown_t shutdown;
    bool reading;
    int handles_open; /* tcp + timer: free when both closed */
    struct kp_req req;
    /* WebSocket: an idle one holds no buffer */
    const struct kp_ws_handler *ws_handler;
    void *ws_user;
    struct kp_buf ws_msg; /* a fragmented message being assembled */
    int ws_msg_opcode;    /* its opcode, 0 when none */
    uint64_t ws_last_rx_ms;
};

struct write_req {
    uv_write_t w;
    struct kp_conn *c;
    size_t len;
    char data[];
};

static void conn_close(struct kp_conn *c);
static void on_timer(uv_timer_t *t);
static void send_error_close(struct kp_conn *c, int status, const char *why);
static void maybe_close(struct kp_conn *c);
static void process(struct kp_conn *c);
static void start_reading(struct kp_conn *c);
static int ws_write(struct kp_conn *c, int opcode, const char *data, size_t len);

const char *kp_http_reason(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    }
    return "Unknown";
}

/* ---- lifetime ---- */

static void on_handle_closed(uv_handle_t *h)
{
    struct kp_conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    /* the application hears of a closed WebSocket only here, from the loop, never from inside
     * one of its own calls (a send that failed, a frame fed behind the handshake) */
    if (c->mode == WEBSOCKET && c->ws_handler && c->ws_handler->on_close)
        c->ws_handler->on_close(c, c->ws_user);
    if (c->http) {
        kp_http1_release(c->http);
        free(c->http);
    }
    kp_buf_release(&c->in);
    kp_buf_release(&c->ws_msg);
    free(c);
}

/* Unlinks c and closes its handles; c is freed in on_handle_closed. Not while busy. */
static void reap(struct kp_conn *c)
{
    struct kp_server *s = c->srv;
    KP_ASSERT(!c->busy);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    atomic_fetch_sub(s->open, 1);
    if (c->mode == WEBSOCKET)
        atomic_fetch_sub(s->ws, 1);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

/* Marks c closed: no more reads or writes. The handles go now, or once the request that is
 * with the handler has been answered. Never frees c and never calls back. */
static void conn_close(struct kp_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    if (!c->busy)
        reap(c);
}

static void on_written(uv_write_t *w, int status)
{
    struct write_req *wr = (struct write_req *)w;
    struct kp_conn *c = wr->c;
    free(wr);
    if (status < 0)
        conn_close(c);
}

/* Queues bytes; tries a direct write first. */
static void conn_write(struct kp_conn *c, const char *data, size_t len)
{
    if (c->closing)
        return;
    if (c->tcp.write_queue_size == 0) {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && n != UV_EAGAIN) {
            conn_close(c);
            return;
        }
    }
    if (len == 0)
        return;
    struct write_req *wr = kp_xmalloc(sizeof(*wr) + len);
    wr->c = c;
    wr->len = len;
    memcpy(wr->data, data, len);
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)len);
    if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(wr);
        conn_close(c);
    }
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t)
{
    struct kp_conn *c = t->data;
    if (c->busy)
        return;
    if (c->lingering) {
        conn_close(c);
        return;
    }
    if (c->mode == WEBSOCKET) {
        uint64_t now = (uint64_t)kp_clock_now_ms();
        if (!c->srv->listening || now - c->ws_last_rx_ms > WS_DEAD_MS) {
            conn_close(c);
            return;
        }
        ws_write(c, KP_WS_PING, "", 0);
        return;
    }
    if (c->receiving && !c->close_after_write) {
        /* a request started but did not finish in time */
        send_error_close(c, 408, "request not received in time");
        return;
    }
    conn_close(c);
}

static void arm(struct kp_conn *c, int ms)
{
    if (!c->closing)
        uv_timer_start(&c->timer, on_timer, (uint64_t)ms, c->mode == WEBSOCKET ? (uint64_t)ms : 0);
}

/* ---- HTTP ---- */

static void send_error_close(struct kp_conn *c, int status, const char *why)
{
    char body[384], head[256];
    char esc[200];
    size_t o = 0;
    for (const char *p = why; *p && o + 2 < sizeof(esc); p++)
        if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            esc[o++] = *p;
    esc[o] = '\0';
    const char *code = status == 408   ? "timeout"
                       : status == 413 ? "too_large"
                       : status == 431 ? "headers_too_large"
                       : status == 414 ? "uri_too_long"
                       : status == 503 ? "overloaded"
                                       : "bad_request";
    int bl =
        snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, esc);
    int hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nConnection: close\r\n"
                      "Content-Length: %d\r\n\r\n",
                      status, kp_http_reason(status), bl);
    c->close_after_write = true; /* nothing after an error is parsed: it cannot resync */
    struct kp_buf b;
    kp_buf_init(&b, 0);
    kp_buf_append(&b, head, (size_t)hl);
    kp_buf_append(&b, body, (size_t)bl);
    conn_write(c, b.data, b.len);
    maybe_close(c);
    kp_buf_release(&b);
    kp_log_info("refused request: %d %s", status, why);
}

static void dispatch(struct kp_conn *c)
{
    struct kp_server *s = c->srv;
    struct kp_req *r = &c->req;
    kp_arena_init(&r->arena);
    r->conn = c;
    r->server = s;
    r->http = &c->http->req;
    r->start_ns = kp_clock_mono_ns();
    r->route = NULL;
    r->status = 0;
    r->response_bytes = 0;
    r->user = NULL;
    snprintf(r->id, sizeof(r->id), "%s-%llu", s->id_prefix, (unsigned long long)++s->next_req);
    c->busy = true;
    c->receiving = false;
    s->n_busy++;
    uv_timer_stop(&c->timer);
    s->cfg.on_request(r, s->cfg.app);
}

/* Starts the request timeout when the first bytes of a request are in: it runs until the
 * request is complete, however slowly the rest arrives. */
static void request_started(struct kp_conn *c)
{
    if (c->receiving || c->busy || c->closing || c->mode != HTTP)
        return;
    c->receiving = true;
    uv_timer_start(&c->timer, on_timer, (uint64_t)c->srv->cfg.request_timeout_ms, 0);
}

/* Parses what is buffered and dispatches one request at a time. Answers given during a
 * dispatch come back to this loop instead of recursing, so a long pipeline uses no stack. */
static void process(struct kp_conn *c)
{
    if (c->processing)
        return;
    c->processing = true;
    while (!c->busy && !c->closing && !c->close_after_write && c->mode == HTTP && c->in.len) {
        size_t used;
        enum kp_http1_status st = kp_http1_feed(c->http, c->in.data, c->in.len, &used);
        kp_buf_consume(&c->in, used);
        if (st == KP_HTTP1_ERROR) {
            send_error_close(c, c->http->error_status, c->http->error_text);
            break;
        }
        if (st == KP_HTTP1_MORE)
            break;
        dispatch(c);
    }
    c->processing = false;
    if (!c->busy && !c->closing && !c->close_after_write && c->mode == HTTP) {
        /* a started request (not just the empty lines HTTP allows between requests) */
        if (c->in.len || c->http->head.len || c->http->body.len)
            request_started(c);
        start_reading(c);
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct kp_conn *c = req->data;
    if (c->closing)
        return; /* cancelled by the close */
    if (status < 0) {
        conn_close(c);
        return;
    }
    /* everything was sent and the FIN is out: give the peer a moment to close its side */
    uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
}

/*
 * Closes a connection that has its last answers queued, without losing them: the write side
 * is shut down once they are sent, and input is read and dropped until the peer closes (or a
 * deadline passes). Closing at once could make the kernel answer unread input with a reset,
 * and a reset can destroy the answer on its way (a 400, 408 or 503 the peer never sees).
 */
static void maybe_close(struct kp_conn *c)
{
    if (!c->close_after_write || c->closing || c->lingering || c->busy)
        return;
    c->lingering = true;
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        conn_close(c);
        return;
    }
    /* a peer that does not read its last answers cannot hold the connection */
    uv_timer_start(&c->timer, on_timer, (uint64_t)c->srv->cfg.idle_timeout_ms, 0);
    start_reading(c);
}

/* The end of every request (answered or upgraded): hooks, memory, and a deferred close.
 * Returns true when the connection is gone. */
static bool finish_request(struct kp_conn *c, struct kp_req *req)
{
    struct kp_server *s = c->srv;
    if (s->cfg.on_finish)
        s->cfg.on_finish(req, s->cfg.app);
    kp_arena_release(&req->arena);
    c->busy = false;
    s->n_busy--;
    if (c->closing) {
        reap(c);
        return true;
    }
    return false;
}

void kp_req_respond(struct kp_req *req, int status, const char *content_type, const char *headers,
                    const char *body, size_t len)
{
    struct kp_conn *c = req->conn;
    struct kp_server *s = c->srv;
    req->status = status;
    req->response_bytes = len;
    /* shutting down: finish this one, then close */
    bool keep = req->http->keep_alive && s->listening && !c->closing;
    bool head_only = strcmp(req->http->method, "HEAD") == 0;
    if (head_only)
        len = 0;
    /* secure by default: no sniffing, and nothing runs or frames unless the handler's own
     * Content-Security-Policy allows it */
    headers = headers ? headers : "";
    const char *csp =
        strstr(headers, "Content-Security-Policy:")
            ? ""
            : "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n";
    char head[1536];
    int hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "X-Request-Id: %s\r\nX-Content-Type-Options: nosniff\r\n%s%s%s\r\n",
                      status, kp_http_reason(status), content_type, req->response_bytes, req->id,
                      csp, keep ? "" : "Connection: close\r\n", headers);
    KP_ASSERT(hl > 0 && (size_t)hl < sizeof(head)); /* callers' headers are short and fixed */
    if (!c->closing) {
        if (!keep)
            c->close_after_write = true;
        if (len < 16384) {
            /* one write for small answers */
            char *all = kp_arena_alloc(&req->arena, (size_t)hl + len);
            memcpy(all, head, (size_t)hl);
            if (len)
                memcpy(all + hl, body, len);
            conn_write(c, all, (size_t)hl + len);
        } else {
            conn_write(c, head, (size_t)hl);
            conn_write(c, body, len);
        }
    }
    if (finish_request(c, req))
        return;
    if (c->close_after_write) {
        maybe_close(c);
        return;
    }
    kp_http1_next(c->http);
    arm(c, s->cfg.idle_timeout_ms);
    process(c);
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct kp_conn *c = h->data;
    (void)hint;
    *buf = uv_buf_init(c->srv->chunk, sizeof(c->srv->chunk));
}

static void ws_feed(struct kp_conn *c);

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    struct kp_conn *c = stream->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n == 0 || c->lingering)
        return; /* a closing connection drops what still comes */
    if (kp_buf_append(&c->in, buf->base, (size_t)n)) {
        if (c->mode == HTTP)
            send_error_close(c, 413, "request is larger than the server accepts");
        else
            conn_close(c);
        return;
    }
    if (c->mode == WEBSOCKET) {
        ws_feed(c);
        return;
    }
    process(c);
    if (c->busy && c->reading) {
        uv_read_stop(stream); /* back-pressure until the handler answers */
        c->reading = false;
    }
}

static void start_reading(struct kp_conn *c)
{
    if (!c->reading && !c->closing) {
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        c->reading = true;
    }
}

static void on_connection(uv_stream_t *l, int status)
{
    struct kp_server *s = l->data;
    if (status < 0)
        return;
    struct kp_conn *c = kp_xcalloc(1, sizeof(*c));
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles_open = 2;
    c->http = kp_xmalloc(sizeof(*c->http));
    kp_http1_init(c->http, &s->cfg.limits);
    kp_buf_init(&c->in, s->cfg.limits.max_header_bytes + s->cfg.limits.max_body_bytes + 65536);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    int open = atomic_fetch_add(s->open, 1) + 1;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (open > s->cfg.max_connections) {
        send_error_close(c, 503, "too many connections, try again later");
        return;
    }
    arm(c, s->cfg.request_timeout_ms);
    start_reading(c);
}

/* ---- WebSocket ---- */

/* Queues one frame; a peer that does not read what it is sent is dropped. */
static int ws_write(struct kp_conn *c, int opcode, const char *data, size_t len)
{
    if (c->closing)
        return KP_EIO;
    if (c->tcp.write_queue_size + len > WS_OUT_CAP) {
        kp_log_info("dropping a WebSocket peer that does not read (%zu bytes queued)",
                    c->tcp.write_queue_size);
        conn_close(c);
        return KP_EIO;
    }
    uint8_t head[10];
    size_t hl = kp_websocket_header(head, opcode, len);
    if (len < 4096) {
        char frame[10 + 4096];
        memcpy(frame, head, hl);
        memcpy(frame + hl, data, len);
        conn_write(c, frame, hl + len);
    } else {
        conn_write(c, (const char *)head, hl);
        conn_write(c, data, len);
    }
    return c->closing ? KP_EIO : 0;
}

/* Sends a close frame with code and reason and closes once it is written. */
static void ws_send_close(struct kp_conn *c, int code, const char *reason)
{
    char body[125];
    size_t rl = strlen(reason);
    if (rl > sizeof(body) - 2)
        rl = sizeof(body) - 2;
    body[0] = (char)(code >> 8);
    body[1] = (char)code;
    memcpy(body + 2, reason, rl);
    ws_write(c, KP_WS_CLOSE, body, rl + 2);
    c->close_after_write = true;
    maybe_close(c);
}

/* A whole text or binary message arrived. */
static void ws_deliver(struct kp_conn *c, int opcode, const char *data, size_t len)
{
    if (opcode == KP_WS_TEXT && kp_json_check_utf8(data, len)) {
        ws_send_close(c, KP_WS_INVALID_DATA, "text is not UTF-8");
        return;
    }
    if (c->ws_handler && c->ws_handler->on_message)
        c->ws_handler->on_message(c, c->ws_user, data, len);
}

/* One frame: messages are assembled from their fragments, pings answered, closes echoed. */
static void ws_frame(struct kp_conn *c, const struct kp_ws_frame *f)
{
    size_t max = c->srv->cfg.ws_max_message;
    switch (f->opcode) {
    case KP_WS_TEXT:
    case KP_WS_BINARY:
        if (c->ws_msg_opcode) {
            ws_send_close(c, KP_WS_PROTOCOL_ERROR, "a new message inside a fragmented one");
        } else if (f->fin) {
            ws_deliver(c, f->opcode, (const char *)f->payload, f->len);
        } else {
            c->ws_msg_opcode = f->opcode;
            kp_buf_init(&c->ws_msg, max);
            if (kp_buf_append(&c->ws_msg, f->payload, f->len))
                ws_send_close(c, KP_WS_TOO_BIG, "message too big");
        }
        break;
    case KP_WS_CONTINUATION:
        if (!c->ws_msg_opcode) {
            ws_send_close(c, KP_WS_PROTOCOL_ERROR, "a continuation without a message");
        } else if (kp_buf_append(&c->ws_msg, f->payload, f->len)) {
            ws_send_close(c, KP_WS_TOO_BIG, "message too big");
        } else if (f->fin) {
            int op = c->ws_msg_opcode;
            c->ws_msg_opcode = 0;
            ws_deliver(c, op, c->ws_msg.data ? c->ws_msg.data : "", c->ws_msg.len);
            kp_buf_release(&c->ws_msg);
        }
        break;
    case KP_WS_PING:
        ws_write(c, KP_WS_PONG, (const char *)f->payload, f->len);
        break;
    case KP_WS_PONG:
        break;
    case KP_WS_CLOSE:
        if (f->len == 1)
            ws_send_close(c, KP_WS_PROTOCOL_ERROR, "bad close frame");
        else
            ws_send_close(c, f->len ? f->payload[0] << 8 | f->payload[1] : KP_WS_NORMAL, "");
        break;
    }
}

static void ws_feed(struct kp_conn *c)
{
    c->ws_last_rx_ms = (uint64_t)kp_clock_now_ms();
    size_t pos = 0;
    while (!c->closing && !c->close_after_write && pos < c->in.len) {
        struct kp_ws_frame f;
        long n = kp_websocket_frame((uint8_t *)c->in.data + pos, c->in.len - pos,
                                    c->srv->cfg.ws_max_message, &f);
        if (n == 0)
            break;
        if (n < 0) {
            ws_send_close(c, (int)-n, n == -KP_WS_TOO_BIG ? "frame too big" : "protocol error");
            break;
        }
        pos += (size_t)n;
        ws_frame(c, &f);
    }
    if (pos >= c->in.len) {
        kp_buf_release(&c->in); /* an idle WebSocket keeps no buffer */
    } else if (pos) {
        memmove(c->in.data, c->in.data + pos, c->in.len - pos);
        c->in.len -= pos;
    }
}

int kp_req_upgrade(struct kp_req *req, const struct kp_ws_handler *handler, void *user)
{
    struct kp_conn *c = req->conn;
    struct kp_server *s = c->srv;
    if (c->closing) {
        /* the peer went away while we decided: finish the request like any other */
        kp_req_respond(req, 400, "application/json", "", "{}", 2);
        return KP_EIO;
    }
    const char *key = kp_http_header(req->http, "Sec-WebSocket-Key");
    char accept[32];
    if (!key || kp_websocket_accept(key, accept))
        return KP_EINVAL;
    char head[256];
    int hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                      accept);
    conn_write(c, head, (size_t)hl);
    req->status = 101;
    c->mode = WEBSOCKET;
    c->ws_handler = handler;
    c->ws_user = user;
    atomic_fetch_add(s->ws, 1);
    c->ws_last_rx_ms = (uint64_t)kp_clock_now_ms();
    if (finish_request(c, req))
        return 0; /* the peer went away during the handshake; on_close comes from the loop */
    kp_http1_release(c->http); /* no more HTTP on this connection */
    free(c->http);
    c->http = NULL;
    if (!c->in.len)
        kp_buf_release(&c->in);
    arm(c, WS_PING_MS);
    return 0;
}

void kp_ws_start(struct kp_conn *c)
{
    if (c->closing || c->mode != WEBSOCKET)
        return;
    start_reading(c);
    if (c->in.len) /* frames that came right behind the handshake */
        ws_feed(c);
}

int kp_ws_send(struct kp_conn *c, const char *data, size_t len)
{
    if (c->closing || c->mode != WEBSOCKET)
        return KP_EIO;
    return ws_write(c, KP_WS_TEXT, data, len);
}

void kp_ws_close(struct kp_conn *c, uint16_t code, const char *reason)
{
    if (c->closing || c->mode != WEBSOCKET)
        return;
    ws_send_close(c, code, reason);
}

/* ---- server ---- */

/* Listens on a duplicate of another loop's listening socket: every loop watches the same
 * socket and whichever wakes first accepts (libuv takes EAGAIN in stride). Unlike
 * SO_REUSEPORT, no other process can quietly bind the same port and take a share. */
static int share_listener(uv_tcp_t *listener, int fd)
{
    int copy = dup(fd);
    if (copy < 0)
        return uv_translate_sys_error(errno);
    int rc = uv_tcp_open(listener, copy);
    if (rc)
        close(copy);
    return rc;
}

/* The listening socket of s. */
static int listen_fd(struct kp_server *s)
{
    uv_os_fd_t fd;
    return uv_fileno((uv_handle_t *)&s->listener, &fd) == 0 ? fd : -1;
}

int kp_server_new(uv_loop_t *loop, const struct kp_server_config *cfg, struct kp_server **out)
{
    struct kp_server *s = kp_xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->cfg = *cfg;
    s->open = cfg->open_connections ? cfg->open_connections : &s->own_open;
    s->ws = cfg->open_websockets ? cfg->open_websockets : &s->own_ws;
    unsigned char rnd[4];
    randombytes_buf(rnd, sizeof(rnd));
    snprintf(s->id_prefix, sizeof(s->id_prefix), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3]);
    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *)&addr);
    if (rc != 0)
        rc = uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *)&addr);
    if (rc != 0) {
        kp_log_error("cannot parse listen address '%s'", cfg->host);
        free(s);
        return KP_EINVAL;
    }
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    if (cfg->share_with)
        rc = share_listener(&s->listener, listen_fd(cfg->share_with));
    else
        rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
    if (rc != 0 || (rc = uv_listen((uv_stream_t *)&s->listener, 1024, on_connection)) != 0) {
        kp_log_error("cannot listen on %s:%d: %s", cfg->host, cfg->port, uv_strerror(rc));
        uv_close((uv_handle_t *)&s->listener, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        free(s);
        return KP_EIO;
    }
    s->listening = true;
    *out = s;
    return 0;
}

int kp_server_port(struct kp_server *s)
{
    struct sockaddr_storage addr;
    int len = sizeof(addr);
    if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    if (addr.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return ntohs(((struct sockaddr_in *)&addr)->sin_port);
}

void kp_server_stop_listening(struct kp_server *s)
{
    if (!s->listening)
        return;
    s->listening = false;
    uv_close((uv_handle_t *)&s->listener, NULL);
    /* idle keep-alive connections go now; busy ones close after their answer */
    struct kp_conn *c = s->conns;
    while (c) {
        struct kp_conn *next = c->next;
        if (c->mode == WEBSOCKET) {
            kp_ws_close(c, 1001, "server shutting down");
            arm(c, 1000); /* on_timer closes it for good if the peer does not answer */
        } else if (!c->busy) {
            c->close_after_write = true; /* queued answers still go out, then it closes */
            maybe_close(c);
        }
        c = next;
    }
}

size_t kp_server_busy(struct kp_server *s)
{
    return s->n_busy;
}

size_t kp_server_connections(struct kp_server *s)
{
    return s->n_conns;
}

void kp_server_free(struct kp_server *s)
{
    if (!s)
        return;
    kp_server_stop_listening(s);
    while (s->conns) {
        struct kp_conn *c = s->conns;
        if (c->busy) {
            /* only after a failed start or a drain that timed out: the answer is dropped */
            kp_arena_release(&c->req.arena);
            c->busy = false;
            s->n_busy--;
        }
        if (c->closing)
            reap(c);
        else
            conn_close(c);
    }
    free(s);
}
