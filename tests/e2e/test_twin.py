"""Self tests of the local Discord twin, driven by a small throwaway discord.py bot defined here.

Each test runs the real discord.py client (commands.Bot + app_commands) against the twin over HTTP and the gateway.
"""

from __future__ import annotations

import asyncio
import io
import json
import zlib
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from .twin import (
    EMBED_TOTAL_LIMIT,
    MESSAGE_FLAG_EPHEMERAL,
    BotRunner,
    DiscordTwin,
    TwinError,
    embed_total_length,
    guild_ids_across_shards,
    make_guild,
    make_user,
    zstandard,
)

FRUITS = ["apple", "apricot", "banana", "blueberry", "cherry"]


class CounterView(discord.ui.View):
    """A persistent view: one button with a fixed custom_id that increments the count in the message."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="+1", style=discord.ButtonStyle.primary, custom_id="counter:inc")
    async def increment(self, interaction: discord.Interaction, button: discord.ui.Button[CounterView]) -> None:
        assert interaction.message is not None
        count = int(interaction.message.content.rsplit(" ", 1)[-1]) + 1
        await interaction.response.edit_message(content=f"count: {count}")


class DuplicateIdView(discord.ui.View):
    """Two buttons sharing a custom_id: Discord rejects this."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.add_item(discord.ui.Button(label="a", custom_id="same"))
        self.add_item(discord.ui.Button(label="b", custom_id="same"))


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    """A one-field modal."""

    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(label="Your feedback", custom_id="feedback:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class ThrowawayBot(commands.Bot):
    """A minimal bot exercising the flows the twin must support; it records what went wrong in the bot."""

    def __init__(self, guild_id: str) -> None:
        intents = discord.Intents.default()  # no privileged intents: no message content outside DMs / mentions
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.guild = discord.Object(int(guild_id))
        self.http_errors: dict[str, discord.HTTPException] = {}
        self.command_errors: list[BaseException] = []
        self.seen: list[tuple[str, str]] = []  # (message id, content) of users' messages as the bot saw them
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self._define_commands()

    async def _on_tree_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        self.command_errors.append(error)

    def _define_commands(self) -> None:
        tree = self.tree

        @tree.command(name="ping", description="Answer pong", guild=self.guild)
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

        @tree.command(name="echo", description="Echo text, optionally to someone", guild=self.guild)
        @app_commands.describe(text="what to say", who="who to address")
        async def echo(interaction: discord.Interaction, text: str, who: discord.Member | None = None) -> None:
            prefix = f"{who.display_name}: " if who else ""
            await interaction.response.send_message(f"{prefix}{text}", ephemeral=True)

        @tree.command(name="slow", description="Defer, then edit the original and follow up", guild=self.guild)
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0.05)
            await interaction.edit_original_response(content="done thinking")
            await interaction.followup.send("and one more thing", wait=True)

        @tree.command(name="counter", description="A message with a persistent button", guild=self.guild)
        async def counter(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("count: 0", view=CounterView())

        @tree.command(name="fruit", description="Pick a fruit", guild=self.guild)
        async def fruit(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"you picked {name}")

        @fruit.autocomplete("name")
        async def fruit_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=f, value=f) for f in FRUITS if f.startswith(current.lower())]

        @tree.command(name="bigembed", description="Send an embed over 6000 characters", guild=self.guild)
        async def bigembed(interaction: discord.Interaction) -> None:
            embed = discord.Embed(title="big", description="d" * 4000)
            for index in range(3):
                embed.add_field(name=f"field {index}", value="v" * 1000)
            try:
                await interaction.response.send_message(embed=embed)
            except discord.HTTPException as exc:
                self.http_errors["bigembed"] = exc
                await interaction.response.send_message("that embed was too large", ephemeral=True)

        @tree.command(name="twice", description="Answer the same interaction twice", guild=self.guild)
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("first")
            try:  # a second, independent responder for the same interaction (bypasses discord.py's own guard)
                await discord.InteractionResponse(interaction).send_message("second")
            except discord.HTTPException as exc:
                self.http_errors["twice"] = exc

        @tree.command(name="dupbuttons", description="Two buttons with one custom_id", guild=self.guild)
        async def dupbuttons(interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_message("buttons", view=DuplicateIdView())
            except discord.HTTPException as exc:
                self.http_errors["dupbuttons"] = exc
                await interaction.response.send_message("could not send buttons", ephemeral=True)

        @tree.command(name="late", description="Answer after 0.5 s", guild=self.guild)
        async def late(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.5)
            try:
                await interaction.response.send_message("sorry I'm late")
            except discord.HTTPException as exc:
                self.http_errors["late"] = exc

        @tree.command(name="feedback", description="Open a modal", guild=self.guild)
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal())

        notes = app_commands.Group(name="notes", description="Notes", guild_ids=[self.guild.id])

        @notes.command(name="add", description="Add a note")
        async def notes_add(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.send_message(f"noted: {text}")

        tree.add_command(notes)

        @tree.command(name="about", description="A global command that answers with a file")
        async def about(interaction: discord.Interaction) -> None:
            where = "DM" if interaction.guild_id is None else "guild"
            await interaction.response.send_message(
                f"about ({where})", file=discord.File(io.BytesIO(b"hello"), "a.txt")
            )

    async def setup_hook(self) -> None:
        self.add_view(CounterView())  # persistent: clicks on old messages still work
        await self.tree.sync(guild=self.guild)
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Skip discord.py's 5 s pause before a re-IDENTIFY (it protects the real gateway's identify rate limit)."""

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        self.seen.append((str(message.id), message.content))
        if message.guild is None:
            await message.channel.send(f"you said: {message.content}")
        elif self.user is not None and self.user in message.mentions:
            await message.reply(f"hello {message.author.mention}")


async def start_bot(twin: DiscordTwin, run_bot: BotRunner) -> ThrowawayBot:
    bot: ThrowawayBot = await run_bot(ThrowawayBot(twin.guild["id"]))
    return bot


# --------------------------------------------------------------------------------------------------------------------
# Log-in, sync, slash commands


@pytest.mark.asyncio
async def test_login_and_guild_command_sync(twin: DiscordTwin, run_bot: BotRunner) -> None:
    bot = await start_bot(twin, run_bot)

    assert bot.user is not None and str(bot.user.id) == twin.bot_user["id"]
    assert str(bot.application_id) == twin.application_id
    assert bot.get_guild(int(twin.guild["id"])) is not None, "GUILD_CREATE was not processed"
    login = [(r.method, r.path) for r in twin.requests()[:2]]
    assert login == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
    synced = twin.commands(twin.guild["id"])
    assert {c["name"] for c in synced} >= {"ping", "echo", "slow", "counter", "fruit", "notes"}
    assert all(c["guild_id"] == twin.guild["id"] for c in synced)
    assert [c["name"] for c in twin.commands()] == ["about"], "only /about is global"
    fruit = next(c for c in synced if c["name"] == "fruit")
    assert fruit["options"][0]["autocomplete"] is True
    query = twin.gateway_queries[0]
    assert query["v"] == "10" and query["encoding"] == "json" and query["compress"] == "zlib-stream"
    assert twin.identify_count == 1 and twin.intents == discord.Intents.default().value
    assert twin.violations == []


@pytest.mark.asyncio
async def test_slash_command_answered_directly(twin: DiscordTwin, run_bot: BotRunner) -> None:
    await start_bot(twin, run_bot)

    interaction_id = await twin.slash_command("ping")
    callback = await twin.wait_for_response(interaction_id)

    assert callback.callback_type == 4
    assert callback.message["content"] == "pong"
    assert callback.message["allowed_mentions"] == {"parse": []}
    latency = twin.ack_latency(interaction_id)
    assert latency is not None and 0 <= latency < 3
    [posted] = twin.bot_messages(twin.channel["id"])
    assert posted["content"] == "pong" and posted["interaction_metadata"]["id"] == interaction_id
    assert twin.violations == []


@pytest.mark.asyncio
async def test_slash_command_options_and_resolved_member(twin: DiscordTwin, run_bot: BotRunner) -> None:
    bot = await start_bot(twin, run_bot)
    bob = make_user("bob", global_name="Bobby")
    twin.add_member(twin.guild["id"], bob)

    interaction_id = await twin.slash_command("echo", {"text": "hi there", "who": bob})
    callback = await twin.wait_for_response(interaction_id)

    assert callback.message["content"] == "Bobby: hi there"
    assert callback.message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert twin.channel_messages(twin.channel["id"], include_ephemeral=False) == []
    with pytest.raises(TwinError, match="unknown option"):
        await twin.slash_command("echo", {"txt": "typo"})
    with pytest.raises(TwinError, match="missing required"):
        await twin.slash_command("echo", {})
    assert bot.command_errors == [] and twin.violations == []


@pytest.mark.asyncio
async def test_defer_then_edit_original_and_follow_up(twin: DiscordTwin, run_bot: BotRunner) -> None:
    await start_bot(twin, run_bot)

    interaction_id = await twin.slash_command("slow")
    responses = await twin.wait_for_responses(interaction_id, 3)

    assert [r.kind for r in responses] == ["callback", "edit_original", "followup"]
    assert responses[0].callback_type == 5
    assert responses[1].body["content"] == "done thinking"
    record = twin.interaction(interaction_id)
    original = twin.message(record.original_message_id or "")
    assert original["content"] == "done thinking" and original["flags"] & 128 == 0, "loading flag not cleared"
    follow_up = responses[2].response
    assert follow_up["content"] == "and one more thing"
    assert follow_up["interaction_metadata"]["original_response_message_id"] == original["id"]
    assert [m["id"] for m in twin.bot_messages(twin.channel["id"])] == [original["id"], follow_up["id"]]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_subcommand_in_group(twin: DiscordTwin, run_bot: BotRunner) -> None:
    await start_bot(twin, run_bot)

    interaction_id = await twin.slash_command("notes", {"text": "remember the milk"}, subcommand="add")
    callback = await twin.wait_for_response(interaction_id)

    assert callback.message["content"] == "noted: remember the milk"
    option = twin.interaction(interaction_id).payload["data"]["options"][0]
    assert (option["name"], option["type"], option["options"][0]["value"]) == ("add", 1, "remember the milk")
    with pytest.raises(TwinError, match="needs a subcommand"):
        await twin.slash_command("notes", {"text": "x"})
    assert twin.violations == []


@pytest.mark.asyncio
async def test_global_command_in_dm_with_file_upload(twin: DiscordTwin, run_bot: BotRunner) -> None:
    await start_bot(twin, run_bot)
    frank = make_user("frank")
    dm_channel = twin.dm_channel(frank)

    interaction_id = await twin.slash_command("about", channel_id=dm_channel["id"], user=frank)
    callback = await twin.wait_for_response(interaction_id)

    payload = twin.interaction(interaction_id).payload
    assert "guild_id" not in payload and payload["user"]["id"] == frank["id"] and payload["context"] == 1
    assert callback.message["content"] == "about (DM)", "multipart payload_json not parsed"
    assert [(f.field, f.filename, f.size) for f in callback.files] == [("files[0]", "a.txt", 5)]
    [posted] = twin.channel_messages(dm_channel["id"])
    assert [a["filename"] for a in posted["attachments"]] == ["a.txt"]
    with pytest.raises(TwinError, match="not synced"):
        await twin.slash_command("ping", channel_id=dm_channel["id"])  # guild commands do not exist in DMs
    assert twin.violations == []


# --------------------------------------------------------------------------------------------------------------------
# Components, autocomplete, modals


@pytest.mark.asyncio
async def test_persistent_button_click_updates_message(twin: DiscordTwin, run_bot: BotRunner) -> None:
    await start_bot(twin, run_bot)
    await twin.wait_for_response(await twin.slash_command("counter"))
    [message] = twin.bot_messages(twin.channel["id"])
    assert message["components"][0]["components"][0]["custom_id"] == "counter:inc"

    for expected in (1, 2):
        click_id = await twin.click(message["id"], "counter:inc", user=make_user("carol"))
        callback = await twin.wait_for_response(click_id)
        assert callback.callback_type == 7
        assert twin.message(message["id"])["content"] == f"count: {expected}"

    assert twin.message(message["id"])["edited_timestamp"] is not None
    with pytest.raises(TwinError, match="no component"):
        await twin.click(message["id"], "nope")
    assert twin.violations == []


@pytest.mark.asyncio
async def test_autocomplete_answered_with_choices(twin: DiscordTwin, run_bot: BotRunner) -> None:
    await start_bot(twin, run_bot)

    interaction_id = await twin.autocomplete("fruit", "name", "ap")
    callback = await twin.wait_for_response(interaction_id)

    assert callback.callback_type == 8
    assert twin.interaction(interaction_id).choices == [
        {"name": "apple", "value": "apple"},
        {"name": "apricot", "value": "apricot"},
    ]
    assert twin.channel_messages(twin.channel["id"]) == [], "autocomplete must not post anything"
    assert twin.violations == []


@pytest.mark.asyncio
async def test_modal_opened_and_submitted(twin: DiscordTwin, run_bot: BotRunner) -> None:
    await start_bot(twin, run_bot)

    opener = await twin.slash_command("feedback")
    assert (await twin.wait_for_response(opener)).callback_type == 9
    submit = await twin.submit_modal(opener, {"feedback:text": "great bot"})
    callback = await twin.wait_for_response(submit)

    assert callback.message["content"] == "thanks: great bot"
    assert twin.violations == []


# --------------------------------------------------------------------------------------------------------------------
# Messages


@pytest.mark.asyncio
async def test_dm_answered_via_channel_send(twin: DiscordTwin, run_bot: BotRunner) -> None:
    await start_bot(twin, run_bot)
    dave = make_user("dave")

    message_id = await twin.dm(dave, "what is a footnote?")
    dm_channel = twin.dm_channel(dave)
    reply = await twin.wait_for_bot_message(dm_channel["id"], after=message_id)

    assert reply["content"] == "you said: what is a footnote?"
    [sent] = twin.requests("POST", f"/channels/{dm_channel['id']}/messages")
    assert sent.status == 200 and sent.body["content"] == reply["content"]
    assert [m["author"]["username"] for m in twin.channel_messages(dm_channel["id"])] == ["dave", "Footnote"]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_guild_mention_reply_sends_allowed_mentions_none(twin: DiscordTwin, run_bot: BotRunner) -> None:
    bot = await start_bot(twin, run_bot)
    erin = make_user("erin")

    unmentioned = await twin.guild_message(twin.channel["id"], erin, "just chatting")
    mentioned = await twin.guild_message(twin.channel["id"], erin, "hello bot", mentions=[twin.bot_user])
    reply = await twin.wait_for_bot_message(twin.channel["id"], after=mentioned)

    assert reply["content"] == f"hello <@{erin['id']}>"
    assert reply["message_reference"]["message_id"] == mentioned
    [sent] = twin.requests("POST", "/channels/")
    assert sent.body["allowed_mentions"]["parse"] == []
    assert sent.body["allowed_mentions"].get("replied_user") in (None, False)
    # default intents lack MESSAGE_CONTENT: Discord blanks content unless the bot is mentioned
    assert bot.seen == [(unmentioned, ""), (mentioned, f"<@{twin.bot_user['id']}> hello bot")]
    assert twin.message(unmentioned)["content"] == "just chatting"
    assert twin.violations == []


# --------------------------------------------------------------------------------------------------------------------
# Contract violations


@pytest.mark.asyncio
async def test_oversized_embed_is_rejected_and_recorded(twin: DiscordTwin, run_bot: BotRunner) -> None:
    bot = await start_bot(twin, run_bot)

    interaction_id = await twin.slash_command("bigembed")
    await twin.wait_for(lambda: twin.interaction(interaction_id).acknowledged, what="fallback answer")

    error = bot.http_errors["bigembed"]
    assert error.status == 400 and error.code == 50035
    assert "MAX_EMBED_SIZE_EXCEEDED" in json.dumps(twin.interaction_responses(interaction_id)[0].response)
    rejected, accepted = twin.interaction_responses(interaction_id)
    assert rejected.status == 400 and embed_total_length(rejected.message["embeds"]) > EMBED_TOTAL_LIMIT
    assert accepted.ok and accepted.message["content"] == "that embed was too large"
    assert [v.rule for v in twin.violations] == ["embed_total_length"]


@pytest.mark.asyncio
async def test_second_callback_is_a_violation(twin: DiscordTwin, run_bot: BotRunner) -> None:
    bot = await start_bot(twin, run_bot)

    interaction_id = await twin.slash_command("twice")
    await twin.wait_for(lambda: "twice" in bot.http_errors, what="the second callback to fail")

    assert bot.http_errors["twice"].status == 400 and bot.http_errors["twice"].code == 40060
    statuses = [(r.kind, r.status) for r in twin.interaction_responses(interaction_id)]
    assert statuses == [("callback", 200), ("callback", 400)]
    assert [v.rule for v in twin.violations] == ["interaction_already_acknowledged"]


@pytest.mark.asyncio
async def test_duplicate_custom_ids_are_a_violation(twin: DiscordTwin, run_bot: BotRunner) -> None:
    bot = await start_bot(twin, run_bot)

    interaction_id = await twin.slash_command("dupbuttons")
    await twin.wait_for(lambda: twin.interaction(interaction_id).acknowledged, what="fallback answer")

    assert bot.http_errors["dupbuttons"].status == 400
    assert [v.rule for v in twin.violations] == ["duplicate_custom_id"]


@pytest.mark.asyncio
async def test_late_first_response_is_a_violation(run_bot: BotRunner) -> None:
    async with DiscordTwin(ack_deadline=0.3) as twin:
        bot = ThrowawayBot(twin.guild["id"])
        async with twin.run_bot(bot):
            interaction_id = await twin.slash_command("late")
            await twin.wait_for(lambda: "late" in bot.http_errors, what="the late callback to fail")

            assert isinstance(bot.http_errors["late"], discord.NotFound)
            assert bot.http_errors["late"].code == 10062
            assert twin.ack_latency(interaction_id) is None
            rules = sorted(v.rule for v in twin.violations)
            assert rules == ["interaction_ack_timeout", "interaction_not_acknowledged"]


@pytest.mark.asyncio
async def test_unknown_route_and_schema_violation_raw(twin: DiscordTwin) -> None:
    headers = {"Authorization": f"Bot {twin.token}"}
    channel = twin.channel["id"]
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{twin.api_base}/guilds/{twin.guild['id']}/audit-logs") as response:
            assert response.status == 404
            assert response.headers["Content-Type"] == "application/json"
            assert (await response.json())["message"] == "404: Not Found"
        body = {"content": "x", "embeds": [{"title": "t" * 300}]}
        async with session.post(f"{twin.api_base}/channels/{channel}/messages", json=body) as response:
            assert response.status == 400
            error = await response.json()
            assert error["code"] == 50035 and "_errors" in error["errors"]["embeds"]["0"]["title"]
        async with session.post(
            f"{twin.api_base}/channels/{channel}/messages", json={"content": "y" * 2001}
        ) as response:
            assert response.status == 400
        async with session.get(f"{twin.api_base}/users/@me", headers={"Authorization": "Bot wrong"}) as response:
            assert response.status == 401

    assert [v.rule for v in twin.violations] == ["unknown_route", "schema", "content_length", "unauthorized"]
    assert twin.channel_messages(channel) == []


@pytest.mark.asyncio
async def test_missing_spec_warns_and_extra_rules_still_apply(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTNOTE_DISCORD_SPEC", str(tmp_path / "absent.json"))
    with pytest.warns(RuntimeWarning, match="schema validation is DISABLED"):
        twin = DiscordTwin()
    assert not twin.schema_validation
    async with twin:
        url = f"{twin.api_base}/channels/{twin.channel['id']}/messages"
        async with aiohttp.ClientSession(headers={"Authorization": f"Bot {twin.token}"}) as session:
            async with session.post(url, json={"embeds": [{"title": "t" * 300}]}) as response:
                assert response.status == 200, "schema-only problem must pass without the spec"
            embeds = [{"description": "d" * 4000}, {"description": "e" * 2001}]
            async with session.post(url, json={"embeds": embeds}) as response:
                assert response.status == 400
    assert [v.rule for v in twin.violations] == ["embed_total_length"]


# --------------------------------------------------------------------------------------------------------------------
# Gateway


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", ["abort", "close", "reconnect", "invalidate"])
async def test_bot_reconnects_after_drop(twin: DiscordTwin, run_bot: BotRunner, mode: str) -> None:
    await start_bot(twin, run_bot)
    await twin.wait_for_response(await twin.slash_command("ping"))

    await twin.drop_gateway(mode)  # type: ignore[arg-type]
    if mode == "invalidate":  # dispatches during an invalidated session are lost, as on Discord
        await twin.wait_until_ready()
    interaction_id = await twin.slash_command("ping")  # otherwise buffered and replayed on RESUME
    callback = await twin.wait_for_response(interaction_id, timeout=10)

    assert callback.message["content"] == "pong"
    assert len(twin.gateway_queries) == 2
    if mode == "invalidate":
        assert (twin.identify_count, twin.resume_count) == (2, 0)
    else:
        assert (twin.identify_count, twin.resume_count) == (1, 1)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_burst_of_50_commands_acknowledged_within_3s(twin: DiscordTwin, run_bot: BotRunner) -> None:
    await start_bot(twin, run_bot)

    ids = [await twin.slash_command("ping", user=make_user(f"user{i}")) for i in range(50)]
    await asyncio.gather(*(twin.wait_for_response(i, timeout=10) for i in ids))

    latencies = [twin.ack_latency(i) for i in ids]
    assert all(lat is not None and lat < 3.0 for lat in latencies), latencies
    assert len(twin.requests("POST", "/callback")) == 50
    assert len(twin.bot_messages(twin.channel["id"])) == 50
    assert twin.violations == []


async def _receive(ws: aiohttp.ClientWebSocketResponse, inflator: Any | None) -> dict[str, Any]:
    msg = await ws.receive(timeout=5)
    if inflator is None:
        assert msg.type is aiohttp.WSMsgType.TEXT
        return json.loads(msg.data)
    assert msg.type is aiohttp.WSMsgType.BINARY and msg.data.endswith(b"\x00\x00\xff\xff")
    return json.loads(inflator.decompress(msg.data))


@pytest.mark.asyncio
@pytest.mark.parametrize("compress", [None, "zlib-stream"])
async def test_raw_gateway_handshake(twin: DiscordTwin, compress: str | None) -> None:
    url = f"{twin.gateway_url}?v=10&encoding=json" + (f"&compress={compress}" if compress else "")
    inflator = zlib.decompressobj() if compress else None
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        hello = await _receive(ws, inflator)
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert (await _receive(ws, inflator))["op"] == 11
        await ws.send_json({"op": 2, "d": {"token": twin.token, "intents": 513, "properties": {}}})
        ready = await _receive(ws, inflator)
        assert (ready["op"], ready["t"], ready["s"]) == (0, "READY", 1)
        assert ready["d"]["resume_gateway_url"] == twin.gateway_url
        assert ready["d"]["guilds"] == [{"id": twin.guild["id"], "unavailable": True}]
        assert ready["d"]["application"]["id"] == twin.application_id
        guild = await _receive(ws, inflator)
        assert (guild["t"], guild["s"]) == ("GUILD_CREATE", 2)
        assert twin.bot_user["id"] in {m["user"]["id"] for m in guild["d"]["members"]}
        assert guild["d"]["owner_id"] == twin.default_user["id"]
    assert twin.violations == []


@pytest.mark.asyncio
@pytest.mark.skipif(zstandard is not None, reason="zstandard installed: zstd-stream is supported")
async def test_zstd_stream_is_refused_without_zstandard(twin: DiscordTwin) -> None:
    url = f"{twin.gateway_url}?v=10&encoding=json&compress=zstd-stream"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        msg = await ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 4000
    assert [v.rule for v in twin.violations] == ["gateway_params"]


# -- sharding -----------------------------------------------------------------------------------------------


def _sharded_twin(guild_count: int = 4, shard_count: int = 2) -> DiscordTwin:
    owner = make_user("owner")
    guilds = [
        make_guild(f"Guild {i}", owner=owner, guild_id=gid)
        for i, gid in enumerate(guild_ids_across_shards(guild_count, shard_count))
    ]
    return DiscordTwin(guilds=guilds, shard_count=shard_count)


class ShardProbe(commands.AutoShardedBot):
    """Records, per shard, the guilds it was given and the shard each command arrived on."""

    def __init__(self, **options: Any) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default(), **options)
        self.arrivals: list[tuple[int, int | None]] = []

        @self.tree.command(name="where", description="Which shard am I on?")
        async def where(interaction: discord.Interaction) -> None:
            self.arrivals.append(
                (int(interaction.guild_id or 0), interaction.guild.shard_id if interaction.guild else None)
            )
            await interaction.response.send_message("here")

    async def setup_hook(self) -> None:
        await self.tree.sync()


@pytest.mark.asyncio
async def test_sharded_bot_gets_each_guild_on_its_shard(run_bot: BotRunner) -> None:
    twin = _sharded_twin()
    await twin.start()
    try:
        async with twin.run_bot(ShardProbe()) as bot:
            assert bot.shard_count == 2 and twin.ready
            assert [r.path for r in twin.requests() if r.path == "/gateway/bot"] == ["/gateway/bot"]
            assert sorted(p["shard"] for p in twin.identify_payloads) == [[0, 2], [1, 2]]
            for gid in twin.guilds:
                guild = bot.get_guild(int(gid))
                assert guild is not None and guild.shard_id == twin.shard_for(gid) == (int(gid) >> 22) % 2
            for gid in twin.guilds:
                await twin.wait_for_response(await twin.slash_command("where", guild_id=gid))
            assert bot.arrivals == [(int(gid), twin.shard_for(gid)) for gid in twin.guilds]
            assert {shard for _, shard in bot.arrivals} == {0, 1}
        assert twin.violations == []
    finally:
        await twin.close()


@pytest.mark.asyncio
async def test_two_processes_each_run_one_shard() -> None:
    twin = _sharded_twin()
    await twin.start()
    try:
        async with twin.run_bot(ShardProbe(shard_count=2, shard_ids=[0]), ready_timeout=10) as first:
            assert not twin.ready and twin.shard_ready(0) and not twin.shard_ready(1)
            assert {g.id for g in first.guilds} == {int(g) for g in twin.guilds if twin.shard_for(g) == 0}
            async with twin.run_bot(ShardProbe(shard_count=2, shard_ids=[1])) as second:
                assert twin.ready
                assert {g.id for g in second.guilds} == {int(g) for g in twin.guilds if twin.shard_for(g) == 1}
                for gid in twin.guilds:
                    await twin.wait_for_response(await twin.slash_command("where", guild_id=gid))
                assert {gid for gid, _ in first.arrivals} == {g.id for g in first.guilds}
                assert {gid for gid, _ in second.arrivals} == {g.id for g in second.guilds}
                # A DM goes to shard 0 whichever process asks.
                dm = twin.dm_channel(twin.default_user)
                await twin.wait_for_response(await twin.slash_command("where", channel_id=dm["id"]))
                assert first.arrivals[-1] == (0, None) and len(second.arrivals) == len(second.guilds)
        assert twin.violations == []
    finally:
        await twin.close()


@pytest.mark.asyncio
async def test_identify_without_the_required_shard_is_refused() -> None:
    twin = _sharded_twin()
    await twin.start()
    try:
        for shard, code in ((None, 4011), ([2, 2], 4010)):  # missing (sharding required); out of range
            identify = {"token": twin.token, "intents": 513, "properties": {}}
            if shard is not None:
                identify["shard"] = shard
            async with aiohttp.ClientSession() as session, session.ws_connect(f"{twin.gateway_url}?v=10") as ws:
                assert (await _receive(ws, None))["op"] == 10
                await ws.send_json({"op": 2, "d": identify})
                message = await ws.receive(timeout=5)
                assert message.type is aiohttp.WSMsgType.CLOSE and message.data == code
        assert [v.rule for v in twin.violations] == ["gateway_sharding", "gateway_sharding"]
    finally:
        await twin.close()
