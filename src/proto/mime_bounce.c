/* SPDX-License-Identifier: MIT */
/*
 * mime_bounce.c - delivery status notifications: which mail bounced, for whom, and why.
 *
 * RFC 3464 reports carry it in fields (message/delivery-status):
 *
 *   Reporting-MTA: dns; mx.example.org        per message
 *
 *   Final-Recipient: rfc822; anna@example.org  per recipient, one block each
 *   Action: failed
 *   Status: 5.1.1
 *   Diagnostic-Code: smtp; 550 5.1.1 user unknown
 *
 * and the returned message (message/rfc822 or text/rfc822-headers) gives its Message-ID.
 * Older MTAs (qmail, Exim and Postfix without DSN, Exchange, many others) write only prose:
 * there the failure section (before the quoted original) is searched for the failed address,
 * a status code and the reason, and the quoted original for its Message-ID. Input is the
 * UTF-8 text mime.c has already made; output strings live in the arena.
 */
#include <strings.h>

#include "mime_int.h"
#include "../base/buf.h"

enum { MAX_ID = 998, MAX_ADDR = 320, MAX_SUBJECT_SCAN = 200 };

/* ---- small text helpers ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* s[0..n) with whitespace runs as one space, trimmed, cut to max bytes on a character;
 * NULL when empty. */
static const char *one_line(struct kp_arena *a, const char *s, size_t n, size_t max)
{
    char *out = kp_arena_alloc(a, n + 1);
    size_t k = 0;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        if (is_space(s[i]) || s[i] == '\0') {
            space = k > 0;
            continue;
        }
        if (space)
            out[k++] = ' ';
        space = false;
        out[k++] = s[i];
    }
    if (k > max) {
        k = max;
        while (k && ((unsigned char)out[k] & 0xc0) == 0x80)
            k--;
    }
    out[k] = '\0';
    return k ? out : NULL;
}

static const char *lower_dup(struct kp_arena *a, const char *s, size_t n)
{
    char *out = kp_arena_strndup(a, s, n);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

/* The first word of s[0..n), lowercase; NULL when none. */
static const char *lower_word(struct kp_arena *a, const char *s, size_t n)
{
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    size_t k = 0;
    while (k < n && !is_space(s[k]) && s[k] != ';' && k < 32)
        k++;
    return k ? lower_dup(a, s, k) : NULL;
}

/* "rfc822; <Anna@Example.org>" -> "anna@example.org": the value after its type, without <>;
 * NULL when it is not a mail address (an X.400 one, say). */
static const char *typed_address(struct kp_arena *a, const char *v, size_t n)
{
    const char *semi = memchr(v, ';', n);
    if (semi) {
        n -= (size_t)(semi + 1 - v);
        v = semi + 1;
    }
    while (n && (is_space(*v) || *v == '<')) {
        v++;
        n--;
    }
    while (n && (is_space(v[n - 1]) || v[n - 1] == '>'))
        n--;
    return n && n <= MAX_ADDR && memchr(v, '@', n) ? lower_dup(a, v, n) : NULL;
}

/* "smtp; 550 5.1.1 no such user" -> "550 5.1.1 no such user". */
static const char *typed_text(struct kp_arena *a, const char *v, size_t n)
{
    const char *semi = memchr(v, ';', n);
    if (semi && semi - v < 20) {
        n -= (size_t)(semi + 1 - v);
        v = semi + 1;
    }
    return one_line(a, v, n, KP_MIME_MAX_REASON);
}

/* The first d.d.d status code in s[0..n) whose class is 4 or 5 (or any class when any),
 * as a string; NULL when none. */
static const char *find_enhanced_status(struct kp_arena *a, const char *s, size_t n, bool any)
{
    for (size_t i = 0; i + 5 <= n; i++) {
        if ((i && (is_digit(s[i - 1]) || s[i - 1] == '.')) || s[i + 1] != '.')
            continue;
        if (!(s[i] == '4' || s[i] == '5' || (any && is_digit(s[i]))))
            continue;
        size_t j = i + 2, d1 = 0, d2 = 0;
        while (j < n && is_digit(s[j]) && d1 < 3)
            j++, d1++;
        if (!d1 || j >= n || s[j] != '.')
            continue;
        j++;
        while (j < n && is_digit(s[j]) && d2 < 3)
            j++, d2++;
        if (!d2 || (j < n && (is_digit(s[j]) || s[j] == '.')))
            continue;
        return kp_arena_strndup(a, s + i, j - i);
    }
    return NULL;
}

/* The first SMTP reply code 4xx/5xx standing alone ("550 ", "550-", "#550"), else NULL. */
static const char *find_smtp_code(struct kp_arena *a, const char *s, size_t n, size_t *at)
{
    for (size_t i = 0; i + 4 <= n; i++) {
        if (!(s[i] == '4' || s[i] == '5') || !is_digit(s[i + 1]) || !is_digit(s[i + 2]))
            continue;
        if (i && !(is_space(s[i - 1]) || s[i - 1] == '#' || s[i - 1] == '(' || s[i - 1] == ':'))
            continue;
        if (s[i + 3] != ' ' && s[i + 3] != '-')
            continue;
        *at = i;
        return kp_arena_strndup(a, s + i, 3);
    }
    return NULL;
}

/* ---- RFC 3464 ---- */

struct rcpt {
    const char *recipient, *original, *action, *status, *diagnostic;
};

/* "delivered", "relayed", "expanded": the report says the mail arrived. */
static bool action_is_success(const char *action)
{
    return action && (strcmp(action, "delivered") == 0 || strcmp(action, "relayed") == 0 ||
                      strcmp(action, "expanded") == 0);
}

/* Failures first ("failed", but also the "failure" and "error" some MTAs write), then
 * delays, then the rest. */
static int rcpt_rank(const struct rcpt *r)
{
    if (!r->recipient && !r->original && !r->action)
        return 0;
    if (!r->action || action_is_success(r->action))
        return 1;
    return strcmp(r->action, "delayed") == 0 ? 2 : 3;
}

static void rcpt_field(struct rcpt *r, const char *name, size_t nlen, const char *v, size_t n,
                       struct kp_arena *a)
{
#define IS(f) (nlen == strlen(f) && strncasecmp(name, f, nlen) == 0)
    if (IS("final-recipient"))
        r->recipient = typed_address(a, v, n);
    else if (IS("original-recipient"))
        r->original = typed_address(a, v, n);
    else if (IS("action"))
        r->action = lower_word(a, v, n);
    else if (IS("status")) {
        size_t at;
        r->status = find_enhanced_status(a, v, n, true);
        if (!r->status)
            r->status = find_smtp_code(a, v, n, &at);
    } else if (IS("diagnostic-code"))
        r->diagnostic = typed_text(a, v, n);
#undef IS
}

/* Unfolds the next field of s[*pos..n): its name and value; a blank line ends a block. */
static bool next_field(const char *s, size_t n, size_t *pos, struct kp_buf *value,
                       const char **name, size_t *nlen, bool *block_end)
{
    *block_end = false;
    kp_buf_reset(value);
    while (*pos < n) {
        const char *line = s + *pos;
        const char *nl = memchr(line, '\n', n - *pos);
        size_t len = nl ? (size_t)(nl - line) : n - *pos;
        *pos += len + (nl != NULL);
        while (len && is_space(line[len - 1]))
            len--;
        if (len == 0) {
            *block_end = true;
            return false;
        }
        const char *colon = memchr(line, ':', len);
        if (!colon || is_space(line[0]))
            continue; /* a stray continuation line */
        *name = line;
        *nlen = (size_t)(colon - line);
        kp_buf_append(value, colon + 1, len - *nlen - 1);
        while (*pos < n && (s[*pos] == ' ' || s[*pos] == '\t')) {
            const char *cont = s + *pos;
            const char *cnl = memchr(cont, '\n', n - *pos);
            size_t clen = cnl ? (size_t)(cnl - cont) : n - *pos;
            size_t k = 0;
            while (k < clen && is_space(cont[k]))
                k++;
            if (k == clen)
                break; /* a line of spaces: a blank line */
            *pos += clen + (cnl != NULL);
            kp_buf_append(value, " ", 1);
            kp_buf_append(value, cont, clen);
        }
        return true;
    }
    return false;
}

void kp_mime_bounce_read_dsn(struct kp_mime_bounce *b, const char *s, size_t n, struct kp_arena *a)
{
    if (b->dsn)
        return; /* the first report counts */
    b->dsn = true;
    struct rcpt best = {0}, cur = {0};
    int best_rank = 0;
    struct kp_buf value;
    kp_buf_init(&value, 64 << 10);
    size_t pos = 0;
    for (;;) {
        const char *name;
        size_t nlen;
        bool block_end;
        bool got = next_field(s, n, &pos, &value, &name, &nlen, &block_end);
        if (got)
            rcpt_field(&cur, name, nlen, value.data ? value.data : "", value.len, a);
        if (!got) {
            int rank = rcpt_rank(&cur);
            if (rank > best_rank) {
                best = cur;
                best_rank = rank;
            }
            memset(&cur, 0, sizeof(cur));
            if (!block_end)
                break;
        }
    }
    kp_buf_release(&value);
    /* the address as it was written to, before forwarding rewrote it */
    b->recipient = best.original ? best.original : best.recipient;
    b->action = best.action;
    b->status = best.status;
    b->diagnostic = best.diagnostic;
}

/* ---- Message-ID in quoted headers ---- */

static const char *id_from_value(struct kp_arena *a, const char *v, size_t n)
{
    while (n && is_space(*v)) {
        v++;
        n--;
    }
    const char *lt = memchr(v, '<', n);
    if (lt) {
        n -= (size_t)(lt + 1 - v);
        v = lt + 1;
        const char *gt = memchr(v, '>', n);
        if (gt)
            n = (size_t)(gt - v);
    }
    size_t k = 0;
    while (k < n && (unsigned char)v[k] > ' ' && v[k] != '>' && v[k] != '<')
        k++;
    return k && k <= MAX_ID ? kp_arena_strndup(a, v, k) : NULL;
}

const char *kp_mime_bounce_find_message_id(const char *s, size_t n, struct kp_arena *a)
{
    static const char key[] = "message-id:";
    size_t klen = sizeof(key) - 1;
    size_t pos = 0;
    while (pos < n) {
        const char *line = s + pos;
        const char *nl = memchr(line, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - line) : n - pos;
        pos += len + (nl != NULL);
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '>'))
            i++;
        if (len - i < klen || strncasecmp(line + i, key, klen) != 0)
            continue;
        const char *v = line + i + klen;
        size_t vlen = len - i - klen;
        const char *id = id_from_value(a, v, vlen);
        if (!id && pos < n) { /* folded: the id on the next line */
            const char *next = s + pos;
            const char *nnl = memchr(next, '\n', n - pos);
            id = id_from_value(a, next, nnl ? (size_t)(nnl - next) : n - pos);
        }
        if (id)
            return id;
    }
    return NULL;
}

/* ---- prose bounces ---- */

static bool contains_any(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasestr(s, words[i]))
            return true;
    return false;
}

static bool subject_says_bounce(const char *subject)
{
    static const char *const words[] = {
        "undeliver",
        "delivery status notification",
        "delivery failure",
        "failure notice",
        "mail delivery failed",
        "delivery failed",
        "returned mail",
        "returning to sender",
        "returned to sender",
        "not delivered",
        "could not be delivered",
        "non-deliver",
        "nondeliver",
        "delivery notification",
        "delivery report",
        "delivery problem",
        "could not send message",
        "mail system error",
        "delivery delayed",
        "delayed mail",
        "mail failed",
        "failed mail",
        "mail failure",
        "user unknown",
        "rejected mail",
        "warning: message",
        "delivery warning",
        "unzustellbar",
        "nicht zustellbar",
        "non remis",
        "non distribuable",
    };
    char head[MAX_SUBJECT_SCAN + 1];
    snprintf(head, sizeof(head), "%s", subject ? subject : "");
    return contains_any(head, words, KP_ARRAY_LEN(words));
}

/* 2: wording only delivery software uses; 1: wording a person might use too; 0: neither. */
static int bounce_wording(const char *text)
{
    static const char *const strong[] = {
        "qmail-send program",
        "following address(es) failed",
        "could not be delivered to one or more",
        "could not be delivered to the following",
        "delivery has failed to these recipients",
        "did not reach the following recipient",
        "i'm sorry to have to inform you that your message",
        "this is a permanent error",
        "this is a warning only",
        "delivery to the following recipient",
        "has not yet been delivered to one or more",
        "recipient address rejected",
        "the recipient name is not recognized",
        "failed addresses follow",
        "transcript of session follows",
        "delivery status notification",
        "was automatically rejected",
        "your message was not delivered to",
        "user unknown",
        "no such user",
        "mailbox unavailable",
        "mailbox is full",
        "quota exceeded",
        "unknown user",
        "intended recipient",
        "message was undeliverable",
        "delivered to the following address",
    };
    static const char *const weak[] = {
        "could not be delivered",
        "couldn't be delivered",
        "was not delivered",
        "undeliverable",
        "undelivered",
        "unable to deliver",
        "delivery failed",
        "failed permanently",
        "returned to sender",
        "could not deliver",
        "does not exist",
        "has been returned",
        "permanent error",
        "not yet been delivered",
        "will keep trying",
        "will continue to try",
        "has been postponed",
        "nicht zugestellt",
        "konnte nicht zugestellt",
        "n'a pas pu",
        "\xe6\x97\xa0\xe6\xb3\x95\xe9\x80\x81\xe8\xbe\xbe",
    };
    if (contains_any(text, strong, KP_ARRAY_LEN(strong)))
        return 2;
    return contains_any(text, weak, KP_ARRAY_LEN(weak)) ? 1 : 0;
}

/* A sender address that delivery software uses ("MAILER-DAEMON", "mail.delivery.system"). */
static bool sender_looks_automatic(const char *addr)
{
    static const char *const words[] = {"daemon", "postmaster", "mailer", "bounce", "delivery"};
    if (!addr)
        return false;
    size_t local = strcspn(addr, "@");
    char head[65];
    snprintf(head, sizeof(head), "%.*s", (int)(local < 64 ? local : 64), addr);
    return contains_any(head, words, KP_ARRAY_LEN(words));
}

static bool text_says_delay(const char *s)
{
    static const char *const words[] = {
        "this is a warning only", "not yet been delivered",
        "will keep trying",       "will continue to try",
        "delivery delayed",       "delayed delivery",
        "still trying",           "will retry",
        "has been delayed",
    };
    return contains_any(s, words, KP_ARRAY_LEN(words));
}

/* The start of the line that holds s[at]. */
static size_t line_start(const char *s, size_t at)
{
    while (at && s[at - 1] != '\n')
        at--;
    return at;
}

/* Where the quoted original starts: the failure section ends there. */
static size_t failure_section_end(const char *t)
{
    static const char *const markers[] = {
        "below this line is a copy of the message",
        "this is a copy of the message",
        "---------- original message ----------",
        "---------- forwarded message ----------",
        "----- original message -----",
        "original message headers:",
        "the header of the original message",
        "original message follows",
        "returned mail follows",
        "\nreturn-path:",
        "\nreceived: from",
    };
    size_t end = strlen(t);
    for (size_t i = 0; i < KP_ARRAY_LEN(markers); i++) {
        const char *p = strcasestr(t, markers[i]);
        while (p && p > t && (p[-1] == '-' || p[-1] == ' '))
            p--; /* "--- Below this line ..." */
        if (p && (size_t)(p - t) < end)
            end = (size_t)(p - t);
    }
    return end;
}

static bool is_addr_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           (c && strchr("._%+-=", c) != NULL) || (unsigned char)c >= 0x80;
}

/* A line that quotes a header of the original ("  To: anna@example.org"): its addresses are
 * the original's sender and recipients as written, not the one that failed. */
static bool is_quoted_header_line(const char *line)
{
    static const char *const names[] = {
        "from:",       "to:",      "cc:",   "sender:",    "reply-to:", "return-path:",
        "message-id:", "subject:", "date:", "errors-to:", "sent:",     "received:"};
    while (*line == ' ' || *line == '\t' || *line == '>')
        line++;
    for (size_t i = 0; i < KP_ARRAY_LEN(names); i++)
        if (strncasecmp(line, names[i], strlen(names[i])) == 0)
            return true;
    return false;
}

/* The first address in s[0..n) that is not the bounce's own (daemon, the mail's From or
 * To) nor in a quoted header line; its end offset in *end. */
static const char *find_failed_address(struct kp_arena *a, const char *s, size_t n,
                                       const struct kp_mail *m, size_t *end)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '@')
            continue;
        size_t st = i, en = i + 1;
        while (st > 0 && is_addr_char(s[st - 1]))
            st--;
        while (en < n && is_addr_char(s[en]))
            en++;
        while (en > i + 1 && (s[en - 1] == '.' || s[en - 1] == '-'))
            en--;
        if (en - st > 5 && strncasecmp(s + st, "smtp=", 5) == 0)
            st += 5; /* Exchange's "dda:SMTP=anna@example.org" */
        if (st == i || en == i + 1 || !memchr(s + i, '.', en - i) || en - st > MAX_ADDR)
            continue;
        if (is_quoted_header_line(s + line_start(s, st)))
            continue;
        const char *addr = lower_dup(a, s + st, en - st);
        size_t local = i - st;
        bool daemon = (local == 13 && strncmp(addr, "mailer-daemon", 13) == 0) ||
                      (local == 10 && strncmp(addr, "postmaster", 10) == 0);
        bool own =
            (m->from_addr && strcmp(addr, m->from_addr) == 0) || (m->to && strcasestr(m->to, addr));
        if (daemon || own)
            continue;
        *end = en;
        return addr;
    }
    return NULL;
}

/* The paragraph that starts at s[from] or after it (lines up to a blank one), as one line;
 * a leading ">:" or "(address)" left from the recipient's line is skipped. */
static const char *paragraph_at(struct kp_arena *a, const char *s, size_t n, size_t from)
{
    while (from < n && (s[from] == '>' || s[from] == ':' || s[from] == ' ' || s[from] == '\t' ||
                        s[from] == '"' || s[from] == ';'))
        from++;
    if (from < n && s[from] == '(') {
        const char *close = memchr(s + from, ')', n - from);
        const char *nl = memchr(s + from, '\n', n - from);
        if (close && (!nl || close < nl))
            from = (size_t)(close - s) + 1;
    }
    while (from < n && is_space(s[from]))
        from++; /* the reason may stand a blank line below the address */
    const char *blank = NULL;
    for (size_t i = from; i + 1 < n; i++)
        if (s[i] == '\n' && s[i + 1] == '\n') {
            blank = s + i;
            break;
        }
    size_t len = blank ? (size_t)(blank - (s + from)) : n - from;
    return one_line(a, s + from, len, KP_MIME_MAX_REASON);
}

/* The reason: what follows the failed address, else the paragraph with the status code. */
static const char *find_reason(struct kp_arena *a, const char *t, size_t n, const char *rcpt,
                               size_t rcpt_end, const char *code, size_t code_at)
{
    const char *reason = NULL;
    if (rcpt && !rcpt_end) {
        const char *at = strcasestr(t, rcpt);
        if (at && (size_t)(at - t) < n)
            rcpt_end = (size_t)(at - t) + strlen(rcpt);
    }
    if (rcpt_end)
        reason = paragraph_at(a, t, n, rcpt_end);
    if (!reason && code)
        reason = paragraph_at(a, t, n, line_start(t, code_at));
    return reason;
}

/* Fills the bounce fields that are still NULL from the prose of m->text. */
static void from_prose(struct kp_mail *m, struct kp_arena *a)
{
    const char *t = m->text ? m->text : "";
    size_t n = failure_section_end(t);
    size_t rcpt_end = 0, code_at = 0;
    if (!m->bounce_recipient)
        m->bounce_recipient = find_failed_address(a, t, n, m, &rcpt_end);
    const char *code = find_smtp_code(a, t, n, &code_at);
    if (!m->bounce_status)
        m->bounce_status = find_enhanced_status(a, t, n, false);
    if (!m->bounce_status)
        m->bounce_status = code;
    if (!m->bounce_reason)
        m->bounce_reason = find_reason(a, t, n, m->bounce_recipient, rcpt_end, code, code_at);
    if (!m->bounce_message_id) {
        const char *rest = t + n;
        m->bounce_message_id = kp_mime_bounce_find_message_id(rest, strlen(rest), a);
    }
    if (!m->bounce_message_id)
        m->bounce_message_id = kp_mime_bounce_find_message_id(t, n, a);
}

static bool prose_is_bounce(const struct kp_mail *m)
{
    bool daemon = m->flags & KP_MAIL_DAEMON;
    bool automatic = daemon || (m->flags & KP_MAIL_AUTO) || !m->from_addr ||
                     sender_looks_automatic(m->from_addr);
    bool subject = subject_says_bounce(m->subject);
    if (!subject && !automatic)
        return false; /* a person's mail: no need to read all of it for bounce wording */
    int wording = bounce_wording(m->text ? m->text : "");
    if (daemon && (subject || wording))
        return true;
    if (wording == 2 && (subject || automatic))
        return true;
    return subject && wording && automatic;
}

void kp_mime_bounce_finish(const struct kp_mime_bounce *b, struct kp_mail *m, struct kp_arena *a)
{
    if (b->dsn && action_is_success(b->action)) {
        m->flags |= KP_MAIL_AUTO; /* a delivery (not failure) notice */
        return;
    }
    bool report = b->report || b->dsn;
    if (!report && !prose_is_bounce(m))
        return;
    m->flags |= KP_MAIL_BOUNCE | KP_MAIL_AUTO;
    if (report) {
        m->bounce_recipient = b->recipient;
        m->bounce_status = b->status;
        m->bounce_reason = b->diagnostic;
    }
    m->bounce_message_id = b->message_id; /* an attached original is surer than quoted text */
    from_prose(m, a);
    const char *t = m->text ? m->text : "";
    char *section = kp_arena_strndup(a, t, failure_section_end(t));
    if (b->action && strcmp(b->action, "delayed") == 0)
        m->bounce_permanent = false;
    else if (b->action)
        m->bounce_permanent = true;
    else
        m->bounce_permanent =
            !(text_says_delay(section) || (m->bounce_status && m->bounce_status[0] == '4'));
}
