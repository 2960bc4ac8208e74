"""Engine calls run on the bot's single engine thread, not in asyncio's default executor."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from cogs.engine_thread import run_engine
from store import Store
from store.conversation import Conversation


def _thread_name() -> str:
    return threading.current_thread().name


@pytest.mark.asyncio
async def test_run_engine_uses_the_bots_executor_one_call_at_a_time():
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="footnote-engine")
    bot = SimpleNamespace(engine_executor=executor)
    running = 0
    most = 0

    def work() -> str:
        nonlocal running, most
        running += 1
        most = max(most, running)
        threading.Event().wait(0.01)
        running -= 1
        return _thread_name()

    try:
        names = await asyncio.gather(*(run_engine(bot, work) for _ in range(8)))
    finally:
        executor.shutdown()
    assert all(name.startswith("footnote-engine") for name in names)
    assert most == 1, "engine calls must not overlap: they would only contend for the GIL with the event loop"


@pytest.mark.asyncio
async def test_run_engine_on_a_host_bot_without_an_executor_still_leaves_the_loop():
    loop_thread = _thread_name()
    name = await run_engine(SimpleNamespace(), _thread_name)
    assert name != loop_thread
    assert await run_engine(SimpleNamespace(), max, 3, 7) == 7


@pytest.mark.asyncio
async def test_conversation_runs_the_engine_through_the_given_runner(engine, tmp_path):
    calls: list[str] = []

    async def runner(fn, *args):
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await asyncio.to_thread(fn, *args)

    store = await Store.open(tmp_path / "memory.sqlite3")
    try:
        conversation = Conversation(engine, store, run=runner)
        reply = await conversation.ask(
            scope="dm:1", user_id=1, guild_id=None, channel_id=None, question="Gemini monthly active users", k=3
        )
    finally:
        await store.close()
    assert calls == ["ask"]
    assert reply.answer.results
