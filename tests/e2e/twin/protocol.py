"""Discord's vocabulary as the twin speaks it: API constants and limits, intents, interaction and callback types,
permission bits, snowflakes, and `TwinError` (a test drove the twin wrongly)."""

from __future__ import annotations

import enum
import itertools
import json
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

JSON = dict[str, Any]
"""A JSON object as Discord sends or receives it."""


API_VERSION = 10
API_PREFIX = f"/api/v{API_VERSION}"
GATEWAY_PATH = "/gateway"
JSON_CONTENT_TYPE = "application/json"
DISCORD_EPOCH_MS = 1_420_070_400_000
SPEC_ENV_VAR = "FOOTNOTE_DISCORD_SPEC"
DEFAULT_SPEC_PATH = Path(__file__).resolve().parents[4] / "shared" / "discord" / "openapi.json"

CONTENT_LIMIT = 2000
EMBED_TOTAL_LIMIT = 6000
ACK_DEADLINE_SECONDS = 3.0
HEARTBEAT_INTERVAL_MS = 41_250
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

MESSAGE_FLAG_EPHEMERAL = 1 << 6
MESSAGE_FLAG_LOADING = 1 << 7


class Intent(enum.IntFlag):
    """The gateway intents the twin looks at when deciding what to dispatch."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15


class InteractionType(enum.IntEnum):
    """Discord interaction types."""

    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class CallbackType(enum.IntEnum):
    """Discord interaction callback (response) types."""

    PONG = 1
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9


#: Which callback types Discord accepts for each interaction type.
ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    InteractionType.PING: frozenset({CallbackType.PONG}),
    InteractionType.APPLICATION_COMMAND: frozenset({4, 5, 9}),
    InteractionType.MESSAGE_COMPONENT: frozenset({4, 5, 6, 7, 9}),
    InteractionType.AUTOCOMPLETE: frozenset({8}),
    InteractionType.MODAL_SUBMIT: frozenset({4, 5, 6, 7}),
}

# Permission bits used for the default roles.
_P_ADD_REACTIONS = 1 << 6
_P_ALL = (1 << 51) - 1
_P_ADMINISTRATOR = 1 << 3
_P_VIEW_CHANNEL = 1 << 10
_P_SEND_MESSAGES = 1 << 11
_P_MANAGE_MESSAGES = 1 << 13
_P_EMBED_LINKS = 1 << 14
_P_ATTACH_FILES = 1 << 15
_P_READ_MESSAGE_HISTORY = 1 << 16
_P_USE_EXTERNAL_EMOJIS = 1 << 18
_P_USE_APPLICATION_COMMANDS = 1 << 31
_P_CREATE_PUBLIC_THREADS = 1 << 35
_P_SEND_MESSAGES_IN_THREADS = 1 << 38

EVERYONE_PERMISSIONS = (
    _P_ADD_REACTIONS
    | _P_VIEW_CHANNEL
    | _P_SEND_MESSAGES
    | _P_EMBED_LINKS
    | _P_ATTACH_FILES
    | _P_READ_MESSAGE_HISTORY
    | _P_USE_EXTERNAL_EMOJIS
    | _P_USE_APPLICATION_COMMANDS
    | _P_CREATE_PUBLIC_THREADS
    | _P_SEND_MESSAGES_IN_THREADS
)
"""Permissions of the @everyone role in guilds built by :func:`make_guild`."""

BOT_ROLE_PERMISSIONS = EVERYONE_PERMISSIONS | _P_MANAGE_MESSAGES
"""Permissions of the bot's managed role (the interaction's ``app_permissions``)."""


class TwinError(RuntimeError):
    """Raised when a test drives the twin incorrectly (unknown command, option, message, ...)."""


# --------------------------------------------------------------------------------------------------------------------
# Snowflakes and small helpers


class SnowflakeFactory:
    """Generates unique, strictly increasing snowflakes with Discord's layout.

    ``(milliseconds since 2015-01-01) << 22 | worker << 17 | increment``, returned as strings like Discord's JSON.
    """

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._increment = itertools.count()
        self._last = 0

    def __call__(self) -> str:
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (millis << 22) | (self._worker << 17) | (next(self._increment) & 0xFFF)
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return str(value)


new_snowflake = SnowflakeFactory()
"""Module-wide snowflake generator used by the builders and the twin."""


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _id_of(value: Mapping[str, Any] | str | int) -> str:
    """The snowflake of a payload (``{"id": ...}``) or of an id given directly."""
    if isinstance(value, Mapping):
        return str(value["id"])
    return str(value)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def make_bot_token(bot_id: str) -> str:
    """A well-formed (three dot-separated parts) but fake bot token for ``bot_id``."""
    import base64

    head = base64.urlsafe_b64encode(bot_id.encode()).decode().rstrip("=")
    return f"{head}.{secrets.token_urlsafe(4)[:6]}.{secrets.token_urlsafe(30)[:38]}"
