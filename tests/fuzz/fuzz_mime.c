/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mime.c - libFuzzer target for the email parser (kp_mime_parse, GMime underneath, the
 * HTML sanitiser and the bounce reader on top). The input is one raw mail. Whatever it is, the
 * parse must succeed and every string it returns must be valid UTF-8 within its caps; the
 * parts must stay within KP_MAIL_MAX_ATTACHMENTS and carry their sizes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proto/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless s (may be NULL) is valid UTF-8 of at most max bytes. */
static void check_utf8(const char *s, size_t max)
{
    if (!s)
        return;
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    while (u[n]) {
        unsigned c = u[n];
        size_t len = c < 0x80                ? 1
                     : c >= 0xc2 && c < 0xe0 ? 2
                     : c >= 0xe0 && c < 0xf0 ? 3
                     : c >= 0xf0 && c < 0xf5 ? 4
                                             : 0;
        if (!len)
            abort();
        for (size_t i = 1; i < len; i++)
            if ((u[n + i] & 0xc0) != 0x80)
                abort();
        if ((c == 0xe0 && u[n + 1] < 0xa0) || (c == 0xed && u[n + 1] > 0x9f) ||
            (c == 0xf0 && u[n + 1] < 0x90) || (c == 0xf4 && u[n + 1] > 0x8f))
            abort();
        n += len;
    }
    if (n > max)
        abort();
}

static void check_mail(const struct kp_mail *m)
{
    if (!m->text || !m->refs || (m->n_parts && !m->parts))
        abort();
    check_utf8(m->text, 8u << 20);
    check_utf8(m->html, 64u << 20);
    const char *lines[] = {
        m->message_id,       m->in_reply_to,  m->subject, m->from_addr, m->from_name,
        m->reply_to,         m->to,           m->cc,      m->problem,   m->bounce_message_id,
        m->bounce_recipient, m->bounce_status};
    for (size_t i = 0; i < KP_ARRAY_LEN(lines); i++)
        check_utf8(lines[i], 2000);
    check_utf8(m->bounce_reason, 500);
    if (m->n_refs > KP_MAIL_MAX_REFS || m->n_parts > KP_MAIL_MAX_ATTACHMENTS)
        abort();
    for (size_t i = 0; i < m->n_refs; i++)
        check_utf8(m->refs[i], 998);
    for (size_t i = 0; i < m->n_parts; i++) {
        const struct kp_mail_part *p = &m->parts[i];
        if (!p->filename || !*p->filename || !p->content_type || !strchr(p->content_type, '/'))
            abort();
        if (strchr(p->filename, '/') || strchr(p->filename, '\\'))
            abort();
        check_utf8(p->filename, 255);
        check_utf8(p->content_type, 127);
        check_utf8(p->content_id, 998);
        if (p->size && !p->data)
            abort();
        size_t zeros = 0; /* reads every byte, so that a short buffer shows */
        for (size_t k = 0; k < p->size; k++)
            zeros += ((const unsigned char *)p->data)[k] == 0;
        if (zeros > p->size)
            abort();
    }
    if ((m->flags & KP_MAIL_BROKEN) && !m->problem)
        abort();
    if (!(m->flags & KP_MAIL_BOUNCE) && (m->bounce_recipient || m->bounce_status))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kp_arena a;
    kp_arena_init(&a);
    struct kp_mail m;
    int rc = kp_mime_parse(data, size, &a, &m);
    if (size == 0 ? rc != KP_EINVAL : rc != 0)
        abort();
    if (rc == 0)
        check_mail(&m);
    kp_arena_release(&a);
    return 0;
}
