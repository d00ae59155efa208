/* SPDX-License-Identifier: MIT */
/*
 * log.h - structured logging: one JSON object per line on stderr, so that log shippers can
 * parse every line. Free-form messages go in "msg"; request lines carry their own fields.
 */
#ifndef KP_BASE_LOG_H
#define KP_BASE_LOG_H

#include "kp.h"

enum kp_log_level { KP_LOG_DEBUG, KP_LOG_INFO, KP_LOG_WARN, KP_LOG_ERROR, KP_LOG_OFF };

void kp_log_set_level(enum kp_log_level level);
enum kp_log_level kp_log_get_level(void);
/* Parses "debug|info|warn|error|off"; returns KP_EINVAL for anything else. */
int kp_log_parse_level(const char *s, enum kp_log_level *out);

void kp_log(enum kp_log_level level, const char *fmt, ...) KP_PRINTF(2, 3);
#define kp_log_debug(...) kp_log(KP_LOG_DEBUG, __VA_ARGS__)
#define kp_log_info(...) kp_log(KP_LOG_INFO, __VA_ARGS__)
#define kp_log_warn(...) kp_log(KP_LOG_WARN, __VA_ARGS__)
#define kp_log_error(...) kp_log(KP_LOG_ERROR, __VA_ARGS__)

/* Writes one pre-formatted JSON object (without newline) as a log line at INFO. */
void kp_log_json_line(const char *json, size_t len);

#endif
