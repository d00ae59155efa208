/* SPDX-License-Identifier: MIT */
/* api_search.c - GET /api/v1/search: full-text search over the messages the agent may see,
 * with HTML-escaped snippets that mark the hits. */
#include "api.h"

static void search(struct kp_call *call)
{
    char q[256];
    int64_t limit;
    int n = kp_call_query(call, "q", q, sizeof(q));
    if (n <= 0) {
        kp_call_error(call, 400, n == -1 ? "missing_field" : "invalid_value", "q",
                      "query parameter 'q' must have 1 to 255 characters");
        return;
    }
    if (kp_call_query_int(call, "limit", 1, 50, 20, &limit))
        return;
    struct kp_viewer v = kp_call_viewer(call);
    json_t *items;
    int rc = KP_STORE(call->api->store, search, &v, q, (int)limit, &items);
    if (rc)
        kp_call_store_error(call, rc, "search");
    else
        kp_call_json(call, 200, json_pack("{so}", "items", items));
}

const struct kp_route kp_api_search_routes[] = {
    {"GET", "/api/v1/search", search, KP_AGENT, false},
    {0},
};
