"""Store operations per second, SQLite vs PostgreSQL, for the hot paths of a running bot, in one process.

The hot paths: what every question writes (`save_answer` + `add_turn`: the answer behind the buttons and the
conversation turn), what every question reads first (`last_turn`: the conversation context), and the digest
claim (`claim` of a new server-day, the exactly-once step). Each is timed on every database in rounds that
alternate between the databases (so drift on a shared machine falls on all alike), once by one caller at a time
(latency-bound) and once by `concurrency` callers at once (how a busy bot calls it). The figure is the median
round's operations per second.

PostgreSQL runs as its URL says; `synchronous_commit=off` in the URL's query makes its commits as durable as
SQLite's WAL with synchronous=NORMAL (both survive a crash of the bot; neither waits for the disk at each
commit), and the report runs both when asked (`variants`).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from store import Store
from store.digest import DigestStore

OPERATIONS = ("store a turn (answer + turn)", "load context (last turn)", "claim a digest")


@dataclass(frozen=True)
class StoreFigure:
    database: str
    operation: str
    callers: int
    ops_per_second: float
    rounds: int


def with_query(url: str, **settings: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, *(f"{k}={v}" for k, v in settings.items())) if q)
    return urlunsplit(parts._replace(query=query))


class _Target:
    def __init__(self, name: str, store: Store) -> None:
        self.name = name
        self.store = store
        self.digests = DigestStore(store)
        self.counter = 0

    def next(self) -> int:
        self.counter += 1
        return self.counter

    async def store_turn(self) -> None:
        i = self.next()
        answer = await self.store.save_answer(
            question=f"question {i}", user_id=1000 + i % 500, guild_id=10 + i % 40, channel_id=20 + i % 40,
            private=False, corpus_version="bench", abstained=i % 7 == 0, params={"query": f"question {i}"},
        )  # fmt: skip
        await self.store.add_turn(
            scope=f"guild:{10 + i % 40}:channel:{20 + i % 40}:user:{1000 + i % 500}", user_id=1000 + i % 500,
            guild_id=10 + i % 40, question=f"question {i}", query=f"question {i}", kind="new", shown=[i, i + 1, i + 2],
            abstained=i % 7 == 0, corpus_version="bench", answer_id=answer,
        )  # fmt: skip

    async def load_context(self) -> None:
        i = self.next()
        await self.store.last_turn(f"guild:{10 + i % 40}:channel:{20 + i % 40}:user:{1000 + i % 500}", 0.0)

    async def claim(self) -> None:
        i = self.next()
        # A new (server, day) each time, as at midnight for thousands of servers: every claim inserts.
        won = await self.digests.claim(1_000_000 + i, date(2025, 1, 1) + timedelta(days=i % 3000), time.time())
        assert won, (self.name, i)


async def _rate(operation: Callable[[], Awaitable[None]], count: int, callers: int) -> float:
    async def caller(n: int) -> None:
        for _ in range(n):
            await operation()

    share, extra = divmod(count, callers)
    started = time.perf_counter()
    await asyncio.gather(*(caller(share + (1 if c < extra else 0)) for c in range(callers)))
    return count / (time.perf_counter() - started)


async def measure(
    databases: dict[str, str | Path],
    *,
    count: int = 400,
    rounds: int = 5,
    concurrency: int = 16,
    pool_size: int = 10,
) -> list[StoreFigure]:
    """Ops/s per database, operation and number of concurrent callers (1 and `concurrency`)."""
    targets = []
    for name, where in databases.items():
        options = {"pool_size": pool_size} if isinstance(where, str) and where.startswith("postgres") else {}
        targets.append(_Target(name, await Store.open(where, **options)))
    try:
        for target in targets:  # warm up: connections open, statements prepared, tables touched
            await target.store_turn()
            await target.load_context()
            await target.claim()
        results: dict[tuple[str, str, int], list[float]] = {}
        for _ in range(rounds):
            for callers in (1, concurrency):
                for target in targets:
                    operations = {
                        OPERATIONS[0]: target.store_turn,
                        OPERATIONS[1]: target.load_context,
                        OPERATIONS[2]: target.claim,
                    }
                    for label, operation in operations.items():
                        rate = await _rate(operation, count, callers)
                        results.setdefault((target.name, label, callers), []).append(rate)
    finally:
        for target in targets:
            await target.store.close()
    return [
        StoreFigure(name, label, callers, statistics.median(rates), len(rates))
        for (name, label, callers), rates in results.items()
    ]


def fresh_schema_url(admin_url: str) -> tuple[str, str]:
    """(url, schema) of a new schema to benchmark in (created by the caller): leaves other data alone."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    return with_query(admin_url, search_path=schema), schema


def table(figures: list[StoreFigure]) -> str:
    """A Markdown table: one row per operation and callers, one column per database."""
    databases = list(dict.fromkeys(f.database for f in figures))
    rows = sorted({(f.operation, f.callers) for f in figures}, key=lambda k: (OPERATIONS.index(k[0]), k[1]))
    by_key = {(f.database, f.operation, f.callers): f.ops_per_second for f in figures}
    lines = [
        "| operation | callers | " + " | ".join(databases) + " |",
        "|---|---:|" + "---:|" * len(databases),
    ]
    for operation, callers in rows:
        cells = [f"{by_key[(d, operation, callers)]:,.0f}" for d in databases]
        lines.append(f"| {operation} | {callers} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def run(postgres_url: str, workdir: Path, *, count: int, rounds: int, concurrency: int) -> list[StoreFigure]:
    """Benchmark a new SQLite file in `workdir` and a new schema on `postgres_url`, both with PostgreSQL's
    durable commits (its default) and with synchronous_commit=off (SQLite's WAL + NORMAL durability)."""
    import asyncpg

    workdir.mkdir(parents=True, exist_ok=True)
    sqlite_path = workdir / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"
    relaxed, relaxed_schema = fresh_schema_url(postgres_url)
    durable, durable_schema = fresh_schema_url(postgres_url)
    admin = await asyncpg.connect(postgres_url)
    try:
        for schema in (relaxed_schema, durable_schema):
            await admin.execute(f'CREATE SCHEMA "{schema}"')
        return await measure(
            {
                "SQLite (WAL, synchronous=NORMAL)": sqlite_path,
                "PostgreSQL (synchronous_commit=off)": with_query(relaxed, synchronous_commit="off"),
                "PostgreSQL (default: synchronous_commit=on)": durable,
            },
            count=count,
            rounds=rounds,
            concurrency=concurrency,
        )
    finally:
        for schema in (relaxed_schema, durable_schema):
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("postgres_url", help="a PostgreSQL database the benchmark may create a schema in")
    parser.add_argument("--work", type=Path, default=Path("/tmp/footnote-store-bench"))
    parser.add_argument("--count", type=int, default=400, help="operations per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    figures = asyncio.run(
        run(args.postgres_url, args.work, count=args.count, rounds=args.rounds, concurrency=args.concurrency)
    )
    print(table(figures))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
