"""Private stays private, end to end through the real bot and the twin (issue 14, point 1).

A question asked with `/ask private:true` in a staff channel must never leave its asker: not in the public digest,
not in an admin's /gaps, not in another user's /history, not in a public follow-up's "Understood as", and not in
the bot's log at INFO. A public question asked in a channel that the digest's readers cannot see is counted there,
never quoted; /gaps quotes only questions from channels the admin can read.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from client import FootnoteBot

from .footnote_helpers import ask, settings_for
from .twin import EVERYONE_PERMISSIONS, MESSAGE_FLAG_EPHEMERAL, make_role, make_text_channel, make_user

VIEW_CHANNEL = 1 << 10
MANAGE_GUILD = 1 << 5

SECRET = "What is the Zephyr merger codename of the staff plan?"  # private, in #staff
STAFF_PUBLIC = "Who won the 1998 chess olympiad?"  # public, in #staff (hidden from #general's readers)
GENERAL_PUBLIC = "Who won the Nobel Prize in Physics in 2024?"  # public, in #general


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _everything_sent(twin, channel_id: str | None = None) -> str:
    """Every text the bot put in messages (content, embed titles, descriptions, fields, footers)."""
    texts = []
    for request in twin.requests():
        message = request.message if request.method in ("POST", "PATCH") else None
        if not message:
            continue
        if channel_id is not None and channel_id not in request.path:
            continue
        texts.append(str(message.get("content") or ""))
        for embed in message.get("embeds") or []:
            texts.extend(str(embed.get(key) or "") for key in ("title", "description"))
            texts.extend(f"{f.get('name')} {f.get('value')}" for f in embed.get("fields") or [])
            texts.append(str((embed.get("footer") or {}).get("text") or ""))
    return "\n".join(texts)


def _staff_guild(twin):
    """#staff readable only by the staff role; a moderator with Manage Server who is not staff."""
    guild = twin.guild
    staff_role = make_role("staff", guild_id=guild["id"])
    mod_role = make_role("mod", guild_id=guild["id"], permissions=EVERYONE_PERMISSIONS | MANAGE_GUILD)
    guild["roles"].extend([staff_role, mod_role])
    staff = make_text_channel("staff", guild_id=guild["id"])
    staff["permission_overwrites"] = [
        {"id": guild["id"], "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)},
        {"id": staff_role["id"], "type": 0, "allow": str(VIEW_CHANNEL), "deny": "0"},
    ]
    guild["channels"].append(staff)
    twin.channels[staff["id"]] = staff
    staffer, mod, member = make_user("staffer"), make_user("mod"), make_user("member")
    twin.add_member(guild["id"], staffer, roles=[staff_role["id"]])
    twin.add_member(guild["id"], mod, roles=[mod_role["id"]])
    twin.add_member(guild["id"], member)
    return staff, staffer, mod, member


async def _reply(twin, name, user, **kwargs):
    interaction_id = await twin.slash_command(name, user=user, **kwargs)
    [reply] = await twin.wait_for_responses(interaction_id, 1)
    return reply.message


@pytest.mark.asyncio
async def test_a_private_question_never_leaves_its_asker(twin, run_bot, engine, store, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    staff, staffer, mod, member = _staff_guild(twin)
    clock = Clock(datetime(2025, 12, 10, 7, 0, tzinfo=UTC).timestamp())
    settings = settings_for(twin, tmp_path, digest_tick_seconds=0)
    bot = FootnoteBot(
        settings=settings,
        store=store,
        engine=engine,
        extensions=("cogs.ask", "cogs.memory", "cogs.digest"),
        clock=clock,
    )
    await run_bot(bot)

    await ask(twin, STAFF_PUBLIC, user=staffer, channel_id=staff["id"])
    _, secret = await ask(twin, SECRET, private=True, user=staffer, channel_id=staff["id"])
    assert secret["flags"] & MESSAGE_FLAG_EPHEMERAL and "Not in the corpus" in secret["embeds"][0]["description"]
    await ask(twin, GENERAL_PUBLIC, user=member)
    # A public follow-up right after the private question resolves against the last *public* question (its
    # "Understood as" is shown in the channel).
    _, follow = await ask(twin, "why?", user=staffer, channel_id=staff["id"])
    understood = follow["embeds"][0]["description"].split("\n")[0]
    assert "Understood as" in understood and "chess" in understood and "Zephyr" not in str(follow)

    # The digest, posted in #general: quotes #general's public question, counts #staff's two (the question and
    # its "why?"), never the private one.
    await _reply(
        twin, "digest", twin.default_user, subcommand="set", options={"channel": twin.channel["id"], "time": "08:00"}
    )
    clock.now += 3600
    assert await bot.get_cog("DigestCog").tick() == [int(twin.guild["id"])]
    digest = _everything_sent(twin, twin.channel["id"])
    assert GENERAL_PUBLIC in digest
    assert "Zephyr" not in digest and "chess" not in digest
    assert "2 more questions asked in other channels" in digest

    # /gaps of the owner (reads every channel): both public questions, never the private one.
    owner_gaps = _everything_sent_in(await _reply(twin, "gaps", twin.default_user))
    assert GENERAL_PUBLIC in owner_gaps and STAFF_PUBLIC in owner_gaps and "Zephyr" not in owner_gaps
    # /gaps of a moderator who cannot read #staff: #general's question, and a count for the rest.
    mod_gaps = _everything_sent_in(await _reply(twin, "gaps", mod))
    assert GENERAL_PUBLIC in mod_gaps and "chess" not in mod_gaps and "Zephyr" not in mod_gaps
    assert "2 more questions asked in channels you cannot read" in mod_gaps

    # /history is the asker's own: another user sees none of the staffer's questions.
    other_history = _everything_sent_in(await _reply(twin, "history", member))
    assert "Zephyr" not in other_history and "chess" not in other_history
    own_history = _everything_sent_in(await _reply(twin, "history", staffer))
    assert "Zephyr" in own_history  # the asker still has it

    # Nothing the bot logged at INFO or above quotes the private question.
    bot_records = [r for r in caplog.records if not r.name.startswith("tests.") and r.levelno >= logging.INFO]
    assert bot_records  # the bot did log (a capture that saw nothing would prove nothing)
    for record in bot_records:
        assert "Zephyr" not in record.getMessage() and "Zephyr" not in (record.exc_text or ""), record.getMessage()
    # Everything the bot sent outside the asker's ephemeral answers is free of it.
    public = [m for m in twin.channel_messages(staff["id"], include_ephemeral=False)]
    public += twin.channel_messages(twin.channel["id"], include_ephemeral=False)
    assert "Zephyr" not in str([m for m in public if m.get("author", {}).get("id") == twin.bot_user["id"]])
    assert twin.violations == []


def _everything_sent_in(message: dict) -> str:
    parts = [str(message.get("content") or "")]
    for embed in message.get("embeds") or []:
        parts.extend(str(embed.get(key) or "") for key in ("title", "description"))
        parts.append(str((embed.get("footer") or {}).get("text") or ""))
    return "\n".join(parts)
