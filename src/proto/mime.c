/* SPDX-License-Identifier: MIT */
/*
 * mime.c - one email read into struct kp_mail with GMime (see mime.h).
 *
 * GMime parses the bytes into a tree; the walk below visits it once, depth-first:
 *
 *   message ── headers ──────────────► message_id, refs, subject, from, to, flags
 *      └ multipart/mixed
 *          ├ multipart/alternative
 *          │   ├ text/plain ─────────► body.text   (charset -> UTF-8)
 *          │   └ multipart/related
 *          │       ├ text/html ──────► body.html   (sanitised at the end)
 *          │       └ image/png cid ──► parts[] (inline)
 *          ├ message/rfc822 ─────────► body.tail  ("Forwarded message" + its own walk)
 *          ├ message/delivery-status ► bounce facts (mime_bounce.c)
 *          └ application/pdf ────────► parts[]
 *
 * Every string leaves through clean_*(): valid UTF-8 (bytes that are not become windows-1252
 * characters), no NUL, capped. GMime objects never leave this file; the results are copies in
 * the caller's arena. Problems GMime reports while parsing (truncation, missing boundaries,
 * nesting) and those the walk finds (bad base64, too many parts) become KP_MAIL_BROKEN and
 * one line of `problem`.
 */
#include <gmime/gmime.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <strings.h>

#include "mime.h"
#include "mime_int.h"
#include "html.h"
#include "../base/buf.h"

enum {
    MAX_TEXT = 4 << 20,            /* text of one mail, forwarded messages included */
    MAX_LINE = 2000,               /* a decoded header value: subject, names, address lists */
    MAX_ID = 998,                  /* a message id or content id */
    MAX_FILENAME = 255,            /* bytes of an attachment's name */
    MAX_TYPE = 127,                /* bytes of a content type */
    MAX_PROBLEM = 400,             /* bytes of kp_mail.problem */
    CONVERT_CHUNK = 4096,          /* iconv output per step */
    PART_TEXT_CAP = MAX_TEXT + 16, /* one part's text: past MAX_TEXT, so that a cut shows */
};

static const char encrypted_note[] =
    "This message is encrypted and cannot be shown here. The encrypted content is attached.";

/* ---- UTF-8 ---- */

static bool utf8_is_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0, step; i < n; i += step)
        if ((step = kp_utf8_len(u + i, n - i)) == 0)
            return false;
    return true;
}

/* windows-1252 0x80-0x9f; the five holes become U+FFFD. */
static const unsigned short cp1252_high[32] = {
    0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd, 0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178};

/* Appends what fits of s[0..n) (valid UTF-8) under the buffer's cap, cut at a character. */
static void put_upto(struct kp_buf *b, const char *s, size_t n)
{
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    if (n > room) {
        while (room && ((unsigned char)s[room] & 0xc0) == 0x80)
            room--;
        n = room;
    }
    kp_buf_append(b, s, n);
}

static void put_codepoint(struct kp_buf *b, unsigned cp)
{
    char u[3];
    if (cp < 0x80) {
        u[0] = (char)cp;
        kp_buf_append(b, u, 1);
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        kp_buf_append(b, u, 2);
    } else {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        kp_buf_append(b, u, 3);
    }
}

static void put_cp1252(struct kp_buf *b, unsigned char c)
{
    put_codepoint(b, c >= 0x80 && c < 0xa0 ? cp1252_high[c - 0x80] : c);
}

/* Appends s[0..n): valid UTF-8 sequences as they are, every other byte read as windows-1252
 * (so that latin1 text without a charset, or a stray byte in UTF-8 text, still reads). */
static void put_mixed(struct kp_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        size_t step;
        while (run < n && (step = kp_utf8_len(u + run, n - run)) != 0)
            run += step;
        put_upto(b, s + i, run - i);
        if (run < n)
            put_cp1252(b, u[run++]);
        i = run;
    }
}

/* Appends s[0..n) with every byte that is not part of a valid UTF-8 sequence as U+FFFD:
 * iconv's UCS-4 decoder, for one, writes 5- and 6-byte forms for values past U+10FFFF. */
static void put_valid(struct kp_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t run = i, step;
        while (run < n && (step = kp_utf8_len(u + run, n - run)) != 0)
            run += step;
        put_upto(b, s + i, run - i);
        if (run < n) {
            put_codepoint(b, 0xfffd);
            run++;
        }
        i = run;
    }
}

static void put_cp1252_all(struct kp_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_cp1252(b, (unsigned char)s[i]);
}

/* ---- charsets ---- */

/* Charsets GMime's names leave to iconv, mapped to the supersets that mail programs really
 * mean when they write them (as browsers do). */
static const struct {
    const char *name, *iconv;
} charset_aliases[] = {
    {"gb2312", "GB18030"},          {"gbk", "GB18030"},          {"x-gbk", "GB18030"},
    {"big5", "BIG5-HKSCS"},         {"ks_c_5601-1987", "CP949"}, {"euc-kr", "CP949"},
    {"shift_jis", "CP932"},         {"x-sjis", "CP932"},         {"tis-620", "CP874"},
    {"iso-8859-8-i", "ISO-8859-8"}, {"iso-8859-11", "CP874"},    {"x-mac-roman", "MACINTOSH"},
};

/* Charsets read with put_mixed: UTF-8 and what usually means "whatever the bytes are". */
static bool charset_is_utf8_like(const char *cs)
{
    static const char *const names[] = {
        "utf-8",     "utf8",         "us-ascii",       "ascii",   "unknown",
        "x-unknown", "unknown-8bit", "x-user-defined", "default", "iso-10646-utf-1"};
    for (size_t i = 0; i < KP_ARRAY_LEN(names); i++)
        if (strcasecmp(cs, names[i]) == 0)
            return true;
    return false;
}

/* latin1 is read as windows-1252, its superset, as every browser does. */
static bool charset_is_latin1(const char *cs)
{
    static const char *const names[] = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1",
                                        "latin-1",    "l1",        "cp1252",     "windows-1252",
                                        "x-cp1252",   "cp819",     "ibm819"};
    for (size_t i = 0; i < KP_ARRAY_LEN(names); i++)
        if (strcasecmp(cs, names[i]) == 0)
            return true;
    return false;
}

/* The single-byte charsets that clients often write where they send UTF-8. */
static bool charset_is_single_byte(const char *cs)
{
    static const char *const prefixes[] = {"iso-8859-", "iso8859-", "iso_8859-", "windows-125",
                                           "cp125",     "koi8",     "latin",     "cp8"};
    for (size_t i = 0; i < KP_ARRAY_LEN(prefixes); i++)
        if (strncasecmp(cs, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* Bytes that are valid UTF-8 with at least one multi-byte character: text in a single-byte
 * charset almost never is, so a label that says otherwise is wrong. */
static bool is_surely_utf8(const char *s, size_t n)
{
    bool multi = false;
    for (size_t i = 0; i < n && !multi; i++)
        multi = (unsigned char)s[i] >= 0x80;
    return multi && utf8_is_valid(s, n);
}

static iconv_t open_charset(const char *cs)
{
    for (size_t i = 0; i < KP_ARRAY_LEN(charset_aliases); i++)
        if (strcasecmp(cs, charset_aliases[i].name) == 0)
            return iconv_open("UTF-8", charset_aliases[i].iconv);
    /* not g_mime_charset_iconv_name(): it caches every name it is asked, for ever */
    return iconv_open("UTF-8", cs);
}

/* Converts with iconv; bytes it cannot read become U+FFFD. Returns how many there were. */
static size_t put_iconv(struct kp_buf *b, iconv_t cd, const char *s, size_t n)
{
    char chunk[CONVERT_CHUNK];
    char *in = (char *)s;
    size_t left = n, errors = 0;
    while (left) {
        char *o = chunk;
        size_t room = sizeof(chunk);
        size_t rc = iconv(cd, &in, &left, &o, &room);
        put_valid(b, chunk, (size_t)(o - chunk));
        if (rc != (size_t)-1 || errno == E2BIG)
            continue;
        errors++;
        put_codepoint(b, 0xfffd);
        if (errno != EILSEQ)
            break; /* EINVAL: a sequence cut at the end */
        in++;
        left--;
    }
    char *o = chunk;
    size_t room = sizeof(chunk);
    iconv(cd, NULL, NULL, &o, &room); /* the shift state's closing bytes (UTF-7, ISO-2022) */
    put_valid(b, chunk, (size_t)(o - chunk));
    return errors;
}

/* Appends s[0..n) in charset (NULL: undeclared) as UTF-8. A declared charset that does not
 * fit the bytes loses to UTF-8 when the bytes are valid UTF-8 (and a single-byte one also
 * when they are surely UTF-8); unknown charsets read as UTF-8 with windows-1252 for the
 * rest. */
static void put_text(struct kp_buf *b, const char *s, size_t n, const char *charset)
{
    if (!charset || !*charset || charset_is_utf8_like(charset)) {
        if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
            s += 3;
            n -= 3;
        }
        put_mixed(b, s, n);
        return;
    }
    if (charset_is_single_byte(charset) && is_surely_utf8(s, n)) {
        put_mixed(b, s, n);
        return;
    }
    if (charset_is_latin1(charset)) {
        put_cp1252_all(b, s, n);
        return;
    }
    iconv_t cd = open_charset(charset);
    if (cd == (iconv_t)-1) {
        put_mixed(b, s, n);
        return;
    }
    size_t start = b->len;
    if (put_iconv(b, cd, s, n) && utf8_is_valid(s, n)) {
        b->len = start;
        put_mixed(b, s, n);
    }
    iconv_close(cd);
}

/* In place: CRLF and lone CR become LF, NULs go. */
static void normalize_newlines(struct kp_buf *b)
{
    size_t k = 0;
    for (size_t i = 0; i < b->len; i++) {
        char c = b->data[i];
        if (c == '\0')
            continue;
        if (c == '\r') {
            if (i + 1 < b->len && b->data[i + 1] == '\n')
                continue;
            c = '\n';
        }
        b->data[k++] = c;
    }
    b->len = k;
    if (b->data)
        b->data[k] = '\0';
}

/* ---- clean strings for the caller ---- */

/* s cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

/* One line of text: valid UTF-8, controls as spaces, trimmed, at most max bytes; NULL when
 * s is NULL or nothing is left. */
static const char *clean_line(struct kp_arena *a, const char *s, size_t max)
{
    if (!s)
        return NULL;
    struct kp_buf b;
    kp_buf_init(&b, 4 * max + 16);
    size_t n_in = strlen(s);
    put_mixed(&b, s, n_in < 2 * max ? n_in : 2 * max); /* each byte gives one or more */
    for (size_t i = 0; i < b.len; i++)
        if ((unsigned char)b.data[i] < ' ' || b.data[i] == 0x7f)
            b.data[i] = ' ';
    const char *p = b.data ? b.data : "";
    size_t n = b.len;
    while (n && p[n - 1] == ' ')
        n--;
    while (n && *p == ' ') {
        p++;
        n--;
    }
    const char *out = n ? kp_arena_strndup(a, p, utf8_cut(p, n, max)) : NULL;
    kp_buf_release(&b);
    return out;
}

static const char *clean_lower(struct kp_arena *a, const char *s, size_t max)
{
    const char *c = clean_line(a, s, max);
    if (!c)
        return NULL;
    gchar *low = g_utf8_strdown(c, -1);
    const char *out = clean_line(a, low, max);
    g_free(low);
    return out;
}

/* ---- the walk's state ---- */

/* What one message (the mail itself or a forwarded one) shows. */
struct body {
    struct kp_buf text; /* its text/plain parts */
    struct kp_buf html; /* its text/html parts, UTF-8 */
    struct kp_buf tail; /* forwarded and returned messages, introduced by their headers */
};

struct ctx {
    struct kp_arena *a;
    struct kp_mail *m;
    GMimeParserOptions *opts;
    struct body *body;        /* the message being read */
    int quiet_plain;          /* > 0: text/plain parts are alternatives of text already read */
    int in_report;            /* > 0: inside a multipart/report */
    const char *text_charset; /* of the first text part, when not UTF-8 or ASCII */
    struct kp_buf problem;    /* "; "-joined, capped */
    struct kp_mime_bounce bounce;
};

static void body_init(struct body *b)
{
    kp_buf_init(&b->text, MAX_TEXT);
    kp_buf_init(&b->html, KP_HTML_MAX_INPUT);
    kp_buf_init(&b->tail, MAX_TEXT);
}

static void body_release(struct body *b)
{
    kp_buf_release(&b->text);
    kp_buf_release(&b->html);
    kp_buf_release(&b->tail);
}

/* Flags the mail broken and notes what (once per distinct text). */
static void problem(struct ctx *c, const char *what)
{
    c->m->flags |= KP_MAIL_BROKEN;
    if (c->problem.data && strstr(c->problem.data, what))
        return;
    if (c->problem.len)
        kp_buf_append(&c->problem, "; ", 2);
    kp_buf_puts(&c->problem, what);
}

/* Appends s[0..n) to b while b stays within max bytes; the rest is cut at a character. */
static void put_capped(struct ctx *c, struct kp_buf *b, const char *s, size_t n, size_t max)
{
    if (b->len >= max)
        return;
    size_t keep = utf8_cut(s, n, max - b->len);
    kp_buf_append(b, s, keep);
    if (keep < n)
        problem(c, "the text is too long and was cut");
}

/* ---- GMime helpers ---- */

static bool is_type(GMimeObject *o, const char *type, const char *subtype)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    return ct && g_mime_content_type_is_type(ct, type, subtype);
}

static const char *header(GMimeObject *o, const char *name)
{
    return g_mime_object_get_header(o, name);
}

static bool is_attachment(GMimeObject *o)
{
    const char *d = g_mime_object_get_disposition(o);
    return d && strcasecmp(d, "attachment") == 0;
}

static bool is_inline(GMimeObject *o)
{
    const char *d = g_mime_object_get_disposition(o);
    return d && strcasecmp(d, "inline") == 0;
}

/* Base64 content with other characters than the alphabet, padding and whitespace, or a
 * length that does not end on a quantum, is damaged: GMime skips what it cannot read. */
static bool base64_is_damaged(const GByteArray *enc)
{
    size_t digits = 0, pad = 0;
    for (size_t i = 0; i < enc->len; i++) {
        unsigned char c = enc->data[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad || !(g_ascii_isalnum(c) || c == '+' || c == '/'))
            return true;
        digits++;
    }
    return pad > 2 || (digits + pad) % 4 != 0;
}

static GByteArray *stream_bytes(GMimeStream *s)
{
    GByteArray *arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
    g_object_unref(s);
    return arr;
}

/* The content of a part with its transfer encoding undone; the caller frees it with
 * g_byte_array_free(arr, TRUE). Damaged base64 is noted as a problem. */
static GByteArray *decoded(struct ctx *c, GMimePart *p)
{
    GMimeDataWrapper *dw = g_mime_part_get_content(p);
    GMimeStream *out = g_mime_stream_mem_new();
    if (dw) {
        if (g_mime_part_get_content_encoding(p) == GMIME_CONTENT_ENCODING_BASE64) {
            GMimeStream *enc = g_mime_stream_mem_new();
            GMimeStream *src = g_mime_data_wrapper_get_stream(dw);
            g_mime_stream_reset(src);
            g_mime_stream_write_to_stream(src, enc);
            GByteArray *bytes = stream_bytes(enc);
            if (base64_is_damaged(bytes))
                problem(c, "an attachment or text has damaged base64");
            g_byte_array_free(bytes, TRUE);
        }
        g_mime_data_wrapper_write_to_stream(dw, out);
    }
    return stream_bytes(out);
}

/* The text of a part in UTF-8 with LF line ends, into out. */
static void part_text(struct ctx *c, GMimePart *p, struct kp_buf *out)
{
    GByteArray *raw = decoded(c, p);
    const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(p), "charset");
    put_text(out, (const char *)raw->data, raw->len, cs);
    g_byte_array_free(raw, TRUE);
    normalize_newlines(out);
}

/* ---- format=flowed (RFC 3676) ---- */

/* Joins the soft line breaks of flowed text (a line that ends in a space goes on in the next
 * line of the same quote depth) and removes space-stuffing. */
static void unflow(const struct kp_buf *in, bool delsp, struct kp_buf *out)
{
    const char *p = in->data ? in->data : "";
    const char *end = p + in->len;
    size_t prev_depth = 0;
    bool joining = false;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t depth = 0;
        while (p + depth < eol && p[depth] == '>')
            depth++;
        const char *s = p + depth;
        if (s < eol && *s == ' ')
            s++;
        size_t n = (size_t)(eol - s);
        bool sig = n == 3 && memcmp(s, "-- ", 3) == 0;
        bool soft = !sig && n && s[n - 1] == ' ';
        if (joining && depth != prev_depth)
            kp_buf_append(out, "\n", 1);
        if (!joining || depth != prev_depth) {
            kp_buf_append(out, p, depth);
            if (depth)
                kp_buf_append(out, " ", 1);
        }
        kp_buf_append(out, s, soft && delsp ? n - 1 : n);
        joining = soft;
        prev_depth = depth;
        if (!soft && nl)
            kp_buf_append(out, "\n", 1);
        p = nl ? nl + 1 : end;
    }
}

/* ---- parts ---- */

/* A file name to show and to save as: the last path element, no controls, capped. */
static const char *clean_filename(struct kp_arena *a, const char *name)
{
    const char *line = clean_line(a, name, MAX_ID);
    if (!line)
        return NULL;
    const char *base = line;
    for (const char *s = line; *s; s++)
        if (*s == '/' || *s == '\\')
            base = s + 1;
    if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return NULL;
    return clean_line(a, base, MAX_FILENAME);
}

/* "type/subtype" of RFC 2045 token characters, one slash. */
static bool is_mime_type(const char *s)
{
    static const char token[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "!#$%&'*+-.^_`|~";
    size_t type = strspn(s, token);
    if (type == 0 || s[type] != '/')
        return false;
    size_t sub = strspn(s + type + 1, token);
    return sub > 0 && s[type + 1 + sub] == '\0';
}

/* The part's type, lowercase; application/octet-stream when it is not a valid one. */
static const char *content_type_of(struct ctx *c, GMimeObject *o)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    char *mt = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
    const char *out =
        mt && is_mime_type(mt) && strlen(mt) <= MAX_TYPE ? clean_lower(c->a, mt, MAX_TYPE) : NULL;
    g_free(mt);
    return out ? out : "application/octet-stream";
}

/* Adds a leaf as an attachment; default_name when it has no name of its own. */
static void add_part(struct ctx *c, GMimePart *p, const char *default_name)
{
    struct kp_mail *m = c->m;
    if (m->n_parts == KP_MAIL_MAX_ATTACHMENTS) {
        char why[80];
        snprintf(why, sizeof(why), "more than %d attachments: the rest were left out",
                 KP_MAIL_MAX_ATTACHMENTS);
        problem(c, why);
        return;
    }
    GMimeObject *o = GMIME_OBJECT(p);
    struct kp_mail_part *out = &m->parts[m->n_parts++];
    GByteArray *raw = decoded(c, p);
    void *data = kp_arena_alloc(c->a, raw->len ? raw->len : 1);
    if (raw->len)
        memcpy(data, raw->data, raw->len);
    out->data = data;
    out->size = raw->len;
    g_byte_array_free(raw, TRUE);
    out->content_type = content_type_of(c, o);
    out->filename = clean_filename(c->a, g_mime_part_get_filename(p));
    if (!out->filename)
        out->filename =
            default_name ? default_name : kp_arena_printf(c->a, "attachment-%zu", m->n_parts);
    out->content_id = clean_line(c->a, g_mime_object_get_content_id(o), MAX_ID);
    out->is_inline = is_inline(o);
}

/* ---- the walk ---- */

static void walk(struct ctx *c, GMimeObject *o, int depth);

static void walk_children(struct ctx *c, GMimeMultipart *mp, int depth)
{
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; i++)
        walk(c, g_mime_multipart_get_part(mp, i), depth + 1);
}

/* Text that stands for content that cannot be shown (encrypted): one paragraph of its own. */
static void add_note(struct ctx *c, const char *note)
{
    struct kp_buf *t = &c->body->text;
    if (t->len)
        put_capped(c, t, "\n\n", 2, MAX_TEXT);
    put_capped(c, t, note, strlen(note), MAX_TEXT);
}

/* Notes the charset of the first text part for headers in raw 8-bit (see redecode_8bit). */
static void note_charset(struct ctx *c, GMimePart *p)
{
    const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(p), "charset");
    if (!c->text_charset && cs && !charset_is_utf8_like(cs))
        c->text_charset = kp_arena_strdup(c->a, cs);
}

static void add_plain(struct ctx *c, GMimePart *p)
{
    struct kp_buf text, flowed;
    kp_buf_init(&text, PART_TEXT_CAP);
    kp_buf_init(&flowed, PART_TEXT_CAP);
    part_text(c, p, &text);
    GMimeObject *o = GMIME_OBJECT(p);
    const char *format = g_mime_object_get_content_type_parameter(o, "format");
    struct kp_buf *use = &text;
    if (format && strcasecmp(format, "flowed") == 0) {
        const char *delsp = g_mime_object_get_content_type_parameter(o, "delsp");
        unflow(&text, delsp && strcasecmp(delsp, "yes") == 0, &flowed);
        use = &flowed;
    }
    struct kp_buf *t = &c->body->text;
    if (use->len) {
        if (t->len)
            put_capped(c, t, "\n\n", 2, MAX_TEXT);
        put_capped(c, t, use->data, use->len, MAX_TEXT);
    }
    kp_buf_release(&text);
    kp_buf_release(&flowed);
}

static void add_html(struct ctx *c, GMimePart *p)
{
    struct kp_buf html;
    kp_buf_init(&html, PART_TEXT_CAP);
    part_text(c, p, &html);
    put_capped(c, &c->body->html, html.data ? html.data : "", html.len, KP_HTML_MAX_INPUT);
    kp_buf_release(&html);
}

/* The text/plain or text/html parts that are the message itself, not a file attached. */
static bool is_body_part(GMimeObject *o)
{
    if (!is_type(o, "text", "plain") && !is_type(o, "text", "html"))
        return false;
    return !is_attachment(o) && !g_mime_part_get_filename(GMIME_PART(o));
}

static void read_dsn(struct ctx *c, GMimePart *p)
{
    struct kp_buf t;
    kp_buf_init(&t, PART_TEXT_CAP);
    part_text(c, p, &t);
    kp_mime_bounce_read_dsn(&c->bounce, t.data ? t.data : "", t.len, c->a);
    kp_buf_release(&t);
}

static void read_returned_headers(struct ctx *c, GMimePart *p)
{
    struct kp_buf t;
    kp_buf_init(&t, PART_TEXT_CAP);
    part_text(c, p, &t);
    if (!c->bounce.message_id)
        c->bounce.message_id = kp_mime_bounce_find_message_id(t.data ? t.data : "", t.len, c->a);
    kp_buf_release(&t);
}

static void walk_leaf(struct ctx *c, GMimePart *p)
{
    GMimeObject *o = GMIME_OBJECT(p);
    if (is_type(o, "message", "delivery-status") ||
        is_type(o, "message", "global-delivery-status")) {
        read_dsn(c, p);
    } else if (is_type(o, "text", "rfc822-headers") || is_type(o, "message", "global-headers")) {
        read_returned_headers(c, p);
    } else if (is_body_part(o)) {
        note_charset(c, p);
        if (is_type(o, "text", "html"))
            add_html(c, p);
        else if (c->quiet_plain == 0)
            add_plain(c, p);
    } else {
        add_part(c, p, NULL);
    }
}

/* multipart/alternative: the text/plain version, and the richest other version (the last
 * text/html or multipart) for the html; files among the versions are kept as parts. */
static void walk_alternative(struct ctx *c, GMimeMultipart *mp, int depth)
{
    int n = g_mime_multipart_get_count(mp);
    GMimeObject *plain = NULL, *rich = NULL;
    for (int i = 0; i < n; i++) {
        GMimeObject *k = g_mime_multipart_get_part(mp, i);
        if (!plain && GMIME_IS_PART(k) && is_body_part(k) && is_type(k, "text", "plain"))
            plain = k;
        else if (is_type(k, "text", "html") || GMIME_IS_MULTIPART(k))
            rich = k;
    }
    if (plain)
        walk(c, plain, depth + 1);
    if (rich) {
        c->quiet_plain += plain != NULL;
        walk(c, rich, depth + 1);
        c->quiet_plain -= plain != NULL;
    }
    for (int i = 0; i < n; i++) {
        GMimeObject *k = g_mime_multipart_get_part(mp, i);
        if (k != plain && k != rich && !GMIME_IS_MULTIPART(k) && !is_type(k, "text", "plain") &&
            !is_type(k, "text", "html"))
            walk(c, k, depth + 1);
    }
}

static void walk_signed(struct ctx *c, GMimeMultipart *mp, int depth)
{
    c->m->flags |= KP_MAIL_SIGNED;
    int n = g_mime_multipart_get_count(mp);
    if (n < 2)
        problem(c, "a signed message has no signature part");
    for (int i = 0; i < n; i++) {
        GMimeObject *k = g_mime_multipart_get_part(mp, i);
        if (i > 0 && GMIME_IS_PART(k))
            add_part(c, GMIME_PART(k),
                     is_type(k, "application", "pgp-signature") ? "signature.asc" : "smime.p7s");
        else
            walk(c, k, depth + 1);
    }
}

static void walk_encrypted(struct ctx *c, GMimeMultipart *mp)
{
    c->m->flags |= KP_MAIL_ENCRYPTED;
    add_note(c, encrypted_note);
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; i++) {
        GMimeObject *k = g_mime_multipart_get_part(mp, i);
        if (GMIME_IS_PART(k))
            add_part(c, GMIME_PART(k), i == 0 ? "version.txt" : "encrypted.asc");
    }
}

static void walk_multipart(struct ctx *c, GMimeMultipart *mp, int depth)
{
    GMimeObject *o = GMIME_OBJECT(mp);
    bool report = is_type(o, "multipart", "report");
    if (report) {
        const char *rt = g_mime_object_get_content_type_parameter(o, "report-type");
        if (rt && strcasecmp(rt, "delivery-status") == 0)
            c->bounce.report = true;
        else if (rt && strcasecmp(rt, "disposition-notification") == 0)
            c->m->flags |= KP_MAIL_AUTO; /* a read receipt */
    }
    if (g_mime_multipart_get_count(mp) == 0) {
        /* no boundary, or none found: what GMime kept is the text before it */
        problem(c, "a multipart has no readable parts");
        const char *pro = g_mime_multipart_get_prologue(mp);
        if (pro && *pro && c->quiet_plain == 0) {
            struct kp_buf t;
            kp_buf_init(&t, PART_TEXT_CAP);
            put_mixed(&t, pro, strlen(pro));
            normalize_newlines(&t);
            add_note(c, t.data ? t.data : "");
            kp_buf_release(&t);
        }
        return;
    }
    if (is_type(o, "multipart", "alternative")) {
        walk_alternative(c, mp, depth);
    } else if (report) {
        c->in_report++;
        walk_children(c, mp, depth);
        c->in_report--;
    } else {
        walk_children(c, mp, depth);
    }
}

/* "From: ..." lines of a forwarded or returned message. */
static void put_header_line(struct ctx *c, struct kp_buf *b, const char *name, const char *v)
{
    const char *line = clean_line(c->a, v, MAX_LINE);
    if (!line)
        return;
    kp_buf_puts(b, name);
    kp_buf_puts(b, ": ");
    kp_buf_puts(b, line);
    kp_buf_puts(b, "\n");
}

static void put_address_line(struct ctx *c, struct kp_buf *b, const char *name,
                             InternetAddressList *list)
{
    if (!list || internet_address_list_length(list) == 0)
        return;
    char *s = internet_address_list_to_string(list, NULL, FALSE);
    put_header_line(c, b, name, s);
    g_free(s);
}

/* Appends what a body shows as text: its plain parts, else the text of its html, then its
 * forwarded messages. html_text is the text of its html when already known. */
static void put_body_text(struct ctx *c, struct body *b, struct kp_buf *out, const char *html_text)
{
    if (b->text.len) {
        put_capped(c, out, b->text.data, b->text.len, MAX_TEXT);
    } else if (b->html.len) {
        char *ignored, *t = (char *)html_text;
        if (!t)
            kp_html_sanitize(b->html.data, b->html.len, c->a, &ignored, &t);
        put_capped(c, out, t, strlen(t), MAX_TEXT);
    }
    if (b->tail.len) {
        if (out->len)
            put_capped(c, out, "\n\n", 2, MAX_TEXT);
        put_capped(c, out, b->tail.data, b->tail.len, MAX_TEXT);
    }
}

/* message/rfc822: a forwarded message (or, in a report, the returned one) shown after the
 * text, introduced by its headers; its files join the mail's parts. */
static void walk_message_part(struct ctx *c, GMimeMessagePart *mp, int depth)
{
    GMimeMessage *inner = g_mime_message_part_get_message(mp);
    if (!inner)
        return;
    bool returned = c->in_report > 0;
    if (!c->bounce.message_id)
        c->bounce.message_id = clean_line(c->a, g_mime_message_get_message_id(inner), MAX_ID);
    if (!returned)
        c->m->flags |= KP_MAIL_FORWARDED;

    struct body sub, *outer = c->body;
    body_init(&sub);
    int quiet = c->quiet_plain, report = c->in_report;
    c->body = &sub;
    c->quiet_plain = c->in_report = 0;
    GMimeObject *top = g_mime_message_get_mime_part(inner);
    if (top)
        walk(c, top, depth + 1);
    c->body = outer;
    c->quiet_plain = quiet;
    c->in_report = report;

    struct kp_buf block;
    kp_buf_init(&block, MAX_TEXT);
    kp_buf_puts(&block, returned ? "---------- Original message ----------\n"
                                 : "---------- Forwarded message ----------\n");
    GMimeObject *io = GMIME_OBJECT(inner);
    put_address_line(c, &block, "From", g_mime_message_get_from(inner));
    put_header_line(c, &block, "Date", header(io, "Date"));
    put_header_line(c, &block, "Subject", g_mime_message_get_subject(inner));
    put_address_line(c, &block, "To", g_mime_message_get_to(inner));
    kp_buf_puts(&block, "\n");
    put_body_text(c, &sub, &block, NULL);
    body_release(&sub);

    struct kp_buf *tail = &outer->tail;
    if (tail->len)
        put_capped(c, tail, "\n\n", 2, MAX_TEXT);
    put_capped(c, tail, block.data, block.len, MAX_TEXT);
    kp_buf_release(&block);
}

static void walk(struct ctx *c, GMimeObject *o, int depth)
{
    if (depth > KP_MAIL_MAX_DEPTH) {
        char why[80];
        snprintf(why, sizeof(why), "parts nested more than %d deep were left out",
                 KP_MAIL_MAX_DEPTH);
        problem(c, why);
        return;
    }
    if (GMIME_IS_MESSAGE_PART(o))
        walk_message_part(c, GMIME_MESSAGE_PART(o), depth);
    else if (GMIME_IS_MULTIPART_ENCRYPTED(o))
        walk_encrypted(c, GMIME_MULTIPART(o));
    else if (GMIME_IS_MULTIPART_SIGNED(o))
        walk_signed(c, GMIME_MULTIPART(o), depth);
    else if (GMIME_IS_MULTIPART(o))
        walk_multipart(c, GMIME_MULTIPART(o), depth);
    else if (GMIME_IS_APPLICATION_PKCS7_MIME(o) || is_type(o, "application", "x-pkcs7-mime")) {
        c->m->flags |= KP_MAIL_ENCRYPTED;
        add_note(c, encrypted_note);
        if (GMIME_IS_PART(o))
            add_part(c, GMIME_PART(o), "smime.p7m");
    } else if (GMIME_IS_PART(o))
        walk_leaf(c, GMIME_PART(o));
}

/* ---- headers ---- */

static InternetAddressMailbox *first_mailbox(InternetAddressList *list)
{
    int n = list ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia))
            return INTERNET_ADDRESS_MAILBOX(ia);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            InternetAddressMailbox *mb =
                first_mailbox(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));
            if (mb)
                return mb;
        }
    }
    return NULL;
}

static const char *address_list(struct ctx *c, InternetAddressList *list)
{
    if (!list || internet_address_list_length(list) == 0)
        return NULL;
    char *s = internet_address_list_to_string(list, NULL, FALSE);
    const char *out = clean_line(c->a, s, MAX_LINE);
    g_free(s);
    return out;
}

/* From, else Sender, else Return-Path. */
static void read_from(struct ctx *c, GMimeMessage *msg)
{
    InternetAddressMailbox *mb = first_mailbox(g_mime_message_get_from(msg));
    if (!mb || !*internet_address_mailbox_get_addr(mb))
        mb = first_mailbox(g_mime_message_get_sender(msg));
    InternetAddressList *rp = NULL;
    const char *return_path = header(GMIME_OBJECT(msg), "Return-Path");
    if ((!mb || !*internet_address_mailbox_get_addr(mb)) && return_path) {
        rp = internet_address_list_parse(c->opts, return_path);
        mb = first_mailbox(rp);
    }
    if (mb) {
        c->m->from_addr = clean_lower(c->a, internet_address_mailbox_get_addr(mb), MAX_LINE);
        c->m->from_name =
            clean_line(c->a, internet_address_get_name(INTERNET_ADDRESS(mb)), MAX_LINE);
    }
    if (rp)
        g_object_unref(rp);
}

static void read_references(struct ctx *c, GMimeMessage *msg)
{
    GMimeObject *o = GMIME_OBJECT(msg);
    const char *irt = header(o, "In-Reply-To");
    GMimeReferences *r = irt ? g_mime_references_parse(c->opts, irt) : NULL;
    if (r && g_mime_references_length(r) > 0)
        c->m->in_reply_to = clean_line(c->a, g_mime_references_get_message_id(r, 0), MAX_ID);
    if (r)
        g_mime_references_free(r);

    const char *refs = header(o, "References");
    r = refs ? g_mime_references_parse(c->opts, refs) : NULL;
    int n = r ? g_mime_references_length(r) : 0;
    int first = n > KP_MAIL_MAX_REFS ? n - KP_MAIL_MAX_REFS : 0;
    c->m->refs = kp_arena_alloc(c->a, sizeof(char *) * (size_t)(n - first + 1));
    for (int i = first; i < n; i++) {
        const char *id = clean_line(c->a, g_mime_references_get_message_id(r, i), MAX_ID);
        if (id)
            c->m->refs[c->m->n_refs++] = id;
    }
    if (r)
        g_mime_references_free(r);
}

/* The first word of a header value, lowercase ("auto-replied; x=y" -> "auto-replied"). */
static bool first_word_is(const char *v, const char *word)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strcspn(v, " \t;,");
    return n == strlen(word) && strncasecmp(v, word, n) == 0;
}

static bool local_part_is(const char *addr, const char *name)
{
    size_t n = strcspn(addr, "@");
    return n == strlen(name) && strncasecmp(addr, name, n) == 0;
}

/* KP_MAIL_AUTO, _BULK and _DAEMON, as mime.h lists their headers. */
static void read_loop_flags(struct ctx *c, GMimeMessage *msg)
{
    GMimeObject *o = GMIME_OBJECT(msg);
    unsigned f = 0;
    const char *v = header(o, "Auto-Submitted");
    if (v && !first_word_is(v, "no") && !first_word_is(v, ""))
        f |= KP_MAIL_AUTO;
    if (header(o, "X-Autoreply") || header(o, "X-Auto-Response-Suppress"))
        f |= KP_MAIL_AUTO;
    if ((v = header(o, "Precedence")) != NULL) {
        if (first_word_is(v, "bulk") || first_word_is(v, "junk") || first_word_is(v, "list"))
            f |= KP_MAIL_BULK;
        else if (first_word_is(v, "auto_reply"))
            f |= KP_MAIL_AUTO;
    }
    if (header(o, "List-Id") || header(o, "List-Unsubscribe"))
        f |= KP_MAIL_BULK;
    const char *from = c->m->from_addr;
    if (from && (local_part_is(from, "mailer-daemon") || local_part_is(from, "postmaster")))
        f |= KP_MAIL_DAEMON;
    if ((v = header(o, "Return-Path")) != NULL) {
        while (*v == ' ' || *v == '\t')
            v++;
        if (strncmp(v, "<>", 2) == 0)
            f |= KP_MAIL_DAEMON;
    }
    c->m->flags |= f;
}

static int header_count(GMimeObject *o)
{
    GMimeHeaderList *list = o ? g_mime_object_get_header_list(o) : NULL;
    return list ? g_mime_header_list_get_count(list) : 0;
}

/* No headers at all (GMime keeps the Content-* ones with the top part), or headers with bytes
 * that are neither ASCII nor UTF-8 (8-bit garbage). */
static void check_headers(struct ctx *c, GMimeMessage *msg)
{
    GMimeObject *o = GMIME_OBJECT(msg);
    if (header_count(o) + header_count(g_mime_message_get_mime_part(msg)) == 0)
        problem(c, "the mail has no headers");
    GMimeHeaderList *list = g_mime_object_get_header_list(o);
    int n = header_count(o);
    for (int i = 0; i < n; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
        const char *raw = g_mime_header_get_raw_value(h);
        if (raw && !utf8_is_valid(raw, strlen(raw))) {
            problem(c, "a header has 8-bit bytes that are not UTF-8");
            return;
        }
    }
}

static void read_headers(struct ctx *c, GMimeMessage *msg)
{
    struct kp_mail *m = c->m;
    check_headers(c, msg);
    m->message_id = clean_line(c->a, g_mime_message_get_message_id(msg), MAX_ID);
    read_references(c, msg);
    m->subject = clean_line(c->a, g_mime_message_get_subject(msg), MAX_LINE);
    read_from(c, msg);
    InternetAddressMailbox *rt = first_mailbox(g_mime_message_get_reply_to(msg));
    if (rt)
        m->reply_to = clean_lower(c->a, internet_address_mailbox_get_addr(rt), MAX_LINE);
    m->to = address_list(c, g_mime_message_get_to(msg));
    m->cc = address_list(c, g_mime_message_get_cc(msg));
    GDateTime *d = g_mime_message_get_date(msg);
    if (d)
        m->date_ms = g_date_time_to_unix(d) * 1000;
    read_loop_flags(c, msg);
}

/* ---- parsing ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static GMimeParserOptions *base_options;

static void init_gmime(void)
{
    static const char *fallback[] = {"utf-8", "windows-1252", NULL};
    g_mime_init();
    base_options = g_mime_parser_options_new();
    g_mime_parser_options_set_rfc2047_compliance_mode(base_options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(base_options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_address_compliance_mode(base_options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_allow_addresses_without_domain(base_options, TRUE);
    g_mime_parser_options_set_fallback_charsets(base_options, fallback);
    /* Every GObject class the parser and the sender use is made here, once, before parses run
     * in parallel: GLib publishes classes made later with atomics that ThreadSanitizer cannot
     * see, so parallel first uses look like races. */
    GType types[] = {GMIME_TYPE_MESSAGE,
                     GMIME_TYPE_MESSAGE_PART,
                     GMIME_TYPE_MESSAGE_PARTIAL,
                     GMIME_TYPE_MULTIPART,
                     GMIME_TYPE_MULTIPART_SIGNED,
                     GMIME_TYPE_MULTIPART_ENCRYPTED,
                     GMIME_TYPE_PART,
                     GMIME_TYPE_TEXT_PART,
                     GMIME_TYPE_APPLICATION_PKCS7_MIME,
                     GMIME_TYPE_PARSER,
                     GMIME_TYPE_STREAM_MEM,
                     GMIME_TYPE_STREAM_FILTER,
                     GMIME_TYPE_DATA_WRAPPER,
                     GMIME_TYPE_CONTENT_TYPE,
                     GMIME_TYPE_CONTENT_DISPOSITION,
                     GMIME_TYPE_PARAM_LIST,
                     GMIME_TYPE_HEADER_LIST,
                     GMIME_TYPE_FILTER_BASIC,
                     GMIME_TYPE_FILTER_CHARSET,
                     GMIME_TYPE_FILTER_DOS2UNIX,
                     GMIME_TYPE_FILTER_UNIX2DOS,
                     INTERNET_ADDRESS_TYPE_MAILBOX,
                     INTERNET_ADDRESS_TYPE_GROUP,
                     INTERNET_ADDRESS_LIST_TYPE};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        g_type_class_unref(g_type_class_ref(types[i]));
}

void kp_mime_init(void)
{
    pthread_once(&init_once, init_gmime);
}

/* GMime's parser warnings that mean parts of the mail may be missing or misread. */
static void on_parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
                              gpointer user_data)
{
    struct ctx *c = user_data;
    switch (code) {
    case GMIME_WARN_TRUNCATED_MESSAGE:
        problem(c, "the mail is truncated");
        break;
    case GMIME_WARN_MALFORMED_MESSAGE:
        problem(c, "the mail is malformed");
        break;
    case GMIME_WARN_MALFORMED_MULTIPART:
        problem(c, "a multipart has no parts");
        break;
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
        problem(c, "a multipart has no boundary");
        break;
    case GMIME_CRIT_NESTING_OVERFLOW:
        problem(c, "parts are nested too deeply");
        break;
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
        problem(c, "a part is empty");
        break;
    default:
        break; /* duplicated or odd headers: common and harmless */
    }
}

/* An mbox "From " line before the headers is not a header. */
static size_t skip_mbox_line(const char *s, size_t n)
{
    if (n < 5 || memcmp(s, "From ", 5) != 0)
        return 0;
    const char *nl = memchr(s, '\n', n);
    return nl ? (size_t)(nl - s) + 1 : n;
}

/* A header in raw 8-bit that is not UTF-8 was most likely written in the charset of the
 * mail's text (GMime guessed windows-1252): its raw value decoded again with that charset
 * tried first; NULL when there is no such header. */
static char *redecode_8bit(struct ctx *c, GMimeObject *o, const char *name)
{
    GMimeHeaderList *list = g_mime_object_get_header_list(o);
    GMimeHeader *h = list && c->text_charset ? g_mime_header_list_get_header(list, name) : NULL;
    const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
    if (!raw || utf8_is_valid(raw, strlen(raw)))
        return NULL;
    const char *fallback[] = {"utf-8", c->text_charset, "windows-1252", NULL};
    GMimeParserOptions *opts = g_mime_parser_options_clone(c->opts);
    g_mime_parser_options_set_fallback_charsets(opts, fallback);
    char *unfolded = g_mime_utils_header_unfold(raw);
    char *out = NULL;
    if (strcmp(name, "Subject") == 0) {
        out = g_mime_utils_header_decode_text(opts, unfolded);
    } else {
        InternetAddressList *l = internet_address_list_parse(opts, unfolded);
        InternetAddressMailbox *mb = first_mailbox(l);
        const char *n = mb ? internet_address_get_name(INTERNET_ADDRESS(mb)) : NULL;
        out = n ? g_strdup(n) : NULL;
        if (l)
            g_object_unref(l);
    }
    g_free(unfolded);
    g_mime_parser_options_free(opts);
    return out;
}

static void redecode_headers(struct ctx *c, GMimeMessage *msg)
{
    char *subject = redecode_8bit(c, GMIME_OBJECT(msg), "Subject");
    if (subject)
        c->m->subject = clean_line(c->a, subject, MAX_LINE);
    char *name = redecode_8bit(c, GMIME_OBJECT(msg), "From");
    if (name)
        c->m->from_name = clean_line(c->a, name, MAX_LINE);
    g_free(subject);
    g_free(name);
}

/* Text, html and parts from the walk into m. */
static void finish(struct ctx *c, struct body *b)
{
    struct kp_mail *m = c->m;
    char *html_text = NULL;
    if (b->html.len) {
        char *html;
        kp_html_sanitize(b->html.data, b->html.len, c->a, &html, &html_text);
        m->html = html;
    }
    struct kp_buf text;
    kp_buf_init(&text, MAX_TEXT);
    put_body_text(c, b, &text, html_text);
    const char *t = text.data ? text.data : "";
    size_t n = text.len;
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\n' || t[n - 1] == '\t'))
        n--;
    while (n && *t == '\n') {
        t++;
        n--;
    }
    m->text = kp_arena_strndup(c->a, t, n);
    kp_buf_release(&text);
    for (size_t i = 0; i < m->n_parts; i++) {
        struct kp_mail_part *p = &m->parts[i];
        if (p->content_id && m->html) {
            char *ref = kp_arena_printf(c->a, "cid:%s\"", p->content_id);
            p->is_inline |= strstr(m->html, ref) != NULL;
        }
    }
}

static void parse_message(struct ctx *c, const char *raw, size_t len, struct body *b)
{
    size_t skip = skip_mbox_line(raw, len);
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw + skip, len - skip);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, c->opts);
    if (msg) {
        read_headers(c, msg);
        GMimeObject *top = g_mime_message_get_mime_part(msg);
        if (top)
            walk(c, top, 1);
        redecode_headers(c, msg);
        g_object_unref(msg);
    } else {
        problem(c, "the mail has no headers");
        struct kp_buf t;
        kp_buf_init(&t, PART_TEXT_CAP);
        put_mixed(&t, raw, len);
        normalize_newlines(&t);
        put_capped(c, &b->text, t.data ? t.data : "", t.len, MAX_TEXT);
        kp_buf_release(&t);
    }
    g_object_unref(parser);
    g_object_unref(stream);
}

int kp_mime_parse(const void *raw, size_t len, struct kp_arena *a, struct kp_mail *out)
{
    memset(out, 0, sizeof(*out));
    out->text = "";
    if (len == 0)
        return KP_EINVAL;
    kp_mime_init();

    struct ctx c;
    memset(&c, 0, sizeof(c));
    c.a = a;
    c.m = out;
    kp_buf_init(&c.problem, 2 * MAX_PROBLEM);
    c.opts = g_mime_parser_options_clone(base_options);
    g_mime_parser_options_set_warning_callback(c.opts, on_parser_warning, &c);
    out->parts = kp_arena_alloc(a, sizeof(*out->parts) * KP_MAIL_MAX_ATTACHMENTS);
    out->refs = kp_arena_alloc(a, sizeof(char *));

    struct body b;
    body_init(&b);
    c.body = &b;
    if (memchr(raw, '\0', len))
        problem(&c, "the mail contains NUL bytes");
    parse_message(&c, raw, len, &b);
    finish(&c, &b);
    body_release(&b);
    kp_mime_bounce_finish(&c.bounce, out, a);

    if (c.problem.len)
        out->problem = kp_arena_strndup(a, c.problem.data,
                                        utf8_cut(c.problem.data, c.problem.len, MAX_PROBLEM));
    kp_buf_release(&c.problem);
    g_mime_parser_options_free(c.opts);
    return 0;
}
