/* SPDX-License-Identifier: MIT */
/*
 * email_listen.h - the built-in SMTP (RFC 5321) or LMTP (RFC 2033) server a company's mail
 * server delivers to. Each recipient address is an email inbox's; a mail is answered 250 only
 * after it is committed, 451 when it could not be (the sender tries again later), 552 when it
 * is larger than announced with SIZE. Runs on one event loop; mails are parsed on the loop's
 * worker pool and stored through the writer.
 */
#ifndef KP_CHANNEL_EMAIL_LISTEN_H
#define KP_CHANNEL_EMAIL_LISTEN_H

#include "../api/api.h"

struct kp_email_listen_config {
    const char *host; /* "127.0.0.1" */
    int port;         /* 0 = any free port */
    bool lmtp;        /* LMTP (LHLO, one reply per recipient) instead of SMTP */
    size_t max_size;  /* bytes of one mail */
    int max_connections;
    int idle_timeout_ms;
    const char *hostname; /* in the greeting */
};

struct kp_email_listener;

/* Listens on api's loop; api's read store resolves recipients, its writer stores mails. */
int kp_email_listen_new(struct kp_api *api, const struct kp_email_listen_config *cfg,
                        struct kp_email_listener **out);
int kp_email_listen_port(struct kp_email_listener *l);
/* Stops accepting; idle sessions are closed, mails being stored finish first. */
void kp_email_listen_stop(struct kp_email_listener *l);
/* Sessions still open (kp_email_listen_free waits for none). */
size_t kp_email_listen_busy(struct kp_email_listener *l);
void kp_email_listen_free(struct kp_email_listener *l);

#endif
