/* SPDX-License-Identifier: MIT */
/* store.c - the registry of storage backends (see store.h). */
#include "store.h"

extern const struct kp_store_ops kp_store_sqlite_ops;

static const struct kp_store_ops *const backends[] = {
    &kp_store_sqlite_ops,
};

/* The backend for url, and the url without its scheme. */
static const struct kp_store_ops *backend(const char *url, const char **rest)
{
    for (size_t i = 0; i < KP_ARRAY_LEN(backends); i++) {
        const char *scheme = backends[i]->scheme;
        if (strncmp(url, scheme, strlen(scheme)) == 0) {
            *rest = url + strlen(scheme);
            return backends[i];
        }
    }
    *rest = url;
    return strstr(url, "://") ? NULL : &kp_store_sqlite_ops; /* a path is a data directory */
}

int kp_store_open(const char *url, struct kp_store **out)
{
    const char *rest;
    const struct kp_store_ops *ops = backend(url, &rest);
    return ops ? ops->open(rest, out) : KP_EINVAL;
}

int kp_store_restore(const char *url, const char *from)
{
    const char *rest;
    const struct kp_store_ops *ops = backend(url, &rest);
    return ops ? ops->restore(rest, from) : KP_EINVAL;
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
