-- SPDX-License-Identifier: MIT
-- 004_email.sql - the email channel: the settings of email inboxes, what the channel knows of
-- each mail (its Message-ID, how it was threaded, its raw source), the Message-IDs seen and
-- sent for threading, the outbox, and mails that are not messages (bounces, automatic replies).

-- One row per email inbox. Mail to address (any case) lands in the inbox; replies go out from
-- it through smtp_url; imap_url, when set, is polled for mail the inbox cannot receive itself.
-- Passwords are kept as given: the channel must present them to the mail servers.
CREATE TABLE mail_inboxes (
    inbox_id INTEGER PRIMARY KEY REFERENCES inboxes(id) ON DELETE CASCADE,
    address TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL DEFAULT '',
    smtp_url TEXT NOT NULL DEFAULT '',   -- smtp://host:port (STARTTLS when offered) or smtps://
    smtp_user TEXT NOT NULL DEFAULT '',
    smtp_password TEXT NOT NULL DEFAULT '',
    imap_url TEXT NOT NULL DEFAULT '',   -- imap://host:port/FOLDER or imaps://
    imap_user TEXT NOT NULL DEFAULT '',
    imap_password TEXT NOT NULL DEFAULT '',
    imap_poll_s INTEGER NOT NULL DEFAULT 60,
    imap_after TEXT NOT NULL DEFAULT 'seen', -- after commit: 'seen', 'delete' or 'move:FOLDER'
    imap_uidvalidity INTEGER NOT NULL DEFAULT 0,
    imap_last_uid INTEGER NOT NULL DEFAULT 0,  -- every UID up to it is imported
    autoreply TEXT NOT NULL DEFAULT '',  -- acknowledgement for a new conversation, '' = none
    updated_at INTEGER NOT NULL
);

-- What the email channel knows of a message, inbound or outbound. header_id: its Message-ID
-- (without <>); thread_rule: how an inbound mail found its conversation (in_reply_to,
-- references, subject_tag, new) or 'moved' by an agent; flags: a JSON array of names
-- (broken, auto_reply, bulk, bounce, signed, encrypted, forwarded); raw: the source as received
-- or as sent.
CREATE TABLE mail_messages (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    header_id TEXT,
    thread_rule TEXT,
    flags TEXT NOT NULL DEFAULT '[]',
    problem TEXT,
    from_addr TEXT,
    reply_to TEXT,  -- where answers go when not to from_addr
    to_addrs TEXT,
    cc_addrs TEXT,
    subject TEXT,
    in_reply_to TEXT,
    refs TEXT,  -- References, ids separated by spaces
    raw BLOB
);

-- Every Message-ID seen or sent per inbox: a reply finds its conversation through these, and
-- the same mail delivered twice is one message.
CREATE TABLE mail_ids (
    header_id TEXT NOT NULL,
    inbox_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (header_id, inbox_id)
) WITHOUT ROWID;
CREATE INDEX mail_ids_message ON mail_ids(message_id);

-- Outbound mail: the sender takes queued rows whose next_at has come.
CREATE TABLE outbox (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    inbox_id INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state = 'queued' OR state = 'sent' OR state = 'failed'),
    recipient TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    error TEXT,
    auto INTEGER NOT NULL DEFAULT 0,  -- an automatic answer (Auto-Submitted: auto-replied)
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox(next_at) WHERE state = 'queued';

-- Mails that open no conversation and are kept all the same: bounces (matched or not) and
-- automatic replies that belong to no conversation. Nothing received is lost.
CREATE TABLE mail_dropped (
    id INTEGER PRIMARY KEY,
    inbox_id INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind = 'bounce' OR kind = 'auto_reply'),
    from_addr TEXT,
    subject TEXT,
    reason TEXT,
    message_id INTEGER,  -- the outbound message a bounce reports on, NULL when unmatched
    raw BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX mail_dropped_inbox ON mail_dropped(inbox_id, id);

-- Automatic answers sent per sender: at most one per sender and inbox within a window.
CREATE TABLE mail_autoreplies (
    inbox_id INTEGER NOT NULL,
    address TEXT NOT NULL COLLATE NOCASE,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (inbox_id, address)
) WITHOUT ROWID;

-- An inline image's Content-ID: the mail's html refers to it as cid:ID.
ALTER TABLE attachments ADD COLUMN content_id TEXT;
