/* SPDX-License-Identifier: MIT */
/*
 * fuzz_html.c - libFuzzer target for the inbound HTML sanitiser. The input is the html. The
 * output is read back tag by tag, as a browser would: every element and attribute must be on
 * the allow-list (html.h), every href http(s) or mailto, every src cid, every attribute value
 * quoted with no quote or < inside it, start and end tags balanced, and both outputs valid
 * UTF-8 without NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>

#include "proto/html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tags[] = {
    "p",   "br",  "div", "span",    "b",   "strong", "i",          "em",    "u",     "s",
    "sub", "sup", "a",   "ul",      "ol",  "li",     "blockquote", "pre",   "code",  "h1",
    "h2",  "h3",  "h4",  "h5",      "h6",  "hr",     "table",      "thead", "tbody", "tfoot",
    "tr",  "td",  "th",  "caption", "img", "font",   "center",     "small", "big"};
static const char *const attrs[] = {"href",    "src",   "alt",   "title",  "colspan",
                                    "rowspan", "align", "width", "height", "dir",
                                    "lang",    "rel",   "target"};

static bool listed(const char *s, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && strncmp(s, list[i], n) == 0)
            return true;
    return false;
}

static void check_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned c = *u;
        size_t len = c < 0x80                ? 1
                     : c >= 0xc2 && c < 0xe0 ? 2
                     : c >= 0xe0 && c < 0xf0 ? 3
                     : c >= 0xf0 && c < 0xf5 ? 4
                                             : 0;
        if (!len)
            abort();
        for (size_t i = 1; i < len; i++)
            if ((u[i] & 0xc0) != 0x80)
                abort();
        u += len;
    }
}

/* Checks one tag's attributes at p (after the name); returns the end of the tag. */
static const char *check_attrs(const char *p)
{
    while (*p != '>') {
        if (*p != ' ')
            abort();
        p++;
        size_t n = strcspn(p, "=");
        if (!listed(p, n, attrs, KP_ARRAY_LEN(attrs)))
            abort();
        bool href = n == 4 && strncmp(p, "href", 4) == 0, src = n == 3 && strncmp(p, "src", 3) == 0;
        p += n;
        if (p[0] != '=' || p[1] != '"')
            abort();
        p += 2;
        const char *end = strchr(p, '"');
        if (!end || memchr(p, '<', (size_t)(end - p)) || memchr(p, '>', (size_t)(end - p)))
            abort();
        if (href && strncasecmp(p, "http://", 7) != 0 && strncasecmp(p, "https://", 8) != 0 &&
            strncasecmp(p, "mailto:", 7) != 0)
            abort();
        if (src && strncasecmp(p, "cid:", 4) != 0)
            abort();
        p = end + 1;
    }
    return p;
}

static void check_html(const char *html)
{
    const char *stack[128];
    size_t stack_len[128];
    size_t depth = 0;
    for (const char *p = html; (p = strchr(p, '<')) != NULL;) {
        bool end = *++p == '/';
        p += end;
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (!listed(p, n, tags, KP_ARRAY_LEN(tags)))
            abort();
        bool is_void = (n == 2 && (strncmp(p, "br", 2) == 0 || strncmp(p, "hr", 2) == 0)) ||
                       (n == 3 && strncmp(p, "img", 3) == 0);
        const char *name = p;
        p = check_attrs(p + n);
        if (end) {
            if (depth == 0 || stack_len[depth - 1] != n || strncmp(stack[depth - 1], name, n))
                abort();
            depth--;
        } else if (!is_void) {
            if (depth == 128)
                abort(); /* deeper than MAX_OUT_DEPTH */
            stack[depth] = name;
            stack_len[depth++] = n;
        }
    }
    if (depth != 0)
        abort();
    /* text and values are escaped: every < and > belongs to a tag */
    size_t lt = 0, gt = 0;
    for (const char *p = html; *p; p++) {
        lt += *p == '<';
        gt += *p == '>';
    }
    if (lt != gt)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kp_arena a;
    kp_arena_init(&a);
    char *html = NULL, *text = NULL;
    if (kp_html_sanitize((const char *)data, size, &a, &html, &text) != 0 || !html || !text)
        abort();
    check_utf8(html);
    check_utf8(text);
    check_html(html);
    kp_arena_release(&a);
    return 0;
}
