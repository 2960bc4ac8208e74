"""Discord's failures, injected by the twin (twin/faults.py), survived by the real bot (issue 14, point 9).

Each scenario asserts the same three things: the answer arrives (nothing lost), it arrives once (no duplicate),
and no user is shown a traceback or a generic error; the log carries no traceback either, where the bot knows
what happened. `FAILURES` counts the scenarios for the closing report (docs/operations.md lists them).
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from client import FootnoteBot

from .footnote_helpers import assert_no_pings, settings_for, start
from .twin import CALLBACK, CHANNEL_MESSAGES, WEBHOOK_MESSAGE, DiscordTwin, make_user

QUESTION = "How many monthly active users does Gemini have?"
ANSWER_MARK = "6.5"  # in every answer to QUESTION on the seeds
GENERIC_ERROR = "Something went wrong"


def _texts(twin: DiscordTwin) -> list[str]:
    """Every text the bot made visible, in order (contents and embed descriptions of accepted requests)."""
    texts = []
    for request in twin.requests():
        message = request.message if request.ok and request.method in ("POST", "PATCH") else None
        if message:
            texts.append(str(message.get("content") or ""))
            texts.extend(str(e.get("description") or "") for e in message.get("embeds") or [])
    return texts


def assert_answered_once(twin: DiscordTwin, mark: str = ANSWER_MARK) -> None:
    shown = [t for t in _texts(twin) if mark in t]
    assert len(shown) == 1, shown
    assert not [t for t in _texts(twin) if GENERIC_ERROR in t or "Traceback" in t]


def assert_no_traceback_logged(caplog) -> None:
    bot_side = [r for r in caplog.records if not r.name.startswith("tests.") and r.exc_info]
    assert not bot_side, [r.getMessage() for r in bot_side]


async def delivered_in(twin: DiscordTwin, channel_id: str) -> dict:
    """The answer the bot posted in a channel (or DM) because the interaction could not carry it."""

    def found():
        return next(
            (m for m in twin.bot_messages(channel_id) if "lost the original reply" in m.get("content", "")), None
        )

    return await twin.wait_for(found, timeout=15, what="the answer delivered in the channel")


async def ask_and_wait(twin: DiscordTwin, question: str = QUESTION, *, private: bool = False, timeout: float = 15):
    options = {"question": question, **({"private": True} if private else {})}
    interaction_id = await twin.slash_command("ask", options)
    await twin.wait_for(lambda: any(ANSWER_MARK in t for t in _texts(twin)), timeout=timeout, what="the answer")
    return interaction_id


# -- rate limits ---------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("template", "is_global"),
    [(CALLBACK, False), (WEBHOOK_MESSAGE, False), (WEBHOOK_MESSAGE, True)],
    ids=["callback-per-route", "edit-per-route", "edit-global"],
)
async def test_429_is_waited_out_and_the_answer_arrives_once(
    twin, run_bot, engine, store, tmp_path, caplog, template, is_global
):
    await start(twin, run_bot, engine, store, tmp_path)
    fault = twin.fail(template, 429, retry_after=0.3, is_global=is_global)
    await ask_and_wait(twin)
    assert fault.hits == 1
    assert_answered_once(twin)
    assert_no_traceback_logged(caplog)
    assert twin.violations == []


# -- server errors -------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_on_the_answer_are_retried(twin, run_bot, engine, store, tmp_path, caplog, status):
    await start(twin, run_bot, engine, store, tmp_path)
    fault = twin.fail(WEBHOOK_MESSAGE, status, method="PATCH")
    await ask_and_wait(twin)
    assert fault.hits == 1
    assert_answered_once(twin)
    assert_no_traceback_logged(caplog)
    assert twin.violations == []


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_on_a_mention_reply_are_retried(twin, run_bot, engine, store, tmp_path, caplog, status):
    await start(twin, run_bot, engine, store, tmp_path)
    fault = twin.fail(CHANNEL_MESSAGES, status, method="POST")
    await twin.guild_message(
        twin.channel["id"], make_user("reader"), f"{twin.mention(twin.bot_user)} {QUESTION}", mentions=[twin.bot_user]
    )
    await twin.wait_for(lambda: any(ANSWER_MARK in t for t in _texts(twin)), timeout=15, what="the reply")
    assert fault.hits == 1
    assert_answered_once(twin)
    assert_no_traceback_logged(caplog)


@pytest.mark.asyncio
async def test_a_channel_the_bot_cannot_post_in_gets_the_answer_by_dm(twin, run_bot, engine, store, tmp_path, caplog):
    await start(twin, run_bot, engine, store, tmp_path)
    fault = twin.fail(CHANNEL_MESSAGES, 403, method="POST", code=50013, message="Missing Permissions")
    reader = make_user("reader")
    await twin.guild_message(
        twin.channel["id"], reader, f"{twin.mention(twin.bot_user)} {QUESTION}", mentions=[twin.bot_user]
    )
    dm = twin.dm_channel(reader)["id"]
    reply = await twin.wait_for_bot_message(dm, timeout=10)
    assert fault.hits == 1 and ANSWER_MARK in reply["embeds"][0]["description"]
    assert "can't post in" in reply["content"]
    assert_answered_once(twin)
    assert_no_traceback_logged(caplog)


# -- interactions Discord lost, or whose token expired -------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
async def test_an_unknown_interaction_still_gets_its_answer(twin, run_bot, engine, store, tmp_path, caplog, private):
    await start(twin, run_bot, engine, store, tmp_path)
    asker = make_user("asker")
    twin.add_member(twin.guild["id"], asker)
    fault = twin.fail(CALLBACK, 404, code=10062, message="Unknown interaction")
    interaction_id = await twin.slash_command("ask", {"question": QUESTION, "private": private}, user=asker)
    where = twin.dm_channel(asker)["id"] if private else twin.channel["id"]
    delivered = await delivered_in(twin, where)
    assert fault.hits == 1 and ANSWER_MARK in delivered["embeds"][0]["description"]
    assert "lost the original reply" in delivered["content"]
    assert_no_pings(twin)
    assert_answered_once(twin)
    assert_no_traceback_logged(caplog)
    # Unacknowledged because Discord lost it: the twin's deadline check says so, and nothing else went wrong.
    assert {v.rule for v in twin.violations} <= {"interaction_not_acknowledged"}
    assert twin.interaction(interaction_id).ack_type is None


@pytest.mark.asyncio
async def test_an_expired_interaction_token_still_gets_the_answer_delivered(
    twin, run_bot, engine, store, tmp_path, caplog
):
    """Interaction tokens live 15 minutes: Discord answers an edit after that with 401 Invalid Webhook Token."""
    await start(twin, run_bot, engine, store, tmp_path)
    fault = twin.fail(WEBHOOK_MESSAGE, 401, method="PATCH", code=50027, message="Invalid Webhook Token")
    await twin.slash_command("ask", {"question": QUESTION})
    delivered = await delivered_in(twin, twin.channel["id"])
    assert fault.hits == 1 and ANSWER_MARK in delivered["embeds"][0]["description"]
    assert_answered_once(twin)
    assert_no_traceback_logged(caplog)
    assert twin.violations == []


# -- the same interaction twice ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_duplicate_interaction_create_is_answered_once(twin, run_bot, engine, store, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    await start(twin, run_bot, engine, store, tmp_path)
    interaction_id = await ask_and_wait(twin)
    await twin.redeliver(interaction_id)
    await asyncio.sleep(0.5)
    assert len([r for r in twin.interaction_responses(interaction_id) if r.kind == "callback"]) == 1
    assert_answered_once(twin)
    assert "delivered again; ignored" in caplog.text
    assert_no_traceback_logged(caplog)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_a_duplicate_button_click_is_answered_once(twin, run_bot, engine, store, tmp_path, caplog):
    await start(twin, run_bot, engine, store, tmp_path)
    interaction_id = await ask_and_wait(twin)
    answer = twin.message(twin.interaction(interaction_id).original_message_id or "")
    up = next(
        c["custom_id"] for row in answer["components"] for c in row["components"] if c["custom_id"].endswith(":up:0")
    )
    click = await twin.click(answer["id"], up)
    await twin.wait_for_responses(click, 1)
    await twin.redeliver(click)
    await asyncio.sleep(0.5)
    assert len(twin.interaction_responses(click)) == 1
    assert_no_traceback_logged(caplog)
    assert twin.violations == []


# -- the gateway ---------------------------------------------------------------------------------------------------


class SlowEngine:
    """The real engine, each answer taking `delay` seconds (in the engine thread, as a slow question would)."""

    def __init__(self, engine, delay: float) -> None:
        self._engine, self.delay = engine, delay

    def ask(self, *args, **kwargs):
        time.sleep(self.delay)
        return self._engine.ask(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._engine, name)


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", ["abort", "close", "reconnect", "invalidate"])
async def test_a_gateway_drop_mid_answer_loses_nothing(twin, run_bot, engine, store, tmp_path, caplog, mode):
    bot = FootnoteBot(settings=settings_for(twin, tmp_path), store=store, engine=SlowEngine(engine, 1.0),
                      extensions=("cogs.ask",))  # fmt: skip
    await run_bot(bot)
    first = await twin.slash_command("ask", {"question": QUESTION})
    await twin.wait_for_responses(first, 1)  # deferred; the answer is being computed
    await twin.drop_gateway(mode)
    # Asked while the bot is away: held by Discord, replayed on RESUME (not after INVALID_SESSION: a new session
    # starts empty, as on Discord), so it is asked again once the bot is back.
    await twin.wait_until_ready(timeout=20)
    await twin.wait_for(lambda: any(ANSWER_MARK in t for t in _texts(twin)), timeout=15, what="the first answer")
    assert_answered_once(twin)
    second = await twin.slash_command("ask", {"question": "What is code red?"})
    await twin.wait_for_responses(second, 2, timeout=15)
    assert twin.resume_count + twin.identify_count >= 2
    assert_no_traceback_logged(caplog)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_a_zombie_connection_is_noticed_and_resumed(run_bot, engine, store, tmp_path, caplog):
    twin = DiscordTwin(heartbeat_interval_ms=400)
    await twin.start()
    try:
        async with twin.run_bot(
            FootnoteBot(settings=settings_for(twin, tmp_path), store=store, engine=engine, extensions=("cogs.ask",))
        ) as bot:
            await twin.wait_for(lambda: twin.heartbeat_count >= 1, timeout=5, what="a heartbeat")
            twin.zombie()
            held = await twin.slash_command("ask", {"question": QUESTION})  # held for the RESUME
            await twin.wait_until_ready(timeout=10)
            await twin.wait_for_responses(held, 2, timeout=15)
            assert bot.zombie_watch.reconnects == 1 and twin.resume_count == 1
            assert "zombie connection" in caplog.text
            assert_answered_once(twin)
            assert_no_traceback_logged(caplog)
            assert twin.violations == []
    finally:
        await twin.close()


@pytest.mark.asyncio
async def test_a_reset_token_stops_the_bot_with_one_clear_line(twin, run_bot, engine, store, tmp_path, caplog):
    bot = await start(twin, run_bot, engine, store, tmp_path)
    twin.reset_token()
    await twin.wait_for(bot.is_closed, timeout=10, what="the bot to stop")
    assert_no_traceback_logged(caplog)


@pytest.mark.asyncio
async def test_a_token_rejected_by_a_rest_request_stops_the_bot(twin, run_bot, engine, store, tmp_path, caplog):
    """A REST request can learn of the reset before the gateway does: the bot stops too, with no traceback."""
    caplog.set_level(logging.INFO)
    bot = await start(twin, run_bot, engine, store, tmp_path)
    fault = twin.fail(CHANNEL_MESSAGES, 401, method="POST")
    await twin.guild_message(
        twin.channel["id"], make_user("reader"), f"{twin.mention(twin.bot_user)} {QUESTION}", mentions=[twin.bot_user]
    )
    await twin.wait_for(bot.is_closed, timeout=15, what="the bot to stop")
    assert fault.hits == 1 and bot.token_rejected
    assert len([r for r in caplog.records if "401 Unauthorized: stopping" in r.getMessage()]) == 1
    assert_no_traceback_logged(caplog)
