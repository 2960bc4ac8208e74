"""The store on each database: migrations (one history, two dialects), answers, feedback."""

import re
import sqlite3

import pytest

from store import MEMORY, Store, migration_files, migrations


def test_both_databases_share_one_migration_history():
    sqlite_files = [(version, name) for version, name, _ in migration_files("sqlite")]
    postgres_files = [(version, name) for version, name, _ in migration_files("postgres")]
    assert sqlite_files == postgres_files
    assert [version for version, _ in sqlite_files] == list(range(1, len(sqlite_files) + 1))


def test_every_migration_file_is_installed_with_the_package():
    """pyproject.toml's package-data must name every migration folder, or an installed Footnote (the Docker
    image) would lack them."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["store"]
    installed = {path for pattern in patterns for path in (root / "store").glob(pattern)}  # as setuptools globs
    files = set((root / "store" / "migrations").rglob("*.sql"))
    assert files and files <= installed, sorted(str(f) for f in files - installed)


async def _columns(store: Store) -> dict[str, set[str]]:
    if store.dialect == "sqlite":
        tables = [r[0] for r in await store._read("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = {}
        for table in tables:
            if table.startswith("sqlite_"):
                continue
            found[table] = {r["name"] for r in await store._read(f"PRAGMA table_info({table})")}
        return found
    rows = await store._read(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        if row["table_name"] != "schema_migrations":
            found.setdefault(row["table_name"], set()).add(row["column_name"])
    return found


@pytest.mark.asyncio
async def test_migrations_build_the_same_tables_and_columns(database, tmp_path):
    store = await Store.open(database)
    reference = await Store.open(tmp_path / "reference.sqlite3")
    try:
        assert await _columns(store) == await _columns(reference)
    finally:
        await store.close()
        await reference.close()


@pytest.mark.asyncio
async def test_migrates_an_empty_database(database):
    store = await Store.open(database)
    try:
        assert store.persistent
        assert await store.schema_version() == migrations(store.dialect)[-1][0]
        answer_id = await store.save_answer(
            question="q", user_id=1, guild_id=None, channel_id=None, private=False, corpus_version="v",
            abstained=False, kind="timeline", params={"topic": "Altman"},
        )  # fmt: skip
        record = await store.get_answer(answer_id)
        assert (record.kind, record.params) == ("timeline", {"topic": "Altman"})
    finally:
        await store.close()
    reopened = await Store.open(database)  # a second start migrates nothing and keeps the rows
    try:
        assert (await reopened.get_answer(answer_id)).params == {"topic": "Altman"}
    finally:
        await reopened.close()


@pytest.mark.asyncio
async def test_sqlite_uses_wal(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def _create_version_1(database: str) -> None:
    version, name, first = migration_files("postgres" if database.startswith("postgresql://") else "sqlite")[0]
    insert = (
        "INSERT INTO answers (question, user_id, private, corpus_version, abstained, created_at)"
        " VALUES ('old question', 5, 0, 'v0', 0, 0)"
    )
    if not database.startswith("postgresql://"):
        with sqlite3.connect(database) as raw:
            raw.executescript(first)
            raw.execute(f"PRAGMA user_version = {version}")
            raw.execute(insert)
        return
    import asyncpg

    connection = await asyncpg.connect(database)
    try:
        await connection.execute(first)
        await connection.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        await connection.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name)
        await connection.execute(insert)
    finally:
        await connection.close()


@pytest.mark.asyncio
async def test_migrates_a_version_1_database_keeping_its_rows(database):
    await _create_version_1(database)
    store = await Store.open(database)
    try:
        record = await store.get_answer(1)
        assert record.question == "old question" and record.kind == "ask" and record.params == {}
        assert await store.schema_version() == migrations(store.dialect)[-1][0]
        # New rows get new ids after the old ones (PostgreSQL's identity and SQLite's rowid alike).
        new_id = await store.save_answer(
            question="new", user_id=5, guild_id=None, channel_id=None, private=False, corpus_version="v1",
            abstained=False,
        )  # fmt: skip
        assert new_id > 1 or store.dialect == "postgres"
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_unusable_database_falls_back_to_memory_and_says_so(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = await Store.open(blocker / "db.sqlite3")
    try:
        assert store.path == MEMORY and not store.persistent
        assert "cannot be used" in caplog.text
        await store.set_meta("k", "v")
        assert await store.get_meta("k") == "v"
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_meta_is_replaced_not_duplicated(database):
    store = await Store.open(database)
    try:
        assert await store.get_meta("commands_hash") is None
        await store.set_meta("commands_hash", "a")
        await store.set_meta("commands_hash", "b")
        assert await store.get_meta("commands_hash") == "b"
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_feedback_replaces_a_users_earlier_vote(database):
    store = await Store.open(database)
    try:
        answer_id = await store.save_answer(
            question="q", user_id=1, guild_id=1, channel_id=2, private=True, corpus_version="v", abstained=False
        )
        await store.record_feedback(answer_id, 9, 1)
        await store.record_feedback(answer_id, 9, -1)
        await store.record_feedback(answer_id, 10, 1)
        assert await store.feedback_for(answer_id) == {9: -1, 10: 1}
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_discord_snowflakes_and_times_keep_full_precision(database):
    store = await Store.open(database)
    snowflake = 1_234_567_890_123_456_789  # Discord ids use all 64 bits
    try:
        answer_id = await store.save_answer(
            question="q", user_id=snowflake, guild_id=snowflake + 1, channel_id=snowflake + 2, private=False,
            corpus_version="v", abstained=False,
        )  # fmt: skip
        record = await store.get_answer(answer_id)
        assert (record.user_id, record.guild_id, record.channel_id) == (snowflake, snowflake + 1, snowflake + 2)
        turn_id = await store.add_turn(
            scope="dm:1", user_id=snowflake, guild_id=None, question="q", query="q", kind="new", shown=[1],
            abstained=False, corpus_version="v", now=1_765_432_109.123456,
        )  # fmt: skip
        turn = await store.last_turn("dm:1", 0)
        assert turn.id == turn_id and turn.created_at == 1_765_432_109.123456
    finally:
        await store.close()


def test_placeholders_become_numbered_outside_literals():
    from store.postgres import to_postgres

    sql = "SELECT * FROM t WHERE a = ? AND b = 'what?' AND c IN (?, ?)"
    assert to_postgres(sql) == "SELECT * FROM t WHERE a = $1 AND b = 'what?' AND c IN ($2, $3)"
    assert not re.search(r"\?", to_postgres("UPDATE t SET a = ? WHERE b = ?"))
