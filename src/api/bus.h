/* SPDX-License-Identifier: MIT */
/*
 * bus.h - what one event loop tells all the others. Each loop has its own connections,
 * streams and credential cache; a committed event, an agent whose rights changed or a revoked
 * credential must reach all of them. A message is applied at once on the loop that sends it and
 * queued (uv_async) for every other loop.
 */
#ifndef KP_API_BUS_H
#define KP_API_BUS_H

#include "api.h"

enum kp_bus_kind { KP_BUS_EVENT, KP_BUS_AGENT, KP_BUS_REVOKE };

struct kp_bus_msg {
    enum kp_bus_kind kind;
    struct kp_event ev; /* KP_BUS_EVENT; type points to a string literal */
    int64_t agent_id;   /* KP_BUS_AGENT */
    uint8_t hash[32];   /* KP_BUS_REVOKE */
    struct kp_bus_msg *next;
};

/* Sets up api's bus on api's loop; call before the loop's thread starts. */
void kp_bus_init(struct kp_api *api);
/* Stops delivery to api (from api's loop); its memory stays until kp_bus_release. */
void kp_bus_close(struct kp_api *api);
void kp_bus_release(struct kp_api *api);
/* Queues m for api's loop, from any thread. */
void kp_bus_post(struct kp_api *to, const struct kp_bus_msg *m);
/* Applies m on from's loop now and on every other loop soon. */
void kp_bus_send(struct kp_api *from, const struct kp_bus_msg *m);

#endif
