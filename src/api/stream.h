/* SPDX-License-Identifier: MIT */
/*
 * stream.h - GET /api/v1/stream: the agents' WebSocket. Committed events are pushed to every
 * connected agent who may see the conversation; a client that reconnects with ?since=<event id>
 * first receives what it missed, from the store's event log. Notifications go to their agent's
 * streams. The client tells which conversation it views and where its agent types ("watch" and
 * "typing" frames); every client that views a conversation hears who else views it and types.
 */
#ifndef KP_API_STREAM_H
#define KP_API_STREAM_H

#include "api.h"

/* Payloads are read from api->store (the loop's read handle) when an event is pushed. Call on
 * api's loop before its thread starts, after api->loop, store, peers and n_peers are set. */
int kp_stream_new(struct kp_api *api, struct kp_stream **out);
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
/* Notification id of agent_id was committed: pushed to his streams on this loop as
 * {"type":"notification","notification":{...}}, read from the store now. */
void kp_stream_notification(struct kp_stream *s, int64_t agent_id, int64_t id);
/* A stream connection of any loop changed what it views or whether its agent types: this
 * loop's picture follows, and its clients that view an affected conversation get
 * {"type":"presence",...} when the picture of it changed (presence.h). */
void kp_stream_presence(struct kp_stream *s, const struct kp_presence_change *ch);
/* A chat visitor started or stopped typing in the conversation: this loop's clients that view
 * it get {"type":"visitor_typing","conversation_id":N,"typing":bool}. */
void kp_stream_visitor_typing(struct kp_stream *s, int64_t conversation_id, bool typing);

#endif
