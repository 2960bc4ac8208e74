"""/forget, /history and /gaps, and the retention sweep of stored conversation turns."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from cogs.render import DESCRIPTION_LIMIT, NO_MENTIONS, clip, escape, fit
from index.errors import UserFacingError
from store import StoreError
from store.conversation import dm_scope, guild_scope

if TYPE_CHECKING:
    from client import FootnoteBot

log = logging.getLogger(__name__)

MEMORY_TROUBLE = "My memory store is unavailable right now, so nothing can be listed or deleted; try again in a minute."


class MemoryCog(commands.Cog, name="Memory"):
    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot
        self.retention_days = float(getattr(getattr(bot, "settings", None), "retention_days", 0) or 0)

    async def cog_load(self) -> None:
        if self.retention_days > 0:
            self.sweep.start()
        if getattr(self.bot.store, "persistent", False):
            self.watch_database.start()

    async def cog_unload(self) -> None:
        self.sweep.cancel()
        self.watch_database.cancel()

    @tasks.loop(seconds=30)
    async def watch_database(self) -> None:
        """Notice within 30 s (not at the next question) a database file deleted or replaced under the bot; the
        store restores a deleted one from its open connection and logs it."""
        try:
            await self.bot.store.check_file()
        except StoreError as exc:
            log.warning("database check failed: %s", exc)

    @tasks.loop(hours=6)
    async def sweep(self) -> None:
        """Delete turns (and the answers behind them) older than RETENTION_DAYS."""
        try:
            removed = await self.bot.store.purge_older_than(self.retention_days)
        except StoreError as exc:
            log.warning("retention sweep failed: %s", exc)
            return
        if removed:
            log.info("retention: deleted %d conversation turns older than %g days", removed, self.retention_days)

    @app_commands.command(name="forget", description="Delete the questions you asked me (here, or everywhere)")
    @app_commands.describe(everywhere="Also in other channels, servers and DMs (default: only here)")
    async def forget(self, interaction: discord.Interaction, everywhere: bool = False) -> None:
        user_id = interaction.user.id
        if everywhere:
            scope = None
        elif interaction.guild_id is None or interaction.channel_id is None:
            scope = dm_scope(user_id)
        else:
            scope = guild_scope(interaction.guild_id, interaction.channel_id, user_id)
        try:
            removed = await self.bot.store.forget(user_id, scope)
        except StoreError as exc:
            log.warning("forget failed: %s", exc)
            raise UserFacingError(MEMORY_TROUBLE) from exc
        where = "everywhere" if everywhere else "here"
        noun = "question" if removed == 1 else "questions"
        await interaction.response.send_message(
            f"Forgot {removed} {noun} you asked {where}.", ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="history", description="Your recent questions to me (only you see them)")
    async def history(self, interaction: discord.Interaction) -> None:
        try:
            turns = await self.bot.store.history(interaction.user.id, guild_id=interaction.guild_id, limit=15)
        except StoreError as exc:
            raise UserFacingError(MEMORY_TROUBLE) from exc
        if not turns:
            text = "You have not asked me anything here yet (or it was forgotten)."
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        lines = []
        for turn in turns:
            flag = " — *not in the corpus*" if turn.abstained else ""
            lines.append(f"<t:{int(turn.created_at)}:R> {escape(clip(turn.question, 150))}{flag}")
        embed = discord.Embed(title="Your recent questions", description=fit_lines(lines))
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="gaps", description="Questions the corpus could not answer here (for the corpus keeper)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def gaps(self, interaction: discord.Interaction) -> None:
        guild_id = interaction.guild_id or 0
        channels = readable_channels(interaction)
        try:
            gaps = await self.bot.store.gaps(guild_id, channels=channels, limit=15)
            elsewhere = await self.bot.store.gaps_elsewhere(guild_id, channels=channels)
        except StoreError as exc:
            raise UserFacingError(MEMORY_TROUBLE) from exc
        hidden = ""
        if elsewhere:
            noun = "question" if elsewhere == 1 else "questions"
            hidden = f"{elsewhere} more {noun} asked in channels you cannot read (counted, not shown)."
        if not gaps and hidden:
            await interaction.response.send_message(hidden, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        if not gaps:
            text = "No knowledge gaps recorded in this server: every question found an answer, and none got a 👎."
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        lines = []
        for gap in gaps:
            reasons = []
            if gap.abstained:
                reasons.append(f"not in corpus ×{gap.abstained}")
            if gap.disliked:
                reasons.append(f"👎 ×{gap.disliked}")
            lines.append(f"**{gap.asked}×** {escape(clip(gap.question, 150))} ({', '.join(reasons)})")
        embed = discord.Embed(
            title="Knowledge gaps: most frequent first",
            description=fit_lines(lines),
        )
        footer = "Public questions the corpus could not answer, and answers marked 👎"
        embed.set_footer(text=f"{footer}. {hidden}" if hidden else footer)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)


def readable_channels(interaction: discord.Interaction) -> set[int]:
    """Channels (and public threads) of the interaction's server that its user can read; only the channel it
    was used in when the server or member is not cached. A private thread counts only when used from it. A forum
    counts when its user can read it: its posts are public to its readers, and help-channel questions
    (cogs/helpdesk.py) are stored under their forum."""
    channels = {interaction.channel_id} if interaction.channel_id else set()
    guild, member = interaction.guild, interaction.user
    if guild is None or not isinstance(member, discord.Member):
        return channels
    for channel in [*guild.channels, *guild.threads]:
        if isinstance(channel, discord.CategoryChannel):
            continue
        if isinstance(channel, discord.Thread) and channel.is_private():
            continue
        permissions = channel.permissions_for(member)
        if permissions.view_channel and permissions.read_message_history:
            channels.add(channel.id)
    return channels


def fit_lines(lines: list[str], limit: int = DESCRIPTION_LIMIT) -> str:
    """Join whole lines while they fit the limit."""
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > limit:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept) or fit(lines[0], limit, lambda s: s)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(MemoryCog(bot))
