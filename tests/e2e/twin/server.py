"""`DiscordTwin`: the aiohttp server that puts the parts together (state, gateway, interactions, messages, REST),
its construction, `start` / `close`, and `run_bot`, which points a discord.py client at it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import discord
import yarl
from aiohttp import web
from discord.gateway import DiscordWebSocket

from .builders import make_guild, make_user
from .faults import Fault, FaultsMixin
from .forums import ForumsMixin
from .gateway import GatewayMixin, _GatewayConnection, _GatewaySession
from .interactions import InteractionsMixin
from .messages import MessagesMixin
from .protocol import (
    ACK_DEADLINE_SECONDS,
    API_PREFIX,
    GATEWAY_PATH,
    HEARTBEAT_INTERVAL_MS,
    JSON,
    TwinError,
    make_bot_token,
)
from .records import InteractionRecord, RecordedRequest, Violation
from .rest import RestMixin, _Route
from .state import TwinState
from .validation import SpecValidator, resolve_spec_path

log = logging.getLogger(__name__)


BotRunner = Callable[..., Awaitable[Any]]
"""Type of the ``run_bot`` fixture: ``await run_bot(bot, *, token=None, ready_timeout=10.0, fast_ready=True)``."""

ClientT = TypeVar("ClientT", bound=discord.Client)


# --------------------------------------------------------------------------------------------------------------------
# The twin


class DiscordTwin(TwinState, GatewayMixin, InteractionsMixin, MessagesMixin, ForumsMixin, RestMixin, FaultsMixin):
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
        shard_count: the shards the bot must run (GET /gateway/bot recommends it; an IDENTIFY must carry
            ``[shard_id, shard_count]`` when it is above 1). Each shard is a session of its own, possibly from
            another process; guild events go to shard ``(guild_id >> 22) % shard_count`` and DMs to shard 0, as
            Discord does.
        message_content_allowed: whether the application may use the privileged Message Content intent (enabled
            in the Developer Portal). When False, an IDENTIFY asking for it is closed with 4014, as on Discord.
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
        shard_count: int = 1,
        message_content_allowed: bool = True,
    ) -> None:
        if shard_count < 1:
            raise ValueError("shard_count must be at least 1")
        self.shard_count = shard_count
        self.bot_user: JSON = make_user(bot_name, bot=True)
        self.application_id: str = self.bot_user["id"]
        self.token: str = make_bot_token(self.bot_user["id"])
        self.ack_deadline = ack_deadline
        self.resumable = resumable
        self.echo_bot_messages = echo_bot_messages
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.message_content_allowed = message_content_allowed
        self.refused_intents_count = 0

        self.violations: list[Violation] = []
        self.faults: list[Fault] = []
        self.revoked_tokens: set[str] = set()
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
        self._session: _GatewaySession | None = None  # the latest session to identify or resume
        self._shard_sessions: dict[int, _GatewaySession] = {}
        self._connections: set[_GatewayConnection] = set()
        self._connection_numbers = itertools.count(1)
        self._ready = asyncio.Event()
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: list[asyncio.TimerHandle] = []
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        # The CDN: bytes of the attachments a test sends with a command (served at their url), and the
        # attachment ids the bot downloaded, in order.
        self.attachment_files: dict[str, bytes] = {}
        self.attachment_downloads: list[str] = []
        # Team members of the application (user payloads with a "role": admin, developer or read_only); with
        # any, GET /applications/@me answers with a team instead of a lone owner, as for a team-owned app.
        self.application_team: list[JSON] = []

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
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._serve_attachment)
        app.router.add_route("*", "/{tail:.*}", self._handle_http)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info("Discord twin listening on %s (gateway %s)", self.base_url, self.gateway_url)

    async def _serve_attachment(self, request: web.Request) -> web.StreamResponse:
        """The CDN (no bot token, as on Discord): an attachment's bytes at its url, 404 for one not given."""
        attachment_id = request.match_info["attachment_id"]
        data = self.attachment_files.get(attachment_id)
        if data is None:
            return web.Response(status=404, text="404: Not Found")
        self.attachment_downloads.append(attachment_id)
        self._notify()
        return web.Response(body=data, content_type="application/octet-stream")

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
