"""Running the benchmark: for each size, build the corpus and run every system's measurement processes; the
bot under a burst of /ask (tests/e2e/bench_bot.py, from a source checkout) and start-up; and the command line
(`footnote bench`, `python -m bench`)."""

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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpora import _SENTENCE_RE, make_corpus, real_sources, seed_questions
from bench.measure import _percentile, _run_measure, agreement, measure
from bench.peers import all_peers, available
from bench.report import format_text, to_json, write_report
from bench.results import (
    BASELINE,
    DEFAULT_SIZES,
    PROJECT_DIR,
    QUICK_SIZES,
    RESULT_PREFIX,
    SYSTEMS,
    BenchError,
    BenchReport,
    BotResult,
    BuildPhases,
    SizeResult,
    StartupResult,
    SystemRun,
)
from index.progress import terminal_progress

log = logging.getLogger(__name__)


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
    """System -> why it is skipped, for peers whose package is missing."""
    return {peer.name: why for peer in all_peers() if (why := available(peer)) is not None}


def _peer_note(system: str) -> str:
    return next(peer.note for peer in all_peers() if peer.name == system)


def _step(target: int) -> int:
    """rank-bm25 answers every `_step`-th query (all of them up to 10k passages): it takes ~0.3 s a query at 100k
    and seconds at 1M, so at those sizes it is timed, still interleaved, on a sample."""
    return 1 if target <= 10_000 else (3 if target <= 100_000 else 10)


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
    peers: dict[str, str] = {}
    for peer in all_peers():
        if available(peer) is not None:
            continue
        save = str(work / f"{peer.name}-{target}")
        progress(f"{target:,} passages: {peer.name} (build, then load)")
        common = {"kind": "peer", "system": peer.name, "export": export, "save": save}
        built_other = _run_measure({**common, "phase": "build"}, work, timeout * 3)
        serve_queries = len(questions) if peer.name != "rank-bm25" else max(1, len(questions) // _step(target))
        served_other = _run_measure({**common, "phase": "serve", "serve_queries": serve_queries}, work, timeout * 3)
        raw[peer.name] = {**built_other, **served_other, "build_rss_mb": built_other["rss_mb"]}
        peers[peer.name] = save
    progress(f"{target:,} passages: queries of {1 + len(peers)} systems interleaved in one process, {repeats} passes")
    steps = {"rank-bm25": _step(target)} if "rank-bm25" in peers else {}
    timed = _run_measure(
        {**base, "kind": "interleaved", "peers": peers, "passes": repeats, "steps": steps}, work, timeout * 6
    )
    for name, timing in timed["systems"].items():
        raw[name].update(timing)
    reference = raw.get(BASELINE, {}).get("tops")
    runs = []
    for system in SYSTEMS:
        if system not in raw:
            continue
        r = raw[system]
        agreed = agreement(r["tops"], reference) if reference is not None else None
        same, overlap = agreed if agreed is not None else (None, None)
        latencies = r["latencies"]
        runs.append(
            SystemRun(
                system=system,
                build_s=round(r["build_s"], 3),
                load_s=round(r["load_s"], 3),
                index_mb=r["index_mb"],
                build_rss_mb=built["rss_mb"] if system == "footnote" else r["build_rss_mb"],
                serve_rss_mb=r["rss_mb"] if system != "footnote" else served["rss_mb"],
                p50_ms=round(_percentile(latencies, 0.5), 4),
                p99_ms=round(_percentile(latencies, 0.99), 4),
                qps=round(1000 * len(latencies) / sum(latencies), 1) if sum(latencies) else 0.0,
                top10_identical=None if same is None else round(same, 4),
                top10_overlap=None if overlap is None else round(overlap, 4),
                build_cores=round(built["cores"], 2) if system == "footnote" else 1.0,
                cache_mb=built["cache_mb"] if system == "footnote" else 0.0,
                notes="build includes tokenising (rjieba, glossary) and duplicate detection; a query is BM25Index.top_k"
                if system == "footnote"
                else _peer_note(system),
                queries_timed=len(r["tops"]),
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
        passes=repeats,
        postings_read=round(timed["postings_read"], 4),
    )


def cold_ask(seeds_dir: Path, work: Path, runs: int = 3) -> tuple[float, ...]:
    """Wall time of `footnote ask` in a fresh process (index built, and Python's bytecode cached as a user's first
    run leaves it: PYTHONDONTWRITEBYTECODE, set in some environments, is dropped), `runs` times."""
    data = work / "data-seeds"
    env = {**os.environ, "CORPUS_DIR": str(seeds_dir), "DATA_DIR": str(data), "DATABASE_PATH": str(data / "db")}
    env.pop("LOG_LEVEL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
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
    from index.bm25 import KERNEL

    info["kernel"] = "C (index/_bm25kernel.c)" if KERNEL == "c" else "numpy (the C kernel is not built)"
    for module in ("rank_bm25", "bm25s", "numba", "tantivy", "rjieba", "jieba", "discord"):
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


# -- command line --------------------------------------------------------------------------------------------


def parse_sizes(value: str) -> tuple[int, ...]:
    """ "1000,10k,100000,1m" -> (1000, 10000, 100000, 1000000)."""
    sizes = []
    for part in value.replace(" ", "").split(","):
        if not part:
            continue
        match = re.fullmatch(r"(\d+)([km]?)", part.lower())
        if not match or int(match.group(1)) <= 0:
            raise argparse.ArgumentTypeError(f"sizes are positive passage counts like 1000,10k,1m: not {part!r}")
        sizes.append(int(match.group(1)) * {"": 1, "k": 1000, "m": 1_000_000}[match.group(2)])
    if not sizes:
        raise argparse.ArgumentTypeError("give at least one size")
    return tuple(sorted(set(sizes)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help="passage counts (default 1000,10k,100k; 1m is opt-in, never in the default run)",
    )
    parser.add_argument("--quick", action="store_true", help="sizes 1000,10000, fewer queries, a smaller burst")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "docs" / "benchmarks.md", help="Markdown report")
    parser.add_argument("--work", type=Path, default=None, help="keep corpora and indexes in this folder")
    parser.add_argument("--no-bot", action="store_true", help="skip the Discord-twin burst and start-up figures")
    parser.add_argument("--json", action="store_true", help="also print the report as JSON")


def run_from_args(args: argparse.Namespace, command: str) -> int:
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    steps = len(sizes) * (4 + 2 - len(_baselines_available())) + (0 if args.no_bot else 2)
    with terminal_progress(quiet_for=0.0) as progress:  # a bar of steps on a terminal, a line per step elsewhere
        progress.stage("bench", total=steps, unit="steps")
        report = run_benchmark(
            sizes,
            quick=args.quick,
            work_dir=args.work,
            bot=not args.no_bot,
            startup=not args.no_bot,
            command=command,
            progress=progress.step,
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
    import bench

    parser = argparse.ArgumentParser(prog="python -m bench", description=(bench.__doc__ or "").split("\n", 1)[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    command = "footnote bench" + (" " + " ".join(argv) if argv else "")
    try:
        return run_from_args(args, command)
    except BenchError as exc:
        print(f"footnote bench: {exc}", file=sys.stderr)
        return 1
