/* SPDX-License-Identifier: MIT */
/* online.c - agents with an open stream, across every event loop (see online.h). */
#include "online.h"

#include <uv.h>

struct entry {
    int64_t agent_id;
    int streams; /* open streams of the agent */
    bool admin;
    int64_t *teams;
    size_t n_teams;
};

struct kp_online {
    uv_mutex_t mu;
    struct entry *v; /* mu */
    size_t n, cap;   /* mu */
};

void kp_online_new(struct kp_online **out)
{
    struct kp_online *o = kp_xcalloc(1, sizeof(*o));
    uv_mutex_init(&o->mu);
    *out = o;
}

void kp_online_free(struct kp_online *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        free(o->v[i].teams);
    free(o->v);
    uv_mutex_destroy(&o->mu);
    free(o);
}

static struct entry *find(struct kp_online *o, int64_t agent_id)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].agent_id == agent_id)
            return &o->v[i];
    return NULL;
}

static void set_rights(struct entry *e, bool admin, const int64_t *teams, size_t n)
{
    e->admin = admin;
    e->teams = kp_xrealloc(e->teams, (n ? n : 1) * sizeof(*teams));
    if (n)
        memcpy(e->teams, teams, n * sizeof(*teams));
    e->n_teams = n;
}

bool kp_online_add(struct kp_online *o, int64_t agent_id, bool admin, const int64_t *teams,
                   size_t n)
{
    if (!o)
        return false;
    uv_mutex_lock(&o->mu);
    struct entry *e = find(o, agent_id);
    if (!e) {
        if (o->n == o->cap) {
            o->cap = o->cap ? 2 * o->cap : 16;
            o->v = kp_xrealloc(o->v, o->cap * sizeof(*o->v));
        }
        e = &o->v[o->n++];
        *e = (struct entry){.agent_id = agent_id};
    }
    bool first = e->streams++ == 0;
    set_rights(e, admin, teams, n);
    uv_mutex_unlock(&o->mu);
    return first;
}

bool kp_online_remove(struct kp_online *o, int64_t agent_id)
{
    if (!o)
        return false;
    uv_mutex_lock(&o->mu);
    struct entry *e = find(o, agent_id);
    bool last = e && --e->streams <= 0;
    if (last) {
        free(e->teams);
        *e = o->v[--o->n];
    }
    uv_mutex_unlock(&o->mu);
    return last;
}

void kp_online_update(struct kp_online *o, int64_t agent_id, bool admin, const int64_t *teams,
                      size_t n)
{
    if (!o)
        return;
    uv_mutex_lock(&o->mu);
    struct entry *e = find(o, agent_id);
    if (e)
        set_rights(e, admin, teams, n);
    uv_mutex_unlock(&o->mu);
}

bool kp_online_for_team(struct kp_online *o, int64_t team_id)
{
    if (!o)
        return false;
    bool found = false;
    uv_mutex_lock(&o->mu);
    for (size_t i = 0; i < o->n && !found; i++) {
        const struct entry *e = &o->v[i];
        found = e->admin;
        for (size_t t = 0; t < e->n_teams && !found && team_id; t++)
            found = e->teams[t] == team_id;
    }
    uv_mutex_unlock(&o->mu);
    return found;
}

size_t kp_online_count(struct kp_online *o)
{
    uv_mutex_lock(&o->mu);
    size_t n = o->n;
    uv_mutex_unlock(&o->mu);
    return n;
}
