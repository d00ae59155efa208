-- SPDX-License-Identifier: MIT
-- 003_widget.sql - the website chat widget: per webchat inbox its secret (signs the identity of
-- a signed-in shop customer) and settings, the visitors' sessions, and the pages they view.

-- One row per webchat inbox. secret: 64 hex characters (32 random bytes); origins: the sites
-- allowed to embed the widget, separated by spaces ('' = any).
CREATE TABLE widgets (
    inbox_id INTEGER PRIMARY KEY REFERENCES inboxes(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    greeting_de TEXT NOT NULL DEFAULT '',
    greeting_en TEXT NOT NULL DEFAULT '',
    origins TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);
-- Webchat inboxes made before this migration get a secret too (SQLite's randomness comes from
-- the operating system's).
INSERT INTO widgets(inbox_id, secret, updated_at)
    SELECT id, lower(hex(randomblob(32))), CAST(strftime('%s', 'now') AS INTEGER) * 1000
    FROM inboxes WHERE channel = 'webchat';

-- The browser keeps a random token; only its hash is stored. identified: opened with a signed
-- shop login (a later anonymous visit on the same browser must not see that history).
CREATE TABLE visitor_sessions (
    token_hash BLOB PRIMARY KEY,
    inbox_id INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    identified INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX visitor_sessions_contact ON visitor_sessions(contact_id, created_at);
CREATE INDEX visitor_sessions_expiry ON visitor_sessions(expires_at);

-- What visitors do on the site, for proactive rules and the agent's customer panel. seconds:
-- time spent on the page, known once the visitor moved on (NULL until then).
CREATE TABLE visitor_events (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind = 'page_view'),
    url TEXT NOT NULL,
    title TEXT,
    seconds INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX visitor_events_contact ON visitor_events(contact_id, created_at);
CREATE INDEX visitor_events_time ON visitor_events(created_at);
