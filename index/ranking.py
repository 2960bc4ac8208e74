"""Ranking on top of BM25: the paragraph a passage stands in, and how close the question's words stand.

A long paragraph is cut into passages of at most 480 characters, so a question whose words are spread over the
paragraph finds each piece only partly. The paragraph-context score puts that back: every candidate passage is
also scored as its whole paragraph (BM25 over the term frequencies of all the paragraph's passages, with the
paragraph's length), and ranked by ``passage score + PARAGRAPH_WEIGHT * paragraph score``. An answer sentence
is therefore never separated from the context that names its subject. (Measured against the alternative of
overlapping windows of sentences, which doubles the index and recovered a fifth as much: docs/quality.md.)

Proximity: for questions in Latin script, the first PROXIMITY_CANDIDATES passages also get credit for the
question's words standing together: a phrase bonus for two consecutive question words within two positions, in
order, and a proximity bonus of informativeness / distance² for every pair of question words present. Chinese
questions are left alone: re-tokenising Chinese candidates costs ~3 ms a passage with jieba, and on the Chinese
benchmarks the paragraph context gave what proximity would.

General-language weight: BM25's idf says how rare a word is *in this corpus*. In a corpus of a dozen articles that
is a poor estimate: an everyday word that happens to occur once ("say", df=1) outweighs the name the question is
about, which several passages carry. The candidates are therefore re-scored (their own and their paragraph's
BM25) with each matched term's idf blended towards its informativeness in the *language* (index/abstention.py:
wordfreq for English, jieba's frequencies for Chinese), scaled to the corpus' largest idf:
``idf' = (1 - a) * idf + a * general * max_idf``, with ``a = GENERAL_BLEND / (1 + passages / GENERAL_BLEND_PASSAGES)``:
strongest in a small corpus, fading as the corpus' own statistics become reliable. BM25's candidate set (the exact
BM25Okapi top CANDIDATES) is unchanged.

Every constant here was fitted on the *fit* halves of ../shared/bench (CMRC 2018, DRCD, SQuAD-A, split by
article with a fixed seed; ``python -m index.fit ranking``) and is reported on the held-out halves
(docs/quality.md). The BM25 parameters shape the index file, so this module is part of the index's source key.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from index.bm25 import BM25Index, BM25Params

# Fitted on the fit halves (`python -m index.fit ranking`: the grid of index/fit.py, best mean hit@1 of the three
# fit halves, 0.975 / 0.938 / 0.796). One k1/b pair for every language: the Chinese sets' optimum lies in the
# same flat region (k1 0.5-0.9, b 0.3-0.5).
BM25_PARAMS = BM25Params(k1=0.5, b=0.5)
PARAGRAPH_WEIGHT = 2.0
PHRASE_WEIGHT = 0.5
PROXIMITY_WEIGHT = 0.25
PROXIMITY_CANDIDATES = 10
# The general-language blend (see above), fitted by `python -m index.fit ranking` on small corpora sampled from the fit
# halves and on the fit halves themselves.
GENERAL_BLEND = 0.6
GENERAL_BLEND_PASSAGES = 2000.0
PROXIMITY_CACHE = 2048  # passages whose term positions are kept (a few hundred bytes each)

_LATIN_UNIT = re.compile(r"[a-z0-9][a-z0-9.%'-]*")
_HAN = re.compile(r"[\u3400-\u9fff]")
_WORD_OR_HAN = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]+")


@dataclass(frozen=True)
class Paragraphs:
    """Which passages make up each paragraph: passage -> paragraph id, and the paragraphs' lengths in terms."""

    of: np.ndarray  # passage id -> paragraph id
    ptr: np.ndarray  # paragraph id -> its passages, members[ptr[g]:ptr[g+1]]
    members: np.ndarray
    length: np.ndarray  # terms in the paragraph
    average: float
    split: bool  # some paragraph has more than one passage

    @classmethod
    def of_passages(cls, documents: Sequence[object], paragraphs: Sequence[int], doc_len: np.ndarray) -> Paragraphs:
        """Paragraphs numbered in the order they first come. `documents`: each passage's document (ids, or
        numbers as index.storedpassages.paragraph_keys gives them: vectorised, ~1 s of Python at 1M passages on
        an engine's first question otherwise)."""
        document_numbers = np.asarray(documents)
        if document_numbers.dtype.kind not in "iu":
            number: dict[object, int] = {}
            document_numbers = np.fromiter(
                (number.setdefault(d, len(number)) for d in documents), np.int64, len(documents)
            )
        paragraph_numbers = np.asarray(paragraphs, dtype=np.int64)
        of = _first_come_numbers(document_numbers.astype(np.int64), paragraph_numbers)
        count = int(of.max()) + 1 if len(of) else 0
        members = np.argsort(of, kind="stable")
        counts = np.bincount(of, minlength=count)
        ptr = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        length = np.bincount(of, weights=doc_len, minlength=count)
        average = float(length.mean()) if len(length) else 0.0
        return cls(of, ptr, members, length, average, bool(len(counts) and counts.max() > 1))


def _first_come_numbers(documents: np.ndarray, paragraphs: np.ndarray) -> np.ndarray:
    """Number each distinct (document, paragraph) pair 0, 1, 2, ... in the order of its first occurrence."""
    if not len(documents):
        return np.zeros(0, dtype=np.int64)
    low = int(paragraphs.min())
    keys = (documents - int(documents.min())) * (int(paragraphs.max()) - low + 1) + (paragraphs - low)
    _unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first), dtype=np.int64)
    return rank[inverse.reshape(-1)]


def term_frequencies(bm25: BM25Index, term: str, doc_ids: np.ndarray) -> np.ndarray:
    """How often `term` occurs in each of `doc_ids` (ascending or not), 0 where it does not."""
    term_id = bm25.term_ids.get(term)
    if term_id is None or not len(doc_ids):
        return np.zeros(len(doc_ids), dtype=np.float64)
    lo, hi = int(bm25.indptr[term_id]), int(bm25.indptr[term_id + 1])
    ids = bm25.doc_ids[lo:hi]
    positions = np.searchsorted(ids, doc_ids)
    positions[positions >= len(ids)] = 0
    found = ids[positions] == doc_ids
    return np.where(found, bm25.tfs[lo:hi][positions], 0).astype(np.float64)


def general_blend(passages: int, weight: float | None = None, scale: float | None = None) -> float:
    """How far a corpus of `passages` passages moves its terms' idf towards their general informativeness."""
    weight = GENERAL_BLEND if weight is None else weight
    scale = GENERAL_BLEND_PASSAGES if scale is None else scale
    return weight / (1.0 + passages / scale) if scale > 0 else 0.0


def blended_idf(bm25: BM25Index, generality: Mapping[str, float], blend: float) -> dict[str, float]:
    """The blended idf of each term of `generality` (term -> informativeness in the language, 0..1) that the
    corpus has: ``(1 - blend) * idf + blend * generality * max_idf``."""
    top = float(bm25.idf.max()) if len(bm25.idf) else 0.0
    out = {}
    for term, general in generality.items():
        term_id = bm25.term_ids.get(term)
        if term_id is not None:
            out[term] = (1.0 - blend) * float(bm25.idf[term_id]) + blend * general * top
    return out


def saturation(bm25: BM25Index, term: str, doc_ids: np.ndarray) -> np.ndarray:
    """BM25's term-frequency part (without idf) of `term` in each of `doc_ids`."""
    tf = term_frequencies(bm25, term, doc_ids)
    k1, b = bm25.params.k1, bm25.params.b
    norm = k1 * (1.0 - b + b * bm25.doc_len[doc_ids] / (bm25.avgdl or 1.0))
    return tf * (k1 + 1.0) / (tf + norm)


def reweighted_scores(
    bm25: BM25Index, groups: Sequence[Sequence[tuple[str, float]]], candidates: np.ndarray, idf: Mapping[str, float]
) -> np.ndarray:
    """The change in each candidate's BM25 score (groups as Engine.query_groups: the best term of a group counts)
    when the terms of `idf` weigh that instead of the corpus' idf."""
    change = np.zeros(len(candidates))
    for group in groups:
        if not any(term in idf for term, _ in group):
            continue
        old = np.zeros(len(candidates))
        new = np.zeros(len(candidates))
        for term, factor in group:
            term_id = bm25.term_ids.get(term)
            if term_id is None:
                continue
            part = factor * saturation(bm25, term, candidates)
            old = np.maximum(old, float(bm25.idf[term_id]) * part)
            new = np.maximum(new, idf.get(term, float(bm25.idf[term_id])) * part)
        change += new - old
    return change


def paragraph_scores(
    bm25: BM25Index,
    paragraphs: Paragraphs,
    concepts: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    extra: Sequence[tuple[str, float]],
    candidates: np.ndarray,
    idf: Mapping[str, float] | None = None,
) -> np.ndarray:
    """BM25 of each candidate's whole paragraph for the query's concepts (a concept scores the best of its literal
    term and its weighted expansions, as in Engine.scores), with the corpus' idf (or, for the terms of `idf`,
    that) and the paragraph's length."""
    groups, back = np.unique(paragraphs.of[candidates], return_inverse=True)
    starts, stops = paragraphs.ptr[groups], paragraphs.ptr[groups + 1]
    sizes = stops - starts
    member_of = np.repeat(np.arange(len(groups)), sizes)
    offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    members = paragraphs.members[np.repeat(starts, sizes) + offsets]
    order = np.argsort(members, kind="stable")
    members, member_of = members[order].astype(np.int32), member_of[order]
    k1, b = bm25.params.k1, bm25.params.b
    norm = k1 * (1.0 - b + b * paragraphs.length[groups] / (paragraphs.average or 1.0))

    def score(term: str) -> np.ndarray:
        term_id = bm25.term_ids.get(term)
        if term_id is None:
            return np.zeros(len(groups))
        tf = np.bincount(member_of, weights=term_frequencies(bm25, term, members), minlength=len(groups))
        weight = idf[term] if idf is not None and term in idf else float(bm25.idf[term_id])
        return weight * tf * (k1 + 1.0) / (tf + norm)

    total = np.zeros(len(groups))
    for term, expansions in concepts:
        best = score(term)
        for other, factor in expansions:
            best = np.maximum(best, factor * score(other))
        total += best
    for term, factor in extra:
        total += factor * score(term)
    return total[back]


def proximity_applies(units: Sequence[str]) -> bool:
    """Proximity is computed for questions with at least two Latin-script units and no Chinese ones."""
    return sum(bool(_LATIN_UNIT.fullmatch(u)) for u in units) >= 2 and not any(_HAN.search(u) for u in units)


def latin_terms(folded: str, stem: Callable[[str], str], stopwords: Collection[str]) -> list[str]:
    """The Latin-script index terms of a folded text in order, without running jieba over its Chinese (each Han
    run is one position, so words on either side of it are not adjacent)."""
    terms: list[str] = []
    for match in _WORD_OR_HAN.finditer(folded):
        word = match.group()
        if word[0] >= "\u3400":
            terms.append("")
        elif word not in stopwords:
            terms.append(stem(word) if word.isalpha() else word)
    return terms


def proximity_credit(
    positions: dict[str, list[int]], units: Sequence[str], weight_of: dict[str, float]
) -> tuple[float, float]:
    """(phrase, proximity) credit of a passage given its term positions: consecutive question units found in
    order within two positions add the smaller informativeness of the two; every pair of distinct units found
    adds the smaller informativeness over the square of their nearest distance."""
    phrase = 0.0
    for first, second in itertools.pairwise(units):
        a, c = positions.get(first), positions.get(second)
        if a and c and first != second and any(0 < j - i <= 2 for i in a for j in c):
            phrase += min(weight_of[first], weight_of[second])
    found = [u for u in dict.fromkeys(units) if u in positions]
    near = 0.0
    for i, first in enumerate(found):
        for second in found[i + 1 :]:
            distance = min(abs(x - y) for x in positions[first] for y in positions[second])
            if distance:
                near += min(weight_of[first], weight_of[second]) / (distance * distance)
    return phrase, near


def term_positions(terms: Sequence[str]) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = {}
    for index, term in enumerate(terms):
        positions.setdefault(term, []).append(index)
    return positions
