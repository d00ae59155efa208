/* SPDX-License-Identifier: MIT */
/* presence.c - one event loop's replica of who views and types where (see presence.h). */
#include "presence.h"

#include <jansson.h>

/* One stream connection that views a conversation. Connections that view nothing have no
 * entry, so the table holds at most one entry per open agent stream. */
struct entry {
    uint64_t conn;
    int64_t agent_id, conversation_id;
    bool typing;
    char name[128];
};

struct kp_presence {
    struct entry *v;
    size_t n, cap;
};

void kp_presence_new(struct kp_presence **out)
{
    *out = kp_xcalloc(1, sizeof(**out));
}

void kp_presence_free(struct kp_presence *p)
{
    if (!p)
        return;
    free(p->v);
    free(p);
}

static struct entry *find(const struct kp_presence *p, uint64_t conn)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].conn == conn)
            return &p->v[i];
    return NULL;
}

int64_t kp_presence_viewing(const struct kp_presence *p, uint64_t conn)
{
    const struct entry *e = find(p, conn);
    return e ? e->conversation_id : 0;
}

bool kp_presence_typing(const struct kp_presence *p, uint64_t conn)
{
    const struct entry *e = find(p, conn);
    return e && e->typing;
}

const char *kp_presence_agent_name(const struct kp_presence *p, int64_t agent_id)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].agent_id == agent_id)
            return p->v[i].name;
    return NULL;
}

void kp_presence_apply(struct kp_presence *p, const struct kp_presence_change *ch, const char *name)
{
    char copy[sizeof(p->v->name)];
    snprintf(copy, sizeof(copy), "%s", name ? name : ""); /* name may point into p->v */
    struct entry *e = find(p, ch->conn);
    if (!ch->conversation_id) {
        if (e)
            *e = p->v[--p->n]; /* order does not matter: frames sort by agent */
        return;
    }
    if (!e) {
        if (p->n == p->cap) {
            p->cap = p->cap ? 2 * p->cap : 64;
            p->v = kp_xrealloc(p->v, p->cap * sizeof(*p->v));
        }
        e = &p->v[p->n++];
        e->conn = ch->conn;
    }
    e->agent_id = ch->agent_id;
    e->conversation_id = ch->conversation_id;
    e->typing = ch->typing;
    memcpy(e->name, copy, sizeof(e->name));
}

static int by_agent(const void *a, const void *b)
{
    int64_t x = (*(const struct entry *const *)a)->agent_id;
    int64_t y = (*(const struct entry *const *)b)->agent_id;
    return x < y ? -1 : x > y;
}

int kp_presence_frame(const struct kp_presence *p, int64_t conversation_id, struct kp_buf *out)
{
    size_t n = 0;
    const struct entry **here = kp_xmalloc((p->n + 1) * sizeof(*here));
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].conversation_id == conversation_id)
            here[n++] = &p->v[i];
    qsort(here, n, sizeof(*here), by_agent);
    json_t *viewers = json_array(), *typing = json_array();
    for (size_t i = 0; i < n; i++) {
        int64_t agent = here[i]->agent_id;
        bool first = i == 0 || here[i - 1]->agent_id != agent;
        if (first)
            json_array_append_new(
                viewers, json_pack("{sIss}", "agent_id", (json_int_t)agent, "name", here[i]->name));
        /* one agent types when any of his connections does */
        bool typed = false;
        for (size_t j = i; j > 0 && here[j - 1]->agent_id == agent; j--)
            typed |= here[j - 1]->typing;
        if (here[i]->typing && !typed)
            json_array_append_new(typing, json_integer(agent));
    }
    free(here);
    json_t *frame = json_pack("{sssIsoso}", "type", "presence", "conversation_id",
                              (json_int_t)conversation_id, "viewers", viewers, "typing", typing);
    char *text = json_dumps(frame, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(frame);
    int rc = text ? kp_buf_puts(out, text) : KP_ENOMEM;
    free(text);
    return rc;
}
