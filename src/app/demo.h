/* SPDX-License-Identifier: MIT */
/*
 * demo.h - the demo data generator behind `knotenpunkt demo`: teams, agents, inboxes for every
 * channel, contacts with several identities, a few hundred German and English conversations and
 * canned answers, all written through the store interface so that the data looks exactly like
 * real traffic.
 */
#ifndef KP_APP_DEMO_H
#define KP_APP_DEMO_H

#include "../store/store.h"

/* The shop account of the demo customer who is signed in to the demo shop (/demo/shop): the
 * first German contact with an email address gets it. */
#define KP_DEMO_SHOP_CUSTOMER "cust-4711"

/* What kp_demo_seed created. */
struct kp_demo_info {
    int64_t admin_id;
    int teams, agents, contacts, conversations, messages;
};

/*
 * Fills an empty store with demo data (the webchat inbox with a widget secret, and a shop
 * customer for the demo shop, KP_DEMO_SHOP_CUSTOMER). password_hash is an argon2id hash string for
 * every demo agent (the caller computes it; NULL makes agents that cannot log in). Runs its own
 * transaction (begin/commit on s) and rolls it back on failure, so the store is either filled or
 * untouched. The same seed always gives the same teams, agents, contacts and texts; message times
 * are spread over the 60 days before the call. Returns 0 with *out filled (out may be NULL),
 * KP_EEXIST without writing anything when the store already has agents, or another KP_E* code from
 * the store.
 */
int kp_demo_seed(struct kp_store *s, unsigned seed, const char *password_hash,
                 struct kp_demo_info *out);

#endif
