"""Help channels through the real bot and the twin: forum posts and text-channel questions answered on their own,
only when the corpus answers them; never twice, never out of turn; the buttons, the follow-ups, the limits, the
kill switch, and the bad input of issue 21."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

import pytest

from client import FootnoteBot
from index.engine import Engine
from index.helpdesk import sure_enough
from store import Store
from store.digest import Schedule
from store.helpdesk import HelpChannel, HelpdeskStore

from .footnote_helpers import assert_no_pings, settings_for
from .twin import (
    MESSAGE_FLAG_EPHEMERAL,
    DiscordTwin,
    make_forum_channel,
    make_forum_tag,
    make_overwrite,
    make_role,
    make_text_channel,
    make_user,
)
from .twin.forums import P_MANAGE_THREADS, P_SEND_MESSAGES_IN_THREADS
from .twin.protocol import EVERYONE_PERMISSIONS, new_snowflake

MANAGE_GUILD, VIEW_CHANNEL = 1 << 5, 1 << 10

ANSWERED = "How many monthly active users does Gemini have?"
UNANSWERABLE = "What is the boiling point of mercury at sea level?"
PARTIAL_CANDIDATES = (
    "Gemini revenue in Japan",
    "Gemini revenue in Brazil",
    "OpenAI revenue in Japan",
    "Sora revenue in Japan",
    "Altman revenue in Germany",
)
HELP_COGS = ("cogs.ask", "cogs.helpdesk", "cogs.memory")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class GatedEngine:
    """The real engine, whose `ask` waits for the test to open the gate: what happens while an answer is being
    computed (a person replies, the post is deleted or locked, help is switched off)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.gate = threading.Event()
        self.entered = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        self.gate.wait(10)
        return self._engine.ask(*args, **kwargs)

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 10), "the bot never asked the engine"


def add_forum(twin: DiscordTwin, name: str = "help", tags: tuple[Any, ...] = ("Solved", "Bug")) -> dict[str, Any]:
    return twin.add_channel(make_forum_channel(name, guild_id=twin.guild["id"], tags=tags))


async def start_bot(
    twin, run_bot, engine, store, tmp_path, *, message_content=True, clock=None, extra_cogs=(), **overrides
):
    settings = settings_for(twin, tmp_path, **overrides)
    options: dict[str, Any] = {"clock": clock} if clock is not None else {}
    bot = FootnoteBot(
        settings=settings,
        store=store,
        engine=engine,
        extensions=HELP_COGS + tuple(extra_cogs),
        message_content=message_content,
        **options,
    )
    return await run_bot(bot)


async def helpdesk(twin: DiscordTwin, sub: str, options: dict[str, Any] | None = None, user=None) -> str:
    iid = await twin.slash_command("helpdesk", options or {}, subcommand=sub, user=user or twin.default_user)
    [reply] = await twin.wait_for_responses(iid, 1)
    assert reply.message["flags"] & MESSAGE_FLAG_EPHEMERAL
    return reply.message["content"]


async def settled(bot: FootnoteBot, post_id: str, timeout: float = 10.0) -> str:
    """The final status of a post in the store (waits while it is being handled)."""
    desk = HelpdeskStore(bot.store)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        post = await desk.post(int(post_id))
        if post is not None and post.status not in ("claimed", "answering"):
            return post.status
        assert asyncio.get_running_loop().time() < deadline, f"post {post_id} still {post and post.status}"
        await asyncio.sleep(0.02)


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


def posts_in(twin: DiscordTwin, channel_id: str) -> list[Any]:
    return twin.requests("POST", f"/channels/{channel_id}/messages")


# -- answering a forum post -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_forum_post_the_corpus_answers_gets_one_cited_answer_with_its_buttons(
    twin, run_bot, engine, store, tmp_path, caplog
):
    forum = add_forum(twin)
    bot = await start_bot(twin, run_bot, engine, store, tmp_path)
    said = await helpdesk(twin, "set", {"channel": forum["id"]})
    assert said.startswith("Help channel set.") and "high" in said and "20" in said
    caplog.set_level(logging.INFO, logger="cogs.helpdesk")

    asker = make_user("bob")
    thread = await twin.forum_post(forum["id"], asker, "Gemini users?", ANSWERED)
    reply = await twin.wait_for_bot_message(thread, timeout=10)
    assert await settled(bot, thread) == "answered"
    embed = reply["embeds"][0]
    assert embed["title"] == "Gemini users?"
    assert "**[1]**" in embed["description"] and "¶ " in embed["description"]
    ids = custom_ids(reply)
    assert [i.split(":")[3] for i in ids[:3]] == ["prev", "next", "full"]
    assert ids[3:] == [f"fn:help:{ids[0].split(':')[2]}:solved", f"fn:help:{ids[0].split(':')[2]}:unhelpful"]
    assert "answered (high confidence)" in caplog.text

    # ▶ turns the page and keeps the help channel's own buttons; Full passages works as for /ask
    page = await twin.click(reply["id"], ids[1], user=asker)
    await twin.wait_for_responses(page, 2)
    turned = twin.message(reply["id"])
    assert "page 2/" in turned["embeds"][0]["footer"]["text"] and custom_ids(turned)[3:] == ids[3:]
    full = await twin.click(reply["id"], custom_ids(turned)[2], user=asker)
    await twin.wait_for_responses(full, 2)

    public = [m for m in twin.bot_messages(thread) if not m["flags"] & MESSAGE_FLAG_EPHEMERAL]
    assert [m["id"] for m in public] == [reply["id"]]
    assert twin.violations == []
    assert_no_pings(twin)


@pytest.mark.asyncio
async def test_unanswerable_posts_get_silence_or_the_moderators_reaction_and_become_gaps(
    twin, run_bot, engine, store, tmp_path
):
    quiet, marked = add_forum(twin, "quiet"), add_forum(twin, "marked")
    bot = await start_bot(twin, run_bot, engine, store, tmp_path)
    await helpdesk(twin, "set", {"channel": quiet["id"]})
    said = await helpdesk(twin, "set", {"channel": marked["id"], "mode": "suggest", "reaction": "🤷"})
    assert "🤷" in said

    silent = await twin.forum_post(quiet["id"], make_user("ann"), "Mercury", UNANSWERABLE)
    reacted = await twin.forum_post(marked["id"], make_user("ben"), "Mercury again", UNANSWERABLE)
    assert await settled(bot, silent) == "silent"
    assert await settled(bot, reacted) == "reacted"
    assert twin.bot_messages(silent) == [] and twin.bot_messages(reacted) == []
    assert "reactions" not in twin.message(silent)
    assert twin.message(reacted)["reactions"] == [{"emoji": {"id": None, "name": "🤷"}, "count": 1, "me": True}]
    # suggest mode still answers what the corpus answers
    answered = await twin.forum_post(marked["id"], make_user("cat"), "Gemini", ANSWERED)
    await twin.wait_for_bot_message(answered, timeout=10)
    assert "reactions" not in twin.message(answered)

    gaps = [gap.question for gap in await store.gaps(int(twin.guild["id"]), channels={quiet["id"], marked["id"]})]
    assert any("boiling point of mercury" in question for question in gaps)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_min_confidence_decides_whether_a_partial_answer_is_posted(twin, run_bot, engine, store, tmp_path):
    verdicts = {q: engine.ask(q, 3) for q in PARTIAL_CANDIDATES}
    partial = next((q for q, a in verdicts.items() if not a.abstained and a.confidence == "low"), None)
    assert partial is not None, f"no low-confidence question among the candidates: {verdicts}"
    strict, lenient = add_forum(twin, "strict"), add_forum(twin, "lenient")
    bot = await start_bot(twin, run_bot, engine, store, tmp_path)
    await helpdesk(twin, "set", {"channel": strict["id"]})
    await helpdesk(twin, "set", {"channel": lenient["id"], "min_confidence": "low"})
    high_only = await twin.forum_post(strict["id"], make_user("dee"), "", partial)
    also_low = await twin.forum_post(lenient["id"], make_user("eve"), "", partial)
    assert await settled(bot, high_only) == "silent"
    assert await settled(bot, also_low) == "answered"
    assert "Low confidence" in twin.bot_messages(also_low)[0]["embeds"][0]["description"]
    assert sure_enough(False, "low", "low") and not sure_enough(False, "low", "high")


# -- never twice, never out of turn ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_post_is_answered_once_across_duplicates_edits_event_order_and_a_restart(
    twin, run_bot, engine, tmp_path
):
    forum = add_forum(twin)
    database = tmp_path / "shared.sqlite3"
    store = await Store.open(database)
    try:
        bot = await start_bot(twin, run_bot, engine, store, tmp_path)
        await helpdesk(twin, "set", {"channel": forum["id"]})
        thread = await twin.forum_post(forum["id"], make_user("fay"), "Gemini users", ANSWERED)
        await twin.wait_for_bot_message(thread, timeout=10)
        assert await settled(bot, thread) == "answered"
        # the same events delivered again, and an edit of the post
        starter = twin.message(thread)
        await twin.dispatch("MESSAGE_CREATE", starter)
        await twin.dispatch("THREAD_CREATE", {**twin.channels[thread], "newly_created": True})
        await twin.edit_user_message(thread, ANSWERED + " (edited: also in 2024?)")
        # the starter message before its thread (Discord does not promise the order)
        first = await twin.forum_post(
            forum["id"], make_user("gus"), "Sora", "OpenAI 为什么要暂停 Sora?", starter_first=True
        )
        await twin.wait_for_bot_message(first, timeout=10)
        await asyncio.sleep(0.5)
        assert len(twin.bot_messages(thread)) == 1 and len(twin.bot_messages(first)) == 1
        await bot.close()
    finally:
        await store.close()

    # a restart: a new process on the same database sees the post again (a replay)
    again = await Store.open(database)
    try:
        await start_bot(twin, run_bot, engine, again, tmp_path)
        await twin.dispatch("MESSAGE_CREATE", twin.message(thread))
        await asyncio.sleep(0.5)
        assert len(twin.bot_messages(thread)) == 1
    finally:
        await again.close()
    assert twin.violations == []


@pytest.mark.asyncio
async def test_bots_and_webhooks_are_never_answered_nor_threads_where_a_person_replied_first(
    twin, run_bot, engine, store, tmp_path
):
    forum = add_forum(twin)
    bot = await start_bot(twin, run_bot, engine, store, tmp_path)
    await helpdesk(twin, "set", {"channel": forum["id"]})
    robot = await twin.forum_post(forum["id"], make_user("robot", bot=True), "Gemini users", ANSWERED)

    gated = GatedEngine(engine)
    bot.engine = gated
    asker, helper = make_user("hal"), make_user("ivy")
    thread = await twin.forum_post(forum["id"], asker, "Gemini users", ANSWERED)
    await gated.wait_entered()
    await twin.thread_message(thread, asker, "(I looked in the FAQ already)")  # the poster: not a reply
    await twin.thread_message(thread, helper, "It's 650 million, see the NetEase piece")
    gated.gate.set()
    assert await settled(bot, thread) == "human"
    assert twin.bot_messages(thread) == [] and twin.bot_messages(robot) == []
    assert await HelpdeskStore(store).post(int(robot)) is None, "a bot's post is not even claimed"
    assert twin.violations == []


# -- text channels --------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_question_in_a_help_text_channel_is_answered_in_a_thread_and_chat_is_left_alone(
    twin, run_bot, engine, store, tmp_path
):
    desk_channel = twin.add_channel(make_text_channel("ask-here", guild_id=twin.guild["id"]))
    bot = await start_bot(twin, run_bot, engine, store, tmp_path)
    await helpdesk(twin, "set", {"channel": desk_channel["id"]})
    person = make_user("jo")

    chat = await twin.guild_message(desk_channel["id"], person, "morning all, thanks for yesterday")
    question = await twin.guild_message(desk_channel["id"], person, "OpenAI 为什么要暂停 Sora")
    reply = await twin.wait_for_bot_message(question, timeout=10)  # the thread opened on it has its id
    assert await settled(bot, question) == "answered"
    assert twin.channels[question]["parent_id"] == desk_channel["id"]
    assert twin.channels[question]["name"] == "OpenAI 为什么要暂停 Sora"
    assert reply["embeds"][0]["description"].count("**[") >= 1
    reply_to = await twin.guild_message(desk_channel["id"], person, "How many monthly users?", reply_to=chat)
    mention = await twin.guild_message(desk_channel["id"], person, ANSWERED, mentions=[twin.bot_user])
    await twin.wait_for_bot_message(desk_channel["id"], after=mention, timeout=10)  # the mention, answered once
    await asyncio.sleep(0.3)
    assert twin.bot_messages(desk_channel["id"])[-1]["message_reference"]["message_id"] == mention
    assert len(twin.bot_messages(desk_channel["id"])) == 1
    # a webhook's message (an integration relaying questions) is not a member asking
    relayed = {**twin.message(question), "id": new_snowflake(), "webhook_id": new_snowflake(), "content": ANSWERED}
    relayed.pop("thread", None)
    await twin.dispatch("MESSAGE_CREATE", relayed)
    await asyncio.sleep(0.3)
    desk = HelpdeskStore(store)
    assert await desk.post(int(chat)) is None and await desk.post(int(reply_to)) is None
    assert await desk.post(int(mention)) is None and await desk.post(int(relayed["id"])) is None
    assert twin.violations == []


@pytest.mark.asyncio
async def test_a_forum_post_that_mentions_the_bot_is_answered_once_as_a_mention(twin, run_bot, engine, store, tmp_path):
    forum = add_forum(twin)
    await start_bot(twin, run_bot, engine, store, tmp_path)
    await helpdesk(twin, "set", {"channel": forum["id"]})
    thread = await twin.forum_post(forum["id"], make_user("una"), "Gemini", ANSWERED, mentions=[twin.bot_user])
    reply = await twin.wait_for_bot_message(thread, timeout=10)
    await asyncio.sleep(0.5)
    assert [m["id"] for m in twin.bot_messages(thread)] == [reply["id"]]
    assert reply["message_reference"]["message_id"] == thread, "the mention's reply (cogs/ask.py)"
    assert await HelpdeskStore(store).post(int(thread)) is None
    assert twin.violations == []


# -- follow-ups in the thread -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_posters_follow_ups_in_the_thread_work_like_dms(twin, run_bot, engine, store, tmp_path):
    forum = add_forum(twin)
    bot = await start_bot(twin, run_bot, engine, store, tmp_path)
    await helpdesk(twin, "set", {"channel": forum["id"]})
    asker, other = make_user("kim"), make_user("lou")
    thread = await twin.forum_post(forum["id"], asker, "Gemini", ANSWERED)
    first = await twin.wait_for_bot_message(thread, timeout=10)
    assert await settled(bot, thread) == "answered"

    more = await twin.thread_message(thread, asker, "more")
    continued = await twin.wait_for_bot_message(thread, after=first["id"], timeout=10)
    assert continued["message_reference"]["message_id"] == more
    assert "more results" in continued["embeds"][0]["description"]
    why = await twin.thread_message(thread, asker, "why?")
    because = await twin.wait_for_bot_message(thread, after=continued["id"], timeout=10)
    assert because["message_reference"]["message_id"] == why
    assert "Understood as" in because["embeds"][0]["description"]

    await twin.thread_message(thread, asker, "thanks, that helps")  # chat: left alone
    await twin.thread_message(thread, other, "more")  # not the poster
    await asyncio.sleep(0.5)
    assert len(twin.bot_messages(thread)) == 3
    assert twin.violations == []


# -- the buttons --------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_this_answered_it_tags_the_post_solved_when_the_bot_may_and_says_why_when_not(
    twin, run_bot, engine, store, tmp_path
):
    forum = add_forum(twin, tags=("Bug", make_forum_tag("Resolved", emoji="✅")))
    bot = await start_bot(twin, run_bot, engine, store, tmp_path)
    await helpdesk(twin, "set", {"channel": forum["id"]})
    asker, stranger = make_user("max"), make_user("ned")

    async def answered_post(title: str) -> tuple[str, str]:
        thread = await twin.forum_post(forum["id"], asker, title, ANSWERED)
        reply = await twin.wait_for_bot_message(thread, timeout=10)
        return thread, reply["id"]

    async def press(message_id: str, action: str, user) -> str:
        solved = next(i for i in custom_ids(twin.message(message_id)) if i.endswith(action))
        iid = await twin.click(message_id, solved, user=user)
        [response] = await twin.wait_for_responses(iid, 1)
        return response.message["content"]

    # without Manage Threads the bot says so and does not try
    thread, reply = await answered_post("first")
    assert "Only the person who asked" in await press(reply, "solved", stranger)
    said = await press(reply, "solved", asker)
    assert "Marked as answered" in said and "Manage Threads" in said
    assert twin.requests("PATCH", f"/channels/{thread}") == []

    # with it, the forum's solved tag (named "Resolved" here, with a check mark) is added
    await twin.set_overwrite(forum["id"], twin.bot_user, member=True, allow=P_MANAGE_THREADS)
    await asyncio.sleep(0.2)
    said = await press(reply, "solved", asker)
    assert "Tagged “Resolved”" in said
    resolved = next(t["id"] for t in forum["available_tags"] if t["name"] == "Resolved")
    assert twin.channels[thread]["applied_tags"] == [resolved]
    assert "already has" in await press(reply, "solved", asker)

    # a forum whose solved tag was removed: nothing to add, said plainly
    await twin.set_forum_tags(forum["id"], ["Bug"])
    second, second_reply = await answered_post("second")
    await asyncio.sleep(0.2)
    assert "no “Solved” tag" in await press(second_reply, "solved", asker)
    assert twin.channels[second]["applied_tags"] == []

    # "Not helpful" is feedback the corpus keepers see in /gaps
    assert "noted" in await press(second_reply, "unhelpful", stranger)
    gaps = await store.gaps(int(twin.guild["id"]), channels={int(forum["id"])})
    assert any(g.disliked for g in gaps) and bot.is_ready()
    assert twin.violations == []


# -- knowledge gaps: /gaps and the digest, with the privacy rules -------------------------------------------------


@pytest.mark.asyncio
async def test_unanswered_posts_are_gaps_quoted_only_to_readers_of_their_channel(
    twin, run_bot, engine, store, tmp_path
):
    gid = twin.guild["id"]
    keeper_role = make_role("corpus keepers", guild_id=gid, permissions=EVERYONE_PERMISSIONS | MANAGE_GUILD)
    twin.guild["roles"].append(keeper_role)
    reader, outsider = make_user("reader"), make_user("outsider")
    twin.add_member(gid, reader, roles=[keeper_role["id"]])
    twin.add_member(gid, outsider, roles=[keeper_role["id"]])
    forum = add_forum(twin)
    forum["permission_overwrites"].append(make_overwrite(outsider, member=True, deny=VIEW_CHANNEL))
    help_text = twin.add_channel(make_text_channel("questions", guild_id=gid))
    news = twin.add_channel(make_text_channel("news", guild_id=gid))
    bot = await start_bot(twin, run_bot, engine, store, tmp_path, extra_cogs=("cogs.digest",), digest_tick_seconds=0)
    await helpdesk(twin, "set", {"channel": forum["id"]})
    await helpdesk(twin, "set", {"channel": help_text["id"]})
    in_forum = await twin.forum_post(forum["id"], make_user("vic"), "Mercury", UNANSWERABLE)
    in_text = await twin.guild_message(help_text["id"], make_user("wes"), "Who won the 1998 chess olympiad?")
    assert await settled(bot, in_forum) == "silent" and await settled(bot, in_text) == "silent"

    async def gaps_for(user) -> str:
        iid = await twin.slash_command("gaps", user=user)
        [reply] = await twin.wait_for_responses(iid, 1)
        message = reply.message
        return (message.get("content") or "") + json.dumps(message.get("embeds") or [], ensure_ascii=False)

    seen_by_reader = await gaps_for(reader)
    assert "boiling point of mercury" in seen_by_reader and "chess olympiad" in seen_by_reader
    seen_by_outsider = await gaps_for(outsider)
    assert "boiling point of mercury" not in seen_by_outsider and "chess olympiad" in seen_by_outsider
    assert "1 more question asked in channels you cannot read" in seen_by_outsider

    # the digest quotes only what its own channel's readers saw asked, and counts the rest
    digest = bot.get_cog("DigestCog")
    now = bot.clock()
    for channel, quoted, counted in ((news, (), 2), (help_text, ("chess olympiad",), 1)):
        schedule = Schedule(int(gid), int(channel["id"]), "09:00", "UTC", (), None, None)
        built = await digest.build(schedule, schedule.local_date(now), now)
        section = next(s for s in built.sections if s.kind == "gaps")
        assert [item.text for item in section.items] == [q for q in ("Who won the 1998 chess olympiad?",) if quoted]
        assert section.note.startswith(f"{counted} more question")
    assert twin.violations == []


# -- limits and the kill switch ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_hourly_cap_and_the_posters_budget(twin, run_bot, engine, store, tmp_path):
    forum = add_forum(twin)
    clock = Clock(1_765_000_000.0)
    bot = await start_bot(twin, run_bot, engine, store, tmp_path, clock=clock, cooldown_rate=2)
    await helpdesk(twin, "set", {"channel": forum["id"], "per_hour": 2})
    threads = [await twin.forum_post(forum["id"], make_user(f"p{i}"), f"Gemini {i}", ANSWERED) for i in range(4)]
    statuses = [await settled(bot, t) for t in threads]
    assert statuses.count("answered") == 2 and statuses.count("capped") == 2
    clock.now += 3601  # an hour later the channel may answer again
    later = await twin.forum_post(forum["id"], make_user("p9"), "Gemini later", ANSWERED)
    assert await settled(bot, later) == "answered"

    # one poster, three posts: their question budget (2 here) is the one every command shares
    eager = make_user("eager")
    clock.now += 3601
    mine = [await twin.forum_post(forum["id"], eager, f"Gemini again {i}", ANSWERED) for i in range(3)]
    assert [await settled(bot, t) for t in mine] == ["answered", "answered", "limited"]
    shown = await helpdesk(twin, "show")
    assert "over the hourly cap" in shown and "over their question budget" in shown
    assert twin.violations == []


@pytest.mark.asyncio
async def test_helpdesk_off_stops_answers_at_once_even_one_being_computed(twin, run_bot, engine, store, tmp_path):
    forum = add_forum(twin)
    bot = await start_bot(twin, run_bot, engine, store, tmp_path)
    await helpdesk(twin, "set", {"channel": forum["id"]})
    gated = GatedEngine(engine)
    bot.engine = gated
    thread = await twin.forum_post(forum["id"], make_user("oz"), "Gemini", ANSWERED)
    await gated.wait_entered()
    assert "switched off in 1 channel" in await helpdesk(twin, "off")
    gated.gate.set()
    assert await settled(bot, thread) == "off"
    after = await twin.forum_post(forum["id"], make_user("pia"), "Gemini", ANSWERED)
    await asyncio.sleep(0.5)
    assert twin.bot_messages(thread) == [] and twin.bot_messages(after) == []
    assert await HelpdeskStore(store).post(int(after)) is None
    assert "no help channel" in (await helpdesk(twin, "show")).lower()
    assert twin.violations == []


@pytest.mark.asyncio
async def test_the_kill_switch_thrown_by_another_process_stops_this_one_at_once(twin, run_bot, engine, tmp_path):
    """Another process on the same database runs /helpdesk off (its HelpdeskStore.remove, on its own connection):
    this bot, which still lists the channel in its quick filter, answers nothing more, without waiting for its
    next refresh."""
    forum = add_forum(twin)
    database = tmp_path / "shared.sqlite3"
    mine, theirs = await Store.open(database), await Store.open(database)
    try:
        bot = await start_bot(twin, run_bot, engine, mine, tmp_path)
        await helpdesk(twin, "set", {"channel": forum["id"]})
        answered = await twin.forum_post(forum["id"], make_user("q1"), "Gemini", ANSWERED)
        assert await settled(bot, answered) == "answered"
        assert await HelpdeskStore(theirs).remove(int(twin.guild["id"])) == 1
        assert int(forum["id"]) in bot.get_cog("Helpdesk")._help_ids
        ignored = await twin.forum_post(forum["id"], make_user("q2"), "Gemini", ANSWERED)
        await asyncio.sleep(0.5)
        assert twin.bot_messages(ignored) == []
        assert await HelpdeskStore(theirs).post(int(ignored)) is None
    finally:
        await mine.close()
        await theirs.close()
    assert twin.violations == []


# -- bad input ------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_bad_posts_get_a_log_line_and_nothing_that_fails(twin, run_bot, engine, store, tmp_path, caplog):
    forum = add_forum(twin)
    bot = await start_bot(twin, run_bot, engine, store, tmp_path)
    await helpdesk(twin, "set", {"channel": forum["id"]})
    caplog.set_level(logging.INFO, logger="cogs.helpdesk")
    user = make_user("ray")

    no_title = await twin.forum_post(forum["id"], user, "", ANSWERED)
    assert await settled(bot, no_title) == "answered"
    image_only = await twin.forum_post(forum["id"], user, ANSWERED, "",
                                       attachments=[{"filename": "screenshot.png"}])  # fmt: skip
    assert await settled(bot, image_only) == "answered", "read by its title"
    nothing = await twin.forum_post(forum["id"], user, "🙂", "", embeds=[{"title": "a link preview"}])
    assert await settled(bot, nothing) == "skipped"
    assert f"post {nothing} in channel {forum['id']} has no words to read" in caplog.text
    story = "I read three articles about this and my colleague says otherwise, so I would like a source. " * 45
    huge = await twin.forum_post(forum["id"], user, "Gemini", story + ANSWERED + " Thanks in advance!")
    assert await settled(bot, huge) == "answered"
    assert f"post {huge} in channel {forum['id']} is 4" in caplog.text

    # deleted, or locked, while the answer was being computed
    gated = GatedEngine(engine)
    bot.engine = gated
    doomed = await twin.forum_post(forum["id"], user, "Gemini", ANSWERED)
    await gated.wait_entered()
    await twin.delete_thread(doomed)
    gated.gate.set()
    assert await settled(bot, doomed) == "gone"
    assert "was deleted before the answer was sent" in caplog.text
    gated.gate.clear()
    gated.entered.clear()
    locked = await twin.forum_post(forum["id"], user, "Gemini", ANSWERED)
    await gated.wait_entered()
    await twin.update_thread(locked, locked=True)
    await asyncio.sleep(0.2)
    gated.gate.set()
    assert await settled(bot, locked) == "failed"
    assert "the post is locked" in caplog.text
    bot.engine = engine

    # no "Send Messages in Threads" here: a log line, nothing attempted, the refusal in /helpdesk show
    await twin.set_overwrite(forum["id"], twin.bot_user, member=True, deny=P_SEND_MESSAGES_IN_THREADS)
    await asyncio.sleep(0.2)
    muted = await twin.forum_post(forum["id"], user, "Gemini", ANSWERED)
    assert await settled(bot, muted) == "failed"
    assert "missing permission: Send Messages in Threads" in caplog.text
    assert posts_in(twin, muted) == [] and posts_in(twin, locked) == []
    assert "Last refusal: missing permission: Send Messages in Threads" in await helpdesk(twin, "show")
    refused = await helpdesk(twin, "set", {"channel": forum["id"]})
    assert "give me Send Messages in Threads" in refused

    assert "Traceback" not in caplog.text
    assert twin.violations == []


@pytest.mark.asyncio
async def test_helpdesk_commands_check_their_input_and_the_caller(twin, run_bot, engine, store, tmp_path):
    forum = add_forum(twin)
    await start_bot(twin, run_bot, engine, store, tmp_path, message_content=False)
    assert "not one emoji" in await helpdesk(twin, "set", {"channel": forum["id"], "reaction": "not an emoji"})
    assert "not an emoji of this server" in await helpdesk(
        twin, "set", {"channel": forum["id"], "reaction": "<:party:123456789012345678>"}
    )
    member = make_user("mia")
    twin.add_member(twin.guild["id"], member)
    assert "can't use this command" in await helpdesk(twin, "set", {"channel": forum["id"]}, user=member)
    command = next(c for c in twin.commands(twin.guild["id"]) if c["name"] == "helpdesk")
    assert int(command["default_member_permissions"]) == 1 << 5  # Manage Server
    channel_option = next(o for o in command["options"][0]["options"] if o["name"] == "channel")
    assert sorted(channel_option["channel_types"]) == [0, 5, 15]
    # without the Message Content intent, set says what it means and how to fix it
    said = await helpdesk(twin, "set", {"channel": forum["id"]})
    assert said.startswith("Help channel set.") and "Message Content" in said and "restart" in said
    assert "no help channel to switch off" not in await helpdesk(twin, "off", {"channel": forum["id"]})
    assert "no help channel to switch off" in await helpdesk(twin, "off")
    assert twin.violations == []


@pytest.mark.asyncio
async def test_without_the_message_content_intent_a_post_is_read_by_its_title(twin, run_bot, engine, store, tmp_path):
    forum = add_forum(twin)
    help_channel = HelpChannel(int(forum["id"]), int(twin.guild["id"]), "forum")
    await HelpdeskStore(store).set_channel(help_channel, user_id=None, now=0.0)
    bot = await start_bot(twin, run_bot, engine, store, tmp_path, message_content=False)
    assert not twin.intents & (1 << 15)
    by_title = await twin.forum_post(forum["id"], make_user("sam"), "Gemini monthly active users", "see the title")
    reply = await twin.wait_for_bot_message(by_title, timeout=10)
    assert reply["embeds"][0]["title"] == "Gemini monthly active users"
    assert await settled(bot, by_title) == "answered"
