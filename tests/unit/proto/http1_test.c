/* SPDX-License-Identifier: MIT */
/*
 * http1_test.c - unit tests for the HTTP/1.1 request parser: framing, pipelining, limits and
 * the 4xx they map to, path decoding and query lookup.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proto/http1.h"

static const struct kp_http1_limits limits = {.max_header_bytes = 8192, .max_body_bytes = 1 << 20};

/* Feeds all of s; asserts one complete request that used every byte. */
static void parse_one(struct kp_http1 *h, const char *s)
{
    size_t used = 0;
    assert_int_equal(kp_http1_feed(h, s, strlen(s), &used), KP_HTTP1_REQUEST);
    assert_int_equal(used, strlen(s));
}

/* Feeds s and expects an error with status. */
static void expect_error(const struct kp_http1_limits *lim, const char *s, size_t n, int status)
{
    struct kp_http1 h;
    kp_http1_init(&h, lim);
    size_t used;
    enum kp_http1_status st = kp_http1_feed(&h, s, n, &used);
    if (st != KP_HTTP1_ERROR)
        fail_msg("expected %d, got state %d for '%.60s'", status, (int)st, s);
    assert_int_equal(h.error_status, status);
    assert_non_null(h.error_text);
    /* once failed, the parser stays failed */
    assert_int_equal(kp_http1_feed(&h, "GET / HTTP/1.1\r\n\r\n", 18, &used), KP_HTTP1_ERROR);
    assert_int_equal(used, 0);
    kp_http1_release(&h);
}

static void test_simple_get(void **state)
{
    struct kp_http1 h;
    kp_http1_init(&h, &limits);
    parse_one(&h, "GET /api/v1/conversations?state=open&limit=20 HTTP/1.1\r\n"
                  "Host: kp.example\r\n"
                  "Accept: application/json\r\n"
                  "X-Empty:\r\n"
                  "Cookie: a=b\r\n"
                  "\r\n");
    const struct kp_http_request *r = &h.req;
    assert_string_equal(r->method, "GET");
    assert_string_equal(r->url, "/api/v1/conversations?state=open&limit=20");
    assert_string_equal(r->path, "/api/v1/conversations");
    assert_string_equal(r->query, "state=open&limit=20");
    assert_int_equal(r->n_headers, 4);
    assert_string_equal(r->headers[0].name, "Host");
    assert_string_equal(r->headers[0].value, "kp.example");
    assert_string_equal(kp_http_header(r, "host"), "kp.example");
    assert_string_equal(kp_http_header(r, "ACCEPT"), "application/json");
    assert_string_equal(kp_http_header(r, "x-empty"), "");
    assert_string_equal(kp_http_header(r, "Cookie"), "a=b");
    assert_null(kp_http_header(r, "Content-Type"));
    assert_int_equal(r->body_len, 0);
    assert_string_equal(r->body, "");
    assert_true(r->keep_alive);
    assert_false(r->upgrade);
    assert_int_equal(r->http_minor, 1);
    kp_http1_release(&h);
}

static void test_keep_alive_rules(void **state)
{
    struct kp_http1 h;
    kp_http1_init(&h, &limits);
    parse_one(&h, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_false(h.req.keep_alive);
    assert_string_equal(h.req.path, "/");
    assert_string_equal(h.req.query, "");
    kp_http1_release(&h);
    kp_http1_init(&h, &limits);
    parse_one(&h, "GET / HTTP/1.0\r\n\r\n");
    assert_false(h.req.keep_alive);
    assert_int_equal(h.req.http_minor, 0);
    kp_http1_release(&h);
}

static void test_post_with_body(void **state)
{
    struct kp_http1 h;
    kp_http1_init(&h, &limits);
    const char *body = "{\"text\":\"Hallo\"}";
    char req[256];
    snprintf(req, sizeof(req),
             "POST /api/v1/inboxes/3/messages HTTP/1.1\r\nHost: x\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    /* the header block alone is not a request yet */
    size_t used;
    size_t head_len = strlen(req) - strlen(body);
    assert_int_equal(kp_http1_feed(&h, req, head_len, &used), KP_HTTP1_MORE);
    assert_int_equal(used, head_len);
    assert_int_equal(kp_http1_feed(&h, req + head_len, strlen(body), &used), KP_HTTP1_REQUEST);
    assert_int_equal(used, strlen(body));
    assert_string_equal(h.req.method, "POST");
    assert_string_equal(h.req.path, "/api/v1/inboxes/3/messages");
    assert_int_equal(h.req.body_len, strlen(body));
    assert_string_equal(h.req.body, body);
    assert_string_equal(kp_http_header(&h.req, "content-type"), "application/json");
    kp_http1_release(&h);
}

static void test_chunked_body(void **state)
{
    struct kp_http1 h;
    kp_http1_init(&h, &limits);
    parse_one(&h, "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nHello\r\n"
                  "7;ext=1\r\n, world\r\n"
                  "0\r\nTrailer: ignored\r\n\r\n");
    assert_int_equal(h.req.body_len, 12);
    assert_string_equal(h.req.body, "Hello, world");
    assert_string_equal(kp_http_header(&h.req, "Transfer-Encoding"), "chunked");
    kp_http1_release(&h);
}

static void test_chunked_trailers_grow_head(void **state)
{
    /* trailer fields arrive after the header pointers were set and may move the buffer */
    struct kp_http1 h;
    kp_http1_init(&h, &limits);
    char req[4096];
    char trailer[1500];
    memset(trailer, 't', sizeof(trailer) - 1);
    trailer[sizeof(trailer) - 1] = '\0';
    int n = snprintf(req, sizeof(req),
                     "POST /api/v1/x?y=1 HTTP/1.1\r\nHost: kp\r\nTransfer-Encoding: chunked\r\n"
                     "\r\n3\r\nabc\r\n0\r\nX-Trailer: %s\r\nX-Other: 1\r\n\r\n",
                     trailer);
    size_t used;
    assert_int_equal(kp_http1_feed(&h, req, (size_t)n, &used), KP_HTTP1_REQUEST);
    assert_int_equal(used, (size_t)n);
    assert_string_equal(h.req.url, "/api/v1/x?y=1");
    assert_string_equal(h.req.path, "/api/v1/x");
    assert_string_equal(h.req.query, "y=1");
    assert_string_equal(kp_http_header(&h.req, "host"), "kp");
    assert_string_equal(kp_http_header(&h.req, "transfer-encoding"), "chunked");
    assert_string_equal(h.req.body, "abc");
    kp_http1_release(&h);
}

static void test_pipelined_one_at_a_time(void **state)
{
    struct kp_http1 h;
    kp_http1_init(&h, &limits);
    const char *stream = "GET /first HTTP/1.1\r\nHost: a\r\n\r\n"
                         "POST /second?x=1 HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n\r\nabc"
                         "POST /third HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "2\r\nhi\r\n0\r\n\r\n"
                         "DELETE /fourth HTTP/1.1\r\nHost: d\r\n\r\n";
    static const struct {
        const char *method, *path, *host, *body;
    } expect[] = {
        {"GET", "/first", "a", ""},
        {"POST", "/second", "b", "abc"},
        {"POST", "/third", "c", "hi"},
        {"DELETE", "/fourth", "d", ""},
    };
    size_t off = 0, len = strlen(stream), n = 0;
    while (off < len) {
        size_t used;
        enum kp_http1_status st = kp_http1_feed(&h, stream + off, len - off, &used);
        assert_int_equal(st, KP_HTTP1_REQUEST);
        assert_true(used > 0);
        off += used;
        assert_true(n < KP_ARRAY_LEN(expect));
        assert_string_equal(h.req.method, expect[n].method);
        assert_string_equal(h.req.path, expect[n].path);
        assert_string_equal(kp_http_header(&h.req, "Host"), expect[n].host);
        assert_string_equal(h.req.body, expect[n].body);
        assert_int_equal(h.req.n_headers, n == 0 || n == 3 ? 1 : 2);
        n++;
        /* without kp_http1_next the parser does not go on to the next request */
        kp_http1_next(&h);
    }
    assert_int_equal(n, 4);
    assert_int_equal(off, len);
    kp_http1_release(&h);
}

static void test_bytes_one_at_a_time(void **state)
{
    struct kp_http1 h;
    kp_http1_init(&h, &limits);
    const char *stream = "POST /api/v1/a%20b?q=x%2By HTTP/1.1\r\n"
                         "Host: example.org\r\n"
                         "X-Long-Header-Name: some value with spaces\r\n"
                         "Content-Length: 11\r\n\r\n"
                         "hello world"
                         "GET /two HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n0\r\n\r\n";
    size_t len = strlen(stream), n = 0;
    for (size_t i = 0; i < len; i++) {
        size_t used;
        enum kp_http1_status st = kp_http1_feed(&h, stream + i, 1, &used);
        assert_int_equal(used, 1);
        if (st == KP_HTTP1_MORE)
            continue;
        assert_int_equal(st, KP_HTTP1_REQUEST);
        if (n == 0) {
            assert_string_equal(h.req.method, "POST");
            assert_string_equal(h.req.path, "/api/v1/a b");
            assert_string_equal(h.req.query, "q=x%2By");
            assert_int_equal(h.req.n_headers, 3);
            assert_string_equal(kp_http_header(&h.req, "host"), "example.org");
            assert_string_equal(kp_http_header(&h.req, "x-long-header-name"),
                                "some value with spaces");
            assert_string_equal(h.req.body, "hello world");
            assert_int_equal(i, strlen(stream) - strlen(strstr(stream, "GET")) - 1);
        } else {
            assert_string_equal(h.req.method, "GET");
            assert_string_equal(h.req.path, "/two");
            assert_string_equal(h.req.body, "abc");
            assert_int_equal(i, len - 1);
        }
        n++;
        kp_http1_next(&h);
    }
    assert_int_equal(n, 2);
    kp_http1_release(&h);
}

static void test_upgrade_stops_at_headers(void **state)
{
    struct kp_http1 h;
    kp_http1_init(&h, &limits);
    const char *head = "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    char stream[512];
    size_t hl = strlen(head);
    memcpy(stream, head, hl);
    memcpy(stream + hl, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11); /* a frame */
    size_t used;
    assert_int_equal(kp_http1_feed(&h, stream, hl + 11, &used), KP_HTTP1_REQUEST);
    assert_int_equal(used, hl); /* the frame bytes are left for the WebSocket layer */
    assert_true(h.req.upgrade);
    assert_string_equal(h.req.path, "/api/v1/stream");
    assert_string_equal(kp_http_header(&h.req, "upgrade"), "websocket");
    kp_http1_release(&h);
}

static void test_header_limit_431(void **state)
{
    struct kp_http1_limits small = {.max_header_bytes = 256, .max_body_bytes = 1024};
    char req[2048];
    char filler[600];
    memset(filler, 'a', sizeof(filler) - 1);
    filler[sizeof(filler) - 1] = '\0';
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nX-Big: %s\r\n\r\n", filler);
    expect_error(&small, req, strlen(req), 431);
    /* many small headers add up */
    size_t n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 50; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "H%02d: vvvvvv\r\n", i);
    n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\n");
    expect_error(&small, req, n, 431);
    /* more header fields than the parser keeps */
    struct kp_http1_limits roomy = {.max_header_bytes = 65536, .max_body_bytes = 1024};
    char *many = kp_xmalloc(4096);
    n = (size_t)snprintf(many, 4096, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < KP_HTTP1_MAX_HEADERS + 1; i++)
        n += (size_t)snprintf(many + n, 4096 - n, "H%d: v\r\n", i);
    n += (size_t)snprintf(many + n, 4096 - n, "\r\n");
    expect_error(&roomy, many, n, 431);
    /* exactly the maximum number of fields is fine */
    n = (size_t)snprintf(many, 4096, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < KP_HTTP1_MAX_HEADERS; i++)
        n += (size_t)snprintf(many + n, 4096 - n, "H%d: v%d\r\n", i, i);
    n += (size_t)snprintf(many + n, 4096 - n, "\r\n");
    struct kp_http1 h;
    kp_http1_init(&h, &roomy);
    size_t used;
    assert_int_equal(kp_http1_feed(&h, many, n, &used), KP_HTTP1_REQUEST);
    assert_int_equal(h.req.n_headers, KP_HTTP1_MAX_HEADERS);
    assert_string_equal(kp_http_header(&h.req, "h63"), "v63");
    kp_http1_release(&h);
    free(many);
}

static void test_request_near_header_limit(void **state)
{
    /* a long target and headers that together stay under the limit are accepted */
    struct kp_http1_limits small = {.max_header_bytes = 256, .max_body_bytes = 1024};
    char url[201], req[512];
    url[0] = '/';
    memset(url + 1, 'p', sizeof(url) - 2);
    url[sizeof(url) - 1] = '\0';
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\nX-A: 0123\r\n\r\n", url);
    assert_true(n < 256);
    struct kp_http1 h;
    kp_http1_init(&h, &small);
    size_t used;
    enum kp_http1_status st = kp_http1_feed(&h, req, (size_t)n, &used);
    if (st != KP_HTTP1_REQUEST)
        fail_msg("a %d-byte request under a 256-byte limit got %d", n, h.error_status);
    assert_string_equal(h.req.path, url);
    assert_string_equal(kp_http_header(&h.req, "x-a"), "0123");
    kp_http1_release(&h);
}

static void test_url_limit_414(void **state)
{
    struct kp_http1_limits small = {.max_header_bytes = 256, .max_body_bytes = 1024};
    char req[1024];
    char path[700];
    memset(path, 'x', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    int n = snprintf(req, sizeof(req), "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    expect_error(&small, req, (size_t)n, 414);
}

static void test_body_limit_413(void **state)
{
    struct kp_http1_limits small = {.max_header_bytes = 1024, .max_body_bytes = 16};
    /* announced by Content-Length: refused before the body arrives */
    const char *big = "POST /x HTTP/1.1\r\nContent-Length: 17\r\n\r\n";
    expect_error(&small, big, strlen(big), 413);
    /* chunked bodies are counted as they arrive */
    const char *chunked = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "a\r\n0123456789\r\n7\r\nabcdefg\r\n0\r\n\r\n";
    expect_error(&small, chunked, strlen(chunked), 413);
    /* exactly the limit is accepted */
    struct kp_http1 h;
    kp_http1_init(&h, &small);
    parse_one(&h, "POST /x HTTP/1.1\r\nContent-Length: 16\r\n\r\n0123456789abcdef");
    assert_int_equal(h.req.body_len, 16);
    kp_http1_next(&h);
    parse_one(&h, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n");
    assert_string_equal(h.req.body, "0123456789abcdef");
    kp_http1_release(&h);
}

static void test_malformed_400(void **state)
{
    static const char *bad[] = {
        "GET / HTTP/1.1\r\nHost x\r\n\r\n",                    /* header without colon */
        "G@T / HTTP/1.1\r\n\r\n",                              /* bad method */
        "GET /a b HTTP/1.1\r\n\r\n",                           /* space in target */
        "GET http://example.org/ HTTP/1.1\r\nHost: x\r\n\r\n", /* absolute-form */
        "GET * HTTP/1.1\r\n\r\n",                              /* asterisk-form */
        "GET /%zz HTTP/1.1\r\n\r\n",                           /* bad escape */
        "GET /%4 HTTP/1.1\r\n\r\n",                            /* short escape */
        "GET /a%00b HTTP/1.1\r\n\r\n",                         /* NUL in path */
        "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",        /* bad length */
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* TLS to a plain port */
    };
    for (size_t i = 0; i < KP_ARRAY_LEN(bad); i++)
        expect_error(&limits, bad[i], strlen(bad[i]), 400);
}

static void test_path_decoding(void **state)
{
    struct kp_http1 h;
    kp_http1_init(&h, &limits);
    parse_one(&h, "GET /api/v1/contacts/J%C3%BCrgen%2Fx+y?q=a%26b#frag HTTP/1.1\r\n\r\n");
    assert_string_equal(h.req.path, "/api/v1/contacts/Jürgen/x+y"); /* '+' stays in paths */
    assert_string_equal(h.req.url, "/api/v1/contacts/J%C3%BCrgen%2Fx+y?q=a%26b#frag");
    kp_http1_next(&h);
    parse_one(&h, "GET /x#only-fragment HTTP/1.1\r\n\r\n");
    assert_string_equal(h.req.path, "/x");
    assert_string_equal(h.req.query, "");
    kp_http1_release(&h);

    char s[] = "%41%62c%2f%2F";
    assert_int_equal(kp_http_unescape(s), 5);
    assert_string_equal(s, "Abc//");
    char bad1[] = "%g0", bad2[] = "abc%", bad3[] = "%00";
    assert_int_equal(kp_http_unescape(bad1), -1);
    assert_int_equal(kp_http_unescape(bad2), -1);
    assert_int_equal(kp_http_unescape(bad3), -1);
}

static void test_query_lookup(void **state)
{
    char out[32];
    const char *q = "state=open&q=caf%C3%A9+au+lait&limit=20&flag&empty=&ab=1&a=2&bad=%zz";
    assert_int_equal(kp_http_query(q, "state", out, sizeof(out)), 4);
    assert_string_equal(out, "open");
    assert_int_equal(kp_http_query(q, "q", out, sizeof(out)), 13);
    assert_string_equal(out, "café au lait");
    assert_int_equal(kp_http_query(q, "limit", out, sizeof(out)), 2);
    assert_string_equal(out, "20");
    assert_int_equal(kp_http_query(q, "flag", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(kp_http_query(q, "empty", out, sizeof(out)), 0);
    /* "a" must not match the "ab" key */
    assert_int_equal(kp_http_query(q, "a", out, sizeof(out)), 1);
    assert_string_equal(out, "2");
    assert_int_equal(kp_http_query(q, "missing", out, sizeof(out)), -1);
    assert_int_equal(kp_http_query(q, "stat", out, sizeof(out)), -1);
    assert_int_equal(kp_http_query(q, "bad", out, sizeof(out)), -2); /* bad escape */
    assert_int_equal(kp_http_query("", "a", out, sizeof(out)), -1);
    /* a value that does not fit (with its NUL) is refused, not cut */
    assert_int_equal(kp_http_query("k=12345", "k", out, 5), -2);
    assert_int_equal(kp_http_query("k=12345", "k", out, 6), 5);
    assert_string_equal(out, "12345");
    /* an encoded '&' stays inside its value */
    assert_int_equal(kp_http_query("x=a%26b&y=2", "x", out, sizeof(out)), 3);
    assert_string_equal(out, "a&b");
}

static void test_query_of_parsed_request(void **state)
{
    struct kp_http1 h;
    kp_http1_init(&h, &limits);
    parse_one(&h, "GET /api/v1/search?q=M%C3%BCller%20GmbH&limit=5 HTTP/1.1\r\n\r\n");
    char out[64];
    assert_int_equal(kp_http_query(h.req.query, "q", out, sizeof(out)), 12);
    assert_string_equal(out, "Müller GmbH");
    assert_int_equal(kp_http_query(h.req.query, "limit", out, sizeof(out)), 1);
    assert_string_equal(out, "5");
    kp_http1_release(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_post_with_body),
        cmocka_unit_test(test_chunked_body),
        cmocka_unit_test(test_chunked_trailers_grow_head),
        cmocka_unit_test(test_pipelined_one_at_a_time),
        cmocka_unit_test(test_bytes_one_at_a_time),
        cmocka_unit_test(test_upgrade_stops_at_headers),
        cmocka_unit_test(test_header_limit_431),
        cmocka_unit_test(test_request_near_header_limit),
        cmocka_unit_test(test_url_limit_414),
        cmocka_unit_test(test_body_limit_413),
        cmocka_unit_test(test_malformed_400),
        cmocka_unit_test(test_path_decoding),
        cmocka_unit_test(test_query_lookup),
        cmocka_unit_test(test_query_of_parsed_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
