"""The query engine: answer questions with cited excerpts over a corpus' built index. `Engine.open` gets the index
from the build pipeline (index/build.py: load a current index file, or build one); everything else here is query
time: analysing the question, scoring, coverage and abstention, merging passages with the same content, excerpts.

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

import functools
import itertools
import re
import time
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.analysis import TokenizerSpec
from index.analysis import passage_terms as passage_terms  # re-exported: index/timeline.py imports it from here
from index.build import build, load_or_build
from index.corpus import Document, corpus_fingerprint
from index.duplicates import facts, same_text
from index.errors import QuestionError
from index.excerpt import Excerpt, make_excerpt
from index.glossary import CONCEPT_PREFIX, Glossary
from index.indexfile import _Built, unpack_links
from index.normalize import fold, fold_with_offsets
from index.passages import Location, Passage
from index.progress import Progress
from index.romanize import NameMatcher, latin_key
from index.tokenize import HAN_CHARS, Analyzer, TermSpan

MAX_QUESTION_CHARS = 1000
GLOSSARY_WEIGHT = 0.7
NAME_WEIGHT = GLOSSARY_WEIGHT  # a romanised name is the same name, as sure as a glossary alias
DICTIONARY_WEIGHT = 0.5
CONTEXT_WEIGHT = 0.5
FOLLOW_UP_EASING = 0.8
ABSTAIN_BELOW = 0.5
LOW_CONFIDENCE = 0.7
CANDIDATES = 60
SIGNATURE_CACHE = 1024  # passages whose merge signatures are kept (~30 KB each)
_MENTION_RE = re.compile(r"<(?:@[!&]?|#)\d+>|@(?:everyone|here)\b", re.I)


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    source: str
    date: str
    paragraph: int
    url: str = ""
    where: str = ""  # the place in the original: "¶ 27", "p. 12" (PDF), "Chapter title, ¶ 3" (EPUB)
    page: str = ""  # the PDF page label, when the document has pages

    @property
    def location(self) -> str:
        return self.where or f"¶ {self.paragraph}"

    def as_json(self) -> dict[str, object]:
        """The citation in the CLI's JSON outputs (fields are only ever added, never renamed)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "date": self.date,
            "paragraph": self.paragraph,
            "location": self.location,
            "page": self.page,
        }

    def label(self) -> str:
        parts = [p for p in (self.source, self.date) if p]
        where = ", ".join([*parts, self.location])
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


def clean_question(question: str) -> str:
    """Remove mention syntax, control characters and lone surrogates (undecodable bytes), collapse white space."""
    text = _MENTION_RE.sub(" ", question)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") else c for c in text)
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
        names = built.names or {}
        self.names = NameMatcher(
            names.get("han", {}), names.get("latin", {}), names.get("chars", {}), names.get("initials", {})
        )
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
        progress: Progress | None = None,
    ) -> Engine:
        """Load the index for `corpus_dir` from `data_dir`, building (and saving) it when missing or stale.

        An index is current when its source key matches: the corpus files' bytes, the catalog, glossary, user
        dictionary, tokeniser mode and the index code are what it was built from. A stale index is rebuilt from
        the token cache beside it, analysing only new or changed documents; `rebuild=True` analyses everything.
        A large corpus (PARALLEL_MIN_CHARS or more) is built in a separate process, which tokenises with
        `workers` processes (default: one per core), and then loaded: the caller's process (a running bot)
        never holds the build's memory or its CPU work. Scripts that open a large corpus must therefore guard
        their entry point with ``if __name__ == "__main__":`` (worker processes are spawned). A build reports
        to `progress` (index.progress: documents read and tokenised, elapsed, estimate)."""
        analyzer, glossary, built, corpus_dir = load_or_build(
            corpus_dir, data_dir, mode=mode, rebuild=rebuild, workers=workers, progress=progress
        )
        return cls(analyzer, glossary, built, corpus_dir)

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
        named = self._name_links(question, spans)
        phrases = self._phrase_links(spans)
        concepts: list[Concept] = []
        claimed: set[int] = set()
        for index, span in enumerate(spans):
            expansions: dict[str, float] = dict.fromkeys(named.get(index, ()), NAME_WEIGHT)
            shorthand = self.names.initials.get(span.term) if not self.bm25.df(span.term) else None
            for term in shorthand.split(" ") if shorthand else ():  # mbp -> macbook pro, when the corpus has no mbp
                expansions.setdefault(term, NAME_WEIGHT)
            for m_index, mention in enumerate(mentions):
                if mention.start <= span.start and span.end <= mention.end:
                    expansions[mention.entry.term] = GLOSSARY_WEIGHT
                    claimed.add(m_index)
            for target, quality in (*self._links(span.term), *phrases.get(index, ())):
                if target != span.term:
                    expansions[target] = max(expansions.get(target, 0.0), DICTIONARY_WEIGHT * quality)
            # Character n-grams of unknown words score, but the question's units stay its words.
            unit = not span.gram and not any(
                not other.gram
                and other.start <= span.start
                and span.end <= other.end
                and (other.end - other.start) > (span.end - span.start)
                for other in spans[:index] + spans[index + 1 :]
            )
            concepts.append(Concept(span.term, span.start, span.end, tuple(sorted(expansions.items())), unit))
        extra = {mention.entry.term: GLOSSARY_WEIGHT for i, mention in enumerate(mentions) if i not in claimed}
        return Query(question, tuple(concepts), tuple(extra.items()))

    def _links(self, term: str) -> list[tuple[str, float]]:
        if _EN_WORD.fullmatch(term):
            packed = self.en_to_zh.get(term)
        elif _ZH_TERM.fullmatch(term):
            packed = self.zh_to_en.get(term)
        else:
            return []
        return unpack_links(packed) if packed else []

    def _phrase_links(self, spans: Sequence[TermSpan]) -> dict[int, list[tuple[str, float]]]:
        """Dictionary links of two or three consecutive English words that are a whole CC-CEDICT gloss
        ("coast guard" -> 海岸警卫队, "fire dragon" -> 火龙), for each of the words."""
        found: dict[int, list[tuple[str, float]]] = {}
        words = [(i, s) for i, s in enumerate(spans) if not s.gram and _EN_WORD.fullmatch(s.term)]
        for at in range(len(words) - 1):
            for size in (2, 3):
                group = words[at : at + size]
                if len(group) < size or any(b[1].start - a[1].end > 2 for a, b in itertools.pairwise(group)):
                    break
                packed = self.en_to_zh.get(" ".join(s.term for _, s in group))
                if packed:
                    for index, _ in group:
                        found.setdefault(index, []).extend(unpack_links(packed))
        return found

    def _name_links(self, question: str, spans: Sequence[TermSpan]) -> dict[int, list[str]]:
        """Romanised names (index.romanize): for each span of the question, the corpus terms that write the
        same name in the other script. A run of one to three Latin words ("ren zhengfei", "Kuo Ming-chi") is
        looked up by its letters; a run of two to four Han characters by its readings."""
        found: dict[int, list[str]] = {}
        if not self.names.han_keys and not self.names.latin:
            return found

        def attach(start: int, end: int, targets: Iterable[str]) -> None:
            for index, span in enumerate(spans):
                if span.start < end and start < span.end and not span.gram:
                    slot = found.setdefault(index, [])
                    slot.extend(t for t in targets if t not in slot and t != span.term)

        if self.names.han_keys:
            words = list(_LATIN_WORD_RE.finditer(question))
            for i in range(len(words)):
                for n in range(1, 4):
                    if i + n > len(words):
                        break
                    if n > 1 and question[words[i + n - 2].end() : words[i + n - 1].start()].strip(" -‐"):
                        break
                    targets = self.names.han_for_latin(latin_key(question[words[i].start() : words[i + n - 1].end()]))
                    if targets:
                        attach(words[i].start(), words[i + n - 1].end(), targets)
        if self.names.latin and _ZH_RUN.search(question):
            folded, offsets = fold_with_offsets(question)
            for run in _ZH_RUN.finditer(folded):
                text = run.group()
                for w_start, w_end in self.names.han_windows(text):
                    targets = self.names.latin_for_han(text[w_start:w_end])
                    if targets:
                        attach(offsets[run.start() + w_start], offsets[run.start() + w_end - 1] + 1, targets)
        return found

    def aliases(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """What cross-language matching knows about this corpus' names, built with its index, as
        (source, name, other forms) rows: glossary.toml entries, then the romanised names written in the
        corpus' Latin text with the corpus' Han terms that read as them, then the Han names a question may
        romanise, with their keys (one pinyin and one Wade–Giles key each)."""
        rows: list[tuple[str, str, tuple[str, ...]]] = [
            ("glossary", entry.canonical, tuple(a for a in entry.aliases if a != entry.canonical))
            for entry in self.glossary.entries
        ]
        han_terms = sorted({t for packed in self.names.han_keys.values() for t in packed.split(" ")})
        for key, packed in sorted(self.names.latin.items()):
            readers = [t for t in han_terms if set(self.names.latin_for_han(t)) & set(packed.split(" "))]
            rows.append(("romanised", key.title(), tuple(readers)))
        keys_of: dict[str, list[str]] = {}
        for key, packed in self.names.han_keys.items():
            for term in packed.split(" "):
                keys_of.setdefault(term, []).append(key)
        for term in han_terms:
            if self.bm25.df(term):
                rows.append(("pinyin", term, tuple(keys_of[term][:4:2])))
        return rows

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
                if term.startswith(CONCEPT_PREFIX) or factor >= NAME_WEIGHT:  # a glossary alias or the same name
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
        """Group results that say the same thing: near-identical text stating the same facts (numbers and names,
        `index.duplicates.facts`), or the same figures and named things in two languages. Each group is shown
        once, as its first passage; the others are cited with it only where their text is verbatim the same
        (`_result`). Passages whose numbers, dates or names differ are never grouped."""
        groups: list[list[int]] = []
        signatures: list[tuple[set[str], set[str], object]] = []
        for pid in ranked:
            shingles, anchors = self._signature(pid)
            stated = facts(self.passages[pid].text)
            for group, (g_shingles, g_anchors, g_stated) in zip(groups, signatures, strict=True):
                if (_jaccard(shingles, g_shingles) >= 0.6 and stated == g_stated) or (
                    len(anchors) >= 3 and anchors == g_anchors
                ):
                    group.append(pid)
                    break
            else:
                groups.append([pid])
                signatures.append((shingles, anchors, stated))
        return groups

    def _compute_signature(self, pid: int) -> tuple[set[str], set[str]]:
        """A passage's character shingles and its anchors: figures and named things (people, organisations,
        products: not the glossary's plain terms), language-independent markers of its content (cached as
        `self._signature`)."""
        folded = fold(self.passages[pid].text)
        named = {mention.entry.term for mention in self.glossary.find_folded(folded) if mention.entry.kind != "term"}
        return _char_shingles(folded), figures(folded) | named

    def _result(self, rank: int, query: Query, group: Sequence[int], score: float, coverage: float) -> Result:
        """One shown passage with its citations: its own, its verbatim duplicates', and those of the group's
        other passages whose text is verbatim the same. A citation is never attached to text that is not in
        the cited document."""
        passage = self.passages[group[0]]
        citations: list[Citation] = []
        seen: set[tuple[str, int]] = set()
        verbatim = [pid for pid in group if pid == group[0] or same_text(self.passages[pid].text, passage.text)]
        locations = [loc for pid in verbatim for loc in (self.passages[pid].location, *self.passages[pid].duplicates)]
        for location in locations:
            key = (location.doc_id, location.paragraph)
            if key not in seen:
                seen.add(key)
                citations.append(self.citation(location))
        return Result(rank, passage, score, coverage, self.excerpt(query, passage.text), tuple(citations))

    def citation(self, location: Location | Passage) -> Citation:
        doc = self.documents[location.doc_id]
        where, page = doc.place(location.paragraph, location.start)
        return Citation(doc.doc_id, doc.title, doc.source, doc.date, location.paragraph, doc.url, where, page)

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
    if term.startswith(CONCEPT_PREFIX) or factor >= NAME_WEIGHT:
        return 1.0
    return 0.8 * min(1.0, factor / DICTIONARY_WEIGHT)


def _char_shingles(text: str, size: int = 3) -> set[str]:
    key = re.sub(r"[\W_]+", "", fold(text))
    return {key[i : i + size] for i in range(max(1, len(key) - size + 1))}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


_ZH_TERM = re.compile(f"[{HAN_CHARS}]{{2,}}")
_ZH_RUN = re.compile(f"[{HAN_CHARS}]{{2,}}")
_EN_WORD = re.compile(r"[a-z]+")
_LATIN_WORD_RE = re.compile(r"[A-Za-z]+")
