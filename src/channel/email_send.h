/* SPDX-License-Identifier: MIT */
/*
 * email_send.h - the outbox's sender: takes queued outbound mails whose time has come, builds
 * each (GMime: text and HTML parts, attachments, Message-ID, In-Reply-To, References,
 * Auto-Submitted for automatic answers) and sends it through its inbox's SMTP server (libcurl;
 * STARTTLS when offered, AUTH when a user is set) on the worker pool. A mail the server takes
 * is marked sent with its source; a temporary failure is retried after retry_ms, doubling each
 * time, up to KP_EMAIL_SEND_ATTEMPTS; a permanent one (5xx) is marked failed with the reason.
 * Agents see each state change as a message.updated event.
 */
#ifndef KP_CHANNEL_EMAIL_SEND_H
#define KP_CHANNEL_EMAIL_SEND_H

#include "../api/api.h"

enum {
    KP_EMAIL_SEND_ATTEMPTS = 10,
    KP_EMAIL_SEND_PARALLEL = 4,  /* mails being sent at once */
    KP_EMAIL_SEND_POLL_MS = 250, /* how often the outbox is looked at */
};

struct kp_email_send_config {
    int retry_ms;         /* first retry after a temporary failure */
    const char *hostname; /* for Message-IDs of mails that have none */
    const char *ca_file;  /* CA certificates servers must chain to; NULL or "" = the system's */
};

struct kp_email_sender;

int kp_email_send_start(struct kp_api *api, const struct kp_email_send_config *cfg,
                        struct kp_email_sender **out);
/* No new sending starts; mails being sent finish. NULL is ignored. */
void kp_email_send_stop(struct kp_email_sender *s);
/* Mails being sent (0 for NULL). */
size_t kp_email_send_busy(struct kp_email_sender *s);
void kp_email_send_free(struct kp_email_sender *s);

#endif
