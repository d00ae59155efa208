/* SPDX-License-Identifier: MIT */
/*
 * cache.h - answers of hot reads (the inbox list), kept until the next commit. Each entry
 * remembers the writer's commit count when it was computed and is served only while no commit
 * has happened since, so a cached answer is always what the store would answer now. Bounded in
 * entries and bytes; the least recently used entry goes first.
 */
#ifndef KP_API_CACHE_H
#define KP_API_CACHE_H

#include "../base/kp.h"

struct kp_cache;

/* max_bytes 0 disables the cache: lookups miss and puts are dropped. */
int kp_cache_new(size_t max_bytes, struct kp_cache **out);
void kp_cache_free(struct kp_cache *c);
/* The cached body for key at store version, or NULL. Valid until the next put. */
const char *kp_cache_get(struct kp_cache *c, const char *key, uint64_t version, size_t *len);
/* Stores a copy of body for key, computed at version. */
void kp_cache_put(struct kp_cache *c, const char *key, uint64_t version, const char *body,
                  size_t len);

#endif
