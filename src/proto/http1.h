/* SPDX-License-Identifier: MIT */
/*
 * http1.h - HTTP/1.1 request parsing with limits, around Debian's http-parser. Pure: bytes in,
 * complete requests out; no sockets. The parser stops after each complete request so that
 * pipelined requests are answered one at a time, in order.
 *
 *   feed(bytes) -> KP_HTTP1_MORE     need more bytes
 *               -> KP_HTTP1_REQUEST  req is complete; call feed again with the rest later
 *               -> KP_HTTP1_ERROR    status says which 4xx to answer, then close
 */
#ifndef KP_PROTO_HTTP1_H
#define KP_PROTO_HTTP1_H

#include <http_parser.h>

#include "../base/buf.h"

enum { KP_HTTP1_MAX_HEADERS = 64 };

struct kp_http1_limits {
    size_t max_header_bytes; /* request line + headers, 431 past it */
    size_t max_body_bytes;   /* 413 past it */
};

struct kp_http_header {
    const char *name, *value;
};

struct kp_http_request {
    const char *method; /* "GET" */
    const char *url;    /* raw target, "/api/v1/x?y=1" */
    const char *path;   /* percent-decoded path without query */
    const char *query;  /* raw query without '?', or "" */
    struct kp_http_header headers[KP_HTTP1_MAX_HEADERS];
    size_t n_headers;
    const char *body; /* NUL-terminated, body_len bytes */
    size_t body_len;
    bool keep_alive;
    bool upgrade; /* Upgrade requested (WebSocket): the rest of the stream is not HTTP */
    int http_minor;
};

enum kp_http1_status { KP_HTTP1_MORE, KP_HTTP1_REQUEST, KP_HTTP1_ERROR };

struct kp_http1 {
    http_parser p;
    struct kp_http1_limits limits;
    struct kp_buf head; /* url and header bytes, NUL-separated */
    struct kp_buf body;
    size_t offs[2 * KP_HTTP1_MAX_HEADERS + 2]; /* url, then name/value pairs, as offsets */
    size_t n_offs;
    int last; /* 0 none, 1 url, 2 field, 3 value: which piece the next bytes extend */
    bool complete, failed;
    int error_status;       /* 400, 413, 431 */
    const char *error_text; /* why, for the JSON error */
    struct kp_http_request req;
};

void kp_http1_init(struct kp_http1 *h, const struct kp_http1_limits *limits);
void kp_http1_release(struct kp_http1 *h);
/* Parses up to len bytes; *used says how many were taken. See the states above. */
enum kp_http1_status kp_http1_feed(struct kp_http1 *h, const char *data, size_t len, size_t *used);
/* Forgets the current request so that the next feed starts a new one. */
void kp_http1_next(struct kp_http1 *h);

/* Case-insensitive header lookup; NULL when absent. */
const char *kp_http_header(const struct kp_http_request *r, const char *name);
/* Finds key in an x-www-form-urlencoded query and percent-decodes its value into out.
 * Returns the decoded length, -1 when the key is absent, -2 when the value does not fit in
 * cap or has a bad escape. */
int kp_http_query(const char *query, const char *key, char *out, size_t cap);
/* Percent-decodes in place ('+' stays '+'); returns -1 on a bad escape or a NUL byte. */
int kp_http_unescape(char *s);

#endif
