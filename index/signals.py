"""The abstention signals: what the engine's ranking says about whether the corpus answers a question.

index/abstention.py says what each signal means and holds the calibrated model over them; here they are computed
from an Engine's ranking of one question (`compute`, which `Engine.signals` calls): how much of the question the
best of the first three passages matches (literally, through an alias, a dictionary link), how telling the
missing words are in the language, the first passage's score against the best the question could reach in this
corpus (`reachable`), the gap to the second, phrases and characters found as written, and whether a question
asking for a number or a time (`answer_type_missing`) meets a passage without any figure.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from index.normalize import fold

if TYPE_CHECKING:
    from index.answers import Concept, Query
    from index.engine import Engine


def compute(
    engine: Engine,
    query: Query,
    ranked: Sequence[int],
    ranking: dict[int, float],
    raw: np.ndarray,
    scored: Query | None = None,
) -> np.ndarray:
    """The abstention signals of index/abstention.py (FEATURES, in order) for `engine`'s ranked candidate list
    of `scored` (default: `query`), checking the units of `query`."""
    top = np.asarray(ranked[:3], dtype=np.int32)
    units, credit, anchored = engine._unit_credits(query, top)
    general = np.asarray([engine.general_weight(c, query.text) for c in units])
    total = float(general.sum()) or 1.0
    missing_by_passage = (general @ (1.0 - credit)) / total if len(units) else np.zeros(len(top))
    best = int(np.argmin(missing_by_passage))
    gaps = general * (1.0 - credit[:, best]) if len(units) else np.zeros(0)
    in_corpus = np.asarray(
        [
            bool(engine.bm25.df(c.term))
            or any(engine.bm25.df(t) for t, _ in c.expansions)
            or any(engine.bm25.df(part) for part in engine._parts(query, c))
            for c in units
        ],
        dtype=bool,
    )
    capitals = np.asarray([c.start > 0 and query.text[c.start : c.start + 1].isupper() for c in units], dtype=bool)
    best_reachable = reachable(engine, scored or query)
    first = ranking[ranked[0]]
    second = ranking[ranked[1]] if len(ranked) > 1 else 0.0
    return np.asarray(
        [
            float(missing_by_passage[best]),
            float(gaps.max()) if len(gaps) else 0.0,
            float(general @ ~in_corpus) / total if len(units) else 0.0,
            float(engine._coverage_of(query, top, units, credit, anchored).max()),
            relative(float(raw[ranked[0]]), best_reachable),
            (first - second) / first if first > 0 else 0.0,
            math.log1p(len(units)),
            *surface_matches(query.text, units, engine._folded(int(top[best]))),
            float(general @ credit[:, best]) if len(units) else 0.0,
            float((general * credit[:, best]).max()) if len(units) else 0.0,
            float((1.0 - credit[capitals, best]).mean()) if capitals.any() else 0.0,
            answer_type_missing(query.text, engine.passages[int(top[best])].text),
        ]
    )


def surface_matches(question: str, units: Sequence[Concept], folded: str) -> tuple[float, float]:
    """(phrases, characters) signals: adjacent unit pairs of the question found verbatim in a passage's folded
    text (white space collapsed), and the Chinese characters of the units found in it."""
    pairs = [
        fold(question[a.start : b.end])
        for a, b in itertools.pairwise(sorted(units, key=lambda c: c.start))
        if a.end <= b.start and not question[a.end : b.start].strip()
    ]
    phrases = sum(" ".join(pair.split()) in folded for pair in pairs) / len(pairs) if pairs else 0.0
    han = [ch for c in units for ch in fold(question[c.start : c.end]) if "\u3400" <= ch <= "\u9fff"]
    characters = sum(ch in folded for ch in han) / len(han) if han else 0.0
    return phrases, characters


def reachable(engine: Engine, query: Query) -> float:
    """The best BM25 score the question could reach here: each concept at the largest contribution any passage
    gives it (its literal term or a weighted expansion), as if one passage had them all."""
    total = 0.0
    for concept in query.concepts:
        best = None  # contributions can be negative (BM25Okapi's floored idf in a tiny corpus)
        for term, factor in ((concept.term, 1.0), *concept.expansions):
            weights = engine.bm25.postings(term)[1]
            if len(weights):
                value = factor * float(weights.max())
                best = value if best is None else max(best, value)
        total += best or 0.0
    for term, factor in query.extra:
        weights = engine.bm25.postings(term)[1]
        if len(weights):
            total += factor * float(weights.max())
    return total


# What kind of answer a question asks for, by its question words (English, Chinese, Cantonese): a number
# (how many, 多少, 幾多) or a time (when, 何時, 幾時). A passage without any figure cannot answer the first.
_ASKS_NUMBER = re.compile(
    r"\bhow (?:many|much|long|old|far|big|tall|high|large|often)\b|\bwhat (?:percent|percentage|share)\b"
    r"|多少|幾多|几多|多久|多長|多长|多大|多高|多遠|多远|幾個|几个|幾年|几年|百分之幾|百分之几",
    re.I,
)
_ASKS_TIME = re.compile(
    r"\bwhen\b|\bwhat (?:year|date|month|day|time)\b|\bwhich (?:year|month|day)\b"
    r"|何時|何时|幾時|几时|什麼時候|什么时候|哪一?年|何年|哪一?天|哪個月|哪个月",
    re.I,
)
_HAS_FIGURE = re.compile(
    r"\d|[一二三四五六七八九十百千萬万億亿兩两]|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|half)\b",
    re.I,
)


def relative(score: float, reachable: float) -> float:
    """The first passage's score over the best reachable one. In a corpus of a few passages BM25Okapi's idf is
    zero or negative for every term (each is in half the passages or more), so the ratio means nothing: the
    passage then counts as reaching the best when its score is the best reachable."""
    if reachable > 0:
        return min(1.0, max(0.0, score / reachable))
    return 1.0 if score >= reachable - 1e-9 else 0.0


def answer_type_missing(question: str, text: str) -> float:
    """1.0 when the question asks for a number or a time and the passage states no figure at all, else 0.0."""
    if (_ASKS_NUMBER.search(question) or _ASKS_TIME.search(question)) and not _HAS_FIGURE.search(text):
        return 1.0
    return 0.0
