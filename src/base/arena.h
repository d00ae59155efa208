/* SPDX-License-Identifier: MIT */
/*
 * arena.h - per-request memory: many small allocations, freed together in one call.
 * Cleanup callbacks registered on an arena run (last registered first) when it is released,
 * so that statements, json values and files opened for a request die with it.
 */
#ifndef KP_BASE_ARENA_H
#define KP_BASE_ARENA_H

#include "kp.h"

struct kp_arena_chunk;
struct kp_arena_cleanup;

struct kp_arena {
    struct kp_arena_chunk *head;
    struct kp_arena_cleanup *cleanups;
    size_t used;  /* bytes handed out, for limits and metrics */
    size_t limit; /* 0 = unlimited; kp_arena_alloc aborts past it only via caller checks */
};

void kp_arena_init(struct kp_arena *a);
/* Runs the cleanups and frees every chunk; the arena can be used again afterwards. */
void kp_arena_release(struct kp_arena *a);

/* Returns zeroed memory aligned for any type, owned by the arena. Never returns NULL. */
void *kp_arena_alloc(struct kp_arena *a, size_t n);
char *kp_arena_strdup(struct kp_arena *a, const char *s);
char *kp_arena_strndup(struct kp_arena *a, const char *s, size_t n);
char *kp_arena_printf(struct kp_arena *a, const char *fmt, ...) KP_PRINTF(2, 3);

/* Registers fn(data) to run when the arena is released. */
void kp_arena_on_release(struct kp_arena *a, void (*fn)(void *), void *data);

#endif
