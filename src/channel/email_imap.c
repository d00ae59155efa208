/* SPDX-License-Identifier: MIT */
/*
 * email_imap.c - the IMAP fetcher (see email_imap.h). One poll of one inbox runs as:
 * fetch (worker pool: connect, EXAMINE, UID FETCH ... BODY.PEEK[], parse each mail), store
 * (writer: every mail and the new position in one transaction), mark (worker pool: SELECT,
 * UID STORE/MOVE/EXPUNGE). A mailbox with more waiting is polled again at once.
 */
#include "email_imap.h"
#include "email.h"
#include "../api/metrics.h"
#include "../base/buf.h"
#include "../base/clock.h"
#include "../base/log.h"

#include <curl/curl.h>
#include <poll.h>

enum { TICK_MS = 500, REFRESH_MS = 1000, PARALLEL = 2, LINE_MAX_BYTES = 65536 };

/* ---- a small IMAP session over libcurl's connection ---- */

struct imap {
    CURL *curl;
    uint64_t deadline; /* uv_hrtime() by which the current command must be answered */
    curl_socket_t fd;
    char in[16384];
    size_t in_len, in_off;
    unsigned tag;
    char error[300];
};

/* A response: its untagged lines (with literals inline) until the tagged completion. */
struct imap_reply {
    struct kp_buf text; /* untagged lines, CRLF separated; literals as {n}\r\n + n bytes */
    char status[8];     /* OK, NO, BAD */
    char line[256];     /* the completion line's text */
};

static int imap_fill(struct imap *m)
{
    if (m->in_off == m->in_len)
        m->in_off = m->in_len = 0;
    for (;;) {
        size_t n = 0;
        CURLcode rc = curl_easy_recv(m->curl, m->in + m->in_len, sizeof(m->in) - m->in_len, &n);
        if (rc == CURLE_OK && n > 0) {
            m->in_len += n;
            return 0;
        }
        if (rc != CURLE_AGAIN) {
            snprintf(m->error, sizeof(m->error), "the IMAP server closed the connection");
            return KP_EIO;
        }
        struct pollfd p = {.fd = m->fd, .events = POLLIN};
        if (uv_hrtime() > m->deadline || poll(&p, 1, KP_IMAP_TIMEOUT_MS) <= 0) {
            snprintf(m->error, sizeof(m->error), "the IMAP server did not answer");
            return KP_EIO;
        }
    }
}

/* Appends the bytes up to and including the next LF to out. */
static int imap_read_line(struct imap *m, struct kp_buf *out, size_t *start)
{
    *start = out->len;
    for (;;) {
        if (m->in_off == m->in_len && imap_fill(m))
            return KP_EIO;
        char *lf = memchr(m->in + m->in_off, '\n', m->in_len - m->in_off);
        size_t take = lf ? (size_t)(lf - (m->in + m->in_off)) + 1 : m->in_len - m->in_off;
        if (out->len - *start + take > LINE_MAX_BYTES ||
            kp_buf_append(out, m->in + m->in_off, take)) {
            snprintf(m->error, sizeof(m->error), "an IMAP answer line is too long");
            return KP_ETOOBIG;
        }
        m->in_off += take;
        if (lf)
            return 0;
    }
}

static int imap_read_bytes(struct imap *m, struct kp_buf *out, size_t n)
{
    while (n > 0) {
        if (m->in_off == m->in_len && imap_fill(m))
            return KP_EIO;
        size_t have = m->in_len - m->in_off, take = have < n ? have : n;
        if (kp_buf_append(out, m->in + m->in_off, take))
            return KP_ETOOBIG;
        m->in_off += take;
        n -= take;
    }
    return 0;
}

static int imap_send(struct imap *m, const char *text, size_t len)
{
    while (len > 0) {
        size_t sent = 0;
        CURLcode rc = curl_easy_send(m->curl, text, len, &sent);
        if (rc == CURLE_AGAIN) {
            struct pollfd p = {.fd = m->fd, .events = POLLOUT};
            if (poll(&p, 1, KP_IMAP_TIMEOUT_MS) <= 0)
                return KP_EIO;
            continue;
        }
        if (rc != CURLE_OK)
            return KP_EIO;
        text += sent;
        len -= sent;
    }
    return 0;
}

/* Sends one command and reads its whole response into r (released by the caller). */
static int imap_cmd(struct imap *m, struct imap_reply *r, const char *fmt, ...) KP_PRINTF(3, 4);
static int imap_cmd(struct imap *m, struct imap_reply *r, const char *fmt, ...)
{
    kp_buf_init(&r->text, KP_IMAP_MAIL_MAX * 2);
    r->status[0] = r->line[0] = '\0';
    char tag[16];
    snprintf(tag, sizeof(tag), "K%u", ++m->tag);
    m->deadline = uv_hrtime() + (uint64_t)KP_IMAP_COMMAND_MAX_S * 1000000000u;
    /* UID sets can be long: the command is built in a buffer of its own */
    struct kp_buf cmd;
    kp_buf_init(&cmd, 1 << 20);
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int body_len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t body_cap = body_len > 0 ? (size_t)body_len + 1 : 1;
    char *body = kp_xmalloc(body_cap);
    vsnprintf(body, body_cap, fmt, again);
    va_end(again);
    int rc = kp_buf_printf(&cmd, "%s %s\r\n", tag, body);
    free(body);
    if (rc) {
        kp_buf_release(&cmd);
        snprintf(m->error, sizeof(m->error), "an IMAP command would be too long");
        return KP_ETOOBIG;
    }
    rc = imap_send(m, cmd.data, cmd.len);
    kp_buf_release(&cmd);
    if (rc) {
        snprintf(m->error, sizeof(m->error), "cannot send to the IMAP server");
        return KP_EIO;
    }
    size_t tag_len = strlen(tag);
    for (;;) {
        size_t start;
        rc = imap_read_line(m, &r->text, &start);
        if (rc)
            return rc;
        const char *line = r->text.data + start;
        size_t len = r->text.len - start;
        if (len > tag_len && memcmp(line, tag, tag_len) == 0 && line[tag_len] == ' ') {
            sscanf(line + tag_len + 1, "%7s", r->status);
            snprintf(r->line, sizeof(r->line), "%.*s", (int)(len - tag_len - 1),
                     line + tag_len + 1);
            r->text.len = start;
            if (strcmp(r->status, "OK") != 0) {
                snprintf(m->error, sizeof(m->error), "IMAP server: %s", r->line);
                return KP_EIO;
            }
            return 0;
        }
        /* a line ending in {n} announces n bytes of literal data */
        size_t e = len;
        while (e > 0 && (line[e - 1] == '\n' || line[e - 1] == '\r'))
            e--;
        if (e > 2 && line[e - 1] == '}') {
            size_t b = e - 1;
            while (b > 0 && line[b - 1] >= '0' && line[b - 1] <= '9')
                b--;
            if (b > 0 && line[b - 1] == '{' && b < e - 1) {
                unsigned long long lit = strtoull(line + b, NULL, 10);
                if (lit > KP_IMAP_MAIL_MAX) {
                    snprintf(m->error, sizeof(m->error), "a mail is larger than %d bytes",
                             KP_IMAP_MAIL_MAX);
                    return KP_ETOOBIG;
                }
                if ((rc = imap_read_bytes(m, &r->text, (size_t)lit)))
                    return rc;
            }
        }
    }
}

static void reply_release(struct imap_reply *r)
{
    kp_buf_release(&r->text);
}

static void imap_close(struct imap *m)
{
    if (m->curl) {
        struct imap_reply r;
        if (m->fd != CURL_SOCKET_BAD) {
            imap_cmd(m, &r, "LOGOUT");
            reply_release(&r);
        }
        curl_easy_cleanup(m->curl);
        m->curl = NULL;
    }
}

/* Connects and logs in (libcurl), to "imap://host:port" of box's imap_url; *folder receives the
 * mailbox name from the URL's path ("INBOX" when none). */
static int imap_open(struct imap *m, const struct kp_mail_inbox *box, const char *ca_file,
                     char *folder, size_t cap)
{
    memset(m, 0, sizeof(*m));
    m->fd = CURL_SOCKET_BAD;
    const char *rest = strstr(box->imap_url, "://");
    const char *slash = rest ? strchr(rest + 3, '/') : NULL;
    char server[KP_MAIL_URL_MAX + 1];
    snprintf(server, sizeof(server), "%.*s/",
             (int)(slash ? (size_t)(slash - box->imap_url) : strlen(box->imap_url)), box->imap_url);
    char *name = slash && slash[1] ? curl_easy_unescape(NULL, slash + 1, 0, NULL) : NULL;
    snprintf(folder, cap, "%s", name && name[0] ? name : "INBOX");
    curl_free(name);
    m->curl = curl_easy_init();
    if (!m->curl)
        return KP_ENOMEM;
    curl_easy_setopt(m->curl, CURLOPT_URL, server);
    curl_easy_setopt(m->curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(m->curl, CURLOPT_USE_SSL, kp_email_tls(box->imap_url, box->imap_user[0]));
    if (ca_file && ca_file[0])
        curl_easy_setopt(m->curl, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(m->curl, CURLOPT_USERNAME, box->imap_user);
    curl_easy_setopt(m->curl, CURLOPT_PASSWORD, box->imap_password);
    curl_easy_setopt(m->curl, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(m->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(m->curl, CURLOPT_NOSIGNAL, 1L);
    char err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(m->curl, CURLOPT_ERRORBUFFER, err);
    CURLcode rc = curl_easy_perform(m->curl);
    if (rc == CURLE_OK)
        rc = curl_easy_getinfo(m->curl, CURLINFO_ACTIVESOCKET, &m->fd);
    if (rc != CURLE_OK || m->fd == CURL_SOCKET_BAD) {
        snprintf(m->error, sizeof(m->error), "cannot log in to %.120s: %.150s", server,
                 err[0] ? err : curl_easy_strerror(rc));
        curl_easy_cleanup(m->curl);
        m->curl = NULL;
        return KP_EIO;
    }
    return 0;
}

/* A mailbox name as an IMAP quoted string. */
static void quote(char *out, size_t cap, const char *name)
{
    size_t o = 0;
    out[o++] = '"';
    for (const char *p = name; *p && o + 3 < cap; p++) {
        if (*p == '"' || *p == '\\')
            out[o++] = '\\';
        if ((unsigned char)*p >= 0x20)
            out[o++] = *p;
    }
    out[o++] = '"';
    out[o] = '\0';
}

static int64_t response_code(const struct kp_buf *text, const char *name)
{
    char key[32];
    snprintf(key, sizeof(key), "[%s ", name);
    const char *p = text->len ? strstr(text->data, key) : NULL;
    return p ? strtoll(p + strlen(key), NULL, 10) : 0;
}

/* ---- one poll ---- */

struct fetched {
    int64_t uid;
    char *raw;
    size_t len;
    struct kp_email_in in;
};

struct poll_run {
    struct kp_email_fetcher *owner;
    struct imap imap; /* the session of the fetch, kept for the marking */
    struct kp_mail_inbox box;
    char folder[KP_MAIL_URL_MAX + 1];
    int64_t uidvalidity, last_uid;
    struct fetched *mails;
    size_t n;
    bool more;         /* mails beyond this batch wait */
    bool mark_pending; /* an earlier marking may have failed: mark every imported UID */
    char error[300];
    uv_work_t work;
    struct kp_writer_job job;
    int store_rc;
    bool mark_ran, mark_failed;
};

struct inbox_state {
    int64_t inbox_id;
    int64_t next_ms;
    bool running;
    bool mark_pending; /* imported mails may be unmarked on the server (at start: unknown) */
};

struct kp_email_fetcher {
    struct kp_api *api;
    const char *ca_file;
    uv_timer_t timer;
    bool stopping;
    struct inbox_state boxes[KP_IMAP_INBOXES];
    size_t n_boxes, running;
    int64_t refreshed_ms;
};

/* The number after key ("UID ", "RFC822.SIZE ") within [a, b), -1 when it is not there. */
static int64_t item_value(const char *a, const char *b, const char *key)
{
    size_t k = strlen(key);
    const char *p = b - a >= (ptrdiff_t)k ? memmem(a, (size_t)(b - a), key, k) : NULL;
    return p ? strtoll(p + k, NULL, 10) : -1;
}

/* From "* n FETCH (UID u RFC822.SIZE s)" lines: the UIDs above last_uid (ascending, as servers
 * answer) that make the next batch - at most KP_IMAP_BATCH mails, and the bytes of
 * KP_IMAP_BATCH_BYTES (at least one mail); *more when others wait; *skipped: the highest UID
 * of a mail larger than KP_IMAP_MAIL_MAX passed over (stays 0 when none). */
static size_t pick_batch(const struct kp_buf *text, int64_t last_uid, int64_t *uids, bool *more,
                         int64_t *skipped)
{
    size_t n = 0, bytes = 0;
    const char *p = text->data, *end = text->data + text->len;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        int64_t uid = item_value(p, line_end, "UID "), size = item_value(p, line_end, "SIZE ");
        p = eol ? eol + 1 : NULL;
        if (uid <= last_uid)
            continue;
        if (size > KP_IMAP_MAIL_MAX) {
            /* never fetched (it would end the session every time), so it does not hold up
             * the mails after it; it stays on the server */
            *skipped = uid > *skipped ? uid : *skipped;
            continue;
        }
        if (n == KP_IMAP_BATCH ||
            (n > 0 && bytes + (size_t)(size > 0 ? size : 0) > KP_IMAP_BATCH_BYTES)) {
            *more = true;
            break;
        }
        bytes += (size_t)(size > 0 ? size : 0);
        size_t i = n++;
        while (i > 0 && uids[i - 1] > uid) {
            uids[i] = uids[i - 1];
            i--;
        }
        uids[i] = uid;
    }
    return n;
}

/* Walks "* n FETCH (UID u BODY[] {len}\r\n<len bytes>)\r\n" answers (the UID may also follow
 * the literal) into out[], copying each mail; returns how many. */
static size_t take_bodies(const struct kp_buf *text, struct fetched *out, size_t cap)
{
    size_t n = 0;
    const char *p = text->data, *end = text->data + text->len;
    while (p && p < end && n < cap) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        const char *body = memmem(p, (size_t)(eol - p), "BODY[] {", 8);
        if (!body) {
            p = eol + 1;
            continue;
        }
        size_t len = (size_t)strtoull(body + 8, NULL, 10);
        const char *data = eol + 1;
        if (len > (size_t)(end - data))
            break;
        const char *tail = data + len, *tail_eol = memchr(tail, '\n', (size_t)(end - tail));
        if (!tail_eol)
            tail_eol = end;
        int64_t uid = item_value(p, body, "UID ");
        if (uid < 0)
            uid = item_value(tail, tail_eol, "UID ");
        if (uid > 0) {
            struct fetched *f = &out[n++];
            f->uid = uid;
            f->raw = kp_xmalloc(len + 1);
            memcpy(f->raw, data, len);
            f->len = len;
        }
        p = tail_eol < end ? tail_eol + 1 : NULL;
    }
    return n;
}

/* Reads the next batch read-only; the session stays open in p->imap for the marking. */
static void fetch_work(uv_work_t *w)
{
    struct poll_run *p = w->data;
    struct imap *m = &p->imap;
    if (imap_open(m, &p->box, p->owner->ca_file, p->folder, sizeof(p->folder))) {
        snprintf(p->error, sizeof(p->error), "%s", m->error);
        return;
    }
    char q[2 * KP_MAIL_URL_MAX + 3];
    quote(q, sizeof(q), p->folder);
    struct imap_reply r;
    int rc = imap_cmd(m, &r, "EXAMINE %s", q);
    int64_t validity = rc ? 0 : response_code(&r.text, "UIDVALIDITY");
    reply_release(&r);
    p->last_uid = validity == p->box.imap_uidvalidity ? p->box.imap_last_uid : 0;
    p->uidvalidity = validity;
    int64_t uids[KP_IMAP_BATCH], skipped = 0;
    size_t n = 0;
    if (!rc) {
        rc = imap_cmd(m, &r, "UID FETCH %lld:* (UID RFC822.SIZE)", (long long)p->last_uid + 1);
        if (!rc)
            n = pick_batch(&r.text, p->last_uid, uids, &p->more, &skipped);
        reply_release(&r);
    }
    if (skipped)
        kp_log_warn("inbox %lld: a mail in the IMAP mailbox is larger than %d bytes and is left "
                    "there (UID %lld)",
                    (long long)p->box.inbox_id, KP_IMAP_MAIL_MAX, (long long)skipped);
    p->mails = kp_xcalloc(n + 1, sizeof(*p->mails));
    if (!rc && n) {
        struct kp_buf set;
        kp_buf_init(&set, 0);
        for (size_t i = 0; i < n; i++)
            kp_buf_printf(&set, "%s%lld", i ? "," : "", (long long)uids[i]);
        rc = imap_cmd(m, &r, "UID FETCH %s (UID BODY.PEEK[])", set.data);
        kp_buf_release(&set);
        if (!rc)
            p->n = take_bodies(&r.text, p->mails, n);
        reply_release(&r);
    }
    for (size_t i = 0; !rc && i < p->n; i++)
        kp_email_prepare(&p->mails[i].in, p->box.inbox_id, NULL, p->mails[i].raw, p->mails[i].len);
    if (!rc && n)
        p->last_uid = uids[n - 1]; /* those not answered, too: they were deleted meanwhile */
    if (!rc && skipped > p->last_uid && !p->more)
        p->last_uid = skipped;
    if (rc) {
        snprintf(p->error, sizeof(p->error), "%s", m->error);
        p->more = false;
        imap_close(m);
    }
}

static int store_run(struct kp_store *s, void *ctx)
{
    struct poll_run *p = ctx;
    for (size_t i = 0; i < p->n; i++) {
        int rc = kp_email_store(s, &p->mails[i].in);
        if (rc)
            return rc;
    }
    return KP_STORE(s, mail_imap_mark, p->box.inbox_id, p->uidvalidity, p->last_uid);
}

/* After the commit: \Seen, deleted or moved on the server, as the inbox says. Every UID up to
 * last_uid is imported, so when an earlier marking may have failed (the server or Knotenpunkt
 * stopped in between) the whole range is marked: what is still there was not. */
static void mark_work(uv_work_t *w)
{
    struct poll_run *p = w->data;
    p->mark_ran = true;
    p->mark_failed = false;
    if ((!p->n && !p->mark_pending) || !p->last_uid) {
        imap_close(&p->imap);
        return;
    }
    struct kp_buf set;
    kp_buf_init(&set, 0);
    for (size_t i = 0; !p->mark_pending && i < p->n; i++)
        kp_buf_printf(&set, "%s%lld", i ? "," : "", (long long)p->mails[i].uid);
    struct imap *m = &p->imap;
    char q[2 * KP_MAIL_URL_MAX + 3], target[2 * KP_MAIL_URL_MAX + 3];
    struct imap_reply r;
    int rc = m->curl ? 0 : imap_open(m, &p->box, p->owner->ca_file, p->folder, sizeof(p->folder));
    if (!rc) {
        quote(q, sizeof(q), p->folder);
        rc = imap_cmd(m, &r, "SELECT %s", q);
        reply_release(&r);
    }
    if (!rc && p->mark_pending) {
        /* every imported UID still there - but not those too large to import */
        rc = imap_cmd(m, &r, "UID SEARCH UID 1:%lld NOT LARGER %d", (long long)p->last_uid,
                      KP_IMAP_MAIL_MAX);
        const char *found = rc || !r.text.len ? NULL : strstr(r.text.data, "* SEARCH");
        for (const char *u = found ? found + 8 : NULL; u && *u == ' ';) {
            char *end;
            long long uid = strtoll(u + 1, &end, 10);
            if (end == u + 1)
                break;
            kp_buf_printf(&set, "%s%lld", set.len ? "," : "", uid);
            u = end;
        }
        reply_release(&r);
    }
    if (!rc && !set.len) { /* nothing (left) to mark */
        kp_buf_release(&set);
        imap_close(m);
        return;
    }
    const char *after = p->box.imap_after;
    if (!rc && strncmp(after, "move:", 5) == 0) {
        quote(target, sizeof(target), after + 5);
        rc = imap_cmd(m, &r, "UID MOVE %s %s", set.data, target);
        reply_release(&r);
    } else if (!rc && strcmp(after, "delete") == 0) {
        rc = imap_cmd(m, &r, "UID STORE %s +FLAGS.SILENT (\\Deleted)", set.data);
        reply_release(&r);
        if (!rc) {
            rc = imap_cmd(m, &r, "UID EXPUNGE %s", set.data);
            reply_release(&r);
        }
    } else if (!rc) {
        rc = imap_cmd(m, &r, "UID STORE %s +FLAGS.SILENT (\\Seen)", set.data);
        reply_release(&r);
    }
    if (rc) {
        kp_log_warn("inbox %lld: cannot mark imported mails on the IMAP server yet: %s",
                    (long long)p->box.inbox_id, m->error);
        p->mark_failed = true;
    }
    imap_close(m);
    kp_buf_release(&set);
}

static struct inbox_state *state_of(struct kp_email_fetcher *f, int64_t inbox_id)
{
    for (size_t i = 0; i < f->n_boxes; i++)
        if (f->boxes[i].inbox_id == inbox_id)
            return &f->boxes[i];
    return NULL;
}

static void run_free(struct poll_run *p)
{
    if (p->imap.curl) /* the store failed: no marking, just hang up */
        curl_easy_cleanup(p->imap.curl);
    for (size_t i = 0; i < p->n; i++)
        kp_email_in_release(&p->mails[i].in);
    for (size_t i = 0; i < p->n; i++)
        free(p->mails[i].raw);
    free(p->mails);
    free(p);
}

static void start_poll(struct kp_email_fetcher *f, struct inbox_state *st);

/* A poll is over: the next one of the inbox after imap_poll_s, or at once when more waits. */
static void run_end(struct poll_run *p)
{
    struct kp_email_fetcher *f = p->owner;
    struct inbox_state *st = state_of(f, p->box.inbox_id);
    bool again = st && p->more && !p->store_rc && !f->stopping;
    if (st) {
        st->running = false;
        if (p->mark_ran)
            st->mark_pending = p->mark_failed;
        st->next_ms = kp_clock_now_ms() + (again ? 0 : p->box.imap_poll_s * 1000);
    }
    f->running--;
    run_free(p);
    if (again)
        start_poll(f, st);
}

static void mark_done(uv_work_t *w, int status)
{
    (void)status;
    run_end(w->data);
}

static void store_done(void *ctx, int rc)
{
    struct poll_run *p = ctx;
    p->store_rc = rc;
    if (rc) {
        kp_log_warn("inbox %lld: cannot store fetched mails, will fetch them again: %s",
                    (long long)p->box.inbox_id, kp_strerror(rc));
        run_end(p);
        return;
    }
    for (size_t i = 0; i < p->n; i++)
        if (p->mails[i].in.outcome <= KP_EMAIL_DUPLICATE)
            kp_metrics_ingested(p->owner->api->metrics, "email",
                                p->mails[i].in.outcome == KP_EMAIL_DUPLICATE);
    uv_queue_work(p->owner->api->loop, &p->work, mark_work, mark_done);
}

static void fetch_done(uv_work_t *w, int status)
{
    (void)status;
    struct poll_run *p = w->data;
    if (p->error[0])
        kp_log_warn("inbox %lld: IMAP fetch: %s", (long long)p->box.inbox_id, p->error);
    bool moved = p->uidvalidity != p->box.imap_uidvalidity || p->last_uid != p->box.imap_last_uid;
    if (!p->n && (p->uidvalidity == 0 || !moved)) {
        if (p->uidvalidity && p->mark_pending)
            uv_queue_work(p->owner->api->loop, &p->work, mark_work, mark_done);
        else
            run_end(p);
        return;
    }
    p->job = (struct kp_writer_job){
        .run = store_run, .done = store_done, .ctx = p, .port = p->owner->api->port};
    kp_writer_submit(p->owner->api->writer, &p->job);
}

/* ---- scheduling ---- */

static void refresh(struct kp_email_fetcher *f, int64_t now)
{
    int64_t ids[KP_IMAP_INBOXES];
    size_t n = KP_IMAP_INBOXES;
    if (KP_STORE(f->api->store, mail_inbox_ids, ids, &n))
        return;
    f->refreshed_ms = now;
    for (size_t i = 0; i < n && f->n_boxes < KP_IMAP_INBOXES; i++)
        if (!state_of(f, ids[i]))
            f->boxes[f->n_boxes++] =
                (struct inbox_state){.inbox_id = ids[i], .next_ms = now, .mark_pending = true};
}

static void start_poll(struct kp_email_fetcher *f, struct inbox_state *st)
{
    struct poll_run *p = kp_xcalloc(1, sizeof(*p));
    if (KP_STORE(f->api->store, mail_inbox_get, st->inbox_id, &p->box) || !p->box.imap_url[0]) {
        st->next_ms = kp_clock_now_ms() + REFRESH_MS; /* no mailbox to fetch from (yet) */
        free(p);
        return;
    }
    p->owner = f;
    p->mark_pending = st->mark_pending;
    st->running = true;
    f->running++;
    p->work.data = p;
    uv_queue_work(f->api->loop, &p->work, fetch_work, fetch_done);
}

static void on_tick(uv_timer_t *t)
{
    struct kp_email_fetcher *f = t->data;
    if (f->stopping)
        return;
    int64_t now = kp_clock_now_ms();
    if (now - f->refreshed_ms >= REFRESH_MS)
        refresh(f, now);
    for (size_t i = 0; i < f->n_boxes && f->running < PARALLEL; i++)
        if (!f->boxes[i].running && f->boxes[i].next_ms <= now)
            start_poll(f, &f->boxes[i]);
}

int kp_email_imap_start(struct kp_api *api, const char *ca_file, struct kp_email_fetcher **out)
{
    struct kp_email_fetcher *f = kp_xcalloc(1, sizeof(*f));
    f->api = api;
    f->ca_file = ca_file;
    uv_timer_init(api->loop, &f->timer);
    f->timer.data = f;
    uv_timer_start(&f->timer, on_tick, 0, TICK_MS);
    *out = f;
    return 0;
}

void kp_email_imap_stop(struct kp_email_fetcher *f)
{
    if (f && !f->stopping) {
        f->stopping = true;
        uv_timer_stop(&f->timer);
    }
}

size_t kp_email_imap_busy(struct kp_email_fetcher *f)
{
    return f ? f->running : 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void kp_email_imap_free(struct kp_email_fetcher *f)
{
    if (!f)
        return;
    kp_email_imap_stop(f);
    uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}
