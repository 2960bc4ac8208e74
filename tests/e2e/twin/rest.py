"""The HTTP side: the route table (`_install_routes`; a route not listed answers 404 and counts as a violation),
reading bodies (JSON and multipart), authentication, validating each request (validation.py) and recording it,
and the simple REST routes: users, the application, GET /gateway, application commands (sync).

Interaction callbacks and webhooks are in interactions.py, channels and messages in messages.py.
`RestMixin` is one of the parts `DiscordTwin` (server.py) is made of."""

from __future__ import annotations

import copy
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from .protocol import API_PREFIX, JSON, JSON_CONTENT_TYPE, _dumps, new_snowflake
from .records import RecordedFile, RecordedRequest
from .validation import _ApiError, _invalid_form, _template_regex, message_rule_problems

log = logging.getLogger(__name__)


Handler = Callable[["_Call"], Awaitable[web.StreamResponse]]


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


class RestMixin:
    """Routing, validation and the simple REST routes of DiscordTwin."""

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
        self._install_forum_routes()  # forums.py: thread edits, threads opened on messages

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
        fault = self._fault_for(request.method, route.template)  # faults.py: an error the test injected
        if fault is not None and not fault.handled:
            return self._injected(fault, record)
        authorization = request.headers.get("Authorization", "")
        if route.auth and authorization.removeprefix("Bot ") in self.revoked_tokens:
            raise _ApiError(401, 0, "401: Unauthorized")  # a token reset by the test (faults.py), not a bot bug
        if route.auth and authorization != f"Bot {self.token}":
            raise _ApiError(401, 0, "401: Unauthorized", rule="unauthorized", detail="missing or wrong bot token")
        if parse_error is not None:
            raise _ApiError(
                400, 50109, "The request body contains invalid JSON.", rule="invalid_json", detail=parse_error
            )
        self._validate(request.method, record, route)
        response = await route.handler(_Call(request, request.method, record.path, params, record.body, record))
        if fault is not None:  # handled: the request took effect, its answer is lost
            return self._injected(fault, record)
        return response

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
                "team": self._application_team_payload(),
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

    def _application_team_payload(self) -> JSON | None:
        if not self.application_team:
            return None
        team_id = new_snowflake()
        members = [
            {
                "membership_state": 2,
                "team_id": team_id,
                "user": {k: v for k, v in member.items() if k != "role"},
                "role": member.get("role", "developer"),
                "permissions": ["*"],
            }
            for member in self.application_team
        ]
        return {
            "id": team_id,
            "name": "Twin Team",
            "icon": None,
            "owner_user_id": self.default_user["id"],
            "members": members,
        }

    async def _get_gateway(self, call: _Call) -> web.Response:
        return _json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, call: _Call) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return _json_response({"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limit})

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
