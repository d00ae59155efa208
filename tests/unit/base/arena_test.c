/* SPDX-License-Identifier: MIT */
/* arena_test.c - unit tests for the per-request arena: zeroed aligned memory, strings, cleanups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/arena.h"

static void test_alloc_zeroed_and_aligned(void **state)
{
    struct kp_arena a;
    kp_arena_init(&a);
    for (size_t n = 1; n < 300; n += 7) {
        unsigned char *p = kp_arena_alloc(&a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(p[i], 0);
        memset(p, 0xab, n); /* ASan flags an overflow if the block is short */
    }
    assert_true(a.used >= 300);
    kp_arena_release(&a);
    assert_int_equal(a.used, 0);
    assert_null(a.head);
}

static void test_blocks_do_not_overlap(void **state)
{
    struct kp_arena a;
    kp_arena_init(&a);
    enum { N = 500 };
    uint32_t *blocks[N];
    for (uint32_t i = 0; i < N; i++) {
        blocks[i] = kp_arena_alloc(&a, 24);
        for (int k = 0; k < 6; k++)
            blocks[i][k] = i;
    }
    for (uint32_t i = 0; i < N; i++)
        for (int k = 0; k < 6; k++)
            assert_int_equal(blocks[i][k], i);
    kp_arena_release(&a);
}

static void test_large_alloc_keeps_current_chunk(void **state)
{
    struct kp_arena a;
    kp_arena_init(&a);
    char *small1 = kp_arena_alloc(&a, 16);
    char *big = kp_arena_alloc(&a, 100000);
    memset(big, 'x', 100000);
    char *small2 = kp_arena_alloc(&a, 16);
    /* the small allocations share the first chunk, the big one got its own */
    assert_true(small2 > small1 && small2 <= small1 + 64);
    assert_int_equal(big[99999], 'x');
    assert_true(a.used >= 100032);
    kp_arena_release(&a);
}

static void test_strings(void **state)
{
    struct kp_arena a;
    kp_arena_init(&a);
    const char *src = "Knotenpunkt";
    char *d = kp_arena_strdup(&a, src);
    assert_string_equal(d, "Knotenpunkt");
    assert_ptr_not_equal(d, src);
    char *n = kp_arena_strndup(&a, "abcdef", 3);
    assert_string_equal(n, "abc");
    char *e = kp_arena_strndup(&a, "", 0);
    assert_string_equal(e, "");
    char *p = kp_arena_printf(&a, "%s-%d-%05.1f", "x", 42, 3.14159);
    assert_string_equal(p, "x-42-003.1");
    /* a formatted string longer than a chunk */
    char *long_str = kp_arena_printf(&a, "%6000d|", 7);
    assert_int_equal(strlen(long_str), 6001);
    assert_int_equal(long_str[5999], '7');
    assert_int_equal(long_str[6000], '|');
    kp_arena_release(&a);
}

static int order[8];
static int n_order;

static void on_release_record(void *data)
{
    order[n_order++] = *(int *)data;
}

static void test_cleanups_run_last_first(void **state)
{
    struct kp_arena a;
    kp_arena_init(&a);
    static int one = 1, two = 2, three = 3;
    n_order = 0;
    kp_arena_on_release(&a, on_release_record, &one);
    kp_arena_on_release(&a, on_release_record, &two);
    kp_arena_on_release(&a, on_release_record, &three);
    assert_int_equal(n_order, 0);
    kp_arena_release(&a);
    assert_int_equal(n_order, 3);
    assert_int_equal(order[0], 3);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 1);
    /* the cleanups ran once: a second release runs nothing */
    kp_arena_release(&a);
    assert_int_equal(n_order, 3);
}

static void free_cb(void *p)
{
    free(p);
}

static void test_reuse_after_release(void **state)
{
    struct kp_arena a;
    kp_arena_init(&a);
    for (int round = 0; round < 3; round++) {
        char *s = kp_arena_printf(&a, "round %d", round);
        char expect[16];
        snprintf(expect, sizeof(expect), "round %d", round);
        assert_string_equal(s, expect);
        /* heap memory handed to the arena is freed with it (LeakSanitizer checks) */
        kp_arena_on_release(&a, free_cb, kp_xmalloc(32));
        kp_arena_release(&a);
        assert_int_equal(a.used, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_zeroed_and_aligned),
        cmocka_unit_test(test_blocks_do_not_overlap),
        cmocka_unit_test(test_large_alloc_keeps_current_chunk),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_cleanups_run_last_first),
        cmocka_unit_test(test_reuse_after_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
