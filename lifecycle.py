"""Graceful shutdown and the heartbeat of a running bot.

On SIGTERM or Ctrl-C (SIGINT) the bot stops taking commands (new ones get a polite, private "restarting" reply),
waits for the answers already in progress (at most `grace` seconds; a second signal cuts the wait short), tells
the askers of any answer still unfinished to ask again, then closes the Discord connection; the composition root
then closes SQLite and the process exits 0. See docs/operations.md.

What counts as an answer in progress:
* every application command: `FootnoteTree.interaction_check` (client.py: the tree of FootnoteBot) calls
  `Lifecycle.adopt`, which counts the task that runs the command, so all cogs' slash commands are covered
  without code of their own;
* anything a cog wraps in `async with tracking(bot):` (button callbacks, answers to DMs and mentions). While the
  bot is draining, entering `tracking` raises `ShuttingDown`, a `UserFacingError`, so the cog's usual error path
  shows the message. On a host bot without a Lifecycle (the cogs used as a plugin) `tracking` does nothing.

The heartbeat: while connected to Discord, the bot rewrites DATA_DIR/heartbeat.json every HEARTBEAT_SECONDS;
`footnote doctor` (the Docker HEALTHCHECK) reads it with `Heartbeat.read` and reports a bot that has lost Discord.
The file is removed on exit.

This module imports discord.py only where it talks to Discord (`_tell`), so the doctor, which must stay cheap,
can read the heartbeat without loading it (tests/test_doctor.py checks that).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import math
import os
import signal
import socket
import sys
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.errors import UserFacingError

if TYPE_CHECKING:
    import discord

log = logging.getLogger(__name__)

DRAIN_SECONDS = 8.0  # below Docker's default 10 s stop timeout; compose.yaml allows 20 s in all
SHUTDOWN_MESSAGE = "Footnote is restarting; please try again in a minute."
ABANDONED_MESSAGE = "Footnote had to restart before this answer was ready; please ask again in a minute."
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
RECENT_INTERACTIONS = 10_000  # ids remembered to drop a repeated delivery (an interaction lives 15 minutes)


class ShuttingDown(UserFacingError):
    """Raised when new work starts while the bot is draining; its message is for the user."""

    def __init__(self) -> None:
        super().__init__(SHUTDOWN_MESSAGE)


@dataclass(eq=False)
class _Work:
    """One answer in progress: the task running it and, for interactions, whom to tell if it is abandoned."""

    task: asyncio.Task[Any] | None
    interaction: discord.Interaction | None = None
    started: float = field(default_factory=time.monotonic)


class Lifecycle:
    """Owned by the bot (`bot.lifecycle`); one per process run."""

    def __init__(self, *, grace: float = DRAIN_SECONDS) -> None:
        self.grace = grace
        self._delivered: OrderedDict[int, None] = OrderedDict()  # recent interaction ids (first_delivery)
        self._work: set[_Work] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._hurry = asyncio.Event()
        self._draining = False
        self._stopping: asyncio.Task[None] | None = None

    @property
    def draining(self) -> bool:
        """True once a stop was requested: new commands are refused."""
        return self._draining

    @property
    def in_flight(self) -> int:
        return len(self._work)

    # -- tracking work -----------------------------------------------------------------------------------------

    def _add(self, work: _Work) -> None:
        self._work.add(work)
        self._idle.clear()

    def _remove(self, work: _Work) -> None:
        self._work.discard(work)
        if not self._work:
            self._idle.set()

    def adopt(self, interaction: discord.Interaction) -> None:
        """Count the current task (the one running this interaction's command) as in flight until it ends."""
        if self._draining:
            raise ShuttingDown()
        task = asyncio.current_task()
        if task is None:
            return
        work = _Work(task, interaction)
        self._add(work)
        task.add_done_callback(lambda _: self._remove(work))

    @contextlib.asynccontextmanager
    async def track(self, interaction: discord.Interaction | None = None) -> AsyncIterator[None]:
        """`async with lifecycle.track():` around an answer; raises ShuttingDown when the bot is draining."""
        if self._draining:
            raise ShuttingDown()
        work = _Work(asyncio.current_task(), interaction)
        self._add(work)
        try:
            yield
        finally:
            self._remove(work)

    def first_delivery(self, interaction_id: int) -> bool:
        """False when this interaction was delivered before. Discord can deliver one INTERACTION_CREATE twice
        (around a reconnect); answering it twice fails with 40060 and would show the user an error."""
        if interaction_id in self._delivered:
            log.info("interaction %s delivered again; ignored", interaction_id)
            return False
        self._delivered[interaction_id] = None
        if len(self._delivered) > RECENT_INTERACTIONS:
            self._delivered.popitem(last=False)
        return True

    # -- stopping ----------------------------------------------------------------------------------------------

    async def drain(self, timeout: float | None = None) -> bool:
        """Refuse new work and wait (at most `timeout`, default `grace`) until the work in flight is done, or a
        second stop request. True when nothing is left running."""
        self._draining = True
        if self._work:
            waiters = [asyncio.ensure_future(self._idle.wait()), asyncio.ensure_future(self._hurry.wait())]
            try:
                await asyncio.wait(
                    waiters, timeout=self.grace if timeout is None else timeout, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for waiter in waiters:
                    waiter.cancel()
        return not self._work

    async def abandon(self) -> int:
        """Cancel what is still running and tell those askers to ask again. Returns how many were abandoned."""
        left = list(self._work)
        for work in left:
            if work.task is not None and work.task is not asyncio.current_task():
                work.task.cancel()
        for work in left:
            if work.interaction is not None:
                await _tell(work.interaction, ABANDONED_MESSAGE)
        return len(left)

    async def shutdown(self, bot: discord.Client, reason: str) -> None:
        """Drain (bounded), abandon what is left, close the Discord connection. Idempotent."""
        if self._draining and self._stopping is not None and self._stopping is not asyncio.current_task():
            await self._stopping
            return
        log.info(
            "%s: not taking new commands; waiting up to %.0f s for %d answer(s) in progress",
            reason,
            self.grace,
            len(self._work),
        )
        started = time.monotonic()
        if await self.drain():
            log.info("answers in progress finished in %.1f s; closing", time.monotonic() - started)
        else:
            abandoned = await self.abandon()
            log.warning("stopped %d unfinished answer(s) after %.1f s", abandoned, time.monotonic() - started)
        await bot.close()
        log.info("disconnected from Discord")

    def request_stop(self, bot: discord.Client, reason: str) -> None:
        """What a stop signal does: the first starts `shutdown`, a second cuts the drain short."""
        if self._stopping is None:
            self._draining = True
            self._stopping = asyncio.get_running_loop().create_task(self.shutdown(bot, reason), name="footnote-stop")
        else:
            log.warning("%s again: stopping without waiting for answers in progress", reason)
            self._hurry.set()

    @contextlib.contextmanager
    def handle_signals(self, bot: discord.Client) -> Iterator[None]:
        """Route SIGTERM and SIGINT to `request_stop` while in the block (where the loop supports it)."""
        loop = asyncio.get_running_loop()
        installed = []
        for sig in STOP_SIGNALS:
            try:
                loop.add_signal_handler(sig, self.request_stop, bot, sig.name)
            except (NotImplementedError, RuntimeError):  # Windows' loops; a loop outside the main thread
                log.debug("cannot handle %s on this event loop", sig.name)
                continue
            installed.append(sig)
        try:
            yield
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    @contextlib.asynccontextmanager
    async def running(self, bot: discord.Client, *, heartbeat: Path | None = None) -> AsyncIterator[None]:
        """Around `await bot.start(token)`: signal handling and the heartbeat file. On the way out it waits for a
        stop in progress to finish and removes the heartbeat file."""
        if heartbeat is not None:
            heartbeat.unlink(missing_ok=True)  # left by a crash: the doctor must not read it as this run's
        beat = asyncio.create_task(beat_heart(bot, heartbeat), name="footnote-heartbeat") if heartbeat else None
        try:
            with self.handle_signals(bot):
                yield
                if self._stopping is not None:
                    await self._stopping
        finally:
            if beat is not None:
                beat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beat
            if heartbeat is not None:
                heartbeat.unlink(missing_ok=True)


async def _tell(interaction: discord.Interaction, text: str) -> None:
    import discord

    no_mentions = discord.AllowedMentions.none()
    try:
        if interaction.response.is_done():
            await interaction.edit_original_response(content=text, embed=None, view=None, allowed_mentions=no_mentions)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=no_mentions)
    except discord.HTTPException as exc:
        log.warning("could not tell interaction %s that its answer was abandoned: %s", interaction.id, exc)


def first_delivery(interaction: discord.Interaction) -> bool:
    """`Lifecycle.first_delivery` of the interaction's bot (always True on a bot without a Lifecycle)."""
    lifecycle = getattr(interaction.client, "lifecycle", None)
    return lifecycle.first_delivery(interaction.id) if isinstance(lifecycle, Lifecycle) else True


def tracking(client: Any) -> AbstractAsyncContextManager[None]:
    """`async with tracking(bot):` — the bot's Lifecycle.track(), or nothing on a bot without one."""
    lifecycle = getattr(client, "lifecycle", None)
    if isinstance(lifecycle, Lifecycle):
        return lifecycle.track()
    return contextlib.nullcontext()


# -- the interpreter, tuned for serving --------------------------------------------------------------------------

# The event loop shares the GIL with the engine thread. Each time the loop blocks in a system call (a socket send,
# a poll) it gives up the GIL and then waits for the engine thread to hand it back, up to the switch interval
# (5 ms by default): a loop step with a dozen sends waited ~60 ms during a burst of /ask. At 1 ms the loop's
# p99 lag fell from 30 to 8 ms (docs/benchmarks.md) at no measurable cost to the engine's throughput.
SWITCH_INTERVAL_SECONDS = 0.001


def tune_for_serving() -> None:
    """Interpreter settings for the bot's process, once the index is loaded: a short GIL switch interval (see
    above), and the objects alive now (the engine's passages, postings metadata, dictionaries: millions at 100k
    passages) moved out of the garbage collector's reach. Otherwise a full collection scans them all, ~130 ms
    of CPU on the event loop in whichever command step happens to trigger it."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    freeze_long_lived()


def freeze_long_lived(*, collect: bool = True) -> None:
    """Move every object alive now to the collector's permanent generation (after loading or reloading an index).
    Frozen objects are still freed by reference counting when dropped, as an old engine's are. `collect=False`
    skips the full collection first (~100 ms of CPU at 100k passages): after a `/reload` the bot is serving, and
    a collection would hold the event loop that long."""
    if collect:
        gc.collect()
    gc.freeze()


# -- heartbeat ---------------------------------------------------------------------------------------------------

HEARTBEAT_FILE = "heartbeat.json"
HEARTBEAT_SECONDS = 30.0  # how often a connected bot rewrites its heartbeat


@dataclass(frozen=True)
class Heartbeat:
    """Written atomically to DATA_DIR/heartbeat.json every HEARTBEAT_SECONDS while the bot is connected to
    Discord, and removed when it stops cleanly."""

    pid: int
    host: str
    time: float
    user: str
    guilds: int
    latency_ms: float | None
    # The Message Content intent of this session: "on", "off" (not asked for: no help channel when the bot
    # started), "refused" (asked for, and Discord closed the gateway with 4014); None from an older bot.
    message_content: str | None = None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{self.pid}.tmp")
        temp.write_text(json.dumps(asdict(self)), encoding="utf-8")
        os.replace(temp, path)

    @classmethod
    def read(cls, path: Path) -> Heartbeat | None:
        """None when there is no heartbeat file; ValueError when it is not one."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(str(exc)) from exc
        try:
            return cls(
                pid=int(raw["pid"]),
                host=str(raw["host"]),
                time=float(raw["time"]),
                user=str(raw.get("user", "")),
                guilds=int(raw.get("guilds", 0)),
                latency_ms=None if raw.get("latency_ms") is None else float(raw["latency_ms"]),
                message_content=None if raw.get("message_content") is None else str(raw["message_content"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"missing or malformed field: {exc}") from exc


def heartbeat_path(data_dir: Path, shard_ids: tuple[int, ...] | None = None) -> Path:
    """The heartbeat file of the bot using `data_dir`; one per shard set when sharded, since the processes that
    split an application's shards share the data folder (and its index) but must each be checked."""
    if shard_ids is None:
        return data_dir / HEARTBEAT_FILE
    return data_dir / f"heartbeat-shards-{'-'.join(map(str, shard_ids))}.json"


def message_content_state(bot: discord.Client) -> str:
    """ "on", "off", or "refused" (FootnoteBot.message_content_refused: Discord closed the gateway with 4014 when
    the bot asked for the intent, and it runs without)."""
    if bot.intents.message_content:
        return "on"
    return "refused" if getattr(bot, "message_content_refused", False) else "off"


def connected(bot: discord.Client) -> bool:
    """Ready and on the gateway: the connection of an unsharded client, every shard of a sharded one (an
    AutoShardedClient keeps one websocket per shard and never sets `bot.ws`)."""
    import discord

    if not bot.is_ready() or bot.is_closed():
        return False
    if isinstance(bot, discord.AutoShardedClient):
        return bool(bot.shards) and all(not shard.is_closed() for shard in bot.shards.values())
    ws = bot.ws
    return ws is not None and bool(ws.open)


async def beat_heart(bot: discord.Client, path: Path, interval: float = HEARTBEAT_SECONDS) -> None:
    """Rewrite `path` every `interval` seconds while `bot` is connected (checking every second otherwise)."""
    host, pid = socket.gethostname(), os.getpid()
    while True:
        if connected(bot):
            latency = bot.latency
            beat = Heartbeat(
                pid=pid,
                host=host,
                time=time.time(),
                user=str(bot.user),
                guilds=len(bot.guilds),
                latency_ms=None if math.isnan(latency) or math.isinf(latency) else round(latency * 1000, 1),
                message_content=message_content_state(bot),
            )
            try:
                await asyncio.to_thread(beat.write, path)
            except OSError as exc:
                log.warning("cannot write the heartbeat %s (%s); `footnote doctor` will not see this bot", path, exc)
                return
            await asyncio.sleep(interval)
        else:
            await asyncio.sleep(1.0)
