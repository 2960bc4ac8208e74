"""Digest scheduling on each database (a SQLite file, a PostgreSQL server) with an injected clock: days of
schedules in milliseconds."""

import asyncio
from datetime import UTC, date, datetime

import pytest
import pytest_asyncio

from index.errors import UserFacingError
from store import Store
from store.digest import RETRY_DELAYS, DigestStore, Schedule, check_timezone, next_due, parse_time_of_day


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def schedule(time_of_day: str = "09:00", tz: str = "UTC") -> Schedule:
    return Schedule(1, 2, time_of_day, tz, (), None, None)


@pytest_asyncio.fixture
async def digests(database):
    store = await Store.open(database)
    yield DigestStore(store)
    await store.close()


@pytest.mark.parametrize(
    ("time_of_day", "tz", "day", "expected_utc"),
    [
        ("09:00", "UTC", date(2025, 12, 10), (2025, 12, 10, 9, 0)),
        ("08:00", "Asia/Shanghai", date(2025, 12, 10), (2025, 12, 10, 0, 0)),
        ("09:00", "America/New_York", date(2025, 3, 8), (2025, 3, 8, 14, 0)),  # EST, the day before DST
        ("09:00", "America/New_York", date(2025, 3, 9), (2025, 3, 9, 13, 0)),  # EDT from this day
        ("09:00", "Europe/Paris", date(2025, 10, 26), (2025, 10, 26, 8, 0)),  # back to CET that night
        ("00:30", "Asia/Kolkata", date(2025, 12, 10), (2025, 12, 9, 19, 0)),  # the UTC date is the day before
    ],
)
def test_due_time_across_time_zones_and_dst(time_of_day, tz, day, expected_utc):
    assert schedule(time_of_day, tz).due_at(day) == utc(*expected_utc)


def test_a_time_skipped_by_dst_falls_on_a_real_instant():
    due = schedule("02:30", "America/New_York").due_at(date(2025, 3, 9))  # 02:30 does not exist that day
    local = datetime.fromtimestamp(due, tz=schedule(tz="America/New_York").zone())
    assert local.date() == date(2025, 3, 9) and local.hour == 3


def test_next_due_is_today_or_tomorrow():
    s = schedule("09:00", "UTC")
    assert next_due(s, utc(2025, 12, 10, 8, 0)) == utc(2025, 12, 10, 9, 0)
    assert next_due(s, utc(2025, 12, 10, 9, 30)) == utc(2025, 12, 11, 9, 0)


@pytest.mark.parametrize("value", ["25:00", "9", "nine", "12:60", "-1:00"])
def test_bad_times_are_refused_clearly(value):
    with pytest.raises(UserFacingError, match="time of day"):
        parse_time_of_day(value)


def test_bad_time_zones_are_refused_clearly():
    with pytest.raises(UserFacingError, match="IANA"):
        check_timezone("Mars/Olympus")


@pytest.mark.asyncio
async def test_due_claim_and_sent_post_once_a_day(digests):
    await digests.set_schedule(1, 2, "09:00", "UTC", [], 7, utc(2025, 12, 1))
    assert await digests.due(utc(2025, 12, 10, 8, 59)) == []
    [(due, day)] = await digests.due(utc(2025, 12, 10, 9, 0))
    assert due.channel_id == 2
    assert day == date(2025, 12, 10)
    assert await digests.claim(1, day, utc(2025, 12, 10, 9, 0))
    assert not await digests.claim(1, day, utc(2025, 12, 10, 9, 1))  # a racing tick loses
    assert await digests.due(utc(2025, 12, 10, 9, 1)) == []
    await digests.mark_sent(1, day, utc(2025, 12, 10, 9, 1), ["passage:a:0"])
    assert await digests.due(utc(2025, 12, 10, 23, 0)) == []
    assert [d for _, d in await digests.due(utc(2025, 12, 11, 9, 0))] == [date(2025, 12, 11)]


@pytest.mark.asyncio
async def test_racing_processes_claim_a_day_exactly_once(database):
    stores = [await Store.open(database) for _ in range(4)]  # four connections, as four processes would have
    try:
        await DigestStore(stores[0]).set_schedule(1, 2, "09:00", "UTC", [], 7, utc(2025, 12, 1))
        day = date(2025, 12, 10)
        results = await asyncio.gather(
            *(DigestStore(s).claim(1, day, utc(2025, 12, 10, 9, 0)) for s in stores for _ in range(5))
        )
        assert results.count(True) == 1
    finally:
        for store in stores:
            await store.close()


@pytest.mark.asyncio
async def test_restart_does_not_post_again_and_catch_up_posts_only_today(database):
    store = await Store.open(database)
    digests = DigestStore(store)
    await digests.set_schedule(1, 2, "09:00", "UTC", [], 7, utc(2025, 12, 1))
    day = date(2025, 12, 10)
    assert await digests.claim(1, day, utc(2025, 12, 10, 9))
    await digests.mark_sent(1, day, utc(2025, 12, 10, 9), [])
    await store.close()

    store = await Store.open(database)  # the bot restarts the same day
    digests = DigestStore(store)
    try:
        assert await digests.due(utc(2025, 12, 10, 15)) == []
        # Down for three days, back at 17:00 on the 14th: only the 14th is due, once.
        assert [d for _, d in await digests.due(utc(2025, 12, 14, 17))] == [date(2025, 12, 14)]
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_failed_sends_retry_with_backoff_then_give_up(digests):
    await digests.set_schedule(1, 2, "09:00", "UTC", [], 7, utc(2025, 12, 1))
    day, now = date(2025, 12, 10), utc(2025, 12, 10, 9)
    assert await digests.claim(1, day, now)
    for attempt, delay in enumerate(RETRY_DELAYS, 1):
        assert await digests.mark_failed(1, day, now, f"HTTP 500 #{attempt}") == "retry"
        assert await digests.due(now + delay - 1) == []
        now += delay
        assert [d for _, d in await digests.due(now)] == [day]
        assert await digests.claim(1, day, now)
    assert await digests.mark_failed(1, day, now, "HTTP 500 again") == "failed"
    status = await digests.post_status(1, day)
    assert status["status"] == "failed" and status["attempts"] == len(RETRY_DELAYS) + 1
    assert "again" in status["error"]
    assert [d for _, d in await digests.due(utc(2025, 12, 11, 9))] == [date(2025, 12, 11)]


@pytest.mark.asyncio
async def test_paused_schedules_are_not_due_until_set_again(digests):
    await digests.set_schedule(1, 2, "09:00", "UTC", [], 7, utc(2025, 12, 1))
    await digests.pause(1, "the digest channel was deleted")
    assert await digests.due(utc(2025, 12, 10, 10)) == []
    assert (await digests.get_schedule(1)).paused_reason == "the digest channel was deleted"
    await digests.set_schedule(1, 3, "09:00", "UTC", [], 7, utc(2025, 12, 10, 10))
    assert len(await digests.due(utc(2025, 12, 10, 10))) == 1


@pytest.mark.asyncio
async def test_items_are_remembered_for_thirty_days(digests):
    await digests.set_schedule(1, 2, "09:00", "UTC", [], 7, utc(2025, 12, 1))
    assert await digests.claim(1, date(2025, 12, 1), utc(2025, 12, 1, 9))
    await digests.mark_sent(1, date(2025, 12, 1), utc(2025, 12, 1, 9), ["passage:a:0", "passage:b:5"])
    assert await digests.recent_items(1, utc(2025, 12, 30, 9)) == {"passage:a:0", "passage:b:5"}
    assert await digests.recent_items(1, utc(2026, 1, 1, 9)) == set()
    assert await digests.recent_items(2, utc(2025, 12, 2)) == set()


@pytest.mark.asyncio
async def test_new_documents_since_the_last_digest(digests):
    await digests.note_documents({"a": "1", "b": "1"}, utc(2025, 12, 1))
    await digests.note_documents({"a": "1", "b": "2", "c": "1"}, utc(2025, 12, 5))  # b changed, c is new
    assert await digests.documents_since(utc(2025, 12, 2)) == ["b", "c"]
    assert await digests.documents_since(None) == []


@pytest.mark.asyncio
async def test_a_claim_abandoned_by_a_dead_process_is_taken_over_after_the_lease(database):
    first, second = await Store.open(database), await Store.open(database)
    try:
        a, b = DigestStore(first, lease_seconds=600), DigestStore(second, lease_seconds=600)
        await a.set_schedule(1, 2, "09:00", "UTC", [], 7, utc(2025, 12, 1))
        day, claimed = date(2025, 12, 10), utc(2025, 12, 10, 9)
        assert await a.claim(1, day, claimed)  # ... and the process dies before sending
        assert await b.due(claimed + 599) == [] and not await b.claim(1, day, claimed + 599)
        assert [d for _, d in await b.due(claimed + 600)] == [day]
        assert await b.claim(1, day, claimed + 600)
        assert not await b.claim(1, day, claimed + 601)  # the new claim is fresh: nobody else takes it
        # Had the first process only been slow, its late record does not overwrite the new owner's.
        assert not await a.mark_sent(1, day, claimed + 700, ["passage:x:1"], claimed_at=claimed)
        assert await a.mark_failed(1, day, claimed + 700, "late", claimed_at=claimed) == "taken over"
        assert await b.mark_sent(1, day, claimed + 650, ["passage:y:2"], claimed_at=claimed + 600)
        assert (await a.post_status(1, day))["status"] == "sent"
        assert await a.recent_items(1, claimed + 700) == {"passage:y:2"}
    finally:
        await first.close()
        await second.close()


@pytest.mark.asyncio
async def test_parts_are_fixed_once_and_recorded_one_by_one(digests):
    await digests.set_schedule(1, 2, "09:00", "UTC", [], 7, utc(2025, 12, 1))
    day, now = date(2025, 12, 10), utc(2025, 12, 10, 9)
    assert await digests.claim(1, day, now)
    payloads = [{"title": "Daily digest", "description": f"part {n}"} for n in range(3)]
    parts = await digests.save_parts(1, day, payloads, ["passage:a:0", "gap:x"])
    assert [p.payload["description"] for p in parts] == ["part 0", "part 1", "part 2"]
    # A second build of the same day (a retry) keeps the parts fixed the first time.
    again = await digests.save_parts(1, day, [{"description": "rebuilt"}], ["other"])
    assert [p.payload for p in again] == payloads
    await digests.part_attempted(1, day, 0, now)
    await digests.part_sent(1, day, 0, 111, now)
    await digests.part_attempted(1, day, 1, now)  # started, never recorded: the process died here
    parts = await digests.parts(1, day)
    assert [(p.sent, p.attempted_at is not None) for p in parts] == [(True, True), (False, True), (False, False)]
    await digests.mark_sent(1, day, now)  # item keys: those fixed with the parts
    assert await digests.recent_items(1, now) == {"passage:a:0", "gap:x"}


@pytest.mark.asyncio
async def test_by_default_a_claim_left_by_a_dead_process_is_taken_back_after_ten_minutes(digests):
    from store.digest import CLAIM_LEASE_SECONDS as CLAIM_TIMEOUT

    assert CLAIM_TIMEOUT == 600 and digests.lease_seconds == CLAIM_TIMEOUT
    await digests.set_schedule(1, 2, "09:00", "UTC", [], 7, utc(2025, 12, 1))
    day, now = date(2025, 12, 10), utc(2025, 12, 10, 9)
    assert await digests.claim(1, day, now)  # and then the process is killed
    assert await digests.due(now + CLAIM_TIMEOUT - 1) == [] and not await digests.claim(1, day, now + 60)
    assert [d for _, d in await digests.due(now + CLAIM_TIMEOUT)] == [day]
    assert await digests.claim(1, day, now + CLAIM_TIMEOUT)
    assert not await digests.claim(1, day, now + CLAIM_TIMEOUT + 1)  # exactly one taker


@pytest.mark.asyncio
async def test_moving_the_digest_restarts_an_unfinished_day_in_the_new_channel(digests):
    await digests.set_schedule(1, 2, "09:00", "UTC", [], 7, utc(2025, 12, 1))
    day, now = date(2025, 12, 10), utc(2025, 12, 10, 9)
    assert await digests.claim(1, day, now)
    await digests.save_parts(1, day, [{"description": "a"}, {"description": "b"}], [])
    await digests.part_sent(1, day, 0, 111, now)
    await digests.set_schedule(1, 3, "09:00", "UTC", [], 7, now)
    assert await digests.parts(1, day) == []
