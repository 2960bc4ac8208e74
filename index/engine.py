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

import hashlib
import logging
import re
import time
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.bm25 import BM25Index, BM25Params
from index.corpus import Document, DocumentInfo, corpus_fingerprint, load_corpus
from index.crosslang import Links, build_links
from index.errors import IndexFileError, QuestionError
from index.excerpt import Excerpt, make_excerpt
from index.glossary import CONCEPT_PREFIX, Glossary
from index.indexfile import read_index, write_index
from index.normalize import fold
from index.passages import Location, Passage, collapse_duplicates, split_document
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
_MENTION_RE = re.compile(r"<(?:@[!&]?|#)\d+>|@(?:everyone|here)\b", re.I)


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
    en_to_zh: Links
    zh_to_en: Links
    fingerprint: str


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
        self._signatures: dict[int, tuple[set[str], set[str]]] = {}

    # -- construction ------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        corpus_dir: Path,
        data_dir: Path | None = None,
        *,
        mode: str = "search",
        rebuild: bool = False,
    ) -> Engine:
        """Load the index for `corpus_dir` from `data_dir`, building (and saving) it when missing or stale."""
        corpus_dir = corpus_dir.resolve()
        started = time.perf_counter()
        loaded = load_corpus(corpus_dir)
        glossary = Glossary.load(corpus_dir / "glossary.toml")
        userdict = corpus_dir / "userdict.txt"
        analyzer = Analyzer(
            userdicts=[userdict] if userdict.exists() else [],
            mode=mode,
            cache_dir=data_dir if data_dir is not None and _writable(data_dir) else None,
        )
        analyzer.add_words(glossary.han_aliases)
        extra = [mode.encode(), (corpus_dir / "glossary.toml").read_bytes() if len(glossary) else b""]
        if userdict.exists():
            extra.append(userdict.read_bytes())
        fingerprint = corpus_fingerprint(loaded.documents, extra)
        path = index_path(corpus_dir, data_dir) if data_dir is not None else None
        built = None
        if path is not None and not rebuild:
            try:
                built = _from_file(read_index(path, fingerprint))
                log.info("index loaded from %s (%d passages)", path, len(built.passages))
            except IndexFileError as exc:
                log.info("building index: %s", exc)
        if built is None:
            built = build(loaded.documents, analyzer, glossary, fingerprint)
            if path is not None:
                try:
                    save(path, built, mode)
                except OSError as exc:
                    log.warning("could not save the index to %s (%s); using it from memory", path, exc)
        log.info(
            "corpus %s: %d documents, %d passages, version %s (%.2f s)",
            corpus_dir,
            len(built.documents),
            len(built.passages),
            built.fingerprint,
            time.perf_counter() - started,
        )
        return cls(analyzer, glossary, built, corpus_dir)

    @classmethod
    def from_documents(
        cls, documents: Sequence[Document], *, mode: str = "search", glossary: Glossary | None = None
    ) -> Engine:
        """An engine over in-memory documents (benchmarks, tests): built, never saved."""
        glossary = glossary if glossary is not None else Glossary(())
        analyzer = Analyzer(mode=mode)
        analyzer.add_words(glossary.han_aliases)
        built = build(documents, analyzer, glossary, corpus_fingerprint(documents, [mode.encode()]))
        return cls(analyzer, glossary, built, Path("."))

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
            return self.en_to_zh.get(term, [])
        if re.fullmatch(r"[\u3400-\u9fff]{2,}", term):
            return self.zh_to_en.get(term, [])
        return []

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

    def _signature(self, pid: int) -> tuple[set[str], set[str]]:
        """A passage's character shingles and its anchors: figures and named things, language-independent
        markers of its content. Computed once per passage (a dict store is atomic, so threads may share it)."""
        signature = self._signatures.get(pid)
        if signature is None:
            folded = fold(self.passages[pid].text)
            signature = (_char_shingles(folded), figures(folded) | set(self.glossary.concept_terms(folded)))
            self._signatures[pid] = signature
        return signature

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


def passage_terms(analyzer: Analyzer, glossary: Glossary, text: str) -> list[str]:
    """Index terms of a passage: its words plus the concept term of every glossary entry it mentions."""
    return analyzer.terms(text) + glossary.concept_terms(fold(text))


def build(
    documents: Sequence[Document],
    analyzer: Analyzer,
    glossary: Glossary,
    fingerprint: str,
    params: BM25Params | None = None,
) -> _Built:
    started = time.perf_counter()
    raw: list[Passage] = []
    for doc in documents:
        raw.extend(split_document(doc.doc_id, doc.text, doc.body_start))
    passages = collapse_duplicates(raw)
    tokens = [passage_terms(analyzer, glossary, p.text) for p in passages]
    bm25 = BM25Index.build(tokens, params or BM25Params())
    zh_vocab = {t for t in bm25.vocab if re.fullmatch(r"[\u3400-\u9fff]{2,}", t)}
    en_vocab = {t for t in bm25.vocab if re.fullmatch(r"[a-z]{2,}", t)}
    en_to_zh, zh_to_en = build_links(zh_vocab, en_vocab, analyzer.stem, analyzer.stopwords)
    log.info(
        "built index: %d passages (%d before duplicates collapsed), %d terms in %.2f s",
        len(passages),
        len(raw),
        len(bm25.vocab),
        time.perf_counter() - started,
    )
    return _Built([doc.info for doc in documents], passages, bm25, en_to_zh, zh_to_en, fingerprint)


def save(path: Path, built: _Built, mode: str) -> None:
    bm25 = built.bm25
    meta = {
        "fingerprint": built.fingerprint,
        "mode": mode,
        "params": vars(bm25.params),
        "vocab": bm25.vocab,
        "documents": [vars(doc) for doc in built.documents],
        "passages": [
            [p.doc_id, p.paragraph, p.start, p.end, p.text, p.label, [list(vars_loc(d)) for d in p.duplicates]]
            for p in built.passages
        ],
        "en_to_zh": built.en_to_zh,
        "zh_to_en": built.zh_to_en,
    }
    arrays = {"indptr": bm25.indptr, "doc_ids": bm25.doc_ids, "tfs": bm25.tfs, "doc_len": bm25.doc_len}
    write_index(path, meta, arrays)


def vars_loc(location: Location) -> tuple[str, int, int, int]:
    return (location.doc_id, location.paragraph, location.start, location.end)


def _from_file(index_file) -> _Built:
    meta, arrays = index_file.meta, index_file.arrays
    bm25 = BM25Index(
        meta["vocab"],
        arrays["indptr"],
        arrays["doc_ids"],
        arrays["tfs"],
        arrays["doc_len"],
        BM25Params(**meta["params"]),
    )
    documents = [DocumentInfo(**{**doc, "languages": tuple(doc["languages"])}) for doc in meta["documents"]]
    passages = [
        Passage(pid, doc_id, paragraph, start, end, text, label, tuple(Location(*d) for d in duplicates))
        for pid, (doc_id, paragraph, start, end, text, label, duplicates) in enumerate(meta["passages"])
    ]
    en_to_zh = {k: [tuple(x) for x in v] for k, v in meta["en_to_zh"].items()}
    zh_to_en = {k: [tuple(x) for x in v] for k, v in meta["zh_to_en"].items()}
    return _Built(documents, passages, bm25, en_to_zh, zh_to_en, meta["fingerprint"])
