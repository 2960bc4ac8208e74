"""One question budget for every way of asking, end to end: the real FootnoteBot with the ask and quote cogs
against the local Discord twin. /ask, /quote, a DM, a mention and the buttons that run a query all draw on the
same COOLDOWN_RATE per COOLDOWN_SECONDS; the refusal says when to ask again (seconds and a Discord timestamp)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .footnote_helpers import ask, assert_no_pings, custom_ids, start
from .twin import MESSAGE_FLAG_EPHEMERAL, DiscordTwin, make_user

REFUSAL = re.compile(r"^You're asking quickly: try again in \d+ s \(at <t:\d{10}:T>\)\.$")


async def slash(twin: DiscordTwin, name: str, options: dict[str, Any], user: dict[str, Any]) -> list[Any]:
    interaction_id = await twin.slash_command(name, options, user=user)
    return await twin.wait_for_responses(interaction_id, 1)


async def refused_privately(twin: DiscordTwin, name: str, options: dict[str, Any], user: dict[str, Any]) -> None:
    [reply] = await slash(twin, name, options, user)
    assert reply.callback_type == 4 and reply.message["flags"] & MESSAGE_FLAG_EPHEMERAL, reply.message
    assert REFUSAL.match(reply.message["content"]), reply.message["content"]


async def dm(twin: DiscordTwin, user: dict[str, Any], text: str) -> dict[str, Any]:
    sent = await twin.dm(user, text)
    return await twin.wait_for_bot_message(twin.dm_channel(user)["id"], after=sent)


async def mention(twin: DiscordTwin, user: dict[str, Any], text: str) -> dict[str, Any]:
    sent = await twin.guild_message(
        twin.channel["id"], user, f"{twin.mention(twin.bot_user)} {text}", mentions=[twin.bot_user]
    )
    return await twin.wait_for_bot_message(twin.channel["id"], after=sent)


@pytest.mark.asyncio
async def test_quote_a_dm_and_a_mention_share_one_budget_with_ask(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=("cogs.ask", "cogs.quote"), cooldown_rate=4)
    eager = make_user("eager")

    _, answered = await ask(twin, "Sora 的首日留存率是多少", user=eager)
    assert answered["embeds"]
    quoted = await twin.slash_command("quote", {"speaker": "altman"}, user=eager)
    assert (await twin.wait_for_responses(quoted, 2))[0].callback_type == 5, "/quote answered (deferred first)"
    assert (await dm(twin, eager, "Sora 的首日留存率是多少"))["embeds"], "a DM answered"
    assert (await mention(twin, eager, "Gemini 月活"))["embeds"], "a mention answered"

    # Four questions, four ways: the budget is spent for every way of asking.
    refused = await mention(twin, eager, "Gemini 月活")
    assert REFUSAL.match(refused["content"]) and not refused.get("embeds"), refused
    refused = await dm(twin, eager, "Sora 的首日留存率是多少")
    assert REFUSAL.match(refused["content"]) and not refused.get("embeds"), refused
    await refused_privately(twin, "quote", {"speaker": "altman"}, eager)
    await refused_privately(twin, "ask", {"question": "Sora"}, eager)

    other = make_user("patient")  # another user's budget is untouched
    quoted = await twin.slash_command("quote", {"speaker": "altman"}, user=other)
    assert (await twin.wait_for_responses(quoted, 2))[0].callback_type == 5
    assert (await dm(twin, other, "Sora 的首日留存率是多少"))["embeds"]
    assert_no_pings(twin)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_buttons_that_run_a_query_count_and_feedback_does_not(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, cooldown_rate=2)
    reader = make_user("reader")
    _, message = await ask(twin, "OpenAI", user=reader)
    next_id = next(i for i in custom_ids(message) if ":next:" in i)

    turned = await twin.click(message["id"], next_id, user=reader)  # the second question of two
    assert (await twin.wait_for_responses(turned, 2))[0].callback_type == 6
    up_id = next(i for i in custom_ids(twin.message(message["id"])) if ":up:" in i)
    thanked = await twin.click(message["id"], up_id, user=reader)  # feedback runs no query: not counted
    [thanks] = await twin.wait_for_responses(thanked, 1)
    assert thanks.message["content"] == "Thanks for the feedback!"

    page = twin.message(message["id"])
    again = await twin.click(message["id"], next(i for i in custom_ids(page) if ":next:" in i), user=reader)
    [reply] = await twin.wait_for_responses(again, 1)
    assert reply.callback_type == 4 and reply.message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert REFUSAL.match(reply.message["content"]), reply.message["content"]
    await refused_privately(twin, "ask", {"question": "Sora"}, reader)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_turning_a_page_of_quote_counts_too(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=("cogs.quote",), cooldown_rate=1)
    reader = make_user("reader")
    quoted = await twin.slash_command("quote", {"speaker": "altman"}, user=reader)
    await twin.wait_for_responses(quoted, 2)
    message = twin.message(twin.interaction(quoted).original_message_id or "")
    click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":next:" in i), user=reader)
    [reply] = await twin.wait_for_responses(click, 1)
    assert reply.callback_type == 4 and reply.message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert REFUSAL.match(reply.message["content"]), reply.message["content"]
    assert "page 1/" in twin.message(message["id"])["embeds"][0]["footer"]["text"], "the page did not turn"
    assert twin.violations == []
