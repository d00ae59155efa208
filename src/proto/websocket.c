/* SPDX-License-Identifier: MIT */
/* websocket.c - RFC 6455 handshake checks (see websocket.h). */
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
