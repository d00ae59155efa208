/* SPDX-License-Identifier: MIT */
/*
 * server.h - the HTTP/1.1 and WebSocket server on a libuv loop. It accepts connections, frames
 * requests with src/proto/http1, enforces the limits and timeouts, and hands each complete
 * request to the application's handler. The handler answers at once or later (after the writer
 * committed) with kp_req_respond; pipelined requests are answered in order because the next
 * one is parsed only after the current one is answered.
 */
#ifndef KP_IO_SERVER_H
#define KP_IO_SERVER_H

#include <stdatomic.h>
#include <uv.h>

#include "../base/arena.h"
#include "../proto/http1.h"

struct kp_server;
struct kp_conn;

/* One request in flight. Valid from the handler call until kp_req_respond returns. */
struct kp_req {
    struct kp_conn *conn;
    struct kp_server *server;
    const struct kp_http_request *http;
    struct kp_arena arena; /* released after the response is written */
    char id[24];           /* request id, also sent as X-Request-Id */
    uint64_t start_ns;
    const char *route; /* route pattern for logs and metrics, set by the router */
    int status;
    size_t response_bytes;
    void *user; /* for the application (auth principal, ...) */
};

struct kp_ws_handler {
    /* A complete text or binary message arrived. */
    void (*on_message)(struct kp_conn *c, void *user, const char *data, size_t len);
    /* The connection is gone; user must not be used with c afterwards. */
    void (*on_close)(struct kp_conn *c, void *user);
};

struct kp_server_config {
    const char *host;
    int port;                     /* 0 = ephemeral; see kp_server_port */
    struct kp_server *share_with; /* NULL, or another loop's server whose socket to accept from */
    struct kp_http1_limits limits;
    int max_connections;
    atomic_int *open_connections; /* shared by every loop's server; NULL = this server's own */
    atomic_int *open_websockets;  /* the same for WebSocket connections */
    int request_timeout_ms;       /* to receive a whole request once it started */
    int idle_timeout_ms;          /* keep-alive idle */
    size_t ws_max_message;
    /* Called for every complete request. Must eventually call kp_req_respond (or upgrade). */
    void (*on_request)(struct kp_req *req, void *app);
    /* Called once per finished request, after the response is queued: logs, metrics. */
    void (*on_finish)(struct kp_req *req, void *app);
    void *app;
};

int kp_server_new(uv_loop_t *loop, const struct kp_server_config *cfg, struct kp_server **out);
int kp_server_port(struct kp_server *s);

/* Stops accepting; open connections are answered and then closed when idle. */
void kp_server_stop_listening(struct kp_server *s);
/* Requests being handled right now (for a graceful stop). */
size_t kp_server_busy(struct kp_server *s);
size_t kp_server_connections(struct kp_server *s);
/* Closes every connection and frees the server; the loop runs the close callbacks. */
void kp_server_free(struct kp_server *s);

/*
 * Answers req. headers is "" or CRLF-terminated extra header lines. Takes a copy of body.
 * After this call req is gone.
 */
void kp_req_respond(struct kp_req *req, int status, const char *content_type, const char *headers,
                    const char *body, size_t len);

/* Answers req with 101 and turns its connection into a WebSocket. After this call req is gone;
 * the connection is reported to handler with user. Returns KP_EIO when the peer is already gone
 * (req was answered and is gone too), KP_EINVAL or KP_ENOMEM when nothing happened yet. */
int kp_req_upgrade(struct kp_req *req, const struct kp_ws_handler *handler, void *user);
/* Starts reading frames on a connection kp_req_upgrade turned into a WebSocket: call it once the
 * application has sent what must come first (the stream's hello). */
void kp_ws_start(struct kp_conn *c);
/* Queues a text message on a WebSocket connection. */
int kp_ws_send(struct kp_conn *c, const char *data, size_t len);
/* Starts a close handshake with status code and reason. */
void kp_ws_close(struct kp_conn *c, uint16_t code, const char *reason);

/* "200 OK" style reason phrases. */
const char *kp_http_reason(int status);

#endif
