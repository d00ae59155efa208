/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_widget_test.c - unit tests for the SQLite store's chat widget operations through
 * the store.h vtable: widget secrets and settings (webchat inboxes only), visitor sessions
 * (expiry, touch, prune), linking a signed-in customer to his contact, the conversation a
 * visitor writes in, messages as the widget shows them (never internal notes), page views
 * (time on the page before, rate limit, listing) and who may see a contact. Each test gets a
 * fresh data directory under /tmp.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "store/store.h"
#include "store_test_util.h"

static const char SECRET_A[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char SECRET_B[] = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

struct fixture {
    char dir[64];
    struct kp_store *s;
    int64_t admin, anna, bob, team, other_team;
    int64_t chat, mail; /* inboxes: webchat (team), email (team) */
    int64_t lena;       /* contact with email identity lena@example.de */
    int64_t mail_conv;  /* Lena's email conversation */
};

static int setup(void **state)
{
    struct fixture *f = kp_xcalloc(1, sizeof(*f));
    if (kp_test_store_open(f->dir, "widget", 3, &f->s)) {
        free(f);
        return -1;
    }
    struct kp_store *s = f->s;
    assert_int_equal(KP_STORE0(s, begin), 0);
    f->admin = kp_test_agent(s, "admin@kp.test", "Admin", "admin");
    f->anna = kp_test_agent(s, "anna@kp.test", "Anna Becker", "agent");
    f->bob = kp_test_agent(s, "bob@kp.test", "Bob", "agent");
    assert_int_equal(KP_STORE(s, team_create, "Support", &f->team), 0);
    assert_int_equal(KP_STORE(s, team_create, "Billing", &f->other_team), 0);
    assert_int_equal(KP_STORE(s, team_member, f->team, f->anna, true), 0);
    assert_int_equal(KP_STORE(s, team_member, f->other_team, f->bob, true), 0);
    assert_int_equal(KP_STORE(s, inbox_create, "Chat", "webchat", f->team, &f->chat), 0);
    assert_int_equal(KP_STORE(s, inbox_create, "Mail", "email", f->team, &f->mail), 0);
    struct kp_inbound in = {.inbox_id = f->mail,
                            .channel = "email",
                            .identity_kind = "email",
                            .identity_value = "lena@example.de",
                            .sender_name = "Lena Schmidt",
                            .subject = "Wo bleibt Bestellung KP-123456?",
                            .text = "Wo bleibt mein Paket?"};
    struct kp_ingest_result r;
    assert_int_equal(KP_STORE(s, ingest, &in, &r), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    f->lena = r.contact_id;
    f->mail_conv = r.conversation_id;
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

static void hash_of(const char *token, uint8_t out[32])
{
    memset(out, 0, 32);
    memcpy(out, token, strlen(token) < 32 ? strlen(token) : 32);
}

static void test_widget_secret_and_settings(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    struct kp_widget w;
    assert_int_equal(KP_STORE(s, widget_get, f->chat, &w), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, widget_secret, f->chat, SECRET_A), 0);
    /* only webchat inboxes have a widget; a missing inbox is not found */
    assert_int_equal(KP_STORE(s, widget_secret, f->mail, SECRET_A), KP_EINVAL);
    assert_int_equal(KP_STORE(s, widget_secret, f->chat + 100, SECRET_A), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, widget_get, f->chat, &w), 0);
    assert_string_equal(w.secret, SECRET_A);
    assert_int_equal(w.inbox_id, f->chat);
    assert_int_equal(w.team_id, f->team);
    assert_string_equal(w.greeting_de, "");
    assert_string_equal(w.origins, "");
    assert_int_equal(KP_STORE(s, widget_get, f->mail, &w), KP_ENOTFOUND);

    /* rotation replaces the secret; settings change one at a time */
    struct kp_widget_change ch = {.greeting_de = "Moin!", .origins = "https://shop.example"};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, widget_secret, f->chat, SECRET_B), 0);
    assert_int_equal(KP_STORE(s, widget_update, f->chat, &ch), 0);
    struct kp_widget_change en = {.greeting_en = "Hello!"};
    assert_int_equal(KP_STORE(s, widget_update, f->chat, &en), 0);
    assert_int_equal(KP_STORE(s, widget_update, f->mail, &en), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, widget_get, f->chat, &w), 0);
    assert_string_equal(w.secret, SECRET_B);
    assert_string_equal(w.greeting_de, "Moin!");
    assert_string_equal(w.greeting_en, "Hello!");
    assert_string_equal(w.origins, "https://shop.example");
    struct kp_widget_change clear = {.origins = ""};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, widget_update, f->chat, &clear), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, widget_get, f->chat, &w), 0);
    assert_string_equal(w.origins, "");
    assert_string_equal(w.greeting_de, "Moin!");
}

static void test_visitor_sessions(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    uint8_t a[32], b[32], c[32];
    hash_of("token-a", a);
    hash_of("token-b", b);
    hash_of("token-c", c);
    int64_t now = kp_clock_now_ms();
    struct kp_visitor_session in = {.inbox_id = f->chat, .contact_id = f->lena, .identified = true};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, visitor_session_create, a, &in, now + 60000), 0);
    in.identified = false;
    assert_int_equal(KP_STORE(s, visitor_session_create, b, &in, now - 1), 0); /* expired */
    struct kp_visitor_session bad = {.inbox_id = f->chat, .contact_id = f->lena + 999};
    assert_int_equal(KP_STORE(s, visitor_session_create, c, &bad, now + 60000), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, commit), 0);

    struct kp_visitor_session out = {0};
    assert_int_equal(KP_STORE(s, visitor_session_get, a, now, &out), 0);
    assert_int_equal(out.inbox_id, f->chat);
    assert_int_equal(out.contact_id, f->lena);
    assert_true(out.identified);
    assert_int_equal(KP_STORE(s, visitor_session_get, b, now, &out), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, visitor_session_get, c, now, &out), KP_ENOTFOUND);
    /* a session in use lives on; an expiry in the past never shortens it */
    assert_int_equal(KP_STORE(s, visitor_session_get, a, now + 120000, &out), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, visitor_session_touch, a, now + 300000), 0);
    assert_int_equal(KP_STORE(s, visitor_session_touch, a, now + 1000), 0);
    assert_int_equal(KP_STORE(s, visitor_session_touch, c, now + 1000), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, visitor_session_get, a, now + 120000, &out), 0);
    /* pruning takes the expired one only */
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, visitor_prune, now, now - 1000), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, visitor_session_get, a, now, &out), 0);
    /* the expired row is gone: creating it again works */
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, visitor_session_create, b, &in, now + 60000), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
}

static json_t *contact(struct kp_store *s, int64_t id)
{
    json_t *c;
    assert_int_equal(KP_STORE(s, contact_get, id, &c), 0);
    return c;
}

static bool has_identity(json_t *c, const char *kind, const char *value)
{
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(c, "identities"), i, id)
    {
        if (strcmp(kp_json_str(id, "kind"), kind) == 0 &&
            strcmp(kp_json_str(id, "value"), value) == 0)
            return true;
    }
    return false;
}

static void test_visitor_identify(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    int64_t id = 0, again = 0, other = 0, owner = 0;
    assert_int_equal(KP_STORE0(s, begin), 0);
    /* Lena's address: her contact, which also gets the shop account */
    struct kp_visitor_user lena = {.id = "cust-1", .email = "lena@example.de", .name = "Lena S."};
    assert_int_equal(KP_STORE(s, visitor_identify, &lena, &id), 0);
    assert_int_equal(id, f->lena);
    /* the shop account alone finds her now */
    struct kp_visitor_user by_id = {.id = "cust-1"};
    assert_int_equal(KP_STORE(s, visitor_identify, &by_id, &again), 0);
    assert_int_equal(again, f->lena);
    /* a new customer: a new contact with his name and both identities */
    struct kp_visitor_user max = {
        .id = "cust-2", .email = "max@example.de", .name = "Max Mustermann"};
    assert_int_equal(KP_STORE(s, visitor_identify, &max, &other), 0);
    assert_true(other != f->lena);
    /* another shop account with Lena's address (as the shop signed it): found by the address */
    struct kp_visitor_user thief = {.id = "cust-3", .email = "lena@example.de", .name = "Eve"};
    int64_t eve = 0;
    assert_int_equal(KP_STORE(s, visitor_identify, &thief, &eve), 0);
    assert_int_equal(eve, f->lena);
    struct kp_visitor_user none = {.name = "Nobody"};
    assert_int_equal(KP_STORE(s, visitor_identify, &none, &eve), KP_EINVAL);
    assert_int_equal(KP_STORE0(s, commit), 0);

    json_t *c = contact(s, f->lena);
    assert_string_equal(kp_json_str(c, "name"), "Lena Schmidt"); /* a known name stays */
    assert_true(has_identity(c, "shop", "cust-1"));
    assert_true(has_identity(c, "email", "lena@example.de"));
    json_decref(c);
    c = contact(s, other);
    assert_string_equal(kp_json_str(c, "name"), "Max Mustermann");
    assert_true(has_identity(c, "shop", "cust-2"));
    assert_true(has_identity(c, "email", "max@example.de"));
    json_decref(c);
    assert_int_equal(KP_STORE(s, identity_owner, "shop", "cust-2", &owner), 0);
    assert_int_equal(owner, other);
    assert_int_equal(KP_STORE(s, identity_owner, "shop", "cust-99", &owner), KP_ENOTFOUND);

    /* a contact without a name gets the signed-in customer's */
    struct kp_contact_new anon = {0};
    int64_t a = 0;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, contact_create, &anon, &a), 0);
    assert_int_equal(KP_STORE(s, identity_add, a, "email", "anon@example.de", NULL), 0);
    struct kp_visitor_user named = {.email = "anon@example.de", .name = "Ana Nym"};
    assert_int_equal(KP_STORE(s, visitor_identify, &named, &again), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(again, a);
    c = contact(s, a);
    assert_string_equal(kp_json_str(c, "name"), "Ana Nym");
    json_decref(c);
}

/* Writes in the webchat inbox as contact; returns the message id. */
static int64_t visitor_says(struct fixture *f, int64_t contact_id, const char *text,
                            const char *key, struct kp_ingest_result *r)
{
    struct kp_inbound in = {.inbox_id = f->chat,
                            .contact_id = contact_id,
                            .channel = "webchat",
                            .identity_kind = "webchat",
                            .text = text,
                            .idempotency_key = key};
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, ingest, &in, r), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    return r->message_id;
}

static void test_visitor_conversation_and_messages(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    int64_t conv = -1, contact = 0, inbox = 0;
    assert_int_equal(KP_STORE(s, visitor_conversation, f->lena, f->chat, false, &conv), 0);
    assert_int_equal(conv, 0);
    assert_int_equal(KP_STORE(s, visitor_inbox, f->lena, &inbox), KP_ENOTFOUND);

    /* the visitor's messages go to his contact, whatever identity is named */
    struct kp_ingest_result r, dup;
    visitor_says(f, f->lena, "Hallo aus dem Chat", "w1:abc", &r);
    assert_int_equal(r.contact_id, f->lena);
    assert_true(r.new_conversation);
    visitor_says(f, f->lena, "Hallo aus dem Chat", "w1:abc", &dup);
    assert_true(dup.duplicate);
    assert_int_equal(dup.message_id, r.message_id);
    assert_int_equal(KP_STORE(s, visitor_conversation, f->lena, f->chat, false, &conv), 0);
    assert_int_equal(conv, r.conversation_id);
    assert_int_equal(KP_STORE(s, visitor_route, conv, &contact, &inbox), 0);
    assert_int_equal(contact, f->lena);
    assert_int_equal(inbox, f->chat);
    assert_int_equal(KP_STORE(s, visitor_route, f->mail_conv, &contact, &inbox), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, visitor_inbox, f->lena, &inbox), 0);
    assert_int_equal(inbox, f->chat);
    struct kp_inbound unknown = {
        .inbox_id = f->chat, .contact_id = 9999, .channel = "webchat", .text = "x"};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, ingest, &unknown, &dup), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, rollback), 0);

    /* an agent's reply and an internal note: the widget sees the reply only */
    struct kp_message_new reply = {
        .conversation_id = conv, .direction = "out", .author_agent_id = f->anna, .text = "Hi!"};
    struct kp_message_new note = {
        .conversation_id = conv, .direction = "note", .author_agent_id = f->anna, .text = "psst"};
    int64_t reply_id, note_id;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, message_add, &reply, &reply_id), 0);
    assert_int_equal(KP_STORE(s, message_add, &note, &note_id), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    json_t *h;
    assert_int_equal(KP_STORE(s, visitor_history, conv, 100, &h), 0);
    assert_int_equal(json_array_size(h), 2);
    json_t *m0 = json_array_get(h, 0), *m1 = json_array_get(h, 1);
    assert_string_equal(kp_json_str(m0, "direction"), "in");
    assert_true(json_is_null(json_object_get(m0, "author_name")));
    assert_string_equal(kp_json_str(m1, "direction"), "out");
    assert_string_equal(kp_json_str(m1, "text"), "Hi!");
    assert_string_equal(kp_json_str(m1, "author_name"), "Anna"); /* first name only */
    assert_true(json_is_array(json_object_get(m1, "attachments")));
    assert_null(json_object_get(m1, "author_agent_id"));
    json_decref(h);
    assert_int_equal(KP_STORE(s, visitor_history, conv, 1, &h), 0); /* the newest one */
    assert_int_equal(json_array_size(h), 1);
    assert_int_equal(kp_json_int(json_array_get(h, 0), "id", 0), reply_id);
    json_decref(h);
    struct kp_buf b;
    kp_buf_init(&b, 0);
    assert_int_equal(KP_STORE(s, visitor_message, note_id, &b), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, visitor_message, reply_id, &b), 0);
    json_t *m = json_loads(b.data, 0, NULL);
    assert_non_null(m);
    assert_int_equal(kp_json_int(m, "conversation_id", 0), conv);
    assert_string_equal(kp_json_str(m, "author_name"), "Anna");
    json_decref(m);
    kp_buf_release(&b);

    /* a resolved conversation is done: the next one is new, and made on request */
    struct kp_conv_change done = {.state = "resolved"};
    int64_t fresh = 0, same = 0;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, conversation_update, conv, &done), 0);
    assert_int_equal(KP_STORE(s, visitor_conversation, f->lena, f->chat, false, &fresh), 0);
    assert_int_equal(fresh, 0);
    assert_int_equal(KP_STORE(s, visitor_conversation, f->lena, f->chat, true, &fresh), 0);
    assert_true(fresh > conv);
    assert_int_equal(KP_STORE(s, visitor_conversation, f->lena, f->chat, true, &same), 0);
    assert_int_equal(same, fresh);
    assert_int_equal(KP_STORE(s, visitor_conversation, 9999, f->chat, true, &same), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, commit), 0);
    json_t *c;
    static const struct kp_viewer all = {.admin = true};
    assert_int_equal(KP_STORE(s, conversation_get, &all, fresh, &c), 0);
    assert_string_equal(kp_json_str(c, "channel"), "webchat");
    assert_int_equal(kp_json_int(c, "team_id", 0), f->team);
    json_decref(c);
    /* the channel a conversation is answered on can change */
    struct kp_conv_change email = {.channel = "email"};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, conversation_update, fresh, &email), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, conversation_get, &all, fresh, &c), 0);
    assert_string_equal(kp_json_str(c, "channel"), "email");
    assert_string_equal(kp_json_str(c, "state"), "open");
    json_decref(c);
}

static void test_visitor_facts(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    struct kp_visitor_facts facts = {0};
    assert_int_equal(KP_STORE(s, visitor_facts, f->lena, &facts), 0);
    assert_string_equal(facts.name, "Lena Schmidt");
    assert_string_equal(facts.subject, "Wo bleibt Bestellung KP-123456?");
    assert_string_equal(facts.email, "lena@example.de");
    assert_string_equal(facts.last_order, "");
    json_t *attrs = json_pack("{ss}", "last_order", "KP-777777");
    struct kp_conv_change done = {.state = "resolved"};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, contact_update, f->lena, NULL, attrs), 0);
    assert_int_equal(KP_STORE(s, conversation_update, f->mail_conv, &done), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    json_decref(attrs);
    memset(&facts, 0, sizeof(facts));
    assert_int_equal(KP_STORE(s, visitor_facts, f->lena, &facts), 0);
    assert_string_equal(facts.last_order, "KP-777777");
    assert_string_equal(facts.subject, ""); /* resolved conversations do not count */
    assert_int_equal(KP_STORE(s, visitor_facts, 9999, &facts), KP_ENOTFOUND);
}

static void test_visitor_events(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    struct kp_visitor_event a = {.contact_id = f->lena,
                                 .url = "https://shop.example/",
                                 .title = "Start",
                                 .seconds_prev = -1};
    struct kp_visitor_event b = {.contact_id = f->lena,
                                 .url = "https://shop.example/help",
                                 .title = NULL,
                                 .seconds_prev = 42};
    int64_t ida, idb;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, visitor_event_add, &a, &ida), 0);
    assert_int_equal(KP_STORE(s, visitor_event_add, &b, &idb), 0);
    struct kp_visitor_event nobody = {
        .contact_id = 9999, .url = "https://x.example/", .seconds_prev = -1};
    assert_int_equal(KP_STORE(s, visitor_event_add, &nobody, NULL), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, commit), 0);
    json_t *list;
    assert_int_equal(KP_STORE(s, visitor_event_list, f->lena, 0, 10, &list), 0);
    assert_int_equal(json_array_size(list), 2);
    json_t *newest = json_array_get(list, 0), *first = json_array_get(list, 1);
    assert_int_equal(kp_json_int(newest, "id", 0), idb);
    assert_string_equal(kp_json_str(newest, "kind"), "page_view");
    assert_true(json_is_null(json_object_get(newest, "title")));
    assert_true(json_is_null(json_object_get(newest, "seconds"))); /* still on it */
    assert_string_equal(kp_json_str(first, "title"), "Start");
    assert_int_equal(kp_json_int(first, "seconds", 0), 42); /* the time before the next page */
    assert_non_null(kp_json_str(first, "created_at"));
    json_decref(list);
    assert_int_equal(KP_STORE(s, visitor_event_list, f->lena, idb, 10, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);

    /* at most KP_VISITOR_EVENTS_PER_MINUTE a minute per contact */
    int rc = 0, stored = 2;
    assert_int_equal(KP_STORE0(s, begin), 0);
    while ((rc = KP_STORE(s, visitor_event_add, &a, NULL)) == 0)
        stored++;
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(rc, KP_EBUSY);
    assert_int_equal(stored, KP_VISITOR_EVENTS_PER_MINUTE);
    /* pruning old events keeps recent ones */
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, visitor_prune, kp_clock_now_ms(), kp_clock_now_ms() - 60000), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, visitor_event_list, f->lena, 0, 100, &list), 0);
    assert_int_equal(json_array_size(list), KP_VISITOR_EVENTS_PER_MINUTE);
    json_decref(list);
}

static void test_contact_access(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    struct kp_viewer admin = {.agent_id = f->admin, .admin = true};
    struct kp_viewer anna = {.agent_id = f->anna}, bob = {.agent_id = f->bob};
    assert_int_equal(KP_STORE(s, contact_access, &admin, f->lena), 0);
    assert_int_equal(KP_STORE(s, contact_access, &anna, f->lena), 0); /* her team's conversation */
    assert_int_equal(KP_STORE(s, contact_access, &bob, f->lena), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, contact_access, &admin, 9999), KP_ENOTFOUND);
    /* Bob sees it once it is his */
    struct kp_conv_change mine = {.assignee_id = f->bob};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, conversation_update, f->mail_conv, &mine), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, contact_access, &bob, f->lena), 0);
    /* a contact without conversations: admins only */
    struct kp_contact_new anon = {0};
    int64_t id;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, contact_create, &anon, &id), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, contact_access, &admin, id), 0);
    assert_int_equal(KP_STORE(s, contact_access, &anna, id), KP_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_widget_secret_and_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visitor_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visitor_identify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visitor_conversation_and_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visitor_facts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visitor_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
