"""Forum channels (type 15) and threads (type 11), both ways.

A test builds forums with tags (`make_forum_channel`, `make_forum_tag`) and permission overwrites
(`make_overwrite`), then drives what people do: open a forum post (`forum_post`: THREAD_CREATE with
``newly_created`` and the starter message's MESSAGE_CREATE, whose id is the thread's, in either order), write in a
thread (`thread_message`), open a thread on a message (`user_thread`), edit or delete a message, lock, archive or
delete a thread, change a forum's tags or a channel's overwrites (CHANNEL_UPDATE). The GUILDS intent gates the
thread and channel events; messages follow the rules of `guild_message` (GUILD_MESSAGES, MESSAGE_CONTENT).

The bot's side: sending in a thread (the channel message route, which asks `_check_thread_post`: Send Messages in
Threads, a locked thread, a deleted one), editing a thread (PATCH /channels/{id}: name, archived, locked,
applied_tags, which must be tags of its forum, at most 5, and need Manage Threads on another's post), and opening
a thread on a message (POST /channels/{id}/messages/{id}/threads: Create Public Threads, one thread per message).
Permissions are Discord's: the member's roles, then the channel's overwrites for @everyone, its roles and the
member (a thread takes its forum's). A request Discord would refuse for a permission or a lock the bot could see
in its cache is a violation; a post deleted under the bot is an ordinary 404.

`ForumsMixin` is one of the parts `DiscordTwin` (server.py) is made of.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aiohttp import web

from .protocol import (
    _P_ADMINISTRATOR,
    _P_ALL,
    _P_VIEW_CHANNEL,
    JSON,
    Intent,
    TwinError,
    _id_of,
    _now_iso,
    new_snowflake,
)
from .rest import _Call, _json_response
from .validation import _ApiError, discord_error_tree

log = logging.getLogger(__name__)

P_CREATE_PUBLIC_THREADS = 1 << 35
P_MANAGE_THREADS = 1 << 34
P_SEND_MESSAGES_IN_THREADS = 1 << 38
P_ADD_REACTIONS = 1 << 6
P_READ_MESSAGE_HISTORY = 1 << 16

CHANNEL_FORUM = 15
CHANNEL_PUBLIC_THREAD = 11
THREAD_TYPES = (10, 11, 12)
MAX_APPLIED_TAGS = 5


# --------------------------------------------------------------------------------------------------------------------
# Builders


def make_forum_tag(name: str, *, emoji: str | None = None, moderated: bool = False, tag_id: str | None = None) -> JSON:
    """A forum tag as Discord sends it in ``available_tags``."""
    return {
        "id": tag_id or new_snowflake(),
        "name": name,
        "moderated": moderated,
        "emoji_id": None,
        "emoji_name": emoji,
    }


def make_overwrite(target: Mapping[str, Any] | str, *, member: bool = False, allow: int = 0, deny: int = 0) -> JSON:
    """A permission overwrite for a role (default) or a member (``member=True``)."""
    return {"id": _id_of(target), "type": 1 if member else 0, "allow": str(allow), "deny": str(deny)}


def make_forum_channel(
    name: str,
    *,
    guild_id: str,
    channel_id: str | None = None,
    tags: Sequence[JSON | str] = ("Solved",),
    position: int = 0,
    overwrites: Iterable[JSON] = (),
) -> JSON:
    """A forum channel (type 15); ``tags`` are tag payloads or names."""
    return {
        "id": channel_id or new_snowflake(),
        "type": CHANNEL_FORUM,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "permission_overwrites": [dict(o) for o in overwrites],
        "topic": None,
        "nsfw": False,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": None,
        "flags": 0,
        "available_tags": [make_forum_tag(t) if isinstance(t, str) else dict(t) for t in tags],
        "default_reaction_emoji": None,
        "default_thread_rate_limit_per_user": 0,
        "default_sort_order": None,
        "default_forum_layout": 0,
        "default_auto_archive_duration": 4320,
    }


def make_thread(
    name: str, *, parent: Mapping[str, Any], owner: Mapping[str, Any] | str, thread_id: str | None = None
) -> JSON:
    """A public thread (type 11) of a forum or text channel."""
    now = _now_iso()
    return {
        "id": thread_id or new_snowflake(),
        "type": CHANNEL_PUBLIC_THREAD,
        "guild_id": parent["guild_id"],
        "parent_id": parent["id"],
        "owner_id": _id_of(owner),
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "flags": 0,
        "applied_tags": [],
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": parent.get("default_auto_archive_duration") or 4320,
            "archive_timestamp": now,
            "locked": False,
            "create_timestamp": now,
        },
    }


class ForumsMixin:
    """Forums and threads: driving them and the bot's routes on them."""

    # ------------------------------------------------------------------ world building and queries

    def add_channel(self, channel: JSON) -> JSON:
        """Add a channel (text, forum) to its guild before the bot starts (or announce it with CHANNEL_CREATE
        when a session is live: use `create_channel`)."""
        guild = self.guilds[channel["guild_id"]]
        guild["channels"].append(channel)
        self.channels[channel["id"]] = channel
        return channel

    async def create_channel(self, channel: JSON) -> JSON:
        """Add a channel while the bot runs (CHANNEL_CREATE)."""
        self.add_channel(channel)
        await self._guild_event("CHANNEL_CREATE", copy.deepcopy(channel))
        return channel

    def threads(self, parent_id: str | None = None) -> list[JSON]:
        """Threads (copies), of one parent channel or all, oldest first."""
        found = [c for c in self.channels.values() if c.get("type") in THREAD_TYPES]
        if parent_id is not None:
            found = [c for c in found if c.get("parent_id") == str(parent_id)]
        return [copy.deepcopy(c) for c in sorted(found, key=lambda c: int(c["id"]))]

    def _active_threads(self, guild_id: str) -> list[JSON]:
        """What GUILD_CREATE lists in ``threads``: the guild's threads that are not archived."""
        return [
            copy.deepcopy(c)
            for c in self.channels.values()
            if c.get("type") in THREAD_TYPES and c.get("guild_id") == guild_id and not c["thread_metadata"]["archived"]
        ]

    def channel_permissions(self, channel_id: str, user_id: str) -> int:
        """A member's permissions in a channel, as Discord computes them: guild roles, then the channel's
        overwrites (@everyone, the member's roles, the member); a thread uses its parent's overwrites."""
        channel = self.channels[str(channel_id)]
        if channel.get("type") in THREAD_TYPES:
            channel = self.channels[channel["parent_id"]]
        guild_id = channel["guild_id"]
        value = self.member_permissions(guild_id, user_id)
        if value & _P_ADMINISTRATOR:
            return _P_ALL
        member = self.member(guild_id, user_id)
        roles = set(member["roles"]) if member else set()
        overwrites = {o["id"]: o for o in channel.get("permission_overwrites", [])}
        everyone = overwrites.get(guild_id)
        if everyone is not None:
            value = (value & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for overwrite in overwrites.values():
            if overwrite["type"] == 0 and overwrite["id"] in roles:
                allow |= int(overwrite["allow"])
                deny |= int(overwrite["deny"])
        value = (value & ~deny) | allow
        own = overwrites.get(str(user_id))
        if own is not None and own["type"] == 1:
            value = (value & ~int(own["deny"])) | int(own["allow"])
        return value if value & _P_VIEW_CHANNEL else 0

    # ------------------------------------------------------------------ driving: what people do

    async def forum_post(
        self,
        forum_id: str,
        user: Mapping[str, Any] | str | None,
        title: str,
        content: str = "",
        *,
        tags: Sequence[str] = (),
        attachments: Sequence[Mapping[str, Any]] = (),
        embeds: Sequence[Mapping[str, Any]] = (),
        mentions: Sequence[Mapping[str, Any] | str] = (),
        starter_first: bool = False,
        locked: bool = False,
    ) -> str:
        """Someone opens a post in a forum: THREAD_CREATE (``newly_created``) then the starter message's
        MESSAGE_CREATE (its id is the thread's), or the message first with ``starter_first``. ``tags`` are tag
        names of the forum; ``attachments`` are dicts with a filename. Returns the thread id."""
        forum = self.channels.get(str(forum_id))
        if forum is None or forum.get("type") != CHANNEL_FORUM:
            raise TwinError(f"{forum_id} is not a forum channel")
        author = self._user(user)
        self.add_member(forum["guild_id"], author)
        thread = make_thread(title, parent=forum, owner=author)
        by_name = {t["name"]: t["id"] for t in forum["available_tags"]}
        try:
            thread["applied_tags"] = [by_name[name] for name in tags]
        except KeyError as exc:
            raise TwinError(f"forum {forum['name']} has no tag {exc}") from None
        thread["thread_metadata"]["locked"] = locked
        mentioned = [self._user(m) for m in mentions]
        starter = self._new_message(thread, author, content, mentions=mentioned)
        starter["id"] = thread["id"]
        starter["position"] = 0
        starter["attachments"] = [self._user_attachment(a) for a in attachments]
        starter["embeds"] = [{"type": "rich", **e} for e in embeds]
        thread["message_count"] = thread["total_message_sent"] = 1
        thread["last_message_id"] = starter["id"]
        self.channels[thread["id"]] = thread
        forum["last_message_id"] = thread["id"]
        self._store_message(starter)
        created = {**copy.deepcopy(thread), "newly_created": True}
        if starter_first:
            await self._dispatch_user_message(starter, mentioned)
            await self._guild_event("THREAD_CREATE", created)
        else:
            await self._guild_event("THREAD_CREATE", created)
            await self._dispatch_user_message(starter, mentioned)
        return thread["id"]

    async def thread_message(
        self, thread_id: str, user: Mapping[str, Any] | str | None, content: str, **options: Any
    ) -> str:
        """Someone writes in a thread (MESSAGE_CREATE, the rules of `guild_message`); returns the message id."""
        thread = self._thread(thread_id)
        message_id = await self.guild_message(thread["id"], user, content, **options)
        thread["message_count"] += 1
        thread["total_message_sent"] += 1
        thread["last_message_id"] = message_id
        return message_id

    async def user_thread(self, message_id: str, user: Mapping[str, Any] | str | None, name: str) -> str:
        """Someone opens a thread on a message of a text channel (THREAD_CREATE); returns its id (the
        message's)."""
        message = self.messages[str(message_id)]
        author = self._user(user)
        channel = self.channels[message["channel_id"]]
        thread = make_thread(name, parent=channel, owner=author, thread_id=message["id"])
        self.channels[thread["id"]] = thread
        message["thread"] = copy.deepcopy(thread)
        await self._guild_event("THREAD_CREATE", {**copy.deepcopy(thread), "newly_created": True})
        return thread["id"]

    async def edit_user_message(self, message_id: str, content: str) -> None:
        """A person edits their message (MESSAGE_UPDATE with the new content)."""
        message = self.messages[str(message_id)]
        message["content"] = content
        message["edited_timestamp"] = _now_iso()
        self._notify()
        if self._has_intent(Intent.GUILD_MESSAGES):
            event = copy.deepcopy(message)
            if not self._has_intent(Intent.MESSAGE_CONTENT):
                event.update({"content": "", "embeds": [], "attachments": [], "components": []})
            await self.dispatch("MESSAGE_UPDATE", event)

    async def delete_user_message(self, message_id: str) -> None:
        """A message disappears (its author or a moderator deleted it): MESSAGE_DELETE."""
        message = self.messages.get(str(message_id))
        if message is None:
            raise TwinError(f"unknown or deleted message {message_id}")
        await self._remove_message(message)

    async def delete_thread(self, thread_id: str) -> None:
        """A post (thread) is deleted with its messages: THREAD_DELETE."""
        thread = self._thread(thread_id)
        self.channels.pop(thread["id"], None)
        for message_id in self._channel_order.get(thread["id"], []):
            if self.messages.pop(message_id, None) is not None:
                self.deleted_message_ids.append(message_id)
        self._notify()
        data = {k: thread[k] for k in ("id", "guild_id", "parent_id", "type")}
        await self._guild_event("THREAD_DELETE", data)

    async def update_thread(
        self,
        thread_id: str,
        *,
        locked: bool | None = None,
        archived: bool | None = None,
        name: str | None = None,
    ) -> None:
        """A moderator locks, archives or renames a thread: THREAD_UPDATE."""
        thread = self._thread(thread_id)
        meta = thread["thread_metadata"]
        if locked is not None:
            meta["locked"] = locked
        if archived is not None:
            meta["archived"] = archived
            meta["archive_timestamp"] = _now_iso()
        if name is not None:
            thread["name"] = name
        self._notify()
        await self._guild_event("THREAD_UPDATE", copy.deepcopy(thread))

    async def set_forum_tags(self, forum_id: str, tags: Sequence[JSON | str]) -> list[JSON]:
        """A moderator changes a forum's tags (CHANNEL_UPDATE); returns the new ``available_tags``."""
        forum = self.channels[str(forum_id)]
        forum["available_tags"] = [make_forum_tag(t) if isinstance(t, str) else dict(t) for t in tags]
        await self._guild_event("CHANNEL_UPDATE", copy.deepcopy(forum))
        return copy.deepcopy(forum["available_tags"])

    async def set_overwrite(
        self, channel_id: str, target: Mapping[str, Any] | str, *, member: bool = False, allow: int = 0, deny: int = 0
    ) -> None:
        """Set (replace) one permission overwrite of a channel (CHANNEL_UPDATE)."""
        channel = self.channels[str(channel_id)]
        overwrite = make_overwrite(target, member=member, allow=allow, deny=deny)
        kept = [o for o in channel.get("permission_overwrites", []) if o["id"] != overwrite["id"]]
        channel["permission_overwrites"] = [*kept, overwrite]
        await self._guild_event("CHANNEL_UPDATE", copy.deepcopy(channel))

    def _thread(self, thread_id: str) -> JSON:
        thread = self.channels.get(str(thread_id))
        if thread is None or thread.get("type") not in THREAD_TYPES:
            raise TwinError(f"unknown thread {thread_id}")
        return thread

    def _user_attachment(self, spec: Mapping[str, Any]) -> JSON:
        attachment_id = new_snowflake()
        name = str(spec.get("filename", "image.png"))
        return {
            "id": attachment_id,
            "filename": name,
            "size": int(spec.get("size", 1024)),
            "content_type": spec.get("content_type", "image/png"),
            "url": f"{self.base_url}/attachments/{attachment_id}/{name}",
            "proxy_url": f"{self.base_url}/attachments/{attachment_id}/{name}",
        }

    async def _guild_event(self, event: str, data: JSON) -> None:
        """Channel and thread events need the GUILDS intent."""
        if self._session is None:
            return
        if not self._has_intent(Intent.GUILDS):
            log.warning("bot lacks the GUILDS intent: %s not dispatched", event)
            return
        await self.dispatch(event, data)

    async def _dispatch_user_message(self, message: JSON, mentioned: Sequence[JSON]) -> None:
        """MESSAGE_CREATE for a person's guild message, by the rules of `guild_message`."""
        if not self._has_intent(Intent.GUILD_MESSAGES):
            log.warning("bot lacks the GUILD_MESSAGES intent: message %s not dispatched", message["id"])
            return
        event = copy.deepcopy(message)
        if not any(m["id"] == self.bot_user["id"] for m in mentioned) and not self._has_intent(Intent.MESSAGE_CONTENT):
            event.update({"content": "", "embeds": [], "attachments": [], "components": []})
        await self.dispatch("MESSAGE_CREATE", event)

    # ------------------------------------------------------------------ REST: the bot on threads

    def _check_thread_post(self, channel: JSON) -> None:
        """Called by the channel message route before the bot posts in `channel`."""
        if channel.get("type") not in THREAD_TYPES:
            return
        bot_id = self.bot_user["id"]
        permissions = self.channel_permissions(channel["id"], bot_id)
        if not permissions & P_SEND_MESSAGES_IN_THREADS:
            raise _ApiError(
                403,
                50013,
                "Missing Permissions",
                rule="missing_permission",
                detail=f"Send Messages in Threads is not granted in thread {channel['id']}",
            )
        meta = channel["thread_metadata"]
        if meta["locked"] and not permissions & P_MANAGE_THREADS:
            raise _ApiError(
                403, 50083, "Thread is locked", rule="locked_thread", detail=f"thread {channel['id']} is locked"
            )
        meta["archived"] = False  # a message unarchives a thread that is not locked
        channel["message_count"] += 1
        channel["total_message_sent"] += 1

    async def _patch_channel(self, call: _Call) -> web.Response:
        channel = self._channel_of(call)
        body = call.json_body
        if channel.get("type") not in THREAD_TYPES:
            raise _ApiError(403, 50013, "Missing Permissions", rule="unsupported_channel_edit",
                            detail="the twin only lets the bot edit threads")  # fmt: skip
        permissions = self.channel_permissions(channel["id"], self.bot_user["id"])
        own = channel["owner_id"] == self.bot_user["id"]
        if not own and not permissions & P_MANAGE_THREADS:
            raise _ApiError(
                403,
                50013,
                "Missing Permissions",
                rule="missing_permission",
                detail=f"Manage Threads is needed to edit thread {channel['id']}, which another user owns",
            )
        if "applied_tags" in body and body["applied_tags"] is not None:
            parent = self.channels.get(channel["parent_id"], {})
            known = {t["id"] for t in parent.get("available_tags", [])}
            tags = [str(t) for t in body["applied_tags"]]
            unknown = [t for t in tags if t not in known]
            if unknown or len(tags) > MAX_APPLIED_TAGS:
                problem = (("applied_tags",), "BASE_TYPE_CHOICES", f"unknown or too many tags: {unknown or tags}")
                raise _ApiError(400, 50035, "Invalid Form Body", rule="unknown_tag", detail=problem[2],
                                errors=discord_error_tree([problem]))  # fmt: skip
            channel["applied_tags"] = tags
        meta = channel["thread_metadata"]
        for key in ("archived", "locked"):
            if body.get(key) is not None:
                meta[key] = bool(body[key])
        if body.get("name"):
            channel["name"] = body["name"]
        self._notify()
        await self._guild_event("THREAD_UPDATE", copy.deepcopy(channel))
        call.record.response = copy.deepcopy(channel)
        return _json_response(channel)

    async def _start_thread_from_message(self, call: _Call) -> web.Response:
        channel = self._channel_of(call)
        message = self._message_of(call)
        if channel.get("type") != 0:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        permissions = self.channel_permissions(channel["id"], self.bot_user["id"])
        if not permissions & P_CREATE_PUBLIC_THREADS:
            raise _ApiError(
                403,
                50013,
                "Missing Permissions",
                rule="missing_permission",
                detail=f"Create Public Threads is not granted in channel {channel['id']}",
            )
        if message["id"] in self.channels:
            raise _ApiError(400, 160004, "A thread has already been created for this message")
        body = call.json_body
        thread = make_thread(str(body.get("name")), parent=channel, owner=self.bot_user, thread_id=message["id"])
        if body.get("auto_archive_duration"):
            thread["thread_metadata"]["auto_archive_duration"] = int(body["auto_archive_duration"])
        self.channels[thread["id"]] = thread
        message["thread"] = copy.deepcopy(thread)
        self._notify()
        await self._guild_event("THREAD_CREATE", {**copy.deepcopy(thread), "newly_created": True})
        call.record.response = copy.deepcopy(thread)
        return _json_response(thread, 201)

    def _install_forum_routes(self) -> None:
        r = self._route
        r("PATCH", "/channels/{channel_id}", self._patch_channel)
        r("POST", "/channels/{channel_id}/messages/{message_id}/threads", self._start_thread_from_message)
