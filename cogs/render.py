"""Shared Discord rendering: embeds for answers, Discord's limits, safe trimming, and the one error path.

Everything Footnote sends goes through here, so the limits are enforced in one place: content 2000, embed title
256, description 4096, field value 1024, footer 2048, 25 fields, 6000 characters across a message's embeds,
custom_id 100. Corpus text is escaped for Discord markdown before the highlight markers are added, and text is
trimmed on the raw string (at a sentence end, else a word, with an ellipsis) before escaping, so a cut never
splits a character, an escape sequence or a bold marker.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence

import discord
from discord import app_commands

from index.engine import Answer, Citation, Result
from index.errors import UserFacingError

log = logging.getLogger(__name__)

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
FIELDS_LIMIT = 25
EMBEDS_TOTAL_LIMIT = 6000
CUSTOM_ID_LIMIT = 100

PAGE_SIZE = 3
MAX_PAGES = 10
MAX_STORED_ID = 2**63 - 1  # SQLite's INTEGER (and PostgreSQL's BIGINT)
INVALID_BUTTON = "This button is not valid (it does not point to anything I stored); please ask again."
NO_MENTIONS = discord.AllowedMentions.none()

COLOR_ANSWER = discord.Colour(0x2E7D32)
COLOR_WEAK = discord.Colour(0xF9A825)
COLOR_NONE = discord.Colour(0x757575)
ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"[。！？!?.…](?=\s|$)|[。！？]")


def escape(text: str) -> str:
    """Escape Discord markdown in corpus or user text (mentions cannot ping: every send disables them)."""
    return discord.utils.escape_markdown(text, ignore_links=False)


def clip(text: str, limit: int) -> str:
    """Trim raw text to at most `limit` characters: at the last sentence end, else the last space, in the
    second half of the allowance; else at a character boundary. Adds an ellipsis when cut."""
    if len(text) <= limit:
        return text
    budget = max(0, limit - len(ELLIPSIS))
    head = text[:budget]
    cut = None
    for match in _SENTENCE_END.finditer(head):
        if match.end() >= budget // 2:
            cut = match.end()
    if cut is None:
        space = head.rfind(" ")
        cut = space if space >= budget // 2 else budget
    return head[:cut].rstrip() + ELLIPSIS


def fit(text: str, limit: int, transform: Callable[[str], str] = escape) -> str:
    """`transform(text)` (escaping by default) trimmed so that the result is at most `limit` characters."""
    rendered = transform(text)
    if len(rendered) <= limit:
        return rendered
    allowance = limit
    while allowance > 0:
        allowance = min(allowance - 1, int(allowance * limit / len(rendered)))
        rendered = transform(clip(text, allowance))
        if len(rendered) <= limit:
            return rendered
    return ""


def embed_length(embed: discord.Embed) -> int:
    """Characters Discord counts toward the 6000 total of a message's embeds."""
    return len(embed)


def citation_line(citation: Citation) -> str:
    title = escape(clip(citation.title, 120))
    if citation.url:
        title = f"[{title}]({citation.url})"
    details = ", ".join(escape(part) for part in (citation.source, citation.date) if part)
    details = f"{details}, {escape(citation.location)}" if details else escape(citation.location)
    return f"— *{title}* — {details}"


def result_block(result: Result, max_citations: int = 3) -> str:
    excerpt = result.excerpt.render("**", escape)
    lines = [f"**[{result.rank}]** {excerpt}"]
    lines.extend(citation_line(c) for c in result.citations[:max_citations])
    if len(result.citations) > max_citations:
        lines.append(f"— and {len(result.citations) - max_citations} more")
    return "\n".join(lines)


def pages_of(answer: Answer) -> int:
    return max(1, min(MAX_PAGES, math.ceil(answer.total / PAGE_SIZE)))


def answer_embed(answer: Answer, *, question: str, version: str, page: int, understood: str = "") -> discord.Embed:
    """The embed for one page of an answer (or for an abstention). `understood`: how a follow-up question
    was read ("Understood as: ..."), shown first when the question was rewritten."""
    note = f"*Understood as: {escape(clip(understood, 300))}*\n\n" if understood else ""
    if answer.abstained:
        embed = discord.Embed(title=fit(clip(question, 200), TITLE_LIMIT), colour=COLOR_NONE)
        text = "**Not in the corpus.** None of the documents covers this question, so there is nothing to quote."
        if answer.suggestions:
            text += "\nIt does cover: " + ", ".join(escape(s) for s in answer.suggestions) + "."
        embed.description = note + text
        embed.set_footer(text=f"Footnote · corpus {version}")
        return embed
    weak = answer.confidence == "low"
    embed = discord.Embed(title=fit(clip(question, 200), TITLE_LIMIT), colour=COLOR_WEAK if weak else COLOR_ANSWER)
    parts: list[str] = [note.strip()] if note else []
    if weak:
        parts.append("⚠️ **Low confidence**: these passages match only part of the question.")
    used = sum(len(p) + 2 for p in parts)
    for result in answer.results:
        block = result_block(result)
        if used + len(block) + 2 > DESCRIPTION_LIMIT:
            break
        parts.append(block)
        used += len(block) + 2
    embed.description = "\n\n".join(parts)
    embed.set_footer(text=f"Footnote · corpus {version} · page {page + 1}/{pages_of(answer)}")
    return embed


def full_passages_embed(results: Sequence[Result], version: str) -> discord.Embed:
    """The cited passages of one page in full, one field each (verbatim, escaped, within field limits)."""
    embed = discord.Embed(title="Full passages", colour=COLOR_ANSWER)
    for result in results[:FIELDS_LIMIT]:
        citation = result.citation
        name = fit(f"[{result.rank}] {citation.title} {citation.location}", 256, lambda s: s)
        embed.add_field(name=name, value=fit(result.passage.text, FIELD_VALUE_LIMIT) or "—", inline=False)
    embed.set_footer(text=f"Footnote · corpus {version}")
    while embed_length(embed) > EMBEDS_TOTAL_LIMIT and embed.fields:
        last = embed.fields[-1]
        embed.set_field_at(len(embed.fields) - 1, name=last.name, value=fit(last.value, len(last.value) // 2))
    return embed


def stored_id(text: str) -> int | None:
    """A record id read from a custom_id, or None when it cannot be one we made (a forged button: zero, leading
    zeros, or past a 64-bit integer, which the database would refuse with OverflowError)."""
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else 0
    return value if 0 < value <= MAX_STORED_ID and str(value) == text else None


def message_text(text: str) -> str:
    """A plain message, escaped and within the 2000-character content limit."""
    return fit(text, CONTENT_LIMIT)


# -- delivering an answer when Discord lost the interaction ------------------------------------------------

# Discord's codes for an interaction that can no longer be answered: it was never received or is over 3 s old
# unanswered (10062), its token expired after 15 minutes (50027, 10015), its message is gone (10008).
GONE_CODES = frozenset({10062, 10015, 50027, 10008})


def interaction_gone(error: discord.HTTPException) -> bool:
    return error.code in GONE_CODES or (error.status == 401 and not error.code)


async def defer(interaction: discord.Interaction, *, ephemeral: bool) -> bool:
    """Defer (thinking…); False when Discord no longer knows the interaction (the answer must go elsewhere)."""
    try:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    except discord.HTTPException as exc:
        if not interaction_gone(exc):
            raise
        log.warning(
            "interaction %s was lost by Discord (%s); its answer will be delivered another way", interaction.id, exc
        )
        return False
    return True


async def deliver(
    interaction: discord.Interaction,
    *,
    private: bool,
    deferred: bool = True,
    content: str | None = None,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> None:
    """Edit the deferred reply into the answer. When Discord no longer knows the interaction (lost, or its token
    expired), the answer is not lost: it goes to the channel (a public question) or to the asker by DM (a private
    one), saying whose question it answers, without pinging anyone."""
    if deferred:
        try:
            await interaction.edit_original_response(
                content=content, embed=embed, view=view, allowed_mentions=NO_MENTIONS
            )
            return
        except discord.HTTPException as exc:
            if not interaction_gone(exc):
                raise
            log.warning("interaction %s can no longer be answered (%s); delivering elsewhere", interaction.id, exc)
    extra = {"view": view} if view is not None else {}
    if private or interaction.channel is None or interaction.guild_id is None:
        note = "Your answer (Discord lost the original reply):"
        await interaction.user.send(content=fit(f"{note}\n{content or ''}".strip(), CONTENT_LIMIT, lambda s: s),
                                    embed=embed, allowed_mentions=NO_MENTIONS, **extra)  # fmt: skip
    else:
        note = f"Answer for {interaction.user.mention} (Discord lost the original reply):"
        await interaction.channel.send(content=fit(f"{note}\n{content or ''}".strip(), CONTENT_LIMIT, lambda s: s),
                                       embed=embed, allowed_mentions=NO_MENTIONS, **extra)  # fmt: skip


# -- the one error path ----------------------------------------------------------------------------------


async def reply_privately(interaction: discord.Interaction, text: str) -> None:
    """Tell the user something only they see, whether or not the interaction was answered already."""
    content = fit(text, CONTENT_LIMIT, lambda s: s)
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(content, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def on_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    """tree.on_error: a short message to the user (private), the traceback to the log."""
    original = getattr(error, "original", error)
    if isinstance(original, UserFacingError):
        text = str(original)
    elif isinstance(error, app_commands.CommandOnCooldown):
        text = f"Slow down a little: try again in {error.retry_after:.0f} s."
    elif isinstance(error, app_commands.MissingPermissions | app_commands.CheckFailure):
        text = "You can't use this command here."
    elif isinstance(original, discord.HTTPException) and interaction_gone(original):
        # Nobody can be told any more (Discord lost the interaction): one line, no traceback.
        log.warning("interaction %s (/%s) can no longer be answered: %s", interaction.id, interaction.command, original)
        return
    else:
        command = interaction.command.qualified_name if interaction.command else "?"
        log.exception("error in /%s", command, exc_info=original)
        text = "Something went wrong on my side; it has been logged. Please try again."
    try:
        await reply_privately(interaction, text)
    except discord.HTTPException:
        log.warning("could not tell the user about an error in interaction %s", interaction.id, exc_info=True)
