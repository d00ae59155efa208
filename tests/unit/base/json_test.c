/* SPDX-License-Identifier: MIT */
/* json_test.c - unit tests for request-body JSON: parse limits, UTF-8 checks, field checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/json.h"

/* Parses s (strlen) and returns the result; *out is decref'd by the caller. */
static int parse(const char *s, int depth, json_t **out, struct kp_json_error *err)
{
    memset(err, 0, sizeof(*err));
    return kp_json_parse_body(s, strlen(s), depth, out, err);
}

static void expect_refused(const char *s, size_t n, int depth, const char *code)
{
    struct kp_json_error err = {0};
    json_t *v = (json_t *)1;
    assert_int_equal(kp_json_parse_body(s, n, depth, &v, &err), KP_EINVAL);
    assert_null(v);
    assert_non_null(err.code);
    assert_string_equal(err.code, code);
    assert_true(err.message[0] != '\0');
}

static void test_parse_valid_object(void **state)
{
    json_t *v;
    struct kp_json_error err;
    assert_int_equal(parse("{\"text\":\"Grüße, 👋\",\"n\":3,\"a\":[1,{\"b\":null}]}", 8, &v, &err),
                     0);
    assert_non_null(v);
    assert_true(json_is_object(v));
    assert_string_equal(kp_json_str(v, "text"), "Grüße, 👋");
    assert_int_equal(kp_json_int(v, "n", -1), 3);
    assert_int_equal(kp_json_int(v, "missing", -1), -1);
    assert_int_equal(kp_json_int(v, "text", -7), -7); /* wrong type gives the default */
    assert_null(kp_json_str(v, "n"));
    assert_null(kp_json_str(v, "missing"));
    json_decref(v);
    /* escapes, including a valid surrogate pair, decode */
    assert_int_equal(parse("{\"s\":\"a\\n\\\"\\u00e9\\ud83d\\ude00\"}", 8, &v, &err), 0);
    assert_string_equal(kp_json_str(v, "s"), "a\n\"\xc3\xa9\xf0\x9f\x98\x80");
    json_decref(v);
}

static void test_parse_empty_and_malformed(void **state)
{
    expect_refused("", 0, 8, "invalid_json");
    expect_refused("{", 1, 8, "invalid_json");
    expect_refused("{\"a\":}", 6, 8, "invalid_json");
    expect_refused("{\"a\":1,}", 8, 8, "invalid_json");
    expect_refused("{'a':1}", 7, 8, "invalid_json");
    expect_refused("{\"a\":1} x", 9, 8, "invalid_json");
    /* an escaped NUL and a lone surrogate escape are refused by the parser */
    expect_refused("{\"a\":\"x\\u0000y\"}", 16, 8, "invalid_json");
    expect_refused("{\"a\":\"\\ud800\"}", 14, 8, "invalid_json");
}

static void test_parse_depth_limit(void **state)
{
    json_t *v;
    struct kp_json_error err;
    /* depth 3 exactly is accepted */
    assert_int_equal(parse("{\"a\":{\"b\":[1]}}", 3, &v, &err), 0);
    json_decref(v);
    expect_refused("{\"a\":{\"b\":[[1]]}}", 17, 3, "too_deep");
    /* brackets inside strings (even after escaped quotes) do not count */
    assert_int_equal(parse("{\"a\":\"[[[[{{{{\\\"[[[[\"}", 2, &v, &err), 0);
    json_decref(v);
    /* a deep document is refused before it reaches the recursive parser */
    enum { DEEP = 100000 };
    char *deep = kp_xmalloc(2 * DEEP + 16);
    size_t n = 0;
    deep[n++] = '{';
    memcpy(deep + n, "\"a\":", 4);
    n += 4;
    for (int i = 0; i < DEEP; i++)
        deep[n++] = '[';
    for (int i = 0; i < DEEP; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    struct kp_json_error e2 = {0};
    assert_int_equal(kp_json_parse_body(deep, n, 32, &v, &e2), KP_EINVAL);
    assert_string_equal(e2.code, "too_deep");
    assert_non_null(strstr(e2.message, "32"));
    free(deep);
}

static void test_parse_invalid_utf8(void **state)
{
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {
        {"{\"a\":\"\x80\"}", 9},                  /* lone continuation byte */
        {"{\"a\":\"\xc3\"}", 9},                  /* truncated 2-byte sequence */
        {"{\"a\":\"\xe2\x82\"}", 10},             /* truncated 3-byte sequence */
        {"{\"a\":\"\xc0\xaf\"}", 10},             /* overlong '/' */
        {"{\"a\":\"\xc1\xbf\"}", 10},             /* overlong 2-byte */
        {"{\"a\":\"\xe0\x80\xaf\"}", 11},         /* overlong 3-byte '/' */
        {"{\"a\":\"\xf0\x80\x80\xaf\"}", 12},     /* overlong 4-byte '/' */
        {"{\"a\":\"\xed\xa0\x80\"}", 11},         /* UTF-16 surrogate U+D800 */
        {"{\"a\":\"\xed\xbf\xbf\"}", 11},         /* UTF-16 surrogate U+DFFF */
        {"{\"a\":\"\xf4\x90\x80\x80\"}", 12},     /* past U+10FFFF */
        {"{\"a\":\"\xf8\x88\x80\x80\x80\"}", 13}, /* 5-byte form */
        {"{\"a\":\"\xff\"}", 9},                  /* never valid */
        {"{\"a\":\"\xe2\x28\xa1\"}", 11},         /* bad continuation */
    };
    for (size_t i = 0; i < KP_ARRAY_LEN(bad); i++) {
        assert_int_equal(kp_json_check_utf8(bad[i].s, bad[i].n), KP_EINVAL);
        expect_refused(bad[i].s, bad[i].n, 8, "invalid_utf8");
    }
    /* a raw NUL byte is refused too (as malformed JSON) */
    assert_int_equal(kp_json_check_utf8("x\0y", 3), KP_EINVAL);
    expect_refused("{\"a\":\"x\0y\"}", 11, 8, "invalid_json");
    /* the boundaries that are valid */
    assert_int_equal(kp_json_check_utf8("\xc2\x80", 2), 0);         /* U+0080 */
    assert_int_equal(kp_json_check_utf8("\xe0\xa0\x80", 3), 0);     /* U+0800 */
    assert_int_equal(kp_json_check_utf8("\xed\x9f\xbf", 3), 0);     /* U+D7FF */
    assert_int_equal(kp_json_check_utf8("\xee\x80\x80", 3), 0);     /* U+E000 */
    assert_int_equal(kp_json_check_utf8("\xf0\x90\x80\x80", 4), 0); /* U+10000 */
    assert_int_equal(kp_json_check_utf8("\xf4\x8f\xbf\xbf", 4), 0); /* U+10FFFF */
    assert_int_equal(kp_json_check_utf8("", 0), 0);
}

static void test_parse_top_level_must_be_object(void **state)
{
    const char *docs[] = {"[1,2]", "\"text\"", "42", "null", "true", "[]"};
    for (size_t i = 0; i < KP_ARRAY_LEN(docs); i++)
        expect_refused(docs[i], strlen(docs[i]), 8, "invalid_json");
    struct kp_json_error err = {0};
    json_t *v;
    assert_int_equal(kp_json_parse_body("[1]", 3, 8, &v, &err), KP_EINVAL);
    assert_non_null(strstr(err.message, "object"));
}

static void test_parse_duplicate_keys(void **state)
{
    expect_refused("{\"a\":1,\"a\":2}", 13, 8, "invalid_json");
    expect_refused("{\"x\":{\"b\":1,\"b\":1}}", 19, 8, "invalid_json");
    json_t *v;
    struct kp_json_error err;
    assert_int_equal(parse("{\"a\":1,\"A\":2}", 8, &v, &err), 0); /* keys are case-sensitive */
    json_decref(v);
}

static const struct kp_json_field ingest_fields[] = {
    {"sender", KP_JSON_OBJECT, true, false, 0},  {"text", KP_JSON_STRING, true, false, 10},
    {"subject", KP_JSON_STRING, false, true, 5}, {"priority", KP_JSON_INT, false, false, 0},
    {"urgent", KP_JSON_BOOL, false, false, 0},   {"attachments", KP_JSON_ARRAY, false, false, 2},
};

/* Checks doc against ingest_fields; returns the error (code NULL when accepted). */
static struct kp_json_error check(const char *doc, bool reject_unknown)
{
    struct kp_json_error err = {0};
    json_t *v;
    struct kp_json_error perr;
    assert_int_equal(parse(doc, 8, &v, &perr), 0);
    int rc = kp_json_check(v, ingest_fields, KP_ARRAY_LEN(ingest_fields), reject_unknown, &err);
    json_decref(v);
    if (rc == 0)
        assert_null(err.code);
    else
        assert_int_equal(rc, KP_EINVAL);
    return err;
}

static void expect_check_err(const char *doc, bool reject_unknown, const char *code,
                             const char *field)
{
    struct kp_json_error err = check(doc, reject_unknown);
    assert_non_null(err.code);
    assert_string_equal(err.code, code);
    assert_string_equal(err.field, field);
    assert_non_null(strstr(err.message, field));
}

static void test_check_accepts(void **state)
{
    struct kp_json_error err;
    err = check("{\"sender\":{},\"text\":\"hi\"}", true);
    assert_null(err.code);
    err = check("{\"sender\":{\"email\":\"a@b\"},\"text\":\"0123456789\",\"subject\":null,"
                "\"priority\":3,\"urgent\":false,\"attachments\":[1,2]}",
                true);
    assert_null(err.code);
    /* unknown keys pass when not rejected */
    err = check("{\"sender\":{},\"text\":\"hi\",\"extra\":1}", false);
    assert_null(err.code);
    /* max_len counts bytes: 5 two-byte characters are 10 bytes */
    err = check("{\"sender\":{},\"text\":\"ééééé\"}", true);
    assert_null(err.code);
}

static void test_check_missing(void **state)
{
    expect_check_err("{\"text\":\"hi\"}", true, "missing_field", "sender");
    expect_check_err("{\"sender\":{}}", true, "missing_field", "text");
    expect_check_err("{\"sender\":null,\"text\":\"hi\"}", true, "missing_field", "sender");
}

static void test_check_wrong_type(void **state)
{
    expect_check_err("{\"sender\":\"bob\",\"text\":\"hi\"}", true, "wrong_type", "sender");
    expect_check_err("{\"sender\":{},\"text\":42}", true, "wrong_type", "text");
    expect_check_err("{\"sender\":{},\"text\":\"hi\",\"priority\":\"3\"}", true, "wrong_type",
                     "priority");
    expect_check_err("{\"sender\":{},\"text\":\"hi\",\"priority\":1.5}", true, "wrong_type",
                     "priority");
    expect_check_err("{\"sender\":{},\"text\":\"hi\",\"urgent\":1}", true, "wrong_type", "urgent");
    expect_check_err("{\"sender\":{},\"text\":\"hi\",\"attachments\":{}}", true, "wrong_type",
                     "attachments");
    /* null is only allowed for nullable fields */
    expect_check_err("{\"sender\":{},\"text\":\"hi\",\"priority\":null}", true, "wrong_type",
                     "priority");
    struct kp_json_error err = check("{\"sender\":[],\"text\":\"hi\"}", true);
    assert_non_null(strstr(err.message, "object"));
}

static void test_check_too_long(void **state)
{
    expect_check_err("{\"sender\":{},\"text\":\"0123456789a\"}", true, "too_long", "text");
    expect_check_err("{\"sender\":{},\"text\":\"ééééé.\"}", true, "too_long", "text");
    expect_check_err("{\"sender\":{},\"text\":\"x\",\"subject\":\"123456\"}", true, "too_long",
                     "subject");
    expect_check_err("{\"sender\":{},\"text\":\"x\",\"attachments\":[1,2,3]}", true, "too_long",
                     "attachments");
}

static void test_check_unknown_field(void **state)
{
    expect_check_err("{\"sender\":{},\"text\":\"hi\",\"colour\":\"red\"}", true, "unknown_field",
                     "colour");
    /* a very long unknown key is cut to fit the error without overflowing */
    char doc[400];
    char key[201];
    memset(key, 'k', 200);
    key[200] = '\0';
    snprintf(doc, sizeof(doc), "{\"sender\":{},\"text\":\"hi\",\"%s\":1}", key);
    struct kp_json_error err = check(doc, true);
    assert_string_equal(err.code, "unknown_field");
    assert_int_equal(strlen(err.field), sizeof(err.field) - 1);
    assert_memory_equal(err.field, key, sizeof(err.field) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid_object),
        cmocka_unit_test(test_parse_empty_and_malformed),
        cmocka_unit_test(test_parse_depth_limit),
        cmocka_unit_test(test_parse_invalid_utf8),
        cmocka_unit_test(test_parse_top_level_must_be_object),
        cmocka_unit_test(test_parse_duplicate_keys),
        cmocka_unit_test(test_check_accepts),
        cmocka_unit_test(test_check_missing),
        cmocka_unit_test(test_check_wrong_type),
        cmocka_unit_test(test_check_too_long),
        cmocka_unit_test(test_check_unknown_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
