/* SPDX-License-Identifier: MIT */
/*
 * bus.h - how the notices of a commit (store.h: events, rights changes, revocations,
 * notifications) reach every event loop. Each loop has its own connections, streams and
 * credential cache; the writer posts each commit's notices to every loop's bus right after the
 * commit, so every loop applies them in commit order (uv_async wakes it). Presence notices
 * (what a stream connection views) are posted by the connection's loop itself, to every loop.
 */
#ifndef KP_API_BUS_H
#define KP_API_BUS_H

#include "api.h"

/* Sets up api's bus on api's loop; call before the loop's thread starts. */
void kp_bus_init(struct kp_api *api);
/* Stops delivery to api (from api's loop); its memory stays until kp_bus_release. */
void kp_bus_close(struct kp_api *api);
void kp_bus_release(struct kp_api *api);
/* Queues n for api's loop, from any thread. */
void kp_bus_post(struct kp_api *to, const struct kp_notice *n);

#endif
