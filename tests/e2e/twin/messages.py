"""Messages, both ways: a test sends DMs and guild messages (`dm`, `guild_message`; intents and the
MESSAGE_CONTENT rule decide what the bot receives), and the bot sends, edits and deletes messages, reacts and
types through the channel routes; the bot's own messages are echoed as gateway events, as on Discord.
Also the guild and channel GET routes.

`MessagesMixin` is one of the parts `DiscordTwin` (server.py) is made of."""

from __future__ import annotations

import copy
import itertools
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from .protocol import JSON, MESSAGE_FLAG_EPHEMERAL, MESSAGE_FLAG_LOADING, Intent, TwinError, _now_iso, new_snowflake
from .records import RecordedFile
from .rest import _Call, _json_response, _no_content
from .validation import _ApiError, discord_error_tree, iter_components

log = logging.getLogger(__name__)


class MessagesMixin:
    """Messages driven by tests and the channel, message and guild routes."""

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
        """Newest first, as Discord answers; `after` gives the oldest `limit` messages after that id, `before`
        the newest before it."""
        channel = self._channel_of(call)
        query = call.request.query
        limit = max(1, min(100, int(query.get("limit", "50"))))
        messages = [m for m in self.channel_messages(channel["id"]) if not m.get("flags", 0) & MESSAGE_FLAG_EPHEMERAL]
        if "after" in query:
            later = [m for m in messages if int(m["id"]) > int(query["after"])][:limit]
            return _json_response(list(reversed(later)))
        if "before" in query:
            messages = [m for m in messages if int(m["id"]) < int(query["before"])]
        return _json_response(list(reversed(messages))[:limit])

    async def _post_message(self, call: _Call) -> web.Response:
        channel = self._channel_of(call)
        self._check_thread_post(channel)  # forums.py: permission and lock of a thread
        body = call.json_body
        if (
            not any(body.get(k) for k in ("content", "embeds", "components", "sticker_ids", "poll"))
            and not call.record.files
        ):
            raise _ApiError(400, 50006, "Cannot send an empty message", rule="empty_message", detail="nothing to send")
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Discord returns the message it already created for this nonce (by this author, in the last minutes)
            # instead of creating it again: what makes a retry after a lost answer safe.
            for earlier in reversed(self.channel_messages(channel["id"])):
                if earlier.get("nonce") == str(nonce) and earlier["author"]["id"] == self.bot_user["id"]:
                    call.record.response = earlier
                    return _json_response(earlier)
        message = self._bot_message(channel, body, call.record.files)
        if nonce is not None:
            message["nonce"] = str(nonce)
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
