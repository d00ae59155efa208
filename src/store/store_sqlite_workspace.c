/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_workspace.c - SQLite backend, part three: what the agent workspace keeps besides
 * conversations, namely canned answers (shared reply texts) and notifications (@mentions in
 * internal notes). Tables in sqlite/002_workspace.sql; contracts in store.h.
 */
#include "store_sqlite_int.h"
#include "../base/clock.h"

/* ---- canned answers ---- */

#define CANNED_COLUMNS                                                                             \
    "SELECT id, shortcut, title, body, created_by, created_at, updated_at FROM canned_answers "

int kp_sq_canned_create(struct kp_store *s, const struct kp_canned_new *in, int64_t *id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO canned_answers(shortcut, title, body, "
                                     "created_by, created_at, updated_at) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
    if (!st)
        return KP_EIO;
    kp_sq_bind_text(st, 1, in->shortcut);
    kp_sq_bind_text(st, 2, in->title);
    kp_sq_bind_text(st, 3, in->body);
    if (in->created_by)
        sqlite3_bind_int64(st, 4, in->created_by);
    sqlite3_bind_int64(st, 5, kp_clock_now_ms());
    int rc = kp_sq_exec_stmt(q, st);
    if (!rc)
        *id = sqlite3_last_insert_rowid(q->db);
    return rc; /* KP_EEXIST: the shortcut is taken (or created_by is no agent) */
}

int kp_sq_canned_update(struct kp_store *s, int64_t id, const struct kp_canned_change *ch)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "UPDATE canned_answers SET shortcut = coalesce(?2, shortcut), "
                                     "title = coalesce(?3, title), body = coalesce(?4, body), "
                                     "updated_at = ?5 WHERE id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    kp_sq_bind_text(st, 2, ch->shortcut);
    kp_sq_bind_text(st, 3, ch->title);
    kp_sq_bind_text(st, 4, ch->body);
    sqlite3_bind_int64(st, 5, kp_clock_now_ms());
    int rc = kp_sq_exec_stmt(q, st);
    return rc ? rc : sqlite3_changes(q->db) ? 0 : KP_ENOTFOUND;
}

int kp_sq_canned_delete(struct kp_store *s, int64_t id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "DELETE FROM canned_answers WHERE id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = kp_sq_exec_stmt(q, st);
    return rc ? rc : sqlite3_changes(q->db) ? 0 : KP_ENOTFOUND;
}

int kp_sq_canned_get(struct kp_store *s, int64_t id, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, CANNED_COLUMNS "WHERE id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, id);
    return kp_sq_row1(q, st, out);
}

int kp_sq_canned_list(struct kp_store *s, const char *text, int limit, json_t **out)
{
    struct sq *q = SQ(s);
    /* instr() rather than LIKE: no wildcard in the query ('_' is common in shortcuts) can
     * change what matches */
    sqlite3_stmt *st = kp_sq_stmt(
        q, CANNED_COLUMNS "WHERE ?1 IS NULL OR substr(lower(shortcut), 1, length(?1)) = lower(?1) "
                          "OR instr(lower(title), lower(?1)) > 0 "
                          "OR instr(lower(body), lower(?1)) > 0 ORDER BY shortcut, id LIMIT ?2");
    if (st) {
        kp_sq_bind_text(st, 1, text);
        sqlite3_bind_int(st, 2, limit);
    }
    return kp_sq_rows(q, st, out);
}

/* ---- notifications ---- */

#define NOTIFICATION_COLUMNS                                                                       \
    "SELECT id, kind, conversation_id, message_id, by_agent_id, created_at, read_at "              \
    "FROM notifications "

int kp_sq_notification_add(struct kp_store *s, const struct kp_notification_new *in, int64_t *id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO notifications(agent_id, kind, conversation_id, "
                                     "message_id, by_agent_id, created_at) "
                                     "VALUES (?, ?, ?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, in->agent_id);
    kp_sq_bind_text(st, 2, in->kind);
    sqlite3_bind_int64(st, 3, in->conversation_id);
    if (in->message_id)
        sqlite3_bind_int64(st, 4, in->message_id);
    if (in->by_agent_id)
        sqlite3_bind_int64(st, 5, in->by_agent_id);
    sqlite3_bind_int64(st, 6, kp_clock_now_ms());
    int rc = kp_sq_exec_stmt(q, st);
    if (rc == KP_EEXIST)
        return KP_ENOTFOUND; /* foreign key: no such agent, conversation or message */
    if (!rc)
        *id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int kp_sq_notification_get(struct kp_store *s, int64_t agent_id, int64_t id, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, NOTIFICATION_COLUMNS "WHERE id = ? AND agent_id = ?");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, agent_id);
    }
    return kp_sq_row1(q, st, out);
}

int kp_sq_notification_list(struct kp_store *s, int64_t agent_id, bool unread_only,
                            int64_t before_id, int limit, json_t **out, int64_t *unread)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT count(*) FROM notifications "
                                     "WHERE agent_id = ? AND read_at IS NULL");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, agent_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *unread = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if ((rc = kp_sq_one(q, rc)))
        return rc;
    st = kp_sq_stmt(q, NOTIFICATION_COLUMNS "WHERE agent_id = ?1 AND (?2 = 0 OR id < ?2) "
                                            "AND (?3 = 0 OR read_at IS NULL) "
                                            "ORDER BY id DESC LIMIT ?4");
    if (st) {
        sqlite3_bind_int64(st, 1, agent_id);
        sqlite3_bind_int64(st, 2, before_id);
        sqlite3_bind_int(st, 3, unread_only);
        sqlite3_bind_int(st, 4, limit);
    }
    return kp_sq_rows(q, st, out);
}

int kp_sq_notification_read(struct kp_store *s, int64_t agent_id, int64_t id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st =
        kp_sq_stmt(q, "UPDATE notifications SET read_at = coalesce(read_at, ?3) "
                      "WHERE agent_id = ?1 AND (id = ?2 OR (?2 = 0 AND read_at IS NULL))");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, agent_id);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int64(st, 3, kp_clock_now_ms());
    int rc = kp_sq_exec_stmt(q, st);
    return rc || !id ? rc : sqlite3_changes(q->db) ? 0 : KP_ENOTFOUND;
}
