"""`footnote db migrate-to URL` and `footnote db migrate` as a user runs them, against a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from store import Store
from store.digest import DigestStore

from ..conftest import ROOT


async def _fill(path) -> None:
    store = await Store.open(path)
    try:
        for i in range(30):
            answer = await store.save_answer(
                question=f"Sora {i}?", user_id=7, guild_id=1, channel_id=2, private=False, corpus_version="v",
                abstained=i % 3 == 0,
            )  # fmt: skip
            await store.add_turn(
                scope="guild:1:channel:2:user:7", user_id=7, guild_id=1, question=f"Sora {i}?", query="Sora",
                kind="new", shown=[i], abstained=i % 3 == 0, corpus_version="v", answer_id=answer,
            )  # fmt: skip
        await DigestStore(store).set_schedule(1, 2, "09:00", "UTC", ["Sora"], 7, 1_765_000_000)
    finally:
        await store.close()


def _footnote(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys, bot; sys.exit(bot.main(sys.argv[1:]))", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_migrate_to_postgres_copies_and_proves_every_table(env, tmp_path, postgres_url):
    database = tmp_path / "old.sqlite3"
    asyncio.run(_fill(database))
    environment = {**env, "DATABASE_PATH": str(database)}
    environment.pop("DATABASE_URL", None)
    result = _footnote(environment, "db", "migrate-to", postgres_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["turns", "30"] and line.endswith(": ok") for line in lines), result.stdout
    assert any(line.split()[:2] == ["digest_schedules", "1"] for line in lines)
    assert lines[-1].startswith("ok: every row copied and checked")
    assert postgres_url.split("@")[0].split(":")[-1] not in result.stdout  # the password is never printed

    again = _footnote(environment, "db", "migrate-to", postgres_url)  # into a database that has rows now
    assert again.returncode == 2 and "is not empty" in again.stderr and len(again.stderr.strip().splitlines()) == 1


def test_db_migrate_reports_the_schema_version(env, postgres_url):
    result = _footnote({**env, "DATABASE_URL": postgres_url}, "db", "migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("PostgreSQL postgresql://footnote:***@") and "schema version" in result.stdout


@pytest.mark.parametrize("problem", ["password", "port"])
def test_an_unusable_database_url_is_one_line(env, postgres_server, problem):
    from urllib.parse import urlsplit

    parts = urlsplit(postgres_server)
    if problem == "password":
        url = postgres_server.replace(f":{parts.password}@", ":wrong-password@")
    else:
        from tests.postgres import free_port

        url = postgres_server.replace(f":{parts.port}/", f":{free_port()}/")
    result = _footnote({**env, "DATABASE_URL": url}, "db", "migrate")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("footnote: DATABASE_URL: ") and "wrong-password" not in line
