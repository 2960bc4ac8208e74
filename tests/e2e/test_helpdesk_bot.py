"""Help channels through the real bot and the twin: forum posts and text-channel questions answered on their own."""

from __future__ import annotations

import pytest

from client import FootnoteBot

from .footnote_helpers import settings_for
from .twin import make_forum_channel, make_user


async def start_helpdesk(twin, run_bot, engine, store, tmp_path, *, message_content=True, **overrides):
    settings = settings_for(twin, tmp_path, **overrides)
    bot = FootnoteBot(
        settings=settings,
        store=store,
        engine=engine,
        extensions=("cogs.ask", "cogs.helpdesk"),
        message_content=message_content,
    )
    await run_bot(bot)
    return bot


async def helpdesk(twin, sub, options=None, user=None):
    iid = await twin.slash_command("helpdesk", options or {}, subcommand=sub, user=user or twin.default_user)
    [reply] = await twin.wait_for_responses(iid, 1)
    return reply.message["content"]


@pytest.mark.asyncio
async def test_smoke(twin, run_bot, engine, store, tmp_path):
    forum = twin.add_channel(make_forum_channel("help", guild_id=twin.guild["id"]))
    await start_helpdesk(twin, run_bot, engine, store, tmp_path)
    print(await helpdesk(twin, "set", {"channel": forum["id"]}))
    asker = make_user("bob")
    thread_id = await twin.forum_post(
        forum["id"], asker, "Gemini users", "How many monthly active users does Gemini have?"
    )
    reply = await twin.wait_for_bot_message(thread_id, timeout=10)
    print(reply["embeds"][0]["description"][:300], reply["components"])
    print(twin.violations)
