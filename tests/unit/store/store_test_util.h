/* SPDX-License-Identifier: MIT */
/*
 * store_test_util.h - what the store tests share: a migrated store in a fresh directory under
 * /tmp, its removal, and agents made in one call. Include after cmocka.h.
 */
#ifndef KP_TEST_STORE_UTIL_H
#define KP_TEST_STORE_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"

static int kp_test_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Opens and migrates a store in a new directory dir[64] named after what; 0 when its schema
 * is at least min_version. */
static inline int kp_test_store_open(char dir[64], const char *what, int min_version,
                                     struct kp_store **s)
{
    snprintf(dir, 64, "/tmp/kp-%s-test-XXXXXX", what);
    int v = 0;
    if (!mkdtemp(dir))
        return -1;
    if (kp_store_open(dir, s) || KP_STORE(*s, migrate, &v) || v < min_version)
        return -1;
    return 0;
}

/* Closes the store and removes its directory. */
static inline void kp_test_store_remove(const char *dir, struct kp_store *s)
{
    kp_store_close(s);
    nftw(dir, kp_test_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* An agent (password hash "x"), in the open transaction. */
static inline int64_t kp_test_agent(struct kp_store *s, const char *email, const char *name,
                                    const char *role)
{
    struct kp_agent_new a = {.email = email, .name = name, .role = role, .password_hash = "x"};
    int64_t id = 0;
    assert_int_equal(KP_STORE(s, agent_create, &a, &id), 0);
    assert_true(id > 0);
    return id;
}

#endif
