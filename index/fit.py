"""Fit the ranking and abstention constants on the fit halves of ../shared/bench, never on anything else.

    python -m index.fit ranking [BENCH_DIR]      # BM25 k1/b, paragraph-context and proximity weights
    python -m index.fit blend [BENCH_DIR]        # the general-language blend of term weights (small corpora)
    python -m index.fit abstention [BENCH_DIR]   # the abstention model (index/abstention.py)

Each SQuAD-format file of the bench (CMRC 2018 dev, DRCD dev, SQuAD-A) is split by article with the fixed seed
of index/evaluate.py; only the questions of the fit half are looked at here. The printed constants are copied
into index/ranking.py and index/abstention.py by hand (they are code, reviewed like code), and the held-out
half is measured with ``footnote eval --squad FILE --half test`` (docs/quality.md).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.bm25 import BM25Index, BM25Params
from index.engine import CANDIDATES, Engine, clean_question
from index.errors import QuestionError
from index.evaluate import (
    SPLIT_SEED,
    SplitQuestion,
    article_document,
    articles_of,
    passage_hit,
    read_squad,
    squad_documents,
)
from index.normalize import fold
from index.ranking import latin_terms, paragraph_scores, proximity_applies, proximity_credit, term_positions

log = logging.getLogger(__name__)

BENCH_FILES = ("cmrc2018/cmrc2018_dev.json", "drcd/DRCD_dev.json", "squad/squad_dev_a.json")
K1_GRID = (0.5, 0.7, 0.9, 1.2)
B_GRID = (0.3, 0.4, 0.5, 0.75)
PARAGRAPH_GRID = (0.0, 0.5, 1.0, 2.0, 4.0)
PHRASE_GRID = (0.0, 0.1, 0.3, 0.5)
NEAR_GRID = (0.0, 0.25, 0.5, 1.0)
PROXIMITY_TOP = 10


def _candidate_features(
    engine: Engine, questions: Sequence[tuple[str, str]], cache: dict
) -> list[tuple[str, np.ndarray]]:
    """Per question: its paragraph's doc id and, per candidate, (is that paragraph, BM25, paragraph BM25,
    phrase credit, proximity credit). `cache` keeps query analyses and passage positions between calls."""
    rows = []
    positions = cache.setdefault("positions", {})
    queries = cache.setdefault("queries", {})
    for question, doc_id in questions:
        if question not in queries:
            queries[question] = engine.analyze(clean_question(question))
        query = queries[question]
        scores = engine.scores(query)
        terms = [t for c in query.concepts for t in (c.term, *(e for e, _ in c.expansions))]
        candidates = np.flatnonzero(engine.bm25.matching([*terms, *(t for t, _ in query.extra)]))
        if len(candidates) > CANDIDATES:
            candidates = candidates[np.argpartition(-scores[candidates], CANDIDATES - 1)[:CANDIDATES]]
        if not len(candidates):
            rows.append((doc_id, np.zeros((0, 5))))
            continue
        concepts = [(c.term, c.expansions) for c in query.concepts]
        context = paragraph_scores(engine.bm25, engine.paragraphs, concepts, query.extra, candidates)
        units = [c.term for c in query.concepts if c.unit]
        features = np.zeros((len(candidates), 5))
        features[:, 1] = scores[candidates]
        features[:, 2] = context
        if proximity_applies(units):
            weight_of = {u: engine.bm25.informativeness(u) for u in units}
            for i, pid in enumerate(candidates.tolist()):
                if pid not in positions:
                    text = fold(engine.passages[pid].text)
                    positions[pid] = term_positions(latin_terms(text, engine.analyzer.stem, engine.analyzer.stopwords))
                features[i, 3:5] = proximity_credit(positions[pid], units, weight_of)
        features[:, 0] = [engine.passages[pid].doc_id == doc_id for pid in candidates.tolist()]
        rows.append((doc_id, features))
    return rows


def _hit_rate(rows: Sequence[tuple[str, np.ndarray]], paragraph: float, phrase: float, near: float) -> float:
    hits = 0
    for _doc_id, features in rows:
        if not len(features):
            continue
        ranking = features[:, 1] + paragraph * features[:, 2]
        top = np.argsort(-ranking, kind="stable")[:PROXIMITY_TOP]
        ranking[top] += phrase * features[top, 3] + near * features[top, 4]
        hits += bool(features[int(np.argmax(ranking)), 0])
    return hits / len(rows) if rows else 0.0


def fit_ranking(bench: Path) -> dict[str, float]:
    """Grid search of k1, b and the re-ranking weights maximising the mean hit@1 of the three fit halves."""
    datasets = []
    for name in BENCH_FILES:
        documents, questions = squad_documents(bench / name, "fit")
        started = time.perf_counter()
        engine = Engine.from_documents(documents)
        log.warning("%s: %d fit questions, built in %.1f s", name, len(questions), time.perf_counter() - started)
        datasets.append((name, engine, questions, {}))
    best: tuple[float, dict[str, float]] = (-1.0, {})
    for k1, b in itertools.product(K1_GRID, B_GRID):
        per_set = []
        for _name, engine, questions, cache in datasets:
            base = engine.bm25
            engine.bm25 = BM25Index(base.vocab, base.indptr, base.doc_ids, base.tfs, base.doc_len, BM25Params(k1, b))
            per_set.append(_candidate_features(engine, questions, cache))
        for paragraph, phrase, near in itertools.product(PARAGRAPH_GRID, PHRASE_GRID, NEAR_GRID):
            rates = [_hit_rate(rows, paragraph, phrase, near) for rows in per_set]
            mean = sum(rates) / len(rates)
            if mean > best[0]:
                best = (mean, {"k1": k1, "b": b, "paragraph": paragraph, "phrase": phrase, "near": near})
                log.warning("fit hit@1 %s (mean %.4f) with %s", [round(r, 4) for r in rates], mean, best[1])
    return best[1]


# -- the general-language blend (index/ranking.py general_blend) ---------------------------------------------

SMALL_CORPUS_CHARS = (40_000, 120_000)  # a user's handful of articles (the foreign dev set is ~45k characters)
SMALL_CORPORA = 3  # per size and bench file
SMALL_BLEND_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
LARGE_BLEND_GRID = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5)
BLEND_WEIGHT_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
BLEND_SCALE_GRID = (100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0)


def small_corpora(path: Path, half: str = "fit", seed: int = SPLIT_SEED) -> list[tuple[list, list[SplitQuestion]]]:
    """Small corpora drawn from the articles of `half` of a SQuAD-format file: for each size of SMALL_CORPUS_CHARS,
    SMALL_CORPORA random sets of whole articles (one document each) of about that many characters, with their
    questions (every one answerable by its paragraph)."""
    import random

    articles = read_squad(path)
    chosen = sorted(articles_of(half, len(articles), seed))
    rng = random.Random(seed + 2)
    out = []
    for size in SMALL_CORPUS_CHARS:
        for _ in range(SMALL_CORPORA):
            order = chosen[:]
            rng.shuffle(order)
            documents, questions, chars = [], [], 0
            for a_index in order:
                document, asked = article_document(path, a_index, articles[a_index])
                documents.append(document)
                questions.extend(asked)
                chars += len(document.text)
                if chars >= size:
                    break
            out.append((documents, questions))
    return out


def _small_hits(engine: Engine, questions: Sequence[SplitQuestion], blend: float) -> tuple[float, float]:
    """(hit@1, hit@3) over passages of a small corpus' questions with the given blend."""
    engine.general_blend = blend
    hits1 = hits3 = 0
    for item in questions:
        try:
            ranked = engine.search(item.question, limit=3)
        except Exception:
            ranked = []
        found = [passage_hit(engine, pid, item) for pid in ranked]
        hits1 += bool(found[:1] and found[0])
        hits3 += any(found)
    return hits1 / len(questions), hits3 / len(questions)


def _large_hit1(engine: Engine, questions: Sequence[tuple[str, str]], blend: float) -> float:
    """hit@1 (by paragraph document, as `footnote eval --squad`) of a whole fit half with the given blend."""
    engine.general_blend = blend
    hits = 0
    for question, doc_id in questions:
        ranked = engine.search(question, limit=1)
        hits += bool(ranked) and engine.passages[ranked[0]].doc_id == doc_id
    return hits / len(questions)


def fit_blend(bench: Path) -> dict[str, float]:
    """GENERAL_BLEND and GENERAL_BLEND_PASSAGES: the weight and the corpus size (in passages) at which it halves.
    Each bench file's fit half gives small corpora (measured at every blend of SMALL_BLEND_GRID: mean of hit@1
    and hit@3) and the whole fit half (hit@1 at LARGE_BLEND_GRID); a (weight, scale) pair is scored, per file,
    by the mean over its small corpora and its whole half of the figure at the blend the pair gives that corpus'
    size (interpolated on the grid), and the best mean over the three files wins (ties: the smaller weight)."""
    curves: dict[str, list[tuple[int, tuple[float, ...], tuple[float, ...]]]] = {}
    for name in BENCH_FILES:
        rows = []
        for documents, questions in small_corpora(bench / name):
            engine = Engine.from_documents(documents)
            values = []
            for blend in SMALL_BLEND_GRID:
                hit1, hit3 = _small_hits(engine, questions, blend)
                values.append((hit1 + hit3) / 2)
            rows.append((len(engine.passages), SMALL_BLEND_GRID, tuple(values)))
            log.warning(
                "%s: small corpus of %d passages, %d questions: %s",
                name,
                len(engine.passages),
                len(questions),
                [round(v, 4) for v in values],
            )
        documents, questions = squad_documents(bench / name, "fit")
        engine = Engine.from_documents(documents)
        values = [_large_hit1(engine, questions, blend) for blend in LARGE_BLEND_GRID]
        log.warning("%s: fit half, %d passages: hit@1 %s", name, len(engine.passages), [round(v, 4) for v in values])
        rows.append((len(engine.passages), LARGE_BLEND_GRID, tuple(values)))
        curves[name] = rows
    best: tuple[float, dict[str, float]] = (-1.0, {})
    from index.ranking import general_blend

    for weight, scale in itertools.product(BLEND_WEIGHT_GRID, BLEND_SCALE_GRID):
        per_file = []
        for rows in curves.values():
            small = [float(np.interp(general_blend(n, weight, scale), grid, v)) for n, grid, v in rows[:-1]]
            n, grid, v = rows[-1]
            large = float(np.interp(general_blend(n, weight, scale), grid, v))
            per_file.append((sum(small) / len(small) + large) / 2)
        mean = sum(per_file) / len(per_file)
        if mean > best[0] + 1e-9:
            best = (mean, {"weight": weight, "scale": scale})
            log.warning("fit %s (mean %.4f) with %s", [round(r, 4) for r in per_file], mean, best[1])
    return best[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index.fit", description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("ranking", "blend", "abstention"))
    parser.add_argument("bench", nargs="?", default="../shared/bench", help="folder of the SQuAD-format files")
    parser.add_argument("--signals", help="abstention: a .npz to keep the fit halves' signals in (read if present)")
    parser.add_argument("--write", action="store_true", help="abstention: save the model as index/data/abstention.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    bench = Path(args.bench)
    if args.what == "ranking":
        result = fit_ranking(bench)
    elif args.what == "blend":
        result = fit_blend(bench)
    else:
        result = fit_abstention(bench, Path(args.signals) if args.signals else None, write=args.write)
    print(json.dumps(result, indent=2))
    return 0


# -- abstention --------------------------------------------------------------------------------------------

FALSE_ABSTAIN_TARGET = 0.015  # the cut-off keeps answerable questions abstained at most this often on each fit set
CONFIDENT_FALSE_ANSWER = 0.05  # "high" confidence is given where at most this share of off-corpus questions reach


def abstention_signals(bench: Path, half: str = "fit") -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Per bench file: the signals of every question of its abstention split (rows of FEATURES; NaN rows for
    questions with no candidate at all, which always abstain) and whether each is answerable."""
    from index.abstention import FEATURES
    from index.evaluate import abstention_split

    out = []
    for name in BENCH_FILES:
        documents, questions = abstention_split(bench / name, half=half)
        engine = Engine.from_documents(documents)
        rows, labels = [], []
        for item in questions:
            try:
                query = engine.analyze(clean_question(item.question))
            except QuestionError:
                continue
            ranked, ranking, _coverage, raw = engine._rank(query, ())
            rows.append(engine.signals(query, ranked, ranking, raw) if ranked else np.full(len(FEATURES), np.nan))
            labels.append(item.answerable)
        log.warning("%s: %d questions (%d answerable)", name, len(labels), sum(labels))
        out.append((name, np.asarray(rows), np.asarray(labels, dtype=bool)))
    return out


def _logistic(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, l2: float = 1e-3) -> tuple[np.ndarray, float]:
    """Weighted, L2-regularised logistic regression by Newton's method: (weights, intercept)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (sample_weight * (p - y)) + penalty * beta
        hessian = (design * (sample_weight * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def fit_abstention(bench: Path, signals: Path | None = None, write: bool = False) -> dict[str, object]:
    """Fit the model on the fit halves' signals (computed, or read from / saved to `signals`, a .npz); with `write`,
    save it as index/data/abstention.json."""
    from index.abstention import FEATURES, MODEL_FILE, expand

    if signals is not None and signals.exists():
        with np.load(signals) as saved:
            sets = [(name, saved[f"x{i}"], saved[f"y{i}"]) for i, name in enumerate(BENCH_FILES)]
    else:
        sets = abstention_signals(bench, "fit")
        if signals is not None:
            arrays = {f"x{i}": x for i, (_n, x, _y) in enumerate(sets)} | {
                f"y{i}": y for i, (_n, _x, y) in enumerate(sets)
            }
            np.savez(signals, **arrays)
    xs, ys, ws = [], [], []
    for _name, x, y in sets:
        keep = ~np.isnan(x).any(axis=1)
        xs.append(expand(x[keep]))
        ys.append(y[keep].astype(float))
        ws.append(np.full(int(keep.sum()), 1.0 / max(1, int(keep.sum()))))  # each file weighs the same
    x, y, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ws) * len(xs)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    weights, intercept = _logistic((x - mean) / scale, y, w)

    def probabilities(rows: np.ndarray) -> np.ndarray:
        missing = np.isnan(rows).any(axis=1)
        z = (expand(np.nan_to_num(rows, nan=0.0)) - mean) / scale
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ weights + intercept, -50, 50)))
        return np.where(missing, 0.0, p)

    per_set = [(name, probabilities(rows), labels) for name, rows, labels in sets]
    grid = np.linspace(0.005, 0.995, 199)
    abstain_p = float(grid[0])
    for cut in grid:
        if all((p[labels] < cut).mean() <= FALSE_ABSTAIN_TARGET for _n, p, labels in per_set):
            abstain_p = float(cut)
    confident_p = abstain_p
    for cut in grid[::-1]:
        if cut > abstain_p and all((p[~labels] >= cut).mean() <= CONFIDENT_FALSE_ANSWER for _n, p, labels in per_set):
            confident_p = float(cut)
    for name, p, labels in per_set:
        log.warning(
            "%s (fit half): answerable abstained %.4f, off-corpus answered %.4f (%.4f with high confidence), "
            "answerable with high confidence %.4f",
            name,
            (p[labels] < abstain_p).mean(),
            (p[~labels] >= abstain_p).mean(),
            (p[~labels] >= confident_p).mean(),
            (p[labels] >= confident_p).mean(),
        )
    result: dict[str, object] = {
        "features": list(FEATURES),
        "fitted_on": "the fit halves (seed 15) of " + ", ".join(BENCH_FILES) + ": python -m index.fit abstention",
        "abstain_p": round(abstain_p, 4),
        "confident_p": round(confident_p, 4),
        "intercept": round(intercept, 6),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "weights": [round(float(v), 6) for v in weights],
    }
    if write:
        path = Path(__file__).with_name("data") / MODEL_FILE
        path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        log.warning("written %s", path)
    return result


if __name__ == "__main__":
    sys.exit(main())
