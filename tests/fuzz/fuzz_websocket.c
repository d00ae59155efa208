/* SPDX-License-Identifier: MIT */
/*
 * fuzz_websocket.c - libFuzzer target for the WebSocket frame decoder: decodes frame after frame
 * from the input as src/io/server.c does, with the server's message cap, and checks that every
 * frame it accepts lies inside the input and follows the rules it claims to enforce.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/websocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    size_t pos = 0;
    while (pos < size) {
        struct kp_ws_frame f;
        long n = kp_websocket_frame(buf + pos, size - pos, 65536, &f);
        if (n <= 0)
            break;
        if ((size_t)n > size - pos || f.payload < buf + pos || f.payload + f.len > buf + pos + n)
            abort();
        if (f.opcode >= KP_WS_CLOSE && (!f.fin || f.len > 125))
            abort();
        if (f.len > 65536)
            abort();
        pos += (size_t)n;
    }
    free(buf);
    return 0;
}
