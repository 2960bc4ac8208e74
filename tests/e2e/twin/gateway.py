"""The gateway: HELLO, IDENTIFY, READY and GUILD_CREATE, heartbeats, RESUME with replay of missed events,
INVALID_SESSION and reconnect requests, GUILD_MEMBERS_CHUNK, zlib-stream / zstd-stream compression, dispatching
events (`DiscordTwin.dispatch`) and dropping the connection on purpose (`drop_gateway`).

`GatewayMixin` is one of the parts `DiscordTwin` (server.py) is made of."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSMsgType, web

try:  # discord.py negotiates zstd-stream only when this package is importable (Python < 3.14).
    import zstandard  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None

from .protocol import API_VERSION, GATEWAY_PATH, JSON, Intent, TwinError, _dumps

log = logging.getLogger(__name__)


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
        self.zombie = False  # faults.py: open but silent (no heartbeat ACKs, no dispatches)
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
    shard_id: int = 0
    # Held while a dispatch is numbered and sent: one shard's events go out in order, shards in parallel.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


DropMode = Literal["abort", "close", "reconnect", "invalidate"]


class GatewayMixin:
    """The gateway side of DiscordTwin."""

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
                self._update_ready()
            log.info("gateway connection #%d closed (code %s)", conn.number, ws.close_code)
            self._notify()
        return ws

    async def _on_gateway_payload(self, conn: _GatewayConnection, payload: Mapping[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == 1:
            self.heartbeat_count += 1
            if not conn.zombie:
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
        if intents & Intent.MESSAGE_CONTENT and not self.message_content_allowed:
            # Not a violation: asking is how a bot learns the intent is not enabled in the Developer Portal.
            log.info("IDENTIFY asks for MESSAGE_CONTENT, which the application may not use: closing with 4014")
            self.refused_intents_count += 1
            await conn.close(4014, "Disallowed intent(s).")
            return
        shard = data.get("shard")
        if shard is None and self.shard_count > 1:
            self._violate(
                "gateway_sharding", f"IDENTIFY without a shard; {self.shard_count} required", "WS", GATEWAY_PATH
            )
            await conn.close(4011, "Sharding required.")
            return
        if shard is not None and not (
            isinstance(shard, list)
            and len(shard) == 2
            and all(isinstance(n, int) for n in shard)
            and shard[1] == self.shard_count
            and 0 <= shard[0] < shard[1]
        ):
            self._violate(
                "gateway_sharding",
                f"IDENTIFY with shard {shard!r}; shard count is {self.shard_count}",
                "WS",
                GATEWAY_PATH,
            )
            await conn.close(4010, "Invalid shard.")
            return
        shard_id = shard[0] if shard is not None else 0
        identify = {k: v for k, v in data.items() if k != "token"}
        self.identify_payloads.append(identify)
        session = _GatewaySession(secrets.token_hex(16), self.token, intents, identify, shard_id=shard_id)
        self.identify_count += 1
        guilds = [guild for gid, guild in self.guilds.items() if self.shard_for(gid) == shard_id]
        ready: JSON = {
            "v": API_VERSION,
            "user": self.bot_user,
            "guilds": [{"id": guild["id"], "unavailable": True} for guild in guilds],
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
        if shard is not None:
            ready["shard"] = shard
        async with session.lock:  # nothing may slip in before READY (s=1) and the GUILD_CREATEs
            self._sessions[session.session_id] = session
            self._session = session
            self._shard_sessions[shard_id] = session
            conn.session = session
            session.connection = conn
            await self._dispatch_locked(session, "READY", ready)
            for guild in guilds:
                await self._dispatch_locked(session, "GUILD_CREATE", self._guild_create_payload(guild, intents))
        log.info("bot identified: session %s, shard %d, intents %d", session.session_id, shard_id, intents)
        self._update_ready()
        self._notify()

    async def _on_resume(self, conn: _GatewayConnection, data: Mapping[str, Any]) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or not self.resumable or data.get("token") != session.token:
            self.invalid_session_count += 1
            log.info("RESUME refused (session %s): INVALID_SESSION", data.get("session_id"))
            await conn.send({"op": 9, "d": False})
            return
        seq = data.get("seq") if isinstance(data.get("seq"), int) else 0
        async with session.lock:
            old = session.connection
            if old is not None and old is not conn:
                self._track(old.close(4000, "Session resumed elsewhere."))
            conn.session = session
            replay = [frame for frame in session.frames if frame["s"] > seq]
            for frame in replay:
                await conn.send(frame)
            session.connection = conn
            self._session = session
            self._shard_sessions[session.shard_id] = session
            await self._dispatch_locked(session, "RESUMED", {"_trace": ["discord-twin"]})
        self.resume_count += 1
        log.info("session %s resumed from seq %s, replayed %d dispatches", session.session_id, seq, len(replay))
        self._update_ready()
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
        # GATEWAY_GUILD_MEMBERS_LIMITED | GATEWAY_MESSAGE_CONTENT_LIMITED (when allowed) | APPLICATION_COMMAND_BADGE
        return (1 << 15) | ((1 << 19) if self.message_content_allowed else 0) | (1 << 23)

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
                "threads": self._active_threads(guild["id"]),
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        return payload

    def shard_for(self, guild_id: str | int | None) -> int:
        """The shard Discord sends a guild's events to: ``(guild_id >> 22) % shard_count``; DMs (no guild) go to
        shard 0."""
        return 0 if guild_id is None else (int(guild_id) >> 22) % self.shard_count

    def _update_ready(self) -> None:
        """Ready when every shard has a session on a live connection."""
        live = all(
            (s := self._shard_sessions.get(shard)) is not None and s.connection is not None
            for shard in range(self.shard_count)
        )
        if live:
            self._ready.set()
        else:
            self._ready.clear()

    def shard_ready(self, shard_id: int) -> bool:
        """Whether shard `shard_id` has a session on a live connection."""
        session = self._shard_sessions.get(shard_id)
        return session is not None and session.connection is not None

    async def dispatch(self, event: str, data: JSON) -> int:
        """Send a DISPATCH (op 0) on the session of the shard the event belongs to (its guild's shard; shard 0
        without a guild); buffered for RESUME replay if that shard is disconnected.

        Returns the sequence number.  Usable directly for events the twin has no helper for.
        """
        guild_id = data.get("guild_id")
        if guild_id is None and event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"):
            guild_id = data.get("id")
        shard_id = self.shard_for(guild_id)
        session = self._shard_sessions.get(shard_id)
        if session is None:
            raise TwinError(f"cannot dispatch {event}: shard {shard_id} has not identified on the gateway")
        async with session.lock:
            return await self._dispatch_locked(session, event, data)

    async def _dispatch_locked(self, session: _GatewaySession, event: str, data: JSON) -> int:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.frames.append(frame)
        conn = session.connection
        if conn is None or not await conn.send(frame):
            log.info("gateway down: %s (s=%d) buffered for replay", event, session.seq)
        return session.seq

    def drop_gateway(self, mode: DropMode = "abort", *, shard_id: int | None = None) -> asyncio.Task[None]:
        """Disconnect the bot's gateway connection so a test can prove it comes back.

        * ``abort`` - reset the TCP connection without a close frame (network failure); the bot RESUMEs.
        * ``close`` - close frame with code 4000; the bot RESUMEs.
        * ``reconnect`` - send op 7 RECONNECT; the bot closes and RESUMEs.
        * ``invalidate`` - send op 9 INVALID_SESSION (not resumable); the bot IDENTIFYs again (new session).

        Dispatches made while the bot is away are replayed on RESUME.  Returns a task (awaiting it is optional)
        that finishes once the connection has been dealt with; then ``await twin.wait_until_ready()``.
        ``shard_id`` picks the shard's connection (default: the latest session's).
        """
        session = self._session if shard_id is None else self._shard_sessions.get(shard_id)
        conn = session.connection if session is not None else None
        if session is None or conn is None:
            raise TwinError("no live gateway connection to drop")
        self.drop_count += 1
        self._ready.clear()  # set again when the shard is back (_update_ready)
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
                async with session.lock:
                    await conn.send({"op": 7, "d": None})
                    session.connection = None
            elif mode == "invalidate":
                async with session.lock:
                    self._sessions.pop(session.session_id, None)
                    await conn.send({"op": 9, "d": False})
                    session.connection = None
            else:
                raise ValueError(f"unknown drop mode {mode!r}")
            self._notify()

        return self._track(drop())
