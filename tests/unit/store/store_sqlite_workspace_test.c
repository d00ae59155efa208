/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_workspace_test.c - unit tests for the SQLite store's workspace operations
 * through the store.h vtable: canned answers (unique shortcuts regardless of case, search,
 * partial updates, delete) and notifications (per agent, newest first, unread counts, marking
 * read). Each test gets a fresh data directory under /tmp.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "base/json.h"
#include "store/store.h"
#include "store_test_util.h"

struct fixture {
    char dir[64];
    struct kp_store *s;
    int64_t admin, anna, bob;
    int64_t conv, message;
};

static int setup(void **state)
{
    struct fixture *f = kp_xcalloc(1, sizeof(*f));
    if (kp_test_store_open(f->dir, "workspace", 2, &f->s)) {
        free(f);
        return -1;
    }
    struct kp_store *s = f->s;
    int64_t team, inbox;
    assert_int_equal(KP_STORE0(s, begin), 0);
    f->admin = kp_test_agent(s, "admin@kp.test", "Admin", "admin");
    f->anna = kp_test_agent(s, "anna@kp.test", "Anna", "agent");
    f->bob = kp_test_agent(s, "bob@kp.test", "Bob", "agent");
    assert_int_equal(KP_STORE(s, team_create, "Support", &team), 0);
    assert_int_equal(KP_STORE(s, inbox_create, "Mail", "email", team, &inbox), 0);
    struct kp_inbound in = {.inbox_id = inbox,
                            .channel = "email",
                            .identity_kind = "email",
                            .identity_value = "lena@example.de",
                            .sender_name = "Lena Schmidt",
                            .text = "Wo bleibt mein Paket?"};
    struct kp_ingest_result r;
    assert_int_equal(KP_STORE(s, ingest, &in, &r), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    f->conv = r.conversation_id;
    f->message = r.message_id;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kp_test_store_remove(f->dir, f->s);
    free(f);
    return 0;
}

static int64_t canned(struct fixture *f, const char *shortcut, const char *title, const char *body,
                      int want)
{
    struct kp_canned_new in = {shortcut, title, body, f->admin};
    int64_t id = 0;
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, canned_create, &in, &id), want);
    assert_int_equal(want ? KP_STORE0(f->s, rollback) : KP_STORE0(f->s, commit), 0);
    return id;
}

/* The shortcuts canned_list returns for q, joined with spaces. */
static char *shortcuts(struct fixture *f, const char *q, int limit)
{
    json_t *items;
    assert_int_equal(KP_STORE(f->s, canned_list, q, limit, &items), 0);
    static char out[256];
    size_t o = 0;
    out[0] = '\0';
    size_t i;
    json_t *c;
    json_array_foreach(items, i, c) o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s",
                                                          o ? " " : "", kp_json_str(c, "shortcut"));
    json_decref(items);
    return out;
}

static void test_canned_create_get(void **state)
{
    struct fixture *f = *state;
    int64_t id = canned(f, "greeting", "Begrüßung", "Hallo {{contact.first_name}}!", 0);
    assert_true(id > 0);
    json_t *c;
    assert_int_equal(KP_STORE(f->s, canned_get, id, &c), 0);
    assert_int_equal(kp_json_int(c, "id", 0), id);
    assert_string_equal(kp_json_str(c, "shortcut"), "greeting");
    assert_string_equal(kp_json_str(c, "title"), "Begrüßung");
    assert_string_equal(kp_json_str(c, "body"), "Hallo {{contact.first_name}}!");
    assert_int_equal(kp_json_int(c, "created_by", 0), f->admin);
    assert_true(json_is_string(json_object_get(c, "created_at")));
    assert_true(json_is_string(json_object_get(c, "updated_at")));
    assert_int_equal(json_object_size(c), 7);
    json_decref(c);
    assert_int_equal(KP_STORE(f->s, canned_get, id + 100, &c), KP_ENOTFOUND);
    /* shortcuts are unique regardless of case */
    canned(f, "GREETING", "Other", "Other", KP_EEXIST);
    canned(f, "greeting", "Other", "Other", KP_EEXIST);
    assert_string_equal(shortcuts(f, NULL, 100), "greeting");
}

static void test_canned_list(void **state)
{
    struct fixture *f = *state;
    canned(f, "ship_delay", "Lieferverzögerung", "Ihr Paket ist unterwegs.", 0);
    canned(f, "refund", "Refund issued", "We have refunded your ORDER.", 0);
    canned(f, "return-label", "Return label", "Attached is your return label.", 0);
    canned(f, "bye", "Closing", "Have a nice day!", 0);
    /* ordered by shortcut */
    assert_string_equal(shortcuts(f, NULL, 100), "bye refund return-label ship_delay");
    assert_string_equal(shortcuts(f, NULL, 2), "bye refund");
    /* a shortcut prefix, any case */
    assert_string_equal(shortcuts(f, "re", 100), "refund return-label");
    assert_string_equal(shortcuts(f, "RET", 100), "return-label");
    /* a part of the title or body, any (ASCII) case */
    assert_string_equal(shortcuts(f, "label", 100), "return-label");
    assert_string_equal(shortcuts(f, "order", 100), "refund");
    assert_string_equal(shortcuts(f, "PAKET", 100), "ship_delay");
    assert_string_equal(shortcuts(f, "nice day", 100), "bye");
    /* no wildcards: '_' and '%' match themselves only */
    assert_string_equal(shortcuts(f, "ship_", 100), "ship_delay");
    assert_string_equal(shortcuts(f, "s_ip", 100), "");
    assert_string_equal(shortcuts(f, "%", 100), "");
    /* shortcuts match by prefix only, titles and bodies anywhere */
    assert_string_equal(shortcuts(f, "elay", 100), "");
    assert_string_equal(shortcuts(f, "fund", 100), "refund"); /* in "Refund issued" */
}

static void test_canned_update_delete(void **state)
{
    struct fixture *f = *state;
    int64_t a = canned(f, "a", "Title A", "Body A", 0);
    int64_t b = canned(f, "b", "Title B", "Body B", 0);
    struct kp_store *s = f->s;
    json_t *before, *after;
    assert_int_equal(KP_STORE(s, canned_get, a, &before), 0);
    /* only the title changes */
    struct kp_canned_change title = {.title = "New title"};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, canned_update, a, &title), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, canned_get, a, &after), 0);
    assert_string_equal(kp_json_str(after, "title"), "New title");
    assert_string_equal(kp_json_str(after, "body"), "Body A");
    assert_string_equal(kp_json_str(after, "shortcut"), "a");
    assert_string_equal(kp_json_str(after, "created_at"), kp_json_str(before, "created_at"));
    json_decref(before);
    json_decref(after);
    /* a shortcut that another answer has, in any case, is refused */
    struct kp_canned_change taken = {.shortcut = "B"};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, canned_update, a, &taken), KP_EEXIST);
    assert_int_equal(KP_STORE(s, canned_update, 9999, &title), KP_ENOTFOUND);
    /* its own shortcut in another case is fine */
    struct kp_canned_change own = {.shortcut = "a", .body = "Body A2"};
    assert_int_equal(KP_STORE(s, canned_update, a, &own), 0);
    assert_int_equal(KP_STORE(s, canned_delete, b), 0);
    assert_int_equal(KP_STORE(s, canned_delete, b), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, canned_get, b, &after), KP_ENOTFOUND);
    assert_string_equal(shortcuts(f, NULL, 100), "a");
    /* the deleted shortcut is free again */
    canned(f, "b", "Title B", "Body B", 0);
}

/* Adds a mention notification for agent, by the admin, in its own transaction. */
static int64_t notify(struct fixture *f, int64_t agent)
{
    struct kp_notification_new n = {.agent_id = agent,
                                    .kind = "mention",
                                    .conversation_id = f->conv,
                                    .message_id = f->message,
                                    .by_agent_id = f->admin};
    int64_t id = 0;
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, notification_add, &n, &id), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    return id;
}

/* The ids of agent's notifications as listed, newest first; *unread the unread count. */
static size_t listed(struct fixture *f, int64_t agent, bool unread_only, int64_t before,
                     int64_t *ids, int64_t *unread)
{
    json_t *items;
    assert_int_equal(
        KP_STORE(f->s, notification_list, agent, unread_only, before, 100, &items, unread), 0);
    size_t i;
    json_t *n;
    json_array_foreach(items, i, n) ids[i] = kp_json_int(n, "id", 0);
    size_t count = json_array_size(items);
    json_decref(items);
    return count;
}

static void test_notifications(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    int64_t n1 = notify(f, f->anna), n2 = notify(f, f->anna), other = notify(f, f->bob);
    int64_t n3 = notify(f, f->anna);
    int64_t ids[8], unread;
    assert_int_equal(listed(f, f->anna, false, 0, ids, &unread), 3);
    assert_int_equal(unread, 3);
    assert_int_equal(ids[0], n3); /* newest first */
    assert_int_equal(ids[1], n2);
    assert_int_equal(ids[2], n1);
    assert_int_equal(listed(f, f->anna, false, n2, ids, &unread), 1); /* older than n2 */
    assert_int_equal(ids[0], n1);
    assert_int_equal(listed(f, f->admin, false, 0, ids, &unread), 0);
    assert_int_equal(unread, 0);

    json_t *n;
    assert_int_equal(KP_STORE(s, notification_get, f->anna, n2, &n), 0);
    assert_string_equal(kp_json_str(n, "kind"), "mention");
    assert_int_equal(kp_json_int(n, "conversation_id", 0), f->conv);
    assert_int_equal(kp_json_int(n, "message_id", 0), f->message);
    assert_int_equal(kp_json_int(n, "by_agent_id", 0), f->admin);
    assert_true(json_is_string(json_object_get(n, "created_at")));
    assert_true(json_is_null(json_object_get(n, "read_at")));
    json_decref(n);
    /* another agent's notification does not exist for anna */
    assert_int_equal(KP_STORE(s, notification_get, f->anna, other, &n), KP_ENOTFOUND);

    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, notification_read, f->anna, n2), 0);
    assert_int_equal(KP_STORE(s, notification_read, f->anna, other), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, notification_read, f->anna, 99999), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, notification_get, f->anna, n2, &n), 0);
    char read_at[40];
    snprintf(read_at, sizeof(read_at), "%s", kp_json_str(n, "read_at"));
    assert_int_equal(strlen(read_at), 24);
    json_decref(n);
    assert_int_equal(listed(f, f->anna, true, 0, ids, &unread), 2);
    assert_int_equal(unread, 2);
    assert_int_equal(ids[0], n3);
    assert_int_equal(ids[1], n1);

    /* all of anna's, not bob's; n2 keeps its first read_at */
    usleep(5000);
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, notification_read, f->anna, 0), 0);
    assert_int_equal(KP_STORE(s, notification_read, f->anna, n2), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(listed(f, f->anna, true, 0, ids, &unread), 0);
    assert_int_equal(unread, 0);
    assert_int_equal(listed(f, f->anna, false, 0, ids, &unread), 3);
    assert_int_equal(listed(f, f->bob, true, 0, ids, &unread), 1);
    assert_int_equal(unread, 1);
    assert_int_equal(KP_STORE(s, notification_get, f->anna, n2, &n), 0);
    assert_string_equal(kp_json_str(n, "read_at"), read_at);
    json_decref(n);

    /* a notification for a conversation that does not exist is refused */
    struct kp_notification_new bad = {
        .agent_id = f->anna, .kind = "mention", .conversation_id = f->conv + 1000};
    int64_t id;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, notification_add, &bad, &id), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, rollback), 0);
}

static void test_rollback_drops_notifications(void **state)
{
    struct fixture *f = *state;
    struct kp_notification_new n = {
        .agent_id = f->bob, .kind = "mention", .conversation_id = f->conv};
    int64_t id, ids[4], unread;
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, notification_add, &n, &id), 0);
    assert_int_equal(KP_STORE0(f->s, rollback), 0);
    assert_int_equal(listed(f, f->bob, false, 0, ids, &unread), 0);
    assert_int_equal(unread, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_canned_create_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canned_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canned_update_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_drops_notifications, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
