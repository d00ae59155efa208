/* SPDX-License-Identifier: MIT */
/*
 * api_email.c - the email channel's routes: an email inbox's settings (address, SMTP server for
 * replies, IMAP mailbox to fetch from, automatic acknowledgement), the mails it kept without a
 * conversation (bounces, automatic replies), a message's raw source, and moving a message to
 * another conversation when threading got it wrong.
 */
#include "api.h"
#include "../base/log.h"

#include <ctype.h>
#include <strings.h>

/* ---- settings ---- */

static void settings_answer(struct kp_call *call, const struct kp_mail_inbox *b)
{
    kp_call_json(call, 200,
                 json_pack("{sIsssssssssbsssssbsIsssIss}", "inbox_id", (json_int_t)b->inbox_id,
                           "address", b->address, "display_name", b->display_name, "smtp_url",
                           b->smtp_url, "smtp_user", b->smtp_user, "smtp_password_set",
                           b->smtp_password[0] != '\0', "imap_url", b->imap_url, "imap_user",
                           b->imap_user, "imap_password_set", b->imap_password[0] != '\0',
                           "imap_poll_s", (json_int_t)b->imap_poll_s, "imap_after", b->imap_after,
                           "imap_last_uid", (json_int_t)b->imap_last_uid, "autoreply",
                           b->autoreply));
}

static void settings_get(struct kp_call *call)
{
    struct kp_mail_inbox *b = kp_call_alloc(call, sizeof(*b));
    int rc = KP_STORE(call->api->store, mail_inbox_get, call->ids[0], b);
    if (rc == KP_ENOTFOUND)
        kp_call_error(call, 404, "not_found", NULL,
                      "inbox %lld has no email settings (PUT them, for an email inbox)",
                      (long long)call->ids[0]);
    else if (rc)
        kp_call_store_error(call, rc, "inbox");
    else
        settings_answer(call, b);
}

struct settings_write {
    int64_t actor;
    struct kp_mail_inbox in;
    bool keep_smtp_password, keep_imap_password;
    json_t *detail;
};

static int settings_run(struct kp_store *s, void *ctx)
{
    struct settings_write *w = ctx;
    if (w->keep_smtp_password || w->keep_imap_password) {
        struct kp_mail_inbox old;
        int rc = KP_STORE(s, mail_inbox_get, w->in.inbox_id, &old);
        if (rc && rc != KP_ENOTFOUND)
            return rc;
        if (!rc && w->keep_smtp_password)
            memcpy(w->in.smtp_password, old.smtp_password, sizeof(old.smtp_password));
        if (!rc && w->keep_imap_password)
            memcpy(w->in.imap_password, old.imap_password, sizeof(old.imap_password));
    }
    int rc = KP_STORE(s, mail_inbox_set, &w->in);
    return rc ? rc
              : KP_STORE(s, audit_add, w->actor, "inbox.email", "inbox", w->in.inbox_id, w->detail);
}

static void settings_done(struct kp_call *call, void *ctx, int rc)
{
    struct settings_write *w = ctx;
    if (rc == KP_EINVAL)
        kp_call_error(call, 409, "wrong_channel", NULL,
                      "inbox %lld is not an email inbox: create one with channel email",
                      (long long)w->in.inbox_id);
    else if (rc == KP_EEXIST)
        kp_call_error(call, 409, "conflict", "address", "another inbox receives mail for %s",
                      w->in.address);
    else if (rc)
        kp_call_store_error(call, rc, "inbox");
    else
        settings_answer(call, &w->in);
}

static bool valid_address(const char *a)
{
    const char *at = strrchr(a, '@');
    return at && at > a && at[1] && strlen(a) <= KP_MAIL_ADDRESS_MAX &&
           strcspn(a, " \t\r\n<>,;\"()[]\\") == strlen(a) && strchr(at + 1, '.');
}

static bool valid_url(const char *u, const char *scheme, const char *tls_scheme)
{
    size_t a = strlen(scheme), b = strlen(tls_scheme);
    return !*u || ((strncmp(u, scheme, a) == 0 || strncmp(u, tls_scheme, b) == 0) &&
                   strcspn(u, " \t\r\n") == strlen(u));
}

static bool ascii_printable(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void settings_put(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"address", KP_JSON_STRING, true, false, KP_MAIL_ADDRESS_MAX},
        {"display_name", KP_JSON_STRING, false, true, 200},
        {"smtp_url", KP_JSON_STRING, false, true, KP_MAIL_URL_MAX},
        {"smtp_user", KP_JSON_STRING, false, true, KP_MAIL_SECRET_MAX},
        {"smtp_password", KP_JSON_STRING, false, true, KP_MAIL_SECRET_MAX},
        {"imap_url", KP_JSON_STRING, false, true, KP_MAIL_URL_MAX},
        {"imap_user", KP_JSON_STRING, false, true, KP_MAIL_SECRET_MAX},
        {"imap_password", KP_JSON_STRING, false, true, KP_MAIL_SECRET_MAX},
        {"imap_poll_s", KP_JSON_INT, false, false, 0},
        {"imap_after", KP_JSON_STRING, false, true, KP_MAIL_URL_MAX},
        {"autoreply", KP_JSON_STRING, false, true, KP_MAIL_AUTOREPLY_MAX},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    struct settings_write *w = kp_call_write_ctx(call, sizeof(*w));
    json_t *b = call->body;
    struct kp_mail_inbox *in = &w->in;
    in->inbox_id = call->ids[0];
    copy(in->address, sizeof(in->address), kp_json_str(b, "address"));
    for (char *p = in->address; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    copy(in->display_name, sizeof(in->display_name), kp_json_str(b, "display_name"));
    copy(in->smtp_url, sizeof(in->smtp_url), kp_json_str(b, "smtp_url"));
    copy(in->smtp_user, sizeof(in->smtp_user), kp_json_str(b, "smtp_user"));
    copy(in->smtp_password, sizeof(in->smtp_password), kp_json_str(b, "smtp_password"));
    copy(in->imap_url, sizeof(in->imap_url), kp_json_str(b, "imap_url"));
    copy(in->imap_user, sizeof(in->imap_user), kp_json_str(b, "imap_user"));
    copy(in->imap_password, sizeof(in->imap_password), kp_json_str(b, "imap_password"));
    copy(in->imap_after, sizeof(in->imap_after),
         kp_json_str(b, "imap_after") ? kp_json_str(b, "imap_after") : "seen");
    copy(in->autoreply, sizeof(in->autoreply), kp_json_str(b, "autoreply"));
    in->imap_poll_s = kp_json_int(b, "imap_poll_s", 60);
    w->keep_smtp_password = !json_object_get(b, "smtp_password");
    w->keep_imap_password = !json_object_get(b, "imap_password");
    if (!valid_address(in->address)) {
        kp_call_error(call, 400, "invalid_value", "address",
                      "address must be an email address like support@shop.example");
        return;
    }
    if (!valid_url(in->smtp_url, "smtp://", "smtps://")) {
        kp_call_error(call, 400, "invalid_value", "smtp_url",
                      "smtp_url must start with smtp:// (STARTTLS when offered) or smtps://");
        return;
    }
    if (!valid_url(in->imap_url, "imap://", "imaps://")) {
        kp_call_error(call, 400, "invalid_value", "imap_url",
                      "imap_url must start with imap:// (STARTTLS when offered) or imaps://");
        return;
    }
    if (in->imap_poll_s < 1 || in->imap_poll_s > 86400) {
        kp_call_error(call, 400, "invalid_value", "imap_poll_s",
                      "imap_poll_s must be 1 to 86400 seconds");
        return;
    }
    if (strcmp(in->imap_after, "seen") && strcmp(in->imap_after, "delete") &&
        (strncmp(in->imap_after, "move:", 5) || !in->imap_after[5])) {
        kp_call_error(call, 400, "invalid_value", "imap_after",
                      "imap_after must be seen, delete or move:FOLDER");
        return;
    }
    /* folder names go to the server as they are: IMAP's modified UTF-7 is not written here */
    if (!ascii_printable(in->imap_after) || !ascii_printable(in->imap_url)) {
        kp_call_error(call, 400, "invalid_value", "imap_after",
                      "IMAP folder names (in imap_url and imap_after) must be printable ASCII");
        return;
    }
    if (!kp_api_printable(in->smtp_user) || !kp_api_printable(in->imap_user) ||
        !kp_api_printable(in->display_name) || !kp_api_printable(in->smtp_password) ||
        !kp_api_printable(in->imap_password)) {
        kp_call_error(call, 400, "invalid_value", NULL,
                      "names, users and passwords must not contain control characters");
        return;
    }
    w->actor = call->auth.who.agent_id;
    w->detail = json_pack("{ss}", "address", in->address);
    kp_arena_on_release(&call->req->arena, (void (*)(void *))json_decref, w->detail);
    kp_call_write(call, w, settings_run, settings_done);
}

static void dropped(struct kp_call *call)
{
    int64_t before, limit;
    if (kp_call_query_int(call, "before_id", 0, INT64_MAX, 0, &before) ||
        kp_call_query_int(call, "limit", 1, KP_QUERY_MAX_LIMIT, 50, &limit))
        return;
    json_t *items;
    int rc =
        KP_STORE(call->api->store, mail_dropped_list, call->ids[0], before, (int)limit, &items);
    if (rc)
        kp_call_store_error(call, rc, "inbox");
    else
        kp_call_json(call, 200, json_pack("{so}", "items", items));
}

/* ---- messages ---- */

/* The conversation of a message the caller may see; 0 (answered) when not. */
static int64_t visible_conversation(struct kp_call *call, int64_t message_id)
{
    struct kp_buf b;
    kp_buf_init(&b, 0);
    int rc = KP_STORE(call->api->store, message_text, message_id, &b);
    json_t *m = rc ? NULL : json_loadb(b.data, b.len, 0, NULL);
    kp_buf_release(&b);
    int64_t conv = kp_json_int(m, "conversation_id", 0);
    json_decref(m);
    struct kp_viewer v = kp_call_viewer(call);
    int64_t team, assignee;
    if (!rc && !conv)
        rc = KP_EIO;
    if (!rc)
        rc = KP_STORE(call->api->store, conversation_access, &v, conv, &team, &assignee);
    if (rc) {
        kp_call_store_error(call, rc, "message");
        return 0;
    }
    return conv;
}

/* A mail's source as a download that browsers never show inline. */
static void send_raw(struct kp_call *call, int rc, void *data, size_t len, const char *what,
                     int64_t id)
{
    if (rc == KP_ENOTFOUND) {
        kp_call_error(call, 404, "not_found", NULL, "%s %lld has no raw source", what,
                      (long long)id);
        return;
    }
    if (rc) {
        kp_call_store_error(call, rc, what);
        return;
    }
    char headers[256];
    snprintf(headers, sizeof(headers),
             "Content-Disposition: attachment; filename=\"%s-%lld.eml\"\r\n"
             "Content-Security-Policy: sandbox\r\nCache-Control: private, max-age=3600\r\n",
             what, (long long)id);
    kp_req_respond(call->req, 200, "message/rfc822", headers, data, len);
    free(data);
}

static void raw(struct kp_call *call)
{
    if (!visible_conversation(call, call->ids[0]))
        return;
    void *data = NULL;
    size_t len = 0;
    int rc = KP_STORE(call->api->store, mail_raw, call->ids[0], &data, &len);
    send_raw(call, rc, data, len, "message", call->ids[0]);
}

static void kept_raw(struct kp_call *call)
{
    void *data = NULL;
    size_t len = 0;
    int rc = KP_STORE(call->api->store, mail_dropped_raw, call->ids[0], call->ids[1], &data, &len);
    send_raw(call, rc, data, len, "mail", call->ids[1]);
}

struct move {
    int64_t actor, message_id, to, from;
    struct kp_event ev_from, ev_to, ev_msg;
};

static int move_run(struct kp_store *s, void *ctx)
{
    struct move *w = ctx;
    int rc = KP_STORE(s, message_move, w->message_id, w->to, &w->from);
    if (!rc) {
        json_t *detail = json_pack("{sIsI}", "from", (json_int_t)w->from, "to", (json_int_t)w->to);
        rc = KP_STORE(s, audit_add, w->actor, "message.move", "message", w->message_id, detail);
        json_decref(detail);
    }
    if (!rc)
        rc = kp_api_conversation_event(s, "conversation.updated", w->from, 0, &w->ev_from);
    if (!rc)
        rc = kp_api_conversation_event(s, "conversation.updated", w->to, 0, &w->ev_to);
    if (!rc)
        rc = kp_api_conversation_event(s, "message.updated", w->to, w->message_id, &w->ev_msg);
    return rc;
}

static void move_done(struct kp_call *call, void *ctx, int rc)
{
    struct move *w = ctx;
    if (rc)
        kp_call_store_error(call, rc, "message or conversation");
    else
        kp_call_message(call, 200, w->message_id);
}

static void move(struct kp_call *call)
{
    static const struct kp_json_field fields[] = {
        {"conversation_id", KP_JSON_INT, true, false, 0},
    };
    if (kp_call_check(call, fields, KP_ARRAY_LEN(fields)))
        return;
    int64_t to = kp_json_int(call->body, "conversation_id", 0);
    struct kp_viewer v = kp_call_viewer(call);
    int64_t team, assignee;
    int rc = to > 0 ? KP_STORE(call->api->store, conversation_access, &v, to, &team, &assignee)
                    : KP_ENOTFOUND;
    if (rc) {
        kp_call_store_error(call, rc, "conversation");
        return;
    }
    if (!visible_conversation(call, call->ids[0]))
        return;
    struct move *w = kp_call_write_ctx(call, sizeof(*w));
    w->actor = call->auth.who.agent_id;
    w->message_id = call->ids[0];
    w->to = to;
    kp_call_write(call, w, move_run, move_done);
}

const struct kp_route kp_api_email_routes[] = {
    {"GET", "/api/v1/inboxes/{id}/email", settings_get, KP_ADMIN, false},
    {"PUT", "/api/v1/inboxes/{id}/email", settings_put, KP_ADMIN, true},
    {"GET", "/api/v1/inboxes/{id}/email/kept", dropped, KP_ADMIN, false},
    {"GET", "/api/v1/inboxes/{id}/email/kept/{kept_id}/raw", kept_raw, KP_ADMIN, false},
    {"GET", "/api/v1/messages/{id}/raw", raw, KP_AGENT, false},
    {"POST", "/api/v1/messages/{id}/move", move, KP_AGENT, true},
    {0},
};
