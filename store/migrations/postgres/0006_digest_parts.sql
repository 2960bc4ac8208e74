-- Version 6 (PostgreSQL; the same history as ../0006_digest_parts.sql): a digest's messages are recorded one by
-- one. When a day's digest is first built, its parts (one embed each, as Discord JSON) and its item keys are fixed
-- here; each part gets its message id as soon as Discord accepts it, so a retry (after a failed part, a restart,
-- or another process taking a lapsed claim over) sends only the parts still missing, exactly once. attempted_at
-- marks a part whose send was started: if the process died before the id was recorded, the next attempt first
-- looks for that message in the channel.
CREATE TABLE digest_parts (
    guild_id     BIGINT           NOT NULL,
    local_date   TEXT             NOT NULL,
    part         INTEGER          NOT NULL,
    payload      TEXT             NOT NULL,
    attempted_at DOUBLE PRECISION,
    message_id   BIGINT,
    sent_at      DOUBLE PRECISION,
    PRIMARY KEY (guild_id, local_date, part)
);
ALTER TABLE digest_posts ADD COLUMN item_keys TEXT;
