/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - Prometheus metrics: requests by route and status, latency histograms by route,
 * messages ingested, store commits and their latency, connections and open WebSockets.
 */
#ifndef KP_API_METRICS_H
#define KP_API_METRICS_H

#include "api.h"

int kp_metrics_new(struct kp_metrics **out);
void kp_metrics_free(struct kp_metrics *m);
/* route must be a string that lives as long as the process (a route pattern). */
void kp_metrics_request(struct kp_metrics *m, const char *route, int status, double seconds);
void kp_metrics_ingested(struct kp_metrics *m, const char *channel, bool duplicate);
/* The text exposition format, version 0.0.4. */
int kp_metrics_render(struct kp_api *api, struct kp_buf *out);

#endif
