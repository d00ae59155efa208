/* SPDX-License-Identifier: MIT */
/*
 * mime.h - one email message (RFC 5322 + MIME) read into what Knotenpunkt keeps of it, with
 * GMime. Never fails on bad input: whatever can be read is returned, and KP_MAIL_BROKEN with a
 * problem text says what could not. Every string is UTF-8 (converted from its charset) and
 * lives in the caller's arena.
 */
#ifndef KP_PROTO_MIME_H
#define KP_PROTO_MIME_H

#include "../base/arena.h"

enum {
    KP_MAIL_MAX_REFS = 50,         /* References kept (the newest) */
    KP_MAIL_MAX_ATTACHMENTS = 100, /* further parts are dropped and the mail flagged broken */
    KP_MAIL_MAX_DEPTH = 20,        /* nested multiparts and message/rfc822 parts */
};

/* Flags of a mail (kp_mail.flags). */
enum {
    KP_MAIL_BROKEN = 1 << 0,    /* did not parse cleanly: see problem */
    KP_MAIL_AUTO = 1 << 1,      /* automatic: Auto-Submitted (not "no"), X-Autoreply,
                                 * X-Auto-Response-Suppress, Precedence auto_reply */
    KP_MAIL_BULK = 1 << 2,      /* Precedence bulk/junk/list or List-Id/List-Unsubscribe */
    KP_MAIL_BOUNCE = 1 << 3,    /* a delivery status notification (RFC 3464 or a common
                                 * non-standard bounce); see bounce_* */
    KP_MAIL_DAEMON = 1 << 4,    /* from mailer-daemon, postmaster or an empty Return-Path */
    KP_MAIL_SIGNED = 1 << 5,    /* multipart/signed (kept intact in the raw source) */
    KP_MAIL_ENCRYPTED = 1 << 6, /* multipart/encrypted or application/pkcs7-mime */
    KP_MAIL_FORWARDED = 1 << 7, /* contains a message/rfc822 part */
};

struct kp_mail_part {
    const char *filename;     /* decoded (RFC 2047/2231), never NULL: "attachment-N" when none */
    const char *content_type; /* "image/png" (type/subtype, lowercase) */
    const char *content_id;   /* without <>, NULL when none: html refers to it as cid: */
    const void *data;         /* decoded content (base64/quoted-printable undone) */
    size_t size;
    bool is_inline; /* Content-Disposition inline or referenced by cid */
};

struct kp_mail {
    const char *message_id;  /* without <>, NULL when none */
    const char *in_reply_to; /* the first id in In-Reply-To, without <>, NULL when none */
    const char **refs;       /* References ids, oldest first, without <> */
    size_t n_refs;
    const char *subject;   /* decoded, NULL when none */
    const char *from_addr; /* lowercase address of From (or Sender/Return-Path), NULL when none */
    const char *from_name; /* decoded display name, NULL when none */
    const char *reply_to;  /* address of Reply-To, NULL when none */
    const char *to, *cc;   /* decoded address lists as written ("A <a@x>, b@y"), NULL when none */
    int64_t date_ms;       /* Date header, 0 when missing or unreadable */
    const char *text;      /* the text: text/plain, else derived from the html; "" when none.
                            * Forwarded messages are appended, introduced by their headers. */
    const char *html;      /* sanitised (kp_html_sanitize) html part, NULL when none */
    struct kp_mail_part *parts; /* attachments and inline images */
    size_t n_parts;
    unsigned flags;      /* KP_MAIL_* */
    const char *problem; /* with KP_MAIL_BROKEN: what was wrong, for the agent */
    /* With KP_MAIL_BOUNCE, what could be found (each NULL when not): */
    const char *bounce_message_id; /* Message-ID of the mail that bounced, without <> */
    const char *bounce_recipient;  /* the address that failed */
    const char *bounce_status;     /* "5.1.1" */
    const char *bounce_reason;     /* Diagnostic-Code or the human text, one line, <= 500 bytes */
    bool bounce_permanent;         /* 5.x.x (or a non-standard bounce that says it failed);
                                    * false for delays (4.x.x) */
};

/* Initialises GMime once per process (thread-safe; later calls do nothing). */
void kp_mime_init(void);
/* Reads raw[0..len) into *out. Returns 0, or KP_EINVAL only when len is 0. Thread-safe. */
int kp_mime_parse(const void *raw, size_t len, struct kp_arena *a, struct kp_mail *out);

#endif
