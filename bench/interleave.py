"""Query timing of several systems in one process, interleaved, so that load on the machine hits each alike.

Every system answers every query of the set in each pass; within a pass the queries go in order and, for each
query, the systems take turns in an order rotated by one each query (no system always runs first, right after
another's cache misses). Latencies are single queries, perf_counter_ns around the call. The ratio that counts is
each system's p50 over Footnote's p50 from the same passes. A slow system (rank-bm25 at large sizes) can be
given a sample of the queries: it is then timed on those only, still interleaved with the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Search = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class Timing:
    system: str
    latencies_ms: tuple[float, ...]
    tops: dict[int, list[int]]  # query number -> top 10 (first pass)
    queries: int  # how many queries it answered each pass

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    @property
    def p50(self) -> float:
        return self.percentile(0.5)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    @property
    def qps(self) -> float:
        total = sum(self.latencies_ms)
        return 1000 * len(self.latencies_ms) / total if total else 0.0


def interleaved(
    systems: dict[str, Search],
    queries: Sequence[Sequence[str]],
    *,
    passes: int = 3,
    warmup: int = 20,
    sampled: dict[str, Sequence[int]] | None = None,
) -> dict[str, Timing]:
    """Time `systems` on `queries` (see the module docstring). `sampled`: system -> the query numbers it answers
    (all by default)."""
    sampled = sampled or {}
    names = list(systems)
    subsets = {name: set(sampled[name]) if name in sampled else None for name in names}
    for query in queries[:warmup]:
        for name in names:
            if subsets[name] is None:
                systems[name](query)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    tops: dict[str, dict[int, list[int]]] = {name: {} for name in names}
    turn = 0
    for run in range(passes):
        for number, query in enumerate(queries):
            turn += 1
            for offset in range(len(names)):
                name = names[(turn + offset) % len(names)]
                subset = subsets[name]
                if subset is not None and number not in subset:
                    continue
                started = time.perf_counter_ns()
                top = systems[name](query)
                latencies[name].append((time.perf_counter_ns() - started) / 1e6)
                if run == 0:
                    tops[name][number] = list(top)
    return {name: Timing(name, tuple(latencies[name]), tops[name], len(tops[name])) for name in names}
