/* SPDX-License-Identifier: MIT */
/* buf_test.c - unit tests for the capped byte buffer: cap enforcement, consume, printf growth. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/buf.h"

static void test_append_and_terminate(void **state)
{
    struct kp_buf b;
    kp_buf_init(&b, 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(kp_buf_append(&b, "abc", 3), 0);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    assert_int_equal(kp_buf_puts(&b, "def"), 0);
    assert_string_equal(b.data, "abcdef");
    /* binary data with a NUL inside keeps its length */
    assert_int_equal(kp_buf_append(&b, "\0z", 2), 0);
    assert_int_equal(b.len, 8);
    assert_int_equal(b.data[6], '\0');
    assert_int_equal(b.data[7], 'z');
    assert_int_equal(b.data[8], '\0');
    /* an empty append still leaves a terminated buffer */
    struct kp_buf e;
    kp_buf_init(&e, 0);
    assert_int_equal(kp_buf_append(&e, "", 0), 0);
    assert_non_null(e.data);
    assert_string_equal(e.data, "");
    kp_buf_release(&e);
    kp_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_cap_enforced(void **state)
{
    struct kp_buf b;
    kp_buf_init(&b, 10);
    assert_int_equal(kp_buf_append(&b, "0123456789", 10), 0); /* exactly the cap fits */
    assert_int_equal(kp_buf_append(&b, "x", 1), KP_ETOOBIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789"); /* unchanged after the refusal */
    assert_int_equal(kp_buf_puts(&b, "y"), KP_ETOOBIG);
    assert_int_equal(kp_buf_printf(&b, "%d", 1), KP_ETOOBIG);
    assert_int_equal(b.len, 10);
    kp_buf_release(&b);

    kp_buf_init(&b, 10);
    assert_int_equal(kp_buf_append(&b, "0123", 4), 0);
    assert_int_equal(kp_buf_append(&b, "0123456", 7), KP_ETOOBIG); /* 11 > 10 */
    assert_int_equal(b.len, 4);
    assert_string_equal(b.data, "0123");
    assert_int_equal(kp_buf_append(&b, "012345", 6), 0);
    assert_int_equal(b.len, 10);
    /* a length that would overflow size_t arithmetic is refused too */
    assert_int_equal(kp_buf_append(&b, "x", SIZE_MAX), KP_ETOOBIG);
    assert_int_equal(b.len, 10);
    kp_buf_release(&b);
}

static void test_reset_keeps_cap(void **state)
{
    struct kp_buf b;
    kp_buf_init(&b, 4);
    assert_int_equal(kp_buf_puts(&b, "abcd"), 0);
    kp_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(kp_buf_puts(&b, "wxyz"), 0);
    assert_int_equal(kp_buf_puts(&b, "!"), KP_ETOOBIG);
    kp_buf_release(&b);
}

static void test_consume(void **state)
{
    struct kp_buf b;
    kp_buf_init(&b, 0);
    assert_int_equal(kp_buf_puts(&b, "GET / HTTP/1.1\r\n"), 0);
    kp_buf_consume(&b, 4);
    assert_int_equal(b.len, 12);
    assert_string_equal(b.data, "/ HTTP/1.1\r\n");
    kp_buf_consume(&b, 0);
    assert_string_equal(b.data, "/ HTTP/1.1\r\n");
    kp_buf_consume(&b, 12);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(kp_buf_puts(&b, "abc"), 0);
    kp_buf_consume(&b, 1000); /* more than held empties the buffer */
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    /* consuming frees room under the cap */
    kp_buf_release(&b);
    kp_buf_init(&b, 6);
    assert_int_equal(kp_buf_puts(&b, "abcdef"), 0);
    assert_int_equal(kp_buf_puts(&b, "g"), KP_ETOOBIG);
    kp_buf_consume(&b, 2);
    assert_int_equal(kp_buf_puts(&b, "gh"), 0);
    assert_string_equal(b.data, "cdefgh");
    kp_buf_release(&b);
}

static void test_printf_small_and_growing(void **state)
{
    struct kp_buf b;
    kp_buf_init(&b, 0);
    assert_int_equal(kp_buf_printf(&b, "id=%d name=%s", 42, "anna"), 0);
    assert_string_equal(b.data, "id=42 name=anna");
    /* longer than the 256-byte stack buffer used for the first try */
    char big[1001];
    memset(big, 'q', 1000);
    big[1000] = '\0';
    assert_int_equal(kp_buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, 15 + 1002);
    assert_int_equal(b.data[15], '[');
    assert_int_equal(b.data[16], 'q');
    assert_int_equal(b.data[1015], 'q');
    assert_int_equal(b.data[1016], ']');
    assert_int_equal(b.data[1017], '\0');
    assert_true(b.alloc > b.len);
    /* many appends grow the buffer geometrically and keep the contents */
    for (int i = 0; i < 2000; i++)
        assert_int_equal(kp_buf_printf(&b, "%04d", i % 10000), 0);
    assert_int_equal(b.len, 1017 + 8000);
    assert_memory_equal(b.data + 1017, "00000001", 8);
    assert_memory_equal(b.data + b.len - 4, "1999", 4);
    kp_buf_release(&b);
}

static void test_printf_cap(void **state)
{
    struct kp_buf b;
    kp_buf_init(&b, 300);
    char big[301];
    memset(big, 'z', 300);
    big[300] = '\0';
    /* 300 + 1 bytes exceeds the cap on the large path */
    assert_int_equal(kp_buf_printf(&b, "%s!", big), KP_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(kp_buf_printf(&b, "%s", big), 0);
    assert_int_equal(b.len, 300);
    assert_int_equal(b.data[300], '\0');
    kp_buf_release(&b);
}

static void test_fixed_never_grows(void **state)
{
    (void)state;
    char mem[8];
    struct kp_buf b;
    kp_buf_init_fixed(&b, mem, sizeof(mem));
    assert_int_equal(kp_buf_append(&b, "abc", 3), 0);
    assert_int_equal(kp_buf_printf(&b, "%d", 1234), 0);
    assert_string_equal(mem, "abc1234");
    assert_ptr_equal(b.data, mem);
    /* 7 bytes and the NUL fill it: one more byte is refused, nothing changes */
    assert_int_equal(kp_buf_append(&b, "x", 1), KP_ETOOBIG);
    assert_int_equal(kp_buf_printf(&b, "%s", "y"), KP_ETOOBIG);
    assert_int_equal(b.len, 7);
    assert_string_equal(mem, "abc1234");
    assert_ptr_equal(b.data, mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_never_grows), cmocka_unit_test(test_append_and_terminate),
        cmocka_unit_test(test_cap_enforced),      cmocka_unit_test(test_reset_keeps_cap),
        cmocka_unit_test(test_consume),           cmocka_unit_test(test_printf_small_and_growing),
        cmocka_unit_test(test_printf_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
