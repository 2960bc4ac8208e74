"""The bot under load, for `footnote bench` (bench/ imports this module lazily; it needs the test extras).

`measure_burst(corpus_dir, data_dir, questions=..., interactions=200, guilds=20)` starts the local Discord twin in
this process and the bot in a process of its own (``python -m tests.e2e.bench_bot serve ...``), composed as
bot.start_bot composes it (engine loaded off the loop, the SQLite store, FootnoteBot with every cog). Once the
bot is ready, the twin sends `interactions` /ask commands at once, from as many users spread over `guilds`
guilds, and waits until every one is answered. Meanwhile a ticker on the bot's event loop wakes every 5 ms and
records how late it ran: the loop lag a command's work on the loop would cause.

`measure_startup(seeds_dir, data_dir)` starts the bot over the seeds corpus (its index built by a first start)
and reports its RSS once ready.

Keeping the twin out of the bot's process keeps its request validation (jsonschema) out of the measured loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # the twin is imported by the measuring side only, not by the bot's process
    from .twin import DiscordTwin

PROJECT_DIR = Path(__file__).resolve().parents[2]
EVENT_PREFIX = "BENCH-BOT "
TICK_SECONDS = 0.005
BLOCK_SECONDS = 0.05


def _current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return _peak_rss_mb()


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _percentile(samples: Sequence[float], q: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the bot's process -----------------------------------------------------------------------------------------


class LoopLag:
    """Wakes every TICK_SECONDS and records (monotonic time, seconds late)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(TICK_SECONDS)
            self.samples.append((time.monotonic(), max(0.0, loop.time() - before - TICK_SECONDS)))


def _emit(event: str, **values: Any) -> None:
    print(EVENT_PREFIX + json.dumps({"event": event, **values}), flush=True)


async def serve(args: argparse.Namespace) -> None:
    """Run the bot against the twin at args.api / args.gateway until a line arrives on stdin."""
    import discord
    import yarl
    from discord.gateway import DiscordWebSocket

    from cli.commands import open_engine
    from client import FootnoteBot
    from config import Settings
    from lifecycle import tune_for_serving
    from store import Store
    from store.helpdesk import help_channels_configured

    # What DiscordTwin.run_bot does in-process: point discord.py at the twin.
    discord.http.Route.BASE = args.api
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.gateway)
    settings = Settings(
        corpus_dir=Path(args.corpus),
        data_dir=Path(args.data),
        database_path=Path(args.db),
        log_level=None,
        tokenizer_mode="search",
        discord_token=args.token,
        dev_guild_id=None,
    )
    started = time.perf_counter()
    engine = await asyncio.to_thread(open_engine, settings)
    tune_for_serving()
    _tune(os.environ.get("FOOTNOTE_BENCH_TUNING", ""))
    store = await Store.open(settings.database_path)
    lag = LoopLag()
    try:
        # as bot.start_bot: the Message Content intent only when a help channel is configured
        message_content = await help_channels_configured(store)
        bot = FootnoteBot(settings=settings, store=store, engine=engine, message_content=message_content)
        async with bot:
            runner = asyncio.create_task(bot.start(args.token))
            ready = asyncio.create_task(bot.wait_until_ready())
            await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
            if runner.done():
                runner.result()
            _emit(
                "ready",
                seconds=round(time.perf_counter() - started, 3),
                rss_mb=_current_rss_mb(),
                peak_rss_mb=_peak_rss_mb(),
                passages=len(engine.passages),
            )
            ticker = asyncio.create_task(lag.run())
            if os.environ.get("FOOTNOTE_BENCH_PROFILE"):  # experiments: profile the loop thread
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            steps = StepTimer()
            steps.install()
            reader = await _stdin_reader()
            while (command := (await reader.readline()).decode().strip()) not in ("stop", ""):
                if command == "stats":
                    _emit(
                        "stats",
                        lags=lag.samples,
                        slow=steps.found,
                        rss_mb=_current_rss_mb(),
                        peak_rss_mb=_peak_rss_mb(),
                    )
                    lag.samples = []
                    steps.found.clear()
            ticker.cancel()
            if os.environ.get("FOOTNOTE_BENCH_PROFILE"):
                profiler.disable()
                profiler.dump_stats(os.environ["FOOTNOTE_BENCH_PROFILE"])
    finally:
        await store.close()


class StepTimer:
    """Times every step the event loop runs (a callback, or a task running until its next await) and keeps those
    longer than BLOCK_SECONDS: what "a command blocked the loop" means. Measured in normal mode (asyncio's debug
    mode slows every step) by wrapping asyncio's Handle._run in this measuring process only. Each step records
    its wall time, the loop thread's CPU time during it (the rest is waiting: for the GIL, held by the engine
    thread, or for a core, held by the twin's process) and what it was: a Footnote command, discord.py's
    gateway reader (which dispatches every event already received in one step), or other."""

    def __init__(self) -> None:
        self.found: list[tuple[float, float, str, str]] = []

    def install(self) -> None:
        original = asyncio.events.Handle._run
        found = self.found

        def timed_run(handle: asyncio.Handle) -> None:
            wall, cpu = time.perf_counter(), time.thread_time()
            original(handle)
            elapsed = time.perf_counter() - wall
            if elapsed > BLOCK_SECONDS:
                kind, where = _describe(handle)
                found.append((elapsed * 1000, (time.thread_time() - cpu) * 1000, kind, where))

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]


def _describe(handle: asyncio.Handle) -> tuple[str, str]:
    callback = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        coro = task.get_coro()
        where = f"{task.get_name()}: {getattr(coro, '__qualname__', coro)}"
        if task.get_name() == "CommandTree-invoker" or "cogs." in repr(coro):
            return "command", where
        if "Client.start" in where or "Client.connect" in where:
            return "gateway reader", where
        return "other", where
    return "other", repr(callback)[:200]


async def _stdin_reader() -> asyncio.StreamReader:
    """Commands on stdin, read by the loop itself (not a worker thread: those are the engine's)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _tune(spec: str) -> None:
    """Experiments on top of what bot.start_bot does (lifecycle.tune_for_serving): comma-separated
    ``switch=SECONDS`` (sys.setswitchinterval), ``threads=N`` (the loop's default executor), ``gcfreeze``."""
    import gc
    from concurrent.futures import ThreadPoolExecutor

    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, value = item.partition("=")
        if name == "switch":
            sys.setswitchinterval(float(value))
        elif name == "threads":
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(int(value)))
        elif name == "gcfreeze":
            gc.collect()
            gc.freeze()


# -- the measuring side --------------------------------------------------------------------------------------


async def _event(process: asyncio.subprocess.Process, name: str, timeout: float) -> dict[str, Any]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"the bot process sent no {name!r} within {timeout:.0f} s")
        line = await asyncio.wait_for(process.stdout.readline(), remaining)
        if not line:
            raise RuntimeError(f"the bot process ended (exit {await process.wait()}) before {name!r}")
        text = line.decode("utf-8", "replace")
        if text.startswith(EVENT_PREFIX):
            event = json.loads(text[len(EVENT_PREFIX) :])
            if event["event"] == name:
                return event


async def start_bot_process(
    twin: DiscordTwin, corpus: Path, data: Path, log: IO[bytes], database: Path | None = None
) -> asyncio.subprocess.Process:
    """The bot in a process of its own (`serve` below), talking to `twin`; commands go to its stdin (`_command`).
    Without `database`, a new SQLite file in `data`."""
    data.mkdir(parents=True, exist_ok=True)
    database = database or data / f"bench-bot-{time.monotonic_ns()}.sqlite3"
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.bench_bot",
        "serve",
        "--api",
        twin.api_base,
        "--gateway",
        twin.gateway_url,
        "--token",
        twin.token,
        "--corpus",
        str(corpus),
        "--data",
        str(data),
        "--db",
        str(database),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        limit=64 * 2**20,  # the stats line holds a lag sample every 5 ms of a burst that lasts tens of seconds
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")])),
        },
    )


async def _command(process: asyncio.subprocess.Process, command: str) -> dict[str, Any] | None:
    """Send a command to the bot's process; for "stats", its answer."""
    assert process.stdin is not None
    process.stdin.write(command.encode() + b"\n")
    await process.stdin.drain()
    return await _event(process, "stats", 60) if command == "stats" else None


async def _stop_bot(process: asyncio.subprocess.Process) -> None:
    await _command(process, "stop")
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()


async def _fire(
    twin: DiscordTwin, questions: Sequence[str], interactions: int, timeout: float, tag: str
) -> tuple[list[str], float]:
    """`interactions` /ask at once, one per user, spread over the twin's guilds; waits for every answer."""
    from .twin import make_user

    guild_ids = list(twin.guilds)
    users = [make_user(f"{tag}{i}") for i in range(interactions)]
    started = time.monotonic()
    ids = await asyncio.gather(
        *(
            twin.slash_command(
                "ask",
                {"question": questions[i % len(questions)][:500]},
                guild_id=guild_ids[i % len(guild_ids)],
                user=users[i],
            )
            for i in range(interactions)
        )
    )
    await asyncio.gather(*(twin.wait_for_responses(iid, 2, timeout=timeout) for iid in ids), return_exceptions=True)
    return ids, started


async def _burst(
    corpus: Path, data: Path, questions: Sequence[str], interactions: int, guilds: int, timeout: float
) -> dict[str, Any]:
    from .twin import DiscordTwin, make_guild, make_user

    owner = make_user("owner")
    twin = DiscordTwin(guilds=[make_guild(f"Guild {i + 1}", owner=owner) for i in range(guilds)])
    await twin.start()
    data.mkdir(parents=True, exist_ok=True)
    try:
        with (data / "bench-bot.log").open("wb") as log:
            process = await start_bot_process(twin, corpus, data, log)
            try:
                ready = await _event(process, "ready", timeout)
                await twin.wait_for_commands(None, timeout=30)
                await _command(process, "stats")  # start the count now
                ids, burst_started = await _fire(twin, questions, interactions, timeout, "asker")
                stats = await _command(process, "stats")
                await _stop_bot(process)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        assert stats is not None
        acks: list[float] = []
        answers: list[float] = []
        for iid in ids:
            record = twin.interaction(iid)
            if record.ack_latency is not None:
                acks.append(record.ack_latency * 1000)
            responses = [r for r in twin.interaction_responses(iid) if r.ok]
            if len(responses) >= 2:
                answers.append((responses[-1].time - record.created_at) * 1000)
        lags = [(at - burst_started, lag * 1000) for at, lag in stats["lags"]]
        values = [lag for _, lag in lags]
        worst = sorted(lags, key=lambda item: -item[1])[:5]
        slow = sorted(stats["slow"], key=lambda item: -item[0])
        commands = [step for step in slow if step[2] == "command"]
        return {
            "interactions": interactions,
            "guilds": guilds,
            "answered": len(answers),
            "ack_p50_ms": round(_percentile(acks, 0.5), 1),
            "ack_max_ms": round(max(acks) if len(acks) == interactions else float("inf"), 1),
            "answer_p50_ms": round(_percentile(answers, 0.5), 1),
            "answer_p99_ms": round(_percentile(answers, 0.99), 1),
            "answer_max_ms": round(max(answers, default=0.0), 1),
            "loop_lag_max_ms": round(max(values, default=0.0), 1),
            "loop_lag_p99_ms": round(_percentile(values, 0.99), 1),
            "lag_over_50ms": sum(value > 50 for value in values),
            "blocks_over_50ms": len(slow),
            "worst_block_ms": round(slow[0][0], 1) if slow else 0.0,
            "command_blocks_over_50ms": len(commands),
            "worst_command_block_ms": round(commands[0][0], 1) if commands else 0.0,
            "worst_blocks": tuple((round(ms, 1), round(cpu, 1), kind, where) for ms, cpu, kind, where in slow[:5]),
            "ready_rss_mb": ready["rss_mb"],
            "rss_mb": stats["rss_mb"],
            "peak_rss_mb": stats["peak_rss_mb"],
            "violations": tuple(str(v) for v in twin.violations),
            "worst_lags": tuple((round(at, 3), round(lag, 1)) for at, lag in worst),
        }
    finally:
        await twin.close()


def measure_burst(
    corpus_dir: Path,
    data_dir: Path,
    *,
    questions: Sequence[str],
    interactions: int = 200,
    guilds: int = 20,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """The bot's answers to a burst of /ask (see the module docstring); figures in milliseconds."""
    return asyncio.run(_burst(corpus_dir, data_dir, questions, interactions, guilds, timeout))


async def _startup(seeds_dir: Path, data_dir: Path) -> dict[str, Any]:
    from .twin import DiscordTwin

    twin = DiscordTwin()
    await twin.start()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with (data_dir / "bench-bot-startup.log").open("wb") as log:
            ready: dict[str, Any] = {}
            for _ in range(2):  # the first start builds the index; the second is the one measured
                process = await start_bot_process(twin, seeds_dir, data_dir, log)
                try:
                    ready = await _event(process, "ready", 300)
                    await _stop_bot(process)
                finally:
                    if process.returncode is None:
                        process.kill()
                        await process.wait()
        return {"rss_mb": ready["rss_mb"], "peak_rss_mb": ready["peak_rss_mb"], "seconds": ready["seconds"]}
    finally:
        await twin.close()


def measure_startup(seeds_dir: Path, data_dir: Path) -> dict[str, Any]:
    """RSS of the bot, ready, over the seeds corpus (index already built)."""
    return asyncio.run(_startup(seeds_dir, data_dir))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.bench_bot")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run the bot against a twin (used by measure_burst)")
    for name in ("--api", "--gateway", "--token", "--corpus", "--data", "--db"):
        run.add_argument(name, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
