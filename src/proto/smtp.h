/* SPDX-License-Identifier: MIT */
/*
 * smtp.h - the SMTP (RFC 5321) and LMTP (RFC 2033) server side without I/O: command lines in,
 * commands out; the DATA stream's end and dot-stuffing. The session logic (which command is
 * allowed when, replies, limits) lives with the listener (src/channel/email_listen.c).
 */
#ifndef KP_PROTO_SMTP_H
#define KP_PROTO_SMTP_H

#include "../base/kp.h"

enum {
    KP_SMTP_LINE_MAX = 1000, /* RFC 5321 4.5.3.1.4 (text line incl. CRLF); longer: 500 */
    KP_SMTP_PATH_MAX = 256,  /* RFC 5321 4.5.3.1.3 */
};

enum kp_smtp_verb {
    KP_SMTP_UNKNOWN,
    KP_SMTP_HELO,
    KP_SMTP_EHLO,
    KP_SMTP_LHLO,
    KP_SMTP_MAIL,
    KP_SMTP_RCPT,
    KP_SMTP_DATA,
    KP_SMTP_RSET,
    KP_SMTP_NOOP,
    KP_SMTP_QUIT,
    KP_SMTP_VRFY,
    KP_SMTP_HELP,
    KP_SMTP_STARTTLS,
    KP_SMTP_BDAT,
};

struct kp_smtp_cmd {
    enum kp_smtp_verb verb;
    /* MAIL FROM:<path> / RCPT TO:<path>: the address without <>, "" for the null path <>;
     * lowercase domain, local part as sent. HELO/EHLO/LHLO: the domain or address literal. */
    char path[KP_SMTP_PATH_MAX + 1];
    /* MAIL parameters */
    uint64_t size;  /* SIZE=n, 0 when not given */
    bool body_8bit; /* BODY=8BITMIME */
    bool smtputf8;  /* SMTPUTF8 */
};

/*
 * Parses one command line (without its CRLF; line[len] need not be NUL). Verbs are
 * case-insensitive. Returns 0, or an SMTP reply code with a static message in *why:
 * 500 (line too long or not a command), 501 (syntax error in parameters: a bad path, an unknown
 * or malformed parameter, a missing HELO domain), 555 (MAIL/RCPT parameter not recognised).
 */
int kp_smtp_parse(const char *line, size_t len, struct kp_smtp_cmd *out, const char **why);

/* The DATA phase: feeds received bytes, undoes dot-stuffing and finds the final CRLF.CRLF. */
struct kp_smtp_data {
    int state;      /* internal */
    uint64_t total; /* message bytes so far (after unstuffing) */
};
void kp_smtp_data_init(struct kp_smtp_data *d);
/*
 * Consumes in[0..len): message bytes are appended to out (unstuffed, CRLF kept, the final
 * ".\r\n" not included) while out has room, counted in d->total beyond. *used receives the
 * bytes of in consumed; returns 1 when the end of data was consumed (the rest of in, after
 * *used, is the next command: pipelining), 0 when more is needed. Bare LF line ends are
 * accepted as CRLF.
 */
int kp_smtp_data_feed(struct kp_smtp_data *d, const char *in, size_t len, char *out, size_t out_cap,
                      size_t *out_len, size_t *used);

#endif
