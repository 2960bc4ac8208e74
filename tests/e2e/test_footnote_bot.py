"""The real Footnote bot (FootnoteBot + cogs) against the local Discord twin, with the seeds engine and a real
SQLite file. Every test ends by checking that the bot broke no rule of Discord's API (twin.violations == [])."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from client import FootnoteBot
from config import Settings
from index.engine import Engine
from store import Store

from ..conftest import SEEDS
from .footnote_helpers import CUSTOM_ID, ask, assert_no_pings, custom_ids, settings_for, start
from .twin import MESSAGE_FLAG_EPHEMERAL, embed_total_length, make_user


@pytest.mark.asyncio
async def test_ask_in_a_guild_answers_with_cited_excerpts(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path)
    assert {c["name"] for c in twin.commands(twin.guild["id"])} >= {"ask"}

    interaction_id, message = await ask(twin, "How many monthly active users does Gemini have?")

    [embed] = message["embeds"]
    assert "6.5 億" in embed["description"]
    assert re.search(r"\*\*\[1\]\*\*", embed["description"]) and "¶ " in embed["description"]
    assert engine.version in embed["footer"]["text"] and "page 1/" in embed["footer"]["text"]
    ids = custom_ids(message)
    assert len(ids) == 5 and all(CUSTOM_ID.match(i) for i in ids)
    assert not message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert twin.ack_latency(interaction_id) < 3
    assert_no_pings(twin)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_private_answer_is_ephemeral_and_its_buttons_belong_to_the_asker(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path)
    asker = make_user("asker")

    _, message = await ask(twin, "Sora 的首日留存率是多少", private=True, user=asker)

    assert message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert "10%" in message["embeds"][0]["description"]
    next_id = next(i for i in custom_ids(message) if ":next:" in i)
    refused = await twin.click(message["id"], next_id, user=make_user("someone-else"))
    [reply] = await twin.wait_for_responses(refused, 1)
    assert "Only the person who asked" in reply.message["content"]
    assert reply.message["flags"] & MESSAGE_FLAG_EPHEMERAL
    accepted = await twin.click(message["id"], next_id, user=asker)
    await twin.wait_for_responses(accepted, 2)
    assert "page 2/" in twin.message(message["id"])["embeds"][0]["footer"]["text"]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_paging_and_full_passages(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path)
    _, message = await ask(twin, "Gemini 3")
    first_page = message["embeds"][0]["description"]
    assert ":prev:" in next(i for i in custom_ids(message) if ":prev:" in i)
    prev_button = next(c for row in message["components"] for c in row["components"] if ":prev:" in c["custom_id"])
    assert prev_button.get("disabled") is True

    click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":next:" in i))
    responses = await twin.wait_for_responses(click, 2)
    assert responses[0].callback_type == 6
    second = twin.message(message["id"])
    assert "**[4]**" in second["embeds"][0]["description"] and second["embeds"][0]["description"] != first_page

    back = await twin.click(message["id"], next(i for i in custom_ids(second) if ":prev:" in i))
    await twin.wait_for_responses(back, 2)
    assert twin.message(message["id"])["embeds"][0]["description"] == first_page

    full = await twin.click(message["id"], next(i for i in custom_ids(message) if ":full:" in i))
    responses = await twin.wait_for_responses(full, 2)
    shown = twin.message(twin.interaction(full).original_message_id or "")
    assert shown["flags"] & MESSAGE_FLAG_EPHEMERAL
    fields = shown["embeds"][0]["fields"]
    first = engine.ask("Gemini 3", k=3).results
    assert [f["name"].split("]")[0] for f in fields] == [f"[{r.rank}" for r in first]
    for field, result in zip(fields, first, strict=True):
        plain = field["value"].replace("\\", "")
        assert plain.rstrip("…") in result.passage.text or result.passage.text in plain
    assert twin.violations == []


@pytest.mark.asyncio
async def test_feedback_is_stored(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path)
    voter = make_user("voter")
    _, message = await ask(twin, "GPT-5.2 错误率")
    answer_id = int(custom_ids(message)[0].split(":")[2])

    click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":down:" in i), user=voter)
    [reply] = await twin.wait_for_responses(click, 1)
    assert "Thanks" in reply.message["content"]
    assert await store.feedback_for(answer_id) == {int(voter["id"]): -1}
    click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":up:" in i), user=voter)
    await twin.wait_for_responses(click, 1)
    assert await store.feedback_for(answer_id) == {int(voter["id"]): 1}
    assert twin.violations == []


@pytest.mark.asyncio
async def test_buttons_keep_working_after_a_restart_and_stale_ones_answer_politely(twin, engine, tmp_path):
    database = tmp_path / "footnote.sqlite3"
    first_store = await Store.open(database)
    async with twin.run_bot(FootnoteBot(settings=settings_for(twin, tmp_path), store=first_store, engine=engine)):
        _, message = await ask(twin, "OpenAI 红色警报")
    await first_store.close()

    second_store = await Store.open(database)
    try:
        async with twin.run_bot(FootnoteBot(settings=settings_for(twin, tmp_path), store=second_store, engine=engine)):
            click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":next:" in i))
            await twin.wait_for_responses(click, 2)
            assert "page 2/" in twin.message(message["id"])["embeds"][0]["footer"]["text"]

            message = twin.message(message["id"])
            answer_id = int(custom_ids(message)[0].split(":")[2])
            with sqlite3.connect(database) as raw:
                raw.execute("UPDATE answers SET corpus_version = 'old' WHERE id = ?", (answer_id,))
            click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":full:" in i))
            [reply] = await twin.wait_for_responses(click, 1)
            assert "corpus has changed" in reply.message["content"]

            with sqlite3.connect(database) as raw:
                raw.execute("DELETE FROM answers WHERE id = ?", (answer_id,))
            click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":up:" in i))
            [reply] = await twin.wait_for_responses(click, 1)
            assert "no longer stored" in reply.message["content"]
    finally:
        await second_store.close()
    assert twin.violations == []


@pytest.mark.asyncio
async def test_dm_question_gets_the_same_answer_as_ask(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path)
    reader = make_user("reader")
    _, via_ask = await ask(twin, "Sora 的首日留存率是多少")

    message_id = await twin.dm(reader, "Sora 的首日留存率是多少")
    reply = await twin.wait_for_bot_message(twin.dm_channel(reader)["id"], after=message_id)

    assert reply["embeds"][0]["description"] == via_ask["embeds"][0]["description"]
    assert len(custom_ids(reply)) == 5
    assert_no_pings(twin)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_mention_question_is_answered_in_a_reply(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path)
    reader = make_user("reader")
    ignored = await twin.guild_message(twin.channel["id"], reader, "Sora 的留存率 (no mention)")
    mentioned = await twin.guild_message(
        twin.channel["id"], reader, f"{twin.mention(twin.bot_user)} Sora 的首日留存率是多少", mentions=[twin.bot_user]
    )
    reply = await twin.wait_for_bot_message(twin.channel["id"], after=mentioned)

    assert reply["message_reference"]["message_id"] == mentioned
    assert "10%" in reply["embeds"][0]["description"]
    await asyncio.sleep(0.2)
    assert [
        m for m in twin.bot_messages(twin.channel["id"]) if m.get("message_reference", {}).get("message_id") == ignored
    ] == []
    assert_no_pings(twin)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_abstention_is_a_clear_not_in_the_corpus_answer(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path)
    _, message = await ask(twin, "What is the capital of France?")
    description = message["embeds"][0]["description"]
    assert "Not in the corpus" in description and "It does cover:" in description
    assert [i.split(":")[3] for i in custom_ids(message)] == ["up", "down"]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_everyone_in_question_and_corpus_never_pings(twin, run_bot, store, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notice.txt").write_text(
        "@everyone 注意:Sora 的首日留存率仅为10%,<@&123456789012345678> 请转告 <@234567890123456789>。\n",
        encoding="utf-8",
    )
    engine = Engine.open(corpus, None)
    await start(twin, run_bot, engine, store, tmp_path)

    _, message = await ask(twin, "@everyone <@234567890123456789> Sora 留存率")
    assert "@everyone" in message["embeds"][0]["description"]  # quoted verbatim...
    assert "@everyone" not in message["embeds"][0]["title"]  # ...but not echoed from the question
    reader = make_user("x")
    dm = await twin.dm(reader, "@here Sora 留存率")
    await twin.wait_for_bot_message(twin.dm_channel(reader)["id"], after=dm)
    assert_no_pings(twin)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_oversized_answers_are_trimmed_within_discords_limits(twin, run_bot, store, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    long_title = "A title that goes on " * 20
    (corpus / "catalog.toml").write_text(f'["long.txt"]\ntitle = "{long_title}"\nsource = "{"S" * 300}"\n')
    sentence = "Markdown **stars** and __underscores__ and `ticks` and ||spoilers|| about retention. "
    (corpus / "long.txt").write_text("\n".join(sentence * 5 + f" part {i}." for i in range(40)) + "\n")
    engine = Engine.open(corpus, None)
    await start(twin, run_bot, engine, store, tmp_path)

    question = "retention " + "stars underscores ticks spoilers markdown " * 11
    _, message = await ask(twin, question[:500])
    [embed] = message["embeds"]
    assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    assert embed_total_length(message["embeds"]) <= 6000
    # corpus markdown is escaped (shown literally), the highlight markers are the only live markdown
    assert "\\*\\*" in embed["description"] and "\\_\\_" in embed["description"] and "\\`" in embed["description"]
    full = await twin.click(message["id"], next(i for i in custom_ids(message) if ":full:" in i))
    await twin.wait_for_responses(full, 2)
    shown = twin.message(twin.interaction(full).original_message_id or "")
    assert all(len(f["value"]) <= 1024 for f in shown["embeds"][0]["fields"])
    assert embed_total_length(shown["embeds"]) <= 6000
    assert twin.violations == []


@pytest.mark.asyncio
async def test_bad_questions_get_a_clear_message(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path)
    _, message = await ask(twin, "😀🎉")
    assert "no words to search" in message["content"] and not message.get("embeds")
    assert twin.violations == []


@pytest.mark.asyncio
async def test_cooldown_tells_when_to_retry(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, cooldown_rate=2)
    user = make_user("eager")
    for _ in range(2):
        await ask(twin, "Sora", user=user)
    interaction_id = await twin.slash_command("ask", {"question": "Sora"}, user=user)
    [reply] = await twin.wait_for_responses(interaction_id, 1)
    assert reply.callback_type == 4 and reply.message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert re.search(r"try again in \d+ s", reply.message["content"])
    assert twin.violations == []


@pytest.mark.asyncio
async def test_burst_of_50_asks_all_acknowledged_within_3s_and_answered(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path)
    questions = ["Sora 留存率", "Gemini 月活", "GPT-5.2 错误率", "What did Nick Turley say?", "红色警报"]
    ids = [await twin.slash_command("ask", {"question": questions[i % 5]}, user=make_user(f"u{i}")) for i in range(50)]
    await asyncio.gather(*(twin.wait_for_responses(i, 2, timeout=20) for i in ids))
    latencies = [twin.ack_latency(i) for i in ids]
    assert all(lat is not None and lat < 3 for lat in latencies), max(latencies)
    for interaction_id in ids:
        assert twin.message(twin.interaction(interaction_id).original_message_id or "")["embeds"]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_bot_reconnects_after_the_gateway_drops(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path)
    await ask(twin, "Sora")
    await twin.drop_gateway("abort")
    _, message = await ask(twin, "Sora 的首日留存率是多少")
    assert "10%" in message["embeds"][0]["description"]
    assert twin.resume_count == 1
    assert twin.violations == []


@pytest.mark.asyncio
async def test_commands_sync_globally_only_when_the_set_changes(twin, engine, tmp_path):
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        for _ in range(2):  # two starts with the same command set: only the first one syncs
            bot = FootnoteBot(settings=settings_for(twin, tmp_path, dev_guild_id=None), store=store, engine=engine)
            async with twin.run_bot(bot):
                assert await bot.sync_commands() == "global commands unchanged; not synced"
                names = {c.name for c in bot.tree.get_commands()}
        puts = [r for r in twin.requests("PUT") if r.path.endswith("/commands") and "/guilds/" not in r.path]
        assert len(puts) == 1
        assert {c["name"] for c in twin.commands()} == names >= {"ask"}
        await store.set_meta("commands_hash", "an older command set")
        bot = FootnoteBot(settings=settings_for(twin, tmp_path, dev_guild_id=None), store=store, engine=engine)
        async with twin.run_bot(bot):
            pass
        puts = [r for r in twin.requests("PUT") if r.path.endswith("/commands") and "/guilds/" not in r.path]
        assert len(puts) == 2
    finally:
        await store.close()
    assert twin.violations == []


def test_settings_never_show_the_token():
    settings = Settings(
        corpus_dir=SEEDS, data_dir=Path("."), database_path=Path("x"), log_level=None, tokenizer_mode="search",
        discord_token="secret-token-value",
    )  # fmt: skip
    assert "secret-token-value" not in repr(settings)


def test_plugin_copy_of_seeds_is_loadable(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    assert Engine.open(tmp_path / "seeds", None).ask("Sora 留存率").results


@pytest.mark.asyncio
async def test_ready_line_names_guilds_corpus_passages_and_commands(twin, run_bot, engine, store, tmp_path, caplog):
    caplog.set_level("INFO", logger="client")
    await start(twin, run_bot, engine, store, tmp_path)
    await twin.wait_for(lambda: any("ready:" in r.getMessage() for r in caplog.records), timeout=5, what="ready")
    [line] = [r.getMessage() for r in caplog.records if "ready:" in r.getMessage()]
    assert "in 1 guilds" in line and engine.version in line and f"{len(engine.passages)} passages" in line
    assert "/ask" in line


@pytest.mark.asyncio
async def test_cogs_plug_into_another_bot(twin, run_bot, engine, store):
    import discord
    from discord.ext import commands

    class HostBot(commands.Bot):
        async def setup_hook(self) -> None:
            self.engine, self.store = engine, store
            await self.load_extension("cogs")
            guild = discord.Object(id=int(twin.guild["id"]))
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)

    host = await run_bot(HostBot(command_prefix="!", intents=discord.Intents.default()))
    assert host.get_cog("Ask") is not None
    _, message = await ask(twin, "Sora 的首日留存率是多少")
    assert "10%" in message["embeds"][0]["description"]
    click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":next:" in i))
    await twin.wait_for_responses(click, 2)
    assert "page 2/" in twin.message(message["id"])["embeds"][0]["footer"]["text"]
    assert twin.violations == []
