/* SPDX-License-Identifier: MIT */
/* arena.c - chunked bump allocator with cleanup callbacks (see arena.h). */
#include "arena.h"

#include <stdarg.h>

#define CHUNK_SIZE 4096

struct kp_arena_chunk {
    struct kp_arena_chunk *next;
    size_t size, off;
    max_align_t data[];
};

struct kp_arena_cleanup {
    struct kp_arena_cleanup *next;
    void (*fn)(void *);
    void *data;
};

void kp_arena_init(struct kp_arena *a)
{
    memset(a, 0, sizeof(*a));
}

void kp_arena_release(struct kp_arena *a)
{
    while (a->cleanups) {
        struct kp_arena_cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->data);
    }
    while (a->head) {
        struct kp_arena_chunk *c = a->head;
        a->head = c->next;
        free(c);
    }
    a->used = 0;
}

void *kp_arena_alloc(struct kp_arena *a, size_t n)
{
    size_t align = sizeof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    struct kp_arena_chunk *c = a->head;
    if (!c || c->size - c->off < n) {
        size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;
        c = kp_xmalloc(sizeof(*c) + size);
        c->size = size;
        c->off = 0;
        if (a->head && n > CHUNK_SIZE) {
            /* keep the current chunk first: it likely still has room */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = (char *)c->data + c->off;
    c->off += n;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *kp_arena_strndup(struct kp_arena *a, const char *s, size_t n)
{
    char *p = kp_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *kp_arena_strdup(struct kp_arena *a, const char *s)
{
    return kp_arena_strndup(a, s, strlen(s));
}

char *kp_arena_printf(struct kp_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    KP_ASSERT(n >= 0);
    char *p = kp_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void kp_arena_on_release(struct kp_arena *a, void (*fn)(void *), void *data)
{
    struct kp_arena_cleanup *c = kp_arena_alloc(a, sizeof(*c));
    c->fn = fn;
    c->data = data;
    c->next = a->cleanups;
    a->cleanups = c;
}
