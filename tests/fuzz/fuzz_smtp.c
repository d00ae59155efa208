/* SPDX-License-Identifier: MIT */
/*
 * fuzz_smtp.c - libFuzzer target for the SMTP/LMTP command parser and the DATA decoder. The
 * first input byte picks the size of the simulated socket reads in the DATA phase, the second
 * the capacity of the message buffer; the rest is what a client sends. Lines (up to LF, CR
 * stripped) go to kp_smtp_parse; after an accepted DATA the bytes go to the decoder in those
 * reads until the end of data, then command lines again, as the listener does with pipelining.
 * Every DATA phase is decoded a second time in one call: both must agree.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proto/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_upper(int ch)
{
    return ch >= 'A' && ch <= 'Z';
}

/* Checks an accepted MAIL or RCPT path: printable, lowercase domain, a domain unless it is
 * <Postmaster>, no null recipient. */
static void check_path(const struct kp_smtp_cmd *cmd)
{
    const char *at = strrchr(cmd->path, '@');
    bool quoted = cmd->path[0] == '"';
    for (const char *p = cmd->path; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 32 || ch == 127)
            abort();
        if ((ch == ' ' || ch == '<' || ch == '>') && !quoted)
            abort();
        if (at && p > at && is_upper(ch))
            abort();
    }
    if (cmd->verb == KP_SMTP_RCPT && !cmd->path[0])
        abort();
    if (cmd->verb == KP_SMTP_RCPT && (cmd->size || cmd->body_8bit || cmd->smtputf8))
        abort();
    if (!at && cmd->path[0] && (cmd->verb != KP_SMTP_RCPT || strlen(cmd->path) != 10))
        abort();
}

/* Parses one line from an exact-size copy and checks what the parser promises. */
static int parse_line(const uint8_t *line, size_t len, enum kp_smtp_verb *verb)
{
    char *copy = kp_xmalloc(len ? len : 1);
    memcpy(copy, line, len);
    struct kp_smtp_cmd cmd;
    const char *why = NULL;
    int rc = kp_smtp_parse(copy, len, &cmd, &why);
    free(copy);
    *verb = cmd.verb;
    if (rc != 0 && rc != 500 && rc != 501 && rc != 555)
        abort();
    if (rc != 0 && (!why || !why[0]))
        abort();
    if (len > KP_SMTP_LINE_MAX - 2 && rc != 500)
        abort();
    if (!memchr(cmd.path, '\0', sizeof(cmd.path)))
        abort();
    if (rc != 0)
        return rc;
    if (cmd.verb == KP_SMTP_UNKNOWN)
        abort();
    if ((cmd.verb == KP_SMTP_DATA || cmd.verb == KP_SMTP_RSET || cmd.verb == KP_SMTP_QUIT ||
         cmd.verb == KP_SMTP_STARTTLS) &&
        cmd.path[0])
        abort();
    if (cmd.verb == KP_SMTP_MAIL || cmd.verb == KP_SMTP_RCPT)
        check_path(&cmd);
    return 0;
}

struct decoded {
    int done;
    size_t used, out_len;
    uint64_t total;
    char *out;
};

/* Decodes in[0..len) in reads of step bytes into an exact-size buffer of cap bytes. */
static struct decoded decode(const uint8_t *in, size_t len, size_t step, size_t cap)
{
    struct decoded r = {0, 0, 0, 0, cap ? kp_xmalloc(cap) : NULL};
    struct kp_smtp_data d;
    kp_smtp_data_init(&d);
    size_t off = 0;
    do {
        size_t n = len - off < step ? len - off : step, used = 0;
        char *chunk = kp_xmalloc(n ? n : 1);
        memcpy(chunk, in + off, n);
        size_t before = r.out_len;
        r.done = kp_smtp_data_feed(&d, chunk, n, r.out, cap, &r.out_len, &used);
        free(chunk);
        if (used > n || r.out_len < before || r.out_len > cap || d.total < r.out_len)
            abort();
        if (!r.done && used != n)
            abort(); /* the listener would feed the same bytes twice */
        r.used += used;
        off += n;
    } while (!r.done && off < len);
    r.total = d.total;
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t step = data[0] % 32, cap = (size_t)data[1] * 4;
    data += 2;
    size -= 2;
    if (step == 0)
        step = size ? size : 1;
    size_t off = 0;
    while (off < size) {
        const uint8_t *lf = memchr(data + off, '\n', size - off);
        size_t end = lf ? (size_t)(lf - data) : size;
        size_t len = end - off;
        if (len && data[off + len - 1] == '\r')
            len--;
        enum kp_smtp_verb verb;
        int rc = parse_line(data + off, len, &verb);
        off = lf ? end + 1 : size;
        if (rc != 0 || verb != KP_SMTP_DATA)
            continue;
        /* the DATA phase: in reads of step bytes, and again at once */
        size_t left = size - off;
        struct decoded split = decode(data + off, left, step, cap);
        struct decoded whole = decode(data + off, left, left ? left : 1, cap);
        if (split.done != whole.done || split.used != whole.used ||
            split.out_len != whole.out_len || split.total != whole.total ||
            (split.out_len && memcmp(split.out, whole.out, split.out_len) != 0))
            abort();
        free(split.out);
        free(whole.out);
        if (!split.done)
            break;
        off += split.used;
    }
    return 0;
}
