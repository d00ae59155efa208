/* SPDX-License-Identifier: MIT */
/*
 * buf.h - a growable byte buffer with a hard cap. Appends past the cap fail with KP_ETOOBIG
 * and leave the buffer unchanged, so input that grows without bound cannot exhaust memory.
 */
#ifndef KP_BASE_BUF_H
#define KP_BASE_BUF_H

#include "kp.h"

struct kp_buf {
    char *data; /* always NUL-terminated when len > 0 or after any append */
    size_t len, alloc, cap;
};

/* cap 0 means SIZE_MAX / 2. */
void kp_buf_init(struct kp_buf *b, size_t cap);
void kp_buf_release(struct kp_buf *b);
/* A buffer over the caller's memory that never grows: appends past size - 1 bytes fail with
 * KP_ETOOBIG. Do not release it. */
void kp_buf_init_fixed(struct kp_buf *b, char *mem, size_t size);
void kp_buf_reset(struct kp_buf *b);
int kp_buf_append_slow(struct kp_buf *b, const void *p, size_t n);

/* Appends n bytes; KP_ETOOBIG past the cap. Inline: renderers call it per token. */
static inline int kp_buf_append(struct kp_buf *b, const void *p, size_t n)
{
    /* alloc > len whenever data exists; the slow path also enforces the cap */
    if (b->alloc - b->len <= n || n > b->cap - b->len)
        return kp_buf_append_slow(b, p, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}
int kp_buf_puts(struct kp_buf *b, const char *s);
int kp_buf_printf(struct kp_buf *b, const char *fmt, ...) KP_PRINTF(2, 3);
/* Drops the first n bytes. */
void kp_buf_consume(struct kp_buf *b, size_t n);

#endif
