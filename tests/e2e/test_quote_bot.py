"""/quote end to end: the real FootnoteBot with cogs.quote against the local Discord twin, the seeds engine and a real
SQLite store. Every test ends by checking that the bot broke no rule of Discord's API (twin.violations == [])."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .footnote_helpers import assert_no_pings, custom_ids, start
from .twin import MESSAGE_FLAG_EPHEMERAL, embed_total_length, make_user

PAGE_ID = re.compile(r"^fn:pg:quote:\d+:(prev|next):\d+$")


async def quote(twin, **options: Any) -> tuple[str, dict[str, Any]]:
    """Run /quote; return the interaction id and the final (edited) original message."""
    user = options.pop("user", None)
    interaction_id = await twin.slash_command("quote", options, **({"user": user} if user else {}))
    responses = await twin.wait_for_responses(interaction_id, 2)
    assert responses[0].callback_type == 5, "the bot must defer first"
    return interaction_id, twin.message(twin.interaction(interaction_id).original_message_id or "")


@pytest.mark.asyncio
async def test_quote_by_speaker_alias_and_topic(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=("cogs.quote",))
    assert {c["name"] for c in twin.commands(twin.guild["id"])} >= {"quote"}

    interaction_id, message = await quote(twin, speaker="奧爾特曼", topic="基础设施")

    [embed] = message["embeds"]
    assert embed["title"] == "Quotations by Sam Altman about “基础设施”"
    description = embed["description"]
    assert description.startswith("**[1]**") and "**“大型基礎設施建設需要相當長的時間才能建成" in description
    assert "— **Sam Altman** (as 奧爾特曼)" in description and "¶ 49" in description
    assert engine.version in embed["footer"]["text"] and "page 1/1" in embed["footer"]["text"]
    assert custom_ids(message) == []  # one page: no buttons
    assert twin.ack_latency(interaction_id) < 3
    assert_no_pings(twin)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_long_lists_page_with_persistent_buttons(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=("cogs.quote",))
    _, message = await quote(twin, speaker="altman")
    first = message["embeds"][0]
    assert "page 1/3 · 11 quotations" in first["footer"]["text"] and "**[4]**" in first["description"]
    ids = custom_ids(message)
    assert len(ids) == 2 and all(PAGE_ID.match(i) for i in ids)
    record = await store.get_answer(int(ids[0].split(":")[3]))
    assert record is not None and record.kind == "quote" and record.params == {"speaker": "Sam Altman", "topic": None}

    click = await twin.click(message["id"], next(i for i in ids if ":next:" in i))
    responses = await twin.wait_for_responses(click, 2)
    assert responses[0].callback_type == 6
    second = twin.message(message["id"])
    assert "page 2/3" in second["embeds"][0]["footer"]["text"] and "**[5]**" in second["embeds"][0]["description"]
    back = await twin.click(message["id"], next(i for i in custom_ids(second) if ":prev:" in i))
    await twin.wait_for_responses(back, 2)
    assert twin.message(message["id"])["embeds"][0]["description"] == first["description"]
    assert embed_total_length(second["embeds"]) <= 6000
    assert twin.violations == []


@pytest.mark.asyncio
async def test_transcript_speakers_and_topic_only(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=("cogs.quote",))
    _, message = await quote(twin, speaker="雷總")  # traditional script for 雷总
    assert "**Hello Norris1,我是雷总" in message["embeds"][0]["description"]
    assert "10 quotations" in message["embeds"][0]["footer"]["text"]

    _, message = await quote(twin, topic="Gemini 3", private=True)
    assert message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert message["embeds"][0]["title"] == "Quotations about “Gemini 3”"
    assert "Gemini 3" in message["embeds"][0]["description"]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_unknown_speaker_and_missing_options_are_told_privately(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=("cogs.quote",))
    interaction_id = await twin.slash_command("quote", {"speaker": "Bob Smith"})
    [reply] = await twin.wait_for_responses(interaction_id, 1)
    assert reply.message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert "Bob Smith" in reply.message["content"] and "Known speakers: Sam Altman (11)" in reply.message["content"]

    interaction_id = await twin.slash_command("quote", {})
    [reply] = await twin.wait_for_responses(interaction_id, 1)
    assert reply.message["flags"] & MESSAGE_FLAG_EPHEMERAL and "speaker, a topic, or both" in reply.message["content"]

    _, message = await quote(twin, speaker="Altman", topic="banana")
    assert "No quotations by Sam Altman about “banana”" in message["embeds"][0]["description"]
    assert_no_pings(twin)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_speaker_autocomplete_lists_known_speakers_with_counts(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=("cogs.quote",))
    everyone = await twin.autocomplete("quote", "speaker", "")
    await twin.wait_for_responses(everyone, 1)
    choices = twin.interaction(everyone).choices
    assert choices[0] == {"name": "Sam Altman (11 quotations)", "value": "Sam Altman"}
    assert 0 < len(choices) <= 25 and all(len(c["name"]) <= 100 for c in choices)

    typed = await twin.autocomplete("quote", "speaker", "奥特")
    await twin.wait_for_responses(typed, 1)
    assert [c["value"] for c in twin.interaction(typed).choices] == ["Sam Altman"]

    other = make_user("someone")
    interaction_id = await twin.slash_command(
        "quote", {"speaker": choices[0]["value"], "topic": "红色警报"}, user=other
    )
    await twin.wait_for_responses(interaction_id, 2)
    shown = twin.message(twin.interaction(interaction_id).original_message_id or "")
    assert "红色警报" in shown["embeds"][0]["description"]
    assert twin.violations == []
