"""Failure injection: Discord answering with an error, per route and per count, and the gateway misbehaving.

A test arms a `Fault` with `DiscordTwin.fail(route, status, ...)`: the next `times` requests that match the route
template (and method), after skipping `after` of them, get the error Discord would send for that status, with its
JSON body (`code`, `message`) and headers. 429s carry `retry_after`, `global` and the rate-limit headers
(`X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket/Scope`, `X-RateLimit-Global`, `Retry-After`, and the `Via`
header without which discord.py takes a 429 for a Cloudflare ban). `handled=True` lets the request take effect and
then answers with the error: the answer was lost on the way back (the case that makes a blind retry post twice).

The gateway side: `reset_token()` (the token was reset in the Developer Portal: REST answers 401 to the old one and
the gateway closes with 4004), `redeliver(interaction_id)` (the same INTERACTION_CREATE delivered twice), and
`zombie()` (the connection stays open but goes silent: heartbeats are not acknowledged and dispatches are held
for the RESUME). Dropped connections, RESUME and INVALID_SESSION are `drop_gateway` (gateway.py).

Injected errors are not violations: `twin.violations` stays about the bot's own mistakes.

`FaultsMixin` is one of the parts `DiscordTwin` (server.py) is made of.
"""

from __future__ import annotations

import copy
import logging
import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web

from .protocol import JSON, JSON_CONTENT_TYPE, TwinError, _dumps, make_bot_token
from .records import RecordedRequest

log = logging.getLogger(__name__)

# What Discord says for each status, unless the test gives a code and message.
_DEFAULT_ERRORS: dict[int, tuple[int, str]] = {
    400: (50035, "Invalid Form Body"),
    401: (0, "401: Unauthorized"),
    403: (50013, "Missing Permissions"),
    404: (10062, "Unknown interaction"),
    429: (0, "You are being rate limited."),
    500: (0, "500: Internal Server Error"),
    502: (0, "502: Bad Gateway"),
    503: (0, "503: Service Unavailable"),
    504: (0, "504: Gateway Timeout"),
}
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
WEBHOOK = "/webhooks/{application_id}/{interaction_token}"
WEBHOOK_MESSAGE = "/webhooks/{application_id}/{interaction_token}/messages/{message_id}"
CHANNEL_MESSAGES = "/channels/{channel_id}/messages"


@dataclass
class Fault:
    """An armed failure. `hits` counts the requests it failed (the test can assert it fired)."""

    template: str
    status: int
    method: str | None = None
    times: int = 1
    after: int = 0
    code: int | None = None
    message: str | None = None
    retry_after: float = 0.2
    is_global: bool = False
    scope: str = "user"
    handled: bool = False
    seen: int = 0
    hits: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)

    def matches(self, method: str, template: str | None) -> bool:
        return template == self.template and (self.method is None or self.method == method)

    @property
    def spent(self) -> bool:
        return self.hits >= self.times

    def body(self) -> JSON:
        default_code, default_message = _DEFAULT_ERRORS.get(self.status, (0, f"{self.status}: Error"))
        body: JSON = {
            "message": self.message if self.message is not None else default_message,
            "code": self.code if self.code is not None else default_code,
        }
        if self.status == 429:
            body.update({"retry_after": self.retry_after, "global": self.is_global})
        return body

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": JSON_CONTENT_TYPE}
        if self.status == 429:
            reset_after = f"{self.retry_after:.3f}"
            headers.update(
                {
                    "Retry-After": str(max(1, round(self.retry_after))),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
                    "X-RateLimit-Reset-After": reset_after,
                    "X-RateLimit-Bucket": secrets.token_hex(8),
                    "X-RateLimit-Scope": "global" if self.is_global else self.scope,
                    "Via": "1.1 google",
                }
            )
            if self.is_global:
                headers["X-RateLimit-Global"] = "true"
        return headers

    def response(self) -> web.Response:
        return web.Response(body=_dumps(self.body()).encode("utf-8"), status=self.status, headers=self.headers())


class FaultsMixin:
    """Failure injection of DiscordTwin."""

    def fail(
        self,
        template: str,
        status: int,
        *,
        method: str | None = None,
        times: int = 1,
        after: int = 0,
        code: int | None = None,
        message: str | None = None,
        retry_after: float = 0.2,
        is_global: bool = False,
        scope: str = "user",
        handled: bool = False,
    ) -> Fault:
        """Answer the next `times` requests to `template` (a route template such as
        ``/channels/{channel_id}/messages``; see `CALLBACK`, `WEBHOOK`, ...) with `status`, after letting `after`
        of them through. `handled`: the request takes effect, then the answer is the error."""
        if not any(route.template == template for route in self._routes):
            raise TwinError(f"no route {template!r}; routes: {sorted({r.template for r in self._routes})}")
        fault = Fault(template, status, method, times, after, code, message, retry_after, is_global, scope, handled)
        self.faults.append(fault)
        return fault

    def _fault_for(self, method: str, template: str | None) -> Fault | None:
        """The armed fault this request trips, if any (counting the requests it let through)."""
        for fault in self.faults:
            if fault.spent or not fault.matches(method, template):
                continue
            fault.seen += 1
            if fault.seen <= fault.after:
                continue
            fault.hits += 1
            return fault
        return None

    def _injected(self, fault: Fault, record: RecordedRequest) -> web.Response:
        fault.requests.append(record)
        record.response = fault.body()
        log.info("injected %d for %s %s (%d/%d)", fault.status, record.method, record.path, fault.hits, fault.times)
        return fault.response()

    # ------------------------------------------------------------------ the token and the gateway

    def reset_token(self) -> str:
        """The bot's token is reset: REST answers 401 to the old one and the gateway closes with 4004
        (Authentication failed). Returns the new token."""
        old = self.token
        self.revoked_tokens.add(old)
        self.token = make_bot_token(self.bot_user["id"])
        for session in self._sessions.values():
            if session.token == old and session.connection is not None:
                self._track(session.connection.close(4004, "Authentication failed."))
        self._sessions = {sid: s for sid, s in self._sessions.items() if s.token != old}
        log.info("bot token reset")
        return self.token

    async def redeliver(self, interaction_id: str) -> int:
        """Dispatch an interaction's INTERACTION_CREATE again, unchanged (same id and token)."""
        record = self._interactions.get(str(interaction_id))
        if record is None:
            raise TwinError(f"unknown interaction {interaction_id}")
        return await self.dispatch("INTERACTION_CREATE", copy.deepcopy(record.payload))

    def zombie(self) -> None:
        """The current gateway connection stays open but goes silent: heartbeats are no longer acknowledged and
        dispatches are held for a RESUME. A client that notices reconnects; this connection stays dead."""
        session = self._session
        conn = session.connection if session is not None else None
        if conn is None:
            raise TwinError("no live gateway connection to make a zombie of")
        conn.zombie = True
        session.connection = None
        self._ready.clear()
        log.info("gateway connection #%d is a zombie now", conn.number)
