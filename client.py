"""FootnoteBot: the discord.py client, composed by bot.py with its settings, store and engine, and its command
tree (`FootnoteTree`), which counts every command as work in progress for the graceful shutdown (lifecycle.py)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs import EXTENSIONS
from cogs.cooldown import QuestionCooldown
from cogs.render import NO_MENTIONS, on_app_command_error, reply_privately
from index.engine import Engine
from index.errors import UserFacingError
from index.progress import log_progress
from lifecycle import Lifecycle, ShuttingDown, freeze_long_lived
from store import StoreError
from store.digest import DigestStore

if TYPE_CHECKING:
    from config import Settings
    from store import Store

log = logging.getLogger(__name__)

COMMANDS_HASH_KEY = "commands_hash"
# Every process on one PostgreSQL database hears about a reload here: {"version": ..., "sender": ...}.
RELOAD_CHANNEL = "footnote_reload"


def intents(message_content: bool = False) -> discord.Intents:
    """Default intents: DMs and messages that mention the bot carry their content without the privileged
    Message Content intent. Footnote asks for it only when a help channel is configured (`message_content`):
    reading a forum post or a help channel's question needs the text of messages that do not mention it."""
    chosen = discord.Intents.default()
    chosen.message_content = message_content
    return chosen


class FootnoteTree(app_commands.CommandTree):
    """The command tree of FootnoteBot: counts every command as in flight, refuses new ones while draining."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        lifecycle = getattr(self.client, "lifecycle", None)
        if not isinstance(lifecycle, Lifecycle):
            return True
        if not lifecycle.first_delivery(interaction.id):
            return False  # the same INTERACTION_CREATE again: it is being answered already
        if interaction.type is discord.InteractionType.autocomplete:
            return True
        try:
            lifecycle.adopt(interaction)
        except ShuttingDown as exc:
            try:
                await reply_privately(interaction, str(exc))
            except discord.HTTPException as http_error:
                log.warning("could not refuse interaction %s: %s", interaction.id, http_error)
            return False
        return True


class ZombieWatch:
    """Reconnects a gateway connection that stopped acknowledging heartbeats.

    Discord's rule: a client that gets no HEARTBEAT_ACK between two of its heartbeats holds a "zombie" connection
    and must close it (any code but 1000/1001) and RESUME. discord.py only notices a connection on which nothing
    at all arrives, after `heartbeat_timeout` (60 s); a connection that still delivers events but no ACKs is never
    noticed. This watch reads the HELLO (its heartbeat interval) and every ACK from the `socket_raw_receive` debug
    event, and closes the connection with 4000 when no ACK came for 1.5 intervals: discord.py then resumes, and
    the events Discord held are replayed."""

    def __init__(self, bot: discord.Client) -> None:
        self.bot = bot
        self.interval: float | None = None
        self.last_ack = time.monotonic()
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None

    def received(self, raw: str | bytes | dict[str, Any]) -> None:
        """Every gateway message (discord.py hands the decompressed JSON text). Only short ones can be a HELLO or
        an ACK, so a dispatch is never parsed twice."""
        if isinstance(raw, dict):
            message = raw
        elif len(raw) > 512 or b'"op"' not in (raw.encode() if isinstance(raw, str) else raw):
            return
        else:
            try:
                message = json.loads(raw)
            except ValueError:
                return
        op = message.get("op") if isinstance(message, dict) else None
        if op == 10:  # HELLO: a new connection
            self.interval = float(message["d"]["heartbeat_interval"]) / 1000
            self.last_ack = time.monotonic()
        elif op == 11:
            self.last_ack = time.monotonic()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="footnote-zombie-watch")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.interval / 4) if self.interval else 1.0)
            ws = self.bot.ws
            if self.interval is None or ws is None or not ws.open or self.bot.is_closed():
                continue
            silent = time.monotonic() - self.last_ack
            if silent > 1.5 * self.interval:
                self.reconnects += 1
                log.warning("no heartbeat ACK from Discord for %.1f s (a zombie connection): reconnecting", silent)
                self.last_ack = time.monotonic()  # once per connection
                self.interval = None
                await ws.close(code=4000)


class FootnoteBot(commands.Bot):
    """`extensions` defaults to all of Footnote's cogs; tests pass the ones they exercise. `message_content`: ask
    Discord for the Message Content intent (bot.py does when a help channel is configured)."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        engine: Engine,
        extensions: tuple[str, ...] = EXTENSIONS,
        clock: Callable[[], float] = time.time,
        message_content: bool = False,
        **options: Any,
    ) -> None:
        options.setdefault("intents", intents(message_content))
        options.setdefault("tree_cls", FootnoteTree)  # refuses commands while shutting down, tracks those running
        options.setdefault("enable_debug_events", True)  # socket_raw_receive: the heartbeat ACKs (ZombieWatch)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            allowed_mentions=NO_MENTIONS,
            **options,
        )
        self.settings = settings
        self.store = store
        self.engine = engine
        self.footnote_extensions = extensions
        # Set by the composition root when Discord refused the Message Content intent (close code 4014) and the
        # bot was started again without it; the heartbeat reports it to `footnote doctor`.
        self.message_content_refused = False
        self.clock = clock
        self._reload_lock = asyncio.Lock()
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._listening = contextlib.AsyncExitStack()
        self._background: set[asyncio.Task[Any]] = set()
        self.lifecycle = Lifecycle()
        self.zombie_watch = ZombieWatch(self)
        # One question budget for every way of asking (cogs/cooldown.py), configured once from the settings.
        self.question_cooldown = QuestionCooldown.from_settings(settings)
        # Engine calls run here, one at a time (cogs/engine_thread.py says why).
        self.engine_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="footnote-engine")
        # Set when Discord answered a REST request with 401 while the bot ran: the token was reset or revoked.
        self.token_rejected = False
        self._stopping: asyncio.Task[None] | None = None
        self._watch_for_token_rejection()

    def _watch_for_token_rejection(self) -> None:
        """Discord answers every request with 401 Unauthorized (no error code) once the bot token was reset or
        revoked. The gateway usually closes with 4004 too (bot.py turns that into one clear line); when a REST
        request learns it first, the bot stops the same way instead of failing request after request. Login (before
        READY names the bot user) has its own message, discord.LoginFailure; interaction webhooks use no bot token."""
        request = self.http.request

        async def checked(route: Any, **kwargs: Any) -> Any:
            try:
                return await request(route, **kwargs)
            except discord.HTTPException as exc:
                if exc.status == 401 and not exc.code and self.user is not None and not self.token_rejected:
                    self.token_rejected = True
                    log.info("Discord answered %s %s with 401 Unauthorized: stopping", route.method, route.path)
                    self._stopping = asyncio.get_running_loop().create_task(self.close())  # held: not collected
                raise

        self.http.request = checked  # type: ignore[method-assign]

    async def close(self) -> None:
        self.zombie_watch.stop()
        try:
            await super().close()
        finally:
            for task in self._background:
                task.cancel()
            await self._listening.aclose()
            self.engine_executor.shutdown(wait=False, cancel_futures=True)

    async def on_socket_raw_receive(self, message: str) -> None:
        self.zombie_watch.received(message)

    async def setup_hook(self) -> None:
        self.zombie_watch.start()
        self.tree.error(on_app_command_error)
        await self.listen_for_reloads()
        await self.note_documents()
        for name in self.footnote_extensions:
            try:
                await self.load_extension(name)
            except commands.ExtensionError:
                log.exception("could not load extension %s", name)
        log.info("%s", await self.sync_commands())

    async def note_documents(self) -> None:
        """Record when each document was first seen (the digest's "new documents" come from this)."""
        fingerprints = self.engine.documents.field("fingerprint")  # builds no DocumentInfo (1M passages: 131k)
        try:
            await DigestStore(self.store).note_documents(fingerprints, self.clock())
        except StoreError as exc:
            log.warning("could not record the corpus documents: %s", exc)

    async def listen_for_reloads(self) -> None:
        """Hear the reloads of the other processes on the same database (PostgreSQL LISTEN; a SQLite store has
        no other processes to hear, and each process watches CORPUS_DIR itself)."""
        try:
            shared = await self._listening.enter_async_context(self.store.listen(RELOAD_CHANNEL, self._reload_notice))
        except StoreError as exc:
            log.warning("cannot hear other processes' reloads (%s); each still watches the corpus folder", exc)
            return
        if shared:
            log.info("listening for reloads of other processes on %s", self.store.describe())

    def _reload_notice(self, payload: str) -> None:
        """Another process reloaded (or the listener reconnected, payload ""): load the same index here."""
        try:
            notice = json.loads(payload) if payload else {}
        except ValueError:
            log.warning("ignoring a malformed reload notice: %r", payload[:200])
            return
        if notice.get("sender") == self.instance or notice.get("version") == self.engine.version:
            return
        log.info(
            "reload: %s", f"process {notice['sender']} loaded corpus {notice['version']}" if notice else "catch-up"
        )
        task = asyncio.create_task(self._follow_reload(), name="footnote-follow-reload")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _follow_reload(self) -> None:
        try:
            await self.reload_engine(announce=False)
        except UserFacingError as exc:
            log.warning("%s", exc)

    async def reload_engine(self, *, announce: bool = True) -> str:
        """Rebuild the index off the event loop and swap it in at once; on failure keep the old one. A new
        corpus version is announced to the other processes on the same database (`announce`), which load it
        too (the build lock makes them load the index this process built rather than build it again).
        Returns a one-line summary; raises UserFacingError with the reason when the rebuild failed."""
        async with self._reload_lock:
            old = self.engine
            settings = self.settings
            try:
                new = await asyncio.to_thread(
                    Engine.open,
                    settings.corpus_dir,
                    settings.data_dir,
                    mode=settings.tokenizer_mode,
                    progress=log_progress(log),  # a large rebuild logs a line now and then
                )
            except Exception as exc:  # any failure of a rebuild must leave the running index in place
                log.exception("corpus reload failed; still serving %s", old.version)
                raise UserFacingError(f"Reload failed, still serving corpus {old.version}: {exc}") from exc
            self.engine = new
            freeze_long_lived(collect=False)
            await self.note_documents()
        summary = (
            f"corpus {old.version} → {new.version}: {len(new.documents)} documents, {len(new.passages)} passages"
            if new.version != old.version
            else f"corpus {new.version} unchanged ({len(new.documents)} documents)"
        )
        log.info("reload: %s", summary)
        if announce and new.version != old.version:
            try:
                await self.store.notify(RELOAD_CHANNEL, json.dumps({"version": new.version, "sender": self.instance}))
            except StoreError as exc:
                log.warning("could not tell the other processes about the reload: %s", exc)
        return summary

    async def on_message(self, message: discord.Message) -> None:
        """Footnote has no prefix commands: DMs and mentions are answered by the Ask cog's listener."""

    def command_set_hash(self) -> str:
        payload = sorted((c.to_dict(self.tree) for c in self.tree.get_commands()), key=lambda c: c["name"])
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    async def sync_commands(self, force: bool = False) -> str:
        """Sync to DEV_GUILD_ID at once; globally only when the command set changed (or when forced).
        Returns what was done, for the log and for `footnote sync`."""
        guild_id = self.settings.dev_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            return f"synced {len(synced)} commands to guild {guild_id}"
        digest = self.command_set_hash()
        if not force and await self.store.get_meta(COMMANDS_HASH_KEY) == digest:
            return "global commands unchanged; not synced"
        synced = await self.tree.sync()
        await self.store.set_meta(COMMANDS_HASH_KEY, digest)
        return f"synced {len(synced)} global commands"

    async def on_ready(self) -> None:
        engine = self.engine
        log.info(
            "ready: %s in %d guilds; corpus %s (%d documents, %d passages); commands: %s",
            self.user,
            len(self.guilds),
            engine.version,
            len(engine.documents),
            len(engine.passages),
            ", ".join("/" + c.name for c in self.tree.get_commands()),
        )


class ShardedFootnoteBot(FootnoteBot, commands.AutoShardedBot):
    """FootnoteBot over several shards (`discord.AutoShardedBot`): `shard_count` of the whole application and the
    `shard_ids` this process runs (None: all of them). Built by bot.py when SHARD_COUNT is set; several processes,
    each with its own SHARD_IDS, serve one application together (docs/scaling.md)."""
