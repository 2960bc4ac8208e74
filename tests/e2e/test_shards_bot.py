"""Two bot processes, two shards, one PostgreSQL, against the local Discord twin (tests/e2e/shards.py).

Each process is the real `footnote run` with SHARD_COUNT=2 and its own SHARD_IDS; the twin sends each guild's
events to its shard only. What must hold: every digest of 40 servers due at the same minute is posted exactly
once although both processes restart twice meanwhile; a process killed with -9 mid-answer leaves the other
serving, and on restart nothing stored is lost or duplicated; every request keeps Discord's contract.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from datetime import UTC, datetime

import pytest

from store import Store
from store.digest import DigestStore

from .shards import QUESTIONS, answered, deployment, fire_asks, wait_answered
from .twin import make_user

pytestmark = pytest.mark.asyncio


@pytest.fixture
def data(tmp_path, engine, data_dir):
    """A copy of the session's data folder, whose seeds index is built: the bot processes only load it."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("heartbeat*", "*.lock"))
    return copy


def _digest_messages(twin, channel_id: str) -> list[dict]:
    return [
        m
        for m in twin.bot_messages(channel_id)
        if m.get("embeds") and "Footnote digest" in (m["embeds"][0].get("footer") or {}).get("text", "")
    ]


async def test_forty_digests_due_together_post_once_each_across_restarts(postgres_url, data):
    async with deployment(postgres_url, guilds=40, data_dir=data) as setup:
        twin = setup.twin
        first, second = setup.processes
        store = await Store.open(postgres_url)
        try:
            now = time.time()
            due = datetime.fromtimestamp(now, UTC).strftime("%H:%M")  # due this minute, for every server
            digests = DigestStore(store)
            for guild_id, channel_id in setup.channels.items():
                await digests.set_schedule(
                    int(guild_id), int(channel_id), due, "UTC", ["Sora"], int(twin.default_user["id"]), now
                )

            # Both processes restart twice while the digests go out (each posts its own shards' servers): each
            # restart comes once the process has posted some of its servers' digests, so it stops mid-run.
            def posted_by(process) -> int:
                return sum(
                    bool(_digest_messages(twin, channel))
                    for guild, channel in setup.channels.items()
                    if setup.process_of(guild) is process
                )

            for process, posted in ((first, 2), (second, 2), (first, 8), (second, 8)):
                await twin.wait_for(lambda p=process, n=posted: posted_by(p) >= n, 120, what=f"{posted} digests")
                await setup.restart(process)

            def all_sent() -> bool:
                return all(_digest_messages(twin, channel) for channel in setup.channels.values())

            await twin.wait_for(all_sent, 120, what="a digest in every server")
            await asyncio.sleep(3)  # a few more ticks of both processes: nothing may be posted again
            rows = await store._read("SELECT guild_id, status, attempts FROM digest_posts")
        finally:
            await store.close()
        for guild_id, channel_id in setup.channels.items():
            messages = _digest_messages(twin, channel_id)
            footers = [m["embeds"][0]["footer"]["text"] for m in messages]
            parts = int(footers[0].rsplit("/", 1)[1])
            assert len(messages) == parts and sum(f.endswith(f" 1/{parts}") for f in footers) == 1, (guild_id, footers)
        assert len(rows) == 40 and {r["status"] for r in rows} == {"sent"} and {r["attempts"] for r in rows} == {1}
        assert {first.starts, second.starts} == {3}
        assert twin.violations == []


async def test_killed_process_loses_nothing_and_the_other_keeps_serving(postgres_url, data):
    async with deployment(postgres_url, guilds=8, digest_tick_seconds=0, data_dir=data) as setup:
        twin = setup.twin
        victim = setup.processes[0]
        ids = await fire_asks(twin, 40, QUESTIONS, "first")
        # Kill one process while its answers are in flight (as soon as the first of them is acknowledged).
        mine = [i for i in ids if setup.process_of(twin.interaction(i).guild_id) is victim]
        theirs = [i for i in ids if i not in mine]
        await twin.wait_for(lambda: any(twin.interaction(i).acknowledged for i in mine), 60, what="an ack")
        victim.kill()
        # The survivor answers every question of its shard.
        await wait_answered(twin, theirs, 60, "the survivor's answers")
        answered_before = {i for i in mine if answered(twin, i)}

        victim.start()
        await setup.wait_for_shards(victim)
        again = await fire_asks(twin, 16, QUESTIONS, "second")
        await wait_answered(twin, again, 60, "answers after the restart")
        # DMs arrive on shard 0 only (the restarted process) and are answered with memory from the shared
        # database: a question, then "more", which continues it.
        asker = make_user("dm-asker")
        dm_channel = twin.dm_channel(asker)["id"]
        for text in ("What did Altman say about code red?", "more"):
            sent = await twin.dm(asker, text)
            await twin.wait_for_bot_message(dm_channel, after=sent, timeout=30)

        store = await Store.open(setup.database)
        try:
            turns = await store._read("SELECT user_id, question, answer_id FROM turns WHERE guild_id IS NOT NULL")
            answers = await store._read("SELECT id FROM answers")
            dm_turns = await store.history(int(asker["id"]))
        finally:
            await store.close()
        assert [t.kind for t in reversed(dm_turns)] == ["new", "more"] and all(t.private for t in dm_turns)
        more, first = dm_turns  # newest first; "more" shows the next page after what the first turn showed
        assert more.shown[: len(first.shown)] == first.shown and len(set(more.shown)) == len(more.shown) > len(
            first.shown
        )
        asked = {int(twin.interaction(i).user_id) for i in [*theirs, *answered_before, *again]}
        stored = [t["user_id"] for t in turns]
        # Nothing duplicated: one turn at most per question asked (each asker asked once)...
        assert len(stored) == len(set(stored))
        # ... and nothing lost: every answered question's turn is stored, with its answer behind the buttons.
        assert asked <= set(stored)
        assert {t["answer_id"] for t in turns} <= {a["id"] for a in answers}
        # The only broken promises are the killed process's: questions it took and could not acknowledge in time
        # (Discord shows "The application did not respond"); every other request kept the contract.
        cut_off = set(mine) - answered_before
        assert all(
            v.rule == "interaction_not_acknowledged" and any(i in v.message for i in cut_off) for v in twin.violations
        ), twin.violations


def _last_content(twin, interaction_id: str) -> str:
    done = [r for r in twin.interaction_responses(interaction_id) if r.ok]
    return (done[-1].message or {}).get("content") or "" if done else ""


async def test_a_database_outage_is_a_clear_temporary_error_and_the_bot_recovers(postgres_cluster, data):
    """The bot's PostgreSQL server stops mid-run (a restart, a failover) and comes back."""
    async with deployment(
        postgres_cluster.url(), shards_per_process=((0,),), guilds=2, digest_tick_seconds=0, data_dir=data
    ) as setup:
        twin = setup.twin
        guild = next(iter(twin.guilds))
        first = await twin.slash_command("ask", {"question": "OpenAI 为什么要暂停 Sora?"}, guild_id=guild)
        await wait_answered(twin, [first], 60, "the first answer")

        await asyncio.to_thread(postgres_cluster.stop_server)
        down = await twin.slash_command("ask", {"question": "more"}, guild_id=guild)
        await wait_answered(twin, [down], 60, "the answer while the database is down")
        assert "unreachable right now" in _last_content(twin, down) and "try again" in _last_content(twin, down)

        await asyncio.to_thread(postgres_cluster.start_server)
        back = await twin.slash_command("ask", {"question": "more"}, guild_id=guild)
        await wait_answered(twin, [back], 60, "the answer once the database is back")
        assert "unreachable" not in _last_content(twin, back)

        store = await Store.open(setup.database)
        try:
            turns = await store._read("SELECT question, kind FROM turns ORDER BY id")
        finally:
            await store.close()
        # The conversation went on where it was: "more" continued the first question; nothing half-stored.
        assert [(t["question"], t["kind"]) for t in turns] == [("OpenAI 为什么要暂停 Sora?", "new"), ("more", "more")]
        assert twin.violations == []
