/* SPDX-License-Identifier: MIT */
/*
 * mime_int.h - what mime.c shares with mime_bounce.c only: the facts about a delivery status
 * notification gathered while the parts are read, and how they become kp_mail.bounce_*.
 */
#ifndef KP_PROTO_MIME_INT_H
#define KP_PROTO_MIME_INT_H

#include "mime.h"

enum { KP_MIME_MAX_REASON = 500 }; /* bytes of kp_mail.bounce_reason */

/* Facts found in the parts of a mail; each NULL when not found. Strings live in the arena. */
struct kp_mime_bounce {
    bool dsn;               /* a message/delivery-status part was read */
    bool report;            /* the mail is a multipart/report; report-type=delivery-status */
    const char *recipient;  /* Final-Recipient (else Original-Recipient), address only */
    const char *action;     /* "failed", "delayed", ... lowercase */
    const char *status;     /* "5.1.1" */
    const char *diagnostic; /* Diagnostic-Code without its type ("smtp; ") */
    const char *message_id; /* of the first attached message or returned headers, no <> */
};

/* Reads the body of a message/delivery-status part (RFC 3464: per-message fields, then one
 * block per recipient). Keeps the first recipient whose action is "failed", else the first
 * "delayed" one, else the first one. s need not be NUL-terminated. */
void kp_mime_bounce_read_dsn(struct kp_mime_bounce *b, const char *s, size_t n, struct kp_arena *a);

/* Returns the Message-ID (without <>) of the first "Message-ID:" header line in s, e.g. a
 * text/rfc822-headers part or the original quoted in a bounce; NULL when none (arena). */
const char *kp_mime_bounce_find_message_id(const char *s, size_t n, struct kp_arena *a);

/* Decides whether m is a bounce, from b (an RFC 3464 report) or else from m->text, m->subject
 * and m->flags (a known non-standard bounce), and fills m->bounce_* and KP_MAIL_BOUNCE. */
void kp_mime_bounce_finish(const struct kp_mime_bounce *b, struct kp_mail *m, struct kp_arena *a);

#endif
