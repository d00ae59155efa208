/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_int.h - what the SQLite backend's files share: the connection, the statement
 * cache and the row-to-JSON mapping. Only src/store/store_sqlite*.c include this.
 */
#ifndef KP_STORE_SQLITE_INT_H
#define KP_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store.h"
#include "../base/buf.h"

enum { STMT_CACHE = 224 }; /* more than the backend has statements: none is prepared twice */

struct sq {
    struct kp_store base;
    sqlite3 *db;
    struct kp_notice *tx_notices; /* of the open transaction, delivered after its commit */
    size_t n_tx_notices, cap_tx_notices, savepoint_mark;
    struct {
        const char *key; /* the caller's pointer: most SQL is a string literal */
        char *sql;
        sqlite3_stmt *st;
        uint64_t used;
    } cache[STMT_CACHE];
    uint64_t tick;
};

#define SQ(s) ((struct sq *)(s))

/* A reset, cached statement for sql, or NULL (logged). Do not finalize it. sql must be a
 * string literal (it is looked up by address); SQL built at run time uses kp_sq_stmt_built. */
sqlite3_stmt *kp_sq_stmt(struct sq *q, const char *sql);
sqlite3_stmt *kp_sq_stmt_built(struct sq *q, const char *sql);
/* Maps sqlite result codes to KP_E*. */
int kp_sq_err(struct sq *q, int rc);
/* The result of stepping a statement that should give one row: 0 for a row, KP_ENOTFOUND for
 * none, a KP_E* code for an error. */
static inline int kp_sq_one(struct sq *q, int rc)
{
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? KP_ENOTFOUND : kp_sq_err(q, rc);
}
/* Runs st (NULL: KP_EIO), which yields one integer: *v, or KP_ENOTFOUND. */
static inline int kp_sq_step_int(struct sq *q, sqlite3_stmt *st, int64_t *v)
{
    if (!st)
        return KP_EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}
/* Runs a statement to completion (no rows expected). */
int kp_sq_exec_stmt(struct sq *q, sqlite3_stmt *st);
/* One row as a JSON object: "*_at"/"ts"/"waiting_since" ints become ISO 8601 strings, "*_json"
 * text columns become parsed JSON under the name without the suffix. */
json_t *kp_sq_row(sqlite3_stmt *st);
/* How a statement's columns become JSON text, worked out once per result set. */
enum { KP_SQ_MAX_COLS = 40 };
struct kp_sq_cols {
    int n; /* 0 until described */
    struct {
        char pre[96]; /* the text before the value: separators, nesting, the quoted key */
        uint8_t pre_len;
        bool time, raw;
    } c[KP_SQ_MAX_COLS];
    char close[2];
    uint8_t close_len;
};
void kp_sq_cols_describe(sqlite3_stmt *st, struct kp_sq_cols *cols);
/* The same row as JSON text appended to out, without jansson: the hot list paths use it.
 * cols starts zeroed and is filled at the first row. */
int kp_sq_row_text(sqlite3_stmt *st, struct kp_sq_cols *cols, struct kp_buf *out);
/* One row as JSON, or KP_ENOTFOUND. */
int kp_sq_row1(struct sq *q, sqlite3_stmt *st, json_t **out);
/* All rows as a JSON array. */
int kp_sq_rows(struct sq *q, sqlite3_stmt *st, json_t **out);
/* Binds text, or NULL when s is NULL. */
void kp_sq_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Turns free text into a safe FTS5 query of quoted terms; returns NULL when no term is left.
 * The result is malloc'd. */
char *kp_sq_fts_query(const char *text);

/* The conversation and contact operations live in store_sqlite_conv.c. */
int kp_sq_conversation_list(struct kp_store *s, const struct kp_conv_query *q, struct kp_buf *out);
int kp_sq_conversation_get(struct kp_store *s, const struct kp_viewer *v, int64_t id, json_t **out);
int kp_sq_conversation_update(struct kp_store *s, int64_t id, const struct kp_conv_change *ch);
int kp_sq_conversation_tag(struct kp_store *s, int64_t id, const char *tag, bool add);
int kp_sq_message_list(struct kp_store *s, int64_t conversation_id, int64_t after, int limit,
                       json_t **out);
int kp_sq_conversation_text(struct kp_store *s, int64_t id, struct kp_buf *out);
int kp_sq_conversation_access(struct kp_store *s, const struct kp_viewer *v, int64_t id,
                              int64_t *team_id, int64_t *assignee_id);
int kp_sq_message_text(struct kp_store *s, int64_t id, struct kp_buf *out);
int kp_sq_message_add(struct kp_store *s, const struct kp_message_new *m, int64_t *id);
int kp_sq_attachment_get(struct kp_store *s, int64_t id, json_t **meta, void **data, size_t *size);
int kp_sq_pipeline_next(struct kp_store *s, int64_t *after, struct kp_pipe_msg *msgs, size_t cap,
                        size_t text_cap, struct kp_buf *text, size_t *n);
int kp_sq_pipeline_done(struct kp_store *s, int64_t after, const struct kp_pipe_msg *msgs,
                        size_t n);
int kp_sq_ingest(struct kp_store *s, const struct kp_inbound *in, struct kp_ingest_result *r);
int kp_sq_search(struct kp_store *s, const struct kp_viewer *v, const char *q, int limit,
                 json_t **out);
int kp_sq_contact_create(struct kp_store *s, const struct kp_contact_new *in, int64_t *id);
int kp_sq_contact_get(struct kp_store *s, int64_t id, json_t **out);
int kp_sq_contact_list(struct kp_store *s, const char *q, const char *cursor, int limit,
                       json_t **out);
int kp_sq_contact_update(struct kp_store *s, int64_t id, const char *name, json_t *attributes);
int kp_sq_identity_add(struct kp_store *s, int64_t contact_id, const char *kind, const char *value,
                       int64_t *id);
int kp_sq_identity_delete(struct kp_store *s, int64_t contact_id, int64_t identity_id);

/* Canned answers and notifications live in store_sqlite_workspace.c. */
int kp_sq_canned_create(struct kp_store *s, const struct kp_canned_new *in, int64_t *id);
int kp_sq_canned_update(struct kp_store *s, int64_t id, const struct kp_canned_change *ch);
int kp_sq_canned_delete(struct kp_store *s, int64_t id);
int kp_sq_canned_get(struct kp_store *s, int64_t id, json_t **out);
int kp_sq_canned_list(struct kp_store *s, const char *q, int limit, json_t **out);
int kp_sq_notification_add(struct kp_store *s, const struct kp_notification_new *in, int64_t *id);
int kp_sq_notification_get(struct kp_store *s, int64_t agent_id, int64_t id, json_t **out);
int kp_sq_notification_list(struct kp_store *s, int64_t agent_id, bool unread_only,
                            int64_t before_id, int limit, json_t **out, int64_t *unread);
int kp_sq_notification_read(struct kp_store *s, int64_t agent_id, int64_t id);

/* The chat widget lives in store_sqlite_widget.c. */
int kp_sq_widget_secret(struct kp_store *s, int64_t inbox_id, const char *secret);
int kp_sq_widget_update(struct kp_store *s, int64_t inbox_id, const struct kp_widget_change *ch);
int kp_sq_widget_get(struct kp_store *s, int64_t inbox_id, struct kp_widget *out);
int kp_sq_visitor_session_create(struct kp_store *s, const uint8_t hash[32],
                                 const struct kp_visitor_session *in, int64_t expires_ms);
int kp_sq_visitor_session_get(struct kp_store *s, const uint8_t hash[32], int64_t now_ms,
                              struct kp_visitor_session *out);
int kp_sq_visitor_session_touch(struct kp_store *s, const uint8_t hash[32], int64_t expires_ms);
int kp_sq_visitor_prune(struct kp_store *s, int64_t now_ms, int64_t events_before_ms);
int kp_sq_visitor_identify(struct kp_store *s, const struct kp_visitor_user *u,
                           int64_t *contact_id);
int kp_sq_identity_owner(struct kp_store *s, const char *kind, const char *value,
                         int64_t *contact_id);
int kp_sq_visitor_conversation(struct kp_store *s, int64_t contact_id, int64_t inbox_id,
                               bool create, int64_t *id);
int kp_sq_visitor_route(struct kp_store *s, int64_t conversation_id, int64_t *contact_id,
                        int64_t *inbox_id);
int kp_sq_visitor_inbox(struct kp_store *s, int64_t contact_id, int64_t *inbox_id);
int kp_sq_visitor_message(struct kp_store *s, int64_t message_id, struct kp_buf *out);
int kp_sq_visitor_history(struct kp_store *s, int64_t conversation_id, int limit, json_t **out);
int kp_sq_visitor_facts(struct kp_store *s, int64_t contact_id, struct kp_visitor_facts *out);
int kp_sq_visitor_event_add(struct kp_store *s, const struct kp_visitor_event *ev, int64_t *id);
int kp_sq_visitor_event_list(struct kp_store *s, int64_t contact_id, int64_t before_id, int limit,
                             json_t **out);
int kp_sq_contact_access(struct kp_store *s, const struct kp_viewer *v, int64_t contact_id);

/* A conversation's preview of a message text: whitespace folded, cut at a UTF-8 boundary. */
void kp_sq_preview(char *out, size_t cap, const char *text);

/* The email channel lives in store_sqlite_mail.c. */
int kp_sq_attachment_insert(struct sq *q, int64_t message_id, const struct kp_attachment_new *a);
int kp_sq_mail_meta_insert(struct sq *q, int64_t inbox_id, int64_t message_id,
                           const struct kp_mail_meta *m);
int kp_sq_mail_inbox_set(struct kp_store *s, const struct kp_mail_inbox *in);
int kp_sq_mail_inbox_get(struct kp_store *s, int64_t inbox_id, struct kp_mail_inbox *out);
int kp_sq_mail_inbox_by_address(struct kp_store *s, const char *address, int64_t *inbox_id);
int kp_sq_mail_inbox_ids(struct kp_store *s, int64_t *ids, size_t *n);
int kp_sq_mail_imap_mark(struct kp_store *s, int64_t inbox_id, int64_t uidvalidity,
                         int64_t last_uid);
int kp_sq_mail_thread(struct kp_store *s, int64_t inbox_id, const char *header_id,
                      int64_t tag_conversation, const char *sender, int64_t *conversation_id);
int kp_sq_mail_kept_seen(struct kp_store *s, int64_t inbox_id, const char *key, bool *seen);
int kp_sq_mail_drop(struct kp_store *s, int64_t inbox_id, const char *kind, const char *from,
                    const char *subject, const char *reason, int64_t message_id, const void *raw,
                    size_t len);
int kp_sq_mail_bounce(struct kp_store *s, int64_t inbox_id, const char *header_id, bool permanent,
                      const char *reason, int64_t *message_id, int64_t *conversation_id);
int kp_sq_mail_reply_context(struct kp_store *s, int64_t conversation_id, json_t **out);
int kp_sq_mail_queue(struct kp_store *s, const struct kp_mail_out *m);
int kp_sq_mail_due(struct kp_store *s, int64_t now_ms, int64_t *ids, size_t *n);
int kp_sq_mail_outgoing(struct kp_store *s, int64_t message_id, json_t **out);
int kp_sq_mail_sent(struct kp_store *s, int64_t message_id, const void *raw, size_t len);
int kp_sq_mail_failed(struct kp_store *s, int64_t message_id, const char *error, int64_t retry_at);
int kp_sq_mail_raw(struct kp_store *s, int64_t message_id, void **data, size_t *len);
int kp_sq_mail_autoreply_allowed(struct kp_store *s, int64_t inbox_id, const char *address,
                                 int64_t now_ms, int64_t window_ms, bool *allowed);
int kp_sq_mail_dropped_list(struct kp_store *s, int64_t inbox_id, int64_t before_id, int limit,
                            json_t **out);
int kp_sq_mail_dropped_raw(struct kp_store *s, int64_t inbox_id, int64_t id, void **data,
                           size_t *len);
int kp_sq_message_move(struct kp_store *s, int64_t message_id, int64_t to_conversation,
                       int64_t *from_conversation);

/* SQL fragment: conversation c visible to viewer bound as ?1 agent id and ?2 admin flag. */
#define KP_SQ_VISIBLE                                                                              \
    "(?2 OR c.assignee_id = ?1 OR c.team_id IN "                                                   \
    "(SELECT team_id FROM team_members WHERE agent_id = ?1))"

#endif
