-- Version 7 (PostgreSQL; the same history as ../0007_helpdesk.sql): help channels (issue 21). One row per help
-- channel (a forum or text channel whose new posts are answered on their own); its absence is the kill switch. One
-- row per post seen in a help channel, claimed before anything else happens to it (so a post is answered at most
-- once, across restarts, duplicate deliveries and processes), with what became of it; the answered ones of the
-- last hour are the channel's hourly count.
CREATE TABLE helpdesk_channels (
    channel_id     BIGINT PRIMARY KEY,
    guild_id       BIGINT           NOT NULL,
    kind           TEXT             NOT NULL CHECK (kind IN ('forum', 'text')),
    mode           TEXT             NOT NULL DEFAULT 'answer' CHECK (mode IN ('answer', 'suggest')),
    min_confidence TEXT             NOT NULL DEFAULT 'high' CHECK (min_confidence IN ('high', 'low')),
    per_hour       INTEGER          NOT NULL CHECK (per_hour > 0),
    reaction       TEXT             NOT NULL DEFAULT '📭',
    updated_by     BIGINT,
    updated_at     DOUBLE PRECISION NOT NULL
);
CREATE INDEX helpdesk_channels_guild ON helpdesk_channels (guild_id);

CREATE TABLE helpdesk_posts (
    post_id     BIGINT PRIMARY KEY,
    guild_id    BIGINT           NOT NULL,
    channel_id  BIGINT           NOT NULL,
    thread_id   BIGINT,
    author_id   BIGINT           NOT NULL,
    question    TEXT             NOT NULL DEFAULT '',
    status      TEXT             NOT NULL,
    reason      TEXT,
    confidence  TEXT,
    answer_id   BIGINT,
    reply_id    BIGINT,
    created_at  DOUBLE PRECISION NOT NULL,
    answered_at DOUBLE PRECISION
);
CREATE INDEX helpdesk_posts_answered ON helpdesk_posts (channel_id, answered_at);
CREATE INDEX helpdesk_posts_thread ON helpdesk_posts (thread_id);
