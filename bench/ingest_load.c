/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1 load generator for the ingest endpoint, used by `make bench` (bench/run.sh).
 *
 * Opens CONNS keep-alive connections to 127.0.0.1:PORT (loopback only) and keeps exactly one
 * request in flight on each: POST /api/v1/inboxes/{INBOX}/messages with a bearer token and a
 * JSON body of about 300 bytes of message text. Senders cycle through 500 contacts, so the
 * server creates and appends to many contacts and conversations, and every request carries a
 * unique external_id, so none is answered as a duplicate.
 *
 * It stops after TOTAL requests or MAX_SECONDS, whichever comes first (TOTAL 0: time only);
 * requests still in flight at the deadline get 3 s more, then their connections are closed and
 * they count as errors. Responses are parsed (status line, Content-Length, chunked bodies,
 * Connection: close); 2xx count as ok, anything else as an error, and the first few error
 * responses are shown on stderr.
 *
 * Usage: ingest_load PORT INBOX TOKEN [CONNS [TOTAL [MAX_SECONDS [RUN_ID]]]]
 *   defaults: CONNS 64, TOTAL 100000, MAX_SECONDS 60, RUN_ID from the clock and pid.
 * Output (stdout), one line:
 *   ingest messages_per_s=<n> ok=<n> errors=<n> p50_ms=<x> p99_ms=<x> requests=<n>
 *   secs=<x> conns=<n> http_errors=<n> net_errors=<n>
 * Exit status: 0 when at least one request succeeded, 1 otherwise, 2 on bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#define MAX_CONNS 4096
#define WBUF_CAP 4096
#define RBUF_MAX (4u << 20)
#define HEAD_MAX (64u << 10)
#define CONTACTS 500
#define MAX_CONNECT_FAILURES 200
#define GRACE_MS 3000
#define ERROR_SAMPLES 3

struct conn {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_write_t write_req;
    int index;
    int open;          /* tcp handle initialised and not yet closed */
    int closing;       /* uv_close called */
    int connected;     /* connect succeeded */
    int write_pending; /* uv_write not yet completed */
    int want_send;     /* response arrived while the write was pending */
    int in_flight;     /* a request awaits its response */
    uint64_t sent_ns;
    char wbuf[WBUF_CAP];
    size_t wlen;
    char *rbuf;
    size_t rlen, rcap;
    /* response being parsed; head_len 0 until the header block is complete */
    size_t head_len;
    int status;
    int chunked;
    int until_eof;
    int close_after;
    long content_length;
};

enum { BODY_DONE = 1, BODY_MORE = 0, BODY_BAD = -1 };

static uv_loop_t *loop;
static struct conn *conns;
static int nconns = 64;
static int port;
static const char *inbox;
static const char *token;
static long total = 100000;
static double max_seconds = 60;
static char run_id[32];

static long issued, ok_count, http_errors, net_errors, connect_failures;
static int stopping;
static uint64_t t_start_ns, t_last_ns;
static double *lat_ms;
static size_t lat_len, lat_cap;
static long status_counts[600];
static int error_samples;
static uv_timer_t deadline_timer, grace_timer;

static const char *const texts[] = {
    "Hello, my order arrived yesterday but the package was damaged and two of the glasses "
    "inside are broken. I attached no photos yet because the courier left before I could "
    "open it. Could you send a replacement or refund the broken items? The tracking page "
    "still says in transit, which is odd.",
    "Guten Tag, ich habe am Montag eine Bestellung aufgegeben und noch keine Versandbestätigung "
    "bekommen. Die Zahlung wurde bereits von meiner Karte abgebucht. Können Sie bitte prüfen, "
    "ob die Lieferung unterwegs ist? Vielen Dank und freundliche Grüße aus Köln.",
    "Hi team, I cannot log in to the app since the last update. It says my password is wrong, "
    "but the reset email never arrives, not even in the spam folder. I use the same address as "
    "always. Please help, I need to download my invoices before the end of the month.",
    "Bonjour, je souhaite annuler mon abonnement avant le renouvellement automatique de la "
    "semaine prochaine. Je n'ai pas trouvé le bouton dans mon compte. Pouvez-vous confirmer "
    "l'annulation par e-mail et me dire si un remboursement partiel est possible ? Merci.",
    "Hello again, I was charged twice for the same subscription this month, once on the 3rd "
    "and once on the 4th. My bank shows both payments as completed. Could you refund the "
    "second charge and tell me why this happened so it does not repeat next month?",
    "Hola, el producto que recibí es de otra talla y otro color. Quiero hacer un cambio, pero "
    "la etiqueta de devolución no se imprime desde la página. ¿Me la pueden enviar por correo "
    "electrónico? También necesito saber cuánto tarda el reembolso en llegar a mi cuenta.",
    "Good morning, our whole office lost access to the shared dashboard after you changed the "
    "login page. Everyone sees an error about an expired session, even right after signing in. "
    "We have a client meeting at noon and need the reports, so this is quite urgent for us.",
    "Hi, I want to change the delivery address for my open order because I am moving this "
    "weekend. The new address is in the same city. If the parcel has already left your "
    "warehouse, can the courier hold it at the depot instead? Thanks for your quick answer.",
};

#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

static void conn_start(struct conn *c);
static void send_next(struct conn *c);

static uint64_t now_ns(void)
{
    return uv_hrtime();
}

static void lat_push(double ms)
{
    if (lat_len == lat_cap) {
        lat_cap = lat_cap ? lat_cap * 2 : 65536;
        lat_ms = realloc(lat_ms, lat_cap * sizeof(*lat_ms));
        if (!lat_ms)
            abort();
    }
    lat_ms[lat_len++] = ms;
}

static int more_to_send(void)
{
    return !stopping && (total == 0 || issued < total);
}

static void on_close(uv_handle_t *h)
{
    struct conn *c = h->data;
    c->open = 0;
    c->closing = 0;
    c->connected = 0;
    c->write_pending = 0;
    c->want_send = 0;
    c->rlen = 0;
    c->head_len = 0;
    if (more_to_send() && connect_failures < MAX_CONNECT_FAILURES)
        conn_start(c);
}

/* Closes the connection; a request still in flight counts as a network error. */
static void conn_close(struct conn *c)
{
    if (!c->open || c->closing)
        return;
    if (c->in_flight) {
        c->in_flight = 0;
        net_errors++;
    }
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void on_connect(uv_connect_t *req, int status);

static void conn_start(struct conn *c)
{
    struct sockaddr_in addr;
    int rc;

    uv_ip4_addr("127.0.0.1", port, &addr);
    rc = uv_tcp_init(loop, &c->tcp);
    if (rc < 0) {
        fprintf(stderr, "ingest_load: tcp init: %s\n", uv_strerror(rc));
        return;
    }
    c->tcp.data = c;
    c->open = 1;
    c->connect_req.data = c;
    rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&addr, on_connect);
    if (rc < 0) {
        fprintf(stderr, "ingest_load: connect: %s\n", uv_strerror(rc));
        conn_close(c);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;
    size_t want = suggested < 16384 ? 16384 : suggested;
    if (c->rcap - c->rlen < want) {
        size_t cap = c->rcap ? c->rcap : 65536;
        while (cap - c->rlen < want)
            cap *= 2;
        c->rbuf = realloc(c->rbuf, cap);
        if (!c->rbuf)
            abort();
        c->rcap = cap;
    }
    buf->base = c->rbuf + c->rlen;
    buf->len = c->rcap - c->rlen;
}

/* Returns 1 when the header named name (case-insensitive) spans line..end, value in *val. */
static int header_is(const char *line, const char *end, const char *name, const char **val,
                     size_t *vlen)
{
    size_t n = strlen(name);
    if ((size_t)(end - line) <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return 0;
    const char *v = line + n + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    const char *e = end;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *val = v;
    *vlen = (size_t)(e - v);
    return 1;
}

static int contains_token(const char *v, size_t len, const char *tok)
{
    size_t n = strlen(tok);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(v + i, tok, n) == 0)
            return 1;
    return 0;
}

/* Parses the header block in c->rbuf; returns 1 when complete, 0 for more, -1 if malformed. */
static int parse_head(struct conn *c)
{
    const char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
    if (!end)
        return c->rlen > HEAD_MAX ? -1 : 0;
    size_t head_len = (size_t)(end - c->rbuf) + 4;
    const char *p = c->rbuf;
    const char *eol = memmem(p, head_len, "\r\n", 2);
    /* "HTTP/1.x NNN" */
    if (eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
        return -1;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        status = status * 10 + (p[i] - '0');
    }
    c->status = status;
    c->close_after = p[7] == '0';
    c->chunked = 0;
    c->until_eof = 0;
    c->content_length = -1;
    p = eol + 2;
    while (p < end) {
        const char *le = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
        const char *v;
        size_t vl;
        if (!le)
            break;
        if (header_is(p, le, "content-length", &v, &vl)) {
            long n = 0;
            if (vl == 0 || vl > 15)
                return -1;
            for (size_t i = 0; i < vl; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return -1;
                n = n * 10 + (v[i] - '0');
            }
            c->content_length = n;
        } else if (header_is(p, le, "transfer-encoding", &v, &vl)) {
            c->chunked = contains_token(v, vl, "chunked");
        } else if (header_is(p, le, "connection", &v, &vl)) {
            if (contains_token(v, vl, "close"))
                c->close_after = 1;
            else if (contains_token(v, vl, "keep-alive"))
                c->close_after = 0;
        }
        p = le + 2;
    }
    if (status == 204 || status == 304 || (status >= 100 && status < 200))
        c->content_length = 0;
    else if (c->chunked)
        c->content_length = -1;
    else if (c->content_length < 0)
        c->until_eof = 1;
    c->head_len = head_len;
    return 1;
}

/* Finds the end of a chunked body; *total_len gets head plus body length when done. */
static int chunked_end(const struct conn *c, size_t *total_len)
{
    size_t pos = c->head_len;
    for (;;) {
        const char *line = c->rbuf + pos;
        const char *eol = memmem(line, c->rlen - pos, "\r\n", 2);
        if (!eol)
            return c->rlen - pos > 1024 ? BODY_BAD : BODY_MORE;
        size_t size = 0;
        const char *q = line;
        int digits = 0;
        for (; q < eol; q++) {
            int d;
            if (*q >= '0' && *q <= '9')
                d = *q - '0';
            else if (*q >= 'a' && *q <= 'f')
                d = *q - 'a' + 10;
            else if (*q >= 'A' && *q <= 'F')
                d = *q - 'A' + 10;
            else
                break;
            if (++digits > 8)
                return BODY_BAD;
            size = size * 16 + (size_t)d;
        }
        if (digits == 0)
            return BODY_BAD;
        pos = (size_t)(eol - c->rbuf) + 2;
        if (size == 0) {
            /* optional trailers, then an empty line */
            if (c->rlen - pos >= 2 && memcmp(c->rbuf + pos, "\r\n", 2) == 0) {
                *total_len = pos + 2;
                return BODY_DONE;
            }
            const char *e = memmem(c->rbuf + pos, c->rlen - pos, "\r\n\r\n", 4);
            if (!e)
                return BODY_MORE;
            *total_len = (size_t)(e - c->rbuf) + 4;
            return BODY_DONE;
        }
        if (c->rlen - pos < size + 2)
            return BODY_MORE;
        pos += size + 2;
    }
}

static void show_error(const struct conn *c, size_t resp_len)
{
    size_t body = resp_len - c->head_len;
    if (error_samples >= ERROR_SAMPLES)
        return;
    error_samples++;
    fprintf(stderr, "ingest_load: HTTP %d: %.*s\n", c->status, (int)(body > 300 ? 300 : body),
            c->rbuf + c->head_len);
}

/* Accounts for the response that occupies the first resp_len bytes of c->rbuf. */
static void finish_response(struct conn *c, size_t resp_len)
{
    uint64_t t = now_ns();
    if (c->status >= 100 && c->status < 200) {
        /* interim response: the real one follows */
        memmove(c->rbuf, c->rbuf + resp_len, c->rlen - resp_len);
        c->rlen -= resp_len;
        c->head_len = 0;
        return;
    }
    c->in_flight = 0;
    t_last_ns = t;
    lat_push((double)(t - c->sent_ns) / 1e6);
    if (c->status >= 200 && c->status < 300) {
        ok_count++;
    } else {
        http_errors++;
        if (c->status >= 0 && c->status < 600)
            status_counts[c->status]++;
        show_error(c, resp_len);
    }
    memmove(c->rbuf, c->rbuf + resp_len, c->rlen - resp_len);
    c->rlen -= resp_len;
    c->head_len = 0;
}

/* Consumes complete responses from the read buffer; returns -1 on a protocol error. */
static int process_input(struct conn *c)
{
    while (c->rlen > 0) {
        if (!c->in_flight) {
            fprintf(stderr, "ingest_load: %zu unexpected bytes from the server\n", c->rlen);
            return -1;
        }
        if (c->head_len == 0) {
            int r = parse_head(c);
            if (r < 0) {
                fprintf(stderr, "ingest_load: malformed response head: %.*s\n",
                        (int)(c->rlen > 200 ? 200 : c->rlen), c->rbuf);
                return -1;
            }
            if (r == 0)
                return 0;
        }
        size_t resp_len;
        if (c->until_eof) {
            if (c->rlen > RBUF_MAX)
                return -1;
            return 0;
        } else if (c->chunked) {
            int r = chunked_end(c, &resp_len);
            if (r == BODY_BAD || (r == BODY_MORE && c->rlen > RBUF_MAX))
                return -1;
            if (r == BODY_MORE)
                return 0;
        } else {
            if ((size_t)c->content_length > RBUF_MAX)
                return -1;
            if (c->rlen - c->head_len < (size_t)c->content_length)
                return 0;
            resp_len = c->head_len + (size_t)c->content_length;
        }
        int was_interim = c->status >= 100 && c->status < 200;
        finish_response(c, resp_len);
        if (was_interim)
            continue;
        if (c->close_after)
            return 1;
        if (c->write_pending)
            c->want_send = 1;
        else
            send_next(c);
    }
    return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    (void)buf;
    if (nread == 0 || c->closing)
        return;
    if (nread < 0) {
        if (c->in_flight && c->head_len > 0 && c->until_eof)
            finish_response(c, c->rlen);
        else if (c->in_flight && nread != UV_EOF && net_errors < 5)
            fprintf(stderr, "ingest_load: read: %s\n", uv_strerror((int)nread));
        conn_close(c);
        return;
    }
    c->rlen += (size_t)nread;
    int r = process_input(c);
    if (r != 0)
        conn_close(c);
    else if (!c->in_flight && !c->want_send && !c->closing)
        conn_close(c); /* nothing more to send */
}

static void on_write(uv_write_t *req, int status)
{
    struct conn *c = req->data;
    c->write_pending = 0;
    if (c->closing)
        return;
    if (status < 0) {
        if (net_errors < 5)
            fprintf(stderr, "ingest_load: write: %s\n", uv_strerror(status));
        conn_close(c);
        return;
    }
    if (c->want_send) {
        c->want_send = 0;
        send_next(c);
        if (!c->in_flight)
            conn_close(c);
    }
}

static void build_request(struct conn *c, long n)
{
    char body[1024];
    int k = (int)(n % CONTACTS);
    const char *text = texts[(size_t)n % NTEXTS];
    int blen = snprintf(body, sizeof(body),
                        "{\"sender\":{\"kind\":\"email\",\"value\":\"bench%d@example.test\","
                        "\"name\":\"Bench %d\"},\"text\":\"%s Reference number %ld.\","
                        "\"external_id\":\"b-%s-%ld\"}",
                        k, k, text, n, run_id, n);
    if (blen < 0 || (size_t)blen >= sizeof(body))
        abort();
    int hlen = snprintf(c->wbuf, sizeof(c->wbuf),
                        "POST /api/v1/inboxes/%s/messages HTTP/1.1\r\n"
                        "Host: 127.0.0.1:%d\r\n"
                        "Authorization: Bearer %s\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: %d\r\n"
                        "\r\n",
                        inbox, port, token, blen);
    if (hlen < 0 || (size_t)hlen + (size_t)blen > sizeof(c->wbuf))
        abort();
    memcpy(c->wbuf + hlen, body, (size_t)blen);
    c->wlen = (size_t)hlen + (size_t)blen;
}

/* Sends the next request on c, or does nothing when the run is over. */
static void send_next(struct conn *c)
{
    if (!more_to_send() || !c->connected || c->closing)
        return;
    long n = issued++;
    build_request(c, n);
    c->in_flight = 1;
    c->head_len = 0;
    c->sent_ns = now_ns();

    uv_buf_t b = uv_buf_init(c->wbuf, (unsigned int)c->wlen);
    int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (w == (int)c->wlen)
        return;
    if (w < 0 && w != UV_EAGAIN) {
        if (net_errors < 5)
            fprintf(stderr, "ingest_load: write: %s\n", uv_strerror(w));
        conn_close(c);
        return;
    }
    if (w > 0)
        b = uv_buf_init(c->wbuf + w, (unsigned int)(c->wlen - (size_t)w));
    c->write_req.data = c;
    c->write_pending = 1;
    int rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc < 0) {
        c->write_pending = 0;
        conn_close(c);
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        if (connect_failures++ < 5)
            fprintf(stderr, "ingest_load: connect to 127.0.0.1:%d: %s\n", port,
                    uv_strerror(status));
        net_errors++;
        conn_close(c);
        return;
    }
    c->connected = 1;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    send_next(c);
    if (!c->in_flight && !c->write_pending)
        conn_close(c);
}

static void on_grace(uv_timer_t *t)
{
    (void)t;
    int n = 0;
    for (int i = 0; i < nconns; i++) {
        if (conns[i].in_flight)
            n++;
        conn_close(&conns[i]);
    }
    if (n > 0)
        fprintf(stderr, "ingest_load: %d requests unanswered %d ms after the deadline\n", n,
                GRACE_MS);
}

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    stopping = 1;
    for (int i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];
        if (!c->in_flight)
            conn_close(c);
    }
    uv_timer_start(&grace_timer, on_grace, GRACE_MS, 0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double p)
{
    if (lat_len == 0)
        return 0;
    size_t i = (size_t)(p * (double)(lat_len - 1) + 0.5);
    return lat_ms[i];
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: ingest_load PORT INBOX TOKEN [CONNS [TOTAL [MAX_SECONDS [RUN_ID]]]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    long v;

    if (argc < 4 || argc > 8)
        return usage();
    if (parse_long(argv[1], 1, 65535, &v) < 0)
        return usage();
    port = (int)v;
    inbox = argv[2];
    token = argv[3];
    if (strspn(inbox, "0123456789") != strlen(inbox) || !*inbox || strlen(inbox) > 20 ||
        strlen(token) > 512 || strpbrk(token, "\r\n"))
        return usage();
    if (argc > 4) {
        if (parse_long(argv[4], 1, MAX_CONNS, &v) < 0)
            return usage();
        nconns = (int)v;
    }
    if (argc > 5 && parse_long(argv[5], 0, 1000000000L, &total) < 0)
        return usage();
    if (argc > 6) {
        if (parse_long(argv[6], 1, 3600, &v) < 0)
            return usage();
        max_seconds = (double)v;
    }
    if (argc > 7) {
        if (strlen(argv[7]) >= sizeof(run_id) ||
            strspn(argv[7], "0123456789abcdefABCDEF-_") != strlen(argv[7]))
            return usage();
        snprintf(run_id, sizeof(run_id), "%s", argv[7]);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(run_id, sizeof(run_id), "%" PRIx64 "%x", (uint64_t)ts.tv_sec,
                 (unsigned)getpid() & 0xffffu);
    }

    loop = uv_default_loop();
    conns = calloc((size_t)nconns, sizeof(*conns));
    if (!conns)
        abort();
    uv_timer_init(loop, &deadline_timer);
    uv_timer_init(loop, &grace_timer);
    uv_unref((uv_handle_t *)&deadline_timer);
    uv_unref((uv_handle_t *)&grace_timer);
    uv_timer_start(&deadline_timer, on_deadline, (uint64_t)(max_seconds * 1000), 0);

    t_start_ns = now_ns();
    t_last_ns = t_start_ns;
    for (int i = 0; i < nconns; i++) {
        conns[i].index = i;
        conn_start(&conns[i]);
    }
    uv_run(loop, UV_RUN_DEFAULT);

    double secs = (double)(t_last_ns - t_start_ns) / 1e9;
    qsort(lat_ms, lat_len, sizeof(*lat_ms), cmp_double);
    long errors = http_errors + net_errors;
    printf("ingest messages_per_s=%.0f ok=%ld errors=%ld p50_ms=%.2f p99_ms=%.2f requests=%ld "
           "secs=%.2f conns=%d http_errors=%ld net_errors=%ld\n",
           secs > 0 ? (double)ok_count / secs : 0.0, ok_count, errors, percentile(0.50),
           percentile(0.99), issued, secs, nconns, http_errors, net_errors);
    for (int s = 0; s < 600; s++)
        if (status_counts[s])
            fprintf(stderr, "ingest_load: %ld responses with status %d\n", status_counts[s], s);
    if (connect_failures >= MAX_CONNECT_FAILURES)
        fprintf(stderr, "ingest_load: gave up after %ld failed connects\n", connect_failures);

    uv_close((uv_handle_t *)&deadline_timer, NULL);
    uv_close((uv_handle_t *)&grace_timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    for (int i = 0; i < nconns; i++)
        free(conns[i].rbuf);
    free(conns);
    free(lat_ms);
    return ok_count > 0 ? 0 : 1;
}
