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
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import enum
import itertools
import json
import logging
import os
import re
import secrets
import time
import warnings
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import quote

import discord
import jsonschema
import yarl
from aiohttp import BodyPartReader, WSMsgType, web
from discord.gateway import DiscordWebSocket
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

try:  # discord.py negotiates zstd-stream only when this package is importable (Python < 3.14).
    import zstandard  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None

log = logging.getLogger(__name__)

JSON = dict[str, Any]
"""A JSON object as Discord sends or receives it."""

T = TypeVar("T")
ClientT = TypeVar("ClientT", bound=discord.Client)

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


# --------------------------------------------------------------------------------------------------------------------
# Builders for fake Discord objects (plain payload dicts, as Discord sends them)


def make_user(
    username: str,
    *,
    user_id: str | int | None = None,
    bot: bool = False,
    global_name: str | None = None,
) -> JSON:
    """A user payload with a fresh snowflake (or ``user_id``)."""
    return {
        "id": str(user_id) if user_id is not None else new_snowflake(),
        "username": username,
        "discriminator": "0",
        "global_name": None if bot else (global_name or username.title()),
        "avatar": None,
        "bot": bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
    }


def make_role(
    name: str,
    *,
    guild_id: str,
    role_id: str | None = None,
    permissions: int = EVERYONE_PERMISSIONS,
    position: int = 0,
    managed: bool = False,
) -> JSON:
    """A role payload.  The @everyone role has ``role_id == guild_id``."""
    return {
        "id": role_id or new_snowflake(),
        "name": name,
        "color": 0,
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": managed,
        "mentionable": False,
        "flags": 0,
    }


def make_text_channel(
    name: str,
    *,
    guild_id: str,
    channel_id: str | None = None,
    position: int = 0,
    topic: str | None = None,
    nsfw: bool = False,
) -> JSON:
    """A guild text channel (type 0) payload."""
    return {
        "id": channel_id or new_snowflake(),
        "type": 0,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "topic": topic,
        "nsfw": nsfw,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": None,
        "flags": 0,
    }


def make_dm_channel(user: Mapping[str, Any], *, channel_id: str | None = None) -> JSON:
    """A DM channel (type 1) payload between the bot and ``user``."""
    return {
        "id": channel_id or new_snowflake(),
        "type": 1,
        "recipients": [dict(user)],
        "last_message_id": None,
        "flags": 0,
    }


def make_member(user: Mapping[str, Any], *, roles: Iterable[str] = (), nick: str | None = None) -> JSON:
    """A guild member payload (with its ``user``)."""
    return {
        "user": dict(user),
        "roles": [str(r) for r in roles],
        "nick": nick,
        "avatar": None,
        "banner": None,
        "joined_at": _now_iso(),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }


def make_guild(
    name: str,
    *,
    owner: Mapping[str, Any],
    guild_id: str | None = None,
    channel_names: Sequence[str] = ("general",),
    members: Iterable[Mapping[str, Any]] = (),
) -> JSON:
    """A guild payload in GUILD_CREATE shape: ``channels``, ``roles`` (with @everyone) and ``members`` inline.

    ``members`` are user payloads; the owner is always a member.  The twin adds the bot (with a managed role) when
    the guild is given to :class:`DiscordTwin`.
    """
    gid = guild_id or new_snowflake()
    everyone = make_role("@everyone", guild_id=gid, role_id=gid)
    channels = [make_text_channel(n, guild_id=gid, position=i) for i, n in enumerate(channel_names)]
    users = [dict(owner)] + [dict(u) for u in members if _id_of(u) != _id_of(owner)]
    return {
        "id": gid,
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": _id_of(owner),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [everyone],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": channels[0]["id"] if channels else None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_members": 500_000,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "channels": channels,
        "members": [make_member(u) for u in users],
    }


# --------------------------------------------------------------------------------------------------------------------
# Validation: OpenAPI request bodies + the rules the spec does not encode

Problem = tuple[tuple[str | int, ...], str, str]
"""A validation problem: (path into the body, Discord error code, message)."""

_SPEC_URI = "urn:discord-openapi"


def _relax_spec(spec: JSON) -> None:
    """Patch the spec where it is stricter than Discord itself, in place.

    * ``SnowflakeType`` is a digit string in the spec, but Discord accepts JSON integers and discord.py sends ints
      (``recipient_id``, ``message_reference.message_id``, ``allowed_mentions.users``, ...).
    * ``default_member_permissions`` is an integer in the spec; Discord (and discord.py) use a digit string.
    """
    schemas = spec["components"]["schemas"]
    snowflake = schemas["SnowflakeType"]
    schemas["SnowflakeType"] = {"anyOf": [snowflake, {"type": "integer", "minimum": 0}]}
    for schema in schemas.values():
        props = schema.get("properties") if isinstance(schema, dict) else None
        if isinstance(props, dict) and "default_member_permissions" in props:
            original = props["default_member_permissions"]
            props["default_member_permissions"] = {"anyOf": [original, {"type": "string", "pattern": r"^[0-9]+$"}]}


def _template_regex(template: str) -> re.Pattern[str]:
    parts = []
    for segment in template.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


class SpecValidator:
    """Validates request bodies against the Discord OpenAPI spec.

    A jsonschema validator is built once per (templated path, method) and cached.  Use :meth:`load` to get the
    process-wide instance for a spec file.
    """

    _instances: ClassVar[dict[tuple[Path, float], SpecValidator]] = {}

    def __init__(self, spec: JSON) -> None:
        spec = copy.deepcopy(spec)
        _relax_spec(spec)
        self._spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        templates = list(spec.get("paths", {}))
        # Prefer literal segments ("/users/@me") over parameters ("/users/{user_id}").
        templates.sort(key=lambda t: -sum(1 for s in t.split("/") if s and not s.startswith("{")))
        self._templates = [(_template_regex(t), t) for t in templates]
        self._validators: dict[tuple[str, str], jsonschema.protocols.Validator | None] = {}

    @classmethod
    def load(cls, path: Path) -> SpecValidator:
        """The cached validator for the spec at ``path`` (re-read when the file changes)."""
        key = (path.resolve(), path.stat().st_mtime)
        instance = cls._instances.get(key)
        if instance is None:
            started = time.perf_counter()
            instance = cls(json.loads(path.read_text(encoding="utf-8")))
            cls._instances[key] = instance
            log.info("loaded Discord OpenAPI spec %s in %.0f ms", path, (time.perf_counter() - started) * 1000)
        return instance

    def match(self, path: str) -> str | None:
        """The spec's templated path matching a concrete path relative to /api/v10 (or None)."""
        for regex, template in self._templates:
            if regex.match(path):
                return template
        return None

    def body_required(self, template: str, method: str) -> bool:
        """Whether the spec marks the request body of ``method template`` as required."""
        operation = self._spec["paths"].get(template, {}).get(method.lower(), {})
        return bool(operation.get("requestBody", {}).get("required", False))

    def _validator(self, template: str, method: str) -> jsonschema.protocols.Validator | None:
        key = (template, method.lower())
        if key not in self._validators:
            operation = self._spec["paths"].get(template, {}).get(method.lower(), {})
            content = operation.get("requestBody", {}).get("content", {})
            if JSON_CONTENT_TYPE not in content:
                self._validators[key] = None
            else:
                escaped = template.replace("~", "~0").replace("/", "~1")
                pointer = f"/paths/{escaped}/{method.lower()}/requestBody/content/application~1json/schema"
                schema = {"$ref": f"{_SPEC_URI}#{quote(pointer)}"}
                self._validators[key] = jsonschema.Draft202012Validator(schema, registry=self._registry)
        return self._validators[key]

    def validate(self, template: str, method: str, body: Any) -> list[Problem]:
        """Problems with ``body`` for ``method template`` (empty when valid or when the spec has no JSON body)."""
        validator = self._validator(template, method)
        if validator is None:
            return []
        errors = list(validator.iter_errors(body))
        if not errors:
            return []
        best = jsonschema.exceptions.best_match(errors)
        problems: list[Problem] = []
        for error in [best, *[e for e in errors if e is not best][:4]]:
            if error is None:
                continue
            message = error.message if len(error.message) <= 200 else f"{error.message[:100]} ... {error.message[-80:]}"
            problems.append((tuple(error.absolute_path), "BASE_TYPE_INVALID", message))
        return problems


def resolve_spec_path() -> Path:
    """The spec path: ``$FOOTNOTE_DISCORD_SPEC`` if set, else ``shared/discord/openapi.json`` beside the repo."""
    override = os.environ.get(SPEC_ENV_VAR)
    return Path(override) if override else DEFAULT_SPEC_PATH


def embed_total_length(embeds: Iterable[Mapping[str, Any]] | None) -> int:
    """Characters Discord counts toward the 6000 limit across all of a message's embeds."""
    total = 0
    for embed in embeds or ():
        if not isinstance(embed, Mapping):
            continue
        total += len(embed.get("title") or "") + len(embed.get("description") or "")
        for fld in embed.get("fields") or ():
            if isinstance(fld, Mapping):
                total += len(fld.get("name") or "") + len(fld.get("value") or "")
        footer = embed.get("footer") or {}
        author = embed.get("author") or {}
        total += len(footer.get("text") or "") if isinstance(footer, Mapping) else 0
        total += len(author.get("name") or "") if isinstance(author, Mapping) else 0
    return total


def iter_components(components: Iterable[Any] | None) -> Iterable[Mapping[str, Any]]:
    """Every component in a (possibly nested, components-v2) component tree, depth first."""
    for component in components or ():
        if not isinstance(component, Mapping):
            continue
        yield component
        yield from iter_components(component.get("components"))
        for key in ("accessory", "component"):
            child = component.get(key)
            if isinstance(child, Mapping):
                yield from iter_components([child])


def message_rule_problems(message: Mapping[str, Any]) -> list[Problem]:
    """Problems with a message body that the OpenAPI spec does not encode."""
    problems: list[Problem] = []
    content = message.get("content")
    if isinstance(content, str) and len(content) > CONTENT_LIMIT:
        problems.append((("content",), "BASE_TYPE_MAX_LENGTH", f"Must be {CONTENT_LIMIT} or fewer in length."))
    embeds = message.get("embeds")
    if isinstance(embeds, list):
        total = embed_total_length(embeds)
        if total > EMBED_TOTAL_LIMIT:
            problems.append(
                (
                    ("embeds",),
                    "MAX_EMBED_SIZE_EXCEEDED",
                    f"Embed size exceeds maximum size of {EMBED_TOTAL_LIMIT} (got {total}).",
                )
            )
    seen: set[str] = set()
    for component in iter_components(message.get("components")):
        custom_id = component.get("custom_id")
        if isinstance(custom_id, str):
            if custom_id in seen:
                problems.append(
                    (
                        ("components",),
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        f"Component custom id cannot be duplicated ({custom_id!r}).",
                    )
                )
            seen.add(custom_id)
    return problems


def discord_error_tree(problems: Iterable[Problem]) -> JSON:
    """Nest problems the way Discord's 50035 "Invalid Form Body" errors are shaped."""
    root: JSON = {}
    for path, code, message in problems:
        node = root
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return root


# --------------------------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class RecordedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    size: int
    content_type: str | None


@dataclass
class RecordedRequest:
    """One REST request the bot made, with the twin's answer."""

    method: str
    path: str
    """Path relative to /api/v10 (e.g. ``/channels/123/messages``)."""
    query: dict[str, str]
    body: Any
    """Parsed JSON body (``payload_json`` for multipart), or None."""
    files: list[RecordedFile]
    time: float
    """``time.monotonic()`` when the request arrived."""
    template: str | None = None
    """The twin's route template, e.g. ``/channels/{channel_id}/messages``."""
    status: int = 0
    response: Any = None
    interaction_id: str | None = None
    """Set for interaction callbacks and webhook calls made with an interaction token."""
    kind: str | None = None
    """For interaction-related requests: callback, followup, get/edit/delete_original, get/edit/delete_followup."""

    @property
    def ok(self) -> bool:
        """Whether the twin answered 2xx."""
        return 200 <= self.status < 300

    @property
    def callback_type(self) -> int | None:
        """The callback type of an interaction callback request."""
        if self.kind == "callback" and isinstance(self.body, Mapping):
            value = self.body.get("type")
            return value if isinstance(value, int) else None
        return None

    @property
    def message(self) -> JSON:
        """The message-shaped part of the body (``data`` of a callback, else the body itself); {} if none."""
        body = self.body if isinstance(self.body, Mapping) else {}
        if self.kind == "callback":
            data = body.get("data")
            return dict(data) if isinstance(data, Mapping) else {}
        return dict(body)


@dataclass
class Violation:
    """A breach of Discord's API contract by the bot."""

    rule: str
    message: str
    method: str = ""
    path: str = ""
    time: float = field(default_factory=time.monotonic)

    def __str__(self) -> str:
        where = f" [{self.method} {self.path}]" if self.method else ""
        return f"{self.rule}: {self.message}{where}"


@dataclass
class InteractionRecord:
    """An interaction the twin dispatched and what became of it."""

    id: str
    token: str
    type: int
    payload: JSON
    channel_id: str
    guild_id: str | None
    user_id: str
    created_at: float
    sent: bool = False
    source_message_id: str | None = None
    original_message_id: str | None = None
    ack_type: int | None = None
    ack_at: float | None = None
    choices: list[JSON] | None = None
    modal: JSON | None = None

    @property
    def acknowledged(self) -> bool:
        """Whether an initial callback was accepted."""
        return self.ack_type is not None

    @property
    def ack_latency(self) -> float | None:
        """Seconds between dispatch and the accepted initial callback."""
        return None if self.ack_at is None else self.ack_at - self.created_at


class _ApiError(Exception):
    """Raised inside route handlers to answer with a Discord-like error (and optionally record a violation)."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        rule: str | None = None,
        detail: str | None = None,
        errors: JSON | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.rule = rule
        self.detail = detail or message
        self.errors = errors

    def body(self) -> JSON:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def _invalid_form(problems: Sequence[Problem], rule: str) -> _ApiError:
    detail = "; ".join(f"{'.'.join(map(str, p)) or '<body>'}: {m}" for p, _, m in problems)
    return _ApiError(400, 50035, "Invalid Form Body", rule=rule, detail=detail, errors=discord_error_tree(problems))


# --------------------------------------------------------------------------------------------------------------------
# Gateway plumbing


class _GatewayConnection:
    """One websocket connection; owns the per-connection compression stream."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, compression: str | None, number: int) -> None:
        self.ws = ws
        self.request = request
        self.compression = compression
        self.number = number
        self.session: _GatewaySession | None = None
        self.dropped = False
        self._lock = asyncio.Lock()
        self._zlib = zlib.compressobj() if compression == "zlib-stream" else None
        self._zstd = (
            zstandard.ZstdCompressor().compressobj() if compression == "zstd-stream" and zstandard is not None else None
        )

    @property
    def live(self) -> bool:
        return not self.dropped and not self.ws.closed

    async def send(self, payload: Mapping[str, Any]) -> bool:
        """Send one gateway payload; False when the connection is gone."""
        text = _dumps(payload)
        async with self._lock:  # compress + send atomically so the zlib stream stays in order
            if not self.live:
                return False
            try:
                if self._zlib is not None:
                    data = self._zlib.compress(text.encode("utf-8")) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                elif self._zstd is not None:
                    data = self._zstd.compress(text.encode("utf-8")) + self._zstd.flush(
                        zstandard.COMPRESSOBJ_FLUSH_BLOCK
                    )
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError) as exc:
                log.debug("gateway connection #%d: send failed: %r", self.number, exc)
                return False
        return True

    async def close(self, code: int, message: str) -> None:
        self.dropped = True
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=code, message=message.encode())


@dataclass
class _GatewaySession:
    session_id: str
    token: str
    intents: int
    identify: JSON
    seq: int = 0
    frames: list[JSON] = field(default_factory=list)
    connection: _GatewayConnection | None = None


DropMode = Literal["abort", "close", "reconnect", "invalidate"]

Handler = Callable[["_Call"], Awaitable[web.StreamResponse]]

BotRunner = Callable[..., Awaitable[Any]]
"""Type of the ``run_bot`` fixture: ``await run_bot(bot, *, token=None, ready_timeout=10.0, fast_ready=True)``."""


@dataclass
class _Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    auth: bool
    message_body: bool


@dataclass
class _Call:
    request: web.Request
    method: str
    path: str
    params: dict[str, str]
    body: Any
    record: RecordedRequest

    @property
    def json_body(self) -> JSON:
        return dict(self.body) if isinstance(self.body, Mapping) else {}


def _json_response(data: Any, status: int = 200) -> web.Response:
    # discord.py parses JSON only when content-type is exactly "application/json" (no charset).
    return web.Response(body=_dumps(data).encode("utf-8"), status=status, headers={"Content-Type": JSON_CONTENT_TYPE})


def _no_content() -> web.Response:
    return web.Response(status=204)


# --------------------------------------------------------------------------------------------------------------------
# The twin


class DiscordTwin:
    """A local Discord (HTTP API v10 + gateway) for end-to-end tests of a discord.py bot.

    Args:
        guilds: guild payloads from :func:`make_guild`; by default one guild "Twin Guild" with a #general channel,
            owned by :attr:`default_user` (who also owns the application, so ``bot.is_owner`` works for them).
        bot_name: the bot user's username.
        ack_deadline: seconds within which the first interaction callback must arrive (Discord: 3).
        resumable: when False every RESUME gets INVALID_SESSION (op 9) and the bot must IDENTIFY again.
        echo_bot_messages: dispatch MESSAGE_CREATE/UPDATE/DELETE for the bot's own non-ephemeral messages, as
            Discord does (only when the bot holds the matching intent).
        spec_path: OpenAPI spec to validate against; default :func:`resolve_spec_path`.  A missing file disables
            schema validation with a warning; the extra rules still apply.
        heartbeat_interval_ms: the interval announced in HELLO.
    """

    def __init__(
        self,
        *,
        guilds: Sequence[JSON] | None = None,
        bot_name: str = "Footnote",
        ack_deadline: float = ACK_DEADLINE_SECONDS,
        resumable: bool = True,
        echo_bot_messages: bool = True,
        spec_path: Path | str | None = None,
        heartbeat_interval_ms: int = HEARTBEAT_INTERVAL_MS,
    ) -> None:
        self.bot_user: JSON = make_user(bot_name, bot=True)
        self.application_id: str = self.bot_user["id"]
        self.token: str = make_bot_token(self.bot_user["id"])
        self.ack_deadline = ack_deadline
        self.resumable = resumable
        self.echo_bot_messages = echo_bot_messages
        self.heartbeat_interval_ms = heartbeat_interval_ms

        self.violations: list[Violation] = []
        self.users: dict[str, JSON] = {self.bot_user["id"]: self.bot_user}
        self.guilds: dict[str, JSON] = {}
        self.channels: dict[str, JSON] = {}
        self.messages: dict[str, JSON] = {}
        self.deleted_message_ids: list[str] = []
        self.identify_payloads: list[JSON] = []
        self.gateway_queries: list[dict[str, str]] = []
        self.identify_count = 0
        self.resume_count = 0
        self.invalid_session_count = 0
        self.heartbeat_count = 0
        self.drop_count = 0

        self._requests: list[RecordedRequest] = []
        self._channel_order: dict[str, list[str]] = {}
        self._dm_by_user: dict[str, str] = {}
        self._commands: dict[str | None, list[JSON]] = {}
        self._interactions: dict[str, InteractionRecord] = {}
        self._by_token: dict[str, str] = {}
        self._sessions: dict[str, _GatewaySession] = {}
        self._session: _GatewaySession | None = None
        self._connections: set[_GatewayConnection] = set()
        self._connection_numbers = itertools.count(1)
        self._dispatch_lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: list[asyncio.TimerHandle] = []
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

        if guilds is None:
            self.default_user: JSON = make_user("alice")
            guilds = [make_guild("Twin Guild", owner=self.default_user)]
        else:
            owner_id = guilds[0]["owner_id"]
            owner = next(m["user"] for m in guilds[0].get("members", []) if m["user"]["id"] == owner_id)
            self.default_user = owner
        for guild in guilds:
            self.add_guild(guild)

        self.spec_path = Path(spec_path) if spec_path is not None else resolve_spec_path()
        self._spec: SpecValidator | None = None
        if self.spec_path.is_file():
            self._spec = SpecValidator.load(self.spec_path)
        else:
            message = f"Discord OpenAPI spec not found at {self.spec_path}: request schema validation is DISABLED"
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            log.warning("%s (the extra rules still apply)", message)

        self._routes: list[_Route] = []
        self._install_routes()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self.port is None:
            raise TwinError("the twin is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Gateway URL: READY's ``resume_gateway_url`` and the value for ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://127.0.0.1:{self.port}{GATEWAY_PATH}"

    @property
    def schema_validation(self) -> bool:
        """Whether request bodies are validated against the OpenAPI spec."""
        return self._spec is not None

    async def start(self) -> None:
        """Listen on a random free port on 127.0.0.1."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get(GATEWAY_PATH, self._handle_gateway)
        app.router.add_route("*", "/{tail:.*}", self._handle_http)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info("Discord twin listening on %s (gateway %s)", self.base_url, self.gateway_url)

    async def close(self) -> None:
        """Close gateway connections and stop the server."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for conn in list(self._connections):
            await conn.close(1001, "twin shutting down")
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        log.info("Discord twin closed (%d requests, %d violations)", len(self._requests), len(self.violations))

    async def __aenter__(self) -> DiscordTwin:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def run_bot(
        self,
        bot: ClientT,
        *,
        token: str | None = None,
        ready_timeout: float = 10.0,
        fast_ready: bool = True,
    ) -> AsyncIterator[ClientT]:
        """Run a discord.py client against the twin for the duration of the ``async with`` block.

        Points ``discord.http.Route.BASE`` at :attr:`api_base` and ``DiscordWebSocket.DEFAULT_GATEWAY`` at
        :attr:`gateway_url` (a non-sharded client never calls GET /gateway/bot: it connects to DEFAULT_GATEWAY),
        logs in (``setup_hook`` runs here), starts ``bot.connect(reconnect=True)`` as a task and waits until the bot
        is ready.  On exit the bot is closed and both class attributes are restored.

        ``fast_ready`` lowers the bot's ``guild_ready_timeout`` (discord.py waits that long after the last
        GUILD_CREATE before ``on_ready``; 2 s by default) to 0.05 s.
        """
        old_base = discord.http.Route.BASE
        old_gateway = DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        if fast_ready:
            state = bot._connection  # test harness: no public knob after construction
            state.guild_ready_timeout = min(state.guild_ready_timeout, 0.05)
        connect_task: asyncio.Task[None] | None = None
        try:
            await bot.login(token or self.token)
            connect_task = asyncio.create_task(bot.connect(reconnect=True), name="discord-twin-bot-connect")
            ready_task = asyncio.ensure_future(bot.wait_until_ready())
            done, _ = await asyncio.wait(
                {connect_task, ready_task}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if ready_task not in done:
                ready_task.cancel()
                if connect_task in done:
                    connect_task.result()  # re-raise why the bot stopped
                raise TimeoutError(f"bot not ready within {ready_timeout}s")
            yield bot
        finally:
            await bot.close()
            if connect_task is not None:
                try:
                    await asyncio.wait_for(connect_task, timeout=5.0)
                except (Exception, asyncio.CancelledError) as exc:  # teardown must not mask the test's outcome
                    log.warning("bot connect task ended with %r", exc)
            discord.http.Route.BASE = old_base
            DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    # ------------------------------------------------------------------ world building

    @property
    def guild(self) -> JSON:
        """The first configured guild."""
        return next(iter(self.guilds.values()))

    @property
    def channel(self) -> JSON:
        """The first text channel of :attr:`guild`."""
        return next(c for c in self.guild["channels"] if c["type"] == 0)

    def add_user(self, user: Mapping[str, Any]) -> JSON:
        """Register a user payload (idempotent) and return the stored one."""
        uid = _id_of(user)
        if uid not in self.users:
            self.users[uid] = dict(user)
        return self.users[uid]

    def add_guild(self, guild: JSON) -> JSON:
        """Register a guild (from :func:`make_guild`), adding the bot as a member with a managed role."""
        guild = copy.deepcopy(guild)
        gid = guild["id"]
        if not any(m["user"]["id"] == self.bot_user["id"] for m in guild.setdefault("members", [])):
            role = make_role(
                self.bot_user["username"], guild_id=gid, permissions=BOT_ROLE_PERMISSIONS, position=1, managed=True
            )
            role["tags"] = {"bot_id": self.bot_user["id"]}
            guild.setdefault("roles", []).append(role)
            guild["members"].append(make_member(self.bot_user, roles=[role["id"]]))
        for member in guild["members"]:
            self.add_user(member["user"])
        for channel in guild.get("channels", []):
            channel["guild_id"] = gid
            self.channels[channel["id"]] = channel
        self.guilds[gid] = guild
        return guild

    def add_member(self, guild_id: str, user: Mapping[str, Any], *, roles: Iterable[str] = ()) -> JSON:
        """Make ``user`` a member of a guild (no-op if already) and return the member payload."""
        guild = self.guilds[str(guild_id)]
        self.add_user(user)
        for member in guild["members"]:
            if member["user"]["id"] == _id_of(user):
                return member
        member = make_member(self.users[_id_of(user)], roles=roles)
        guild["members"].append(member)
        return member

    def member(self, guild_id: str, user_id: str) -> JSON | None:
        """The member payload of a user in a guild, or None."""
        guild = self.guilds.get(str(guild_id))
        for member in guild["members"] if guild else ():
            if member["user"]["id"] == str(user_id):
                return member
        return None

    def dm_channel(self, user: Mapping[str, Any] | str) -> JSON:
        """The DM channel between the bot and ``user`` (created on first use)."""
        uid = _id_of(user)
        if uid not in self.users:
            if isinstance(user, Mapping):
                self.add_user(user)
            else:
                raise TwinError(f"unknown user {uid}")
        channel_id = self._dm_by_user.get(uid)
        if channel_id is None:
            channel = make_dm_channel(self.users[uid])
            self.channels[channel["id"]] = channel
            self._dm_by_user[uid] = channel_id = channel["id"]
        return self.channels[channel_id]

    @staticmethod
    def mention(user: Mapping[str, Any] | str) -> str:
        """``<@id>`` for a user."""
        return f"<@{_id_of(user)}>"

    def member_permissions(self, guild_id: str, user_id: str) -> int:
        """OR of the member's role permissions (administrator for the owner). Like Discord, the value sent
        for an administrator has every permission bit set, not only the administrator bit."""
        guild = self.guilds[str(guild_id)]
        member = self.member(guild_id, user_id)
        roles = {r["id"]: int(r["permissions"]) for r in guild.get("roles", [])}
        value = roles.get(guild["id"], 0)
        for role_id in member["roles"] if member else ():
            value |= roles.get(role_id, 0)
        if guild.get("owner_id") == str(user_id):
            value |= _P_ADMINISTRATOR
        if value & _P_ADMINISTRATOR:
            value = _P_ALL
        return value

    # ------------------------------------------------------------------ queries

    def requests(self, method: str | None = None, path_contains: str | None = None) -> list[RecordedRequest]:
        """Recorded REST requests, oldest first, optionally filtered by method and a path substring."""
        return [
            r
            for r in self._requests
            if (method is None or r.method == method.upper()) and (path_contains is None or path_contains in r.path)
        ]

    def interaction(self, interaction_id: str) -> InteractionRecord:
        """The record of a dispatched interaction."""
        try:
            return self._interactions[str(interaction_id)]
        except KeyError:
            raise TwinError(f"unknown interaction {interaction_id}") from None

    def interaction_responses(self, interaction_id: str) -> list[RecordedRequest]:
        """Callback, original-message edits and follow-ups for an interaction, in order (rejected ones included)."""
        return [r for r in self._requests if r.interaction_id == str(interaction_id)]

    def ack_latency(self, interaction_id: str) -> float | None:
        """Seconds between dispatching an interaction and its accepted initial callback (None if none)."""
        return self.interaction(interaction_id).ack_latency

    def channel_messages(self, channel_id: str, *, include_ephemeral: bool = True) -> list[JSON]:
        """Current (edited, not deleted) messages of a channel, oldest first: the bot's and the test users'."""
        result = []
        for message_id in self._channel_order.get(str(channel_id), []):
            message = self.messages.get(message_id)
            if message is None:
                continue
            if not include_ephemeral and message.get("flags", 0) & MESSAGE_FLAG_EPHEMERAL:
                continue
            result.append(copy.deepcopy(message))
        return result

    def bot_messages(self, channel_id: str) -> list[JSON]:
        """Messages authored by the bot in a channel, oldest first."""
        return [m for m in self.channel_messages(channel_id) if m["author"]["id"] == self.bot_user["id"]]

    def message(self, message_id: str) -> JSON:
        """A stored message (copy)."""
        try:
            return copy.deepcopy(self.messages[str(message_id)])
        except KeyError:
            raise TwinError(f"unknown or deleted message {message_id}") from None

    def commands(self, guild_id: str | None = None) -> list[JSON]:
        """Synced application commands: global (guild_id None) or of one guild."""
        return copy.deepcopy(self._commands.get(None if guild_id is None else str(guild_id), []))

    @property
    def intents(self) -> int | None:
        """Intents of the current gateway session (None before IDENTIFY)."""
        return None if self._session is None else self._session.intents

    @property
    def ready(self) -> bool:
        """Whether a session is live (READY or RESUMED sent on an open connection)."""
        return self._ready.is_set()

    # ------------------------------------------------------------------ waiting

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, *, what: str = "condition") -> T:
        """Wait until ``predicate()`` returns something truthy (re-checked whenever the twin's state changes)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=min(remaining, 0.25))

    async def wait_until_ready(self, timeout: float = 10.0) -> None:
        """Wait until the bot has identified (READY + GUILD_CREATEs sent) or resumed on a live connection."""
        await self.wait_for(self._ready.is_set, timeout, what="the bot to identify/resume on the gateway")

    async def wait_for_response(self, interaction_id: str, timeout: float = 5.0) -> RecordedRequest:
        """Wait for the accepted initial callback of an interaction and return that request."""
        record = self.interaction(interaction_id)

        def accepted() -> RecordedRequest | None:
            if not record.acknowledged:
                return None
            return next((r for r in self.interaction_responses(record.id) if r.kind == "callback" and r.ok), None)

        return await self.wait_for(accepted, timeout, what=f"a response to interaction {interaction_id}")

    async def wait_for_responses(self, interaction_id: str, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until an interaction has at least ``count`` successful responses (callback, edits, follow-ups)."""

        def enough() -> list[RecordedRequest] | None:
            done = [r for r in self.interaction_responses(interaction_id) if r.ok]
            return done if len(done) >= count else None

        return await self.wait_for(enough, timeout, what=f"{count} responses to interaction {interaction_id}")

    async def wait_for_bot_message(self, channel_id: str, *, after: str | None = None, timeout: float = 5.0) -> JSON:
        """Wait for a message by the bot in a channel, newer than message ``after`` (snowflake) if given."""

        def found() -> JSON | None:
            for message in self.bot_messages(channel_id):
                if after is None or int(message["id"]) > int(after):
                    return message
            return None

        return await self.wait_for(found, timeout, what=f"a bot message in channel {channel_id}")

    async def wait_for_commands(self, guild_id: str | None = None, timeout: float = 5.0) -> list[JSON]:
        """Wait until commands are synced (globally, or to ``guild_id``)."""
        return await self.wait_for(lambda: self.commands(guild_id), timeout, what="application commands to sync")

    # ------------------------------------------------------------------ violations

    def _violate(self, rule: str, message: str, method: str = "", path: str = "") -> None:
        path = re.sub(r"/([A-Za-z0-9_.-]{12})[A-Za-z0-9_.-]{48,}", r"/\1...", path)  # shorten interaction tokens
        violation = Violation(rule, message, method, path)
        self.violations.append(violation)
        log.warning("Discord contract violation: %s", violation)
        self._notify()

    def _track(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ gateway

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        self.gateway_queries.append(query)
        compression = query.get("compress")
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _GatewayConnection(ws, request, compression, next(self._connection_numbers))
        self._connections.add(conn)
        log.info("gateway connection #%d opened with %s", conn.number, query)
        try:
            problem = None
            if query.get("v") != str(API_VERSION):
                problem = (4012, "Invalid API version.")
            elif query.get("encoding", "json") != "json":
                problem = (4002, "Only encoding=json is supported by the twin.")
            elif compression not in (None, "zlib-stream", "zstd-stream") or (
                compression == "zstd-stream" and zstandard is None
            ):
                problem = (4000, f"Unsupported compress={compression!r} (the twin speaks zlib-stream or none).")
            if problem is not None:
                self._violate("gateway_params", f"{problem[1]} query={query}", "GET", GATEWAY_PATH)
                await conn.close(*problem)
                return ws
            await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["twin"]}})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    try:
                        payload = json.loads(msg.data)
                    except json.JSONDecodeError:
                        self._violate("gateway_decode", "client sent invalid JSON", "WS", GATEWAY_PATH)
                        await conn.close(4002, "Error while decoding payload.")
                        break
                    await self._on_gateway_payload(conn, payload)
                elif msg.type is WSMsgType.BINARY:
                    self._violate("gateway_decode", "client sent a binary frame", "WS", GATEWAY_PATH)
                    await conn.close(4002, "Error while decoding payload.")
                    break
                elif msg.type is WSMsgType.ERROR:
                    log.debug("gateway connection #%d error: %r", conn.number, ws.exception())
                    break
                if ws.closed or conn.dropped:
                    break
        finally:
            self._connections.discard(conn)
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
                self._ready.clear()
            log.info("gateway connection #%d closed (code %s)", conn.number, ws.close_code)
            self._notify()
        return ws

    async def _on_gateway_payload(self, conn: _GatewayConnection, payload: Mapping[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == 1:
            self.heartbeat_count += 1
            await conn.send({"op": 11})
        elif op == 2:
            await self._on_identify(conn, data if isinstance(data, Mapping) else {})
        elif op == 6:
            await self._on_resume(conn, data if isinstance(data, Mapping) else {})
        elif conn.session is None:
            self._violate("gateway_not_authenticated", f"op {op} sent before IDENTIFY", "WS", GATEWAY_PATH)
            await conn.close(4003, "Not authenticated.")
        elif op == 8 and isinstance(data, Mapping):
            await self._on_request_members(data)
        elif op in (3, 4):
            log.debug("gateway op %s ignored: %s", op, data)
        else:
            self._violate("gateway_unknown_opcode", f"unknown opcode {op}", "WS", GATEWAY_PATH)
            await conn.close(4001, "Unknown opcode.")

    async def _on_identify(self, conn: _GatewayConnection, data: Mapping[str, Any]) -> None:
        if conn.session is not None:
            self._violate("gateway_identify", "IDENTIFY sent twice on one connection", "WS", GATEWAY_PATH)
            await conn.close(4005, "Already authenticated.")
            return
        if data.get("token") != self.token:
            self._violate("gateway_identify", "IDENTIFY with a wrong token", "WS", GATEWAY_PATH)
            await conn.close(4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            self._violate("gateway_identify", "IDENTIFY without integer intents", "WS", GATEWAY_PATH)
            await conn.close(4013, "Invalid intent(s).")
            return
        identify = {k: v for k, v in data.items() if k != "token"}
        self.identify_payloads.append(identify)
        session = _GatewaySession(secrets.token_hex(16), self.token, intents, identify)
        self.identify_count += 1
        ready: JSON = {
            "v": API_VERSION,
            "user": self.bot_user,
            "guilds": [{"id": gid, "unavailable": True} for gid in self.guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,
            "session_type": "normal",
            "application": {"id": self.application_id, "flags": self._application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "_trace": ["discord-twin"],
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        async with self._dispatch_lock:  # nothing may slip in before READY (s=1) and the GUILD_CREATEs
            self._sessions[session.session_id] = session
            self._session = session
            conn.session = session
            session.connection = conn
            await self._dispatch_locked(session, "READY", ready)
            for guild in self.guilds.values():
                await self._dispatch_locked(session, "GUILD_CREATE", self._guild_create_payload(guild, intents))
        log.info("bot identified: session %s, intents %d", session.session_id, intents)
        self._ready.set()
        self._notify()

    async def _on_resume(self, conn: _GatewayConnection, data: Mapping[str, Any]) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or not self.resumable or data.get("token") != session.token:
            self.invalid_session_count += 1
            log.info("RESUME refused (session %s): INVALID_SESSION", data.get("session_id"))
            await conn.send({"op": 9, "d": False})
            return
        seq = data.get("seq") if isinstance(data.get("seq"), int) else 0
        async with self._dispatch_lock:
            old = session.connection
            if old is not None and old is not conn:
                self._track(old.close(4000, "Session resumed elsewhere."))
            conn.session = session
            replay = [frame for frame in session.frames if frame["s"] > seq]
            for frame in replay:
                await conn.send(frame)
            session.connection = conn
            self._session = session
            await self._dispatch_locked(session, "RESUMED", {"_trace": ["discord-twin"]})
        self.resume_count += 1
        log.info("session %s resumed from seq %s, replayed %d dispatches", session.session_id, seq, len(replay))
        self._ready.set()
        self._notify()

    async def _on_request_members(self, data: Mapping[str, Any]) -> None:
        guild = self.guilds.get(str(data.get("guild_id")))
        if guild is None:
            return
        members = guild["members"]
        user_ids = data.get("user_ids")
        if user_ids:
            wanted = {str(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
            members = [m for m in members if m["user"]["id"] in wanted]
        chunk: JSON = {"guild_id": guild["id"], "members": members, "chunk_index": 0, "chunk_count": 1}
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    @property
    def _application_flags(self) -> int:
        # GATEWAY_GUILD_MEMBERS_LIMITED | GATEWAY_MESSAGE_CONTENT_LIMITED | APPLICATION_COMMAND_BADGE
        return (1 << 15) | (1 << 19) | (1 << 23)

    def _guild_create_payload(self, guild: JSON, intents: int) -> JSON:
        payload = copy.deepcopy(guild)
        if not intents & Intent.GUILD_MEMBERS:  # without the members intent only the bot's own member is sent
            payload["members"] = [m for m in payload["members"] if m["user"]["id"] == self.bot_user["id"]]
        for channel in payload.get("channels", []):
            channel.pop("guild_id", None)
        bot_member = next(m for m in guild["members"] if m["user"]["id"] == self.bot_user["id"])
        payload.update(
            {
                "joined_at": bot_member["joined_at"],
                "large": False,
                "unavailable": False,
                "lazy": True,
                "member_count": len(guild["members"]),
                "voice_states": [],
                "presences": [],
                "threads": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        return payload

    async def dispatch(self, event: str, data: JSON) -> int:
        """Send a DISPATCH (op 0) on the current session; buffered for RESUME replay if the bot is disconnected.

        Returns the sequence number.  Usable directly for events the twin has no helper for.
        """
        session = self._session
        if session is None:
            raise TwinError(f"cannot dispatch {event}: the bot has not identified on the gateway")
        async with self._dispatch_lock:
            return await self._dispatch_locked(session, event, data)

    async def _dispatch_locked(self, session: _GatewaySession, event: str, data: JSON) -> int:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.frames.append(frame)
        conn = session.connection
        if conn is None or not await conn.send(frame):
            log.info("gateway down: %s (s=%d) buffered for replay", event, session.seq)
        return session.seq

    def drop_gateway(self, mode: DropMode = "abort") -> asyncio.Task[None]:
        """Disconnect the bot's gateway connection so a test can prove it comes back.

        * ``abort`` - reset the TCP connection without a close frame (network failure); the bot RESUMEs.
        * ``close`` - close frame with code 4000; the bot RESUMEs.
        * ``reconnect`` - send op 7 RECONNECT; the bot closes and RESUMEs.
        * ``invalidate`` - send op 9 INVALID_SESSION (not resumable); the bot IDENTIFYs again (new session).

        Dispatches made while the bot is away are replayed on RESUME.  Returns a task (awaiting it is optional)
        that finishes once the connection has been dealt with; then ``await twin.wait_until_ready()``.
        """
        session = self._session
        conn = session.connection if session is not None else None
        if session is None or conn is None:
            raise TwinError("no live gateway connection to drop")
        self.drop_count += 1
        self._ready.clear()
        log.info("dropping gateway connection #%d (%s)", conn.number, mode)

        async def drop() -> None:
            if mode == "abort":
                session.connection = None
                conn.dropped = True
                transport = conn.request.transport
                if transport is not None:
                    transport.abort()
                else:
                    await conn.ws.close(code=4000)
            elif mode == "close":
                session.connection = None
                await conn.close(4000, "twin dropped the connection")
            elif mode == "reconnect":
                async with self._dispatch_lock:
                    await conn.send({"op": 7, "d": None})
                    session.connection = None
            elif mode == "invalidate":
                async with self._dispatch_lock:
                    self._sessions.pop(session.session_id, None)
                    await conn.send({"op": 9, "d": False})
                    session.connection = None
            else:
                raise ValueError(f"unknown drop mode {mode!r}")
            self._notify()

        return self._track(drop())

    # ------------------------------------------------------------------ driving: interactions

    def _user(self, user: Mapping[str, Any] | str | None) -> JSON:
        if user is None:
            return self.default_user
        if isinstance(user, Mapping):
            return self.add_user(user)
        try:
            return self.users[str(user)]
        except KeyError:
            raise TwinError(f"unknown user {user}") from None

    def _interaction_channel_payload(self, channel: JSON, user: JSON) -> JSON:
        payload = copy.deepcopy(channel)
        if channel["type"] == 1:
            return payload
        payload["permissions"] = str(self.member_permissions(channel["guild_id"], user["id"]))
        return payload

    def _find_command(self, name: str, guild_id: str | None, command_type: int) -> JSON:
        scopes: list[str | None] = [guild_id, None] if guild_id else [None]
        for scope in scopes:
            for command in self._commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == command_type:
                    return command
        known = sorted(f"{c['name']} ({'global' if s is None else s})" for s, cs in self._commands.items() for c in cs)
        raise TwinError(f"command {name!r} (type {command_type}) is not synced for guild {guild_id}; synced: {known}")

    def _new_interaction(
        self,
        itype: int,
        data: JSON,
        *,
        channel_id: str | None,
        user: Mapping[str, Any] | str | None,
        guild_id: str | None = None,
        locale: str = "en-US",
        extra: JSON | None = None,
    ) -> InteractionRecord:
        author = self._user(user)
        if channel_id is None:
            channel = self.channel if guild_id is None else self._first_text_channel(guild_id)
        else:
            try:
                channel = self.channels[str(channel_id)]
            except KeyError:
                raise TwinError(f"unknown channel {channel_id}") from None
        gid = channel.get("guild_id")
        interaction_id = new_snowflake()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(96)
        payload: JSON = {
            "id": interaction_id,
            "application_id": self.application_id,
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": channel["id"],
            "channel": self._interaction_channel_payload(channel, author),
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if gid is not None:
            member = copy.deepcopy(self.add_member(gid, author))
            member["permissions"] = str(self.member_permissions(gid, author["id"]))
            guild = self.guilds[gid]
            payload.update(
                {
                    "guild_id": gid,
                    "guild": {"id": gid, "locale": guild.get("preferred_locale", "en-US"), "features": []},
                    "guild_locale": guild.get("preferred_locale", "en-US"),
                    "member": member,
                    "app_permissions": str(self.member_permissions(gid, self.bot_user["id"])),
                    "authorizing_integration_owners": {"0": gid},
                    "context": 0,
                }
            )
        else:
            payload.update(
                {
                    "user": author,
                    "app_permissions": str(EVERYONE_PERMISSIONS),
                    "authorizing_integration_owners": {"0": "0"},
                    "context": 1,
                }
            )
        if extra:
            payload.update(extra)
        record = InteractionRecord(
            id=interaction_id,
            token=token,
            type=itype,
            payload=payload,
            channel_id=channel["id"],
            guild_id=gid,
            user_id=author["id"],
            created_at=time.monotonic(),
        )
        self._interactions[interaction_id] = record
        self._by_token[token] = interaction_id
        return record

    async def _send_interaction(self, record: InteractionRecord) -> str:
        record.created_at = time.monotonic()
        self._timers.append(
            asyncio.get_running_loop().call_later(self.ack_deadline + 0.05, self._check_acknowledged, record.id)
        )
        await self.dispatch("INTERACTION_CREATE", record.payload)
        record.sent = True
        return record.id

    def _check_acknowledged(self, interaction_id: str) -> None:
        record = self._interactions.get(interaction_id)
        if record is not None and not record.acknowledged:
            self._violate(
                "interaction_not_acknowledged",
                f"interaction {interaction_id} (type {record.type}) got no initial response within "
                f"{self.ack_deadline}s (Discord shows 'The application did not respond')",
            )

    def _first_text_channel(self, guild_id: str) -> JSON:
        return next(c for c in self.guilds[str(guild_id)]["channels"] if c["type"] == 0)

    def _resolve_value(
        self, option_type: int, value: Any, resolved: JSON, guild_id: str | None, name: str
    ) -> str | int | float | bool:
        if option_type == 3:
            return str(value)
        if option_type == 4:
            return int(value)
        if option_type == 5:
            return bool(value)
        if option_type == 10:
            return value if isinstance(value, (int, float)) else float(value)
        if option_type in (6, 9) and (not isinstance(value, Mapping) or "username" in value):
            if option_type == 9 and not isinstance(value, Mapping) and str(value) not in self.users:
                return self._resolve_role(value, resolved, guild_id, name)
            user = self._user(value)
            resolved.setdefault("users", {})[user["id"]] = user
            member = self.member(guild_id, user["id"]) if guild_id else None
            if member is not None:
                partial = {k: v for k, v in member.items() if k != "user"}
                partial["permissions"] = str(self.member_permissions(guild_id or "", user["id"]))
                resolved.setdefault("members", {})[user["id"]] = partial
            return user["id"]
        if option_type in (8, 9):
            return self._resolve_role(value, resolved, guild_id, name)
        if option_type == 7:
            channel = self.channels.get(_id_of(value))
            if channel is None:
                raise TwinError(f"option {name!r}: unknown channel {value}")
            partial = {k: channel[k] for k in ("id", "type", "name", "parent_id", "guild_id") if k in channel}
            partial["permissions"] = str(EVERYONE_PERMISSIONS)
            resolved.setdefault("channels", {})[channel["id"]] = partial
            return channel["id"]
        if option_type == 11:
            if not isinstance(value, Mapping):
                raise TwinError(f"option {name!r}: give an attachment as a dict with filename (and size)")
            attachment_id = str(value.get("id") or new_snowflake())
            attachment = {
                "id": attachment_id,
                "filename": value["filename"],
                "size": int(value.get("size", 0)),
                "url": f"{self.base_url}/attachments/{attachment_id}/{value['filename']}",
                "proxy_url": f"{self.base_url}/attachments/{attachment_id}/{value['filename']}",
                "content_type": value.get("content_type"),
                "ephemeral": True,
            }
            resolved.setdefault("attachments", {})[attachment_id] = attachment
            return attachment_id
        raise TwinError(f"option {name!r}: unsupported option type {option_type}")

    def _resolve_role(self, value: Any, resolved: JSON, guild_id: str | None, name: str) -> str:
        guild = self.guilds.get(str(guild_id)) if guild_id else None
        role = next((r for r in guild["roles"] if r["id"] == _id_of(value)), None) if guild else None
        if role is None:
            raise TwinError(f"option {name!r}: unknown role {value}")
        resolved.setdefault("roles", {})[role["id"]] = role
        return role["id"]

    def _build_options(
        self,
        command: JSON,
        values: Mapping[str, Any],
        subcommand: str | None,
        guild_id: str | None,
        focused: str | None = None,
    ) -> tuple[list[JSON], JSON]:
        definitions: list[JSON] = command.get("options") or []
        resolved: JSON = {}
        wrappers: list[tuple[str, int]] = []
        if subcommand:
            for part in subcommand.split():
                match = next((d for d in definitions if d["name"] == part and d["type"] in (1, 2)), None)
                if match is None:
                    raise TwinError(f"/{command['name']}: no subcommand (group) {part!r}")
                wrappers.append((part, match["type"]))
                definitions = match.get("options") or []
        if any(d["type"] in (1, 2) for d in definitions):
            raise TwinError(f"/{command['name']} needs a subcommand: {[d['name'] for d in definitions]}")
        by_name = {d["name"]: d for d in definitions}
        options: list[JSON] = []
        for name, value in values.items():
            definition = by_name.get(name)
            if definition is None:
                raise TwinError(f"/{command['name']}: unknown option {name!r}; options: {sorted(by_name)}")
            option: JSON = {"name": name, "type": definition["type"]}
            if name == focused:
                option["value"] = str(value)
                option["focused"] = True
            else:
                option["value"] = self._resolve_value(definition["type"], value, resolved, guild_id, name)
                choices = definition.get("choices")
                if choices and option["value"] not in [c["value"] for c in choices]:
                    raise TwinError(f"/{command['name']}: {value!r} is not a choice of {name!r}")
            options.append(option)
        if focused is None:
            missing = [d["name"] for d in definitions if d.get("required") and d["name"] not in values]
            if missing:
                raise TwinError(f"/{command['name']}: missing required options {missing}")
        elif focused not in values:
            raise TwinError(f"/{command['name']}: focused option {focused!r} needs a value")
        for part, part_type in reversed(wrappers):
            options = [{"name": part, "type": part_type, "options": options}]
        return options, resolved

    async def slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        guild_id: str | None = None,
        channel_id: str | None = None,
        user: Mapping[str, Any] | str | None = None,
        subcommand: str | None = None,
        locale: str = "en-US",
    ) -> str:
        """Dispatch a chat-input command (INTERACTION_CREATE type 2) and return the interaction id.

        The command must have been synced; ``data.id`` is its synced id.  ``options`` maps option names to values
        (user/channel/role options take payloads or ids and fill ``resolved``).  ``subcommand`` is ``"sub"`` or
        ``"group sub"``.  The channel defaults to :attr:`channel` (or the first channel of ``guild_id``); a DM
        channel id (see :meth:`dm_channel`) makes it a bot-DM interaction.
        """
        return await self._send_interaction(
            self._command_interaction(name, options or {}, guild_id, channel_id, user, subcommand, locale, None)
        )

    async def autocomplete(
        self,
        name: str,
        focused_option: str,
        value: str,
        options: Mapping[str, Any] | None = None,
        *,
        guild_id: str | None = None,
        channel_id: str | None = None,
        user: Mapping[str, Any] | str | None = None,
        subcommand: str | None = None,
        locale: str = "en-US",
    ) -> str:
        """Dispatch an autocomplete request (type 4) for ``focused_option`` typed as ``value``; returns its id.

        The bot's choices are in ``twin.interaction(id).choices`` once answered.
        """
        values = dict(options or {})
        values[focused_option] = value
        record = self._command_interaction(name, values, guild_id, channel_id, user, subcommand, locale, focused_option)
        return await self._send_interaction(record)

    def _command_interaction(
        self,
        name: str,
        values: Mapping[str, Any],
        guild_id: str | None,
        channel_id: str | None,
        user: Mapping[str, Any] | str | None,
        subcommand: str | None,
        locale: str,
        focused: str | None,
    ) -> InteractionRecord:
        if channel_id is not None:
            channel = self.channels.get(str(channel_id))
            if channel is None:
                raise TwinError(f"unknown channel {channel_id}")
            guild_id = channel.get("guild_id")
        elif guild_id is None:
            guild_id = self.guild["id"]
        command = self._find_command(name, guild_id, 1)
        options, resolved = self._build_options(command, values, subcommand, guild_id, focused)
        data: JSON = {"id": command["id"], "name": command["name"], "type": 1}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if options:
            data["options"] = options
        if resolved:
            data["resolved"] = resolved
        itype = InteractionType.AUTOCOMPLETE if focused else InteractionType.APPLICATION_COMMAND
        return self._new_interaction(itype, data, channel_id=channel_id, user=user, guild_id=guild_id, locale=locale)

    async def click(
        self,
        message_id: str,
        custom_id: str,
        *,
        user: Mapping[str, Any] | str | None = None,
        values: Sequence[Any] | None = None,
        locale: str = "en-US",
    ) -> str:
        """Click a button (or pick ``values`` in a select menu) of a stored message; returns the interaction id."""
        message = self.message(message_id)
        component = next(
            (c for c in iter_components(message.get("components")) if c.get("custom_id") == custom_id), None
        )
        if component is None:
            available = [c.get("custom_id") for c in iter_components(message.get("components")) if c.get("custom_id")]
            raise TwinError(f"message {message_id} has no component {custom_id!r}; custom_ids: {available}")
        if component.get("disabled"):
            raise TwinError(f"component {custom_id!r} is disabled: a user cannot click it")
        ctype = int(component["type"])
        data: JSON = {"custom_id": custom_id, "component_type": ctype}
        channel = self.channels.get(message["channel_id"], {})
        if ctype != 2:
            picked = list(values or [])
            resolved: JSON = {}
            option_type = {5: 6, 6: 8, 7: 7, 8: 9}.get(ctype)
            if option_type is not None:
                picked = [
                    self._resolve_value(option_type, v, resolved, channel.get("guild_id"), custom_id) for v in picked
                ]
            data["values"] = [str(v) for v in picked]
            if resolved:
                data["resolved"] = resolved
        elif values:
            raise TwinError("values are only for select menus")
        record = self._new_interaction(
            InteractionType.MESSAGE_COMPONENT,
            data,
            channel_id=message["channel_id"],
            user=user,
            locale=locale,
            extra={"message": message},
        )
        record.source_message_id = message["id"]
        record.original_message_id = message["id"]
        return await self._send_interaction(record)

    async def select(
        self, message_id: str, custom_id: str, values: Sequence[Any], *, user: Mapping[str, Any] | str | None = None
    ) -> str:
        """Pick ``values`` in a select menu of a stored message; returns the interaction id."""
        return await self.click(message_id, custom_id, user=user, values=values)

    async def submit_modal(
        self,
        interaction_id: str,
        values: Mapping[str, str],
        *,
        user: Mapping[str, Any] | str | None = None,
    ) -> str:
        """Submit the modal the bot opened in answer to ``interaction_id`` (text inputs by custom_id)."""
        opener = self.interaction(interaction_id)
        if opener.modal is None:
            raise TwinError(f"interaction {interaction_id} was not answered with a modal")
        rows: list[JSON] = []
        for top in opener.modal.get("components") or []:
            children = top.get("components") if top.get("type") == 1 else [top.get("component")]
            inputs = [
                {"type": 4, "id": c.get("id"), "custom_id": c["custom_id"], "value": values.get(c["custom_id"], "")}
                for c in children or []
                if isinstance(c, Mapping) and c.get("type") == 4
            ]
            if not inputs:
                continue
            if top.get("type") == 1:
                rows.append({"type": 1, "id": top.get("id"), "components": inputs})
            else:
                rows.append({"type": top.get("type"), "id": top.get("id"), "component": inputs[0]})
        unknown = set(values) - {i["custom_id"] for r in rows for i in r.get("components", [r.get("component")])}
        if unknown:
            raise TwinError(f"modal has no text inputs {sorted(unknown)}")
        data = {"custom_id": opener.modal["custom_id"], "components": rows}
        extra: JSON = {}
        if opener.source_message_id and opener.source_message_id in self.messages:
            extra["message"] = self.message(opener.source_message_id)
        record = self._new_interaction(
            InteractionType.MODAL_SUBMIT,
            data,
            channel_id=opener.channel_id,
            user=user or opener.user_id,
            extra=extra,
        )
        record.source_message_id = opener.source_message_id
        record.original_message_id = opener.source_message_id
        return await self._send_interaction(record)

    # ------------------------------------------------------------------ driving: messages

    async def dm(self, user: Mapping[str, Any] | str | None, content: str) -> str:
        """A user DMs the bot (MESSAGE_CREATE without guild_id); returns the message id.

        Dispatched only if the bot holds the DIRECT_MESSAGES intent (content is always visible in DMs).
        """
        author = self._user(user)
        channel = self.dm_channel(author)
        message = self._new_message(channel, author, content, mentions=[])
        self._store_message(message)
        if self._has_intent(Intent.DIRECT_MESSAGES):
            await self.dispatch("MESSAGE_CREATE", message)
        else:
            log.warning("bot lacks the DIRECT_MESSAGES intent: DM %s not dispatched", message["id"])
        return message["id"]

    async def guild_message(
        self,
        channel_id: str,
        user: Mapping[str, Any] | str | None,
        content: str,
        *,
        mentions: Sequence[Mapping[str, Any] | str] = (),
        reply_to: str | None = None,
    ) -> str:
        """A user posts in a guild channel (MESSAGE_CREATE); returns the message id.

        ``mentions`` lists mentioned users (include ``twin.bot_user`` to mention the bot; its ``<@id>`` is prepended
        to the content when absent).  As on Discord, content/embeds/attachments/components are blanked in the event
        unless the bot is mentioned or holds MESSAGE_CONTENT; nothing is dispatched without GUILD_MESSAGES.
        """
        channel = self.channels.get(str(channel_id))
        if channel is None or "guild_id" not in channel:
            raise TwinError(f"unknown guild channel {channel_id}")
        author = self._user(user)
        gid = channel["guild_id"]
        self.add_member(gid, author)
        mentioned = [self._user(m) for m in mentions]
        for target in mentioned:
            tag = self.mention(target)
            if tag not in content and f"<@!{target['id']}>" not in content:
                content = f"{tag} {content}"
        message = self._new_message(channel, author, content, mentions=mentioned)
        if reply_to is not None:
            referenced = self.message(reply_to)
            message["type"] = 19
            message["message_reference"] = {"type": 0, "message_id": reply_to, "channel_id": channel["id"]}
            message["message_reference"]["guild_id"] = gid
            message["referenced_message"] = referenced
        self._store_message(message)
        if not self._has_intent(Intent.GUILD_MESSAGES):
            log.warning("bot lacks the GUILD_MESSAGES intent: message %s not dispatched", message["id"])
            return message["id"]
        event = copy.deepcopy(message)
        bot_mentioned = any(m["id"] == self.bot_user["id"] for m in mentioned)
        if not bot_mentioned and not self._has_intent(Intent.MESSAGE_CONTENT):
            event.update({"content": "", "embeds": [], "attachments": [], "components": []})
        await self.dispatch("MESSAGE_CREATE", event)
        return message["id"]

    def _has_intent(self, intent: Intent) -> bool:
        return self._session is not None and bool(self._session.intents & intent)

    def _new_message(
        self,
        channel: JSON,
        author: JSON,
        content: str,
        *,
        mentions: Sequence[JSON],
    ) -> JSON:
        message: JSON = {
            "id": new_snowflake(),
            "channel_id": channel["id"],
            "author": copy.deepcopy(author),
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [copy.deepcopy(m) for m in mentions],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        gid = channel.get("guild_id")
        if gid is not None:
            message["guild_id"] = gid
            member = self.member(gid, author["id"])
            if member is not None:
                message["member"] = {k: v for k, v in member.items() if k != "user"}
        return message

    def _store_message(self, message: JSON) -> None:
        self.messages[message["id"]] = message
        self._channel_order.setdefault(message["channel_id"], []).append(message["id"])
        channel = self.channels.get(message["channel_id"])
        if channel is not None:
            channel["last_message_id"] = message["id"]
        self._notify()

    def _message_intent(self, message: Mapping[str, Any]) -> Intent:
        return Intent.GUILD_MESSAGES if message.get("guild_id") else Intent.DIRECT_MESSAGES

    async def _echo(self, event: str, message: JSON) -> None:
        """Dispatch the bot's own message events the way Discord does (not for ephemeral messages)."""
        if not self.echo_bot_messages or message.get("flags", 0) & MESSAGE_FLAG_EPHEMERAL:
            return
        if self._session is None or not self._has_intent(self._message_intent(message)):
            return
        if event == "MESSAGE_DELETE":
            data = {k: message[k] for k in ("id", "channel_id", "guild_id") if k in message}
        else:
            data = copy.deepcopy(message)
        await self.dispatch(event, data)

    def _mentions_in(self, content: str) -> list[JSON]:
        ids = dict.fromkeys(re.findall(r"<@!?(\d+)>", content or ""))
        return [copy.deepcopy(self.users[i]) for i in ids if i in self.users]

    def _apply_body(self, message: JSON, body: Mapping[str, Any], files: Sequence[RecordedFile], *, new: bool) -> None:
        """Apply a create/edit message body (already validated) to a stored message."""
        if "content" in body:
            message["content"] = body.get("content") or ""
            message["mentions"] = self._mentions_in(message["content"])
        if "embeds" in body:
            message["embeds"] = [{**e, "type": e.get("type") or "rich"} for e in body.get("embeds") or []]
        if "components" in body:
            components = copy.deepcopy(body.get("components") or [])
            counter = itertools.count(1)
            for component in iter_components(components):
                if isinstance(component, dict) and component.get("id") is None:
                    component["id"] = next(counter)
            message["components"] = components
        flags = body.get("flags")
        if isinstance(flags, int):  # an edit cannot change ephemerality; the loading flag is the twin's to manage
            if new:
                message["flags"] = flags & ~MESSAGE_FLAG_LOADING
            else:
                kept = message.get("flags", 0) & MESSAGE_FLAG_EPHEMERAL
                message["flags"] = (flags & ~(MESSAGE_FLAG_LOADING | MESSAGE_FLAG_EPHEMERAL)) | kept
        if "poll" in body and body.get("poll"):
            message["poll"] = copy.deepcopy(body["poll"])
        if body.get("tts"):
            message["tts"] = True
        by_field = {f.field: f for f in files}
        if "attachments" in body or files:
            kept = []
            existing = {a["id"]: a for a in message.get("attachments", [])}
            for item in body.get("attachments") or []:
                item_id = str(item.get("id"))
                if item_id in existing:
                    kept.append(existing[item_id])
                    continue
                upload = by_field.pop(f"files[{item_id}]", None)
                if upload is not None:
                    kept.append(self._attachment(upload, item.get("filename"), item.get("description")))
            kept.extend(self._attachment(f, None, None) for f in by_field.values())
            message["attachments"] = kept
        if not new:
            message["edited_timestamp"] = _now_iso()

    def _attachment(self, upload: RecordedFile, filename: str | None, description: str | None) -> JSON:
        attachment_id = new_snowflake()
        name = filename or upload.filename or "file"
        return {
            "id": attachment_id,
            "filename": name,
            "description": description,
            "size": upload.size,
            "content_type": upload.content_type,
            "url": f"{self.base_url}/attachments/{attachment_id}/{name}",
            "proxy_url": f"{self.base_url}/attachments/{attachment_id}/{name}",
        }

    def _bot_message(self, channel: JSON, body: Mapping[str, Any], files: Sequence[RecordedFile]) -> JSON:
        message = self._new_message(channel, self.bot_user, "", mentions=[])
        self._apply_body(message, body, files, new=True)
        return message

    # ------------------------------------------------------------------ HTTP plumbing

    def _route(
        self, method: str, template: str, handler: Handler, *, auth: bool = True, message_body: bool = False
    ) -> None:
        self._routes.append(_Route(method, template, _template_regex(template), handler, auth, message_body))

    def _install_routes(self) -> None:
        r = self._route
        r("GET", "/users/@me", self._get_me)
        r("POST", "/users/@me/channels", self._create_dm)
        r("GET", "/users/{user_id}", self._get_user)
        r("GET", "/oauth2/applications/@me", self._get_application)
        r("GET", "/applications/@me", self._get_application)
        r("GET", "/gateway/bot", self._get_gateway_bot)
        r("GET", "/gateway", self._get_gateway, auth=False)
        for scope in ("/applications/{application_id}", "/applications/{application_id}/guilds/{guild_id}"):
            r("GET", f"{scope}/commands", self._get_commands)
            r("PUT", f"{scope}/commands", self._put_commands)
            r("POST", f"{scope}/commands", self._post_command)
            r("GET", f"{scope}/commands/{{command_id}}", self._get_command)
            r("DELETE", f"{scope}/commands/{{command_id}}", self._delete_command)
        callback = "/interactions/{interaction_id}/{interaction_token}/callback"
        r("POST", callback, self._interaction_callback, auth=False, message_body=True)
        webhook = "/webhooks/{application_id}/{interaction_token}"
        r("POST", webhook, self._webhook_post, auth=False, message_body=True)
        for method in ("GET", "PATCH", "DELETE"):
            r(method, f"{webhook}/messages/{{message_id}}", self._webhook_message, auth=False, message_body=True)
        r("GET", "/channels/{channel_id}", self._get_channel)
        r("GET", "/channels/{channel_id}/messages", self._get_messages)
        r("POST", "/channels/{channel_id}/messages", self._post_message, message_body=True)
        r("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message)
        r("PATCH", "/channels/{channel_id}/messages/{message_id}", self._patch_message, message_body=True)
        r("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message)
        r("POST", "/channels/{channel_id}/typing", self._typing)
        reaction = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me"
        r("PUT", reaction, self._put_reaction)
        r("DELETE", reaction, self._delete_reaction)
        r("GET", "/guilds/{guild_id}", self._get_guild)
        r("GET", "/guilds/{guild_id}/channels", self._get_guild_channels)
        r("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[RecordedFile], str | None]:
        if not request.body_exists:
            return None, [], None
        if request.content_type == "multipart/form-data":
            body: Any = None
            files: list[RecordedFile] = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    text = await part.text()
                    try:
                        body = json.loads(text)
                    except json.JSONDecodeError:
                        return None, files, "payload_json is not valid JSON"
                else:
                    data = await part.read()
                    files.append(
                        RecordedFile(part.name or "", part.filename, len(data), part.headers.get("Content-Type"))
                    )
            return body, files, None
        raw = await request.read()
        if not raw:
            return None, [], None
        if request.content_type != JSON_CONTENT_TYPE:
            return None, [], f"unsupported content-type {request.content_type!r}"
        try:
            return json.loads(raw), [], None
        except json.JSONDecodeError:
            return None, [], "body is not valid JSON"

    async def _handle_http(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body, files, parse_error = await self._read_body(request)
        full_path = request.path
        path = full_path[len(API_PREFIX) :] if full_path.startswith(API_PREFIX + "/") else full_path
        record = RecordedRequest(request.method, path, dict(request.query), body, files, arrived)
        self._requests.append(record)
        try:
            response = await self._route_request(request, record, parse_error)
        except _ApiError as error:
            if error.rule is not None:
                self._violate(error.rule, error.detail, request.method, path)
            response = _json_response(error.body(), error.status)
            record.response = error.body()
        except Exception as exc:  # a twin bug must not look like a Discord answer
            log.exception("twin failed handling %s %s", request.method, path)
            self._violate("twin_internal_error", f"{type(exc).__name__}: {exc}", request.method, path)
            response = _json_response({"message": "503: twin internal error", "code": 0}, 503)
        record.status = response.status
        self._notify()
        return response

    async def _route_request(
        self, request: web.Request, record: RecordedRequest, parse_error: str | None
    ) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            raise _ApiError(404, 0, "404: Not Found", rule="unknown_route", detail=f"not under {API_PREFIX}")
        path_matches = [(route, route.regex.match(record.path)) for route in self._routes]
        path_matches = [(route, m) for route, m in path_matches if m is not None]
        chosen = next(((route, m) for route, m in path_matches if route.method == request.method), None)
        if chosen is None:
            if path_matches:
                raise _ApiError(405, 0, "405: Method Not Allowed", rule="unknown_route", detail="method not supported")
            raise _ApiError(404, 0, "404: Not Found", rule="unknown_route", detail="route not supported by the twin")
        route, match = chosen
        params = match.groupdict()
        record.template = route.template
        self._tag_interaction(record, route, params)
        if route.auth and request.headers.get("Authorization") != f"Bot {self.token}":
            raise _ApiError(401, 0, "401: Unauthorized", rule="unauthorized", detail="missing or wrong bot token")
        if parse_error is not None:
            raise _ApiError(
                400, 50109, "The request body contains invalid JSON.", rule="invalid_json", detail=parse_error
            )
        self._validate(request.method, record, route)
        return await route.handler(_Call(request, request.method, record.path, params, record.body, record))

    def _tag_interaction(self, record: RecordedRequest, route: _Route, params: Mapping[str, str]) -> None:
        if "interaction_id" in params:
            record.interaction_id = params["interaction_id"]
            record.kind = "callback"
        elif "interaction_token" in params:
            record.interaction_id = self._by_token.get(params["interaction_token"])
            if "message_id" not in params:
                record.kind = "followup"
            else:
                target = "original" if params["message_id"] == "@original" else "followup"
                verb = {"GET": "get", "PATCH": "edit", "DELETE": "delete"}[route.method]
                record.kind = f"{verb}_{target}"

    def _validate(self, method: str, record: RecordedRequest, route: _Route) -> None:
        body = record.body
        if self._spec is not None:
            template = self._spec.match(record.path)
            if template is None:
                log.warning("no OpenAPI path for %s %s: schema validation skipped", method, record.path)
            elif body is None:
                if method in ("POST", "PUT", "PATCH") and self._spec.body_required(template, method):
                    raise _invalid_form([((), "BASE_TYPE_REQUIRED", "This field is required")], "schema")
            else:
                problems = self._spec.validate(template, method, body)
                if problems:
                    raise _invalid_form(problems, "schema")
        if not route.message_body or not isinstance(body, Mapping):
            return
        if record.kind == "callback":
            data = body.get("data")
            if not isinstance(data, Mapping):
                return
            problems = [(("data", *p), c, m) for p, c, m in message_rule_problems(data)]
        else:
            problems = message_rule_problems(body)
        if problems:
            rule = {"MAX_EMBED_SIZE_EXCEEDED": "embed_total_length", "BASE_TYPE_MAX_LENGTH": "content_length"}
            raise _invalid_form(problems, rule.get(problems[0][1], "duplicate_custom_id"))

    # ------------------------------------------------------------------ REST: users, application, gateway

    async def _get_me(self, call: _Call) -> web.Response:
        return _json_response({**self.bot_user, "verified": True, "mfa_enabled": False, "locale": "en-US"})

    async def _get_user(self, call: _Call) -> web.Response:
        user = self.users.get(call.params["user_id"])
        if user is None:
            raise _ApiError(404, 10013, "Unknown User")
        return _json_response(user)

    async def _create_dm(self, call: _Call) -> web.Response:
        recipient = str(call.json_body.get("recipient_id"))
        if recipient not in self.users or recipient == self.bot_user["id"]:
            raise _ApiError(400, 50033, "Invalid Recipient(s)")
        return _json_response(self.dm_channel(recipient))

    async def _get_application(self, call: _Call) -> web.Response:
        return _json_response(
            {
                "id": self.application_id,
                "name": self.bot_user["username"],
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": secrets.token_hex(32),
                "flags": self._application_flags,
                "owner": self.default_user,
                "team": None,
                "bot": self.bot_user,
                "rpc_origins": [],
                "redirect_uris": [],
                "tags": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "approximate_guild_count": len(self.guilds),
                "approximate_user_install_count": 0,
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, call: _Call) -> web.Response:
        return _json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, call: _Call) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return _json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    # ------------------------------------------------------------------ REST: application commands

    def _command_scope(self, call: _Call) -> str | None:
        if call.params["application_id"] != self.application_id:
            raise _ApiError(403, 50001, "Missing Access", rule="wrong_application", detail="not the bot's application")
        guild_id = call.params.get("guild_id")
        if guild_id is not None and guild_id not in self.guilds:
            raise _ApiError(
                403, 50001, "Missing Access", rule="unknown_guild", detail=f"bot is not in guild {guild_id}"
            )
        return guild_id

    def _store_command(self, scope: str | None, body: Mapping[str, Any], existing: Sequence[JSON]) -> JSON:
        command_type = body.get("type") or 1
        previous = next((c for c in existing if c["name"] == body["name"] and c["type"] == command_type), None)
        command: JSON = {
            "id": previous["id"] if previous else new_snowflake(),
            "application_id": self.application_id,
            "version": new_snowflake(),
            "type": command_type,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description") or "",
            "description_localizations": body.get("description_localizations"),
            "default_member_permissions": body.get("default_member_permissions"),
            "nsfw": bool(body.get("nsfw", False)),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
        }
        if body.get("options"):
            command["options"] = copy.deepcopy(body["options"])
        if scope is not None:
            command["guild_id"] = scope
        else:
            command["dm_permission"] = body.get("dm_permission", True) is not False
        return command

    async def _get_commands(self, call: _Call) -> web.Response:
        return _json_response(self._commands.get(self._command_scope(call), []))

    async def _put_commands(self, call: _Call) -> web.Response:
        scope = self._command_scope(call)
        if not isinstance(call.body, list):
            raise _invalid_form([((), "BASE_TYPE_ARRAY", "Must be an array")], "schema")
        existing = self._commands.get(scope, [])
        keys = [(c.get("name"), c.get("type") or 1) for c in call.body]
        if len(keys) != len(set(keys)):
            raise _invalid_form([((), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate command names")], "schema")
        self._commands[scope] = [self._store_command(scope, c, existing) for c in call.body]
        log.info("synced %d commands (%s)", len(call.body), "global" if scope is None else f"guild {scope}")
        return _json_response(self._commands[scope])

    async def _post_command(self, call: _Call) -> web.Response:
        scope = self._command_scope(call)
        existing = self._commands.setdefault(scope, [])
        command = self._store_command(scope, call.json_body, existing)
        replaced = any(c["id"] == command["id"] for c in existing)
        self._commands[scope] = [c for c in existing if c["id"] != command["id"]] + [command]
        return _json_response(command, 200 if replaced else 201)

    def _command_by_id(self, call: _Call) -> tuple[str | None, JSON]:
        scope = self._command_scope(call)
        for command in self._commands.get(scope, []):
            if command["id"] == call.params["command_id"]:
                return scope, command
        raise _ApiError(404, 10063, "Unknown application command")

    async def _get_command(self, call: _Call) -> web.Response:
        return _json_response(self._command_by_id(call)[1])

    async def _delete_command(self, call: _Call) -> web.Response:
        scope, command = self._command_by_id(call)
        self._commands[scope] = [c for c in self._commands[scope] if c["id"] != command["id"]]
        return _no_content()

    # ------------------------------------------------------------------ REST: interactions and webhooks

    async def _interaction_callback(self, call: _Call) -> web.Response:
        record = self._interactions.get(call.params["interaction_id"])
        if record is None or record.token != call.params["interaction_token"]:
            raise _ApiError(404, 10062, "Unknown interaction", rule="unknown_interaction", detail="no such interaction")
        body = call.json_body
        callback_type = body.get("type")
        if record.acknowledged:
            raise _ApiError(
                400,
                40060,
                "Interaction has already been acknowledged.",
                rule="interaction_already_acknowledged",
                detail=f"interaction {record.id} already answered (type {record.ack_type}); got type {callback_type}",
            )
        latency = call.record.time - record.created_at
        if latency > self.ack_deadline:
            raise _ApiError(
                404,
                10062,
                "Unknown interaction",
                rule="interaction_ack_timeout",
                detail=f"first response to {record.id} after {latency:.3f}s (deadline {self.ack_deadline}s)",
            )
        if callback_type not in ALLOWED_CALLBACKS.get(record.type, frozenset()):
            problem = (
                ("type",),
                "INTERACTION_CALLBACK_TYPE_INVALID",
                f"Callback type {callback_type} is not valid for interaction type {record.type}",
            )
            raise _invalid_form([problem], "invalid_callback_type")
        data = body.get("data") if isinstance(body.get("data"), Mapping) else {}
        message: JSON | None = None
        if callback_type in (CallbackType.CHANNEL_MESSAGE, CallbackType.DEFERRED_CHANNEL_MESSAGE):
            loading = callback_type == CallbackType.DEFERRED_CHANNEL_MESSAGE
            message = self._interaction_message(record, data, call.record.files, loading=loading)
            self._store_message(message)
            record.original_message_id = message["id"]
        elif callback_type == CallbackType.UPDATE_MESSAGE:
            message = self._source_message(record)
            self._apply_body(message, data, call.record.files, new=False)
        elif callback_type == CallbackType.AUTOCOMPLETE_RESULT:
            record.choices = copy.deepcopy(data.get("choices") or [])
        elif callback_type == CallbackType.MODAL:
            record.modal = copy.deepcopy(dict(data))
        record.ack_type = int(callback_type)
        record.ack_at = call.record.time
        log.debug("interaction %s acknowledged with type %s in %.3fs", record.id, callback_type, latency)
        if message is not None:
            await self._echo(
                "MESSAGE_CREATE" if callback_type != CallbackType.UPDATE_MESSAGE else "MESSAGE_UPDATE", message
            )
        if call.request.query.get("with_response", "").lower() not in ("1", "true"):
            return _no_content()
        interaction: JSON = {"id": record.id, "type": record.type}
        answer: JSON = {"interaction": interaction}
        if message is not None:
            interaction.update(
                {
                    "response_message_id": message["id"],
                    "response_message_loading": bool(message.get("flags", 0) & MESSAGE_FLAG_LOADING),
                    "response_message_ephemeral": bool(message.get("flags", 0) & MESSAGE_FLAG_EPHEMERAL),
                }
            )
            answer["resource"] = {"type": callback_type, "message": message}
        elif callback_type in (
            CallbackType.DEFERRED_UPDATE_MESSAGE,
            CallbackType.AUTOCOMPLETE_RESULT,
            CallbackType.MODAL,
        ):
            answer["resource"] = {"type": callback_type}
        call.record.response = answer
        return _json_response(answer)

    def _interaction_message(
        self, record: InteractionRecord, data: Mapping[str, Any], files: Sequence[RecordedFile], *, loading: bool
    ) -> JSON:
        channel = self.channels[record.channel_id]
        message = self._bot_message(channel, {}, []) if loading else self._bot_message(channel, data, files)
        flags = data.get("flags") if isinstance(data.get("flags"), int) else 0
        message["flags"] = (flags & MESSAGE_FLAG_EPHEMERAL) | (MESSAGE_FLAG_LOADING if loading else message["flags"])
        message["webhook_id"] = self.application_id
        message["application_id"] = self.application_id
        message["type"] = 20 if record.type == InteractionType.APPLICATION_COMMAND else 0
        metadata: JSON = {
            "id": record.id,
            "type": record.type,
            "user": self.users[record.user_id],
            "authorizing_integration_owners": record.payload.get("authorizing_integration_owners", {}),
        }
        if record.source_message_id:
            metadata["interacted_message_id"] = record.source_message_id
        message["interaction_metadata"] = metadata
        return message

    def _source_message(self, record: InteractionRecord) -> JSON:
        if record.source_message_id is None or record.source_message_id not in self.messages:
            raise _ApiError(404, 10008, "Unknown Message", rule="no_source_message", detail="no message to update")
        return self.messages[record.source_message_id]

    def _webhook_record(self, call: _Call) -> InteractionRecord:
        interaction_id = self._by_token.get(call.params["interaction_token"])
        if call.params["application_id"] != self.application_id or interaction_id is None:
            raise _ApiError(
                404, 10015, "Unknown Webhook", rule="unknown_webhook", detail="no interaction with that token"
            )
        record = self._interactions[interaction_id]
        if not record.acknowledged:
            raise _ApiError(
                404,
                10015,
                "Unknown Webhook",
                rule="webhook_before_ack",
                detail=f"{call.method} on interaction {record.id}'s webhook before its initial response",
            )
        return record

    async def _webhook_post(self, call: _Call) -> web.Response:
        record = self._webhook_record(call)
        channel = self.channels[record.channel_id]
        message = self._bot_message(channel, call.json_body, call.record.files)
        message["webhook_id"] = self.application_id
        message["application_id"] = self.application_id
        metadata: JSON = {
            "id": record.id,
            "type": record.type,
            "user": self.users[record.user_id],
            "authorizing_integration_owners": record.payload.get("authorizing_integration_owners", {}),
        }
        if record.original_message_id:
            metadata["original_response_message_id"] = record.original_message_id
        message["interaction_metadata"] = metadata
        self._store_message(message)
        await self._echo("MESSAGE_CREATE", message)
        if call.request.query.get("wait", "").lower() in ("1", "true"):
            call.record.response = message
            return _json_response(message)
        return _no_content()

    async def _webhook_message(self, call: _Call) -> web.Response:
        record = self._webhook_record(call)
        message_id = call.params["message_id"]
        if message_id == "@original":
            if record.original_message_id is None:
                raise _ApiError(
                    404, 10008, "Unknown Message", rule="no_original_message", detail="no original response"
                )
            message_id = record.original_message_id
        message = self.messages.get(message_id)
        if message is None or message["channel_id"] != record.channel_id:
            raise _ApiError(404, 10008, "Unknown Message")
        if call.method == "GET":
            return _json_response(message)
        if call.method == "DELETE":
            await self._remove_message(message)
            return _no_content()
        self._apply_body(message, call.json_body, call.record.files, new=False)
        message["flags"] = message.get("flags", 0) & ~MESSAGE_FLAG_LOADING
        self._notify()
        await self._echo("MESSAGE_UPDATE", message)
        call.record.response = message
        return _json_response(message)

    # ------------------------------------------------------------------ REST: channels, messages, guilds

    def _channel_of(self, call: _Call) -> JSON:
        channel = self.channels.get(call.params["channel_id"])
        if channel is None:
            raise _ApiError(404, 10003, "Unknown Channel")
        return channel

    def _message_of(self, call: _Call) -> JSON:
        channel = self._channel_of(call)
        message = self.messages.get(call.params["message_id"])
        if message is None or message["channel_id"] != channel["id"]:
            raise _ApiError(404, 10008, "Unknown Message")
        return message

    async def _get_channel(self, call: _Call) -> web.Response:
        return _json_response(self._channel_of(call))

    async def _get_messages(self, call: _Call) -> web.Response:
        channel = self._channel_of(call)
        limit = max(1, min(100, int(call.request.query.get("limit", "50"))))
        messages = [m for m in self.channel_messages(channel["id"]) if not m.get("flags", 0) & MESSAGE_FLAG_EPHEMERAL]
        return _json_response(list(reversed(messages))[:limit])

    async def _post_message(self, call: _Call) -> web.Response:
        channel = self._channel_of(call)
        body = call.json_body
        if (
            not any(body.get(k) for k in ("content", "embeds", "components", "sticker_ids", "poll"))
            and not call.record.files
        ):
            raise _ApiError(400, 50006, "Cannot send an empty message", rule="empty_message", detail="nothing to send")
        message = self._bot_message(channel, body, call.record.files)
        reference = body.get("message_reference")
        if isinstance(reference, Mapping) and reference.get("message_id") is not None:
            referenced = self.messages.get(str(reference["message_id"]))
            if referenced is None and reference.get("fail_if_not_exists", True):
                problem = (("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
                raise _ApiError(400, 50035, "Invalid Form Body", errors=discord_error_tree([problem]))
            message["type"] = 19
            message["message_reference"] = {
                "type": reference.get("type") or 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(reference.get("channel_id") or channel["id"]),
            }
            if channel.get("guild_id"):
                message["message_reference"]["guild_id"] = channel["guild_id"]
            message["referenced_message"] = copy.deepcopy(referenced)
        self._store_message(message)
        await self._echo("MESSAGE_CREATE", message)
        call.record.response = message
        return _json_response(message)

    async def _get_message(self, call: _Call) -> web.Response:
        return _json_response(self._message_of(call))

    async def _patch_message(self, call: _Call) -> web.Response:
        message = self._message_of(call)
        if message["author"]["id"] != self.bot_user["id"]:
            raise _ApiError(
                403,
                50005,
                "Cannot edit a message authored by another user",
                rule="edit_foreign_message",
                detail=f"message {message['id']} is by {message['author']['username']}",
            )
        self._apply_body(message, call.json_body, call.record.files, new=False)
        self._notify()
        await self._echo("MESSAGE_UPDATE", message)
        call.record.response = message
        return _json_response(message)

    async def _delete_message(self, call: _Call) -> web.Response:
        await self._remove_message(self._message_of(call))
        return _no_content()

    async def _remove_message(self, message: JSON) -> None:
        self.messages.pop(message["id"], None)
        self.deleted_message_ids.append(message["id"])
        self._notify()
        await self._echo("MESSAGE_DELETE", message)

    async def _typing(self, call: _Call) -> web.Response:
        self._channel_of(call)
        return _no_content()

    async def _put_reaction(self, call: _Call) -> web.Response:
        message = self._message_of(call)
        emoji = call.params["emoji"]
        reactions = message.setdefault("reactions", [])
        existing = next((r for r in reactions if r["emoji"].get("name") == emoji), None)
        if existing is None:
            reactions.append({"emoji": {"id": None, "name": emoji}, "count": 1, "me": True})
        elif not existing["me"]:
            existing["me"] = True
            existing["count"] += 1
        self._notify()
        return _no_content()

    async def _delete_reaction(self, call: _Call) -> web.Response:
        message = self._message_of(call)
        for reaction in message.get("reactions", []):
            if reaction["emoji"].get("name") == call.params["emoji"] and reaction["me"]:
                reaction["me"] = False
                reaction["count"] -= 1
        message["reactions"] = [r for r in message.get("reactions", []) if r["count"] > 0]
        self._notify()
        return _no_content()

    def _guild_of(self, call: _Call) -> JSON:
        guild = self.guilds.get(call.params["guild_id"])
        if guild is None:
            raise _ApiError(404, 10004, "Unknown Guild")
        return guild

    async def _get_guild(self, call: _Call) -> web.Response:
        guild = self._guild_of(call)
        return _json_response({k: v for k, v in guild.items() if k not in ("channels", "members")})

    async def _get_guild_channels(self, call: _Call) -> web.Response:
        return _json_response(self._guild_of(call).get("channels", []))

    async def _get_member(self, call: _Call) -> web.Response:
        guild = self._guild_of(call)
        member = self.member(guild["id"], call.params["user_id"])
        if member is None:
            raise _ApiError(404, 10007, "Unknown Member")
        return _json_response(member)
