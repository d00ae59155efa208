/* SPDX-License-Identifier: MIT */
/* api_teams.c - /api/v1/teams: groups of agents that own inboxes and conversations. */
#include "api.h"

struct team_write {
    int64_t actor, id, agent_id;
    char name[128];
    enum { CREATE, RENAME, ADD, REMOVE } op;
};

static void respond_team(struct kp_call *call, int status, int64_t id)
{
    json_t *team;
    int rc = KP_STORE(call->api->store, team_get, id, &team);
    if (rc)
        kp_call_store_error(call, rc, "team");
    else
        kp_call_json(call, status, team);
}

static void list(struct kp_call *call)
{
    json_t *items;
    int rc = KP_STORE(call->api->store, team_list, &items);
    if (rc)
        kp_call_store_error(call, rc, "teams");
    else
        kp_call_json(call, 200, json_pack("{so}", "items", items));
}

static void get(struct kp_call *call)
{
    respond_team(call, 200, call->ids[0]);
}

static int write_run(struct kp_store *s, void *ctx)
{
    struct team_write *t = ctx;
    int rc;
    json_t *existing = NULL;
    switch (t->op) {
    case CREATE:
        rc = KP_STORE(s, team_create, t->name, &t->id);
        break;
    case RENAME:
        rc = KP_STORE(s, team_rename, t->id, t->name);
        break;
    default:
        rc = KP_STORE(s, team_get, t->id, &existing);
        json_decref(existing);
        if (!rc)
            rc = KP_STORE(s, team_member, t->id, t->agent_id, t->op == ADD);
    }
    static const char *actions[] = {"team.create", "team.rename", "team.member_add",
                                    "team.member_remove"};
    if (!rc) {
        json_t *detail = json_pack("{sIss}", "agent_id", (json_int_t)t->agent_id, "name", t->name);
        rc = KP_STORE(s, audit_add, t->actor, actions[t->op], "team", t->id, detail);
        json_decref(detail);
    }
    if (!rc && (t->op == ADD || t->op == REMOVE))
        rc = kp_api_notify_agent(s, t->agent_id);
    return rc;
}

static void write_done(struct kp_call *call, void *ctx, int rc)
{
    struct team_write *t = ctx;
    if (rc) {
        kp_call_store_error(call, rc,
                            t->op == CREATE || t->op == RENAME ? "team name" : "team or agent");
        return;
    }
    respond_team(call, t->op == CREATE ? 201 : 200, t->id);
}

static void named(struct kp_call *call, int op)
{
    static const struct kp_json_field fields[] = {{"name", KP_JSON_STRING, true, false, 100}};
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    const char *name = kp_json_str(call->body, "name");
    if (!name[0]) {
        kp_call_error(call, 400, "invalid_value", "name", "team name must not be empty");
        return;
    }
    struct team_write *t = kp_call_write_ctx(call, sizeof(*t));
    t->op = op;
    t->actor = call->auth.who.agent_id;
    t->id = call->ids[0];
    snprintf(t->name, sizeof(t->name), "%s", name);
    kp_call_write(call, t, write_run, write_done);
}

static void create(struct kp_call *call)
{
    named(call, CREATE);
}

static void rename_team(struct kp_call *call)
{
    named(call, RENAME);
}

static void member(struct kp_call *call, int op)
{
    struct team_write *t = kp_call_write_ctx(call, sizeof(*t));
    t->op = op;
    t->actor = call->auth.who.agent_id;
    t->id = call->ids[0];
    t->agent_id = call->ids[1];
    kp_call_write(call, t, write_run, write_done);
}

static void member_add(struct kp_call *call)
{
    member(call, ADD);
}

static void member_remove(struct kp_call *call)
{
    member(call, REMOVE);
}

const struct kp_route kp_api_teams_routes[] = {
    {"GET", "/api/v1/teams", list, KP_AGENT, false},
    {"POST", "/api/v1/teams", create, KP_ADMIN, true},
    {"GET", "/api/v1/teams/{id}", get, KP_AGENT, false},
    {"PATCH", "/api/v1/teams/{id}", rename_team, KP_ADMIN, true},
    {"PUT", "/api/v1/teams/{id}/members/{agent_id}", member_add, KP_ADMIN, false},
    {"DELETE", "/api/v1/teams/{id}/members/{agent_id}", member_remove, KP_ADMIN, false},
    {0},
};
