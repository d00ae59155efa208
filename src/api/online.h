/* SPDX-License-Identifier: MIT */
/*
 * online.h - which agents have a stream (src/api/stream.c) open right now, on any event loop,
 * with the rights they had when it opened (kept current when they change): the chat widget
 * asks whether an agent who may answer an inbox's conversations is there. One registry per
 * process, shared by every loop behind a mutex; in memory only.
 */
#ifndef KP_API_ONLINE_H
#define KP_API_ONLINE_H

#include "../base/kp.h"

struct kp_online;

void kp_online_new(struct kp_online **out);
void kp_online_free(struct kp_online *o);

/* An agent stream opened (any thread); teams[0..n) are the agent's teams (copied). True when
 * it is the agent's first: he came online. */
bool kp_online_add(struct kp_online *o, int64_t agent_id, bool admin, const int64_t *teams,
                   size_t n);
/* One of the agent's streams closed; true when it was his last: he went offline. */
bool kp_online_remove(struct kp_online *o, int64_t agent_id);
/* The agent's role or teams changed; nothing happens when he has no stream open. */
void kp_online_update(struct kp_online *o, int64_t agent_id, bool admin, const int64_t *teams,
                      size_t n);
/* True when an agent with an open stream may see new conversations of team_id: an admin, or a
 * member of the team (team_id 0: only admins). */
bool kp_online_for_team(struct kp_online *o, int64_t team_id);
/* Agents with at least one stream open, for tests and metrics. */
size_t kp_online_count(struct kp_online *o);

#endif
