"""Forged buttons (issue 14, point 11): ids read from custom_ids are validated, never passed on to the database.

A custom_id is the one part of a button a hostile client controls. The twin only lets a test click components of
a message the bot sent, so each test rewrites a component of such a message into the forged id first.
"""

from __future__ import annotations

import logging

import pytest

from .footnote_helpers import ask, custom_ids, start
from .twin import MESSAGE_FLAG_EPHEMERAL

FORGED_ASK = [
    "fn:ask:9999999999999999999:up:0",  # 19 digits, past a 64-bit integer: OverflowError in SQLite
    "fn:ask:9223372036854775808:next:0",  # 2**63
    "fn:ask:0:full:0",
    "fn:ask:0000000000000000001:down:0",
    "fn:ask:9223372036854775807:prev:1",  # the largest valid id, not stored
]
FORGED_PAGE = ["fn:pg:timeline:9999999999999999999:next:0", "fn:pg:timeline:0:next:0"]


def _forge(message: dict, custom_id: str) -> None:
    """Rewrite the first button of a stored message (twin.messages holds what the bot sent)."""
    message["components"][0]["components"][0]["custom_id"] = custom_id
    message["components"][0]["components"][0]["disabled"] = False


async def _click(twin, message_id: str, custom_id: str) -> dict:
    _forge(twin.messages[message_id], custom_id)
    interaction_id = await twin.click(message_id, custom_id)
    [reply] = await twin.wait_for_responses(interaction_id, 1)
    return reply.message


@pytest.mark.asyncio
async def test_forged_answer_ids_get_a_clear_message_and_no_traceback(twin, run_bot, engine, store, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    await start(twin, run_bot, engine, store, tmp_path)
    _, answer = await ask(twin, "What is code red?")
    assert custom_ids(answer)
    for forged in FORGED_ASK:
        reply = await _click(twin, answer["id"], forged)
        assert reply["flags"] & MESSAGE_FLAG_EPHEMERAL, forged
        assert "not valid" in reply["content"] or "no longer stored" in reply["content"], (forged, reply)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "OverflowError" not in caplog.text
    assert twin.violations == []


@pytest.mark.asyncio
async def test_forged_page_record_ids_get_a_clear_message(twin, run_bot, engine, store, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    await start(twin, run_bot, engine, store, tmp_path, extensions=("cogs.timeline",))
    interaction_id = await twin.slash_command("timeline", {})
    await twin.wait_for_responses(interaction_id, 2)
    message = twin.message(twin.interaction(interaction_id).original_message_id or "")
    assert custom_ids(message)
    for forged in FORGED_PAGE:
        reply = await _click(twin, message["id"], forged)
        assert reply["flags"] & MESSAGE_FLAG_EPHEMERAL and "not valid" in reply["content"], (forged, reply)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert twin.violations == []
