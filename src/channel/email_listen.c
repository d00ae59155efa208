/* SPDX-License-Identifier: MIT */
/*
 * email_listen.c - the SMTP/LMTP server (see email_listen.h). One session per connection:
 * command lines are parsed by src/proto/smtp.c; the DATA stream is collected up to the size
 * limit, then the connection stops reading while the mail is parsed on the worker pool and
 * stored by the writer, and answered after the commit. Pipelined input waits in the session.
 */
#include "email_listen.h"
#include "email.h"
#include "../api/metrics.h"
#include "../base/log.h"
#include "../proto/smtp.h"

enum {
    MAX_RCPT = 100,
    MAX_ERRORS = 20,               /* bad commands before the session is closed */
    MAIL_BUF_KEPT = 65536,         /* a session keeps a mail buffer this large between mails */
    WRITE_QUEUE_HIGH = 256 * 1024, /* answers not taken by the client: stop reading */
    WRITE_QUEUE_LOW = 64 * 1024,   /* ... and read again below this */
    BUFFERED_MAX = 512 << 20,      /* mail bytes held by all sessions; past it mails get 452 */
};

struct listener;

enum phase { GREETED, READY, HAVE_FROM, HAVE_RCPT, IN_DATA, STORING };

struct rcpt {
    char addr[KP_SMTP_PATH_MAX + 1];
    int64_t inbox_id;
};

struct session {
    uv_tcp_t tcp;
    uv_timer_t timer;
    struct listener *l;
    struct session *prev, *next;
    int handles_open;
    bool closing, reading, eof;
    bool write_blocked; /* not read while the client does not take its answers */
    bool corked;        /* replies collect in out until uncork: one write per read */
    struct kp_buf out;
    enum phase phase;
    int errors;
    char line[KP_SMTP_LINE_MAX + 1];
    size_t line_len;
    bool line_too_long;
    char from[KP_SMTP_PATH_MAX + 1];
    struct rcpt rcpt[MAX_RCPT];
    size_t n_rcpt;
    struct kp_smtp_data data;
    char *mail;
    size_t mail_len, mail_cap;
    bool starved;  /* the listener's buffer budget ran out during this mail */
    char *pending; /* input that came after the data's end, handled after the answer */
    size_t pending_len;
    /* storing: one prepared mail per distinct inbox */
    uv_work_t work;
    struct kp_writer_job job;
    struct kp_email_in *in;
    size_t n_in;
};

struct listener {
    struct kp_api *api;
    struct kp_email_listen_config cfg;
    char hostname[256];
    uv_tcp_t tcp;
    bool listening, freeing, tcp_closed;
    struct session *sessions;
    size_t n_sessions;
    size_t buffered; /* bytes of every session's mail buffer */
};

struct kp_email_listener {
    struct listener l;
};

/* ---- writing and closing ---- */

struct reply {
    uv_write_t w;
    size_t len;
    char text[];
};

static void start_reading(struct session *s);

/* A client that sends commands without reading the answers stops being read (below) until
 * it has taken most of them. */
static void on_written(uv_write_t *w, int status)
{
    (void)status;
    struct session *s = w->handle->data;
    free(w->data);
    if (s->write_blocked && !s->closing && s->tcp.write_queue_size < WRITE_QUEUE_LOW) {
        s->write_blocked = false;
        if (s->phase != STORING)
            start_reading(s);
    }
}

static void session_close(struct session *s);

static void send_text(struct session *s, const char *text, size_t len)
{
    if (s->closing)
        return;
    struct reply *r = kp_xmalloc(sizeof(*r) + len);
    memcpy(r->text, text, len);
    r->len = len;
    r->w.data = r;
    uv_buf_t b = uv_buf_init(r->text, (unsigned)len);
    if (uv_write(&r->w, (uv_stream_t *)&s->tcp, &b, 1, on_written) != 0) {
        free(r);
        session_close(s);
    }
}

/* Sends the replies collected while corked. */
static void flush(struct session *s)
{
    if (s->out.len)
        send_text(s, s->out.data, s->out.len);
    kp_buf_reset(&s->out);
}

static void cork(struct session *s)
{
    s->corked = true;
}

static void uncork(struct session *s)
{
    s->corked = false;
    flush(s);
}

static void reply(struct session *s, const char *fmt, ...) KP_PRINTF(2, 3);
static void reply(struct session *s, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text) - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(text) - 2 ? (size_t)n : sizeof(text) - 3;
    memcpy(text + len, "\r\n", 2);
    if (s->out.len > 32768)
        flush(s);
    if (!s->corked || kp_buf_append(&s->out, text, len + 2))
        send_text(s, text, len + 2);
}

static void maybe_free(struct listener *l)
{
    if (l->freeing && l->tcp_closed && !l->sessions)
        free(l); /* the listener is the first member of kp_email_listener */
}

static void on_closed(uv_handle_t *h)
{
    struct session *s = h->data;
    if (--s->handles_open)
        return;
    struct listener *l = s->l;
    if (s->prev)
        s->prev->next = s->next;
    else
        l->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    l->n_sessions--;
    l->buffered -= s->mail_cap;
    kp_buf_release(&s->out);
    free(s->mail);
    free(s->pending);
    free(s);
    maybe_free(l);
}

/* Closes now unless a mail is being stored: then when its answer has been sent. */
static void session_close(struct session *s)
{
    s->eof = true;
    if (s->closing || s->phase == STORING)
        return;
    s->closing = true;
    uv_close((uv_handle_t *)&s->tcp, on_closed);
    uv_close((uv_handle_t *)&s->timer, on_closed);
}

/* Sends the last reply, then closes (uv writes in order; close waits for none, so shut down
 * the write side first). */
static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    struct session *s = req->data;
    free(req);
    session_close(s);
}

static void reply_close(struct session *s, const char *text)
{
    if (s->closing)
        return;
    reply(s, "%s", text);
    flush(s);
    uv_shutdown_t *req = kp_xmalloc(sizeof(*req));
    req->data = s;
    if (uv_shutdown(req, (uv_stream_t *)&s->tcp, on_shutdown) != 0) {
        free(req);
        session_close(s);
    }
    s->eof = true;
}

static void on_timeout(uv_timer_t *t)
{
    struct session *s = t->data;
    if (s->phase != STORING)
        reply_close(s, "421 4.4.2 idle for too long, closing");
}

static void arm(struct session *s)
{
    if (!s->closing)
        uv_timer_start(&s->timer, on_timeout, (uint64_t)s->l->cfg.idle_timeout_ms, 0);
}

/* ---- the mail transaction ---- */

static void reset_transaction(struct session *s)
{
    s->from[0] = '\0';
    s->n_rcpt = 0;
    s->mail_len = 0;
    s->phase = s->phase == GREETED ? GREETED : READY;
}

/* A large buffer goes back once its mail is done: idle sessions hold little. */
static void release_mail(struct session *s)
{
    if (s->mail_cap > MAIL_BUF_KEPT) {
        s->l->buffered -= s->mail_cap;
        free(s->mail);
        s->mail = NULL;
        s->mail_cap = 0;
    }
}

static void process(struct session *s, const char *in, size_t len);
static void start_reading(struct session *s);

static void on_stored(void *ctx, int rc)
{
    struct session *s = ctx;
    struct kp_metrics *metrics = s->l->api->metrics;
    for (size_t i = 0; i < s->n_in; i++) {
        if (!rc && s->in[i].outcome <= KP_EMAIL_DUPLICATE)
            kp_metrics_ingested(metrics, "email", s->in[i].outcome == KP_EMAIL_DUPLICATE);
        kp_email_in_release(&s->in[i]);
    }
    free(s->in);
    s->in = NULL;
    s->n_in = 0;
    release_mail(s);
    if (rc)
        kp_log_warn("cannot store a mail from <%s>: %s", s->from, kp_strerror(rc));
    const char *answer = rc ? "451 4.3.0 cannot store the message now, try again later"
                            : "250 2.0.0 message accepted";
    size_t replies = s->l->cfg.lmtp ? s->n_rcpt : 1;
    cork(s);
    for (size_t i = 0; i < replies; i++)
        reply(s, "%s", answer);
    s->phase = READY;
    reset_transaction(s);
    if (s->eof) {
        uncork(s);
        session_close(s);
        return;
    }
    if (!s->l->listening) { /* stopping: this was the last mail of the session */
        uncork(s);
        reply_close(s, "421 4.3.2 shutting down, try again later");
        return;
    }
    arm(s);
    char *pending = s->pending;
    size_t n = s->pending_len;
    s->pending = NULL;
    s->pending_len = 0;
    if (pending)
        process(s, pending, n);
    free(pending);
    uncork(s);
    if (s->phase != STORING)
        start_reading(s);
}

static int store_run(struct kp_store *st, void *ctx)
{
    struct session *s = ctx;
    for (size_t i = 0; i < s->n_in; i++) {
        int rc = kp_email_store(st, &s->in[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* On the worker pool: one prepared mail per distinct inbox among the recipients. */
static void parse_work(uv_work_t *w)
{
    struct session *s = w->data;
    s->in = kp_xcalloc(s->n_rcpt, sizeof(*s->in));
    for (size_t i = 0; i < s->n_rcpt; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen |= s->rcpt[j].inbox_id == s->rcpt[i].inbox_id;
        if (!seen)
            kp_email_prepare(&s->in[s->n_in++], s->rcpt[i].inbox_id, s->from, s->mail, s->mail_len);
    }
}

static void parse_done(uv_work_t *w, int status)
{
    struct session *s = w->data;
    (void)status;
    s->job = (struct kp_writer_job){
        .run = store_run, .done = on_stored, .ctx = s, .port = s->l->api->port};
    kp_writer_submit(s->l->api->writer, &s->job);
}

static void data_end(struct session *s)
{
    if (s->starved && s->data.total <= s->l->cfg.max_size) {
        size_t replies = s->l->cfg.lmtp ? s->n_rcpt : 1;
        for (size_t i = 0; i < replies; i++)
            reply(s, "452 4.3.1 too much mail in progress, try again later");
        release_mail(s);
        reset_transaction(s);
        return;
    }
    if (s->data.total > s->l->cfg.max_size) {
        size_t replies = s->l->cfg.lmtp ? s->n_rcpt : 1;
        for (size_t i = 0; i < replies; i++)
            reply(s, "552 5.3.4 message larger than the %zu bytes allowed", s->l->cfg.max_size);
        release_mail(s);
        reset_transaction(s);
        return;
    }
    s->phase = STORING;
    uv_timer_stop(&s->timer);
    s->work.data = s;
    uv_queue_work(s->l->api->loop, &s->work, parse_work, parse_done);
}

/* Feeds DATA bytes; returns the bytes of in consumed. */
static size_t feed_data(struct session *s, const char *in, size_t len)
{
    size_t max = s->l->cfg.max_size;
    size_t want = s->mail_len + len < max + 1 ? s->mail_len + len : max + 1;
    if (want > s->mail_cap && !s->starved) {
        size_t cap = s->mail_cap ? s->mail_cap : MAIL_BUF_KEPT;
        while (cap < want)
            cap *= 2;
        if (s->l->buffered - s->mail_cap + cap > BUFFERED_MAX) {
            s->starved = true; /* read on to the end, keep nothing more, answer 452 */
        } else {
            s->mail = kp_xrealloc(s->mail, cap);
            s->l->buffered += cap - s->mail_cap;
            s->mail_cap = cap;
        }
    }
    size_t out_len = 0, used = 0;
    size_t room = (s->mail_cap < max + 1 ? s->mail_cap : max + 1) - s->mail_len;
    static char none[1]; /* where nothing is written when no buffer could be had */
    char *out = s->mail ? s->mail + s->mail_len : none;
    int done = kp_smtp_data_feed(&s->data, in, len, out, s->mail ? room : 0, &out_len, &used);
    s->mail_len += out_len;
    if (done)
        data_end(s);
    return used;
}

/* ---- commands ---- */

static void greet_reply(struct session *s, const struct kp_smtp_cmd *c)
{
    bool want_lhlo = s->l->cfg.lmtp;
    if ((c->verb == KP_SMTP_LHLO) != want_lhlo) {
        reply(s, "500 5.5.1 this is an %s server: say %s", want_lhlo ? "LMTP" : "SMTP",
              want_lhlo ? "LHLO" : "EHLO");
        s->errors++;
        return;
    }
    reset_transaction(s);
    s->phase = READY;
    if (c->verb == KP_SMTP_HELO) {
        reply(s, "250 %s", s->l->hostname);
        return;
    }
    reply(s,
          "250-%s\r\n250-PIPELINING\r\n250-SIZE %zu\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
          "250 ENHANCEDSTATUSCODES",
          s->l->hostname, s->l->cfg.max_size);
}

static void mail_from(struct session *s, const struct kp_smtp_cmd *c)
{
    if (s->phase == GREETED) {
        reply(s, "503 5.5.1 say %s first", s->l->cfg.lmtp ? "LHLO" : "EHLO");
        return;
    }
    if (s->phase != READY) {
        reply(s, "503 5.5.1 nested MAIL command");
        return;
    }
    if (c->size > s->l->cfg.max_size) {
        reply(s, "552 5.3.4 message larger than the %zu bytes allowed", s->l->cfg.max_size);
        return;
    }
    snprintf(s->from, sizeof(s->from), "%s", c->path);
    s->phase = HAVE_FROM;
    reply(s, "250 2.1.0 sender ok");
}

static void rcpt_to(struct session *s, const struct kp_smtp_cmd *c)
{
    if (s->phase != HAVE_FROM && s->phase != HAVE_RCPT) {
        reply(s, "503 5.5.1 need MAIL before RCPT");
        return;
    }
    if (s->n_rcpt == MAX_RCPT) {
        reply(s, "452 4.5.3 too many recipients");
        return;
    }
    int64_t inbox = 0;
    int rc = KP_STORE(s->l->api->store, mail_inbox_by_address, c->path, &inbox);
    if (rc == KP_ENOTFOUND) {
        reply(s, "550 5.1.1 <%s>: no such mailbox here", c->path);
        return;
    }
    if (rc) {
        reply(s, "451 4.3.0 cannot look up <%s> now, try again later", c->path);
        return;
    }
    struct rcpt *r = &s->rcpt[s->n_rcpt++];
    snprintf(r->addr, sizeof(r->addr), "%s", c->path);
    r->inbox_id = inbox;
    s->phase = HAVE_RCPT;
    reply(s, "250 2.1.5 recipient ok");
}

static void command(struct session *s, const char *line, size_t len)
{
    struct kp_smtp_cmd c;
    const char *why = NULL;
    int code = kp_smtp_parse(line, len, &c, &why);
    if (code) {
        reply(s, "%d %s %s", code, code == 501 ? "5.5.4" : "5.5.2", why ? why : "bad command");
        s->errors++;
    } else {
        switch (c.verb) {
        case KP_SMTP_HELO:
        case KP_SMTP_EHLO:
        case KP_SMTP_LHLO:
            greet_reply(s, &c);
            break;
        case KP_SMTP_MAIL:
            mail_from(s, &c);
            break;
        case KP_SMTP_RCPT:
            rcpt_to(s, &c);
            break;
        case KP_SMTP_DATA:
            if (s->phase != HAVE_RCPT) {
                reply(s, "503 5.5.1 need RCPT before DATA");
                break;
            }
            s->phase = IN_DATA;
            s->mail_len = 0;
            s->starved = false;
            kp_smtp_data_init(&s->data);
            reply(s, "354 end data with <CR><LF>.<CR><LF>");
            break;
        case KP_SMTP_RSET:
            reset_transaction(s);
            reply(s, "250 2.0.0 reset");
            break;
        case KP_SMTP_NOOP:
            reply(s, "250 2.0.0 ok");
            break;
        case KP_SMTP_QUIT:
            reply_close(s, "221 2.0.0 bye");
            break;
        case KP_SMTP_VRFY:
            reply(s, "252 2.5.0 cannot verify, but will take the message");
            break;
        case KP_SMTP_HELP:
            reply(s, "214 2.0.0 see RFC 5321");
            break;
        case KP_SMTP_STARTTLS:
            reply(s, "454 4.7.0 TLS is not available here");
            break;
        default:
            reply(s, "502 5.5.1 command not implemented");
            s->errors++;
        }
    }
    if (s->errors >= MAX_ERRORS)
        reply_close(s, "421 4.7.0 too many errors, closing");
}

/* Consumes input: command lines, or the data of a mail. Stops when the session starts storing
 * a mail and keeps the rest for after its answer. */
static void process(struct session *s, const char *in, size_t len)
{
    while (len > 0 && !s->eof) {
        if (s->phase == STORING) {
            s->pending = kp_xrealloc(s->pending, s->pending_len + len);
            memcpy(s->pending + s->pending_len, in, len);
            s->pending_len += len;
            return;
        }
        if (s->phase == IN_DATA) {
            size_t used = feed_data(s, in, len);
            in += used;
            len -= used;
            continue;
        }
        const char *lf = memchr(in, '\n', len);
        size_t take = lf ? (size_t)(lf - in) + 1 : len;
        size_t room = sizeof(s->line) - s->line_len;
        if (take > room)
            s->line_too_long = true;
        else {
            memcpy(s->line + s->line_len, in, take);
            s->line_len += take;
        }
        in += take;
        len -= take;
        if (!lf)
            continue;
        size_t n = s->line_too_long ? 0 : s->line_len;
        while (n && (s->line[n - 1] == '\n' || s->line[n - 1] == '\r'))
            n--;
        if (s->line_too_long) {
            reply(s, "500 5.5.2 line too long");
            s->errors++;
        } else
            command(s, s->line, n);
        s->line_len = 0;
        s->line_too_long = false;
    }
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    static _Thread_local char chunk[65536];
    *buf = uv_buf_init(chunk, sizeof(chunk));
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    struct session *s = stream->data;
    if (n < 0) {
        session_close(s);
        return;
    }
    if (n == 0 || s->closing)
        return;
    arm(s);
    cork(s);
    process(s, buf->base, (size_t)n);
    uncork(s);
    if (s->tcp.write_queue_size > WRITE_QUEUE_HIGH && !s->closing)
        s->write_blocked = true;
    if ((s->phase == STORING || s->write_blocked) && s->reading) {
        uv_read_stop(stream); /* back-pressure until the mail is stored or answers are taken */
        s->reading = false;
    }
}

static void start_reading(struct session *s)
{
    if (!s->reading && !s->closing && !s->write_blocked) {
        uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
        s->reading = true;
    }
}

static void on_connection(uv_stream_t *ls, int status)
{
    struct listener *l = ls->data;
    if (status < 0)
        return;
    struct session *s = kp_xcalloc(1, sizeof(*s));
    s->l = l;
    uv_tcp_init(l->api->loop, &s->tcp);
    uv_timer_init(l->api->loop, &s->timer);
    s->tcp.data = s->timer.data = s;
    s->handles_open = 2;
    s->next = l->sessions;
    if (l->sessions)
        l->sessions->prev = s;
    l->sessions = s;
    l->n_sessions++;
    kp_buf_init(&s->out, 0);
    if (uv_accept(ls, (uv_stream_t *)&s->tcp) != 0) {
        session_close(s);
        return;
    }
    uv_tcp_nodelay(&s->tcp, 1); /* pipelined answers must not wait for the client's ACK */
    if (l->n_sessions > (size_t)l->cfg.max_connections) {
        reply_close(s, "421 4.7.0 too many connections, try again later");
        return;
    }
    reply(s, "220 %s Knotenpunkt %s ready", l->hostname, l->cfg.lmtp ? "LMTP" : "ESMTP");
    arm(s);
    start_reading(s);
}

/* ---- the listener ---- */

static void on_listener_closed(uv_handle_t *h)
{
    struct listener *l = h->data;
    l->tcp_closed = true;
    maybe_free(l);
}

int kp_email_listen_new(struct kp_api *api, const struct kp_email_listen_config *cfg,
                        struct kp_email_listener **out)
{
    struct kp_email_listener *el = kp_xcalloc(1, sizeof(*el));
    struct listener *l = &el->l;
    l->api = api;
    l->cfg = *cfg;
    snprintf(l->hostname, sizeof(l->hostname), "%s", cfg->hostname);
    l->cfg.hostname = l->hostname;
    kp_mime_init();
    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *)&addr);
    if (rc)
        rc = uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *)&addr);
    uv_tcp_init(api->loop, &l->tcp);
    l->tcp.data = l;
    if (!rc)
        rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&addr, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&l->tcp, 256, on_connection);
    if (rc) {
        kp_log_error("cannot listen for %s on %s:%d: %s", cfg->lmtp ? "LMTP" : "SMTP", cfg->host,
                     cfg->port, uv_strerror(rc));
        l->freeing = true;
        uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
        return KP_EIO;
    }
    l->listening = true;
    *out = el;
    kp_log_info("%s on %s:%d", cfg->lmtp ? "LMTP" : "SMTP", cfg->host, kp_email_listen_port(el));
    return 0;
}

int kp_email_listen_port(struct kp_email_listener *el)
{
    struct sockaddr_storage addr;
    int len = sizeof(addr);
    if (uv_tcp_getsockname(&el->l.tcp, (struct sockaddr *)&addr, &len) != 0)
        return 0;
    return ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                            : ((struct sockaddr_in *)&addr)->sin_port);
}

void kp_email_listen_stop(struct kp_email_listener *el)
{
    struct listener *l = &el->l;
    if (l->listening) {
        l->listening = false;
        uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
    }
    for (struct session *s = l->sessions; s; s = s->next)
        if (s->phase != STORING)
            reply_close(s, "421 4.3.2 shutting down, try again later");
}

size_t kp_email_listen_busy(struct kp_email_listener *el)
{
    size_t n = 0;
    for (struct session *s = el->l.sessions; s; s = s->next)
        n += s->phase == STORING;
    return n;
}

void kp_email_listen_free(struct kp_email_listener *el)
{
    if (!el)
        return;
    struct listener *l = &el->l;
    kp_email_listen_stop(el);
    for (struct session *s = l->sessions; s; s = s->next)
        session_close(s);
    l->freeing = true;
    maybe_free(l);
}
