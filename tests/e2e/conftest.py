"""Pytest fixtures for end-to-end tests against the local Discord twin (see README.md in this folder).

* ``twin`` - a started :class:`twin.DiscordTwin` (closed after the test).
* ``run_bot`` - ``await run_bot(bot)`` runs a discord.py client against that twin until the test ends (Route.BASE
  and the default gateway are pointed at the twin and restored afterwards).

Tests must be marked ``@pytest.mark.asyncio`` (the project may not configure ``asyncio_mode``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import discord
import pytest_asyncio

from store import Store

from .twin import BotRunner, DiscordTwin

ClientT = TypeVar("ClientT", bound=discord.Client)


@pytest_asyncio.fixture
async def twin() -> AsyncIterator[DiscordTwin]:
    """A Discord twin listening on a random port of 127.0.0.1 for the duration of one test."""
    instance = DiscordTwin()
    await instance.start()
    try:
        yield instance
    finally:
        await instance.close()


@pytest_asyncio.fixture
async def run_bot(twin: DiscordTwin) -> AsyncIterator[BotRunner]:
    """Start discord.py clients against ``twin``; every started client is closed when the test ends."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(bot: ClientT, **options: Any) -> ClientT:
            return await stack.enter_async_context(twin.run_bot(bot, **options))

        yield start


@pytest_asyncio.fixture
async def store(tmp_path: Any) -> AsyncIterator[Store]:
    """A real SQLite store in the test's temporary folder."""
    instance = await Store.open(tmp_path / "footnote.sqlite3")
    yield instance
    await instance.close()
