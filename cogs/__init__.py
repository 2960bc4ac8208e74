"""Footnote's Discord cogs. `await bot.load_extension("cogs")` adds all of them to any commands.Bot that has
`bot.engine` (an index.engine.Engine) and `bot.store` (a store.Store); see the README's plugin section."""

from __future__ import annotations

import logging

from discord import app_commands
from discord.ext import commands

from cogs.render import on_app_command_error

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = (
    "cogs.ask",
    "cogs.memory",
    "cogs.timeline",
    "cogs.quote",
    "cogs.compare",
    "cogs.digest",
    "cogs.admin",
    "cogs.corpus",
    "cogs.helpdesk",
)


async def setup(bot: commands.Bot) -> None:
    """Load every Footnote extension; install Footnote's error handler unless the host has its own."""
    if getattr(bot.tree.on_error, "__func__", None) is app_commands.CommandTree.on_error:
        bot.tree.error(on_app_command_error)
    for name in EXTENSIONS:
        await bot.load_extension(name)


async def teardown(bot: commands.Bot) -> None:
    for name in EXTENSIONS:
        if name in bot.extensions:
            await bot.unload_extension(name)
