/* SPDX-License-Identifier: MIT */
/* hist.c - fixed-bucket latency histograms (see hist.h). */
#include "hist.h"

const double kp_hist_bounds[KP_HIST_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                0.01,   0.025,   0.05,   0.1,   0.5,    2.5};

void kp_hist_observe(struct kp_hist *h, double seconds)
{
    int i = 0;
    while (i < KP_HIST_BUCKETS && seconds > kp_hist_bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->count[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->total, 1, memory_order_relaxed);
    double old = atomic_load_explicit(&h->sum, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&h->sum, &old, old + seconds,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

int kp_hist_write(const struct kp_hist *h, struct kp_buf *out, const char *name, const char *labels)
{
    uint64_t cum = 0;
    const char *sep = labels[0] ? "," : "";
    int rc = 0;
    for (int i = 0; i <= KP_HIST_BUCKETS && !rc; i++) {
        cum += atomic_load_explicit(&((struct kp_hist *)h)->count[i], memory_order_relaxed);
        if (i < KP_HIST_BUCKETS)
            rc = kp_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
                               kp_hist_bounds[i], (unsigned long long)cum);
        else
            rc = kp_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                               (unsigned long long)cum);
    }
    /* no empty braces: `name_sum 1.5`, or `name_sum{route="/x"} 1.5` */
    const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
    if (!rc)
        rc = kp_buf_printf(out, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n", name, open, labels,
                           close,
                           atomic_load_explicit(&((struct kp_hist *)h)->sum, memory_order_relaxed),
                           name, open, labels, close, (unsigned long long)cum);
    return rc;
}
