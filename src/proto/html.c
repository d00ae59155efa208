/* SPDX-License-Identifier: MIT */
/*
 * html.c - inbound HTML made safe to show, and its plain text (see html.h).
 *
 *   bytes --gumbo (as a browser parses)--> tree --walk, allow-list--> safe html + text
 *
 * Gumbo builds the tree a browser would build, so whatever tricks the input plays with broken
 * markup, the walk sees what a browser would see. The walk writes only elements of the
 * allow-list, only attributes of the allow-list, escapes every text and attribute value, and
 * drops script-like elements with their content. It never recurses: a stack of frames stands
 * for the open elements, so no input nests deep enough to exhaust the C stack.
 *
 * Gumbo allocates through a guard that counts bytes and CPU time: some inputs make the
 * HTML tree construction algorithm quadratic (thousands of nested elements), and such an input
 * ends the parse early (longjmp out of the allocator, every block freed) and falls back to
 * the text with its tags stripped.
 */
#include <gumbo.h>
#include <setjmp.h>
#include <strings.h>
#include <time.h>

#include "html.h"
#include "../base/buf.h"

enum {
    MAX_OUT_DEPTH = 100,         /* deeper allowed elements are unwrapped */
    GUARD_BYTES_BASE = 64 << 20, /* gumbo's memory: this plus GUARD_BYTES_PER_BYTE per input byte */
    GUARD_BYTES_PER_BYTE = 48,
    GUARD_CHECK_EVERY = 256, /* allocations between two looks at the clock */
};
#define GUARD_CPU_SECONDS 3.0

/* What the walk does with an element (bits). */
enum {
    KEEP = 1 << 0,   /* written, with its allowed attributes */
    DROP = 1 << 1,   /* left out with everything inside */
    VOID = 1 << 2,   /* written without an end tag */
    BREAK1 = 1 << 3, /* text: a line break before and after */
    BREAK2 = 1 << 4, /* text: an empty line before and after */
};

static const unsigned char tag_class[GUMBO_TAG_LAST + 1] = {
    [GUMBO_TAG_P] = KEEP | BREAK2,
    [GUMBO_TAG_BR] = KEEP | VOID,
    [GUMBO_TAG_DIV] = KEEP | BREAK1,
    [GUMBO_TAG_SPAN] = KEEP,
    [GUMBO_TAG_B] = KEEP,
    [GUMBO_TAG_STRONG] = KEEP,
    [GUMBO_TAG_I] = KEEP,
    [GUMBO_TAG_EM] = KEEP,
    [GUMBO_TAG_U] = KEEP,
    [GUMBO_TAG_S] = KEEP,
    [GUMBO_TAG_SUB] = KEEP,
    [GUMBO_TAG_SUP] = KEEP,
    [GUMBO_TAG_A] = KEEP,
    [GUMBO_TAG_UL] = KEEP | BREAK1,
    [GUMBO_TAG_OL] = KEEP | BREAK1,
    [GUMBO_TAG_LI] = KEEP | BREAK1,
    [GUMBO_TAG_BLOCKQUOTE] = KEEP | BREAK2,
    [GUMBO_TAG_PRE] = KEEP | BREAK2,
    [GUMBO_TAG_CODE] = KEEP,
    [GUMBO_TAG_H1] = KEEP | BREAK2,
    [GUMBO_TAG_H2] = KEEP | BREAK2,
    [GUMBO_TAG_H3] = KEEP | BREAK2,
    [GUMBO_TAG_H4] = KEEP | BREAK2,
    [GUMBO_TAG_H5] = KEEP | BREAK2,
    [GUMBO_TAG_H6] = KEEP | BREAK2,
    [GUMBO_TAG_HR] = KEEP | VOID | BREAK1,
    [GUMBO_TAG_TABLE] = KEEP | BREAK2,
    [GUMBO_TAG_THEAD] = KEEP,
    [GUMBO_TAG_TBODY] = KEEP,
    [GUMBO_TAG_TFOOT] = KEEP,
    [GUMBO_TAG_TR] = KEEP | BREAK1,
    [GUMBO_TAG_TD] = KEEP,
    [GUMBO_TAG_TH] = KEEP,
    [GUMBO_TAG_CAPTION] = KEEP | BREAK1,
    [GUMBO_TAG_IMG] = KEEP | VOID,
    [GUMBO_TAG_FONT] = KEEP,
    [GUMBO_TAG_CENTER] = KEEP | BREAK1,
    [GUMBO_TAG_SMALL] = KEEP,
    [GUMBO_TAG_BIG] = KEEP,
    /* unwrapped, but they still break lines in the text */
    [GUMBO_TAG_BODY] = BREAK1,
    [GUMBO_TAG_ARTICLE] = BREAK1,
    [GUMBO_TAG_SECTION] = BREAK1,
    [GUMBO_TAG_NAV] = BREAK1,
    [GUMBO_TAG_ASIDE] = BREAK1,
    [GUMBO_TAG_HEADER] = BREAK1,
    [GUMBO_TAG_FOOTER] = BREAK1,
    [GUMBO_TAG_ADDRESS] = BREAK1,
    [GUMBO_TAG_MAIN] = BREAK1,
    [GUMBO_TAG_FIGURE] = BREAK1,
    [GUMBO_TAG_FIGCAPTION] = BREAK1,
    [GUMBO_TAG_DL] = BREAK1,
    [GUMBO_TAG_DT] = BREAK1,
    [GUMBO_TAG_DD] = BREAK1,
    [GUMBO_TAG_FIELDSET] = BREAK1,
    [GUMBO_TAG_DETAILS] = BREAK1,
    [GUMBO_TAG_SUMMARY] = BREAK1,
    [GUMBO_TAG_LISTING] = BREAK1,
    [GUMBO_TAG_DIR] = BREAK1,
    [GUMBO_TAG_MENU] = BREAK1,
    /* dropped with their content */
    [GUMBO_TAG_HEAD] = DROP,
    [GUMBO_TAG_TITLE] = DROP,
    [GUMBO_TAG_BASE] = DROP,
    [GUMBO_TAG_LINK] = DROP,
    [GUMBO_TAG_META] = DROP,
    [GUMBO_TAG_STYLE] = DROP,
    [GUMBO_TAG_SCRIPT] = DROP,
    [GUMBO_TAG_NOSCRIPT] = DROP,
    [GUMBO_TAG_TEMPLATE] = DROP,
    [GUMBO_TAG_IFRAME] = DROP,
    [GUMBO_TAG_EMBED] = DROP,
    [GUMBO_TAG_OBJECT] = DROP,
    [GUMBO_TAG_PARAM] = DROP,
    [GUMBO_TAG_APPLET] = DROP,
    [GUMBO_TAG_VIDEO] = DROP,
    [GUMBO_TAG_AUDIO] = DROP,
    [GUMBO_TAG_SOURCE] = DROP,
    [GUMBO_TAG_TRACK] = DROP,
    [GUMBO_TAG_CANVAS] = DROP,
    [GUMBO_TAG_MAP] = DROP,
    [GUMBO_TAG_AREA] = DROP,
    [GUMBO_TAG_MATH] = DROP,
    [GUMBO_TAG_SVG] = DROP,
    [GUMBO_TAG_FORM] = DROP,
    [GUMBO_TAG_INPUT] = DROP,
    [GUMBO_TAG_BUTTON] = DROP,
    [GUMBO_TAG_SELECT] = DROP,
    [GUMBO_TAG_DATALIST] = DROP,
    [GUMBO_TAG_OPTGROUP] = DROP,
    [GUMBO_TAG_OPTION] = DROP,
    [GUMBO_TAG_TEXTAREA] = DROP,
    [GUMBO_TAG_KEYGEN] = DROP,
    [GUMBO_TAG_FRAME] = DROP,
    [GUMBO_TAG_FRAMESET] = DROP,
    [GUMBO_TAG_NOFRAMES] = DROP,
    [GUMBO_TAG_NOEMBED] = DROP,
    [GUMBO_TAG_XMP] = DROP,
    [GUMBO_TAG_PLAINTEXT] = DROP,
    [GUMBO_TAG_BGSOUND] = DROP,
    [GUMBO_TAG_ISINDEX] = DROP,
    [GUMBO_TAG_MARQUEE] = DROP,
    [GUMBO_TAG_BLINK] = DROP,
    [GUMBO_TAG_COLGROUP] = DROP,
    [GUMBO_TAG_COL] = DROP,
};

/* Attributes kept on every kept element (href and src are checked apart). */
static const char *const plain_attrs[] = {"alt",   "title",  "colspan", "rowspan", "align",
                                          "width", "height", "dir",     "lang"};

/* ---- the guard around gumbo's memory ---- */

struct block {
    struct block *prev, *next;
    size_t size;
    max_align_t data[];
};

struct guard {
    jmp_buf fail;
    GumboOptions options;
    struct block *blocks;
    size_t bytes, max_bytes;
    unsigned calls;
    double cpu_start;
};

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *guard_alloc(void *userdata, size_t n)
{
    struct guard *g = userdata;
    if (n > g->max_bytes - g->bytes)
        longjmp(g->fail, 1);
    if (++g->calls % GUARD_CHECK_EVERY == 0 &&
        thread_cpu_seconds() - g->cpu_start > GUARD_CPU_SECONDS)
        longjmp(g->fail, 1);
    struct block *b = kp_xmalloc(sizeof(*b) + n);
    b->size = n;
    b->prev = NULL;
    b->next = g->blocks;
    if (g->blocks)
        g->blocks->prev = b;
    g->blocks = b;
    g->bytes += n;
    return b->data;
}

static void guard_free(void *userdata, void *p)
{
    struct guard *g = userdata;
    if (!p)
        return;
    struct block *b = (struct block *)((char *)p - offsetof(struct block, data));
    if (b->prev)
        b->prev->next = b->next;
    else
        g->blocks = b->next;
    if (b->next)
        b->next->prev = b->prev;
    g->bytes -= b->size;
    free(b);
}

static void guard_free_all(struct guard *g)
{
    while (g->blocks) {
        struct block *b = g->blocks;
        g->blocks = b->next;
        free(b);
    }
    g->bytes = 0;
}

/* Parses in[0..len) within the guard's limits; NULL when they were hit (nothing left
 * allocated then). */
static GumboOutput *parse_guarded(struct guard *g, const char *in, size_t len)
{
    g->options = kGumboDefaultOptions;
    g->options.allocator = guard_alloc;
    g->options.deallocator = guard_free;
    g->options.userdata = g;
    g->options.max_errors = 0;
    g->blocks = NULL;
    g->bytes = 0;
    g->calls = 0;
    g->max_bytes = GUARD_BYTES_BASE + len * GUARD_BYTES_PER_BYTE;
    g->cpu_start = thread_cpu_seconds();
    if (setjmp(g->fail) != 0) {
        guard_free_all(g);
        return NULL;
    }
    return gumbo_parse_with_options(&g->options, in, len);
}

/* ---- the plain text writer ---- */

struct text {
    struct kp_buf b;
    size_t budget;   /* content stops here */
    int breaks;      /* line breaks owed before the next character (at most 2) */
    bool space;      /* a space owed before the next character */
    bool line_start; /* nothing written on the current line yet */
    int quote;       /* blockquote depth: "> " per level at each line start */
    int pre;         /* inside pre: whitespace kept as it is */
};

static void text_break(struct text *t, int n)
{
    if (n > t->breaks)
        t->breaks = n;
    t->space = false;
}

/* Writes what is owed before a visible character. */
static void text_flush(struct text *t)
{
    if (t->breaks && t->b.len) {
        static const char nl[] = "\n\n";
        kp_buf_append(&t->b, nl, (size_t)t->breaks);
        t->line_start = true;
    }
    t->breaks = 0;
    if (t->line_start) {
        for (int i = 0; i < t->quote && i < 20; i++)
            kp_buf_append(&t->b, "> ", 2);
        t->line_start = false; /* the caller writes a character next */
        t->space = false;
    } else if (t->space) {
        kp_buf_append(&t->b, " ", 1);
    }
    t->space = false;
}

static bool is_html_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Appends text, whitespace collapsed unless inside pre (where a newline is an owed break);
 * U+00A0 counts as a space, invalid UTF-8 becomes U+FFFD, NULs are dropped. */
static void text_put(struct text *t, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t step;
    for (size_t i = 0; i < n && t->b.len < t->budget; i += step) {
        step = kp_utf8_len(u + i, n - i);
        if (step == 0) {
            text_flush(t);
            kp_buf_append(&t->b, "\xef\xbf\xbd", 3);
            step = 1;
            continue;
        }
        unsigned char c = u[i];
        if (c == '\0' || (t->pre && c == '\r'))
            continue;
        if (t->pre && c == '\n') {
            t->breaks = t->breaks < 2 ? t->breaks + 1 : 2;
            continue;
        }
        bool nbsp = step == 2 && c == 0xc2 && u[i + 1] == 0xa0;
        if (!t->pre && (is_html_space(c) || nbsp)) {
            if (!t->line_start)
                t->space = true;
            continue;
        }
        text_flush(t);
        kp_buf_append(&t->b, s + i, step);
    }
}

static void text_puts(struct text *t, const char *s)
{
    text_put(t, s, strlen(s));
}

/* ---- the html writer ---- */

struct frame {
    const GumboNode *node;
    unsigned next;      /* index of the next child to visit */
    bool written;       /* its start tag was written */
    size_t label_start; /* a: where its text starts in the text */
    const char *href;   /* a: the safe url, NULL when none */
    int items;          /* ol: items so far */
};

struct walk {
    struct kp_buf out;
    size_t budget; /* new content stops here; closing tags may use the slack */
    struct text text;
    struct frame *stack;
    size_t depth, cap;
    int written_depth;
    struct kp_arena *a;
};

static void out_put(struct walk *w, const char *s, size_t n)
{
    kp_buf_append(&w->out, s, n);
}

static void out_puts(struct walk *w, const char *s)
{
    out_put(w, s, strlen(s));
}

/* The escape for byte c in text or a double-quoted attribute value, NULL when none. */
static const char *escape_of(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    case '\0':
        return "";
    default:
        return NULL;
    }
}

/* Writes s[0..n) escaped for text or a double-quoted attribute value; NULs dropped. Bytes
 * that are not valid UTF-8 become U+FFFD: gumbo 0.10 lets some through (a numeric character
 * reference past U+10FFFF comes out as a raw byte). */
static void out_escaped(struct walk *w, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0, step;
    for (size_t i = 0; i < n; i += step) {
        step = kp_utf8_len(u + i, n - i);
        const char *rep = step == 0 ? "\xef\xbf\xbd" : step == 1 ? escape_of(s[i]) : NULL;
        if (!rep)
            continue;
        out_put(w, s + run, i - run);
        out_puts(w, rep);
        step = step ? step : 1;
        run = i + step;
    }
    out_put(w, s + run, n - run);
}

/* The url as a browser reads it: C0 controls and spaces trimmed, tabs and newlines removed.
 * Returns it (arena) when it starts with one of prefixes (case-insensitive), else NULL.
 * Relative urls are refused, "http:path" too: in a mail they could only point into
 * Knotenpunkt itself. */
static const char *safe_url(struct kp_arena *a, const char *v, const char *const *prefixes,
                            size_t n_prefixes)
{
    size_t n = strlen(v);
    while (n && (unsigned char)v[n - 1] <= ' ')
        n--;
    while (n && (unsigned char)*v <= ' ') {
        v++;
        n--;
    }
    char *u = kp_arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] != '\t' && v[i] != '\n' && v[i] != '\r')
            u[k++] = v[i];
    u[k] = '\0';
    for (size_t i = 0; i < n_prefixes; i++)
        if (strncasecmp(u, prefixes[i], strlen(prefixes[i])) == 0)
            return u;
    return NULL;
}

static const char *attr_value(const GumboElement *e, const char *name)
{
    const GumboAttribute *at = gumbo_get_attribute(&e->attributes, name);
    return at ? at->value : NULL;
}

static const char *link_url(struct kp_arena *a, const GumboElement *e)
{
    static const char *const prefixes[] = {"http://", "https://", "mailto:"};
    const char *href = attr_value(e, "href");
    return href ? safe_url(a, href, prefixes, KP_ARRAY_LEN(prefixes)) : NULL;
}

static const char *image_url(struct kp_arena *a, const GumboElement *e)
{
    static const char *const prefixes[] = {"cid:"};
    const char *src = attr_value(e, "src");
    return src ? safe_url(a, src, prefixes, KP_ARRAY_LEN(prefixes)) : NULL;
}

static void out_attr(struct walk *w, const char *name, const char *value)
{
    out_puts(w, " ");
    out_puts(w, name);
    out_puts(w, "=\"");
    out_escaped(w, value, strlen(value));
    out_puts(w, "\"");
}

/* Writes the start tag of a kept element with its allowed attributes. */
static void out_start_tag(struct walk *w, const char *name, const GumboElement *e, const char *url)
{
    out_puts(w, "<");
    out_puts(w, name);
    if (strcmp(name, "img") == 0 && url)
        out_attr(w, "src", url);
    if (e->tag == GUMBO_TAG_A && url)
        out_attr(w, "href", url);
    for (size_t i = 0; i < KP_ARRAY_LEN(plain_attrs); i++) {
        const char *v = attr_value(e, plain_attrs[i]);
        if (v)
            out_attr(w, plain_attrs[i], v);
    }
    if (e->tag == GUMBO_TAG_A && url)
        out_puts(w, " rel=\"noopener noreferrer\" target=\"_blank\"");
    out_puts(w, ">");
}

static void visit_text(struct walk *w, const GumboNode *n)
{
    const char *s = n->v.text.text;
    size_t len = strlen(s);
    if (w->out.len < w->budget) {
        const struct frame *parent = &w->stack[w->depth - 1];
        bool in_pre = parent->written && parent->node->v.element.tag == GUMBO_TAG_PRE;
        /* a browser drops the newline right after <pre>: keep the one gumbo left */
        if (in_pre && parent->next == 1 && len && s[0] == '\n')
            out_puts(w, "\n");
        out_escaped(w, s, len);
    }
    text_put(&w->text, s, len);
}

/* An img is written only with a cid: source; its alt text goes into the text either way. */
static void visit_image(struct walk *w, const GumboElement *e)
{
    const char *url = image_url(w->a, e);
    if (url && w->out.len < w->budget && w->written_depth < MAX_OUT_DEPTH)
        out_start_tag(w, "img", e, url);
    const char *alt = attr_value(e, "alt");
    if (alt && *alt) {
        w->text.space = !w->text.line_start;
        text_puts(&w->text, alt);
        w->text.space = true;
    }
}

static void visit_void(struct walk *w, const GumboElement *e)
{
    if (e->tag == GUMBO_TAG_IMG || e->tag == GUMBO_TAG_IMAGE) {
        visit_image(w, e);
        return;
    }
    if (w->out.len < w->budget && w->written_depth < MAX_OUT_DEPTH)
        out_start_tag(w, gumbo_normalized_tagname(e->tag), e, NULL);
    if (e->tag == GUMBO_TAG_BR)
        text_break(&w->text, w->text.breaks < 2 ? w->text.breaks + 1 : 2);
    else
        text_break(&w->text, 1);
}

/* The nearest open list: ol or ul frame, NULL when none. */
static struct frame *open_list(struct walk *w)
{
    for (size_t i = w->depth; i-- > 0;) {
        const GumboNode *n = w->stack[i].node;
        if (n->type == GUMBO_NODE_ELEMENT &&
            (n->v.element.tag == GUMBO_TAG_OL || n->v.element.tag == GUMBO_TAG_UL))
            return &w->stack[i];
    }
    return NULL;
}

static void text_enter(struct walk *w, struct frame *f, unsigned cls)
{
    const GumboElement *e = &f->node->v.element;
    struct text *t = &w->text;
    if (cls & BREAK2)
        text_break(t, 2);
    else if (cls & BREAK1)
        text_break(t, 1);
    switch (e->tag) {
    case GUMBO_TAG_LI: {
        struct frame *list = open_list(w);
        text_flush(t);
        if (list && list->node->v.element.tag == GUMBO_TAG_OL) {
            char num[24];
            snprintf(num, sizeof(num), "%d. ", ++list->items);
            text_puts(t, num);
        } else {
            text_puts(t, "- ");
        }
        break;
    }
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TH:
        if (!t->line_start)
            t->space = true;
        break;
    case GUMBO_TAG_BLOCKQUOTE:
        t->quote++;
        break;
    case GUMBO_TAG_PRE:
        t->pre++;
        break;
    case GUMBO_TAG_A:
        f->label_start = t->b.len;
        break;
    default:
        break;
    }
}

/* A link's text is "label (url)" unless the label already says the url. */
static void text_link_end(struct walk *w, const struct frame *f)
{
    struct text *t = &w->text;
    if (!f->href || t->b.len >= t->budget)
        return;
    const char *label = t->b.data ? t->b.data + f->label_start : "";
    while (*label == ' ' || *label == '\n')
        label++;
    const char *bare = f->href;
    if (strncasecmp(bare, "mailto:", 7) == 0)
        bare += 7;
    if (strcmp(label, f->href) == 0 || strcmp(label, bare) == 0)
        return;
    if (*label) {
        t->space = true;
        text_puts(t, "(");
        text_puts(t, f->href);
        text_puts(t, ")");
    } else {
        text_puts(t, bare == f->href ? f->href : bare);
    }
}

static void text_leave(struct walk *w, const struct frame *f, unsigned cls)
{
    struct text *t = &w->text;
    switch (f->node->v.element.tag) {
    case GUMBO_TAG_BLOCKQUOTE:
        t->quote--;
        break;
    case GUMBO_TAG_PRE:
        t->pre--;
        break;
    case GUMBO_TAG_A:
        text_link_end(w, f);
        break;
    default:
        break;
    }
    if (cls & BREAK2)
        text_break(t, 2);
    else if (cls & BREAK1)
        text_break(t, 1);
}

static void push(struct walk *w, const GumboNode *n)
{
    if (w->depth == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->stack = kp_xrealloc(w->stack, w->cap * sizeof(*w->stack));
    }
    struct frame *f = &w->stack[w->depth++];
    memset(f, 0, sizeof(*f));
    f->node = n;
}

static unsigned class_of(const GumboElement *e)
{
    if (e->tag_namespace != GUMBO_NAMESPACE_HTML)
        return DROP;
    return e->tag <= GUMBO_TAG_LAST ? tag_class[e->tag] : 0;
}

static void enter_element(struct walk *w, const GumboNode *n)
{
    const GumboElement *e = &n->v.element;
    unsigned cls = n->type == GUMBO_NODE_TEMPLATE ? DROP : class_of(e);
    if (cls & DROP)
        return;
    if ((cls & VOID) || e->tag == GUMBO_TAG_IMAGE) {
        visit_void(w, e);
        return;
    }
    push(w, n);
    struct frame *f = &w->stack[w->depth - 1];
    if (e->tag == GUMBO_TAG_A)
        f->href = link_url(w->a, e);
    if ((cls & KEEP) && w->written_depth < MAX_OUT_DEPTH && w->out.len < w->budget) {
        out_start_tag(w, gumbo_normalized_tagname(e->tag), e, f->href);
        f->written = true;
        w->written_depth++;
    }
    text_enter(w, f, cls);
}

static void leave_element(struct walk *w)
{
    struct frame *f = &w->stack[--w->depth];
    const GumboNode *n = f->node;
    if (n->type != GUMBO_NODE_ELEMENT)
        return;
    if (f->written) {
        out_puts(w, "</");
        out_puts(w, gumbo_normalized_tagname(n->v.element.tag));
        out_puts(w, ">");
        w->written_depth--;
    }
    text_leave(w, f, class_of(&n->v.element));
}

static const GumboVector *children_of(const GumboNode *n)
{
    if (n->type == GUMBO_NODE_DOCUMENT)
        return &n->v.document.children;
    return &n->v.element.children;
}

/* Walks the tree depth-first with an explicit stack. */
static void walk_tree(struct walk *w, const GumboNode *root)
{
    push(w, root);
    while (w->depth) {
        struct frame *f = &w->stack[w->depth - 1];
        const GumboVector *kids = children_of(f->node);
        if (f->next >= kids->length) {
            leave_element(w);
            continue;
        }
        const GumboNode *c = kids->data[f->next++];
        switch (c->type) {
        case GUMBO_NODE_TEXT:
        case GUMBO_NODE_WHITESPACE:
        case GUMBO_NODE_CDATA:
            visit_text(w, c);
            break;
        case GUMBO_NODE_ELEMENT:
        case GUMBO_NODE_TEMPLATE:
            enter_element(w, c);
            break;
        default:
            break; /* comments, doctype */
        }
    }
}

/* ---- the fallback: tags stripped ---- */

/* The text of in[0..len) with everything between < and > left out. */
static void strip_tags(struct text *t, const char *in, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const char *lt = memchr(in + i, '<', len - i);
        size_t end = lt ? (size_t)(lt - in) : len;
        text_put(t, in + i, end - i);
        if (!lt)
            break;
        const char *gt = memchr(lt, '>', len - end);
        if (!gt)
            break;
        t->space = true;
        i = (size_t)(gt - in) + 1;
    }
}

/* Copies a buffer into the arena; "" when empty. */
static char *arena_copy(struct kp_arena *a, const struct kp_buf *b)
{
    return kp_arena_strndup(a, b->data ? b->data : "", b->len);
}

int kp_html_sanitize(const char *in, size_t len, struct kp_arena *a, char **out, char **text)
{
    if (!in)
        len = 0;
    if (len > KP_HTML_MAX_INPUT)
        len = KP_HTML_MAX_INPUT;
    struct walk w;
    memset(&w, 0, sizeof(w));
    w.a = a;
    /* budgets stop new content; one item past them is bounded by the input's size */
    w.budget = 8 * len + 4096;
    kp_buf_init(&w.out, 0);
    w.text.budget = 2 * len + 1024;
    kp_buf_init(&w.text.b, 0);
    w.text.line_start = true;

    struct guard *g = kp_xcalloc(1, sizeof(*g));
    GumboOutput *doc = len ? parse_guarded(g, in, len) : NULL;
    if (doc) {
        walk_tree(&w, doc->document);
        gumbo_destroy_output(&g->options, doc);
        guard_free_all(g);
    } else if (len) {
        strip_tags(&w.text, in, len);
        out_puts(&w, "<pre>");
        out_escaped(&w, w.text.b.data ? w.text.b.data : "", w.text.b.len);
        out_puts(&w, "</pre>");
    }
    free(g);
    free(w.stack);
    *out = arena_copy(a, &w.out);
    if (text)
        *text = arena_copy(a, &w.text.b);
    kp_buf_release(&w.out);
    kp_buf_release(&w.text.b);
    return 0;
}
