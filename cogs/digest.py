"""/digest set|off|show|preview and the scheduler that posts each server's daily digest exactly once a day."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, date, datetime
from time import time as wall_clock
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from cogs.engine_thread import run_engine
from cogs.render import DESCRIPTION_LIMIT, EMBEDS_TOTAL_LIMIT, NO_MENTIONS, citation_line, clip, escape, fit
from index.digest import Digest, DigestItem, build_digest
from index.engine import Engine
from index.errors import UserFacingError
from index.timeline import TimelineIndex, build_index, events_on
from store import StoreError
from store.digest import DigestPart, DigestStore, Schedule, check_timezone, next_due, parse_time_of_day

if TYPE_CHECKING:
    from client import FootnoteBot

log = logging.getLogger(__name__)

COLOR = discord.Colour(0x1565C0)
MAX_TOPICS = 5
STOP_WAIT_SECONDS = 10.0


def serves_guild(bot: commands.Bot, guild_id: int) -> bool:
    """Whether this process runs the shard of `guild_id` (always, unsharded): only that process posts the
    server's digest, as Discord's own rule maps a server to a shard: (guild_id >> 22) % shard_count."""
    shard_count = getattr(bot, "shard_count", None)
    shard_ids = getattr(bot, "shard_ids", None)
    if not shard_count or shard_ids is None:
        return True
    return (guild_id >> 22) % shard_count in shard_ids


def item_block(number: int, item: DigestItem) -> str:
    text = item.excerpt.render("**", escape) if item.excerpt is not None else escape(clip(item.text, 300))
    lines = [f"**{number}.** {text}"]
    if item.note:
        lines.append(f"*{escape(clip(item.note, 200))}*")
    if item.citation is not None:
        lines.append(citation_line(item.citation))
    return "\n".join(lines)


def digest_embeds(digest: Digest, title: str) -> list[discord.Embed]:
    """The digest as embeds of whole items, each within Discord's limits (one embed per message)."""
    if digest.empty:
        embed = discord.Embed(title=fit(title, 256, lambda s: s), colour=COLOR)
        embed.description = "Nothing new today: no new documents, no unseen passages on your topics."
        return [embed]
    blocks: list[str] = []
    for section in digest.sections:
        blocks.append(f"__**{escape(clip(section.title, 200))}**__")
        if section.note:
            blocks.append(f"*{escape(clip(section.note, 300))}*")
        blocks.extend(item_block(n, item) for n, item in enumerate(section.items, 1))
    embeds: list[discord.Embed] = []
    current: list[str] = []
    for block in blocks:
        block = fit(block, DESCRIPTION_LIMIT - 10, lambda s: s)
        if current and len("\n\n".join([*current, block])) > DESCRIPTION_LIMIT:
            embeds.append(discord.Embed(colour=COLOR, description="\n\n".join(current)))
            current = []
        current.append(block)
    if current:
        embeds.append(discord.Embed(colour=COLOR, description="\n\n".join(current)))
    embeds[0].title = fit(title, 256, lambda s: s)
    for number, embed in enumerate(embeds, 1):
        embed.set_footer(text=f"Footnote digest · corpus {digest.corpus_version} · {number}/{len(embeds)}")
        assert len(embed) <= EMBEDS_TOTAL_LIMIT
    return embeds


def part_nonce(guild_id: int, day: date, number: int) -> str:
    """The same nonce for every send of one part, so Discord (enforce_nonce) returns the message it already
    created instead of posting it twice when an answer was lost (at most 25 characters)."""
    digest = hashlib.sha256(f"digest:{guild_id}:{day.isoformat()}:{number}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big") >> 1)


def _topics(raw: str | None) -> list[str]:
    if not raw:
        return []
    topics = [t.strip() for t in raw.replace("，", ",").split(",") if t.strip()]
    if len(topics) > MAX_TOPICS:
        raise UserFacingError(f"At most {MAX_TOPICS} topics, separated by commas.")
    return [clip(t, 80) for t in topics]


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class DigestCog(commands.GroupCog, group_name="digest", group_description="The daily digest of this server"):
    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot
        self.digests = DigestStore(bot.store)
        self.clock = getattr(bot, "clock", None) or wall_clock
        settings = getattr(bot, "settings", None)
        self.tick_seconds = float(getattr(settings, "digest_tick_seconds", 60) or 0)
        self._tick_lock = asyncio.Lock()
        self._stopping = False
        # Digests sent while the database was unreachable, recorded as sent once it is back (before anything else).
        # (guild, day, sent at, claimed at); the items posted are those fixed with the day's parts.
        self._unrecorded: list[tuple[int, date, float, float]] = []
        self._events: TimelineIndex | None = None
        super().__init__()

    async def cog_load(self) -> None:
        if self.tick_seconds > 0:
            self.ticker.change_interval(seconds=self.tick_seconds)
            self.ticker.start()

    async def cog_unload(self) -> None:
        """On shutdown, let a digest being sent finish (bounded) rather than cut it off between its claim and
        its record: the next process would otherwise find the day claimed and wait out the lease."""
        self._stopping = True
        self.ticker.stop()
        try:
            async with asyncio.timeout(STOP_WAIT_SECONDS), self._tick_lock:
                pass
        except TimeoutError:
            log.warning("digest still sending after %.0f s at shutdown; stopping it", STOP_WAIT_SECONDS)
        self.ticker.cancel()

    # -- scheduling --------------------------------------------------------------------------------------

    @tasks.loop(seconds=60)
    async def ticker(self) -> None:
        await self.tick()

    @ticker.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def tick(self) -> list[int]:
        """Post every digest that is due now in the servers this process serves (its shards); returns the guild
        ids posted to. Safe to call concurrently and from several processes: a day is claimed in the database
        before anything is sent."""
        posted: list[int] = []
        async with self._tick_lock:
            if self._stopping or not await self._record_unrecorded():
                return posted
            now = self.clock()
            try:
                due = await self.digests.due(now)
            except StoreError as exc:
                log.warning("digest schedules unavailable: %s", exc)
                return posted
            for schedule, day in due:
                if self._stopping:
                    break
                if not serves_guild(self.bot, schedule.guild_id):
                    continue
                try:
                    won = await self.digests.claim(schedule.guild_id, day, now)
                except StoreError as exc:
                    log.warning("digest claims unavailable: %s", exc)
                    break
                if won and await self.post(schedule, day, claimed_at=now):
                    posted.append(schedule.guild_id)
        return posted

    async def _record_unrecorded(self) -> bool:
        """Record the digests sent while the database was away; False while it still is."""
        while self._unrecorded:
            guild_id, day, sent_at, claimed_at = self._unrecorded[0]
            try:
                await self.digests.mark_sent(guild_id, day, sent_at, claimed_at=claimed_at)
            except StoreError as exc:
                log.warning(
                    "database still unavailable (%s); %d sent digests wait to be recorded", exc, len(self._unrecorded)
                )
                return False
            self._unrecorded.pop(0)
        return True

    async def build(self, schedule: Schedule, day: date, now: float) -> Digest:
        since = schedule.last_digest_at
        new_documents = await self.digests.documents_since(since) if since is not None else []
        recent = await self.digests.recent_items(schedule.guild_id, now)
        # Privacy: only public questions asked in the digest's own channel are quoted (its readers saw them
        # asked); questions from other channels are counted, never quoted; private ones are neither.
        audience = (schedule.channel_id,)
        gaps = await self.bot.store.gaps(schedule.guild_id, channels=audience, limit=5, since=since or 0.0)
        elsewhere = await self.bot.store.gaps_elsewhere(schedule.guild_id, channels=audience, since=since or 0.0)
        engine = self.bot.engine
        events = await self._timeline_index(engine)
        return await run_engine(
            self.bot,
            build_digest,
            engine,
            day=day,
            topics=schedule.topics,
            new_documents=new_documents,
            posted_recently=recent,
            unanswered=[(gap.question, gap.asked) for gap in gaps],
            unanswered_elsewhere=elsewhere,
            events_on=lambda d: events_on(events, d),
        )

    async def _timeline_index(self, engine: Engine) -> TimelineIndex:
        """The corpus' dated events for "on this day": the timeline cog's index when it is current."""
        timeline_cog = self.bot.get_cog("Timeline")
        index = getattr(timeline_cog, "index", None)
        if index is not None and index.version == engine.version:
            return index
        if self._events is None or self._events.version != engine.version:
            self._events = await asyncio.to_thread(build_index, engine)
        return self._events

    async def post(self, schedule: Schedule, day: date, *, claimed_at: float | None = None) -> bool:
        """Send the claimed digest of `day`; record success, a retry, a give-up, or a pause. `claimed_at` is
        the claim (see DigestStore.claim): the record applies only while the claim is still this process's.

        The day's parts are fixed the first time (and rebuilt never after); each is recorded the moment Discord
        accepts it, and sent with a nonce of its own, so a retry (or the process that takes a lapsed claim over)
        sends only what is missing, and a resend of a part whose answer was lost is deduplicated by Discord."""
        now = self.clock()
        channel = self.bot.get_channel(schedule.channel_id)
        try:
            if channel is None:
                channel = await self.bot.fetch_channel(schedule.channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                await self._pause(schedule, day, "the digest channel is not a text channel any more")
                return False
            if isinstance(channel, discord.abc.GuildChannel):
                permissions = channel.permissions_for(channel.guild.me)
                if not (permissions.view_channel and permissions.send_messages and permissions.embed_links):
                    await self._pause(schedule, day, f"I lost the permission to post in #{channel.name}")
                    return False
            parts = await self.digests.parts(schedule.guild_id, day)
            if not parts:
                digest = await self.build(schedule, day, now)
                embeds = digest_embeds(digest, f"Daily digest · {day.isoformat()}")
                parts = await self.digests.save_parts(
                    schedule.guild_id, day, [embed.to_dict() for embed in embeds], digest.keys
                )
            for part in parts:
                if not part.sent:
                    await self._send_part(channel, schedule, day, part)
        except discord.NotFound:
            await self._pause(schedule, day, "the digest channel was deleted")
            return False
        except discord.Forbidden:
            await self._pause(schedule, day, "I am not allowed to post in the digest channel")
            return False
        except (discord.HTTPException, StoreError) as exc:
            try:
                status = await self.digests.mark_failed(schedule.guild_id, day, now, str(exc), claimed_at=claimed_at)
            except StoreError as again:  # nothing was recorded: the claim lapses after the lease and is retried
                status = f"not recorded: {again}"
            log.warning("digest for guild %s on %s failed (%s): %s", schedule.guild_id, day, status, exc)
            return False
        sent_at = self.clock()
        try:
            recorded = await self.digests.mark_sent(schedule.guild_id, day, sent_at, claimed_at=claimed_at)
        except StoreError as exc:
            # Sent, but not recorded: keep it, and record it before anything else once the database is back.
            self._unrecorded.append((schedule.guild_id, day, sent_at, claimed_at or now))
            log.warning("digest posted to guild %s but not recorded yet (%s)", schedule.guild_id, exc)
            return True
        if not recorded:
            log.warning(
                "digest of guild %s for %s was taken over by another process (lease expired)", schedule.guild_id, day
            )
        log.info("digest posted to guild %s channel %s for %s", schedule.guild_id, schedule.channel_id, day)
        return True

    async def _send_part(
        self, channel: discord.abc.Messageable, schedule: Schedule, day: date, part: DigestPart
    ) -> None:
        embed = discord.Embed.from_dict(part.payload)
        if part.attempted_at is not None:
            # A send was started and its result never recorded (the process died, or the answer was lost): the
            # message may be in the channel already.
            found = await self._find_posted(channel, embed, part.attempted_at)
            if found is not None:
                await self.digests.part_sent(schedule.guild_id, day, part.number, found, self.clock())
                return
        await self.digests.part_attempted(schedule.guild_id, day, part.number, self.clock())
        message = await channel.send(
            embed=embed, allowed_mentions=NO_MENTIONS, nonce=part_nonce(schedule.guild_id, day, part.number)
        )
        await self.digests.part_sent(schedule.guild_id, day, part.number, message.id, self.clock())

    async def _find_posted(self, channel: discord.abc.Messageable, embed: discord.Embed, since: float) -> int | None:
        """The id of a message of the bot's, posted since `since`, that shows this embed (None if not found or
        the history cannot be read)."""
        me = self.bot.user
        wanted = (embed.title, embed.description, embed.footer.text)
        try:
            async for message in channel.history(limit=50, after=datetime.fromtimestamp(since - 60, UTC)):
                if me is not None and message.author.id == me.id and message.embeds:
                    posted = message.embeds[0]
                    if (posted.title, posted.description, posted.footer.text) == wanted:
                        return message.id
        except discord.HTTPException as exc:
            log.info("cannot read the digest channel's history to look for an unrecorded part: %s", exc)
        return None

    async def _pause(self, schedule: Schedule, day: date, reason: str) -> None:
        await self.digests.pause(schedule.guild_id, reason)
        await self.digests.mark_failed(schedule.guild_id, day, self.clock(), f"paused: {reason}")
        log.warning("digest of guild %s paused: %s", schedule.guild_id, reason)

    # -- commands ----------------------------------------------------------------------------------------

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Manage Server is the default permission of /digest; checked again here, when it runs."""
        return interaction.guild_id is not None and interaction.permissions.manage_guild

    async def _notice(self, guild_id: int) -> str:
        schedule = await self.digests.get_schedule(guild_id)
        if schedule is not None and schedule.paused_reason:
            return f"⚠️ The digest is paused: {schedule.paused_reason}. Run `/digest set` to resume.\n\n"
        return ""

    def _describe(self, schedule: Schedule) -> str:
        topics = ", ".join(escape(t) for t in schedule.topics) or "the corpus' main topics"
        due = int(next_due(schedule, self.clock()))
        return (
            f"Posting daily at **{schedule.time_of_day}** ({escape(schedule.timezone)}) in <#{schedule.channel_id}>,"
            f" next <t:{due}:R>.\nTopics: {topics}."
        )

    async def _reply(self, interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(
            fit(text, 2000, lambda s: s), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="set", description="Post a daily digest in a channel")
    @app_commands.describe(
        channel="Where to post",
        time="Time of day, HH:MM (24 h)",
        timezone="IANA time zone, e.g. UTC, Europe/Paris, Asia/Shanghai (default UTC)",
        topics="Comma-separated topics (default: the corpus' main topics)",
    )
    async def set_(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: app_commands.Range[str, 3, 5],
        timezone: app_commands.Range[str, 1, 64] = "UTC",
        topics: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        parse_time_of_day(time)
        check_timezone(timezone)
        topic_list = _topics(topics)
        me = channel.guild.me
        if me is not None:
            permissions = channel.permissions_for(me)
            if not (permissions.view_channel and permissions.send_messages and permissions.embed_links):
                raise UserFacingError(f"I can't post embeds in {channel.mention}: give me View, Send and Embed Links.")
        schedule = await self.digests.set_schedule(
            channel.guild.id, channel.id, time, timezone, topic_list, interaction.user.id, self.clock()
        )
        await self._reply(interaction, "Digest scheduled. " + self._describe(schedule))

    @app_commands.command(name="off", description="Stop this server's daily digest")
    async def off(self, interaction: discord.Interaction) -> None:
        removed = await self.digests.remove_schedule(interaction.guild_id or 0)
        await self._reply(interaction, "Digest stopped." if removed else "There was no digest scheduled here.")

    @app_commands.command(name="show", description="Show this server's digest schedule")
    async def show(self, interaction: discord.Interaction) -> None:
        guild_id = interaction.guild_id or 0
        schedule = await self.digests.get_schedule(guild_id)
        if schedule is None:
            await self._reply(interaction, "No digest is scheduled here. Use `/digest set` to start one.")
            return
        await self._reply(interaction, await self._notice(guild_id) + self._describe(schedule))

    @app_commands.command(name="preview", description="See, privately, the digest that would be posted now")
    async def preview(self, interaction: discord.Interaction) -> None:
        guild_id = interaction.guild_id or 0
        notice = await self._notice(guild_id)
        schedule = await self.digests.get_schedule(guild_id) or Schedule(
            guild_id, interaction.channel_id or 0, "00:00", "UTC", (), None, None
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.clock()
        digest = await self.build(schedule, schedule.local_date(now), now)
        embeds = digest_embeds(digest, f"Preview · digest for {schedule.local_date(now).isoformat()}")
        await interaction.edit_original_response(
            content=fit(notice.strip(), 2000, lambda s: s) or None, embed=embeds[0], allowed_mentions=NO_MENTIONS
        )
        for embed in embeds[1:]:
            await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(DigestCog(bot))
