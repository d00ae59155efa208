/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_test.c - unit tests for the SQLite store backend through the store.h vtable:
 * agents and teams, the inbound path and its dedupe, visibility, pagination, search, pipeline,
 * events and durability across reopening. Each test gets a fresh data directory under /tmp.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "store/store.h"
#include "store_test_util.h"

struct fixture {
    char dir[64];
    struct kp_store *s;
    int64_t admin, anna, bob, carl;     /* agents: anna in support, bob in sales, carl none */
    int64_t support, sales;             /* teams */
    int64_t inbox_support, inbox_sales; /* inboxes routed to those teams */
};

static int setup(void **state)
{
    struct fixture *f = kp_xcalloc(1, sizeof(*f));
    if (kp_test_store_open(f->dir, "store", 2, &f->s)) {
        free(f);
        return -1;
    }
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

/* Agents, teams and two inboxes, committed. */
static void populate(struct fixture *f)
{
    struct kp_store *s = f->s;
    assert_int_equal(KP_STORE0(s, begin), 0);
    f->admin = kp_test_agent(s, "admin@kp.test", "Admin", "admin");
    f->anna = kp_test_agent(s, "anna@kp.test", "Anna", "agent");
    f->bob = kp_test_agent(s, "bob@kp.test", "Bob", "agent");
    f->carl = kp_test_agent(s, "carl@kp.test", "Carl", "agent");
    assert_int_equal(KP_STORE(s, team_create, "Support", &f->support), 0);
    assert_int_equal(KP_STORE(s, team_create, "Sales", &f->sales), 0);
    assert_int_equal(KP_STORE(s, team_member, f->support, f->anna, true), 0);
    assert_int_equal(KP_STORE(s, team_member, f->sales, f->bob, true), 0);
    assert_int_equal(
        KP_STORE(s, inbox_create, "Support mail", "email", f->support, &f->inbox_support), 0);
    assert_int_equal(KP_STORE(s, inbox_create, "Sales chat", "api", f->sales, &f->inbox_sales), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
}

/* Ingests one inbound message in its own transaction. */
static struct kp_ingest_result ingest(struct fixture *f, int64_t inbox, const char *from,
                                      const char *text, const char *key, const char *ext)
{
    struct kp_inbound in = {
        .inbox_id = inbox,
        .channel = "email",
        .identity_kind = "email",
        .identity_value = from,
        .sender_name = "Kunde",
        .subject = "Frage",
        .text = text,
        .external_id = ext,
        .idempotency_key = key,
    };
    struct kp_ingest_result r;
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, ingest, &in, &r), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    return r;
}

static json_t *conv_get(struct fixture *f, int64_t agent_id, bool admin, int64_t id, int *rc)
{
    struct kp_viewer v = {.agent_id = agent_id, .admin = admin};
    json_t *out = NULL;
    *rc = KP_STORE(f->s, conversation_get, &v, id, &out);
    return out;
}

/* Ids of the conversations a viewer sees, as a list query with limit 100. */
static size_t conv_ids(struct fixture *f, int64_t agent_id, bool admin, int64_t *ids, size_t cap)
{
    struct kp_conv_query q = {.viewer = {.agent_id = agent_id, .admin = admin}, .limit = 100};
    json_t *out;
    assert_int_equal(kp_store_conversation_list_json(f->s, &q, &out), 0);
    json_t *items = json_object_get(out, "items");
    assert_true(json_is_array(items));
    size_t n = json_array_size(items);
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++)
        ids[i] = json_integer_value(json_object_get(json_array_get(items, i), "id"));
    json_decref(out);
    return n;
}

static bool has_id(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static void test_migrate_is_idempotent(void **state)
{
    struct fixture *f = *state;
    int v = 0;
    assert_int_equal(KP_STORE(f->s, migrate, &v), 0);
    assert_int_equal(v, 5); /* 001_init .. 005_mail_kept_keys */
    json_t *st;
    assert_int_equal(KP_STORE(f->s, stats, &st), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "agents")), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "conversations")), 0);
    json_decref(st);
}

static void test_agents_and_teams(void **state)
{
    struct fixture *f = *state;
    populate(f);
    struct kp_store *s = f->s;
    /* emails are unique regardless of case */
    struct kp_agent_new dup = {.email = "ANNA@kp.test", .name = "Other", .role = "agent"};
    int64_t id;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, agent_create, &dup, &id), KP_EEXIST);
    struct kp_agent_new bad_role = {.email = "x@kp.test", .name = "X", .role = "boss"};
    assert_int_equal(KP_STORE(s, agent_create, &bad_role, &id), KP_EEXIST);
    assert_int_equal(KP_STORE(s, team_member, 9999, f->anna, true), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, team_member, f->sales, f->anna, true), 0);
    assert_int_equal(KP_STORE(s, team_member, f->sales, f->anna, true), 0); /* idempotent */
    assert_int_equal(KP_STORE0(s, commit), 0);

    json_t *a;
    assert_int_equal(KP_STORE(s, agent_get, f->anna, &a), 0);
    assert_string_equal(json_string_value(json_object_get(a, "email")), "anna@kp.test");
    assert_string_equal(json_string_value(json_object_get(a, "name")), "Anna");
    assert_string_equal(json_string_value(json_object_get(a, "role")), "agent");
    assert_true(json_is_true(json_object_get(a, "active")));
    assert_null(json_object_get(a, "password_hash"));
    assert_true(json_is_string(json_object_get(a, "created_at")));
    json_t *teams = json_object_get(a, "teams");
    assert_int_equal(json_array_size(teams), 2);
    json_decref(a);
    assert_int_equal(KP_STORE(s, agent_get, 12345, &a), KP_ENOTFOUND);

    int64_t ids[8];
    size_t n = KP_ARRAY_LEN(ids);
    assert_int_equal(KP_STORE(s, agent_teams, f->anna, ids, &n), 0);
    assert_int_equal(n, 2);
    assert_true(has_id(ids, n, f->support) && has_id(ids, n, f->sales));
    n = KP_ARRAY_LEN(ids);
    assert_int_equal(KP_STORE(s, agent_teams, f->carl, ids, &n), 0);
    assert_int_equal(n, 0);

    struct kp_principal p;
    assert_int_equal(KP_STORE(s, agent_principal, f->admin, &p), 0);
    assert_true(p.admin);
    assert_true(p.active);
    assert_string_equal(p.name, "Admin");
    assert_int_equal(KP_STORE(s, agent_principal, f->bob, &p), 0);
    assert_false(p.admin);

    json_t *t;
    assert_int_equal(KP_STORE(s, team_get, f->sales, &t), 0);
    assert_string_equal(json_string_value(json_object_get(t, "name")), "Sales");
    assert_int_equal(json_array_size(json_object_get(t, "members")), 2);
    json_decref(t);
    json_t *list;
    assert_int_equal(KP_STORE(s, agent_list, &list), 0);
    assert_int_equal(json_array_size(list), 4);
    json_decref(list);

    /* a rolled-back transaction leaves nothing behind */
    assert_int_equal(KP_STORE0(s, begin), 0);
    kp_test_agent(s, "ghost@kp.test", "Ghost", "agent");
    assert_int_equal(KP_STORE0(s, rollback), 0);
    assert_int_equal(KP_STORE(s, agent_list, &list), 0);
    assert_int_equal(json_array_size(list), 4);
    json_decref(list);
}

static void test_ingest_same_identity_same_conversation(void **state)
{
    struct fixture *f = *state;
    populate(f);
    struct kp_ingest_result r1 = ingest(f, f->inbox_support, "kunde@example.org", "Hallo", 0, 0);
    assert_false(r1.duplicate);
    assert_true(r1.new_contact);
    assert_true(r1.new_conversation);
    assert_true(r1.message_id > 0 && r1.conversation_id > 0 && r1.contact_id > 0);
    assert_int_equal(r1.team_id, f->support); /* from the inbox */
    struct kp_ingest_result r2 =
        ingest(f, f->inbox_support, "kunde@example.org", "Noch eine Frage", 0, 0);
    assert_false(r2.duplicate);
    assert_false(r2.new_contact);
    assert_false(r2.new_conversation);
    assert_int_equal(r2.conversation_id, r1.conversation_id);
    assert_int_equal(r2.contact_id, r1.contact_id);
    assert_true(r2.message_id > r1.message_id);

    int rc;
    json_t *c = conv_get(f, f->admin, true, r1.conversation_id, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(json_integer_value(json_object_get(c, "message_count")), 2);
    assert_string_equal(json_string_value(json_object_get(c, "state")), "open");
    assert_string_equal(json_string_value(json_object_get(c, "preview")), "Noch eine Frage");
    assert_string_equal(json_string_value(json_object_get(c, "subject")), "Frage");
    assert_int_equal(json_integer_value(json_object_get(c, "team_id")), f->support);
    json_t *contact = json_object_get(c, "contact");
    assert_int_equal(json_integer_value(json_object_get(contact, "id")), r1.contact_id);
    assert_string_equal(json_string_value(json_object_get(contact, "name")), "Kunde");
    assert_null(json_object_get(c, "cursor_key"));
    json_decref(c);

    json_t *msgs;
    assert_int_equal(KP_STORE(f->s, message_list, r1.conversation_id, 0, 50, &msgs), 0);
    assert_int_equal(json_array_size(msgs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "text")),
                        "Hallo");
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "direction")),
                        "in");
    json_decref(msgs);

    /* the same person writing to another inbox gets a conversation there */
    struct kp_ingest_result r3 = ingest(f, f->inbox_sales, "kunde@example.org", "Preis?", 0, 0);
    assert_int_equal(r3.contact_id, r1.contact_id);
    assert_true(r3.new_conversation);
    assert_int_not_equal(r3.conversation_id, r1.conversation_id);

    /* an unknown inbox is refused */
    struct kp_inbound in = {.inbox_id = 999,
                            .channel = "api",
                            .identity_kind = "api",
                            .identity_value = "u1",
                            .text = "x"};
    struct kp_ingest_result r;
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, ingest, &in, &r), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(f->s, rollback), 0);
}

static void test_ingest_dedupe(void **state)
{
    struct fixture *f = *state;
    populate(f);
    struct kp_ingest_result r1 = ingest(f, f->inbox_support, "a@example.org", "eins", "key-1", 0);
    struct kp_ingest_result r2 = ingest(f, f->inbox_support, "a@example.org", "eins", "key-1", 0);
    assert_false(r1.duplicate);
    assert_true(r2.duplicate);
    assert_int_equal(r2.message_id, r1.message_id);
    assert_int_equal(r2.conversation_id, r1.conversation_id);
    assert_int_equal(r2.contact_id, r1.contact_id);
    assert_int_equal(r2.team_id, f->support);

    struct kp_ingest_result x1 = ingest(f, f->inbox_support, "b@example.org", "zwei", 0, "<m1@x>");
    struct kp_ingest_result x2 = ingest(f, f->inbox_support, "b@example.org", "zwei", 0, "<m1@x>");
    assert_false(x1.duplicate);
    assert_true(x2.duplicate);
    assert_int_equal(x2.message_id, x1.message_id);
    assert_int_equal(x2.conversation_id, x1.conversation_id);
    /* an idempotency key and an external id with the same text do not collide */
    struct kp_ingest_result x3 = ingest(f, f->inbox_support, "b@example.org", "drei", "<m1@x>", 0);
    assert_false(x3.duplicate);
    assert_int_not_equal(x3.message_id, x1.message_id);
    /* keys are per inbox */
    struct kp_ingest_result o = ingest(f, f->inbox_sales, "a@example.org", "eins", "key-1", 0);
    assert_false(o.duplicate);
    assert_int_not_equal(o.message_id, r1.message_id);

    json_t *st;
    assert_int_equal(KP_STORE(f->s, stats, &st), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "messages")), 4);
    json_decref(st);
    int rc;
    json_t *c = conv_get(f, f->admin, true, r1.conversation_id, &rc);
    assert_int_equal(json_integer_value(json_object_get(c, "message_count")), 1);
    json_decref(c);
}

static void test_resolved_conversation_reopens_new(void **state)
{
    struct fixture *f = *state;
    populate(f);
    struct kp_ingest_result r1 = ingest(f, f->inbox_support, "c@example.org", "Hilfe", 0, 0);
    struct kp_conv_change ch = {.state = "resolved"};
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, conversation_update, r1.conversation_id, &ch), 0);
    assert_int_equal(KP_STORE(f->s, conversation_update, 4242, &ch), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    int rc;
    json_t *c = conv_get(f, f->admin, true, r1.conversation_id, &rc);
    assert_string_equal(json_string_value(json_object_get(c, "state")), "resolved");
    assert_true(json_is_null(json_object_get(c, "waiting_since")));
    json_decref(c);

    struct kp_ingest_result r2 = ingest(f, f->inbox_support, "c@example.org", "Wieder ich", 0, 0);
    assert_true(r2.new_conversation);
    assert_false(r2.new_contact);
    assert_int_not_equal(r2.conversation_id, r1.conversation_id);
    assert_int_equal(r2.contact_id, r1.contact_id);

    /* a pending conversation is reused and opened again by the customer's message */
    ch.state = "pending";
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, conversation_update, r2.conversation_id, &ch), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    struct kp_ingest_result r3 = ingest(f, f->inbox_support, "c@example.org", "Und?", 0, 0);
    assert_int_equal(r3.conversation_id, r2.conversation_id);
    c = conv_get(f, f->admin, true, r2.conversation_id, &rc);
    assert_string_equal(json_string_value(json_object_get(c, "state")), "open");
    json_decref(c);
}

static void test_visibility(void **state)
{
    struct fixture *f = *state;
    populate(f);
    struct kp_ingest_result sup = ingest(f, f->inbox_support, "s@example.org", "Support?", 0, 0);
    struct kp_ingest_result sal = ingest(f, f->inbox_sales, "t@example.org", "Sales?", 0, 0);
    int64_t ids[16];
    size_t n;

    n = conv_ids(f, f->anna, false, ids, 16);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], sup.conversation_id);
    n = conv_ids(f, f->bob, false, ids, 16);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], sal.conversation_id);
    n = conv_ids(f, f->carl, false, ids, 16);
    assert_int_equal(n, 0);
    /* the admin flag of the viewer, not the agent's id, opens everything */
    n = conv_ids(f, f->carl, true, ids, 16);
    assert_int_equal(n, 2);

    int rc;
    json_t *c = conv_get(f, f->anna, false, sal.conversation_id, &rc);
    assert_int_equal(rc, KP_ENOTFOUND);
    assert_null(c);
    c = conv_get(f, f->anna, false, sup.conversation_id, &rc);
    assert_int_equal(rc, 0);
    json_decref(c);
    c = conv_get(f, f->carl, false, sup.conversation_id, &rc);
    assert_int_equal(rc, KP_ENOTFOUND);

    /* assigned to carl: he sees it without being in the team */
    struct kp_conv_change ch = {.assignee_id = f->carl};
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, conversation_update, sal.conversation_id, &ch), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    n = conv_ids(f, f->carl, false, ids, 16);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], sal.conversation_id);
    c = conv_get(f, f->carl, false, sal.conversation_id, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(json_integer_value(json_object_get(c, "assignee_id")), f->carl);
    json_decref(c);
    /* the assignee filter and the unassigned filter */
    struct kp_conv_query q = {.viewer = {.admin = true}, .assignee_id = -1, .limit = 10};
    json_t *out;
    assert_int_equal(kp_store_conversation_list_json(f->s, &q, &out), 0);
    assert_int_equal(json_array_size(json_object_get(out, "items")), 1);
    json_decref(out);
    q.assignee_id = f->carl;
    assert_int_equal(kp_store_conversation_list_json(f->s, &q, &out), 0);
    assert_int_equal(json_array_size(json_object_get(out, "items")), 1);
    json_decref(out);

    /* unassigned again: carl loses it */
    ch.assignee_id = -1;
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, conversation_update, sal.conversation_id, &ch), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    assert_int_equal(conv_ids(f, f->carl, false, ids, 16), 0);
    /* leaving a team hides its conversations */
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, team_member, f->support, f->anna, false), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    assert_int_equal(conv_ids(f, f->anna, false, ids, 16), 0);
}

static void test_reply_clears_waiting_since(void **state)
{
    struct fixture *f = *state;
    populate(f);
    struct kp_ingest_result r = ingest(f, f->inbox_support, "w@example.org", "Warte", 0, 0);
    int rc;
    json_t *c = conv_get(f, f->admin, true, r.conversation_id, &rc);
    assert_true(json_is_string(json_object_get(c, "waiting_since")));
    json_decref(c);

    /* an internal note is not an answer */
    struct kp_message_new note = {.conversation_id = r.conversation_id,
                                  .direction = "note",
                                  .author_agent_id = f->anna,
                                  .text = "intern: Kunde anrufen"};
    int64_t note_id, reply_id;
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, message_add, &note, &note_id), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    c = conv_get(f, f->admin, true, r.conversation_id, &rc);
    assert_true(json_is_string(json_object_get(c, "waiting_since")));
    assert_string_equal(json_string_value(json_object_get(c, "preview")), "Warte");
    assert_int_equal(json_integer_value(json_object_get(c, "message_count")), 2);
    json_decref(c);

    struct kp_message_new reply = {.conversation_id = r.conversation_id,
                                   .direction = "out",
                                   .author_agent_id = f->anna,
                                   .text = "Wir   kümmern\nuns."};
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, message_add, &reply, &reply_id), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    c = conv_get(f, f->admin, true, r.conversation_id, &rc);
    assert_true(json_is_null(json_object_get(c, "waiting_since")));
    assert_string_equal(json_string_value(json_object_get(c, "preview")), "Wir kümmern uns.");
    assert_int_equal(json_integer_value(json_object_get(c, "message_count")), 3);
    json_decref(c);

    struct kp_buf text;
    kp_buf_init(&text, 0);
    assert_int_equal(KP_STORE(f->s, message_text, reply_id, &text), 0);
    json_t *m = json_loadb(text.data, text.len, 0, NULL);
    kp_buf_release(&text);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "direction")), "out");
    assert_string_equal(json_string_value(json_object_get(m, "channel")), "email");
    assert_int_equal(json_integer_value(json_object_get(m, "author_agent_id")), f->anna);
    json_decref(m);

    /* the next customer message starts waiting again */
    ingest(f, f->inbox_support, "w@example.org", "Danke, aber", 0, 0);
    c = conv_get(f, f->admin, true, r.conversation_id, &rc);
    assert_true(json_is_string(json_object_get(c, "waiting_since")));
    json_decref(c);

    struct kp_message_new lost = {.conversation_id = 777, .direction = "out", .text = "x"};
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, message_add, &lost, &reply_id), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(f->s, rollback), 0);
}

/* The preview of the conversation after one inbound message with text. */
static char *preview_of(struct fixture *f, const char *from, const char *text)
{
    struct kp_ingest_result r = ingest(f, f->inbox_support, from, text, 0, 0);
    int rc;
    json_t *c = conv_get(f, f->admin, true, r.conversation_id, &rc);
    assert_int_equal(rc, 0);
    char *p = kp_xstrdup(json_string_value(json_object_get(c, "preview")));
    json_decref(c);
    return p;
}

static void test_preview_keeps_utf8(void **state)
{
    struct fixture *f = *state;
    populate(f);
    /* a last character outside ASCII stays when nothing was cut */
    char *p = preview_of(f, "p1@example.org", "Danke \xf0\x9f\x91\x8b");
    assert_string_equal(p, "Danke \xf0\x9f\x91\x8b");
    free(p);
    p = preview_of(f, "p2@example.org", "Caf\xc3\xa9");
    assert_string_equal(p, "Caf\xc3\xa9");
    free(p);
    /* long texts are cut at a character boundary, to a prefix of the text */
    static const char *unit[] = {"\xc3\xbc", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    for (size_t u = 0; u < KP_ARRAY_LEN(unit); u++) {
        char text[1024] = "a";
        while (strlen(text) + strlen(unit[u]) < sizeof(text))
            strncat(text, unit[u], sizeof(text) - strlen(text) - 1);
        char from[32];
        snprintf(from, sizeof(from), "long%zu@example.org", u);
        p = preview_of(f, from, text);
        size_t n = strlen(p);
        assert_true(n >= 100 && n < 160);
        assert_int_equal(kp_json_check_utf8(p, n), 0);
        assert_memory_equal(p, text, n);
        assert_int_equal((n - 1) % strlen(unit[u]), 0);
        free(p);
    }
}

static void test_tags(void **state)
{
    struct fixture *f = *state;
    populate(f);
    struct kp_ingest_result a = ingest(f, f->inbox_support, "t1@example.org", "eins", 0, 0);
    struct kp_ingest_result b = ingest(f, f->inbox_support, "t2@example.org", "zwei", 0, 0);
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, conversation_tag, a.conversation_id, "billing", true), 0);
    assert_int_equal(KP_STORE(f->s, conversation_tag, a.conversation_id, "vip", true), 0);
    assert_int_equal(KP_STORE(f->s, conversation_tag, a.conversation_id, "vip", true), 0);
    assert_int_equal(KP_STORE(f->s, conversation_tag, b.conversation_id, "vip", true), 0);
    assert_int_equal(KP_STORE(f->s, conversation_tag, 9999, "vip", true), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(f->s, commit), 0);

    int rc;
    json_t *c = conv_get(f, f->admin, true, a.conversation_id, &rc);
    json_t *tags = json_object_get(c, "tags");
    assert_int_equal(json_array_size(tags), 2);
    bool billing = false, vip = false;
    for (size_t i = 0; i < 2; i++) {
        const char *t = json_string_value(json_array_get(tags, i));
        billing |= strcmp(t, "billing") == 0;
        vip |= strcmp(t, "vip") == 0;
    }
    assert_true(billing && vip);
    json_decref(c);

    struct kp_conv_query q = {.viewer = {.admin = true}, .tag = "billing", .limit = 10};
    json_t *out;
    assert_int_equal(kp_store_conversation_list_json(f->s, &q, &out), 0);
    assert_int_equal(json_array_size(json_object_get(out, "items")), 1);
    json_decref(out);
    q.tag = "vip";
    assert_int_equal(kp_store_conversation_list_json(f->s, &q, &out), 0);
    assert_int_equal(json_array_size(json_object_get(out, "items")), 2);
    json_decref(out);

    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, conversation_tag, a.conversation_id, "vip", false), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    assert_int_equal(kp_store_conversation_list_json(f->s, &q, &out), 0);
    json_t *items = json_object_get(out, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "id")),
                     b.conversation_id);
    json_decref(out);
    c = conv_get(f, f->admin, true, a.conversation_id, &rc);
    assert_int_equal(json_array_size(json_object_get(c, "tags")), 1);
    json_decref(c);
}

static void test_cursor_pagination(void **state)
{
    struct fixture *f = *state;
    populate(f);
    enum { N = 23 };
    int64_t made[N];
    for (int i = 0; i < N; i++) {
        char from[64];
        snprintf(from, sizeof(from), "p%d@example.org", i);
        made[i] = ingest(f, i % 2 ? f->inbox_sales : f->inbox_support, from, "Seite", 0, 0)
                      .conversation_id;
    }
    int64_t seen[N];
    size_t n_seen = 0;
    int pages = 0;
    char cursor[64] = "";
    for (;;) {
        struct kp_conv_query q = {
            .viewer = {.agent_id = f->admin, .admin = true},
            .cursor = cursor[0] ? cursor : NULL,
            .limit = 5,
        };
        json_t *out;
        assert_int_equal(kp_store_conversation_list_json(f->s, &q, &out), 0);
        json_t *items = json_object_get(out, "items");
        assert_true(json_array_size(items) <= 5);
        pages++;
        for (size_t i = 0; i < json_array_size(items); i++) {
            int64_t id = json_integer_value(json_object_get(json_array_get(items, i), "id"));
            if (has_id(seen, n_seen, id))
                fail_msg("conversation %lld shown twice", (long long)id);
            assert_true(n_seen < N);
            seen[n_seen++] = id;
        }
        json_t *next = json_object_get(out, "next_cursor");
        if (json_is_null(next)) {
            json_decref(out);
            break;
        }
        assert_true(json_is_string(next));
        snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        json_decref(out);
        assert_true(pages < 10);
    }
    assert_int_equal(n_seen, N);
    assert_int_equal(pages, 5);
    for (int i = 0; i < N; i++)
        assert_true(has_id(seen, n_seen, made[i]));
    /* newest first: the last made conversation comes first */
    assert_int_equal(seen[0], made[N - 1]);

    /* a team member pages through only his team's conversations */
    n_seen = 0;
    cursor[0] = '\0';
    for (;;) {
        struct kp_conv_query q = {
            .viewer = {.agent_id = f->bob}, .cursor = cursor[0] ? cursor : NULL, .limit = 4};
        json_t *out;
        assert_int_equal(kp_store_conversation_list_json(f->s, &q, &out), 0);
        json_t *items = json_object_get(out, "items");
        for (size_t i = 0; i < json_array_size(items); i++)
            seen[n_seen++] = json_integer_value(json_object_get(json_array_get(items, i), "id"));
        json_t *next = json_object_get(out, "next_cursor");
        bool done = json_is_null(next);
        if (!done)
            snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        json_decref(out);
        if (done)
            break;
        assert_true(n_seen < N);
    }
    assert_int_equal(n_seen, N / 2);

    struct kp_conv_query bad = {.viewer = {.admin = true}, .cursor = "garbage", .limit = 5};
    json_t *out = NULL;
    assert_int_equal(kp_store_conversation_list_json(f->s, &bad, &out), KP_EINVAL);
}

/* Runs the store's side of the message pipeline over everything pending, in batches of at most
 * cap, with the given language as the analysis; returns how many messages it took. */
static size_t pipeline_all(struct kp_store *s, size_t cap, const char *lang)
{
    struct kp_pipe_msg msgs[8];
    size_t total = 0, n;
    assert_true(cap <= KP_ARRAY_LEN(msgs));
    do {
        struct kp_buf text;
        int64_t after;
        kp_buf_init(&text, 1 << 16);
        assert_int_equal(KP_STORE(s, pipeline_next, &after, msgs, cap, 100, &text, &n), 0);
        for (size_t i = 0; i < n; i++)
            snprintf(msgs[i].lang, sizeof(msgs[i].lang), "%s", lang);
        assert_int_equal(KP_STORE0(s, begin), 0);
        assert_int_equal(KP_STORE(s, pipeline_done, after, msgs, n), 0);
        assert_int_equal(KP_STORE0(s, commit), 0);
        kp_buf_release(&text);
        total += n;
    } while (n == cap);
    return total;
}

static int64_t pending(struct kp_store *s)
{
    json_t *st;
    assert_int_equal(KP_STORE(s, stats, &st), 0);
    int64_t n = json_integer_value(json_object_get(st, "pipeline_pending"));
    json_decref(st);
    return n;
}

static size_t hits_for(struct kp_store *s, const char *q)
{
    struct kp_viewer admin = {.admin = true};
    json_t *hits;
    assert_int_equal(KP_STORE(s, search, &admin, q, 10, &hits), 0);
    size_t n = json_array_size(hits);
    json_decref(hits);
    return n;
}

static void test_search(void **state)
{
    struct fixture *f = *state;
    populate(f);
    struct kp_ingest_result r = ingest(f, f->inbox_support, "s1@example.org",
                                       "Die Rechnung <b>fehlt</b> noch & \"bitte\" schnell", 0, 0);
    ingest(f, f->inbox_sales, "s2@example.org", "Angebot für 10 Lizenzen", 0, 0);
    assert_int_equal(pipeline_all(f->s, 8, ""), 2);

    struct kp_viewer admin = {.agent_id = f->admin, .admin = true};
    json_t *hits;
    assert_int_equal(KP_STORE(f->s, search, &admin, "rechnung", 10, &hits), 0);
    assert_int_equal(json_array_size(hits), 1);
    json_t *hit = json_array_get(hits, 0);
    assert_int_equal(json_integer_value(json_object_get(hit, "message_id")), r.message_id);
    assert_int_equal(json_integer_value(json_object_get(hit, "conversation_id")),
                     r.conversation_id);
    const char *sn = json_string_value(json_object_get(hit, "snippet"));
    assert_non_null(sn);
    if (!strstr(sn, "<mark>Rechnung</mark>"))
        fail_msg("snippet '%s' lacks the highlight", sn);
    assert_non_null(strstr(sn, "&lt;b&gt;fehlt&lt;/b&gt;"));
    assert_non_null(strstr(sn, "&amp;"));
    assert_non_null(strstr(sn, "&quot;bitte&quot;"));
    assert_null(strstr(sn, "<b>"));
    json_decref(hits);

    /* FTS syntax in the query is not interpreted */
    assert_int_equal(KP_STORE(f->s, search, &admin, "rechnung OR \"*\" NEAR(", 10, &hits), 0);
    json_decref(hits);
    assert_int_equal(KP_STORE(f->s, search, &admin, "!!! ???", 10, &hits), 0);
    assert_int_equal(json_array_size(hits), 0);
    json_decref(hits);
    assert_int_equal(KP_STORE(f->s, search, &admin, "Lizenzen", 10, &hits), 0);
    assert_int_equal(json_array_size(hits), 1);
    json_decref(hits);

    /* only what the viewer may see */
    struct kp_viewer bob = {.agent_id = f->bob};
    assert_int_equal(KP_STORE(f->s, search, &bob, "rechnung", 10, &hits), 0);
    assert_int_equal(json_array_size(hits), 0);
    json_decref(hits);
    struct kp_viewer anna = {.agent_id = f->anna};
    assert_int_equal(KP_STORE(f->s, search, &anna, "Rechnung", 10, &hits), 0);
    assert_int_equal(json_array_size(hits), 1);
    json_decref(hits);

    /* the conversation list's text filter uses the same index */
    struct kp_conv_query q = {.viewer = {.admin = true}, .text = "rechnung", .limit = 10};
    json_t *out;
    assert_int_equal(kp_store_conversation_list_json(f->s, &q, &out), 0);
    assert_int_equal(json_array_size(json_object_get(out, "items")), 1);
    json_decref(out);
}

static void test_pipeline(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    populate(f);
    struct kp_ingest_result a =
        ingest(f, f->inbox_support, "p1@example.org", "Erste Nachricht", 0, 0);
    ingest(f, f->inbox_support, "p2@example.org", "Zweite Nachricht", 0, 0);
    struct kp_ingest_result c =
        ingest(f, f->inbox_sales, "p3@example.org", "Dritte Nachricht, etwas länger", 0, 0);
    /* stored, waiting for the pipeline: not searchable yet */
    assert_int_equal(pending(s), 3);
    assert_int_equal(hits_for(s, "nachricht"), 0);

    /* the next batch starts after the cursor, in id order, with the texts cut to text_cap */
    struct kp_pipe_msg msgs[2];
    struct kp_buf text;
    kp_buf_init(&text, 1 << 16);
    int64_t after = -1;
    size_t n;
    assert_int_equal(KP_STORE(s, pipeline_next, &after, msgs, 2, 5, &text, &n), 0);
    assert_int_equal(after, 0);
    assert_int_equal(n, 2);
    assert_int_equal(msgs[0].id, a.message_id);
    assert_string_equal(text.data + msgs[0].text_off, "Erste");
    assert_string_equal(text.data + msgs[1].text_off, "Zweit");
    snprintf(msgs[0].lang, sizeof(msgs[0].lang), "de");
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, pipeline_done, after, msgs, n), 0);
    /* the same batch again (a retry after a lost answer) is refused, not applied twice */
    assert_int_equal(KP_STORE(s, pipeline_done, after, msgs, n), KP_ECONFLICT);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(pending(s), 1);
    assert_int_equal(hits_for(s, "nachricht"), 2);
    json_t *list;
    assert_int_equal(KP_STORE(s, message_list, a.conversation_id, 0, 10, &list), 0);
    json_t *m0 = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(m0, "lang")), "de");
    json_decref(list);

    /* a rolled back batch leaves the cursor where it was */
    kp_buf_release(&text);
    kp_buf_init(&text, 1 << 16);
    assert_int_equal(KP_STORE(s, pipeline_next, &after, msgs, 2, 100, &text, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(msgs[0].id, c.message_id);
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, pipeline_done, after, msgs, n), 0);
    assert_int_equal(KP_STORE0(s, rollback), 0);
    assert_int_equal(pending(s), 1);
    assert_int_equal(hits_for(s, "länger"), 0);
    kp_buf_release(&text);
    assert_int_equal(pipeline_all(s, 2, "de"), 1);
    assert_int_equal(pending(s), 0);
    assert_int_equal(hits_for(s, "nachricht"), 3);
    assert_int_equal(hits_for(s, "laenger") + hits_for(s, "langer"), 1); /* diacritics folded */
    assert_int_equal(pipeline_all(s, 2, "de"), 0);

    /* replies and notes go through it too */
    struct kp_message_new r = {.conversation_id = a.conversation_id,
                               .direction = "out",
                               .author_agent_id = f->anna,
                               .text = "Antwort mit Quittung"};
    int64_t id;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, message_add, &r, &id), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(pending(s), 1);
    assert_int_equal(pipeline_all(s, 8, ""), 1);
    assert_int_equal(hits_for(s, "quittung"), 1);
}

static void test_events(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    static const char *types[] = {"message.created", "conversation.updated", "message.created"};
    int64_t ids[3];
    assert_int_equal(KP_STORE0(s, begin), 0);
    for (int i = 0; i < 3; i++) {
        struct kp_event ev = {.type = types[i],
                              .conversation_id = 10 + i,
                              .message_id = 100 + i,
                              .team_id = i ? 2 : 0};
        assert_int_equal(KP_STORE(s, event_add, &ev), 0);
        ids[i] = ev.id;
        assert_true(i == 0 || ids[i] > ids[i - 1]);
    }
    assert_int_equal(KP_STORE0(s, commit), 0);

    json_t *evs;
    assert_int_equal(KP_STORE(s, event_since, 0, 100, &evs), 0);
    assert_int_equal(json_array_size(evs), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *e = json_array_get(evs, i);
        assert_int_equal(json_integer_value(json_object_get(e, "id")), ids[i]);
        assert_string_equal(json_string_value(json_object_get(e, "type")), types[i]);
        assert_int_equal(json_integer_value(json_object_get(e, "conversation_id")), 10 + i);
        assert_int_equal(json_integer_value(json_object_get(e, "message_id")), 100 + i);
        assert_true(json_is_string(json_object_get(e, "ts")));
    }
    /* the first event has no team: null, not 0 */
    assert_true(json_is_null(json_object_get(json_array_get(evs, 0), "team_id")));
    json_decref(evs);
    assert_int_equal(KP_STORE(s, event_since, ids[0], 100, &evs), 0);
    assert_int_equal(json_array_size(evs), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, 0), "id")), ids[1]);
    json_decref(evs);
    assert_int_equal(KP_STORE(s, event_since, 0, 1, &evs), 0);
    assert_int_equal(json_array_size(evs), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, 0), "id")), ids[0]);
    json_decref(evs);
    assert_int_equal(KP_STORE(s, event_since, ids[2], 100, &evs), 0);
    assert_int_equal(json_array_size(evs), 0);
    json_decref(evs);

    /* pruning keeps what is newer than the cut and the newest id */
    int64_t last = 0;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, event_prune, kp_clock_now_ms() - 60000), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, event_since, 0, 100, &evs), 0);
    assert_int_equal(json_array_size(evs), 3);
    json_decref(evs);
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, event_prune, kp_clock_now_ms() + 1000), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    /* all old, but the newest stays: it keeps ids from being handed out again */
    assert_int_equal(KP_STORE(s, event_since, 0, 100, &evs), 0);
    assert_int_equal(json_array_size(evs), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, 0), "id")), ids[2]);
    json_decref(evs);
    assert_int_equal(KP_STORE(s, event_last, &last), 0);
    assert_int_equal(last, ids[2]);
    /* ids are never reused: a client resuming after ids[2] must see the next event */
    struct kp_event next = {.type = "conversation.updated", .conversation_id = 1};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, event_add, &next), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_true(next.id > ids[2]);
}

static void test_reopen_keeps_data(void **state)
{
    struct fixture *f = *state;
    populate(f);
    struct kp_ingest_result r = ingest(f, f->inbox_support, "d@example.org", "Bleibt", "k1", 0);
    kp_store_close(f->s);
    f->s = NULL;
    assert_int_equal(kp_store_open(f->dir, &f->s), 0);
    int v = 0;
    assert_int_equal(KP_STORE(f->s, migrate, &v), 0);
    assert_int_equal(v, 5);
    json_t *a;
    assert_int_equal(KP_STORE(f->s, agent_get, f->anna, &a), 0);
    assert_string_equal(json_string_value(json_object_get(a, "email")), "anna@kp.test");
    json_decref(a);
    int rc;
    json_t *c = conv_get(f, f->anna, false, r.conversation_id, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(json_string_value(json_object_get(c, "preview")), "Bleibt");
    json_decref(c);
    /* dedupe state survives too */
    struct kp_ingest_result again = ingest(f, f->inbox_support, "d@example.org", "Bleibt", "k1", 0);
    assert_true(again.duplicate);
    assert_int_equal(again.message_id, r.message_id);
    json_t *st;
    assert_int_equal(KP_STORE(f->s, stats, &st), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "agents")), 4);
    assert_int_equal(json_integer_value(json_object_get(st, "messages")), 1);
    json_decref(st);
    /* "sqlite:" urls open the same directory */
    kp_store_close(f->s);
    char url[128];
    snprintf(url, sizeof(url), "sqlite:%s?sync=normal", f->dir);
    assert_int_equal(kp_store_open(url, &f->s), 0);
    assert_int_equal(KP_STORE(f->s, agent_get, f->bob, &a), 0);
    json_decref(a);
    struct kp_store *other = NULL;
    assert_int_equal(kp_store_open("postgres://nowhere/db", &other), KP_EINVAL);
    assert_null(other);
}

int main(void)
{
    kp_log_set_level(KP_LOG_WARN); /* no "applied migration" line per test */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agents_and_teams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_same_identity_same_conversation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ingest_dedupe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolved_conversation_reopens_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visibility, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_clears_waiting_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preview_keeps_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
