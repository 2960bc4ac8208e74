-- Version 3: conversation memory. One row per question asked: who asked where (scope), what was asked, the
-- query actually searched after follow-up resolution, the passages shown, and whether the engine abstained.
-- Scope is dm:USER, guild:GUILD:channel:CHANNEL:user:USER (threads are channels) or cli:NAME.
CREATE TABLE turns (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    scope          TEXT    NOT NULL,
    user_id        INTEGER NOT NULL,
    guild_id       INTEGER,
    question       TEXT    NOT NULL,
    query          TEXT    NOT NULL,
    kind           TEXT    NOT NULL DEFAULT 'new',
    shown          TEXT    NOT NULL DEFAULT '[]',
    abstained      INTEGER NOT NULL DEFAULT 0,
    answer_id      INTEGER REFERENCES answers(id) ON DELETE SET NULL,
    corpus_version TEXT    NOT NULL,
    created_at     REAL    NOT NULL
);
CREATE INDEX turns_scope_time ON turns (scope, created_at);
CREATE INDEX turns_user ON turns (user_id);
CREATE INDEX turns_guild_gaps ON turns (guild_id, abstained);
CREATE INDEX answers_user ON answers (user_id);
