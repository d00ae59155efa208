/* SPDX-License-Identifier: MIT */
/*
 * fuzz_http1.c - libFuzzer target for the HTTP/1.1 request parser. The first input byte picks
 * the size of the simulated socket reads; the rest is the byte stream, fed the way
 * src/io/server.c does: parse what is buffered, answer each complete request, kp_http1_next,
 * go on, until an error, an upgrade or the end of the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proto/http1.h"
#include "proto/websocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every part of a complete request, as a handler would. */
static void use_request(const struct kp_http_request *r)
{
    if (!r->method || !r->url || !r->path || !r->query || !r->body)
        abort();
    if (r->path[0] != '/' || r->n_headers > KP_HTTP1_MAX_HEADERS || r->body[r->body_len] != '\0')
        abort();
    size_t total = strlen(r->url) + strlen(r->path) + strlen(r->query);
    for (size_t i = 0; i < r->n_headers; i++) {
        total += strlen(r->headers[i].name) + strlen(r->headers[i].value);
        if (kp_http_header(r, r->headers[i].name) == NULL)
            abort();
    }
    (void)total;
    kp_http_header(r, "Content-Type");
    kp_http_header(r, "Authorization");
    char out[64];
    static const char *keys[] = {"q", "limit", "cursor", "state", "", "a=b"};
    for (size_t i = 0; i < KP_ARRAY_LEN(keys); i++) {
        int n = kp_http_query(r->query, keys[i], out, sizeof(out));
        if (n >= (int)sizeof(out))
            abort();
        if (n >= 0 && out[n] != '\0')
            abort();
    }
    if (r->n_headers)
        kp_http_query(r->query, r->headers[0].name, out, sizeof(out));
    char tiny[2];
    kp_http_query(r->query, "q", tiny, sizeof(tiny));
    if (r->upgrade) {
        const char *why = NULL;
        if (kp_websocket_check(r, &why) == 0) {
            char accept[32];
            kp_websocket_accept(kp_http_header(r, "Sec-WebSocket-Key"), accept);
        } else if (!why) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = data[0] % 32;
    data++;
    size--;
    if (step == 0)
        step = size ? size : 1;
    struct kp_http1_limits limits = {.max_header_bytes = 512, .max_body_bytes = 1024};
    struct kp_http1 h;
    kp_http1_init(&h, &limits);
    /* the connection's input buffer: reads are appended, parsed bytes consumed */
    struct kp_buf in;
    kp_buf_init(&in, 0);
    bool done = false;
    for (size_t off = 0; off < size && !done; off += step) {
        size_t n = size - off < step ? size - off : step;
        kp_buf_append(&in, data + off, n);
        while (in.len && !done) {
            /* an exact-size copy, so that reads past the buffered bytes are caught */
            char *chunk = kp_xmalloc(in.len);
            memcpy(chunk, in.data, in.len);
            size_t used = 0;
            enum kp_http1_status st = kp_http1_feed(&h, chunk, in.len, &used);
            free(chunk);
            if (used > in.len)
                abort();
            if (st == KP_HTTP1_MORE && used != in.len)
                abort(); /* the server would feed the same bytes twice */
            kp_buf_consume(&in, used);
            if (st == KP_HTTP1_ERROR) {
                if (h.error_status != 400 && h.error_status != 413 && h.error_status != 414 &&
                    h.error_status != 431)
                    abort();
                if (!h.error_text)
                    abort();
                done = true;
            } else if (st == KP_HTTP1_REQUEST) {
                use_request(&h.req);
                if (h.req.upgrade || !h.req.keep_alive)
                    done = true; /* the rest is not HTTP, or the connection closes */
                else
                    kp_http1_next(&h);
            } else {
                break;
            }
        }
    }
    kp_buf_release(&in);
    kp_http1_release(&h);
    return 0;
}
