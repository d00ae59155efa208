/* SPDX-License-Identifier: MIT */
/* clock.h - wall-clock time in milliseconds and its ISO 8601 form (UTC). */
#ifndef KP_BASE_CLOCK_H
#define KP_BASE_CLOCK_H

#include "kp.h"

int64_t kp_clock_now_ms(void);
/* Monotonic nanoseconds, for latency measurement. */
uint64_t kp_clock_mono_ns(void);
/* Writes "2026-11-27T17:44:18.123Z" into out (cap >= 25). */
void kp_clock_iso8601(int64_t ms, char *out, size_t cap);
/* Parses "YYYY-MM-DDTHH:MM:SS[.mmm]Z"; returns KP_EINVAL on anything else. */
int kp_clock_parse_iso8601(const char *s, int64_t *ms);

#endif
