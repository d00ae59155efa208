/* SPDX-License-Identifier: MIT */
/*
 * websocket.h - the RFC 6455 opening handshake: checking an upgrade request and computing
 * Sec-WebSocket-Accept. Framing itself is wslay's, driven from src/io/server.c.
 */
#ifndef KP_PROTO_WEBSOCKET_H
#define KP_PROTO_WEBSOCKET_H

#include "http1.h"

/* Returns 0 when r is a valid WebSocket upgrade; else KP_EINVAL and *why. */
int kp_websocket_check(const struct kp_http_request *r, const char **why);
/* Writes the Sec-WebSocket-Accept value for key (29 bytes with NUL). */
int kp_websocket_accept(const char *key, char out[32]);

#endif
