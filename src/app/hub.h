/* SPDX-License-Identifier: MIT */
/*
 * hub.h - the running server: opens the store, starts the writer, the job runner and the HTTP
 * server on one libuv loop, and stops them in order on SIGTERM or SIGINT (in-flight requests
 * are answered and committed first).
 */
#ifndef KP_APP_HUB_H
#define KP_APP_HUB_H

#include "config.h"
#include "../store/store.h"

/* Runs until a signal; returns the process exit code. demo seeds demo data into an empty
 * store first. */
int kp_hub_run(const struct kp_config *cfg, bool demo);

/* Opens the store in cfg->data and applies migrations. */
int kp_hub_open_store(const struct kp_config *cfg, struct kp_store **out);

#endif
