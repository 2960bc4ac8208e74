"""/ask, questions by DM or mention, and the answer buttons (◀ ▶, Full passages, 👍 👎).

Thin adapter: parse, call the engine in a worker thread, render with cogs.render. Button state lives in the
custom_id (answer id, action, page) and in SQLite (the question behind the answer id), so buttons keep working
after a restart.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.cooldown import question_cooldown
from cogs.engine_thread import run_engine
from cogs.render import (
    INVALID_BUTTON,
    NO_MENTIONS,
    PAGE_SIZE,
    answer_embed,
    defer,
    deliver,
    full_passages_embed,
    message_text,
    pages_of,
    reply_privately,
    stored_id,
)
from index.engine import Answer, clean_question
from index.errors import UserFacingError
from lifecycle import first_delivery, tracking
from store.conversation import Conversation, Reply, dm_scope, guild_scope

if TYPE_CHECKING:
    from client import FootnoteBot

log = logging.getLogger(__name__)

QUESTION_MAX = 500
_MENTION_RE = re.compile(r"<@!?(\d+)>")


# action -> (emoji, label, style, row)
_BUTTONS: dict[str, tuple[str | None, str | None, discord.ButtonStyle, int]] = {
    "prev": ("◀", None, discord.ButtonStyle.secondary, 0),
    "next": ("▶", None, discord.ButtonStyle.secondary, 0),
    "full": (None, "Full passages", discord.ButtonStyle.primary, 0),
    "up": ("👍", None, discord.ButtonStyle.secondary, 1),
    "down": ("👎", None, discord.ButtonStyle.secondary, 1),
}


class AskButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"fn:ask:(?P<answer>[0-9]{1,19}):(?P<action>prev|next|full|up|down):(?P<page>[0-9]{1,2})",
):
    """A button of an answer message. Everything it needs is in its custom_id and in the store."""

    def __init__(self, answer_id: int | None, action: str, page: int, *, disabled: bool = False) -> None:
        """`answer_id` None: a forged custom_id (answered with a clear message, never looked up)."""
        emoji, label, style, row = _BUTTONS[action]
        super().__init__(
            discord.ui.Button(
                style=style,
                emoji=emoji,
                label=label,
                custom_id=f"fn:ask:{answer_id or 0}:{action}:{page}",
                disabled=disabled,
                row=row,
            )
        )
        self.answer_id, self.action, self.page = answer_id, action, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> AskButton:
        return cls(stored_id(match["answer"]), match["action"], int(match["page"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return first_delivery(interaction)  # the same click delivered twice is answered once

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.answer_id is None:
            log.info("button with an invalid answer id from user %s", interaction.user.id)
            await reply_privately(interaction, INVALID_BUTTON)
            return
        cog = interaction.client.get_cog(AskCog.__cog_name__)
        if not isinstance(cog, AskCog):
            await reply_privately(interaction, "Footnote is restarting; please try again in a moment.")
            return
        try:
            async with tracking(interaction.client):
                await cog.on_button(interaction, self.answer_id, self.action, self.page)
        except UserFacingError as exc:
            await reply_privately(interaction, str(exc))
        except Exception:
            log.exception("button %s failed", self.item.custom_id)
            await reply_privately(interaction, "Something went wrong on my side; it has been logged.")


SEND_RETRIES = (1.0, 3.0)  # seconds before each new try after a Discord server error (5xx)


async def reply_to(message: discord.Message, **fields: Any) -> None:
    """Reply to a DM or mention without pinging. A server error (discord.py retries 500/502 itself, not 503) is
    tried again; a channel the bot may not post in (403) gets the answer to its asker by DM instead."""
    for delay in (*SEND_RETRIES, None):
        try:
            await message.reply(mention_author=False, allowed_mentions=NO_MENTIONS, **fields)
            return
        except discord.Forbidden as exc:
            if message.guild is None:
                raise
            log.warning(
                "cannot reply in channel %s (%s); answering message %s by DM", message.channel.id, exc, message.id
            )
            note = f"I can't post in <#{message.channel.id}>; here is the answer to your question there."
            content = fields.pop("content", None)
            text = f"{note}\n{content}" if content else note
            await message.author.send(content=text, allowed_mentions=NO_MENTIONS, **fields)
            return
        except discord.DiscordServerError as exc:
            if delay is None:
                raise
            log.warning("Discord failed replying to message %s (%s); trying again in %.0f s", message.id, exc, delay)
            await asyncio.sleep(delay)


def answer_view(answer_id: int | None, answer: Answer, page: int) -> discord.ui.View:
    """The buttons of an answer (none when it could not be stored: they would have nothing to act on)."""
    view = discord.ui.View(timeout=None)
    if answer_id is None:
        return view
    if not answer.abstained:
        pages = pages_of(answer)
        view.add_item(AskButton(answer_id, "prev", page, disabled=page <= 0))
        view.add_item(AskButton(answer_id, "next", page, disabled=page >= pages - 1))
        view.add_item(AskButton(answer_id, "full", page))
    view.add_item(AskButton(answer_id, "up", page))
    view.add_item(AskButton(answer_id, "down", page))
    return view


class AskCog(commands.Cog, name="Ask"):
    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot
        settings = getattr(bot, "settings", None)
        self.conversation = Conversation(
            lambda: bot.engine,
            bot.store,
            window_minutes=getattr(settings, "memory_window_minutes", 30.0),
            run=functools.partial(run_engine, bot),
        )

    async def _page(self, params: dict[str, Any], question: str, page: int) -> Answer:
        """Page `page` of a stored answer, re-run from its stored query (deterministic for one corpus version)."""
        return await run_engine(
            self.bot,
            self.bot.engine.ask,
            params.get("query") or question,
            PAGE_SIZE,
            int(params.get("offset", 0)) + page * PAGE_SIZE,
            tuple(params.get("exclude", ())),
            params.get("context", ""),
        )

    def _embed(self, reply: Reply) -> discord.Embed:
        return answer_embed(
            reply.answer,
            question=clean_question(reply.question) or reply.answer.query,
            version=self.bot.engine.version,
            page=0,
            understood=reply.understood,
        )

    # -- /ask ------------------------------------------------------------------------------------------

    @app_commands.command(name="ask", description="Ask the corpus a question; the answer quotes it verbatim")
    @app_commands.describe(question="What you want to know", private="Only you see the answer (default: no)")
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, QUESTION_MAX],
        private: bool = False,
    ) -> None:
        question_cooldown(self.bot).check(interaction.user.id)
        deferred = await defer(interaction, ephemeral=private)
        user_id = interaction.user.id
        if interaction.guild_id is None or interaction.channel_id is None:
            scope = dm_scope(user_id)
        else:
            scope = guild_scope(interaction.guild_id, interaction.channel_id, user_id)
        try:
            reply = await self.conversation.ask(
                scope=scope,
                user_id=user_id,
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                question=question,
                k=PAGE_SIZE,
                private=private,
            )
        except UserFacingError as exc:
            await deliver(interaction, private=True, deferred=deferred, content=message_text(str(exc)))
            return
        await deliver(
            interaction,
            private=private,
            deferred=deferred,
            embed=self._embed(reply),
            view=answer_view(reply.answer_id, reply.answer, 0),
        )

    # -- DMs and mentions ------------------------------------------------------------------------------

    def question_in(self, message: discord.Message) -> str | None:
        """The question of a DM, or of a server message that mentions the bot; None for other messages."""
        me = self.bot.user
        if message.author.bot or me is None or message.author.id == me.id:
            return None
        if message.guild is None:
            return message.content
        if not any(user.id == me.id for user in message.mentions):
            return None
        return _MENTION_RE.sub(lambda m: "" if int(m.group(1)) == me.id else m.group(0), message.content)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        question = self.question_in(message)
        if question is None:
            return
        try:
            async with tracking(self.bot):
                if not question.strip():
                    raise UserFacingError("Ask me a question after the mention, e.g. “What is code red?”")
                question_cooldown(self.bot).check(message.author.id)
                guild_id = message.guild.id if message.guild else None
                user_id = message.author.id
                scope = dm_scope(user_id) if guild_id is None else guild_scope(guild_id, message.channel.id, user_id)
                reply = await self.conversation.ask(
                    scope=scope,
                    user_id=user_id,
                    guild_id=guild_id,
                    channel_id=message.channel.id,
                    question=question,
                    k=PAGE_SIZE,
                )
                await reply_to(message, embed=self._embed(reply), view=answer_view(reply.answer_id, reply.answer, 0))
        except UserFacingError as exc:
            await reply_to(message, content=message_text(str(exc)))
        except discord.HTTPException as exc:
            log.warning("could not answer message %s: %s", message.id, exc)
        except Exception:
            log.exception("error answering message %s", message.id)
            await message.reply(
                "Something went wrong on my side; it has been logged.",
                mention_author=False,
                allowed_mentions=NO_MENTIONS,
            )

    # -- buttons ---------------------------------------------------------------------------------------

    async def on_button(self, interaction: discord.Interaction, answer_id: int, action: str, page: int) -> None:
        record = await self.bot.store.get_answer(answer_id)
        if record is None:
            raise UserFacingError("This answer is no longer stored; please ask again.")
        if record.private and interaction.user.id != record.user_id:
            raise UserFacingError("Only the person who asked can use the buttons of a private answer.")
        if action in ("up", "down"):
            value = 1 if action == "up" else -1
            await self.bot.store.record_feedback(answer_id, interaction.user.id, value)
            log.info("feedback %+d on answer %d from user %d", value, answer_id, interaction.user.id)
            await reply_privately(interaction, "Thanks for the feedback!")
            return
        if record.corpus_version != self.bot.engine.version:
            raise UserFacingError("The corpus has changed since this answer; ask again for current excerpts.")
        question_cooldown(self.bot).check(interaction.user.id)  # the other buttons run a query
        if action == "full":
            await interaction.response.defer(ephemeral=True, thinking=True)
            answer = await self._page(record.params, record.question, page)
            await interaction.edit_original_response(
                embed=full_passages_embed(answer.results, self.bot.engine.version), allowed_mentions=NO_MENTIONS
            )
            return
        target = page - 1 if action == "prev" else page + 1
        await interaction.response.defer()
        answer = await self._page(record.params, record.question, max(0, target))
        if not answer.results:
            raise UserFacingError("There are no more excerpts for this question.")
        target = max(0, min(target, pages_of(answer) - 1))
        await interaction.edit_original_response(
            embed=answer_embed(answer, question=answer.query, version=self.bot.engine.version, page=target),
            view=self._view_for(record.kind, answer_id, answer, target),
            allowed_mentions=NO_MENTIONS,
        )

    def _view_for(self, kind: str, answer_id: int, answer: Answer, page: int) -> discord.ui.View:
        """The buttons of a stored answer: a cog whose `answer_kind` made it (the help channels' answers, with
        their own feedback buttons) builds them; otherwise /ask's."""
        if kind != "ask":
            for cog in self.bot.cogs.values():
                if getattr(cog, "answer_kind", None) == kind:
                    return cog.answer_view(answer_id, answer, page)
        return answer_view(answer_id, answer, page)


async def setup(bot: commands.Bot) -> None:
    if getattr(bot, "engine", None) is None or getattr(bot, "store", None) is None:
        raise RuntimeError("cogs.ask needs bot.engine (index.engine.Engine) and bot.store (store.Store)")
    bot.add_dynamic_items(AskButton)
    await bot.add_cog(AskCog(bot))


async def teardown(bot: commands.Bot) -> None:
    bot.remove_dynamic_items(AskButton)
