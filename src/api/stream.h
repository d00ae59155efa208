/* SPDX-License-Identifier: MIT */
/*
 * stream.h - GET /api/v1/stream: the agents' WebSocket. Committed events are pushed to every
 * connected agent who may see the conversation; a client that reconnects with ?since=<event id>
 * first receives what it missed, from the store's event log.
 */
#ifndef KP_API_STREAM_H
#define KP_API_STREAM_H

#include "api.h"

/* Payloads are read from store (the loop's read handle) when an event is pushed. */
int kp_stream_new(struct kp_store *store, struct kp_stream **out);
/* Closes nothing: the server closes the connections; this only frees the registry. */
void kp_stream_free(struct kp_stream *s);
/* Pushes ev (already committed) to the clients allowed to see it, with the conversation and
 * message as they are now; nothing is read when no client may see it. */
void kp_stream_publish(struct kp_stream *s, const struct kp_event *ev);
/* The agent's role, activity or teams changed: open streams see the new rights at once, and a
 * deactivated agent's streams are closed. */
void kp_stream_agent_changed(struct kp_stream *s, int64_t agent_id);
/* A session ended or a token was deleted: streams opened with it close. */
void kp_stream_revoke(struct kp_stream *s, const uint8_t hash[32]);

#endif
