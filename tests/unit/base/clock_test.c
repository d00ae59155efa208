/* SPDX-License-Identifier: MIT */
/* clock_test.c - unit tests for wall-clock helpers: ISO 8601 formatting and parsing (UTC). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/clock.h"

static void test_format_known_values(void **state)
{
    char out[32];
    kp_clock_iso8601(0, out, sizeof(out));
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    kp_clock_iso8601(1795801458123, out, sizeof(out));
    assert_string_equal(out, "2026-11-27T17:44:18.123Z");
    kp_clock_iso8601(951782400007, out, sizeof(out)); /* leap day 2000 */
    assert_string_equal(out, "2000-02-29T00:00:00.007Z");
    assert_int_equal(strlen(out), 24);
    /* before 1970 the fraction still counts forward from the second */
    kp_clock_iso8601(-1, out, sizeof(out));
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    kp_clock_iso8601(-315619199500, out, sizeof(out));
    assert_string_equal(out, "1960-01-01T00:00:00.500Z");
}

static void test_parse_known_values(void **state)
{
    int64_t ms = -1;
    assert_int_equal(kp_clock_parse_iso8601("2026-11-27T17:44:18.123Z", &ms), 0);
    assert_int_equal(ms, 1795801458123);
    assert_int_equal(kp_clock_parse_iso8601("2026-11-27T17:44:18Z", &ms), 0);
    assert_int_equal(ms, 1795801458000);
    assert_int_equal(kp_clock_parse_iso8601("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    /* fractions shorter than 3 digits scale up, longer ones are cut */
    assert_int_equal(kp_clock_parse_iso8601("2026-11-27T17:44:18.5Z", &ms), 0);
    assert_int_equal(ms, 1795801458500);
    assert_int_equal(kp_clock_parse_iso8601("2026-11-27T17:44:18.12Z", &ms), 0);
    assert_int_equal(ms, 1795801458120);
    assert_int_equal(kp_clock_parse_iso8601("2026-11-27T17:44:18.123999Z", &ms), 0);
    assert_int_equal(ms, 1795801458123);
}

static void test_round_trip(void **state)
{
    static const int64_t values[] = {-1,
                                     -1500,
                                     0,
                                     1,
                                     999,
                                     1000,
                                     86399999,
                                     86400000,
                                     951782400007,
                                     1795801458123,
                                     4102444799999,
                                     1700000000001,
                                     253402300799999};
    for (size_t i = 0; i < KP_ARRAY_LEN(values); i++) {
        char out[32];
        int64_t back = -1;
        kp_clock_iso8601(values[i], out, sizeof(out));
        assert_int_equal(kp_clock_parse_iso8601(out, &back), 0);
        assert_int_equal(back, values[i]);
    }
    /* and the current time, which the store writes on every row */
    int64_t now = kp_clock_now_ms(), back = 0;
    char out[32];
    kp_clock_iso8601(now, out, sizeof(out));
    assert_int_equal(kp_clock_parse_iso8601(out, &back), 0);
    assert_int_equal(back, now);
}

static void test_parse_invalid(void **state)
{
    static const char *bad[] = {
        "",
        "garbage",
        "2026-11-27",
        "2026-11-27T17:44",
        "2026-11-27T17:44:18",          /* no zone */
        "2026-11-27T17:44:18+01:00",    /* offsets are not accepted, only Z */
        "2026-11-27T17:44:18.123",      /* no zone */
        "2026-11-27T17:44:18.123Zjunk", /* trailing bytes */
        "2026-11-27 17:44:18Z",         /* space instead of T */
        "2026-13-01T00:00:00Z",         /* month 13 */
        "2026-00-01T00:00:00Z",         /* month 0 */
        "2026-11-00T00:00:00Z",         /* day 0 */
        "2026-11-32T00:00:00Z",         /* day 32 */
        "2026-11-27T24:00:00Z",         /* hour 24 */
        "2026-11-27T17:60:00Z",         /* minute 60 */
        "2026-11-27T17:44:61Z",         /* second 61 */
        "2026-11-27T17:44:18z",         /* lowercase z */
    };
    for (size_t i = 0; i < KP_ARRAY_LEN(bad); i++) {
        int64_t ms = 42;
        if (kp_clock_parse_iso8601(bad[i], &ms) != KP_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(ms, 42); /* untouched on failure */
    }
}

static void test_clocks_advance(void **state)
{
    int64_t a = kp_clock_now_ms();
    assert_true(a > 1700000000000); /* after November 2023 */
    uint64_t m1 = kp_clock_mono_ns();
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    uint64_t m2 = kp_clock_mono_ns();
    assert_true(m2 - m1 >= 2000000);
    assert_true(kp_clock_now_ms() >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_known_values), cmocka_unit_test(test_parse_known_values),
        cmocka_unit_test(test_round_trip),          cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_clocks_advance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
