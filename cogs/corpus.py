"""/corpus add|list|remove: the bot's owner changes the corpus from Discord, without access to the host.

Only the application's owner (or its team's members, as discord.py's `Bot.is_owner` knows them) may use these;
everyone else gets a clear refusal. `/corpus add file:<attachment> [title] [date] [replace]` checks the file
before it is downloaded (size cap, `CORPUS_UPLOAD_MAX_MB`, 10 MB by default) and before it is written
(index.uploads: a plain file name, a format Footnote reads, content that is what its name says and has text),
saves it into CORPUS_DIR and reloads through the same path as /reload (`bot.reload_engine`, which keeps the old
index if the rebuild fails; the upload is then undone). The private reply says how many passages the document
added and shows its first one. `/corpus remove` deletes a document (and its catalog entry) and reloads.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.render import CONTENT_LIMIT, DESCRIPTION_LIMIT, NO_MENTIONS, clip, escape, fit
from index import uploads
from index.errors import CorpusError, UserFacingError
from index.formats import MB, describe

if TYPE_CHECKING:
    from client import FootnoteBot

log = logging.getLogger(__name__)

COLOR = discord.Colour(0x6A1B9A)
LIST_LINES = 40
AUTOCOMPLETE_CHOICES = 25


class CorpusCog(commands.GroupCog, group_name="corpus", group_description="The corpus' documents (bot owner only)"):
    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot
        super().__init__()

    @property
    def max_bytes(self) -> int:
        settings = getattr(self.bot, "settings", None)
        megabytes = getattr(settings, "upload_max_mb", None)
        return int(float(megabytes) * MB) if megabytes else uploads.DEFAULT_MAX_BYTES

    @property
    def corpus_dir(self) -> Path:
        return Path(self.bot.settings.corpus_dir)

    async def _require_owner(self, interaction: discord.Interaction) -> None:
        if not await self.bot.is_owner(interaction.user):
            raise UserFacingError("Only the bot's owner (or its team) can change the corpus.")

    @app_commands.command(name="add", description="Add a document to the corpus (bot owner only)")
    @app_commands.describe(
        file="a PDF, web page (.html), Word (.docx), EPUB, Markdown or text file",
        title="the document's title (default: what the file says, or its first line)",
        date="its date, YYYY-MM-DD (default: what the file says, or the latest date in it)",
        replace="replace a document of the same name (default: refuse)",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        title: app_commands.Range[str, 1, 200] | None = None,
        date: app_commands.Range[str, 4, 10] | None = None,
        replace: bool = False,
    ) -> None:
        await self._require_owner(interaction)
        name = uploads.clean_file_name(file.filename)  # refuses ../../etc/passwd.md before anything else
        if file.size > self.max_bytes:
            raise UserFacingError(
                f"{name}: {file.size / MB:.1f} MB is more than the {self.max_bytes / MB:g} MB a document may be "
                "(CORPUS_UPLOAD_MAX_MB sets the limit)."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except (discord.HTTPException, discord.NotFound) as exc:
            raise UserFacingError(
                f"{name}: could not download the attachment from Discord ({exc}); try again."
            ) from exc
        prepared = await asyncio.to_thread(
            uploads.prepare, self.corpus_dir, file.filename, data, max_bytes=self.max_bytes
        )
        saved = await asyncio.to_thread(uploads.save, prepared, replace=replace, title=title or "", when=date or "")
        try:
            await self.bot.reload_engine()
        except UserFacingError as exc:
            await asyncio.to_thread(uploads.restore, saved)
            raise UserFacingError(f"{prepared.name} was not added: {exc}") from exc
        engine = self.bot.engine
        passages = engine.passages_of(prepared.doc_id)
        info = engine.documents.get(prepared.doc_id)
        if info is None or not passages:
            await asyncio.to_thread(uploads.restore, saved)
            await self.bot.reload_engine()
            raise UserFacingError(
                f"{prepared.name}: not added, it has no passages of its own (its text is already in the corpus, or "
                "none of it reads as text)."
            )
        verb = "Replaced" if prepared.exists else "Added"
        where = f", {len(info.divisions)} {info.division_kind}s" if info.divisions else ""
        header = (
            f"{verb} **{escape(clip(prepared.name, 150))}** ({describe(info.format)}{where}): "
            f"{len(passages)} passages. Title: {escape(clip(info.title, 200))}"
            + (f", {info.date}" if info.date else "")
            + "."
        )
        first = passages[0]
        citation = engine.citation(first)
        excerpt = f"> {escape(clip(first.text, 600))}\n— {escape(citation.location)}"
        await interaction.edit_original_response(
            content=fit(f"{header}\n{excerpt}", CONTENT_LIMIT, lambda s: s), allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="list", description="The corpus' documents (bot owner only)")
    async def list_documents(self, interaction: discord.Interaction) -> None:
        await self._require_owner(interaction)
        engine = self.bot.engine
        counts = engine.passage_counts()
        lines = []
        for doc_id, info in sorted(engine.documents.items()):
            date = f", {info.date}" if info.date else ""
            lines.append(
                f"`{escape(clip(self._file_name(info.path), 80))}` {escape(clip(info.title, 90))}{date} · "
                f"{describe(info.format)} · {counts.get(doc_id, 0)} passages"
            )
        shown = lines[:LIST_LINES]
        more = len(lines) - len(shown)
        description = "\n".join(shown) + (f"\n… and {more} more (`footnote corpus` lists them all)" if more else "")
        embed = discord.Embed(
            title=f"{len(lines)} documents · corpus {engine.version}",
            description=fit(description, DESCRIPTION_LIMIT, lambda s: s),
            colour=COLOR,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="remove", description="Remove a document from the corpus (bot owner only)")
    @app_commands.describe(document="the document's file name, as /corpus list shows it")
    async def remove(self, interaction: discord.Interaction, document: app_commands.Range[str, 1, 300]) -> None:
        await self._require_owner(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        engine = self.bot.engine
        doc_id = document.rsplit(".", 1)[0]
        passages = engine.passage_counts().get(doc_id, 0)
        try:
            path = await asyncio.to_thread(uploads.remove, self.corpus_dir, document)
        except CorpusError as exc:
            raise UserFacingError(f"{exc} (/corpus list shows the documents)") from exc
        try:
            summary = await self.bot.reload_engine()
        except UserFacingError as exc:
            summary = str(exc)
        await interaction.edit_original_response(
            content=fit(
                f"Removed **{escape(path.name)}** ({passages} passages). {summary}", CONTENT_LIMIT, lambda s: s
            ),
            allowed_mentions=NO_MENTIONS,
        )

    @remove.autocomplete("document")
    async def remove_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = sorted(self._file_name(info.path) for info in self.bot.engine.documents.values())
        wanted = current.casefold()
        return [
            app_commands.Choice(name=clip(name, 100), value=name)
            for name in names
            if wanted in name.casefold() and len(name) <= 100
        ][:AUTOCOMPLETE_CHOICES]

    def _file_name(self, path: str) -> str:
        """A document's path relative to the corpus folder (what /corpus remove takes)."""
        try:
            return Path(path).resolve().relative_to(self.corpus_dir.resolve()).as_posix()
        except ValueError:
            return Path(path).name


async def setup(bot: commands.Bot) -> None:
    if not hasattr(bot, "reload_engine") or not hasattr(bot, "settings"):
        log.info("cogs.corpus: the host bot has no reload_engine() or settings; /corpus is not added")
        return
    await bot.add_cog(CorpusCog(bot))
