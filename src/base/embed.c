/* SPDX-License-Identifier: MIT */
/* embed.c - lookup in embedded file sets (see embed.h). */
#include "embed.h"

#include <string.h>

const struct kp_embed *kp_embed_find(const struct kp_embed *set, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(set[i].name, name) == 0)
            return &set[i];
    return NULL;
}
