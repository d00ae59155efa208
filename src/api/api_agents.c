/* SPDX-License-Identifier: MIT */
/* api_agents.c - /api/v1/agents: the people who answer. Admins manage them; everyone can list
 * them (to assign and mention); an agent may change his own name and password. */
#include "api.h"
#include "auth.h"

#include <sodium.h>

struct agent_write {
    int64_t actor, id;
    char email[256], name[128], role[8];
    char hash[KP_AUTH_HASH_LEN];
    bool has_name, has_role, has_hash;
    int active;
    int64_t teams[32];
    size_t n_teams;
    char password[256];
    uv_work_t work;
    struct kp_call *call;
    bool create;
};

static void list(struct kp_call *call)
{
    json_t *items;
    int rc = KP_STORE(call->api->store, agent_list, &items);
    if (rc) {
        kp_call_store_error(call, rc, "agents");
        return;
    }
    kp_call_json(call, 200, json_pack("{so}", "items", items));
}

static void get(struct kp_call *call)
{
    json_t *agent;
    int rc = KP_STORE(call->api->store, agent_get, call->ids[0], &agent);
    if (rc) {
        kp_call_store_error(call, rc, "agent");
        return;
    }
    kp_call_json(call, 200, agent);
}

static int write_run(struct kp_store *s, void *ctx)
{
    struct agent_write *a = ctx;
    int rc;
    if (a->create) {
        struct kp_agent_new in = {a->email, a->name, a->role, a->has_hash ? a->hash : NULL};
        rc = KP_STORE(s, agent_create, &in, &a->id);
        for (size_t i = 0; !rc && i < a->n_teams; i++)
            rc = KP_STORE(s, team_member, a->teams[i], a->id, true);
    } else {
        struct kp_agent_change ch = {a->has_name ? a->name : NULL, a->has_role ? a->role : NULL,
                                     a->has_hash ? a->hash : NULL, a->active};
        rc = KP_STORE(s, agent_update, a->id, &ch);
    }
    if (!rc) {
        json_t *detail = json_pack("{ss}", "email", a->email);
        rc = KP_STORE(s, audit_add, a->actor, a->create ? "agent.create" : "agent.update", "agent",
                      a->id, a->create ? detail : NULL);
        json_decref(detail);
    }
    if (!rc && !a->create)
        rc = kp_api_notify_agent(s, a->id);
    return rc;
}

static void write_done(struct kp_call *call, void *ctx, int rc)
{
    struct agent_write *a = ctx;
    if (rc) {
        kp_call_store_error(call, rc, rc == KP_EEXIST ? "agent email" : "agent or team");
        return;
    }
    json_t *agent;
    if ((rc = KP_STORE(call->api->store, agent_get, a->id, &agent))) {
        kp_call_store_error(call, rc, "agent");
        return;
    }
    kp_call_json(call, a->create ? 201 : 200, agent);
}

static void hash_work(uv_work_t *w)
{
    struct agent_write *a = w->data;
    a->has_hash = kp_auth_hash_password(a->password, a->hash) == 0;
    sodium_memzero(a->password, sizeof(a->password));
}

static void hash_done(uv_work_t *w, int status)
{
    struct agent_write *a = w->data;
    if (status || !a->has_hash) {
        kp_call_error(a->call, 503, "unavailable", NULL, "cannot hash the password now");
        return;
    }
    kp_call_write(a->call, a, write_run, write_done);
}

/* Writes now, or after hashing the password off the loop. */
static void submit(struct kp_call *call, struct agent_write *a)
{
    a->call = call;
    const char *pw = kp_json_str(call->body, "password");
    if (!pw) {
        kp_call_write(call, a, write_run, write_done);
        return;
    }
    if (strlen(pw) < 8) {
        kp_call_error(call, 400, "invalid_value", "password",
                      "password must have at least 8 characters");
        return;
    }
    snprintf(a->password, sizeof(a->password), "%s", pw);
    a->work.data = a;
    uv_queue_work(call->api->loop, &a->work, hash_work, hash_done);
}

static bool valid_role(struct kp_call *call, const char *role)
{
    if (!role || strcmp(role, "admin") == 0 || strcmp(role, "agent") == 0)
        return true;
    kp_call_error(call, 400, "invalid_value", "role", "role must be 'admin' or 'agent'");
    return false;
}

static void create(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"email", KP_JSON_STRING, true, false, 254},
        {"name", KP_JSON_STRING, true, false, 120},
        {"role", KP_JSON_STRING, true, false, 8},
        {"password", KP_JSON_STRING, false, false, 200},
        {"team_ids", KP_JSON_ARRAY, false, false, 32},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    const char *email = kp_json_str(call->body, "email");
    const char *name = kp_json_str(call->body, "name");
    const char *role = kp_json_str(call->body, "role");
    if (!strchr(email, '@') || !name[0]) {
        kp_call_error(call, 400, "invalid_value", strchr(email, '@') ? "name" : "email",
                      "a valid email and a non-empty name are required");
        return;
    }
    if (!valid_role(call, role))
        return;
    struct agent_write *a = kp_call_write_ctx(call, sizeof(*a));
    a->create = true;
    a->actor = call->auth.who.agent_id;
    snprintf(a->email, sizeof(a->email), "%s", email);
    snprintf(a->name, sizeof(a->name), "%s", name);
    snprintf(a->role, sizeof(a->role), "%s", role);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(call->body, "team_ids"), i, t)
    {
        if (!json_is_integer(t) || json_integer_value(t) <= 0) {
            kp_call_error(call, 400, "wrong_type", "team_ids", "team_ids must be team ids");
            return;
        }
        a->teams[a->n_teams++] = json_integer_value(t);
    }
    submit(call, a);
}

static void update(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"name", KP_JSON_STRING, false, false, 120},
        {"role", KP_JSON_STRING, false, false, 8},
        {"password", KP_JSON_STRING, false, false, 200},
        {"active", KP_JSON_BOOL, false, false, 0},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    bool self = call->ids[0] == call->auth.who.agent_id;
    json_t *role = json_object_get(call->body, "role");
    json_t *active = json_object_get(call->body, "active");
    if (!call->auth.who.admin && (!self || role || active)) {
        kp_call_error(call, 403, "forbidden", NULL,
                      "agents may change only their own name and password");
        return;
    }
    if (!valid_role(call, json_string_value(role)))
        return;
    if (self && active && !json_is_true(active)) {
        kp_call_error(call, 409, "conflict", "active", "you cannot deactivate yourself");
        return;
    }
    struct agent_write *a = kp_call_write_ctx(call, sizeof(*a));
    a->actor = call->auth.who.agent_id;
    a->id = call->ids[0];
    a->active = active ? json_is_true(active) : -1;
    const char *name = kp_json_str(call->body, "name");
    if (name) {
        a->has_name = true;
        snprintf(a->name, sizeof(a->name), "%s", name);
    }
    if (role) {
        a->has_role = true;
        snprintf(a->role, sizeof(a->role), "%s", json_string_value(role));
    }
    submit(call, a);
}

const struct kp_route kp_api_agents_routes[] = {
    {"GET", "/api/v1/agents", list, KP_AGENT, false},
    {"POST", "/api/v1/agents", create, KP_ADMIN, true},
    {"GET", "/api/v1/agents/{id}", get, KP_AGENT, false},
    {"PATCH", "/api/v1/agents/{id}", update, KP_AGENT, true},
    {0},
};
