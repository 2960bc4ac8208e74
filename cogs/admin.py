"""/reload (bot owner only) and the watch on CORPUS_DIR that reloads the index when documents change."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from cogs.render import NO_MENTIONS, message_text
from index.errors import UserFacingError

if TYPE_CHECKING:
    from client import FootnoteBot

log = logging.getLogger(__name__)


def corpus_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap identity of a corpus folder's files: (relative path, size, mtime); empty when unreadable. Hidden and
    symlinked folders are not entered. An entry that cannot be followed (a broken or looping symbolic link) counts
    by its link, so it neither hides the other files' changes nor stops the watch. os.scandir rather than
    pathlib: 14k files take ~60 ms, not ~200 ms; the watch runs it in a thread all the same."""
    entries: list[tuple[str, int, int]] = []

    def walk(directory: str, prefix: str) -> None:
        with os.scandir(directory) as found:
            for entry in found:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    if not entry.is_symlink() and not entry.name.startswith("."):
                        walk(entry.path, prefix + entry.name + "/")
                    continue
                try:
                    stat = entry.stat()
                except OSError:  # broken or looping link
                    stat = entry.stat(follow_symlinks=False)
                entries.append((prefix + entry.name, stat.st_size, stat.st_mtime_ns))

    try:
        walk(str(folder), "")
    except OSError:
        return ()
    return tuple(sorted(entries))


class AdminCog(commands.Cog, name="Admin"):
    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot
        settings = getattr(bot, "settings", None)
        self.poll_seconds = float(getattr(settings, "reload_poll_seconds", 0) or 0)
        self._signature: tuple[tuple[str, int, int], ...] = ()

    async def cog_load(self) -> None:
        if self.poll_seconds > 0 and hasattr(self.bot, "reload_engine"):
            self._signature = await asyncio.to_thread(corpus_signature, self.bot.settings.corpus_dir)
            self.watch.change_interval(seconds=self.poll_seconds)
            self.watch.start()

    async def cog_unload(self) -> None:
        self.watch.cancel()

    @tasks.loop(seconds=30)
    async def watch(self) -> None:
        signature = await asyncio.to_thread(corpus_signature, self.bot.settings.corpus_dir)
        if signature == self._signature:
            return
        self._signature = signature
        log.info("corpus folder changed; reloading")
        try:
            await self.bot.reload_engine()
        except UserFacingError as exc:
            log.warning("%s", exc)

    @app_commands.command(name="reload", description="Rebuild the corpus index now (bot owner only)")
    async def reload(self, interaction: discord.Interaction) -> None:
        if not await self.bot.is_owner(interaction.user):
            raise UserFacingError("Only the bot's owner can reload the corpus.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            summary = await self.bot.reload_engine()
        except UserFacingError as exc:
            summary = str(exc)
        self._signature = await asyncio.to_thread(corpus_signature, self.bot.settings.corpus_dir)
        await interaction.edit_original_response(content=message_text(summary), allowed_mentions=NO_MENTIONS)


async def setup(bot: commands.Bot) -> None:
    if not hasattr(bot, "reload_engine"):
        log.info("cogs.admin: the host bot has no reload_engine(); /reload is not added")
        return
    await bot.add_cog(AdminCog(bot))
