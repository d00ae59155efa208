/* SPDX-License-Identifier: MIT */
/*
 * smtp.c - SMTP/LMTP command lines and the DATA stream (see smtp.h). Pure: no I/O, no
 * allocation. The grammar accepted for command lines (RFC 5321 4.1, with the usual leniency):
 *
 *   line     = verb [1*WSP argument] *WSP            ; verb case-insensitive, <= 998 bytes
 *   MAIL     = "MAIL" SP "FROM:" *SP reverse-path *(1*SP param)
 *   RCPT     = "RCPT" SP "TO:" *SP forward-path      ; every parameter is unknown (555)
 *   path     = "<" [route ":"] mailbox ">"           ; route = "@" domain *("," "@" domain)
 *   mailbox  = local-part "@" (domain / "[" literal "]")
 *   local    = dot-string / quoted-string            ; kept as sent, UTF-8 allowed
 *   param    = keyword ["=" value]                   ; SIZE=digits, BODY=7BIT|8BITMIME, SMTPUTF8
 *   literal  = 1*(ALPHA / DIGIT / "." / ":" / "-")  ; IPv4, "IPv6:...", lowercased
 *   BDAT     = "BDAT" SP digits [SP "LAST"]          ; size in cmd.size, path "LAST" when last
 *
 * Beyond smtp.h: HELO/EHLO/LHLO keep their first word (more words are ignored); NOOP, HELP and
 * VRFY keep their optional argument, as sent, in path (501 when longer than KP_SMTP_PATH_MAX
 * or not printable). On an error the verb stays set, the other fields are cleared.
 *
 * The route is parsed and dropped; "<>" is the null reverse-path (""), "<Postmaster>" the one
 * forward-path without a domain. The text between the angle brackets may hold at most
 * KP_SMTP_PATH_MAX bytes, so the stored address (without route) always fits.
 *
 * The DATA decoder is a byte-at-a-time state machine, so that any split of the input gives the
 * same result:
 *
 *   BOL --'.'--> DOT --CR--> DOTCR --LF--> END      (DOT --LF--> END: bare LF)
 *    |            '--other: the dot was stuffing, drop it, go on as MID
 *    '--other--> MID --CR--> CR --LF--> emit CRLF, BOL
 *                 '--LF--> emit CRLF, BOL           (bare LF)
 * A CR is held back until the next byte shows whether it ends a line; a bare CR is data.
 */
#include "smtp.h"

#include <strings.h>

enum arg_kind { ARG_NONE, ARG_OPTIONAL, ARG_REQUIRED, ARG_MAIL, ARG_RCPT, ARG_BDAT };

static const struct {
    const char *name;
    enum kp_smtp_verb verb;
    enum arg_kind arg;
} verbs[] = {
    {"HELO", KP_SMTP_HELO, ARG_REQUIRED}, {"EHLO", KP_SMTP_EHLO, ARG_REQUIRED},
    {"LHLO", KP_SMTP_LHLO, ARG_REQUIRED}, {"MAIL", KP_SMTP_MAIL, ARG_MAIL},
    {"RCPT", KP_SMTP_RCPT, ARG_RCPT},     {"DATA", KP_SMTP_DATA, ARG_NONE},
    {"RSET", KP_SMTP_RSET, ARG_NONE},     {"NOOP", KP_SMTP_NOOP, ARG_OPTIONAL},
    {"QUIT", KP_SMTP_QUIT, ARG_NONE},     {"VRFY", KP_SMTP_VRFY, ARG_OPTIONAL},
    {"HELP", KP_SMTP_HELP, ARG_OPTIONAL}, {"STARTTLS", KP_SMTP_STARTTLS, ARG_NONE},
    {"BDAT", KP_SMTP_BDAT, ARG_BDAT},
};

/* A cursor over the unparsed rest of the line. */
struct cur {
    const unsigned char *p, *end;
};

static bool at_end(const struct cur *c)
{
    return c->p >= c->end;
}

static int peek(const struct cur *c)
{
    return at_end(c) ? -1 : *c->p;
}

static bool eat(struct cur *c, int ch)
{
    if (peek(c) != ch)
        return false;
    c->p++;
    return true;
}

static size_t skip_wsp(struct cur *c)
{
    size_t n = 0;
    while (!at_end(c) && (*c->p == ' ' || *c->p == '\t')) {
        c->p++;
        n++;
    }
    return n;
}

static bool is_alpha(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* RFC 5322 atext, ASCII part */
static bool is_atext(int ch)
{
    return is_alpha(ch) || is_digit(ch) || (ch > 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch));
}

/*
 * The length of the well-formed UTF-8 sequence of 2 to 4 bytes at c (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t utf8_seq(const struct cur *c)
{
    const unsigned char *s = c->p;
    size_t left = (size_t)(c->end - s);
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (left == 0 || s[0] < 0xc2 || s[0] > 0xf4)
        return 0;
    if (s[0] < 0xe0) {
        n = 2;
    } else if (s[0] < 0xf0) {
        n = 3;
        if (s[0] == 0xe0)
            lo = 0xa0;
        else if (s[0] == 0xed)
            hi = 0x9f;
    } else {
        n = 4;
        if (s[0] == 0xf0)
            lo = 0x90;
        else if (s[0] == 0xf4)
            hi = 0x8f;
    }
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Skips one UTF-8 non-ASCII character (RFC 6531 UTF8-non-ascii); false when there is none. */
static bool eat_utf8(struct cur *c)
{
    size_t n = utf8_seq(c);
    c->p += n;
    return n > 0;
}

/* sub-domain *("." sub-domain), letters, digits, inner hyphens and UTF-8 (U-labels). */
static bool domain(struct cur *c)
{
    for (;;) {
        const unsigned char *label = c->p;
        int last = -1;
        for (;;) {
            int ch = peek(c);
            if (is_alpha(ch) || is_digit(ch) || ch == '-') {
                if (c->p == label && ch == '-')
                    return false;
                c->p++;
            } else if (ch >= 0x80) {
                if (!eat_utf8(c))
                    return false;
            } else {
                break;
            }
            last = ch;
        }
        if (c->p == label || last == '-' || c->p - label > 63)
            return false;
        if (!eat(c, '.'))
            return true;
    }
}

/*
 * "[" literal "]": RFC 5321 4.1.3 allows any dcontent in a General-address-literal; real ones
 * are IPv4, "IPv6:..." or a tag and colon, so only letters, digits, ".", ":" and "-" are taken
 * (no "<", ">" or quotes that would confuse whoever writes the path into a header again).
 */
static bool address_literal(struct cur *c)
{
    if (!eat(c, '['))
        return false;
    const unsigned char *start = c->p;
    while (is_alpha(peek(c)) || is_digit(peek(c)) || peek(c) == '.' || peek(c) == ':' ||
           peek(c) == '-')
        c->p++;
    return c->p > start && eat(c, ']');
}

/* Dot-string (dots are not checked for position: real senders use "a..b") or Quoted-string. */
static bool local_part(struct cur *c)
{
    const unsigned char *start = c->p;
    if (eat(c, '"')) {
        for (;;) {
            int ch = peek(c);
            if (ch == '"') {
                c->p++;
                return true;
            } else if (ch == '\\') {
                c->p++;
                if (peek(c) < 32 || peek(c) > 126)
                    return false;
                c->p++;
            } else if (ch >= 32 && ch <= 126) {
                c->p++;
            } else if (!eat_utf8(c)) {
                return false;
            }
        }
    }
    for (;;) {
        int ch = peek(c);
        if (is_atext(ch) || ch == '.')
            c->p++;
        else if (ch < 0x80 || !eat_utf8(c))
            break;
    }
    return c->p > start;
}

static void lower_copy(char *out, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
}

/* Parses "<...>" into out (the mailbox, domain in lowercase); returns 0 or 501. */
static int path(struct cur *c, bool rcpt, char *out, const char **why)
{
    *why = "syntax error in path (expected <local@domain>)";
    if (!eat(c, '<'))
        return 501;
    const unsigned char *inner = c->p;
    if (eat(c, '>')) {
        if (rcpt) {
            *why = "null path not allowed as a recipient";
            return 501;
        }
        out[0] = '\0';
        return 0;
    }
    if (peek(c) == '@') {
        /* A-d-l (source route): parsed and ignored, RFC 5321 4.1.2 and appendix C */
        do {
            if (!eat(c, '@') || !(peek(c) == '[' ? address_literal(c) : domain(c)))
                return 501;
        } while (eat(c, ','));
        if (!eat(c, ':'))
            return 501;
    }
    const unsigned char *local = c->p;
    if (!local_part(c))
        return 501;
    size_t local_len = (size_t)(c->p - local);
    const unsigned char *dom = NULL;
    size_t dom_len = 0;
    if (eat(c, '@')) {
        dom = c->p;
        if (!(peek(c) == '[' ? address_literal(c) : domain(c)))
            return 501;
        dom_len = (size_t)(c->p - dom);
    } else if (!rcpt || local_len != 10 || strncasecmp((const char *)local, "postmaster", 10)) {
        *why = "address needs a domain";
        return 501;
    }
    if (!eat(c, '>'))
        return 501;
    if ((size_t)(c->p - inner) - 1 > KP_SMTP_PATH_MAX) {
        *why = "path too long";
        return 501;
    }
    memcpy(out, local, local_len);
    if (dom) {
        out[local_len] = '@';
        lower_copy(out + local_len + 1, dom, dom_len);
        out[local_len + 1 + dom_len] = '\0';
    } else {
        out[local_len] = '\0';
    }
    return 0;
}

/* A parameter keyword or value as parsed, not NUL-terminated. */
struct word {
    const char *s;
    size_t n;
};

static bool word_is(struct word w, const char *s)
{
    return w.n == strlen(s) && strncasecmp(w.s, s, w.n) == 0;
}

/* SIZE=digits; 0 or 501 (also on uint64 overflow). */
static int number(struct word w, uint64_t *out)
{
    uint64_t v = 0;
    if (w.n == 0)
        return 501;
    for (size_t i = 0; i < w.n; i++) {
        if (!is_digit(w.s[i]))
            return 501;
        unsigned d = (unsigned)(w.s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 501;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Mail-parameters (RFC 5321 4.1.2): esmtp-keyword ["=" esmtp-value], separated by spaces. */
static int params(struct cur *c, bool mail, struct kp_smtp_cmd *out, const char **why)
{
    while (!at_end(c)) {
        *why = "syntax error in parameters";
        if (skip_wsp(c) == 0)
            return 501; /* "<a@b>x" */
        struct word key = {(const char *)c->p, 0}, val = {NULL, 0};
        if (!is_alpha(peek(c)) && !is_digit(peek(c)))
            return 501;
        while (is_alpha(peek(c)) || is_digit(peek(c)) || peek(c) == '-')
            c->p++;
        key.n = (size_t)((const char *)c->p - key.s);
        if (eat(c, '=')) {
            val.s = (const char *)c->p;
            while (!at_end(c) && *c->p >= 33 && *c->p <= 126 && *c->p != '=')
                c->p++;
            val.n = (size_t)((const char *)c->p - val.s);
            if (val.n == 0)
                return 501;
        }
        if (!at_end(c) && *c->p != ' ' && *c->p != '\t')
            return 501;
        if (mail && word_is(key, "SIZE")) {
            *why = "SIZE needs a number of bytes";
            if (!val.s || number(val, &out->size))
                return 501;
        } else if (mail && word_is(key, "BODY")) {
            *why = "BODY must be 7BIT or 8BITMIME";
            if (val.s && word_is(val, "8BITMIME"))
                out->body_8bit = true;
            else if (val.s && word_is(val, "7BIT"))
                out->body_8bit = false;
            else
                return 501;
        } else if (mail && word_is(key, "SMTPUTF8")) {
            *why = "SMTPUTF8 takes no value";
            if (val.s)
                return 501;
            out->smtputf8 = true;
        } else {
            *why = "parameter not recognized";
            return 555;
        }
    }
    return 0;
}

/* MAIL FROM: / RCPT TO: with its path and parameters */
static int envelope(struct cur *c, bool rcpt, struct kp_smtp_cmd *out, const char **why)
{
    const char *kw = rcpt ? "TO:" : "FROM:";
    size_t n = strlen(kw);
    if ((size_t)(c->end - c->p) < n || strncasecmp((const char *)c->p, kw, n) != 0) {
        *why = rcpt ? "syntax: RCPT TO:<address>" : "syntax: MAIL FROM:<address>";
        return 501;
    }
    c->p += n;
    skip_wsp(c); /* "MAIL FROM: <a@b>", as many clients send it */
    int rc = path(c, rcpt, out->path, why);
    if (rc)
        return rc;
    return params(c, !rcpt, out, why);
}

/* True when every byte is printable ASCII or well-formed UTF-8 (HELO, VRFY, NOOP, HELP). */
static bool printable(struct cur c)
{
    while (!at_end(&c)) {
        if (*c.p >= 32 && *c.p < 127)
            c.p++;
        else if (*c.p == '\t')
            c.p++;
        else if (!eat_utf8(&c))
            return false;
    }
    return true;
}

static int argument(struct cur *c, enum arg_kind kind, struct kp_smtp_cmd *out, const char **why)
{
    switch (kind) {
    case ARG_NONE:
        *why = "this command takes no parameters";
        return at_end(c) ? 0 : 501;
    case ARG_REQUIRED: {
        /* the first word; some clients add more, which is ignored */
        struct cur word = *c;
        while (!at_end(&word) && *word.p != ' ' && *word.p != '\t')
            word.p++;
        word.end = word.p;
        word.p = c->p;
        size_t n = (size_t)(word.end - word.p);
        *why = "a domain name or address literal is required";
        if (n == 0 || !printable(word))
            return 501;
        *why = "domain name too long";
        if (n > KP_SMTP_PATH_MAX)
            return 501;
        memcpy(out->path, c->p, n);
        out->path[n] = '\0';
        return 0;
    }
    case ARG_OPTIONAL: {
        size_t n = (size_t)(c->end - c->p);
        *why = "syntax error in parameters";
        if (!printable(*c) || n > KP_SMTP_PATH_MAX)
            return 501;
        memcpy(out->path, c->p, n);
        out->path[n] = '\0';
        return 0;
    }
    case ARG_MAIL:
    case ARG_RCPT:
        return envelope(c, kind == ARG_RCPT, out, why);
    case ARG_BDAT: {
        struct word w = {(const char *)c->p, 0};
        while (is_digit(peek(c)))
            c->p++;
        w.n = (size_t)((const char *)c->p - w.s);
        *why = "syntax: BDAT <size> [LAST]";
        if (number(w, &out->size))
            return 501;
        if (at_end(c))
            return 0;
        if (skip_wsp(c) == 0 || (size_t)(c->end - c->p) != 4 ||
            strncasecmp((const char *)c->p, "LAST", 4) != 0)
            return 501;
        memcpy(out->path, "LAST", 5);
        return 0;
    }
    }
    return 501;
}

int kp_smtp_parse(const char *line, size_t len, struct kp_smtp_cmd *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    out->verb = KP_SMTP_UNKNOWN;
    if (len > KP_SMTP_LINE_MAX - 2) {
        *why = "line too long";
        return 500;
    }
    struct cur c = {(const unsigned char *)line, (const unsigned char *)line + len};
    while (c.end > c.p && (c.end[-1] == ' ' || c.end[-1] == '\t'))
        c.end--;
    const unsigned char *name = c.p;
    while (is_alpha(peek(&c)))
        c.p++;
    size_t name_len = (size_t)(c.p - name);
    *why = "command not recognized";
    if (!at_end(&c) && *c.p != ' ' && *c.p != '\t')
        return 500;
    for (size_t i = 0; i < KP_ARRAY_LEN(verbs); i++) {
        if (name_len == strlen(verbs[i].name) &&
            strncasecmp((const char *)name, verbs[i].name, name_len) == 0) {
            out->verb = verbs[i].verb;
            skip_wsp(&c);
            int rc = argument(&c, verbs[i].arg, out, why);
            if (rc) {
                /* the verb stays known, so that the session can answer in context */
                out->path[0] = '\0';
                out->size = 0;
                out->body_8bit = out->smtputf8 = false;
            }
            return rc;
        }
    }
    return 500;
}

/* --------------------------------------------------------------------------------------- */
/* DATA */

enum { D_BOL, D_MID, D_CR, D_DOT, D_DOTCR, D_END };

void kp_smtp_data_init(struct kp_smtp_data *d)
{
    d->state = D_BOL;
    d->total = 0;
}

static void put(struct kp_smtp_data *d, char ch, char *out, size_t out_cap, size_t *out_len)
{
    if (*out_len < out_cap)
        out[(*out_len)++] = ch;
    d->total++;
}

/* A byte inside a line (or starting one that is not a dot). */
static void mid(struct kp_smtp_data *d, char ch, char *out, size_t out_cap, size_t *out_len)
{
    if (ch == '\r') {
        d->state = D_CR;
    } else if (ch == '\n') {
        put(d, '\r', out, out_cap, out_len);
        put(d, '\n', out, out_cap, out_len);
        d->state = D_BOL;
    } else {
        put(d, ch, out, out_cap, out_len);
        d->state = D_MID;
    }
}

/*
 * *out_len is in/out: the bytes already in out on entry (appended after), updated on return.
 * After the end of data, further calls consume nothing and return 1.
 */
int kp_smtp_data_feed(struct kp_smtp_data *d, const char *in, size_t len, char *out, size_t out_cap,
                      size_t *out_len, size_t *used)
{
    size_t i = 0;
    while (i < len && d->state != D_END) {
        char ch = in[i++];
        switch (d->state) {
        case D_BOL:
            if (ch == '.')
                d->state = D_DOT;
            else
                mid(d, ch, out, out_cap, out_len);
            break;
        case D_CR:
            put(d, '\r', out, out_cap, out_len);
            if (ch == '\n') {
                put(d, '\n', out, out_cap, out_len);
                d->state = D_BOL;
            } else {
                mid(d, ch, out, out_cap, out_len); /* the held CR was bare: data */
            }
            break;
        case D_DOT:
            if (ch == '\r')
                d->state = D_DOTCR;
            else if (ch == '\n')
                d->state = D_END;
            else
                mid(d, ch, out, out_cap, out_len); /* the dot was stuffing */
            break;
        case D_DOTCR:
            if (ch == '\n') {
                d->state = D_END;
            } else {
                /* ".\rX": the dot was stuffing, the CR bare data */
                put(d, '\r', out, out_cap, out_len);
                mid(d, ch, out, out_cap, out_len);
            }
            break;
        default:
            mid(d, ch, out, out_cap, out_len);
            break;
        }
    }
    *used = i;
    return d->state == D_END;
}
