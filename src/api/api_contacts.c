/* SPDX-License-Identifier: MIT */
/* api_contacts.c - /api/v1/contacts: the people who write in, with their identities on every
 * channel (email, phone, channel ids, shop id) and free-form attributes, and what they did on
 * the website (pages viewed, from the chat widget). */
#include "api.h"

struct contact_write {
    int64_t actor, id, identity_id;
    const char *name;
    json_t *attributes, *identities;
    const char *kind, *value;
    enum { CREATE, UPDATE, ID_ADD, ID_DEL } op;
};

static void respond_contact(struct kp_call *call, int status, int64_t id)
{
    json_t *c;
    int rc = KP_STORE(call->api->store, contact_get, id, &c);
    if (rc)
        kp_call_store_error(call, rc, "contact");
    else
        kp_call_json(call, status, c);
}

static void list(struct kp_call *call)
{
    char q[256], cursor[64];
    int64_t limit;
    int ql = kp_call_query(call, "q", q, sizeof(q));
    int cl = kp_call_query(call, "cursor", cursor, sizeof(cursor));
    if (ql == -2 || cl == -2) {
        kp_call_error(call, 400, "invalid_value", ql == -2 ? "q" : "cursor",
                      "query parameter is too long or malformed");
        return;
    }
    if (kp_call_query_int(call, "limit", 1, KP_QUERY_MAX_LIMIT, 25, &limit))
        return;
    json_t *page;
    int rc = KP_STORE(call->api->store, contact_list, ql > 0 ? q : NULL, cl >= 0 ? cursor : NULL,
                      (int)limit, &page);
    if (rc == KP_EINVAL)
        kp_call_error(call, 400, "invalid_value", "cursor", "cursor is not valid");
    else if (rc)
        kp_call_store_error(call, rc, "contacts");
    else
        kp_call_json(call, 200, page);
}

static void get(struct kp_call *call)
{
    respond_contact(call, 200, call->ids[0]);
}

static int write_run(struct kp_store *s, void *ctx)
{
    struct contact_write *w = ctx;
    int rc = 0;
    switch (w->op) {
    case CREATE: {
        struct kp_contact_new in = {w->name, w->attributes};
        rc = KP_STORE(s, contact_create, &in, &w->id);
        size_t i;
        json_t *ident;
        json_array_foreach(w->identities, i, ident)
        {
            if (rc)
                break;
            rc = KP_STORE(s, identity_add, w->id, kp_json_str(ident, "kind"),
                          kp_json_str(ident, "value"), NULL);
        }
        break;
    }
    case UPDATE:
        rc = KP_STORE(s, contact_update, w->id, w->name, w->attributes);
        break;
    case ID_ADD:
        rc = KP_STORE(s, identity_add, w->id, w->kind, w->value, &w->identity_id);
        break;
    case ID_DEL:
        rc = KP_STORE(s, identity_delete, w->id, w->identity_id);
        break;
    }
    static const char *actions[] = {"contact.create", "contact.update", "contact.identity_add",
                                    "contact.identity_delete"};
    if (!rc)
        rc = KP_STORE(s, audit_add, w->actor, actions[w->op], "contact", w->id, NULL);
    return rc;
}

static void write_done(struct kp_call *call, void *ctx, int rc)
{
    struct contact_write *w = ctx;
    if (rc == KP_EEXIST)
        kp_call_error(call, 409, "conflict", "identities",
                      "this identity already belongs to a contact");
    else if (rc)
        kp_call_store_error(call, rc, "contact");
    else
        respond_contact(call, w->op == CREATE || w->op == ID_ADD ? 201 : 200, w->id);
}

static const struct kp_json_field identity_fields[] = {
    {"kind", KP_JSON_STRING, true, false, 32},
    {"value", KP_JSON_STRING, true, false, 320},
};

static int check_identity(struct kp_call *call, json_t *ident)
{
    struct kp_json_error err;
    if (!json_is_object(ident)) {
        kp_call_error(call, 400, "wrong_type", "identities", "identities must be objects");
        return -1;
    }
    if (kp_json_check(ident, identity_fields, KP_ARRAY_LEN(identity_fields), true, &err)) {
        kp_call_json_error(call, &err);
        return -1;
    }
    if (!kp_json_str(ident, "kind")[0] || !kp_json_str(ident, "value")[0]) {
        kp_call_error(call, 400, "invalid_value", "identities",
                      "identity kind and value must not be empty");
        return -1;
    }
    if (!kp_api_printable(kp_json_str(ident, "value"))) {
        kp_call_error(call, 400, "invalid_value", "identities",
                      "identity values must not contain control characters");
        return -1;
    }
    return 0;
}

static void create(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"name", KP_JSON_STRING, false, true, 200},
        {"attributes", KP_JSON_OBJECT, false, false, 0},
        {"identities", KP_JSON_ARRAY, false, false, 50},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct contact_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->op = CREATE;
    w->actor = call->auth.who.agent_id;
    w->name = kp_json_str(call->body, "name");
    w->attributes = json_object_get(call->body, "attributes");
    w->identities = json_object_get(call->body, "identities");
    size_t i;
    json_t *ident;
    json_array_foreach(w->identities, i, ident) if (check_identity(call, ident)) return;
    kp_call_write(call, w, write_run, write_done);
}

static void update(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"name", KP_JSON_STRING, false, false, 200},
        {"attributes", KP_JSON_OBJECT, false, false, 0},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct contact_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->op = UPDATE;
    w->actor = call->auth.who.agent_id;
    w->id = call->ids[0];
    w->name = kp_json_str(call->body, "name");
    w->attributes = json_object_get(call->body, "attributes");
    kp_call_write(call, w, write_run, write_done);
}

static void identity_add(struct kp_call *call)
{
    if (check_identity(call, call->body))
        return;
    struct contact_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->op = ID_ADD;
    w->actor = call->auth.who.agent_id;
    w->id = call->ids[0];
    w->kind = kp_json_str(call->body, "kind");
    w->value = kp_json_str(call->body, "value");
    kp_call_write(call, w, write_run, write_done);
}

static void identity_delete(struct kp_call *call)
{
    struct contact_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->op = ID_DEL;
    w->actor = call->auth.who.agent_id;
    w->id = call->ids[0];
    w->identity_id = call->ids[1];
    kp_call_write(call, w, write_run, write_done);
}

/* GET /contacts/{id}/events: page views, newest first, for those who may see the contact. */
static void events(struct kp_call *call)
{
    int64_t limit, before;
    if (kp_call_query_int(call, "limit", 1, KP_QUERY_MAX_LIMIT, 50, &limit) ||
        kp_call_query_int(call, "before", 1, INT64_MAX, 0, &before))
        return;
    struct kp_viewer v = kp_call_viewer(call);
    json_t *items;
    int rc = KP_STORE(call->api->store, contact_access, &v, call->ids[0]);
    if (!rc)
        rc = KP_STORE(call->api->store, visitor_event_list, call->ids[0], before, (int)limit,
                      &items);
    if (rc)
        kp_call_store_error(call, rc, "contact");
    else
        kp_call_json(call, 200, json_pack("{so}", "items", items));
}

const struct kp_route kp_api_contacts_routes[] = {
    {"GET", "/api/v1/contacts", list, KP_AGENT, false},
    {"POST", "/api/v1/contacts", create, KP_AGENT, true},
    {"GET", "/api/v1/contacts/{id}", get, KP_AGENT, false},
    {"PATCH", "/api/v1/contacts/{id}", update, KP_AGENT, true},
    {"POST", "/api/v1/contacts/{id}/identities", identity_add, KP_AGENT, true},
    {"DELETE", "/api/v1/contacts/{id}/identities/{identity_id}", identity_delete, KP_AGENT, false},
    {"GET", "/api/v1/contacts/{id}/events", events, KP_AGENT, false},
    {0},
};
