/* SPDX-License-Identifier: MIT */
/* store.c - the registry of storage backends (see store.h). */
#include "store.h"

extern const struct kp_store_ops kp_store_sqlite_ops;

static const struct kp_store_ops *const backends[] = {
    &kp_store_sqlite_ops,
};

int kp_store_open(const char *url, struct kp_store **out)
{
    for (size_t i = 0; i < KP_ARRAY_LEN(backends); i++) {
        const char *scheme = backends[i]->scheme;
        if (strncmp(url, scheme, strlen(scheme)) == 0)
            return backends[i]->open(url + strlen(scheme), out);
    }
    if (strstr(url, "://"))
        return KP_EINVAL;
    return kp_store_sqlite_ops.open(url, out); /* a plain path is an SQLite data directory */
}

void kp_store_close(struct kp_store *s)
{
    if (s)
        s->ops->close(s);
}

int kp_store_conversation_list_json(struct kp_store *s, const struct kp_conv_query *q, json_t **out)
{
    struct kp_buf b;
    kp_buf_init(&b, 0);
    int rc = KP_STORE(s, conversation_list, q, &b);
    *out = rc ? NULL : json_loadb(b.data, b.len, 0, NULL);
    kp_buf_release(&b);
    return rc ? rc : *out ? 0 : KP_EIO;
}
