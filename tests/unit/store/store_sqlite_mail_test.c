/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_mail_test.c - unit tests for the SQLite store's email operations through the
 * store.h vtable (sqlite/004_email.sql): email inbox settings and the IMAP position, what a mail
 * keeps beside its message (Message-ID, threading rule, flags, addresses, raw source, inline
 * images), duplicates by Message-ID, threading by Message-ID and subject tag, joining, reopening
 * and quiet mails, the outbox (reply context, queue, due, retries, sent), bounces and kept mails,
 * the acknowledgement window and moving a message between conversations. Each test gets a fresh
 * data directory under /tmp.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "store/store.h"
#include "store_test_util.h"

struct fixture {
    char dir[64];
    struct kp_store *s;
    int64_t anna, team;
    int64_t mail;  /* email inbox support@kp.test of the team, with SMTP and IMAP */
    int64_t mail2; /* email inbox without settings */
    int64_t chat;  /* webchat inbox */
    int64_t api;   /* api inbox */
};

static const struct kp_viewer ADMIN = {.admin = true};

/* Sets an email inbox's settings in its own transaction; smtp_url "" = cannot send. */
static void mail_settings(struct fixture *f, int64_t inbox, const char *address,
                          const char *smtp_url)
{
    struct kp_mail_inbox *in = kp_xcalloc(1, sizeof(*in));
    in->inbox_id = inbox;
    snprintf(in->address, sizeof(in->address), "%s", address);
    snprintf(in->display_name, sizeof(in->display_name), "Knotenpunkt");
    snprintf(in->smtp_url, sizeof(in->smtp_url), "%s", smtp_url);
    snprintf(in->imap_after, sizeof(in->imap_after), "seen");
    in->imap_poll_s = 60;
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, mail_inbox_set, in), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    free(in);
}

static int setup(void **state)
{
    struct fixture *f = kp_xcalloc(1, sizeof(*f));
    if (kp_test_store_open(f->dir, "mail", 4, &f->s)) {
        free(f);
        return -1;
    }
    struct kp_store *s = f->s;
    assert_int_equal(KP_STORE0(s, begin), 0);
    f->anna = kp_test_agent(s, "anna@kp.test", "Anna Becker", "agent");
    assert_int_equal(KP_STORE(s, team_create, "Support", &f->team), 0);
    assert_int_equal(KP_STORE(s, inbox_create, "Support", "email", f->team, &f->mail), 0);
    assert_int_equal(KP_STORE(s, inbox_create, "Billing", "email", 0, &f->mail2), 0);
    assert_int_equal(KP_STORE(s, inbox_create, "Chat", "webchat", f->team, &f->chat), 0);
    assert_int_equal(KP_STORE(s, inbox_create, "Shop", "api", 0, &f->api), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    mail_settings(f, f->mail, "support@kp.test", "smtp://mail.kp.test:587");
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

/* An inbound mail from `from` (its identity and, unless meta names another, its From). */
static struct kp_inbound email_in(int64_t inbox, const char *from, const char *text,
                                  struct kp_mail_meta *meta)
{
    if (!meta->from_addr)
        meta->from_addr = from;
    if (!meta->thread_rule)
        meta->thread_rule = "new";
    return (struct kp_inbound){.inbox_id = inbox,
                               .channel = "email",
                               .identity_kind = "email",
                               .identity_value = from,
                               .subject = meta->subject,
                               .text = text,
                               .external_id = meta->header_id,
                               .mail = meta};
}

/* Ingests in its own transaction. */
static void ingest(struct fixture *f, const struct kp_inbound *in, struct kp_ingest_result *r)
{
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, ingest, in, r), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
}

/* A mail with Message-ID header_id from `from` to the inbox; returns its message id. */
static int64_t mail_from(struct fixture *f, int64_t inbox, const char *from, const char *header_id,
                         const char *text, struct kp_ingest_result *r)
{
    struct kp_mail_meta meta = {.header_id = header_id, .subject = "Frage"};
    struct kp_inbound in = email_in(inbox, from, text, &meta);
    ingest(f, &in, r);
    return r->message_id;
}

/* An agent's reply (automatic: the inbox's) queued by email from f->mail. */
static int64_t queue_reply(struct fixture *f, int64_t conv, const char *text, const char *header_id,
                           bool automatic)
{
    struct kp_message_new m = {.conversation_id = conv,
                               .direction = "out",
                               .channel = "email",
                               .author_agent_id = automatic ? 0 : f->anna,
                               .text = text};
    int64_t id = 0;
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, message_add, &m, &id), 0);
    struct kp_mail_out out = {.message_id = id,
                              .inbox_id = f->mail,
                              .header_id = header_id,
                              .recipient = "lena@example.de",
                              .subject = "Re: Frage",
                              .in_reply_to = "q1@example.de",
                              .refs = "q0@example.de q1@example.de",
                              .automatic = automatic};
    assert_int_equal(KP_STORE(f->s, mail_queue, &out), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    return id;
}

/* The message as message_text serves it. */
static json_t *message(struct kp_store *s, int64_t id)
{
    struct kp_buf b;
    kp_buf_init(&b, 0);
    assert_int_equal(KP_STORE(s, message_text, id, &b), 0);
    json_t *m = json_loadb(b.data, b.len, 0, NULL);
    kp_buf_release(&b);
    assert_non_null(m);
    return m;
}

static json_t *messages(struct kp_store *s, int64_t conv)
{
    json_t *list;
    assert_int_equal(KP_STORE(s, message_list, conv, 0, 100, &list), 0);
    return list;
}

static json_t *conversation(struct kp_store *s, int64_t id)
{
    json_t *c;
    assert_int_equal(KP_STORE(s, conversation_get, &ADMIN, id, &c), 0);
    return c;
}

static int64_t message_count(struct kp_store *s, int64_t conv)
{
    json_t *c = conversation(s, conv);
    int64_t n = kp_json_int(c, "message_count", -1);
    json_decref(c);
    return n;
}

static json_t *email_of(json_t *m)
{
    json_t *e = json_object_get(m, "email");
    assert_true(json_is_object(e));
    return e;
}

static json_t *delivery_of(json_t *m)
{
    json_t *d = json_object_get(m, "delivery");
    assert_true(json_is_object(d));
    return d;
}

/* has_raw as SQLite's json_object writes a truth value: 1 or true. */
static bool yes(json_t *v)
{
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) == 1);
}

static int64_t iso_ms(json_t *v)
{
    int64_t ms = 0;
    assert_true(json_is_string(v));
    assert_int_equal(kp_clock_parse_iso8601(json_string_value(v), &ms), 0);
    return ms;
}

static void test_mail_inbox_settings(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    struct kp_mail_inbox *in = kp_xcalloc(1, sizeof(*in)), *out = kp_xcalloc(1, sizeof(*out));
    assert_int_equal(KP_STORE(s, mail_inbox_get, f->mail2, out), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_inbox_get, f->chat, out), KP_ENOTFOUND);

    /* only email inboxes have mail settings */
    in->inbox_id = f->chat;
    snprintf(in->address, sizeof(in->address), "chat@kp.test");
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_inbox_set, in), KP_EINVAL);
    in->inbox_id = f->api;
    assert_int_equal(KP_STORE(s, mail_inbox_set, in), KP_EINVAL);
    in->inbox_id = f->api + 100;
    assert_int_equal(KP_STORE(s, mail_inbox_set, in), KP_ENOTFOUND);
    /* the address belongs to one inbox, whatever its case */
    in->inbox_id = f->mail2;
    snprintf(in->address, sizeof(in->address), "SUPPORT@KP.test");
    assert_int_equal(KP_STORE(s, mail_inbox_set, in), KP_EEXIST);
    assert_int_equal(KP_STORE0(s, rollback), 0);
    assert_int_equal(KP_STORE(s, mail_inbox_get, f->mail2, out), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_inbox_get, f->chat, out), KP_ENOTFOUND);

    snprintf(in->address, sizeof(in->address), "Billing@KP.test");
    snprintf(in->display_name, sizeof(in->display_name), "Buchhaltung");
    snprintf(in->imap_url, sizeof(in->imap_url), "imaps://imap.kp.test/INBOX");
    snprintf(in->imap_user, sizeof(in->imap_user), "billing");
    snprintf(in->imap_password, sizeof(in->imap_password), "geheim");
    snprintf(in->imap_after, sizeof(in->imap_after), "move:Archiv");
    snprintf(in->autoreply, sizeof(in->autoreply), "Danke, wir melden uns.");
    in->imap_poll_s = 120;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_inbox_set, in), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, mail_inbox_get, f->mail2, out), 0);
    assert_int_equal(out->inbox_id, f->mail2);
    assert_int_equal(out->team_id, 0);
    assert_string_equal(out->name, "Billing");
    assert_string_equal(out->address, "Billing@KP.test");
    assert_string_equal(out->display_name, "Buchhaltung");
    assert_string_equal(out->smtp_url, "");
    assert_string_equal(out->imap_url, "imaps://imap.kp.test/INBOX");
    assert_string_equal(out->imap_user, "billing");
    assert_string_equal(out->imap_password, "geheim");
    assert_string_equal(out->imap_after, "move:Archiv");
    assert_int_equal(out->imap_poll_s, 120);
    assert_int_equal(out->imap_uidvalidity, 0);
    assert_int_equal(out->imap_last_uid, 0);
    assert_string_equal(out->autoreply, "Danke, wir melden uns.");
    assert_int_equal(KP_STORE(s, mail_inbox_get, f->mail, out), 0);
    assert_string_equal(out->address, "support@kp.test");
    assert_string_equal(out->smtp_url, "smtp://mail.kp.test:587");
    assert_int_equal(out->team_id, f->team);

    /* mail to an address in any case lands in its inbox */
    int64_t id = 0;
    assert_int_equal(KP_STORE(s, mail_inbox_by_address, "billing@kp.test", &id), 0);
    assert_int_equal(id, f->mail2);
    assert_int_equal(KP_STORE(s, mail_inbox_by_address, "BILLING@KP.TEST", &id), 0);
    assert_int_equal(id, f->mail2);
    assert_int_equal(KP_STORE(s, mail_inbox_by_address, "Support@Kp.Test", &id), 0);
    assert_int_equal(id, f->mail);
    assert_int_equal(KP_STORE(s, mail_inbox_by_address, "nobody@kp.test", &id), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_inbox_by_address, "chat@kp.test", &id), KP_ENOTFOUND);

    /* the IMAP import moves on; other changes keep its position */
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_imap_mark, f->mail2, 777, 42), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, mail_inbox_get, f->mail2, out), 0);
    assert_int_equal(out->imap_uidvalidity, 777);
    assert_int_equal(out->imap_last_uid, 42);
    snprintf(in->address, sizeof(in->address), "billing@kp.test"); /* its own, in another case */
    snprintf(in->display_name, sizeof(in->display_name), "Rechnungen");
    snprintf(in->smtp_url, sizeof(in->smtp_url), "smtps://mail.kp.test");
    snprintf(in->imap_password, sizeof(in->imap_password), "neu");
    in->imap_poll_s = 30;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_inbox_set, in), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, mail_inbox_get, f->mail2, out), 0);
    assert_string_equal(out->address, "billing@kp.test");
    assert_string_equal(out->display_name, "Rechnungen");
    assert_string_equal(out->smtp_url, "smtps://mail.kp.test");
    assert_string_equal(out->imap_password, "neu");
    assert_int_equal(out->imap_poll_s, 30);
    assert_int_equal(out->imap_uidvalidity, 777);
    assert_int_equal(out->imap_last_uid, 42);
    /* another mailbox starts from the beginning: a new URL ... */
    snprintf(in->imap_url, sizeof(in->imap_url), "imaps://imap.kp.test/Rechnungen");
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_inbox_set, in), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, mail_inbox_get, f->mail2, out), 0);
    assert_int_equal(out->imap_uidvalidity, 0);
    assert_int_equal(out->imap_last_uid, 0);
    /* ... or another user */
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_imap_mark, f->mail2, 9, 1000), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    snprintf(in->imap_user, sizeof(in->imap_user), "rechnungen");
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_inbox_set, in), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(KP_STORE(s, mail_inbox_get, f->mail2, out), 0);
    assert_string_equal(out->imap_user, "rechnungen");
    assert_int_equal(out->imap_uidvalidity, 0);
    assert_int_equal(out->imap_last_uid, 0);

    /* the email inboxes with settings, in id order, as many as fit */
    int64_t ids[8] = {0};
    size_t n = 8;
    assert_int_equal(KP_STORE(s, mail_inbox_ids, ids, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], f->mail);
    assert_int_equal(ids[1], f->mail2);
    n = 1;
    ids[1] = 0;
    assert_int_equal(KP_STORE(s, mail_inbox_ids, ids, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], f->mail);
    assert_int_equal(ids[1], 0);
    free(in);
    free(out);
}

static const char RAW[] = "Message-ID: <a1@example.de>\r\nSubject: Rechnung\r\n\r\nA\0B\0\r\nC\r\n";

static void test_ingest_keeps_the_mail(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    static const char png[] = "\x89PNG\r\n\x1a\n";
    struct kp_attachment_new att[2] = {
        {.filename = "logo.png",
         .content_type = "image/png",
         .data = png,
         .size = sizeof(png) - 1,
         .content_id = "logo@example.de"},
        {.filename = "rechnung.pdf", .content_type = "application/pdf", .data = "%PDF", .size = 4},
    };
    struct kp_mail_meta meta = {.header_id = "a1@example.de",
                                .thread_rule = "new",
                                .flags = "[\"signed\",\"forwarded\"]",
                                .from_addr = "lena@example.de",
                                .to_addrs = "support@kp.test",
                                .cc_addrs = "chef@example.de",
                                .subject = "Rechnung",
                                .raw = RAW,
                                .raw_len = sizeof(RAW) - 1};
    struct kp_inbound in = email_in(f->mail, "lena@example.de", "Anbei die Rechnung.", &meta);
    in.sender_name = "Lena Schmidt";
    in.attachments = att;
    in.n_attachments = 2;
    struct kp_ingest_result r;
    ingest(f, &in, &r);
    assert_false(r.duplicate);
    assert_true(r.new_conversation);

    json_t *m = message(s, r.message_id);
    json_t *e = email_of(m);
    assert_string_equal(kp_json_str(e, "message_id"), "a1@example.de");
    assert_string_equal(kp_json_str(e, "thread_rule"), "new");
    json_t *flags = json_object_get(e, "flags");
    assert_true(json_is_array(flags));
    assert_int_equal(json_array_size(flags), 2);
    assert_string_equal(json_string_value(json_array_get(flags, 0)), "signed");
    assert_string_equal(json_string_value(json_array_get(flags, 1)), "forwarded");
    assert_true(json_is_null(json_object_get(e, "problem")));
    assert_string_equal(kp_json_str(e, "from"), "lena@example.de");
    assert_string_equal(kp_json_str(e, "to"), "support@kp.test");
    assert_string_equal(kp_json_str(e, "cc"), "chef@example.de");
    assert_string_equal(kp_json_str(e, "subject"), "Rechnung");
    assert_true(yes(json_object_get(e, "has_raw")));
    assert_string_equal(kp_json_str(m, "external_id"), "a1@example.de");
    assert_true(json_is_null(json_object_get(m, "delivery"))); /* received, not sent */
    json_t *atts = json_object_get(m, "attachments");
    assert_int_equal(json_array_size(atts), 2);
    json_t *a0 = json_array_get(atts, 0), *a1 = json_array_get(atts, 1);
    assert_string_equal(kp_json_str(a0, "filename"), "logo.png");
    assert_string_equal(kp_json_str(a0, "content_id"), "logo@example.de");
    assert_int_equal(kp_json_int(a0, "size", 0), sizeof(png) - 1);
    assert_string_equal(kp_json_str(a1, "filename"), "rechnung.pdf");
    assert_true(json_is_null(json_object_get(a1, "content_id")));
    json_decref(m);

    /* the conversation's list shows the same */
    json_t *list = messages(s, r.conversation_id);
    assert_int_equal(json_array_size(list), 1);
    m = json_array_get(list, 0);
    e = email_of(m);
    assert_string_equal(kp_json_str(e, "message_id"), "a1@example.de");
    assert_true(json_is_array(json_object_get(e, "flags")));
    assert_string_equal(kp_json_str(e, "cc"), "chef@example.de");
    assert_string_equal(
        kp_json_str(json_array_get(json_object_get(m, "attachments"), 0), "content_id"),
        "logo@example.de");
    json_decref(list);

    /* the source, byte for byte */
    void *raw = NULL;
    size_t len = 0;
    assert_int_equal(KP_STORE(s, mail_raw, r.message_id, &raw, &len), 0);
    assert_int_equal(len, sizeof(RAW) - 1);
    assert_memory_equal(raw, RAW, sizeof(RAW) - 1);
    free(raw);

    /* a mail kept without its source, with a problem and no flags */
    struct kp_mail_meta plain = {
        .header_id = "a2@example.de", .subject = "Nachtrag", .problem = "bad charset"};
    struct kp_inbound in2 = email_in(f->mail, "lena@example.de", "Noch etwas.", &plain);
    struct kp_ingest_result r2;
    ingest(f, &in2, &r2);
    assert_int_equal(r2.conversation_id, r.conversation_id);
    m = message(s, r2.message_id);
    e = email_of(m);
    flags = json_object_get(e, "flags");
    assert_true(json_is_array(flags));
    assert_int_equal(json_array_size(flags), 0);
    assert_string_equal(kp_json_str(e, "problem"), "bad charset");
    assert_false(yes(json_object_get(e, "has_raw")));
    assert_true(json_is_null(json_object_get(e, "cc")));
    assert_int_equal(json_array_size(json_object_get(m, "attachments")), 0);
    json_decref(m);
    raw = NULL;
    assert_int_equal(KP_STORE(s, mail_raw, r2.message_id, &raw, &len), KP_ENOTFOUND);
    assert_null(raw);
    assert_int_equal(KP_STORE(s, mail_raw, r2.message_id + 100, &raw, &len), KP_ENOTFOUND);

    /* a message of another channel has no email part */
    struct kp_inbound api = {.inbox_id = f->api,
                             .channel = "api",
                             .identity_kind = "email",
                             .identity_value = "lena@example.de",
                             .text = "Bestellung storniert"};
    struct kp_ingest_result r3;
    ingest(f, &api, &r3);
    assert_int_equal(KP_STORE(s, mail_raw, r3.message_id, &raw, &len), KP_ENOTFOUND);
    m = message(s, r3.message_id);
    assert_true(json_is_null(json_object_get(m, "email")));
    assert_true(json_is_null(json_object_get(m, "delivery")));
    json_decref(m);
}

static void test_same_message_id_is_one_message(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    mail_settings(f, f->mail2, "billing@kp.test", "");
    struct kp_ingest_result r, again, other;
    mail_from(f, f->mail, "lena@example.de", "dup@example.de", "Wo ist mein Paket?", &r);
    /* delivered twice (say by SMTP and by the IMAP import) */
    mail_from(f, f->mail, "lena@example.de", "dup@example.de", "Wo ist mein Paket?", &again);
    assert_true(again.duplicate);
    assert_int_equal(again.message_id, r.message_id);
    assert_int_equal(again.conversation_id, r.conversation_id);
    assert_int_equal(message_count(s, r.conversation_id), 1);
    json_t *list = messages(s, r.conversation_id);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    /* the same mail to another inbox is that inbox's message */
    mail_from(f, f->mail2, "lena@example.de", "dup@example.de", "Wo ist mein Paket?", &other);
    assert_false(other.duplicate);
    assert_true(other.message_id != r.message_id);
    assert_true(other.conversation_id != r.conversation_id);
    assert_int_equal(message_count(s, other.conversation_id), 1);
    assert_int_equal(message_count(s, r.conversation_id), 1);
}

static void test_mail_thread(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    mail_settings(f, f->mail2, "billing@kp.test", "");
    struct kp_ingest_result lena, max;
    int64_t m1 = mail_from(f, f->mail, "lena@example.de", "t1@example.de", "Erste Frage", &lena);
    int64_t conv = 0;
    assert_int_equal(KP_STORE(s, mail_thread, f->mail, "t1@example.de", 0, NULL, &conv), 0);
    assert_int_equal(conv, lena.conversation_id);
    /* Message-IDs belong to their inbox */
    assert_int_equal(KP_STORE(s, mail_thread, f->mail2, "t1@example.de", 0, NULL, &conv),
                     KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_thread, f->mail, "t9@example.de", 0, NULL, &conv),
                     KP_ENOTFOUND);
    /* a subject tag names a conversation of the inbox only */
    conv = 0;
    assert_int_equal(
        KP_STORE(s, mail_thread, f->mail, NULL, lena.conversation_id, "lena@example.de", &conv), 0);
    assert_int_equal(conv, lena.conversation_id);
    assert_int_equal(
        KP_STORE(s, mail_thread, f->mail2, NULL, lena.conversation_id, "lena@example.de", &conv),
        KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_thread, f->mail, NULL, lena.conversation_id + 100,
                              "lena@example.de", &conv),
                     KP_ENOTFOUND);
    /* ... and only for a sender who is its contact: anyone can write "[#id]" in a subject */
    assert_int_equal(KP_STORE(s, mail_thread, f->mail, NULL, lena.conversation_id,
                              "mallory@evil.example", &conv),
                     KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_thread, f->mail, NULL, lena.conversation_id, NULL, &conv),
                     KP_ENOTFOUND);

    /* a mail moved to another conversation takes its thread along */
    mail_from(f, f->mail, "max@example.de", "t2@example.de", "Andere Frage", &max);
    assert_true(max.conversation_id != lena.conversation_id);
    int64_t from = 0;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, message_move, m1, max.conversation_id, &from), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(from, lena.conversation_id);
    assert_int_equal(KP_STORE(s, mail_thread, f->mail, "t1@example.de", 0, NULL, &conv), 0);
    assert_int_equal(conv, max.conversation_id);

    /* our own reply's Message-ID threads the answer to it */
    queue_reply(f, lena.conversation_id, "Wir schauen nach.", "kp.1.x@kp.test", false);
    assert_int_equal(KP_STORE(s, mail_thread, f->mail, "kp.1.x@kp.test", 0, NULL, &conv), 0);
    assert_int_equal(conv, lena.conversation_id);
}

static void test_ingest_joins_reopens_and_stays_quiet(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    int64_t now = kp_clock_now_ms();
    struct kp_ingest_result first;
    struct kp_mail_meta meta = {.header_id = "j1@example.de", .subject = "Retoure"};
    struct kp_inbound in = email_in(f->mail, "lena@example.de", "Retoure angemeldet", &meta);
    in.sent_at_ms = now - 100000;
    ingest(f, &in, &first);
    int64_t conv = first.conversation_id;
    struct kp_conv_change done = {.state = "resolved"};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, conversation_update, conv, &done), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);

    /* an automatic answer (an out-of-office) joins quietly: still resolved, nobody waits */
    struct kp_mail_meta auto_meta = {.header_id = "j2@example.de",
                                     .thread_rule = "in_reply_to",
                                     .flags = "[\"auto_reply\"]",
                                     .subject = "Abwesend"};
    struct kp_inbound quiet = email_in(f->mail, "lena@example.de", "Bin im Urlaub", &auto_meta);
    quiet.conversation_id = conv;
    quiet.quiet = true;
    quiet.sent_at_ms = now - 90000;
    struct kp_ingest_result r;
    ingest(f, &quiet, &r);
    assert_int_equal(r.conversation_id, conv);
    assert_false(r.new_conversation);
    json_t *c = conversation(s, conv);
    assert_string_equal(kp_json_str(c, "state"), "resolved");
    assert_true(json_is_null(json_object_get(c, "waiting_since")));
    assert_int_equal(kp_json_int(c, "message_count", 0), 2);
    json_decref(c);

    /* her answer to the thread reopens it: it waits since her mail */
    struct kp_mail_meta answer_meta = {
        .header_id = "j3@example.de", .thread_rule = "references", .subject = "Re: Retoure"};
    struct kp_inbound answer = email_in(f->mail, "lena@example.de", "Doch noch", &answer_meta);
    answer.conversation_id = conv;
    answer.sent_at_ms = now - 80000;
    ingest(f, &answer, &r);
    assert_int_equal(r.conversation_id, conv);
    assert_false(r.new_conversation);
    c = conversation(s, conv);
    assert_string_equal(kp_json_str(c, "state"), "open");
    assert_int_equal(iso_ms(json_object_get(c, "waiting_since")), now - 80000);
    assert_int_equal(kp_json_int(c, "message_count", 0), 3);
    assert_string_equal(kp_json_str(c, "preview"), "Doch noch");
    json_decref(c);

    /* a quiet mail leaves the waiting time as it is */
    auto_meta.header_id = "j4@example.de";
    quiet.external_id = "j4@example.de";
    quiet.sent_at_ms = now - 70000;
    ingest(f, &quiet, &r);
    c = conversation(s, conv);
    assert_string_equal(kp_json_str(c, "state"), "open");
    assert_int_equal(iso_ms(json_object_get(c, "waiting_since")), now - 80000);
    assert_int_equal(kp_json_int(c, "message_count", 0), 4);
    json_decref(c);

    /* a mail that threads nowhere opens a new conversation beside her open one */
    struct kp_mail_meta new_meta = {.header_id = "j5@example.de", .subject = "Neue Bestellung"};
    struct kp_inbound fresh = email_in(f->mail, "lena@example.de", "Ganz was anderes", &new_meta);
    fresh.new_conversation = true;
    ingest(f, &fresh, &r);
    assert_true(r.new_conversation);
    assert_true(r.conversation_id != conv);
    assert_int_equal(r.contact_id, first.contact_id);
    c = conversation(s, r.conversation_id);
    assert_string_equal(kp_json_str(c, "subject"), "Neue Bestellung");
    assert_string_equal(kp_json_str(c, "state"), "open");
    assert_int_equal(kp_json_int(c, "message_count", 0), 1);
    json_decref(c);
    assert_int_equal(message_count(s, conv), 4);
}

static void test_reply_context(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    /* her From is not the address her contact was made with */
    struct kp_mail_meta m1 = {.header_id = "q1@example.de",
                              .from_addr = "l.schmidt@example.de",
                              .refs = "q0@example.de",
                              .subject = "Lieferung"};
    struct kp_inbound in = email_in(f->mail, "lena@example.de", "Wann kommt es?", &m1);
    struct kp_ingest_result r;
    ingest(f, &in, &r);
    int64_t conv = r.conversation_id;
    json_t *ctx = NULL;
    assert_int_equal(KP_STORE(s, mail_reply_context, conv, &ctx), 0);
    assert_int_equal(kp_json_int(ctx, "conversation_id", 0), conv);
    assert_string_equal(kp_json_str(ctx, "channel"), "email");
    assert_int_equal(kp_json_int(ctx, "inbox_id", 0), f->mail);
    assert_string_equal(kp_json_str(ctx, "address"), "support@kp.test");
    assert_string_equal(kp_json_str(ctx, "subject"), "Lieferung");
    assert_string_equal(kp_json_str(ctx, "recipient"), "l.schmidt@example.de");
    assert_string_equal(kp_json_str(ctx, "in_reply_to"), "q1@example.de");
    assert_string_equal(kp_json_str(ctx, "refs"), "q0@example.de q1@example.de");
    json_decref(ctx);

    /* the last inbound mail decides: it asks for answers elsewhere; replies do not count */
    queue_reply(f, conv, "Morgen.", "kp.2.y@kp.test", false);
    struct kp_mail_meta m2 = {.header_id = "q2@example.de",
                              .reply_to = "lena.privat@example.de",
                              .refs = "q0@example.de q1@example.de kp.2.y@kp.test",
                              .in_reply_to = "kp.2.y@kp.test",
                              .thread_rule = "in_reply_to",
                              .subject = "Re: Lieferung"};
    in = email_in(f->mail, "lena@example.de", "Danke!", &m2);
    in.conversation_id = conv;
    ingest(f, &in, &r);
    queue_reply(f, conv, "Gern.", "kp.3.z@kp.test", false);
    assert_int_equal(KP_STORE(s, mail_reply_context, conv, &ctx), 0);
    assert_string_equal(kp_json_str(ctx, "recipient"), "lena.privat@example.de");
    assert_string_equal(kp_json_str(ctx, "in_reply_to"), "q2@example.de");
    assert_string_equal(kp_json_str(ctx, "refs"),
                        "q0@example.de q1@example.de kp.2.y@kp.test q2@example.de");
    json_decref(ctx);

    /* no mail yet (another channel): the contact's address, from the first inbox that sends */
    struct kp_inbound api = {.inbox_id = f->api,
                             .channel = "api",
                             .identity_kind = "email",
                             .identity_value = "max@example.de",
                             .subject = "Shop-Anfrage",
                             .text = "Gibt es das in Blau?"};
    ingest(f, &api, &r);
    int64_t api_conv = r.conversation_id;
    assert_int_equal(KP_STORE(s, mail_reply_context, api_conv, &ctx), 0);
    assert_string_equal(kp_json_str(ctx, "channel"), "api");
    assert_string_equal(kp_json_str(ctx, "recipient"), "max@example.de");
    assert_int_equal(kp_json_int(ctx, "inbox_id", 0), f->mail);
    assert_string_equal(kp_json_str(ctx, "address"), "support@kp.test");
    assert_true(json_is_null(json_object_get(ctx, "in_reply_to")));
    json_decref(ctx);
    mail_settings(f, f->mail, "support@kp.test", ""); /* cannot send any more */
    mail_settings(f, f->mail2, "billing@kp.test", "smtp://mail.kp.test:25");
    assert_int_equal(KP_STORE(s, mail_reply_context, api_conv, &ctx), 0);
    assert_int_equal(kp_json_int(ctx, "inbox_id", 0), f->mail2);
    assert_string_equal(kp_json_str(ctx, "address"), "billing@kp.test");
    json_decref(ctx);
    /* an email conversation keeps its own inbox */
    assert_int_equal(KP_STORE(s, mail_reply_context, conv, &ctx), 0);
    assert_int_equal(kp_json_int(ctx, "inbox_id", 0), f->mail);
    json_decref(ctx);
    /* no inbox can send */
    mail_settings(f, f->mail2, "billing@kp.test", "");
    assert_int_equal(KP_STORE(s, mail_reply_context, api_conv, &ctx), 0);
    assert_true(json_is_null(json_object_get(ctx, "inbox_id")));
    assert_true(json_is_null(json_object_get(ctx, "address")));
    assert_string_equal(kp_json_str(ctx, "recipient"), "max@example.de");
    json_decref(ctx);

    /* a contact without an address has no recipient */
    struct kp_inbound anon = {.inbox_id = f->api,
                              .channel = "api",
                              .identity_kind = "shop",
                              .identity_value = "kunde-7",
                              .text = "Hallo"};
    ingest(f, &anon, &r);
    assert_int_equal(KP_STORE(s, mail_reply_context, r.conversation_id, &ctx), 0);
    assert_true(json_is_null(json_object_get(ctx, "recipient")));
    json_decref(ctx);
    ctx = NULL;
    assert_int_equal(KP_STORE(s, mail_reply_context, r.conversation_id + 100, &ctx), KP_ENOTFOUND);
    assert_null(ctx);
}

/* Message ids due at now, as mail_due gives them. */
static size_t due(struct kp_store *s, int64_t now, int64_t *ids, size_t cap)
{
    size_t n = cap;
    assert_int_equal(KP_STORE(s, mail_due, now, ids, &n), 0);
    assert_true(n <= cap);
    return n;
}

static const char SENT[] = "Message-ID: <kp.2@kp.test>\r\n\r\nDanke\0!\r\n";

static void test_outbox(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    struct kp_ingest_result r;
    int64_t in_id = mail_from(f, f->mail, "lena@example.de", "q1@example.de", "Paket?", &r);
    int64_t conv = r.conversation_id;
    int64_t before = kp_clock_now_ms();
    int64_t m1 = queue_reply(f, conv, "Ist unterwegs.", "kp.1@kp.test", false);
    int64_t m2 = queue_reply(f, conv, "Danke für Ihre Mail.", "kp.2@kp.test", true);
    int64_t after = kp_clock_now_ms();

    /* queued: the message shows it */
    json_t *m = message(s, m1);
    json_t *d = delivery_of(m);
    assert_string_equal(kp_json_str(d, "state"), "queued");
    assert_int_equal(kp_json_int(d, "attempts", -1), 0);
    assert_true(json_is_null(json_object_get(d, "error")));
    int64_t next = iso_ms(json_object_get(d, "next_attempt_at"));
    assert_true(next >= before && next <= after);
    json_t *e = email_of(m);
    assert_string_equal(kp_json_str(e, "message_id"), "kp.1@kp.test");
    assert_string_equal(kp_json_str(e, "to"), "lena@example.de");
    assert_string_equal(kp_json_str(e, "subject"), "Re: Frage");
    assert_false(yes(json_object_get(e, "has_raw")));
    json_decref(m);
    m = message(s, m2);
    e = email_of(m);
    assert_int_equal(json_array_size(json_object_get(e, "flags")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(e, "flags"), 0)),
                        "auto_reply");
    json_decref(m);

    /* what the sender needs */
    json_t *o = NULL;
    assert_int_equal(KP_STORE(s, mail_outgoing, m1, &o), 0);
    assert_int_equal(kp_json_int(o, "message_id", 0), m1);
    assert_int_equal(kp_json_int(o, "inbox_id", 0), f->mail);
    assert_int_equal(kp_json_int(o, "conversation_id", 0), conv);
    assert_string_equal(kp_json_str(o, "header_id"), "kp.1@kp.test");
    assert_string_equal(kp_json_str(o, "recipient"), "lena@example.de");
    assert_string_equal(kp_json_str(o, "subject"), "Re: Frage");
    assert_string_equal(kp_json_str(o, "in_reply_to"), "q1@example.de");
    assert_string_equal(kp_json_str(o, "refs"), "q0@example.de q1@example.de");
    assert_string_equal(kp_json_str(o, "text"), "Ist unterwegs.");
    assert_true(json_is_null(json_object_get(o, "html")));
    assert_int_equal(kp_json_int(o, "auto", -1), 0);
    assert_int_equal(kp_json_int(o, "attempts", -1), 0);
    assert_string_equal(kp_json_str(o, "agent_name"), "Anna Becker");
    json_t *atts = json_object_get(o, "attachments");
    assert_true(json_is_array(atts));
    assert_int_equal(json_array_size(atts), 0);
    json_decref(o);
    assert_int_equal(KP_STORE(s, mail_outgoing, m2, &o), 0);
    assert_int_equal(kp_json_int(o, "auto", -1), 1);
    assert_string_equal(kp_json_str(o, "agent_name"), "");
    json_decref(o);
    assert_int_equal(KP_STORE(s, mail_outgoing, in_id, &o), KP_ENOTFOUND); /* not queued */

    /* due once their time has come, the oldest first */
    int64_t ids[8];
    assert_int_equal(due(s, before - 1, ids, 8), 0);
    assert_int_equal(due(s, after, ids, 8), 2);
    assert_int_equal(ids[0], m1);
    assert_int_equal(ids[1], m2);
    assert_int_equal(due(s, after, ids, 1), 1);
    assert_int_equal(ids[0], m1);

    /* a temporary failure: tried again later */
    int64_t retry = after + 60000;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_failed, m1, "451 try again later", retry), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    m = message(s, m1);
    d = delivery_of(m);
    assert_string_equal(kp_json_str(d, "state"), "queued");
    assert_int_equal(kp_json_int(d, "attempts", -1), 1);
    assert_string_equal(kp_json_str(d, "error"), "451 try again later");
    assert_int_equal(iso_ms(json_object_get(d, "next_attempt_at")), retry);
    json_decref(m);
    assert_int_equal(KP_STORE(s, mail_outgoing, m1, &o), 0);
    assert_int_equal(kp_json_int(o, "attempts", -1), 1);
    json_decref(o);
    assert_int_equal(due(s, after, ids, 8), 1);
    assert_int_equal(ids[0], m2);
    int64_t m3 = queue_reply(f, conv, "Noch eine Frage?", "kp.3@kp.test", false);
    assert_int_equal(due(s, retry, ids, 8), 3); /* by time, not by id */
    assert_int_equal(ids[0], m2);
    assert_int_equal(ids[1], m3);
    assert_int_equal(ids[2], m1);

    /* sent: the source as sent is kept */
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_sent, m2, SENT, sizeof(SENT) - 1), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    m = message(s, m2);
    d = delivery_of(m);
    assert_string_equal(kp_json_str(d, "state"), "sent");
    assert_int_equal(kp_json_int(d, "attempts", -1), 1);
    assert_true(json_is_null(json_object_get(d, "error")));
    assert_true(json_is_null(json_object_get(d, "next_attempt_at")));
    assert_true(yes(json_object_get(email_of(m), "has_raw")));
    json_decref(m);
    void *raw = NULL;
    size_t len = 0;
    assert_int_equal(KP_STORE(s, mail_raw, m2, &raw, &len), 0);
    assert_int_equal(len, sizeof(SENT) - 1);
    assert_memory_equal(raw, SENT, sizeof(SENT) - 1);
    free(raw);

    /* given up: failed for good */
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_failed, m1, "550 no such user", 0), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    m = message(s, m1);
    d = delivery_of(m);
    assert_string_equal(kp_json_str(d, "state"), "failed");
    assert_int_equal(kp_json_int(d, "attempts", -1), 2);
    assert_string_equal(kp_json_str(d, "error"), "550 no such user");
    assert_true(json_is_null(json_object_get(d, "next_attempt_at")));
    json_decref(m);
    assert_int_equal(due(s, retry + 3600000, ids, 8), 1); /* neither sent nor failed ones */
    assert_int_equal(ids[0], m3);

    /* only a queued message can be sent or fail */
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_sent, m2, SENT, sizeof(SENT) - 1), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_failed, m2, "x", 0), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_sent, m1, SENT, sizeof(SENT) - 1), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_failed, m1, "x", retry), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_sent, in_id, SENT, sizeof(SENT) - 1), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_failed, m3 + 100, "x", 0), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, commit), 0);
    m = message(s, m2);
    assert_int_equal(kp_json_int(delivery_of(m), "attempts", -1), 1);
    json_decref(m);
    assert_int_equal(KP_STORE(s, mail_raw, in_id, &raw, &len), KP_ENOTFOUND);
}

static void test_outgoing_attachments(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    /* the store sends whatever message is queued; its attachments go along */
    struct kp_attachment_new att = {.filename = "lieferschein.pdf",
                                    .content_type = "application/pdf",
                                    .data = "%PDF",
                                    .size = 4};
    struct kp_inbound api = {.inbox_id = f->api,
                             .channel = "api",
                             .identity_kind = "email",
                             .identity_value = "max@example.de",
                             .text = "Lieferschein",
                             .attachments = &att,
                             .n_attachments = 1};
    struct kp_ingest_result r;
    ingest(f, &api, &r);
    struct kp_mail_out out = {.message_id = r.message_id,
                              .inbox_id = f->mail,
                              .header_id = "kp.9@kp.test",
                              .recipient = "max@example.de",
                              .subject = "Lieferschein"};
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_queue, &out), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    json_t *o = NULL;
    assert_int_equal(KP_STORE(s, mail_outgoing, r.message_id, &o), 0);
    json_t *atts = json_object_get(o, "attachments");
    assert_int_equal(json_array_size(atts), 1);
    json_t *a = json_array_get(atts, 0);
    assert_true(kp_json_int(a, "id", 0) > 0);
    assert_string_equal(kp_json_str(a, "filename"), "lieferschein.pdf");
    assert_string_equal(kp_json_str(a, "content_type"), "application/pdf");
    assert_true(json_is_null(json_object_get(o, "in_reply_to")));
    json_decref(o);
}

static void test_bounce_and_kept_mails(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    mail_settings(f, f->mail2, "billing@kp.test", "");
    struct kp_ingest_result r;
    mail_from(f, f->mail, "lena@example.de", "in1@example.de", "Hallo", &r);
    int64_t conv = r.conversation_id;
    int64_t m1 = queue_reply(f, conv, "Antwort eins", "kp.1@kp.test", false);
    int64_t m2 = queue_reply(f, conv, "Antwort zwei", "kp.2@kp.test", false);
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_sent, m2, "x", 1), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);

    /* a delay notice: found, but nothing changes */
    int64_t mid = 0, cid = 0;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(
        KP_STORE(s, mail_bounce, f->mail, "kp.1@kp.test", false, "4.2.2 mailbox full", &mid, &cid),
        0);
    assert_int_equal(mid, m1);
    assert_int_equal(cid, conv);
    mid = cid = 0;
    assert_int_equal(
        KP_STORE(s, mail_bounce, f->mail, "kp.2@kp.test", false, "4.4.7 delayed", &mid, &cid), 0);
    assert_int_equal(mid, m2);
    assert_int_equal(cid, conv);
    assert_int_equal(KP_STORE0(s, commit), 0);
    json_t *m = message(s, m1);
    assert_string_equal(kp_json_str(delivery_of(m), "state"), "queued");
    assert_true(json_is_null(json_object_get(delivery_of(m), "error")));
    json_decref(m);
    m = message(s, m2);
    assert_string_equal(kp_json_str(delivery_of(m), "state"), "sent");
    json_decref(m);

    /* only our own mails of the inbox bounce */
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_bounce, f->mail, "in1@example.de", true, "x", &mid, &cid),
                     KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_bounce, f->mail2, "kp.2@kp.test", true, "x", &mid, &cid),
                     KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, mail_bounce, f->mail, "kp.7@kp.test", true, "x", &mid, &cid),
                     KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, commit), 0);
    m = message(s, m2);
    assert_string_equal(kp_json_str(delivery_of(m), "state"), "sent");
    json_decref(m);

    /* a permanent failure: the sent mail shows failed, with the reason */
    mid = cid = 0;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(
        KP_STORE(s, mail_bounce, f->mail, "kp.2@kp.test", true, "5.1.1 user unknown", &mid, &cid),
        0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(mid, m2);
    assert_int_equal(cid, conv);
    m = message(s, m2);
    assert_string_equal(kp_json_str(delivery_of(m), "state"), "failed");
    assert_string_equal(kp_json_str(delivery_of(m), "error"), "5.1.1 user unknown");
    json_decref(m);
    m = message(s, m1);
    assert_string_equal(kp_json_str(delivery_of(m), "state"), "queued");
    json_decref(m);
    int64_t ids[4];
    size_t n = 4;
    assert_int_equal(KP_STORE(s, mail_due, kp_clock_now_ms() + 1000, ids, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], m1);

    /* a kept mail is known by its key per inbox: delivered again, it is seen */
    bool seen = true;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_kept_seen, f->mail, "b1@mx.example", &seen), 0);
    assert_false(seen);
    assert_int_equal(KP_STORE(s, mail_kept_seen, f->mail, "b1@mx.example", &seen), 0);
    assert_true(seen);
    assert_int_equal(KP_STORE(s, mail_kept_seen, f->mail2, "b1@mx.example", &seen), 0);
    assert_false(seen);
    assert_int_equal(KP_STORE0(s, commit), 0);

    /* mails that open no conversation are kept, newest first */
    static const char B1[] = "bounce one", B2[] = "auto\0reply", B3[] = "bounce three";
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, mail_drop, f->mail, "bounce", "mailer-daemon@example.de",
                              "Undelivered Mail", "5.1.1 user unknown", m2, B1, sizeof(B1) - 1),
                     0);
    assert_int_equal(KP_STORE(s, mail_drop, f->mail, "auto_reply", "max@example.de", "Abwesend",
                              "an automatic mail outside any conversation", 0, B2, sizeof(B2) - 1),
                     0);
    assert_int_equal(KP_STORE(s, mail_drop, f->mail2, "bounce", "mailer-daemon@example.de",
                              "Returned", NULL, 0, B3, sizeof(B3) - 1),
                     0);
    assert_int_equal(
        KP_STORE(s, mail_drop, f->mail, "bounce", NULL, NULL, NULL, 0, B3, sizeof(B3) - 1), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    json_t *list = NULL;
    assert_int_equal(KP_STORE(s, mail_dropped_list, f->mail, 0, 10, &list), 0);
    assert_int_equal(json_array_size(list), 3);
    json_t *newest = json_array_get(list, 0), *mid_item = json_array_get(list, 1),
           *oldest = json_array_get(list, 2);
    assert_string_equal(kp_json_str(newest, "kind"), "bounce");
    assert_true(json_is_null(json_object_get(newest, "from_addr")));
    assert_true(json_is_null(json_object_get(newest, "message_id")));
    assert_int_equal(kp_json_int(newest, "size", 0), sizeof(B3) - 1);
    assert_string_equal(kp_json_str(mid_item, "kind"), "auto_reply");
    assert_string_equal(kp_json_str(mid_item, "from_addr"), "max@example.de");
    assert_string_equal(kp_json_str(mid_item, "subject"), "Abwesend");
    assert_true(json_is_null(json_object_get(mid_item, "message_id"))); /* 0: none */
    assert_int_equal(kp_json_int(mid_item, "size", 0), sizeof(B2) - 1);
    assert_string_equal(kp_json_str(oldest, "kind"), "bounce");
    assert_string_equal(kp_json_str(oldest, "reason"), "5.1.1 user unknown");
    assert_int_equal(kp_json_int(oldest, "message_id", 0), m2);
    assert_non_null(kp_json_str(oldest, "created_at"));
    assert_true(kp_json_int(newest, "id", 0) > kp_json_int(mid_item, "id", 0));
    assert_true(kp_json_int(mid_item, "id", 0) > kp_json_int(oldest, "id", 0));
    int64_t second = kp_json_int(mid_item, "id", 0), third = kp_json_int(oldest, "id", 0);
    json_decref(list);
    /* paging */
    assert_int_equal(KP_STORE(s, mail_dropped_list, f->mail, 0, 2, &list), 0);
    assert_int_equal(json_array_size(list), 2);
    assert_int_equal(kp_json_int(json_array_get(list, 1), "id", 0), second);
    json_decref(list);
    assert_int_equal(KP_STORE(s, mail_dropped_list, f->mail, second, 2, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(kp_json_int(json_array_get(list, 0), "id", 0), third);
    json_decref(list);
    assert_int_equal(KP_STORE(s, mail_dropped_list, f->mail, third, 2, &list), 0);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    /* per inbox */
    assert_int_equal(KP_STORE(s, mail_dropped_list, f->mail2, 0, 10, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(kp_json_str(json_array_get(list, 0), "subject"), "Returned");
    json_decref(list);
}

static bool allowed(struct fixture *f, int64_t inbox, const char *address, int64_t now)
{
    bool ok = false;
    assert_int_equal(KP_STORE0(f->s, begin), 0);
    assert_int_equal(KP_STORE(f->s, mail_autoreply_allowed, inbox, address, now, 3600000, &ok), 0);
    assert_int_equal(KP_STORE0(f->s, commit), 0);
    return ok;
}

static void test_autoreply_window(void **state)
{
    struct fixture *f = *state;
    const int64_t t = 1700000000000, hour = 3600000;
    assert_true(allowed(f, f->mail, "lena@example.de", t));
    assert_false(allowed(f, f->mail, "lena@example.de", t + 1000));
    assert_false(allowed(f, f->mail, "LENA@Example.DE", t + 2000)); /* the same address */
    assert_true(allowed(f, f->mail, "max@example.de", t + 2000));   /* another sender */
    assert_true(allowed(f, f->mail2, "lena@example.de", t + 2000)); /* another inbox */
    assert_false(allowed(f, f->mail, "lena@example.de", t + hour - 1));
    assert_true(allowed(f, f->mail, "lena@example.de", t + hour + 1));
    /* the window starts again with the answer that went out */
    assert_false(allowed(f, f->mail, "lena@example.de", t + hour + 2));
    assert_false(allowed(f, f->mail, "lena@example.de", t + 2 * hour));
    assert_true(allowed(f, f->mail, "Lena@example.de", t + 2 * hour + 2));
    assert_false(allowed(f, f->mail2, "lena@example.de", t + hour));
}

static void test_message_move(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    struct kp_ingest_result max, lena, r;
    mail_from(f, f->mail, "max@example.de", "mv0@example.de", "Max fragt", &max);
    int64_t m1 = mail_from(f, f->mail, "lena@example.de", "mv1@example.de", "Erste Frage", &lena);
    int64_t m2 = mail_from(f, f->mail, "lena@example.de", "mv2@example.de",
                           "Eigentlich ein neues Thema", &r);
    int64_t a = lena.conversation_id, b = max.conversation_id;
    assert_int_equal(r.conversation_id, a);
    json_t *c = conversation(s, a);
    assert_int_equal(kp_json_int(c, "message_count", 0), 2);
    assert_string_equal(kp_json_str(c, "preview"), "Eigentlich ein neues Thema");
    json_decref(c);

    int64_t from = 0;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, message_move, m2, b, &from), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(from, a);
    c = conversation(s, a);
    assert_int_equal(kp_json_int(c, "message_count", 0), 1);
    assert_string_equal(kp_json_str(c, "preview"), "Erste Frage");
    json_decref(c);
    c = conversation(s, b);
    assert_int_equal(kp_json_int(c, "message_count", 0), 2);
    assert_string_equal(kp_json_str(c, "preview"), "Eigentlich ein neues Thema");
    json_decref(c);
    json_t *m = message(s, m2);
    assert_int_equal(kp_json_int(m, "conversation_id", 0), b);
    assert_string_equal(kp_json_str(email_of(m), "thread_rule"), "moved");
    json_decref(m);
    json_t *list = messages(s, a);
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(kp_json_int(json_array_get(list, 0), "id", 0), m1);
    json_decref(list);
    list = messages(s, b);
    assert_int_equal(json_array_size(list), 2);
    assert_int_equal(kp_json_int(json_array_get(list, 1), "id", 0), m2);
    json_decref(list);

    /* missing message or conversation: nothing moves */
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, message_move, m2 + 100, a, &from), KP_ENOTFOUND);
    assert_int_equal(KP_STORE(s, message_move, m1, b + 100, &from), KP_ENOTFOUND);
    assert_int_equal(KP_STORE0(s, commit), 0);
    m = message(s, m1);
    assert_int_equal(kp_json_int(m, "conversation_id", 0), a);
    assert_string_equal(kp_json_str(email_of(m), "thread_rule"), "new");
    json_decref(m);
    assert_int_equal(message_count(s, a), 1);

    /* to where it is: nothing changes */
    from = 0;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, message_move, m1, a, &from), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(from, a);
    m = message(s, m1);
    assert_string_equal(kp_json_str(email_of(m), "thread_rule"), "new");
    json_decref(m);
    c = conversation(s, a);
    assert_int_equal(kp_json_int(c, "message_count", 0), 1);
    assert_string_equal(kp_json_str(c, "preview"), "Erste Frage");
    json_decref(c);

    /* waiting times follow: an inbound message after the reply moves out, and the conversation
     * waits for nothing any more; the one it moves to waits */
    struct kp_message_new out = {.conversation_id = a, .direction = "out", .text = "Antwort"};
    int64_t reply = 0;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, message_add, &out, &reply), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    int64_t m3 = mail_from(f, f->mail, "lena@example.de", "mv3@example.de", "Noch was", &r);
    assert_int_equal(r.conversation_id, a);
    c = conversation(s, a);
    assert_true(json_is_string(json_object_get(c, "waiting_since")));
    json_decref(c);
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, message_move, m3, b, &from), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    c = conversation(s, a);
    assert_true(json_is_null(json_object_get(c, "waiting_since")));
    json_decref(c);
    c = conversation(s, b);
    assert_true(json_is_string(json_object_get(c, "waiting_since")));
    json_decref(c);

    /* a message of another channel moves as well (it has no email part to mark) */
    struct kp_inbound api = {.inbox_id = f->api,
                             .channel = "api",
                             .identity_kind = "email",
                             .identity_value = "lena@example.de",
                             .text = "Per Shop"};
    ingest(f, &api, &r);
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, message_move, r.message_id, a, &from), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    assert_int_equal(from, r.conversation_id);
    assert_int_equal(message_count(s, a), 3); /* the first question, the reply, this one */
    assert_int_equal(message_count(s, r.conversation_id), 0);
    c = conversation(s, a);
    assert_string_equal(kp_json_str(c, "preview"), "Per Shop");
    json_decref(c);
}

static void test_message_list_names_email_parts(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    /* an inbound mail has no delivery, a message of another channel no email part: the list
     * says so under the same names as message_text */
    struct kp_ingest_result r;
    mail_from(f, f->mail, "lena@example.de", "n1@example.de", "Hallo", &r);
    json_t *list = messages(s, r.conversation_id);
    json_t *m = json_array_get(list, 0);
    bool email = json_is_object(json_object_get(m, "email"));
    bool suffixed = json_object_get(m, "delivery_json") != NULL;
    bool delivery = json_is_null(json_object_get(m, "delivery"));
    json_decref(list);
    assert_true(email);
    assert_false(suffixed);
    assert_true(delivery);
}

static void test_has_raw_is_boolean(void **state)
{
    struct fixture *f = *state;
    struct kp_mail_meta meta = {.header_id = "b1@example.de", .raw = "x", .raw_len = 1};
    struct kp_inbound in = email_in(f->mail, "lena@example.de", "Hallo", &meta);
    struct kp_ingest_result r;
    ingest(f, &in, &r);
    json_t *m = message(f->s, r.message_id);
    bool boolean = json_is_true(json_object_get(email_of(m), "has_raw"));
    json_decref(m);
    assert_true(boolean);
}

static void test_move_preview_as_ingest_makes_it(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    struct kp_ingest_result lena, wrong, max;
    mail_from(f, f->mail, "lena@example.de", "p1@example.de", "Guten Tag,\r\n\r\n  wo ist es?",
              &lena);
    json_t *c = conversation(s, lena.conversation_id);
    assert_string_equal(kp_json_str(c, "preview"), "Guten Tag, wo ist es?");
    json_decref(c);
    int64_t m2 = mail_from(f, f->mail, "lena@example.de", "p2@example.de", "Falsch hier", &wrong);
    mail_from(f, f->mail, "max@example.de", "p3@example.de", "Max", &max);
    int64_t from;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, message_move, m2, max.conversation_id, &from), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    c = conversation(s, lena.conversation_id);
    char preview[64];
    snprintf(preview, sizeof(preview), "%s", kp_json_str(c, "preview"));
    json_decref(c);
    assert_string_equal(preview, "Guten Tag, wo ist es?");
}

static void test_duplicate_after_move(void **state)
{
    struct fixture *f = *state;
    struct kp_store *s = f->s;
    struct kp_ingest_result lena, max, again;
    int64_t m1 = mail_from(f, f->mail, "lena@example.de", "d1@example.de", "Hallo", &lena);
    mail_from(f, f->mail, "max@example.de", "d2@example.de", "Moin", &max);
    int64_t from;
    assert_int_equal(KP_STORE0(s, begin), 0);
    assert_int_equal(KP_STORE(s, message_move, m1, max.conversation_id, &from), 0);
    assert_int_equal(KP_STORE0(s, commit), 0);
    /* the same mail once more: a duplicate of the message where it is now */
    mail_from(f, f->mail, "lena@example.de", "d1@example.de", "Hallo", &again);
    assert_true(again.duplicate);
    assert_int_equal(again.message_id, m1);
    assert_int_equal(again.conversation_id, max.conversation_id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mail_inbox_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_keeps_the_mail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_message_id_is_one_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mail_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_joins_reopens_and_stays_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_attachments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounce_and_kept_mails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_autoreply_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_list_names_email_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_has_raw_is_boolean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_move_preview_as_ingest_makes_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_after_move, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
