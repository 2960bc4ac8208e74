"""Shared fixtures: the bundled seeds corpus and one engine over it (built once per test session)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from index.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"

logging.getLogger("jieba").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def engine(data_dir: Path) -> Engine:
    return Engine.open(SEEDS, data_dir)


@pytest.fixture(scope="session")
def analyzer(engine: Engine):
    return engine.analyzer


# -- PostgreSQL ------------------------------------------------------------------------------------------
# The PostgreSQL tests need a real server: FOOTNOTE_TEST_DATABASE_URL (a database the tests may create databases
# from; .ci/run starts one), or else one started here with initdb + pg_ctl in a temp folder (tests/postgres.py).
# Without either they skip with one line, unless FOOTNOTE_REQUIRE_POSTGRES is set (CI), where that is a failure.


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a database on a running PostgreSQL server, for the whole session."""
    from tests import postgres

    url = os.environ.get("FOOTNOTE_TEST_DATABASE_URL")
    if url:
        yield url
        return
    root = Path(tempfile.mkdtemp(prefix="footnote-pg-"))
    try:
        cluster = postgres.start(root)
    except (postgres.PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
        postgres.stop(root)
        message = f"PostgreSQL tests skipped: no server could be started ({exc})"
        if os.environ.get("FOOTNOTE_REQUIRE_POSTGRES"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield cluster.url()
    finally:
        postgres.stop(root)


@pytest.fixture
def postgres_cluster(postgres_server: str) -> Iterator[object]:
    """A PostgreSQL server of the test's own (tests/postgres.Cluster), which it may stop and start again; in a
    temp folder outside pytest's, which only root may enter (the server runs as the postgres user)."""
    from tests import postgres

    root = Path(tempfile.mkdtemp(prefix="footnote-pg-"))
    try:
        cluster = postgres.start(root)
    except postgres.PostgresUnavailable as exc:
        postgres.stop(root)
        pytest.fail(f"a second PostgreSQL server could not be started: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        postgres.stop(root)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty schema on the test server's database, as a URL whose connections use it (search_path), so
    each test starts from nothing; dropped after the test. (A schema takes milliseconds; a database, seconds.)"""
    name = f"t_{uuid.uuid4().hex[:16]}"
    asyncio.run(_admin(postgres_server, f'CREATE SCHEMA "{name}"'))
    parts = urlsplit(postgres_server)
    query = "&".join(q for q in (parts.query, f"search_path={name}") if q)
    try:
        yield urlunsplit(parts._replace(query=query))
    finally:
        asyncio.run(_admin(postgres_server, f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's store lives, once per database: a SQLite file, or a new PostgreSQL schema's URL. Every
    `Store.open(database)` in the test opens the same one (as another process would)."""
    if request.param == "sqlite":
        return str(tmp_path / "footnote.sqlite3")
    return request.getfixturevalue("postgres_url")
