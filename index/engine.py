"""The engine: build or load the index for a corpus folder and answer questions with cited excerpts.

Query model. Every term of the question is a scoring concept worth its BM25 contribution (so with no expansion
the scores are exactly rank-bm25's). A concept may have expansions: the glossary concept term of an alias it
is part of (Altman -> @sam-altman, which every 奥特曼 passage carries) and dictionary translations (chips ->
芯片). A passage scores a concept by the best of its literal match and its weighted expansions, so expanded
terms never outweigh the user's own words and never add up on top of them.

Abstention. A question's units are its maximal terms (not the sub-words jieba's search mode adds, nor the
parts of a compound). Coverage of a passage = idf-weighted share of units it matches (literal 1, expansion its
weight, sub-words only 0.5); an absent term counts with the idf of a term seen nowhere. When no candidate
passage covers half of the question, the engine abstains; below `LOW_CONFIDENCE` the answer is labelled weak.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import heapq
import inspect
import logging
import multiprocessing
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

import jieba
import numpy as np
import opencc

from index.bm25 import BM25Index, BM25Params
from index.buildlock import build_lock
from index.corpus import Document, DocumentInfo, corpus_fingerprint, document_files, load_catalog, load_document
from index.crosslang import Links, best_links, build_links, link_candidates
from index.errors import CorpusError, IndexFileError, QuestionError
from index.excerpt import Excerpt, make_excerpt
from index.glossary import CONCEPT_PREFIX, Glossary
from index.indexfile import FORMAT_VERSION, IndexFile, read_arrays, read_index, write_arrays, write_index
from index.normalize import fold
from index.passages import (
    _BAND_ROWS,
    _NEAR_DUPLICATE,
    _NUM_HASHES,
    _SHINGLE,
    MAX_PASSAGE_CHARS,
    Location,
    Passage,
    _minhash,
    _shingles,
    split_document,
)
from index.tokenize import Analyzer, TermSpan

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
GLOSSARY_WEIGHT = 0.7
DICTIONARY_WEIGHT = 0.5
CONTEXT_WEIGHT = 0.5
FOLLOW_UP_EASING = 0.8
ABSTAIN_BELOW = 0.5
LOW_CONFIDENCE = 0.7
CANDIDATES = 60
SIGNATURE_CACHE = 1024  # passages whose merge signatures are kept (~30 KB each)
_MENTION_RE = re.compile(r"<(?:@[!&]?|#)\d+>|@(?:everyone|here)\b", re.I)
_MINHASH_MIN_KEY = 20  # index.passages.collapse_duplicates looks for near duplicates of keys this long


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    source: str
    date: str
    paragraph: int
    url: str = ""

    def label(self) -> str:
        parts = [p for p in (self.source, self.date) if p]
        where = ", ".join([*parts, f"¶ {self.paragraph}"])
        return f"{self.title} — {where}"


@dataclass(frozen=True)
class Result:
    rank: int
    passage: Passage
    score: float
    coverage: float
    excerpt: Excerpt
    citations: tuple[Citation, ...]

    @property
    def citation(self) -> Citation:
        return self.citations[0]


@dataclass(frozen=True)
class Answer:
    question: str
    query: str
    abstained: bool
    confidence: str  # "high", "low", or "none" when abstained
    results: tuple[Result, ...]
    suggestions: tuple[str, ...] = ()
    total: int = 0
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class Concept:
    """One term of the question and the terms that may stand in for it, each with a weight below 1."""

    term: str
    start: int
    end: int
    expansions: tuple[tuple[str, float], ...] = ()
    unit: bool = True  # False for sub-words and compound parts: scored, but not counted for coverage


@dataclass(frozen=True)
class Query:
    text: str
    concepts: tuple[Concept, ...]
    extra: tuple[tuple[str, float], ...] = field(default=())  # concept terms not tied to a question word


@dataclass
class _Built:
    documents: list[DocumentInfo]
    passages: list[Passage]
    bm25: BM25Index
    en_to_zh: PackedLinks
    zh_to_en: PackedLinks
    fingerprint: str
    stats: tuple = ()  # the figures of the build's log line (_BUILT_MESSAGE)


def clean_question(question: str) -> str:
    """Remove mention syntax and control characters, collapse white space."""
    text = _MENTION_RE.sub(" ", question)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


class Engine:
    """Answers questions over one corpus. Pure and synchronous: call it from a worker thread in async code."""

    def __init__(self, analyzer: Analyzer, glossary: Glossary, built: _Built, corpus_dir: Path) -> None:
        self.analyzer = analyzer
        self.glossary = glossary
        self.corpus_dir = corpus_dir
        self.documents = {doc.doc_id: doc for doc in built.documents}
        self.passages = built.passages
        self.bm25 = built.bm25
        self.en_to_zh = built.en_to_zh
        self.zh_to_en = built.zh_to_en
        self.fingerprint = built.fingerprint
        self._topics = self._frequent_topics()
        # Signatures of recently ranked passages (a set of ~400 shingles each: caching every passage ever ranked
        # grew a 100k-passage bot by ~0.7 MB a question). lru_cache is thread-safe.
        self._signature = functools.lru_cache(maxsize=SIGNATURE_CACHE)(self._compute_signature)

    # -- construction ------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        corpus_dir: Path,
        data_dir: Path | None = None,
        *,
        mode: str = "search",
        rebuild: bool = False,
        workers: int | None = None,
    ) -> Engine:
        """Load the index for `corpus_dir` from `data_dir`, building (and saving) it when missing or stale.

        An index is current when its source key matches: the corpus files' bytes, the catalog, glossary, user
        dictionary, tokeniser mode and the index code are what it was built from. A stale index is rebuilt from
        the token cache beside it, analysing only new or changed documents; `rebuild=True` analyses everything.
        A large corpus (PARALLEL_MIN_CHARS or more) is built in a separate process, which tokenises with
        `workers` processes (default: one per core), and then loaded: the caller's process (a running bot)
        never holds the build's memory or its CPU work. Scripts that open a large corpus must therefore guard
        their entry point with ``if __name__ == "__main__":`` (worker processes are spawned)."""
        started = time.perf_counter()
        sources = _Sources.read(corpus_dir, data_dir, mode)
        built = None
        path = sources.index_file
        index_file = None
        if path is not None and not rebuild:
            try:
                index_file = read_index(path, source_key=sources.source_key)
            except IndexFileError as exc:
                log.info("building index: %s", exc)
        # One builder at a time per index file (index/buildlock.py): a process that waited for another's build
        # looks again, and loads what it built.
        building = index_file is None and path is not None and sources.spec.cache_dir is not None
        with build_lock(path) if building else contextlib.nullcontext(False) as waited:
            if waited and not rebuild:
                try:
                    index_file = read_index(path, source_key=sources.source_key)
                    log.info("index built by another process meanwhile")
                except IndexFileError:
                    pass
            if index_file is None and sources.spec.cache_dir is not None and sources.size >= PARALLEL_MIN_CHARS:
                context = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(1, mp_context=context) as pool:
                    future = pool.submit(
                        _build_index_file, str(sources.corpus_dir), str(data_dir), mode, rebuild, workers
                    )
                    analyzer = sources.spec.analyzer()  # meanwhile
                    try:
                        stats = future.result()
                        index_file = read_index(path, source_key=sources.source_key)
                        log.info(_BUILT_MESSAGE + " in a separate process", *stats)
                    except (BrokenProcessPool, OSError, IndexFileError) as exc:
                        log.warning("building in a separate process failed (%s); building here", exc)
            else:
                analyzer = sources.spec.analyzer()
            if index_file is not None:
                built = _from_file(index_file, sources.blobs)
                log.info("index loaded from %s (%d passages)", path, len(built.passages))
            if built is None:
                built = _build_here(sources, analyzer, rebuild=rebuild, workers=workers)
        log.info(
            "corpus %s: %d documents, %d passages, version %s (%.2f s)",
            sources.corpus_dir,
            len(built.documents),
            len(built.passages),
            built.fingerprint,
            time.perf_counter() - started,
        )
        return cls(analyzer, sources.glossary, built, sources.corpus_dir)

    @classmethod
    def from_documents(
        cls,
        documents: Sequence[Document],
        *,
        mode: str = "search",
        glossary: Glossary | None = None,
        workers: int | None = None,
    ) -> Engine:
        """An engine over in-memory documents (benchmarks, tests): built, never saved."""
        spec = TokenizerSpec(mode, glossary=glossary if glossary is not None else Glossary(()))
        analyzer = spec.analyzer()
        fingerprint = corpus_fingerprint(documents, [mode.encode()])
        built = build(documents, analyzer, spec.glossary, fingerprint, tokenizer=spec, workers=workers)
        return cls(analyzer, spec.glossary, built, Path("."))

    @property
    def version(self) -> str:
        return self.fingerprint

    def search(self, question: str, limit: int = 10) -> list[int]:
        """Passage ids ranked by score for a question (no abstention, no merging): for benchmarks."""
        scores = self.scores(self.analyze(clean_question(question)))
        positive = int(np.count_nonzero(scores > 0))
        limit = min(limit, positive)
        if limit == 0:
            return []
        top = np.argpartition(-scores, limit - 1)[:limit]
        return [int(d) for d in top[np.lexsort((top, -scores[top]))]]

    # -- query analysis ----------------------------------------------------------------------------------

    def analyze(self, question: str) -> Query:
        """Turn a cleaned question into concepts with their expansions."""
        spans = self.analyzer.spans(question)
        mentions = self.glossary.find(question)
        concepts: list[Concept] = []
        claimed: set[int] = set()
        for index, span in enumerate(spans):
            expansions: dict[str, float] = {}
            for m_index, mention in enumerate(mentions):
                if mention.start <= span.start and span.end <= mention.end:
                    expansions[mention.entry.term] = GLOSSARY_WEIGHT
                    claimed.add(m_index)
            for target, quality in self._links(span.term):
                if target != span.term:
                    expansions[target] = max(expansions.get(target, 0.0), DICTIONARY_WEIGHT * quality)
            unit = not any(
                other.start <= span.start
                and span.end <= other.end
                and (other.end - other.start) > (span.end - span.start)
                for other in spans[:index] + spans[index + 1 :]
            )
            concepts.append(Concept(span.term, span.start, span.end, tuple(sorted(expansions.items())), unit))
        extra = {mention.entry.term: GLOSSARY_WEIGHT for i, mention in enumerate(mentions) if i not in claimed}
        return Query(question, tuple(concepts), tuple(extra.items()))

    def _links(self, term: str) -> list[tuple[str, float]]:
        if re.fullmatch(r"[a-z]+", term):
            packed = self.en_to_zh.get(term)
        elif re.fullmatch(r"[\u3400-\u9fff]{2,}", term):
            packed = self.zh_to_en.get(term)
        else:
            return []
        return unpack_links(packed) if packed else []

    # -- scoring -----------------------------------------------------------------------------------------

    def scores(self, query: Query) -> np.ndarray:
        """Score every passage: sum over concepts of the best of literal and weighted expansion matches."""
        scores = np.zeros(self.bm25.n_docs, dtype=np.float64)
        for concept in query.concepts:
            ids, weights = self.bm25.postings(concept.term)
            if not concept.expansions:
                scores[ids] += weights
                continue
            best = np.zeros(self.bm25.n_docs, dtype=np.float64)
            best[ids] = weights
            for term, factor in concept.expansions:
                e_ids, e_weights = self.bm25.postings(term)
                best[e_ids] = np.maximum(best[e_ids], factor * e_weights)
            scores += best
        for term, factor in query.extra:
            ids, weights = self.bm25.postings(term)
            scores[ids] += factor * weights
        return scores

    def coverage(self, query: Query, doc_ids: np.ndarray) -> np.ndarray:
        """Idf-weighted share of the question's units matched by each of `doc_ids` (see module docstring)."""
        total = 0.0
        covered = np.zeros(len(doc_ids), dtype=np.float64)
        # A passage reached only through dictionary translations is not evidence: it needs one unit matched
        # literally or through the glossary.
        anchored = np.zeros(len(doc_ids), dtype=bool)
        for concept in query.concepts:
            if not concept.unit:
                continue
            idf = self._unit_idf(concept, query.text)
            total += idf
            literal = self.bm25.contains(concept.term, doc_ids)
            anchored |= literal
            match = literal.astype(np.float64)
            for term, factor in concept.expansions:
                present = self.bm25.contains(term, doc_ids)
                if term.startswith(CONCEPT_PREFIX):
                    anchored |= present
                match = np.maximum(match, _coverage_credit(term, factor) * present)
            parts = [
                c.term
                for c in query.concepts
                if not c.unit and concept.start <= c.start and c.end <= concept.end and c.term != concept.term
            ]
            for part in parts:
                match = np.maximum(match, 0.5 * self.bm25.contains(part, doc_ids))
            covered += idf * match
        for term, _factor in query.extra:
            idf = self.bm25.informativeness(term)
            total += idf
            present = self.bm25.contains(term, doc_ids)
            anchored |= present
            covered += idf * present
        return np.where(anchored, covered / total if total else covered, 0.0)

    def _unit_idf(self, concept: Concept, question: str) -> float:
        """How much a unit of the question weighs for coverage: its idf in the corpus; for a word the corpus
        lacks, the idf of its best-known expansion, else an estimate of how telling the word is in general:
        a name (a capitalised English word, a rare or unknown Chinese word) weighs like a term seen nowhere,
        an ordinary word (lower-case English, a common Chinese word) much less."""
        if self.bm25.df(concept.term):
            return self.bm25.informativeness(concept.term)
        known = [self.bm25.informativeness(term) for term, _ in concept.expansions if self.bm25.df(term)]
        if known:
            return max(known)
        top = self.bm25.max_informativeness
        surface = question[concept.start : concept.end]
        if re.fullmatch(r"[\u3400-\u9fff]+", concept.term):
            rarity = self.analyzer.rarity(concept.term)
            return top * max(0.3, rarity)
        if surface[:1].isupper() or any(c.isdigit() for c in surface):
            return top
        return 0.5 * top

    # -- answering ---------------------------------------------------------------------------------------

    def ask(
        self, question: str, k: int = 5, offset: int = 0, exclude: Collection[int] = (), context: str = ""
    ) -> Answer:
        """Answer a question with up to `k` cited excerpts, starting at `offset` in the ranked list.

        `exclude`: passage ids not to show again ("more"). `context`: words of the conversation's previous
        subject, searched at CONTEXT_WEIGHT alongside the question's own words (a follow-up like "why?")."""
        started = time.perf_counter()
        cleaned = clean_question(question)
        if not cleaned:
            raise QuestionError("The question is empty. Ask something about the corpus, e.g. “What is code red?”")
        if len(cleaned) > MAX_QUESTION_CHARS:
            raise QuestionError(
                f"The question is {len(cleaned):,} characters long; please keep it under {MAX_QUESTION_CHARS:,}."
            )
        query = self.analyze(cleaned)
        if context.strip():
            carried = self.analyze(clean_question(context))
            extra = dict(query.extra)
            for concept in carried.concepts:
                if concept.unit and concept.term not in extra:
                    extra[concept.term] = CONTEXT_WEIGHT
            for term, _factor in carried.extra:
                extra.setdefault(term, CONTEXT_WEIGHT)
            query = Query(query.text, query.concepts, tuple(extra.items()))
        if not query.concepts and not query.extra:
            raise QuestionError("I found no words to search for in that question. Try asking with a few words.")
        ranked, score_of, coverage = self._rank(query, exclude)
        best_coverage = max(coverage.values(), default=0.0)
        # A follow-up leans on a subject the conversation already established, so its own (often generic)
        # words need to be covered less.
        threshold = ABSTAIN_BELOW * (FOLLOW_UP_EASING if context.strip() else 1.0)
        if best_coverage < threshold:
            return Answer(
                question,
                cleaned,
                True,
                "none",
                (),
                self.suggest(ranked[:10]),
                0,
                (time.perf_counter() - started) * 1000,
            )
        groups = self.merge_same_content(ranked)
        page = groups[offset : offset + k]
        results = tuple(
            self._result(offset + i + 1, query, group, score_of[group[0]], coverage[group[0]])
            for i, group in enumerate(page)
        )
        confidence = "high" if best_coverage >= LOW_CONFIDENCE else "low"
        return Answer(
            question, cleaned, False, confidence, results, (), len(groups), (time.perf_counter() - started) * 1000
        )

    def _rank(self, query: Query, exclude: Collection[int]) -> tuple[list[int], dict[int, float], dict[int, float]]:
        """Candidate passage ids in score order, with their scores and coverage."""
        scores = self.scores(query)
        terms = [t for c in query.concepts for t in (c.term, *(e for e, _ in c.expansions))]
        matched = self.bm25.matching([*terms, *(t for t, _ in query.extra)])
        if exclude:
            matched[np.fromiter(exclude, dtype=np.int64)] = False
        # Candidates are the passages matching any term, best scores first. (In a very small corpus BM25Okapi
        # gives common terms a zero or negative idf, so "score > 0" would lose real matches.)
        candidates = np.flatnonzero(matched)
        if not len(candidates):
            return [], {}, {}
        if len(candidates) > CANDIDATES:
            candidates = candidates[np.argpartition(-scores[candidates], CANDIDATES - 1)[:CANDIDATES]]
        top = candidates[np.lexsort((candidates, -scores[candidates]))]
        cover = self.coverage(query, top.astype(np.int32))
        score_of = {int(d): float(scores[d]) for d in top}
        coverage = {int(d): float(c) for d, c in zip(top, cover, strict=True)}
        # A candidate that covers too little of the question is not evidence for it.
        ranked = [int(d) for d in top if coverage[int(d)] >= ABSTAIN_BELOW / 2]
        return ranked, score_of, coverage

    def merge_same_content(self, ranked: Sequence[int]) -> list[list[int]]:
        """Group results that say the same thing (near-identical text, or the same figures and names in two
        languages); each group is shown once with all its citations."""
        groups: list[list[int]] = []
        signatures: list[tuple[set[str], set[str]]] = []
        for pid in ranked:
            shingles, anchors = self._signature(pid)
            for group, (g_shingles, g_anchors) in zip(groups, signatures, strict=True):
                if _jaccard(shingles, g_shingles) >= 0.6 or (
                    len(anchors) >= 3 and len(g_anchors) >= 3 and _jaccard(anchors, g_anchors) >= 0.75
                ):
                    group.append(pid)
                    break
            else:
                groups.append([pid])
                signatures.append((shingles, anchors))
        return groups

    def _compute_signature(self, pid: int) -> tuple[set[str], set[str]]:
        """A passage's character shingles and its anchors: figures and named things, language-independent
        markers of its content (cached as `self._signature`)."""
        folded = fold(self.passages[pid].text)
        return _char_shingles(folded), figures(folded) | set(self.glossary.concept_terms(folded))

    def _result(self, rank: int, query: Query, group: Sequence[int], score: float, coverage: float) -> Result:
        passage = self.passages[group[0]]
        citations: list[Citation] = []
        seen: set[tuple[str, int]] = set()
        locations = [loc for pid in group for loc in (self.passages[pid].location, *self.passages[pid].duplicates)]
        for location in locations:
            key = (location.doc_id, location.paragraph)
            if key not in seen:
                seen.add(key)
                citations.append(self.citation(location))
        return Result(rank, passage, score, coverage, self.excerpt(query, passage.text), tuple(citations))

    def citation(self, location: Location | Passage) -> Citation:
        doc = self.documents[location.doc_id]
        return Citation(doc.doc_id, doc.title, doc.source, doc.date, location.paragraph, doc.url)

    def excerpt(self, query: Query, text: str, max_chars: int | None = None) -> Excerpt:
        """The best-matching sentence(s) of `text` for the query, with matched words marked."""
        wanted: dict[str, float] = {}
        for concept in query.concepts:
            wanted[concept.term] = max(wanted.get(concept.term, 0.0), self.bm25.informativeness(concept.term))
            for term, factor in concept.expansions:
                wanted[term] = max(wanted.get(term, 0.0), factor * self.bm25.informativeness(term))
        for term, factor in query.extra:
            wanted[term] = max(wanted.get(term, 0.0), factor * self.bm25.informativeness(term))
        hits: dict[tuple[int, int], float] = {}
        spans: list[TermSpan] = self.analyzer.spans(text)
        for span in spans:
            if span.term in wanted and self.bm25.df(span.term):
                hits[(span.start, span.end)] = wanted[span.term]
        for mention in self.glossary.find(text):
            weight = wanted.get(mention.entry.term)
            if weight:
                hits[(mention.start, mention.end)] = max(hits.get((mention.start, mention.end), 0.0), weight)
        return make_excerpt(text, hits) if max_chars is None else make_excerpt(text, hits, max_chars)

    # -- topics ------------------------------------------------------------------------------------------

    def _frequent_topics(self) -> list[str]:
        counted = [
            (self.bm25.df(entry.term), entry.canonical)
            for entry in self.glossary.entries
            if entry.kind in ("org", "product", "term", "person") and self.bm25.df(entry.term)
        ]
        return [name for _, name in sorted(counted, key=lambda item: (-item[0], item[1]))]

    def suggest(self, near: Sequence[int] = (), limit: int = 3) -> tuple[str, ...]:
        """Up to `limit` topics the corpus covers: those of the nearest passages first, then the most common."""
        names: list[str] = []
        for pid in near:
            for term in self.glossary.concept_terms(fold(self.passages[pid].text)):
                entry = self.glossary.by_id[term[len(CONCEPT_PREFIX) :]]
                if entry.canonical not in names and entry.kind != "person":
                    names.append(entry.canonical)
        for name in self._topics:
            if name not in names:
                names.append(name)
        return tuple(names[:limit])

    @property
    def topics(self) -> list[str]:
        return list(self._topics)


_FIGURE_RE = re.compile(
    r"(\d+(?:[.,]\d+)*)\s*(%|万亿|千亿|百亿|亿|千万|百万|万|trillion|billion|million|thousand|bn\b|tn\b)?"
)
_UNIT_VALUE = {
    "万": 1e4, "百万": 1e6, "千万": 1e7, "亿": 1e8, "百亿": 1e10, "千亿": 1e11, "万亿": 1e12,
    "thousand": 1e3, "million": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12, "tn": 1e12,
}  # fmt: skip


def figures(folded: str) -> set[str]:
    """The figures of a folded text as language-independent values: "6.5 亿" and "650 million" are both
    6.5e8, "1.4 万亿" and "1.4 trillion" both 1.4e12; percentages keep their sign; one-digit numbers are
    too common to tell texts apart and are left out."""
    found: set[str] = set()
    for match in _FIGURE_RE.finditer(folded):
        digits, unit = match.group(1).replace(",", ""), match.group(2)
        if unit is None and len(digits) < 2:
            continue
        try:
            value = float(digits)
        except ValueError:
            continue
        if unit == "%":
            found.add(f"{value:g}%")
        else:
            found.add(f"{value * _UNIT_VALUE.get(unit or '', 1):.4g}")
    return found


def _coverage_credit(term: str, factor: float) -> float:
    """How far a match through an expansion counts as the unit being present: a glossary alias is the same
    thing (full credit); a dictionary translation is likely the same (0.8 times its link quality)."""
    if term.startswith(CONCEPT_PREFIX):
        return 1.0
    return 0.8 * min(1.0, factor / DICTIONARY_WEIGHT)


def _char_shingles(text: str, size: int = 3) -> set[str]:
    key = re.sub(r"[\W_]+", "", fold(text))
    return {key[i : i + size] for i in range(max(1, len(key) - size + 1))}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        return False
    return True


def index_path(corpus_dir: Path, data_dir: Path) -> Path:
    """One index file per corpus folder inside the data folder."""
    key = hashlib.sha256(str(corpus_dir.resolve()).encode()).hexdigest()[:10]
    return data_dir / "index" / f"{corpus_dir.name or 'corpus'}-{key}.npz"


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
TOKEN_CACHE_VERSION = 1
# The code whose behaviour shapes the index: a change to any of it invalidates index files and token caches.
_INDEX_CODE = ("corpus.py", "passages.py", "tokenize.py", "normalize.py", "glossary.py", "crosslang.py", "bm25.py")
_TOKEN_CODE = ("passages.py", "tokenize.py", "normalize.py", "glossary.py")


def passage_terms(analyzer: Analyzer, glossary: Glossary, text: str) -> list[str]:
    """Index terms of a passage: its words plus the concept term of every glossary entry it mentions."""
    return _passage_terms(analyzer, glossary, text, fold(text))


def _passage_terms(analyzer: Analyzer, glossary: Glossary, text: str, folded: str) -> list[str]:
    return analyzer.terms(text) + glossary.concept_terms(folded)


_KEY_STRIP = re.compile(r"[\W_]+")


def _duplicate_key(folded: str) -> str:
    """index.passages' duplicate key (folded text without spaces and punctuation) of already-folded text."""
    return _KEY_STRIP.sub("", folded)


@dataclass(frozen=True)
class TokenizerSpec:
    """How to make an analyzer that tokenises exactly like this process's one, in a worker process: jieba's
    settings (mode, user dictionaries, the folder of its dictionary cache) and the glossary, whose longer Han
    aliases are taught to jieba as words and whose mentions give concept terms."""

    mode: str
    userdicts: tuple[str, ...] = ()
    cache_dir: str | None = None
    glossary: Glossary = field(default_factory=lambda: Glossary(()))

    def analyzer(self, *, eager: bool = True) -> Analyzer:
        analyzer = Analyzer(
            userdicts=[Path(p) for p in self.userdicts],
            mode=self.mode,
            cache_dir=Path(self.cache_dir) if self.cache_dir else None,
            eager=eager,
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
        joined_terms = _cat(bag_terms, np.int32)
        bag_terms.clear()
        joined_counts = _cat(bag_counts, np.uint16)
        bag_counts.clear()
        return _Analysis(
            doc_ptr=_offsets(doc_sizes),
            paragraph=_cat(rows["paragraph"], np.int32),
            start=_cat(rows["start"], np.int64),
            end=_cat(rows["end"], np.int64),
            label=_cat(rows["label"], np.int32),
            key_len=_cat(rows["key_len"], np.int32),
            key_hash=_cat(rows["key_hash"], np.uint8, (16,)),
            minhash=_cat(rows["minhash"], np.uint64, (_NUM_HASHES,)),
            grams=_cat(rows["grams"], np.int32),
            bag_ptr=_offsets(bag_sizes),
            bag_terms=joined_terms,
            bag_counts=joined_counts,
            labels=list(labels),
            terms=list(terms),
        )

    def rows_of(self, docs: np.ndarray) -> np.ndarray:
        """The passage rows of documents `docs` (indices into this analysis), in that order."""
        docs = np.asarray(docs, dtype=np.int64)
        return _ranges(self.doc_ptr[docs], self.doc_ptr[docs + 1])

    def take(self, docs: np.ndarray, bags: bool = True) -> _Analysis:
        """The analysis of documents `docs` (indices into this one), in that order (same vocabulary). Without
        `bags`, the token bags are left out (empty): the per-passage fields cost little to copy, the bags do."""
        docs = np.asarray(docs, dtype=np.int64)
        rows = self.rows_of(docs)
        bag_rows = _ranges(self.bag_ptr[rows], self.bag_ptr[rows + 1]) if bags else np.zeros(0, dtype=np.int64)
        return _Analysis(
            doc_ptr=_offsets([self.doc_ptr[docs + 1] - self.doc_ptr[docs]]),
            paragraph=self.paragraph[rows],
            start=self.start[rows],
            end=self.end[rows],
            label=self.label[rows],
            key_len=self.key_len[rows],
            key_hash=self.key_hash[rows],
            minhash=self.minhash[rows],
            grams=self.grams[rows],
            bag_ptr=_offsets([self.bag_ptr[rows + 1] - self.bag_ptr[rows]])
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


def _cat(arrays: Sequence[np.ndarray], dtype: type, tail: tuple[int, ...] = ()) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros((0, *tail), dtype=dtype)


def _offsets(sizes: Sequence[np.ndarray]) -> np.ndarray:
    ptr = np.zeros(sum(len(s) for s in sizes) + 1, dtype=np.int64)
    if len(ptr) > 1:
        np.cumsum(np.concatenate(sizes), out=ptr[1:])
    return ptr


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Concatenation of arange(start, stop) for each pair, vectorised (int32 when the values allow)."""
    sizes = (stops - starts).astype(np.int64)
    total = int(sizes.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    dtype = np.int32 if int(stops.max()) < 2**31 else np.int64
    ends = np.cumsum(sizes)
    result = np.arange(total, dtype=dtype)
    result += np.repeat((starts.astype(np.int64) - (ends - sizes)).astype(dtype), sizes)
    return result


def _analyse_documents(
    documents: Sequence[tuple[str, int]], analyzer: Analyzer, glossary: Glossary, terms: dict[str, int] | None = None
) -> _Analysis:
    """Split each (text, body start) into passages and compute their signatures and token bags. With `terms`
    (a worker's vocabulary, kept between its parts), term ids are that vocabulary's and the result lists only
    the terms it gained."""
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
    minhash: list[np.ndarray] = []
    grams: list[int] = []
    no_signature = np.zeros(_NUM_HASHES, dtype=np.uint64)
    bag_sizes: list[int] = []
    bag_terms: list[int] = []
    bag_counts: list[int] = []
    for text, body_start in documents:
        raw = split_document("", text, body_start)
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
                shingles = _shingles(key)
                minhash.append(_minhash(shingles))
                grams.append(len(shingles))
            else:
                minhash.append(no_signature)
                grams.append(0)
            counts = Counter(_passage_terms(analyzer, glossary, passage.text, folded))
            bag_terms.extend(terms.setdefault(term, len(terms)) for term in counts)
            bag_counts.extend(counts.values())
            bag_sizes.append(len(counts))
    return _Analysis(
        doc_ptr=_offsets([np.asarray(doc_sizes, dtype=np.int64)]),
        paragraph=np.asarray(paragraph, dtype=np.int32),
        start=np.asarray(start, dtype=np.int64),
        end=np.asarray(end, dtype=np.int64),
        label=np.asarray(label, dtype=np.int32),
        key_len=np.asarray(key_len, dtype=np.int32),
        key_hash=np.frombuffer(b"".join(key_hash), dtype=np.uint8).reshape(-1, 16),
        minhash=np.stack(minhash) if minhash else np.zeros((0, _NUM_HASHES), dtype=np.uint64),
        grams=np.asarray(grams, dtype=np.int32),
        bag_ptr=_offsets([np.asarray(bag_sizes, dtype=np.int64)]),
        bag_terms=np.asarray(bag_terms, dtype=np.int32),
        bag_counts=np.asarray(bag_counts, dtype=np.uint16),
        labels=list(labels),
        terms=list(terms)[base:],
        term_base=base,
    )


# Each worker process of a parallel build holds its own analyzer, made once by the pool's initializer (jieba is
# initialised once per worker). Only ever written in worker processes.
_WORKER_STATE: dict[str, tuple[Analyzer, Glossary, dict[str, int]]] = {}


def _init_worker(spec: TokenizerSpec) -> None:
    logging.getLogger("jieba").setLevel(logging.WARNING)
    _WORKER_STATE["analyzer"] = (spec.analyzer(), spec.glossary, {})


def _analyse_chunk(documents: list[tuple[str, int]]) -> _Analysis:
    analyzer, glossary, terms = _WORKER_STATE["analyzer"]
    return replace(_analyse_documents(documents, analyzer, glossary, terms), worker=os.getpid())


def _analyse_with(helper: ProcessPoolExecutor, documents: Sequence[Document]) -> _Analysis | None:
    """A few documents analysed by a helper process (None when they are many, or the helper failed)."""
    if not documents or sum(len(doc.text) for doc in documents) >= PARALLEL_MIN_CHARS:
        return None
    try:
        return helper.submit(_analyse_chunk, [(doc.text, doc.body_start) for doc in documents]).result()
    except (BrokenProcessPool, OSError, RuntimeError) as exc:
        log.warning("tokenising helper failed (%s); tokenising here", exc)
        return None


def _analyse(
    documents: Sequence[Document],
    analyzer: Analyzer,
    glossary: Glossary,
    spec: TokenizerSpec | None,
    workers: int | None,
) -> _Analysis:
    """Analyse documents, in a process pool (both cores) when they are many and `spec` says how.

    Worker processes are started with "spawn" (a fork would copy locks held by the caller's other threads,
    e.g. a running bot's), so a script that builds a large index must guard its entry point with
    ``if __name__ == "__main__":``; should the pool fail anyway, the documents are analysed here."""
    jobs = [(doc.text, doc.body_start) for doc in documents]
    size = sum(len(text) for text, _ in jobs)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if spec is None or workers < 2 or size < PARALLEL_MIN_CHARS:
        return _analyse_documents(jobs, analyzer, glossary)
    chunks: list[list[tuple[str, int]]] = [[]]
    filled = 0
    target = min(_CHUNK_CHARS, size // (4 * workers) + 1)
    for job in jobs:
        if filled >= target:
            chunks.append([])
            filled = 0
        chunks[-1].append(job)
        filled += len(job[0])
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(spec,)) as pool:
            return _Analysis.concat(pool.map(_analyse_chunk, chunks))
    except (BrokenProcessPool, OSError) as exc:
        log.warning("parallel tokenisation failed (%s); tokenising in this process", exc)
        return _analyse_documents(jobs, analyzer, glossary)


# -- duplicates over precomputed signatures ---------------------------------------------------------------

# A candidate pair is compared exactly only when at least this many of its 12 minhash values agree. A pair at
# the near-duplicate threshold (Jaccard 0.85) agrees on fewer with probability 7e-5, below the 5e-4 at which
# the 2-row bands miss it in the first place; a pair that merely shares a sentence (Jaccard ~0.1) almost never
# passes, and in a 100k-passage corpus such pairs are most band candidates.
_MIN_AGREEMENT = 5
_BAND_MIX = np.uint64(0x9E3779B97F4A7C15)


_GRAM_BASE = np.uint64(0x110000)  # one more than the largest code point


def _gram_hashes(key: str) -> np.ndarray:
    """The distinct character 4-grams of a duplicate key as sorted 64-bit numbers (base-0x110000 digits,
    wrapping: two different 4-grams collide with probability ~2**-64), for exact Jaccard by intersection."""
    codes = np.frombuffer(key.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) <= _SHINGLE:
        grams = np.zeros(1, dtype=np.uint64)
        for code in codes:
            grams = grams * _GRAM_BASE + code
        return grams
    grams = codes[: len(codes) - _SHINGLE + 1].copy()
    for offset in range(1, _SHINGLE):
        grams *= _GRAM_BASE
        grams += codes[offset : len(codes) - _SHINGLE + 1 + offset]
    return np.unique(grams)


KEPT, SKIPPED, UNDECIDED = -1, -2, -3  # a row's decision; a row that is a duplicate holds its target's row


def _previous_decisions(
    order: np.ndarray, rows: np.ndarray, doc_sizes: np.ndarray, decisions: np.ndarray, ranks: np.ndarray
) -> np.ndarray:
    """The token cache's duplicate decisions for this build's rows (corpus order): `order` is each document's
    analysis (cache documents first), `rows` each row's analysis row, `doc_sizes` each analysed document's row
    count. A decision is kept for documents that come from the cache once and in their previous order relative
    to each other (the longest such run: a moved or renamed document counts as new); other rows are UNDECIDED,
    and `_collapse` checks the targets of the rest."""
    n_cache_docs = len(ranks)
    from_cache = order < n_cache_docs
    rank = np.full(len(order), -1, dtype=np.int64)
    rank[from_cache] = ranks[order[from_cache]]
    single = np.bincount(order, minlength=int(order.max()) + 1)[order] == 1 if len(order) else from_cache
    candidates = np.flatnonzero(from_cache & (rank >= 0) & single)
    steady = np.zeros(len(order), dtype=bool)
    steady[candidates[_increasing_run(rank[candidates].tolist())]] = True
    previous = np.full(int(doc_sizes.sum()), UNDECIDED, dtype=np.int64)
    previous[: len(decisions)] = decisions
    position = np.full(len(previous), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    mine = previous[rows]
    target = position[np.maximum(mine, 0)]
    mapped = np.where(mine >= 0, np.where(target >= 0, target, UNDECIDED), mine)
    mapped[~np.repeat(steady, doc_sizes[order])] = UNDECIDED
    return mapped


def _increasing_run(values: list[int]) -> np.ndarray:
    """Indices of a longest strictly increasing subsequence of `values` (patience sorting)."""
    tails: list[int] = []  # tails[k]: index of the smallest last value of an increasing run of length k + 1
    before = [-1] * len(values)
    for i, value in enumerate(values):
        k = _bisect_tails(values, tails, value)
        if k:
            before[i] = tails[k - 1]
        if k == len(tails):
            tails.append(i)
        else:
            tails[k] = i
    run: list[int] = []
    i = tails[-1] if tails else -1
    while i >= 0:
        run.append(i)
        i = before[i]
    return np.asarray(run[::-1], dtype=np.int64)


def _bisect_tails(values: list[int], tails: list[int], value: int) -> int:
    low, high = 0, len(tails)
    while low < high:
        middle = (low + high) // 2
        if values[tails[middle]] < value:
            low = middle + 1
        else:
            high = middle
    return low


def _collapse(
    documents: Sequence[Document],
    analysis: _Analysis,
    *,
    texts: bool = True,
    previous: np.ndarray | None = None,
) -> tuple[list[Passage], np.ndarray, np.ndarray]:
    """`index.passages.collapse_duplicates` over the analysed rows: rows are taken in order; a row whose key
    equals a kept row's is a duplicate of it; otherwise the kept rows sharing a minhash band with it are
    candidates, in order, compared by exact Jaccard of their character 4-grams (>= 0.85). Signatures come
    from the (parallel, cached) analysis, candidates are first filtered by minhash agreement and by size
    (Jaccard <= smaller / larger shingle count), and 4-gram sets are built only for the few left.

    `previous` holds each row's decision in the last build where it is still valid (KEPT, SKIPPED or the row
    it duplicates, all in this row order; UNDECIDED for new rows and rows whose document moved). Only the
    undecided rows are decided, plus the rows a changed decision can reach: when a row becomes kept or stops
    being kept, every later row sharing a band or a key with it is decided again. The result is the same as
    deciding every row (tested against the reference). Returns the kept passages (numbered), their rows, and
    every row's decision."""
    n_rows = len(analysis.key_len)
    doc_of_row = np.repeat(np.arange(len(documents)), np.diff(analysis.doc_ptr)).tolist()
    starts = analysis.start.tolist()
    ends = analysis.end.tolist()
    grams = analysis.grams.tolist()
    signatures = analysis.minhash.astype(np.uint64, copy=False).tobytes()
    width = 8 * _NUM_HASHES

    def text(row: int) -> str:
        return documents[doc_of_row[row]].text[starts[row] : ends[row]]

    @functools.lru_cache(maxsize=8192)  # ~20 MB: 4-gram sets of every candidate would take gigabytes
    def shingles(row: int) -> np.ndarray:
        return _gram_hashes(_duplicate_key(fold(text(row))))

    def near_duplicate(row: int, candidates: list[int]) -> int:
        size = grams[row]
        mine = signatures[width * row : width * row + width]
        for other in candidates:
            if min(size, grams[other]) < _NEAR_DUPLICATE * max(size, grams[other]):
                continue  # Jaccard is at most the smaller set's size over the larger's
            theirs = signatures[width * other : width * other + width]
            if sum(mine[i : i + 8] == theirs[i : i + 8] for i in range(0, width, 8)) < _MIN_AGREEMENT:
                continue
            a, b = shingles(row), shingles(other)
            common = len(np.intersect1d(a, b, assume_unique=True))
            if common / (len(a) + len(b) - common) >= _NEAR_DUPLICATE:
                return other
        return KEPT

    groups = _RowGroups(analysis)
    decision = np.full(n_rows, UNDECIDED, dtype=np.int64) if previous is None else previous.astype(np.int64)
    decision[analysis.key_len == 0] = SKIPPED
    # A duplicate's previous decision holds only if its target is still kept, earlier, and decided as before.
    target = np.maximum(decision, 0)
    invalid = (decision >= 0) & ((target >= np.arange(n_rows)) | (decision[target] != KEPT))
    decision[invalid] = UNDECIDED
    was_kept = decision == KEPT
    pending = np.flatnonzero(decision == UNDECIDED).tolist()
    queued = set(pending)
    heapq.heapify(pending)
    status = decision.tolist()
    decided = 0
    while pending:
        row = heapq.heappop(pending)
        decided += 1
        found = KEPT
        for other in groups.same_key(row):
            if other >= row:
                break
            if status[other] == KEPT:
                found = other
                break
        if found == KEPT:
            candidates = sorted({other for other in groups.same_band(row) if other < row and status[other] == KEPT})
            if candidates:
                found = near_duplicate(row, candidates)
        status[row] = found
        if (found == KEPT) != bool(was_kept[row]):
            for other in (*groups.same_key(row), *groups.same_band(row)):
                if other > row and other not in queued and status[other] != SKIPPED:
                    queued.add(other)
                    heapq.heappush(pending, other)
    log.debug("duplicates: %d of %d passages decided (the rest as in the last build)", decided, n_rows)
    decision = np.asarray(status, dtype=np.int64)
    kept = np.flatnonzero(decision == KEPT)
    pid_of = np.full(n_rows, -1, dtype=np.int64)
    pid_of[kept] = np.arange(len(kept))
    paragraph = analysis.paragraph.tolist()
    extra: dict[int, list[Location]] = {}
    for row in np.flatnonzero(decision >= 0).tolist():
        original = int(decision[row])
        doc_id = documents[doc_of_row[row]].doc_id
        if documents[doc_of_row[original]].doc_id != doc_id or paragraph[original] != paragraph[row]:
            extra.setdefault(int(pid_of[original]), []).append(Location(doc_id, paragraph[row], starts[row], ends[row]))
    label = analysis.label.tolist()
    passages = [
        Passage(
            pid,
            documents[doc_of_row[row]].doc_id,
            paragraph[row],
            starts[row],
            ends[row],
            text(row) if texts else "",
            None if label[row] < 0 else analysis.labels[label[row]],
            tuple(extra.get(pid, ())),
        )
        for pid, row in enumerate(kept.tolist())
    ]
    return passages, kept, decision


class _RowGroups:
    """Rows with the same duplicate key, and rows sharing a minhash band key (rows of keys of 20 characters or
    more), each group in row order. Groups of one are left out."""

    def __init__(self, analysis: _Analysis) -> None:
        n_rows = len(analysis.key_len)
        hashes = np.ascontiguousarray(analysis.key_hash).view(np.dtype((np.void, 16))).ravel()
        keyed = np.flatnonzero(analysis.key_len > 0)
        self._key = self._group(keyed, np.unique(hashes[keyed], return_inverse=True)[1].ravel(), n_rows)
        pairs = analysis.minhash.reshape(n_rows, _NUM_HASHES // _BAND_ROWS, _BAND_ROWS)
        band_keys = pairs[:, :, 0] * _BAND_MIX  # one 64-bit key per band (a collision only adds a candidate)
        for column in range(1, _BAND_ROWS):
            band_keys = (band_keys ^ pairs[:, :, column]) * _BAND_MIX
        signed = np.flatnonzero(analysis.key_len >= _MINHASH_MIN_KEY)
        self._bands = [
            self._group(signed, np.unique(band_keys[signed, band], return_inverse=True)[1].ravel(), n_rows)
            for band in range(band_keys.shape[1])
        ]

    @staticmethod
    def _group(rows: np.ndarray, labels: np.ndarray, n_rows: int) -> tuple[list[int], list[int], list[int]]:
        """For groups of two rows or more: each row's group start (-1 when alone), where each group ends (by
        start), and the rows sorted by group (in row order within one), as lists for the Python loop."""
        order = np.argsort(labels, kind="stable")  # rows are ascending: members stay in row order
        sorted_labels = labels[order]
        bounds = np.flatnonzero(np.diff(sorted_labels)) + 1
        starts = np.concatenate([[0], bounds]).astype(np.int64)
        stops = np.concatenate([bounds, [len(sorted_labels)]]).astype(np.int64)
        big = stops - starts > 1
        start_of = np.full(n_rows, -1, dtype=np.int64)
        positions = _ranges(starts[big], stops[big])
        start_of[rows[order[positions]]] = np.repeat(starts[big], (stops - starts)[big])
        stop_at = np.zeros(len(sorted_labels) + 1, dtype=np.int64)
        stop_at[starts[big]] = stops[big]
        return start_of.tolist(), stop_at.tolist(), rows[order].tolist()

    def same_key(self, row: int) -> list[int]:
        return self._members(self._key, row)

    def same_band(self, row: int) -> list[int]:
        found: list[int] = []
        for band in self._bands:
            found.extend(self._members(band, row))
        return found

    @staticmethod
    def _members(grouping: tuple[list[int], list[int], list[int]], row: int) -> list[int]:
        start_of, stop_at, members = grouping
        start = start_of[row]
        return members[start : stop_at[start]] if start >= 0 else []


# -- the token cache -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CacheKeys:
    """When a token cache may be reused: the same tokeniser (mode, glossary, user dictionary, tokenising code)
    for its token bags; also the same catalog and corpus folder for its documents' catalog fields."""

    tokenizer: str
    catalog: str
    corpus_dir: str


@dataclass
class TokenCache:
    """The analysis of every document of the last build, keyed by content, plus the documents' catalog fields.
    Lives beside the index file (`token_cache_path`)."""

    keys: CacheKeys
    documents: list[dict]  # {"info": DocumentInfo fields, "body_start": int}, in analysis order
    analysis: _Analysis
    # The last build's duplicate decisions (per row: KEPT, SKIPPED or the row it duplicates, rows of this
    # analysis) and each document's place in that build's corpus order: a rebuild decides only what changed.
    decisions: np.ndarray | None = None
    ranks: np.ndarray | None = None

    def rows_by_content(self) -> dict[tuple[str, int], int]:
        return {(d["info"]["fingerprint"], d["body_start"]): i for i, d in enumerate(self.documents)}

    def infos(self) -> dict[str, tuple[DocumentInfo, int]]:
        return {d["info"]["doc_id"]: (_document_info(d["info"]), d["body_start"]) for d in self.documents}

    def save(self, path: Path) -> None:
        meta = {
            "version": TOKEN_CACHE_VERSION,
            "keys": vars(self.keys),
            "documents": self.documents,
            "labels": self.analysis.labels,
            "terms": self.analysis.terms,
        }
        arrays = self.analysis.arrays()
        if self.decisions is not None and self.ranks is not None:
            arrays |= {"decisions": self.decisions.astype(np.int64), "ranks": self.ranks.astype(np.int64)}
        write_arrays(path, meta, arrays)

    @classmethod
    def load(cls, path: Path, keys: CacheKeys) -> TokenCache | None:
        """The cache at `path` if it was made by the same tokeniser; None otherwise (a build then analyses
        every document)."""
        try:
            stored = read_arrays(path)
            meta = stored.meta
            if meta.get("version") != TOKEN_CACHE_VERSION or meta.get("keys", {}).get("tokenizer") != keys.tokenizer:
                log.info("token cache %s is for another tokeniser; not used", path)
                return None
            analysis = _Analysis.from_arrays(stored.arrays, meta["labels"], meta["terms"])
            if analysis.n_docs != len(meta["documents"]):
                raise IndexFileError(f"{path}: unreadable (document count mismatch)")
            decisions, ranks = stored.arrays.get("decisions"), stored.arrays.get("ranks")
            if (
                decisions is None
                or ranks is None
                or len(decisions) != len(analysis.key_len)
                or len(ranks) != analysis.n_docs
            ):
                decisions = ranks = None
            return cls(CacheKeys(**meta["keys"]), meta["documents"], analysis, decisions, ranks)
        except IndexFileError as exc:
            log.info("no token cache: %s", exc)
        except (KeyError, TypeError) as exc:
            log.info("token cache %s unreadable (%s); not used", path, exc)
        return None


def token_cache_path(index_file: Path) -> Path:
    return index_file.with_name(index_file.stem + ".tokens.npz")


def _document_info(fields: dict) -> DocumentInfo:
    return DocumentInfo(**{**fields, "languages": tuple(fields["languages"])})


# -- build -----------------------------------------------------------------------------------------------


def build(
    documents: Sequence[Document],
    analyzer: Analyzer,
    glossary: Glossary,
    fingerprint: str,
    params: BM25Params | None = None,
    *,
    tokenizer: TokenizerSpec | None = None,
    cache: TokenCache | None = None,
    workers: int | None = None,
    keep_analysis: Callable[[TokenCache], None] | None = None,
    passage_texts: bool = True,
    helper: ProcessPoolExecutor | None = None,
) -> _Built:
    """Build the index of `documents`. Documents found in `cache` (same content) are not analysed again; the
    others are analysed here, or in `workers` processes (default: one per core) when they are many and
    `tokenizer` says how to make the same analyzer there.

    The analysis of the corpus' documents (what a token cache keeps) is handed to `keep_analysis` as soon as
    it is complete, as a TokenCache without keys, and then released before the postings are built (at
    100k passages that keeps ~100 MB out of the build's peak). With `passage_texts=False` the passages carry
    no text (a build that is only saved: the index stores offsets). A `helper` process (initialised by
    `_init_worker`) tokenises a few new documents and computes the cross-language links alongside."""
    started = time.perf_counter()
    cached_rows = cache.rows_by_content() if cache is not None else {}
    fresh_docs = [doc for doc in documents if (doc.fingerprint, doc.body_start) not in cached_rows]
    fresh = _analyse_with(helper, fresh_docs) if helper is not None else None
    if fresh is None:
        fresh = _analyse(fresh_docs, analyzer, glossary, tokenizer, workers)
    analysed = time.perf_counter()
    # The cache's documents, then the fresh ones (the cache's arrays are not copied when nothing is fresh).
    offset = cache.analysis.n_docs if cache is not None else 0
    combined = (
        fresh if cache is None else cache.analysis if not fresh_docs else _Analysis.concat([cache.analysis, fresh])
    )
    if cache is not None:
        cache.analysis = combined  # the cache's own arrays are released once merged
    fresh_rows = {(doc.fingerprint, doc.body_start): offset + i for i, doc in enumerate(fresh_docs)}
    order = np.asarray(
        [cached_rows.get((doc.fingerprint, doc.body_start), fresh_rows.get((doc.fingerprint, doc.body_start), -1))
         for doc in documents],
        dtype=np.int64,
    )  # fmt: skip
    # The links depend only on the vocabulary: the helper computes them over every term analysed (a superset
    # of the index's) while this process collapses duplicates and builds postings; they are narrowed below.
    links_future = None
    if helper is not None:
        try:
            links_future = helper.submit(
                _worker_link_candidates,
                {t for t in combined.terms if _ZH_TERM.fullmatch(t)},
                {t for t in combined.terms if _EN_TERM.fullmatch(t)},
            )
        except (BrokenProcessPool, RuntimeError) as exc:
            log.warning("link helper unavailable (%s); computing links here", exc)
    rows = combined.rows_of(order)  # corpus order -> row of `combined`
    n_raw = len(rows)
    collapsing = time.perf_counter()
    previous = None
    if cache is not None and cache.decisions is not None and cache.ranks is not None:
        previous = _previous_decisions(order, rows, np.diff(combined.doc_ptr), cache.decisions, cache.ranks)
    passages, kept, decision = _collapse(
        documents, combined.take(order, bags=False), texts=passage_texts, previous=previous
    )
    del previous
    _release_free_memory()
    collapsed = time.perf_counter()
    kept_rows = rows[kept]
    selected = _ranges(combined.bag_ptr[kept_rows], combined.bag_ptr[kept_rows + 1])
    bag_terms = combined.bag_terms[selected]
    bag_counts = combined.bag_counts[selected]
    del selected
    bag_ptr = _offsets([combined.bag_ptr[kept_rows + 1] - combined.bag_ptr[kept_rows]])
    # The vocabulary in sorted order: the index is the same whichever documents came from the cache.
    used = np.zeros(len(combined.terms), dtype=bool)
    used[bag_terms] = True
    by_term = sorted(np.flatnonzero(used).tolist(), key=combined.terms.__getitem__)
    numbering = np.zeros(len(combined.terms), dtype=np.int32)
    numbering[by_term] = np.arange(len(by_term), dtype=np.int32)
    vocab = [combined.terms[i] for i in by_term]
    np.take(numbering, bag_terms, out=bag_terms)
    del used, numbering, by_term
    # What the token cache keeps: the analysis of the documents still in the corpus, their duplicate decisions
    # and places in the corpus order.
    present = np.unique(order)
    cache_row = np.full(len(combined.key_len), -1, dtype=np.int64)
    cache_row[combined.rows_of(present)] = np.arange(int(np.diff(combined.doc_ptr)[present].sum()))
    decisions = np.full(int(cache_row.max()) + 1 if len(cache_row) else 0, UNDECIDED, dtype=np.int64)
    decisions[cache_row[rows]] = np.where(decision >= 0, cache_row[rows[np.maximum(decision, 0)]], decision)
    rank_of = np.full(combined.n_docs, -1, dtype=np.int64)
    rank_of[order] = np.arange(len(order))
    ranks = rank_of[present]
    del rows, decision, cache_row, rank_of
    if len(present) != combined.n_docs:
        combined = combined.take(present)
    cache_docs = {int(row): doc for doc, row in zip(documents, order.tolist(), strict=True)}
    cache_documents = [
        {"info": _info_fields(cache_docs[int(row)].info), "body_start": cache_docs[int(row)].body_start}
        for row in present.tolist()
    ]
    del cache_docs
    if keep_analysis is not None:
        keep_analysis(TokenCache(CacheKeys("", "", ""), cache_documents, combined, decisions, ranks))
    if cache is not None:
        cache.analysis = _Analysis.empty()
    del combined, cache_documents, decisions, ranks
    bm25 = BM25Index.from_bags(vocab, bag_ptr, bag_terms, bag_counts, params or BM25Params())
    del bag_terms, bag_counts
    indexed = time.perf_counter()
    zh_vocab = {t for t in vocab if _ZH_TERM.fullmatch(t)}
    en_vocab = {t for t in vocab if _EN_TERM.fullmatch(t)}
    links = None
    if links_future is not None:
        try:
            links = best_links(*links_future.result(), zh_vocab=zh_vocab, en_vocab=en_vocab)
        except (BrokenProcessPool, OSError) as exc:
            log.warning("link helper failed (%s); computing links here", exc)
    if links is None:
        links = build_links(zh_vocab, en_vocab, analyzer.stem, analyzer.stopwords)
    en_to_zh, zh_to_en = (pack_links(side) for side in links)
    stats = (
        len(passages),
        n_raw,
        len(vocab),
        time.perf_counter() - started,
        len(fresh_docs),
        len(documents),
        analysed - started,
        collapsing - analysed,
        collapsed - collapsing,
        indexed - collapsed,
        time.perf_counter() - indexed,
    )
    log.info(_BUILT_MESSAGE, *stats)
    return _Built(
        [doc.info for doc in documents],
        passages,
        bm25,
        en_to_zh,
        zh_to_en,
        fingerprint,
        stats=stats,
    )


def _release_free_memory() -> None:
    """Hand memory freed by the duplicate pass (many small Python objects) back to the system before the
    postings are built, so the two do not add up in the build's peak. glibc only; elsewhere a no-op."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


# Links as stored and held: each term's targets as one "target quality target quality ..." string (terms are
# Han words or lowercase English stems, never containing a space), unpacked for the few terms of a question.
# JSON decodes a 100k-passage corpus' links in 0.02 s this way, 0.27 s as nested lists.
PackedLinks = dict[str, str]


def pack_links(links: Links) -> PackedLinks:
    return {term: " ".join(f"{target} {quality:.6g}" for target, quality in targets) for term, targets in links.items()}


def unpack_links(packed: str) -> list[tuple[str, float]]:
    parts = packed.split(" ")
    return [(target, float(quality)) for target, quality in zip(parts[::2], parts[1::2], strict=True)]


_BUILT_MESSAGE = (
    "built index: %d passages (%d before duplicates collapsed), %d terms in %.2f s (%d of %d documents analysed "
    "in %.2f s, assembled %.2f s, duplicates %.2f s, postings %.2f s, links %.2f s)"
)
_ZH_TERM = re.compile(r"[\u3400-\u9fff]{2,}")
_EN_TERM = re.compile(r"[a-z]{2,}")


# -- save / load -----------------------------------------------------------------------------------------


def save(path: Path, built: _Built, mode: str, *, source_key: str = "") -> None:
    """Write the index (postings, passages as offsets into the documents, links). The token cache beside it is
    written by the build (`build(keep_analysis=...)`)."""
    bm25 = built.bm25
    doc_index = {doc.doc_id: i for i, doc in enumerate(built.documents)}
    labels: dict[str, int] = {}
    passages = built.passages
    meta = {
        "fingerprint": built.fingerprint,
        "mode": mode,
        "params": vars(bm25.params),
        "vocab": bm25.vocab,
        "documents": [_info_fields(doc) for doc in built.documents],
        "passage_count": len(passages),
        "labels": [],
        "duplicates": {str(p.pid): [list(vars_loc(d)) for d in p.duplicates] for p in passages if p.duplicates},
        "en_to_zh": built.en_to_zh,
        "zh_to_en": built.zh_to_en,
    }
    arrays = {
        "indptr": bm25.indptr,
        "doc_ids": bm25.doc_ids,
        "tfs": bm25.tfs.astype(np.uint16) if len(bm25.tfs) and bm25.tfs.max() < 2**16 else bm25.tfs,
        "doc_len": bm25.doc_len,
        "weights": bm25.weights,
        "p_doc": np.fromiter((doc_index[p.doc_id] for p in passages), np.int32, len(passages)),
        "p_paragraph": np.fromiter((p.paragraph for p in passages), np.int32, len(passages)),
        "p_start": np.fromiter((p.start for p in passages), np.int64, len(passages)),
        "p_end": np.fromiter((p.end for p in passages), np.int64, len(passages)),
        "p_label": np.fromiter(
            (-1 if p.label is None else labels.setdefault(p.label, len(labels)) for p in passages),
            np.int32,
            len(passages),
        ),
    }
    meta["labels"] = list(labels)
    write_index(path, meta, arrays, source_key)


def _info_fields(info: DocumentInfo) -> dict:
    return {**vars(info), "languages": list(info.languages)}


def vars_loc(location: Location) -> tuple[str, int, int, int]:
    return (location.doc_id, location.paragraph, location.start, location.end)


def _from_file(index_file: IndexFile, blobs: dict[str, bytes] | None = None) -> _Built:
    """The index as stored; passage texts are cut from the documents (their bytes in `blobs` by path, else
    read from each document's path: the caller has checked they are the files the index was built from)."""
    meta, arrays = index_file.meta, index_file.arrays
    bm25 = BM25Index(
        meta["vocab"],
        arrays["indptr"],
        arrays["doc_ids"],
        arrays["tfs"],
        arrays["doc_len"],
        BM25Params(**meta["params"]),
        weights=arrays.get("weights"),
    )
    documents = [_document_info(doc) for doc in meta["documents"]]
    labels = meta["labels"]
    duplicates = {int(pid): tuple(Location(*d) for d in dups) for pid, dups in meta["duplicates"].items()}
    p_doc = arrays["p_doc"].tolist()
    p_paragraph = arrays["p_paragraph"].tolist()
    p_start = arrays["p_start"].tolist()
    p_end = arrays["p_end"].tolist()
    p_label = arrays["p_label"].tolist()
    blobs = blobs if blobs is not None else {}
    used = set(p_doc)
    texts = [_decode(blobs, info.path) if i in used else "" for i, info in enumerate(documents)]
    doc_ids = [info.doc_id for info in documents]
    names = [None, *labels]  # p_label + 1: -1 is no label
    passages = [
        Passage(pid, doc_ids[d], paragraph, start, end, texts[d][start:end], names[label + 1], duplicates.get(pid, ()))
        for pid, (d, paragraph, start, end, label) in enumerate(
            zip(p_doc, p_paragraph, p_start, p_end, p_label, strict=True)
        )
    ]
    return _Built(documents, passages, bm25, meta["en_to_zh"], meta["zh_to_en"], meta["fingerprint"])


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexFileError(f"{path}: cannot read a document of the index ({exc})") from exc


# -- opening a corpus folder -----------------------------------------------------------------------------


@dataclass
class _Sources:
    """What an index of a corpus folder is made from, read once by Engine.open."""

    corpus_dir: Path
    glossary: Glossary
    spec: TokenizerSpec
    extra: list[bytes]
    files: list[Path]
    source_key: str
    contents: dict[Path, str]
    blobs: dict[str, bytes]
    index_file: Path | None

    @property
    def size(self) -> int:
        return sum(len(blob) for blob in self.blobs.values())

    @classmethod
    def read(cls, corpus_dir: Path, data_dir: Path | None, mode: str) -> _Sources:
        corpus_dir = corpus_dir.resolve()
        spec = _tokenizer_spec(corpus_dir, data_dir, mode)
        glossary = spec.glossary
        userdict = corpus_dir / "userdict.txt"
        extra = [mode.encode(), (corpus_dir / "glossary.toml").read_bytes() if len(glossary) else b""]
        if userdict.exists():
            extra.append(userdict.read_bytes())
        files = document_files(corpus_dir)
        source_key, contents, blobs = _source_key(corpus_dir, files, extra)
        index_file = index_path(corpus_dir, data_dir) if data_dir is not None else None
        return cls(corpus_dir, glossary, spec, extra, files, source_key, contents, blobs, index_file)


def index_source_key(corpus_dir: Path, data_dir: Path | None, mode: str = "search") -> str:
    """The source key an index of `corpus_dir` must carry for Engine.open to use it as it is (reads and hashes
    the corpus files; builds nothing)."""
    return _Sources.read(corpus_dir, data_dir, mode).source_key


def _tokenizer_spec(corpus_dir: Path, data_dir: Path | None, mode: str) -> TokenizerSpec:
    """How a corpus folder is tokenised: its glossary and user dictionary, jieba's cache in the data folder."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    userdict = corpus_dir / "userdict.txt"
    cache_dir = data_dir if data_dir is not None and _writable(data_dir) else None
    return TokenizerSpec(
        mode,
        (str(userdict),) if userdict.exists() else (),
        str(cache_dir) if cache_dir is not None else None,
        Glossary.load(corpus_dir / "glossary.toml"),
    )


def _build_here(
    sources: _Sources,
    analyzer: Analyzer,
    *,
    rebuild: bool,
    workers: int | None,
    passage_texts: bool = True,
    helper: ProcessPoolExecutor | None = None,
) -> _Built:
    """Build the index in this process (from the token cache unless `rebuild`) and save it when there is a
    data folder."""
    path = sources.index_file
    keys = CacheKeys(tokenizer_key(sources.extra), _catalog_key(sources.corpus_dir), str(sources.corpus_dir))
    cache = TokenCache.load(token_cache_path(path), keys) if path is not None and not rebuild else None
    documents = _load_documents(sources.corpus_dir, sources.files, sources.contents, sources.blobs, cache)
    fingerprint = corpus_fingerprint(documents, sources.extra)

    def keep_analysis(kept: TokenCache) -> None:
        assert path is not None
        try:
            replace(kept, keys=keys, analysis=kept.analysis.compact()).save(token_cache_path(path))
        except OSError as exc:
            log.warning("could not save the token cache beside %s (%s)", path, exc)

    built = build(
        documents,
        analyzer,
        sources.glossary,
        fingerprint,
        tokenizer=sources.spec,
        cache=cache,
        workers=workers,
        keep_analysis=keep_analysis if path is not None else None,
        passage_texts=passage_texts,
        helper=helper,
    )
    if path is not None:
        try:
            save(path, built, sources.spec.mode, source_key=sources.source_key)
        except OSError as exc:
            log.warning("could not save the index to %s (%s); using it from memory", path, exc)
    return built


def _build_index_file(corpus_dir: str, data_dir: str, mode: str, rebuild: bool, workers: int | None) -> tuple:
    """In a separate process: build and save the index of a corpus folder; the figures of its log line.

    A rebuild from a token cache starts one helper process at once (when there are two cores): while this one
    reads the corpus and the cache, the helper loads jieba, then tokenises the few new documents and computes
    the CC-CEDICT links while this one finds duplicates and builds the postings."""
    logging.getLogger("jieba").setLevel(logging.WARNING)
    folder, data = Path(corpus_dir).resolve(), Path(data_dir)
    helper = None
    cached = token_cache_path(index_path(folder, data)).exists()
    if cached and not rebuild and (workers if workers is not None else os.cpu_count() or 1) >= 2:
        spec = _tokenizer_spec(folder, data, mode)
        helper = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
                                     initargs=(spec,))  # fmt: skip
        helper.submit(int)  # start it now
    try:
        sources = _Sources.read(folder, data, mode)
        # jieba is loaded only if some documents are tokenised here rather than in worker processes.
        built = _build_here(
            sources,
            sources.spec.analyzer(eager=False),
            rebuild=rebuild,
            workers=workers,
            passage_texts=False,
            helper=helper,
        )
    finally:
        if helper is not None:
            helper.shutdown(cancel_futures=True)
    return built.stats


def _worker_link_candidates(zh_vocab: set[str], en_vocab: set[str]) -> tuple[dict, dict]:
    analyzer = _WORKER_STATE["analyzer"][0]
    return link_candidates(zh_vocab, en_vocab, analyzer.stem, analyzer.stopwords)


# -- what an index depends on ----------------------------------------------------------------------------


def _code_digest(names: Sequence[str]) -> bytes:
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for name in names:
        digest.update(name.encode())
        digest.update((package / name).read_bytes())
    for data in sorted((package / "data").glob("*.txt")):
        digest.update(data.read_bytes())
    digest.update(inspect.getsource(passage_terms).encode())
    digest.update(inspect.getsource(_analyse_documents).encode())
    for module in (jieba, opencc):
        digest.update(str(getattr(module, "__version__", "")).encode())
    return digest.digest()


def tokenizer_key(extra: Sequence[bytes]) -> str:
    """What the token cache depends on: tokeniser mode, glossary, user dictionary and the tokenising code."""
    digest = hashlib.sha256(f"tokens {TOKEN_CACHE_VERSION} {MAX_PASSAGE_CHARS}".encode())
    digest.update(_code_digest(_TOKEN_CODE))
    for blob in extra:
        digest.update(hashlib.sha256(blob).digest())
    return digest.hexdigest()[:24]


def _source_key(
    corpus_dir: Path, files: Sequence[Path], extra: Sequence[bytes]
) -> tuple[str, dict[Path, str], dict[str, bytes]]:
    """A hash over everything an index of `corpus_dir` is made from: each document file's path and bytes, the
    catalog, glossary, user dictionary, tokeniser mode, the index format and the code that shapes it. Also
    returns each file's content digest (sha256 hex of its bytes, which is a document's fingerprint) and its
    bytes (by path string), so the documents are read once."""
    digest = hashlib.sha256(f"index {FORMAT_VERSION}".encode())
    digest.update(_code_digest(_INDEX_CODE))
    for blob in extra:
        digest.update(hashlib.sha256(blob).digest())
    catalog = corpus_dir / "catalog.toml"
    digest.update(hashlib.sha256(catalog.read_bytes() if catalog.exists() else b"").digest())
    contents: dict[Path, str] = {}
    blobs: dict[str, bytes] = {}
    for path in files:
        name = str(path)
        try:
            with open(name, "rb") as handle:  # plain open: pathlib costs more than the read for small files
                blobs[name] = handle.read()
            contents[path] = hashlib.sha256(blobs[name]).hexdigest()
        except OSError as exc:
            contents[path] = f"unreadable: {exc}"
        digest.update(_relative(corpus_dir, name).encode() + b"\0" + contents[path].encode() + b"\0")
    return digest.hexdigest()[:24], contents, blobs


def _decode(blobs: dict[str, bytes], path: str) -> str:
    """A document's text from the bytes read for its hash (released once decoded), else from its file."""
    blob = blobs.pop(path, None)
    if blob is None:
        return _read_text(Path(path))
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IndexFileError(f"{path}: cannot read a document of the index ({exc})") from exc


def _load_documents(
    corpus_dir: Path,
    files: Sequence[Path],
    contents: dict[Path, str],
    blobs: dict[str, bytes],
    cache: TokenCache | None,
) -> list[Document]:
    """The corpus' documents, as `load_corpus` reads them, but reusing the catalog fields of unchanged documents
    from the token cache (inferring titles, dates and languages reads every character of every document)."""
    catalog = load_catalog(corpus_dir)
    known: dict[str, tuple[DocumentInfo, int]] = {}
    if (
        cache is not None
        and cache.keys.catalog == _catalog_key(corpus_dir)
        and cache.keys.corpus_dir == str(corpus_dir)
    ):
        known = cache.infos()
    documents: list[Document] = []
    for path in files:
        relative = _relative(corpus_dir, str(path))
        doc_id = relative.rsplit(".", 1)[0]
        reuse = known.get(doc_id)
        if reuse is not None and reuse[0].path == str(path) and contents[path][:16] == reuse[0].fingerprint:
            try:
                documents.append(Document(reuse[0], _decode(blobs, str(path)), reuse[1], reuse[0].fingerprint))
                continue
            except IndexFileError:
                pass  # changed since it was hashed: read it as a new document
        blobs.pop(str(path), None)
        try:
            documents.append(load_document(path, doc_id, catalog.get(relative) or catalog.get(path.name) or {}))
        except (CorpusError, OSError) as exc:
            log.warning("skipping document %s: %s", path, exc)
    if not documents:
        raise CorpusError(f"no readable .txt or .md documents in {corpus_dir}")
    return documents


def _relative(corpus_dir: Path, name: str) -> str:
    """`Path(name).relative_to(corpus_dir).as_posix()` for a file found under `corpus_dir` (string slicing:
    pathlib's costs 0.4 s over 14k files)."""
    prefix = str(corpus_dir).rstrip(os.sep) + os.sep
    if not name.startswith(prefix):
        return Path(name).relative_to(corpus_dir).as_posix()
    return name[len(prefix) :].replace(os.sep, "/")


def _catalog_key(corpus_dir: Path) -> str:
    catalog_file = corpus_dir / "catalog.toml"
    return hashlib.sha256(catalog_file.read_bytes() if catalog_file.exists() else b"").hexdigest()[:24]
