/* SPDX-License-Identifier: MIT */
/*
 * api_canned.c - /api/v1/canned: canned answers, reply texts shared by the whole company.
 * Admins write them (audited); every agent lists them, picks one by its shortcut and renders it
 * for a conversation with its {{variables}} filled in (src/base/tmpl.h).
 */
#include "api.h"
#include "../base/tmpl.h"

enum {
    LIST_DEFAULT = 50,
    QUERY_MAX = 200,
    RENDER_MAX = 1 << 20,
    /* byte caps before the characters are counted: a UTF-8 character has up to 4 bytes */
    TITLE_BYTES = 4 * KP_CANNED_TITLE_MAX,
    BODY_BYTES = 4 * KP_CANNED_BODY_MAX,
};

struct canned_write {
    enum { CREATE, UPDATE, DELETE } op;
    int64_t actor, id;
    char shortcut[KP_CANNED_SHORTCUT_MAX + 1]; /* "" = unchanged */
    const char *title, *body;                  /* borrowed from the call's body; NULL = unchanged */
};

static void respond_canned(struct kp_call *call, int status, int64_t id)
{
    json_t *c;
    int rc = KP_STORE(call->api->store, canned_get, id, &c);
    if (rc)
        kp_call_store_error(call, rc, "canned answer");
    else
        kp_call_json(call, status, c);
}

/* ---- reads ---- */

static void list(struct kp_call *call)
{
    char q[QUERY_MAX + 1];
    int64_t limit;
    int n = kp_call_query(call, "q", q, sizeof(q));
    if (n == -2) {
        kp_call_error(call, 400, "invalid_value", "q", "query parameter 'q' is too long");
        return;
    }
    if (kp_call_query_int(call, "limit", 1, KP_QUERY_MAX_LIMIT, LIST_DEFAULT, &limit))
        return;
    json_t *items;
    int rc = KP_STORE(call->api->store, canned_list, n > 0 ? q : NULL, (int)limit, &items);
    if (rc)
        kp_call_store_error(call, rc, "canned answers");
    else
        kp_call_json(call, 200, json_pack("{so}", "items", items));
}

static void get(struct kp_call *call)
{
    respond_canned(call, 200, call->ids[0]);
}

/* ---- writes ---- */

static int write_run(struct kp_store *s, void *ctx)
{
    struct canned_write *w = ctx;
    static const char *const actions[] = {"canned.create", "canned.update", "canned.delete"};
    json_t *detail = json_object(), *old = NULL;
    int rc = KP_EINVAL;
    switch (w->op) {
    case CREATE: {
        struct kp_canned_new in = {w->shortcut, w->title, w->body, w->actor};
        rc = KP_STORE(s, canned_create, &in, &w->id);
        break;
    }
    case UPDATE: {
        struct kp_canned_change ch = {w->shortcut[0] ? w->shortcut : NULL, w->title, w->body};
        rc = KP_STORE(s, canned_update, w->id, &ch);
        json_t *changed = json_array();
        if (ch.shortcut)
            json_array_append_new(changed, json_string("shortcut"));
        if (ch.title)
            json_array_append_new(changed, json_string("title"));
        if (ch.body)
            json_array_append_new(changed, json_string("body"));
        json_object_set_new(detail, "changed", changed);
        break;
    }
    case DELETE:
        /* the audit log keeps what was deleted, by name */
        rc = KP_STORE(s, canned_get, w->id, &old);
        if (!rc) {
            json_object_set(detail, "shortcut", json_object_get(old, "shortcut"));
            json_object_set(detail, "title", json_object_get(old, "title"));
            rc = KP_STORE(s, canned_delete, w->id);
        }
        json_decref(old);
        break;
    }
    if (!rc && w->shortcut[0])
        json_object_set_new(detail, "shortcut", json_string(w->shortcut));
    if (!rc)
        rc = KP_STORE(s, audit_add, w->actor, actions[w->op], "canned_answer", w->id, detail);
    json_decref(detail);
    return rc;
}

static void write_done(struct kp_call *call, void *ctx, int rc)
{
    struct canned_write *w = ctx;
    if (rc == KP_EEXIST)
        kp_call_error(call, 409, "conflict", "shortcut", "shortcut '%s' is taken", w->shortcut);
    else if (rc)
        kp_call_store_error(call, rc, "canned answer");
    else if (w->op == DELETE)
        kp_req_respond(call->req, 204, "application/json", "", "", 0);
    else
        respond_canned(call, w->op == CREATE ? 201 : 200, w->id);
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

/* Checks a text field that is present: 1..max characters, not only spaces. */
static int check_text(struct kp_call *call, const char *field, const char *v, size_t max)
{
    if (blank(v)) {
        kp_call_error(call, 400, "invalid_value", field, "%s must not be empty", field);
        return -1;
    }
    if (utf8_chars(v) > max) {
        kp_call_error(call, 400, "too_long", field, "%s is longer than %zu characters", field, max);
        return -1;
    }
    return 0;
}

/* Copies a valid shortcut into out in lower case; answers 400 otherwise. */
static int check_shortcut(struct kp_call *call, const char *v, char *out)
{
    size_t n = strlen(v);
    bool ok = n >= 1 && n <= KP_CANNED_SHORTCUT_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        char c = v[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c | 0x20);
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        out[i] = c;
    }
    if (!ok) {
        kp_call_error(call, 400, "invalid_value", "shortcut",
                      "shortcut must have 1 to %d characters of a-z, 0-9, '_' and '-'",
                      KP_CANNED_SHORTCUT_MAX);
        return -1;
    }
    out[n] = '\0';
    return 0;
}

/* Reads the fields of a create (all required) or an update (any of them) into w. */
static int read_fields(struct kp_call *call, struct canned_write *w, bool create)
{
    const struct kp_json_field fields[] = {
        {"shortcut", KP_JSON_STRING, create, false, KP_CANNED_SHORTCUT_MAX},
        {"title", KP_JSON_STRING, create, false, TITLE_BYTES},
        {"body", KP_JSON_STRING, create, false, BODY_BYTES},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return -1;
    const char *shortcut = kp_json_str(call->body, "shortcut");
    w->title = kp_json_str(call->body, "title");
    w->body = kp_json_str(call->body, "body");
    if ((shortcut && check_shortcut(call, shortcut, w->shortcut)) ||
        (w->title && check_text(call, "title", w->title, KP_CANNED_TITLE_MAX)) ||
        (w->body && check_text(call, "body", w->body, KP_CANNED_BODY_MAX)))
        return -1;
    if (!shortcut && !w->title && !w->body) {
        kp_call_error(call, 400, "missing_field", NULL,
                      "nothing to change: send shortcut, title or body");
        return -1;
    }
    return 0;
}

static struct canned_write *new_write(struct kp_call *call, int op)
{
    struct canned_write *w = kp_call_write_ctx(call, sizeof(*w));
    w->op = op;
    w->actor = call->auth.who.agent_id;
    w->id = call->ids[0];
    return w;
}

static void create(struct kp_call *call)
{
    struct canned_write *w = new_write(call, CREATE);
    if (read_fields(call, w, true) == 0)
        kp_call_write(call, w, write_run, write_done);
}

static void update(struct kp_call *call)
{
    struct canned_write *w = new_write(call, UPDATE);
    if (read_fields(call, w, false) == 0)
        kp_call_write(call, w, write_run, write_done);
}

static void delete_canned(struct kp_call *call)
{
    kp_call_write(call, new_write(call, DELETE), write_run, write_done);
}

/* ---- rendering ---- */

/* The value of the contact's oldest email identity, or NULL. */
static const char *first_email(json_t *contact)
{
    const char *best = NULL;
    int64_t best_id = INT64_MAX;
    size_t i;
    json_t *ident;
    json_array_foreach(json_object_get(contact, "identities"), i, ident)
    {
        const char *kind = kp_json_str(ident, "kind");
        int64_t id = kp_json_int(ident, "id", INT64_MAX);
        if (kind && strcmp(kind, "email") == 0 && id < best_id) {
            best = kp_json_str(ident, "value");
            best_id = id;
        }
    }
    return best;
}

/* Answers {"text"} with the canned answer's body filled in for the conversation's contact. */
static void respond_rendered(struct kp_call *call, json_t *canned, json_t *contact,
                             int64_t conversation_id)
{
    const char *contact_name = kp_json_str(contact, "name");
    char contact_first[128], agent_first[128], conv_text[24];
    kp_tmpl_first_word(contact_name, contact_first, sizeof(contact_first));
    kp_tmpl_first_word(call->auth.who.name, agent_first, sizeof(agent_first));
    snprintf(conv_text, sizeof(conv_text), "%lld", (long long)conversation_id);
    const struct kp_tmpl_var vars[] = {
        {"contact.name", contact_name},          {"contact.first_name", contact_first},
        {"contact.email", first_email(contact)}, {"agent.name", call->auth.who.name},
        {"agent.first_name", agent_first},       {"conversation.id", conv_text},
    };
    struct kp_buf text;
    kp_buf_init(&text, RENDER_MAX);
    int rc = kp_tmpl_render(kp_json_str(canned, "body"), vars, KP_ARRAY_LEN(vars), &text);
    if (rc)
        kp_call_store_error(call, rc, "rendered text");
    else
        kp_call_json(call, 200, json_pack("{ss%}", "text", text.data, text.len));
    kp_buf_release(&text);
}

static void render(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"conversation_id", KP_JSON_INT, true, false, 0},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    int64_t conv_id = kp_json_int(call->body, "conversation_id", 0);
    if (conv_id <= 0) {
        kp_call_error(call, 400, "invalid_value", "conversation_id",
                      "conversation_id must be a conversation id");
        return;
    }
    struct kp_store *s = call->api->store;
    struct kp_viewer v = kp_call_viewer(call);
    json_t *canned = NULL, *conv = NULL, *contact = NULL;
    int rc = KP_STORE(s, canned_get, call->ids[0], &canned);
    if (rc) {
        kp_call_store_error(call, rc, "canned answer");
        return;
    }
    /* a conversation the agent may not see is answered like a missing one */
    rc = KP_STORE(s, conversation_get, &v, conv_id, &conv);
    if (!rc)
        rc = KP_STORE(s, contact_get, kp_json_int(json_object_get(conv, "contact"), "id", 0),
                      &contact);
    if (rc)
        kp_call_store_error(call, rc, "conversation");
    else
        respond_rendered(call, canned, contact, conv_id);
    json_decref(canned);
    json_decref(conv);
    json_decref(contact);
}

const struct kp_route kp_api_canned_routes[] = {
    {"GET", "/api/v1/canned", list, KP_AGENT, false},
    {"POST", "/api/v1/canned", create, KP_ADMIN, true},
    {"GET", "/api/v1/canned/{id}", get, KP_AGENT, false},
    {"PATCH", "/api/v1/canned/{id}", update, KP_ADMIN, true},
    {"DELETE", "/api/v1/canned/{id}", delete_canned, KP_ADMIN, false},
    {"POST", "/api/v1/canned/{id}/render", render, KP_AGENT, true},
    {0},
};
