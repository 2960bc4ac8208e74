"""Document analysis, the expensive part of a build: each document's passages (the splitter's), each passage's
duplicate key hash and MinHash signature, and its bag of index terms (jieba, the glossary scan), as arrays
(`_Analysis`). Large corpora are analysed in a pool of worker processes (jieba initialised once per worker),
sized by `PARALLEL_MIN_CHARS`; the token cache (tokencache.py) keeps the result per document."""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.arrays import concat, offsets, ranges
from index.children import end_with_parent
from index.corpus import Document
from index.crosslang import Lexicon, link_candidates
from index.duplicates import _MINHASH_MIN_KEY, _NUM_HASHES, _duplicate_key, signatures
from index.glossary import Glossary
from index.normalize import fold
from index.passages import split_document
from index.progress import Progress
from index.tokenize import DEFAULT_SEGMENTER, Analyzer, _termbag

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger(__name__)


# -- build / save / load ---------------------------------------------------------------------------------
#
# A build analyses every document once: its passages (the splitter's), each passage's near-duplicate signature
# and its bag of index terms. That is the expensive part (jieba, the glossary scan, shingle hashing) and it is
# done per document, in a pool of worker processes for large corpora (jieba initialised once per worker), and
# kept in a token cache beside the index (`<index>.tokens.npz`, keyed by document content), so a rebuild after
# adding or editing a few documents analyses only those. The rest of the build (duplicates, postings, CC-CEDICT
# links) works on arrays.

PARALLEL_MIN_CHARS = 1_000_000  # below this, tokenising in this process beats starting worker processes
_CHUNK_CHARS = 200_000  # documents per worker task, by size
_SIGNATURE_BATCH = 4096  # passages whose MinHash signatures are computed together


def passage_terms(analyzer: Analyzer, glossary: Glossary, text: str) -> list[str]:
    """Index terms of a passage: its words plus the concept term of every glossary entry it mentions."""
    return _passage_terms(analyzer, glossary, text, fold(text))


def _passage_terms(analyzer: Analyzer, glossary: Glossary, text: str, folded: str) -> list[str]:
    return analyzer.folded_terms(folded) + glossary.concept_terms(folded)


@dataclass(frozen=True)
class TokenizerSpec:
    """How to make an analyzer that tokenises exactly like this process's one, in a worker process: jieba's
    settings (mode, user dictionaries, the folder of its dictionary cache) and the glossary, whose longer Han
    aliases are taught to jieba as words and whose mentions give concept terms."""

    mode: str
    userdicts: tuple[str, ...] = ()
    cache_dir: str | None = None
    glossary: Glossary = field(default_factory=lambda: Glossary(()))
    segmenter: str = DEFAULT_SEGMENTER

    def analyzer(self, *, eager: bool = True, whole_dictionary: bool = False) -> Analyzer:
        """The analyzer; with `whole_dictionary` it starts with the segmenter's whole dictionary (a worker that
        tokenises documents by the thousand) rather than learning the words of each text as it comes."""
        analyzer = Analyzer(
            userdicts=[Path(p) for p in self.userdicts],
            mode=self.mode,
            cache_dir=Path(self.cache_dir) if self.cache_dir else None,
            segmenter=self.segmenter,
            eager=eager,
            whole_dictionary=whole_dictionary,
        )
        analyzer.add_words(self.glossary.han_aliases)
        return analyzer


_ROW_FIELDS = ("paragraph", "start", "end", "label", "key_len", "key_hash", "minhash", "grams")
_ANALYSIS_ARRAYS = ("doc_ptr", *_ROW_FIELDS, "bag_ptr", "bag_terms", "bag_counts")


@dataclass
class _Analysis:
    """Documents' raw passages (before duplicates are collapsed), their signatures and token bags, as arrays.

    Passage rows of document i: ``doc_ptr[i]:doc_ptr[i+1]``. Per row: paragraph, start, end (offsets in the
    document's text), label (index into `labels`, -1 for none), the duplicate key's length and 128-bit hash,
    the minhash signature and the number of distinct shingles (zeros for keys under 20 characters, which are
    only matched exactly), and the bag of terms ``terms[bag_terms[bag_ptr[r]:bag_ptr[r+1]]]`` with their
    counts, in order of first occurrence. `terms` may hold terms no row uses."""

    doc_ptr: np.ndarray
    paragraph: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    key_len: np.ndarray
    key_hash: np.ndarray
    minhash: np.ndarray
    grams: np.ndarray
    bag_ptr: np.ndarray
    bag_terms: np.ndarray
    bag_counts: np.ndarray
    labels: list[str]
    terms: list[str]
    # A worker's part numbers terms in the worker's own vocabulary and lists only the terms new since its
    # previous part (`terms` are ids term_base...): each worker sends each term once.
    worker: int = 0  # 0: a standalone analysis, `terms` complete
    term_base: int = 0

    @property
    def n_docs(self) -> int:
        return len(self.doc_ptr) - 1

    @classmethod
    def concat(cls, parts: Iterable[_Analysis]) -> _Analysis:
        """The documents of all parts, in order, over one vocabulary (the first part's term ids are kept).
        Parts may stream in (a worker pool's results): each is merged and dropped, so the many copies of the
        same terms that separate parts hold are not all alive at once."""
        terms: dict[str, int] = {}
        labels: dict[str, int] = {}
        rows: dict[str, list[np.ndarray]] = {name: [] for name in _ROW_FIELDS}
        bag_terms: list[np.ndarray] = []
        bag_counts: list[np.ndarray] = []
        bag_sizes: list[np.ndarray] = []
        doc_sizes: list[np.ndarray] = []
        worker_maps: dict[int, np.ndarray] = {}
        for part in parts:
            term_map = np.fromiter((terms.setdefault(t, len(terms)) for t in part.terms), np.int32, len(part.terms))
            if part.worker:
                known = worker_maps.get(part.worker, np.zeros(0, dtype=np.int32))
                if len(known) != part.term_base:
                    raise RuntimeError("a worker's parts arrived out of order")
                term_map = worker_maps[part.worker] = np.concatenate([known, term_map])
            label_map = np.fromiter(
                (labels.setdefault(lab, len(labels)) for lab in part.labels), np.int32, len(part.labels)
            )
            for name in _ROW_FIELDS:
                rows[name].append(getattr(part, name))
            if len(label_map):
                rows["label"][-1] = np.where(part.label >= 0, label_map[np.maximum(part.label, 0)], -1)
            bag_terms.append(term_map[part.bag_terms] if len(part.bag_terms) else part.bag_terms)
            bag_counts.append(part.bag_counts)
            bag_sizes.append(np.diff(part.bag_ptr))
            doc_sizes.append(np.diff(part.doc_ptr))
        # Each field's pieces are released as soon as it is joined, so the peak is one field, not a second copy.
        joined_terms = concat(bag_terms, np.int32)
        bag_terms.clear()
        joined_counts = concat(bag_counts, np.uint16)
        bag_counts.clear()
        return _Analysis(
            doc_ptr=offsets(doc_sizes),
            paragraph=concat(rows["paragraph"], np.int32),
            start=concat(rows["start"], np.int64),
            end=concat(rows["end"], np.int64),
            label=concat(rows["label"], np.int32),
            key_len=concat(rows["key_len"], np.int32),
            key_hash=concat(rows["key_hash"], np.uint8, (16,)),
            minhash=concat(rows["minhash"], np.uint64, (_NUM_HASHES,)),
            grams=concat(rows["grams"], np.int32),
            bag_ptr=offsets(bag_sizes),
            bag_terms=joined_terms,
            bag_counts=joined_counts,
            labels=list(labels),
            terms=list(terms),
        )

    def rows_of(self, docs: np.ndarray) -> np.ndarray:
        """The passage rows of documents `docs` (indices into this analysis), in that order."""
        docs = np.asarray(docs, dtype=np.int64)
        return ranges(self.doc_ptr[docs], self.doc_ptr[docs + 1])

    def take(self, docs: np.ndarray, bags: bool = True) -> _Analysis:
        """The analysis of documents `docs` (indices into this one), in that order (same vocabulary). Without
        `bags`, the token bags are left out (empty): the per-passage fields cost little to copy, the bags do."""
        docs = np.asarray(docs, dtype=np.int64)
        rows = self.rows_of(docs)
        bag_rows = ranges(self.bag_ptr[rows], self.bag_ptr[rows + 1]) if bags else np.zeros(0, dtype=np.int64)
        return _Analysis(
            doc_ptr=offsets([self.doc_ptr[docs + 1] - self.doc_ptr[docs]]),
            paragraph=self.paragraph[rows],
            start=self.start[rows],
            end=self.end[rows],
            label=self.label[rows],
            key_len=self.key_len[rows],
            key_hash=self.key_hash[rows],
            minhash=self.minhash[rows],
            grams=self.grams[rows],
            bag_ptr=offsets([self.bag_ptr[rows + 1] - self.bag_ptr[rows]])
            if bags
            else np.zeros(len(rows) + 1, np.int64),
            bag_terms=self.bag_terms[bag_rows],
            bag_counts=self.bag_counts[bag_rows],
            labels=self.labels,
            terms=self.terms,
        )

    @classmethod
    def empty(cls) -> _Analysis:
        return cls.from_arrays(
            {
                name: np.zeros(
                    (0, _NUM_HASHES) if name == "minhash" else 1 if name.endswith("_ptr") else 0,
                    dtype=np.uint8 if name == "key_hash" else np.int64,
                )
                for name in _ANALYSIS_ARRAYS
            },
            [],
            [],
        )

    def compact(self) -> _Analysis:
        """The same analysis without the terms no row uses."""
        used = np.zeros(len(self.terms), dtype=bool)
        used[self.bag_terms] = True
        if used.all():
            return self
        renumber = np.cumsum(used, dtype=np.int64) - 1
        kept = np.flatnonzero(used).tolist()
        return replace(self, bag_terms=renumber[self.bag_terms].astype(np.int32), terms=[self.terms[i] for i in kept])

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in _ANALYSIS_ARRAYS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], labels: list[str], terms: list[str]) -> _Analysis:
        return cls(**{name: arrays[name] for name in _ANALYSIS_ARRAYS}, labels=labels, terms=terms)


def _analyse_documents(
    documents: Sequence[tuple[str, int, str]],
    analyzer: Analyzer,
    glossary: Glossary,
    terms: dict[str, int] | None = None,
    progress: Progress | None = None,
) -> _Analysis:
    """Split each (text, body start, document id) into passages and compute their signatures and token bags.
    With `terms` (a worker's vocabulary, kept between its parts), term ids are that vocabulary's and the result
    lists only the terms it gained. The id only names a document in warnings: analyses are cached by content."""
    base = len(terms) if terms is not None else 0
    terms = terms if terms is not None else {}
    labels: dict[str, int] = {}
    doc_sizes: list[int] = []
    paragraph: list[int] = []
    start: list[int] = []
    end: list[int] = []
    label: list[int] = []
    key_len: list[int] = []
    key_hash: list[bytes] = []
    signed: list[str] = []  # the keys long enough for a MinHash signature, not yet signed
    signed_rows: list[int] = []
    signature_parts: list[tuple[list[int], np.ndarray, np.ndarray]] = []

    def sign() -> None:  # a batch at a time: numpy over every 4-gram of a few thousand passages
        signature_parts.append((signed_rows[:], *signatures(signed)))
        signed.clear()
        signed_rows.clear()

    bag_sizes: list[int] = []
    bag_terms: list[int] = []
    bag_counts: list[int] = []
    for text, body_start, doc_id in documents:
        if progress is not None:
            progress.advance()
        raw = split_document(doc_id, text, body_start)
        doc_sizes.append(len(raw))
        for passage in raw:
            paragraph.append(passage.paragraph)
            start.append(passage.start)
            end.append(passage.end)
            label.append(-1 if passage.label is None else labels.setdefault(passage.label, len(labels)))
            folded = fold(passage.text)
            key = _duplicate_key(folded)
            key_len.append(len(key))
            key_hash.append(hashlib.blake2b(key.encode(), digest_size=16).digest())
            if len(key) >= _MINHASH_MIN_KEY:
                signed_rows.append(len(key_len) - 1)
                signed.append(key)
                if len(signed) >= _SIGNATURE_BATCH:
                    sign()
            bag_sizes.append(
                number_bag(_passage_terms(analyzer, glossary, passage.text, folded), terms, bag_terms, bag_counts)
            )
    sign()
    # Shorter keys have no signature: they only match exactly.
    minhash = np.zeros((len(key_len), _NUM_HASHES), dtype=np.uint64)
    grams = np.zeros(len(key_len), dtype=np.int32)
    for rows, part_minhash, part_grams in signature_parts:
        minhash[rows], grams[rows] = part_minhash, part_grams
    return _Analysis(
        doc_ptr=offsets([np.asarray(doc_sizes, dtype=np.int64)]),
        paragraph=np.asarray(paragraph, dtype=np.int32),
        start=np.asarray(start, dtype=np.int64),
        end=np.asarray(end, dtype=np.int64),
        label=np.asarray(label, dtype=np.int32),
        key_len=np.asarray(key_len, dtype=np.int32),
        key_hash=np.frombuffer(b"".join(key_hash), dtype=np.uint8).reshape(-1, 16),
        minhash=minhash,
        grams=grams,
        bag_ptr=offsets([np.asarray(bag_sizes, dtype=np.int64)]),
        bag_terms=np.asarray(bag_terms, dtype=np.int32),
        # A term may occur more than 65,535 times in one passage (a megabyte paragraph without punctuation is one
        # passage); BM25 saturates long before, so the count is clipped rather than overflowing.
        bag_counts=np.minimum(np.asarray(bag_counts, dtype=np.int64), 2**16 - 1).astype(np.uint16),
        labels=list(labels),
        terms=list(terms)[base:],
        term_base=base,
    )


def _number_bag(passage_terms: list[str], terms: dict[str, int], bag_terms: list[int], bag_counts: list[int]) -> int:
    """Append a passage's bag to `bag_terms` (each distinct term's id in `terms`, a new term numbered len(terms))
    and `bag_counts` (its count), in order of first occurrence; the number of distinct terms. index/_termbag.c's
    `bag` does the same in C."""
    counts = Counter(passage_terms)
    bag_terms.extend([terms.setdefault(term, len(terms)) for term in counts])
    bag_counts.extend(counts.values())
    return len(counts)


number_bag = _termbag.bag if _termbag is not None else _number_bag


# Each worker process of a parallel build holds its own analyzer, made once by the pool's initializer (jieba is
# initialised once per worker). Only ever written in worker processes.
_WORKER_STATE: dict[str, tuple[Analyzer, Glossary, dict[str, int]]] = {}
_WORKER_CACHE_DIR: list[Path] = []  # the worker's data folder (CC-CEDICT's link cache), when it has one


def _init_worker(spec: TokenizerSpec, parent_pid: int | None = None) -> None:
    """A worker's initializer: it ends with the process that started it (index/children.py), then loads jieba."""
    if parent_pid is not None:
        end_with_parent(parent_pid)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    _WORKER_STATE["analyzer"] = (spec.analyzer(whole_dictionary=True), spec.glossary, {})
    _WORKER_CACHE_DIR[:] = [Path(spec.cache_dir)] if spec.cache_dir else []


def _analyse_chunk(documents: list[tuple[str, int, str]]) -> _Analysis:
    analyzer, glossary, terms = _WORKER_STATE["analyzer"]
    return replace(_analyse_documents(documents, analyzer, glossary, terms), worker=os.getpid())


def _analyse_with(helper: ProcessPoolExecutor, documents: Sequence[Document]) -> _Analysis | None:
    """A few documents analysed by a helper process (None when they are many, or the helper failed)."""
    from concurrent.futures.process import BrokenProcessPool  # multiprocessing only where processes start

    if not documents or sum(len(doc.text) for doc in documents) >= PARALLEL_MIN_CHARS:
        return None
    try:
        return helper.submit(_analyse_chunk, [(doc.text, doc.body_start, doc.doc_id) for doc in documents]).result()
    except (BrokenProcessPool, OSError, RuntimeError) as exc:
        log.warning("tokenising helper failed (%s); tokenising here", exc)
        return None


def _analyse(
    documents: Sequence[Document],
    analyzer: Analyzer,
    glossary: Glossary,
    spec: TokenizerSpec | None,
    workers: int | None,
    progress: Progress | None = None,
) -> _Analysis:
    """Analyse documents, in a process pool (both cores) when they are many and `spec` says how; `progress`
    counts the documents analysed.

    Worker processes are started with "spawn" (a fork would copy locks held by the caller's other threads,
    e.g. a running bot's), so a script that builds a large index must guard its entry point with
    ``if __name__ == "__main__":``; should the pool fail anyway, the documents are analysed here."""
    jobs = [(doc.text, doc.body_start, doc.doc_id) for doc in documents]
    size = sum(len(job[0]) for job in jobs)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if progress is not None:
        progress.stage("tokenise", total=len(jobs), unit="documents")
    if spec is None or workers < 2 or size < PARALLEL_MIN_CHARS:
        return _analyse_documents(jobs, analyzer, glossary, progress=progress)
    chunks: list[list[tuple[str, int, str]]] = [[]]
    filled = 0
    target = min(_CHUNK_CHARS, size // (4 * workers) + 1)
    for job in jobs:
        if filled >= target:
            chunks.append([])
            filled = 0
        chunks[-1].append(job)
        filled += len(job[0])
    import multiprocessing  # not at import time: a cold `footnote ask` never starts a process
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(spec, os.getpid())
        ) as pool:

            def parts() -> Iterator[_Analysis]:
                for chunk, part in zip(chunks, pool.map(_analyse_chunk, chunks), strict=True):  # in order, as done
                    if progress is not None:
                        progress.advance(len(chunk))
                    yield part

            # Each part is merged as it arrives and then dropped: all the parts kept until the last one came,
            # and merged then, held them and their merged copy at once (at 1M passages, ~1.4 GB more).
            return _Analysis.concat(parts())
    except (BrokenProcessPool, OSError) as exc:
        log.warning("parallel tokenisation failed (%s); tokenising in this process", exc)
        if progress is not None:
            progress.stage("tokenise", total=len(jobs), unit="documents")
        return _analyse_documents(jobs, analyzer, glossary, progress=progress)


def _worker_link_candidates(zh_vocab: set[str], en_vocab: set[str]) -> tuple[dict, dict, Lexicon]:
    analyzer = _WORKER_STATE["analyzer"][0]
    cache_dir = _WORKER_CACHE_DIR[0] if _WORKER_CACHE_DIR else None
    return link_candidates(zh_vocab, en_vocab, analyzer.stem, analyzer.stopwords, cache_dir)
