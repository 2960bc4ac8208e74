import dataclasses

import discord
import pytest

from cogs.render import (
    CONTENT_LIMIT,
    EMBEDS_TOTAL_LIMIT,
    answer_embed,
    clip,
    embed_length,
    escape,
    fit,
    full_passages_embed,
    message_text,
)


def test_clip_cuts_at_a_sentence_end_with_an_ellipsis():
    text = "First sentence here. Second sentence is much longer than the first one."
    assert clip(text, 40) == "First sentence here.…"
    assert clip(text, len(text)) == text


def test_clip_falls_back_to_a_word_boundary_then_a_character():
    assert clip("alpha beta gamma delta", 14) == "alpha beta…"
    assert clip("零一二三四五六七八九", 5) == "零一二三…"


def test_fit_never_cuts_inside_an_escape_sequence():
    text = "*" * 300
    fitted = fit(text, 101)
    assert len(fitted) <= 101
    assert not fitted.rstrip("…").endswith("\\") and fitted.count("\\") == fitted.count("*")


@pytest.mark.parametrize("limit", [10, 100, 256, 1024])
def test_fit_respects_limits_on_markdown_heavy_text(limit):
    text = "**bold** __u__ `code` ~~s~~ ||spoiler|| > quote # head " * 40
    assert len(fit(text, limit)) <= limit


def test_escape_makes_corpus_markdown_literal():
    assert escape("**x** _y_") == "\\*\\*x\\*\\* \\_y\\_"


def test_message_text_is_within_the_content_limit():
    assert len(message_text("x" * 5000)) <= CONTENT_LIMIT


def test_answer_embed_limits_and_labels(engine):
    answer = engine.ask("Gemini 3", k=3)
    embed = answer_embed(answer, question="Gemini 3" * 100, version=engine.version, page=0)
    assert len(embed.title) <= 256 and len(embed.description) <= 4096
    assert embed_length(embed) <= EMBEDS_TOTAL_LIMIT
    assert "page 1/" in embed.footer.text and engine.version in embed.footer.text
    abstained = engine.ask("What is the capital of France?")
    embed = answer_embed(abstained, question="What is the capital of France?", version="v", page=0)
    assert "Not in the corpus" in embed.description and embed.colour == discord.Colour(0x757575)


def test_low_confidence_is_labelled(engine):
    # The engine labels weak matches itself (tests/index/test_abstention.py); here, how one is rendered.
    answer = dataclasses.replace(engine.ask("What did Nick Turley say?", k=3), confidence="low")
    embed = answer_embed(answer, question="q", version="v", page=0)
    assert embed.description.startswith("⚠️ **Low confidence**")


def test_full_passages_embed_stays_within_limits(engine):
    results = engine.ask("OpenAI", k=25).results
    embed = full_passages_embed(results, engine.version)
    assert len(embed.fields) <= 25 and all(len(f.value) <= 1024 for f in embed.fields)
    assert embed_length(embed) <= EMBEDS_TOTAL_LIMIT


@pytest.mark.asyncio
async def test_on_error_shows_a_short_message_and_logs_the_traceback(caplog):
    from unittest.mock import AsyncMock, MagicMock

    from discord import app_commands

    from cogs.render import on_app_command_error
    from index.errors import UserFacingError

    def interaction():
        fake = MagicMock(spec=discord.Interaction)
        fake.response = MagicMock(spec=discord.InteractionResponse)
        fake.response.is_done.return_value = False
        fake.response.send_message = AsyncMock()
        fake.command = MagicMock(qualified_name="ask")
        return fake

    broken = interaction()
    error = app_commands.CommandInvokeError(MagicMock(qualified_name="ask"), ZeroDivisionError("boom"))
    await on_app_command_error(broken, error)
    text = broken.response.send_message.await_args.args[0]
    assert "went wrong" in text and "boom" not in text and "Traceback" not in text
    assert broken.response.send_message.await_args.kwargs["ephemeral"] is True
    assert "ZeroDivisionError: boom" in caplog.text

    polite = interaction()
    await on_app_command_error(
        polite, app_commands.CommandInvokeError(MagicMock(qualified_name="ask"), UserFacingError("Ask again"))
    )
    assert polite.response.send_message.await_args.args[0] == "Ask again"
