"""The Ask cog's callbacks called directly with spec'd fakes (faster than the twin), a real store and engine."""

from types import SimpleNamespace
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
import pytest_asyncio

from cogs.ask import AskCog, answer_view
from index.errors import UserFacingError
from store import Store


@pytest_asyncio.fixture
async def cog(engine, tmp_path):
    store = await Store.open(tmp_path / "db.sqlite3")
    bot = SimpleNamespace(engine=engine, store=store, settings=SimpleNamespace(cooldown_rate=2, cooldown_per=30.0))
    yield AskCog(bot)
    await store.close()


def fake_interaction(user_id: int = 42) -> MagicMock:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.user = MagicMock(spec=discord.User, id=user_id)
    interaction.guild_id = 1
    interaction.channel_id = 2
    interaction.response = MagicMock(spec=discord.InteractionResponse)
    interaction.response.defer = AsyncMock()
    interaction.edit_original_response = AsyncMock()
    return interaction


@pytest.mark.asyncio
async def test_ask_defers_then_edits_with_an_embed_and_buttons(cog):
    interaction = fake_interaction()
    await AskCog.ask.callback(cog, interaction, "Sora 的首日留存率是多少", False)
    interaction.response.defer.assert_awaited_once_with(ephemeral=False, thinking=True)
    kwargs = interaction.edit_original_response.await_args.kwargs
    assert "10%" in kwargs["embed"].description
    assert kwargs["allowed_mentions"].everyone is False and kwargs["allowed_mentions"].roles is False
    assert len(kwargs["view"].children) == 5
    record = await cog.bot.store.get_answer(1)
    assert record.question == "Sora 的首日留存率是多少" and record.user_id == 42 and not record.private


@pytest.mark.asyncio
async def test_ask_turns_bad_questions_into_a_message(cog):
    interaction = fake_interaction()
    await AskCog.ask.callback(cog, interaction, "😀", True)
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    assert "no words to search" in interaction.edit_original_response.await_args.kwargs["content"]


@pytest.mark.asyncio
async def test_ask_cooldown_raises_a_user_facing_error(cog):
    for _ in range(2):
        await AskCog.ask.callback(cog, fake_interaction(7), "Sora", False)
    with pytest.raises(UserFacingError, match="try again in"):
        await AskCog.ask.callback(cog, fake_interaction(7), "Sora", False)
    await AskCog.ask.callback(cog, fake_interaction(8), "Sora", False)  # other users are not affected


def test_answer_view_custom_ids_are_unique_and_short(engine):
    answer = engine.ask("Gemini 3", k=3)
    view = answer_view(2**63 - 1, answer, 9)
    ids = [item.custom_id for item in view.children]
    assert len(ids) == len(set(ids)) == 5 and all(len(i) <= 100 for i in ids)
    rows = {}
    for item in view.children:
        rows.setdefault(item.row, []).append(item)
    assert all(len(items) <= 5 for items in rows.values())
