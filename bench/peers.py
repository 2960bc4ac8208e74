"""The systems `footnote bench` measures against, each used the way its documentation recommends for speed, all
over the same tokens (Footnote's index terms of every passage, and of every question).

- rank-bm25: BM25Okapi, the scoring definition Footnote must equal. A query is `get_scores` + a stable argsort.
  It has no file format: it is saved the way its users do, with pickle (in the benchmark's own folder only).
- bm25s, numpy backend (its default) and numba backend (`BM25(backend="numba")`, which compiles its scorer and
  top-k selection): method "robertson", the closest to BM25Okapi; a query is `retrieve([tokens], k=10)`.
- tantivy (the Rust search library, through its official Python binding): one text field with the whitespace
  tokenizer, so its terms are exactly ours; a query is a BooleanQuery of SHOULD term queries (a repeated term
  repeated, as rank-bm25 counts it), `searcher.search(query, 10, count=False)` (no hit count, so tantivy may
  skip blocks with block-max WAND). One segment, committed once, so its document numbers are passage numbers.

bm25s and tantivy score with other BM25 variants (bm25s: its own idf floor; tantivy: Lucene's idf, k1 1.2), so
their top 10 is compared by overlap. A peer whose package is missing is skipped with a note saying so.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pickle
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.ranking import BM25_PARAMS

# Footnote's k1 and b (fitted, index/ranking.py) and BM25Okapi's epsilon: rank-bm25 and bm25s score as Footnote does.
K1, B, EPSILON = BM25_PARAMS.k1, BM25_PARAMS.b, BM25_PARAMS.epsilon


class Peer(Protocol):
    name: str

    def build(self, corpus: Sequence[Sequence[str]], folder: Path) -> None:
        """Index the tokenised passages and save the index in `folder`."""

    def load(self, folder: Path) -> None:
        """Load the index saved in `folder`."""

    def search(self, query: Sequence[str]) -> list[int]:
        """Passage numbers of the top 10 (positive scores only), best first."""


class RankBM25:
    name = "rank-bm25"
    module = "rank_bm25"
    note = "given the tokens; BM25Okapi; saved with pickle (no file format)"

    def build(self, corpus: Sequence[Sequence[str]], folder: Path) -> None:
        from rank_bm25 import BM25Okapi

        self.bm25 = BM25Okapi([list(doc) for doc in corpus], k1=K1, b=B, epsilon=EPSILON)
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "bm25okapi.pickle").open("wb") as handle:
            pickle.dump(self.bm25, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, folder: Path) -> None:
        with (folder / "bm25okapi.pickle").open("rb") as handle:
            self.bm25 = pickle.load(handle)  # the benchmark's own file, written just before

    def scores(self, query: Sequence[str]) -> np.ndarray:
        return self.bm25.get_scores(list(query))

    def search(self, query: Sequence[str]) -> list[int]:
        scores = self.bm25.get_scores(list(query))
        top = np.argsort(-scores, kind="stable")[:10]
        return [int(d) for d in top if scores[d] > 0]


class BM25S:
    module = "bm25s"

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.name = f"bm25s-{backend}"
        self.module = "numba" if backend == "numba" else "bm25s"
        self.note = f"given the tokens; method robertson; backend {backend}; retrieve(k=10) per query"

    def build(self, corpus: Sequence[Sequence[str]], folder: Path) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.retriever = bm25s.BM25(k1=K1, b=B, method="robertson", backend=self.backend)
        self.retriever.index([list(doc) for doc in corpus], show_progress=False)
        self.retriever.save(str(folder), show_progress=False)

    def load(self, folder: Path) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.retriever = bm25s.BM25.load(
            str(folder), load_vocab=True, show_progress=False, override_params={"backend": self.backend}
        )
        self.k = min(10, int(self.retriever.scores["num_docs"]))

    def search(self, query: Sequence[str]) -> list[int]:
        if not query:
            return []
        documents, scores = self.retriever.retrieve([list(query)], k=self.k, show_progress=False, n_threads=1)
        return [int(d) for d, s in zip(documents[0], scores[0], strict=True) if s > 0]


class Tantivy:
    name = "tantivy"
    module = "tantivy"
    note = "given the tokens (whitespace tokenizer); BooleanQuery of term queries; search(k=10, count=False)"

    def _schema(self) -> Any:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
        return builder.build()

    def build(self, corpus: Sequence[Sequence[str]], folder: Path) -> None:
        import tantivy

        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        index = tantivy.Index(self._schema(), path=str(folder))
        # One thread and a heap that holds the whole corpus: one segment, documents numbered in passage order. At
        # 1M passages a 256 MB heap was flushed once, leaving two segments (load() refuses them).
        writer = index.writer(heap_size=2_000_000_000, num_threads=1)
        for doc in corpus:
            writer.add_document(tantivy.Document(body=" ".join(doc)))
        writer.commit()
        writer.wait_merging_threads()

    def load(self, folder: Path) -> None:
        import tantivy

        self.schema = self._schema()
        self.index = tantivy.Index.open(str(folder))
        self.index.reload()
        self.searcher = self.index.searcher()
        if self.searcher.num_segments != 1:
            raise RuntimeError(f"tantivy wrote {self.searcher.num_segments} segments: document numbers are not ours")
        self.Query, self.Occur = tantivy.Query, tantivy.Occur

    def search(self, query: Sequence[str]) -> list[int]:
        if not query:
            return []
        clauses = [(self.Occur.Should, self.Query.term_query(self.schema, "body", term)) for term in query]
        hits = self.searcher.search(self.Query.boolean_query(clauses), 10, count=False).hits
        return [address.doc for score, address in hits if score > 0]


def all_peers() -> list[Any]:
    return [RankBM25(), BM25S("numpy"), BM25S("numba"), Tantivy()]


def available(peer: Any) -> str | None:
    """None when the peer can run here, else why not (its package is missing)."""
    modules = {
        "rank-bm25": ["rank_bm25"],
        "tantivy": ["tantivy"],
        "bm25s-numpy": ["bm25s"],
        "bm25s-numba": ["bm25s", "numba"],
    }
    missing = [m for m in modules[peer.name] if importlib.util.find_spec(m) is None]
    if missing:
        return f"{', '.join(missing)} not installed (pip install -e '.[bench]')"
    return None


def folder_mb(path: Path) -> float:
    if path.is_file():
        return round(path.stat().st_size / 2**20, 2)
    total = sum(os.path.getsize(p) for p in path.rglob("*") if p.is_file()) if path.exists() else 0
    return round(total / 2**20, 2)
