"""Help channels: new forum posts, and questions in help text channels, answered on their own, only when the
corpus answers them at the channel's confidence; `/helpdesk set|off|show` (Manage Server).

A post is read from its title and first message (index/helpdesk.py says how, and what reads as a question in a
text channel). When the engine answers at or above the channel's `min_confidence`, the bot replies in the post's
thread (for a text channel, in a thread it opens on the question) with the usual cited excerpts, ◀ ▶ and Full
passages, and two buttons: "This answered it" (adds the forum's Solved tag when there is one and the bot may)
and "Not helpful" (feedback that /gaps lists). When it does not, the bot says nothing in `answer` mode, and in
`suggest` mode adds the channel's reaction to the post so moderators see that the corpus had nothing; the
question is then a knowledge gap (/gaps, the digest). The poster's follow-ups in the thread ("more", "why?",
"what about X?", another question) are answered as in DMs.

Never twice, never out of turn: every post is claimed in the store before anything else (store/helpdesk.py: at
most once across duplicate deliveries, edits, restarts and processes); bots, webhooks and system messages are
never answered; nor is a post someone else already replied to; the channel's hourly cap and the poster's question
budget (cogs/cooldown.py) apply; `/helpdesk off` takes effect at once in every process, because every post reads
its channel's settings from the store when it arrives and again when its answer's slot is reserved.

Forum posts arrive as THREAD_CREATE and the starter message's MESSAGE_CREATE, in either order: whichever comes
second finds the other (the thread in the cache, or the starter message in the message cache) and handles the
post. Every outcome is one log line and a status in the store (/helpdesk show counts them): nothing fails in
front of a user, and a post Discord refused (a missing permission, a locked or deleted post) is recorded, not lost.

Why one module of ~770 lines: the listener and the `/helpdesk` commands share the process's filter of help channels
(`_help_ids`, which set and off update at once) and the Message Content state; what a post asks lives in
index/helpdesk.py and the once-only claims in store/helpdesk.py.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from cogs.ask import AskButton, answer_view
from cogs.cooldown import question_cooldown
from cogs.engine_thread import run_engine
from cogs.render import NO_MENTIONS, PAGE_SIZE, answer_embed, clip, escape, fit, message_text, pages_of, reply_privately
from index.engine import MAX_QUESTION_CHARS, Answer, clean_question
from index.errors import QuestionError, UserFacingError
from index.followup import resolve
from index.helpdesk import DEFAULT_MIN_CONFIDENCE, is_solved_tag, post_question, reads_as_question, sure_enough
from lifecycle import ShuttingDown, tracking
from store import StoreError
from store.conversation import Conversation, guild_scope
from store.helpdesk import DEFAULT_REACTION, HOUR, HelpChannel, HelpdeskStore

if TYPE_CHECKING:
    from client import FootnoteBot

log = logging.getLogger(__name__)

REFRESH_SECONDS = 10.0  # how soon a help channel set in another process is noticed (its switch-off: at once)
HISTORY_LIMIT = 50  # messages of a thread read to see whether a person replied first
THREAD_NAME_LIMIT = 100
THREAD_ARCHIVE_MINUTES = 1440
STATUS_WORDS = {
    "answered": "answered",
    "silent": "not answered (nothing sure enough)",
    "reacted": "marked with the reaction (nothing sure enough)",
    "capped": "over the hourly cap",
    "limited": "poster over their question budget",
    "human": "a person replied first",
    "skipped": "nothing to read",
    "gone": "deleted before the answer",
    "failed": "refused by Discord",
    "off": "switched off meanwhile",
}


class HelpdeskButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"fn:help:(?P<answer>[0-9]{1,19}):(?P<action>solved|unhelpful)",
):
    """ "This answered it" / "Not helpful" under an automatic answer. Everything it needs is in its custom_id and
    in the store, so it works after a restart."""

    def __init__(self, answer_id: int, action: str) -> None:
        solved = action == "solved"
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.success if solved else discord.ButtonStyle.secondary,
                label="This answered it" if solved else "Not helpful",
                emoji="✅" if solved else "👎",
                custom_id=f"fn:help:{answer_id}:{action}",
                row=1,
            )
        )
        self.answer_id, self.action = answer_id, action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> HelpdeskButton:
        return cls(int(match["answer"]), match["action"])

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog(HelpdeskCog.__cog_name__)
        if not isinstance(cog, HelpdeskCog):
            await reply_privately(interaction, "Footnote is restarting; please try again in a moment.")
            return
        try:
            async with tracking(interaction.client):
                await cog.on_feedback(interaction, self.answer_id, self.action)
        except UserFacingError as exc:
            await reply_privately(interaction, str(exc))
        except Exception:
            log.exception("helpdesk button %s failed", self.item.custom_id)
            await reply_privately(interaction, "Something went wrong on my side; it has been logged.")


_EMOJI_CATEGORIES = ("So", "Sk", "Mn", "Cf")


def check_reaction(value: str, guild: discord.Guild | None) -> str:
    """The reaction moderators chose, as Discord takes it: one Unicode emoji, or a custom emoji of this server
    (`<:name:id>` or `name:id`)."""
    text = value.strip()
    emoji = discord.PartialEmoji.from_str(text)
    if emoji.id is not None:
        if guild is None or guild.get_emoji(emoji.id) is None:
            raise UserFacingError(f"“{clip(text, 60)}” is not an emoji of this server.")
        return f"{emoji.name}:{emoji.id}"
    symbols = [c for c in text if unicodedata.category(c) not in ("Mn", "Cf") and c not in "\ufe0f\u200d"]
    is_emoji = symbols and all(
        unicodedata.category(c) in _EMOJI_CATEGORIES or 0x1F1E6 <= ord(c) <= 0x1F1FF or 0x1F3FB <= ord(c) <= 0x1F3FF
        for c in symbols
    )
    if not is_emoji or len(text) > 16:
        raise UserFacingError(f"“{clip(text, 60)}” is not one emoji: use e.g. 📭 or a custom emoji of this server.")
    return text


@dataclass(frozen=True)
class Post:
    """One question in a help channel: a forum post (its thread and starter message) or a message in a help text
    channel (`thread` None: the bot opens one to answer)."""

    message: discord.Message
    help_channel_id: int
    thread: discord.Thread | None
    title: str
    body: str

    @property
    def post_id(self) -> int:
        return self.message.id

    @property
    def author_id(self) -> int:
        return self.message.author.id

    @property
    def guild_id(self) -> int:
        assert self.message.guild is not None
        return self.message.guild.id


class HelpChannelOption(app_commands.Transformer):
    """A forum, text or announcement channel of the server. (discord.py's annotation for a forum also offers media
    channels, type 16, which Discord's API spec does not list for command options and Footnote does not read.)"""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.forum, discord.ChannelType.text, discord.ChannelType.news]

    async def transform(
        self, interaction: discord.Interaction, value: object
    ) -> discord.ForumChannel | discord.TextChannel:
        guild = interaction.guild
        channel = guild.get_channel(getattr(value, "id", 0)) if guild is not None else None
        if not isinstance(channel, discord.ForumChannel | discord.TextChannel):
            raise UserFacingError("Pick a forum or text channel of this server.")
        return channel


HelpChannelArg = app_commands.Transform[discord.ForumChannel | discord.TextChannel, HelpChannelOption]


def _from_bot(message: discord.Message) -> bool:
    return message.author.bot or message.webhook_id is not None or message.is_system()


def _mentions(message: discord.Message, user: discord.abc.Snowflake | None) -> bool:
    return user is not None and any(m.id == user.id for m in message.mentions)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class HelpdeskCog(
    commands.GroupCog,
    name="Helpdesk",
    group_name="helpdesk",
    group_description="Help channels whose new posts Footnote answers on its own",
):
    answer_kind = "helpdesk"  # the stored answers behind the buttons (AskCog asks this cog for their view)

    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot
        self.desk = HelpdeskStore(bot.store)
        settings = getattr(bot, "settings", None)
        self.default_per_hour = int(getattr(settings, "helpdesk_per_hour", 20) or 20)
        self.conversation = Conversation(
            lambda: bot.engine,
            bot.store,
            window_minutes=getattr(settings, "memory_window_minutes", 30.0),
            run=functools.partial(run_engine, bot),
        )
        self._help_ids: set[int] = set()
        self._warned: set[str] = set()
        super().__init__()

    def _now(self) -> float:
        clock = getattr(self.bot, "clock", None)
        return clock() if callable(clock) else discord.utils.utcnow().timestamp()

    async def cog_load(self) -> None:
        await self.refresh()
        self.refresher.change_interval(seconds=REFRESH_SECONDS)
        self.refresher.start()

    async def cog_unload(self) -> None:
        self.refresher.cancel()

    @tasks.loop(seconds=REFRESH_SECONDS)
    async def refresher(self) -> None:
        await self.refresh()

    async def refresh(self) -> None:
        """Which channels are help channels (for this process's quick filter; each post re-reads its own)."""
        try:
            self._help_ids = {c.channel_id for c in await self.desk.channels()}
        except StoreError as exc:
            log.warning("help channels unavailable: %s", exc)

    def _warn_once(self, key: str, text: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(text, *args)

    @property
    def reads_content(self) -> bool:
        return bool(self.bot.intents.message_content)

    # -- incoming messages -------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or _from_bot(message):
            return
        channel = message.channel
        if isinstance(channel, discord.Thread):
            if channel.parent_id not in self._help_ids:
                return
            if message.id == channel.id:
                if isinstance(channel.parent, discord.ForumChannel):
                    await self._forum_post(channel, message)
                return
            await self._thread_message(channel, message)
        elif isinstance(channel, discord.TextChannel) and channel.id in self._help_ids:
            await self._text_post(channel, message)

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        """A new forum post whose starter message arrived first (it is in the message cache by now)."""
        if thread.parent_id not in self._help_ids or not isinstance(thread.parent, discord.ForumChannel):
            return
        starter = thread.starter_message
        if starter is not None and not _from_bot(starter):
            await self._forum_post(thread, starter)

    async def _forum_post(self, thread: discord.Thread, starter: discord.Message) -> None:
        if _mentions(starter, self.bot.user):
            return  # asked the bot by name: the mention is answered like any other (cogs/ask.py)
        if not self.reads_content and not starter.content:
            self._warn_once(
                "intent",
                "help channels: no Message Content intent in this session, so forum posts are read by their title"
                " only (restart after setting a help channel; `footnote doctor` explains)",
            )
        await self._handle(Post(starter, thread.parent_id or 0, thread, thread.name, starter.content))

    async def _text_post(self, channel: discord.TextChannel, message: discord.Message) -> None:
        if message.reference is not None or message.type is not discord.MessageType.default:
            return  # a reply belongs to a conversation already going on
        if _mentions(message, self.bot.user):
            return
        if not message.content and not self.reads_content:
            self._warn_once(
                "intent-text",
                "help channels: no Message Content intent in this session, so questions in the help text channel"
                " #%s cannot be read (restart after setting a help channel; `footnote doctor` explains)",
                channel.name,
            )
            return
        if not reads_as_question(message.content):
            return
        await self._handle(Post(message, channel.id, None, "", message.content))

    # -- one post, from claim to outcome -----------------------------------------------------------------

    async def _handle(self, post: Post) -> None:
        try:
            async with tracking(self.bot):
                await self._answer(post)
        except ShuttingDown:
            log.info("helpdesk: post %s arrived while shutting down; not handled", post.post_id)
        except StoreError as exc:
            log.warning("helpdesk: post %s not handled, the database is unavailable: %s", post.post_id, exc)
        except Exception:
            log.exception("helpdesk: post %s failed", post.post_id)
            await self._finish(post, "failed", reason="internal error (logged)")

    async def _finish(self, post: Post, status: str, **fields: object) -> None:
        try:
            await self.desk.finish(post.post_id, status, **fields)  # type: ignore[arg-type]
        except StoreError as exc:
            log.warning("helpdesk: could not record post %s as %s: %s", post.post_id, status, exc)

    async def _answer(self, post: Post) -> None:
        config = await self.desk.get_channel(post.help_channel_id)
        if config is None:
            return  # switched off (in this process or another)
        question = post_question(post.title, post.body, MAX_QUESTION_CHARS)
        thread_id = post.thread.id if post.thread is not None else None
        claimed = await self.desk.claim(
            post_id=post.post_id,
            guild_id=post.guild_id,
            channel_id=config.channel_id,
            thread_id=thread_id,
            author_id=post.author_id,
            now=self._now(),
        )
        if not claimed:
            log.debug("helpdesk: post %s already handled", post.post_id)
            return
        where = f"post {post.post_id} in channel {config.channel_id}"
        if not question.text:
            log.info("helpdesk: %s has no words to read (title and message empty, or only images/embeds)", where)
            await self._finish(post, "skipped", reason="nothing to read")
            return
        if question.truncated:
            log.info("helpdesk: %s is %d characters; reading its first %d", where, len(post.body), len(question.text))
        problem = self._cannot_answer(post)
        if problem:
            log.warning("helpdesk: %s not answered: %s", where, problem)
            await self._finish(post, "failed", question=question.text, reason=problem)
            return
        if question_cooldown(self.bot).retry_after(post.author_id) > 0:
            log.info("helpdesk: %s not answered: its poster is over their question budget", where)
            await self._finish(post, "limited", question=question.text)
            return
        engine = self.bot.engine
        try:
            answer = await run_engine(self.bot, engine.ask, question.text, PAGE_SIZE)
        except QuestionError as exc:
            log.info("helpdesk: %s not searchable: %s", where, exc)
            await self._finish(post, "skipped", question=question.text, reason=str(exc))
            return
        if not sure_enough(answer.abstained, answer.confidence, config.min_confidence):
            await self._unanswered(post, config, question.text, answer, where)
            return
        if await self._person_replied(post):
            log.info("helpdesk: %s not answered: a person replied first", where)
            await self._finish(post, "human", question=question.text, confidence=answer.confidence)
            return
        problem = self._cannot_answer(post)  # again: the post may have been locked while the engine worked
        if problem:
            log.warning("helpdesk: %s not answered: %s", where, problem)
            await self._finish(post, "failed", question=question.text, reason=problem)
            return
        reservation = await self.desk.reserve(post.post_id, config.channel_id, self._now())
        if reservation == "off":
            log.info("helpdesk: %s not answered: help was switched off in that channel meanwhile", where)
            return
        if reservation == "capped":
            log.info("helpdesk: %s not answered: channel %s reached %d answers this hour", where, config.channel_id,
                     config.per_hour)  # fmt: skip
            return
        await self._send_answer(post, config, question.text, answer, where)

    def _cannot_answer(self, post: Post) -> str:
        """Why the bot may not answer this post in this channel (a missing permission, a locked thread), or ""."""
        guild = post.message.guild
        me = guild.me if guild is not None else None
        if me is None:
            return ""
        place = post.thread if post.thread is not None else post.message.channel
        if not isinstance(place, discord.abc.GuildChannel | discord.Thread):
            return ""
        permissions = place.permissions_for(me)
        missing = [
            name
            for name, held in (
                ("View Channel", permissions.view_channel),
                ("Send Messages in Threads", permissions.send_messages_in_threads),
                ("Embed Links", permissions.embed_links),
                ("Read Message History", permissions.read_message_history),
                ("Create Public Threads", post.thread is not None or permissions.create_public_threads),
            )
            if not held
        ]
        if missing:
            return "missing permission: " + ", ".join(missing)
        if post.thread is not None and post.thread.locked and not permissions.manage_threads:
            return "the post is locked"
        return ""

    async def _person_replied(self, post: Post) -> bool:
        """Whether someone other than the poster (and not a bot) already answered: in the post's thread, or for a
        text channel, in a thread on the question or in a reply to it."""
        places: list[discord.abc.Messageable] = []
        if post.thread is not None:
            places.append(post.thread)
        else:
            thread = post.message.thread
            if thread is not None:
                places.append(thread)
            places.append(post.message.channel)
        for place in places:
            try:
                async for message in place.history(limit=HISTORY_LIMIT):
                    if message.id <= post.post_id or _from_bot(message) or message.author.id == post.author_id:
                        continue
                    reference = message.reference
                    in_thread = isinstance(place, discord.Thread)
                    if in_thread or (reference is not None and reference.message_id == post.post_id):
                        return True
            except discord.HTTPException as exc:
                log.info("helpdesk: cannot read the history of %s (%s); assuming nobody replied", place, exc)
        return False

    async def _unanswered(self, post: Post, config: HelpChannel, question: str, answer: Answer, where: str) -> None:
        """The corpus had nothing sure enough: silence (answer mode) or the channel's reaction (suggest mode); the
        question is remembered as a knowledge gap."""
        level = "abstained" if answer.abstained else f"{answer.confidence} confidence"
        await self._remember(post, question, answer, answer_id=None, thread_id=None, unanswered=True)
        if config.mode != "suggest":
            log.info("helpdesk: %s not answered (%s, the channel needs %s)", where, level, config.min_confidence)
            await self._finish(post, "silent", question=question, confidence=answer.confidence)
            return
        try:
            await post.message.add_reaction(config.reaction)
        except discord.NotFound:
            log.info("helpdesk: %s was deleted before its reaction", where)
            await self._finish(post, "gone", question=question, confidence=answer.confidence)
            return
        except discord.HTTPException as exc:
            log.warning("helpdesk: %s: could not add the reaction %s: %s", where, config.reaction, exc)
            await self._finish(post, "failed", question=question, reason=f"reaction refused: {exc.text or exc}")
            return
        log.info("helpdesk: %s marked with %s (%s)", where, config.reaction, level)
        await self._finish(post, "reacted", question=question, confidence=answer.confidence)

    async def _send_answer(self, post: Post, config: HelpChannel, question: str, answer: Answer, where: str) -> None:
        engine = self.bot.engine
        title = post.title or question
        answer_id: int | None = None
        try:
            answer_id = await self.bot.store.save_answer(
                question=question,
                user_id=post.author_id,
                guild_id=post.guild_id,
                channel_id=config.channel_id,
                private=False,
                corpus_version=engine.version,
                abstained=False,
                kind=self.answer_kind,
                params={"query": answer.query, "context": "", "offset": 0, "post_id": post.post_id},
            )
        except StoreError as exc:
            log.warning("helpdesk: %s: answer not stored (%s); it goes out without buttons", where, exc)
        embed = answer_embed(answer, question=clean_question(title) or answer.query, version=engine.version, page=0)
        view = self.answer_view(answer_id, answer, 0)
        try:
            thread = post.thread
            if thread is None:
                name = clip(clean_question(question), THREAD_NAME_LIMIT) or "Question"
                thread = await post.message.create_thread(name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES)
            reply = await thread.send(embed=embed, view=view, allowed_mentions=NO_MENTIONS)
        except discord.NotFound:
            log.info("helpdesk: %s was deleted before the answer was sent", where)
            await self._finish(post, "gone", question=question, confidence=answer.confidence)
            return
        except discord.HTTPException as exc:
            log.warning("helpdesk: %s: Discord refused the answer (%s %s)", where, exc.status, exc.text or exc)
            await self._finish(post, "failed", question=question, reason=f"HTTP {exc.status}: {exc.text or exc}")
            return
        await self._remember(post, question, answer, answer_id=answer_id, thread_id=thread.id, unanswered=False)
        await self._finish(
            post, "answered", question=question, confidence=answer.confidence, answer_id=answer_id,
            reply_id=reply.id, thread_id=thread.id,
        )  # fmt: skip
        log.info("helpdesk: %s answered (%s confidence) in thread %s", where, answer.confidence, thread.id)

    async def _remember(
        self, post: Post, question: str, answer: Answer, *, answer_id: int | None, thread_id: int | None,
        unanswered: bool,
    ) -> None:  # fmt: skip
        """Store the post as a conversation turn: the poster's follow-ups in the thread continue from it, and an
        unanswered one is a knowledge gap (/gaps, the digest). A post is public, and asked in its help channel:
        /gaps and the digest quote it to those who can read that channel and only count it for anyone else."""
        scope = guild_scope(post.guild_id, thread_id or post.help_channel_id, post.author_id)
        try:
            await self.bot.store.add_turn(
                scope=scope,
                user_id=post.author_id,
                guild_id=post.guild_id,
                question=question,
                query=answer.query,
                kind="new",
                shown=[r.passage.pid for r in answer.results] if not unanswered else [],
                abstained=unanswered,
                corpus_version=self.bot.engine.version,
                answer_id=answer_id,
                now=self._now(),
                channel_id=post.help_channel_id,
                private=False,
            )
        except StoreError as exc:
            log.warning("helpdesk: post %s not remembered: %s", post.post_id, exc)

    # -- the poster's follow-ups ---------------------------------------------------------------------------

    async def _thread_message(self, thread: discord.Thread, message: discord.Message) -> None:
        """The original poster writing again in a thread the bot answered: answered like a DM when it is a
        follow-up ("more", "why?", "what about X?") or another question; chat ("thanks!") is left alone."""
        if _mentions(message, self.bot.user) or not message.content:
            return
        try:
            post = await self.desk.answered_thread(thread.id)
        except StoreError as exc:
            log.warning("helpdesk: follow-up in thread %s not read: %s", thread.id, exc)
            return
        if post is None or post.author_id != message.author.id:
            return
        try:
            async with tracking(self.bot):
                if await self.desk.get_channel(post.channel_id) is None:
                    return
                scope = guild_scope(post.guild_id, thread.id, message.author.id)
                previous = await self.conversation.previous(scope)
                engine = self.bot.engine
                kind = resolve(message.content, previous.query if previous else None, engine.glossary, engine.analyzer)
                # "more" and "what about X?" continue the answer; anything else must read as a question: a
                # pronoun alone ("thanks, that helps") is chat, not a follow-up.
                if kind.kind not in ("more", "swap") and not reads_as_question(message.content):
                    return
                question_cooldown(self.bot).check(message.author.id)
                reply = await self.conversation.ask(
                    scope=scope,
                    user_id=message.author.id,
                    guild_id=post.guild_id,
                    channel_id=thread.id,
                    question=message.content,
                    k=PAGE_SIZE,
                )
                embed = answer_embed(
                    reply.answer,
                    question=clean_question(reply.question) or reply.answer.query,
                    version=engine.version,
                    page=0,
                    understood=reply.understood,
                )
                await message.reply(
                    embed=embed,
                    view=answer_view(reply.answer_id, reply.answer, 0),
                    mention_author=False,
                    allowed_mentions=NO_MENTIONS,
                )
        except UserFacingError as exc:
            try:
                await message.reply(message_text(str(exc)), mention_author=False, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as http_error:
                log.info("helpdesk: could not tell %s: %s", message.author.id, http_error)
        except discord.HTTPException as exc:
            log.warning("helpdesk: follow-up %s in thread %s not answered: %s", message.id, thread.id, exc)
        except StoreError as exc:
            log.warning("helpdesk: follow-up %s not answered, the database is unavailable: %s", message.id, exc)

    # -- the answer's buttons ------------------------------------------------------------------------------

    def answer_view(self, answer_id: int | None, answer: Answer, page: int) -> discord.ui.View:
        """◀ ▶ and Full passages (as for /ask), then "This answered it" and "Not helpful"."""
        view = discord.ui.View(timeout=None)
        if answer_id is None:
            return view
        pages = pages_of(answer)
        view.add_item(AskButton(answer_id, "prev", page, disabled=page <= 0))
        view.add_item(AskButton(answer_id, "next", page, disabled=page >= pages - 1))
        view.add_item(AskButton(answer_id, "full", page))
        view.add_item(HelpdeskButton(answer_id, "solved"))
        view.add_item(HelpdeskButton(answer_id, "unhelpful"))
        return view

    async def on_feedback(self, interaction: discord.Interaction, answer_id: int, action: str) -> None:
        record = await self.bot.store.get_answer(answer_id)
        if record is None or record.kind != self.answer_kind:
            raise UserFacingError("This answer is no longer stored.")
        if action == "unhelpful":
            await self.bot.store.record_feedback(answer_id, interaction.user.id, -1)
            log.info("helpdesk: answer %d marked not helpful by %d", answer_id, interaction.user.id)
            await reply_privately(interaction, "Thanks: noted for the people who keep the documents (/gaps).")
            return
        moderator = isinstance(interaction.user, discord.Member) and interaction.permissions.manage_threads
        if interaction.user.id != record.user_id and not moderator:
            raise UserFacingError("Only the person who asked (or a moderator) can mark this as answered.")
        await self.bot.store.record_feedback(answer_id, interaction.user.id, 1)
        note = await self._tag_solved(interaction.channel)
        log.info("helpdesk: answer %d marked as answering the post by %d (%s)", answer_id, interaction.user.id, note)
        await reply_privately(interaction, f"Marked as answered. {note}")

    async def _tag_solved(self, channel: object) -> str:
        """Add the forum's "Solved" tag to the post when there is one and the bot may; says what happened."""
        if not isinstance(channel, discord.Thread) or not isinstance(channel.parent, discord.ForumChannel):
            return ""
        forum = channel.parent
        tag = next((t for t in forum.available_tags if is_solved_tag(t.name, t.emoji and str(t.emoji))), None)
        if tag is None:
            return "(This forum has no “Solved” tag to add.)"
        if any(applied.id == tag.id for applied in channel.applied_tags):
            return f"(It already has the “{escape(tag.name)}” tag.)"
        me = channel.guild.me
        if me is None or not channel.permissions_for(me).manage_threads:
            return f"(I can't add the “{escape(tag.name)}” tag: I need the Manage Threads permission.)"
        if len(channel.applied_tags) >= 5:
            return f"(The post already has 5 tags, so “{escape(tag.name)}” cannot be added.)"
        try:
            await channel.add_tags(tag, reason="marked as answered")
        except discord.HTTPException as exc:
            log.warning("helpdesk: could not tag thread %s as solved: %s", channel.id, exc)
            return f"(Discord refused the “{escape(tag.name)}” tag: it may have been removed from the forum.)"
        return f"Tagged “{escape(tag.name)}”."

    # -- /helpdesk -------------------------------------------------------------------------------------

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Manage Server is the default permission of /helpdesk; checked again here, when it runs."""
        return interaction.guild_id is not None and interaction.permissions.manage_guild

    async def _reply(self, interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(fit(text, 2000, lambda s: s), ephemeral=True,
                                                allowed_mentions=NO_MENTIONS)  # fmt: skip

    @app_commands.command(name="set", description="Answer new posts of a forum or text channel on their own")
    @app_commands.describe(
        channel="A forum channel (each new post) or a text channel (each new question)",
        mode="answer: reply only when the corpus answers (default); suggest: also react when it does not",
        min_confidence="high: only sure answers (default); low: also partial ones",
        per_hour="At most this many automatic answers per hour in this channel",
        reaction="suggest mode: the emoji added to posts the corpus cannot answer (default 📭)",
    )
    async def set_(
        self,
        interaction: discord.Interaction,
        channel: HelpChannelArg,
        mode: Literal["answer", "suggest"] = "answer",
        min_confidence: Literal["high", "low"] = DEFAULT_MIN_CONFIDENCE,  # type: ignore[assignment]
        per_hour: app_commands.Range[int, 1, 1000] | None = None,
        reaction: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        guild = interaction.guild
        emoji = check_reaction(reaction, guild) if reaction else DEFAULT_REACTION
        me = guild.me if guild is not None else None
        if me is not None:
            missing = self._missing_for(channel, me, mode)
            if missing:
                raise UserFacingError(f"I can't answer in {channel.mention}: give me {', '.join(missing)}.")
        config = HelpChannel(
            channel_id=channel.id,
            guild_id=channel.guild.id,
            kind="forum" if isinstance(channel, discord.ForumChannel) else "text",
            mode=mode,
            min_confidence=min_confidence,
            per_hour=per_hour or self.default_per_hour,
            reaction=emoji,
        )
        await self.desk.set_channel(config, user_id=interaction.user.id, now=self._now())
        self._help_ids.add(channel.id)
        log.info("helpdesk: %s set in guild %s by %s: %s", channel.id, channel.guild.id, interaction.user.id, config)
        await self._reply(interaction, "Help channel set. " + self._describe(config) + self._intent_note())

    def _missing_for(self, channel: discord.abc.GuildChannel, me: discord.Member, mode: str) -> list[str]:
        permissions = channel.permissions_for(me)
        wanted = [
            ("View Channel", permissions.view_channel),
            ("Send Messages in Threads", permissions.send_messages_in_threads),
            ("Embed Links", permissions.embed_links),
            ("Read Message History", permissions.read_message_history),
        ]
        if isinstance(channel, discord.TextChannel):
            wanted.append(("Create Public Threads", permissions.create_public_threads))
        if mode == "suggest":
            wanted.append(("Add Reactions", permissions.add_reactions))
        return [name for name, held in wanted if not held]

    def _intent_note(self) -> str:
        if self.reads_content:
            return ""
        return (
            "\n\n⚠️ I am running without the **Message Content** intent, so I can read forum posts' titles but not"
            " their text, nor questions in text channels. Enable it in the Developer Portal (Bot → Privileged"
            " Gateway Intents → Message Content) and restart me: I ask for it at start-up when a help channel is set."
        )

    def _describe(self, config: HelpChannel) -> str:
        what = "new posts" if config.kind == "forum" else "new questions"
        text = (
            f"<#{config.channel_id}>: {what} answered when the corpus answers them at **{config.min_confidence}**"
            f" confidence, at most **{config.per_hour}** an hour"
        )
        if config.mode == "suggest":
            text += f"; posts it cannot answer get {config.reaction}"
        return text + "."

    @app_commands.command(name="off", description="Stop answering help posts (in one channel, or everywhere here)")
    @app_commands.describe(channel="Only this channel (default: every help channel of this server)")
    async def off(self, interaction: discord.Interaction, channel: HelpChannelArg | None = None) -> None:
        guild_id = interaction.guild_id or 0
        removed = await self.desk.remove(guild_id, channel.id if channel is not None else None)
        await self.refresh()
        log.info("helpdesk: switched off in guild %s (%s) by %s: %d channels", guild_id,
                 channel.id if channel else "all", interaction.user.id, removed)  # fmt: skip
        if not removed:
            await self._reply(interaction, "There was no help channel to switch off.")
            return
        noun = "channel" if removed == 1 else "channels"
        await self._reply(interaction, f"Help switched off in {removed} {noun}, at once. Nothing more is answered.")

    @app_commands.command(name="show", description="Show this server's help channels and what became of their posts")
    async def show(self, interaction: discord.Interaction) -> None:
        configs = await self.desk.channels(interaction.guild_id or 0)
        if not configs:
            await self._reply(interaction, "No help channel here. Use `/helpdesk set` to add one.")
            return
        now = self._now()
        lines = []
        for config in configs:
            outcomes = await self.desk.outcomes(config.channel_id, now - 24 * HOUR)
            last_hour = await self.desk.answered_since(config.channel_id, now - HOUR)
            ordered = sorted(outcomes.items(), key=lambda item: -item[1])
            counts = ", ".join(f"{n} {STATUS_WORDS.get(status, status)}" for status, n in ordered) or "no posts"
            line = f"• {self._describe(config)}\n  Last 24 h: {counts}; this hour {last_hour}/{config.per_hour}."
            problem = await self.desk.last_problem(config.channel_id)
            if problem is not None and problem.created_at > now - 24 * HOUR:
                line += f"\n  ⚠️ Last refusal: {escape(clip(problem.reason or '?', 200))}"
            lines.append(line)
        await self._reply(interaction, "\n".join(lines) + self._intent_note())


async def setup(bot: commands.Bot) -> None:
    if getattr(bot, "engine", None) is None or getattr(bot, "store", None) is None:
        raise RuntimeError("cogs.helpdesk needs bot.engine (index.engine.Engine) and bot.store (store.Store)")
    bot.add_dynamic_items(HelpdeskButton)
    await bot.add_cog(HelpdeskCog(bot))


async def teardown(bot: commands.Bot) -> None:
    bot.remove_dynamic_items(HelpdeskButton)
