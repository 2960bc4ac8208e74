"""Interactions, both ways: a test dispatches slash commands, autocomplete, component clicks and modal
submissions (`slash_command`, `autocomplete`, `click`, `select`, `submit_modal`), and the bot answers through the
interaction callback and webhook routes, where the twin enforces the 3 s deadline, exactly one initial callback,
a callback type that suits the interaction, and no follow-up before the callback.

`InteractionsMixin` is one of the parts `DiscordTwin` (server.py) is made of."""

from __future__ import annotations

import asyncio
import copy
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from .protocol import (
    ALLOWED_CALLBACKS,
    ATTACHMENT_SIZE_LIMIT,
    EVERYONE_PERMISSIONS,
    JSON,
    MESSAGE_FLAG_EPHEMERAL,
    MESSAGE_FLAG_LOADING,
    CallbackType,
    InteractionType,
    TwinError,
    _id_of,
    new_snowflake,
)
from .records import InteractionRecord, RecordedFile
from .rest import _Call, _json_response, _no_content
from .validation import _ApiError, _invalid_form, iter_components

log = logging.getLogger(__name__)


class InteractionsMixin:
    """Dispatching interactions and answering the bot's interaction callbacks and webhooks."""

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
                raise TwinError(f"option {name!r}: give an attachment as a dict with filename (and size or data)")
            attachment_id = str(value.get("id") or new_snowflake())
            data = value.get("data")
            if data is not None:  # served at the attachment's url, as Discord's CDN serves an upload
                self.attachment_files[attachment_id] = bytes(data)
            attachment = {
                "id": attachment_id,
                "filename": value["filename"],
                "size": int(value.get("size", len(data) if data is not None else 0)),
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
