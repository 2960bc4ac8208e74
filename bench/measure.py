"""The measurement processes (`python -m bench --measure TASK`): each system's build, and its load, in a fresh
process, so that each peak RSS is that process's own; then one process that loads every system and times their
queries interleaved (bench/interleave.py), so that load on the machine hits each alike. Footnote builds from the
corpus folder and exports its index terms; the peers (bench/peers.py) are given the same tokens. Also top-10
agreement with rank-bm25."""

from __future__ import annotations

import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.results import LOADS, PROJECT_DIR, RESULT_PREFIX, BenchError

log = logging.getLogger(__name__)


# -- measurement processes -----------------------------------------------------------------------------------


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # Linux: kilobytes


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _percentile(samples: Sequence[float], q: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _size_mb(path: Path) -> float:
    if path.is_dir():
        return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 2)
    return round(path.stat().st_size / 2**20, 2) if path.exists() else 0.0


class _BuildLog(logging.Handler):
    """Keeps the figures of index.build's "built index" log line."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.args: tuple[Any, ...] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith("built index"):
            self.args = tuple(record.args or ())

    def phases(self) -> dict[str, Any]:
        if self.args is None:
            return {}
        _, _, _, _, analysed, _, analyse, assemble, duplicates, postings, links = self.args
        return {
            "analyse_s": analyse,
            "assemble_s": assemble,
            "duplicates_s": duplicates,
            "postings_s": postings,
            "links_s": links,
            "documents_analysed": analysed,
        }


def _open_engine(task: dict[str, Any]) -> tuple[Any, float, dict[str, Any]]:
    from index.engine import Engine

    logging.getLogger("jieba").setLevel(logging.WARNING)
    handler = _BuildLog()
    engine_log = logging.getLogger("index.build")
    engine_log.addHandler(handler)
    engine_log.setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        engine = Engine.open(Path(task["corpus"]), Path(task["data"]), mode="search")
    finally:
        engine_log.removeHandler(handler)
    return engine, time.perf_counter() - started, handler.phases()


def _measure_footnote_build(task: dict[str, Any]) -> dict[str, Any]:
    from index.analysis import passage_terms
    from index.engine import clean_question
    from index.sources import index_path
    from index.tokencache import token_cache_path

    wall_started = time.perf_counter()
    cpu_started = _cpu_s(resource.RUSAGE_SELF) + _cpu_s(resource.RUSAGE_CHILDREN)
    engine, seconds, phases = _open_engine(task)
    cpu = _cpu_s(resource.RUSAGE_SELF) + _cpu_s(resource.RUSAGE_CHILDREN) - cpu_started
    wall = time.perf_counter() - wall_started
    result = {
        "build_s": seconds,
        "cores": cpu / wall if wall else 1.0,
        # A large corpus is built in a child process (tokenising in grandchildren): the build's peak is the
        # largest of them; this process then only loads the index.
        "rss_mb": max(_rss_mb(), _rss_mb(resource.RUSAGE_CHILDREN)),
        "worker_rss_mb": _rss_mb(resource.RUSAGE_CHILDREN),
        "phases": phases,
        "passages": len(engine.passages),
    }
    path = index_path(engine.corpus_dir, Path(task["data"]))
    result["index_mb"] = _size_mb(path)
    result["cache_mb"] = _size_mb(token_cache_path(path))
    if task.get("export"):
        # The same tokens for the baselines: each passage's bag of index terms, and the questions' terms.
        bm25 = engine.bm25
        terms = np.repeat(np.arange(len(bm25.vocab), dtype=np.int32), np.diff(bm25.indptr))
        order = np.argsort(bm25.doc_ids, kind="stable")
        ptr = np.zeros(bm25.n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(bm25.doc_ids, minlength=bm25.n_docs), out=ptr[1:])
        np.savez(task["export"], ptr=ptr, terms=terms[order], counts=bm25.tfs[order].astype(np.int32))
        Path(task["export"] + ".json").write_text(
            json.dumps(
                {
                    "vocab": bm25.vocab,
                    "queries": [
                        passage_terms(engine.analyzer, engine.glossary, clean_question(q)) for q in task["questions"]
                    ],
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
    return result


def _load_tokens(export: str) -> tuple[list[list[str]], list[list[str]]]:
    meta = json.loads(Path(export + ".json").read_text(encoding="utf-8"))
    vocab = meta["vocab"]
    with np.load(export) as data:
        ptr, terms, counts = data["ptr"], data["terms"], data["counts"]
    flat = [vocab[t] for t in np.repeat(terms, counts).tolist()]
    bounds = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])[ptr]
    corpus = [flat[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]
    return corpus, meta["queries"]


def _timed_queries(
    queries: Sequence[Sequence[str]], search: Callable[[Sequence[str]], list[int]], repeats: int
) -> tuple[list[float], list[list[int]], float]:
    """Run every query `repeats` times (after a short warm-up); latencies in ms, first-pass top lists, q/s."""
    for query in queries[:5]:
        search(query)
    latencies: list[float] = []
    tops: list[list[int]] = []
    started = time.perf_counter()
    for repeat in range(repeats):
        for query in queries:
            t0 = time.perf_counter_ns()
            top = search(query)
            latencies.append((time.perf_counter_ns() - t0) / 1e6)
            if repeat == 0:
                tops.append(top)
    elapsed = time.perf_counter() - started
    return latencies, tops, len(latencies) / elapsed if elapsed else 0.0


def _measure_footnote_serve(task: dict[str, Any]) -> dict[str, Any]:
    """Footnote as a server has it: the index loaded (median of LOADS loads, one engine at a time), every query
    answered once (the pages a serving process touches), then whole `Engine.ask` calls; its RSS."""
    loads = []
    engine = None
    for _ in range(LOADS):
        engine = None  # one engine at a time, so the peak RSS is one engine's
        engine, seconds, phases = _open_engine(task)
        if phases:
            raise BenchError("the index was rebuilt instead of loaded")
        loads.append(seconds)
    queries = json.loads(Path(task["export"] + ".json").read_text(encoding="utf-8"))["queries"]
    for query in queries:
        engine.bm25.top_k(query, 10)
    ask_latencies = []
    for question in task["questions"][: task["asks"]]:
        t0 = time.perf_counter_ns()
        engine.ask(question, k=5)
        ask_latencies.append((time.perf_counter_ns() - t0) / 1e6)
    return {"load_s": statistics.median(loads), "load_runs": loads, "ask_latencies": ask_latencies, "rss_mb": _rss_mb()}


def _peer(name: str) -> Any:
    from bench.peers import all_peers

    return next(peer for peer in all_peers() if peer.name == name)


def _measure_peer(task: dict[str, Any]) -> dict[str, Any]:
    """A peer's build (given the tokens; saved) or its load (and every query once, as a server would), with the
    process's peak RSS."""
    from bench.peers import folder_mb

    peer = _peer(task["system"])
    folder = Path(task["save"])
    if task["phase"] == "build":
        corpus, _ = _load_tokens(task["export"])
        started = time.perf_counter()
        peer.build(corpus, folder)
        seconds = time.perf_counter() - started
        return {"build_s": seconds, "rss_mb": _rss_mb(), "index_mb": folder_mb(folder)}
    queries = json.loads(Path(task["export"] + ".json").read_text(encoding="utf-8"))["queries"]
    started = time.perf_counter()
    peer.load(folder)
    seconds = time.perf_counter() - started
    for query in queries[: task.get("serve_queries", len(queries))]:
        peer.search(query)
    return {"load_s": seconds, "rss_mb": _rss_mb()}


def _measure_interleaved(task: dict[str, Any]) -> dict[str, Any]:
    """Every system loaded in this one process, queries timed interleaved (bench/interleave.py)."""
    from bench.interleave import interleaved

    engine, _, phases = _open_engine(task)
    if phases:
        raise BenchError("the index was rebuilt instead of loaded")
    bm25 = engine.bm25
    systems: dict[str, Callable[[Sequence[str]], list[int]]] = {
        "footnote": lambda query: bm25.top_k(query, 10)[0].tolist()
    }
    for name, folder in task["peers"].items():
        peer = _peer(name)
        peer.load(Path(folder))
        systems[name] = peer.search
    queries = json.loads(Path(task["export"] + ".json").read_text(encoding="utf-8"))["queries"]
    sampled = {name: list(range(0, len(queries), step)) for name, step in task.get("steps", {}).items()}
    timings = interleaved(systems, queries, passes=task["passes"], sampled=sampled)
    walked = total = 0
    for query in queries:
        bm25.top_k(query, 10)
        walked += bm25.postings_walked
        total += sum(bm25.df(term) for term in query)
    return {
        "systems": {
            name: {"latencies": list(t.latencies_ms), "tops": {str(n): top for n, top in t.tops.items()}}
            for name, t in timings.items()
        },
        "postings_read": walked / total if total else 1.0,
    }


_MEASURES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "footnote-build": _measure_footnote_build,
    "footnote-serve": _measure_footnote_serve,
    "peer": _measure_peer,
    "interleaved": _measure_interleaved,
}


def measure(task: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in this process (the orchestrator calls it in a fresh one)."""
    return _MEASURES[task["kind"]](task)


def _run_measure(task: dict[str, Any], work: Path, timeout: float) -> dict[str, Any]:
    """One measurement in a fresh Python process; its result."""
    handle, name = tempfile.mkstemp(prefix="task-", suffix=".json", dir=work)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(task, out, ensure_ascii=False)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench", "--measure", name],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=PROJECT_DIR,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{task['kind']} took longer than {timeout:.0f} s") from exc
    finally:
        Path(name).unlink(missing_ok=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise BenchError(f"{task['kind']} ({task.get('phase', '')}) failed (exit {done.returncode}):\n{tail}")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


# -- agreement -----------------------------------------------------------------------------------------------


def agreement(tops: dict[str, list[int]], reference: dict[str, list[int]]) -> tuple[float, float] | None:
    """(share of the queries both answered whose top lists are identical, in order; mean share of the reference's
    top found) over the queries both answered (query number -> top list); None when they share none."""
    common = [n for n in tops if n in reference]
    if not common:
        return None
    identical = sum(tops[n] == reference[n] for n in common) / len(common)
    overlap = statistics.fmean(
        len(set(tops[n]) & set(reference[n])) / len(reference[n]) if reference[n] else float(not tops[n])
        for n in common
    )
    return identical, overlap
