/* SPDX-License-Identifier: MIT */
/* api_system.c - /healthz, /metrics and the OpenAPI document. */
#include "api.h"
#include "metrics.h"
#include "../base/clock.h"
#include "../base/embed.h"

extern const struct kp_embed kp_api_docs[];
extern const size_t kp_api_docs_count;

static void healthz(struct kp_call *call)
{
    json_t *stats = NULL;
    int rc = KP_STORE(call->api->store, stats, &stats);
    if (rc) {
        kp_call_error(call, 503, "unavailable", NULL, "store is not answering");
        return;
    }
    json_t *o =
        json_pack("{sssssIso}", "status", "ok", "version", KP_VERSION, "uptime_s",
                  (json_int_t)((kp_clock_now_ms() - call->api->started_ms) / 1000), "store", stats);
    kp_call_json(call, 200, o);
}

static void metrics(struct kp_call *call)
{
    struct kp_buf b;
    kp_buf_init(&b, 0);
    kp_metrics_render(call->api, &b);
    kp_req_respond(call->req, 200, "text/plain; version=0.0.4", "", b.data ? b.data : "", b.len);
    kp_buf_release(&b);
}

static void openapi(struct kp_call *call)
{
    const struct kp_embed *doc = kp_embed_find(kp_api_docs, kp_api_docs_count, "openapi.json");
    kp_req_respond(call->req, 200, "application/json", "Cache-Control: max-age=300\r\n", doc->data,
                   doc->size);
}

const struct kp_route kp_api_system_routes[] = {
    {"GET", "/healthz", healthz, KP_PUBLIC, false},
    {"GET", "/metrics", metrics, KP_PUBLIC, false},
    {"GET", "/api/v1/openapi.json", openapi, KP_PUBLIC, false},
    {0},
};
