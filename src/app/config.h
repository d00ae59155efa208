/* SPDX-License-Identifier: MIT */
/*
 * config.h - settings, from defaults, then a config file ("key = value" lines, '#' comments),
 * then environment variables KNOTENPUNKT_<KEY>, then command-line flags; later wins.
 */
#ifndef KP_APP_CONFIG_H
#define KP_APP_CONFIG_H

#include "../base/kp.h"

struct kp_config {
    char host[64];
    int port;
    char data[1024];
    size_t max_body, max_header, max_attachment;
    int max_connections;
    int request_timeout_ms, idle_timeout_ms;
    int json_depth;
    char log_level[16];
    char sync[16]; /* "full" or "normal" */
    bool cookie_secure;
    size_t cache_bytes; /* answer cache for hot reads; 0 = off */
    int threads;        /* event loops; 0 = one per CPU */
    /* the email channel: built-in LMTP and SMTP listeners (port -1 = off) */
    char lmtp_host[64], smtp_host[64];
    int lmtp_port, smtp_port;
    size_t mail_max_size;
    char mail_hostname[256];
    int mail_retry_ms;       /* the first retry of a failed outbound mail; later ones wait longer */
    char mail_ca_file[1024]; /* CA certificates for SMTP/IMAP servers, "" = the system's */
};

void kp_config_defaults(struct kp_config *c);
/* Sets one key; err receives why not. */
int kp_config_set(struct kp_config *c, const char *key, const char *value, char *err, size_t cap);
int kp_config_load_file(struct kp_config *c, const char *path, char *err, size_t cap);
int kp_config_load_env(struct kp_config *c, char *err, size_t cap);
/* Prints the known keys with their meaning (for --help). */
void kp_config_usage(FILE *out);

#endif
