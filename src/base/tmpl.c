/* SPDX-License-Identifier: MIT */
/* tmpl.c - {{variable}} substitution (see tmpl.h). */
#include "tmpl.h"

enum { NAME_MAX_LEN = 64 };

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * At "{{": finds the name and the end of the variable. Returns the length of the whole
 * "{{ name }}" and sets *name / *len, or 0 when the text is no variable.
 */
static size_t parse_var(const char *p, const char **name, size_t *len)
{
    const char *q = p + 2;
    while (is_space(*q))
        q++;
    const char *start = q;
    while (is_name_char(*q) && q - start <= NAME_MAX_LEN)
        q++;
    size_t n = (size_t)(q - start);
    if (n == 0 || n > NAME_MAX_LEN)
        return 0;
    while (is_space(*q))
        q++;
    if (q[0] != '}' || q[1] != '}')
        return 0;
    *name = start;
    *len = n;
    return (size_t)(q + 2 - p);
}

static const struct kp_tmpl_var *lookup(const struct kp_tmpl_var *vars, size_t n, const char *name,
                                        size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
            return &vars[i];
    return NULL;
}

int kp_tmpl_render(const char *tpl, const struct kp_tmpl_var *vars, size_t n, struct kp_buf *out)
{
    const char *p = tpl, *run = tpl;
    int rc = 0;
    while (!rc && (p = strstr(p, "{{")) != NULL) {
        const char *name;
        size_t len, whole = parse_var(p, &name, &len);
        const struct kp_tmpl_var *v = whole ? lookup(vars, n, name, len) : NULL;
        if (!v) {
            p++; /* "{{{x}}" may start a variable at the next brace */
            continue;
        }
        rc = kp_buf_append(out, run, (size_t)(p - run));
        if (!rc && v->value)
            rc = kp_buf_puts(out, v->value);
        p += whole;
        run = p;
    }
    return rc ? rc : kp_buf_puts(out, run);
}

void kp_tmpl_first_word(const char *s, char *out, size_t cap)
{
    KP_ASSERT(cap > 0);
    size_t o = 0;
    if (s) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
            s++;
        size_t n = strcspn(s, " \t\r\n");
        if (n > cap - 1) {
            n = cap - 1;
            while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                n--; /* do not cut a character in two */
        }
        memcpy(out, s, n);
        o = n;
    }
    out[o] = '\0';
}
