"""Engine calls off the event loop, on the bot's engine thread.

The engine's work (jieba, BM25 scoring, excerpts) is Python that holds the GIL most of the time. In asyncio's
default executor (up to cores + 4 threads) a burst of commands keeps several threads contending with the event
loop for the GIL, and a loop step that needs a millisecond of CPU waits behind all of them: during a burst of 200
/ask over 100k passages, single steps of 250 ms (docs/benchmarks.md). More threads add no throughput under the
GIL, so FootnoteBot runs engine calls on one thread of its own (`bot.engine_executor`), and the loop competes
with that one thread only. A host bot that loads the cogs as a plugin and has no such executor gets
`asyncio.to_thread`.

One-off index builds (the quote index, the timeline's events) stay in asyncio's default executor, so a long
build does not hold up questions queued behind it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def run_engine(bot: Any, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on `bot.engine_executor` (in asyncio's default executor when the bot has none)."""
    call = functools.partial(fn, *args, **kwargs)
    executor = getattr(bot, "engine_executor", None)
    if executor is None:
        return await asyncio.to_thread(call)
    return await asyncio.get_running_loop().run_in_executor(executor, call)
