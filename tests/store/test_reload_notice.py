"""/reload and corpus changes reach every process on one PostgreSQL database (LISTEN/NOTIFY), and the index is
built once: the other process loads what the first built."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from client import FootnoteBot
from config import Settings
from index.engine import Engine
from store import Store

from ..conftest import SEEDS


@pytest.mark.asyncio
async def test_a_reload_in_one_process_reaches_the_other(tmp_path, postgres_url, caplog):
    caplog.set_level("INFO")
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    shutil.copytree(SEEDS, corpus)
    settings = Settings(corpus_dir=corpus, data_dir=data, database_path=tmp_path / "unused", log_level=None,
                        tokenizer_mode="search")  # fmt: skip
    engine = await asyncio.to_thread(Engine.open, corpus, data)
    stores = [await Store.open(postgres_url) for _ in range(2)]
    bots = [FootnoteBot(settings=settings, store=store, engine=engine) for store in stores]
    try:
        for bot in bots:
            await bot.listen_for_reloads()
        (corpus / "2025-12-20-new.md").write_text(
            "# A new document\n\nThe reload notice reached the second process on 20 December 2025.\n", encoding="utf-8"
        )
        caplog.clear()
        summary = await bots[0].reload_engine()
        assert "→" in summary and bots[0].engine.version != engine.version
        for _ in range(600):
            if bots[1].engine.version == bots[0].engine.version:
                break
            await asyncio.sleep(0.1)
        assert bots[1].engine.version == bots[0].engine.version
        assert "2025-12-20-new" in " ".join(bots[1].engine.documents)
        # The second process loaded the index the first built: one build in the log.
        assert caplog.text.count("built index:") == 1
    finally:
        for bot in bots:
            await bot.close()
        for store in stores:
            await store.close()
