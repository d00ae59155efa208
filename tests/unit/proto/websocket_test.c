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

/* A client frame: header, mask, payload masked with it. */
static size_t client_frame(uint8_t *out, int first_byte, const char *payload, size_t len)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t pos = 0;
    out[pos++] = (uint8_t)first_byte;
    if (len < 126) {
        out[pos++] = (uint8_t)(0x80 | len);
    } else {
        out[pos++] = 0x80 | 126;
        out[pos++] = (uint8_t)(len >> 8);
        out[pos++] = (uint8_t)len;
    }
    memcpy(out + pos, mask, 4);
    pos += 4;
    for (size_t i = 0; i < len; i++)
        out[pos + i] = (uint8_t)payload[i] ^ mask[i & 3];
    return pos + len;
}

static void test_frame_rfc_sample(void **state)
{
    /* RFC 6455 5.7: a single-frame masked text message "Hello" */
    uint8_t f[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    struct kp_ws_frame fr;
    for (size_t n = 0; n < sizeof(f); n++)
        assert_int_equal(kp_websocket_frame(f, n, 1024, &fr), 0); /* incomplete: wait */
    assert_int_equal(kp_websocket_frame(f, sizeof(f), 1024, &fr), (long)sizeof(f));
    assert_int_equal(fr.opcode, KP_WS_TEXT);
    assert_true(fr.fin);
    assert_int_equal(fr.len, 5);
    assert_memory_equal(fr.payload, "Hello", 5);
}

static void test_frame_lengths_and_fragments(void **state)
{
    static char big[300];
    memset(big, 'x', sizeof(big));
    uint8_t buf[400];
    size_t n = client_frame(buf, 0x01, big, sizeof(big)); /* text, not final: 16-bit length */
    struct kp_ws_frame fr;
    assert_int_equal(kp_websocket_frame(buf, n, 1024, &fr), (long)n);
    assert_false(fr.fin);
    assert_int_equal(fr.len, 300);
    assert_int_equal(kp_websocket_frame(buf, n, 299, &fr), -KP_WS_TOO_BIG);
    n = client_frame(buf, 0x80, "end", 3); /* final continuation */
    assert_int_equal(kp_websocket_frame(buf, n, 1024, &fr), (long)n);
    assert_int_equal(fr.opcode, KP_WS_CONTINUATION);
    assert_true(fr.fin);
    n = client_frame(buf, 0x89, "", 0); /* ping without payload */
    assert_int_equal(kp_websocket_frame(buf, n, 1024, &fr), 6);
    assert_int_equal(fr.opcode, KP_WS_PING);
    assert_int_equal(fr.len, 0);
}

static void test_frame_rejects(void **state)
{
    struct kp_ws_frame fr;
    uint8_t unmasked[] = {0x81, 0x02, 'h', 'i'};
    assert_int_equal(kp_websocket_frame(unmasked, sizeof(unmasked), 1024, &fr),
                     -KP_WS_PROTOCOL_ERROR);
    uint8_t buf[200];
    size_t n = client_frame(buf, 0xC1, "x", 1); /* RSV1 set: no extensions were agreed */
    assert_int_equal(kp_websocket_frame(buf, n, 1024, &fr), -KP_WS_PROTOCOL_ERROR);
    n = client_frame(buf, 0x83, "x", 1); /* reserved opcode */
    assert_int_equal(kp_websocket_frame(buf, n, 1024, &fr), -KP_WS_PROTOCOL_ERROR);
    n = client_frame(buf, 0x09, "x", 1); /* fragmented ping */
    assert_int_equal(kp_websocket_frame(buf, n, 1024, &fr), -KP_WS_PROTOCOL_ERROR);
    static char long_ping[126];
    n = client_frame(buf, 0x89, long_ping, sizeof(long_ping)); /* control frame over 125 */
    assert_int_equal(kp_websocket_frame(buf, n, 1024, &fr), -KP_WS_PROTOCOL_ERROR);
    uint8_t huge[] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}; /* 64-bit MSB set */
    assert_int_equal(kp_websocket_frame(huge, sizeof(huge), 1024, &fr), -KP_WS_PROTOCOL_ERROR);
}

static void test_frame_header(void **state)
{
    uint8_t h[10];
    assert_int_equal(kp_websocket_header(h, KP_WS_TEXT, 5), 2);
    assert_int_equal(h[0], 0x81);
    assert_int_equal(h[1], 5);
    assert_int_equal(kp_websocket_header(h, KP_WS_TEXT, 126), 4);
    assert_int_equal(h[1], 126);
    assert_int_equal(h[2] << 8 | h[3], 126);
    assert_int_equal(kp_websocket_header(h, KP_WS_BINARY, 70000), 10);
    assert_int_equal(h[0], 0x82);
    assert_int_equal(h[1], 127);
    assert_int_equal(h[7] << 16 | h[8] << 8 | h[9], 70000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_rfc_sample),
        cmocka_unit_test(test_check_accepts),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_check_parsed_request),
        cmocka_unit_test(test_frame_rfc_sample),
        cmocka_unit_test(test_frame_lengths_and_fragments),
        cmocka_unit_test(test_frame_rejects),
        cmocka_unit_test(test_frame_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
