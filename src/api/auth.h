/* SPDX-License-Identifier: MIT */
/*
 * auth.h - who is calling: session cookies (web app) and personal API tokens (integrations),
 * argon2id password hashes, CSRF tokens. Tokens and session ids are random 32-byte values; the
 * store keeps only their BLAKE2b hashes. A small cache keeps hot tokens off the store for a few
 * seconds; any change to sessions, tokens or agents clears it.
 */
#ifndef KP_API_AUTH_H
#define KP_API_AUTH_H

#include "api.h"

enum { KP_AUTH_TOKEN_LEN = 48, KP_AUTH_HASH_LEN = 128 };

int kp_auth_cache_new(struct kp_auth_cache **out);
void kp_auth_cache_free(struct kp_auth_cache *c);
/* Forgets every cached credential (after logout, token deletion, agent changes). */
void kp_auth_cache_clear(struct kp_auth_cache *c);

/*
 * Reads the request's credentials into out: who (agent_id 0 when the request carries none),
 * whether they came as a session cookie (then csrf is the session's CSRF token), and the hash
 * of the secret (to end streams opened with it). Returns 0, KP_EPERM when credentials are
 * present but wrong, KP_EIO on store failure.
 */
int kp_auth_request(struct kp_api *api, const struct kp_http_request *h,
                    struct kp_auth_result *out);

/* Password guessing: after KP_AUTH_MAX_FAILURES failed logins for one email within
 * KP_AUTH_WINDOW_MS, further attempts are refused (429) until the window has passed. */
enum { KP_AUTH_MAX_FAILURES = 10, KP_AUTH_WINDOW_MS = 15 * 60 * 1000 };
/* 0, or the seconds to wait. */
int64_t kp_auth_login_wait(struct kp_auth_cache *c, const char *email, int64_t now_ms);
void kp_auth_login_result(struct kp_auth_cache *c, const char *email, bool ok, int64_t now_ms);

/* Constant-time comparison of a sent CSRF token with the session's. */
bool kp_auth_csrf_equal(const char *sent, const char *expected);

/* A new random token "<prefix><base64url>" in out (cap >= KP_AUTH_TOKEN_LEN). */
void kp_auth_new_token(const char *prefix, char *out, size_t cap);
void kp_auth_hash_token(const char *token, uint8_t out[32]);
/* argon2id; out needs KP_AUTH_HASH_LEN bytes. Slow on purpose: run off the loop. */
int kp_auth_hash_password(const char *password, char *out);
bool kp_auth_verify_password(const char *hash, const char *password);
/* The session cookie's value from a Cookie header, into out; 0 or KP_ENOTFOUND. */
int kp_auth_cookie(const char *cookie_header, char *out, size_t cap);

#endif
