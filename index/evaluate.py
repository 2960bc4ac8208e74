"""Answer-quality measurement: a question set in the dev_ask.jsonl format, or a SQuAD file as passage retrieval.

Question sets: one JSON object per line with ``q``, ``keys`` (a result is a hit when its passage contains any
key) and optionally ``abstain`` (the corpus does not answer it) and ``tags``. Reported: hit@1, hit@3, MRR@10
over answerable questions (an abstention counts as a miss), abstention accuracy over all questions, and the
same by tag.

SQuAD files: every paragraph is one document (split into passages like any document; a hit on any piece of
the paragraph counts); each question must retrieve its paragraph. Reported: hit@1, hit@5, MRR@10, queries/s.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.corpus import Document, DocumentInfo
from index.engine import Engine
from index.errors import QuestionError, UserFacingError
from index.progress import Progress
from index.tokenize import DEFAULT_SEGMENTER


class EvaluationError(UserFacingError):
    """A question set or SQuAD file that cannot be evaluated; the message names the file (and line)."""


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise EvaluationError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise EvaluationError(f"{path} is a folder, not a question file") from exc
    except UnicodeDecodeError as exc:
        raise EvaluationError(f"{path}: not UTF-8 (byte {exc.start})") from exc
    except OSError as exc:
        raise EvaluationError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The questions of a .jsonl set: one object per line with a text "q" (and "keys", a list of text)."""
    items = []
    for line_no, line in enumerate(_read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"{path}:{line_no}: not JSON ({exc.msg})") from exc
        if not isinstance(item, dict):
            raise EvaluationError(f"{path}:{line_no}: each line must be a JSON object, not {type(item).__name__}")
        if not isinstance(item.get("q"), str) or not item["q"].strip():
            raise EvaluationError(f'{path}:{line_no}: the object needs a question as text in "q"')
        keys = item.get("keys", [])
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise EvaluationError(f'{path}:{line_no}: "keys" must be a list of text')
        items.append(item)
    if not items:
        raise EvaluationError(f"{path}: no questions in the file")
    return items


def _summary(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    rows = list(rows)
    answerable = [r for r in rows if not r["abstain"]]
    n = len(answerable)
    return {
        "questions": len(rows),
        "answerable": n,
        "hit@1": round(sum(r["rank"] == 1 for r in answerable) / n, 3) if n else None,
        "hit@3": round(sum(0 < r["rank"] <= 3 for r in answerable) / n, 3) if n else None,
        "mrr@10": round(sum(1 / r["rank"] for r in answerable if 0 < r["rank"] <= 10) / n, 3) if n else None,
        "abstention_accuracy": round(sum(r["abstained"] == r["abstain"] for r in rows) / len(rows), 3)
        if rows
        else None,
        "unanswerable_answered": sum(r["abstain"] and not r["abstained"] for r in rows),
        "answerable_abstained": sum(not r["abstain"] and r["abstained"] for r in rows),
        "false_answer_rate": _rate(sum(r["abstain"] and not r["abstained"] for r in rows), len(rows) - n),
        "false_abstain_rate": _rate(sum(not r["abstain"] and r["abstained"] for r in rows), n),
    }


def _rate(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


# Floors: `footnote eval --min-hit3 0.9 --max-false-abstain 0.02 ...` exits 1 when a figure is on the wrong side.
FLOORS = {
    "min_hit1": ("hit@1", 1),
    "min_hit3": ("hit@3", 1),
    "min_hit5": ("hit@5", 1),
    "min_mrr": ("mrr@10", 1),
    "max_false_abstain": ("false_abstain_rate", -1),
    "max_false_answer": ("false_answer_rate", -1),
}


def check_floors(report: dict[str, Any], floors: dict[str, float], tag: str | None = None) -> list[str]:
    """The floors a report does not meet, each as a sentence ("hit@3 0.840 < 0.900"); [] when all hold. With
    `tag`, a question set's figures for that tag are checked instead of the overall ones."""
    figures = report.get("overall", report)
    if tag is not None:
        if tag not in report.get("by_tag", {}):
            return [f"no questions tagged {tag!r} in {report.get('file')}"]
        figures = report["by_tag"][tag]
    failures = []
    for option, bound in floors.items():
        metric, sign = FLOORS[option]
        value = figures.get(metric)
        if value is None:
            failures.append(f"{metric} is not measured by this evaluation (--{option.replace('_', '-')})")
        elif sign * (value - bound) < -1e-12:
            where = f" ({tag})" if tag else ""
            failures.append(f"{metric} {value:.3f} {'<' if sign > 0 else '>'} {bound:.3f}{where}")
    return failures


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    if not ordered:
        return {"p50": 0.0, "p99": 0.0}

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": pick(0.5), "p99": pick(0.99)}


def evaluate_questions(
    engine: Engine, path: Path, repeats: int = 5, progress: Progress | None = None
) -> dict[str, Any]:
    """Quality figures for a question set, and warm query latency (each question asked `repeats` times)."""
    rows = []
    items = _read_jsonl(path)
    latencies: list[float] = []
    if progress is not None:
        progress.stage("eval", total=len(items) * (repeats + 1), unit="questions")
    for _ in range(repeats):
        for item in items:
            started = time.perf_counter()
            engine.ask(item["q"], k=10)
            latencies.append((time.perf_counter() - started) * 1000)
            if progress is not None:
                progress.advance()
    for item in items:
        answer = engine.ask(item["q"], k=10)
        if progress is not None:
            progress.advance()
        keys = item.get("keys", [])
        rank = next(
            (r.rank for r in answer.results if any(key in r.passage.text for key in keys)),
            0,
        )
        rows.append(
            {
                "id": item.get("id"),
                "q": item["q"],
                "abstain": bool(item.get("abstain")),
                "abstained": answer.abstained,
                "confidence": answer.confidence,
                "rank": rank,
                "tags": item.get("tags", []),
            }
        )
    by_tag: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        for tag in row["tags"]:
            by_tag[tag].append(row)
    return {
        "file": str(path),
        "corpus_version": engine.version,
        "overall": _summary(rows),
        "warm_query_ms": _percentiles(latencies),
        "by_tag": {tag: _summary(items) for tag, items in sorted(by_tag.items())},
        "misses": [r for r in rows if (r["rank"] != 1 and not r["abstain"]) or r["abstain"] != r["abstained"]],
    }


SPLIT_SEED = 15  # the fixed seed of every fit / held-out split of ../shared/bench
HALVES = ("all", "fit", "test")


def article_halves(count: int, seed: int = SPLIT_SEED) -> tuple[frozenset[int], frozenset[int]]:
    """Article indices split into a fit half and a held-out (test) half, shuffled with a fixed seed. Weights and
    thresholds are fitted on the fit half only (index/fit.py); figures are reported on the test half."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return frozenset(order[: count // 2]), frozenset(order[count // 2 :])


def articles_of(half: str, count: int, seed: int = SPLIT_SEED) -> frozenset[int]:
    if half not in HALVES:
        raise EvaluationError(f"--half must be one of {', '.join(HALVES)}, not {half!r}")
    fit, test = article_halves(count, seed)
    return fit if half == "fit" else test if half == "test" else fit | test


def read_squad(path: Path) -> list[dict[str, Any]]:
    """The articles of a SQuAD-format file, with one clear error for anything else."""
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise EvaluationError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from exc
    asked = 0
    try:
        articles = data["data"]
        for article in articles:
            for paragraph in article["paragraphs"]:
                if not isinstance(paragraph["context"], str):
                    raise TypeError("a context is not text")
                asked += sum(1 for qa in paragraph["qas"] if str(qa["question"]))
    except (KeyError, TypeError, AttributeError) as exc:
        raise EvaluationError(
            f'{path}: not a SQuAD file ({exc}): expected {{"data": [{{"paragraphs": [{{"context", "qas": '
            '[{"question"}]}]}]}'
        ) from exc
    if not asked:
        raise EvaluationError(f"{path}: a SQuAD file without questions")
    return articles


def squad_documents(path: Path, half: str = "all") -> tuple[list[Document], list[tuple[str, str]]]:
    """Documents (one per paragraph) and (question, paragraph doc id) pairs of a SQuAD-format file. Every paragraph
    is a document; with `half`, only the questions of that half's articles are returned."""
    articles = read_squad(path)
    asked = articles_of(half, len(articles))
    documents: list[Document] = []
    questions: list[tuple[str, str]] = []
    for a_index, article in enumerate(articles):
        for p_index, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"a{a_index}p{p_index}"
            title = str(article.get("title", doc_id))
            info = DocumentInfo(doc_id, str(path), title, "", "", (), "", fingerprint=doc_id)
            documents.append(Document(info, paragraph["context"], 0, doc_id))
            if a_index in asked:
                questions.extend((str(qa["question"]), doc_id) for qa in paragraph["qas"])
    return documents, questions


def evaluate_squad(
    path: Path,
    mode: str = "search",
    limit: int | None = None,
    progress: Progress | None = None,
    segmenter: str = DEFAULT_SEGMENTER,
    half: str = "all",
) -> dict[str, Any]:
    documents, questions = squad_documents(path, half)
    if limit:
        questions = questions[:limit]
    started = time.perf_counter()
    engine = Engine.from_documents(documents, mode=mode, segmenter=segmenter)
    build_seconds = time.perf_counter() - started
    hits1 = hits3 = hits5 = 0
    reciprocal = 0.0
    if progress is not None:
        progress.stage("eval", total=len(questions), unit="questions")
    started = time.perf_counter()
    for question, doc_id in questions:
        if progress is not None:
            progress.advance()
        ranked = engine.search(question, limit=10)
        docs: list[str] = []
        for pid in ranked:
            doc = engine.passages[pid].doc_id
            if doc not in docs:
                docs.append(doc)
        rank = docs.index(doc_id) + 1 if doc_id in docs else 0
        hits1 += rank == 1
        hits3 += 0 < rank <= 3
        hits5 += 0 < rank <= 5
        reciprocal += 1 / rank if rank else 0.0
    seconds = time.perf_counter() - started
    n = len(questions)
    return {
        "file": str(path),
        "questions_of": "every article" if half == "all" else f"the {half} half of the articles (seed {SPLIT_SEED})",
        "paragraphs": len(documents),
        "passages": len(engine.passages),
        "questions": n,
        "hit@1": round(hits1 / n, 3) if n else None,
        "hit@3": round(hits3 / n, 3) if n else None,
        "hit@5": round(hits5 / n, 3) if n else None,
        "mrr@10": round(reciprocal / n, 3) if n else None,
        "queries_per_second": round(n / seconds, 1) if seconds else None,
        "build_seconds": round(build_seconds, 2),
    }


def format_report(report: dict[str, Any]) -> str:
    if "overall" not in report:
        return "\n".join(f"{key:<20} {value}" for key, value in report.items())
    lines = [f"{report['file']} (corpus {report['corpus_version']})", ""]
    header = f"{'':<16}{'n':>4}{'hit@1':>8}{'hit@3':>8}{'MRR@10':>8}{'abstain acc':>13}"
    lines.append(header)

    def row(name: str, s: dict[str, Any]) -> str:
        def cell(value: Any) -> str:
            return "—" if value is None else f"{value:.3f}"

        return (
            f"{name:<16}{s['questions']:>4}{cell(s['hit@1']):>8}{cell(s['hit@3']):>8}{cell(s['mrr@10']):>8}"
            f"{cell(s['abstention_accuracy']):>13}"
        )

    lines.append(row("overall", report["overall"]))
    for tag, summary in report["by_tag"].items():
        lines.append(row(tag, summary))
    overall = report["overall"]
    latency = report["warm_query_ms"]
    lines.append("")
    lines.append(f"warm query latency: p50 {latency['p50']} ms, p99 {latency['p99']} ms")
    lines.append(
        f"unanswerable answered: {overall['unanswerable_answered']}   "
        f"answerable abstained: {overall['answerable_abstained']}"
    )
    for miss in report["misses"]:
        state = "abstained" if miss["abstained"] else f"first hit at rank {miss['rank'] or '>10'}"
        lines.append(f"  {miss['id']}: {miss['q']} — {state}")
    return "\n".join(lines)


# -- abstention split ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitQuestion:
    question: str
    answerable: bool
    doc_id: str  # the article's document ("" for an article outside the corpus)
    start: int  # the paragraph's span in that document
    end: int


def abstention_split(
    path: Path, share: float = 0.67, half: str = "test", seed: int = SPLIT_SEED
) -> tuple[list[Document], list[SplitQuestion]]:
    """A corpus folder's worth of documents and labelled questions from a SQuAD-format file: of the articles of
    `half`, a `share` (shuffled with `seed`) become documents (one per article: its title, then its paragraphs,
    one per line); their questions are answerable, the questions of the other articles must abstain."""
    if not 0 < share < 1:
        raise EvaluationError(f"--corpus-share must be between 0 and 1 (exclusive), not {share}")
    articles = read_squad(path)
    chosen = sorted(articles_of(half, len(articles), seed))
    order = chosen[:]
    random.Random(seed + 1).shuffle(order)
    n_corpus = min(len(order) - 1, max(1, round(share * len(order))))
    in_corpus = set(order[:n_corpus])
    documents: list[Document] = []
    questions: list[SplitQuestion] = []
    for a_index in chosen:
        document, asked = article_document(path, a_index, articles[a_index])
        if a_index in in_corpus:
            documents.append(document)
            questions.extend(asked)
        else:
            questions.extend(SplitQuestion(item.question, False, "", 0, 0) for item in asked)
    return documents, questions


def article_document(path: Path, a_index: int, article: dict[str, Any]) -> tuple[Document, list[SplitQuestion]]:
    """One article of a SQuAD-format file as a corpus document (its title, then its paragraphs, one per line) and
    its questions, each answered by its paragraph's span."""
    doc_id = f"a{a_index}"
    title = str(article.get("title") or doc_id).replace("_", " ")
    parts = [title, ""]
    position = len(title) + 2
    questions: list[SplitQuestion] = []
    for paragraph in article["paragraphs"]:
        context = " ".join(paragraph["context"].split())
        start, end = position, position + len(context)
        parts.append(context)
        position = end + 1
        questions.extend(SplitQuestion(qa["question"], True, doc_id, start, end) for qa in paragraph["qas"])
    text = "\n".join(parts)
    info = DocumentInfo(doc_id, f"{path}#{doc_id}", title, "", "", (), "", fingerprint=f"{path.name}:{doc_id}")
    return Document(info, text, 0, text), questions


def passage_hit(engine: Engine, pid: int, item: SplitQuestion) -> bool:
    passage = engine.passages[pid]
    return any(
        loc.doc_id == item.doc_id and loc.start < item.end and item.start < loc.end
        for loc in (passage.location, *passage.duplicates)
    )


def evaluate_abstention(
    path: Path,
    share: float = 0.67,
    half: str = "test",
    mode: str = "search",
    limit: int | None = None,
    seed: int = SPLIT_SEED,
) -> dict[str, Any]:
    """hit@k over the answerable questions of an abstention split (an abstention is a miss), and how many
    answerable questions abstained and off-corpus questions were answered."""
    documents, questions = abstention_split(path, share, half, seed)
    if limit:
        questions = questions[:limit]
    engine = Engine.from_documents(documents, mode=mode)
    rows = []
    latencies: list[float] = []
    for item in questions:
        started = time.perf_counter()
        try:
            answer = engine.ask(item.question, k=10)
        except QuestionError:  # a question with no searchable words: the user is told so, nothing is answered
            rows.append({"abstain": not item.answerable, "abstained": True, "confidence": "none", "rank": 0})
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        rank = 0
        if item.answerable:
            rank = next((r.rank for r in answer.results if passage_hit(engine, r.passage.pid, item)), 0)
        row = {"abstain": not item.answerable, "abstained": answer.abstained, "confidence": answer.confidence}
        rows.append({**row, "rank": rank})
    summary = _summary(rows)
    answerable = [r for r in rows if not r["abstain"]]
    unanswerable = [r for r in rows if r["abstain"]]
    n = len(answerable)
    return {
        "file": str(path),
        "split": f"{half} half of the articles (seed {seed}), corpus share {share}",
        "corpus_articles": len(documents),
        "passages": len(engine.passages),
        "questions": len(rows),
        "answerable": n,
        "unanswerable": len(unanswerable),
        "hit@1": summary["hit@1"],
        "hit@3": summary["hit@3"],
        "hit@5": round(sum(0 < r["rank"] <= 5 for r in answerable) / n, 3) if n else None,
        "mrr@10": summary["mrr@10"],
        "answerable_abstained": summary["answerable_abstained"],
        "false_abstain_rate": summary["false_abstain_rate"],
        "unanswerable_answered": summary["unanswerable_answered"],
        "false_answer_rate": summary["false_answer_rate"],
        "unanswerable_answered_high_confidence": sum(r["abstain"] and r["confidence"] == "high" for r in rows),
        "weak_matches": sum(r["confidence"] == "low" for r in rows),
        "warm_query_ms": _percentiles(latencies),
    }
