"""`footnote db migrate-to`: an existing SQLite database copied into a real PostgreSQL server, proven by counts
and sampled rows, and used as it was (the same answers, history, gaps and digest state) afterwards."""

from __future__ import annotations

from datetime import date

import pytest
import pytest_asyncio

from store import Store
from store.digest import DigestStore
from store.transfer import TransferError, copy_store, verify

SNOWFLAKE = 1_234_567_890_123_456_789


async def _fill(store: Store) -> None:
    """A little of everything a running bot stores, with 64-bit ids, Chinese text, NULLs and whole-number times."""
    for i in range(120):
        guild = None if i % 3 == 0 else SNOWFLAKE + i % 4
        answer = await store.save_answer(
            question=f"问题 {i} — Sora?", user_id=SNOWFLAKE + i % 7, guild_id=guild, channel_id=guild,
            private=i % 5 == 0, corpus_version="v1", abstained=i % 4 == 0, kind="ask" if i % 2 else "timeline",
            params={"topic": f"话题{i}"},
        )  # fmt: skip
        if i % 6 == 0:
            await store.record_feedback(answer, SNOWFLAKE + 1, -1)
        await store.add_turn(
            scope=f"dm:{i % 7}" if guild is None else f"guild:{guild}:channel:{guild}:user:{i % 7}",
            user_id=SNOWFLAKE + i % 7, guild_id=guild, question=f"问题 {i % 9}", query=f"q{i}", kind="new",
            shown=[i, i + 1], abstained=i % 4 == 0, corpus_version="v1", answer_id=answer, now=1_765_000_000 + i,
            channel_id=guild, private=i % 5 == 0, context=f"上下文 {i}" if i % 2 else "",
        )  # fmt: skip
    await store.set_meta("commands_hash", "abc")
    digests = DigestStore(store)
    for guild in range(SNOWFLAKE, SNOWFLAKE + 3):
        await digests.set_schedule(guild, guild + 10, "09:00", "Asia/Shanghai", ["Sora", "算力"], 7, 1_765_000_000)
        assert await digests.claim(guild, date(2025, 12, 10), 1_765_000_100)
        parts = [{"title": "Daily digest · 2025-12-10", "description": f"第 {n} 部分"} for n in range(2)]
        await digests.save_parts(guild, date(2025, 12, 10), parts, [f"passage:a:{guild % 5}"])
        for number in range(2):
            await digests.part_attempted(guild, date(2025, 12, 10), number, 1_765_000_150)
            await digests.part_sent(guild, date(2025, 12, 10), number, SNOWFLAKE + number, 1_765_000_160)
        await digests.mark_sent(guild, date(2025, 12, 10), 1_765_000_200)
    await digests.note_documents({"a": "1", "b": "2"}, 1_765_000_000)


@pytest_asyncio.fixture
async def stores(tmp_path, postgres_url):
    """(a filled SQLite store, an empty PostgreSQL store)."""
    source = await Store.open(tmp_path / "old.sqlite3")
    target = await Store.open(postgres_url)
    try:
        await _fill(source)
        yield source, target
    finally:
        await source.close()
        await target.close()


@pytest.mark.asyncio
async def test_sqlite_database_moves_into_postgres_whole(stores):
    source, target = stores
    report = await copy_store(source, target, sample=50)
    assert report.ok, "\n".join(report.lines())
    counts = {t.name: (t.source_rows, t.target_rows) for t in report.tables}
    assert counts["turns"] == (120, 120) and counts["answers"] == (120, 120) and counts["feedback"] == (20, 20)
    assert counts["digest_posts"] == (3, 3) and counts["digest_parts"] == (6, 6) and counts["meta"] == (1, 1)
    assert all(t.sampled == min(50, t.source_rows) for t in report.tables)

    # The copy is used exactly as the original: the same answers, history, gaps and digest state.
    for answer_id in (1, 60, 120):
        assert await target.get_answer(answer_id) == await source.get_answer(answer_id)
    for user in range(7):
        assert await target.history(SNOWFLAKE + user, guild_id=SNOWFLAKE + 1) == await source.history(
            SNOWFLAKE + user, guild_id=SNOWFLAKE + 1
        )
    # The privacy of every turn came along: the same public gaps per channel, the same counts elsewhere.
    for guild in range(SNOWFLAKE, SNOWFLAKE + 4):
        assert await target.gaps(guild, channels=[guild]) == await source.gaps(guild, channels=[guild])
        assert await target.gaps_elsewhere(guild, channels=[]) == await source.gaps_elsewhere(guild, channels=[])
    assert await source.gaps(SNOWFLAKE, channels=[SNOWFLAKE])  # (there is something to compare)
    day = date(2025, 12, 10)
    assert not await DigestStore(target).claim(SNOWFLAKE, day, 1_765_000_300)  # already sent: not again
    assert await DigestStore(target).recent_items(SNOWFLAKE, 1_765_000_300) == {f"passage:a:{SNOWFLAKE % 5}"}
    assert await DigestStore(target).parts(SNOWFLAKE, day) == await DigestStore(source).parts(SNOWFLAKE, day)
    # New rows continue after the copied ids.
    new_id = await target.save_answer(
        question="new", user_id=1, guild_id=None, channel_id=None, private=False, corpus_version="v2",
        abstained=False,
    )  # fmt: skip
    assert new_id == 121


@pytest.mark.asyncio
async def test_a_target_with_rows_is_refused(stores):
    source, target = stores
    await target.set_meta("commands_hash", "something already here")
    with pytest.raises(TransferError, match=r"is not empty .*meta"):
        await copy_store(source, target)
    assert await target.count_turns() == 0


@pytest.mark.asyncio
async def test_verification_finds_a_changed_or_missing_row(stores):
    source, target = stores
    assert (await copy_store(source, target, sample=500)).ok
    await target._execute("UPDATE turns SET question = 'changed' WHERE id = 5")
    await target._execute("DELETE FROM feedback WHERE answer_id = 7")
    report = await verify(source, target, sample=500)
    assert not report.ok
    problems = [p for t in report.tables for p in t.mismatches]
    assert any("turns {'id': 5}: question differ" in p for p in problems)
    assert any("feedback" in p and "missing in the target" in p for p in problems)
    assert "MISMATCH" in "\n".join(report.lines())
