-- SPDX-License-Identifier: MIT
-- 005_mail_kept_keys.sql - the mails an inbox kept without a conversation (mail_dropped), by
-- Message-ID (or the hash of their bytes), so that the same bounce or automatic reply delivered
-- again is kept once, as messages are by the dedupe table.
CREATE TABLE mail_kept_keys (
    inbox_id INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    PRIMARY KEY (inbox_id, key)
) WITHOUT ROWID;
