"""Digest schedules in the store (SQLite or PostgreSQL): due-time computation, exactly-once claiming, retries,
pauses. No discord import.

A schedule posts one digest per server per local date at its time of day in its time zone. `due` lists the
schedules whose time has come today and whose day has not been claimed; `claim` inserts the (server, date) row in
a transaction and only the caller whose insert won may send; `mark_sent` / `mark_failed` finish it. A failed send
is retried with backoff (1, 5, 15 minutes) and then given up with its reason. A bot that was down at the
scheduled time posts once when it is back the same day (only today's date is ever due: never a flood of missed
days). A claim whose process died (still "claimed" after the lease, CLAIM_LEASE_SECONDS) is due again, and is
taken over by exactly one process.

A digest is several messages. Its parts are fixed when the day's digest is first built (`save_parts`) and each
is recorded as sent the moment Discord accepts it (`part_sent`), so a retry, or the process that takes a lapsed
claim over, sends only the parts still missing: each part exactly once, across failures, restarts and processes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from index.errors import UserFacingError
from store import Row, Store, row_dict

RETRY_DELAYS = (60.0, 300.0, 900.0)
# A claim not finished (sent, failed) within this time belongs to a process that died mid-send: another may take
# the day over. Far longer than a digest takes to send (seconds), so a live sender is never overtaken.
CLAIM_LEASE_SECONDS = 600.0
REPEAT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class DigestPart:
    number: int  # 0-based, in posting order
    payload: dict  # the embed as Discord JSON
    attempted_at: float | None
    message_id: int | None

    @property
    def sent(self) -> bool:
        return self.message_id is not None


@dataclass(frozen=True)
class Schedule:
    guild_id: int
    channel_id: int
    time_of_day: str  # "HH:MM"
    timezone: str
    topics: tuple[str, ...]
    paused_reason: str | None
    last_digest_at: float | None

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, now: float) -> date:
        return datetime.fromtimestamp(now, self.zone()).date()

    def due_at(self, day: date) -> float:
        """The Unix time of this schedule's post on local date `day` (DST-aware: a time that does not exist on
        a spring-forward day falls on the first valid instant after it)."""
        hours, minutes = parse_time_of_day(self.time_of_day)
        local = datetime.combine(day, time(hours, minutes), tzinfo=self.zone())
        return local.timestamp()


def parse_time_of_day(value: str) -> tuple[int, int]:
    text = value.strip()
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise UserFacingError(f"“{value}” is not a time of day: use HH:MM, e.g. 09:30.")
    hours, minutes = int(parts[0]), int(parts[1])
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise UserFacingError(f"“{value}” is not a time of day: hours 00-23, minutes 00-59.")
    return hours, minutes


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserFacingError(f"“{name}” is not an IANA time zone: use e.g. UTC, Europe/Paris, Asia/Shanghai.") from exc
    return name.strip()


def _schedule(row: Row) -> Schedule:
    return Schedule(
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        time_of_day=row["time_of_day"],
        timezone=row["timezone"],
        topics=tuple(json.loads(row["topics"])),
        paused_reason=row["paused_reason"],
        last_digest_at=row["last_digest_at"],
    )


class DigestStore:
    """Digest tables on the shared Store (either database: the SQL is the subset both run)."""

    def __init__(self, store: Store, *, lease_seconds: float = CLAIM_LEASE_SECONDS) -> None:
        self.store = store
        self.lease_seconds = lease_seconds

    async def _run(self, sql: str, params: tuple = ()) -> int:
        return await self.store._execute(sql, params)

    async def _rows(self, sql: str, params: tuple = ()) -> list[Row]:
        return await self.store._read(sql, params)

    # -- schedules ---------------------------------------------------------------------------------------

    async def set_schedule(
        self, guild_id: int, channel_id: int, time_of_day: str, tz: str, topics: list[str], user_id: int, now: float
    ) -> Schedule:
        parse_time_of_day(time_of_day)
        check_timezone(tz)
        hours, minutes = parse_time_of_day(time_of_day)
        previous = await self.get_schedule(guild_id)
        if previous is not None and previous.channel_id != channel_id:
            # A digest interrupted in the old channel starts over, whole, in the new one.
            await self._run(
                "DELETE FROM digest_parts WHERE guild_id = ? AND local_date IN"
                " (SELECT local_date FROM digest_posts WHERE guild_id = ? AND status != 'sent')",
                (guild_id, guild_id),
            )
        await self._run(
            "INSERT INTO digest_schedules (guild_id, channel_id, time_of_day, timezone, topics, paused_reason,"
            " updated_by, updated_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET"
            " channel_id = excluded.channel_id, time_of_day = excluded.time_of_day, timezone = excluded.timezone,"
            " topics = excluded.topics, paused_reason = NULL, updated_by = excluded.updated_by,"
            " updated_at = excluded.updated_at",
            (guild_id, channel_id, f"{hours:02d}:{minutes:02d}", tz.strip(), json.dumps(topics, ensure_ascii=False),
             user_id, now),
        )  # fmt: skip
        schedule = await self.get_schedule(guild_id)
        assert schedule is not None
        return schedule

    async def get_schedule(self, guild_id: int) -> Schedule | None:
        rows = await self._rows("SELECT * FROM digest_schedules WHERE guild_id = ?", (guild_id,))
        return _schedule(rows[0]) if rows else None

    async def remove_schedule(self, guild_id: int) -> bool:
        return await self._run("DELETE FROM digest_schedules WHERE guild_id = ?", (guild_id,)) > 0

    async def pause(self, guild_id: int, reason: str) -> None:
        await self._run("UPDATE digest_schedules SET paused_reason = ? WHERE guild_id = ?", (reason, guild_id))

    # -- due, claim, finish ------------------------------------------------------------------------------

    async def due(self, now: float) -> list[tuple[Schedule, date]]:
        """Schedules whose post for today's local date is due and not yet claimed (or waiting for a retry, or
        claimed by a process that died before finishing it: its claim is older than the lease)."""
        waiting = []
        for row in await self._rows("SELECT * FROM digest_schedules WHERE paused_reason IS NULL"):
            schedule = _schedule(row)
            today = schedule.local_date(now)
            if now >= schedule.due_at(today):
                waiting.append((schedule, today))
        if not waiting:
            return []
        # One query for the posts of every waiting schedule (not one per server: thousands of servers tick).
        guilds = sorted({s.guild_id for s, _ in waiting})
        days = sorted({d.isoformat() for _, d in waiting})
        guild_marks, day_marks = ", ".join("?" for _ in guilds), ", ".join("?" for _ in days)
        posts = {
            (row["guild_id"], row["local_date"]): row
            for row in await self._rows(
                "SELECT guild_id, local_date, status, next_attempt_at, claimed_at FROM digest_posts"
                f" WHERE guild_id IN ({guild_marks}) AND local_date IN ({day_marks})",
                (*guilds, *days),
            )
        }
        found = []
        for schedule, today in waiting:
            post = posts.get((schedule.guild_id, today.isoformat()))
            if (
                post is None
                or (post["status"] == "retry" and (post["next_attempt_at"] or 0) <= now)
                or (post["status"] == "claimed" and post["claimed_at"] <= now - self.lease_seconds)
            ):
                found.append((schedule, today))
        return found

    async def claim(self, guild_id: int, day: date, now: float) -> bool:
        """Claim (server, day) for sending. True for exactly one caller per day, across processes (SQLite
        processes on one file, or any number of processes on one PostgreSQL database). The claim is `now`:
        pass the same value to mark_sent / mark_failed, which then apply only while the claim is still ours."""
        # One statement, so it is atomic even against another process: a new day inserts; a day waiting for
        # its retry, or whose claim outlived the lease (its process died mid-send), is taken over; anything else
        # (claimed, sent, failed, retry not yet due) changes nothing.
        changed = await self._run(
            "INSERT INTO digest_posts (guild_id, local_date, status, claimed_at) VALUES (?, ?, 'claimed', ?)"
            " ON CONFLICT (guild_id, local_date) DO UPDATE SET status = 'claimed', claimed_at = excluded.claimed_at"
            " WHERE (digest_posts.status = 'retry' AND digest_posts.next_attempt_at <= excluded.claimed_at)"
            " OR (digest_posts.status = 'claimed' AND digest_posts.claimed_at <= ?)",
            (guild_id, day.isoformat(), now, now - self.lease_seconds),
        )
        return changed == 1

    # -- the parts of a day's digest ---------------------------------------------------------------------

    async def parts(self, guild_id: int, day: date) -> list[DigestPart]:
        rows = await self._rows(
            "SELECT * FROM digest_parts WHERE guild_id = ? AND local_date = ? ORDER BY part",
            (guild_id, day.isoformat()),
        )
        return [
            DigestPart(row["part"], json.loads(row["payload"]), row["attempted_at"], row["message_id"]) for row in rows
        ]

    async def save_parts(
        self, guild_id: int, day: date, payloads: list[dict], item_keys: list[str]
    ) -> list[DigestPart]:
        """Fix the parts of a day's digest (once: parts saved earlier are kept, even by another process racing
        this one) and return them."""
        async with self.store.transaction() as tx:
            [existing] = await tx.fetch(
                "SELECT COUNT(*) AS n FROM digest_parts WHERE guild_id = ? AND local_date = ?",
                (guild_id, day.isoformat()),
            )
            if not existing["n"]:
                await tx.executemany(
                    "INSERT INTO digest_parts (guild_id, local_date, part, payload) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (guild_id, local_date, part) DO NOTHING",
                    [
                        (guild_id, day.isoformat(), number, json.dumps(payload, ensure_ascii=False))
                        for number, payload in enumerate(payloads)
                    ],
                )
                await tx.execute(
                    "UPDATE digest_posts SET item_keys = ? WHERE guild_id = ? AND local_date = ?",
                    (json.dumps(item_keys, ensure_ascii=False), guild_id, day.isoformat()),
                )
        return await self.parts(guild_id, day)

    async def part_attempted(self, guild_id: int, day: date, number: int, now: float) -> None:
        """Recorded before a part is sent: if the process dies before `part_sent`, the next attempt (its own
        retry, or another process after the lease) looks for the message before sending it again."""
        await self._run(
            "UPDATE digest_parts SET attempted_at = ? WHERE guild_id = ? AND local_date = ? AND part = ?",
            (now, guild_id, day.isoformat(), number),
        )

    async def part_sent(self, guild_id: int, day: date, number: int, message_id: int, now: float) -> None:
        await self._run(
            "UPDATE digest_parts SET message_id = ?, sent_at = ? WHERE guild_id = ? AND local_date = ? AND part = ?",
            (message_id, now, guild_id, day.isoformat(), number),
        )

    async def mark_sent(
        self,
        guild_id: int,
        day: date,
        now: float,
        item_keys: list[str] | None = None,
        *,
        claimed_at: float | None = None,
    ) -> bool:
        """Record the whole day's digest as sent, and its items as posted (`item_keys`, else those fixed with
        its parts). With `claimed_at`, only if that claim is still the day's (not taken over after the lease);
        returns whether it was recorded."""
        ours = "" if claimed_at is None else " AND claimed_at = ?"
        async with self.store.transaction() as tx:
            if item_keys is None:
                rows = await tx.fetch(
                    "SELECT item_keys FROM digest_posts WHERE guild_id = ? AND local_date = ?",
                    (guild_id, day.isoformat()),
                )
                item_keys = json.loads(rows[0]["item_keys"] or "[]") if rows else []
            changed = await tx.execute(
                "UPDATE digest_posts SET status = 'sent', sent_at = ?, attempts = attempts + 1"
                f" WHERE guild_id = ? AND local_date = ?{ours}",
                (now, guild_id, day.isoformat(), *(() if claimed_at is None else (claimed_at,))),
            )
            if not changed:
                return False
            await tx.execute("UPDATE digest_schedules SET last_digest_at = ? WHERE guild_id = ?", (now, guild_id))
            await tx.executemany(
                "INSERT INTO digest_items (guild_id, item_key, posted_at) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id, item_key) DO UPDATE SET posted_at = excluded.posted_at",
                [(guild_id, key, now) for key in item_keys],
            )
        return True

    async def mark_failed(
        self, guild_id: int, day: date, now: float, error: str, *, claimed_at: float | None = None
    ) -> str:
        """Record a failed send: schedule a retry with backoff, or give up after the last one. Returns the
        new status ("retry" or "failed"); with `claimed_at`, nothing changes once another process took the day
        over (returns "taken over")."""
        rows = await self._rows(
            "SELECT attempts FROM digest_posts WHERE guild_id = ? AND local_date = ?", (guild_id, day.isoformat())
        )
        attempts = (rows[0]["attempts"] if rows else 0) + 1
        if attempts <= len(RETRY_DELAYS):
            status, next_at = "retry", now + RETRY_DELAYS[attempts - 1]
        else:
            status, next_at = "failed", None
        ours = "" if claimed_at is None else " AND claimed_at = ?"
        changed = await self._run(
            "UPDATE digest_posts SET status = ?, attempts = ?, next_attempt_at = ?, error = ?"
            f" WHERE guild_id = ? AND local_date = ?{ours}",
            (status, attempts, next_at, error[:500], guild_id, day.isoformat(),
             *(() if claimed_at is None else (claimed_at,))),
        )  # fmt: skip
        return status if changed or claimed_at is None else "taken over"

    async def post_status(self, guild_id: int, day: date) -> dict | None:
        rows = await self._rows(
            "SELECT * FROM digest_posts WHERE guild_id = ? AND local_date = ?", (guild_id, day.isoformat())
        )
        return row_dict(rows[0]) if rows else None

    # -- items and documents -----------------------------------------------------------------------------

    async def recent_items(self, guild_id: int, now: float, days: int = REPEAT_WINDOW_DAYS) -> set[str]:
        rows = await self._rows(
            "SELECT item_key FROM digest_items WHERE guild_id = ? AND posted_at >= ?",
            (guild_id, now - days * 86400),
        )
        return {row["item_key"] for row in rows}

    async def note_documents(self, fingerprints: dict[str, str], now: float) -> None:
        """Remember when each document (id and content fingerprint) was first seen."""
        async with self.store.transaction() as tx:
            await tx.executemany(
                "INSERT INTO documents_seen (doc_id, fingerprint, first_seen) VALUES (?, ?, ?)"
                " ON CONFLICT (doc_id) DO UPDATE SET fingerprint = excluded.fingerprint,"
                " first_seen = CASE WHEN documents_seen.fingerprint = excluded.fingerprint"
                " THEN documents_seen.first_seen ELSE excluded.first_seen END",
                [(doc_id, fp, now) for doc_id, fp in fingerprints.items()],
            )

    async def documents_since(self, since: float | None) -> list[str]:
        rows = await self._rows(
            "SELECT doc_id FROM documents_seen WHERE first_seen > ? ORDER BY first_seen, doc_id",
            (since if since is not None else float("inf"),),
        )
        return [row["doc_id"] for row in rows]


def next_due(schedule: Schedule, now: float) -> float:
    """When the next post is due (today's time if still ahead, else tomorrow's)."""
    today = schedule.local_date(now)
    due = schedule.due_at(today)
    return due if due > now else schedule.due_at(today + timedelta(days=1))
