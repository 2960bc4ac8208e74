"""The daily digest through the real bot and the twin, with an injected clock; /reload of the corpus."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from client import FootnoteBot
from index.engine import Engine
from store.digest import DigestStore

from ..conftest import SEEDS
from .footnote_helpers import settings_for
from .twin import MESSAGE_FLAG_EPHEMERAL, make_text_channel, make_user


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


async def start_digest_bot(twin, run_bot, engine, store, tmp_path, clock, **overrides):
    settings = settings_for(twin, tmp_path, digest_tick_seconds=0, reload_poll_seconds=0, **overrides)
    bot = FootnoteBot(
        settings=settings, store=store, engine=engine, extensions=("cogs.digest", "cogs.admin"), clock=clock
    )
    await run_bot(bot)
    return bot, bot.get_cog("DigestCog")


async def digest_command(twin, sub, options=None, user=None):
    interaction_id = await twin.slash_command("digest", options or {}, subcommand=sub, user=user or twin.default_user)
    responses = await twin.wait_for_responses(interaction_id, 1)
    return interaction_id, responses


@pytest.mark.asyncio
async def test_digest_arrives_in_the_right_channel_at_the_right_time_once(twin, run_bot, engine, store, tmp_path):
    clock = Clock(utc(2025, 12, 10, 7, 0))
    news = make_text_channel("news", guild_id=twin.guild["id"])
    twin.guild["channels"].append(news)
    twin.channels[news["id"]] = news
    _, cog = await start_digest_bot(twin, run_bot, engine, store, tmp_path, clock)

    options = {"channel": news["id"], "time": "09:00", "timezone": "Europe/Paris", "topics": "Sora, 算力"}
    _, [reply] = await digest_command(twin, "set", options)
    assert reply.message["content"].startswith("Digest scheduled.") and reply.message["flags"] & MESSAGE_FLAG_EPHEMERAL

    clock.now = utc(2025, 12, 10, 7, 59)  # 08:59 in Paris
    assert await cog.tick() == [] and twin.bot_messages(news["id"]) == []
    clock.now = utc(2025, 12, 10, 8, 0)  # 09:00 in Paris
    assert await cog.tick() == [int(twin.guild["id"])]
    first_day = twin.bot_messages(news["id"])
    general = twin.channel_messages(twin.channel["id"], include_ephemeral=False)
    assert first_day and not [m for m in general if m.get("embeds")]
    embed = first_day[0]["embeds"][0]
    assert embed["title"] == "Daily digest · 2025-12-10" and "Sora" in embed["description"]
    assert "¶ " in embed["description"]

    query = "SELECT item_key, posted_at FROM digest_items WHERE item_key LIKE 'passage:%'"
    posted_day_one = {r["item_key"] for r in await cog.bot.store._read(query)}
    assert posted_day_one
    clock.now = utc(2025, 12, 10, 8, 1)
    assert await cog.tick() == []  # exactly once
    assert len(twin.bot_messages(news["id"])) == len(first_day)

    clock.now = utc(2025, 12, 11, 8, 0)
    assert await cog.tick() == [int(twin.guild["id"])]
    assert len(twin.bot_messages(news["id"])) > len(first_day)
    rows = await cog.bot.store._read(query)
    day_one = {r["item_key"] for r in rows if r["posted_at"] == utc(2025, 12, 10, 8, 0)}
    day_two = {r["item_key"] for r in rows if r["posted_at"] == utc(2025, 12, 11, 8, 0)}
    # A passage posted again on day two would have its posted_at moved to day two.
    assert day_one == posted_day_one and day_two and not day_one & day_two
    assert twin.violations == []


@pytest.mark.asyncio
async def test_deleted_channel_pauses_and_the_admin_is_told(twin, run_bot, engine, store, tmp_path):
    clock = Clock(utc(2025, 12, 10, 7, 0))
    doomed = make_text_channel("doomed", guild_id=twin.guild["id"])
    twin.guild["channels"].append(doomed)
    twin.channels[doomed["id"]] = doomed
    _, cog = await start_digest_bot(twin, run_bot, engine, store, tmp_path, clock)
    await digest_command(twin, "set", {"channel": doomed["id"], "time": "08:00"})

    del twin.channels[doomed["id"]]
    twin.guild["channels"].remove(doomed)
    await twin.dispatch("CHANNEL_DELETE", doomed)
    await twin.wait_for(lambda: cog.bot.get_channel(int(doomed["id"])) is None, what="channel gone from cache")
    clock.now = utc(2025, 12, 10, 8, 0)
    assert await cog.tick() == []
    _, [reply] = await digest_command(twin, "show")
    assert "paused" in reply.message["content"] and "deleted" in reply.message["content"]
    clock.now = utc(2025, 12, 11, 8, 0)
    assert await cog.tick() == []  # stays paused until /digest set
    assert twin.violations == []


@pytest.mark.asyncio
async def test_digest_commands_need_manage_server(twin, run_bot, engine, store, tmp_path):
    await start_digest_bot(twin, run_bot, engine, store, tmp_path, Clock(utc(2025, 12, 10)))
    member = make_user("member")
    twin.add_member(twin.guild["id"], member)
    for sub, options in (("show", {}), ("set", {"channel": twin.channel["id"], "time": "09:00"})):
        _, [reply] = await digest_command(twin, sub, options, user=member)
        assert "can't use this command" in reply.message["content"]
    digest_command_payload = next(c for c in twin.commands(twin.guild["id"]) if c["name"] == "digest")
    assert int(digest_command_payload["default_member_permissions"]) == 1 << 5
    _, [reply] = await digest_command(twin, "set", {"channel": twin.channel["id"], "time": "25:99"})
    assert "not a time of day" in reply.message["content"]
    _, [reply] = await digest_command(
        twin, "set", {"channel": twin.channel["id"], "time": "09:00", "timezone": "Nowhere/X"}
    )
    assert "IANA" in reply.message["content"]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_preview_is_private_and_marks_nothing_as_posted(twin, run_bot, engine, store, tmp_path):
    clock = Clock(utc(2025, 12, 10, 12))
    _, cog = await start_digest_bot(twin, run_bot, engine, store, tmp_path, clock)
    await digest_command(twin, "set", {"channel": twin.channel["id"], "time": "23:00", "topics": "GPT-5.2"})
    interaction_id, _ = await digest_command(twin, "preview")
    await twin.wait_for_responses(interaction_id, 2)
    shown = twin.message(twin.interaction(interaction_id).original_message_id or "")
    assert shown["flags"] & MESSAGE_FLAG_EPHEMERAL and "GPT-5.2" in shown["embeds"][0]["description"]
    assert await cog.digests.recent_items(int(twin.guild["id"]), clock.now) == set()
    assert twin.violations == []


# A rebuild of the seeds takes ~2 s on an idle 2-core machine and 8-13 s when it is loaded; the test is about
# what the reload does, not how fast, so it waits generously.
RELOAD_SECONDS = 60.0


@pytest.mark.asyncio
async def test_reload_swaps_a_good_corpus_and_keeps_the_old_one_on_failure(twin, run_bot, store, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    engine = Engine.open(corpus, tmp_path / "data")
    clock = Clock(utc(2025, 12, 20))
    bot, cog = await start_digest_bot(
        twin, run_bot, engine, store, tmp_path, clock, corpus_dir=corpus, data_dir=tmp_path / "data"
    )
    clock.now += 3600
    owner_only = await twin.slash_command("reload", user=make_user("stranger"))
    [reply] = await twin.wait_for_responses(owner_only, 1)
    assert "Only the bot's owner" in reply.message["content"]

    (corpus / "2025-12-20-new.txt").write_text(
        "Rubin 芯片:英伟达发布了新的芯片 Rubin,性能大幅提升。\n", encoding="utf-8"
    )
    interaction_id = await twin.slash_command("reload", user=twin.default_user)
    await twin.wait_for_responses(interaction_id, 2, timeout=RELOAD_SECONDS)
    done = twin.message(twin.interaction(interaction_id).original_message_id or "")
    assert "→" in done["content"] and bot.engine is not engine and "2025-12-20-new" in bot.engine.documents
    assert await cog.digests.documents_since(utc(2025, 12, 20)) == ["2025-12-20-new"]

    good = bot.engine
    for path in corpus.glob("*.txt"):
        path.write_bytes(b"\x80\x81 not utf-8 \x00")  # no byte order mark: binary, unreadable
    interaction_id = await twin.slash_command("reload", user=twin.default_user)
    await twin.wait_for_responses(interaction_id, 2, timeout=RELOAD_SECONDS)
    failed = twin.message(twin.interaction(interaction_id).original_message_id or "")
    assert "Reload failed" in failed["content"] and good.version in failed["content"]
    assert bot.engine is good
    assert twin.violations == []


# -- failures while posting (issue 14, points 9 and 10) ---------------------------------------------------------

MANY_TOPICS = "OpenAI, Sora, Gemini, ChatGPT, 算力"


async def _long_gaps(store, twin) -> None:
    """Five long public questions the corpus could not answer, asked in the digest's channel: with five topics
    they make the digest two messages."""
    for n in range(5):
        question = f"Question {n}: " + "what did the regional water board decide about the reservoir levels? " * 4
        await store.add_turn(
            scope=f"guild:{twin.guild['id']}:channel:{twin.channel['id']}:user:{n}", user_id=n,
            guild_id=int(twin.guild["id"]), question=question, query=question, kind="new", shown=[],
            abstained=True, corpus_version="v", channel_id=int(twin.channel["id"]), private=False, now=utc(2025, 12, 9),
        )  # fmt: skip


def _footers(twin, channel_id: str) -> list[str]:
    return [m["embeds"][0]["footer"]["text"] for m in twin.bot_messages(channel_id) if m.get("embeds")]


def _assert_each_part_once(twin, channel_id: str) -> int:
    footers = _footers(twin, channel_id)
    total = int(footers[0].rsplit("/", 1)[1])
    assert sorted(f.rsplit("·", 1)[1].strip() for f in footers) == sorted(f"{n}/{total}" for n in range(1, total + 1))
    return total


@pytest.mark.asyncio
@pytest.mark.parametrize("handled", [False, True], ids=["refused", "answer-lost"])
async def test_a_failed_part_is_sent_again_alone_exactly_once(twin, run_bot, engine, store, tmp_path, handled):
    """Part 2 fails (503: discord.py does not retry it); the retry sends only what is missing. With `handled`
    Discord created part 2 and the answer was lost: the retry finds it and does not post it twice."""
    from .twin import CHANNEL_MESSAGES

    clock = Clock(utc(2025, 12, 10, 7, 0))
    _, cog = await start_digest_bot(twin, run_bot, engine, store, tmp_path, clock)
    channel = twin.channel["id"]
    await _long_gaps(store, twin)
    await digest_command(twin, "set", {"channel": channel, "time": "08:00", "topics": MANY_TOPICS})
    fault = twin.fail(CHANNEL_MESSAGES, 503, method="POST", after=1, handled=handled)
    clock.now = utc(2025, 12, 10, 8, 0)
    assert await cog.tick() == []
    assert fault.hits == 1
    status = await cog.digests.post_status(int(twin.guild["id"]), datetime(2025, 12, 10).date())
    assert status["status"] == "retry"
    clock.now += 60  # the first retry is due after a minute
    assert await cog.tick() == [int(twin.guild["id"])]
    assert _assert_each_part_once(twin, channel) >= 2
    assert twin.violations == []


@pytest.mark.asyncio
async def test_a_restart_between_parts_sends_only_the_missing_ones(twin, engine, store, tmp_path):
    from .twin import CHANNEL_MESSAGES

    clock = Clock(utc(2025, 12, 10, 7, 0))
    channel = twin.channel["id"]
    settings = settings_for(twin, tmp_path, digest_tick_seconds=0, reload_poll_seconds=0)
    first = FootnoteBot(settings=settings, store=store, engine=engine, extensions=("cogs.digest",), clock=clock)
    await _long_gaps(store, twin)
    async with twin.run_bot(first):
        await digest_command(twin, "set", {"channel": channel, "time": "08:00", "topics": MANY_TOPICS})
        twin.fail(CHANNEL_MESSAGES, 503, method="POST", after=1, times=100)  # Discord down after part 1
        clock.now = utc(2025, 12, 10, 8, 0)
        assert await first.get_cog("DigestCog").tick() == []
    assert len(_footers(twin, channel)) == 1
    twin.faults.clear()  # Discord is back; so is the bot, in a new process
    second = FootnoteBot(settings=settings, store=store, engine=engine, extensions=("cogs.digest",), clock=clock)
    async with twin.run_bot(second):
        clock.now += 60
        assert await second.get_cog("DigestCog").tick() == [int(twin.guild["id"])]
        clock.now += 3600
        assert await second.get_cog("DigestCog").tick() == []
    assert _assert_each_part_once(twin, channel) >= 2
    assert twin.violations == []


@pytest.mark.asyncio
async def test_a_claim_left_mid_digest_is_taken_over_after_the_lease_and_finished_once(twin, engine, store, tmp_path):
    """A process dies between sending part 1 and recording it (Discord created it; the claim stays "claimed").
    Another process takes the day over only once the lease has passed, finds part 1 in the channel, and sends
    only the parts never started: each part exactly once."""
    from store.digest import CLAIM_LEASE_SECONDS

    from .twin import CHANNEL_MESSAGES

    clock = Clock(utc(2025, 12, 10, 7, 0))
    channel, guild = twin.channel["id"], int(twin.guild["id"])
    settings = settings_for(twin, tmp_path, digest_tick_seconds=0, reload_poll_seconds=0)
    first = FootnoteBot(settings=settings, store=store, engine=engine, extensions=("cogs.digest",), clock=clock)
    await _long_gaps(store, twin)
    async with twin.run_bot(first):
        await digest_command(twin, "set", {"channel": channel, "time": "08:00", "topics": MANY_TOPICS})
        twin.fail(CHANNEL_MESSAGES, 503, method="POST", handled=True)  # part 1 made, its answer lost
        clock.now = claimed = utc(2025, 12, 10, 8, 0)
        assert await first.get_cog("DigestCog").tick() == []
    # What a kill -9 right after part 1's send leaves: the claim held, part 1 attempted and unrecorded.
    await store._execute("UPDATE digest_posts SET status = 'claimed', claimed_at = ?, attempts = 0", (claimed,))
    day = datetime(2025, 12, 10).date()
    parts = await DigestStore(store).parts(guild, day)
    assert [(p.sent, p.attempted_at is not None) for p in parts][:2] == [(False, True), (False, False)]
    assert len(_footers(twin, channel)) == 1
    twin.faults.clear()
    second = FootnoteBot(settings=settings, store=store, engine=engine, extensions=("cogs.digest",), clock=clock)
    async with twin.run_bot(second):
        cog = second.get_cog("DigestCog")
        clock.now = claimed + CLAIM_LEASE_SECONDS - 1
        assert await cog.tick() == []  # the claim may still be a live sender's
        clock.now = claimed + CLAIM_LEASE_SECONDS
        assert await cog.tick() == [guild]
        clock.now += 3600
        assert await cog.tick() == []
    assert _assert_each_part_once(twin, channel) == len(parts)
    assert (await cog.digests.post_status(guild, day))["status"] == "sent"
    assert twin.violations == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "code", "message", "said"),
    [
        (403, 50013, "Missing Permissions", "not allowed to post"),
        (403, 50001, "Missing Access", "not allowed to post"),
        (404, 10003, "Unknown Channel", "deleted"),
    ],
)
async def test_a_refused_digest_pauses_and_tells_the_admin(
    twin, run_bot, engine, store, tmp_path, status, code, message, said
):
    from .twin import CHANNEL_MESSAGES

    clock = Clock(utc(2025, 12, 10, 7, 0))
    _, cog = await start_digest_bot(twin, run_bot, engine, store, tmp_path, clock)
    await digest_command(twin, "set", {"channel": twin.channel["id"], "time": "08:00"})
    fault = twin.fail(CHANNEL_MESSAGES, status, method="POST", code=code, message=message, times=100)
    clock.now = utc(2025, 12, 10, 8, 0)
    assert await cog.tick() == [] and fault.hits == 1
    _, [reply] = await digest_command(twin, "show")
    assert "paused" in reply.message["content"] and said in reply.message["content"]
    clock.now += 86400
    assert await cog.tick() == [] and fault.hits == 1  # paused: not tried again until /digest set
    twin.faults.clear()
    await digest_command(twin, "set", {"channel": twin.channel["id"], "time": "08:00"})
    assert await cog.tick() == [int(twin.guild["id"])]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_a_digest_sent_while_the_database_went_away_is_recorded_once_it_is_back(
    twin, run_bot, engine, tmp_path, postgres_cluster
):
    """PostgreSQL stops right after the digest's parts went out, before the day is recorded as sent: nothing is
    posted again while it is down, and the day is recorded (sent, once) as soon as it is back."""
    import asyncio

    from store import Store

    store = await Store.open(postgres_cluster.url())
    try:
        clock = Clock(utc(2025, 12, 10, 7, 0))
        channel, guild = twin.channel["id"], int(twin.guild["id"])
        _, cog = await start_digest_bot(twin, run_bot, engine, store, tmp_path, clock)
        await _long_gaps(store, twin)
        await digest_command(twin, "set", {"channel": channel, "time": "08:00", "topics": MANY_TOPICS})
        record = cog.digests.mark_sent

        async def outage_then_record(*args, **kwargs):
            await asyncio.to_thread(postgres_cluster.stop_server)
            return await record(*args, **kwargs)

        cog.digests.mark_sent = outage_then_record
        clock.now = utc(2025, 12, 10, 8, 0)
        assert await cog.tick() == [guild]  # posted; its record waits for the database
        cog.digests.mark_sent = record
        posted = _assert_each_part_once(twin, channel)
        clock.now += 3600
        assert await cog.tick() == []  # still down: nothing is sent again
        await asyncio.to_thread(postgres_cluster.start_server)
        assert await cog.tick() == []  # back: the day is recorded first, and is not due again
        status = await cog.digests.post_status(guild, datetime(2025, 12, 10).date())
        assert (status["status"], status["attempts"]) == ("sent", 1)
        assert _assert_each_part_once(twin, channel) == posted
        assert twin.violations == []
    finally:
        await store.close()
