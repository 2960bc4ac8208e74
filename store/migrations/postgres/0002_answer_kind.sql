-- Version 2: answers of every command, not only /ask. kind names the command family (ask, timeline, quote,
-- compare ...), and params holds its options as JSON, so paging buttons can re-run it after a restart.
ALTER TABLE answers ADD COLUMN kind TEXT NOT NULL DEFAULT 'ask';
ALTER TABLE answers ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
