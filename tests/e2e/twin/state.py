"""The twin's world and how tests look at it: adding guilds, members and DM channels, permissions, querying
recorded requests, messages and commands, waiting for the bot (`wait_for*`), and recording violations.

`TwinState` is one of the parts `DiscordTwin` (server.py) is made of; the attributes it uses are set in
`DiscordTwin.__init__`."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from .builders import make_dm_channel, make_member, make_role
from .protocol import _P_ADMINISTRATOR, _P_ALL, BOT_ROLE_PERMISSIONS, JSON, MESSAGE_FLAG_EPHEMERAL, TwinError, _id_of
from .records import InteractionRecord, RecordedRequest, Violation

log = logging.getLogger(__name__)

T = TypeVar("T")


class TwinState:
    """World building, queries, waiting and violations (a part of DiscordTwin)."""

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
