/* SPDX-License-Identifier: MIT */
/*
 * Fan-out latency of the agents' event stream, used by `make bench` (bench/run.sh).
 *
 * Opens STREAMS WebSocket connections to ws://127.0.0.1:PORT/api/v1/stream (loopback only) with
 * a bearer token, then posts MESSAGES inbound messages one after another through the API
 * channel (POST /api/v1/inboxes/{INBOX}/messages) and waits until every stream got each one.
 * For every (stream, message) it records the arrival time against two starting points:
 *   - the message's created_at from the event payload: set while the message is written, just
 *     before its transaction commits, so this includes the commit itself (conservative);
 *   - the arrival of the poster's 201 answer, which the server sends after the commit.
 * A message that does not reach every stream within 5 s counts as lost.
 *
 * Usage: stream_fanout PORT TOKEN INBOX [STREAMS [MESSAGES]]   (defaults 1000, 50)
 * Output (stdout), one line:
 *   fanout streams=<n> messages=<n> deliveries=<n> lost=<n> p50_ms=<x> p99_ms=<x> max_ms=<x>
 *   ack_p50_ms=<x> ack_p99_ms=<x>
 * Exit status 0 when every message reached every stream, 1 otherwise, 2 on bad usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_STREAMS 10000
#define RBUF 65536
#define WAIT_MS 5000

struct stream {
    int fd;
    size_t len;
    char buf[RBUF];
    long got; /* messages received so far */
};

static int port;
static const char *token;
static const char *inbox;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads an HTTP answer's head (and a Content-Length body) into buf; returns the status. */
static int read_answer(int fd, char *buf, size_t cap, size_t *used)
{
    size_t len = 0;
    char *end = NULL;
    while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
        if (len == cap)
            return -1;
        ssize_t r = read(fd, buf + len, cap - len);
        if (r <= 0)
            return -1;
        len += (size_t)r;
    }
    size_t head = (size_t)(end - buf) + 4;
    int status = atoi(buf + 9);
    const char *cl = memmem(buf, head, "Content-Length:", 15);
    size_t body = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
    while (len < head + body) {
        if (len == cap)
            return -1;
        ssize_t r = read(fd, buf + len, cap - len);
        if (r <= 0)
            return -1;
        len += (size_t)r;
    }
    *used = len - (head + body); /* bytes that follow the answer (WebSocket frames) */
    if (*used)
        memmove(buf, buf + head + body, *used);
    return status;
}

static int open_stream(struct stream *s)
{
    s->fd = dial();
    if (s->fd < 0)
        return -1;
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
                     port, token);
    if (write_all(s->fd, req, (size_t)n) != 0)
        return -1;
    if (read_answer(s->fd, s->buf, sizeof(s->buf), &s->len) != 101)
        return -1;
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

/* "2026-11-27T20:30:00.123Z" -> Unix ms, or -1. */
static double parse_iso_ms(const char *p)
{
    struct tm tm = {0};
    int ms = 0;
    if (sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm) * 1e3 + ms;
}

static double *lat, *ack_lat;
static size_t n_lat, n_ack;

/* Takes the complete frames out of s->buf; a message.created frame counts as a delivery. */
static int drain_frames(struct stream *s, double t, double ack_at)
{
    size_t pos = 0;
    for (;;) {
        if (s->len - pos < 2)
            break;
        const unsigned char *h = (const unsigned char *)s->buf + pos;
        size_t hl = 2, pl = h[1] & 0x7f;
        if (pl == 126) {
            if (s->len - pos < 4)
                break;
            pl = (size_t)h[2] << 8 | h[3];
            hl = 4;
        } else if (pl == 127) {
            if (s->len - pos < 10)
                break;
            pl = 0;
            for (int i = 2; i < 10; i++)
                pl = pl << 8 | h[i];
            hl = 10;
        }
        if (hl + pl > sizeof(s->buf))
            return -1;
        if (s->len - pos < hl + pl)
            break;
        const char *payload = s->buf + pos + hl;
        if ((h[0] & 0x0f) == 1 && memmem(payload, pl, "\"message.created\"", 17)) {
            const char *m = memmem(payload, pl, "\"message\":{", 11);
            const char *ca =
                m ? memmem(m, pl - (size_t)(m - payload), "\"created_at\":\"", 14) : NULL;
            double created = ca ? parse_iso_ms(ca + 14) : -1;
            if (created > 0)
                lat[n_lat++] = t - created;
            if (ack_at > 0)
                ack_lat[n_ack++] = t - ack_at;
            s->got++;
        }
        pos += hl + pl;
    }
    memmove(s->buf, s->buf + pos, s->len - pos);
    s->len -= pos;
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof(*v), cmp);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: stream_fanout PORT TOKEN INBOX [STREAMS [MESSAGES]]\n");
        return 2;
    }
    port = atoi(argv[1]);
    token = argv[2];
    inbox = argv[3];
    int n = argc > 4 ? atoi(argv[4]) : 1000;
    long messages = argc > 5 ? atol(argv[5]) : 50;
    if (port <= 0 || n <= 0 || n > MAX_STREAMS || messages <= 0) {
        fprintf(stderr, "stream_fanout: bad arguments\n");
        return 2;
    }
    struct stream *st = calloc((size_t)n, sizeof(*st));
    lat = calloc((size_t)n * (size_t)messages, sizeof(*lat));
    ack_lat = calloc((size_t)n * (size_t)messages, sizeof(*ack_lat));
    if (!st || !lat || !ack_lat)
        return 1;
    int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        if (open_stream(&st[i]) != 0) {
            fprintf(stderr, "stream_fanout: stream %d: handshake failed (%s)\n", i,
                    strerror(errno));
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, st[i].fd, &ev);
    }
    int poster = dial();
    if (poster < 0)
        return 1;
    struct epoll_event evs[256];
    char ans[8192];
    long lost = 0;
    for (long m = 0; m < messages; m++) {
        char body[256], req[1024];
        int bl = snprintf(body, sizeof(body),
                          "{\"sender\":{\"kind\":\"email\",\"value\":\"fanout%ld@example.test\"},"
                          "\"text\":\"Fan-out message %ld\"}",
                          m % 20, m);
        int rl = snprintf(req, sizeof(req),
                          "POST /api/v1/inboxes/%s/messages HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                          "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %d\r\n\r\n%s",
                          inbox, port, token, bl, body);
        double ack_at = -1;
        if (write_all(poster, req, (size_t)rl) != 0)
            return 1;
        /* the answer is read blocking: frames wait in the kernel meanwhile, and their arrival
         * is stamped when read - so the poster's wait counts against the server */
        size_t extra;
        int status = read_answer(poster, ans, sizeof(ans), &extra);
        ack_at = now_ms();
        if (status != 201) {
            fprintf(stderr, "stream_fanout: POST answered %d\n", status);
            return 1;
        }
        double deadline = now_ms() + WAIT_MS;
        long want = m + 1;
        int done = 0;
        while (done < n && now_ms() < deadline) {
            int k = epoll_wait(ep, evs, 256, 100);
            double t = now_ms();
            for (int e = 0; e < k; e++) {
                struct stream *s = &st[evs[e].data.u32];
                for (;;) {
                    ssize_t r = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
                    if (r <= 0)
                        break;
                    s->len += (size_t)r;
                    if (drain_frames(s, t, ack_at) != 0)
                        return 1;
                }
            }
            done = 0;
            for (int i = 0; i < n; i++)
                done += st[i].got >= want;
        }
        lost += n - done;
        for (int i = 0; i < n; i++)
            if (st[i].got < want)
                st[i].got = want; /* count it once */
        struct timespec pause = {.tv_nsec = 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    size_t deliveries = n_lat;
    double p50 = pct(lat, n_lat, 0.50), p99 = pct(lat, n_lat, 0.99),
           max = n_lat ? lat[n_lat - 1] : 0;
    double a50 = pct(ack_lat, n_ack, 0.50), a99 = pct(ack_lat, n_ack, 0.99);
    printf("fanout streams=%d messages=%ld deliveries=%zu lost=%ld p50_ms=%.2f p99_ms=%.2f "
           "max_ms=%.2f ack_p50_ms=%.2f ack_p99_ms=%.2f\n",
           n, messages, deliveries, lost, p50, p99, max, a50, a99);
    return lost == 0 ? 0 : 1;
}
