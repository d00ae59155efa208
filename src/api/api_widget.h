/* SPDX-License-Identifier: MIT */
/*
 * api_widget.h - what the website chat widget's parts share (api_widget.c: the visitor's REST
 * routes and the agents' "open the widget"; visitor.c: the visitor's WebSocket; api_web.c: the
 * frame page; api_inboxes.c: the admin's secret and settings): the signature of a signed-in
 * shop customer, visitor tokens, origin checks, greetings and the agents' presence.
 */
#ifndef KP_API_API_WIDGET_H
#define KP_API_API_WIDGET_H

#include "api.h"

enum {
    KP_WIDGET_TEXT_MAX = 20000,        /* bytes of one visitor message */
    KP_WIDGET_HISTORY = 100,           /* messages a session answer shows */
    KP_WIDGET_GREETING_CAP = 1024,     /* bytes of a greeting, with its terminating NUL */
    KP_WIDGET_SESSION_DAYS = 30,       /* a visitor token lives this long after its last use */
    KP_WIDGET_EVENTS_DAYS = 90,        /* page views are kept this long */
    KP_WIDGET_USER_ID_MAX = 128,       /* bytes of the shop's customer id */
    KP_WIDGET_EMAIL_MAX = 254,         /* bytes of an email address */
    KP_WIDGET_NAME_MAX = 200,          /* bytes of a name */
    KP_WIDGET_TOKEN_MAX = 100,         /* bytes of a visitor token as sent */
    KP_WIDGET_SECONDS_MAX = 7 * 86400, /* time on a page, at most */
};

/*
 * The signature of a signed-in customer: lower-case hex of HMAC-SHA256 with the inbox's widget
 * secret (its 64 characters as they are, not hex-decoded) as the key over
 * id + "\n" + email + "\n" + name (NULL counts as ""). out gets 65 bytes.
 */
void kp_api_widget_sign(const char *secret, const char *id, const char *email, const char *name,
                        char out[65]);
/* True when hash (64 hex digits, either case) is that signature; compared in constant time. */
bool kp_api_widget_verify(const char *secret, const char *id, const char *email, const char *name,
                          const char *hash);
/* A new random secret: 64 lower-case hex digits and a NUL. */
void kp_api_widget_new_secret(char out[KP_WIDGET_SECRET_LEN + 1]);

/*
 * The greeting the widget shows first, in German when lang starts with "de", else in English,
 * into out (cap bytes): for a signed-in customer built from what is known of him ("Hallo
 * Sarah! Geht es um Ihre Bestellung KP-12345?": an order number in the subject of his newest
 * open conversation, else his last_order attribute, else that subject), for anonymous visitors
 * the inbox's greeting or a default.
 */
void kp_api_widget_greeting(const char *lang, const struct kp_visitor_facts *facts, bool identified,
                            const struct kp_widget *w, char *out, size_t cap);

/* True when the request may come from where it comes from: no Origin header (no browser), the
 * server's own origin (the widget's frame), or one of the inbox's allowed origins (any when the
 * inbox allows all). */
bool kp_api_widget_origin_ok(const struct kp_http_request *h, const struct kp_widget *w);
/* True when origin ("https://shop.example") is one of w's allowed origins, or w allows any. */
bool kp_api_widget_origin_allowed(const struct kp_widget *w, const char *origin);
/* True when an agent who may answer the inbox's new conversations has a stream open. */
bool kp_api_widget_agents_online(struct kp_api *api, const struct kp_widget *w);
/* The visitor session of a token: 0, KP_ENOTFOUND (unknown, expired, malformed) or KP_EIO. */
int kp_api_widget_session(struct kp_api *api, const char *token, struct kp_visitor_session *out);

#endif
