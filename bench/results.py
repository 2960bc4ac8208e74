"""What `footnote bench` measures, as plain dataclasses (one `SizeResult` per corpus size, the bot's and start-up's
results, the whole `BenchReport`), the constants the other modules share, and `BenchError`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
SYSTEMS = ("footnote", "rank-bm25", "bm25s-numpy", "bm25s-numba", "tantivy")
FASTEST_PEERS = ("bm25s-numba", "tantivy")  # the ones Footnote's queries must match (issue 20)
BASELINE = "rank-bm25"
RESULT_PREFIX = "BENCH-RESULT "
NOTES_START = "<!-- notes: kept when the report is regenerated -->"
NOTES_END = "<!-- /notes -->"
LOADS = 3  # Footnote's index load is timed this many times in the serving process; the median is reported


class BenchError(RuntimeError):
    """A measurement failed; the message carries the failing step and the tail of its error output."""


# -- results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusStats:
    target: int
    passages: int  # raw passages as split (before duplicates collapse)
    documents: int
    real_passages: int
    synthetic_documents: int
    characters: int


@dataclass(frozen=True)
class SystemRun:
    system: str
    build_s: float
    load_s: float
    index_mb: float
    build_rss_mb: float
    serve_rss_mb: float
    p50_ms: float
    p99_ms: float
    qps: float
    top10_identical: float | None  # share of queries whose top 10 equals rank-bm25's (same order)
    top10_overlap: float | None  # mean share of rank-bm25's top 10 found in this system's top 10
    build_cores: float = 1.0
    cache_mb: float = 0.0
    load_tokenizer_s: float = 0.0  # (unused since the segmenter's dictionary loads lazily; kept for old reports)
    notes: str = ""
    queries_timed: int = 0  # queries it answered in each interleaved pass (rank-bm25: a sample at large sizes)


@dataclass(frozen=True)
class BuildPhases:
    analyse_s: float
    assemble_s: float
    duplicates_s: float
    postings_s: float
    links_s: float
    documents_analysed: int
    worker_rss_mb: float


@dataclass(frozen=True)
class SizeResult:
    corpus: CorpusStats
    passages: int  # after duplicates collapse: what every system indexes
    queries: int
    runs: tuple[SystemRun, ...]
    phases: BuildPhases
    ask_p50_ms: float
    ask_p99_ms: float
    rebuild_one_s: float | None
    rebuild_phases: BuildPhases | None
    passes: int = 1  # interleaved passes over the queries
    postings_read: float = 1.0  # share of the query terms' postings Footnote's kernel read (max-score skips)

    def run(self, system: str) -> SystemRun | None:
        return next((r for r in self.runs if r.system == system), None)


@dataclass(frozen=True)
class BotResult:
    passages: int
    interactions: int
    guilds: int
    answered: int
    ack_p50_ms: float
    ack_max_ms: float
    answer_p50_ms: float
    answer_p99_ms: float
    answer_max_ms: float
    loop_lag_max_ms: float
    loop_lag_p99_ms: float
    lag_over_50ms: int
    blocks_over_50ms: int  # loop steps (a callback, a task until its next await) that ran > 50 ms
    worst_block_ms: float
    command_blocks_over_50ms: int  # of those, steps of Footnote's commands
    worst_command_block_ms: float
    ready_rss_mb: float
    rss_mb: float
    peak_rss_mb: float
    violations: tuple[str, ...] = ()
    worst_lags: tuple[tuple[float, float], ...] = ()  # (seconds since the burst started, lag ms)
    worst_blocks: tuple[tuple[float, float, str, str], ...] = ()  # (wall ms, loop-thread CPU ms, kind, task)


@dataclass(frozen=True)
class StartupResult:
    seeds_rss_mb: float | None
    seeds_peak_rss_mb: float | None
    cold_ask_s: float | None
    cold_ask_runs: tuple[float, ...] = ()


@dataclass(frozen=True)
class BenchReport:
    command: str
    quick: bool
    machine: dict[str, Any]
    sizes: tuple[SizeResult, ...]
    bot: BotResult | None
    startup: StartupResult | None
    skipped: tuple[str, ...] = field(default=())
