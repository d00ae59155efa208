/* SPDX-License-Identifier: MIT */
/*
 * api.h - what the REST resources share: the application context (struct kp_api), the call
 * object every handler gets, JSON answers and errors, and writes through the writer.
 *
 * A handler runs on the event loop. Reads go to api->store directly; writes are packed into
 * a kp_writer_job whose done callback answers the call after the commit (kp_call_write).
 */
#ifndef KP_API_API_H
#define KP_API_API_H

#include "../base/json.h"
#include "../io/server.h"
#include "../io/writer.h"
#include "../store/store.h"

struct kp_metrics;
struct kp_stream;
struct kp_auth_cache;
struct kp_cache;
struct kp_bus;
struct kp_visitors;
struct kp_online;

struct kp_api_limits {
    int json_depth;
    size_t max_attachment_bytes;
    size_t max_body_bytes; /* of a request: base64 attachments must fit */
};

/* The application: one per process, owned by src/app/hub.c. */
struct kp_api {
    uv_loop_t *loop;
    struct kp_store *store; /* read connection, loop thread only */
    struct kp_writer *writer;
    struct kp_metrics *metrics;
    struct kp_stream *stream;
    struct kp_auth_cache *auth;
    struct kp_server *server;
    struct kp_cache *cache;      /* hot read answers, valid until the next commit */
    struct kp_writer_port *port; /* where this loop's write jobs come back */
    struct kp_bus *bus;          /* messages from the other loops */
    struct kp_api **peers;       /* every loop's api, this one included */
    size_t n_peers;
    atomic_int *open_connections, *open_websockets; /* of every loop, for the metrics */
    struct kp_api_limits limits;
    int64_t started_ms;
    bool cookie_secure;        /* add Secure to the session cookie (behind TLS) */
    bool demo;                 /* demo mode: the demo shop page is served */
    const char *demo_customer; /* demo mode: shop id of the customer signed in to the demo shop */
    struct kp_visitors *visitors; /* this loop's chat widget connections (visitor.h) */
    struct kp_online *online;     /* agents with an open stream, every loop's (online.h) */
};

enum kp_access { KP_PUBLIC, KP_AGENT, KP_ADMIN };

struct kp_call;
typedef void (*kp_handler_fn)(struct kp_call *call);

struct kp_route {
    const char *method;
    const char *pattern; /* "/api/v1/conversations/{id}", {x} is one segment */
    kp_handler_fn handler;
    enum kp_access access;
    bool json_body; /* parse the body as a JSON object first */
};

enum { KP_MAX_PARAMS = 4 };

/* Who is calling, as the router found out (src/api/auth.c). */
struct kp_auth_result {
    struct kp_principal who; /* agent_id 0 when public */
    bool via_cookie;
    char csrf[64];    /* the session's CSRF token, for cookie sessions */
    uint8_t hash[32]; /* of the session id or token */
};

struct kp_call {
    struct kp_req *req;
    struct kp_api *api;
    const struct kp_route *route;
    const char *params[KP_MAX_PARAMS]; /* path parameters in pattern order */
    int64_t ids[KP_MAX_PARAMS];        /* the same, as positive integers, or 0 */
    json_t *body;                      /* when route->json_body; released with the call */
    struct kp_auth_result auth;
};

/* The store's version: changes with every commit, for caches of reads. */
uint64_t kp_api_store_version(struct kp_api *api);

/* The viewer for visibility checks. */
struct kp_viewer kp_call_viewer(const struct kp_call *call);
/* Answers with a JSON value (stolen reference). */
void kp_call_json(struct kp_call *call, int status, json_t *value);
void kp_call_json_headers(struct kp_call *call, int status, const char *headers, json_t *value);
/* Answers with {"error":{"code","message","field"?}}. */
void kp_call_error(struct kp_call *call, int status, const char *code, const char *field,
                   const char *fmt, ...) KP_PRINTF(5, 6);
/* Answers a body-check failure with 400 and its code and field. */
void kp_call_json_error(struct kp_call *call, const struct kp_json_error *err);
/* Maps a store error to an answer (404 not_found, 409 conflict, 503 for outages). */
void kp_call_store_error(struct kp_call *call, int rc, const char *what);
/* Checks the body against fields (unknown fields refused). Answers 400 itself and returns
 * nonzero when the body does not fit. */
int kp_call_check(struct kp_call *call, const struct kp_json_field *fields, size_t n);
/* Query parameter into out; returns length, -1 when absent, -2 when too long or malformed. */
int kp_call_query(struct kp_call *call, const char *key, char *out, size_t cap);
/* Integer query parameter in [min, max], def when absent; answers 400 and returns nonzero
 * when malformed. */
int kp_call_query_int(struct kp_call *call, const char *key, int64_t min, int64_t max, int64_t def,
                      int64_t *out);
/* Checks that the call is a WebSocket upgrade; answers 426 (no Upgrade) or 400 itself and
 * returns nonzero when it is not. */
int kp_call_websocket(struct kp_call *call);
/* Allocates in the call's arena. */
void *kp_call_alloc(struct kp_call *call, size_t n);
enum { KP_API_MAX_ATTACHMENTS = 10 };
/* s has no control characters (line breaks included): for values that end up in headers. */
bool kp_api_printable(const char *s);
/* The attachment bytes one request can carry: max_attachment, or less when the request body
 * limit (base64 in JSON) allows less. */
size_t kp_api_attachment_limit(const struct kp_api *api);
/* Reads a JSON array of {filename, content_type, data (base64)} into out[] (at most
 * KP_API_MAX_ATTACHMENTS, bytes in the call's arena, max_attachment_bytes in all); answers the
 * error and returns nonzero when it is bad. */
int kp_call_attachments(struct kp_call *call, json_t *list, struct kp_attachment_new *out,
                        size_t *n);

/*
 * Runs run(store, ctx) on the writer; then done(call, ctx, rc) on the loop after the commit.
 * ctx is allocated (zeroed, size bytes) in the call's arena and returned for filling in.
 */
typedef int (*kp_write_fn)(struct kp_store *s, void *ctx);
typedef void (*kp_write_done_fn)(struct kp_call *call, void *ctx, int rc);
void *kp_call_write_ctx(struct kp_call *call, size_t size);
void kp_call_write(struct kp_call *call, void *ctx, kp_write_fn run, kp_write_done_fn done);

/* In a write job: every loop hears after the commit, in order, that the agent's rights changed
 * (credential caches forget, open streams see the change) or that a credential ended (streams
 * opened with it close). */
int kp_api_notify_agent(struct kp_store *s, int64_t agent_id);
int kp_api_notify_revoke(struct kp_store *s, const uint8_t hash[32]);

/* Resource route tables, one per api_*.c file. */
extern const struct kp_route kp_api_system_routes[];
extern const struct kp_route kp_api_session_routes[];
extern const struct kp_route kp_api_agents_routes[];
extern const struct kp_route kp_api_teams_routes[];
extern const struct kp_route kp_api_inboxes_routes[];
extern const struct kp_route kp_api_contacts_routes[];
extern const struct kp_route kp_api_conversations_routes[];
extern const struct kp_route kp_api_search_routes[];
extern const struct kp_route kp_api_stream_routes[];
extern const struct kp_route kp_api_attachments_routes[];
extern const struct kp_route kp_api_email_routes[];
extern const struct kp_route kp_api_audit_routes[];
extern const struct kp_route kp_api_canned_routes[];
extern const struct kp_route kp_api_notifications_routes[];
extern const struct kp_route kp_api_web_routes[];
extern const struct kp_route kp_api_widget_routes[];
extern const struct kp_route kp_api_visitor_routes[];

/* True for the channels Knotenpunkt knows ("api", "email", "whatsapp", ...). */
bool kp_api_channel_is_known(const char *channel);

/* Entry point from the server: routes, authenticates, dispatches. */
void kp_api_on_request(struct kp_req *req, void *api);
/* Log line and metrics for a finished request. */
void kp_api_on_finish(struct kp_req *req, void *api);
/* Every route, for the OpenAPI check: calls fn for each (method, pattern). */
void kp_api_routes_foreach(void (*fn)(const struct kp_route *r, void *ud), void *ud);

/* Shared helpers for conversation events (api_conversations.c). */
/* In a write job: records an event of type for the conversation (and message, when
 * message_id) with the conversation's team and assignee as they are now, into ev and the
 * event log. The writer pushes it to every loop's stream after the commit, in commit order. */
int kp_api_conversation_event(struct kp_store *s, const char *type, int64_t conversation_id,
                              int64_t message_id, struct kp_event *ev);
/* Sends {"type":"error","message":...} on a WebSocket: the agent stream's and the widget's
 * answer to a frame they refuse (stream.c). */
void kp_api_ws_error(struct kp_conn *conn, const char *fmt, ...) KP_PRINTF(2, 3);
/* In a write job: the inbound path of every channel - the store's ingest, then the
 * message.created event that pushes it to the agents (api_inboxes.c). */
int kp_api_ingest(struct kp_store *s, const struct kp_inbound *in, struct kp_ingest_result *res,
                  struct kp_event *ev);
/* Answers with the conversation (or message) as stored now. */
void kp_call_conversation(struct kp_call *call, int status, int64_t id);
void kp_call_message(struct kp_call *call, int status, int64_t id);

#endif
