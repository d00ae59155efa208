/* SPDX-License-Identifier: MIT */
/*
 * presence_test.c - unit tests for one event loop's replica of who views and types where:
 * the frames agents see (each agent once however many tabs, ordered by agent id, typing when
 * any tab types), leaving and closing, and a replica that grows while names are reused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/presence.h"

static void change(struct kp_presence *p, uint64_t conn, int64_t agent, int64_t conv, bool typing,
                   const char *name)
{
    struct kp_presence_change ch = {
        .conn = conn, .agent_id = agent, .conversation_id = conv, .typing = typing};
    kp_presence_apply(p, &ch, name);
}

/* The frame of conv, compared with want. */
static void expect(struct kp_presence *p, int64_t conv, const char *want)
{
    struct kp_buf b;
    kp_buf_init(&b, 0);
    assert_int_equal(kp_presence_frame(p, conv, &b), 0);
    assert_string_equal(b.data, want);
    kp_buf_release(&b);
}

static void test_viewers_and_typing(void **state)
{
    struct kp_presence *p;
    kp_presence_new(&p);
    expect(p, 7, "{\"type\":\"presence\",\"conversation_id\":7,\"viewers\":[],\"typing\":[]}");
    change(p, 101, 5, 7, false, "Carl Vogel");
    change(p, 202, 2, 7, false, "Anna \"Anni\" Becker");
    change(p, 102, 5, 7, false, "Carl Vogel"); /* Carl's second tab */
    change(p, 103, 5, 8, false, "Carl Vogel"); /* and a third elsewhere */
    expect(p, 7,
           "{\"type\":\"presence\",\"conversation_id\":7,\"viewers\":[{\"agent_id\":2,\"name\":"
           "\"Anna \\\"Anni\\\" Becker\"},{\"agent_id\":5,\"name\":\"Carl Vogel\"}],"
           "\"typing\":[]}");
    assert_int_equal(kp_presence_viewing(p, 102), 7);
    assert_int_equal(kp_presence_viewing(p, 103), 8);
    assert_int_equal(kp_presence_viewing(p, 999), 0);
    assert_string_equal(kp_presence_agent_name(p, 5), "Carl Vogel");
    assert_null(kp_presence_agent_name(p, 6));
    /* one of Carl's tabs types: Carl types, once */
    change(p, 102, 5, 7, true, "Carl Vogel");
    change(p, 101, 5, 7, true, "Carl Vogel");
    expect(p, 7,
           "{\"type\":\"presence\",\"conversation_id\":7,\"viewers\":[{\"agent_id\":2,\"name\":"
           "\"Anna \\\"Anni\\\" Becker\"},{\"agent_id\":5,\"name\":\"Carl Vogel\"}],"
           "\"typing\":[5]}");
    change(p, 101, 5, 7, false, "Carl Vogel");
    expect(p, 7,
           "{\"type\":\"presence\",\"conversation_id\":7,\"viewers\":[{\"agent_id\":2,\"name\":"
           "\"Anna \\\"Anni\\\" Becker\"},{\"agent_id\":5,\"name\":\"Carl Vogel\"}],"
           "\"typing\":[5]}");
    /* Carl's tabs leave conversation 7, one by moving on, one by closing */
    change(p, 101, 5, 8, false, "Carl Vogel");
    change(p, 102, 5, 0, false, NULL);
    expect(p, 7,
           "{\"type\":\"presence\",\"conversation_id\":7,\"viewers\":[{\"agent_id\":2,\"name\":"
           "\"Anna \\\"Anni\\\" Becker\"}],\"typing\":[]}");
    expect(p, 8,
           "{\"type\":\"presence\",\"conversation_id\":8,\"viewers\":[{\"agent_id\":5,\"name\":"
           "\"Carl Vogel\"}],\"typing\":[]}");
    /* removing what is not there changes nothing */
    change(p, 555, 9, 0, false, NULL);
    assert_int_equal(kp_presence_viewing(p, 101), 8);
    kp_presence_free(p);
}

static void test_growth_keeps_names(void **state)
{
    struct kp_presence *p;
    kp_presence_new(&p);
    change(p, 1, 1, 1, false, "Agent One");
    /* the name handed in points into the replica while it grows */
    for (uint64_t conn = 2; conn < 1000; conn++)
        change(p, conn, 1, (int64_t)conn % 3 + 1, false, kp_presence_agent_name(p, 1));
    struct kp_buf b;
    kp_buf_init(&b, 0);
    assert_int_equal(kp_presence_frame(p, 2, &b), 0);
    assert_non_null(strstr(b.data, "\"viewers\":[{\"agent_id\":1,\"name\":\"Agent One\"}]"));
    kp_buf_release(&b);
    for (uint64_t conn = 1; conn < 1000; conn++)
        change(p, conn, 1, 0, false, NULL);
    assert_null(kp_presence_agent_name(p, 1));
    expect(p, 2, "{\"type\":\"presence\",\"conversation_id\":2,\"viewers\":[],\"typing\":[]}");
    kp_presence_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_viewers_and_typing),
        cmocka_unit_test(test_growth_keeps_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
