-- Footnote store, version 1: key/value settings, answers (so buttons survive restarts), feedback.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE answers (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    question       TEXT    NOT NULL,
    user_id        INTEGER NOT NULL,
    guild_id       INTEGER,
    channel_id     INTEGER,
    private        INTEGER NOT NULL DEFAULT 0,
    corpus_version TEXT    NOT NULL,
    abstained      INTEGER NOT NULL DEFAULT 0,
    created_at     REAL    NOT NULL
);

CREATE TABLE feedback (
    answer_id  INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    value      INTEGER NOT NULL CHECK (value IN (-1, 1)),
    created_at REAL    NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
