"""Several bot processes serving one application against the local Discord twin: the harness of the multi-process
tests (tests/e2e/test_shards_bot.py) and of the two-process burst figure in docs/scaling.md.

Each process is the real `footnote run` (bot.main: settings from the environment, the store opened, the index
loaded, FootnoteBot or ShardedFootnoteBot composed), started as ``python -m tests.e2e.shards serve`` with
discord.py pointed at the twin (the one thing this module changes: Route.BASE and the default gateway, as
DiscordTwin.run_bot does in-process). The processes share one PostgreSQL database and one data folder (the
index is built once, before they start). The twin runs in the calling process and routes each guild's events to
its shard, so each process sees only its own servers, as on Discord.

    python -m tests.e2e.shards burst URL [--processes 2] [--shards-per-process 2] [--interactions 200] [--guilds 40]

measures the burst figure: every /ask's acknowledgement time (the twin's clock, from INTERACTION_CREATE to the
first callback), whether each was answered, and the twin's contract violations.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the twin is imported by the measuring side only
    from .twin import DiscordTwin

PROJECT_DIR = Path(__file__).resolve().parents[2]
SEEDS = PROJECT_DIR / "seeds"


# -- the bot's side ------------------------------------------------------------------------------------------------


def serve() -> int:
    """`footnote run`, with discord.py pointed at the twin named by FOOTNOTE_TWIN_API / FOOTNOTE_TWIN_GATEWAY."""
    import discord
    import yarl
    from discord.gateway import DiscordWebSocket

    discord.http.Route.BASE = os.environ["FOOTNOTE_TWIN_API"]
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FOOTNOTE_TWIN_GATEWAY"])
    import bot

    return bot.main(["run"])


# -- the measuring side --------------------------------------------------------------------------------------------


@dataclass
class BotProcess:
    """One bot process and the shards it runs; its log is kept in `log_path`."""

    name: str
    shards: tuple[int, ...]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n==== start {self.starts} ====\n".encode())
        log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.shards", "serve"],
            env=self.env,
            cwd=self.env["FOOTNOTE_WORKDIR"],  # no developer's .env is read
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (the graceful path: answers in progress finish, a digest being sent finishes), then wait."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        """kill -9: no drain, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Deployment:
    """A twin with `guilds` guilds spread over `shard_count` shards, and one bot process per entry of
    `shards_per_process` (each a tuple of shard ids), on one database."""

    twin: DiscordTwin
    processes: list[BotProcess]
    database: str
    data_dir: Path
    workdir: Path
    channels: dict[str, str] = field(default_factory=dict)  # guild id -> its first channel

    def process_of(self, guild_id: str) -> BotProcess:
        shard = self.twin.shard_for(guild_id)
        return next(p for p in self.processes if shard in p.shards)

    async def wait_for_shards(self, process: BotProcess | None = None, timeout: float = 90.0) -> None:
        """Until every shard (of `process`, or of all) is identified on a live connection."""
        shards = process.shards if process is not None else tuple(range(self.twin.shard_count))

        def ready() -> bool:
            for p in self.processes:
                if (process is None or p is process) and p.process is not None and p.process.poll() is not None:
                    raise RuntimeError(f"bot process {p.name} exited ({p.process.returncode}):\n{p.log_tail()}")
            return all(self.twin.shard_ready(s) for s in shards)

        await self.twin.wait_for(ready, timeout, what=f"shards {shards} to identify")

    async def restart(self, process: BotProcess) -> None:
        """Stop (SIGTERM) and start again; returns once its shards are back."""
        await asyncio.to_thread(process.stop)
        process.start()
        await self.wait_for_shards(process)

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop()


def prepare_data(data_dir: Path, corpus: Path = SEEDS) -> None:
    """Build the index once, before the processes start (they only load it)."""
    from index.engine import Engine

    Engine.open(corpus, data_dir)


@contextlib.asynccontextmanager
async def deployment(
    database: str,
    *,
    shards_per_process: Sequence[Sequence[int]] = ((0,), (1,)),
    guilds: int = 40,
    data_dir: Path | None = None,
    corpus: Path = SEEDS,
    digest_tick_seconds: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Any:
    """Start the twin and the processes (waiting until every shard is live); stop them all on exit."""
    from .twin import DiscordTwin, guild_ids_across_shards, make_guild, make_user

    shard_count = sum(len(s) for s in shards_per_process)
    assert sorted(s for group in shards_per_process for s in group) == list(range(shard_count))
    owner = make_user("owner")
    twin = DiscordTwin(
        guilds=[
            make_guild(f"Guild {i + 1}", owner=owner, guild_id=gid, channel_names=("news",))
            for i, gid in enumerate(guild_ids_across_shards(guilds, shard_count))
        ],
        shard_count=shard_count,
    )
    await twin.start()
    workdir = Path(tempfile.mkdtemp(prefix="footnote-shards-"))
    data = data_dir or workdir / "data"
    processes: list[BotProcess] = []
    try:
        await asyncio.to_thread(prepare_data, data, corpus)
        base = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "SHARD_", "DISCORD_"))},
            "PYTHONPATH": str(PROJECT_DIR),
            "FOOTNOTE_WORKDIR": str(workdir),
            "FOOTNOTE_TWIN_API": twin.api_base,
            "FOOTNOTE_TWIN_GATEWAY": twin.gateway_url,
            "DISCORD_TOKEN": twin.token,
            "DATABASE_URL": database,
            "SHARD_COUNT": str(shard_count),
            "CORPUS_DIR": str(corpus),
            "DATA_DIR": str(data),
            "DIGEST_TICK_SECONDS": str(digest_tick_seconds),
            "CORPUS_POLL_SECONDS": "0",
            "LOG_LEVEL": "INFO",
            "COOLDOWN_RATE": "1000",
            **(extra_env or {}),
        }
        for number, shards in enumerate(shards_per_process):
            env = {**base, "SHARD_IDS": ",".join(map(str, shards))}
            processes.append(BotProcess(f"bot-{number}", tuple(shards), env, workdir / f"bot-{number}.log"))
        setup = Deployment(twin, processes, database, data, workdir)
        setup.channels = {gid: guild["channels"][0]["id"] for gid, guild in twin.guilds.items()}
        for process in processes:
            process.start()
        await setup.wait_for_shards()
        await twin.wait_for_commands(None, timeout=60)
        yield setup
    finally:
        await asyncio.to_thread(lambda: [p.stop() for p in processes])
        await twin.close()
        if os.environ.get("FOOTNOTE_KEEP_SHARD_LOGS"):
            print(f"bot logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def fire_asks(twin: DiscordTwin, count: int, questions: Sequence[str], tag: str) -> list[str]:
    """`count` /ask at once, one per user, spread over all the guilds (each on its own shard and process)."""
    from .twin import make_user

    guild_ids = list(twin.guilds)
    users = [make_user(f"{tag}{i}") for i in range(count)]
    return list(
        await asyncio.gather(
            *(
                twin.slash_command(
                    "ask", {"question": questions[i % len(questions)]}, guild_id=guild_ids[i % len(guild_ids)],
                    user=users[i],
                )
                for i in range(count)
            )
        )
    )  # fmt: skip


def answered(twin: DiscordTwin, interaction_id: str) -> bool:
    """Acknowledged, then given its answer (the deferred /ask's edit or follow-up)."""
    return len([r for r in twin.interaction_responses(interaction_id) if r.ok]) >= 2


def answered_ids(twin: DiscordTwin) -> set[str]:
    """Every interaction answered so far, in one pass over the twin's requests (asking `answered` for hundreds of
    interactions at each change of the twin's state would starve the twin's own event loop)."""
    counts: dict[str, int] = {}
    for request in twin.requests():
        if request.interaction_id is not None and request.ok:
            counts[request.interaction_id] = counts.get(request.interaction_id, 0) + 1
    return {interaction for interaction, count in counts.items() if count >= 2}


async def wait_answered(twin: DiscordTwin, ids: Sequence[str], timeout: float, what: str) -> None:
    """Until every interaction of `ids` is answered; checked every 0.2 s (cheap for the twin's loop)."""
    wanted = set(ids)
    deadline = time.monotonic() + timeout
    while not wanted <= answered_ids(twin):
        if time.monotonic() > deadline:
            missing = len(wanted - answered_ids(twin))
            raise TimeoutError(f"timed out after {timeout}s waiting for {what} ({missing} of {len(wanted)} missing)")
        await asyncio.sleep(0.2)


QUESTIONS = (
    "How many monthly active users does Gemini have?",
    "OpenAI 为什么要暂停 Sora?",
    "紅色警報會持續多久",
    "What did Altman say about code red?",
    "算力",
)


async def burst(database: str, processes: int, shards_per_process: int, interactions: int, guilds: int) -> dict:
    layout = [tuple(range(p * shards_per_process, (p + 1) * shards_per_process)) for p in range(processes)]
    async with deployment(database, shards_per_process=layout, guilds=guilds, digest_tick_seconds=0) as setup:
        twin = setup.twin
        started = time.monotonic()
        twin_cpu, bot_cpu = _cpu_seconds(), {p.name: _process_cpu_seconds(p) for p in setup.processes}
        ids = await fire_asks(twin, interactions, QUESTIONS, "asker")
        with contextlib.suppress(TimeoutError):  # what was missing is reported below
            await wait_answered(twin, ids, 120, "every answer")
        elapsed = time.monotonic() - started
        acks = [twin.interaction(i).ack_latency for i in ids]
        load = os.getloadavg()
        twin_cpu = _cpu_seconds() - twin_cpu
        bot_cpu = {p.name: round(_process_cpu_seconds(p) - bot_cpu[p.name], 1) for p in setup.processes}
        per_process = {
            p.name: sum(setup.process_of(twin.interaction(i).guild_id) is p for i in ids) for p in setup.processes
        }
        return {
            "processes": processes,
            "shards": processes * shards_per_process,
            "guilds": guilds,
            "interactions": interactions,
            "acknowledged": sum(a is not None for a in acks),
            "answered": len(set(ids) & answered_ids(twin)),
            "ack_p50_ms": round(percentile([a * 1000 for a in acks if a is not None], 0.5), 1),
            "ack_p99_ms": round(percentile([a * 1000 for a in acks if a is not None], 0.99), 1),
            "ack_max_ms": round(max((a * 1000 for a in acks if a is not None), default=float("inf")), 1),
            "acknowledged_within_3s": sum(a is not None and a <= 3.0 for a in acks),
            "all_answered_s": round(elapsed, 2),
            "load_average_after": tuple(round(x, 2) for x in load),
            "cpu_seconds": {"twin (this process)": round(twin_cpu, 1), **bot_cpu},
            "per_process": per_process,
            "violations": [str(v) for v in twin.violations],
        }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_cpu_seconds(process: BotProcess) -> float:
    """User + system CPU seconds of a running bot process (/proc/PID/stat)."""
    assert process.process is not None
    fields = Path(f"/proc/{process.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _burst_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.shards burst")
    parser.add_argument("database", help="a PostgreSQL URL the bots may use (an empty database or schema)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--shards-per-process", type=int, default=2)
    parser.add_argument("--interactions", type=int, default=200)
    parser.add_argument("--guilds", type=int, default=40)
    args = parser.parse_args(argv)
    result = asyncio.run(burst(args.database, args.processes, args.shards_per_process, args.interactions, args.guilds))
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0 if result["answered"] == args.interactions and not result["violations"] else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(serve())
    if sys.argv[1:2] == ["burst"]:
        sys.exit(_burst_main(sys.argv[2:]))
    print("usage: python -m tests.e2e.shards serve | burst DATABASE_URL [options]", file=sys.stderr)
    sys.exit(2)
