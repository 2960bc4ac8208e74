"""Conversation memory through the real bot and the twin: follow-ups by /ask and by DM, /forget, /history, /gaps."""

from __future__ import annotations

import pytest

from .footnote_helpers import ask, start
from .twin import MESSAGE_FLAG_EPHEMERAL, make_user

BOTH = ("cogs.ask", "cogs.memory")


@pytest.mark.asyncio
async def test_follow_up_ask_shows_how_it_was_understood(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=BOTH)
    user = make_user("curious")
    _, first = await ask(twin, "Mark Chen 怎么看红色警报", user=user)
    _, follow = await ask(twin, "他后来怎么说", user=user)
    description = follow["embeds"][0]["description"]
    assert description.startswith("*Understood as: ") and "Mark Chen" in description.split("\n")[0]
    _, more = await ask(twin, "more", user=user)
    first_ranks = {line.split("**")[1] for line in first["embeds"][0]["description"].split("\n") if "**[" in line}
    assert "more results" in more["embeds"][0]["description"]
    assert first_ranks  # the first answer had cited excerpts

    # Another user in the same channel gets no context from the first user.
    _, other = await ask(twin, "more", user=make_user("someone"))
    assert "no earlier question" in other["content"]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_follow_up_dm_swaps_the_subject(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=BOTH)
    reader = make_user("reader")
    channel = twin.dm_channel(reader)["id"]
    first = await twin.dm(reader, "How many monthly active users does Gemini have?")
    await twin.wait_for_bot_message(channel, after=first)
    second = await twin.dm(reader, "What about ChatGPT?")
    reply = await twin.wait_for_bot_message(channel, after=second)
    head = reply["embeds"][0]["description"].split("\n")[0]
    assert "Understood as" in head and "chatgpt" in head.lower() and "gemini" not in head.lower()
    assert twin.violations == []


@pytest.mark.asyncio
async def test_forget_history_and_gaps(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=BOTH)
    owner = twin.default_user  # owns the guild: has Manage Server
    member = make_user("member")
    twin.add_member(twin.guild["id"], member)
    for question in (
        "Sora 留存率",
        "Who won the Nobel Prize in Physics in 2024?",
        "Who won the Nobel Prize in Physics in 2024?",
    ):
        await ask(twin, question, user=member)

    history = await twin.slash_command("history", user=member)
    [reply] = await twin.wait_for_responses(history, 1)
    assert reply.message["flags"] & MESSAGE_FLAG_EPHEMERAL, reply.message
    assert "embeds" in reply.message, reply.message
    lines = reply.message["embeds"][0]["description"].split("\n")
    assert len(lines) == 3 and "not in the corpus" in lines[0] and "Sora" in lines[2]

    denied = await twin.slash_command("gaps", user=member)
    [reply] = await twin.wait_for_responses(denied, 1)
    assert "can't use this command" in reply.message["content"]
    allowed = await twin.slash_command("gaps", user=owner)
    [reply] = await twin.wait_for_responses(allowed, 1)
    assert "embeds" in reply.message, reply.message
    assert reply.message["embeds"][0]["description"].startswith("**2×** Who won the Nobel Prize in Physics in 2024?")
    gaps_command = next(c for c in twin.commands(twin.guild["id"]) if c["name"] == "gaps")
    assert int(gaps_command["default_member_permissions"]) == 1 << 5  # Manage Server

    forget = await twin.slash_command("forget", user=member)
    [reply] = await twin.wait_for_responses(forget, 1)
    assert reply.message["content"] == "Forgot 3 questions you asked here."
    history = await twin.slash_command("history", user=member)
    [reply] = await twin.wait_for_responses(history, 1)
    assert "not asked me anything" in reply.message["content"]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_chained_follow_ups_keep_the_subject_through_discord(twin, run_bot, engine, store, tmp_path):
    """ "What is code red?" -> "why?" -> "why?" -> "more", and "他后来怎么说" -> "更多": every step answers about the
    subject of the first question (issue 14, point 12)."""
    await start(twin, run_bot, engine, store, tmp_path, extensions=BOTH)
    for user, chain, subject in (
        (make_user("en"), ("What is code red?", "why?", "why?", "more"), "code red"),
        (make_user("zh"), ("Mark Chen 怎么看红色警报", "他后来怎么说", "更多"), "Mark Chen"),
    ):
        await ask(twin, chain[0], user=user)
        for question in chain[1:]:
            _, reply = await ask(twin, question, user=user)
            assert reply.get("embeds"), reply.get("content")
            head = reply["embeds"][0]["description"].split("\n")[0]
            assert head.startswith("*Understood as: ") and subject in head, head
            assert "Not in the corpus" not in reply["embeds"][0]["description"]
    assert twin.violations == []
