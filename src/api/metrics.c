/* SPDX-License-Identifier: MIT */
/* metrics.c - counters and histograms for /metrics (see metrics.h). Loop thread only, except
 * the writer's own counters, which are atomics. */
#include "metrics.h"

#include <malloc.h>
#include "stream.h"

enum { MAX_ROUTES = 96, MAX_STATUS = 16, MAX_CHANNELS = 16 };

struct route_stats {
    const char *route;
    struct kp_hist latency;
    struct {
        int status;
        uint64_t count;
    } by_status[MAX_STATUS];
};

struct kp_metrics {
    uv_mutex_t mu; /* every event loop records here */
    struct route_stats routes[MAX_ROUTES];
    size_t n_routes;
    struct {
        const char *channel;
        uint64_t stored, duplicates;
    } ingest[MAX_CHANNELS];
};

int kp_metrics_new(struct kp_metrics **out)
{
    *out = kp_xcalloc(1, sizeof(**out));
    uv_mutex_init(&(*out)->mu);
    return 0;
}

void kp_metrics_free(struct kp_metrics *m)
{
    if (m)
        uv_mutex_destroy(&m->mu);
    free(m);
}

static void record(struct kp_metrics *m, const char *route, int status, double seconds);

void kp_metrics_request(struct kp_metrics *m, const char *route, int status, double seconds)
{
    uv_mutex_lock(&m->mu);
    record(m, route, status, seconds);
    uv_mutex_unlock(&m->mu);
}

static void record(struct kp_metrics *m, const char *route, int status, double seconds)
{
    struct route_stats *r = NULL;
    for (size_t i = 0; i < m->n_routes; i++)
        if (m->routes[i].route == route || strcmp(m->routes[i].route, route) == 0) {
            r = &m->routes[i];
            break;
        }
    if (!r) {
        if (m->n_routes == MAX_ROUTES)
            r = &m->routes[MAX_ROUTES - 1]; /* fold the rest into the last slot */
        else
            r = &m->routes[m->n_routes++];
        if (!r->route)
            r->route = route;
    }
    kp_hist_observe(&r->latency, seconds);
    for (int i = 0; i < MAX_STATUS; i++) {
        if (r->by_status[i].status == status || r->by_status[i].status == 0) {
            r->by_status[i].status = status;
            r->by_status[i].count++;
            return;
        }
    }
    r->by_status[MAX_STATUS - 1].count++;
}

void kp_metrics_ingested(struct kp_metrics *m, const char *channel, bool duplicate)
{
    uv_mutex_lock(&m->mu);
    for (int i = 0; i < MAX_CHANNELS; i++) {
        if (!m->ingest[i].channel || strcmp(m->ingest[i].channel, channel) == 0) {
            if (!m->ingest[i].channel)
                m->ingest[i].channel = channel; /* callers pass string literals */
            if (duplicate)
                m->ingest[i].duplicates++;
            else
                m->ingest[i].stored++;
            break;
        }
    }
    uv_mutex_unlock(&m->mu);
}

int kp_metrics_render(struct kp_api *api, struct kp_buf *out)
{
    struct kp_metrics *m = api->metrics;
    uv_mutex_lock(&m->mu);
    kp_buf_puts(out, "# HELP kp_http_requests_total HTTP requests by route and status.\n"
                     "# TYPE kp_http_requests_total counter\n");
    for (size_t i = 0; i < m->n_routes; i++)
        for (int k = 0; k < MAX_STATUS && m->routes[i].by_status[k].status; k++)
            kp_buf_printf(out, "kp_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                          m->routes[i].route, m->routes[i].by_status[k].status,
                          (unsigned long long)m->routes[i].by_status[k].count);
    kp_buf_puts(out, "# HELP kp_http_request_duration_seconds Request latency by route.\n"
                     "# TYPE kp_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->n_routes; i++) {
        char labels[160];
        snprintf(labels, sizeof(labels), "route=\"%s\"", m->routes[i].route);
        kp_hist_write(&m->routes[i].latency, out, "kp_http_request_duration_seconds", labels);
    }
    kp_buf_puts(out, "# HELP kp_messages_ingested_total Inbound messages stored, by channel.\n"
                     "# TYPE kp_messages_ingested_total counter\n");
    for (int i = 0; i < MAX_CHANNELS && m->ingest[i].channel; i++)
        kp_buf_printf(out, "kp_messages_ingested_total{channel=\"%s\"} %llu\n",
                      m->ingest[i].channel, (unsigned long long)m->ingest[i].stored);
    kp_buf_puts(out, "# HELP kp_messages_duplicate_total Inbound retries answered without "
                     "storing.\n# TYPE kp_messages_duplicate_total counter\n");
    for (int i = 0; i < MAX_CHANNELS && m->ingest[i].channel; i++)
        kp_buf_printf(out, "kp_messages_duplicate_total{channel=\"%s\"} %llu\n",
                      m->ingest[i].channel, (unsigned long long)m->ingest[i].duplicates);
    /* every loop's connections, counted in shared atomics */
    size_t websockets = (size_t)atomic_load(api->open_websockets);
    size_t connections = (size_t)atomic_load(api->open_connections);
    const struct kp_writer_stats *ws = kp_writer_stats(api->writer);
    kp_buf_printf(out,
                  "# HELP kp_store_commits_total Store transactions committed by the writer.\n"
                  "# TYPE kp_store_commits_total counter\nkp_store_commits_total %llu\n"
                  "# HELP kp_store_writes_total Write jobs run by the writer.\n"
                  "# TYPE kp_store_writes_total counter\nkp_store_writes_total %llu\n"
                  "# HELP kp_store_commit_failures_total Transactions that failed to commit.\n"
                  "# TYPE kp_store_commit_failures_total counter\n"
                  "kp_store_commit_failures_total %llu\n"
                  "# HELP kp_store_commit_duration_seconds Writer transaction latency.\n"
                  "# TYPE kp_store_commit_duration_seconds histogram\n",
                  (unsigned long long)atomic_load(&ws->commits),
                  (unsigned long long)atomic_load(&ws->jobs),
                  (unsigned long long)atomic_load(&ws->failures));
    kp_hist_write(&ws->commit_latency, out, "kp_store_commit_duration_seconds", "");
    kp_buf_printf(out,
                  "# HELP kp_websockets_open Open WebSocket connections.\n"
                  "# TYPE kp_websockets_open gauge\nkp_websockets_open %zu\n"
                  "# HELP kp_http_connections_open Open client connections.\n"
                  "# TYPE kp_http_connections_open gauge\nkp_http_connections_open %zu\n"
                  "# HELP kp_writer_queue Write jobs waiting or running.\n"
                  "# TYPE kp_writer_queue gauge\nkp_writer_queue %zu\n"
                  "# HELP kp_heap_bytes Heap memory in use (malloc), all threads.\n"
                  "# TYPE kp_heap_bytes gauge\nkp_heap_bytes %zu\n",
                  websockets, connections, kp_writer_pending(api->writer), mallinfo2().uordblks);
    uv_mutex_unlock(&m->mu);
    return 0;
}
