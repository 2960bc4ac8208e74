"""The Message Content intent through the real `footnote run` (bot.start_bot) against the twin: asked for only when
a help channel is configured; when Discord refuses it (close code 4014) the bot says how to fix it, runs on without
it, and `footnote doctor` reports the refusal."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from doctor import Status, check_message_content
from lifecycle import Heartbeat, heartbeat_path
from store import Store
from store.helpdesk import HelpChannel, HelpdeskStore

from ..conftest import ROOT, SEEDS
from ..test_doctor import settings as doctor_settings
from .twin import DiscordTwin, Intent, make_forum_channel, make_guild, make_user

HARNESS = textwrap.dedent(
    """
    # `footnote run` against the twin: the real composition root, with Discord's addresses pointed at the twin.
    import os, sys

    import discord, yarl
    from discord.gateway import DiscordWebSocket

    discord.http.Route.BASE = os.environ["TWIN_API"]
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["TWIN_GATEWAY"])

    import bot

    sys.exit(bot.main(["run"]))
    """
)


async def wait_until(predicate, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def heartbeat_state(data_dir: Path) -> str | None:
    try:
        beat = Heartbeat.read(heartbeat_path(data_dir))
    except ValueError:
        return None
    return beat.message_content if beat else None


async def run_footnote(twin: DiscordTwin, data_dir: Path, database: Path, tmp_path: Path, during) -> str:
    """Run `footnote run` against `twin` until `during()` is done, then stop it with SIGTERM; returns its log."""
    harness = tmp_path / "harness.py"
    harness.write_text(HARNESS, encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("CORPUS_DIR", "DATA_DIR", "DATABASE_PATH")},
        "PYTHONPATH": str(ROOT),
        "TWIN_API": twin.api_base,
        "TWIN_GATEWAY": twin.gateway_url,
        "DISCORD_TOKEN": twin.token,
        "DEV_GUILD_ID": str(twin.guild["id"]),
        "CORPUS_DIR": str(SEEDS),
        "DATA_DIR": str(data_dir),  # the session's data folder: the seeds index is already built there
        "DATABASE_PATH": str(database),
        "CORPUS_POLL_SECONDS": "0",
        "DIGEST_TICK_SECONDS": "0",
        "LOG_LEVEL": "INFO",
    }
    log_file = tmp_path / f"bot-{twin.port}.log"
    with log_file.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(harness), cwd=tmp_path, env=env, stdout=log, stderr=log
        )
        try:
            await twin.wait_until_ready(timeout=60)
            await wait_until(heartbeat_path(data_dir).exists, timeout=15)
            await during()
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    output = log_file.read_text(encoding="utf-8", errors="replace")
    assert code == 0, output
    assert "Traceback" not in output, output
    return output


@pytest.mark.asyncio
async def test_a_refused_message_content_intent_is_explained_and_the_bot_runs_without_it(engine, data_dir, tmp_path):
    owner = make_user("owner")
    guild = make_guild("Help desk", owner=owner)
    forum = make_forum_channel("help", guild_id=guild["id"])
    guild["channels"].append(forum)
    database = tmp_path / "footnote.sqlite3"
    store = await Store.open(database)
    await HelpdeskStore(store).set_channel(
        HelpChannel(int(forum["id"]), int(guild["id"]), "forum"), user_id=None, now=0.0
    )
    await store.close()

    async with DiscordTwin(guilds=[guild], message_content_allowed=False) as twin:

        async def refused_then_serving() -> None:
            await wait_until(lambda: heartbeat_state(data_dir) == "refused", timeout=15)
            assert twin.refused_intents_count == 1 and twin.identify_count == 1
            assert not twin.intents & Intent.MESSAGE_CONTENT
            config = doctor_settings(SEEDS, data_dir, database)
            check = await asyncio.to_thread(check_message_content, config, True)
            assert check.status is Status.FAIL and "4014" in check.detail
            # help channels still answer what their titles ask
            title = "How many monthly active users does Gemini have?"
            thread = await twin.forum_post(forum["id"], make_user("ann"), title, "(invisible without the intent)")
            reply = await twin.wait_for_bot_message(thread, timeout=15)
            assert reply["embeds"][0]["title"] == title

        output = await run_footnote(twin, data_dir, database, tmp_path, refused_then_serving)
        assert "Discord refused the Message Content intent (gateway closed with 4014)" in output
        assert "Privileged Gateway Intents" in output
        assert twin.violations == []
    assert not heartbeat_path(data_dir).exists()


@pytest.mark.asyncio
async def test_without_a_help_channel_the_intent_is_not_asked_for(engine, data_dir, tmp_path):
    async with DiscordTwin() as twin:

        async def connected() -> None:
            await wait_until(lambda: heartbeat_state(data_dir) == "off", timeout=15)

        await run_footnote(twin, data_dir, tmp_path / "footnote.sqlite3", tmp_path, connected)
        assert not twin.identify_payloads[0]["intents"] & Intent.MESSAGE_CONTENT
        assert twin.refused_intents_count == 0 and twin.violations == []
