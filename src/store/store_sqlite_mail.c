/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_mail.c - the email channel's part of the SQLite backend (sqlite/004_email.sql):
 * email inbox settings, Message-IDs for threading, the outbox, bounces and mails that open no
 * conversation. See store.h for the contracts.
 */
#include "store_sqlite_int.h"
#include "../base/clock.h"

static void copy_col(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", v ? v : "");
}

int kp_sq_attachment_insert(struct sq *q, int64_t message_id, const struct kp_attachment_new *a)
{
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO attachments(message_id, filename, "
                                     "content_type, size, data, content_id) "
                                     "VALUES (?, ?, ?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, message_id);
    kp_sq_bind_text(st, 2, a->filename);
    kp_sq_bind_text(st, 3, a->content_type);
    sqlite3_bind_int64(st, 4, (int64_t)a->size);
    sqlite3_bind_blob64(st, 5, a->size ? a->data : "", a->size, SQLITE_STATIC);
    kp_sq_bind_text(st, 6, a->content_id);
    return kp_sq_exec_stmt(q, st);
}

static int mail_id_put(struct sq *q, int64_t inbox_id, const char *header_id, int64_t message_id)
{
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT OR IGNORE INTO mail_ids(header_id, inbox_id, "
                                     "message_id) VALUES (?, ?, ?)");
    if (!st)
        return KP_EIO;
    kp_sq_bind_text(st, 1, header_id);
    sqlite3_bind_int64(st, 2, inbox_id);
    sqlite3_bind_int64(st, 3, message_id);
    return kp_sq_exec_stmt(q, st);
}

int kp_sq_mail_meta_insert(struct sq *q, int64_t inbox_id, int64_t message_id,
                           const struct kp_mail_meta *m)
{
    sqlite3_stmt *st =
        kp_sq_stmt(q, "INSERT INTO mail_messages(message_id, header_id, "
                      "thread_rule, flags, problem, from_addr, to_addrs, cc_addrs, "
                      "subject, in_reply_to, refs, raw, reply_to) "
                      "VALUES (?, ?, ?, coalesce(?, '[]'), ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, message_id);
    kp_sq_bind_text(st, 2, m->header_id);
    kp_sq_bind_text(st, 3, m->thread_rule);
    kp_sq_bind_text(st, 4, m->flags);
    kp_sq_bind_text(st, 5, m->problem);
    kp_sq_bind_text(st, 6, m->from_addr);
    kp_sq_bind_text(st, 7, m->to_addrs);
    kp_sq_bind_text(st, 8, m->cc_addrs);
    kp_sq_bind_text(st, 9, m->subject);
    kp_sq_bind_text(st, 10, m->in_reply_to);
    kp_sq_bind_text(st, 11, m->refs);
    if (m->raw)
        sqlite3_bind_blob64(st, 12, m->raw, m->raw_len, SQLITE_STATIC);
    kp_sq_bind_text(st, 13, m->reply_to);
    int rc = kp_sq_exec_stmt(q, st);
    if (!rc && m->header_id)
        rc = mail_id_put(q, inbox_id, m->header_id, message_id);
    return rc;
}

/* ---- email inboxes ---- */

int kp_sq_mail_inbox_set(struct kp_store *s, const struct kp_mail_inbox *in)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT channel = 'email' FROM inboxes WHERE id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, in->inbox_id);
    int64_t email = 0;
    int rc = kp_sq_step_int(q, st, &email);
    if (rc)
        return rc;
    if (!email)
        return KP_EINVAL;
    /* an inbox that changes its IMAP mailbox starts that mailbox's import from the beginning */
    st = kp_sq_stmt(
        q, "INSERT INTO mail_inboxes(inbox_id, address, display_name, smtp_url, smtp_user, "
           "smtp_password, imap_url, imap_user, imap_password, imap_poll_s, imap_after, "
           "autoreply, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
           "ON CONFLICT(inbox_id) DO UPDATE SET address = ?2, display_name = ?3, smtp_url = ?4, "
           "smtp_user = ?5, smtp_password = ?6, imap_url = ?7, imap_user = ?8, "
           "imap_password = ?9, imap_poll_s = ?10, imap_after = ?11, autoreply = ?12, "
           "updated_at = ?13, "
           "imap_uidvalidity = CASE WHEN imap_url = ?7 AND imap_user = ?8 THEN imap_uidvalidity "
           "ELSE 0 END, "
           "imap_last_uid = CASE WHEN imap_url = ?7 AND imap_user = ?8 THEN imap_last_uid "
           "ELSE 0 END");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, in->inbox_id);
    kp_sq_bind_text(st, 2, in->address);
    kp_sq_bind_text(st, 3, in->display_name);
    kp_sq_bind_text(st, 4, in->smtp_url);
    kp_sq_bind_text(st, 5, in->smtp_user);
    kp_sq_bind_text(st, 6, in->smtp_password);
    kp_sq_bind_text(st, 7, in->imap_url);
    kp_sq_bind_text(st, 8, in->imap_user);
    kp_sq_bind_text(st, 9, in->imap_password);
    sqlite3_bind_int64(st, 10, in->imap_poll_s);
    kp_sq_bind_text(st, 11, in->imap_after);
    kp_sq_bind_text(st, 12, in->autoreply);
    sqlite3_bind_int64(st, 13, kp_clock_now_ms());
    return kp_sq_exec_stmt(q, st);
}

int kp_sq_mail_inbox_get(struct kp_store *s, int64_t inbox_id, struct kp_mail_inbox *out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(
        q, "SELECT m.inbox_id, coalesce(i.team_id, 0), i.name, m.address, m.display_name, "
           "m.smtp_url, m.smtp_user, m.smtp_password, m.imap_url, m.imap_user, m.imap_password, "
           "m.imap_after, m.imap_poll_s, m.imap_uidvalidity, m.imap_last_uid, m.autoreply "
           "FROM mail_inboxes m JOIN inboxes i ON i.id = m.inbox_id WHERE m.inbox_id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, inbox_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        out->inbox_id = sqlite3_column_int64(st, 0);
        out->team_id = sqlite3_column_int64(st, 1);
        copy_col(st, 2, out->name, sizeof(out->name));
        copy_col(st, 3, out->address, sizeof(out->address));
        copy_col(st, 4, out->display_name, sizeof(out->display_name));
        copy_col(st, 5, out->smtp_url, sizeof(out->smtp_url));
        copy_col(st, 6, out->smtp_user, sizeof(out->smtp_user));
        copy_col(st, 7, out->smtp_password, sizeof(out->smtp_password));
        copy_col(st, 8, out->imap_url, sizeof(out->imap_url));
        copy_col(st, 9, out->imap_user, sizeof(out->imap_user));
        copy_col(st, 10, out->imap_password, sizeof(out->imap_password));
        copy_col(st, 11, out->imap_after, sizeof(out->imap_after));
        out->imap_poll_s = sqlite3_column_int64(st, 12);
        out->imap_uidvalidity = sqlite3_column_int64(st, 13);
        out->imap_last_uid = sqlite3_column_int64(st, 14);
        copy_col(st, 15, out->autoreply, sizeof(out->autoreply));
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

int kp_sq_mail_inbox_by_address(struct kp_store *s, const char *address, int64_t *inbox_id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT inbox_id FROM mail_inboxes WHERE address = ?");
    if (st)
        kp_sq_bind_text(st, 1, address);
    return kp_sq_step_int(q, st, inbox_id);
}

int kp_sq_mail_inbox_ids(struct kp_store *s, int64_t *ids, size_t *n)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT inbox_id FROM mail_inboxes ORDER BY inbox_id");
    if (!st)
        return KP_EIO;
    size_t cap = *n, i = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && i < cap)
        ids[i++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    *n = i;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : kp_sq_err(q, rc);
}

int kp_sq_mail_imap_mark(struct kp_store *s, int64_t inbox_id, int64_t uidvalidity,
                         int64_t last_uid)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "UPDATE mail_inboxes SET imap_uidvalidity = ?2, "
                                     "imap_last_uid = ?3 WHERE inbox_id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, inbox_id);
    sqlite3_bind_int64(st, 2, uidvalidity);
    sqlite3_bind_int64(st, 3, last_uid);
    return kp_sq_exec_stmt(q, st);
}

/* ---- inbound ---- */

int kp_sq_mail_thread(struct kp_store *s, int64_t inbox_id, const char *header_id,
                      int64_t tag_conversation, const char *sender, int64_t *conversation_id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st;
    if (header_id) {
        st = kp_sq_stmt(q, "SELECT m.conversation_id FROM mail_ids i JOIN messages m "
                           "ON m.id = i.message_id WHERE i.header_id = ? AND i.inbox_id = ?");
        if (st) {
            kp_sq_bind_text(st, 1, header_id);
            sqlite3_bind_int64(st, 2, inbox_id);
        }
    } else {
        st = kp_sq_stmt(q, "SELECT c.id FROM conversations c JOIN identities i "
                           "ON i.contact_id = c.contact_id AND i.kind = 'email' AND i.value = ?3 "
                           "WHERE c.id = ?1 AND c.inbox_id = ?2");
        if (st) {
            sqlite3_bind_int64(st, 1, tag_conversation);
            sqlite3_bind_int64(st, 2, inbox_id);
            kp_sq_bind_text(st, 3, sender ? sender : "");
        }
    }
    return kp_sq_step_int(q, st, conversation_id);
}

int kp_sq_mail_kept_seen(struct kp_store *s, int64_t inbox_id, const char *key, bool *seen)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st =
        kp_sq_stmt(q, "INSERT OR IGNORE INTO mail_kept_keys(inbox_id, key) VALUES (?, ?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, inbox_id);
    kp_sq_bind_text(st, 2, key);
    int rc = kp_sq_exec_stmt(q, st);
    *seen = !rc && sqlite3_changes(q->db) == 0;
    return rc;
}

int kp_sq_mail_drop(struct kp_store *s, int64_t inbox_id, const char *kind, const char *from,
                    const char *subject, const char *reason, int64_t message_id, const void *raw,
                    size_t len)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO mail_dropped(inbox_id, kind, from_addr, "
                                     "subject, reason, message_id, raw, created_at) "
                                     "VALUES (?, ?, ?, ?, ?, nullif(?, 0), ?, ?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, inbox_id);
    kp_sq_bind_text(st, 2, kind);
    kp_sq_bind_text(st, 3, from);
    kp_sq_bind_text(st, 4, subject);
    kp_sq_bind_text(st, 5, reason);
    sqlite3_bind_int64(st, 6, message_id);
    sqlite3_bind_blob64(st, 7, len ? raw : "", len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, kp_clock_now_ms());
    return kp_sq_exec_stmt(q, st);
}

int kp_sq_mail_bounce(struct kp_store *s, int64_t inbox_id, const char *header_id, bool permanent,
                      const char *reason, int64_t *message_id, int64_t *conversation_id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT m.id, m.conversation_id FROM mail_ids i "
                                     "JOIN messages m ON m.id = i.message_id "
                                     "WHERE i.header_id = ? AND i.inbox_id = ? "
                                     "AND m.direction = 'out'");
    if (!st)
        return KP_EIO;
    kp_sq_bind_text(st, 1, header_id);
    sqlite3_bind_int64(st, 2, inbox_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *message_id = sqlite3_column_int64(st, 0);
        *conversation_id = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if ((rc = kp_sq_one(q, rc)) || !permanent)
        return rc;
    st = kp_sq_stmt(q, "UPDATE outbox SET state = 'failed', error = ?2, updated_at = ?3 "
                       "WHERE message_id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, *message_id);
    kp_sq_bind_text(st, 2, reason ? reason : "the recipient's mail server returned it");
    sqlite3_bind_int64(st, 3, kp_clock_now_ms());
    return kp_sq_exec_stmt(q, st);
}

int kp_sq_mail_dropped_list(struct kp_store *s, int64_t inbox_id, int64_t before_id, int limit,
                            json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT id, kind, from_addr, subject, reason, message_id, "
                                     "length(raw) AS size, created_at FROM mail_dropped "
                                     "WHERE inbox_id = ?1 AND (?2 = 0 OR id < ?2) "
                                     "ORDER BY id DESC LIMIT ?3");
    if (st) {
        sqlite3_bind_int64(st, 1, inbox_id);
        sqlite3_bind_int64(st, 2, before_id);
        sqlite3_bind_int(st, 3, limit);
    }
    return kp_sq_rows(q, st, out);
}

/* ---- outbound ---- */

int kp_sq_mail_reply_context(struct kp_store *s, int64_t conversation_id, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(
        q, "WITH last AS (SELECT e.header_id, e.refs, coalesce(e.reply_to, e.from_addr) AS "
           "answer_to FROM messages m JOIN mail_messages e ON e.message_id = m.id "
           "WHERE m.conversation_id = ?1 AND m.direction = 'in' AND m.author_contact_id = "
           "(SELECT contact_id FROM conversations WHERE id = ?1) AND instr(e.flags, "
           "'\"auto_reply\"') = 0 AND instr(e.flags, '\"bulk\"') = 0 ORDER BY m.id DESC LIMIT 1), "
           "box AS (SELECT inbox_id, address FROM mail_inboxes WHERE inbox_id = "
           "(SELECT inbox_id FROM conversations WHERE id = ?1) UNION ALL "
           "SELECT * FROM (SELECT inbox_id, address FROM mail_inboxes WHERE smtp_url <> '' "
           "ORDER BY inbox_id LIMIT 1) LIMIT 1) "
           "SELECT c.id AS conversation_id, c.channel, (SELECT inbox_id FROM box) AS inbox_id, "
           "(SELECT address FROM box) AS address, c.subject, "
           "coalesce((SELECT answer_to FROM last), (SELECT value FROM identities WHERE "
           "contact_id = c.contact_id AND kind = 'email' ORDER BY id LIMIT 1)) AS recipient, "
           "(SELECT header_id FROM last) AS in_reply_to, "
           "trim(coalesce((SELECT refs FROM last), '') || ' ' || "
           "coalesce((SELECT header_id FROM last), '')) AS refs "
           "FROM conversations c WHERE c.id = ?1");
    if (st)
        sqlite3_bind_int64(st, 1, conversation_id);
    return kp_sq_row1(q, st, out);
}

int kp_sq_mail_queue(struct kp_store *s, const struct kp_mail_out *m)
{
    struct sq *q = SQ(s);
    struct kp_mail_meta meta = {.header_id = m->header_id,
                                .to_addrs = m->recipient,
                                .subject = m->subject,
                                .in_reply_to = m->in_reply_to,
                                .refs = m->refs,
                                .flags = m->automatic ? "[\"auto_reply\"]" : NULL};
    int rc = kp_sq_mail_meta_insert(q, m->inbox_id, m->message_id, &meta);
    if (rc)
        return rc;
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO outbox(message_id, inbox_id, state, recipient, "
                                     "next_at, auto, created_at, updated_at) "
                                     "VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?4, ?4)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, m->message_id);
    sqlite3_bind_int64(st, 2, m->inbox_id);
    kp_sq_bind_text(st, 3, m->recipient);
    sqlite3_bind_int64(st, 4, kp_clock_now_ms());
    sqlite3_bind_int(st, 5, m->automatic);
    return kp_sq_exec_stmt(q, st);
}

int kp_sq_mail_due(struct kp_store *s, int64_t now_ms, int64_t *ids, size_t *n)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT message_id FROM outbox WHERE state = 'queued' "
                                     "AND next_at <= ? ORDER BY next_at, message_id LIMIT ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, (int64_t)*n);
    size_t i = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ids[i++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    *n = i;
    return rc == SQLITE_DONE ? 0 : kp_sq_err(q, rc);
}

int kp_sq_mail_outgoing(struct kp_store *s, int64_t message_id, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(
        q, "SELECT o.message_id, o.inbox_id, m.conversation_id, e.header_id, o.recipient, "
           "e.subject, e.in_reply_to, e.refs, m.text, m.html, o.auto, o.attempts, "
           "coalesce(a.name, '') AS agent_name, m.created_at, "
           "(SELECT json_group_array(json_object('id', t.id, 'filename', t.filename, "
           "'content_type', t.content_type)) FROM attachments t WHERE t.message_id = m.id) "
           "AS attachments_json FROM outbox o JOIN messages m ON m.id = o.message_id "
           "JOIN mail_messages e ON e.message_id = o.message_id "
           "LEFT JOIN agents a ON a.id = m.author_agent_id WHERE o.message_id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, message_id);
    return kp_sq_row1(q, st, out);
}

int kp_sq_mail_sent(struct kp_store *s, int64_t message_id, const void *raw, size_t len)
{
    struct sq *q = SQ(s);
    int64_t now = kp_clock_now_ms();
    sqlite3_stmt *st = kp_sq_stmt(q, "UPDATE outbox SET state = 'sent', attempts = attempts + 1, "
                                     "error = NULL, updated_at = ?2 WHERE message_id = ?1 "
                                     "AND state = 'queued'");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, message_id);
    sqlite3_bind_int64(st, 2, now);
    int rc = kp_sq_exec_stmt(q, st);
    if (rc)
        return rc;
    if (!sqlite3_changes(q->db))
        return KP_ENOTFOUND;
    st = kp_sq_stmt(q, "UPDATE mail_messages SET raw = ? WHERE message_id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_blob64(st, 1, len ? raw : "", len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, message_id);
    return kp_sq_exec_stmt(q, st);
}

int kp_sq_mail_failed(struct kp_store *s, int64_t message_id, const char *error, int64_t retry_at)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(
        q, "UPDATE outbox SET state = CASE WHEN ?3 = 0 THEN 'failed' ELSE 'queued' END, "
           "attempts = attempts + 1, error = ?2, next_at = CASE WHEN ?3 = 0 THEN next_at "
           "ELSE ?3 END, updated_at = ?4 WHERE message_id = ?1 AND state = 'queued'");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, message_id);
    kp_sq_bind_text(st, 2, error);
    sqlite3_bind_int64(st, 3, retry_at);
    sqlite3_bind_int64(st, 4, kp_clock_now_ms());
    int rc = kp_sq_exec_stmt(q, st);
    return rc ? rc : sqlite3_changes(q->db) ? 0 : KP_ENOTFOUND;
}

/* Copies the one blob st yields into a malloc'd buffer. */
static int blob_row(struct sq *q, sqlite3_stmt *st, void **data, size_t *len)
{
    if (!st)
        return KP_EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        *data = kp_xmalloc(*len + 1);
        if (*len)
            memcpy(*data, sqlite3_column_blob(st, 0), *len);
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

int kp_sq_mail_raw(struct kp_store *s, int64_t message_id, void **data, size_t *len)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st =
        kp_sq_stmt(q, "SELECT raw FROM mail_messages WHERE message_id = ? AND raw IS NOT NULL");
    if (st)
        sqlite3_bind_int64(st, 1, message_id);
    return blob_row(q, st, data, len);
}

int kp_sq_mail_dropped_raw(struct kp_store *s, int64_t inbox_id, int64_t id, void **data,
                           size_t *len)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT raw FROM mail_dropped WHERE id = ? AND inbox_id = ?");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, inbox_id);
    }
    return blob_row(q, st, data, len);
}

int kp_sq_mail_autoreply_allowed(struct kp_store *s, int64_t inbox_id, const char *address,
                                 int64_t now_ms, int64_t window_ms, bool *allowed)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO mail_autoreplies(inbox_id, address, sent_at) "
                                     "VALUES (?1, ?2, ?3) ON CONFLICT(inbox_id, address) "
                                     "DO UPDATE SET sent_at = ?3 WHERE sent_at <= ?3 - ?4");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, inbox_id);
    kp_sq_bind_text(st, 2, address);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_int64(st, 4, window_ms);
    int rc = kp_sq_exec_stmt(q, st);
    *allowed = !rc && sqlite3_changes(q->db) > 0;
    return rc;
}

/* ---- moving a message ---- */

/* Count, time, preview and waiting time of a conversation from its messages, after one moved
 * in or out. */
static int recount(struct sq *q, int64_t conversation_id)
{
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT text FROM messages WHERE conversation_id = ? "
                                     "AND direction <> 'note' ORDER BY id DESC LIMIT 1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, conversation_id);
    char pv[160] = "";
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        kp_sq_preview(pv, sizeof(pv), (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kp_sq_err(q, rc);
    st = kp_sq_stmt(
        q, "UPDATE conversations SET message_count = (SELECT count(*) FROM messages "
           "WHERE conversation_id = ?1), last_message_at = coalesce((SELECT max(created_at) FROM "
           "messages WHERE conversation_id = ?1 AND direction <> 'note'), created_at), "
           "preview = nullif(?3, ''), updated_at = ?2, "
           /* waiting since the oldest inbound message after the last reply, automatic mail
            * not counted */
           "waiting_since = (SELECT min(m.created_at) FROM messages m LEFT JOIN mail_messages e "
           "ON e.message_id = m.id WHERE m.conversation_id = ?1 AND m.direction = 'in' "
           "AND m.id > coalesce((SELECT max(id) FROM messages WHERE conversation_id = ?1 AND "
           "direction = 'out'), 0) AND (e.flags IS NULL OR (instr(e.flags, '\"auto_reply\"') = 0 "
           "AND instr(e.flags, '\"bulk\"') = 0 AND instr(e.flags, '\"mailer_daemon\"') = 0))) "
           "WHERE id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, conversation_id);
    sqlite3_bind_int64(st, 2, kp_clock_now_ms());
    sqlite3_bind_text(st, 3, pv, -1, SQLITE_TRANSIENT);
    return kp_sq_exec_stmt(q, st);
}

int kp_sq_message_move(struct kp_store *s, int64_t message_id, int64_t to_conversation,
                       int64_t *from_conversation)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT conversation_id FROM messages WHERE id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, message_id);
    int rc = kp_sq_step_int(q, st, from_conversation);
    if (rc)
        return rc;
    int64_t exists;
    st = kp_sq_stmt(q, "SELECT 1 FROM conversations WHERE id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, to_conversation);
    if ((rc = kp_sq_step_int(q, st, &exists)))
        return rc;
    if (*from_conversation == to_conversation)
        return 0;
    st = kp_sq_stmt(q, "UPDATE messages SET conversation_id = ? WHERE id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, to_conversation);
    sqlite3_bind_int64(st, 2, message_id);
    if ((rc = kp_sq_exec_stmt(q, st)))
        return rc;
    st = kp_sq_stmt(q, "UPDATE mail_messages SET thread_rule = 'moved' WHERE message_id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, message_id);
    if ((rc = kp_sq_exec_stmt(q, st)))
        return rc;
    /* a retry of the moved message answers with where it is now */
    st = kp_sq_stmt(q, "UPDATE dedupe SET conversation_id = ?1 WHERE inbox_id IN "
                       "(SELECT id FROM inboxes) AND key = 'x:' || (SELECT external_id FROM "
                       "messages WHERE id = ?2) AND message_id = ?2");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, to_conversation);
    sqlite3_bind_int64(st, 2, message_id);
    if ((rc = kp_sq_exec_stmt(q, st)) || (rc = recount(q, *from_conversation)))
        return rc;
    return recount(q, to_conversation);
}
