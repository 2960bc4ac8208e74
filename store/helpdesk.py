"""Help channels in the store: their settings, and every post seen in one, from its claim to what became of it.
No discord import.

Three guarantees live here rather than in a process's memory, so that they hold across restarts and across
several processes sharing one database:

* **At most once.** `claim` inserts the post's row in one statement; only the caller whose insert won goes on. A
  post delivered twice (a gateway replay, THREAD_CREATE and MESSAGE_CREATE both seen), edited, or seen by two
  processes is answered at most once.
* **The kill switch.** A help channel is on while its row exists; `/helpdesk off` deletes it. Every post reads
  its channel's row when it arrives (`get_channel`) and again in the same transaction that reserves its answer
  (`reserve`), so an answer still being computed when the switch is thrown is never sent.
* **The hourly cap.** `reserve` counts the channel's answers of the last hour (a sliding hour) and takes a slot
  only below the channel's `per_hour`, in one transaction that first writes the channel's row: SQLite's
  `BEGIN IMMEDIATE` and a row lock on PostgreSQL both make racing reservations wait their turn.

A post's `status` says what became of it: `claimed` (being handled), `answering` (slot taken, reply being sent),
`answered`, `silent` (the corpus had no answer sure enough; answer mode), `reacted` (same, suggest mode: the
channel's reaction was added), `capped` (hourly cap reached), `limited` (the poster's question budget was spent),
`human` (a person replied before the bot), `skipped` (nothing to read, e.g. an image alone), `off` (the channel was
switched off meanwhile), `gone` (the post was deleted), `failed` (Discord refused: a missing permission, a locked
thread; `reason` says which).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from store import Store

KINDS = ("forum", "text")
MODES = ("answer", "suggest")
DEFAULT_REACTION = "📭"
HOUR = 3600.0
# Statuses after which the post is done with; "claimed" and "answering" are in progress.
FINAL_STATUSES = ("answered", "silent", "reacted", "capped", "limited", "human", "skipped", "off", "gone", "failed")
UNANSWERED_STATUSES = ("silent", "reacted")  # the corpus had nothing sure enough: a knowledge gap

Reservation = Literal["ok", "capped", "off"]


@dataclass(frozen=True)
class HelpChannel:
    channel_id: int
    guild_id: int
    kind: str  # "forum" or "text"
    mode: str = "answer"  # "answer" or "suggest"
    min_confidence: str = "high"  # "high" or "low"
    per_hour: int = 20
    reaction: str = DEFAULT_REACTION


@dataclass(frozen=True)
class HelpPost:
    post_id: int
    guild_id: int
    channel_id: int
    thread_id: int | None
    author_id: int
    question: str
    status: str
    reason: str | None
    confidence: str | None
    answer_id: int | None
    reply_id: int | None
    created_at: float
    answered_at: float | None


def _channel(row: Any) -> HelpChannel:
    return HelpChannel(
        channel_id=row["channel_id"],
        guild_id=row["guild_id"],
        kind=row["kind"],
        mode=row["mode"],
        min_confidence=row["min_confidence"],
        per_hour=row["per_hour"],
        reaction=row["reaction"],
    )


def _post(row: Any) -> HelpPost:
    return HelpPost(**{name: row[name] for name in HelpPost.__dataclass_fields__})


class HelpdeskStore:
    """The help-channel tables on the shared Store (either database: the SQL is the subset both run)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self.store._execute(sql, tuple(params))

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self.store._read(sql, tuple(params))

    # -- channels ----------------------------------------------------------------------------------------

    async def set_channel(self, channel: HelpChannel, *, user_id: int | None, now: float) -> HelpChannel:
        """Turn a channel into a help channel, or change its settings."""
        if channel.kind not in KINDS or channel.mode not in MODES or channel.per_hour < 1:
            raise ValueError(f"not a valid help channel: {channel}")
        await self._run(
            "INSERT INTO helpdesk_channels (channel_id, guild_id, kind, mode, min_confidence, per_hour, reaction,"
            " updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET"
            " guild_id = excluded.guild_id, kind = excluded.kind, mode = excluded.mode,"
            " min_confidence = excluded.min_confidence, per_hour = excluded.per_hour, reaction = excluded.reaction,"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (channel.channel_id, channel.guild_id, channel.kind, channel.mode, channel.min_confidence,
             channel.per_hour, channel.reaction, user_id, now),
        )  # fmt: skip
        return channel

    async def get_channel(self, channel_id: int) -> HelpChannel | None:
        """The channel's settings, or None when it is not (or no longer) a help channel: the kill switch."""
        rows = await self._rows("SELECT * FROM helpdesk_channels WHERE channel_id = ?", (channel_id,))
        return _channel(rows[0]) if rows else None

    async def channels(self, guild_id: int | None = None) -> list[HelpChannel]:
        """The help channels of a guild (of every guild when None)."""
        if guild_id is None:
            rows = await self._rows("SELECT * FROM helpdesk_channels ORDER BY guild_id, channel_id")
        else:
            rows = await self._rows(
                "SELECT * FROM helpdesk_channels WHERE guild_id = ? ORDER BY channel_id", (guild_id,)
            )
        return [_channel(row) for row in rows]

    async def remove(self, guild_id: int, channel_id: int | None = None) -> int:
        """Switch help off in one channel of a guild, or in all of them; returns how many were on."""
        if channel_id is None:
            return await self._run("DELETE FROM helpdesk_channels WHERE guild_id = ?", (guild_id,))
        return await self._run(
            "DELETE FROM helpdesk_channels WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
        )

    # -- posts -------------------------------------------------------------------------------------------

    async def claim(
        self, *, post_id: int, guild_id: int, channel_id: int, thread_id: int | None, author_id: int, now: float
    ) -> bool:
        """Claim a post for handling. True for exactly one caller per post, ever."""
        changed = await self._run(
            "INSERT INTO helpdesk_posts (post_id, guild_id, channel_id, thread_id, author_id, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, 'claimed', ?) ON CONFLICT (post_id) DO NOTHING",
            (post_id, guild_id, channel_id, thread_id, author_id, now),
        )
        return changed == 1

    async def reserve(self, post_id: int, channel_id: int, now: float) -> Reservation:
        """Take one of the channel's answer slots for the last hour. "off" when the channel is no longer a help
        channel (the kill switch), "capped" when its hour is full, else "ok" (the post becomes `answering`)."""
        async with self.store.transaction() as tx:
            # Writing the channel's row first serialises racing reservations of one channel (a no-op update: the
            # write lock on SQLite, the row lock on PostgreSQL, until the transaction ends).
            if not await tx.execute(
                "UPDATE helpdesk_channels SET per_hour = per_hour WHERE channel_id = ?", (channel_id,)
            ):
                await tx.execute("UPDATE helpdesk_posts SET status = 'off' WHERE post_id = ?", (post_id,))
                return "off"
            [row] = await tx.fetch(
                "SELECT c.per_hour, (SELECT COUNT(*) FROM helpdesk_posts p WHERE p.channel_id = c.channel_id"
                " AND p.answered_at > ?) AS answered FROM helpdesk_channels c WHERE c.channel_id = ?",
                (now - HOUR, channel_id),
            )
            if row["answered"] >= row["per_hour"]:
                await tx.execute("UPDATE helpdesk_posts SET status = 'capped' WHERE post_id = ?", (post_id,))
                return "capped"
            await tx.execute(
                "UPDATE helpdesk_posts SET status = 'answering', answered_at = ? WHERE post_id = ?", (now, post_id)
            )
        return "ok"

    async def finish(
        self,
        post_id: int,
        status: str,
        *,
        question: str | None = None,
        reason: str | None = None,
        confidence: str | None = None,
        answer_id: int | None = None,
        reply_id: int | None = None,
        thread_id: int | None = None,
    ) -> None:
        """Record what became of a post. Only an answered post keeps its slot in the hourly count."""
        if status not in FINAL_STATUSES:
            raise ValueError(f"not a final status: {status}")
        await self._run(
            "UPDATE helpdesk_posts SET status = ?, reason = ?,"
            " question = COALESCE(?, question), confidence = COALESCE(?, confidence),"
            " answer_id = COALESCE(?, answer_id), reply_id = COALESCE(?, reply_id),"
            " thread_id = COALESCE(?, thread_id),"
            " answered_at = CASE WHEN ? = 'answered' THEN answered_at ELSE NULL END"
            " WHERE post_id = ?",
            (status, reason[:300] if reason else None, question, confidence, answer_id, reply_id, thread_id, status,
             post_id),
        )  # fmt: skip

    async def post(self, post_id: int) -> HelpPost | None:
        rows = await self._rows("SELECT * FROM helpdesk_posts WHERE post_id = ?", (post_id,))
        return _post(rows[0]) if rows else None

    async def answered_thread(self, thread_id: int) -> HelpPost | None:
        """The answered post whose answer is in `thread_id` (where its poster's follow-ups are read)."""
        rows = await self._rows(
            "SELECT * FROM helpdesk_posts WHERE thread_id = ? AND status = 'answered' ORDER BY post_id LIMIT 1",
            (thread_id,),
        )
        return _post(rows[0]) if rows else None

    async def answered_since(self, channel_id: int, since: float) -> int:
        rows = await self._rows(
            "SELECT COUNT(*) AS n FROM helpdesk_posts WHERE channel_id = ? AND answered_at > ?", (channel_id, since)
        )
        return int(rows[0]["n"])

    async def outcomes(self, channel_id: int, since: float) -> dict[str, int]:
        """How many posts of a channel (seen after `since`) ended in each status."""
        rows = await self._rows(
            "SELECT status, COUNT(*) AS n FROM helpdesk_posts WHERE channel_id = ? AND created_at > ? GROUP BY status",
            (channel_id, since),
        )
        return {row["status"]: int(row["n"]) for row in rows}

    async def last_problem(self, channel_id: int) -> HelpPost | None:
        """The most recent post of a channel that Discord refused (for /helpdesk show)."""
        rows = await self._rows(
            "SELECT * FROM helpdesk_posts WHERE channel_id = ? AND status = 'failed'"
            " ORDER BY created_at DESC, post_id DESC LIMIT 1",
            (channel_id,),
        )
        return _post(rows[0]) if rows else None


async def help_channels_configured(store: Store) -> bool:
    """Whether any help channel exists (the bot then asks Discord for the Message Content intent)."""
    rows = await store._read("SELECT 1 FROM helpdesk_channels LIMIT 1", ())
    return bool(rows)
