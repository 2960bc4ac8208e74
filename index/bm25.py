"""BM25 over precomputed postings, scored exactly as rank-bm25's BM25Okapi defines it.

rank-bm25's `get_scores` loops over every document for every query term in Python. Here each term's postings
(document ids and term frequencies) are stored once, and each posting's BM25 contribution
``idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))`` is computed when the index is loaded, so a
query costs the postings of its terms. The idf is BM25Okapi's: ``log(N - df + 0.5) - log(df + 0.5)``, with
negative values replaced by ``epsilon * mean(idf)``. tests/index/test_bm25.py checks parity with rank-bm25.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25


class BM25Index:
    """Postings in CSR form: for term id t, documents ``doc_ids[indptr[t]:indptr[t+1]]`` (ascending)."""

    def __init__(
        self,
        vocab: Sequence[str],
        indptr: np.ndarray,
        doc_ids: np.ndarray,
        tfs: np.ndarray,
        doc_len: np.ndarray,
        params: BM25Params = BM25Params(),
    ) -> None:
        self.vocab = list(vocab)
        self.term_ids = {term: i for i, term in enumerate(self.vocab)}
        self.indptr = indptr.astype(np.int64, copy=False)
        self.doc_ids = doc_ids.astype(np.int32, copy=False)
        self.tfs = tfs.astype(np.int32, copy=False)
        self.doc_len = doc_len.astype(np.int32, copy=False)
        self.params = params
        self.n_docs = len(doc_len)
        self.avgdl = float(self.doc_len.sum() / self.n_docs) if self.n_docs else 0.0
        df = np.diff(self.indptr).astype(np.float64)
        idf = np.log(self.n_docs - df + 0.5) - np.log(df + 0.5)
        self.average_idf = float(idf.mean()) if len(idf) else 0.0
        # BM25Okapi's floor: idf below zero becomes epsilon * average idf (computed before flooring).
        self.idf = np.where(idf < 0, params.epsilon * self.average_idf, idf)
        # Informativeness: an always-positive idf (Lucene's BM25 idf) for weighing words against each other in
        # coverage and excerpts. BM25Okapi's idf is zero or negative for terms in half the documents or more,
        # which in a small corpus is most of them; scores keep BM25Okapi's exact definition.
        self._informativeness = np.log1p((self.n_docs - df + 0.5) / (df + 0.5))
        self.max_informativeness = math.log1p((self.n_docs + 0.5) / 0.5)
        self.weights = self._posting_weights()

    def _posting_weights(self) -> np.ndarray:
        if not len(self.doc_ids):
            return np.zeros(0, dtype=np.float32)
        k1, b = self.params.k1, self.params.b
        tf = self.tfs.astype(np.float64)
        norm = k1 * (1 - b + b * self.doc_len[self.doc_ids] / self.avgdl) if self.avgdl else k1 * (1 - b)
        term_of_posting = np.repeat(np.arange(len(self.vocab)), np.diff(self.indptr))
        return (self.idf[term_of_posting] * tf * (k1 + 1) / (tf + norm)).astype(np.float32)

    @classmethod
    def build(cls, documents: Iterable[Sequence[str]], params: BM25Params = BM25Params()) -> BM25Index:
        """Build from tokenised documents (a term repeated n times has term frequency n)."""
        term_ids: dict[str, int] = {}
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        lengths: list[int] = []
        for doc_id, tokens in enumerate(documents):
            lengths.append(len(tokens))
            counter = Counter(tokens)
            ids = np.fromiter((term_ids.setdefault(t, len(term_ids)) for t in counter), np.int64, len(counter))
            rows.append(ids)
            cols.append(np.full(len(counter), doc_id, dtype=np.int32))
            counts.append(np.fromiter(counter.values(), np.int32, len(counter)))
        vocab = list(term_ids)
        if rows:
            term = np.concatenate(rows)
            doc = np.concatenate(cols)
            tf = np.concatenate(counts)
            order = np.lexsort((doc, term))
            term, doc, tf = term[order], doc[order], tf[order]
        else:
            term = np.zeros(0, np.int64)
            doc = np.zeros(0, np.int32)
            tf = np.zeros(0, np.int32)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term, minlength=len(vocab)), out=indptr[1:])
        return cls(vocab, indptr, doc, tf, np.asarray(lengths, dtype=np.int32), params)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(document ids, BM25 contributions) of a term; empty arrays for an unknown term."""
        term_id = self.term_ids.get(term)
        if term_id is None:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        lo, hi = self.indptr[term_id], self.indptr[term_id + 1]
        return self.doc_ids[lo:hi], self.weights[lo:hi]

    def df(self, term: str) -> int:
        term_id = self.term_ids.get(term)
        return 0 if term_id is None else int(self.indptr[term_id + 1] - self.indptr[term_id])

    def informativeness(self, term: str) -> float:
        """How telling a term is: log(1 + (N - df + 0.5) / (df + 0.5)), always positive; a term absent from the
        corpus gets the value of a term seen nowhere (the maximum)."""
        term_id = self.term_ids.get(term)
        return self.max_informativeness if term_id is None else float(self._informativeness[term_id])

    def matching(self, terms: Iterable[str]) -> np.ndarray:
        """Boolean mask of the documents containing any of `terms`."""
        mask = np.zeros(self.n_docs, dtype=bool)
        for term in terms:
            mask[self.postings(term)[0]] = True
        return mask

    def scores(self, query: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query terms (repeats count, as in rank-bm25)."""
        scores = np.zeros(self.n_docs, dtype=np.float64)
        for term in query:
            ids, weights = self.postings(term)
            scores[ids] += weights
        return scores

    def contains(self, term: str, doc_ids: np.ndarray) -> np.ndarray:
        """Boolean mask: which of `doc_ids` contain `term`."""
        ids, _ = self.postings(term)
        if not len(ids):
            return np.zeros(len(doc_ids), dtype=bool)
        positions = np.searchsorted(ids, doc_ids)
        positions[positions >= len(ids)] = 0
        return ids[positions] == doc_ids
