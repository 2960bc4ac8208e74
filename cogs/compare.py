"""/compare a:<subject> [b:<subject>] [aspect:<text>]: two subjects side by side, or one subject across sources.

Thin adapter over index.compare: parse, run the engine in a worker thread, render. Two subjects are two columns of
inline fields (one a field and one b field per row, rows parted by an empty full-width field so Discord never
puts three cells in a row; two inline fields share a row half and half), then the passages naming both as
full-width fields. One subject is one field per document. Corpus text is escaped before names are marked bold
and figures bold and underlined. ◀ ▶ page through more (cogs.paging, pager_kind "compare"); the options live in
the store, so the buttons survive a restart.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import replace
from typing import TYPE_CHECKING

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
    FIELD_VALUE_LIMIT,
    FIELDS_LIMIT,
    FOOTER_LIMIT,
    MAX_PAGES,
    NO_MENTIONS,
    TITLE_LIMIT,
    citation_line,
    clip,
    embed_length,
    escape,
    fit,
    message_text,
)
from index.compare import (
    MAX_ASPECT_CHARS,
    MAX_SUBJECT_CHARS,
    Comparison,
    Side,
    SubjectCatalog,
    compare,
    figure_spans,
    subject_catalog,
)
from index.engine import Citation, Result
from index.errors import UserFacingError
from index.excerpt import Excerpt

if TYPE_CHECKING:
    from client import FootnoteBot
    from store import AnswerRecord

log = logging.getLogger(__name__)

PAGER_KIND = "compare"
SIDE_PAGE = 3  # rows of the two columns (and passages naming both) per page
SOURCES_PAGE = 5  # documents per page in one-subject mode
EXCERPT_CHARS = 240
SPACER = "\u200b"
NAME_LIMIT = 256
_BUDGETS = (1.0, 0.75, 0.55, 0.4, 0.28, 0.18)
_SHRINK_TO = EMBEDS_TOTAL_LIMIT - 100  # margin for Discord's own counting of the footer and names


def emphasise(excerpt: Excerpt, budget: int | None = None) -> str:
    """The excerpt as Discord markdown: corpus text escaped, matched names bold, figures bold and underlined.
    `budget` caps the raw characters kept (cut at a space when one is near, then an ellipsis)."""
    parts: list[str] = ["…" if excerpt.clipped_start else ""]
    used, cut = 0, False
    for text, hit in excerpt.segments:
        if budget is not None and used + len(text) > budget:
            keep = max(0, budget - used)
            space = text.rfind(" ", 0, keep)
            text, cut = text[: space if space >= keep - 20 and space > 0 else keep].rstrip(), True
        used += len(text)
        if text and hit:
            parts.append(f"**{escape(text)}**")
        elif text:
            position = 0
            for start, end in figure_spans(text):
                parts.append(escape(text[position:start]))
                parts.append(f"__**{escape(text[start:end])}**__")
                position = end
            parts.append(escape(text[position:]))
        if cut:
            break
    parts.append("…" if cut or excerpt.clipped_end else "")
    return "".join(parts)


def _cite(citation: Citation) -> str:
    """The citation line with its title and source shortened for a narrow cell (date and place always kept)."""
    return citation_line(replace(citation, title=clip(citation.title, 90), source=clip(citation.source, 60)))


def result_value(result: Result, budget: int, note: str = "", max_citations: int = 2) -> str:
    """A field value: the emphasised excerpt and its citations, within the field limit."""
    citations = [_cite(c) for c in result.citations[:max_citations]]
    if len(result.citations) > max_citations:
        citations.append(f"— and {len(result.citations) - max_citations} more")
    tail = "\n".join(citations) + (f"\n{note}" if note else "")
    for share in _BUDGETS:
        text = emphasise(result.excerpt, int(budget * share))
        if len(text) + 1 + len(tail) <= FIELD_VALUE_LIMIT:
            return f"{text}\n{tail}"
    return fit(tail, FIELD_VALUE_LIMIT, lambda s: s)


def pages_of(comparison: Comparison) -> int:
    if comparison.empty:
        return 1
    if comparison.b is None:
        count = math.ceil(comparison.sources_total / SOURCES_PAGE)
    else:
        longest = max(comparison.a.total, comparison.b.total, comparison.both_total)
        count = math.ceil(longest / SIDE_PAGE)
    return max(1, min(MAX_PAGES, count))


def _title(comparison: Comparison) -> str:
    a = comparison.a.subject
    text = f"{a.name} vs {comparison.b.subject.name}" if comparison.b is not None else f"{a.name} across the sources"
    if comparison.aspect:
        text += f" · {comparison.aspect}"
    return fit(clip(text, 200), TITLE_LIMIT)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def compare_embed(comparison: Comparison, *, version: str, page: int) -> discord.Embed:
    """The embed of one page of a comparison, within every Discord limit (excerpts shrink until it fits)."""
    pages = pages_of(comparison)
    for share in _BUDGETS:
        embed = _embed(comparison, version, page, pages, int(EXCERPT_CHARS * share))
        if embed_length(embed) <= _SHRINK_TO:
            return embed
    while embed.fields and embed_length(embed) > _SHRINK_TO:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def _embed(comparison: Comparison, version: str, page: int, pages: int, budget: int) -> discord.Embed:
    if comparison.empty:
        embed = discord.Embed(title=_title(comparison), colour=COLOR_NONE)
        embed.description = fit(comparison.message() or "Nothing to show.", DESCRIPTION_LIMIT)
        embed.set_footer(text=fit(f"Footnote · corpus {version}", FOOTER_LIMIT, lambda s: s))
        return embed
    embed = discord.Embed(title=_title(comparison), colour=COLOR_ANSWER)
    if comparison.b is None:
        _sources(embed, comparison, page, budget)
    else:
        _columns(embed, comparison, comparison.b, page, budget)
    embed.set_footer(text=fit(f"Footnote · corpus {version} · page {page + 1}/{pages}", FOOTER_LIMIT, lambda s: s))
    return embed


def _name(text: str) -> str:
    return fit(text, NAME_LIMIT)


def _columns(embed: discord.Embed, comparison: Comparison, b: Side, page: int, budget: int) -> None:
    a = comparison.a
    name_a, name_b = clip(a.subject.name, 80), clip(b.subject.name, 80)
    on = f" about “{escape(clip(comparison.aspect, 80))}”" if comparison.aspect else ""
    lines = [
        f"**{escape(name_a)}**: {_plural(a.total, 'passage')} · **{escape(name_b)}**: {_plural(b.total, 'passage')}"
        f" · **both**: {_plural(comparison.both_total, 'passage')}{on}",
        "Names in **bold**, figures __**underlined**__; a passage naming both is shown once, under *Both*.",
    ]
    embed.description = fit("\n".join(lines), DESCRIPTION_LIMIT, lambda s: s)

    def empty_cell(side_name: str, other_name: str, total: int) -> str:
        if total:
            return "—"
        if comparison.aspect:
            return fit(f"No passage about {side_name} without {other_name} is about “{comparison.aspect}”.", 300)
        return fit(f"Every passage that mentions {side_name} also mentions {other_name}: see Both.", 300)

    rows = max(len(a.results), len(b.results))
    if page == 0 and (not a.total or not b.total):
        rows = max(rows, 1)
    for row in range(rows):
        if row:  # a full-width empty field ends the row, so each row holds exactly one cell of each side
            embed.add_field(name=SPACER, value=SPACER, inline=False)
        for side, mine, other in ((a, name_a, name_b), (b, name_b, name_a)):
            if row < len(side.results):
                result = side.results[row]
                embed.add_field(name=_name(f"{mine} · {result.rank}"), value=result_value(result, budget), inline=True)
            else:
                embed.add_field(name=_name(mine), value=empty_cell(mine, other, side.total), inline=True)
    for result in comparison.both:
        if len(embed.fields) >= FIELDS_LIMIT:
            break
        embed.add_field(
            name=_name(f"Both {name_a} and {name_b} · {result.rank}"),
            value=result_value(result, budget + budget // 4),
            inline=False,
        )


def _sources(embed: discord.Embed, comparison: Comparison, page: int, budget: int) -> None:
    covered, silent = comparison.sources_total, len(comparison.silent)
    subject = escape(clip(comparison.a.subject.name, 80))
    about = f" about “{escape(clip(comparison.aspect, 80))}”" if comparison.aspect else ""
    lines = [
        f"**{subject}**{' with passages' + about if about else ''} in {covered} of {covered + silent} documents, "
        "oldest first: the best passage of each. Figures __**underlined**__."
    ]
    if comparison.silent and page == 0:
        verb = "No passage" + about if about else "Not mentioned"
        names = "; ".join(f"{clip(d.title, 60)} ({d.date or 'undated'})" for d in comparison.silent)
        lines.append(f"{verb} in: " + escape(clip(names, 1200)))
    embed.description = fit("\n".join(lines), DESCRIPTION_LIMIT, lambda s: s)
    for row in comparison.by_source[:FIELDS_LIMIT]:
        doc = row.document
        note = f"{_plural(row.mentions, 'passage')} in this document"
        embed.add_field(
            name=_name(f"{row.result.rank}. {doc.date or 'undated'} · {clip(doc.title, 150)}"),
            value=result_value(row.result, budget + budget // 4, note, max_citations=1),
            inline=False,
        )


def _question(a: str, b: str | None, aspect: str | None) -> str:
    text = a if not b else f"{a} vs {b}"
    return f"{text} · {aspect}" if aspect else text


class CompareCog(commands.Cog, name="Compare"):
    pager_kind = PAGER_KIND

    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot
        self.catalog: SubjectCatalog | None = None

    async def cog_load(self) -> None:
        self.catalog = await asyncio.to_thread(subject_catalog, self.bot.engine)
        log.info("compare: %d subjects for autocomplete", len(self.catalog.choices))

    def _catalog(self) -> SubjectCatalog | None:
        catalog = self.catalog
        return catalog if catalog is not None and catalog.version == self.bot.engine.version else None

    async def _compare(self, a: str, b: str | None, aspect: str | None, page: int) -> Comparison:
        return await run_engine(
            self.bot,
            compare,
            self.bot.engine,
            a,
            b,
            aspect,
            k=SIDE_PAGE,
            offset=page * SIDE_PAGE,
            source_k=SOURCES_PAGE,
            source_offset=page * SOURCES_PAGE,
            excerpt_chars=EXCERPT_CHARS,
            catalog=self._catalog(),
        )

    @app_commands.command(name="compare", description="Two subjects side by side, or one subject across the sources")
    @app_commands.describe(
        a="A company, product, person or term (any language)",
        b="Another one to set against it (leave empty to see how each source covers a)",
        aspect="Only passages about this, e.g. compute, users, revenue",
        private="Only you see the answer (default: no)",
    )
    async def compare(
        self,
        interaction: discord.Interaction,
        a: app_commands.Range[str, 1, MAX_SUBJECT_CHARS],
        b: app_commands.Range[str, 1, MAX_SUBJECT_CHARS] | None = None,
        aspect: app_commands.Range[str, 1, MAX_ASPECT_CHARS] | None = None,
        private: bool = False,
    ) -> None:
        question_cooldown(self.bot).check(interaction.user.id)
        await interaction.response.defer(ephemeral=private, thinking=True)
        try:
            comparison = await self._compare(a, b, aspect, 0)
        except UserFacingError as exc:
            await interaction.edit_original_response(content=message_text(str(exc)), allowed_mentions=NO_MENTIONS)
            return
        await send_first_page(
            interaction,
            self.bot,
            kind=PAGER_KIND,
            question=_question(a, b, aspect),
            params={"a": a, "b": b, "aspect": aspect},
            private=private,
            abstained=comparison.empty,
            embed=compare_embed(comparison, version=self.bot.engine.version, page=0),
            pages=pages_of(comparison),
        )

    @compare.autocomplete("a")
    @compare.autocomplete("b")
    async def subject_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        catalog = self._catalog()
        if catalog is None:
            return []
        return [app_commands.Choice(name=label, value=value) for label, value in catalog.complete(current)]

    @compare.autocomplete("aspect")
    async def aspect_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        catalog = self._catalog()
        if catalog is None:
            return []
        return [
            app_commands.Choice(name=label, value=value) for label, value in catalog.complete(current, kinds=("term",))
        ]

    async def render_page(self, record: AnswerRecord, page: int) -> tuple[discord.Embed, int]:
        """A page of a stored comparison, for the ◀ ▶ buttons (cogs.paging)."""
        a, b, aspect = str(record.params.get("a") or ""), record.params.get("b"), record.params.get("aspect")
        comparison = await self._compare(a, b, aspect, page)
        pages = pages_of(comparison)
        if page >= pages:  # fewer pages than when the buttons were drawn: show the last one
            page = pages - 1
            comparison = await self._compare(a, b, aspect, page)
        return compare_embed(comparison, version=self.bot.engine.version, page=page), pages


async def setup(bot: commands.Bot) -> None:
    if getattr(bot, "engine", None) is None or getattr(bot, "store", None) is None:
        raise RuntimeError("cogs.compare needs bot.engine (index.engine.Engine) and bot.store (store.Store)")
    bot.add_dynamic_items(PageButton)  # shared by every paging cog; registering it again is harmless
    await bot.add_cog(CompareCog(bot))
