/* SPDX-License-Identifier: MIT */
/*
 * kp.h - what every Knotenpunkt file needs: error codes, assertions that stay on in release
 * builds, and allocation helpers that abort instead of returning NULL.
 */
#ifndef KP_BASE_KP_H
#define KP_BASE_KP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "banned.h"

/* Error codes: functions return 0 or one of these (negative). */
enum kp_err {
    KP_OK = 0,
    KP_EINVAL = -1,    /* bad argument or input */
    KP_ENOMEM = -2,    /* allocation failed where we do not abort */
    KP_ETOOBIG = -3,   /* a capped buffer or input limit was hit */
    KP_ENOTFOUND = -4, /* the thing asked for does not exist */
    KP_EEXIST = -5,    /* unique constraint: the thing already exists */
    KP_EIO = -6,       /* storage or socket failure */
    KP_EPERM = -7,     /* not allowed */
    KP_EBUSY = -8,     /* try again later */
    KP_ECONFLICT = -9, /* state does not allow the change */
};

/* Returns a static lowercase name for an error code ("not found"). */
const char *kp_strerror(int err);

#define KP_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            kp_assert_fail(#cond, __FILE__, __LINE__);                                             \
    } while (0)

_Noreturn void kp_assert_fail(const char *what, const char *file, int line);

/* Allocation: abort with a message when memory is exhausted. */
void *kp_xmalloc(size_t n);
void *kp_xcalloc(size_t n, size_t size);
void *kp_xrealloc(void *p, size_t n);
/* Length of the valid UTF-8 sequence at s[0..n) (n > 0), 0 when it is not one: overlong forms,
 * surrogates and values past U+10FFFF are not. */
size_t kp_utf8_len(const unsigned char *s, size_t n);
char *kp_xstrdup(const char *s);
char *kp_xstrndup(const char *s, size_t n);

#define KP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define KP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KP_PRINTF(f, a)
#endif

#endif
