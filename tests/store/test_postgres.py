"""PostgreSQL's own faults, on a real server: a DATABASE_URL that cannot be used says why in one line; a server
that goes away mid-run gives a temporary error and the store recovers by itself when it is back; processes that
start together migrate once; notifications reach another process's store."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import pytest

from store import Store, StoreError, StoreUnavailable
from store.conversation import Conversation
from tests import postgres


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    user = parts.username
    password = changes.get("password", parts.password)
    host = changes.get("host", parts.hostname)
    port = changes.get("port", str(parts.port))
    path = changes.get("path", parts.path)
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}:{port}", path=path))


@pytest.mark.asyncio
async def test_wrong_password_is_one_clear_line_without_the_password(postgres_server):
    url = _with(postgres_server, password="not-the-password")
    with pytest.raises(StoreError) as caught:
        await Store.open(url)
    message = str(caught.value)
    assert "\n" not in message and "not-the-password" not in message
    assert "check the user name and password in DATABASE_URL" in message


@pytest.mark.asyncio
async def test_unreachable_server_is_one_clear_line(postgres_server):
    port = str(postgres.free_port())  # nothing listens there
    with pytest.raises(StoreError) as caught:
        await Store.open(_with(postgres_server, port=port))
    message = str(caught.value)
    assert "\n" not in message
    assert f"cannot reach PostgreSQL at 127.0.0.1:{port}" in message and "is the server running" in message


@pytest.mark.asyncio
async def test_missing_database_says_how_to_create_it(postgres_server):
    with pytest.raises(StoreError, match=r"database 'no_such_db' does not exist .*createdb no_such_db"):
        await Store.open(_with(postgres_server, path="/no_such_db"))


@pytest.mark.asyncio
async def test_processes_starting_together_migrate_once(postgres_url):
    stores = await asyncio.gather(*(Store.open(postgres_url) for _ in range(4)))
    try:
        versions = await stores[0]._read("SELECT version FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in versions] == list(range(1, len(versions) + 1))
        assert {await store.schema_version() for store in stores} == {len(versions)}
    finally:
        for store in stores:
            await store.close()


@pytest.mark.asyncio
async def test_a_notification_reaches_every_other_store(postgres_url):
    sender, receiver = await Store.open(postgres_url), await Store.open(postgres_url)
    received: asyncio.Queue[str] = asyncio.Queue()
    try:
        async with receiver.listen("footnote_test", received.put_nowait) as delivers:
            assert delivers
            await sender.notify("footnote_test", "corpus v2")
            assert await asyncio.wait_for(received.get(), 10) == "corpus v2"
    finally:
        await sender.close()
        await receiver.close()


@pytest.mark.asyncio
async def test_losing_the_server_mid_run_is_a_temporary_error_then_recovers(postgres_cluster, engine):
    store = await Store.open(postgres_cluster.url())
    received: list[str] = []
    try:
        conversation = Conversation(engine, store)
        async with store.listen("footnote_test", received.append):
            first = await conversation.ask(
                scope="dm:1", user_id=1, guild_id=None, channel_id=None, question="Sora 留存率", k=2
            )
            assert first.turn_id is not None

            await asyncio.to_thread(postgres_cluster.stop_server)
            with pytest.raises(StoreUnavailable) as caught:
                await conversation.ask(scope="dm:1", user_id=1, guild_id=None, channel_id=None, question="more", k=2)
            assert "unreachable right now" in str(caught.value) and "try again" in str(caught.value)
            with pytest.raises(StoreUnavailable):
                await store.add_turn(
                    scope="dm:2", user_id=2, guild_id=None, question="q", query="q", kind="new", shown=[],
                    abstained=False, corpus_version="v",
                )  # fmt: skip

            await asyncio.to_thread(postgres_cluster.start_server)
            # Back: the first statement reconnects; the conversation goes on where it was (nothing was lost).
            follow = await conversation.ask(
                scope="dm:1", user_id=1, guild_id=None, channel_id=None, question="more", k=2
            )
            assert follow.resolution.kind == "more" and follow.turn_id is not None
            assert await store.count_turns() == 2
            # The listener reconnected too and tells its owner it may have missed something ("").
            for _ in range(100):
                if "" in received:
                    break
                await asyncio.sleep(0.1)
            assert "" in received
    finally:
        await store.close()
