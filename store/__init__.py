"""Footnote's SQLite store (aiosqlite): one connection, WAL mode, numbered migrations. No discord import.

Holds what must outlive a process: the answers behind message buttons (so paging and feedback keep working after
a restart), feedback, and small settings such as the hash of the last synced command set.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MEMORY = ":memory:"


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
        connection = await aiosqlite.connect(path)
        try:
            connection.row_factory = aiosqlite.Row
            await connection.execute("PRAGMA foreign_keys = ON")
            if path != MEMORY:
                await connection.execute("PRAGMA journal_mode = WAL")
                await connection.execute("PRAGMA synchronous = NORMAL")
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
        await self._db.close()

    # -- meta --------------------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        async with self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
        await self._db.commit()

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
        cursor = await self._db.execute(
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
        await self._db.commit()
        return int(cursor.lastrowid)

    async def get_answer(self, answer_id: int) -> AnswerRecord | None:
        async with self._db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)) as cursor:
            row = await cursor.fetchone()
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
        await self._db.execute(
            "INSERT INTO feedback (answer_id, user_id, value, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (answer_id, user_id) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
            (answer_id, user_id, value, time.time()),
        )
        await self._db.commit()

    async def feedback_for(self, answer_id: int) -> dict[int, int]:
        async with self._db.execute("SELECT user_id, value FROM feedback WHERE answer_id = ?", (answer_id,)) as cur:
            return {int(row[0]): int(row[1]) for row in await cur.fetchall()}
