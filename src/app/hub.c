/* SPDX-License-Identifier: MIT */
/*
 * hub.c - wiring and lifecycle of the server process (see hub.h).
 *
 * One "front" per thread: its own libuv loop, HTTP server accepting on the shared socket,
 * read connection, credential and answer caches, and stream clients. Front 0 runs on the main
 * thread and also owns the signals, the job runner and housekeeping. All fronts share the one
 * writer (each with its own completion port), the metrics, and the bus between loops.
 */
#include "hub.h"
#include "demo.h"
#include "pipeline.h"
#include "../api/auth.h"
#include "../api/bus.h"
#include "../api/cache.h"
#include "../api/metrics.h"
#include "../api/online.h"
#include "../api/stream.h"
#include "../api/visitor.h"
#include "../base/clock.h"
#include "../base/log.h"
#include "../channel/email_listen.h"
#include "../channel/email_imap.h"
#include "../channel/email_send.h"

#include <signal.h>

enum {
    DRAIN_POLL_MS = 10,
    DRAIN_MAX_MS = 30000,
    PRUNE_EVERY_MS = 3600 * 1000,
    EVENTS_KEPT_MS = 7 * 24 * 3600 * 1000LL,
    VISITOR_EVENTS_KEPT_MS = 90 * 24 * 3600 * 1000LL,
    MAX_FRONTS = 64,
};

static const char demo_email[] = "admin@demo.knotenpunkt.test";
static const char demo_password[] = "knotenpunkt";

struct hub;

struct front {
    struct kp_api api;
    struct hub *hub;
    uv_loop_t own_loop; /* fronts after the first */
    uv_thread_t thread;
    uv_async_t stop;
    uv_timer_t drain;
    int64_t drain_started;
    bool stopping, drain_warned;
};

struct hub {
    struct front *fronts;
    size_t n;
    struct kp_api *peers[MAX_FRONTS];
    struct kp_writer *writer;
    struct kp_metrics *metrics;
    struct kp_online *online; /* agents with an open stream, for the chat widget */
    struct kp_pipeline *pipeline;
    struct kp_email_listener *lmtp, *smtp; /* on the first loop, when configured */
    struct kp_email_sender *sender;
    struct kp_email_fetcher *fetcher;
    bool demo;
    uv_signal_t sigterm, sigint;
    uv_timer_t prune;
    struct kp_writer_job prune_job;
    bool prune_running;
    atomic_int open_connections; /* of every front, for max_connections and the metrics */
    atomic_int open_websockets;
};

int kp_hub_open_store(const struct kp_config *cfg, struct kp_store **out)
{
    char url[1100];
    snprintf(url, sizeof(url), "%s%s", cfg->data,
             strcmp(cfg->sync, "normal") == 0 ? "?sync=normal" : "");
    int rc = kp_store_open(url, out);
    if (rc)
        return rc;
    int version;
    if ((rc = KP_STORE(*out, migrate, &version))) {
        kp_store_close(*out);
        *out = NULL;
    }
    return rc;
}

/* On the writer thread after a commit: every loop gets the commit's notices, in commit order;
 * new messages wake the pipeline. */
static void on_commit(void *ud, const struct kp_notice *notices, size_t n)
{
    struct hub *h = ud;
    bool messages = false;
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < h->n; f++)
            kp_bus_post(&h->fronts[f].api, &notices[i]);
        messages |= notices[i].kind == KP_NOTICE_EVENT &&
                    strcmp(notices[i].ev.type, "message.created") == 0;
    }
    if (messages && h->pipeline)
        kp_pipeline_nudge(h->pipeline);
}

/* ---- housekeeping (front 0) ---- */

static int prune_run(struct kp_store *s, void *ctx)
{
    (void)ctx;
    int64_t now = kp_clock_now_ms();
    int rc = KP_STORE(s, event_prune, now - EVENTS_KEPT_MS);
    return rc ? rc : KP_STORE(s, visitor_prune, now, now - VISITOR_EVENTS_KEPT_MS);
}

static void prune_done(void *ctx, int rc)
{
    struct hub *h = ctx;
    h->prune_running = false;
    if (rc)
        kp_log_warn("cannot prune old events: %s", kp_strerror(rc));
}

/* The event log keeps a week, enough for any reconnect to catch up; expired visitor sessions
 * go, and page views after 90 days. */
static void on_prune(uv_timer_t *t)
{
    struct hub *h = t->data;
    if (h->prune_running || h->fronts[0].stopping)
        return;
    h->prune_running = true;
    h->prune_job = (struct kp_writer_job){.run = prune_run, .done = prune_done, .ctx = h};
    kp_writer_submit(h->writer, &h->prune_job);
}

/* ---- stopping ---- */

static size_t email_busy(struct hub *h)
{
    return (h->lmtp ? kp_email_listen_busy(h->lmtp) : 0) +
           (h->smtp ? kp_email_listen_busy(h->smtp) : 0) + kp_email_send_busy(h->sender) +
           kp_email_imap_busy(h->fetcher);
}

/* Requests in flight hold memory their writer jobs and hashes will use: a front waits for them
 * however long it takes; connections that only deliver answers get a deadline. */
static bool front_idle(struct front *f, bool late)
{
    struct kp_server *srv = f->api.server;
    bool first = f == &f->hub->fronts[0];
    if (kp_server_busy(srv) || kp_visitor_busy(f->api.visitors) ||
        (first && (kp_writer_pending(f->hub->writer) || kp_pipeline_busy(f->hub->pipeline) ||
                   f->hub->prune_running || email_busy(f->hub)))) {
        if (late && !f->drain_warned) {
            kp_log_warn("still waiting for %zu requests to finish",
                        kp_server_busy(srv) + kp_visitor_busy(f->api.visitors));
            f->drain_warned = true;
        }
        return false;
    }
    return late || kp_server_connections(srv) == 0;
}

static void on_drain(uv_timer_t *t)
{
    struct front *f = t->data;
    if (!front_idle(f, kp_clock_now_ms() - f->drain_started > DRAIN_MAX_MS))
        return;
    struct hub *h = f->hub;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, NULL);
    uv_close((uv_handle_t *)&f->stop, NULL);
    kp_bus_close(&f->api);
    if (f == &h->fronts[0]) {
        uv_close((uv_handle_t *)&h->prune, NULL);
        uv_close((uv_handle_t *)&h->sigterm, NULL);
        uv_close((uv_handle_t *)&h->sigint, NULL);
        kp_email_listen_free(h->lmtp);
        kp_email_listen_free(h->smtp);
        kp_email_send_free(h->sender);
        kp_email_imap_free(h->fetcher);
        h->lmtp = h->smtp = NULL;
        h->sender = NULL;
        h->fetcher = NULL;
    } else {
        kp_writer_port_close(f->api.port);
    }
    struct kp_server *srv = f->api.server;
    f->api.server = NULL;
    kp_server_free(srv);
}

static void front_stop(struct front *f)
{
    if (f->stopping)
        return;
    f->stopping = true;
    kp_server_stop_listening(f->api.server);
    if (f == &f->hub->fronts[0]) {
        kp_pipeline_stop(f->hub->pipeline);
        if (f->hub->lmtp)
            kp_email_listen_stop(f->hub->lmtp);
        if (f->hub->smtp)
            kp_email_listen_stop(f->hub->smtp);
        kp_email_send_stop(f->hub->sender);
        kp_email_imap_stop(f->hub->fetcher);
    }
    f->drain_started = kp_clock_now_ms();
    uv_timer_init(f->api.loop, &f->drain);
    f->drain.data = f;
    uv_timer_start(&f->drain, on_drain, 0, DRAIN_POLL_MS);
}

static void on_stop(uv_async_t *a)
{
    front_stop(a->data);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct hub *h = s->data;
    if (h->fronts[0].stopping)
        return;
    kp_log_info("signal %d: finishing open requests, then stopping", signum);
    for (size_t i = 1; i < h->n; i++)
        uv_async_send(&h->fronts[i].stop);
    front_stop(&h->fronts[0]);
}

/* ---- set-up ---- */

static int seed_demo(struct kp_store *s)
{
    char hash[KP_AUTH_HASH_LEN];
    if (kp_auth_hash_password(demo_password, hash))
        return KP_ENOMEM;
    struct kp_demo_info info;
    int rc = kp_demo_seed(s, 2026, hash, &info);
    if (rc == KP_EEXIST)
        return 0; /* seeded before: keep what is there */
    if (!rc)
        kp_log_info("demo data: %d teams, %d agents, %d contacts, %d conversations, %d messages",
                    info.teams, info.agents, info.contacts, info.conversations, info.messages);
    return rc;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Runs a loop to its end and closes what is left on it. */
static void run_loop(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    uv_walk(loop, close_walk, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
}

static void thread_main(void *arg)
{
    struct front *f = arg;
    run_loop(f->api.loop);
}

static int front_init(struct hub *h, size_t i, const struct kp_config *cfg)
{
    struct front *f = &h->fronts[i];
    struct kp_api *api = &f->api;
    f->hub = h;
    if (i == 0) {
        api->loop = uv_default_loop();
    } else {
        api->loop = &f->own_loop;
        uv_loop_init(api->loop);
    }
    int rc = kp_hub_open_store(cfg, &api->store);
    if (rc)
        return rc;
    api->writer = h->writer;
    api->port = i == 0 ? kp_writer_main_port(h->writer) : kp_writer_port_new(h->writer, api->loop);
    api->metrics = h->metrics;
    api->limits.json_depth = cfg->json_depth;
    api->limits.max_attachment_bytes = cfg->max_attachment;
    api->limits.max_body_bytes = cfg->max_body;
    api->started_ms = kp_clock_now_ms();
    api->cookie_secure = cfg->cookie_secure;
    api->demo = h->demo;
    api->demo_customer = h->demo ? KP_DEMO_SHOP_CUSTOMER : NULL;
    api->online = h->online;
    api->peers = h->peers;
    api->n_peers = h->n;
    api->open_connections = &h->open_connections;
    api->open_websockets = &h->open_websockets;
    kp_stream_new(api, &api->stream);
    kp_visitor_new(api, &api->visitors);
    kp_auth_cache_new(&api->auth);
    kp_cache_new(cfg->cache_bytes, &api->cache);
    kp_bus_init(api);
    uv_async_init(api->loop, &f->stop, on_stop);
    f->stop.data = f;
    uv_unref((uv_handle_t *)&f->stop);
    struct kp_server_config sc = {
        .host = cfg->host,
        .port = cfg->port,
        .share_with = i > 0 ? h->fronts[0].api.server : NULL,
        .limits = {.max_header_bytes = cfg->max_header, .max_body_bytes = cfg->max_body},
        .max_connections = cfg->max_connections,
        .open_connections = &h->open_connections,
        .open_websockets = &h->open_websockets,
        .request_timeout_ms = cfg->request_timeout_ms,
        .idle_timeout_ms = cfg->idle_timeout_ms,
        .ws_max_message = 65536,
        .on_request = kp_api_on_request,
        .on_finish = kp_api_on_finish,
        .app = api,
    };
    return kp_server_new(api->loop, &sc, &api->server);
}

static void front_release(struct front *f, size_t i)
{
    struct kp_api *api = &f->api;
    if (!api->loop)
        return;
    if (i > 0)
        uv_loop_close(api->loop);
    kp_store_close(api->store);
    kp_stream_free(api->stream);
    kp_visitor_free(api->visitors);
    kp_auth_cache_free(api->auth);
    kp_cache_free(api->cache);
    kp_bus_release(api);
}

/* The email channel on the first loop: LMTP and SMTP listeners when configured (their
 * addresses printed for scripts, like the HTTP one), and the outbox's sender. */
static int email_start(struct hub *h, const struct kp_config *cfg)
{
    struct kp_api *api = &h->fronts[0].api;
    for (int lmtp = 1; lmtp >= 0; lmtp--) {
        struct kp_email_listen_config lc = {
            .host = lmtp ? cfg->lmtp_host : cfg->smtp_host,
            .port = lmtp ? cfg->lmtp_port : cfg->smtp_port,
            .lmtp = lmtp,
            .max_size = cfg->mail_max_size,
            .max_connections = 200,
            .idle_timeout_ms = 300000,
            .hostname = cfg->mail_hostname,
        };
        if (lc.port < 0)
            continue;
        struct kp_email_listener **l = lmtp ? &h->lmtp : &h->smtp;
        int rc = kp_email_listen_new(api, &lc, l);
        if (rc)
            return rc;
        printf("%s on %s:%d\n", lmtp ? "lmtp" : "smtp", lc.host, kp_email_listen_port(*l));
    }
    struct kp_email_send_config sc = {.retry_ms = cfg->mail_retry_ms,
                                      .hostname = cfg->mail_hostname,
                                      .ca_file = cfg->mail_ca_file};
    int rc = kp_email_send_start(api, &sc, &h->sender);
    return rc ? rc : kp_email_imap_start(api, cfg->mail_ca_file, &h->fetcher);
}

int kp_hub_run(const struct kp_config *cfg, bool demo)
{
    struct hub h = {.demo = demo};
    struct kp_store *wstore = NULL;
    int rc;
    signal(SIGPIPE, SIG_IGN);
    if ((rc = kp_hub_open_store(cfg, &wstore))) {
        fprintf(stderr, "knotenpunkt: cannot open the store in '%s': %s\n", cfg->data,
                kp_strerror(rc));
        return 1;
    }
    if (demo && (rc = seed_demo(wstore))) {
        fprintf(stderr, "knotenpunkt: cannot seed demo data: %s\n", kp_strerror(rc));
        kp_store_close(wstore);
        return 1;
    }
    h.n = cfg->threads > 0 ? (size_t)cfg->threads : (size_t)uv_available_parallelism();
    if (h.n > MAX_FRONTS)
        h.n = MAX_FRONTS;
    h.fronts = kp_xcalloc(h.n, sizeof(*h.fronts));
    for (size_t i = 0; i < h.n; i++)
        h.peers[i] = &h.fronts[i].api;
    kp_metrics_new(&h.metrics);
    kp_online_new(&h.online);
    if ((rc = kp_writer_new(uv_default_loop(), wstore, &h.writer))) {
        kp_store_close(wstore);
        goto out;
    }
    kp_writer_on_commit(h.writer, on_commit, &h);
    /* the first front binds the port (perhaps an ephemeral one); the others share its socket */
    for (size_t i = 0; i < h.n; i++) {
        if ((rc = front_init(&h, i, cfg))) {
            fprintf(stderr, "knotenpunkt: cannot start: %s\n", kp_strerror(rc));
            goto out;
        }
    }
    int port = kp_server_port(h.fronts[0].api.server);
    uv_loop_t *main_loop = h.fronts[0].api.loop;
    kp_pipeline_start(&h.fronts[0].api, &h.pipeline);
    if ((rc = email_start(&h, cfg))) {
        fprintf(stderr, "knotenpunkt: cannot start the email channel: %s\n", kp_strerror(rc));
        goto out;
    }
    uv_timer_init(main_loop, &h.prune);
    h.prune.data = &h;
    uv_timer_start(&h.prune, on_prune, 60 * 1000, PRUNE_EVERY_MS);
    uv_signal_init(main_loop, &h.sigterm);
    uv_signal_init(main_loop, &h.sigint);
    h.sigterm.data = h.sigint.data = &h;
    uv_signal_start(&h.sigterm, on_signal, SIGTERM);
    uv_signal_start(&h.sigint, on_signal, SIGINT);
    for (size_t i = 1; i < h.n; i++)
        uv_thread_create(&h.fronts[i].thread, thread_main, &h.fronts[i]);

    printf("listening on http://%s:%d\n", cfg->host, port);
    if (demo)
        printf("demo login: %s / %s\n", demo_email, demo_password);
    fflush(stdout);
    kp_log_info("knotenpunkt %s listening on %s:%d with %zu event loops, data in '%s'", KP_VERSION,
                cfg->host, port, h.n, cfg->data);

    uv_run(main_loop, UV_RUN_DEFAULT);
    for (size_t i = 1; i < h.n; i++)
        uv_thread_join(&h.fronts[i].thread);
    rc = 0;
out:
    if (rc) {
        /* a failed start: nothing runs yet; close what was opened */
        kp_email_listen_free(h.lmtp);
        kp_email_listen_free(h.smtp);
        kp_email_send_free(h.sender);
        kp_email_imap_free(h.fetcher);
        for (size_t i = 0; i < h.n; i++)
            if (h.fronts[i].api.server)
                kp_server_free(h.fronts[i].api.server);
    }
    kp_writer_free(h.writer); /* commits what is queued, closes the write store */
    run_loop(uv_default_loop());
    uv_loop_close(uv_default_loop());
    if (rc)
        for (size_t i = 1; i < h.n; i++)
            if (h.fronts[i].api.loop)
                run_loop(h.fronts[i].api.loop);
    for (size_t i = 0; i < h.n; i++)
        front_release(&h.fronts[i], i);
    kp_pipeline_free(h.pipeline);
    kp_metrics_free(h.metrics);
    kp_online_free(h.online);
    free(h.fronts);
    if (!rc)
        kp_log_info("stopped cleanly");
    return rc ? 1 : 0;
}
