-- SPDX-License-Identifier: MIT
-- 001_init.sql - the first Knotenpunkt schema for SQLite. Times are Unix milliseconds.
-- Checks on rows written per message spell out OR chains: SQLite builds a temporary b-tree for
-- every statement that evaluates x IN (a, b, c).

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at INTEGER NOT NULL
);

CREATE TABLE agents (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
    password_hash TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, agent_id)
) WITHOUT ROWID;
CREATE INDEX team_members_agent ON team_members(agent_id);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE inboxes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    team_id INTEGER REFERENCES teams(id),
    created_at INTEGER NOT NULL
);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    name TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One row per way to reach a person: email address, phone number, channel user id, shop id.
CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX identities_contact ON identities(contact_id);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    inbox_id INTEGER NOT NULL REFERENCES inboxes(id),
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    channel TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open'
        CHECK (state = 'open' OR state = 'pending' OR state = 'snoozed' OR state = 'resolved'),
    priority TEXT NOT NULL DEFAULT 'normal'
        CHECK (priority = 'low' OR priority = 'normal' OR priority = 'high'
               OR priority = 'urgent'),
    team_id INTEGER REFERENCES teams(id),
    assignee_id INTEGER REFERENCES agents(id),
    subject TEXT,
    preview TEXT,
    tags TEXT NOT NULL DEFAULT '[]',  -- JSON copy of conversation_tags, for fast lists
    message_count INTEGER NOT NULL DEFAULT 0,
    waiting_since INTEGER,  -- oldest inbound message not yet answered
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL
);
CREATE INDEX conversations_recent ON conversations(last_message_at DESC, id DESC);
-- Most conversations that take new messages are open and unassigned: the indexes for the other
-- states and for assignees leave them out, so a new message rewrites fewer index entries. Open
-- and unassigned lists walk conversations_recent instead, where those come first.
CREATE INDEX conversations_state ON conversations(state, last_message_at DESC)
    WHERE state = 'pending' OR state = 'snoozed' OR state = 'resolved';
CREATE INDEX conversations_contact ON conversations(contact_id, inbox_id, state);
CREATE INDEX conversations_team ON conversations(team_id, last_message_at DESC);
CREATE INDEX conversations_assignee ON conversations(assignee_id, last_message_at DESC)
    WHERE assignee_id IS NOT NULL;

CREATE TABLE conversation_tags (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (conversation_id, tag)
) WITHOUT ROWID;
CREATE INDEX conversation_tags_tag ON conversation_tags(tag);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the pipeline (below) is past old ids
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction = 'in' OR direction = 'out' OR direction = 'note'),
    channel TEXT NOT NULL,
    author_agent_id INTEGER REFERENCES agents(id),
    author_contact_id INTEGER REFERENCES contacts(id),
    text TEXT NOT NULL,
    html TEXT,
    external_id TEXT,
    lang TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);

CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX attachments_message ON attachments(message_id);

-- Retries of an inbound message: by provider id ('x:' prefix) or Idempotency-Key ('k:').
CREATE TABLE dedupe (
    inbox_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    PRIMARY KEY (inbox_id, key)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    agent_id INTEGER,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id INTEGER,
    detail TEXT
);

-- Committed changes, in order, for the WebSocket stream and for catching up after a reconnect.
-- Only references: what changed is read when the event is pushed, so it is always current.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,  -- never reused, as event_prune keeps the newest: clients resume after one
    ts INTEGER NOT NULL,
    type TEXT NOT NULL,
    conversation_id INTEGER,
    message_id INTEGER,
    team_id INTEGER,
    assignee_id INTEGER
);

-- The message pipeline's cursor: every message up to last_message_id has been analysed and
-- indexed for search. Messages are the pipeline's queue: ids only grow and commit in order
-- (one writer), so the work after a message is stored needs no row of its own.
CREATE TABLE pipeline (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_message_id INTEGER NOT NULL
);
INSERT INTO pipeline VALUES (1, 0);

-- Messages are indexed by the pipeline (above), many in one statement: FTS5 writes an index
-- segment per statement, so indexing one message at a time would cost several times more.
-- Only what the pipeline has indexed can be taken out of the index.
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.id <= (SELECT last_message_id FROM pipeline) BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
