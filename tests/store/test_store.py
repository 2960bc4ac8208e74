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


async def _create_version(database: str, upto: int, inserts: list[str]) -> None:
    """A database as an older Footnote left it: the migrations up to `upto` applied (and recorded as each
    database records them), then `inserts` run."""
    postgres = database.startswith("postgresql://")
    files = [(v, name, sql) for v, name, sql in migration_files("postgres" if postgres else "sqlite") if v <= upto]
    if not postgres:
        with sqlite3.connect(database) as raw:
            for _, _, sql in files:
                raw.executescript(sql)
            raw.execute(f"PRAGMA user_version = {upto:d}")
            for insert in inserts:
                raw.execute(insert)
        return
    import asyncpg

    connection = await asyncpg.connect(database)
    try:
        await connection.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for version, name, sql in files:
            await connection.execute(sql)
            await connection.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name)
        for insert in inserts:
            await connection.execute(insert)
    finally:
        await connection.close()


async def _create_version_1(database: str) -> None:
    await _create_version(
        database,
        1,
        [
            "INSERT INTO answers (question, user_id, private, corpus_version, abstained, created_at)"
            " VALUES ('old question', 5, 0, 'v0', 0, 0)"
        ],
    )


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


@pytest.mark.asyncio
async def test_migrating_turns_takes_privacy_from_their_answers_and_keeps_the_unknown_private(database):
    """Migration 0005 on either database: a turn from before it takes channel and privacy from its answer; a
    turn without one cannot be shown to be public and stays private."""
    answer = "INSERT INTO answers (id, question, user_id, guild_id, channel_id, private, corpus_version, abstained,"
    turn = "INSERT INTO turns (scope, user_id, guild_id, question, query, abstained, answer_id, corpus_version,"
    await _create_version(
        database,
        4,
        [
            answer + " created_at) VALUES (1, 'secret plan?', 1, 5, 9, 1, 'v', 1, 10)",
            answer + " created_at) VALUES (2, 'public gap?', 2, 5, 9, 0, 'v', 1, 10)",
            turn + " created_at) VALUES ('guild:5:channel:9:user:1', 1, 5, 'secret plan?', 'q', 1, 1, 'v', 10)",
            turn + " created_at) VALUES ('guild:5:channel:9:user:2', 2, 5, 'public gap?', 'q', 1, 2, 'v', 10)",
            turn + " created_at) VALUES ('guild:5:channel:9:user:3', 3, 5, 'unlinked?', 'q', 1, NULL, 'v', 10)",
        ],
    )
    store = await Store.open(database)
    try:
        assert await store.schema_version() == migrations(store.dialect)[-1][0]
        assert [g.question for g in await store.gaps(5, channels=[9])] == ["public gap?"]
        assert await store.gaps_elsewhere(5, channels=[]) == 1
        [public] = await store.history(2, guild_id=5)
        assert (public.channel_id, public.private) == (9, False)
        [unlinked] = await store.history(3, guild_id=5)
        assert unlinked.private
    finally:
        await store.close()


def test_placeholders_become_numbered_outside_literals():
    from store.postgres import to_postgres

    sql = "SELECT * FROM t WHERE a = ? AND b = 'what?' AND c IN (?, ?)"
    assert to_postgres(sql) == "SELECT * FROM t WHERE a = $1 AND b = 'what?' AND c IN ($2, $3)"
    assert not re.search(r"\?", to_postgres("UPDATE t SET a = ? WHERE b = ?"))


@pytest.mark.asyncio
async def test_the_database_is_readable_by_its_owner_only(tmp_path):
    import os
    import stat

    path = tmp_path / "new.sqlite3"
    store = await Store.open(path)
    try:
        await store.set_meta("k", "v")  # the WAL and shared-memory files exist now
        for name in (path, f"{path}-wal", f"{path}-shm"):
            assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name
    finally:
        await store.close()
    # An existing database that others could read is tightened when opened.
    os.chmod(path, 0o644)
    store = await Store.open(path)
    await store.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.asyncio
async def test_a_database_deleted_under_a_running_process_is_noticed_and_nothing_is_lost(tmp_path, caplog):
    import os

    path = tmp_path / "footnote.sqlite3"
    store = await Store.open(path)
    try:
        before = [
            await store.save_answer(
                question=f"q{i}",
                user_id=1,
                guild_id=None,
                channel_id=None,
                private=False,
                corpus_version="v",
                abstained=False,
            )
            for i in range(5)
        ]
        for name in (path, f"{path}-wal", f"{path}-shm"):
            if os.path.exists(name):
                os.remove(name)
        after = await store.save_answer(
            question="after", user_id=1, guild_id=None, channel_id=None, private=False, corpus_version="v",
            abstained=False,
        )  # fmt: skip
        assert "was deleted while Footnote was running" in caplog.text
        assert (await store.get_answer(before[0])).question == "q0"
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:  # what a restart would read
        questions = [row[0] for row in raw.execute("SELECT question FROM answers ORDER BY id")]
    assert questions == [f"q{i}" for i in range(5)] + ["after"] and after == before[-1] + 1
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o600)


@pytest.mark.asyncio
async def test_a_deleted_database_is_noticed_without_a_write(tmp_path, caplog):
    import os

    path = tmp_path / "footnote.sqlite3"
    store = await Store.open(path)
    try:
        await store.set_meta("kept", "yes")
        os.remove(path)
        await store.check_file()
        assert "was deleted" in caplog.text and path.exists()
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT value FROM meta WHERE key = 'kept'").fetchone() == ("yes",)
