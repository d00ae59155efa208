/* SPDX-License-Identifier: MIT */
/*
 * api_notifications.c - /api/v1/notifications: what an agent should look at (for now: he was
 * @mentioned in an internal note, see api_conversations.c). Every agent sees and marks only his
 * own; new ones are also pushed to his open streams (stream.h).
 */
#include "api.h"

enum { LIST_DEFAULT = 50 };

struct read_write {
    int64_t agent_id, id; /* id 0 = all of the agent's notifications */
};

static void list(struct kp_call *call)
{
    char flag[8];
    int n = kp_call_query(call, "unread", flag, sizeof(flag));
    bool unread_only = n > 0 && (strcmp(flag, "1") == 0 || strcmp(flag, "true") == 0);
    if (n == -2 ||
        (n > 0 && !unread_only && strcmp(flag, "0") != 0 && strcmp(flag, "false") != 0)) {
        kp_call_error(call, 400, "invalid_value", "unread",
                      "query parameter 'unread' must be 1, 0, true or false");
        return;
    }
    int64_t limit, before;
    if (kp_call_query_int(call, "limit", 1, KP_QUERY_MAX_LIMIT, LIST_DEFAULT, &limit) ||
        kp_call_query_int(call, "before", 1, INT64_MAX, 0, &before))
        return;
    json_t *items;
    int64_t unread = 0;
    int rc = KP_STORE(call->api->store, notification_list, call->auth.who.agent_id, unread_only,
                      before, (int)limit, &items, &unread);
    if (rc)
        kp_call_store_error(call, rc, "notifications");
    else
        kp_call_json(call, 200, json_pack("{sosI}", "items", items, "unread", (json_int_t)unread));
}

static int read_run(struct kp_store *s, void *ctx)
{
    struct read_write *w = ctx;
    return KP_STORE(s, notification_read, w->agent_id, w->id);
}

static void read_done(struct kp_call *call, void *ctx, int rc)
{
    struct read_write *w = ctx;
    if (rc) {
        kp_call_store_error(call, rc, "notification");
        return;
    }
    if (!w->id) {
        kp_req_respond(call->req, 204, "application/json", "", "", 0);
        return;
    }
    json_t *n;
    rc = KP_STORE(call->api->store, notification_get, w->agent_id, w->id, &n);
    if (rc)
        kp_call_store_error(call, rc, "notification");
    else
        kp_call_json(call, 200, n);
}

static void mark_read(struct kp_call *call, int64_t id)
{
    struct read_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->agent_id = call->auth.who.agent_id;
    w->id = id;
    kp_call_write(call, w, read_run, read_done);
}

static void read_one(struct kp_call *call)
{
    mark_read(call, call->ids[0]);
}

static void read_all(struct kp_call *call)
{
    mark_read(call, 0);
}

const struct kp_route kp_api_notifications_routes[] = {
    {"GET", "/api/v1/notifications", list, KP_AGENT, false},
    {"POST", "/api/v1/notifications/read", read_all, KP_AGENT, false},
    {"POST", "/api/v1/notifications/{id}/read", read_one, KP_AGENT, false},
    {0},
};
