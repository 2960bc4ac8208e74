"""Graceful shutdown (lifecycle.py) with the real FootnoteBot against the local Discord twin.

In-process tests hold an answer open on purpose (the engine waits for the test) and check what happens to it and
to new commands while the bot drains. The subprocess test runs the real `footnote run` composition root, sends it
SIGTERM (or SIGINT) during an answer and checks the answer, the exit code, the database and the heartbeat file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import cogs.ask
from client import FootnoteBot, FootnoteTree
from doctor import Status, check_heartbeat
from index.engine import Engine
from lifecycle import ABANDONED_MESSAGE, SHUTDOWN_MESSAGE, Lifecycle, ShuttingDown, heartbeat_path, tracking
from store import Store

from .conftest import ROOT, SEEDS
from .e2e.footnote_helpers import custom_ids, settings_for
from .e2e.twin import MESSAGE_FLAG_EPHEMERAL, DiscordTwin, make_user

QUESTION = "How many monthly active users does Gemini have?"


class GatedEngine:
    """The real engine, except that `ask` waits until the test opens the gate: an answer held in flight."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.gate = threading.Event()
        self.entered = threading.Event()

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        if not self.gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        return self._engine.ask(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


@contextlib.asynccontextmanager
async def running_bot(
    engine: Any, tmp_path: Path, *, grace: float = 10.0, extensions: tuple[str, ...] = ("cogs.ask",)
) -> AsyncIterator[tuple[DiscordTwin, FootnoteBot]]:
    async with DiscordTwin() as twin:
        store = await Store.open(tmp_path / "footnote.sqlite3")
        try:
            # What client.py does once wired (docs/operations.md), with a grace period of the test's choosing.
            bot = FootnoteBot(
                settings=settings_for(twin, tmp_path),
                store=store,
                engine=engine,
                extensions=extensions,
                tree_cls=FootnoteTree,
            )
            bot.lifecycle = Lifecycle(grace=grace)
            async with twin.run_bot(bot):
                yield twin, bot
        finally:
            await store.close()


async def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.02)


def original_message(twin: DiscordTwin, interaction_id: str) -> dict[str, Any]:
    return twin.message(twin.interaction(interaction_id).original_message_id or "")


@pytest.mark.asyncio
async def test_an_answer_in_flight_finishes_and_new_commands_are_refused_politely(engine, tmp_path):
    gated = GatedEngine(engine)
    async with running_bot(gated, tmp_path) as (twin, bot):
        first = await twin.slash_command("ask", {"question": QUESTION})
        [deferral] = await twin.wait_for_responses(first, 1)
        assert deferral.callback_type == 5
        await asyncio.to_thread(gated.entered.wait, 5)
        assert bot.lifecycle.in_flight == 1

        stopping = asyncio.create_task(bot.lifecycle.shutdown(bot, "test stop"))
        await wait_until(lambda: bot.lifecycle.draining)
        refused = await twin.slash_command("ask", {"question": "Gemini 3"}, user=make_user("late"))
        [reply] = await twin.wait_for_responses(refused, 1)
        assert reply.callback_type == 4
        assert reply.message["content"] == SHUTDOWN_MESSAGE
        assert reply.message["flags"] & MESSAGE_FLAG_EPHEMERAL
        assert not stopping.done(), "the bot must wait for the answer in flight"

        gated.gate.set()
        await asyncio.wait_for(stopping, 10)
        assert bot.is_closed()
        answer = original_message(twin, first)
        assert "6.5 億" in answer["embeds"][0]["description"]
        assert len(twin.interaction_responses(refused)) == 1, "a refused command runs no further"
        assert twin.violations == []


@pytest.mark.asyncio
async def test_the_wait_is_bounded_and_unfinished_askers_are_told_to_ask_again(engine, tmp_path):
    gated = GatedEngine(engine)
    try:
        async with running_bot(gated, tmp_path, grace=0.5) as (twin, bot):
            asked = await twin.slash_command("ask", {"question": QUESTION})
            await twin.wait_for_responses(asked, 1)
            await asyncio.to_thread(gated.entered.wait, 5)

            started = time.monotonic()
            await asyncio.wait_for(bot.lifecycle.shutdown(bot, "test stop"), 10)
            assert 0.4 <= time.monotonic() - started < 3
            assert bot.is_closed()
            assert original_message(twin, asked)["content"] == ABANDONED_MESSAGE
            assert bot.lifecycle.in_flight == 0
            assert twin.violations == []
    finally:
        gated.gate.set()  # let the worker thread finish


@pytest.mark.asyncio
async def test_a_second_stop_request_cuts_the_wait_short(engine, tmp_path):
    gated = GatedEngine(engine)
    try:
        async with running_bot(gated, tmp_path, grace=60) as (twin, bot):
            asked = await twin.slash_command("ask", {"question": QUESTION})
            await twin.wait_for_responses(asked, 1)
            await asyncio.to_thread(gated.entered.wait, 5)

            started = time.monotonic()
            bot.lifecycle.request_stop(bot, "SIGTERM")
            await asyncio.sleep(0.2)
            assert not bot.is_closed()
            bot.lifecycle.request_stop(bot, "SIGTERM")
            await wait_until(bot.is_closed, timeout=5)
            assert time.monotonic() - started < 5
            assert original_message(twin, asked)["content"] == ABANDONED_MESSAGE
            assert twin.violations == []
    finally:
        gated.gate.set()


@pytest.mark.asyncio
async def test_dms_and_buttons_are_refused_politely_while_draining(engine, tmp_path):
    assert getattr(cogs.ask, "tracking", None) is tracking, "cogs/ask.py must wrap DMs and buttons in tracking"
    gated = GatedEngine(engine)
    gated.gate.set()
    async with running_bot(gated, tmp_path) as (twin, bot):
        earlier = await twin.slash_command("ask", {"question": "Gemini 3"})
        await twin.wait_for_responses(earlier, 2)
        message = original_message(twin, earlier)
        gated.gate.clear()
        gated.entered.clear()
        held = await twin.slash_command("ask", {"question": QUESTION})
        await twin.wait_for_responses(held, 1)
        await asyncio.to_thread(gated.entered.wait, 5)
        stopping = asyncio.create_task(bot.lifecycle.shutdown(bot, "test stop"))
        await wait_until(lambda: bot.lifecycle.draining)

        reader = make_user("reader")
        dm = await twin.dm(reader, "Sora 的首日留存率是多少")
        reply = await twin.wait_for_bot_message(twin.dm_channel(reader)["id"], after=dm)
        assert reply["content"] == SHUTDOWN_MESSAGE
        click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":next:" in i))
        [refusal] = await twin.wait_for_responses(click, 1)
        assert refusal.message["content"] == SHUTDOWN_MESSAGE
        assert refusal.message["flags"] & MESSAGE_FLAG_EPHEMERAL

        gated.gate.set()
        await asyncio.wait_for(stopping, 10)
        assert "6.5 億" in original_message(twin, held)["embeds"][0]["description"]
        assert twin.violations == []


@pytest.mark.asyncio
async def test_tracking_counts_work_refuses_new_work_when_draining_and_is_inert_without_a_lifecycle():
    lifecycle = Lifecycle(grace=5)

    class Host:
        pass

    host = Host()
    host.lifecycle = lifecycle  # type: ignore[attr-defined]
    release = asyncio.Event()

    async def answer() -> str:
        async with tracking(host):
            await release.wait()
        return "answered"

    running = asyncio.create_task(answer())
    await wait_until(lambda: lifecycle.in_flight == 1)
    draining = asyncio.create_task(lifecycle.drain())
    await asyncio.sleep(0.05)
    with pytest.raises(ShuttingDown, match="restarting"):
        async with tracking(host):
            pass
    assert not draining.done()
    release.set()
    assert await running == "answered"
    assert await draining is True

    async with tracking(object()):  # a host bot without Footnote's lifecycle: nothing tracked, nothing refused
        pass


@pytest.mark.asyncio
async def test_heartbeat_while_connected_read_by_the_doctor_and_removed_on_exit(engine, tmp_path):
    async with running_bot(engine, tmp_path) as (_, bot):
        path = heartbeat_path(tmp_path / "beat")
        path.parent.mkdir()
        path.write_text('{"pid": 1, "host": "left-by-a-crash", "time": 0}', encoding="utf-8")
        async with bot.lifecycle.running(bot, heartbeat=path):
            await wait_until(lambda: path.exists() and "left-by-a-crash" not in path.read_text(), timeout=5)
            check = check_heartbeat(path.parent)
            assert check.status is Status.OK, check
            assert f"pid {os.getpid()}" in check.detail and str(bot.user) in check.detail
            stale = check_heartbeat(path.parent, now=lambda: time.time() + 600)
            assert stale.status is Status.FAIL and "not been connected" in stale.detail
        assert not path.exists()


# -- the real `footnote run`, stopped by a signal --------------------------------------------------------------


HARNESS = textwrap.dedent(
    """
    # `footnote run` against the twin: the real composition root, with Discord's addresses pointed at the twin
    # and every answer slowed down so that the test can stop the bot while one is in flight.
    import os, sys, time

    import discord, yarl
    from discord.gateway import DiscordWebSocket

    discord.http.Route.BASE = os.environ["TWIN_API"]
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["TWIN_GATEWAY"])

    from index.engine import Engine

    real_ask = Engine.ask

    def slow_ask(self, *args, **kwargs):
        time.sleep(float(os.environ["ANSWER_DELAY"]))
        return real_ask(self, *args, **kwargs)

    Engine.ask = slow_ask

    import bot

    sys.exit(bot.main(["run"]))
    """
)


def harness_env(twin: DiscordTwin, data_dir: Path, database: Path, *, answer_delay: float) -> dict[str, str]:
    """The environment of `HARNESS`: the twin's addresses and token, the seeds, and the session's data folder
    (the seeds index is already built there)."""
    return {
        **{k: v for k, v in os.environ.items() if k not in ("CORPUS_DIR", "DATA_DIR", "DATABASE_PATH")},
        "PYTHONPATH": str(ROOT),
        "TWIN_API": twin.api_base,
        "TWIN_GATEWAY": twin.gateway_url,
        "DISCORD_TOKEN": twin.token,
        "DEV_GUILD_ID": str(twin.guild["id"]),
        "CORPUS_DIR": str(SEEDS),
        "DATA_DIR": str(data_dir),
        "DATABASE_PATH": str(database),
        "CORPUS_POLL_SECONDS": "0",
        "DIGEST_TICK_SECONDS": "0",
        "LOG_LEVEL": "INFO",
        "ANSWER_DELAY": str(answer_delay),
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_footnote_run_stops_gracefully_on_a_signal(stop_signal, engine, data_dir, tmp_path):
    harness = tmp_path / "harness.py"
    harness.write_text(HARNESS, encoding="utf-8")
    database = tmp_path / "footnote.sqlite3"
    async with DiscordTwin() as twin:
        env = harness_env(twin, data_dir, database, answer_delay=2)
        log_file = tmp_path / "bot.log"
        with log_file.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(harness), cwd=tmp_path, env=env, stdout=log, stderr=log
            )
            try:
                await twin.wait_until_ready(timeout=30)
                beat = heartbeat_path(data_dir)
                await wait_until(beat.exists, timeout=10)
                assert check_heartbeat(data_dir).status is Status.OK

                asked = await twin.slash_command("ask", {"question": QUESTION})
                [deferral] = await twin.wait_for_responses(asked, 1, timeout=10)
                assert deferral.callback_type == 5
                process.send_signal(stop_signal)
                await asyncio.sleep(0.3)
                refused = await twin.slash_command("ask", {"question": "Gemini 3"}, user=make_user("late"))
                [reply] = await twin.wait_for_responses(refused, 1, timeout=5)
                assert reply.message["content"] == SHUTDOWN_MESSAGE

                code = await asyncio.wait_for(process.wait(), 30)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        output = log_file.read_text(encoding="utf-8", errors="replace")
        assert code == 0, output
        assert f"{stop_signal.name}: not taking new commands" in output
        assert "Traceback" not in output, output
        answer = original_message(twin, asked)
        assert "6.5 億" in answer["embeds"][0]["description"], "the answer in flight must be delivered"
        assert twin.violations == []

    assert not beat.exists(), "a clean stop removes the heartbeat"
    assert not Path(f"{database}-wal").exists(), "closing the last connection checkpoints and removes the WAL"
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        questions = [q for (q,) in db.execute("SELECT question FROM answers")]
    assert QUESTION in questions
