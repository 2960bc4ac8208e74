"""Footnote's store: one interface (`Store`), two databases. No discord import.

Holds what must outlive a process: the answers behind message buttons (so paging and feedback keep working after
a restart), feedback, conversation turns, digest schedules and claims, and small settings such as the hash of the
last synced command set.

`Store.open(target)` picks the implementation: a file path (or ":memory:") opens SQLite (store/sqlite.py, one
aiosqlite connection, WAL), the zero-setup default; a `postgresql://` URL opens PostgreSQL (store/postgres.py, an
asyncpg pool), for several processes sharing one state. The queries are written once, here and in
store/digest.py, in the SQL both databases run (`?` placeholders, `ON CONFLICT`, `RETURNING`); an implementation
supplies the primitives (`_execute`, `_insert`, `_read`, `transaction`) and its own migrations, which share one
numbered history (store/migrations/NNNN_*.sql for SQLite, store/migrations/postgres/NNNN_*.sql for PostgreSQL).
The same test suite runs against both (tests/store).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from index.errors import UserFacingError

MEMORY = ":memory:"
DIALECTS = ("sqlite", "postgres")


class StoreError(Exception):
    """The database could not do what was asked (read-only or full disk, closed connection, refused query)."""


class StoreUnavailable(StoreError, UserFacingError):
    """The database cannot be reached right now (connection lost, server restarting). Temporary: the store
    reconnects by itself, and the message is meant for the user who asked."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("Footnote's database is unreachable right now; please try again in a minute.")
        self.detail = detail


class Row(Protocol):
    """A result row: by column name or position (sqlite3.Row and asyncpg.Record both are)."""

    def __getitem__(self, key: str | int) -> Any: ...

    def keys(self) -> Iterable[str]: ...


class Transaction(Protocol):
    """Statements run inside one transaction of the store (`async with store.transaction() as tx`)."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


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


def _turn(row: Row) -> Turn:
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


# A gap: a public question of one guild (not a "more" page) that was abstained on or got a 👎.
_GAP_WHERE = """t.guild_id = ? AND t.private = 0 AND t.kind != 'more' AND (
    t.abstained = 1 OR EXISTS (SELECT 1 FROM feedback f WHERE f.answer_id = t.answer_id AND f.value < 0)
)"""


def migrations(dialect: str = "sqlite") -> list[tuple[int, str]]:
    """(version, SQL) of every migration of one database, in order. Files are named NNNN_description.sql; both
    databases have the same numbers and names (a test checks), so a version means the same schema in each."""
    return [(version, sql) for version, _, sql in migration_files(dialect)]


def migration_files(dialect: str = "sqlite") -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration of one database, in order."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown database dialect {dialect!r}")
    folder = resources.files("store").joinpath("migrations")
    if dialect == "postgres":
        folder = folder.joinpath("postgres")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def is_database_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class Store:
    """The interface every part of Footnote uses. Create with `await Store.open(path_or_url)` (which returns the
    SQLite or PostgreSQL implementation), end with `await close()`."""

    dialect = "sqlite"

    @classmethod
    async def open(cls, target: Path | str, **options: Any) -> Store:
        """Open (creating and migrating) the database at `target`: a SQLite path, ":memory:", or a
        postgresql:// URL. SQLite falls back to memory when the file cannot be used (see store/sqlite.py);
        PostgreSQL raises StoreError with one line saying what is wrong (wrong password, no server...)."""
        if is_database_url(target):
            from store.postgres import PostgresStore

            return await PostgresStore.connect(str(target), **options)
        from store.sqlite import SQLiteStore

        return await SQLiteStore.open_file(target)

    # -- what an implementation provides -----------------------------------------------------------------

    @property
    def persistent(self) -> bool:
        """False when the data lives in this process only (SQLite's in-memory fallback)."""
        raise NotImplementedError

    def describe(self) -> str:
        """Where the data is, for logs and `footnote doctor` (never a password)."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def schema_version(self) -> int:
        raise NotImplementedError

    async def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own transaction; returns the number of rows it changed."""
        raise NotImplementedError

    async def _insert(self, sql: str, params: Sequence[Any]) -> int:
        """One INSERT ... RETURNING id; returns the new row's id."""
        raise NotImplementedError

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """All rows of a query."""
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        """A transaction: committed when the block ends, rolled back if it raises; errors become StoreError."""
        raise NotImplementedError

    async def check_file(self) -> None:
        """Notice now (the bot calls it every 30 s) that the database's file was deleted or replaced under the
        running process, and restore it; nothing to check for a server database."""

    async def notify(self, channel: str, payload: str) -> None:
        """Tell every process on this database (PostgreSQL NOTIFY); nothing to do for a single SQLite process."""

    @contextlib.asynccontextmanager
    async def listen(self, channel: str, callback: Any) -> AsyncIterator[bool]:
        """Call `callback(payload)` for each notification on `channel` while the block runs; yields whether
        this store can deliver notifications from other processes at all (PostgreSQL) or not (SQLite)."""
        yield False

    async def tables(self) -> dict[str, list[str]]:
        """Footnote's tables and their columns, in creation order (for copying and checking a database)."""
        raise NotImplementedError

    async def primary_key(self, table: str) -> list[str]:
        raise NotImplementedError

    async def copy_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows as they are (ids included), in one transaction; used by `footnote db migrate-to`."""
        placeholders = ", ".join("?" for _ in columns)
        async with self.transaction() as tx:
            await tx.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)

    async def after_copy(self) -> None:
        """Bring id counters past the copied ids (PostgreSQL's identity columns); nothing for SQLite."""

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self._read(sql, params)
        return rows[0] if rows else None

    # -- meta --------------------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        await self._execute(
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
        return await self._insert(
            "INSERT INTO answers (question, user_id, guild_id, channel_id, private, corpus_version, abstained,"
            " created_at, kind, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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

    async def get_answer(self, answer_id: int) -> AnswerRecord | None:
        if not 0 < answer_id <= 2**63 - 1:  # no row has such an id (and neither database takes a larger one)
            return None
        row = await self._one("SELECT * FROM answers WHERE id = ?", (answer_id,))
        if row is None:
            return None
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
        await self._execute(
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
        return await self._insert(
            "INSERT INTO turns (scope, user_id, guild_id, question, query, kind, shown, abstained, answer_id,"
            " corpus_version, created_at, channel_id, private, context)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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

    async def last_turn(self, scope: str, since: float, *, public_only: bool = False) -> Turn | None:
        """The most recent turn of a scope at or after `since` (a Unix time). `public_only`: skip private turns
        (a public answer must not reveal, in its "Understood as", a question that was asked privately)."""
        public = " AND private = 0" if public_only else ""
        row = await self._one(
            f"SELECT * FROM turns WHERE scope = ? AND created_at >= ?{public}"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            (scope, since),
        )
        return None if row is None else _turn(row)

    async def history(self, user_id: int, *, guild_id: int | None = None, limit: int = 10) -> list[Turn]:
        """A user's most recent turns (in one guild, or in DMs when guild_id is None), newest first."""
        guild_clause = "guild_id = ?" if guild_id is not None else "guild_id IS NULL"
        params: tuple[Any, ...] = (user_id, guild_id, limit) if guild_id is not None else (user_id, limit)
        rows = await self._read(
            f"SELECT * FROM turns WHERE user_id = ? AND {guild_clause} ORDER BY created_at DESC, id DESC LIMIT ?",
            params,
        )
        return [_turn(row) for row in rows]

    async def forget(self, user_id: int, scope: str | None = None) -> int:
        """Delete a user's turns (in one scope, or everywhere) and the answers behind them; returns how many
        turns were deleted."""
        async with self.transaction() as tx:
            if scope is None:
                removed = await tx.execute("DELETE FROM turns WHERE user_id = ?", (user_id,))
                await tx.execute("DELETE FROM answers WHERE user_id = ?", (user_id,))
            else:
                await tx.execute(
                    "DELETE FROM answers WHERE id IN (SELECT answer_id FROM turns WHERE scope = ? AND user_id = ?)",
                    (scope, user_id),
                )
                removed = await tx.execute("DELETE FROM turns WHERE scope = ? AND user_id = ?", (scope, user_id))
        return removed

    async def purge_older_than(self, days: float, now: float | None = None) -> int:
        """Retention: delete turns and answers older than `days`; returns how many turns went."""
        cutoff = (time.time() if now is None else now) - days * 86400
        async with self.transaction() as tx:
            removed = await tx.execute("DELETE FROM turns WHERE created_at < ?", (cutoff,))
            await tx.execute("DELETE FROM answers WHERE created_at < ?", (cutoff,))
        return removed

    async def gaps(self, guild_id: int, *, channels: Collection[int], limit: int = 10, since: float = 0.0) -> list[Gap]:
        """The knowledge-gap list of a guild as seen by an audience: public questions asked in one of `channels`
        (after `since`) that the engine abstained on or that got a 👎, most frequent first (grouped case- and
        space-insensitively).

        Privacy rules (every backend keeps them: the SQL is shared): a private question (/ask private:true, a
        DM) is never listed or counted; a question asked in a channel outside `channels` is never listed
        (`gaps_elsewhere` counts them). Callers pass the channels their audience can already read.
        """
        wanted = sorted({int(c) for c in channels})
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        rows = await self._read(
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
            (guild_id, *wanted, since, limit),
        )
        return [
            Gap(r["question"], int(r["asked"]), int(r["abstained"]), int(r["disliked"]), r["last_asked"]) for r in rows
        ]

    async def gaps_elsewhere(self, guild_id: int, *, channels: Collection[int], since: float = 0.0) -> int:
        """How many distinct public gap questions of a guild were asked outside `channels` (a count, never the
        text: the audience of `channels` could not read them)."""
        wanted = sorted({int(c) for c in channels})
        marks = ", ".join("?" for _ in wanted)
        outside = f"(t.channel_id IS NULL OR t.channel_id NOT IN ({marks}))" if wanted else "1 = 1"
        row = await self._one(
            f"SELECT COUNT(DISTINCT LOWER(TRIM(t.question))) FROM turns t"
            f" WHERE {_GAP_WHERE} AND {outside} AND t.created_at > ?",
            (guild_id, *wanted, since),
        )
        return int(row[0]) if row is not None else 0

    async def count_turns(self) -> int:
        row = await self._one("SELECT COUNT(*) FROM turns")
        return int(row[0]) if row is not None else 0

    async def feedback_for(self, answer_id: int) -> dict[int, int]:
        rows = await self._read("SELECT user_id, value FROM feedback WHERE answer_id = ?", (answer_id,))
        return {int(row[0]): int(row[1]) for row in rows}


def row_dict(row: Row) -> dict[str, Any]:
    """A row as a plain dict (sqlite3.Row and asyncpg.Record alike)."""
    return {key: row[key] for key in row.keys()}  # noqa: SIM118 (sqlite3.Row iterates over values)
