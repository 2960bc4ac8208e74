"""The bot's database under hostile conditions, end to end through the twin (issue 14, point 13)."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from store import Store

from .footnote_helpers import ask, start
from .twin import make_user


@pytest.mark.asyncio
async def test_deleting_the_database_under_the_running_bot_loses_no_turn(twin, run_bot, engine, tmp_path, caplog):
    path = tmp_path / "footnote.sqlite3"
    store = await Store.open(path)
    try:
        await start(twin, run_bot, engine, store, tmp_path, extensions=("cogs.ask", "cogs.memory"))
        user = make_user("asker")
        await ask(twin, "Sora 留存率", user=user)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        for name in (path, f"{path}-wal", f"{path}-shm"):
            if os.path.exists(name):
                os.remove(name)
        await ask(twin, "Gemini 3", user=user)
        assert "was deleted while Footnote was running" in caplog.text

        history = await twin.slash_command("history", user=user)
        [reply] = await twin.wait_for_responses(history, 1)
        lines = reply.message["embeds"][0]["description"].split("\n")
        assert len(lines) == 2 and "Gemini 3" in lines[0] and "Sora" in lines[1]
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:  # what the next start reads
        assert [r[0] for r in raw.execute("SELECT question FROM turns ORDER BY id")] == ["Sora 留存率", "Gemini 3"]
    assert twin.violations == []
