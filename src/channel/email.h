/* SPDX-License-Identifier: MIT */
/*
 * email.h - the email channel between the mail protocols and the store: a received mail
 * becomes a message in its thread (or a bounce, or a kept automatic mail), and a reply becomes
 * an outbound mail in the outbox. The listener (email_listen.c), the IMAP fetcher (email_imap.c)
 * and the sender (email_send.c) move the bytes.
 *
 * Threading: In-Reply-To, then References (newest first), against the Message-IDs the inbox has
 * seen and sent; then a conversation tag "[#1234]" in the subject; else a new conversation.
 * Loop protection: automatic mail (auto-replies, bulk and list mail, mail from mailer daemons)
 * never opens a conversation and is never answered automatically; the automatic acknowledgement
 * an inbox may send carries Auto-Submitted: auto-replied and goes to one sender at most once
 * per KP_EMAIL_AUTOREPLY_WINDOW_MS.
 */
#ifndef KP_CHANNEL_EMAIL_H
#define KP_CHANNEL_EMAIL_H

#include "../base/arena.h"
#include "../proto/mime.h"
#include "../store/store.h"

enum {
    KP_EMAIL_TEXT_MAX = 256 * 1024, /* longer texts are cut (the raw source keeps all) */
    KP_EMAIL_THREAD_IDS = 21,       /* In-Reply-To and the newest 20 References */
};
#define KP_EMAIL_AUTOREPLY_WINDOW_MS (3600 * 1000LL)

enum kp_email_outcome {
    KP_EMAIL_STORED,    /* a new message (res tells where) */
    KP_EMAIL_DUPLICATE, /* the inbox had this Message-ID (or these very bytes) already */
    KP_EMAIL_BOUNCE,    /* a bounce: kept, and the outbound message it names marked */
    KP_EMAIL_KEPT,      /* an automatic mail outside any conversation: kept, no conversation */
};

/* One received mail on its way into the store. */
struct kp_email_in {
    struct kp_arena arena;
    int64_t inbox_id;
    const void *raw;
    size_t len;
    struct kp_mail mail;
    /* prepared by kp_email_prepare */
    struct kp_inbound in;
    struct kp_mail_meta meta;
    const char *thread_ids[KP_EMAIL_THREAD_IDS]; /* In-Reply-To first, then References */
    const char *thread_rules[KP_EMAIL_THREAD_IDS];
    size_t n_thread_ids;
    int64_t subject_tag; /* the conversation a "[#1234]" names, 0 = none */
    bool automatic;
    /* filled by kp_email_store */
    enum kp_email_outcome outcome;
    struct kp_ingest_result res;
    struct kp_event ev, autoreply_ev, bounce_ev;
    bool bounce_matched;
};

/* Parses raw (owned by the caller, alive until kp_email_in_release) and prepares the message
 * for inbox_id; envelope_from (MAIL FROM, "" for the null path, NULL when unknown) names the
 * sender when the mail does not. Any thread; never fails. */
void kp_email_prepare(struct kp_email_in *e, int64_t inbox_id, const char *envelope_from,
                      const void *raw, size_t len);
/* In a writer job: threads and stores the prepared mail (see the outcomes), adds the events,
 * and queues the inbox's acknowledgement for a new conversation. May run twice (see writer.h). */
int kp_email_store(struct kp_store *s, struct kp_email_in *e);
void kp_email_in_release(struct kp_email_in *e);

/* a is a bare address (local@domain) that can go into an SMTP envelope and a header as it is:
 * no spaces, control characters, brackets or separators. */
bool kp_email_plain_address(const char *a);

/* In the writer job that added message_id (direction out) to the conversation: queues it for
 * sending when its channel (channel, else the conversation's) is email. KP_ECONFLICT when it
 * should go by email but there is no inbox that can send or no address to send to. */
int kp_email_queue_reply(struct kp_store *s, int64_t conversation_id, int64_t message_id,
                         const char *channel, bool automatic);

/* How a client of the mail server at url (smtp://, smtps://, imap://, imaps://) uses TLS, as a
 * CURLUSESSL_* value: required whenever a password is sent to a server that is not on this
 * machine, else STARTTLS when the server offers it. (The s-schemes are TLS from the start.) */
long kp_email_tls(const char *url, bool credentials);

#endif
