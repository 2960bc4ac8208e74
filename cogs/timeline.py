"""/timeline [topic] [from] [to]: the corpus' dated events, oldest first, each with its sentence and citations.

Thin adapter over index.timeline: the events of the corpus are extracted and merged once per corpus version (in a
worker thread, when the cog loads and again after a reload); a command only filters them. Each event shows its
date (bold), the sentence it comes from with the date expression in bold, and its citations; an event whose
sources disagree on the date is marked and shows each source's date. ◀ ▶ page through long timelines
(cogs.paging, pager_kind "timeline"); the options live in the store, so the buttons survive a restart. `from` and
`to` are checked before anything else, and a bad one gets a private message saying what is wrong.
"""

from __future__ import annotations

import asyncio
import logging
import math
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
    FOOTER_LIMIT,
    NO_MENTIONS,
    TITLE_LIMIT,
    citation_line,
    clip,
    embed_length,
    escape,
    fit,
    message_text,
)
from index.dates import parse_range
from index.errors import UserFacingError
from index.timeline import (
    MAX_TOPIC_CHARS,
    EventReport,
    Timeline,
    TimelineEvent,
    TimelineIndex,
    TopicChoice,
    build_index,
    date_label,
    heading,
    timeline,
)

if TYPE_CHECKING:
    from client import FootnoteBot
    from store import AnswerRecord

log = logging.getLogger(__name__)

PAGER_KIND = "timeline"
PAGE_SIZE = 5
MAX_PAGES = 60
DATE_OPTION_MAX = 20
QUOTE_CHARS = 320
CONFLICT_QUOTE_CHARS = 180
MAX_CITATIONS = 3
_BUDGETS = ((1.0, 3), (0.7, 3), (0.5, 2), (0.35, 2), (0.2, 1))  # (share of the quote length, citation lines)
_SHRINK_TO = EMBEDS_TOTAL_LIMIT - 100


def pages_of(result: Timeline) -> int:
    return max(1, min(MAX_PAGES, math.ceil(len(result.events) / PAGE_SIZE)))


def quote(report: EventReport, budget: int) -> str:
    """The sentence as Discord markdown, its date expression bold; a long sentence is cut around the date."""
    text, expression = report.text, report.expression
    position = text.find(expression) if expression else -1
    if position < 0:
        return escape(clip(text, budget))
    end = position + len(expression)
    left, right = 0, len(text)
    if len(text) > budget:
        room = max(0, budget - len(expression))
        left = max(0, position - room // 2)
        right = min(len(text), left + len(expression) + room)
        left = max(0, right - budget)
    head, tail = text[left:position], text[end:right]
    return (
        ("…" if left > 0 else "")
        + escape(head)
        + f"**{escape(expression)}**"
        + escape(tail)
        + ("…" if right < len(text) else "")
    )


def _citations(event: TimelineEvent, limit: int = MAX_CITATIONS) -> list[str]:
    """The citation lines of an event; a source that reported it in other words says which ("Last week")."""
    lines: list[str] = []
    seen: set[tuple[str, int]] = set()
    total = len(event.citations)
    for number, report in enumerate(event.reports):
        for citation in report.citations:
            key = (citation.doc_id, citation.paragraph)
            if key in seen:
                continue
            seen.add(key)
            if len(lines) < limit:
                words = f" · “{escape(clip(report.expression, 40))}”" if number else ""
                lines.append(citation_line(citation) + words)
    if total > limit:
        lines.append(f"— and {total - limit} more")
    return lines


def event_block(number: int, event: TimelineEvent, budget: float = 1.0, citations: int = MAX_CITATIONS) -> str:
    """One event: its date and precision, the sentence, the citations (each source's date on a conflict).
    `budget` scales the quoted sentence; `citations` caps the citation lines (and the reports of a conflict)."""
    head = f"**{number}. {escape(date_label(event.date))}** · {event.precision}"
    if not event.conflict:
        quoted = "> " + quote(event.reports[0], int(QUOTE_CHARS * budget))
        return "\n".join([head, quoted, *_citations(event, citations)])
    dates = " vs ".join(escape(date_label(d)) for d in event.dates)
    lines = [f"{head} · ⚠️ **sources disagree**: {dates}"]
    shown = max(2, citations + 1)
    for report in event.reports[:shown]:
        lines.append(f"**{escape(date_label(report.date))}** " + quote(report, int(CONFLICT_QUOTE_CHARS * budget)))
        lines.append(citation_line(report.citation))
    if len(event.reports) > shown:
        lines.append(f"— and {len(event.reports) - shown} more reports")
    return "\n".join(lines)


def timeline_embed(result: Timeline, *, version: str, page: int) -> discord.Embed:
    """The embed of one page of a timeline, within every Discord limit: quotes shrink and citations thin out
    until every event of the page fits."""
    pages = pages_of(result)
    page = max(0, min(page, pages - 1))
    for share, citations in _BUDGETS:
        embed = _embed(result, version, page, pages, share, citations)
        if embed is not None and embed_length(embed) <= _SHRINK_TO:
            return embed
    embed = _embed(result, version, page, pages, _BUDGETS[-1][0], 1, force=True)
    assert embed is not None
    return embed


def _embed(
    result: Timeline, version: str, page: int, pages: int, budget: float, citations: int, force: bool = False
) -> discord.Embed | None:
    """The embed at this budget, or None when its events do not all fit (unless `force`: then it is trimmed)."""
    title = fit(clip(heading(result), 200), TITLE_LIMIT)
    footer = f"Footnote · corpus {version}"
    if result.empty:
        embed = discord.Embed(title=title, colour=COLOR_NONE)
        text = f"**No events.** {escape(result.message)}"
        if result.suggestions:
            text += "\nTry a topic: " + ", ".join(f"`{escape(s)}`" for s in result.suggestions) + "."
        embed.description = fit(text, DESCRIPTION_LIMIT, lambda s: s)
        embed.set_footer(text=fit(footer, FOOTER_LIMIT, lambda s: s))
        return embed
    embed = discord.Embed(title=title, colour=COLOR_ANSWER)
    count = len(result.events)
    shown = min(count, MAX_PAGES * PAGE_SIZE)
    intro = f"{count} dated event{'s' if count != 1 else ''}, oldest first. Dates in **bold**; ~ means approximate."
    if shown < count:
        intro += f" Showing the first {shown}; narrow it with `from` and `to`."
    first = page * PAGE_SIZE
    blocks = [
        event_block(number, event, budget, citations)
        for number, event in enumerate(result.events[first : first + PAGE_SIZE], first + 1)
    ]
    description = "\n\n".join([intro, *blocks])
    if len(description) > DESCRIPTION_LIMIT:
        if not force:
            return None
        while blocks and len(description) > DESCRIPTION_LIMIT:
            blocks.pop()
            description = "\n\n".join([intro, *blocks, "— the rest of this page was too long to show."])
    embed.description = description
    embed.set_footer(text=fit(f"{footer} · page {page + 1}/{pages} · {count} events", FOOTER_LIMIT, lambda s: s))
    return embed


def _question(topic: str | None, start: str | None, end: str | None) -> str:
    text = f"timeline {topic or ''}".strip()
    if start:
        text += f" from {start}"
    if end:
        text += f" to {end}"
    return text


class TimelineCog(commands.Cog, name="Timeline"):
    pager_kind = PAGER_KIND

    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot
        self.index: TimelineIndex | None = None
        self._lock = asyncio.Lock()

    async def cog_load(self) -> None:
        await self._current_index()
        log.info("timeline: %d events, %d topics", len(self.index.events) if self.index else 0, len(self.choices))

    @property
    def choices(self) -> tuple[TopicChoice, ...]:
        return self.index.choices if self.index is not None else ()

    async def _current_index(self) -> TimelineIndex:
        """The events of the engine's corpus version, rebuilt in a worker thread after a reload."""
        engine = self.bot.engine
        index = self.index
        if index is not None and index.version == engine.version:
            return index
        async with self._lock:
            if self.index is None or self.index.version != engine.version:
                self.index = await asyncio.to_thread(build_index, engine)
            return self.index

    async def _timeline(self, topic: str | None, start: str | None, end: str | None) -> Timeline:
        low, high = parse_range(start, end)
        index = await self._current_index()
        return await run_engine(self.bot, timeline, self.bot.engine, topic, low, high, index=index)

    @app_commands.command(name="timeline", description="Dated events from the corpus, oldest first, with citations")
    @app_commands.describe(
        topic="Only events about this (a name or words, any language); leave empty for the whole timeline",
        from_="Earliest date: YYYY, YYYY-MM or YYYY-MM-DD",
        to="Latest date: YYYY, YYYY-MM or YYYY-MM-DD",
        private="Only you see the answer (default: no)",
    )
    @app_commands.rename(from_="from")
    async def timeline_command(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, MAX_TOPIC_CHARS] | None = None,
        from_: app_commands.Range[str, 1, DATE_OPTION_MAX] | None = None,
        to: app_commands.Range[str, 1, DATE_OPTION_MAX] | None = None,
        private: bool = False,
    ) -> None:
        question_cooldown(self.bot).check(interaction.user.id)
        parse_range(from_, to)  # a bad date is answered at once, privately, by the error handler
        await interaction.response.defer(ephemeral=private, thinking=True)
        try:
            result = await self._timeline(topic, from_, to)
        except UserFacingError as exc:
            await interaction.edit_original_response(content=message_text(str(exc)), allowed_mentions=NO_MENTIONS)
            return
        await send_first_page(
            interaction,
            self.bot,
            kind=PAGER_KIND,
            question=_question(topic, from_, to),
            params={"topic": topic, "from": from_, "to": to},
            private=private,
            abstained=result.empty,
            embed=timeline_embed(result, version=self.bot.engine.version, page=0),
            pages=pages_of(result),
        )

    @timeline_command.autocomplete("topic")
    async def topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        index = self.index
        if index is None or index.version != self.bot.engine.version:
            return []
        return [app_commands.Choice(name=label, value=value) for label, value in index.complete(current)]

    async def render_page(self, record: AnswerRecord, page: int) -> tuple[discord.Embed, int]:
        """A page of a stored timeline, for the ◀ ▶ buttons (cogs.paging)."""
        params = record.params
        result = await self._timeline(params.get("topic"), params.get("from"), params.get("to"))
        pages = pages_of(result)
        page = max(0, min(page, pages - 1))
        return timeline_embed(result, version=self.bot.engine.version, page=page), pages


async def setup(bot: commands.Bot) -> None:
    if getattr(bot, "engine", None) is None or getattr(bot, "store", None) is None:
        raise RuntimeError("cogs.timeline needs bot.engine (index.engine.Engine) and bot.store (store.Store)")
    bot.add_dynamic_items(PageButton)  # shared by every paging cog; registering it again is harmless
    await bot.add_cog(TimelineCog(bot))
