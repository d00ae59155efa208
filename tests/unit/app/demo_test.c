/* SPDX-License-Identifier: MIT */
/*
 * demo_test.c - unit tests for the demo data generator: seeds a real SQLite store in a fresh
 * temporary directory and checks through the store's read operations what an evaluator of
 * `knotenpunkt demo` would look at: the counts, contacts with several identities, conversations
 * on every channel in German and English, and that a second seed changes nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <unistd.h>

#include "app/demo.h"

struct fixture {
    char dir[64];
    struct kp_store *s;
};

static void fixture_open(struct fixture *f)
{
    snprintf(f->dir, sizeof(f->dir), "/tmp/kp-demo-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(kp_store_open(f->dir, &f->s), 0);
    int version = 0;
    assert_int_equal(KP_STORE(f->s, migrate, &version), 0);
    assert_true(version >= 1);
}

static void fixture_close(struct fixture *f)
{
    kp_store_close(f->s);
    static const char *const files[] = {"knotenpunkt.db", "knotenpunkt.db-wal",
                                        "knotenpunkt.db-shm"};
    char path[128];
    for (size_t i = 0; i < KP_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
        unlink(path);
    }
    assert_int_equal(rmdir(f->dir), 0);
}

static int setup(void **state)
{
    struct fixture *f = kp_xcalloc(1, sizeof(*f));
    fixture_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fixture_close(f);
    free(f);
    return 0;
}

static int64_t stat_of(struct kp_store *s, const char *key)
{
    json_t *st;
    assert_int_equal(KP_STORE(s, stats, &st), 0);
    int64_t n = json_integer_value(json_object_get(st, key));
    json_decref(st);
    return n;
}

/* Every conversation the admin can see, paging through next_cursor 100 at a time. */
static json_t *all_conversations(struct kp_store *s, int64_t admin_id)
{
    json_t *all = json_array();
    char cursor[64] = "";
    for (int pages = 0; pages < 100; pages++) {
        struct kp_conv_query q = {.viewer = {.agent_id = admin_id, .admin = true},
                                  .cursor = cursor[0] ? cursor : NULL,
                                  .limit = KP_QUERY_MAX_LIMIT};
        json_t *page;
        assert_int_equal(kp_store_conversation_list_json(s, &q, &page), 0);
        json_t *items = json_object_get(page, "items");
        assert_true(json_array_size(items) <= KP_QUERY_MAX_LIMIT);
        json_array_extend(all, items);
        const char *next = json_string_value(json_object_get(page, "next_cursor"));
        if (next)
            snprintf(cursor, sizeof(cursor), "%s", next);
        json_decref(page);
        if (!next)
            return all;
    }
    fail_msg("conversation paging does not end");
    return NULL;
}

/* Every contact, paging through contact_list. */
static json_t *all_contacts(struct kp_store *s)
{
    json_t *all = json_array();
    char cursor[64] = "";
    for (int pages = 0; pages < 100; pages++) {
        json_t *page;
        assert_int_equal(
            KP_STORE(s, contact_list, NULL, cursor[0] ? cursor : NULL, KP_QUERY_MAX_LIMIT, &page),
            0);
        json_array_extend(all, json_object_get(page, "items"));
        const char *next = json_string_value(json_object_get(page, "next_cursor"));
        if (next)
            snprintf(cursor, sizeof(cursor), "%s", next);
        json_decref(page);
        if (!next)
            return all;
    }
    fail_msg("contact paging does not end");
    return NULL;
}

static size_t search_hits(struct kp_store *s, int64_t admin_id, const char *q)
{
    struct kp_viewer v = {.agent_id = admin_id, .admin = true};
    json_t *hits;
    assert_int_equal(KP_STORE(s, search, &v, q, 50, &hits), 0);
    size_t n = json_array_size(hits);
    json_decref(hits);
    return n;
}

static void test_seed_counts(void **state)
{
    struct fixture *f = *state;
    struct kp_demo_info info = {0};
    assert_int_equal(kp_demo_seed(f->s, 42, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", &info),
                     0);
    assert_int_equal(info.teams, 3);
    assert_int_equal(info.agents, 6);
    assert_int_equal(info.contacts, 200);
    assert_int_equal(info.conversations, 500);
    assert_in_range(info.messages, 500, 3000);
    assert_true(info.admin_id > 0);

    assert_int_equal(stat_of(f->s, "teams"), 3);
    assert_int_equal(stat_of(f->s, "agents"), 6);
    assert_int_equal(stat_of(f->s, "contacts"), 200); /* ingest linked every message */
    assert_int_equal(stat_of(f->s, "conversations"), 500);
    assert_int_equal(stat_of(f->s, "messages"), info.messages);

    json_t *teams;
    assert_int_equal(KP_STORE(f->s, team_list, &teams), 0);
    assert_int_equal(json_array_size(teams), 3);
    size_t i;
    json_t *t;
    json_array_foreach(teams, i, t) assert_true(json_array_size(json_object_get(t, "members")) > 0);
    json_decref(teams);

    json_t *agents;
    assert_int_equal(KP_STORE(f->s, agent_list, &agents), 0);
    assert_int_equal(json_array_size(agents), 6);
    int admins = 0;
    json_t *a;
    json_array_foreach(agents, i, a)
    {
        const char *email = json_string_value(json_object_get(a, "email"));
        assert_non_null(strstr(email, "@demo.knotenpunkt.test"));
        if (strcmp(json_string_value(json_object_get(a, "role")), "admin") == 0) {
            admins++;
            assert_string_equal(email, "admin@demo.knotenpunkt.test");
            assert_string_equal(json_string_value(json_object_get(a, "name")), "Demo Admin");
            assert_int_equal(json_integer_value(json_object_get(a, "id")), info.admin_id);
        }
    }
    assert_int_equal(admins, 1);
    json_decref(agents);

    /* the demo agents can log in with the hash they were given */
    int64_t id;
    char hash[128];
    assert_int_equal(
        KP_STORE(f->s, agent_credentials, "anna@demo.knotenpunkt.test", &id, hash, sizeof(hash)),
        0);
    assert_string_equal(hash, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");

    json_t *inboxes;
    assert_int_equal(KP_STORE(f->s, inbox_list, &inboxes), 0);
    assert_int_equal(json_array_size(inboxes), 9);
    json_decref(inboxes);

    /* canned answers in both languages, greetings by first name, written by the admin */
    json_t *canned;
    assert_int_equal(KP_STORE(f->s, canned_list, NULL, 100, &canned), 0);
    assert_in_range(json_array_size(canned), 8, 12);
    bool de = false, en = false;
    json_array_foreach(canned, i, a)
    {
        const char *shortcut = json_string_value(json_object_get(a, "shortcut"));
        const char *body = json_string_value(json_object_get(a, "body"));
        assert_int_equal(json_integer_value(json_object_get(a, "created_by")), info.admin_id);
        assert_true(body && body[0]);
        if (strcmp(shortcut, "hallo") == 0 || strcmp(shortcut, "hello") == 0)
            assert_non_null(strstr(body, "{{contact.first_name}}"));
        de |= strstr(body, "Ihre") != NULL;
        en |= strstr(body, "your") != NULL;
    }
    assert_true(de && en);
    json_decref(canned);
}

static void test_contacts_have_identities(void **state)
{
    struct fixture *f = *state;
    struct kp_demo_info info;
    assert_int_equal(kp_demo_seed(f->s, 7, NULL, &info), 0);
    json_t *contacts = all_contacts(f->s);
    assert_int_equal(json_array_size(contacts), 200);
    size_t i, j;
    json_t *c, *ident;
    int phones = 0, shops = 0;
    json_array_foreach(contacts, i, c)
    {
        json_t *full;
        assert_int_equal(
            KP_STORE(f->s, contact_get, json_integer_value(json_object_get(c, "id")), &full), 0);
        assert_non_null(json_string_value(json_object_get(full, "name")));
        json_t *ids = json_object_get(full, "identities");
        assert_in_range(json_array_size(ids), 2, 3);
        json_array_foreach(ids, j, ident)
        {
            const char *kind = json_string_value(json_object_get(ident, "kind"));
            const char *value = json_string_value(json_object_get(ident, "value"));
            assert_true(value && *value);
            if (strcmp(kind, "email") == 0)
                assert_non_null(strstr(value, "@example."));
            if (strcmp(kind, "phone") == 0) {
                assert_true(value[0] == '+' && strlen(value) >= 12);
                phones++;
            }
            if (strcmp(kind, "shop") == 0) {
                assert_memory_equal(value, "cust-", 5);
                shops++;
            }
        }
        json_t *attrs = json_object_get(full, "attributes");
        assert_true(json_is_object(attrs));
        assert_non_null(json_string_value(json_object_get(attrs, "city")));
        assert_non_null(json_string_value(json_object_get(attrs, "tier")));
        json_decref(full);
    }
    assert_true(phones > 50);
    assert_true(shops > 0);
    json_decref(contacts);
}

static bool has_string(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) == 0) return true;
    return false;
}

static void test_conversations(void **state)
{
    struct fixture *f = *state;
    struct kp_demo_info info;
    assert_int_equal(kp_demo_seed(f->s, 1, NULL, &info), 0);
    json_t *convs = all_conversations(f->s, info.admin_id);
    assert_int_equal(json_array_size(convs), 500);

    static const char *const channels[] = {"email",     "webchat",  "whatsapp", "sms", "facebook",
                                           "instagram", "telegram", "phone",    "api"};
    static const char *const states[] = {"open", "pending", "snoozed", "resolved"};
    static const char *const tags[] = {"order",     "return", "invoice",
                                       "complaint", "praise", "delivery"};
    int per_channel[KP_ARRAY_LEN(channels)] = {0}, per_state[KP_ARRAY_LEN(states)] = {0};
    int per_tag[KP_ARRAY_LEN(tags)] = {0};
    int assigned = 0, high = 0, longest = 0, messages = 0;
    size_t i;
    json_t *c;
    json_array_foreach(convs, i, c)
    {
        int n = (int)json_integer_value(json_object_get(c, "message_count"));
        assert_in_range(n, 1, 6);
        messages += n;
        if (n > longest)
            longest = n;
        const char *ch = json_string_value(json_object_get(c, "channel"));
        for (size_t k = 0; k < KP_ARRAY_LEN(channels); k++)
            per_channel[k] += strcmp(ch, channels[k]) == 0;
        const char *st = json_string_value(json_object_get(c, "state"));
        for (size_t k = 0; k < KP_ARRAY_LEN(states); k++)
            per_state[k] += strcmp(st, states[k]) == 0;
        json_t *ctags = json_object_get(c, "tags");
        assert_true(json_array_size(ctags) >= 1);
        for (size_t k = 0; k < KP_ARRAY_LEN(tags); k++)
            per_tag[k] += has_string(ctags, tags[k]);
        assigned += json_integer_value(json_object_get(c, "assignee_id")) > 0;
        const char *prio = json_string_value(json_object_get(c, "priority"));
        high += strcmp(prio, "high") == 0 || strcmp(prio, "urgent") == 0;
        assert_true(json_integer_value(json_object_get(c, "team_id")) > 0);
        assert_non_null(json_string_value(json_object_get(c, "preview")));
        if (strcmp(ch, "email") == 0)
            assert_non_null(json_string_value(json_object_get(c, "subject")));
    }
    assert_int_equal(messages, info.messages);
    assert_int_equal(longest, 6);
    for (size_t k = 0; k < KP_ARRAY_LEN(channels); k++)
        assert_true(per_channel[k] > 0);
    for (size_t k = 0; k < KP_ARRAY_LEN(states); k++)
        assert_true(per_state[k] > 0);
    for (size_t k = 0; k < KP_ARRAY_LEN(tags); k++)
        assert_true(per_tag[k] > 0);
    assert_in_range(assigned, 50, 499);
    assert_in_range(high, 10, 400);
    json_decref(convs);

    /* both languages: German and English words find messages */
    assert_true(search_hits(f->s, info.admin_id, "Bestellung") > 0);
    assert_true(search_hits(f->s, info.admin_id, "Rechnung") > 0);
    assert_true(search_hits(f->s, info.admin_id, "parcel") > 0);
    assert_true(search_hits(f->s, info.admin_id, "refund") > 0);

    /* an agent sees conversations through team membership, not all of them */
    json_t *agents;
    assert_int_equal(KP_STORE(f->s, agent_list, &agents), 0);
    int64_t agent = 0;
    json_t *a;
    json_array_foreach(agents, i, a) if (strcmp(json_string_value(json_object_get(a, "email")),
                                                "lukas@demo.knotenpunkt.test") == 0) agent =
        json_integer_value(json_object_get(a, "id"));
    json_decref(agents);
    assert_true(agent > 0);
    struct kp_conv_query q = {.viewer = {.agent_id = agent}, .limit = KP_QUERY_MAX_LIMIT};
    json_t *page;
    assert_int_equal(kp_store_conversation_list_json(f->s, &q, &page), 0);
    size_t seen = json_array_size(json_object_get(page, "items"));
    assert_true(seen > 0);
    assert_true(seen < 100 || !json_is_null(json_object_get(page, "next_cursor")));
    json_decref(page);
}

static void test_second_seed_is_refused(void **state)
{
    struct fixture *f = *state;
    struct kp_demo_info info;
    assert_int_equal(kp_demo_seed(f->s, 3, NULL, &info), 0);
    int64_t messages = stat_of(f->s, "messages");
    struct kp_demo_info again = {.teams = -1};
    assert_int_equal(kp_demo_seed(f->s, 3, NULL, &again), KP_EEXIST);
    assert_int_equal(again.teams, -1); /* untouched */
    assert_int_equal(stat_of(f->s, "conversations"), 500);
    assert_int_equal(stat_of(f->s, "contacts"), 200);
    assert_int_equal(stat_of(f->s, "messages"), messages);
    /* and the store is usable afterwards: the refused seed closed its transaction */
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
}

/* The parts of a seeded store that the seed decides, by id, without clock times. */
static json_t *fingerprint(struct kp_store *s, int64_t admin_id)
{
    json_t *fp = json_object();
    json_t *convs = all_conversations(s, admin_id);
    size_t i;
    json_t *c;
    char key[32];
    json_array_foreach(convs, i, c)
    {
        snprintf(key, sizeof(key), "c%lld",
                 (long long)json_integer_value(json_object_get(c, "id")));
        json_object_set_new(
            fp, key,
            json_pack("{sOsOsOsOsOsO}", "preview", json_object_get(c, "preview"), "state",
                      json_object_get(c, "state"), "priority", json_object_get(c, "priority"),
                      "channel", json_object_get(c, "channel"), "tags", json_object_get(c, "tags"),
                      "contact", json_object_get(c, "contact")));
    }
    json_decref(convs);
    json_t *contacts = all_contacts(s);
    json_array_foreach(contacts, i, c)
    {
        snprintf(key, sizeof(key), "k%lld",
                 (long long)json_integer_value(json_object_get(c, "id")));
        json_object_set_new(fp, key,
                            json_pack("{sOsO}", "name", json_object_get(c, "name"), "identities",
                                      json_object_get(c, "identities")));
    }
    json_decref(contacts);
    return fp;
}

static void test_same_seed_same_data(void **state)
{
    struct fixture *f = *state;
    struct fixture g, h;
    fixture_open(&g);
    fixture_open(&h);
    struct kp_demo_info i1, i2, i3;
    assert_int_equal(kp_demo_seed(f->s, 2024, NULL, &i1), 0);
    assert_int_equal(kp_demo_seed(g.s, 2024, NULL, &i2), 0);
    assert_int_equal(kp_demo_seed(h.s, 2025, NULL, &i3), 0);
    assert_int_equal(i1.messages, i2.messages);
    json_t *a = fingerprint(f->s, i1.admin_id), *b = fingerprint(g.s, i2.admin_id),
           *c = fingerprint(h.s, i3.admin_id);
    assert_true(json_equal(a, b));
    assert_false(json_equal(a, c));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    fixture_close(&g);
    fixture_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seed_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contacts_have_identities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_seed_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_seed_same_data, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
