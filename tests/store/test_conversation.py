"""Conversation memory with the real engine, on each database (a SQLite file, a PostgreSQL server)."""

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest
import pytest_asyncio

from index.errors import UserFacingError
from store import Store
from store.conversation import Conversation, dm_scope, guild_scope

from ..conftest import ROOT


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def store(database):
    instance = await Store.open(database)
    yield instance
    await instance.close()


def ask(conversation, question, scope="dm:1", user_id=1, guild_id=None, private=False):
    channel_id = int(scope.split(":")[3]) if scope.startswith("guild:") else None
    return conversation.ask(
        scope=scope, user_id=user_id, guild_id=guild_id, channel_id=channel_id, question=question, k=3, private=private
    )


@pytest.mark.asyncio
async def test_more_continues_without_repeating_passages(engine, store):
    conversation = Conversation(engine, store)
    first = await ask(conversation, "Gemini 3")
    second = await ask(conversation, "more")
    third = await ask(conversation, "更多")
    seen = [r.passage.pid for reply in (first, second, third) for r in reply.answer.results]
    assert len(seen) == 9 and len(set(seen)) == 9
    assert second.resolution.kind == "more" and "more results" in second.understood
    turn = await store.last_turn("dm:1", 0)
    assert list(turn.shown) == seen and turn.query == "Gemini 3"


@pytest.mark.asyncio
async def test_swap_and_follow_up_in_chinese_and_english(engine, store):
    conversation = Conversation(engine, store)
    await ask(conversation, "Mark Chen 怎么看红色警报")
    follow = await ask(conversation, "他后来怎么说")
    assert follow.resolution.kind == "followup" and "Mark Chen" in follow.understood
    assert "Mark Chen" in follow.answer.results[0].passage.text

    await ask(conversation, "How many monthly active users does Gemini have?", scope="dm:2", user_id=2)
    swapped = await ask(conversation, "What about ChatGPT?", scope="dm:2", user_id=2)
    assert swapped.resolution.kind == "swap" and "chatgpt" in swapped.resolution.query.lower()
    assert "gemini" not in swapped.resolution.query.lower()


@pytest.mark.asyncio
async def test_scopes_never_leak(engine, store):
    conversation = Conversation(engine, store)
    await ask(conversation, "Sora 留存率", scope=guild_scope(1, 2, 10), user_id=10, guild_id=1)
    # Another user in the same channel, the same user in a DM, the same user in another channel: no context.
    for scope, user in ((guild_scope(1, 2, 11), 11), (dm_scope(10), 10), (guild_scope(1, 3, 10), 10)):
        with pytest.raises(UserFacingError, match="no earlier question"):
            await ask(conversation, "more", scope=scope, user_id=user, guild_id=1)
        reply = await ask(conversation, "他后来怎么说", scope=scope, user_id=user, guild_id=1)
        assert reply.resolution.kind == "new" and not reply.resolution.context


@pytest.mark.asyncio
async def test_context_expires_after_the_window(engine, store):
    clock = Clock()
    conversation = Conversation(engine, store, window_minutes=30, clock=clock)
    await ask(conversation, "Sora 留存率")
    clock.now += 29 * 60
    assert (await ask(conversation, "more")).resolution.kind == "more"
    clock.now += 31 * 60
    with pytest.raises(UserFacingError):
        await ask(conversation, "more")


@pytest.mark.asyncio
async def test_forget_and_retention(engine, store):
    clock = Clock()
    conversation = Conversation(engine, store, clock=clock)
    for question in ("Sora", "Gemini"):
        await ask(conversation, question, scope=guild_scope(1, 2, 7), user_id=7, guild_id=1)
    await ask(conversation, "GPT-5.2", scope=dm_scope(7), user_id=7)
    await ask(conversation, "Sora", scope=dm_scope(8), user_id=8)
    assert await store.forget(7, guild_scope(1, 2, 7)) == 2
    assert [t.question for t in await store.history(7)] == ["GPT-5.2"]
    assert await store.forget(7) == 1
    assert await store.history(7) == [] and len(await store.history(8)) == 1

    clock.now += 40 * 86400
    await ask(conversation, "recent question about Sora", scope=dm_scope(8), user_id=8)
    assert await store.purge_older_than(30, now=clock.now) == 1
    assert [t.question for t in await store.history(8)] == ["recent question about Sora"]


@pytest.mark.asyncio
async def test_gaps_list_abstentions_and_dislikes_by_frequency(engine, store):
    conversation = Conversation(engine, store)
    for user in (1, 2, 3):
        await ask(
            conversation,
            "Who won the Nobel Prize in Physics in 2024?",
            scope=guild_scope(5, 6, user),
            user_id=user,
            guild_id=5,
        )
    disliked = await ask(conversation, "Sora 留存率", scope=guild_scope(5, 6, 1), user_id=1, guild_id=5)
    await store.record_feedback(disliked.answer_id, 1, -1)
    await ask(conversation, "What is the capital of France?", scope=guild_scope(9, 6, 1), user_id=1, guild_id=9)
    gaps = await store.gaps(5, channels=[6])
    assert [(g.question, g.asked, g.abstained, g.disliked) for g in gaps] == [
        ("Who won the Nobel Prize in Physics in 2024?", 3, 3, 0),
        ("Sora 留存率", 1, 0, 1),
    ]


@pytest.mark.asyncio
async def test_gaps_keep_private_questions_and_other_channels_out(engine, store):
    """The privacy rules every store backend keeps: a private question is never listed nor counted; a public one
    is listed only for an audience that reads its channel, and counted (never quoted) for the others."""
    conversation = Conversation(engine, store)
    await ask(conversation, "Zephyr merger codename?", scope=guild_scope(5, 7, 1), user_id=1, guild_id=5, private=True)
    await ask(conversation, "Who won the 1998 chess olympiad?", scope=guild_scope(5, 7, 1), user_id=1, guild_id=5)
    await ask(
        conversation, "Who won the Nobel Prize in Physics in 2024?", scope=guild_scope(5, 6, 2), user_id=2, guild_id=5
    )
    await ask(
        conversation, "Who won the Nobel Prize in Physics in 2024?", scope=dm_scope(2), user_id=2
    )  # DMs are private
    listed = lambda gaps: [(g.question, g.asked) for g in gaps]  # noqa: E731
    assert listed(await store.gaps(5, channels=[6])) == [("Who won the Nobel Prize in Physics in 2024?", 1)]
    assert await store.gaps_elsewhere(5, channels=[6]) == 1  # the chess question, never the private one
    assert listed(await store.gaps(5, channels=[6, 7])) == [
        ("Who won the 1998 chess olympiad?", 1),
        ("Who won the Nobel Prize in Physics in 2024?", 1),
    ] or listed(await store.gaps(5, channels=[6, 7])) == [
        ("Who won the Nobel Prize in Physics in 2024?", 1),
        ("Who won the 1998 chess olympiad?", 1),
    ]
    assert await store.gaps_elsewhere(5, channels=[6, 7]) == 0
    assert await store.gaps(5, channels=[]) == [] and await store.gaps_elsewhere(5, channels=[]) == 2
    # A private question disliked by its asker is still private.
    private = await ask(conversation, "Sora 留存率", scope=guild_scope(5, 6, 3), user_id=3, guild_id=5, private=True)
    await store.record_feedback(private.answer_id, 3, -1)
    assert "Sora 留存率" not in [g.question for g in await store.gaps(5, channels=[6, 7])]


@pytest.mark.asyncio
async def test_a_public_follow_up_never_resolves_against_a_private_question(engine, store):
    conversation = Conversation(engine, store)
    scope = guild_scope(5, 6, 1)
    await ask(conversation, "Sora 留存率", scope=scope, user_id=1, guild_id=5)
    await ask(conversation, "Mark Chen 怎么看红色警报", scope=scope, user_id=1, guild_id=5, private=True)
    public = await ask(conversation, "why?", scope=scope, user_id=1, guild_id=5)
    assert "Sora" in public.understood and "Mark Chen" not in public.understood
    await ask(conversation, "Mark Chen 怎么看红色警报", scope=scope, user_id=1, guild_id=5, private=True)
    private = await ask(conversation, "他后来怎么说", scope=scope, user_id=1, guild_id=5, private=True)
    assert "Mark Chen" in private.understood  # a private follow-up may use the private question


@pytest.mark.parametrize(
    "chain",
    [
        ("What is code red?", "why?", "why?"),
        ("What is code red?", "why?", "more"),
        ("Mark Chen 怎么看红色警报", "他后来怎么说", "更多"),
        ("Mark Chen 怎么看红色警报", "为什么", "他后来怎么说", "更多"),
    ],
)
@pytest.mark.asyncio
async def test_chained_follow_ups_keep_the_subject(engine, store, chain):
    conversation = Conversation(engine, store)
    first = await ask(conversation, chain[0])
    subject = "code red" if "code red" in chain[0] else "Mark Chen"
    shown = {r.passage.pid for r in first.answer.results}  # the pages of the question being continued
    for question in chain[1:]:
        reply = await ask(conversation, question)
        assert reply.resolution.kind in ("followup", "more") and subject in reply.understood, reply.understood
        assert not reply.answer.abstained and reply.answer.results
        pids = {r.passage.pid for r in reply.answer.results}
        if reply.resolution.kind == "more":  # the next page of the resolved question: none of its pages again
            assert not shown & pids
            shown |= pids
        else:  # a follow-up is a new question (its own ranking; a passage of an earlier question may recur)
            shown = pids


@pytest.mark.asyncio
async def test_more_past_the_last_result_says_so(engine, store):
    conversation = Conversation(engine, store)
    await ask(conversation, "Mark Chen 怎么看红色警报")
    with pytest.raises(UserFacingError, match="no more excerpts"):
        for _ in range(30):
            await ask(conversation, "more")


@pytest.mark.asyncio
async def test_many_concurrent_writes_are_all_kept(engine, store):
    await asyncio.gather(
        *(
            store.add_turn(
                scope=f"dm:{i % 7}",
                user_id=i % 7,
                guild_id=None,
                question=f"q{i}",
                query=f"q{i}",
                kind="new",
                shown=[i],
                abstained=False,
                corpus_version="v",
            )
            for i in range(300)
        )
    )
    assert await store.count_turns() == 300


@pytest.mark.asyncio
async def test_unwritable_memory_still_answers_and_logs_once(engine, tmp_path, caplog):
    # SQLite: a store that fails for good (closed, read-only) leaves answering working, without memory.
    store = await Store.open(tmp_path / "memory.sqlite3")
    conversation = Conversation(engine, store)
    await store.close()  # every later read and write fails
    first = await ask(conversation, "Sora 留存率")
    second = await ask(conversation, "Gemini 3")
    assert first.answer.results and second.answer.results and first.answer_id is None
    assert caplog.text.count("conversation memory unavailable") == 1


def test_a_killed_process_loses_nothing_already_committed(database):
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.path.insert(0, {str(ROOT)!r})
        from store import Store

        async def main():
            store = await Store.open({database!r})
            i = 0
            while True:
                turn = await store.add_turn(scope="dm:1", user_id=1, guild_id=None, question=f"q{{i}}",
                                            query=f"q{{i}}", kind="new", shown=[i], abstained=False,
                                            corpus_version="v")
                print(turn, flush=True)
                i += 1

        asyncio.run(main())
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    committed = []
    try:
        while len(committed) < 200:
            line = process.stdout.readline()
            assert line, "writer exited early"
            committed.append(int(line))
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    if database.startswith("postgresql://"):
        ids = asyncio.run(_turn_ids(database))
    else:
        with sqlite3.connect(database) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            ids = {row[0] for row in raw.execute("SELECT id FROM turns")}
    assert set(committed) <= ids


async def _turn_ids(database: str) -> set[int]:
    store = await Store.open(database)
    try:
        return {row["id"] for row in await store._read("SELECT id FROM turns")}
    finally:
        await store.close()
