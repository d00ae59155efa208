-- SPDX-License-Identifier: MIT
-- 002_workspace.sql - what the agent workspace keeps: canned answers shared by the whole
-- company, and notifications (an agent was @mentioned in an internal note).

-- Shortcuts are stored in lower case; the collation keeps them unique regardless of case
-- even for rows written by other means.
CREATE TABLE canned_answers (
    id INTEGER PRIMARY KEY,
    shortcut TEXT NOT NULL UNIQUE COLLATE NOCASE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind = 'mention'),
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    by_agent_id INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
-- An agent's list, newest first, and the unread count.
CREATE INDEX notifications_agent ON notifications(agent_id, id);
CREATE INDEX notifications_unread ON notifications(agent_id) WHERE read_at IS NULL;
