/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_conv.c - SQLite backend, part two: contacts and identities, conversations,
 * messages, the inbound path (ingest) and full-text search. See store.h for the contracts.
 */
#include "store_sqlite_int.h"
#include "../base/buf.h"
#include "../base/clock.h"

#include <errno.h>

/* ---- contacts ---- */

#define CONTACT_COLUMNS                                                                            \
    "SELECT k.id, k.name, k.attributes AS attributes_json, k.created_at, k.updated_at, "           \
    "(SELECT json_group_array(json_object('id', i.id, 'kind', i.kind, 'value', i.value)) "         \
    "FROM identities i WHERE i.contact_id = k.id) AS identities_json FROM contacts k "

int kp_sq_contact_create(struct kp_store *s, const struct kp_contact_new *in, int64_t *id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO contacts(name, attributes, created_at, "
                                     "updated_at) VALUES (?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    char *attrs = in->attributes ? json_dumps(in->attributes, JSON_COMPACT) : NULL;
    int64_t now = kp_clock_now_ms();
    kp_sq_bind_text(st, 1, in->name);
    kp_sq_bind_text(st, 2, attrs ? attrs : "{}");
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, now);
    int rc = kp_sq_exec_stmt(q, st);
    free(attrs);
    if (!rc)
        *id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int kp_sq_contact_get(struct kp_store *s, int64_t id, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, CONTACT_COLUMNS "WHERE k.id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, id);
    return kp_sq_row1(q, st, out);
}

/* "<time ms>.<id>", both non-negative and in range. */
static int parse_cursor(const char *cursor, int64_t *a, int64_t *b)
{
    char *end;
    errno = 0;
    if (!(*cursor >= '0' && *cursor <= '9'))
        return KP_EINVAL;
    *a = strtoll(cursor, &end, 10);
    if (errno || *end != '.' || !(end[1] >= '0' && end[1] <= '9'))
        return KP_EINVAL;
    const char *p = end + 1;
    *b = strtoll(p, &end, 10);
    return errno || *end ? KP_EINVAL : 0;
}

/* Moves the extra row (limit + 1) into a next_cursor built from its key columns. */
static json_t *page(json_t *items, int limit, const char *k1, const char *k2)
{
    json_t *res = json_object();
    json_t *next = json_null();
    if (json_array_size(items) > (size_t)limit) {
        json_array_remove(items, (size_t)limit);
        json_t *last = json_array_get(items, (size_t)limit - 1);
        char buf[64];
        snprintf(buf, sizeof(buf), "%lld.%lld",
                 (long long)json_integer_value(json_object_get(last, k1)),
                 (long long)json_integer_value(json_object_get(last, k2)));
        json_decref(next);
        next = json_string(buf);
    }
    json_object_set_new(res, "items", items);
    json_object_set_new(res, "next_cursor", next);
    return res;
}

int kp_sq_contact_list(struct kp_store *s, const char *text, const char *cursor, int limit,
                       json_t **out)
{
    struct sq *q = SQ(s);
    int64_t a = 0, b = INT64_MAX;
    if (cursor && parse_cursor(cursor, &a, &b))
        return KP_EINVAL;
    sqlite3_stmt *st = kp_sq_stmt(
        q, CONTACT_COLUMNS ", (SELECT ?3 AS q) p WHERE k.id < ?1 AND (p.q IS NULL OR "
                           "instr(lower(k.name), lower(p.q)) > 0 OR EXISTS (SELECT 1 FROM "
                           "identities i WHERE i.contact_id = k.id AND "
                           "instr(lower(i.value), lower(p.q)) > 0)) ORDER BY k.id DESC LIMIT ?2");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, b);
    sqlite3_bind_int(st, 2, limit + 1);
    kp_sq_bind_text(st, 3, text);
    json_t *items;
    int rc = kp_sq_rows(q, st, &items);
    if (rc)
        return rc;
    size_t i;
    json_t *c;
    json_array_foreach(items, i, c) json_object_set_new(c, "cursor_key", json_integer(0));
    *out = page(items, limit, "cursor_key", "id");
    json_array_foreach(json_object_get(*out, "items"), i, c) json_object_del(c, "cursor_key");
    return 0;
}

int kp_sq_contact_update(struct kp_store *s, int64_t id, const char *name, json_t *attributes)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "UPDATE contacts SET name = coalesce(?2, name), "
                                     "attributes = CASE WHEN ?3 IS NULL THEN attributes "
                                     "ELSE json_patch(attributes, ?3) END, updated_at = ?4 "
                                     "WHERE id = ?1");
    if (!st)
        return KP_EIO;
    char *attrs = attributes ? json_dumps(attributes, JSON_COMPACT) : NULL;
    sqlite3_bind_int64(st, 1, id);
    kp_sq_bind_text(st, 2, name);
    kp_sq_bind_text(st, 3, attrs);
    sqlite3_bind_int64(st, 4, kp_clock_now_ms());
    int rc = kp_sq_exec_stmt(q, st);
    free(attrs);
    return rc ? rc : sqlite3_changes(q->db) ? 0 : KP_ENOTFOUND;
}

int kp_sq_identity_add(struct kp_store *s, int64_t contact_id, const char *kind, const char *value,
                       int64_t *id)
{
    struct sq *q = SQ(s);
    int64_t exists;
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT id FROM contacts WHERE id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, contact_id);
    int rc = kp_sq_step_int(q, st, &exists);
    if (rc)
        return rc;
    st = kp_sq_stmt(q, "INSERT INTO identities(contact_id, kind, value, created_at) "
                       "VALUES (?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, contact_id);
    kp_sq_bind_text(st, 2, kind);
    kp_sq_bind_text(st, 3, value);
    sqlite3_bind_int64(st, 4, kp_clock_now_ms());
    rc = kp_sq_exec_stmt(q, st);
    if (!rc && id)
        *id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int kp_sq_identity_delete(struct kp_store *s, int64_t contact_id, int64_t identity_id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "DELETE FROM identities WHERE id = ? AND contact_id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, identity_id);
    sqlite3_bind_int64(st, 2, contact_id);
    int rc = kp_sq_exec_stmt(q, st);
    return rc ? rc : sqlite3_changes(q->db) ? 0 : KP_ENOTFOUND;
}

/* ---- conversations ---- */

#define CONV_COLUMNS                                                                               \
    "SELECT c.id, c.inbox_id, c.channel, c.state, c.priority, c.team_id, c.assignee_id, "          \
    "c.subject, c.preview, c.message_count, c.waiting_since, c.created_at, c.updated_at, "         \
    "c.last_message_at, k.id AS \"contact.id\", k.name AS \"contact.name\", "                      \
    "c.tags AS tags_json FROM conversations c JOIN contacts k ON k.id = c.contact_id "

static void bind_named_int(sqlite3_stmt *st, const char *name, int64_t v)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i)
        sqlite3_bind_int64(st, i, v);
}

static void bind_named_text(sqlite3_stmt *st, const char *name, const char *v)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* positions in CONV_COLUMNS */
enum { CONV_COL_WAITING = 10, CONV_COL_LAST = 13 };

int kp_sq_conversation_list(struct kp_store *s, const struct kp_conv_query *f, struct kp_buf *out)
{
    struct sq *q = SQ(s);
    /* newest activity first; or, for the waiting, the longest waiting first */
    int64_t ct = f->waiting ? INT64_MIN : INT64_MAX, cid = f->waiting ? INT64_MIN : INT64_MAX;
    if (f->cursor && parse_cursor(f->cursor, &ct, &cid))
        return KP_EINVAL;
    char *fts = f->text ? kp_sq_fts_query(f->text) : NULL;
    struct kp_buf sql;
    kp_buf_init(&sql, 4096);
    kp_buf_puts(&sql, CONV_COLUMNS "WHERE " KP_SQ_VISIBLE);
    kp_buf_puts(&sql, f->waiting ? " AND c.waiting_since IS NOT NULL AND (c.waiting_since > :ct "
                                   "OR (c.waiting_since = :ct AND c.id > :cid))"
                                 : " AND (c.last_message_at < :ct OR (c.last_message_at = :ct "
                                   "AND c.id < :cid))");
    if (f->state) {
        /* a literal, so that the planner can use the partial index of states other than open */
        static const char *const states[] = {"open", "pending", "snoozed", "resolved"};
        size_t i = 0;
        while (i < KP_ARRAY_LEN(states) && strcmp(states[i], f->state) != 0)
            i++;
        if (i == KP_ARRAY_LEN(states)) {
            kp_buf_release(&sql);
            free(fts);
            return KP_EINVAL;
        }
        kp_buf_printf(&sql, " AND c.state = '%s'", states[i]);
    }
    if (f->team_id)
        kp_buf_puts(&sql, " AND c.team_id = :team");
    if (f->my_teams)
        kp_buf_puts(&sql,
                    " AND c.team_id IN (SELECT team_id FROM team_members WHERE agent_id = ?1)");
    if (f->assignee_id > 0)
        kp_buf_puts(&sql, " AND c.assignee_id = :assignee");
    else if (f->assignee_id < 0)
        kp_buf_puts(&sql, " AND c.assignee_id IS NULL");
    if (f->inbox_id)
        kp_buf_puts(&sql, " AND c.inbox_id = :inbox");
    if (f->contact_id)
        kp_buf_puts(&sql, " AND c.contact_id = :contact");
    if (f->channel)
        kp_buf_puts(&sql, " AND c.channel = :channel");
    if (f->tag)
        kp_buf_puts(&sql, " AND EXISTS (SELECT 1 FROM conversation_tags t WHERE "
                          "t.conversation_id = c.id AND t.tag = :tag)");
    if (f->text)
        kp_buf_puts(&sql, fts ? " AND c.id IN (SELECT m.conversation_id FROM messages_fts "
                                "JOIN messages m ON m.id = messages_fts.rowid "
                                "WHERE messages_fts MATCH :fts)"
                              : " AND 0");
    kp_buf_puts(&sql, f->waiting ? " ORDER BY c.waiting_since, c.id LIMIT :limit"
                                 : " ORDER BY c.last_message_at DESC, c.id DESC LIMIT :limit");
    sqlite3_stmt *st = kp_sq_stmt_built(q, sql.data);
    kp_buf_release(&sql);
    if (!st) {
        free(fts);
        return KP_EIO;
    }
    sqlite3_bind_int64(st, 1, f->viewer.agent_id);
    sqlite3_bind_int(st, 2, f->viewer.admin);
    bind_named_int(st, ":ct", ct);
    bind_named_int(st, ":cid", cid);
    bind_named_int(st, ":team", f->team_id);
    bind_named_int(st, ":assignee", f->assignee_id);
    bind_named_int(st, ":inbox", f->inbox_id);
    bind_named_int(st, ":contact", f->contact_id);
    bind_named_text(st, ":channel", f->channel);
    bind_named_text(st, ":tag", f->tag);
    bind_named_text(st, ":fts", fts);
    bind_named_int(st, ":limit", f->limit + 1);
    free(fts);
    /* items, and one extra row that only says whether there is a next page */
    int rc, n = 0;
    int64_t last_t = 0, last_id = 0;
    struct kp_sq_cols cols = {0};
    kp_buf_append(out, "{\"items\":[", 10);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == f->limit)
            break;
        if (n++)
            kp_buf_append(out, ",", 1);
        last_t = sqlite3_column_int64(st, f->waiting ? CONV_COL_WAITING : CONV_COL_LAST);
        last_id = sqlite3_column_int64(st, 0);
        if (kp_sq_row_text(st, &cols, out)) {
            sqlite3_reset(st);
            return KP_ETOOBIG;
        }
    }
    bool more = rc == SQLITE_ROW;
    sqlite3_reset(st);
    if (!more && rc != SQLITE_DONE)
        return kp_sq_err(q, rc);
    if (more)
        kp_buf_printf(out, "],\"next_cursor\":\"%lld.%lld\"}", (long long)last_t,
                      (long long)last_id);
    else
        kp_buf_puts(out, "],\"next_cursor\":null}");
    return 0;
}

int kp_sq_conversation_get(struct kp_store *s, const struct kp_viewer *v, int64_t id, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, CONV_COLUMNS "WHERE c.id = ?3 AND " KP_SQ_VISIBLE);
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, v->agent_id);
    sqlite3_bind_int(st, 2, v->admin);
    sqlite3_bind_int64(st, 3, id);
    return kp_sq_row1(q, st, out);
}

int kp_sq_conversation_update(struct kp_store *s, int64_t id, const struct kp_conv_change *ch)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(
        q, "UPDATE conversations SET state = coalesce(?2, state), "
           "priority = coalesce(?3, priority), "
           "team_id = CASE WHEN ?4 = 0 THEN team_id ELSE ?4 END, "
           "assignee_id = CASE WHEN ?5 = 0 THEN assignee_id WHEN ?5 < 0 THEN NULL ELSE ?5 END, "
           "waiting_since = CASE WHEN ?2 = 'resolved' THEN NULL ELSE waiting_since END, "
           "channel = coalesce(?7, channel), updated_at = ?6 WHERE id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    kp_sq_bind_text(st, 2, ch->state);
    kp_sq_bind_text(st, 3, ch->priority);
    sqlite3_bind_int64(st, 4, ch->team_id);
    sqlite3_bind_int64(st, 5, ch->assignee_id);
    sqlite3_bind_int64(st, 6, kp_clock_now_ms());
    kp_sq_bind_text(st, 7, ch->channel);
    int rc = kp_sq_exec_stmt(q, st);
    if (rc == KP_EEXIST)
        return KP_ENOTFOUND; /* foreign key: no such team or agent */
    return rc ? rc : sqlite3_changes(q->db) ? 0 : KP_ENOTFOUND;
}

int kp_sq_conversation_tag(struct kp_store *s, int64_t id, const char *tag, bool add)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(
        q, add ? "INSERT OR IGNORE INTO conversation_tags(conversation_id, tag) VALUES (?, ?)"
               : "DELETE FROM conversation_tags WHERE conversation_id = ? AND tag = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    kp_sq_bind_text(st, 2, tag);
    int rc = kp_sq_exec_stmt(q, st);
    if (rc == KP_EEXIST)
        return KP_ENOTFOUND;
    if (rc)
        return rc;
    st = kp_sq_stmt(q, "UPDATE conversations SET updated_at = ?, tags = (SELECT "
                       "json_group_array(tag) FROM (SELECT tag FROM conversation_tags WHERE "
                       "conversation_id = ?2 ORDER BY tag)) WHERE id = ?2");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, kp_clock_now_ms());
    sqlite3_bind_int64(st, 2, id);
    rc = kp_sq_exec_stmt(q, st);
    return rc ? rc : sqlite3_changes(q->db) ? 0 : KP_ENOTFOUND;
}

/* ---- messages ---- */

#define MESSAGE_COLUMNS                                                                            \
    "SELECT m.id, m.conversation_id, m.direction, m.channel, m.author_agent_id, "                  \
    "m.author_contact_id, m.text, m.html, m.external_id, m.lang, m.created_at, "                   \
    "(SELECT json_group_array(json_object('id', a.id, 'filename', a.filename, "                    \
    "'content_type', a.content_type, 'size', a.size, 'content_id', a.content_id)) "                \
    "FROM attachments a WHERE a.message_id = m.id) AS attachments_json, "                          \
    "(SELECT json_object('message_id', e.header_id, 'thread_rule', e.thread_rule, 'flags', "       \
    "json(e.flags), 'problem', e.problem, 'from', e.from_addr, 'reply_to', e.reply_to, "           \
    "'to', e.to_addrs, 'cc', e.cc_addrs, 'subject', e.subject, 'has_raw', "                        \
    "json(CASE WHEN e.raw IS NULL THEN 'false' ELSE 'true' END)) FROM mail_messages e "            \
    "WHERE e.message_id = m.id) AS email_json, "                                                   \
    "(SELECT json_object('state', o.state, 'attempts', o.attempts, 'error', o.error, "             \
    "'next_attempt_at', CASE WHEN o.state = 'queued' THEN strftime('%Y-%m-%dT%H:%M:%fZ', "         \
    "o.next_at / 1000.0, 'unixepoch') END) FROM outbox o WHERE o.message_id = m.id) "              \
    "AS delivery_json FROM messages m "

int kp_sq_message_list(struct kp_store *s, int64_t conversation_id, int64_t after, int limit,
                       json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, MESSAGE_COLUMNS "WHERE m.conversation_id = ? AND m.id > ? "
                                                     "ORDER BY m.id LIMIT ?");
    if (st) {
        sqlite3_bind_int64(st, 1, conversation_id);
        sqlite3_bind_int64(st, 2, after);
        sqlite3_bind_int(st, 3, limit);
    }
    return kp_sq_rows(q, st, out);
}

/* Runs st (one row expected) into out as JSON text. */
static int row_text(struct sq *q, sqlite3_stmt *st, struct kp_buf *out)
{
    if (!st)
        return KP_EIO;
    int rc = sqlite3_step(st);
    struct kp_sq_cols cols = {0};
    int err = rc == SQLITE_ROW ? kp_sq_row_text(st, &cols, out) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? KP_ENOTFOUND : kp_sq_err(q, rc);
    return err;
}

int kp_sq_conversation_text(struct kp_store *s, int64_t id, struct kp_buf *out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, CONV_COLUMNS "WHERE c.id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, id);
    return row_text(q, st, out);
}

int kp_sq_conversation_access(struct kp_store *s, const struct kp_viewer *v, int64_t id,
                              int64_t *team_id, int64_t *assignee_id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT coalesce(c.team_id, 0), coalesce(c.assignee_id, 0) "
                                     "FROM conversations c WHERE c.id = ?3 AND " KP_SQ_VISIBLE);
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, v->agent_id);
    sqlite3_bind_int(st, 2, v->admin);
    sqlite3_bind_int64(st, 3, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *team_id = sqlite3_column_int64(st, 0);
        *assignee_id = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

int kp_sq_message_text(struct kp_store *s, int64_t id, struct kp_buf *out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, MESSAGE_COLUMNS "WHERE m.id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, id);
    return row_text(q, st, out);
}

void kp_sq_preview(char *out, size_t cap, const char *text)
{
    /* cut at a UTF-8 boundary, whitespace folded to single spaces */
    size_t o = 0;
    bool space = false;
    const unsigned char *p = (const unsigned char *)text;
    for (; *p && o + 4 < cap; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
            space = o > 0;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            space = false;
        }
        out[o++] = (char)*p;
    }
    if (*p) {
        /* cut short: drop the last character if only some of its bytes were copied */
        size_t start = o;
        while (start > 0 && ((unsigned char)out[start - 1] & 0xc0) == 0x80)
            start--;
        if (start > 0 && ((unsigned char)out[start - 1] & 0xc0) == 0xc0) {
            unsigned char lead = (unsigned char)out[start - 1];
            size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
            if (o - (start - 1) < need)
                o = start - 1;
        }
    }
    out[o] = '\0';
}

static int insert_message(struct sq *q, int64_t conv, const char *direction, const char *channel,
                          int64_t agent, int64_t contact, const char *text, const char *html,
                          const char *external_id, int64_t now, int64_t *id)
{
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO messages(conversation_id, direction, channel, "
                                     "author_agent_id, author_contact_id, text, html, "
                                     "external_id, created_at) VALUES (?,?,?,?,?,?,?,?,?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, conv);
    kp_sq_bind_text(st, 2, direction);
    kp_sq_bind_text(st, 3, channel);
    if (agent)
        sqlite3_bind_int64(st, 4, agent);
    if (contact)
        sqlite3_bind_int64(st, 5, contact);
    kp_sq_bind_text(st, 6, text);
    kp_sq_bind_text(st, 7, html);
    kp_sq_bind_text(st, 8, external_id);
    sqlite3_bind_int64(st, 9, now);
    int rc = kp_sq_exec_stmt(q, st);
    if (!rc)
        *id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int kp_sq_message_add(struct kp_store *s, const struct kp_message_new *m, int64_t *id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT channel FROM conversations WHERE id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, m->conversation_id);
    char channel[32];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(channel, sizeof(channel), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? KP_ENOTFOUND : kp_sq_err(q, rc);
    int64_t now = m->at_ms ? m->at_ms : kp_clock_now_ms();
    rc = insert_message(q, m->conversation_id, m->direction, m->channel ? m->channel : channel,
                        m->author_agent_id, 0, m->text, m->html, NULL, now, id);
    for (size_t i = 0; !rc && i < m->n_attachments; i++)
        rc = kp_sq_attachment_insert(q, *id, &m->attachments[i]);
    if (rc)
        return rc;
    bool note = strcmp(m->direction, "note") == 0;
    char pv[160];
    kp_sq_preview(pv, sizeof(pv), m->text);
    st = kp_sq_stmt(q, note ? "UPDATE conversations SET message_count = message_count + 1, "
                              "updated_at = ?2 WHERE id = ?1"
                            : "UPDATE conversations SET message_count = message_count + 1, "
                              "updated_at = ?2, last_message_at = max(last_message_at, ?2), "
                              "waiting_since = NULL, preview = ?3 WHERE id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, m->conversation_id);
    sqlite3_bind_int64(st, 2, now);
    if (!note)
        sqlite3_bind_text(st, 3, pv, -1, SQLITE_TRANSIENT);
    return kp_sq_exec_stmt(q, st);
}

int kp_sq_attachment_get(struct kp_store *s, int64_t id, json_t **meta, void **data, size_t *size)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT a.id, a.message_id, m.conversation_id, a.filename, "
                                     "a.content_type, a.size, a.data FROM attachments a "
                                     "JOIN messages m ON m.id = a.message_id WHERE a.id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *meta = json_pack("{sIsIsIsssssI}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                          "message_id", (json_int_t)sqlite3_column_int64(st, 1), "conversation_id",
                          (json_int_t)sqlite3_column_int64(st, 2), "filename",
                          (const char *)sqlite3_column_text(st, 3), "content_type",
                          (const char *)sqlite3_column_text(st, 4), "size",
                          (json_int_t)sqlite3_column_int64(st, 5));
        *size = (size_t)sqlite3_column_bytes(st, 6);
        *data = kp_xmalloc(*size);
        memcpy(*data, sqlite3_column_blob(st, 6), *size);
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

/* ---- ingest ---- */

static int dedupe_find(struct sq *q, int64_t inbox, char prefix, const char *key,
                       struct kp_ingest_result *r)
{
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT d.message_id, d.conversation_id, d.contact_id, "
                                     "c.team_id, c.assignee_id FROM dedupe d JOIN conversations "
                                     "c ON c.id = d.conversation_id "
                                     "WHERE d.inbox_id = ? AND d.key = ? || ?");
    if (!st)
        return KP_EIO;
    char p[3] = {prefix, ':', 0};
    sqlite3_bind_int64(st, 1, inbox);
    sqlite3_bind_text(st, 2, p, -1, SQLITE_STATIC);
    kp_sq_bind_text(st, 3, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->message_id = sqlite3_column_int64(st, 0);
        r->conversation_id = sqlite3_column_int64(st, 1);
        r->contact_id = sqlite3_column_int64(st, 2);
        r->team_id = sqlite3_column_int64(st, 3);
        r->assignee_id = sqlite3_column_int64(st, 4);
        r->duplicate = true;
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

static int dedupe_put(struct sq *q, int64_t inbox, char prefix, const char *key,
                      const struct kp_ingest_result *r)
{
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO dedupe(inbox_id, key, message_id, "
                                     "conversation_id, contact_id) VALUES (?, ? || ?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    char p[3] = {prefix, ':', 0};
    sqlite3_bind_int64(st, 1, inbox);
    sqlite3_bind_text(st, 2, p, -1, SQLITE_STATIC);
    kp_sq_bind_text(st, 3, key);
    sqlite3_bind_int64(st, 4, r->message_id);
    sqlite3_bind_int64(st, 5, r->conversation_id);
    sqlite3_bind_int64(st, 6, r->contact_id);
    return kp_sq_exec_stmt(q, st);
}

static int link_contact(struct sq *q, const struct kp_inbound *in, struct kp_ingest_result *r)
{
    if (in->contact_id) {
        /* a chat visitor: the session knows the contact */
        sqlite3_stmt *st = kp_sq_stmt(q, "SELECT id FROM contacts WHERE id = ?");
        if (st)
            sqlite3_bind_int64(st, 1, in->contact_id);
        return kp_sq_step_int(q, st, &r->contact_id);
    }
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT i.contact_id, c.name IS NULL FROM identities i "
                                     "JOIN contacts c ON c.id = i.contact_id "
                                     "WHERE i.kind = ? AND i.value = ?");
    if (!st)
        return KP_EIO;
    kp_sq_bind_text(st, 1, in->identity_kind);
    kp_sq_bind_text(st, 2, in->identity_value);
    int rc = sqlite3_step(st);
    bool unnamed = false;
    if (rc == SQLITE_ROW) {
        r->contact_id = sqlite3_column_int64(st, 0);
        unnamed = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    rc = kp_sq_one(q, rc);
    if (rc != KP_ENOTFOUND) {
        if (!rc && unnamed && in->sender_name) {
            st = kp_sq_stmt(q, "UPDATE contacts SET name = ? WHERE id = ? AND name IS NULL");
            kp_sq_bind_text(st, 1, in->sender_name);
            sqlite3_bind_int64(st, 2, r->contact_id);
            rc = kp_sq_exec_stmt(q, st);
        }
        return rc;
    }
    struct kp_contact_new c = {.name = in->sender_name};
    rc = kp_sq_contact_create(&q->base, &c, &r->contact_id);
    if (!rc)
        rc = kp_sq_identity_add(&q->base, r->contact_id, in->identity_kind, in->identity_value,
                                NULL);
    r->new_contact = true;
    return rc;
}

/* The conversation in->conversation_id names (a threaded mail), else the contact's newest
 * unresolved one in the inbox unless in->new_conversation. *rc: SQLITE_ROW when found. */
static int find_conversation(struct sq *q, const struct kp_inbound *in, struct kp_ingest_result *r,
                             int *rc)
{
    sqlite3_stmt *st;
    if (in->conversation_id > 0) {
        st = kp_sq_stmt(q, "SELECT id, team_id, assignee_id FROM conversations WHERE id = ?");
        if (st)
            sqlite3_bind_int64(st, 1, in->conversation_id);
    } else if (in->new_conversation) {
        *rc = SQLITE_DONE;
        return 0;
    } else {
        st = kp_sq_stmt(q, "SELECT id, team_id, assignee_id FROM conversations "
                           "WHERE contact_id = ? AND inbox_id = ? AND state <> 'resolved' "
                           "ORDER BY id DESC LIMIT 1");
        if (st) {
            sqlite3_bind_int64(st, 1, r->contact_id);
            sqlite3_bind_int64(st, 2, in->inbox_id);
        }
    }
    if (!st)
        return KP_EIO;
    *rc = sqlite3_step(st);
    if (*rc == SQLITE_ROW) {
        r->conversation_id = sqlite3_column_int64(st, 0);
        r->team_id = sqlite3_column_int64(st, 1);
        r->assignee_id = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return 0;
}

static int open_conversation(struct sq *q, const struct kp_inbound *in, int64_t now,
                             struct kp_ingest_result *r)
{
    int rc;
    if (find_conversation(q, in, r, &rc))
        return KP_EIO;
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return kp_sq_err(q, rc);
    sqlite3_stmt *st =
        kp_sq_stmt(q, "INSERT INTO conversations(inbox_id, contact_id, channel, team_id, "
                      "subject, created_at, updated_at, last_message_at) "
                      "SELECT id, ?2, ?3, team_id, ?4, ?5, ?5, ?5 FROM inboxes WHERE id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, in->inbox_id);
    sqlite3_bind_int64(st, 2, r->contact_id);
    kp_sq_bind_text(st, 3, in->channel);
    kp_sq_bind_text(st, 4, in->subject);
    sqlite3_bind_int64(st, 5, now);
    rc = kp_sq_exec_stmt(q, st);
    if (rc)
        return rc;
    if (!sqlite3_changes(q->db))
        return KP_ENOTFOUND; /* no such inbox */
    r->conversation_id = sqlite3_last_insert_rowid(q->db);
    r->new_conversation = true;
    st = kp_sq_stmt(q, "SELECT team_id FROM conversations WHERE id = ?");
    sqlite3_bind_int64(st, 1, r->conversation_id);
    return kp_sq_step_int(q, st, &r->team_id) == KP_EIO ? KP_EIO : 0;
}

int kp_sq_ingest(struct kp_store *s, const struct kp_inbound *in, struct kp_ingest_result *r)
{
    struct sq *q = SQ(s);
    memset(r, 0, sizeof(*r));
    int rc;
    if (in->idempotency_key &&
        (rc = dedupe_find(q, in->inbox_id, 'k', in->idempotency_key, r)) != KP_ENOTFOUND)
        return rc;
    if (in->external_id &&
        (rc = dedupe_find(q, in->inbox_id, 'x', in->external_id, r)) != KP_ENOTFOUND)
        return rc;
    int64_t now = kp_clock_now_ms();
    int64_t at = in->sent_at_ms && in->sent_at_ms < now ? in->sent_at_ms : now;
    if ((rc = link_contact(q, in, r)) || (rc = open_conversation(q, in, at, r)))
        return rc;
    rc = insert_message(q, r->conversation_id, "in", in->channel, 0, r->contact_id, in->text,
                        in->html, in->external_id, at, &r->message_id);
    if (rc)
        return rc;
    for (size_t i = 0; i < in->n_attachments; i++) {
        if ((rc = kp_sq_attachment_insert(q, r->message_id, &in->attachments[i])))
            return rc;
    }
    if (in->mail && (rc = kp_sq_mail_meta_insert(q, in->inbox_id, r->message_id, in->mail)))
        return rc;
    char pv[160];
    kp_sq_preview(pv, sizeof(pv), in->text);
    /* a mail that joins its thread reopens even a resolved conversation; automatic mail neither
     * reopens nor waits for an answer */
    sqlite3_stmt *st = kp_sq_stmt(
        q, in->quiet ? "UPDATE conversations SET message_count = message_count + 1, "
                       "updated_at = ?2, last_message_at = max(last_message_at, ?3), preview = ?4 "
                       "WHERE id = ?1"
           : in->conversation_id > 0
               ? "UPDATE conversations SET message_count = message_count + 1, updated_at = ?2, "
                 "last_message_at = max(last_message_at, ?3), "
                 "waiting_since = coalesce(waiting_since, ?3), preview = ?4, state = 'open' "
                 "WHERE id = ?1"
               : "UPDATE conversations SET message_count = message_count + 1, updated_at = ?2, "
                 "last_message_at = max(last_message_at, ?3), "
                 "waiting_since = coalesce(waiting_since, ?3), preview = ?4, "
                 "state = CASE WHEN state = 'pending' OR state = 'snoozed' THEN 'open' ELSE "
                 "state END WHERE id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, r->conversation_id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_text(st, 4, pv, -1, SQLITE_TRANSIENT);
    if ((rc = kp_sq_exec_stmt(q, st)))
        return rc;
    if (in->idempotency_key && (rc = dedupe_put(q, in->inbox_id, 'k', in->idempotency_key, r)))
        return rc;
    if (in->external_id && (rc = dedupe_put(q, in->inbox_id, 'x', in->external_id, r)))
        return rc;
    return 0;
}

/* ---- the message pipeline ---- */

static int pipeline_cursor(struct sq *q, int64_t *after)
{
    return kp_sq_step_int(q, kp_sq_stmt(q, "SELECT last_message_id FROM pipeline"), after);
}

int kp_sq_pipeline_next(struct kp_store *s, int64_t *after, struct kp_pipe_msg *msgs, size_t cap,
                        size_t text_cap, struct kp_buf *text, size_t *n)
{
    struct sq *q = SQ(s);
    *n = 0;
    int rc = pipeline_cursor(q, after);
    if (rc)
        return rc == KP_ENOTFOUND ? KP_EIO : rc;
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT id, substr(text, 1, ?3) FROM messages "
                                     "WHERE id > ?1 ORDER BY id LIMIT ?2");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, *after);
    sqlite3_bind_int64(st, 2, (int64_t)cap);
    sqlite3_bind_int64(st, 3, (int64_t)text_cap);
    while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct kp_pipe_msg *m = &msgs[(*n)++];
        memset(m, 0, sizeof(*m));
        m->id = sqlite3_column_int64(st, 0);
        m->text_off = text->len;
        m->text_len = (size_t)sqlite3_column_bytes(st, 1);
        if (kp_buf_append(text, sqlite3_column_text(st, 1), m->text_len) ||
            kp_buf_append(text, "", 1)) {
            sqlite3_reset(st);
            return KP_ETOOBIG;
        }
    }
    sqlite3_reset(st);
    return *n == cap || rc == SQLITE_DONE ? 0 : kp_sq_err(q, rc);
}

int kp_sq_pipeline_done(struct kp_store *s, int64_t after, const struct kp_pipe_msg *msgs, size_t n)
{
    struct sq *q = SQ(s);
    int64_t cursor = -1;
    int rc = pipeline_cursor(q, &cursor);
    if (rc)
        return rc == KP_ENOTFOUND ? KP_EIO : rc;
    if (cursor != after)
        return KP_ECONFLICT;
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!msgs[i].lang[0])
            continue;
        sqlite3_stmt *st = kp_sq_stmt(q, "UPDATE messages SET lang = ? WHERE id = ?");
        if (!st)
            return KP_EIO;
        kp_sq_bind_text(st, 1, msgs[i].lang);
        sqlite3_bind_int64(st, 2, msgs[i].id);
        if ((rc = kp_sq_exec_stmt(q, st)))
            return rc;
    }
    /* one statement for the whole batch: FTS5 writes one index segment per statement */
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO messages_fts(rowid, text) "
                                     "SELECT id, text FROM messages WHERE id > ?1 AND id <= ?2");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, msgs[n - 1].id);
    if ((rc = kp_sq_exec_stmt(q, st)))
        return rc;
    st = kp_sq_stmt(q, "UPDATE pipeline SET last_message_id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, msgs[n - 1].id);
    return kp_sq_exec_stmt(q, st);
}

/* ---- search ---- */

/* HTML-escapes s, turning the \x01 / \x02 markers from snippet() into <mark> tags. */
static json_t *highlight(const char *s)
{
    struct kp_buf b;
    kp_buf_init(&b, 0);
    for (; *s; s++) {
        switch (*s) {
        case '\x01':
            kp_buf_puts(&b, "<mark>");
            break;
        case '\x02':
            kp_buf_puts(&b, "</mark>");
            break;
        case '<':
            kp_buf_puts(&b, "&lt;");
            break;
        case '>':
            kp_buf_puts(&b, "&gt;");
            break;
        case '&':
            kp_buf_puts(&b, "&amp;");
            break;
        case '"':
            kp_buf_puts(&b, "&quot;");
            break;
        default:
            kp_buf_append(&b, s, 1);
        }
    }
    json_t *v = json_stringn_nocheck(b.data ? b.data : "", b.len);
    kp_buf_release(&b);
    return v;
}

int kp_sq_search(struct kp_store *s, const struct kp_viewer *v, const char *text, int limit,
                 json_t **out)
{
    struct sq *q = SQ(s);
    char *fts = kp_sq_fts_query(text);
    if (!fts) {
        *out = json_array();
        return 0;
    }
    sqlite3_stmt *st = kp_sq_stmt(
        q, "SELECT m.id AS message_id, m.conversation_id, m.direction, m.channel, m.created_at, "
           "snippet(messages_fts, 0, char(1), char(2), '…', 16) AS snippet, "
           "c.subject, k.id AS \"contact.id\", k.name AS \"contact.name\" "
           "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
           "JOIN conversations c ON c.id = m.conversation_id "
           "JOIN contacts k ON k.id = c.contact_id "
           "WHERE messages_fts MATCH ?3 AND " KP_SQ_VISIBLE " ORDER BY rank LIMIT ?4");
    if (!st) {
        free(fts);
        return KP_EIO;
    }
    sqlite3_bind_int64(st, 1, v->agent_id);
    sqlite3_bind_int(st, 2, v->admin);
    sqlite3_bind_text(st, 3, fts, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, limit);
    free(fts);
    int rc = kp_sq_rows(q, st, out);
    if (rc)
        return rc;
    size_t i;
    json_t *hit;
    json_array_foreach(*out, i, hit)
    {
        json_t *sn = json_object_get(hit, "snippet");
        json_object_set_new(hit, "snippet", highlight(json_string_value(sn)));
    }
    return 0;
}
