/* SPDX-License-Identifier: MIT */
/*
 * hist.h - a latency histogram with fixed Prometheus-style buckets, safe to observe from one
 * thread and read from another (relaxed atomics: a scrape may be off by one in-flight sample).
 */
#ifndef KP_BASE_HIST_H
#define KP_BASE_HIST_H

#include <stdatomic.h>

#include "buf.h"

enum { KP_HIST_BUCKETS = 12 };

/* Upper bounds in seconds, ascending; the last bucket is +Inf. */
extern const double kp_hist_bounds[KP_HIST_BUCKETS];

struct kp_hist {
    atomic_uint_fast64_t count[KP_HIST_BUCKETS + 1];
    atomic_uint_fast64_t total;
    _Atomic double sum;
};

void kp_hist_observe(struct kp_hist *h, double seconds);
/* Appends name_bucket{labels,le=".."} lines, _sum and _count; labels may be "". */
int kp_hist_write(const struct kp_hist *h, struct kp_buf *out, const char *name,
                  const char *labels);

#endif
