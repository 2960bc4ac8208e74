"""/quote [speaker] [topic]: verbatim quotations, who said them, and where.

Thin adapter over index.quotes: the quotations of the corpus are extracted once (in cog_load, in a worker thread)
and kept with the corpus version they came from; a command filters and ranks them in a thread and renders them.
Long lists page with the shared ◀ ▶ buttons of cogs.paging (pager_kind "quote"); the options behind a message are
stored with it, so its buttons keep working after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.cooldown import question_cooldown
from cogs.engine_thread import run_engine
from cogs.paging import PageButton, send_first_page
from cogs.render import (
    COLOR_ANSWER,
    COLOR_NONE,
    DESCRIPTION_LIMIT,
    EMBEDS_TOTAL_LIMIT,
    NO_MENTIONS,
    TITLE_LIMIT,
    citation_line,
    clip,
    embed_length,
    escape,
    fit,
    message_text,
)
from index.errors import UserFacingError
from index.quotes import MAX_SPEAKER_CHARS, MAX_TOPIC_CHARS, UNATTRIBUTED, QuoteHit, QuoteIndex, QuoteResult

if TYPE_CHECKING:
    from client import FootnoteBot

log = logging.getLogger(__name__)

QUOTES_PER_PAGE = 4
MAX_PAGES = 100  # custom_ids carry the page in three digits
QUOTE_CHARS = 700
AROUND_CHARS = 160


def _who(hit: QuoteHit) -> str:
    quote = hit.quote
    if not quote.attributed:
        return "*unattributed*"
    who = f"**{escape(clip(quote.speaker, 100))}**"
    written = quote.speaker_as_written
    if written and written.replace(" ", "").lower() != quote.speaker.replace(" ", "").lower():
        who += f" (as {escape(clip(written, 100))})"
    return who


def quote_block(hit: QuoteHit, max_citations: int = 2) -> str:
    """One quotation: the sentence around it with the quotation itself in bold, the speaker, the citations."""
    quote = hit.quote
    start, end = quote.context_span
    before, said, after = quote.context[:start], quote.context[start:end], quote.context[end:]
    before = "…" + before[-AROUND_CHARS:].lstrip() if len(before) > AROUND_CHARS else before
    after = after[:AROUND_CHARS].rstrip() + "…" if len(after) > AROUND_CHARS else after
    body = f"{escape(before)}**{escape(clip(said, QUOTE_CHARS))}**{escape(after)}".replace("\n", " ")
    lines = [f"**[{hit.rank}]** {body}", f"— {_who(hit)}"]
    lines.extend(citation_line(c) for c in hit.citations[:max_citations])
    return "\n".join(lines)


def pages_of(result: QuoteResult) -> int:
    return max(1, min(MAX_PAGES, math.ceil(result.total / QUOTES_PER_PAGE)))


def quote_embed(result: QuoteResult, *, version: str, page: int) -> discord.Embed:
    """The embed for one page of quotations (or the reason there are none)."""
    about = []
    if result.speaker:
        about.append("unattributed" if result.speaker == UNATTRIBUTED else f"by {result.speaker}")
    if result.topic:
        about.append(f"about “{clip(result.topic, 150)}”")
    title = fit(f"Quotations {' '.join(about)}".strip(), TITLE_LIMIT, lambda s: s)
    if not result.hits:
        embed = discord.Embed(title=title, colour=COLOR_NONE, description=escape(result.message or "No quotations."))
        embed.set_footer(text=f"Footnote · corpus {version}")
        return embed
    embed = discord.Embed(title=title, colour=COLOR_ANSWER)
    parts: list[str] = []
    used = 0
    for hit in result.hits:
        block = quote_block(hit)
        if used + len(block) + 2 > DESCRIPTION_LIMIT:
            block = fit(block, DESCRIPTION_LIMIT - used - 2, lambda s: s) if not parts else ""
            if not block:
                break
        parts.append(block)
        used += len(block) + 2
    embed.description = "\n\n".join(parts)
    noun = "quotation" if result.total == 1 else "quotations"
    embed.set_footer(text=f"Footnote · corpus {version} · page {page + 1}/{pages_of(result)} · {result.total} {noun}")
    while embed_length(embed) > EMBEDS_TOTAL_LIMIT and len(parts) > 1:
        parts.pop()
        embed.description = "\n\n".join(parts)
    return embed


class QuoteCog(commands.Cog, name="Quote"):
    pager_kind = "quote"

    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot
        self._index: QuoteIndex | None = None
        self._building = asyncio.Lock()

    async def cog_load(self) -> None:
        await self.quote_index()

    async def quote_index(self) -> QuoteIndex:
        """The quotations of the current corpus version (extracted once, off the event loop)."""
        engine = self.bot.engine
        async with self._building:
            if self._index is None or self._index.version != engine.version:
                self._index = await asyncio.to_thread(QuoteIndex.build, engine)
                log.info("quote index: %d quotations, %d speakers", len(self._index.quotes), len(self._index.speakers))
            return self._index

    async def _search(self, params: dict[str, Any], page: int) -> QuoteResult:
        index = await self.quote_index()
        return await run_engine(
            self.bot, index.search, params.get("topic"), params.get("speaker"), QUOTES_PER_PAGE, page * QUOTES_PER_PAGE
        )

    @app_commands.command(name="quote", description="Verbatim quotations: who said what, with citations")
    @app_commands.describe(
        speaker="Who said it (any spelling or script: Altman, 奥特曼, 奧爾特曼)",
        topic="What about (ranked by relevance)",
        private="Only you see the answer (default: no)",
    )
    async def quote(
        self,
        interaction: discord.Interaction,
        speaker: app_commands.Range[str, 1, MAX_SPEAKER_CHARS] | None = None,
        topic: app_commands.Range[str, 1, MAX_TOPIC_CHARS] | None = None,
        private: bool = False,
    ) -> None:
        if not (speaker or "").strip() and not (topic or "").strip():
            raise UserFacingError("Give a speaker, a topic, or both, e.g. `/quote speaker:Sam Altman topic:code red`.")
        question_cooldown(self.bot).check(interaction.user.id)
        wanted = speaker.strip() if speaker and speaker.strip() else None
        index = self._index
        if index is not None and index.version == self.bot.engine.version and wanted is not None:
            index.resolve_speaker(wanted)  # a dictionary lookup: an unknown speaker is told privately, at once
        await interaction.response.defer(ephemeral=private, thinking=True)
        try:
            index = await self.quote_index()
            params = {
                "speaker": index.resolve_speaker(wanted) if wanted else None,
                "topic": (topic or "").strip() or None,
            }
            result = await self._search(params, 0)
        except UserFacingError as exc:
            await interaction.edit_original_response(content=message_text(str(exc)), allowed_mentions=NO_MENTIONS)
            return
        words = [f"speaker:{params['speaker']}" if params["speaker"] else "", params["topic"] or ""]
        await send_first_page(
            interaction,
            self.bot,
            kind=self.pager_kind,
            question=("/quote " + " ".join(w for w in words if w)).strip(),
            params=params,
            private=private,
            abstained=not result.hits,
            embed=quote_embed(result, version=self.bot.engine.version, page=0),
            pages=pages_of(result),
        )

    @quote.autocomplete("speaker")
    async def speaker_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        index = self._index
        if index is None:
            return []
        return [app_commands.Choice(name=label, value=value) for label, value in index.autocomplete(current)]

    async def render_page(self, record: Any, page: int) -> tuple[discord.Embed, int]:
        """Page `page` of a stored /quote (cogs.paging calls this for ◀ ▶)."""
        result = await self._search(record.params, page)
        pages = pages_of(result)
        if not result.hits and page > 0:
            page = pages - 1
            result = await self._search(record.params, page)
        return quote_embed(result, version=self.bot.engine.version, page=page), pages


async def setup(bot: commands.Bot) -> None:
    if getattr(bot, "engine", None) is None or getattr(bot, "store", None) is None:
        raise RuntimeError("cogs.quote needs bot.engine (index.engine.Engine) and bot.store (store.Store)")
    bot.add_dynamic_items(PageButton)  # idempotent: keyed by the button's custom_id pattern
    await bot.add_cog(QuoteCog(bot))


async def teardown(bot: commands.Bot) -> None:
    # Other paging cogs may still use the buttons: remove them only when none is left.
    if not any(getattr(cog, "pager_kind", None) for cog in bot.cogs.values()):
        bot.remove_dynamic_items(PageButton)
