"""Helpers for end-to-end tests of the Footnote bot against the twin (imported by the test modules)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from client import FootnoteBot
from config import Settings
from index.engine import Engine
from store import Store

from ..conftest import SEEDS
from .twin import BotRunner, DiscordTwin

CUSTOM_ID = re.compile(r"^fn:ask:\d+:(prev|next|full|up|down):\d+$")


def settings_for(twin: DiscordTwin, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "corpus_dir": SEEDS,
        "data_dir": tmp_path,
        "database_path": tmp_path / "footnote.sqlite3",
        "log_level": None,
        "tokenizer_mode": "search",
        "dev_guild_id": int(twin.guild["id"]),
        "cooldown_rate": 1000,
        "cooldown_per": 30.0,
    }
    values.update(overrides)
    return Settings(**values)


async def start(
    twin: DiscordTwin,
    run_bot: BotRunner,
    engine: Engine,
    store: Store,
    tmp_path: Path,
    extensions: tuple[str, ...] = ("cogs.ask",),
    **overrides: Any,
) -> FootnoteBot:
    """Start FootnoteBot with the given cogs against the twin (commands synced to the twin's guild)."""
    bot = FootnoteBot(
        settings=settings_for(twin, tmp_path, **overrides), store=store, engine=engine, extensions=extensions
    )
    return await run_bot(bot)


async def ask(twin: DiscordTwin, question: str, **options: Any) -> tuple[str, dict[str, Any]]:
    """Run /ask; return the interaction id and the final (edited) original message."""
    who = _who(options)
    interaction_id = await twin.slash_command("ask", {"question": question, **options}, **who)
    responses = await twin.wait_for_responses(interaction_id, 2)
    assert responses[0].callback_type == 5, "the bot must defer first"
    return interaction_id, twin.message(twin.interaction(interaction_id).original_message_id or "")


def _who(options: dict[str, Any]) -> dict[str, Any]:
    """The interaction's user and channel, taken out of the command's options."""
    return {key: options.pop(key) for key in ("user", "channel_id") if options.get(key) is not None}


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


def bot_payloads(twin: DiscordTwin) -> list[dict[str, Any]]:
    """Every message-shaped body the bot sent."""
    return [
        r.message
        for r in twin.requests()
        if r.method in ("POST", "PATCH") and r.message and ("content" in r.message or "embeds" in r.message)
    ]


def assert_no_pings(twin: DiscordTwin) -> None:
    for payload in bot_payloads(twin):
        assert payload.get("allowed_mentions", {}).get("parse") == [], payload
