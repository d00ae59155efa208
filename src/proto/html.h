/* SPDX-License-Identifier: MIT */
/*
 * html.h - inbound HTML made safe to show (gumbo parses it as a browser would). Kept: text and
 * an allow-list of formatting elements (p, br, div, span, b, strong, i, em, u, s, sub, sup,
 * a, ul, ol, li, blockquote, pre, code, h1-h6, hr, table, thead, tbody, tfoot, tr, td, th,
 * caption, img, font, center, small, big) with an allow-list of attributes (href on a:
 * http, https and mailto only; src on img: cid: only, remote images are dropped so that opening
 * a mail tells no tracker; alt, title, colspan, rowspan, align, width, height, dir, lang).
 * Dropped with their content: script, style, head, title, iframe, object, embed, form and the
 * like; every other element is unwrapped (its children kept). Links get rel="noopener
 * noreferrer" and target="_blank". The output is well-formed, UTF-8.
 */
#ifndef KP_PROTO_HTML_H
#define KP_PROTO_HTML_H

#include "../base/arena.h"

enum { KP_HTML_MAX_INPUT = 4 << 20 }; /* larger input is cut there */

/* Sanitised html of in[0..len) into *out (arena), and its plain text into *text when text is not
 * NULL (block elements become line breaks, <br> a line break, links "label (url)" when they
 * differ, whitespace collapsed). Returns 0 (never fails on bad html). */
int kp_html_sanitize(const char *in, size_t len, struct kp_arena *a, char **out, char **text);

#endif
