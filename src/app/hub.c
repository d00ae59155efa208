/* SPDX-License-Identifier: MIT */
/* hub.c - wiring and lifecycle of the server process (see hub.h). */
#include "hub.h"
#include "demo.h"
#include "jobs.h"
#include "../api/auth.h"
#include "../api/cache.h"
#include "../api/metrics.h"
#include "../api/stream.h"
#include "../base/clock.h"
#include "../base/log.h"

#include <signal.h>

enum {
    DRAIN_POLL_MS = 10,
    DRAIN_MAX_MS = 30000,
    PRUNE_EVERY_MS = 3600 * 1000,
    EVENTS_KEPT_MS = 7 * 24 * 3600 * 1000LL,
};

static const char demo_email[] = "admin@demo.knotenpunkt.test";
static const char demo_password[] = "knotenpunkt";

struct hub {
    uv_loop_t *loop;
    struct kp_api api;
    struct kp_server *server;
    struct kp_jobs *jobs;
    uv_signal_t sigterm, sigint;
    uv_timer_t drain;
    uv_timer_t prune;
    struct kp_writer_job prune_job;
    bool prune_running;
    int64_t drain_started;
    bool drain_warned;
    bool stopping;
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

static void on_ingested(struct kp_api *api)
{
    struct hub *h = (struct hub *)((char *)api - offsetof(struct hub, api));
    kp_jobs_nudge(h->jobs);
}

static int prune_run(struct kp_store *s, void *ctx)
{
    (void)ctx;
    return KP_STORE(s, event_prune, kp_clock_now_ms() - EVENTS_KEPT_MS);
}

static void prune_done(void *ctx, int rc)
{
    struct hub *h = ctx;
    h->prune_running = false;
    if (rc)
        kp_log_warn("cannot prune old events: %s", kp_strerror(rc));
}

/* Housekeeping: the event log keeps a week, enough for any reconnect to catch up. */
static void on_prune(uv_timer_t *t)
{
    struct hub *h = t->data;
    if (h->prune_running || h->stopping)
        return;
    h->prune_running = true;
    h->prune_job = (struct kp_writer_job){.run = prune_run, .done = prune_done, .ctx = h};
    kp_writer_submit(h->api.writer, &h->prune_job);
}

static void on_drain(uv_timer_t *t)
{
    struct hub *h = t->data;
    /* requests in flight hold memory their writer jobs and hashes will use: wait for them
     * however long it takes; connections that only have answers to deliver get a deadline */
    bool late = kp_clock_now_ms() - h->drain_started > DRAIN_MAX_MS;
    if (kp_server_busy(h->server) || kp_writer_pending(h->api.writer) || kp_jobs_busy(h->jobs) ||
        h->prune_running) {
        if (late && !h->drain_warned) {
            kp_log_warn("still waiting for %zu requests to finish", kp_server_busy(h->server));
            h->drain_warned = true;
        }
        return;
    }
    if (kp_server_connections(h->server) && !late)
        return;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, NULL);
    uv_close((uv_handle_t *)&h->prune, NULL);
    uv_close((uv_handle_t *)&h->sigterm, NULL);
    uv_close((uv_handle_t *)&h->sigint, NULL);
    kp_server_free(h->server);
    h->server = NULL;
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct hub *h = s->data;
    if (h->stopping)
        return;
    h->stopping = true;
    kp_log_info("signal %d: finishing open requests, then stopping", signum);
    kp_server_stop_listening(h->server);
    kp_jobs_stop(h->jobs);
    h->drain_started = kp_clock_now_ms();
    uv_timer_init(h->loop, &h->drain);
    h->drain.data = h;
    uv_timer_start(&h->drain, on_drain, 0, DRAIN_POLL_MS);
}

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

int kp_hub_run(const struct kp_config *cfg, bool demo)
{
    struct hub h = {0};
    struct kp_store *wstore = NULL, *rstore = NULL;
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
    if ((rc = kp_hub_open_store(cfg, &rstore))) {
        kp_store_close(wstore);
        return 1;
    }
    h.loop = uv_default_loop();
    struct kp_api *api = &h.api;
    api->loop = h.loop;
    api->store = rstore;
    api->limits.json_depth = cfg->json_depth;
    api->limits.max_attachment_bytes = cfg->max_attachment;
    api->started_ms = kp_clock_now_ms();
    api->cookie_secure = cfg->cookie_secure;
    api->on_ingested = on_ingested;
    kp_metrics_new(&api->metrics);
    kp_stream_new(rstore, &api->stream);
    kp_auth_cache_new(&api->auth);
    kp_cache_new(cfg->cache_bytes, &api->cache);
    if ((rc = kp_writer_new(h.loop, wstore, &api->writer))) {
        kp_store_close(wstore);
        goto out;
    }
    struct kp_server_config sc = {
        .host = cfg->host,
        .port = cfg->port,
        .limits = {.max_header_bytes = cfg->max_header, .max_body_bytes = cfg->max_body},
        .max_connections = cfg->max_connections,
        .request_timeout_ms = cfg->request_timeout_ms,
        .idle_timeout_ms = cfg->idle_timeout_ms,
        .ws_max_message = 65536,
        .on_request = kp_api_on_request,
        .on_finish = kp_api_on_finish,
        .app = api,
    };
    if ((rc = kp_server_new(h.loop, &sc, &h.server)))
        goto out;
    api->server = h.server;
    kp_jobs_start(api, &h.jobs);
    uv_timer_init(h.loop, &h.prune);
    h.prune.data = &h;
    uv_timer_start(&h.prune, on_prune, 60 * 1000, PRUNE_EVERY_MS);
    uv_signal_init(h.loop, &h.sigterm);
    uv_signal_init(h.loop, &h.sigint);
    h.sigterm.data = h.sigint.data = &h;
    uv_signal_start(&h.sigterm, on_signal, SIGTERM);
    uv_signal_start(&h.sigint, on_signal, SIGINT);

    printf("listening on http://%s:%d\n", cfg->host, kp_server_port(h.server));
    if (demo)
        printf("demo login: %s / %s\n", demo_email, demo_password);
    fflush(stdout);
    kp_log_info("knotenpunkt %s listening on %s:%d, data in '%s'", KP_VERSION, cfg->host,
                kp_server_port(h.server), cfg->data);

    uv_run(h.loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    if (h.server)
        kp_server_free(h.server);
    kp_writer_free(api->writer); /* commits what is queued, closes the write store */
    uv_walk(h.loop, close_walk, NULL);
    uv_run(h.loop, UV_RUN_DEFAULT);
    uv_loop_close(h.loop);
    kp_jobs_free(h.jobs);
    kp_store_close(rstore);
    kp_stream_free(api->stream);
    kp_metrics_free(api->metrics);
    kp_auth_cache_free(api->auth);
    kp_cache_free(api->cache);
    if (!rc)
        kp_log_info("stopped cleanly");
    return rc ? 1 : 0;
}
