/* SPDX-License-Identifier: MIT */
/*
 * visitor.h - GET /widget/v1/stream?token=...: the chat widget's WebSocket, one per open page of
 * a visitor. It pushes what the visitor's chat needs in real time, {"type":"message"} for every
 * committed message of his webchat conversation except internal notes (agents' replies, and his
 * own from other tabs), {"type":"typing","agent":"Anna","typing":bool} while an agent types in
 * it, {"type":"open"} when an agent asks the widget to open, {"type":"agents","online":bool}
 * when whether someone can answer changes; it takes the visitor's typing and
 * the pages he views. Each event loop keeps its own visitors, found by contact in a hash table;
 * every loop hears every commit through its bus (bus.h), so a reply reaches the visitor on
 * whatever loop he is. A connection costs this file a few dozen bytes beyond the server's.
 */
#ifndef KP_API_VISITOR_H
#define KP_API_VISITOR_H

#include "api.h"

/* Call on api's loop before its thread starts. */
void kp_visitor_new(struct kp_api *api, struct kp_visitors **out);
/* Frees the registry (the server closes the connections). */
void kp_visitor_free(struct kp_visitors *v);
/* Page views of this loop's visitors still being written: a stopping loop waits for them. */
size_t kp_visitor_busy(const struct kp_visitors *v);
/* A committed event: a message.created of a webchat conversation goes to the visitors of its
 * contact and inbox on this loop (read from the store only when one is connected here). */
void kp_visitor_publish(struct kp_visitors *v, const struct kp_event *ev);
/* The widgets of n->contact_id on this loop open, showing n->message_id's text if any. */
void kp_visitor_open(struct kp_visitors *v, const struct kp_visitor_notice *n);
/* An agent (first name agent) started or stopped typing in the conversation. */
void kp_visitor_agent_typing(struct kp_visitors *v, int64_t conversation_id, const char *agent,
                             bool typing);
/* An agent came online or went offline: visitors whose inbox now has someone to answer, or
 * no longer, get {"type":"agents","online":bool}. */
void kp_visitor_agents_changed(struct kp_visitors *v);
/* Visitors connected to this loop. */
size_t kp_visitor_count(const struct kp_visitors *v);

#endif
