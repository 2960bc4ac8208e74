"""BM25 over precomputed postings, scored exactly as rank-bm25's BM25Okapi defines it.

rank-bm25's `get_scores` loops over every document for every query term in Python. Here each term's postings
(document ids and term frequencies) are stored once, and each posting's BM25 contribution
``idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))`` is computed when the index is loaded, so a
query costs the postings of its terms. The idf is BM25Okapi's: ``log(N - df + 0.5) - log(df + 0.5)``, with
negative values replaced by ``epsilon * mean(idf)``. tests/index/test_bm25.py checks parity with rank-bm25.

Queries (`search`, `top_k`) run in a small C kernel (index/_bm25kernel.c, built at install) when it is there,
else in numpy with the same arithmetic. The kernel accumulates only the documents the postings reach and selects
the top k among them with a heap, so a query costs its postings, never the corpus; with max-score pruning it
skips most of the long postings of common terms (docs/benchmarks.md has what each idea measured).
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

try:
    from index import _bm25kernel
except ImportError:  # built without a C compiler: numpy does the same, slower
    _bm25kernel = None

KERNEL = "c" if _bm25kernel is not None else "numpy"


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25


_NO_DOCS = np.zeros(0, dtype=np.int32)
_NO_WEIGHTS = np.zeros(0, dtype=np.float32)


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
        weights: np.ndarray | None = None,
        max_weight: np.ndarray | None = None,
    ) -> None:
        """`weights`: the per-posting contributions as saved from an index with the same arrays and params
        (computed when not given); `max_weight`: the largest contribution of each term, likewise."""
        self.vocab = list(vocab)
        self.term_ids = {term: i for i, term in enumerate(self.vocab)}
        self.indptr = indptr.astype(np.int64, copy=False)
        self.doc_ids = doc_ids.astype(np.int32, copy=False)
        self.tfs = tfs if tfs.dtype.kind in "iu" else tfs.astype(np.int32)  # as stored (uint16 in a file)
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
        if weights is not None and len(weights) == len(self.doc_ids):
            self.weights = weights.astype(np.float32, copy=False)
        else:
            self.weights = self._posting_weights()
        if max_weight is not None and len(max_weight) == len(self.vocab):
            self.max_weight = max_weight.astype(np.float32, copy=False)
        else:
            self.max_weight = self._max_weights()
        # Max-score pruning needs contributions >= 0: true unless the idf floor itself is negative (a corpus of
        # a handful of passages whose average idf is below zero).
        self._prunable = bool(len(self.idf) == 0 or self.idf.min() >= 0)
        self._workspace = threading.local()

    def _posting_weights(self, chunk: int = 1 << 20) -> np.ndarray:
        weights = np.zeros(len(self.doc_ids), dtype=np.float32)
        if not len(self.doc_ids):
            return weights
        # float32, a million postings at a time: a 100k-passage index has millions of postings, and float64
        # temporaries over all of them would cost more memory than the index.
        k1, b = np.float32(self.params.k1), np.float32(self.params.b)
        if self.avgdl:
            norms = k1 * (np.float32(1) - b + self.doc_len.astype(np.float32) * (b / np.float32(self.avgdl)))
        else:
            norms = np.full(self.n_docs, k1 * (np.float32(1) - b), dtype=np.float32)
        idf = self.idf.astype(np.float32)
        for lo in range(0, len(weights), chunk):
            hi = min(lo + chunk, len(weights))
            term_of = np.searchsorted(self.indptr, np.arange(lo, hi), side="right") - 1
            tf = self.tfs[lo:hi].astype(np.float32)
            norm = norms[self.doc_ids[lo:hi]]
            norm += tf
            tf *= k1 + np.float32(1)
            tf *= idf[term_of]
            tf /= norm
            weights[lo:hi] = tf
        return weights

    def _max_weights(self) -> np.ndarray:
        best = np.zeros(len(self.vocab), dtype=np.float32)
        present = np.flatnonzero(np.diff(self.indptr))
        if len(present):
            best[present] = np.maximum.reduceat(self.weights, self.indptr[present])
        return best

    @classmethod
    def build(cls, documents: Iterable[Sequence[str]], params: BM25Params = BM25Params()) -> BM25Index:
        """Build from tokenised documents (a term repeated n times has term frequency n)."""
        term_ids: dict[str, int] = {}
        ids: list[int] = []
        counts: list[int] = []
        bounds = [0]
        for tokens in documents:
            counter = Counter(tokens)
            ids.extend(term_ids.setdefault(t, len(term_ids)) for t in counter)
            counts.extend(counter.values())
            bounds.append(len(ids))
        return cls.from_bags(
            list(term_ids),
            np.asarray(bounds, dtype=np.int64),
            np.asarray(ids, dtype=np.int64),
            np.asarray(counts, dtype=np.int32),
            params,
        )

    @classmethod
    def from_bags(
        cls,
        vocab: Sequence[str],
        bag_ptr: np.ndarray,
        bag_terms: np.ndarray,
        bag_counts: np.ndarray,
        params: BM25Params = BM25Params(),
        chunk: int = 1 << 20,
    ) -> BM25Index:
        """Build from bags of words: document d has terms ``bag_terms[bag_ptr[d]:bag_ptr[d+1]]`` (ids into `vocab`,
        each once per document) with counts ``bag_counts[...]``. Vectorised: no Python loop over postings."""
        bag_ptr = np.asarray(bag_ptr, dtype=np.int64)
        n_docs = len(bag_ptr) - 1
        terms = np.asarray(bag_terms)
        counts = np.asarray(bag_counts)
        starts = np.minimum(bag_ptr[:-1], max(len(counts) - 1, 0))
        doc_len = np.add.reduceat(counts, starts, dtype=np.int64) if len(counts) else np.zeros(n_docs, np.int64)
        doc_len = np.where(bag_ptr[1:] > bag_ptr[:-1], doc_len, 0).astype(np.int32)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=len(vocab)), out=indptr[1:])

        def docs_of(positions: np.ndarray) -> np.ndarray:
            return (np.searchsorted(bag_ptr, positions, side="right") - 1).astype(np.int32)

        if len(vocab) < 2**24 and n_docs < 2**24 and (not len(counts) or int(counts.max()) < 2**16):
            # Postings in (term, document) order, a block of terms at a time (about `chunk` postings, at least an
            # eighth of them): one packed 64-bit key per posting of the block (term, document, count), sorted.
            # The pairs are unique, so any sort is stable; the block keeps the temporaries small (a 100k-passage
            # corpus has ~10M postings: all keys at once would be 80 MB on top of the index being built).
            doc_ids = np.empty(len(terms), dtype=np.int32)
            tfs = np.empty(len(terms), dtype=np.uint16)
            block = max(chunk, len(terms) // 8)
            low = 0
            while low < len(vocab):
                high = int(np.searchsorted(indptr, indptr[low] + block, side="right")) - 1
                high = min(max(high, low + 1), len(vocab))
                positions = np.flatnonzero((terms >= low) & (terms < high))
                keys = (terms[positions] - low).astype(np.uint64) << np.uint64(40)
                keys |= docs_of(positions).astype(np.uint64) << np.uint64(16)
                keys |= counts[positions].astype(np.uint64)
                del positions
                keys.sort()
                out = slice(int(indptr[low]), int(indptr[high]))
                doc_ids[out] = (keys >> np.uint64(16)) & np.uint64(2**24 - 1)
                tfs[out] = keys & np.uint64(2**16 - 1)
                del keys
                low = high
        else:  # pragma: no cover - beyond 16M passages or terms
            order = np.argsort(terms, kind="stable")  # documents are in order: a stable sort keeps them so
            doc_ids, tfs = docs_of(order), counts[order].astype(np.int32)
        return cls(vocab, indptr, doc_ids, tfs, doc_len, params)

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

    def top_k(
        self, query: Sequence[str | tuple[str, float]], k: int = 10, *, exclude: Collection[int] = ()
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best-scoring documents with a positive score, best first, and their scores: exactly
        rank-bm25's get_scores + stable argsort (ties by document id). Query terms may carry a weight
        (``("chip", 0.5)``); repeated terms count again. `exclude`: document ids never returned."""
        # The common case without search()'s general grouping: one group per known term (tens of microseconds
        # of Python saved on a query the kernel answers in a hundred).
        term_ids = self.term_ids
        terms: list[int] = []
        factors: list[float] = []
        for item in query:
            term, factor = (item, 1.0) if isinstance(item, str) else item
            term_id = term_ids.get(term)
            if term_id is not None:
                terms.append(term_id)
                factors.append(float(factor))
        return self._run(terms, factors, list(range(len(terms) + 1)), exclude, k, True, True)

    def search(
        self,
        groups: Sequence[Sequence[tuple[str, float]]],
        k: int = 10,
        *,
        exclude: Collection[int] = (),
        positive: bool = True,
        prune: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top `k` documents for a query of groups of weighted terms, best first (ties by document id), and
        their scores (float64); `k` < 0: every document reached, in no particular order.

        A group's value for a document is the best of its members: its first term's contribution (0 when the
        document lacks it), or factor x contribution of any other member the document has (alternatives such
        as a word's translations, which never add up). A document's score is the sum of its groups' values.
        With `positive`, only documents scoring above zero are returned; `exclude` are never returned.
        `prune=False` turns off max-score pruning (the same result; for measurements)."""
        terms: list[int] = []
        factors: list[float] = []
        bounds = [0]
        for group in groups:
            members = [(self.term_ids.get(term, -1), float(factor)) for term, factor in group]
            if all(term < 0 for term, _ in members):
                continue
            terms.extend(term for term, _ in members)
            factors.extend(factor for _, factor in members)
            bounds.append(len(terms))
        return self._run(terms, factors, bounds, exclude, k, positive, prune)

    def _run(
        self,
        terms: list[int],
        factors: list[float],
        bounds: list[int],
        exclude: Collection[int],
        k: int,
        positive: bool,
        prune: bool,
    ) -> tuple[np.ndarray, np.ndarray]:
        excluded = _NO_DOCS
        if exclude:
            excluded = np.unique(np.fromiter(exclude, dtype=np.int64, count=len(exclude)))
            excluded = excluded[(excluded >= 0) & (excluded < self.n_docs)].astype(np.int32)
        if _bm25kernel is None:
            return self._search_numpy(terms, factors, bounds, excluded, k, positive)
        workspace = self._workspace
        if getattr(workspace, "scratch", None) is None:
            workspace.scratch = np.zeros(_bm25kernel.WORKSPACE_BYTES, dtype=np.uint8)
        ids, scores, workspace.walked = _bm25kernel.top_k(
            self.indptr,
            self.doc_ids,
            self.weights,
            self.max_weight,
            self.n_docs,
            np.asarray(terms, dtype=np.int64),
            np.asarray(factors, dtype=np.float64),
            np.asarray(bounds, dtype=np.int64),
            excluded,
            k,
            positive,
            prune and self._prunable,
            workspace.scratch,
        )
        return np.frombuffer(ids, dtype=np.int32), np.frombuffer(scores, dtype=np.float64)

    @property
    def postings_walked(self) -> int:
        """How many postings this thread's last `search` read in full (pruning skips the rest)."""
        return getattr(self._workspace, "walked", 0)

    def _search_numpy(
        self, terms: list[int], factors: list[float], bounds: list[int], excluded: np.ndarray, k: int, positive: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """`search` without the C kernel: the same arithmetic (groups added in order) over dense arrays."""
        scores = np.zeros(self.n_docs, dtype=np.float64)
        reached = np.zeros(self.n_docs, dtype=bool)
        walked = 0
        for lo, hi in itertools.pairwise(bounds):
            first, factor = terms[lo], factors[lo]
            ids, weights = self._postings_of(first)
            walked += len(ids)
            reached[ids] = True
            if hi - lo == 1:
                scores[ids] += weights if factor == 1.0 else factor * weights.astype(np.float64)
                continue
            best = np.zeros(self.n_docs, dtype=np.float64)
            best[ids] = factor * weights.astype(np.float64)
            for term, factor in zip(terms[lo + 1 : hi], factors[lo + 1 : hi], strict=True):
                e_ids, e_weights = self._postings_of(term)
                walked += len(e_ids)
                reached[e_ids] = True
                best[e_ids] = np.maximum(best[e_ids], factor * e_weights.astype(np.float64))
            scores += best
        self._workspace.walked = walked
        eligible = reached
        if positive:
            eligible &= scores > 0
        eligible[excluded] = False
        candidates = np.flatnonzero(eligible)
        if 0 <= k < len(candidates):
            kth = -np.partition(-scores[candidates], k - 1)[k - 1] if k else np.inf
            candidates = candidates[scores[candidates] >= kth]
        if k >= 0:
            candidates = candidates[np.lexsort((candidates, -scores[candidates]))[:k]]
        top = candidates.astype(np.int32)
        return top, scores[top]

    def _postings_of(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        if term_id < 0:
            return _NO_DOCS, _NO_WEIGHTS
        lo, hi = self.indptr[term_id], self.indptr[term_id + 1]
        return self.doc_ids[lo:hi], self.weights[lo:hi]

    def contains(self, term: str, doc_ids: np.ndarray) -> np.ndarray:
        """Boolean mask: which of `doc_ids` contain `term`."""
        ids, _ = self.postings(term)
        if not len(ids):
            return np.zeros(len(doc_ids), dtype=bool)
        positions = np.searchsorted(ids, doc_ids)
        positions[positions >= len(ids)] = 0
        return ids[positions] == doc_ids
