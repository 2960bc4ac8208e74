"""Help channels in the store, on each database (a SQLite file, a PostgreSQL server): claims at most once (also
from two stores on one database, as two processes would have), the sliding-hour cap, the kill switch inside the
reservation, outcomes."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio

from store import Store
from store.helpdesk import HOUR, HelpChannel, HelpdeskStore, help_channels_configured

GUILD, FORUM, TEXT = 100, 200, 300
T0 = 1_765_000_000.0


@pytest_asyncio.fixture
async def desk(database):
    store = await Store.open(database)
    yield HelpdeskStore(store)
    await store.close()


async def claim(desk: HelpdeskStore, post_id: int, channel_id: int = FORUM, now: float = T0) -> bool:
    return await desk.claim(
        post_id=post_id, guild_id=GUILD, channel_id=channel_id, thread_id=post_id, author_id=7, now=now
    )


@pytest.mark.asyncio
async def test_channels_set_changed_listed_and_switched_off(desk):
    assert not await help_channels_configured(desk.store)
    await desk.set_channel(HelpChannel(FORUM, GUILD, "forum"), user_id=1, now=T0)
    await desk.set_channel(
        HelpChannel(TEXT, GUILD, "text", mode="suggest", per_hour=3, reaction="❔"), user_id=1, now=T0
    )
    await desk.set_channel(HelpChannel(999, GUILD + 1, "forum"), user_id=1, now=T0)
    assert await help_channels_configured(desk.store)
    assert [c.channel_id for c in await desk.channels(GUILD)] == [FORUM, TEXT]
    assert len(await desk.channels()) == 3
    changed = HelpChannel(FORUM, GUILD, "forum", min_confidence="low", per_hour=5)
    await desk.set_channel(changed, user_id=2, now=T0 + 1)
    assert await desk.get_channel(FORUM) == changed
    assert (await desk.get_channel(TEXT)).reaction == "❔"
    with pytest.raises(ValueError):
        await desk.set_channel(HelpChannel(1, GUILD, "voice"), user_id=1, now=T0)
    assert await desk.remove(GUILD, TEXT) == 1
    assert await desk.get_channel(TEXT) is None and await desk.get_channel(FORUM) is not None
    assert await desk.remove(GUILD) == 1, "off without a channel: every help channel of the guild"
    assert await desk.channels(GUILD) == [] and len(await desk.channels()) == 1


@pytest.mark.asyncio
async def test_a_post_is_claimed_once_even_by_racing_callers(desk):
    await desk.set_channel(HelpChannel(FORUM, GUILD, "forum"), user_id=1, now=T0)
    results = await asyncio.gather(*(claim(desk, 5) for _ in range(20)))
    assert results.count(True) == 1
    post = await desk.post(5)
    assert post is not None and post.status == "claimed" and post.thread_id == 5 and post.author_id == 7


@pytest.mark.asyncio
async def test_two_stores_on_one_database_claim_and_cap_together(database):
    """Two processes on one database: one claim wins, and the hourly cap counts both processes' answers."""
    first, second = await Store.open(database), await Store.open(database)
    try:
        a, b = HelpdeskStore(first), HelpdeskStore(second)
        await a.set_channel(HelpChannel(FORUM, GUILD, "forum", per_hour=3), user_id=1, now=T0)
        won = await asyncio.gather(*(claim(store, 1) for store in (a, b, a, b)))
        assert won.count(True) == 1
        for post_id in range(10, 20):
            assert await claim(a if post_id % 2 else b, post_id)
        reservations = await asyncio.gather(
            *((a if post_id % 2 else b).reserve(post_id, FORUM, T0 + 1) for post_id in range(10, 20))
        )
        assert reservations.count("ok") == 3 and reservations.count("capped") == 7
        assert await b.answered_since(FORUM, T0 - HOUR) == 3
    finally:
        await first.close()
        await second.close()


@pytest.mark.asyncio
async def test_the_cap_is_a_sliding_hour_and_only_answers_count(desk):
    await desk.set_channel(HelpChannel(FORUM, GUILD, "forum", per_hour=2), user_id=1, now=T0)
    for post_id in (1, 2, 3, 4):
        assert await claim(desk, post_id)
    assert await desk.reserve(1, FORUM, T0) == "ok"
    await desk.finish(1, "answered", answer_id=11, reply_id=111, question="q1", confidence="high")
    assert await desk.reserve(2, FORUM, T0 + 60) == "ok"
    await desk.finish(2, "failed", reason="HTTP 403: Missing Permissions")  # gives its slot back
    assert await desk.reserve(3, FORUM, T0 + 120) == "ok"
    assert await desk.reserve(4, FORUM, T0 + 180) == "capped"
    assert (await desk.post(4)).status == "capped"
    # an hour after the first answer, its slot is free again; the second is still within the hour
    assert await claim(desk, 5, now=T0 + HOUR + 1)
    assert await desk.reserve(5, FORUM, T0 + HOUR + 1) == "ok"
    assert await claim(desk, 6, now=T0 + HOUR + 2)
    assert await desk.reserve(6, FORUM, T0 + HOUR + 2) == "capped"
    answered = await desk.post(1)
    assert answered.status == "answered" and answered.answer_id == 11 and answered.reply_id == 111
    assert answered.answered_at == T0 and answered.question == "q1"
    assert (await desk.post(2)).answered_at is None


@pytest.mark.asyncio
async def test_the_kill_switch_is_read_inside_the_reservation(desk):
    await desk.set_channel(HelpChannel(FORUM, GUILD, "forum"), user_id=1, now=T0)
    assert await claim(desk, 1)
    await desk.remove(GUILD, FORUM)
    assert await desk.reserve(1, FORUM, T0) == "off"
    assert (await desk.post(1)).status == "off"


@pytest.mark.asyncio
async def test_outcomes_follow_ups_and_last_problem(desk):
    await desk.set_channel(HelpChannel(FORUM, GUILD, "forum"), user_id=1, now=T0)
    for post_id, status in ((1, "answered"), (2, "silent"), (3, "silent"), (4, "failed")):
        assert await claim(desk, post_id, now=T0 + post_id)
        if status == "answered":
            assert await desk.reserve(post_id, FORUM, T0 + post_id) == "ok"
        await desk.finish(post_id, status, reason="missing permission: Embed Links" if status == "failed" else None)
    assert await desk.outcomes(FORUM, T0) == {"answered": 1, "silent": 2, "failed": 1}
    assert await desk.outcomes(FORUM, T0 + 2) == {"silent": 1, "failed": 1}
    assert (await desk.answered_thread(1)).post_id == 1
    assert await desk.answered_thread(2) is None, "follow-ups only where the bot answered"
    assert (await desk.last_problem(FORUM)).reason == "missing permission: Embed Links"
    with pytest.raises(ValueError):
        await desk.finish(1, "claimed")


def test_migration_versions_are_unique():
    """Two migrations with one number would leave a database that has the first without the second."""
    from store import migrations

    for dialect in ("sqlite", "postgres"):
        versions = [version for version, _ in migrations(dialect)]
        assert len(versions) == len(set(versions)) and versions == sorted(versions)
