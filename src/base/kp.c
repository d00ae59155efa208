/* SPDX-License-Identifier: MIT */
/* kp.c - error names, assertion failure and aborting allocators. */
#include "kp.h"

const char *kp_strerror(int err)
{
    switch (err) {
    case KP_OK:
        return "ok";
    case KP_EINVAL:
        return "invalid argument";
    case KP_ENOMEM:
        return "out of memory";
    case KP_ETOOBIG:
        return "too big";
    case KP_ENOTFOUND:
        return "not found";
    case KP_EEXIST:
        return "already exists";
    case KP_EIO:
        return "i/o error";
    case KP_EPERM:
        return "not permitted";
    case KP_EBUSY:
        return "busy";
    case KP_ECONFLICT:
        return "conflict";
    }
    return "unknown error";
}

void kp_assert_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "knotenpunkt: assertion '%s' failed at %s:%d\n", what, file, line);
    abort();
}

static _Noreturn void oom(size_t n)
{
    fprintf(stderr, "knotenpunkt: out of memory allocating %zu bytes\n", n);
    abort();
}

void *kp_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *kp_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *kp_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *kp_xstrdup(const char *s)
{
    return kp_xstrndup(s, strlen(s));
}

char *kp_xstrndup(const char *s, size_t n)
{
    char *p = kp_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Length of the valid UTF-8 sequence at s[0..n), 0 when it is not one. */
size_t kp_utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (len == 0 || c > 0xf4 || n < len)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] > 0x8f))
        return 0; /* overlong, surrogate or past U+10FFFF */
    return len;
}
