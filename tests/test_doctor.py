"""`footnote doctor`: every check on real folders, a real SQLite file, a real index, and the Discord twin as the
network (this machine has no internet)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from config import Settings
from doctor import (
    Check,
    Status,
    check_corpus,
    check_data_dir,
    check_database,
    check_discord,
    check_heartbeat,
    check_index,
    check_token,
    expected_version,
    format_checks,
    run_doctor,
)
from index.corpus import load_corpus
from index.engine import Engine
from lifecycle import Heartbeat, heartbeat_path
from store import migrations

from .conftest import ROOT, SEEDS
from .e2e.twin import DiscordTwin

TOKEN = (
    "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"  # shape only; bot id 123456789012345678
)


def settings(corpus: Path, data: Path, database: Path | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "corpus_dir": corpus,
        "data_dir": data,
        "database_path": database or data / "footnote.sqlite3",
        "log_level": None,
        "tokenizer_mode": "search",
        "discord_token": TOKEN,
    }
    values.update(overrides)
    return Settings(**values)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def small_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "harbour.md").write_text(
        "# Harbour reopens\n\nThe harbour reopened on Monday after the storm. 港口在风暴后于周一重新开放。\n",
        encoding="utf-8",
    )
    (folder / "bridge.txt").write_text(
        "New bridge opens\n\nThe city council opened the new bridge to cyclists. 市议会向骑车人开放了新桥。\n",
        encoding="utf-8",
    )
    return folder


def test_a_healthy_setup_passes_every_check(engine, data_dir, tmp_path):
    checks = run_doctor(settings(SEEDS, data_dir, tmp_path / "db" / "footnote.sqlite3"), offline=True)
    found = by_name(checks)
    assert [c.name for c in checks] == [
        "configuration",
        "folders",
        "token",
        "corpus",
        "index",
        "database",
        "jieba cache",
        "discord",
        "bot heartbeat",
        "message content",
    ]
    assert {n: c.status for n, c in found.items()} == {
        "configuration": Status.OK,
        "folders": Status.OK,
        "token": Status.OK,
        "corpus": Status.OK,
        "index": Status.OK,
        "database": Status.OK,
        "jieba cache": Status.OK,
        "discord": Status.SKIP,
        "bot heartbeat": Status.SKIP,
        "message content": Status.OK,
    }
    assert "no help channel" in found["message content"].detail
    assert engine.version in found["index"].detail
    assert f"{len(engine.documents)} documents" in found["corpus"].detail
    assert "123456789012345678" in found["token"].detail
    assert "--offline" in found["discord"].detail
    latest = max(v for v, _ in migrations())
    assert f"schema version {latest}" in found["database"].detail
    assert (tmp_path / "db" / "footnote.sqlite3").exists(), "the database is created and migrated as the bot would"
    text = format_checks(checks)
    assert TOKEN not in text and TOKEN.split(".")[2] not in text
    assert format_checks(checks, quiet=True) == "", "quiet prints nothing when nothing is wrong"
    assert "0 failing, 0 to look at, 8 fine, 2 skipped" in text


def test_settings_that_parse_but_cannot_work_fail_the_configuration_check(tmp_path):
    from doctor import check_configuration

    good = check_configuration(settings(SEEDS, tmp_path, dev_guild_id=1234567890123456789))
    assert good.status is Status.OK and "server 1234567890123456789" in good.detail
    bad = check_configuration(settings(SEEDS, tmp_path, tokenizer_mode="fast", log_level="LOUD", dev_guild_id=12))
    assert bad.status is Status.FAIL
    assert "FOOTNOTE_TOKENIZER is 'fast'" in bad.detail and "LOG_LEVEL is 'LOUD'" in bad.detail
    assert "DEV_GUILD_ID 12" in bad.detail


def test_expected_version_is_the_engines(engine, tmp_path):
    assert expected_version(load_corpus(SEEDS), SEEDS, "search") == engine.version

    corpus = small_corpus(tmp_path / "corpus")
    (corpus / "glossary.toml").write_text(
        '[[entry]]\nid = "council"\nkind = "org"\naliases = ["city council", "市议会"]\n', encoding="utf-8"
    )
    (corpus / "userdict.txt").write_text("骑车人 10 n\n", encoding="utf-8")
    for mode in ("search", "precise"):
        built = Engine.open(corpus, tmp_path / f"data-{mode}", mode=mode)
        assert expected_version(load_corpus(corpus.resolve()), corpus, mode) == built.version


def test_index_missing_current_then_stale(tmp_path):
    corpus = small_corpus(tmp_path / "corpus")
    config = settings(corpus, tmp_path / "data")

    def index_check() -> Check:
        corpus_check, loaded = check_corpus(corpus)
        assert corpus_check.status is Status.OK, corpus_check
        return check_index(config, loaded)

    missing = index_check()
    assert missing.status is Status.WARN and "no index file yet" in missing.detail
    assert "footnote index" in missing.fix

    built = Engine.open(corpus, config.data_dir)
    current = index_check()
    assert current.status is Status.OK and built.version in current.detail
    assert f"{len(built.passages):,} passages" in current.detail

    # Engine.open also rebuilds when the code that shapes the index changed (an upgrade), with the same corpus:
    # the doctor must not call that index current either.
    import index.sources as sources_module

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sources_module, "FORMAT_VERSION", sources_module.FORMAT_VERSION + 100)  # the source key's
        upgraded = index_check()
    assert upgraded.status is Status.WARN and "out of date" in upgraded.detail
    assert index_check().status is Status.OK

    (corpus / "bridge.txt").write_text("New bridge opens\n\nThe bridge opened to walkers too.\n", encoding="utf-8")
    stale = index_check()
    assert stale.status is Status.WARN and "out of date" in stale.detail

    precise = check_index(settings(corpus, config.data_dir, tokenizer_mode="precise"), load_corpus(corpus.resolve()))
    assert precise.status is Status.WARN, "another tokeniser mode is another index"


def test_corpus_problems_are_failures_or_warnings_with_a_fix(tmp_path):
    missing, loaded = check_corpus(tmp_path / "nowhere")
    assert missing.status is Status.FAIL and "not found" in missing.detail and "CORPUS_DIR" in missing.fix
    assert loaded is None
    assert check_index(settings(tmp_path / "nowhere", tmp_path / "data"), None).status is Status.SKIP

    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.pdf").write_bytes(b"%PDF")
    empty, _ = check_corpus(tmp_path / "empty")
    assert empty.status is Status.FAIL and "no readable" in empty.detail

    corpus = small_corpus(tmp_path / "corpus")
    (corpus / "glossary.toml").write_text("[[entry]\nid = broken", encoding="utf-8")
    (corpus / "catalog.toml").write_text('["bridge.txt"]\ntitle = "New bridge"\n', encoding="utf-8")
    warned, loaded = check_corpus(corpus)
    assert warned.status is Status.WARN
    assert "glossary.toml is ignored" in warned.detail and "catalog.toml" not in warned.detail
    assert loaded is not None and len(loaded.documents) == 2


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (f"Bot {TOKEN}", "starts with 'Bot '"),
        (f'"{TOKEN}"', "quotes"),
        ("123456789012345678", "application ID"),
        ("a" * 32, "client secret"),
        ("abcdefghijklmnopqrstuvwxyz.abcdef", "2 dot-separated parts"),
    ],
)
def test_malformed_tokens_fail_with_what_they_look_like_and_are_never_printed(token, says, tmp_path):
    check = check_token(settings(SEEDS, tmp_path, discord_token=token))
    assert check.status is Status.FAIL
    assert says in check.detail
    assert "Reset Token" in check.fix
    assert token not in format_checks([check])


def test_a_missing_token_is_a_warning_because_the_cli_works_without_one(tmp_path):
    check = check_token(settings(SEEDS, tmp_path, discord_token=""))
    assert check.status is Status.WARN and "footnote run" in check.detail


def test_database_created_migrated_or_reported_unusable(tmp_path):
    database = tmp_path / "state" / "footnote.sqlite3"
    created = check_database(database)
    assert created.status is Status.OK, created
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == max(v for v, _ in migrations())
        db.execute("PRAGMA user_version = 999")
    newer = check_database(database)
    assert newer.status is Status.WARN and "newer" in newer.detail

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    unusable = check_database(blocker / "footnote.sqlite3")  # root can write anywhere; a file is no folder
    assert unusable.status is Status.FAIL
    assert "in-memory" in unusable.detail and "DATABASE_PATH" in unusable.fix

    memory = check_database(Path(":memory:"))
    assert memory.status is Status.WARN and "lost at every restart" in memory.detail


def test_a_running_bots_database_can_be_checked(tmp_path):
    """The HEALTHCHECK runs while the bot holds the database open in WAL mode: a write in progress delays the
    check, it does not fail it."""
    database = tmp_path / "footnote.sqlite3"
    assert check_database(database).status is Status.OK
    with contextlib.closing(sqlite3.connect(database, check_same_thread=False)) as bot_connection:
        bot_connection.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")  # holds the write lock
        threading.Timer(0.5, bot_connection.commit).start()
        started = time.perf_counter()
        check = check_database(database)
        waited = time.perf_counter() - started
        assert bot_connection.execute("SELECT value FROM meta WHERE key = 'k'").fetchone() == ("v",)
    assert check.status is Status.OK, check
    assert 0.4 < waited < 5


def test_data_dir_writable_with_or_without_a_jieba_cache(engine, data_dir, tmp_path):
    cached = check_data_dir(data_dir)  # the session's engine cached jieba's dictionary (its word table) there
    assert cached.status is Status.OK and "jieba-freqs-" in cached.detail and "MB" in cached.detail
    fresh = check_data_dir(tmp_path / "fresh")
    assert fresh.status is Status.OK and "at first use" in fresh.detail
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    unwritable = check_data_dir(blocker / "data")
    assert unwritable.status is Status.WARN and "DATA_DIR" in unwritable.fix


# -- Discord reachability, with the twin as Discord ----------------------------------------------------------


@pytest.mark.asyncio
async def test_discord_reachable_and_token_accepted_or_rejected(tmp_path):
    async with DiscordTwin() as twin:
        good = await asyncio.to_thread(
            check_discord, settings(SEEDS, tmp_path, discord_token=twin.token), False, api=twin.api_base
        )
        assert good.status is Status.OK, good
        assert "token accepted for bot" in good.detail and twin.bot_user["id"] in good.detail
        assert twin.violations == []

        rejected = await asyncio.to_thread(check_discord, settings(SEEDS, tmp_path), False, api=twin.api_base)
        assert rejected.status is Status.FAIL and "rejected the token" in rejected.detail
        assert [v.rule for v in twin.violations] == ["unauthorized"], "the only call without a valid token"

        no_token = await asyncio.to_thread(
            check_discord, settings(SEEDS, tmp_path, discord_token=""), False, api=twin.api_base
        )
        assert no_token.status is Status.OK and "token not checked" in no_token.detail
        gateway_calls = [r for r in twin.requests() if r.path.endswith("/gateway")]
        assert len(gateway_calls) == 3


@pytest.mark.asyncio
async def test_discord_unreachable_or_silent_is_a_warning(tmp_path):
    config = settings(SEEDS, tmp_path)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connections are refused
        refused = await asyncio.to_thread(check_discord, config, False, api=f"http://127.0.0.1:{port}/api/v10")
    assert refused.status is Status.WARN and "cannot reach" in refused.detail

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        started = time.perf_counter()
        silent = await asyncio.to_thread(
            check_discord, config, False, api=f"http://127.0.0.1:{port}/api/v10", timeout=0.5
        )
        assert time.perf_counter() - started < 3
    assert silent.status is Status.WARN and "did not answer within" in silent.detail


def test_no_network_at_all_is_a_skip_with_a_note():
    from doctor import _network_problem

    check = _network_problem(
        "https://discord.com/api/v10", urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), 5
    )
    assert check.status is Status.SKIP and "no network" in check.detail


# -- the heartbeat ----------------------------------------------------------------------------------------------


def beat(pid: int, when: float, host: str | None = None) -> Heartbeat:
    return Heartbeat(pid=pid, host=host or socket.gethostname(), time=when, user="Footnote#0", guilds=2, latency_ms=41)


def test_each_shard_process_has_its_own_heartbeat_in_the_shared_data_folder(tmp_path):
    beat(os.getpid(), time.time() - 5).write(heartbeat_path(tmp_path, (0, 1)))
    assert heartbeat_path(tmp_path, (0, 1)) != heartbeat_path(tmp_path, (2, 3)) != heartbeat_path(tmp_path)
    assert check_heartbeat(tmp_path, shard_ids=(0, 1)).status is Status.OK
    # The process of shards 2-3 is not running: its own check says so, whatever shards 0-1 do.
    assert check_heartbeat(tmp_path, shard_ids=(2, 3)).status is Status.SKIP
    assert check_heartbeat(tmp_path).status is Status.SKIP


def test_heartbeat_states(tmp_path):
    path = heartbeat_path(tmp_path)
    assert check_heartbeat(tmp_path).status is Status.SKIP

    beat(os.getpid(), time.time() - 5).write(path)
    alive = check_heartbeat(tmp_path)
    assert alive.status is Status.OK and "2 servers" in alive.detail and "41 ms" in alive.detail

    stale = check_heartbeat(tmp_path, now=lambda: time.time() + 600)
    assert stale.status is Status.FAIL and "not been connected" in stale.detail

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    beat(int(ended.stdout), time.time() - 900).write(path)
    crashed = check_heartbeat(tmp_path)
    assert crashed.status is Status.SKIP and "without a clean shutdown" in crashed.detail

    beat(1, time.time() - 900, host="another-machine").write(path)
    elsewhere = check_heartbeat(tmp_path)
    assert elsewhere.status is Status.FAIL and "on another-machine" in elsewhere.detail

    path.write_text("{not json", encoding="utf-8")
    assert check_heartbeat(tmp_path).status is Status.WARN


# -- the Message Content intent of help channels ------------------------------------------------------------------


def with_help_channel(database: Path | str) -> None:
    from store import Store
    from store.helpdesk import HelpChannel, HelpdeskStore

    async def add() -> None:
        store = await Store.open(database)
        try:
            await HelpdeskStore(store).set_channel(HelpChannel(2, 1, "forum"), user_id=None, now=0.0)
        finally:
            await store.close()

    asyncio.run(add())


def intent_beat(state: str | None) -> Heartbeat:
    return Heartbeat(os.getpid(), socket.gethostname(), time.time() - 5, "Footnote#0", 2, 41, message_content=state)


def test_message_content_is_checked_only_when_a_help_channel_needs_it(tmp_path):
    from doctor import check_message_content

    config = settings(SEEDS, tmp_path)
    assert "not needed" in check_message_content(config, True).detail
    with_help_channel(config.database_path)
    waiting = check_message_content(config, True)
    assert waiting.status is Status.OK and "1 help channel" in waiting.detail and "next start" in waiting.detail

    intent_beat("on").write(heartbeat_path(tmp_path))
    held = check_message_content(config, True)
    assert held.status is Status.OK and "the running bot holds it" in held.detail

    intent_beat("refused").write(heartbeat_path(tmp_path))
    refused = check_message_content(config, True)
    assert refused.status is Status.FAIL and "4014" in refused.detail
    assert "Privileged Gateway Intents" in refused.fix and "Message Content" in refused.fix

    intent_beat("off").write(heartbeat_path(tmp_path))
    stale_session = check_message_content(config, True)
    assert stale_session.status is Status.WARN and "restart the bot" in stale_session.fix


@pytest.mark.asyncio
async def test_message_content_not_enabled_for_the_application_fails_online(tmp_path):
    from doctor import check_message_content

    await asyncio.to_thread(with_help_channel, tmp_path / "footnote.sqlite3")
    for allowed, status in ((False, Status.FAIL), (True, Status.OK)):
        async with DiscordTwin(message_content_allowed=allowed) as twin:
            config = settings(SEEDS, tmp_path, discord_token=twin.token)
            check = await asyncio.to_thread(check_message_content, config, False, api=twin.api_base)
            assert check.status is status, check
            assert ("not enabled for this application" in check.detail) is not allowed
            assert twin.violations == []


# -- the command line --------------------------------------------------------------------------------------------


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DEV_GUILD_ID", "FOOTNOTE_TOKENIZER")}
    return subprocess.run(
        [sys.executable, "-m", "doctor", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_quiet_prints_only_what_needs_a_look_and_exits_by_failures(data_dir, engine, tmp_path):
    env = {"CORPUS_DIR": str(SEEDS), "DATA_DIR": str(data_dir), "DATABASE_PATH": str(tmp_path / "f.sqlite3")}
    quiet = run_cli(["--offline", "--quiet"], env, tmp_path)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert quiet.stdout.splitlines()[0].startswith("WARN  token"), quiet.stdout  # no token in this environment
    assert not any(line.startswith(("OK", "SKIP")) for line in quiet.stdout.splitlines())
    assert quiet.stderr == ""

    broken = run_cli(["--offline"], {**env, "CORPUS_DIR": str(tmp_path / "nowhere")}, tmp_path)
    assert broken.returncode == 1
    assert any(line.startswith("FAIL  corpus") for line in broken.stdout.splitlines()), broken.stdout
    assert "1 failing" in broken.stdout

    unparsable = run_cli(["--offline"], {**env, "DEV_GUILD_ID": "my-server"}, tmp_path)
    assert unparsable.returncode == 1
    assert "FAIL" in unparsable.stdout and "DEV_GUILD_ID must be a whole number" in unparsable.stdout


def test_footnote_doctor_subcommand(data_dir, engine, tmp_path, capsys, monkeypatch):
    import bot
    import cli

    assert "doctor" in cli.build_parser().format_help()
    for name, value in {"CORPUS_DIR": str(SEEDS), "DATA_DIR": str(data_dir), "DEV_GUILD_ID": "12"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "f.sqlite3"))
    assert bot.main(["doctor", "--offline"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  configuration" in out and "DEV_GUILD_ID 12 does not look like a server id" in out


def test_the_doctor_stays_cheap_no_discord_import(tmp_path):
    code = (
        "import sys, doctor; doctor.diagnose(None, offline=True); "
        "print(json.dumps(sorted(m for m in ('discord', 'aiohttp') if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import json; " + code],
        env={**os.environ, "PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path), "CORPUS_DIR": str(SEEDS)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


# -- PostgreSQL (DATABASE_URL) ---------------------------------------------------------------------------------


def test_postgres_database_without_the_schema_says_to_migrate_then_ok(postgres_url, tmp_path):
    from doctor import check_postgres

    found = check_postgres(postgres_url)
    assert found.status is Status.WARN and "not created yet" in found.detail
    assert "footnote db migrate" in found.fix and "PostgreSQL 1" in found.detail
    from store import Store

    async def migrate() -> None:
        await (await Store.open(postgres_url)).close()

    asyncio.run(migrate())
    found = check_postgres(postgres_url)
    assert found.status is Status.OK and f"schema version {migrations('postgres')[-1][0]}" in found.detail
    assert "connections in use" in found.detail and ":***@" in found.detail


def test_postgres_wrong_password_fails_with_one_line_and_a_fix(postgres_server, tmp_path):
    from urllib.parse import urlsplit

    from doctor import check_postgres

    password = urlsplit(postgres_server).password
    found = check_postgres(postgres_server.replace(f":{password}@", ":not-it@"))
    assert found.status is Status.FAIL and "\n" not in found.detail and "not-it" not in found.detail
    assert "password" in found.detail and "DATABASE_URL" in found.fix


def test_run_doctor_checks_postgres_when_database_url_is_set(postgres_url, data_dir, tmp_path):
    checks = by_name(
        run_doctor(settings(SEEDS, data_dir, database_url=postgres_url, shard_count=4, shard_ids=(2, 3)), offline=True)
    )
    assert checks["database"].detail.startswith("postgresql://footnote:***@")
    assert "shards 2,3 of 4" in checks["configuration"].detail


def test_message_content_counts_help_channels_in_postgres_and_reads_this_shard_sets_heartbeat(postgres_url, tmp_path):
    """With DATABASE_URL the help channels are counted in PostgreSQL (0 before Footnote's tables exist); a sharded
    process's state comes from its own shard set's heartbeat, not another process's."""
    from doctor import check_message_content

    config = settings(SEEDS, tmp_path, database_url=postgres_url, shard_count=2, shard_ids=(1,))
    assert "not needed" in check_message_content(config, True).detail  # no tables yet
    with_help_channel(postgres_url)
    intent_beat("refused").write(heartbeat_path(tmp_path, (0,)))  # the other process's
    intent_beat("on").write(heartbeat_path(tmp_path, (1,)))
    held = check_message_content(config, True)
    assert held.status is Status.OK and "1 help channel" in held.detail and "the running bot holds it" in held.detail
