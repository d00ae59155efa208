/* SPDX-License-Identifier: MIT */
/*
 * store.h - the storage interface. Everything Knotenpunkt keeps goes through this table of
 * functions; a backend (store_sqlite.c, later store_pg.c) is one file that fills one
 * `struct kp_store_ops` listed in kp_store_backends[]. Nothing outside src/store knows SQL.
 *
 * Threading: a kp_store handle is one connection and is used by one thread at a time. The
 * server opens one handle for reads on the event loop and one for the writer thread.
 *
 * Reads return jansson values shaped as the API serves them (new references, owned by the
 * caller). Writes take plain structs. Every write must run between begin and commit; the
 * writer (src/io/writer.c) groups many writes into one transaction with savepoints.
 */
#ifndef KP_STORE_STORE_H
#define KP_STORE_STORE_H

#include <jansson.h>

#include "../base/buf.h"

struct kp_store;

/* Who is asking: decides which conversations are visible. */
struct kp_viewer {
    int64_t agent_id;
    bool admin;
};

struct kp_principal {
    int64_t agent_id;
    bool admin;
    bool active;
    char name[128];
};

struct kp_agent_new {
    const char *email, *name, *role, *password_hash; /* hash may be NULL: cannot log in */
};

struct kp_agent_change {
    const char *name, *role, *password_hash; /* NULL = unchanged */
    int active;                              /* -1 = unchanged */
};

struct kp_contact_new {
    const char *name;   /* may be NULL */
    json_t *attributes; /* object or NULL; borrowed */
};

enum { KP_QUERY_MAX_LIMIT = 100 };

struct kp_conv_query {
    struct kp_viewer viewer;
    const char *state;   /* open|pending|snoozed|resolved or NULL */
    int64_t team_id;     /* 0 = any */
    bool my_teams;       /* only the teams the viewer is a member of */
    bool waiting;        /* only those waiting for an answer, the longest waiting first */
    int64_t assignee_id; /* 0 = any, -1 = unassigned */
    int64_t inbox_id;    /* 0 = any */
    int64_t contact_id;  /* 0 = any */
    const char *channel; /* NULL = any */
    const char *tag;     /* NULL = any */
    const char *text;    /* full-text query over messages, NULL = none */
    const char *cursor;  /* opaque, from a previous page's next_cursor */
    int limit;           /* 1..KP_QUERY_MAX_LIMIT */
};

/* A change to a conversation; NULL/0 fields stay as they are. */
struct kp_conv_change {
    const char *state;
    const char *priority;
    const char *channel; /* the channel replies default to ("email" after a chat went offline) */
    int64_t team_id;     /* 0 = unchanged */
    int64_t assignee_id; /* 0 = unchanged, -1 = unassign */
};

struct kp_attachment_new {
    const char *filename, *content_type;
    const void *data;
    size_t size;
    const char *content_id; /* an inline image's Content-ID (email), NULL when none */
};

/* A message written by an agent (reply or internal note). */
struct kp_message_new {
    int64_t conversation_id;
    const char *direction; /* "out" or "note" */
    const char *channel;   /* NULL = the conversation's channel */
    int64_t author_agent_id;
    const char *text, *html;
    int64_t at_ms; /* 0 = now; imports and demo data set the original time */
    const struct kp_attachment_new *attachments;
    size_t n_attachments;
};

/* An inbound message, normalised by its channel adapter. */
struct kp_inbound {
    int64_t inbox_id;
    int64_t contact_id;        /* 0 = link by identity; else this known contact (a chat visitor) */
    const char *channel;       /* "api", "email", ... */
    const char *identity_kind; /* "email", "phone", "api", ...; unused with contact_id */
    const char *identity_value;
    const char *sender_name;     /* may be NULL */
    const char *subject;         /* may be NULL */
    const char *text, *html;     /* html may be NULL */
    const char *external_id;     /* provider's id, may be NULL */
    const char *idempotency_key; /* may be NULL */
    int64_t sent_at_ms;          /* 0 = now */
    const struct kp_attachment_new *attachments;
    size_t n_attachments;
    int64_t conversation_id; /* > 0: join this conversation (email threading), reopening it */
    bool new_conversation;   /* open a new conversation rather than the contact's open one */
    bool quiet; /* an automatic mail: neither reopens the conversation nor waits for an answer */
    const struct kp_mail_meta *mail; /* email: stored with the message, NULL otherwise */
};

/* What the email channel keeps of a mail beside the message (sqlite/004_email.sql). */
struct kp_mail_meta {
    const char *header_id;   /* Message-ID without <>, NULL when none */
    const char *thread_rule; /* in_reply_to|references|subject_tag|new */
    const char *flags;       /* JSON array of flag names */
    const char *problem;     /* why it did not parse cleanly, NULL when it did */
    const char *from_addr, *reply_to, *to_addrs, *cc_addrs, *subject, *in_reply_to, *refs;
    const void *raw; /* the source as received */
    size_t raw_len;
};

enum {
    KP_MAIL_ADDRESS_MAX = 254,
    KP_MAIL_URL_MAX = 500,
    KP_MAIL_SECRET_MAX = 200,
    KP_MAIL_AUTOREPLY_MAX = 4000,
};

/* An email inbox's settings. */
struct kp_mail_inbox {
    int64_t inbox_id, team_id;
    char name[201]; /* the inbox's name */
    char address[KP_MAIL_ADDRESS_MAX + 1], display_name[201];
    char smtp_url[KP_MAIL_URL_MAX + 1], smtp_user[KP_MAIL_SECRET_MAX + 1],
        smtp_password[KP_MAIL_SECRET_MAX + 1];
    char imap_url[KP_MAIL_URL_MAX + 1], imap_user[KP_MAIL_SECRET_MAX + 1],
        imap_password[KP_MAIL_SECRET_MAX + 1], imap_after[KP_MAIL_URL_MAX + 1];
    int64_t imap_poll_s, imap_uidvalidity, imap_last_uid;
    char autoreply[KP_MAIL_AUTOREPLY_MAX + 1];
};

/* A reply queued for sending by email. */
struct kp_mail_out {
    int64_t message_id, inbox_id;
    const char *header_id, *recipient, *subject, *in_reply_to, *refs;
    bool automatic; /* an automatic answer: Auto-Submitted: auto-replied */
};

struct kp_ingest_result {
    int64_t message_id, conversation_id, contact_id;
    bool duplicate; /* a retry: nothing was stored */
    bool new_contact, new_conversation;
    int64_t team_id, assignee_id; /* of the conversation, for event visibility */
};

/* A committed change, by reference: who may see it (team, assignee) and what to read. */
struct kp_event {
    int64_t id;
    const char *type; /* "message.created", "conversation.updated", ... */
    int64_t conversation_id, message_id, team_id, assignee_id;
};

/*
 * Something a transaction changed that every event loop (later: every node) must hear of, in
 * commit order and only if the transaction commits - the model of PostgreSQL's NOTIFY.
 */
enum kp_notice_kind {
    KP_NOTICE_EVENT,  /* ev was added to the event log: push it to the agents who may see it */
    KP_NOTICE_AGENT,  /* agent_id's role, activity or teams changed */
    KP_NOTICE_REVOKE, /* the session or token with this hash ended */
    KP_NOTICE_NOTIFICATION,   /* notification_id was stored for agent_id: push it to his streams */
    KP_NOTICE_PRESENCE,       /* never from the store: a stream connection's presence changed,
                               * posted by its event loop to every loop's bus directly */
    KP_NOTICE_VISITOR_TYPING, /* a chat visitor types (or stopped) in visitor.conversation_id;
                               * posted by the visitor's loop to every loop directly */
    KP_NOTICE_WIDGET_OPEN,    /* the chat widgets of visitor.contact_id should open, showing
                               * visitor.message_id's text when nonzero */
    KP_NOTICE_AGENTS_ONLINE,  /* an agent's first stream opened or his last closed; posted by
                               * the stream's loop to every loop directly */
};

/* What a chat visitor (src/api/visitor.c) does, for every event loop. */
struct kp_visitor_notice {
    int64_t contact_id, conversation_id, message_id;
    bool typing;
};

/* What one agent stream connection views and whether the agent types there (in memory only). */
struct kp_presence_change {
    uint64_t conn;           /* the connection, unique across event loops */
    int64_t agent_id;        /* whose connection it is */
    int64_t conversation_id; /* the conversation it views, 0 = none (or the connection closed) */
    bool typing;             /* the agent types in conversation_id */
};

struct kp_notice {
    enum kp_notice_kind kind;
    struct kp_event ev;                 /* KP_NOTICE_EVENT; ev.type points to a string literal */
    int64_t agent_id;                   /* KP_NOTICE_AGENT, KP_NOTICE_NOTIFICATION */
    int64_t notification_id;            /* KP_NOTICE_NOTIFICATION */
    uint8_t hash[32];                   /* KP_NOTICE_REVOKE */
    struct kp_presence_change presence; /* KP_NOTICE_PRESENCE */
    struct kp_visitor_notice visitor;   /* KP_NOTICE_VISITOR_TYPING, KP_NOTICE_WIDGET_OPEN */
};

/* A canned answer: a reusable reply text shared by every agent. */
enum { KP_CANNED_SHORTCUT_MAX = 32, KP_CANNED_TITLE_MAX = 200, KP_CANNED_BODY_MAX = 10000 };

struct kp_canned_new {
    const char *shortcut; /* [a-z0-9_-]{1,32}, unique regardless of case */
    const char *title, *body;
    int64_t created_by; /* agent id, 0 = none */
};

/* NULL fields stay as they are. */
struct kp_canned_change {
    const char *shortcut, *title, *body;
};

/* Something an agent should look at: "mention" = he was @mentioned in an internal note. */
struct kp_notification_new {
    int64_t agent_id; /* who is notified */
    const char *kind; /* "mention" */
    int64_t conversation_id, message_id;
    int64_t by_agent_id; /* who caused it, 0 = nobody */
};

/* A message the pipeline works on; its text is in the caller's buffer. */
struct kp_pipe_msg {
    int64_t id;
    size_t text_off, text_len;
    char lang[8]; /* the result, "" when unknown */
};

/* The website chat widget of a webchat inbox (sqlite/003_widget.sql). */
enum {
    KP_WIDGET_SECRET_LEN = 64,    /* hex characters of the 32 random bytes */
    KP_WIDGET_GREETING_MAX = 500, /* bytes per language */
    KP_WIDGET_ORIGINS_MAX = 20,   /* allowed origins per inbox */
    KP_WIDGET_ORIGIN_MAX = 200,   /* bytes of one origin, "https://shop.example" */
    KP_VISITOR_URL_MAX = 2048,
    KP_VISITOR_TITLE_MAX = 300,
    KP_VISITOR_EVENTS_PER_MINUTE = 30, /* per contact; more are refused with KP_EBUSY */
};

struct kp_widget {
    int64_t inbox_id, team_id; /* team_id 0: the inbox has none */
    char secret[KP_WIDGET_SECRET_LEN + 1];
    char greeting_de[KP_WIDGET_GREETING_MAX + 1], greeting_en[KP_WIDGET_GREETING_MAX + 1];
    /* allowed origins separated by single spaces, "" = any */
    char origins[KP_WIDGET_ORIGINS_MAX * (KP_WIDGET_ORIGIN_MAX + 1) + 1];
};

/* NULL fields stay as they are; "" clears a greeting or the origins. */
struct kp_widget_change {
    const char *greeting_de, *greeting_en;
    const char *origins; /* space separated, already checked */
};

/* A visitor session of the widget: the browser keeps a random token, the store its hash. */
struct kp_visitor_session {
    int64_t inbox_id, contact_id;
    bool identified; /* opened with a signed user (shop login), not anonymously */
};

/* A signed-in shop customer as the widget's snippet names him (already verified). */
struct kp_visitor_user {
    const char *id;    /* the shop's customer id, identity ("shop", id); "" or NULL = none */
    const char *email; /* identity ("email", email); "" or NULL = none */
    const char *name;  /* may be NULL */
};

/* A page the visitor viewed; seconds_prev >= 0 is the time spent on the page before. */
struct kp_visitor_event {
    int64_t contact_id;
    const char *url, *title; /* title may be NULL */
    int64_t seconds_prev;    /* -1 = unknown */
};

/* What a greeting can build on (kp_api_widget_greeting). */
struct kp_visitor_facts {
    char name[201];      /* the contact's name, "" when none */
    char last_order[65]; /* contact attribute last_order, "" when none */
    char subject[201];   /* newest unresolved conversation's subject, "" when none */
    char email[255];     /* first email identity, "" when none */
};

struct kp_store_ops {
    const char *name;   /* "sqlite" */
    const char *scheme; /* urls it opens: "sqlite:" prefix or a plain directory */

    int (*open)(const char *url, struct kp_store **out);
    /* Fills the store at url, which must be empty, from a backup file; KP_EEXIST when it holds
     * data, KP_EINVAL when the file is no intact backup of this backend. */
    int (*restore)(const char *url, const char *from);
    void (*close)(struct kp_store *s);
    /* Applies numbered migrations not yet applied; *version is the schema version after. */
    int (*migrate)(struct kp_store *s, int *version);

    int (*begin)(struct kp_store *s);
    int (*commit)(struct kp_store *s);
    int (*rollback)(struct kp_store *s);
    /* Nested unit inside a transaction: savepoint, then release (keep) or undo (discard). */
    int (*savepoint)(struct kp_store *s);
    int (*release)(struct kp_store *s);
    int (*undo)(struct kp_store *s);

    int (*agent_create)(struct kp_store *s, const struct kp_agent_new *in, int64_t *id);
    int (*agent_update)(struct kp_store *s, int64_t id, const struct kp_agent_change *ch);
    int (*agent_get)(struct kp_store *s, int64_t id, json_t **out);
    int (*agent_list)(struct kp_store *s, json_t **out);
    /* For login: the id and password hash of an active agent by email. */
    int (*agent_credentials)(struct kp_store *s, const char *email, int64_t *id, char *hash,
                             size_t cap);
    int (*agent_principal)(struct kp_store *s, int64_t id, struct kp_principal *out);

    int (*team_create)(struct kp_store *s, const char *name, int64_t *id);
    int (*team_rename)(struct kp_store *s, int64_t id, const char *name);
    int (*team_get)(struct kp_store *s, int64_t id, json_t **out);
    int (*team_list)(struct kp_store *s, json_t **out);
    int (*team_member)(struct kp_store *s, int64_t team_id, int64_t agent_id, bool add);
    /* Fills teams[] with the agent's team ids; *n in: capacity, out: count. */
    int (*agent_teams)(struct kp_store *s, int64_t agent_id, int64_t *teams, size_t *n);

    int (*session_create)(struct kp_store *s, const uint8_t hash[32], int64_t agent_id,
                          const char *csrf, int64_t expires_ms);
    int (*session_lookup)(struct kp_store *s, const uint8_t hash[32], int64_t now_ms,
                          int64_t *agent_id, char csrf[64]);
    int (*session_delete)(struct kp_store *s, const uint8_t hash[32]);
    int (*token_create)(struct kp_store *s, int64_t agent_id, const char *name,
                        const uint8_t hash[32], int64_t *id);
    int (*token_lookup)(struct kp_store *s, const uint8_t hash[32], int64_t *agent_id);
    int (*token_list)(struct kp_store *s, int64_t agent_id, json_t **out);
    /* Deletes one of the agent's tokens; hash receives the deleted token's hash. */
    int (*token_delete)(struct kp_store *s, int64_t agent_id, int64_t id, uint8_t hash[32]);

    int (*inbox_create)(struct kp_store *s, const char *name, const char *channel, int64_t team_id,
                        int64_t *id);
    int (*inbox_get)(struct kp_store *s, int64_t id, json_t **out);
    /* name NULL = unchanged; team_id 0 = unchanged, -1 = no team. New conversations follow. */
    int (*inbox_update)(struct kp_store *s, int64_t id, const char *name, int64_t team_id);
    int (*inbox_list)(struct kp_store *s, json_t **out);

    int (*contact_create)(struct kp_store *s, const struct kp_contact_new *in, int64_t *id);
    int (*contact_get)(struct kp_store *s, int64_t id, json_t **out);
    /* {"items":[...],"next_cursor":...}; q matches name and identity values. */
    int (*contact_list)(struct kp_store *s, const char *q, const char *cursor, int limit,
                        json_t **out);
    /* name NULL = unchanged; attributes are merged, a null value removes the key. */
    int (*contact_update)(struct kp_store *s, int64_t id, const char *name, json_t *attributes);
    /* KP_EEXIST when the identity belongs to another contact. */
    int (*identity_add)(struct kp_store *s, int64_t contact_id, const char *kind, const char *value,
                        int64_t *id);
    int (*identity_delete)(struct kp_store *s, int64_t contact_id, int64_t identity_id);

    /* Appends {"items":[...],"next_cursor":...} as JSON text to out: the inbox list is the
     * hottest read, so it skips building a JSON tree. */
    int (*conversation_list)(struct kp_store *s, const struct kp_conv_query *q, struct kp_buf *out);
    /* KP_ENOTFOUND when missing or not visible to the viewer. Includes contact and tags. */
    int (*conversation_get)(struct kp_store *s, const struct kp_viewer *v, int64_t id,
                            json_t **out);
    /* KP_ENOTFOUND unless the viewer may see the conversation; else its team and assignee
     * (0 when none). */
    int (*conversation_access)(struct kp_store *s, const struct kp_viewer *v, int64_t id,
                               int64_t *team_id, int64_t *assignee_id);
    int (*conversation_update)(struct kp_store *s, int64_t id, const struct kp_conv_change *ch);
    int (*conversation_tag)(struct kp_store *s, int64_t id, const char *tag, bool add);
    /* Messages of a conversation, oldest first, after message id `after`. */
    int (*message_list)(struct kp_store *s, int64_t conversation_id, int64_t after, int limit,
                        json_t **out);
    /* The same conversation (seen by all) and message as JSON text appended to out: answers
     * and event payloads that need no JSON tree. */
    int (*conversation_text)(struct kp_store *s, int64_t id, struct kp_buf *out);
    int (*message_text)(struct kp_store *s, int64_t id, struct kp_buf *out);
    int (*message_add)(struct kp_store *s, const struct kp_message_new *m, int64_t *id);
    int (*attachment_get)(struct kp_store *s, int64_t id, json_t **meta, void **data, size_t *size);

    /* The whole inbound path in the current transaction: dedupe, link contact, find or open
     * the conversation, store message and attachments. The pipeline analyses it later. */
    int (*ingest)(struct kp_store *s, const struct kp_inbound *in, struct kp_ingest_result *r);

    /* Email (sqlite/004_email.sql). mail_inbox_set creates or replaces the settings of an
     * email inbox (KP_EINVAL when its channel is not email, KP_EEXIST when another inbox has the
     * address); mail_inbox_get: KP_ENOTFOUND when it has none; mail_inbox_by_address: the inbox
     * that receives mail for address (any case). mail_inbox_ids fills ids[] with the email inboxes
     * (*n in: capacity, out: count). */
    int (*mail_inbox_set)(struct kp_store *s, const struct kp_mail_inbox *in);
    int (*mail_inbox_get)(struct kp_store *s, int64_t inbox_id, struct kp_mail_inbox *out);
    int (*mail_inbox_by_address)(struct kp_store *s, const char *address, int64_t *inbox_id);
    int (*mail_inbox_ids)(struct kp_store *s, int64_t *ids, size_t *n);
    /* Moves the IMAP import's position (after the mails up to last_uid were committed). */
    int (*mail_imap_mark)(struct kp_store *s, int64_t inbox_id, int64_t uidvalidity,
                          int64_t last_uid);
    /* The conversation a reply belongs to: of the message that had header_id in the inbox
     * (when header_id is not NULL), else tag_conversation if it is in the inbox and sender is
     * an email address of its contact (anyone can write "[#1234]" in a subject).
     * KP_ENOTFOUND when neither. */
    int (*mail_thread)(struct kp_store *s, int64_t inbox_id, const char *header_id,
                       int64_t tag_conversation, const char *sender, int64_t *conversation_id);
    /* Remembers key (a Message-ID, or "sha256:" and the hash of the bytes) for a mail the inbox
     * keeps without a conversation; *seen is true when it was remembered before (the same mail
     * delivered again). */
    int (*mail_kept_seen)(struct kp_store *s, int64_t inbox_id, const char *key, bool *seen);
    /* Keeps a mail that opens no conversation (kind "bounce" or "auto_reply"); message_id: the
     * outbound message a bounce reports on, 0 when none. */
    int (*mail_drop)(struct kp_store *s, int64_t inbox_id, const char *kind, const char *from,
                     const char *subject, const char *reason, int64_t message_id, const void *raw,
                     size_t len);
    /* The outbound message of the inbox whose Message-ID is header_id: KP_ENOTFOUND when none. A
     * permanent failure marks its delivery failed with reason. */
    int (*mail_bounce)(struct kp_store *s, int64_t inbox_id, const char *header_id, bool permanent,
                       const char *reason, int64_t *message_id, int64_t *conversation_id);
    /* How a reply in the conversation goes out by email: {conversation_id, channel (the
     * conversation's), inbox_id (the conversation's email inbox, else the first that can send;
     * null when none), address, subject, recipient (where the last inbound mail from the
     * conversation's contact that was not automatic asked answers to go, else the contact's
     * first email address; null when none), in_reply_to, refs (of that mail)}. */
    int (*mail_reply_context)(struct kp_store *s, int64_t conversation_id, json_t **out);
    /* Queues message m->message_id for sending (in the transaction that added it). */
    int (*mail_queue)(struct kp_store *s, const struct kp_mail_out *m);
    /* Up to cap message ids whose sending is due at now_ms, the oldest first. */
    int (*mail_due)(struct kp_store *s, int64_t now_ms, int64_t *ids, size_t *n);
    /* Everything the sender needs of a queued message, as JSON: {message_id, inbox_id,
     * conversation_id, header_id, recipient, subject, in_reply_to, refs, text, html, auto,
     * attempts, agent_name, attachments:[{id, filename, content_type}]}. */
    int (*mail_outgoing)(struct kp_store *s, int64_t message_id, json_t **out);
    /* Records a delivery attempt: sent (raw: the source as sent), or failed with error, to be
     * tried again at retry_at (0: given up, the message shows failed). */
    int (*mail_sent)(struct kp_store *s, int64_t message_id, const void *raw, size_t len);
    int (*mail_failed)(struct kp_store *s, int64_t message_id, const char *error, int64_t retry_at);
    /* The raw source of a message (as received or sent): KP_ENOTFOUND when it has none. */
    int (*mail_raw)(struct kp_store *s, int64_t message_id, void **data, size_t *len);
    /* An automatic answer to address may go out now: true at most once per window_ms per
     * inbox and address (and then remembered). */
    int (*mail_autoreply_allowed)(struct kp_store *s, int64_t inbox_id, const char *address,
                                  int64_t now_ms, int64_t window_ms, bool *allowed);
    /* Mails of the inbox that opened no conversation, newest first, ids below before_id. */
    int (*mail_dropped_list)(struct kp_store *s, int64_t inbox_id, int64_t before_id, int limit,
                             json_t **out);
    /* The raw source of a kept mail of the inbox: KP_ENOTFOUND when there is none. */
    int (*mail_dropped_raw)(struct kp_store *s, int64_t inbox_id, int64_t id, void **data,
                            size_t *len);
    /* Moves a message to another conversation (of the same contact or not): both conversations'
     * counts and previews follow, the message's thread_rule becomes "moved". KP_ENOTFOUND when
     * either is missing. */
    int (*message_move)(struct kp_store *s, int64_t message_id, int64_t to_conversation,
                        int64_t *from_conversation);

    /* Full-text search over messages visible to the viewer, with <mark> highlighted snippets. */
    int (*search)(struct kp_store *s, const struct kp_viewer *v, const char *q, int limit,
                  json_t **out);

    int (*audit_add)(struct kp_store *s, int64_t agent_id, const char *action,
                     const char *object_type, int64_t object_id, json_t *detail);
    int (*audit_list)(struct kp_store *s, int64_t before_id, int limit, json_t **out);

    int (*event_add)(struct kp_store *s, struct kp_event *ev);
    /* Events after since_id, oldest first: a JSON array of {id,ts,type,conversation_id,
     * message_id,team_id,assignee_id}. */
    int (*event_since)(struct kp_store *s, int64_t since_id, int limit, json_t **out);
    /* Deletes events older than before_ms (clients that were away longer reload instead). */
    int (*event_prune)(struct kp_store *s, int64_t before_ms);
    /* Queues a notice for when the open transaction commits (event_add queues its own). A
     * rolled back transaction or an undone savepoint drops its notices. */
    int (*notify)(struct kp_store *s, const struct kp_notice *n);
    /* The notices of the transaction that just committed, in order; the list is emptied.
     * *out is malloc'd (free it), NULL when there are none. */
    int (*notices_drain)(struct kp_store *s, struct kp_notice **out, size_t *n);
    /* The newest committed event id, 0 when there is none. */
    int (*event_last)(struct kp_store *s, int64_t *id);

    /* The message pipeline: every message is analysed and indexed for search once, in id
     * order, after its commit. pipeline_next reads up to cap messages after the pipeline's
     * cursor (into *after), appending the first text_cap bytes of their texts to text; *n is 0
     * when none waits. */
    int (*pipeline_next)(struct kp_store *s, int64_t *after, struct kp_pipe_msg *msgs, size_t cap,
                         size_t text_cap, struct kp_buf *text, size_t *n);
    /* In the open transaction: stores the results of msgs[0..n), indexes every message up to
     * msgs[n-1] and moves the cursor there. KP_ECONFLICT when the cursor is no longer at after
     * (the batch was done already). */
    int (*pipeline_done)(struct kp_store *s, int64_t after, const struct kp_pipe_msg *msgs,
                         size_t n);

    /* Canned answers. canned_create and canned_update answer KP_EEXIST when the shortcut is
     * taken (case-insensitively), canned_update and canned_delete KP_ENOTFOUND when there is no
     * such answer. Rows: {id,shortcut,title,body,created_by,created_at,updated_at}. */
    int (*canned_create)(struct kp_store *s, const struct kp_canned_new *in, int64_t *id);
    int (*canned_update)(struct kp_store *s, int64_t id, const struct kp_canned_change *ch);
    int (*canned_delete)(struct kp_store *s, int64_t id);
    int (*canned_get)(struct kp_store *s, int64_t id, json_t **out);
    /* Up to limit answers ordered by shortcut, as a JSON array; q (NULL = all) matches a prefix
     * of the shortcut or a part of the title or body, ignoring ASCII case. */
    int (*canned_list)(struct kp_store *s, const char *q, int limit, json_t **out);

    /* Notifications. Rows: {id,kind,conversation_id,message_id,by_agent_id,created_at,
     * read_at (null while unread)}. */
    int (*notification_add)(struct kp_store *s, const struct kp_notification_new *in, int64_t *id);
    /* One of agent_id's notifications; KP_ENOTFOUND for a missing one or another agent's. */
    int (*notification_get)(struct kp_store *s, int64_t agent_id, int64_t id, json_t **out);
    /* agent_id's notifications, newest first, with ids below before_id (0 = from the newest),
     * only unread ones when unread_only; *unread receives how many of all of them are unread. */
    int (*notification_list)(struct kp_store *s, int64_t agent_id, bool unread_only,
                             int64_t before_id, int limit, json_t **out, int64_t *unread);
    /* Marks one of agent_id's notifications read (id > 0; KP_ENOTFOUND when it is not his), or
     * all of them (id 0). Those read before keep their read_at. */
    int (*notification_read)(struct kp_store *s, int64_t agent_id, int64_t id);

    /* The chat widget. widget_secret sets (creates or rotates) the secret of a webchat inbox:
     * KP_ENOTFOUND when the inbox does not exist, KP_EINVAL when its channel is not webchat.
     * widget_get: KP_ENOTFOUND when the inbox has no widget (not webchat). */
    int (*widget_secret)(struct kp_store *s, int64_t inbox_id, const char *secret);
    int (*widget_update)(struct kp_store *s, int64_t inbox_id, const struct kp_widget_change *ch);
    int (*widget_get)(struct kp_store *s, int64_t inbox_id, struct kp_widget *out);

    /* Visitor sessions. get: KP_ENOTFOUND for an unknown or expired token. touch moves the
     * expiry. prune deletes expired sessions and page events older than before_ms. */
    int (*visitor_session_create)(struct kp_store *s, const uint8_t hash[32],
                                  const struct kp_visitor_session *in, int64_t expires_ms);
    int (*visitor_session_get)(struct kp_store *s, const uint8_t hash[32], int64_t now_ms,
                               struct kp_visitor_session *out);
    int (*visitor_session_touch)(struct kp_store *s, const uint8_t hash[32], int64_t expires_ms);
    int (*visitor_prune)(struct kp_store *s, int64_t now_ms, int64_t events_before_ms);
    /* The contact owning ("shop", u->id), else ("email", u->email); created with u's name and
     * both identities when neither exists. An identity of u that nobody owns yet is added to
     * the contact; one owned by another contact stays there. A contact without a name gets
     * u's. KP_EINVAL when u has neither id nor email. */
    int (*visitor_identify)(struct kp_store *s, const struct kp_visitor_user *u,
                            int64_t *contact_id);
    /* The contact that owns identity (kind, value): KP_ENOTFOUND when nobody does. */
    int (*identity_owner)(struct kp_store *s, const char *kind, const char *value,
                          int64_t *contact_id);
    /* The contact's newest unresolved conversation in the inbox, *id 0 when none (or, with
     * create, a new one on channel webchat for the inbox's team). */
    int (*visitor_conversation)(struct kp_store *s, int64_t contact_id, int64_t inbox_id,
                                bool create, int64_t *id);
    /* Of a conversation in a webchat inbox: its contact and inbox; KP_ENOTFOUND otherwise. */
    int (*visitor_route)(struct kp_store *s, int64_t conversation_id, int64_t *contact_id,
                         int64_t *inbox_id);
    /* Where an agent can reach a visitor: the webchat inbox of the contact's newest unresolved
     * webchat conversation, else of his newest visitor session; KP_ENOTFOUND when neither. */
    int (*visitor_inbox)(struct kp_store *s, int64_t contact_id, int64_t *inbox_id);
    /* A message as the widget shows it, JSON text appended to out:
     * {"id","conversation_id","direction":"in|out","text","author_name","created_at",
     *  "attachments":[{"id","filename","content_type","size"}]}, author_name the agent's first
     * name for replies. KP_ENOTFOUND for internal notes. */
    int (*visitor_message)(struct kp_store *s, int64_t message_id, struct kp_buf *out);
    /* A JSON array of the last limit messages of the conversation (oldest first, no notes),
     * shaped as visitor_message. */
    int (*visitor_history)(struct kp_store *s, int64_t conversation_id, int limit, json_t **out);
    int (*visitor_facts)(struct kp_store *s, int64_t contact_id, struct kp_visitor_facts *out);
    /* Page views: KP_EBUSY past KP_VISITOR_EVENTS_PER_MINUTE for the contact. The newest
     * earlier view of the contact without a time gets ev->seconds_prev. */
    int (*visitor_event_add)(struct kp_store *s, const struct kp_visitor_event *ev, int64_t *id);
    /* {id,kind,url,title,seconds,created_at} of the contact, newest first, ids below before_id
     * (0 = from the newest). */
    int (*visitor_event_list)(struct kp_store *s, int64_t contact_id, int64_t before_id, int limit,
                              json_t **out);
    /* 0 when the viewer may see the contact: admins always (if it exists), agents when they
     * may see one of its conversations; else KP_ENOTFOUND. */
    int (*contact_access)(struct kp_store *s, const struct kp_viewer *v, int64_t contact_id);

    /* Writes a consistent copy of the whole store to the file path (which must not exist)
     * while others go on reading and writing. */
    int (*backup)(struct kp_store *s, const char *path);

    /* Row counts for /healthz and the demo: {"conversations":n,"messages":n,...}, and
     * "pipeline_pending": messages not yet analysed and indexed. */
    int (*stats)(struct kp_store *s, json_t **out);
};

struct kp_store {
    const struct kp_store_ops *ops;
};

/* Opens the backend whose scheme matches url (a directory path means SQLite). */
int kp_store_open(const char *url, struct kp_store **out);
/* Restores a backup into the empty store at url (see kp_store_ops.restore). */
int kp_store_restore(const char *url, const char *from);
void kp_store_close(struct kp_store *s);
/* conversation_list as a JSON value (new reference), for callers that want to inspect it. */
int kp_store_conversation_list_json(struct kp_store *s, const struct kp_conv_query *q,
                                    json_t **out);

/* Calls a store operation: KP_STORE(s, agent_get, id, &json). */
#define KP_STORE(s, op, ...) ((s)->ops->op((s), __VA_ARGS__))
#define KP_STORE0(s, op) ((s)->ops->op((s)))

#endif
