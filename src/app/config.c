/* SPDX-License-Identifier: MIT */
/* config.c - settings from file, environment and flags (see config.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>

void kp_config_defaults(struct kp_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->host, sizeof(c->host), "127.0.0.1");
    c->port = 8080;
    snprintf(c->data, sizeof(c->data), "data");
    c->max_body = 1 << 20;
    c->max_header = 16 << 10;
    c->max_attachment = 10 << 20;
    c->lmtp_port = c->smtp_port = -1;
    c->mail_max_size = 25 << 20;
    c->mail_retry_ms = 60000;
    snprintf(c->mail_hostname, sizeof(c->mail_hostname), "knotenpunkt.localdomain");
    c->max_connections = 10000;
    c->request_timeout_ms = 10000;
    c->idle_timeout_ms = 60000;
    c->json_depth = 32;
    snprintf(c->log_level, sizeof(c->log_level), "info");
    snprintf(c->sync, sizeof(c->sync), "full");
    c->cache_bytes = 4 << 20;
}

static const struct {
    const char *key, *help;
} keys[] = {
    {"listen", "address and port to listen on (127.0.0.1:8080; port 0 picks a free one)"},
    {"data", "data directory for the SQLite database (data)"},
    {"max_body", "largest request body in bytes, larger ones get 413 (1048576)"},
    {"max_header", "largest request header block in bytes, larger ones get 431 (16384)"},
    {"max_attachment", "largest total attachment size per message in bytes (10485760)"},
    {"max_connections", "open client connections at most (10000)"},
    {"request_timeout_ms", "time to receive a whole request once it started (10000)"},
    {"idle_timeout_ms", "keep-alive connections idle longer are closed (60000)"},
    {"json_depth", "deepest JSON nesting accepted in request bodies (32)"},
    {"log_level", "debug, info, warn, error or off (info)"},
    {"sync", "full: fsync every commit (survives power loss); normal: survives crashes (full)"},
    {"cookie_secure", "true behind HTTPS: session cookies get the Secure flag (false)"},
    {"threads", "event loops serving HTTP, one per CPU when 0 (0)"},
    {"cache_bytes", "memory for answers of hot reads, valid until the next commit; 0 = off "
                    "(4194304)"},
    {"lmtp_listen", "address:port of the LMTP server a mail server delivers to; off when empty "
                    "()"},
    {"smtp_listen", "address:port of the SMTP server a mail server delivers to; off when empty "
                    "()"},
    {"mail_max_size", "largest mail accepted in bytes, announced with SIZE (26214400)"},
    {"mail_hostname", "this host's name in SMTP and LMTP greetings (knotenpunkt.localdomain)"},
    {"mail_retry_ms", "wait before the first retry of an outbound mail; it doubles (60000)"},
    {"mail_ca_file",
     "CA certificates (PEM) that SMTP and IMAP servers' certificates must chain to; "
     "the system's when empty ()"},
};

void kp_config_usage(FILE *out)
{
    fprintf(out, "Settings (config file key, environment variable, meaning and default):\n");
    for (size_t i = 0; i < KP_ARRAY_LEN(keys); i++) {
        char env[64];
        size_t k = 0;
        for (const char *p = keys[i].key; *p && k < sizeof(env) - 1; p++)
            env[k++] = (char)toupper((unsigned char)*p);
        env[k] = '\0';
        fprintf(out, "  %-19s KNOTENPUNKT_%-19s %s\n", keys[i].key, env, keys[i].help);
    }
}

static int parse_num(const char *v, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return KP_EINVAL;
    *out = n;
    return 0;
}

/* "127.0.0.1:8080" or "[::1]:8080" into host and port; "" (when allowed) into port -1. */
static int parse_listen(const char *key, const char *v, bool may_be_off, char host[64], int *port,
                        char *err, size_t cap)
{
    if (may_be_off && !*v) {
        host[0] = '\0';
        *port = -1;
        return 0;
    }
    long long n = 0;
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v || (size_t)(colon - v) >= 64 || parse_num(colon + 1, 0, 65535, &n)) {
        snprintf(err, cap, "%s must look like 127.0.0.1:8080, not '%s'", key, v);
        return KP_EINVAL;
    }
    const char *h = v;
    size_t hl = (size_t)(colon - v);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') /* [::1]:8080 */
        h++, hl -= 2;
    snprintf(host, 64, "%.*s", (int)hl, h);
    *port = (int)n;
    return 0;
}

int kp_config_set(struct kp_config *c, const char *key, const char *v, char *err, size_t cap)
{
    long long n = 0;
    int rc = 0;
    if (strcmp(key, "listen") == 0) {
        return parse_listen(key, v, false, c->host, &c->port, err, cap);
    } else if (strcmp(key, "lmtp_listen") == 0) {
        return parse_listen(key, v, true, c->lmtp_host, &c->lmtp_port, err, cap);
    } else if (strcmp(key, "smtp_listen") == 0) {
        return parse_listen(key, v, true, c->smtp_host, &c->smtp_port, err, cap);
    } else if (strcmp(key, "mail_max_size") == 0) {
        rc = parse_num(v, 1024, 256LL << 20, &n); /* the listener holds 512 MiB of mail at most */
        c->mail_max_size = (size_t)n;
    } else if (strcmp(key, "mail_retry_ms") == 0) {
        rc = parse_num(v, 10, 86400000, &n);
        c->mail_retry_ms = (int)n;
    } else if (strcmp(key, "mail_ca_file") == 0) {
        if (strlen(v) >= sizeof(c->mail_ca_file))
            rc = KP_EINVAL;
        else
            snprintf(c->mail_ca_file, sizeof(c->mail_ca_file), "%s", v);
    } else if (strcmp(key, "mail_hostname") == 0) {
        if (!*v || strlen(v) >= sizeof(c->mail_hostname) || strpbrk(v, " \t\r\n"))
            rc = KP_EINVAL;
        else
            snprintf(c->mail_hostname, sizeof(c->mail_hostname), "%s", v);
    } else if (strcmp(key, "data") == 0) {
        if (!*v || strlen(v) >= sizeof(c->data)) {
            snprintf(err, cap, "data must be a directory path");
            return KP_EINVAL;
        }
        snprintf(c->data, sizeof(c->data), "%s", v);
    } else if (strcmp(key, "max_body") == 0) {
        rc = parse_num(v, 1024, 1LL << 30, &n);
        c->max_body = (size_t)n;
    } else if (strcmp(key, "max_header") == 0) {
        rc = parse_num(v, 1024, 1 << 20, &n);
        c->max_header = (size_t)n;
    } else if (strcmp(key, "max_attachment") == 0) {
        rc = parse_num(v, 0, 1LL << 30, &n);
        c->max_attachment = (size_t)n;
    } else if (strcmp(key, "max_connections") == 0) {
        rc = parse_num(v, 1, 1000000, &n);
        c->max_connections = (int)n;
    } else if (strcmp(key, "request_timeout_ms") == 0) {
        rc = parse_num(v, 10, 3600000, &n);
        c->request_timeout_ms = (int)n;
    } else if (strcmp(key, "idle_timeout_ms") == 0) {
        rc = parse_num(v, 10, 3600000, &n);
        c->idle_timeout_ms = (int)n;
    } else if (strcmp(key, "json_depth") == 0) {
        rc = parse_num(v, 2, 512, &n);
        c->json_depth = (int)n;
    } else if (strcmp(key, "log_level") == 0) {
        if (strcmp(v, "debug") && strcmp(v, "info") && strcmp(v, "warn") && strcmp(v, "error") &&
            strcmp(v, "off"))
            rc = KP_EINVAL;
        else
            snprintf(c->log_level, sizeof(c->log_level), "%s", v);
    } else if (strcmp(key, "sync") == 0) {
        if (strcmp(v, "full") && strcmp(v, "normal"))
            rc = KP_EINVAL;
        else
            snprintf(c->sync, sizeof(c->sync), "%s", v);
    } else if (strcmp(key, "threads") == 0) {
        rc = parse_num(v, 0, 64, &n);
        c->threads = (int)n;
    } else if (strcmp(key, "cache_bytes") == 0) {
        rc = parse_num(v, 0, 1LL << 30, &n);
        c->cache_bytes = (size_t)n;
    } else if (strcmp(key, "cookie_secure") == 0) {
        if (strcmp(v, "true") && strcmp(v, "false"))
            rc = KP_EINVAL;
        else
            c->cookie_secure = strcmp(v, "true") == 0;
    } else {
        snprintf(err, cap, "unknown setting '%s'", key);
        return KP_EINVAL;
    }
    if (rc)
        snprintf(err, cap, "invalid value '%s' for setting '%s'", v, key);
    return rc;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int kp_config_load_file(struct kp_config *c, const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, cap, "cannot open config file '%s': %s", path, strerror(errno));
        return KP_EIO;
    }
    char line[2048];
    int lineno = 0, rc = 0;
    while (!rc && fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, cap, "%s:%d: expected 'key = value'", path, lineno);
            rc = KP_EINVAL;
            break;
        }
        *eq = '\0';
        char msg[256];
        if ((rc = kp_config_set(c, trim(s), trim(eq + 1), msg, sizeof(msg))))
            snprintf(err, cap, "%s:%d: %s", path, lineno, msg);
    }
    fclose(f);
    return rc;
}

int kp_config_load_env(struct kp_config *c, char *err, size_t cap)
{
    for (size_t i = 0; i < KP_ARRAY_LEN(keys); i++) {
        char env[64] = "KNOTENPUNKT_";
        size_t k = strlen(env);
        for (const char *p = keys[i].key; *p && k < sizeof(env) - 1; p++)
            env[k++] = (char)toupper((unsigned char)*p);
        env[k] = '\0';
        const char *v = getenv(env);
        if (!v)
            continue;
        char msg[256];
        if (kp_config_set(c, keys[i].key, v, msg, sizeof(msg))) {
            snprintf(err, cap, "%s: %s", env, msg);
            return KP_EINVAL;
        }
    }
    return 0;
}
