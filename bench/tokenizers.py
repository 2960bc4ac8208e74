"""The tokeniser study of `footnote bench --tokenizers`: jieba (the reference) against rjieba and jieba-fast.

Every figure is taken through Footnote's own Analyzer (folding, Han runs segmented in dictionary mode, user
dictionary, stopwords, stems), so it compares what each segmenter makes of the index terms, nothing else.

- Agreement: the share of texts whose index terms (in order) are identical to jieba's, and the share of index
  terms that are (bag overlap), on the seed passages (with the seeds' user dictionary), the CMRC 2018 and DRCD
  paragraphs and the SQuAD paragraphs (English: only the odd Han name goes through a segmenter).
- Retrieval: each SQuAD-format set as passage retrieval (every paragraph a document, each question must find
  its own paragraph), an Engine built with each segmenter: hit@1, hit@5, MRR@10.
- Speed: index terms of all that text, the segmenters interleaved round-robin over several rounds in one
  process (so load on the machine hits each alike): characters per second, best round.
- Start-up: a fresh Python process that makes an Analyzer as a serving process does and segments one question;
  rjieba twice, with its partial dictionary (the word table cached in a data folder) and with its whole one.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.tokenize import SEGMENTERS, Analyzer, segmenter_version

REFERENCE = "jieba"
SQUAD_SETS = (
    ("CMRC 2018 dev", "cmrc2018/cmrc2018_dev.json"),
    ("DRCD dev", "drcd/DRCD_dev.json"),
    ("SQuAD v1.1 dev (first half)", "squad/squad_dev_a.json"),
)
STARTUP_QUESTION = "OpenAI 为什么要暂停 Sora?"


@dataclass(frozen=True)
class Agreement:
    texts: int
    identical: float  # share of texts whose terms equal the reference's, in order
    terms: float  # share of the reference's terms found (bag overlap)


@dataclass(frozen=True)
class Retrieval:
    questions: int
    hit1: float
    hit5: float
    mrr10: float


@dataclass(frozen=True)
class SegmenterResult:
    segmenter: str
    version: str
    agreement: dict[str, Agreement] = field(default_factory=dict)  # by text set
    retrieval: dict[str, Retrieval] = field(default_factory=dict)  # by SQuAD-format set
    chars_per_s: float = 0.0
    startup_s: float = 0.0  # fresh process: Analyzer as a server makes it + one question (median)
    startup_cpu_s: float = 0.0
    whole_startup_s: float | None = None  # rjieba with its whole dictionary


@dataclass(frozen=True)
class TokenizerStudy:
    results: tuple[SegmenterResult, ...]
    characters: int
    missing: tuple[str, ...] = ()  # segmenters not installed


def text_sets(seeds_dir: Path, bench_dir: Path | None) -> dict[str, list[str]]:
    """The texts compared: seed passages and the paragraphs of each SQuAD-format set found."""
    from index.corpus import document_files
    from index.passages import split_document

    sets = {"seeds": [p.text for path in document_files(seeds_dir) for p in split_document(path.name, _read(path))]}
    for name, relative in SQUAD_SETS:
        if bench_dir is not None and (bench_dir / relative).exists():
            data = json.loads((bench_dir / relative).read_text(encoding="utf-8"))
            sets[name] = [p["context"] for article in data["data"] for p in article["paragraphs"]]
    return sets


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _analyzer(segmenter: str, seeds_dir: Path, cache_dir: Path | None = None) -> Analyzer:
    userdict = seeds_dir / "userdict.txt"
    return Analyzer(userdicts=[userdict] if userdict.exists() else [], segmenter=segmenter, cache_dir=cache_dir)


def installed(segmenter: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(segmenter.replace("-", "_")) is not None


def measure_agreement(reference: Sequence[list[str]], other: Sequence[list[str]]) -> Agreement:
    identical = sum(a == b for a, b in zip(reference, other, strict=True))
    found = total = 0
    for a, b in zip(reference, other, strict=True):
        found += sum((Counter(a) & Counter(b)).values())
        total += len(a)
    n = len(reference)
    return Agreement(n, identical / n if n else 1.0, found / total if total else 1.0)


def _interleaved_speed(
    analyzers: dict[str, Analyzer], texts: Sequence[str], rounds: int
) -> tuple[dict[str, float], dict[str, list[list[str]]]]:
    """Characters per second of each analyzer over `texts` (best of `rounds`, round-robin), and its terms."""
    characters = sum(len(t) for t in texts)
    best = dict.fromkeys(analyzers, 0.0)
    terms: dict[str, list[list[str]]] = {}
    for _ in range(rounds):
        for name, analyzer in analyzers.items():
            started = time.perf_counter()
            result = [analyzer.terms(text) for text in texts]
            best[name] = max(best[name], characters / (time.perf_counter() - started))
            terms.setdefault(name, result)
    return best, terms


def _retrieval(path: Path, segmenter: str, limit: int | None) -> Retrieval:
    from index.evaluate import evaluate_squad

    figures = evaluate_squad(path, limit=limit, segmenter=segmenter)
    return Retrieval(figures["questions"], figures["hit@1"], figures["hit@5"], figures["mrr@10"])


_STARTUP_CODE = """
import resource, sys, time
started = time.perf_counter()
from pathlib import Path
from index.tokenize import Analyzer
cache = Path(sys.argv[3]) if sys.argv[3] else None
analyzer = Analyzer(userdicts=[Path(sys.argv[2])], segmenter=sys.argv[1], cache_dir=cache)
analyzer.terms(sys.argv[4])
usage = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime)
"""


def _startup(segmenter: str, seeds_dir: Path, cache_dir: Path | None) -> tuple[float, float]:
    """(wall, CPU) seconds of a fresh process from its first import to a segmented question."""
    command = [
        sys.executable,
        "-c",
        _STARTUP_CODE,
        segmenter,
        str(seeds_dir / "userdict.txt"),
        str(cache_dir or ""),
        STARTUP_QUESTION,
    ]
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=root, timeout=300)
    wall, cpu = (float(x) for x in done.stdout.split()[-2:])
    return wall, cpu


def run_study(
    seeds_dir: Path,
    bench_dir: Path | None,
    *,
    rounds: int = 3,
    startups: int = 3,
    questions: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> TokenizerStudy:
    """Measure every installed segmenter (see the module docstring). `questions`: at most this many questions
    of each retrieval set (all by default)."""
    present = [s for s in SEGMENTERS if installed(s)]
    missing = tuple(s for s in SEGMENTERS if s not in present)
    if REFERENCE not in present:
        raise RuntimeError("jieba, the reference segmenter, is not installed")
    sets = text_sets(seeds_dir, bench_dir)
    everything = [t for texts in sets.values() for t in texts]
    progress(f"tokeniser study: {len(everything):,} texts, {', '.join(present)}")
    analyzers = {s: _analyzer(s, seeds_dir) for s in present}
    speed, terms = _interleaved_speed(analyzers, everything, rounds)
    agreements: dict[str, dict[str, Agreement]] = {s: {} for s in present}
    start = 0
    for name, texts in sets.items():
        stop = start + len(texts)
        for s in present:
            agreements[s][name] = measure_agreement(terms[REFERENCE][start:stop], terms[s][start:stop])
        start = stop
    retrieval: dict[str, dict[str, Retrieval]] = {s: {} for s in present}
    for name, relative in SQUAD_SETS:
        path = bench_dir / relative if bench_dir is not None else None
        if path is None or not path.exists():
            continue
        for s in present:
            progress(f"tokeniser study: retrieval on {name} with {s}")
            retrieval[s][name] = _retrieval(path, s, questions)
    progress("tokeniser study: start-up in fresh processes")
    startup: dict[str, list[tuple[float, float]]] = {s: [] for s in present}
    whole: list[float] = []
    with tempfile.TemporaryDirectory(prefix="footnote-tokenizers-") as folder:
        cache = Path(folder)
        for s in present:
            _startup(s, seeds_dir, cache)  # makes the caches (jieba's, rjieba's word table) first
        for _ in range(startups):
            for s in present:
                startup[s].append(_startup(s, seeds_dir, cache))
            if "rjieba" in present:
                whole.append(_startup("rjieba", seeds_dir, None)[0])
    results = tuple(
        SegmenterResult(
            segmenter=s,
            version=segmenter_version(s),
            agreement=agreements[s],
            retrieval=retrieval[s],
            chars_per_s=round(speed[s]),
            startup_s=round(statistics.median(w for w, _ in startup[s]), 3),
            startup_cpu_s=round(statistics.median(c for _, c in startup[s]), 3),
            whole_startup_s=round(statistics.median(whole), 3) if s == "rjieba" and whole else None,
        )
        for s in present
    )
    return TokenizerStudy(results, sum(len(t) for t in everything), missing)


def markdown(study: TokenizerStudy) -> str:
    """The study as a section of docs/benchmarks.md."""
    sets = list(study.results[0].agreement)
    lines = [
        "## Tokenisers",
        "",
        f"jieba (the reference) against the other segmenters, through Footnote's analyzer (the seeds' user "
        f"dictionary loaded), over {study.characters:,} characters: agreement of the index terms per text "
        "(identical in order) and per term (bag overlap), retrieval with an engine built with each, tokenising "
        "speed (interleaved rounds, best), and the start-up of a fresh process that segments one question.",
        "",
        "| segmenter | " + " | ".join(f"{name}: identical / terms" for name in sets) + " |",
        "|---|" + "---|" * len(sets),
    ]
    for r in study.results:
        cells = [f"{r.agreement[n].identical:.2%} / {r.agreement[n].terms:.2%}" for n in sets]
        lines.append(f"| {r.segmenter} {r.version} | " + " | ".join(cells) + " |")
    retrieval_sets = list(study.results[0].retrieval)
    if retrieval_sets:
        lines += [
            "",
            "| segmenter | " + " | ".join(f"{n}: hit@1 / hit@5 / MRR@10" for n in retrieval_sets) + " |",
            "|---|" + "---|" * len(retrieval_sets),
        ]
        for r in study.results:
            cells = [f"{x.hit1:.3f} / {x.hit5:.3f} / {x.mrr10:.3f}" for x in (r.retrieval[n] for n in retrieval_sets)]
            lines.append(f"| {r.segmenter} | " + " | ".join(cells) + " |")
    reference = next(r for r in study.results if r.segmenter == REFERENCE)
    lines += [
        "",
        "| segmenter | characters/s | vs jieba | start-up s (CPU s) |",
        "|---|---|---|---|",
    ]
    for r in study.results:
        startup = f"{r.startup_s:.3f} ({r.startup_cpu_s:.3f})"
        if r.whole_startup_s is not None:
            startup += f"; whole dictionary {r.whole_startup_s:.3f}"
        ratio = r.chars_per_s / reference.chars_per_s if reference.chars_per_s else 0.0
        lines.append(f"| {r.segmenter} | {r.chars_per_s:,.0f} | {ratio:.2f}× | {startup} |")
    if study.missing:
        lines += ["", f"Not installed (pip install -e '.[bench]'): {', '.join(study.missing)}."]
    return "\n".join(lines) + "\n"


def to_json(study: TokenizerStudy) -> dict:
    from dataclasses import asdict

    return asdict(study)


if __name__ == "__main__":  # python -m bench.tokenizers [bench dir]: the study alone, as Markdown
    here = Path(__file__).resolve().parent.parent
    bench = Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent / "shared" / "bench"
    os.environ.setdefault("PYTHONHASHSEED", "0")
    study = run_study(here / "seeds", bench if bench.exists() else None, progress=lambda m: print(m, file=sys.stderr))
    print(markdown(study))
