/* SPDX-License-Identifier: MIT */
/* auth.c - credentials, hashing and the credential cache (see auth.h). */
#include "auth.h"
#include "../base/clock.h"

#include <sodium.h>
#include <strings.h>

enum { CACHE_SLOTS = 256, CACHE_TTL_MS = 5000, LOGIN_SLOTS = 1024 };

struct slot {
    uint8_t hash[32];
    int64_t until_ms;
    struct kp_principal who;
    bool cookie;
    char csrf[64];
};

struct attempts {
    uint64_t key; /* hash of the lowercased email */
    int failures;
    int64_t since_ms;
};

struct kp_auth_cache {
    struct slot slots[CACHE_SLOTS];
    struct attempts logins[LOGIN_SLOTS];
};

int kp_auth_cache_new(struct kp_auth_cache **out)
{
    *out = kp_xcalloc(1, sizeof(**out));
    return 0;
}

void kp_auth_cache_free(struct kp_auth_cache *c)
{
    free(c);
}

void kp_auth_cache_clear(struct kp_auth_cache *c)
{
    memset(c->slots, 0, sizeof(c->slots));
}

static struct attempts *attempts_for(struct kp_auth_cache *c, const char *email, int64_t now_ms)
{
    char lower[256];
    size_t n = 0;
    for (; n < sizeof(lower) - 1 && email[n]; n++)
        lower[n] = (char)((email[n] >= 'A' && email[n] <= 'Z') ? email[n] + 32 : email[n]);
    uint64_t key;
    crypto_generichash((unsigned char *)&key, sizeof(key), (const unsigned char *)lower, n, NULL,
                       0);
    struct attempts *a = &c->logins[key % LOGIN_SLOTS];
    if (a->key != key || now_ms - a->since_ms > KP_AUTH_WINDOW_MS)
        *a = (struct attempts){.key = key, .since_ms = now_ms};
    return a;
}

int64_t kp_auth_login_wait(struct kp_auth_cache *c, const char *email, int64_t now_ms)
{
    struct attempts *a = attempts_for(c, email, now_ms);
    if (a->failures < KP_AUTH_MAX_FAILURES)
        return 0;
    return (a->since_ms + KP_AUTH_WINDOW_MS - now_ms) / 1000 + 1;
}

void kp_auth_login_result(struct kp_auth_cache *c, const char *email, bool ok, int64_t now_ms)
{
    struct attempts *a = attempts_for(c, email, now_ms);
    if (ok)
        a->failures = 0;
    else
        a->failures++;
}

void kp_auth_new_token(const char *prefix, char *out, size_t cap)
{
    unsigned char rnd[24];
    randombytes_buf(rnd, sizeof(rnd));
    char b64[64];
    sodium_bin2base64(b64, sizeof(b64), rnd, sizeof(rnd), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, cap, "%s%s", prefix, b64);
}

void kp_auth_hash_token(const char *token, uint8_t out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

int kp_auth_hash_password(const char *password, char *out)
{
    KP_ASSERT(KP_AUTH_HASH_LEN >= crypto_pwhash_STRBYTES);
    if (crypto_pwhash_str_alg(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return KP_ENOMEM;
    return 0;
}

bool kp_auth_verify_password(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

bool kp_auth_csrf_equal(const char *sent, const char *expected)
{
    size_t n = strlen(expected);
    if (!sent || n == 0 || strlen(sent) != n)
        return false;
    return sodium_memcmp(sent, expected, n) == 0;
}

int kp_auth_cookie(const char *header, char *out, size_t cap)
{
    static const char name[] = "kp_session=";
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > sizeof(name) - 1 && strncmp(p, name, sizeof(name) - 1) == 0) {
            size_t vl = len - (sizeof(name) - 1);
            if (vl >= cap)
                return KP_ENOTFOUND;
            memcpy(out, p + sizeof(name) - 1, vl);
            out[vl] = '\0';
            return 0;
        }
        p = end;
    }
    return KP_ENOTFOUND;
}

/* A hit only for the same secret sent the same way: a token sent as a cookie is no session. */
static struct slot *lookup(struct kp_auth_cache *c, const uint8_t hash[32], bool cookie,
                           int64_t now)
{
    struct slot *s = &c->slots[hash[0]];
    if (s->until_ms > now && s->cookie == cookie && memcmp(s->hash, hash, 32) == 0)
        return s;
    return NULL;
}

int kp_auth_request(struct kp_api *api, const struct kp_http_request *h, struct kp_auth_result *out)
{
    memset(out, 0, sizeof(*out));
    char secret[128];
    const char *authz = kp_http_header(h, "Authorization");
    const char *cookie = kp_http_header(h, "Cookie");
    bool bearer = false;
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0 || strlen(authz + 7) >= sizeof(secret))
            return KP_EPERM;
        snprintf(secret, sizeof(secret), "%s", authz + 7);
        bearer = true;
    } else if (!cookie || kp_auth_cookie(cookie, secret, sizeof(secret)) != 0) {
        return 0;
    }
    uint8_t hash[32];
    kp_auth_hash_token(secret, hash);
    int64_t now = kp_clock_now_ms();
    struct slot *s = lookup(api->auth, hash, !bearer, now);
    if (!s) {
        struct slot fresh = {0};
        memcpy(fresh.hash, hash, 32);
        int64_t agent_id = 0;
        int rc = bearer ? KP_STORE(api->store, token_lookup, hash, &agent_id)
                        : KP_STORE(api->store, session_lookup, hash, now, &agent_id, fresh.csrf);
        if (rc == KP_ENOTFOUND)
            return KP_EPERM;
        if (rc)
            return KP_EIO;
        if ((rc = KP_STORE(api->store, agent_principal, agent_id, &fresh.who)) != 0)
            return rc == KP_ENOTFOUND ? KP_EPERM : KP_EIO;
        if (!fresh.who.active)
            return KP_EPERM;
        fresh.cookie = !bearer;
        fresh.until_ms = now + CACHE_TTL_MS;
        s = &api->auth->slots[hash[0]];
        *s = fresh;
    }
    out->who = s->who;
    out->via_cookie = s->cookie;
    memcpy(out->hash, hash, 32);
    if (s->cookie)
        snprintf(out->csrf, sizeof(out->csrf), "%s", s->csrf);
    return 0;
}
