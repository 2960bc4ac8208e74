"""The PostgreSQL implementation of the store (asyncpg): a connection pool, the same migrations history as SQLite
(kept in a `schema_migrations` table, applied under an advisory lock so processes starting together migrate once),
and LISTEN/NOTIFY so one process can tell the others (a corpus reload).

asyncpg rather than psycopg 3: it brings its own pool and LISTEN support (psycopg needs psycopg_pool beside it),
speaks the binary protocol itself (no libpq to install in the image), and is the faster of the two for the short
statements the store runs.

The queries are the shared ones of store/__init__.py and store/digest.py; `?` placeholders become `$1, $2 ...`.
A lost connection becomes `StoreUnavailable` (a temporary error the user is shown): the pool drops its other
connections too, and the next statement connects again, so the bot recovers by itself when the server is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from store import Row, Store, StoreError, StoreUnavailable, migration_files

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x466F6F746E6F7465  # "Footnote": the advisory lock key held while migrating
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 15.0
LISTEN_RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)

# Errors that mean "the server is not there right now", as opposed to a refused statement.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable (ConnectionError is one)
    TimeoutError,
    asyncpg.InterfaceError,  # includes ConnectionDoesNotExistError: the connection closed under us
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.TooManyConnectionsError,  # 53300
)


@functools.lru_cache(maxsize=512)
def to_postgres(sql: str) -> str:
    """`?` placeholders (outside quoted literals) become `$1, $2 ...`."""
    parts = re.split(r"('(?:[^']|'')*')", sql)
    counter = 0

    def number(_: re.Match[str]) -> str:
        nonlocal counter
        counter += 1
        return f"${counter}"

    return "".join(part if part.startswith("'") else re.sub(r"\?", number, part) for part in parts)


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def explain_connect_error(url: str, exc: BaseException) -> str:
    """One line saying what is wrong with a DATABASE_URL that cannot be used, and how to fix it."""
    parts = urlsplit(url)
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    database = parts.path.lstrip("/") or parts.username or "(default)"
    user = parts.username or "(default user)"
    if isinstance(exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
        return (
            f"DATABASE_URL: PostgreSQL at {where} refused user {user!r} ({exc}): check the user name and password in "
            "DATABASE_URL"
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"DATABASE_URL: database {database!r} does not exist on {where}: create it (createdb {database})"
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return (
            f"DATABASE_URL: user {user!r} may not create Footnote's tables in {database!r} ({exc}): grant it CREATE "
            "on the database (or run `footnote db migrate` as its owner)"
        )
    if isinstance(exc, TimeoutError):
        return f"DATABASE_URL: no answer from PostgreSQL at {where} within {CONNECT_TIMEOUT:.0f} s: check the host"
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        return (
            f"DATABASE_URL: cannot reach PostgreSQL at {where} ({reason}): is the server running, and are the host "
            "and port right?"
        )
    if isinstance(exc, asyncpg.CannotConnectNowError):
        return f"DATABASE_URL: PostgreSQL at {where} is starting or shutting down ({exc}): try again shortly"
    return f"DATABASE_URL: PostgreSQL at {where} cannot be used: {type(exc).__name__}: {exc}"


def _same(value: Any) -> Any:
    return value


def _optional(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else kind(value)


_CASTS: dict[str, Callable[[Any], Any]] = {
    "double precision": _optional(float),
    "bigint": _optional(int),
    "integer": _optional(int),
    "text": _optional(str),
}


class _PostgresTransaction:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        status = await self._connection.execute(to_postgres(sql), *params)
        return _rowcount(status)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(row) for row in rows]
        if rows:
            await self._connection.executemany(to_postgres(sql), rows)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._connection.fetch(to_postgres(sql), *params))


def _rowcount(status: str) -> int:
    """asyncpg returns the command tag ("INSERT 0 1", "UPDATE 3", "DELETE 0"); its last number is the row count."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresStore(Store):
    """A pool of connections to one PostgreSQL database."""

    dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url
        self.path = redact(url)
        self._listeners: list[_Listener] = []

    @property
    def persistent(self) -> bool:
        return True

    def describe(self) -> str:
        return f"PostgreSQL {redact(self.url)}"

    @classmethod
    async def connect(cls, url: str, *, pool_size: int = 5, migrate: bool = True) -> PostgresStore:
        """Open a pool (and migrate the schema unless `migrate` is False); any failure is a StoreError whose
        message is one line saying what is wrong and how to fix it."""
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=max(1, pool_size),
                timeout=CONNECT_TIMEOUT,
                command_timeout=COMMAND_TIMEOUT,
            )
        except (asyncpg.PostgresError, *CONNECTION_ERRORS, ValueError) as exc:
            raise StoreError(explain_connect_error(url, exc)) from exc
        store = cls(pool, url)
        if migrate:
            try:
                await store._migrate()
            except StoreError:
                await store.close()
                raise
            except (asyncpg.PostgresError, *CONNECTION_ERRORS) as exc:
                await store.close()
                raise StoreError(explain_connect_error(url, exc)) from exc
        return store

    async def _migrate(self) -> None:
        """Apply the missing migrations, each in its own transaction with its version row. The advisory lock makes
        a second process starting at the same moment wait, then find nothing left to do."""
        async with self._pool.acquire() as connection:
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                await connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
                current = await connection.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                for version, name, sql in migration_files("postgres"):
                    if version <= current:
                        continue
                    async with connection.transaction():
                        await connection.execute(sql)
                        await connection.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
                        )
                    log.info("database migrated to version %d", version)
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

    async def schema_version(self) -> int:
        try:
            async with self._pool.acquire() as connection:
                exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
                if not exists:
                    return 0
                return int(await connection.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
        except CONNECTION_ERRORS as exc:
            raise await self._lost(exc) from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(str(exc)) from exc

    async def close(self) -> None:
        for listener in self._listeners:
            await listener.stop()
        self._listeners.clear()
        await self._pool.close()

    async def _lost(self, exc: BaseException) -> StoreUnavailable:
        """The connection failed: let the pool replace every connection it holds (they went with the server)."""
        await self._pool.expire_connections()
        log.warning("database connection lost: %s: %s", type(exc).__name__, exc)
        return StoreUnavailable(f"{type(exc).__name__}: {exc}")

    async def _run(self, work: Callable[[asyncpg.Connection], Any], *, retry: bool) -> Any:
        """Run `work(connection)` on a pooled connection; a read (`retry`) is tried once more on a fresh
        connection if the first one turns out to be dead (the server restarted since it was opened)."""
        for attempt in range(2 if retry else 1):
            try:
                async with self._pool.acquire() as connection:
                    return await work(connection)
            except CONNECTION_ERRORS as exc:
                error = await self._lost(exc)
                if attempt == 1 or not retry:
                    raise error from exc
            except asyncpg.PostgresError as exc:
                raise StoreError(str(exc)) from exc
        raise AssertionError("unreachable")

    async def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        query = to_postgres(sql)
        return _rowcount(await self._run(lambda c: c.execute(query, *params), retry=False))

    async def _insert(self, sql: str, params: Sequence[Any]) -> int:
        query = to_postgres(sql)
        return int(await self._run(lambda c: c.fetchval(query, *params), retry=False))

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        query = to_postgres(sql)
        return list(await self._run(lambda c: c.fetch(query, *params), retry=True))

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[_PostgresTransaction]:
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                yield _PostgresTransaction(connection)
        except CONNECTION_ERRORS as exc:
            raise await self._lost(exc) from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(str(exc)) from exc

    # -- copying a database in ----------------------------------------------------------------------------

    async def tables(self) -> dict[str, list[str]]:
        rows = await self._read(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c"
            " JOIN pg_class t ON t.relname = c.table_name"
            " JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = c.table_schema"
            " WHERE c.table_schema = current_schema() AND c.table_name != 'schema_migrations'"
            " ORDER BY t.oid, c.ordinal_position"
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["table_name"], []).append(row["column_name"])
        return found

    async def primary_key(self, table: str) -> list[str]:
        rows = await self._read(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(?) AND i.indisprimary"
            " ORDER BY array_position(i.indkey, a.attnum)",
            (table,),
        )
        return [row[0] for row in rows]

    async def copy_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """COPY, the fastest way in; values are converted to the column types first (SQLite keeps a REAL
        column's whole numbers as integers)."""
        types = {
            row["column_name"]: row["data_type"]
            for row in await self._read(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = ?",
                (table,),
            )
        }
        casts = [_CASTS.get(types.get(column, ""), _same) for column in columns]
        records = [tuple(cast(value) for cast, value in zip(casts, row, strict=True)) for row in rows]
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                await connection.copy_records_to_table(table, columns=list(columns), records=records)
        except CONNECTION_ERRORS as exc:
            raise await self._lost(exc) from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(f"copying {table}: {exc}") from exc

    async def after_copy(self) -> None:
        for table in await self.tables():
            identity = await self._one(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = ? AND is_identity = 'YES'",
                (table,),
            )
            if identity is not None:
                column = identity[0]
                await self._read(
                    f"SELECT setval(pg_get_serial_sequence(?, ?), GREATEST((SELECT MAX({column}) FROM {table}), 1),"
                    f" (SELECT MAX({column}) FROM {table}) IS NOT NULL)",
                    (table, column),
                )

    # -- notifications -----------------------------------------------------------------------------------

    async def notify(self, channel: str, payload: str) -> None:
        await self._execute("SELECT pg_notify(?, ?)", (channel, payload))

    @contextlib.asynccontextmanager
    async def listen(self, channel: str, callback: Callable[[str], Any]) -> AsyncIterator[bool]:
        listener = _Listener(self.url, channel, callback)
        await listener.start()
        self._listeners.append(listener)
        try:
            yield True
        finally:
            await listener.stop()
            if listener in self._listeners:
                self._listeners.remove(listener)


class _Listener:
    """LISTEN on a connection of its own (outside the pool), reconnecting when it is lost. A notification is
    delivered to `callback(payload)`; a reconnection also calls it with "" (something may have been missed)."""

    def __init__(self, url: str, channel: str, callback: Callable[[str], Any]) -> None:
        self.url = url
        self.channel = channel
        self.callback = callback
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._keep_listening(), name=f"listen:{self.channel}")
        # Wait for the first LISTEN (or the first failure) so a caller knows notifications flow from here on.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), CONNECT_TIMEOUT * 2)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._connection is not None and not self._connection.is_closed():
            with contextlib.suppress(*CONNECTION_ERRORS, asyncpg.PostgresError):
                await self._connection.close(timeout=2)
        self._connection = None

    def _deliver(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        result = self.callback(payload)
        if asyncio.iscoroutine(result):
            asyncio.ensure_future(result)  # noqa: RUF006 (the callback owns its own errors)

    async def _keep_listening(self) -> None:
        failures = 0
        first = True
        while True:
            self._lost.clear()
            try:
                self._connection = await asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT)
                self._connection.add_termination_listener(lambda _connection: self._lost.set())
                await self._connection.add_listener(self.channel, self._deliver)
            except (asyncpg.PostgresError, *CONNECTION_ERRORS) as exc:
                delay = LISTEN_RETRY_SECONDS[min(failures, len(LISTEN_RETRY_SECONDS) - 1)]
                failures += 1
                if failures == 1:
                    log.warning("cannot listen for %s (%s); retrying", self.channel, exc)
                self._ready.set()
                await asyncio.sleep(delay)
                continue
            if failures or not first:
                log.info("listening for %s again", self.channel)
                self._deliver(self._connection, 0, self.channel, "")  # catch up on what may have been missed
            failures = 0
            first = False
            self._ready.set()
            await self._lost.wait()
            log.warning("lost the connection listening for %s; reconnecting", self.channel)
