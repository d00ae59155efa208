/* SPDX-License-Identifier: MIT */
/* api_audit.c - GET /api/v1/audit: who changed what, newest first (admins only). */
#include "api.h"

static void list(struct kp_call *call)
{
    int64_t before, limit;
    if (kp_call_query_int(call, "before", 1, INT64_MAX, 0, &before) ||
        kp_call_query_int(call, "limit", 1, KP_QUERY_MAX_LIMIT, 50, &limit))
        return;
    json_t *items;
    int rc = KP_STORE(call->api->store, audit_list, before, (int)limit, &items);
    if (rc)
        kp_call_store_error(call, rc, "audit log");
    else
        kp_call_json(call, 200, json_pack("{so}", "items", items));
}

const struct kp_route kp_api_audit_routes[] = {
    {"GET", "/api/v1/audit", list, KP_ADMIN, false},
    {0},
};
