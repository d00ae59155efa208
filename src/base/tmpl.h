/* SPDX-License-Identifier: MIT */
/*
 * tmpl.h - {{variable}} substitution for canned answers: pure text in, text out, no I/O. The
 * caller decides which variables exist and what they hold (src/api/api_canned.c).
 */
#ifndef KP_BASE_TMPL_H
#define KP_BASE_TMPL_H

#include "buf.h"

/* One variable: "{{name}}" in a template becomes value; a NULL value becomes "". */
struct kp_tmpl_var {
    const char *name; /* "contact.first_name" */
    const char *value;
};

/*
 * Appends tpl to out with every "{{name}}" (spaces inside the braces allowed: "{{ name }}")
 * replaced by its variable's value. Unknown names and anything that is no variable stay as
 * written. Returns 0, or KP_ETOOBIG when out's cap is hit (out then holds a prefix).
 */
int kp_tmpl_render(const char *tpl, const struct kp_tmpl_var *vars, size_t n, struct kp_buf *out);

/* The first whitespace-separated word of s into out (cap bytes, always terminated; cut at a
 * UTF-8 boundary): "Lena Schmidt" -> "Lena". s may be NULL (out becomes ""). */
void kp_tmpl_first_word(const char *s, char *out, size_t cap);

#endif
