/* SPDX-License-Identifier: MIT */
/* websocket.c - RFC 6455 handshake checks and frames (see websocket.h). */
#include "websocket.h"

#include <openssl/sha.h>
#include <sodium.h>
#include <strings.h>

/* True when the comma-separated header value contains token (case-insensitive). */
static bool has_token(const char *value, const char *token)
{
    size_t tl = strlen(token);
    const char *p = value;
    while (p && *p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ' && *end != '\t')
            end++;
        if ((size_t)(end - p) == tl && strncasecmp(p, token, tl) == 0)
            return true;
        p = end;
    }
    return false;
}

int kp_websocket_check(const struct kp_http_request *r, const char **why)
{
    const char *upgrade = kp_http_header(r, "Upgrade");
    const char *connection = kp_http_header(r, "Connection");
    const char *version = kp_http_header(r, "Sec-WebSocket-Version");
    const char *key = kp_http_header(r, "Sec-WebSocket-Key");
    unsigned char raw[32];
    size_t raw_len = 0;
    if (strcmp(r->method, "GET") != 0)
        *why = "a WebSocket upgrade must use GET";
    else if (!upgrade || !has_token(upgrade, "websocket"))
        *why = "missing 'Upgrade: websocket'";
    else if (!connection || !has_token(connection, "upgrade"))
        *why = "missing 'Connection: Upgrade'";
    else if (!version || strcmp(version, "13") != 0)
        *why = "unsupported Sec-WebSocket-Version, 13 is required";
    else if (!key || strlen(key) != 24 ||
             sodium_base642bin(raw, sizeof(raw), key, 24, NULL, &raw_len, NULL,
                               sodium_base64_VARIANT_ORIGINAL) != 0 ||
             raw_len != 16)
        *why = "Sec-WebSocket-Key must be 16 bytes in base64";
    else
        return 0;
    return KP_EINVAL;
}

int kp_websocket_accept(const char *key, char out[32])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char joined[128];
    int n = snprintf(joined, sizeof(joined), "%s%s", key, guid);
    if (n < 0 || (size_t)n >= sizeof(joined))
        return KP_EINVAL;
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)joined, (size_t)n, digest);
    sodium_bin2base64(out, 32, digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

/* ---- frames ---- */

static bool known_opcode(int op)
{
    return op == KP_WS_CONTINUATION || op == KP_WS_TEXT || op == KP_WS_BINARY ||
           op == KP_WS_CLOSE || op == KP_WS_PING || op == KP_WS_PONG;
}

long kp_websocket_frame(uint8_t *data, size_t len, size_t max_payload, struct kp_ws_frame *f)
{
    if (len < 2)
        return 0;
    int op = data[0] & 0x0f;
    bool fin = data[0] & 0x80;
    if ((data[0] & 0x70) || !known_opcode(op) || !(data[1] & 0x80))
        return -KP_WS_PROTOCOL_ERROR; /* extensions, unknown opcodes, unmasked client frames */
    uint64_t plen = data[1] & 0x7f;
    size_t pos = 2;
    if (plen == 126) {
        if (len < 4)
            return 0;
        plen = (uint64_t)data[2] << 8 | data[3];
        pos = 4;
    } else if (plen == 127) {
        if (len < 10)
            return 0;
        plen = 0;
        for (int i = 2; i < 10; i++)
            plen = plen << 8 | data[i];
        if (plen >> 63)
            return -KP_WS_PROTOCOL_ERROR;
        pos = 10;
    }
    if (op >= KP_WS_CLOSE && (!fin || plen > 125))
        return -KP_WS_PROTOCOL_ERROR;
    if (plen > max_payload)
        return -KP_WS_TOO_BIG;
    if (len - pos < 4 || len - pos - 4 < plen)
        return 0;
    const uint8_t *mask = data + pos;
    uint8_t *p = data + pos + 4;
    for (size_t i = 0; i < plen; i++)
        p[i] ^= mask[i & 3];
    *f = (struct kp_ws_frame){.opcode = op, .fin = fin, .payload = p, .len = (size_t)plen};
    return (long)(pos + 4 + plen);
}

size_t kp_websocket_header(uint8_t out[10], int opcode, size_t len)
{
    out[0] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    return 10;
}
