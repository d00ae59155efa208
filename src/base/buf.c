/* SPDX-License-Identifier: MIT */
/* buf.c - capped growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdarg.h>

void kp_buf_init(struct kp_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap ? cap : SIZE_MAX / 2;
}

void kp_buf_init_fixed(struct kp_buf *b, char *mem, size_t size)
{
    KP_ASSERT(size > 0);
    b->data = mem;
    b->len = 0;
    b->alloc = size;
    b->cap = size - 1; /* the slow path never reallocates below the cap */
    mem[0] = '\0';
}

void kp_buf_release(struct kp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void kp_buf_reset(struct kp_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int reserve(struct kp_buf *b, size_t extra)
{
    if (extra > b->cap || b->len > b->cap - extra)
        return KP_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need)
        n *= 2;
    b->data = kp_xrealloc(b->data, n);
    b->alloc = n;
    return 0;
}

int kp_buf_append_slow(struct kp_buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int kp_buf_puts(struct kp_buf *b, const char *s)
{
    return kp_buf_append(b, s, strlen(s));
}

int kp_buf_printf(struct kp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    int rc;
    if (n < 0) {
        rc = KP_EINVAL;
    } else if ((size_t)n < sizeof(small)) {
        rc = kp_buf_append(b, small, (size_t)n);
    } else if ((rc = reserve(b, (size_t)n)) == 0) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
    return rc;
}

void kp_buf_consume(struct kp_buf *b, size_t n)
{
    if (n >= b->len) {
        kp_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}
