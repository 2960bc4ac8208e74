-- Version 4: daily digests. One schedule per server; one row per (server, local date) claimed before sending
-- and marked after, so a day is posted at most once across restarts, racing ticks and processes (the claim is
-- one INSERT ... ON CONFLICT statement); items posted (to avoid repeating a passage within 30 days); and when
-- each document was first seen (for "new documents").
CREATE TABLE digest_schedules (
    guild_id       BIGINT PRIMARY KEY,
    channel_id     BIGINT           NOT NULL,
    time_of_day    TEXT             NOT NULL,
    timezone       TEXT             NOT NULL DEFAULT 'UTC',
    topics         TEXT             NOT NULL DEFAULT '[]',
    paused_reason  TEXT,
    last_digest_at DOUBLE PRECISION,
    updated_by     BIGINT,
    updated_at     DOUBLE PRECISION NOT NULL
);

CREATE TABLE digest_posts (
    guild_id        BIGINT           NOT NULL,
    local_date      TEXT             NOT NULL,
    status          TEXT             NOT NULL,
    attempts        INTEGER          NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION,
    claimed_at      DOUBLE PRECISION NOT NULL,
    sent_at         DOUBLE PRECISION,
    error           TEXT,
    PRIMARY KEY (guild_id, local_date)
);

CREATE TABLE digest_items (
    guild_id  BIGINT           NOT NULL,
    item_key  TEXT             NOT NULL,
    posted_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (guild_id, item_key)
);

CREATE TABLE documents_seen (
    doc_id      TEXT PRIMARY KEY,
    fingerprint TEXT             NOT NULL,
    first_seen  DOUBLE PRECISION NOT NULL
);
