"""A local "twin" of Discord's HTTP API v10 and gateway, for end-to-end tests of discord.py bots.

The twin is a small aiohttp server on 127.0.0.1 that the *real* discord.py client talks to: it answers the log-in
calls, runs a gateway (HELLO / IDENTIFY / READY / GUILD_CREATE / heartbeats / RESUME with replay), stores synced
application commands, and lets a test dispatch slash commands, component clicks, autocomplete requests, modal
submissions and messages, then inspect what the bot sent back.

Every REST request body is validated against Discord's OpenAPI spec (``shared/discord/openapi.json`` beside the
repository, or ``$FOOTNOTE_DISCORD_SPEC``) plus the rules the spec does not encode (6000 characters across a
message's embeds, content <= 2000, unique component custom_ids, first interaction response within 3 s, exactly one
initial callback per interaction).  A violation answers 400 (or the status Discord uses) with a Discord-like JSON
error body and is appended to :attr:`DiscordTwin.violations`, so a test can end with ``assert twin.violations == []``.

Typical use (see ``conftest.py`` for the fixtures)::

    twin = DiscordTwin()
    await twin.start()
    async with twin.run_bot(bot):
        interaction_id = await twin.slash_command("ping")
        callback = await twin.wait_for_response(interaction_id)
        assert callback.body["data"]["content"] == "pong"
    await twin.close()

The package, by purpose (tests/e2e/README.md says which file to open for which Discord behaviour):
protocol.py (constants, enums, snowflakes), builders.py (`make_*` payloads), validation.py (OpenAPI and the extra
rules), records.py (what tests inspect), state.py (world, queries, waiting), gateway.py, rest.py (routing and
simple routes), interactions.py, messages.py, forums.py (forum channels, threads, tags, channel permissions),
and server.py (`DiscordTwin`, which combines them). Import from the package:
``from .twin import DiscordTwin, make_user``.
"""

from __future__ import annotations

from .builders import (
    guild_ids_across_shards,
    make_dm_channel,
    make_guild,
    make_member,
    make_role,
    make_text_channel,
    make_user,
)
from .faults import CALLBACK, CHANNEL_MESSAGES, WEBHOOK, WEBHOOK_MESSAGE, Fault
from .forums import make_forum_channel, make_forum_tag, make_overwrite, make_thread
from .gateway import DropMode, zstandard
from .protocol import (
    ACK_DEADLINE_SECONDS,
    API_PREFIX,
    API_VERSION,
    ATTACHMENT_SIZE_LIMIT,
    BOT_ROLE_PERMISSIONS,
    CONTENT_LIMIT,
    DEFAULT_SPEC_PATH,
    DISCORD_EPOCH_MS,
    EMBED_TOTAL_LIMIT,
    EVERYONE_PERMISSIONS,
    GATEWAY_PATH,
    HEARTBEAT_INTERVAL_MS,
    JSON,
    JSON_CONTENT_TYPE,
    MESSAGE_FLAG_EPHEMERAL,
    MESSAGE_FLAG_LOADING,
    SPEC_ENV_VAR,
    CallbackType,
    Intent,
    InteractionType,
    SnowflakeFactory,
    TwinError,
    make_bot_token,
    new_snowflake,
)
from .records import InteractionRecord, RecordedFile, RecordedRequest, Violation
from .server import BotRunner, DiscordTwin
from .validation import (
    Problem,
    SpecValidator,
    discord_error_tree,
    embed_total_length,
    iter_components,
    message_rule_problems,
    resolve_spec_path,
)

__all__ = [
    "ACK_DEADLINE_SECONDS",
    "API_PREFIX",
    "API_VERSION",
    "ATTACHMENT_SIZE_LIMIT",
    "BOT_ROLE_PERMISSIONS",
    "CALLBACK",
    "CHANNEL_MESSAGES",
    "CONTENT_LIMIT",
    "DEFAULT_SPEC_PATH",
    "DISCORD_EPOCH_MS",
    "EMBED_TOTAL_LIMIT",
    "EVERYONE_PERMISSIONS",
    "GATEWAY_PATH",
    "HEARTBEAT_INTERVAL_MS",
    "JSON",
    "JSON_CONTENT_TYPE",
    "MESSAGE_FLAG_EPHEMERAL",
    "MESSAGE_FLAG_LOADING",
    "SPEC_ENV_VAR",
    "WEBHOOK",
    "WEBHOOK_MESSAGE",
    "BotRunner",
    "CallbackType",
    "DiscordTwin",
    "DropMode",
    "Fault",
    "Intent",
    "InteractionRecord",
    "InteractionType",
    "Problem",
    "RecordedFile",
    "RecordedRequest",
    "SnowflakeFactory",
    "SpecValidator",
    "TwinError",
    "Violation",
    "discord_error_tree",
    "embed_total_length",
    "guild_ids_across_shards",
    "iter_components",
    "make_bot_token",
    "make_dm_channel",
    "make_forum_channel",
    "make_forum_tag",
    "make_guild",
    "make_member",
    "make_overwrite",
    "make_role",
    "make_text_channel",
    "make_thread",
    "make_user",
    "message_rule_problems",
    "new_snowflake",
    "resolve_spec_path",
    "zstandard",
]
