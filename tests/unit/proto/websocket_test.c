/* SPDX-License-Identifier: MIT */
/* websocket_test.c - unit tests for the RFC 6455 opening handshake checks and accept value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proto/websocket.h"

static void test_accept_rfc_sample(void **state)
{
    char out[32];
    /* RFC 6455 section 1.3 */
    assert_int_equal(kp_websocket_accept("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_int_equal(strlen(out), 28);
    /* another key gives another value */
    assert_int_equal(kp_websocket_accept("x3JJHMbDL1EzLkh9GBhXDw==", out), 0);
    assert_string_equal(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk="); /* RFC 6455 section 4.2.2 ex. */
    /* an absurdly long key is refused, not cut */
    char key[200];
    memset(key, 'A', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    assert_int_equal(kp_websocket_accept(key, out), KP_EINVAL);
}

/* A request with the given header pairs (NULL-terminated list). */
static struct kp_http_request make(const char *method, const char *const *pairs)
{
    struct kp_http_request r;
    memset(&r, 0, sizeof(r));
    r.method = method;
    r.url = r.path = "/api/v1/stream";
    r.query = "";
    for (size_t i = 0; pairs[i]; i += 2) {
        r.headers[r.n_headers].name = pairs[i];
        r.headers[r.n_headers].value = pairs[i + 1];
        r.n_headers++;
    }
    return r;
}

static void expect_ok(const char *method, const char *const *pairs)
{
    struct kp_http_request r = make(method, pairs);
    const char *why = NULL;
    assert_int_equal(kp_websocket_check(&r, &why), 0);
}

static void expect_reject(const char *method, const char *const *pairs, const char *needle)
{
    struct kp_http_request r = make(method, pairs);
    const char *why = NULL;
    assert_int_equal(kp_websocket_check(&r, &why), KP_EINVAL);
    assert_non_null(why);
    if (!strstr(why, needle))
        fail_msg("reason '%s' does not mention '%s'", why, needle);
}

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

static void test_check_accepts(void **state)
{
    expect_ok("GET",
              (const char *[]){"Host", "x", "Upgrade", "websocket", "Connection", "Upgrade",
                               "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", KEY, NULL});
    /* tokens are case-insensitive and may be in lists (Firefox sends "keep-alive, Upgrade") */
    expect_ok("GET",
              (const char *[]){"upgrade", "WebSocket", "connection", "keep-alive, Upgrade",
                               "sec-websocket-version", "13", "sec-websocket-key", KEY, NULL});
    expect_ok("GET",
              (const char *[]){"Upgrade", "h2c,websocket", "Connection", "upgrade,close",
                               "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", KEY, NULL});
}

static void test_check_rejects(void **state)
{
    expect_reject("POST",
                  (const char *[]){"Upgrade", "websocket", "Connection", "Upgrade",
                                   "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", KEY, NULL},
                  "GET");
    expect_reject("GET",
                  (const char *[]){"Connection", "Upgrade", "Sec-WebSocket-Version", "13",
                                   "Sec-WebSocket-Key", KEY, NULL},
                  "Upgrade");
    expect_reject("GET",
                  (const char *[]){"Upgrade", "websockets", "Connection", "Upgrade",
                                   "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", KEY, NULL},
                  "Upgrade");
    expect_reject("GET",
                  (const char *[]){"Upgrade", "websocket", "Sec-WebSocket-Version", "13",
                                   "Sec-WebSocket-Key", KEY, NULL},
                  "Connection");
    expect_reject("GET",
                  (const char *[]){"Upgrade", "websocket", "Connection", "keep-alive",
                                   "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", KEY, NULL},
                  "Connection");
    /* "upgraded" is not the "upgrade" token */
    expect_reject("GET",
                  (const char *[]){"Upgrade", "websocket", "Connection", "upgraded",
                                   "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", KEY, NULL},
                  "Connection");
    expect_reject("GET",
                  (const char *[]){"Upgrade", "websocket", "Connection", "Upgrade",
                                   "Sec-WebSocket-Key", KEY, NULL},
                  "Version");
    expect_reject("GET",
                  (const char *[]){"Upgrade", "websocket", "Connection", "Upgrade",
                                   "Sec-WebSocket-Version", "8", "Sec-WebSocket-Key", KEY, NULL},
                  "Version");
    expect_reject("GET",
                  (const char *[]){"Upgrade", "websocket", "Connection", "Upgrade",
                                   "Sec-WebSocket-Version", "13", NULL},
                  "Key");
    static const char *bad_keys[] = {
        "",
        "dGhlIHNhbXBsZSBub25jZQ=",   /* 23 characters */
        "dGhlIHNhbXBsZSBub25jZQ===", /* 25 characters */
        "dGhlIHNhbXBsZSBub25jZQ!!",  /* not base64 */
        "dGhlIHNhbXBsZSBub25jZQ-_",  /* the URL-safe alphabet is not the one */
        "dGhlIHNhbXBsZSBub25jZWFh",  /* 24 characters but 18 bytes */
    };
    for (size_t i = 0; i < KP_ARRAY_LEN(bad_keys); i++)
        expect_reject("GET",
                      (const char *[]){"Upgrade", "websocket", "Connection", "Upgrade",
                                       "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key",
                                       bad_keys[i], NULL},
                      "Key");
}

static void test_check_parsed_request(void **state)
{
    struct kp_http1_limits lim = {.max_header_bytes = 4096, .max_body_bytes = 4096};
    struct kp_http1 h;
    kp_http1_init(&h, &lim);
    const char *req = "GET /api/v1/stream HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    size_t used;
    assert_int_equal(kp_http1_feed(&h, req, strlen(req), &used), KP_HTTP1_REQUEST);
    assert_true(h.req.upgrade);
    const char *why = NULL;
    assert_int_equal(kp_websocket_check(&h.req, &why), 0);
    char out[32];
    assert_int_equal(kp_websocket_accept(kp_http_header(&h.req, "sec-websocket-key"), out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    kp_http1_release(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_rfc_sample),
        cmocka_unit_test(test_check_accepts),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_check_parsed_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
