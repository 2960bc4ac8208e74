-- Version 5 (PostgreSQL; the same history as ../0005_turn_audience.sql): who may see a turn. channel_id is where
-- it was asked (NULL for the terminal); private is 1 for a question only its asker saw (/ask private:true, DMs).
-- Gaps and digests quote only public questions, and a digest only those asked in its own channel. Rows from
-- before this version take channel and privacy from their stored answer; a row without one cannot be shown to be
-- public, so it counts as private. context is the subject a follow-up was searched with (lower weight), so the
-- next follow-up resolves against the whole resolved question.
ALTER TABLE turns ADD COLUMN channel_id BIGINT;
ALTER TABLE turns ADD COLUMN private INTEGER NOT NULL DEFAULT 1;
ALTER TABLE turns ADD COLUMN context TEXT NOT NULL DEFAULT '';
UPDATE turns SET
    channel_id = (SELECT a.channel_id FROM answers a WHERE a.id = turns.answer_id),
    private = COALESCE((SELECT a.private FROM answers a WHERE a.id = turns.answer_id), 1);
UPDATE turns SET private = 1 WHERE guild_id IS NULL;
CREATE INDEX turns_guild_channel ON turns (guild_id, channel_id);
