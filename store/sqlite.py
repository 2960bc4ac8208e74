"""The SQLite implementation of the store (aiosqlite): one connection, WAL mode, numbered migrations kept in
`PRAGMA user_version`. The zero-setup default, for one process.

Several processes may open the same file (WAL and `BEGIN IMMEDIATE` keep it consistent, and a digest claim is one
statement), but only on one machine: for processes on several machines, use PostgreSQL (store/postgres.py).

The file holds users' questions, so it is created (and kept) readable by its owner only (0600; SQLite gives its
-wal and -shm files the database's mode). A database file deleted under the running bot would otherwise keep
taking writes into an unlinked inode, and every turn would be silently gone at the next start: each write first
checks that the path still names the file it opened, and if it was deleted, copies the open database back to it
(SQLite's backup API reads the unlinked file through the open connection) and says so in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from store import MEMORY, Row, Store, StoreError, migrations

log = logging.getLogger(__name__)

SQLITE_ERRORS = (sqlite3.Error, ValueError)
FILE_ERRORS = (OSError, *SQLITE_ERRORS)


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
            # Another process holding the write lock (a second bot on the same file) is waited for.
            await connection.execute("PRAGMA busy_timeout = 5000")
    except BaseException:
        await connection.close()
        raise
    return connection


class _SQLiteTransaction:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._db.execute(sql, tuple(params))
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._db.executemany(sql, [tuple(row) for row in rows])

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())


class SQLiteStore(Store):
    """The one connection to a SQLite file (or an in-memory database)."""

    dialect = "sqlite"

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
        async with self._lock:
            try:
                await self._ensure_file()
            except FILE_ERRORS as exc:
                raise StoreError(str(exc)) from exc

    @property
    def persistent(self) -> bool:
        return self.path != MEMORY

    def describe(self) -> str:
        return f"SQLite {self.path}" if self.persistent else "SQLite in memory"

    @classmethod
    async def open_file(cls, path: Path | str) -> SQLiteStore:
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
    async def _open(cls, path: str) -> SQLiteStore:
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
        for version, sql in migrations("sqlite"):
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
        try:
            async with self._db.execute("PRAGMA user_version") as cursor:
                (version,) = await cursor.fetchone()
        except SQLITE_ERRORS as exc:
            raise StoreError(str(exc)) from exc
        return int(version)

    async def close(self) -> None:
        for retired in self._retired:
            await retired.close()
        await self._db.close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SQLiteTransaction]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on the store's connection; errors become StoreError."""
        async with self._lock:
            try:
                await self._ensure_file()
            except FILE_ERRORS as exc:
                raise StoreError(str(exc)) from exc
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield _SQLiteTransaction(self._db)
                except BaseException:
                    await self._db.rollback()
                    raise
                await self._db.commit()
            except SQLITE_ERRORS as exc:
                raise StoreError(str(exc)) from exc

    async def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._lock:
            try:
                await self._ensure_file()
                cursor = await self._db.execute(sql, tuple(params))
                await self._db.commit()
            except FILE_ERRORS as exc:
                raise StoreError(str(exc)) from exc
        return cursor.rowcount

    async def _insert(self, sql: str, params: Sequence[Any]) -> int:
        async with self._lock:
            try:
                await self._ensure_file()
                async with self._db.execute(sql, tuple(params)) as cursor:
                    row = await cursor.fetchone()
                await self._db.commit()
            except FILE_ERRORS as exc:
                raise StoreError(str(exc)) from exc
        return int(row[0])

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            async with self._db.execute(sql, tuple(params)) as cursor:
                return list(await cursor.fetchall())
        except SQLITE_ERRORS as exc:
            raise StoreError(str(exc)) from exc

    async def tables(self) -> dict[str, list[str]]:
        names = await self._read(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )
        return {row[0]: [c["name"] for c in await self._read(f"PRAGMA table_info({row[0]})")] for row in names}

    async def primary_key(self, table: str) -> list[str]:
        columns = [(c["pk"], c["name"]) for c in await self._read(f"PRAGMA table_info({table})") if c["pk"]]
        return [name for _, name in sorted(columns)]
