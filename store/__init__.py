"""Footnote's SQLite store (aiosqlite): one connection, WAL mode, numbered migrations. No discord import.

Holds what must outlive a process: the answers behind message buttons (so paging and feedback keep working after
a restart), feedback, and small settings such as the hash of the last synced command set.

The file holds users' questions, so it is created (and kept) readable by its owner only (0600; SQLite gives its
-wal and -shm files the database's mode). A database file deleted under the running bot would otherwise keep
taking writes into an unlinked inode, and every turn would be silently gone at the next start: each write first
checks that the path still names the file it opened, and if it was deleted, copies the open database back to it
(SQLite's backup API reads the unlinked file through the open connection) and says so in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MEMORY = ":memory:"


class StoreError(Exception):
    """The database could not do what was asked (read-only or full disk, closed connection)."""


@dataclass(frozen=True)
class Turn:
    id: int
    scope: str
    user_id: int
    guild_id: int | None
    question: str
    query: str
    kind: str
    shown: tuple[int, ...]
    abstained: bool
    answer_id: int | None
    corpus_version: str
    created_at: float
    channel_id: int | None = None
    private: bool = True
    context: str = ""


@dataclass(frozen=True)
class Gap:
    question: str
    asked: int
    abstained: int
    disliked: int
    last_asked: float


@dataclass(frozen=True)
class AnswerRecord:
    id: int
    question: str
    user_id: int
    guild_id: int | None
    channel_id: int | None
    private: bool
    corpus_version: str
    abstained: bool
    created_at: float
    kind: str = "ask"
    params: dict[str, Any] = field(default_factory=dict)


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_dev, info.st_ino


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only, or take group and world access away from an
    existing one (it holds users' questions)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            os.fchmod(fd, mode & 0o700)
            log.info("database %s was readable by others (%o); now %o", path, mode, mode & 0o700)
    finally:
        os.close(fd)


async def _connect(path: str) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(path)
    try:
        connection.row_factory = aiosqlite.Row
        await connection.execute("PRAGMA foreign_keys = ON")
        if path != MEMORY:
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await connection.close()
        raise
    return connection


# A gap: a public question of one guild (not a "more" page) that was abstained on or got a 👎.
_GAP_WHERE = """t.guild_id = ? AND t.private = 0 AND t.kind != 'more' AND (
    t.abstained = 1 OR EXISTS (SELECT 1 FROM feedback f WHERE f.answer_id = t.answer_id AND f.value < 0)
)"""


def _turn(row: Any) -> Turn:
    return Turn(
        id=row["id"],
        scope=row["scope"],
        user_id=row["user_id"],
        guild_id=row["guild_id"],
        question=row["question"],
        query=row["query"],
        kind=row["kind"],
        shown=tuple(json.loads(row["shown"])),
        abstained=bool(row["abstained"]),
        answer_id=row["answer_id"],
        corpus_version=row["corpus_version"],
        created_at=row["created_at"],
        channel_id=row["channel_id"],
        private=bool(row["private"]),
        context=row["context"],
    )


def migrations() -> list[tuple[int, str]]:
    """(version, SQL) of every migration file, in order. Files are named NNNN_description.sql."""
    folder = resources.files("store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Store:
    """The one connection to the database; create with `await Store.open(path)`, end with `await close()`."""

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self._db = connection
        self.path = path
        # Writes from many coroutines share one connection: the lock keeps a multi-statement transaction from
        # being committed halfway by another coroutine's commit.
        self._lock = asyncio.Lock()
        self._identity = _file_identity(path) if path != MEMORY else None
        self._retired: list[aiosqlite.Connection] = []

    async def _ensure_file(self) -> None:
        """Called with the lock held, before a write: notice that the database file was deleted or replaced."""
        if self._identity is None:
            return
        current = _file_identity(self.path)
        if current == self._identity:
            return
        if current is None:
            log.error(
                "database %s was deleted while Footnote was running; restoring it from the open connection",
                self.path,
            )
            await self._restore()
        else:
            log.error("database %s was replaced while Footnote was running; switching to the new file", self.path)
        old = self._db
        self._db = await _connect(self.path)
        await self._migrate()
        self._identity = _file_identity(self.path)
        # A read in progress may still use the old connection; it is closed with the store.
        self._retired.append(old)

    async def _restore(self) -> None:
        """Copy the still-open (unlinked) database to a new file at its path, atomically."""
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.restore")
        temp.unlink(missing_ok=True)
        _create_private(temp)
        target = await aiosqlite.connect(temp)
        try:
            await self._db.backup(target)
        finally:
            await target.close()
        os.replace(temp, path)

    async def check_file(self) -> None:
        """Notice a deleted or replaced database file now (the bot calls it from its heartbeat), not at the
        next write."""
        async with self._lock:
            try:
                await self._ensure_file()
            except (OSError, sqlite3.Error, ValueError) as exc:
                raise StoreError(str(exc)) from exc

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on the store's connection; errors become StoreError."""
        async with self._lock:
            try:
                await self._ensure_file()
            except (OSError, sqlite3.Error, ValueError) as exc:
                raise StoreError(str(exc)) from exc
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    await self._db.rollback()
                    raise
                await self._db.commit()
            except (sqlite3.Error, ValueError) as exc:
                raise StoreError(str(exc)) from exc

    @property
    def persistent(self) -> bool:
        return self.path != MEMORY

    @classmethod
    async def open(cls, path: Path | str) -> Store:
        """Open (creating and migrating) the database. If the file cannot be used (read-only folder, full
        disk), fall back to an in-memory database and say so once in the log: answering keeps working."""
        try:
            if str(path) != MEMORY:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            return await cls._open(str(path))
        except (OSError, sqlite3.Error) as exc:
            log.warning(
                "database %s cannot be used (%s): keeping answers in memory only, buttons will not survive a restart",
                path,
                exc,
            )
            return await cls._open(MEMORY)

    @classmethod
    async def _open(cls, path: str) -> Store:
        if path != MEMORY:
            _create_private(Path(path))
        connection = await _connect(path)
        try:
            store = cls(connection, path)
            await store._migrate()
        except BaseException:
            await connection.close()
            raise
        return store

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            (current,) = await cursor.fetchone()
        for version, sql in migrations():
            if version <= current:
                continue
            # One transaction per migration, with its version: a failed migration leaves the previous schema.
            try:
                await self._db.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version:d};\nCOMMIT;")
            except BaseException:
                if self._db.in_transaction:
                    await self._db.rollback()
                raise
            log.info("database migrated to version %d", version)

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            (version,) = await cursor.fetchone()
        return int(version)

    async def close(self) -> None:
        for retired in self._retired:
            await retired.close()
        await self._db.close()

    async def _write(self, sql: str, params: tuple[Any, ...]) -> aiosqlite.Cursor:
        """Execute one statement and commit; a failing disk becomes StoreError."""
        async with self._lock:
            try:
                await self._ensure_file()
                cursor = await self._db.execute(sql, params)
                await self._db.commit()
            except (OSError, sqlite3.Error, ValueError) as exc:
                raise StoreError(str(exc)) from exc
        return cursor

    async def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """All rows of a query; a failing database becomes StoreError."""
        try:
            async with self._db.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(str(exc)) from exc

    # -- meta --------------------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        async with self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        await self._write(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- answers and feedback ----------------------------------------------------------------------------

    async def save_answer(
        self,
        *,
        question: str,
        user_id: int,
        guild_id: int | None,
        channel_id: int | None,
        private: bool,
        corpus_version: str,
        abstained: bool,
        kind: str = "ask",
        params: dict[str, Any] | None = None,
    ) -> int:
        """Store what a message answered (for /ask the question; for other commands `kind` and their options as
        `params`); the returned id goes into the message's button custom_ids."""
        cursor = await self._write(
            "INSERT INTO answers (question, user_id, guild_id, channel_id, private, corpus_version, abstained,"
            " created_at, kind, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                question,
                user_id,
                guild_id,
                channel_id,
                int(private),
                corpus_version,
                int(abstained),
                time.time(),
                kind,
                json.dumps(params or {}, ensure_ascii=False),
            ),
        )
        return int(cursor.lastrowid)

    async def get_answer(self, answer_id: int) -> AnswerRecord | None:
        if not 0 < answer_id <= 2**63 - 1:  # no row has such an id (and SQLite would raise OverflowError)
            return None
        rows = await self._read("SELECT * FROM answers WHERE id = ?", (answer_id,))
        if not rows:
            return None
        row = rows[0]
        return AnswerRecord(
            id=row["id"],
            question=row["question"],
            user_id=row["user_id"],
            guild_id=row["guild_id"],
            channel_id=row["channel_id"],
            private=bool(row["private"]),
            corpus_version=row["corpus_version"],
            abstained=bool(row["abstained"]),
            created_at=row["created_at"],
            kind=row["kind"],
            params=json.loads(row["params"]),
        )

    async def record_feedback(self, answer_id: int, user_id: int, value: int) -> None:
        """Store 👍 (1) or 👎 (-1) for an answer; a user's later vote replaces their earlier one."""
        await self._write(
            "INSERT INTO feedback (answer_id, user_id, value, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (answer_id, user_id) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
            (answer_id, user_id, value, time.time()),
        )

    # -- conversation turns ------------------------------------------------------------------------------

    async def add_turn(
        self,
        *,
        scope: str,
        user_id: int,
        guild_id: int | None,
        question: str,
        query: str,
        kind: str,
        shown: list[int] | tuple[int, ...],
        abstained: bool,
        corpus_version: str,
        answer_id: int | None = None,
        now: float | None = None,
        channel_id: int | None = None,
        private: bool = True,
        context: str = "",
    ) -> int:
        """Remember one question. `private` (the default, so a caller that forgets never leaks) keeps it out of
        everything but its asker's own history and follow-ups; DMs and the terminal are always private."""
        private = private or guild_id is None
        cursor = await self._write(
            "INSERT INTO turns (scope, user_id, guild_id, question, query, kind, shown, abstained, answer_id,"
            " corpus_version, created_at, channel_id, private, context)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                scope,
                user_id,
                guild_id,
                question,
                query,
                kind,
                json.dumps(list(shown)),
                int(abstained),
                answer_id,
                corpus_version,
                time.time() if now is None else now,
                channel_id,
                int(private),
                context,
            ),
        )
        return int(cursor.lastrowid)

    async def last_turn(self, scope: str, since: float, *, public_only: bool = False) -> Turn | None:
        """The most recent turn of a scope at or after `since` (a Unix time). `public_only`: skip private turns
        (a public answer must not reveal, in its "Understood as", a question that was asked privately)."""
        public = " AND private = 0" if public_only else ""
        try:
            async with self._db.execute(
                f"SELECT * FROM turns WHERE scope = ? AND created_at >= ?{public}"
                " ORDER BY created_at DESC, id DESC LIMIT 1",
                (scope, since),
            ) as cursor:
                row = await cursor.fetchone()
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(str(exc)) from exc
        return None if row is None else _turn(row)

    async def history(self, user_id: int, *, guild_id: int | None = None, limit: int = 10) -> list[Turn]:
        """A user's most recent turns (in one guild, or in DMs when guild_id is None), newest first."""
        guild_clause = "guild_id = ?" if guild_id is not None else "guild_id IS NULL"
        params: tuple[Any, ...] = (user_id, guild_id, limit) if guild_id is not None else (user_id, limit)
        async with self._db.execute(
            f"SELECT * FROM turns WHERE user_id = ? AND {guild_clause} ORDER BY created_at DESC, id DESC LIMIT ?",
            params,
        ) as cursor:
            return [_turn(row) for row in await cursor.fetchall()]

    async def forget(self, user_id: int, scope: str | None = None) -> int:
        """Delete a user's turns (in one scope, or everywhere) and the answers behind them; returns how many
        turns were deleted."""
        async with self.transaction() as db:
            if scope is None:
                cursor = await db.execute("DELETE FROM turns WHERE user_id = ?", (user_id,))
                await db.execute("DELETE FROM answers WHERE user_id = ?", (user_id,))
            else:
                await db.execute(
                    "DELETE FROM answers WHERE id IN (SELECT answer_id FROM turns WHERE scope = ? AND user_id = ?)",
                    (scope, user_id),
                )
                cursor = await db.execute("DELETE FROM turns WHERE scope = ? AND user_id = ?", (scope, user_id))
        return cursor.rowcount

    async def purge_older_than(self, days: float, now: float | None = None) -> int:
        """Retention: delete turns and answers older than `days`; returns how many turns went."""
        cutoff = (time.time() if now is None else now) - days * 86400
        async with self.transaction() as db:
            cursor = await db.execute("DELETE FROM turns WHERE created_at < ?", (cutoff,))
            await db.execute("DELETE FROM answers WHERE created_at < ?", (cutoff,))
        return cursor.rowcount

    async def gaps(self, guild_id: int, *, channels: Collection[int], limit: int = 10, since: float = 0.0) -> list[Gap]:
        """The knowledge-gap list of a guild as seen by an audience: public questions asked in one of `channels`
        (after `since`) that the engine abstained on or that got a 👎, most frequent first (grouped case- and
        space-insensitively).

        Privacy rules (every backend keeps them): a private question (/ask private:true, a DM) is never listed
        or counted; a question asked in a channel outside `channels` is never listed (`gaps_elsewhere` counts
        them). Callers pass the channels their audience can already read.
        """
        wanted = sorted({int(c) for c in channels})
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        params = (guild_id, *wanted, since, limit)
        async with self._db.execute(
            f"""
            SELECT MIN(t.question) AS question, COUNT(*) AS asked, SUM(t.abstained) AS abstained,
                   SUM(CASE WHEN EXISTS (SELECT 1 FROM feedback f WHERE f.answer_id = t.answer_id AND f.value < 0)
                       THEN 1 ELSE 0 END) AS disliked,
                   MAX(t.created_at) AS last_asked
            FROM turns t
            WHERE {_GAP_WHERE} AND t.channel_id IN ({marks}) AND t.created_at > ?
            GROUP BY LOWER(TRIM(t.question))
            ORDER BY asked DESC, last_asked DESC
            LIMIT ?
            """,
            params,
        ) as cursor:
            rows = await cursor.fetchall()
        return [Gap(r["question"], r["asked"], r["abstained"], r["disliked"], r["last_asked"]) for r in rows]

    async def gaps_elsewhere(self, guild_id: int, *, channels: Collection[int], since: float = 0.0) -> int:
        """How many distinct public gap questions of a guild were asked outside `channels` (a count, never the
        text: the audience of `channels` could not read them)."""
        wanted = sorted({int(c) for c in channels})
        marks = ", ".join("?" for _ in wanted)
        outside = f"(t.channel_id IS NULL OR t.channel_id NOT IN ({marks}))" if wanted else "1 = 1"
        async with self._db.execute(
            f"SELECT COUNT(DISTINCT LOWER(TRIM(t.question))) FROM turns t"
            f" WHERE {_GAP_WHERE} AND {outside} AND t.created_at > ?",
            (guild_id, *wanted, since),
        ) as cursor:
            (count,) = await cursor.fetchone()
        return int(count)

    async def count_turns(self) -> int:
        async with self._db.execute("SELECT COUNT(*) FROM turns") as cursor:
            (count,) = await cursor.fetchone()
        return int(count)

    async def feedback_for(self, answer_id: int) -> dict[int, int]:
        async with self._db.execute("SELECT user_id, value FROM feedback WHERE answer_id = ?", (answer_id,)) as cur:
            return {int(row[0]): int(row[1]) for row in await cur.fetchall()}
