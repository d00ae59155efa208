/* SPDX-License-Identifier: MIT */
/* log.c - JSON-lines logging to stderr (see log.h). */
#include "log.h"
#include "clock.h"

#include <stdarg.h>
#include <unistd.h>

static enum kp_log_level current = KP_LOG_INFO;
static const char *names[] = {"debug", "info", "warn", "error", "off"};

void kp_log_set_level(enum kp_log_level level)
{
    current = level;
}

enum kp_log_level kp_log_get_level(void)
{
    return current;
}

int kp_log_parse_level(const char *s, enum kp_log_level *out)
{
    for (size_t i = 0; i < KP_ARRAY_LEN(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum kp_log_level)i;
            return 0;
        }
    }
    return KP_EINVAL;
}

static size_t escape(char *dst, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            dst[o++] = '\\';
            dst[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(dst + o, cap - o, "\\u%04x", c);
        } else {
            dst[o++] = (char)c;
        }
    }
    dst[o] = '\0';
    return o;
}

void kp_log(enum kp_log_level level, const char *fmt, ...)
{
    if (level < current)
        return;
    char msg[1024], esc[2048], ts[32], line[2200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    escape(esc, sizeof(esc), msg);
    kp_clock_iso8601(kp_clock_now_ms(), ts, sizeof(ts));
    int n = snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"}\n", ts,
                     names[level], esc);
    if (n > 0)
        (void)!write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void kp_log_json_line(const char *json, size_t len)
{
    if (KP_LOG_INFO < current)
        return;
    char line[4096];
    if (len > sizeof(line) - 1)
        len = sizeof(line) - 1;
    memcpy(line, json, len);
    line[len] = '\n';
    (void)!write(STDERR_FILENO, line, len + 1);
}
