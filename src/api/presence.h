/* SPDX-License-Identifier: MIT */
/*
 * presence.h - who views and who types in which conversation ("collision" in the agent app),
 * in memory only. Every event loop keeps a replica of the whole picture: each change of one
 * stream connection (src/api/stream.c) is posted as a KP_NOTICE_PRESENCE notice to every loop's
 * bus, and only the connection's own loop ever changes its entry, so the replicas agree once
 * the notices are applied. This file is the replica and the frame renderer; it does no I/O.
 */
#ifndef KP_API_PRESENCE_H
#define KP_API_PRESENCE_H

#include "../base/buf.h"
#include "../store/store.h"

struct kp_presence;

void kp_presence_new(struct kp_presence **out);
void kp_presence_free(struct kp_presence *p);

/* The conversation the connection views in this replica, 0 when none. */
int64_t kp_presence_viewing(const struct kp_presence *p, uint64_t conn);
/* Whether the connection types (in what it views) in this replica. */
bool kp_presence_typing(const struct kp_presence *p, uint64_t conn);
/* The name this replica holds for the agent, or NULL when none of his connections is in it. */
const char *kp_presence_agent_name(const struct kp_presence *p, int64_t agent_id);
/* Applies a change: the connection now views ch->conversation_id (0 removes it) and types
 * there or not. name is the agent's display name (copied; NULL = ""). */
void kp_presence_apply(struct kp_presence *p, const struct kp_presence_change *ch,
                       const char *name);
/*
 * Appends the stream frame for one conversation to out:
 * {"type":"presence","conversation_id":N,"viewers":[{"agent_id":N,"name":"..."}],"typing":[N]}
 * with each agent once (however many connections he has), ordered by agent id.
 * Returns 0 or KP_ETOOBIG from out.
 */
int kp_presence_frame(const struct kp_presence *p, int64_t conversation_id, struct kp_buf *out);

#endif
