/* SPDX-License-Identifier: MIT */
/*
 * http1.c - request framing over http-parser (see http1.h). Header and URL bytes are collected
 * in one capped buffer as NUL-separated pieces and resolved to pointers once the header block
 * is complete, because the buffer may move while it grows.
 */
#include "http1.h"

#include <strings.h>

static struct kp_http1 *self(http_parser *p)
{
    return (struct kp_http1 *)p->data;
}

static int fail(struct kp_http1 *h, int status, const char *why)
{
    h->failed = true;
    h->error_status = status;
    h->error_text = why;
    return -1;
}

/* The header limit on the stored pieces and their NUL separators. The head buffer holds twice
 * as much, so that split_url can always append its decoded copy of the url. */
static size_t head_limit(const struct kp_http1_limits *limits)
{
    return limits->max_header_bytes + 2 * KP_HTTP1_MAX_HEADERS + 4;
}

/* Appends to the current piece, or starts a new piece when kind changes. */
static int piece(struct kp_http1 *h, int kind, const char *at, size_t len)
{
    if (len > head_limit(&h->limits) || h->head.len + len + 1 > head_limit(&h->limits))
        return fail(h, kind == 1 ? 414 : 431,
                    kind == 1 ? "request target is too long" : "request header block is too large");
    if (h->last != kind) {
        if (h->n_offs == KP_ARRAY_LEN(h->offs))
            return fail(h, 431, "too many header fields");
        if (h->head.len && kp_buf_append(&h->head, "", 1))
            return fail(h, 431, "request header block is too large");
        h->offs[h->n_offs++] = h->head.len;
        h->last = kind;
    }
    if (kp_buf_append(&h->head, at, len))
        return fail(h, kind == 1 ? 414 : 431,
                    kind == 1 ? "request target is too long" : "request header block is too large");
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    return piece(self(p), 1, at, len);
}

static int on_field(http_parser *p, const char *at, size_t len)
{
    return piece(self(p), 2, at, len);
}

static int on_value(http_parser *p, const char *at, size_t len)
{
    struct kp_http1 *h = self(p);
    if (h->last == 2 || h->last == 3)
        return piece(h, 3, at, len);
    return fail(h, 400, "header value without a name");
}

static int on_headers_complete(http_parser *p)
{
    struct kp_http1 *h = self(p);
    if (h->last == 2 && piece(h, 3, "", 0)) /* a name with an empty value */
        return -1;
    if (h->n_offs < 1)
        return fail(h, 400, "missing request target");
    if (kp_buf_append(&h->head, "", 1))
        return fail(h, 431, "request header block is too large");
    struct kp_http_request *r = &h->req;
    char *base = h->head.data;
    r->url = base + h->offs[0];
    r->n_headers = 0;
    for (size_t i = 1; i + 1 < h->n_offs; i += 2) {
        r->headers[r->n_headers].name = base + h->offs[i];
        r->headers[r->n_headers].value = base + h->offs[i + 1];
        r->n_headers++;
    }
    r->method = http_method_str((enum http_method)p->method);
    r->http_minor = p->http_minor;
    if (p->flags & F_CONTENTLENGTH && p->content_length > h->limits.max_body_bytes)
        return fail(h, 413, "request body is larger than the server accepts");
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct kp_http1 *h = self(p);
    if (h->body.len + len > h->limits.max_body_bytes || kp_buf_append(&h->body, at, len))
        return fail(h, 413, "request body is larger than the server accepts");
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct kp_http1 *h = self(p);
    struct kp_http_request *r = &h->req;
    if (kp_buf_append(&h->body, "", 0))
        return fail(h, 413, "request body is larger than the server accepts");
    r->body = h->body.data ? h->body.data : "";
    r->body_len = h->body.len;
    r->keep_alive = http_should_keep_alive(p) != 0;
    r->upgrade = p->upgrade != 0;
    h->complete = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void kp_http1_init(struct kp_http1 *h, const struct kp_http1_limits *limits)
{
    memset(h, 0, sizeof(*h));
    h->limits = *limits;
    kp_buf_init(&h->head, 2 * head_limit(limits) + 2);
    kp_buf_init(&h->body, limits->max_body_bytes + 1);
    http_parser_init(&h->p, HTTP_REQUEST);
    h->p.data = h;
}

void kp_http1_release(struct kp_http1 *h)
{
    kp_buf_release(&h->head);
    kp_buf_release(&h->body);
}

void kp_http1_next(struct kp_http1 *h)
{
    kp_buf_reset(&h->head);
    kp_buf_reset(&h->body);
    if (h->body.alloc > 65536) /* do not keep a large body's memory per idle connection */
        kp_buf_release(&h->body);
    h->n_offs = 0;
    h->last = 0;
    h->complete = false;
    memset(&h->req, 0, sizeof(h->req));
    http_parser_pause(&h->p, 0);
}

/* Splits url into path and query, decoding the path in place. */
static int split_url(struct kp_http1 *h)
{
    struct kp_http_request *r = &h->req;
    /* trailers after a chunked body may have moved head since the headers were resolved */
    r->url = h->head.data + h->offs[0];
    /* the url piece is NUL-terminated inside head; copy so url stays raw */
    size_t n = strlen(r->url);
    if (n == 0 || r->url[0] != '/')
        return fail(h, 400, "request target must be an absolute path");
    /* r->url points into head, which the append may move: copy it out first */
    char *copy = kp_xstrndup(r->url, n);
    int rc = kp_buf_append(&h->head, copy, n + 1);
    free(copy);
    if (rc)
        return fail(h, 414, "request target is too long");
    /* head may have moved: resolve pointers again */
    char *base = h->head.data;
    r->url = base + h->offs[0];
    for (size_t i = 1, k = 0; i + 1 < h->n_offs; i += 2, k++) {
        r->headers[k].name = base + h->offs[i];
        r->headers[k].value = base + h->offs[i + 1];
    }
    char *path = base + h->head.len - n - 1;
    char *q = strchr(path, '?');
    if (q) {
        *q = '\0';
        r->query = r->url + (q - path) + 1;
    } else {
        r->query = "";
    }
    char *frag = strchr(path, '#');
    if (frag)
        *frag = '\0';
    if (kp_http_unescape(path) < 0)
        return fail(h, 400, "request path has a bad percent escape");
    r->path = path;
    return 0;
}

enum kp_http1_status kp_http1_feed(struct kp_http1 *h, const char *data, size_t len, size_t *used)
{
    *used = 0;
    if (h->failed)
        return KP_HTTP1_ERROR;
    if (h->complete)
        return KP_HTTP1_MORE; /* the caller must call kp_http1_next first: nothing is parsed */
    size_t n = http_parser_execute(&h->p, &settings, data, len);
    *used = n;
    enum http_errno e = HTTP_PARSER_ERRNO(&h->p);
    if (h->failed)
        return KP_HTTP1_ERROR;
    if (e != HPE_OK && e != HPE_PAUSED) {
        if (e == HPE_HEADER_OVERFLOW)
            fail(h, 431, "request header block is too large");
        else
            fail(h, 400, http_errno_description(e));
        return KP_HTTP1_ERROR;
    }
    if (!h->complete) {
        /* the upgrade case stops without completing when headers end the message */
        return KP_HTTP1_MORE;
    }
    if (split_url(h))
        return KP_HTTP1_ERROR;
    return KP_HTTP1_REQUEST;
}

const char *kp_http_header(const struct kp_http_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int kp_http_unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%') {
            int a = hexval(p[1]), b = a < 0 ? -1 : hexval(p[2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0))
                return -1;
            *o++ = (char)(a * 16 + b);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return (int)(o - s);
}

int kp_http_query(const char *query, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg >= kl && strncmp(p, key, kl) == 0 && (seg == kl || p[kl] == '=')) {
            const char *v = seg == kl ? p + kl : p + kl + 1;
            size_t vl = seg - (size_t)(v - p);
            if (vl >= cap)
                return -2;
            memcpy(out, v, vl);
            out[vl] = '\0';
            for (char *c = out; *c; c++)
                if (*c == '+')
                    *c = ' ';
            int n = kp_http_unescape(out);
            return n < 0 ? -2 : n;
        }
        p = amp ? amp + 1 : NULL;
    }
    return -1;
}
