/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_widget.c - SQLite backend, part four: the website chat widget. Per webchat inbox
 * its secret and settings, the visitors' sessions (hashed tokens), the contact a signed-in shop
 * customer is, the conversation a visitor writes in, messages as the widget shows them, and the
 * pages visitors view. Tables in sqlite/003_widget.sql; contracts in store.h.
 */
#include "store_sqlite_int.h"
#include "../base/clock.h"

/* Copies column i of st into out (cap bytes), cut at a UTF-8 boundary; NULL becomes "". */
static void column_copy(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    size_t n = v ? (size_t)sqlite3_column_bytes(st, i) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
            n--; /* v[n] would start the next character: cut before the one it continues */
    }
    if (n)
        memcpy(out, v, n);
    out[n] = '\0';
}

static void bind_empty_null(sqlite3_stmt *st, int i, const char *s)
{
    kp_sq_bind_text(st, i, s && *s ? s : NULL);
}

/* ---- widgets ---- */

int kp_sq_widget_secret(struct kp_store *s, int64_t inbox_id, const char *secret)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT channel = 'webchat' FROM inboxes WHERE id = ?");
    int64_t webchat = 0;
    if (st)
        sqlite3_bind_int64(st, 1, inbox_id);
    int rc = kp_sq_step_int(q, st, &webchat);
    if (rc)
        return rc;
    if (!webchat)
        return KP_EINVAL;
    st = kp_sq_stmt(q, "INSERT INTO widgets(inbox_id, secret, updated_at) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT(inbox_id) DO UPDATE SET secret = excluded.secret, "
                       "updated_at = excluded.updated_at");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, inbox_id);
    kp_sq_bind_text(st, 2, secret);
    sqlite3_bind_int64(st, 3, kp_clock_now_ms());
    return kp_sq_exec_stmt(q, st);
}

int kp_sq_widget_update(struct kp_store *s, int64_t inbox_id, const struct kp_widget_change *ch)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "UPDATE widgets SET greeting_de = coalesce(?2, greeting_de), "
                                     "greeting_en = coalesce(?3, greeting_en), "
                                     "origins = coalesce(?4, origins), updated_at = ?5 "
                                     "WHERE inbox_id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, inbox_id);
    kp_sq_bind_text(st, 2, ch->greeting_de);
    kp_sq_bind_text(st, 3, ch->greeting_en);
    kp_sq_bind_text(st, 4, ch->origins);
    sqlite3_bind_int64(st, 5, kp_clock_now_ms());
    int rc = kp_sq_exec_stmt(q, st);
    return rc ? rc : sqlite3_changes(q->db) ? 0 : KP_ENOTFOUND;
}

int kp_sq_widget_get(struct kp_store *s, int64_t inbox_id, struct kp_widget *out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT w.secret, w.greeting_de, w.greeting_en, w.origins, "
                                     "coalesce(i.team_id, 0) FROM widgets w "
                                     "JOIN inboxes i ON i.id = w.inbox_id WHERE w.inbox_id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, inbox_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        out->inbox_id = inbox_id;
        column_copy(st, 0, out->secret, sizeof(out->secret));
        column_copy(st, 1, out->greeting_de, sizeof(out->greeting_de));
        column_copy(st, 2, out->greeting_en, sizeof(out->greeting_en));
        column_copy(st, 3, out->origins, sizeof(out->origins));
        out->team_id = sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

/* ---- visitor sessions ---- */

int kp_sq_visitor_session_create(struct kp_store *s, const uint8_t hash[32],
                                 const struct kp_visitor_session *in, int64_t expires_ms)
{
    struct sq *q = SQ(s);
    int64_t now = kp_clock_now_ms();
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO visitor_sessions(token_hash, inbox_id, "
                                     "contact_id, identified, created_at, expires_at) "
                                     "VALUES (?, ?, ?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, in->inbox_id);
    sqlite3_bind_int64(st, 3, in->contact_id);
    sqlite3_bind_int(st, 4, in->identified);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, expires_ms);
    int rc = kp_sq_exec_stmt(q, st);
    if (rc == KP_EEXIST)
        return KP_ENOTFOUND; /* foreign key: no such inbox or contact */
    if (rc)
        return rc;
    /* a few expired ones go with every new one, so that the table does not grow forever */
    st = kp_sq_stmt(q, "DELETE FROM visitor_sessions WHERE token_hash IN (SELECT token_hash "
                       "FROM visitor_sessions WHERE expires_at < ? LIMIT 16)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, now);
    return kp_sq_exec_stmt(q, st);
}

int kp_sq_visitor_session_get(struct kp_store *s, const uint8_t hash[32], int64_t now_ms,
                              struct kp_visitor_session *out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT inbox_id, contact_id, identified FROM "
                                     "visitor_sessions WHERE token_hash = ? AND expires_at > ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->inbox_id = sqlite3_column_int64(st, 0);
        out->contact_id = sqlite3_column_int64(st, 1);
        out->identified = sqlite3_column_int(st, 2) != 0;
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

int kp_sq_visitor_session_touch(struct kp_store *s, const uint8_t hash[32], int64_t expires_ms)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "UPDATE visitor_sessions SET expires_at = "
                                     "max(expires_at, ?2) WHERE token_hash = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, expires_ms);
    int rc = kp_sq_exec_stmt(q, st);
    return rc ? rc : sqlite3_changes(q->db) ? 0 : KP_ENOTFOUND;
}

int kp_sq_visitor_prune(struct kp_store *s, int64_t now_ms, int64_t events_before_ms)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "DELETE FROM visitor_sessions WHERE expires_at < ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, now_ms);
    int rc = kp_sq_exec_stmt(q, st);
    if (rc)
        return rc;
    st = kp_sq_stmt(q, "DELETE FROM visitor_events WHERE created_at < ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, events_before_ms);
    return kp_sq_exec_stmt(q, st);
}

/* ---- who the visitor is ---- */

int kp_sq_identity_owner(struct kp_store *s, const char *kind, const char *value,
                         int64_t *contact_id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st =
        kp_sq_stmt(q, "SELECT contact_id FROM identities WHERE kind = ? AND value = ?");
    if (st) {
        kp_sq_bind_text(st, 1, kind);
        kp_sq_bind_text(st, 2, value);
    }
    return kp_sq_step_int(q, st, contact_id);
}

int kp_sq_visitor_identify(struct kp_store *s, const struct kp_visitor_user *u, int64_t *contact_id)
{
    struct sq *q = SQ(s);
    const char *id = u->id && *u->id ? u->id : NULL;
    const char *email = u->email && *u->email ? u->email : NULL;
    if (!id && !email)
        return KP_EINVAL;
    int64_t by_id = 0, by_email = 0;
    int rc;
    if (id && (rc = kp_sq_identity_owner(s, "shop", id, &by_id)) && rc != KP_ENOTFOUND)
        return rc;
    if (email && (rc = kp_sq_identity_owner(s, "email", email, &by_email)) && rc != KP_ENOTFOUND)
        return rc;
    *contact_id = by_id ? by_id : by_email;
    if (!*contact_id) {
        struct kp_contact_new c = {.name = u->name && *u->name ? u->name : NULL};
        if ((rc = kp_sq_contact_create(s, &c, contact_id)))
            return rc;
    }
    /* identities nobody owns yet become the contact's; another contact's stay where they are */
    if (id && !by_id && (rc = kp_sq_identity_add(s, *contact_id, "shop", id, NULL)))
        return rc;
    if (email && !by_email && (rc = kp_sq_identity_add(s, *contact_id, "email", email, NULL)))
        return rc;
    if (!u->name || !*u->name)
        return 0;
    sqlite3_stmt *st = kp_sq_stmt(q, "UPDATE contacts SET name = ?, updated_at = ? "
                                     "WHERE id = ? AND name IS NULL");
    if (!st)
        return KP_EIO;
    kp_sq_bind_text(st, 1, u->name);
    sqlite3_bind_int64(st, 2, kp_clock_now_ms());
    sqlite3_bind_int64(st, 3, *contact_id);
    return kp_sq_exec_stmt(q, st);
}

/* ---- where the visitor writes ---- */

int kp_sq_visitor_conversation(struct kp_store *s, int64_t contact_id, int64_t inbox_id,
                               bool create, int64_t *id)
{
    struct sq *q = SQ(s);
    /* the same choice as ingest makes for the visitor's next message */
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT id FROM conversations WHERE contact_id = ? AND "
                                     "inbox_id = ? AND state <> 'resolved' "
                                     "ORDER BY id DESC LIMIT 1");
    if (st) {
        sqlite3_bind_int64(st, 1, contact_id);
        sqlite3_bind_int64(st, 2, inbox_id);
    }
    *id = 0;
    int rc = kp_sq_step_int(q, st, id);
    if (rc != KP_ENOTFOUND || !create)
        return rc == KP_ENOTFOUND ? 0 : rc;
    int64_t now = kp_clock_now_ms();
    st = kp_sq_stmt(q, "INSERT INTO conversations(inbox_id, contact_id, channel, team_id, "
                       "created_at, updated_at, last_message_at) "
                       "SELECT id, ?2, 'webchat', team_id, ?3, ?3, ?3 FROM inboxes WHERE id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, inbox_id);
    sqlite3_bind_int64(st, 2, contact_id);
    sqlite3_bind_int64(st, 3, now);
    rc = kp_sq_exec_stmt(q, st);
    if (rc == KP_EEXIST)
        return KP_ENOTFOUND; /* foreign key: no such contact */
    if (rc)
        return rc;
    if (!sqlite3_changes(q->db))
        return KP_ENOTFOUND; /* no such inbox */
    *id = sqlite3_last_insert_rowid(q->db);
    return 0;
}

int kp_sq_visitor_route(struct kp_store *s, int64_t conversation_id, int64_t *contact_id,
                        int64_t *inbox_id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT c.contact_id, c.inbox_id FROM conversations c "
                                     "JOIN inboxes i ON i.id = c.inbox_id "
                                     "WHERE c.id = ? AND i.channel = 'webchat'");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, conversation_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *contact_id = sqlite3_column_int64(st, 0);
        *inbox_id = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

int kp_sq_visitor_inbox(struct kp_store *s, int64_t contact_id, int64_t *inbox_id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT c.inbox_id FROM conversations c "
                                     "JOIN inboxes i ON i.id = c.inbox_id "
                                     "WHERE c.contact_id = ? AND c.state <> 'resolved' "
                                     "AND i.channel = 'webchat' "
                                     "ORDER BY c.last_message_at DESC, c.id DESC LIMIT 1");
    if (st)
        sqlite3_bind_int64(st, 1, contact_id);
    int rc = kp_sq_step_int(q, st, inbox_id);
    if (rc != KP_ENOTFOUND)
        return rc;
    st = kp_sq_stmt(q, "SELECT inbox_id FROM visitor_sessions WHERE contact_id = ? "
                       "ORDER BY created_at DESC LIMIT 1");
    if (st)
        sqlite3_bind_int64(st, 1, contact_id);
    return kp_sq_step_int(q, st, inbox_id);
}

/* ---- messages as the widget shows them ---- */

#define VISITOR_MESSAGE_COLUMNS                                                                    \
    "SELECT m.id, m.conversation_id, m.direction, m.text, "                                        \
    "CASE WHEN m.direction = 'out' THEN substr(a.name, 1, instr(a.name || ' ', ' ') - 1) END "     \
    "AS author_name, m.created_at, "                                                               \
    "(SELECT json_group_array(json_object('id', x.id, 'filename', x.filename, "                    \
    "'content_type', x.content_type, 'size', x.size)) FROM attachments x "                         \
    "WHERE x.message_id = m.id) AS attachments_json "                                              \
    "FROM messages m LEFT JOIN agents a ON a.id = m.author_agent_id "

int kp_sq_visitor_message(struct kp_store *s, int64_t message_id, struct kp_buf *out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st =
        kp_sq_stmt(q, VISITOR_MESSAGE_COLUMNS "WHERE m.id = ? AND m.direction <> 'note'");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, message_id);
    int rc = sqlite3_step(st);
    struct kp_sq_cols cols = {0};
    int err = rc == SQLITE_ROW ? kp_sq_row_text(st, &cols, out) : 0;
    sqlite3_reset(st);
    rc = kp_sq_one(q, rc);
    return rc ? rc : err;
}

int kp_sq_visitor_history(struct kp_store *s, int64_t conversation_id, int limit, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT * FROM (" VISITOR_MESSAGE_COLUMNS
                                     "WHERE m.conversation_id = ? AND m.direction <> 'note' "
                                     "ORDER BY m.id DESC LIMIT ?) ORDER BY id");
    if (st) {
        sqlite3_bind_int64(st, 1, conversation_id);
        sqlite3_bind_int(st, 2, limit);
    }
    return kp_sq_rows(q, st, out);
}

int kp_sq_visitor_facts(struct kp_store *s, int64_t contact_id, struct kp_visitor_facts *out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(
        q, "SELECT k.name, json_extract(k.attributes, '$.last_order'), "
           "(SELECT c.subject FROM conversations c WHERE c.contact_id = k.id "
           "AND c.state <> 'resolved' AND coalesce(c.subject, '') <> '' "
           "ORDER BY c.last_message_at DESC LIMIT 1), "
           "(SELECT i.value FROM identities i WHERE i.contact_id = k.id AND i.kind = 'email' "
           "ORDER BY i.id LIMIT 1) FROM contacts k WHERE k.id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, contact_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        column_copy(st, 0, out->name, sizeof(out->name));
        column_copy(st, 1, out->last_order, sizeof(out->last_order));
        column_copy(st, 2, out->subject, sizeof(out->subject));
        column_copy(st, 3, out->email, sizeof(out->email));
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

/* ---- page views ---- */

int kp_sq_visitor_event_add(struct kp_store *s, const struct kp_visitor_event *ev, int64_t *id)
{
    struct sq *q = SQ(s);
    int64_t now = kp_clock_now_ms(), recent = 0;
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT count(*) FROM visitor_events "
                                     "WHERE contact_id = ? AND created_at > ?");
    if (st) {
        sqlite3_bind_int64(st, 1, ev->contact_id);
        sqlite3_bind_int64(st, 2, now - 60 * 1000);
    }
    int rc = kp_sq_step_int(q, st, &recent);
    if (rc)
        return rc;
    if (recent >= KP_VISITOR_EVENTS_PER_MINUTE)
        return KP_EBUSY;
    if (ev->seconds_prev >= 0) {
        st = kp_sq_stmt(q, "UPDATE visitor_events SET seconds = ?2 WHERE id = (SELECT max(id) "
                           "FROM visitor_events WHERE contact_id = ?1) AND seconds IS NULL");
        if (!st)
            return KP_EIO;
        sqlite3_bind_int64(st, 1, ev->contact_id);
        sqlite3_bind_int64(st, 2, ev->seconds_prev);
        if ((rc = kp_sq_exec_stmt(q, st)))
            return rc;
    }
    st = kp_sq_stmt(q, "INSERT INTO visitor_events(contact_id, kind, url, title, created_at) "
                       "VALUES (?, 'page_view', ?, ?, ?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, ev->contact_id);
    kp_sq_bind_text(st, 2, ev->url);
    bind_empty_null(st, 3, ev->title);
    sqlite3_bind_int64(st, 4, now);
    rc = kp_sq_exec_stmt(q, st);
    if (rc == KP_EEXIST)
        return KP_ENOTFOUND; /* foreign key: no such contact */
    if (!rc && id)
        *id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int kp_sq_visitor_event_list(struct kp_store *s, int64_t contact_id, int64_t before_id, int limit,
                             json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT id, kind, url, title, seconds, created_at "
                                     "FROM visitor_events WHERE contact_id = ?1 "
                                     "AND (?2 = 0 OR id < ?2) "
                                     "ORDER BY created_at DESC, id DESC LIMIT ?3");
    if (st) {
        sqlite3_bind_int64(st, 1, contact_id);
        sqlite3_bind_int64(st, 2, before_id);
        sqlite3_bind_int(st, 3, limit);
    }
    return kp_sq_rows(q, st, out);
}

int kp_sq_contact_access(struct kp_store *s, const struct kp_viewer *v, int64_t contact_id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(
        q, "SELECT 1 FROM contacts k WHERE k.id = ?3 AND (?2 OR EXISTS (SELECT 1 FROM "
           "conversations c WHERE c.contact_id = k.id AND (c.assignee_id = ?1 OR c.team_id IN "
           "(SELECT team_id FROM team_members WHERE agent_id = ?1))))");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, v->agent_id);
    sqlite3_bind_int(st, 2, v->admin);
    sqlite3_bind_int64(st, 3, contact_id);
    int64_t one;
    return kp_sq_step_int(q, st, &one);
}
