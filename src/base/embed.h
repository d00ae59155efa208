/* SPDX-License-Identifier: MIT */
/* embed.h - files compiled into the binary by scripts/embed.py (migrations, API document, the
 * web app). */
#ifndef KP_BASE_EMBED_H
#define KP_BASE_EMBED_H

#include <stddef.h>

struct kp_embed {
    const char *name; /* file basename, e.g. "001_init.sql" */
    const char *data; /* NUL-terminated */
    size_t size;
    const char *gz; /* the same bytes gzip-compressed, or NULL */
    size_t gz_size;
    const char *etag; /* quoted, from the content's hash */
};

/* Returns the entry named name, or NULL. */
const struct kp_embed *kp_embed_find(const struct kp_embed *set, size_t n, const char *name);

#endif
