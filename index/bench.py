"""`footnote bench`: how Footnote's cost grows with the corpus, side by side with plain rank-bm25 and bm25s.

Corpora. For each size (about 1k, 10k and 100k passages by default) a corpus folder is written from real text:
the seed documents (with their catalog, glossary and jieba user dictionary, so Footnote runs as configured),
then whole Wikipedia articles of the CMRC 2018 and DRCD dev sets (../shared/bench, simplified and traditional
Chinese, interleaved; one paragraph a line). The engine's own splitter counts the passages. That real text
holds about 2,900 passages; larger sizes are reached with synthetic documents whose paragraphs are 2 to 9
real sentences drawn at random from those articles, with every digit redrawn. The report says how many
passages are real.

Systems, on the same tokens. Footnote builds its index from the corpus folder (tokenising with jieba, glossary
concept terms included). Its index terms are exported per passage and given, unchanged, to rank-bm25
(BM25Okapi, with Footnote's k1 and b; a query is `get_scores` + argsort) and to bm25s (method "robertson", the
closest to BM25Okapi, same k1 and b; a query is `retrieve(k=10)`). The queries are real questions (CMRC 2018,
DRCD, the seed question set), turned into terms by the same function as passages. Footnote's query is
`BM25Index.top_k` on those terms; its full `Engine.ask` (analysis, glossary and dictionary expansion, coverage,
merging, excerpts) is timed separately.

Fresh processes. Each system builds its index in one fresh process (`python -m index.bench --measure ...`) and
loads it and answers the queries in another, so each peak RSS (ru_maxrss) is that process's own. A build's
"cores" is its CPU time (its tokenising workers included) over its wall time. rank-bm25 has no file format;
it is saved the way its users do, with pickle (in the benchmark's temporary folder only). Top-10 agreement
compares each system's top 10 (positive scores, ties by passage number) with rank-bm25's for every query.

Responsiveness (`tests/e2e/bench_bot.py`, imported only when run from a source checkout): the real bot, in a
process of its own, loads the largest corpus and serves a burst of /ask interactions from the local Discord
twin across many guilds, while a ticker on its event loop measures how late it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.ranking import BM25_PARAMS  # the peers score with Footnote's k1 and b, so their top 10 is comparable

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
SYSTEMS = ("footnote", "rank-bm25", "bm25s")
BASELINE = "rank-bm25"
RESULT_PREFIX = "BENCH-RESULT "
NOTES_START = "<!-- notes: kept when the report is regenerated -->"
NOTES_END = "<!-- /notes -->"
_SYNTHETIC_SEED = 20251209
_SENTENCE_RE = re.compile(r"[^。！？!?；]+[。！？!?；]*[”」』）)]*")


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
    load_tokenizer_s: float = 0.0  # of load_s: jieba's dictionary (Footnote only; the others are given tokens)
    notes: str = ""


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


# -- corpora -----------------------------------------------------------------------------------------------


def _squad_articles(path: Path, prefix: str) -> list[tuple[str, list[str], list[str]]]:
    """(name, paragraphs, questions) of each article of a SQuAD-format file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    articles = []
    for index, article in enumerate(data["data"]):
        paragraphs = [p["context"].strip() for p in article["paragraphs"] if p["context"].strip()]
        questions = [qa["question"] for p in article["paragraphs"] for qa in p["qas"]]
        articles.append((f"{prefix}-{index:04d}", paragraphs, questions))
    return articles


def real_sources(bench_dir: Path | None) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Wikipedia articles (name, paragraphs) of the shared CMRC 2018 and DRCD dev sets, interleaved, and their
    questions (interleaved too). Empty when the data is not there."""
    sets = []
    if bench_dir is not None:
        for folder, name, prefix in (("cmrc2018", "cmrc2018_dev.json", "cmrc"), ("drcd", "DRCD_dev.json", "drcd")):
            path = bench_dir / folder / name
            if path.exists():
                sets.append(_squad_articles(path, prefix))
    articles: list[tuple[str, list[str]]] = []
    questions: list[str] = []
    for i in range(max((len(s) for s in sets), default=0)):
        for articles_of_set in sets:
            if i < len(articles_of_set):
                name, paragraphs, asked = articles_of_set[i]
                articles.append((name, paragraphs))
                questions.extend(asked[:3])
    return articles, questions


def seed_questions(eval_file: Path | None) -> list[str]:
    if eval_file is None or not eval_file.exists():
        return []
    return [json.loads(line)["q"] for line in eval_file.read_text(encoding="utf-8").splitlines() if line.strip()]


def make_corpus(
    folder: Path,
    target: int,
    *,
    seeds_dir: Path,
    articles: Sequence[tuple[str, list[str]]],
    seed: int = _SYNTHETIC_SEED,
) -> CorpusStats:
    """Write a corpus of about `target` passages into `folder` (see the module docstring)."""
    from index.corpus import document_files
    from index.passages import split_document

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in ("catalog.toml", "glossary.toml", "userdict.txt"):
        if (seeds_dir / name).exists():
            shutil.copy(seeds_dir / name, folder / name)
    passages = documents = characters = 0

    def add(name: str, text: str) -> None:
        nonlocal passages, documents, characters
        (folder / name).write_text(text, encoding="utf-8")
        passages += len(split_document(name, text))
        documents += 1
        characters += len(text)

    for path in document_files(seeds_dir):
        if passages >= target:
            break
        add(path.name, path.read_text(encoding="utf-8"))
    for name, paragraphs in articles:
        if passages >= target:
            break
        add(f"{name}.txt", "\n".join(paragraphs) + "\n")
    real = passages
    sentences = [s.strip() for _, paragraphs in articles for p in paragraphs for s in _SENTENCE_RE.findall(p)]
    sentences = [s for s in sentences if len(s) >= 8]
    rng = random.Random(seed)
    synthetic = 0
    if passages < target and not sentences:
        raise BenchError(
            f"cannot reach {target:,} passages: the seeds give {passages:,}, and the CMRC 2018 / DRCD articles for "
            "the rest were not found (shared/bench beside the project folder: cmrc2018/cmrc2018_dev.json, "
            "drcd/DRCD_dev.json)"
        )
    while passages < target:
        paragraphs = []
        for _ in range(rng.randint(3, 12)):
            picked = "".join(sentences[rng.randrange(len(sentences))] for _ in range(rng.randint(2, 9)))
            paragraphs.append(re.sub(r"\d", lambda _: str(rng.randrange(10)), picked))
        add(f"mix-{synthetic:06d}.txt", "\n".join(paragraphs) + "\n")
        synthetic += 1
    return CorpusStats(target, passages, documents, real, synthetic, characters)


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
    """Keeps the figures of index.engine's "built index" log line."""

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
    engine_log = logging.getLogger("index.engine")
    engine_log.addHandler(handler)
    engine_log.setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        engine = Engine.open(Path(task["corpus"]), Path(task["data"]), mode="search")
    finally:
        engine_log.removeHandler(handler)
    return engine, time.perf_counter() - started, handler.phases()


def _measure_footnote_build(task: dict[str, Any]) -> dict[str, Any]:
    from index.engine import clean_question, index_path, passage_terms, token_cache_path

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


LOADS = 3  # Footnote's index load is timed this many times in the serving process; the median is reported


def _measure_footnote_serve(task: dict[str, Any]) -> dict[str, Any]:
    loads = []
    engine = None
    for _ in range(LOADS):
        engine = None  # one engine at a time, so the peak RSS is one engine's
        engine, seconds, phases = _open_engine(task)
        if phases:
            raise BenchError("the index was rebuilt instead of loaded")
        loads.append(seconds)
    seconds = statistics.median(loads)
    queries = json.loads(Path(task["export"] + ".json").read_text(encoding="utf-8"))["queries"]

    def search(query: Sequence[str]) -> list[int]:
        return engine.bm25.top_k(query, 10)[0].tolist()

    latencies, tops, qps = _timed_queries(queries, search, task["repeats"])
    ask_latencies = []
    for question in task["questions"][: task["asks"]]:
        t0 = time.perf_counter_ns()
        engine.ask(question, k=5)
        ask_latencies.append((time.perf_counter_ns() - t0) / 1e6)
    rss = _rss_mb()
    # The part of the load that does not depend on the corpus: jieba's dictionary (timed once more, alike).
    from index.engine import TokenizerSpec

    userdict = Path(task["corpus"]) / "userdict.txt"
    t0 = time.perf_counter()
    TokenizerSpec("search", (str(userdict),) if userdict.exists() else (), task["data"], engine.glossary).analyzer()
    return {
        "load_s": seconds,
        "load_runs": loads,
        "tokenizer_s": time.perf_counter() - t0,
        "latencies": latencies,
        "tops": tops,
        "qps": qps,
        "ask_latencies": ask_latencies,
        "rss_mb": rss,
    }


def _measure_rank_bm25(task: dict[str, Any]) -> dict[str, Any]:
    import pickle

    from rank_bm25 import BM25Okapi

    path = Path(task["save"])
    if task["phase"] == "build":
        corpus, _ = _load_tokens(task["export"])
        started = time.perf_counter()
        bm25 = BM25Okapi(corpus, k1=BM25_PARAMS.k1, b=BM25_PARAMS.b, epsilon=BM25_PARAMS.epsilon)  # Footnote's
        seconds = time.perf_counter() - started
        with path.open("wb") as handle:  # rank-bm25 has no file format; its users pickle it (a temp file here)
            pickle.dump(bm25, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return {"build_s": seconds, "rss_mb": _rss_mb(), "index_mb": _size_mb(path)}
    queries = json.loads(Path(task["export"] + ".json").read_text(encoding="utf-8"))["queries"]
    started = time.perf_counter()
    with path.open("rb") as handle:
        bm25 = pickle.load(handle)  # the benchmark's own file, written just before
    seconds = time.perf_counter() - started

    def search(query: Sequence[str]) -> list[int]:
        scores = bm25.get_scores(query)
        top = np.argsort(-scores, kind="stable")[:10]
        return [int(d) for d in top if scores[d] > 0]

    latencies, tops, qps = _timed_queries(queries, search, task["repeats"])
    return {"load_s": seconds, "latencies": latencies, "tops": tops, "qps": qps, "rss_mb": _rss_mb()}


def _measure_bm25s(task: dict[str, Any]) -> dict[str, Any]:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    folder = Path(task["save"])
    if task["phase"] == "build":
        corpus, _ = _load_tokens(task["export"])
        started = time.perf_counter()
        retriever = bm25s.BM25(k1=BM25_PARAMS.k1, b=BM25_PARAMS.b, method="robertson")
        retriever.index(corpus, show_progress=False)
        seconds = time.perf_counter() - started
        retriever.save(str(folder), show_progress=False)
        return {"build_s": seconds, "rss_mb": _rss_mb(), "index_mb": _size_mb(folder)}
    queries = json.loads(Path(task["export"] + ".json").read_text(encoding="utf-8"))["queries"]
    started = time.perf_counter()
    retriever = bm25s.BM25.load(str(folder), load_vocab=True, show_progress=False)
    seconds = time.perf_counter() - started
    k = min(10, retriever.scores["num_docs"])

    def search(query: Sequence[str]) -> list[int]:
        documents, scores = retriever.retrieve([list(query)], k=k, show_progress=False)
        return [int(d) for d, s in zip(documents[0], scores[0], strict=True) if s > 0]

    latencies, tops, qps = _timed_queries([q for q in queries if q], search, task["repeats"])
    return {"load_s": seconds, "latencies": latencies, "tops": tops, "qps": qps, "rss_mb": _rss_mb()}


_MEASURES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "footnote-build": _measure_footnote_build,
    "footnote-serve": _measure_footnote_serve,
    "rank-bm25": _measure_rank_bm25,
    "bm25s": _measure_bm25s,
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
            [sys.executable, "-m", "index.bench", "--measure", name],
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


def agreement(tops: Sequence[Sequence[int]], reference: Sequence[Sequence[int]]) -> tuple[float, float]:
    """(share of queries with the same top list in the same order, mean share of the reference's top found)."""
    if not reference:
        return 1.0, 1.0
    identical = sum(list(a) == list(b) for a, b in zip(tops, reference, strict=True))
    overlap = [len(set(a) & set(b)) / len(b) if b else float(not a) for a, b in zip(tops, reference, strict=True)]
    return identical / len(reference), statistics.fmean(overlap)


# -- orchestration -------------------------------------------------------------------------------------------


def _phases(raw: dict[str, Any], worker_rss: float) -> BuildPhases:
    return BuildPhases(
        analyse_s=round(raw.get("analyse_s", 0.0), 3),
        assemble_s=round(raw.get("assemble_s", 0.0), 3),
        duplicates_s=round(raw.get("duplicates_s", 0.0), 3),
        postings_s=round(raw.get("postings_s", 0.0), 3),
        links_s=round(raw.get("links_s", 0.0), 3),
        documents_analysed=int(raw.get("documents_analysed", 0)),
        worker_rss_mb=worker_rss,
    )


def _baselines_available() -> dict[str, str]:
    """System -> why it is skipped, for baselines whose package is missing."""
    missing = {}
    for system, module in (("rank-bm25", "rank_bm25"), ("bm25s", "bm25s")):
        if importlib.util.find_spec(module) is None:
            missing[system] = f"{module} is not installed (pip install -e '.[bench]')"
    return missing


def bench_size(
    target: int,
    work: Path,
    *,
    seeds_dir: Path,
    articles: Sequence[tuple[str, list[str]]],
    questions: Sequence[str],
    repeats: int,
    asks: int,
    rebuild: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> SizeResult:
    """Build the corpus of about `target` passages and measure every system on it."""
    folder = work / f"corpus-{target}"
    data = work / f"data-{target}"
    shutil.rmtree(data, ignore_errors=True)
    progress(f"{target:,} passages: writing the corpus")
    stats = make_corpus(folder, target, seeds_dir=seeds_dir, articles=articles)
    export = str(work / f"tokens-{target}.npz")
    timeout = 120 + target * 0.03
    progress(f"{target:,} passages: building Footnote's index ({stats.documents:,} documents)")
    base = {"corpus": str(folder), "data": str(data), "questions": list(questions), "export": export}
    built = _run_measure({**base, "kind": "footnote-build"}, work, timeout)
    progress(f"{target:,} passages: loading it and querying")
    served = _run_measure({**base, "kind": "footnote-serve", "repeats": repeats, "asks": asks}, work, timeout)
    raw: dict[str, dict[str, Any]] = {"footnote": {**built, **served}}
    missing = _baselines_available()
    for system in ("rank-bm25", "bm25s"):
        if system in missing:
            continue
        save = str(work / f"{system}-{target}{'.pickle' if system == 'rank-bm25' else ''}")
        progress(f"{target:,} passages: {system}")
        common = {"kind": system, "export": export, "save": save}
        built_other = _run_measure({**common, "phase": "build"}, work, timeout)
        reps = 1 if system == "rank-bm25" and target >= 10_000 else repeats
        served_other = _run_measure({**common, "phase": "serve", "repeats": reps}, work, timeout * 3)
        raw[system] = {**built_other, **served_other, "build_rss_mb": built_other["rss_mb"]}
    reference = raw.get(BASELINE, {}).get("tops")
    runs = []
    for system in SYSTEMS:
        if system not in raw:
            continue
        r = raw[system]
        same, overlap = agreement(r["tops"], reference) if reference is not None else (None, None)
        runs.append(
            SystemRun(
                system=system,
                build_s=round(r["build_s"], 3),
                load_s=round(r["load_s"], 3),
                index_mb=r["index_mb"],
                build_rss_mb=built["rss_mb"] if system == "footnote" else r["build_rss_mb"],
                serve_rss_mb=r["rss_mb"] if system != "footnote" else served["rss_mb"],
                p50_ms=round(_percentile(r["latencies"], 0.5), 4),
                p99_ms=round(_percentile(r["latencies"], 0.99), 4),
                qps=round(r["qps"], 1),
                top10_identical=None if same is None else round(same, 4),
                top10_overlap=None if overlap is None else round(overlap, 4),
                build_cores=round(built["cores"], 2) if system == "footnote" else 1.0,
                load_tokenizer_s=round(served["tokenizer_s"], 3) if system == "footnote" else 0.0,
                cache_mb=built["cache_mb"] if system == "footnote" else 0.0,
                notes={
                    "footnote": "build includes tokenising (jieba, glossary) and duplicate detection",
                    "rank-bm25": "given the tokens; saved with pickle (no file format)",
                    "bm25s": "given the tokens; method robertson; retrieve(k=10) per query",
                }[system],
            )
        )
    rebuild_s = rebuild_phases = None
    if rebuild:
        # One new document (real sentences, like the synthetic ones) added to the indexed corpus.
        progress(f"{target:,} passages: rebuilding after adding one document")
        sentences = [s for _, paragraphs in articles for p in paragraphs for s in _SENTENCE_RE.findall(p)][:40]
        (folder / "zz-added-document.txt").write_text(
            "\n".join("".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)) + "\n", encoding="utf-8"
        )
        again = _run_measure({**base, "kind": "footnote-build", "export": ""}, work, timeout)
        rebuild_s = round(again["build_s"], 3)
        rebuild_phases = _phases(again["phases"], again["worker_rss_mb"])
    return SizeResult(
        corpus=stats,
        passages=built["passages"],
        queries=len(questions),
        runs=tuple(runs),
        phases=_phases(built["phases"], built["worker_rss_mb"]),
        ask_p50_ms=round(_percentile(served["ask_latencies"], 0.5), 3),
        ask_p99_ms=round(_percentile(served["ask_latencies"], 0.99), 3),
        rebuild_one_s=rebuild_s,
        rebuild_phases=rebuild_phases,
    )


def cold_ask(seeds_dir: Path, work: Path, runs: int = 3) -> tuple[float, ...]:
    """Wall time of `footnote ask` in a fresh process (index already built), `runs` times."""
    data = work / "data-seeds"
    env = {**os.environ, "CORPUS_DIR": str(seeds_dir), "DATA_DIR": str(data), "DATABASE_PATH": str(data / "db")}
    env.pop("LOG_LEVEL", None)
    command = [sys.executable, "-m", "bot", "ask", "OpenAI 为什么要暂停 Sora?", "--json"]
    subprocess.run(command, capture_output=True, env=env, cwd=PROJECT_DIR, check=True, timeout=300)  # builds
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, env=env, cwd=PROJECT_DIR, check=True, timeout=300)
        times.append(round(time.perf_counter() - started, 3))
    return tuple(times)


def _bot_module() -> Any | None:
    """tests/e2e/bench_bot.py, when this is a source checkout with the test extras installed."""
    if not (PROJECT_DIR / "tests" / "e2e" / "bench_bot.py").exists():
        return None
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    try:
        return importlib.import_module("tests.e2e.bench_bot")
    except ImportError as exc:
        log.warning("bot benchmark unavailable: %s", exc)
        return None


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "numpy": np.__version__,
    }
    for module in ("rank_bm25", "bm25s", "jieba", "discord"):
        try:
            info[module] = importlib.metadata.version(module.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            info[module] = None
    with contextlib.suppress(OSError):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return info


def run_benchmark(
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    quick: bool = False,
    work_dir: Path | None = None,
    bench_dir: Path | None = None,
    seeds_dir: Path | None = None,
    queries: int | None = None,
    bot: bool = True,
    bot_interactions: int | None = None,
    bot_guilds: int | None = None,
    startup: bool = True,
    rebuild: bool = True,
    command: str = "",
    progress: Callable[[str], None] = lambda _: None,
) -> BenchReport:
    """Measure every size, then the bot's responsiveness on the largest and its start-up on the seeds."""
    seeds_dir = (seeds_dir or PROJECT_DIR / "seeds").resolve()
    bench_dir = bench_dir if bench_dir is not None else PROJECT_DIR.parent / "shared" / "bench"
    articles, questions = real_sources(bench_dir if bench_dir.exists() else None)
    questions = seed_questions(PROJECT_DIR.parent / "shared" / "eval" / "dev_ask.jsonl") + questions
    if not questions:
        questions = [p[:24] for _, paragraphs in articles for p in paragraphs] or ["OpenAI 为什么要暂停 Sora?"]
    n_queries = queries if queries is not None else (60 if quick else 300)
    questions = questions[:n_queries]
    skipped = [f"{system}: {why}" for system, why in _baselines_available().items()]
    with contextlib.ExitStack() as stack:
        if work_dir is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="footnote-bench-")))
        else:
            work = work_dir.resolve()
            work.mkdir(parents=True, exist_ok=True)
        results = []
        for target in sizes:
            results.append(
                bench_size(
                    target,
                    work,
                    seeds_dir=seeds_dir,
                    articles=articles,
                    questions=questions,
                    repeats=1 if quick else 3,
                    asks=min(len(questions), 30 if quick else 100),
                    rebuild=rebuild,
                    progress=progress,
                )
            )
        bot_result = None
        startup_result = None
        module = _bot_module() if (bot or startup) else None
        if (bot or startup) and module is None:
            skipped.append("bot: needs a source checkout with the test extras (tests/e2e, aiohttp, jsonschema)")
        if bot and module is not None and results:
            largest = max(sizes)
            progress(f"bot: a burst of /ask interactions over the {largest:,}-passage corpus")
            measured = module.measure_burst(
                work / f"corpus-{largest}",
                work / f"data-{largest}",
                questions=questions,
                interactions=bot_interactions or (40 if quick else 200),
                guilds=bot_guilds or (4 if quick else 20),
            )
            bot_result = BotResult(passages=results[sizes.index(largest)].passages, **measured)
        if startup:
            progress("start-up: the bot and a cold `footnote ask` on the seeds corpus")
            rss = module.measure_startup(seeds_dir, work / "data-bot-seeds") if module is not None else {}
            runs = cold_ask(seeds_dir, work)
            startup_result = StartupResult(
                seeds_rss_mb=rss.get("rss_mb"),
                seeds_peak_rss_mb=rss.get("peak_rss_mb"),
                cold_ask_s=statistics.median(runs),
                cold_ask_runs=runs,
            )
    return BenchReport(
        command=command or "footnote bench",
        quick=quick,
        machine=machine_info(),
        sizes=tuple(results),
        bot=bot_result,
        startup=startup_result,
        skipped=tuple(skipped),
    )


# -- reporting -----------------------------------------------------------------------------------------------


def to_json(report: BenchReport) -> dict[str, Any]:
    return asdict(report)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if a and b else None


def targets(report: BenchReport) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for the issue's targets, from the largest size measured."""
    rows: list[tuple[str, str, bool | None]] = []
    if report.sizes:
        size = max(report.sizes, key=lambda s: s.passages)
        ours, plain, other = size.run("footnote"), size.run("rank-bm25"), size.run("bm25s")
        at = f"at {size.passages:,} passages"
        if ours and plain:
            speedup = plain.p50_ms / ours.p50_ms if ours.p50_ms else 0.0
            rows.append((f"query p50 ≥ 50× faster than rank-bm25 ({at})", f"{speedup:,.0f}×", speedup >= 50))
            same = ours.top10_identical or 0.0
            rows.append((f"same top-10 as rank-bm25 ({at})", f"{same:.1%} of queries identical", same >= 0.999))
        if ours and other:
            ratio = ours.p50_ms / other.p50_ms if other.p50_ms else 0.0
            rows.append((f"query p50 ≤ 1.5× bm25s ({at})", f"{ratio:.2f}× bm25s", ratio <= 1.5))
        if ours:
            rows.append(
                (
                    f"index load < 2 s ({at})",
                    f"{ours.load_s:.2f} s (Engine.open, median of {LOADS}; "
                    f"{ours.load_tokenizer_s:.2f} s of it jieba's dictionary)",
                    ours.load_s < 2,
                )
            )
            peak = max(ours.serve_rss_mb, ours.build_rss_mb)
            bot_peak = ""
            if report.bot is not None and report.bot.passages == size.passages:
                peak = max(peak, report.bot.peak_rss_mb)
                bot_peak = f"; the bot under the burst {report.bot.peak_rss_mb:.0f} MB"
            rows.append(
                (
                    f"peak RSS < 600 MB ({at})",
                    f"serve {ours.serve_rss_mb:.0f} MB; build {ours.build_rss_mb:.0f} MB (largest process of the "
                    f"build){bot_peak}",
                    peak < 600,
                )
            )
            share = size.phases.analyse_s / ours.build_s if ours.build_s else 0.0
            rows.append(
                (
                    f"build limited by tokenisation, both cores ({at})",
                    f"tokenising {share:.0%} of {ours.build_s:.1f} s, {ours.build_cores:.2f} cores",
                    share >= 0.75 and ours.build_cores >= 1.6,
                )
            )
        if size.rebuild_one_s is not None:
            rows.append(
                (
                    f"rebuild after adding one document takes seconds ({at})",
                    f"{size.rebuild_one_s:.1f} s",
                    size.rebuild_one_s < 10,
                )
            )
    if report.bot:
        bot = report.bot
        at = f"at {bot.passages:,} passages"
        rows.append(
            (
                f"no command blocks the event loop > 50 ms ({at})",
                f"longest command step {bot.worst_command_block_ms:.0f} ms ({bot.command_blocks_over_50ms} over "
                f"50 ms); worst loop lag {bot.loop_lag_max_ms:.0f} ms (p99 {bot.loop_lag_p99_ms:.0f} ms)",
                bot.command_blocks_over_50ms == 0,
            )
        )
        rows.append(
            (
                f"{bot.interactions} /ask across {bot.guilds} guilds acknowledged < 3 s, all answered",
                f"slowest ack {bot.ack_max_ms:.0f} ms; {bot.answered}/{bot.interactions} answered",
                bot.ack_max_ms < 3000 and bot.answered == bot.interactions and not bot.violations,
            )
        )
    if report.startup:
        start = report.startup
        if start.seeds_rss_mb is not None:
            rows.append(
                (
                    "start-up with the seeds corpus < 200 MB RSS",
                    f"{start.seeds_rss_mb:.0f} MB",
                    start.seeds_rss_mb < 200,
                )
            )
        if start.cold_ask_s is not None:
            rows.append(("cold `footnote ask` < 1.5 s", f"{start.cold_ask_s:.2f} s (median)", start.cold_ask_s < 1.5))
    return rows


def _mark(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "**missed**")


def markdown(report: BenchReport, plot_name: str | None = "benchmarks.png", notes: str = "") -> str:
    machine = report.machine
    lines = [
        "# Benchmarks",
        "",
        "Measured by `footnote bench` (index/bench.py) on one machine in one run: "
        f"{machine.get('cpus')} cores, Python {machine.get('python')}, numpy {machine.get('numpy')}, "
        f"rank-bm25 {machine.get('rank_bm25')}, bm25s {machine.get('bm25s')}, jieba {machine.get('jieba')}"
        + (f"; load average at the end {machine['load_average']}" if machine.get("load_average") else "")
        + ". Compare ratios, not absolute times.",
        "",
        "Reproduce (from the project folder, with `pip install -e '.[test,bench]'`):",
        "",
        "```",
        report.command,
        "```",
        "",
        "How: see the docstring of index/bench.py. In short: corpora of real text (the seeds, then CMRC 2018 and "
        "DRCD Wikipedia articles); sizes beyond the real text are reached with synthetic documents made of real "
        "sentences drawn at random (digits redrawn). Every system gets the same tokens (Footnote's index terms) "
        "and is measured in fresh processes: one builds and saves, another loads and answers the same real "
        "questions.",
        "",
    ]
    if report.quick:
        lines += ["*Quick run (`--quick`): fewer queries and a smaller bot burst.*", ""]
    lines += ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {_mark(met)} |" for name, value, met in targets(report)]
    lines += [
        "",
        "## Corpora",
        "",
        "| target | passages (after duplicates) | documents | real passages | synthetic documents | characters |",
        "|---|---|---|---|---|---|",
    ]
    for size in report.sizes:
        c = size.corpus
        lines.append(
            f"| {c.target:,} | {size.passages:,} | {c.documents:,} | {c.real_passages:,} | "
            f"{c.synthetic_documents:,} | {c.characters:,} |"
        )
    lines += [
        "",
        "## Side by side",
        "",
        "Query: the same tokens for all three; p50/p99 of single queries, q/s over all of them. Top-10: share of "
        "queries whose top 10 is identical (same passages, same order) to rank-bm25's, and mean overlap.",
        "",
        "| passages | system | build s | load s | index MB | peak RSS build / serve MB | query p50 ms | p99 ms | "
        "q/s | top-10 identical | overlap |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in report.sizes:
        for run in size.runs:
            same = "—" if run.top10_identical is None else f"{run.top10_identical:.1%}"
            overlap = "—" if run.top10_overlap is None else f"{run.top10_overlap:.1%}"
            index = f"{run.index_mb:,.1f}" + (f" (+{run.cache_mb:,.1f} token cache)" if run.cache_mb else "")
            load = f"{run.load_s:,.2f}" + (f" ({run.load_tokenizer_s:.2f} jieba)" if run.load_tokenizer_s else "")
            lines.append(
                f"| {size.passages:,} | {run.system} | {run.build_s:,.2f} | {load} | {index} | "
                f"{run.build_rss_mb:,.0f} / {run.serve_rss_mb:,.0f} | {run.p50_ms:,.3f} | {run.p99_ms:,.3f} | "
                f"{run.qps:,.0f} | {same} | {overlap} |"
            )
    lines += [
        "",
        "Ratios (Footnote against each baseline, same run):",
        "",
        "| passages | p50 speed-up vs rank-bm25 | p50 vs bm25s | load vs bm25s | serve RSS vs rank-bm25 | "
        "serve RSS vs bm25s | Footnote `ask` p50 / p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in report.sizes:
        ours, plain, other = size.run("footnote"), size.run("rank-bm25"), size.run("bm25s")
        if ours is None:
            continue

        def fmt(value: float | None, suffix: str = "×") -> str:
            return "—" if value is None else f"{value:,.2f}{suffix}"

        lines.append(
            f"| {size.passages:,} | {fmt(_ratio(plain.p50_ms, ours.p50_ms) if plain else None)} | "
            f"{fmt(_ratio(ours.p50_ms, other.p50_ms) if other else None)} | "
            f"{fmt(_ratio(ours.load_s, other.load_s) if other else None)} | "
            f"{fmt(_ratio(ours.serve_rss_mb, plain.serve_rss_mb) if plain else None)} | "
            f"{fmt(_ratio(ours.serve_rss_mb, other.serve_rss_mb) if other else None)} | "
            f"{size.ask_p50_ms:,.1f} / {size.ask_p99_ms:,.1f} |"
        )
    if plot_name:
        lines += ["", f"![Query latency against corpus size]({plot_name})"]
    lines += [
        "",
        "## Footnote's build",
        "",
        "| passages | build s | cores | tokenise s | assemble s | duplicates s | postings s | CC-CEDICT links s "
        "| rebuild after adding one document s (documents analysed) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size in report.sizes:
        ours = size.run("footnote")
        p = size.phases
        rebuild = (
            "—"
            if size.rebuild_one_s is None or size.rebuild_phases is None
            else f"{size.rebuild_one_s:,.2f} ({size.rebuild_phases.documents_analysed})"
        )
        lines.append(
            f"| {size.passages:,} | {ours.build_s if ours else 0:,.2f} | {ours.build_cores if ours else 0:.2f} | "
            f"{p.analyse_s:,.2f} | {p.assemble_s:,.2f} | {p.duplicates_s:,.2f} | {p.postings_s:,.2f} | "
            f"{p.links_s:,.2f} | {rebuild} |"
        )
    if report.bot:
        b = report.bot
        lines += [
            "",
            "## The bot under load",
            "",
            f"The bot (all cogs) in its own process over the {b.passages:,}-passage corpus; the local Discord twin "
            f"sends {b.interactions} /ask interactions at once from {b.interactions} users across {b.guilds} guilds. "
            "A ticker on the bot's event loop (every 5 ms) measures how late the loop runs.",
            "",
            "| acknowledged p50 / max ms | answered | answer p50 / p99 / max ms | loop lag max / p99 ms | "
            "steps > 50 ms: all / commands (longest) | bot RSS ready / after / peak MB | contract violations |",
            "|---|---|---|---|---|---|---|",
            f"| {b.ack_p50_ms:,.0f} / {b.ack_max_ms:,.0f} | {b.answered}/{b.interactions} | "
            f"{b.answer_p50_ms:,.0f} / {b.answer_p99_ms:,.0f} / {b.answer_max_ms:,.0f} | "
            f"{b.loop_lag_max_ms:,.1f} / {b.loop_lag_p99_ms:,.1f} | "
            f"{b.blocks_over_50ms} ({b.worst_block_ms:,.0f} ms) / {b.command_blocks_over_50ms} "
            f"({b.worst_command_block_ms:,.0f} ms) | "
            f"{b.ready_rss_mb:,.0f} / {b.rss_mb:,.0f} / {b.peak_rss_mb:,.0f} | {len(b.violations)} |",
            "",
            "Loop lag: how late a 5 ms ticker on the bot's loop woke during the burst (it adds up everything the "
            "loop had queued at once). Steps: every step the loop ran (a callback, or a task until its next await), "
            "timed in normal mode; those over 50 ms are listed with the loop thread's CPU time during the step (the "
            "rest of the wall time it waited for the GIL or a core) and what they were. Engine calls run on the "
            "bot's engine thread (cogs/engine_thread.py), so command steps are only parsing, rendering and I/O.",
        ]
        for ms, cpu, kind, where in b.worst_blocks:
            lines.append(f"- {ms:,.0f} ms ({cpu:,.0f} ms CPU), {kind}: `{where[:140]}`")
        if b.worst_lags:
            worst = ", ".join(f"{lag:.0f} ms at {at:+.2f} s" for at, lag in b.worst_lags)
            lines += ["", f"Worst loop lags (time from the start of the burst): {worst}."]
    if report.startup:
        s = report.startup
        lines += ["", "## Start-up", ""]
        if s.seeds_rss_mb is not None:
            lines.append(
                f"- The bot, ready, with the seeds corpus: {s.seeds_rss_mb:.0f} MB RSS "
                f"(peak {s.seeds_peak_rss_mb:.0f} MB)."
            )
        if s.cold_ask_s is not None:
            runs = ", ".join(f"{t:.2f}" for t in s.cold_ask_runs)
            lines.append(f"- A cold `footnote ask` (new process, index built): {s.cold_ask_s:.2f} s median ({runs} s).")
    if report.skipped:
        lines += ["", "Skipped: " + "; ".join(report.skipped) + "."]
    lines += ["", "## Notes", "", NOTES_START, notes.strip() or "(none yet)", NOTES_END, ""]
    return "\n".join(lines)


def plot(report: BenchReport, path: Path) -> bool:
    """Query latency (p50, and p99 dashed) against corpus size, log-log. False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed (pip install -e '.[bench]'); no plot")
        return False
    figure, axes = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    colours = {"footnote": "tab:blue", "rank-bm25": "tab:red", "bm25s": "tab:green"}
    for system in SYSTEMS:
        points = [(s.passages, s.run(system)) for s in report.sizes if s.run(system) is not None]
        if not points:
            continue
        xs = [p for p, _ in points]
        axes.plot(xs, [r.p50_ms for _, r in points], "o-", color=colours[system], label=f"{system} p50")
        axes.plot(xs, [r.p99_ms for _, r in points], ":", color=colours[system], label=f"{system} p99")
    xs = [s.passages for s in report.sizes]
    if xs:
        axes.plot(xs, [s.ask_p50_ms for s in report.sizes], "s--", color="tab:purple", label="Footnote ask() p50")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("passages")
    axes.set_ylabel("query latency (ms)")
    axes.set_title("Query latency against corpus size (same tokens)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return True


def write_report(report: BenchReport, out: Path) -> Path | None:
    """Write the Markdown report to `out` and the plot beside it (same name, .png); hand-written notes already
    in `out` (between the notes markers) are kept. Returns the plot's path, or None without matplotlib."""
    notes = ""
    if out.exists():
        existing = out.read_text(encoding="utf-8")
        if NOTES_START in existing and NOTES_END in existing:
            notes = existing.split(NOTES_START, 1)[1].split(NOTES_END, 1)[0].strip()
            notes = "" if notes == "(none yet)" else notes
    png = out.with_suffix(".png")
    drawn = plot(report, png)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(report, png.name if drawn else None, notes), encoding="utf-8")
    return png if drawn else None


def format_text(report: BenchReport) -> str:
    """Plain terminal summary: the targets, then one line per size and system."""
    lines = []
    for name, value, met in targets(report):
        lines.append(f"[{'ok' if met else 'MISS' if met is False else '--'}] {name}: {value}")
    for size in report.sizes:
        lines.append(f"\n{size.passages:,} passages ({size.corpus.real_passages:,} real):")
        for run in size.runs:
            same = "" if run.top10_identical is None else f", top-10 identical {run.top10_identical:.1%}"
            lines.append(
                f"  {run.system:<10} build {run.build_s:8.2f} s  load {run.load_s:6.2f} s  {run.index_mb:8.1f} MB  "
                f"RSS {run.build_rss_mb:6.0f}/{run.serve_rss_mb:6.0f} MB  p50 {run.p50_ms:9.3f} ms  "
                f"p99 {run.p99_ms:9.3f} ms  {run.qps:9.0f} q/s{same}"
            )
    if report.skipped:
        lines.append("\nskipped: " + "; ".join(report.skipped))
    return "\n".join(lines)


# -- command line --------------------------------------------------------------------------------------------


def parse_sizes(value: str) -> tuple[int, ...]:
    """ "1000,10k,100000" -> (1000, 10000, 100000)."""
    sizes = []
    for part in value.replace(" ", "").split(","):
        if not part:
            continue
        match = re.fullmatch(r"(\d+)(k?)", part.lower())
        if not match or int(match.group(1)) <= 0:
            raise argparse.ArgumentTypeError(f"sizes are positive passage counts like 1000,10k: not {part!r}")
        sizes.append(int(match.group(1)) * (1000 if match.group(2) else 1))
    if not sizes:
        raise argparse.ArgumentTypeError("give at least one size")
    return tuple(sorted(set(sizes)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=parse_sizes, default=None, help="passage counts (default 1000,10000,100000)")
    parser.add_argument("--quick", action="store_true", help="sizes 1000,10000, fewer queries, a smaller burst")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "docs" / "benchmarks.md", help="Markdown report")
    parser.add_argument("--work", type=Path, default=None, help="keep corpora and indexes in this folder")
    parser.add_argument("--no-bot", action="store_true", help="skip the Discord-twin burst and start-up figures")
    parser.add_argument("--json", action="store_true", help="also print the report as JSON")


def run_from_args(args: argparse.Namespace, command: str) -> int:
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    report = run_benchmark(
        sizes,
        quick=args.quick,
        work_dir=args.work,
        bot=not args.no_bot,
        startup=not args.no_bot,
        command=command,
        progress=lambda message: print(f"bench: {message}", file=sys.stderr, flush=True),
    )
    write_report(report, args.out)
    print(format_text(report))
    print(f"\nreport: {args.out}")
    if args.json:
        print(json.dumps(to_json(report), ensure_ascii=False, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--measure"]:
        task = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        print(RESULT_PREFIX + json.dumps(measure(task)), flush=True)
        return 0
    parser = argparse.ArgumentParser(prog="python -m index.bench", description=__doc__.split("\n", 1)[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    command = "footnote bench" + (" " + " ".join(argv) if argv else "")
    try:
        return run_from_args(args, command)
    except BenchError as exc:
        print(f"footnote bench: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
