/* SPDX-License-Identifier: MIT */
/* cache.c - commit-versioned answer cache (see cache.h). A small array searched linearly: the
 * working set is one entry per agent and view, a few dozen at most. */
#include "cache.h"

enum { SLOTS = 64 };

struct entry {
    char *key;
    char *body;
    size_t len;
    uint64_t version, used;
};

struct kp_cache {
    struct entry e[SLOTS];
    size_t bytes, max_bytes;
    uint64_t tick;
};

int kp_cache_new(size_t max_bytes, struct kp_cache **out)
{
    *out = kp_xcalloc(1, sizeof(**out));
    (*out)->max_bytes = max_bytes;
    return 0;
}

static void drop(struct kp_cache *c, struct entry *e)
{
    c->bytes -= e->len;
    free(e->key);
    free(e->body);
    memset(e, 0, sizeof(*e));
}

void kp_cache_free(struct kp_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SLOTS; i++)
        if (c->e[i].key)
            drop(c, &c->e[i]);
    free(c);
}

static struct entry *find(struct kp_cache *c, const char *key)
{
    for (int i = 0; i < SLOTS; i++)
        if (c->e[i].key && strcmp(c->e[i].key, key) == 0)
            return &c->e[i];
    return NULL;
}

const char *kp_cache_get(struct kp_cache *c, const char *key, uint64_t version, size_t *len)
{
    struct entry *e = find(c, key);
    if (!e || e->version != version)
        return NULL;
    e->used = ++c->tick;
    *len = e->len;
    return e->body;
}

void kp_cache_put(struct kp_cache *c, const char *key, uint64_t version, const char *body,
                  size_t len)
{
    if (len > c->max_bytes / 4)
        return;
    struct entry *e = find(c, key);
    if (e)
        drop(c, e);
    /* make room: an empty slot, else the least recently used, until the bytes fit */
    for (;;) {
        struct entry *victim = NULL;
        e = NULL;
        for (int i = 0; i < SLOTS; i++) {
            if (!c->e[i].key)
                e = e ? e : &c->e[i];
            else if (!victim || c->e[i].used < victim->used)
                victim = &c->e[i];
        }
        if (e && c->bytes + len <= c->max_bytes)
            break;
        if (!victim)
            return;
        drop(c, victim);
    }
    e->key = kp_xstrdup(key);
    e->body = kp_xmalloc(len);
    memcpy(e->body, body, len);
    e->len = len;
    e->version = version;
    e->used = ++c->tick;
    c->bytes += len;
}
