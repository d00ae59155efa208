/* SPDX-License-Identifier: MIT */
/*
 * email_imap.h - fetching mail from the IMAP mailboxes of email inboxes that have an imap_url,
 * every imap_poll_s seconds. libcurl connects (IMAPS, or STARTTLS when the server offers it)
 * and logs in; the commands after that are this file's: the mailbox is opened read-only
 * (EXAMINE) and mails are read with BODY.PEEK[], so nothing changes on the server until the
 * mails are committed. Then the import's position (UIDVALIDITY, last UID) is committed with
 * them, and only after that are they marked \Seen, deleted or moved as the inbox says. A new
 * UIDVALIDITY starts over from the first UID; the Message-ID keeps that from duplicating.
 */
#ifndef KP_CHANNEL_EMAIL_IMAP_H
#define KP_CHANNEL_EMAIL_IMAP_H

#include "../api/api.h"

enum {
    KP_IMAP_BATCH = 50,             /* mails per transaction */
    KP_IMAP_BATCH_BYTES = 32 << 20, /* a batch ends after the mail that passes this */
    KP_IMAP_MAIL_MAX = 64 << 20,    /* a larger literal ends the session */
    KP_IMAP_INBOXES = 256,          /* email inboxes looked at */
    KP_IMAP_TIMEOUT_MS = 30000,     /* per server answer */
    KP_IMAP_COMMAND_MAX_S = 300,    /* per command with all its data */
};

struct kp_email_fetcher;

/* Starts polling on api's loop: reads settings with api's read store, stores through its
 * writer. ca_file (kept by the caller; NULL or "" = the system's) checks servers' certificates. */
int kp_email_imap_start(struct kp_api *api, const char *ca_file, struct kp_email_fetcher **out);
void kp_email_imap_stop(struct kp_email_fetcher *f);
size_t kp_email_imap_busy(struct kp_email_fetcher *f);
void kp_email_imap_free(struct kp_email_fetcher *f);

#endif
