/* SPDX-License-Identifier: MIT */
/*
 * websocket.h - RFC 6455 for the server side: the opening handshake (checking an upgrade
 * request, computing Sec-WebSocket-Accept) and the framing. The frame codec keeps no state of
 * its own, so an idle WebSocket costs the server only its connection (src/io/server.c
 * assembles fragmented messages and answers pings and closes).
 */
#ifndef KP_PROTO_WEBSOCKET_H
#define KP_PROTO_WEBSOCKET_H

#include "http1.h"

/* Returns 0 when r is a valid WebSocket upgrade; else KP_EINVAL and *why. */
int kp_websocket_check(const struct kp_http_request *r, const char **why);
/* Writes the Sec-WebSocket-Accept value for key (29 bytes with NUL). */
int kp_websocket_accept(const char *key, char out[32]);

enum kp_ws_opcode {
    KP_WS_CONTINUATION = 0x0,
    KP_WS_TEXT = 0x1,
    KP_WS_BINARY = 0x2,
    KP_WS_CLOSE = 0x8,
    KP_WS_PING = 0x9,
    KP_WS_PONG = 0xa,
};

/* Close codes (RFC 6455 section 7.4.1) the server sends. */
enum {
    KP_WS_NORMAL = 1000,
    KP_WS_GOING_AWAY = 1001,
    KP_WS_PROTOCOL_ERROR = 1002,
    KP_WS_INVALID_DATA = 1007,
    KP_WS_TOO_BIG = 1009,
};

struct kp_ws_frame {
    int opcode;
    bool fin;
    uint8_t *payload; /* inside the input, unmasked in place */
    size_t len;
};

/* Decodes the client frame at the start of data: returns the frame's size in bytes with f
 * filled in and its payload unmasked, 0 when more bytes are needed, or minus a close code when
 * the bytes cannot start a valid client frame (unmasked, reserved bits or opcodes, a control
 * frame that is fragmented or longer than 125 bytes, a payload over max_payload). */
long kp_websocket_frame(uint8_t *data, size_t len, size_t max_payload, struct kp_ws_frame *f);
/* Writes the header of an unmasked, final server frame; returns its length (2, 4 or 10). */
size_t kp_websocket_header(uint8_t out[10], int opcode, size_t len);

#endif
