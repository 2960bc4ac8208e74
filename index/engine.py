"""The query engine: answer questions with cited excerpts over a corpus' built index. `Engine.open` gets the index
from the build pipeline (index/build.py: load a current index file, or build one); everything else here is query
time: analysing the question, scoring, coverage and abstention, merging passages with the same content, excerpts.

Query model. Every term of the question is a scoring concept worth its BM25 contribution (so with no expansion
the scores are exactly rank-bm25's). A concept may have expansions: the glossary concept term of an alias it
is part of (Altman -> @sam-altman, which every 奥特曼 passage carries) and dictionary translations (chips ->
芯片). A passage scores a concept by the best of its literal match and its weighted expansions, so expanded
terms never outweigh the user's own words and never add up on top of them.

Ranking. The 60 best candidates by BM25 are re-ranked with their paragraph's score and, for Latin-script
questions, proximity (index/ranking.py).

Abstention. A question's units are its maximal terms (not the sub-words jieba's search mode adds, nor the
parts of a compound). Coverage of a passage = idf-weighted share of units it matches (literal 1, expansion its
weight, sub-words only 0.5); a term the corpus lacks weighs by how telling it is in the language. Candidates
covering less than 15% of the question are dropped; whether the corpus answers at all, and whether the
answer is a weak match, is the calibrated model of index/abstention.py over signals of the ranking.

About 700 lines, and one class: the query steps share the Engine's caches (folded texts, positions, signatures,
term generality); the result types, the abstention signals and the same-content markers live in answers.py,
signals.py and sameness.py.
"""

from __future__ import annotations

import functools
import itertools
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

import numpy as np

from index import signals
from index.abstention import Decision, latin_informativeness
from index.analysis import TokenizerSpec
from index.analysis import passage_terms as passage_terms  # re-exported: index/timeline.py imports it from here
from index.answers import Answer, Citation, Concept, Query, Result  # also imported from here by the cogs and CLI
from index.build import build, load_or_build
from index.corpus import Document, corpus_fingerprint
from index.crosslang import NAME as NAME_LINK
from index.duplicates import facts, same_text
from index.errors import QuestionError
from index.excerpt import Excerpt, make_excerpt
from index.glossary import CONCEPT_PREFIX, Entry, Glossary
from index.indexfile import _Built, unpack_links
from index.normalize import fold, fold_with_offsets
from index.passages import Location, Passage
from index.progress import Progress
from index.ranking import (
    PARAGRAPH_WEIGHT,
    PHRASE_WEIGHT,
    PROXIMITY_CACHE,
    PROXIMITY_CANDIDATES,
    PROXIMITY_WEIGHT,
    Paragraphs,
    blended_idf,
    general_blend,
    latin_terms,
    paragraph_scores,
    proximity_applies,
    proximity_credit,
    reweighted_scores,
    term_positions,
)
from index.romanize import NameMatcher, latin_key
from index.sameness import char_shingles, figures, similar
from index.storeddocuments import DocumentTable
from index.storedpassages import StoredPassages, paragraph_keys
from index.tokenize import DEFAULT_SEGMENTER, HAN_CHARS, Analyzer, TermSpan

MAX_QUESTION_CHARS = 1000
GLOSSARY_WEIGHT = 0.7
NAME_WEIGHT = GLOSSARY_WEIGHT  # a romanised name is the same name, as sure as a glossary alias
DICTIONARY_WEIGHT = 0.5
CONTEXT_WEIGHT = 0.7  # as a glossary alias: the subject a follow-up leans on, below the words asked
FOLLOW_UP_EASING = 0.8
ABSTAIN_BELOW = 0.5  # compare.py: the coverage an aspect needs
MIN_EVIDENCE = 0.15  # a candidate covering less of the question is not evidence for it
LOW_CONFIDENCE = 0.7
CANDIDATES = 60
GENERALITY_CACHE = 8192  # index terms whose general informativeness is kept (a float each)
SIGNATURE_CACHE = 1024  # passages whose merge signatures are kept (~30 KB each)
_URL_ONLY_RE = re.compile(r"(?:<?(?:https?://|www\.)\S+>?\s*)+", re.I)
_MENTION_RE = re.compile(r"<(?:@[!&]?|#)\d+>|@(?:everyone|here)\b", re.I)


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
        self.documents = DocumentTable(built.documents)
        self.passages = built.passages
        self.bm25 = built.bm25
        self.en_to_zh = built.en_to_zh
        self.zh_to_en = built.zh_to_en
        self.fingerprint = built.fingerprint
        names = built.names or {}
        self.names = NameMatcher(
            names.get("han", {}), names.get("latin", {}), names.get("chars", {}), names.get("initials", {})
        )
        # The names and terms the corpus pairs itself (index.build.paired_forms), found in a question as a
        # glossary finds its aliases: folded form -> the index terms of its other forms.
        self.paired: dict[str, str] = names.get("paired", {})
        self._paired_forms = Glossary(Entry(form, form, "paired", (form,)) for form in self.paired)
        # The other region's word for a corpus term (index.crosslang.regional_variants): 晶片 -> 芯片.
        self.regional: dict[str, str] = names.get("regional", {})
        self._topic_terms = self._frequent_topics()
        # Signatures of recently ranked passages (a set of ~400 shingles each: caching every passage ever ranked
        # grew a 100k-passage bot by ~0.7 MB a question). lru_cache is thread-safe.
        self._signature = functools.lru_cache(maxsize=SIGNATURE_CACHE)(self._compute_signature)
        self._folded = functools.lru_cache(maxsize=SIGNATURE_CACHE)(self._fold_passage)
        self._positions = functools.lru_cache(maxsize=PROXIMITY_CACHE)(self._compute_positions)
        # How far re-ranking moves the candidates' term weights towards the language's (index/ranking.py).
        self.general_blend = general_blend(len(self.passages))
        self._term_generality = functools.lru_cache(maxsize=GENERALITY_CACHE)(self._compute_term_generality)

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
        segmenter: str = DEFAULT_SEGMENTER,
    ) -> Engine:
        """An engine over in-memory documents (benchmarks, tests): built, never saved. `segmenter`: see
        index.tokenize.SEGMENTERS (the tokeniser comparison of `footnote bench` builds one with each)."""
        spec = TokenizerSpec(mode, glossary=glossary if glossary is not None else Glossary(()), segmenter=segmenter)
        analyzer = spec.analyzer()
        fingerprint = corpus_fingerprint(documents, [mode.encode(), segmenter.encode()])
        built = build(documents, analyzer, spec.glossary, fingerprint, tokenizer=spec, workers=workers)
        return cls(analyzer, spec.glossary, built, Path("."))

    @property
    def version(self) -> str:
        return self.fingerprint

    def search(self, question: str, limit: int = 10) -> list[int]:
        """Passage ids in ranking order for a question (no abstention, no merging): for benchmarks."""
        top, _ranking, _scores = self._candidates(self.analyze(clean_question(question)), ())
        return [int(d) for d in top[:limit]]

    # -- query analysis ----------------------------------------------------------------------------------

    def analyze(self, question: str) -> Query:
        """Turn a cleaned question into concepts with their expansions."""
        spans = self.analyzer.spans(question)
        if _CANTONESE_MARK.search(question):  # a Cantonese question: 係 is "is", not 系 "system"
            spans = [s for s in spans if question[s.start : s.end] not in _CANTONESE_FOLDED]
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
            regional = self.regional.get(span.term) if not span.gram else None
            for term in regional.split(" ") if regional else ():  # 晶片 (Taiwan) -> the corpus' 芯片 (mainland)
                expansions.setdefault(term, NAME_WEIGHT)
            for m_index, mention in enumerate(mentions):
                if mention.start <= span.start and span.end <= mention.end:
                    expansions[mention.entry.term] = GLOSSARY_WEIGHT
                    claimed.add(m_index)
            for target, quality in (*self._links(span.term), *phrases.get(index, ())):
                if target != span.term:
                    # A proper name in the other script (CC-CEDICT's 华为 "Huawei") is the name itself.
                    weight = NAME_WEIGHT if quality >= NAME_LINK else DICTIONARY_WEIGHT * quality
                    expansions[target] = max(expansions.get(target, 0.0), weight)
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
        """Names in the other script: the forms the corpus pairs itself (`self.paired`) and romanised names
        (index.romanize). For each span of the question, the corpus terms that write the same name. A romanised
        run of one to three Latin words ("ren zhengfei", "Kuo Ming-chi") is looked up by its letters; a run of two
        to four Han characters by its readings."""
        found: dict[int, list[str]] = {}

        def attach(start: int, end: int, targets: Iterable[str]) -> None:
            for index, span in enumerate(spans):
                if span.start < end and start < span.end and not span.gram:
                    slot = found.setdefault(index, [])
                    slot.extend(t for t in targets if t not in slot and t != span.term)

        if self.paired:  # 火眼 <-> FireEye, Steve Stone <-> 史東: forms the corpus gives one thing
            for mention in self._paired_forms.find(question):
                attach(mention.start, mention.end, self.paired[mention.entry.id].split(" "))
        if not self.names.han_keys and not self.names.latin:
            return found

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
        (source, name, other forms) rows: glossary.toml entries, the forms the corpus pairs itself (folded, with
        the index terms of their other forms), then the romanised names written in the
        corpus' Latin text with the corpus' Han terms that read as them, then the Han names a question may
        romanise, with their keys (one pinyin and one Wade–Giles key each)."""
        rows: list[tuple[str, str, tuple[str, ...]]] = [
            ("glossary", entry.canonical, tuple(a for a in entry.aliases if a != entry.canonical))
            for entry in self.glossary.entries
        ]
        rows.extend(("paired", form, tuple(terms.split(" "))) for form, terms in sorted(self.paired.items()))
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
        """Score every passage: sum over concepts of the best of literal and weighted expansion matches, plus the
        extra terms at their weights (BM25Index.search's groups: the kernel reads only the postings)."""
        ids, values = self.bm25.search(self.query_groups(query), -1, positive=False)
        scores = np.zeros(self.bm25.n_docs, dtype=np.float64)
        scores[ids] = values
        return scores

    @staticmethod
    def query_groups(query: Query) -> list[list[tuple[str, float]]]:
        """The query as BM25Index.search groups: each concept with its expansions (the best of them counts), each
        extra term alone at its weight."""
        groups = [[(concept.term, 1.0), *concept.expansions] for concept in query.concepts]
        groups.extend([(term, factor)] for term, factor in query.extra)
        return groups

    def coverage(self, query: Query, doc_ids: np.ndarray) -> np.ndarray:
        """Idf-weighted share of the question's units matched by each of `doc_ids` (see module docstring)."""
        return self._coverage_of(query, doc_ids, *self._unit_credits(query, doc_ids))

    def _coverage_of(
        self, query: Query, doc_ids: np.ndarray, units: list[Concept], credit: np.ndarray, anchored: np.ndarray
    ) -> np.ndarray:
        anchored = anchored.copy()
        weights = [self._unit_idf(concept, query.text) for concept in units]
        total = sum(weights)
        covered = np.asarray(weights) @ credit if units else np.zeros(len(doc_ids))
        for term, _factor in query.extra:
            idf = self.bm25.informativeness(term)
            total += idf
            present = self.bm25.contains(term, doc_ids)
            anchored |= present
            covered += idf * present
        return np.where(anchored, covered / total if total else covered, 0.0)

    def _unit_credits(self, query: Query, doc_ids: np.ndarray) -> tuple[list[Concept], np.ndarray, np.ndarray]:
        """The question's units, how far each of `doc_ids` matches each unit (units x passages: literal 1, glossary
        alias 1, dictionary link 0.8 x its quality, a sub-word only 0.5), and which passages are anchored: a passage
        reached only through dictionary translations is not evidence, it needs one unit matched literally or
        through the glossary (or a context term)."""
        units = [concept for concept in query.concepts if concept.unit]
        credit = np.zeros((len(units), len(doc_ids)), dtype=np.float64)
        anchored = np.zeros(len(doc_ids), dtype=bool)
        for row, concept in enumerate(units):
            literal = self.bm25.contains(concept.term, doc_ids)
            anchored |= literal
            match = literal.astype(np.float64)
            for term, factor in concept.expansions:
                present = self.bm25.contains(term, doc_ids)
                if term.startswith(CONCEPT_PREFIX) or factor >= NAME_WEIGHT:  # a glossary alias or the same name
                    anchored |= present
                match = np.maximum(match, _coverage_credit(term, factor) * present)
            for part in self._parts(query, concept):
                match = np.maximum(match, 0.5 * self.bm25.contains(part, doc_ids))
            credit[row] = match
        return units, credit, anchored

    @staticmethod
    def _parts(query: Query, concept: Concept) -> list[str]:
        """The sub-words and compound parts of a unit (scored, but only half evidence of the unit)."""
        return [
            c.term
            for c in query.concepts
            if not c.unit and concept.start <= c.start and c.end <= concept.end and c.term != concept.term
        ]

    def _unit_idf(self, concept: Concept, question: str) -> float:
        """How much a unit of the question weighs for coverage: its idf in the corpus; for a word the corpus
        lacks, the idf of its best-known expansion, else the idf of a term seen nowhere scaled by how telling the
        word is in the language (general_weight): a rare word or name weighs fully, an everyday word little."""
        if self.bm25.df(concept.term):
            return self.bm25.informativeness(concept.term)
        known = [self.bm25.informativeness(term) for term, _ in concept.expansions if self.bm25.df(term)]
        if known:
            return max(known)
        return self.bm25.max_informativeness * max(0.2, self.general_weight(concept, question))

    def general_weight(self, concept: Concept, question: str) -> float:
        """How telling a unit of the question is in its language, 0.05 (everyday) .. 1 (rare, a name, a number):
        jieba's dictionary frequency for Chinese, wordfreq's for English (index/abstention.py). (Raising capitalised
        words to a name's weight was measured on the fit halves: it made every set worse.)"""
        if re.search(r"[\u3400-\u9fff]", concept.term):
            return max(0.05, self.analyzer.rarity(concept.term))
        surface = question[concept.start : concept.end]
        return max(0.05, min(latin_informativeness(surface), latin_informativeness(concept.term)))

    def query_generality(self, query: Query) -> dict[str, float]:
        """How telling each index term of the query is in the language, 0..1: a unit by general_weight (its
        surface as typed), its sub-words, expansions and the extra terms by their index form."""
        out = {c.term: self.general_weight(c, query.text) for c in query.concepts if c.unit}
        for concept in query.concepts:
            for term in (concept.term, *(t for t, _ in concept.expansions)):
                if term not in out:
                    out[term] = self._term_generality(term)
        for term, _factor in query.extra:
            if term not in out:
                out[term] = self._term_generality(term)
        return out

    def _compute_term_generality(self, term: str) -> float:
        """general_weight for an index term without its surface: a Latin stem is looked up as written and as the
        word it may stem from (announc -> announce, compani -> company)."""
        if re.search(r"[\u3400-\u9fff]", term):
            return max(0.05, self.analyzer.rarity(term))
        forms = [term, term + "e"] + ([term[:-1] + "y"] if term.endswith("i") else [])
        return max(0.05, min(latin_informativeness(form) for form in forms))

    def signals(
        self,
        query: Query,
        ranked: Sequence[int],
        ranking: dict[int, float],
        raw: np.ndarray,
        scored: Query | None = None,
    ) -> np.ndarray:
        """The abstention signals of index/abstention.py (FEATURES, in order) for a ranked candidate list of
        `scored` (default: `query`), checking the units of `query` (index/signals.py computes them)."""
        return signals.compute(self, query, ranked, ranking, raw, scored)

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
        if _URL_ONLY_RE.fullmatch(cleaned):
            raise QuestionError(
                "That is a link, not a question: I answer from the corpus' documents and do not open web pages. "
                "Ask in words what you want to know."
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
            raise QuestionError(self._nothing_to_search(cleaned))
        ranked, score_of, coverage, raw = self._rank(query, exclude)
        if context.strip():
            # A follow-up leans on the subject the conversation established: whether the corpus answers it is
            # decided for the question read with that subject's words ("他后来怎么说" + "Mark Chen"), and a
            # little more leniently.
            read_with = self.analyze(f"{cleaned} {clean_question(context)}")
            decision = self.decide(read_with, ranked, score_of, raw, FOLLOW_UP_EASING, scored=query)
        else:
            decision = self.decide(query, ranked, score_of, raw)
        if decision.abstain:
            return Answer(
                question,
                cleaned,
                True,
                "none",
                (),
                self.suggest(ranked[:10], avoid=query),
                0,
                (time.perf_counter() - started) * 1000,
            )
        groups = self.merge_same_content(ranked)
        page = groups[offset : offset + k]
        results = tuple(
            self._result(offset + i + 1, query, group, score_of[group[0]], coverage[group[0]])
            for i, group in enumerate(page)
        )
        return Answer(
            question,
            cleaned,
            False,
            decision.confidence,
            results,
            (),
            len(groups),
            (time.perf_counter() - started) * 1000,
        )

    def _nothing_to_search(self, cleaned: str) -> str:
        """Why a question has no words to search for, in the user's terms."""
        if not re.search(r"[^\W_]", cleaned):
            return (
                "I found no words to search for in that question: it has only emoji, symbols or punctuation. "
                "Ask in a few words, for example about a name or a subject."
            )
        shown = cleaned if len(cleaned) <= 60 else cleaned[:59] + "…"
        return (
            f"I found no words to search for in that question: “{shown}” has only everyday words that every "
            "document uses. Add what it is about, for example a name or a subject."
        )

    def decide(
        self,
        query: Query,
        ranked: Sequence[int],
        ranking: dict[int, float],
        raw: np.ndarray,
        easing: float = 1.0,
        scored: Query | None = None,
    ) -> Decision:
        """Whether the corpus answers: the calibrated model of index/abstention.py over the ranking's signals
        (no candidate covering MIN_EVIDENCE of the question is always an abstention). `scored`: the query the
        ranking scored, when `query` (whose units are checked) differs from it."""
        if not ranked:
            return Decision((), 0.0, True, "none")
        return Decision.of(self.signals(query, ranked, ranking, raw, scored), easing)

    def _rank(
        self, query: Query, exclude: Collection[int]
    ) -> tuple[list[int], dict[int, float], dict[int, float], np.ndarray]:
        """Candidate passage ids in ranking order, with their ranking scores and coverage, and the BM25 score of
        every passage."""
        top, ranking, raw = self._candidates(query, exclude)
        if not len(top):
            return [], {}, {}, raw
        cover = self.coverage(query, top.astype(np.int32))
        score_of = {int(d): float(s) for d, s in zip(top, ranking, strict=True)}
        coverage = {int(d): float(c) for d, c in zip(top, cover, strict=True)}
        # A candidate that covers too little of the question is not evidence for it.
        ranked = [int(d) for d in top if coverage[int(d)] >= MIN_EVIDENCE]
        return ranked, score_of, coverage, raw

    def _candidates(self, query: Query, exclude: Collection[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The CANDIDATES best passages by BM25 among those matching any term, re-ranked with the paragraph
        context and, for Latin-script questions, proximity (index/ranking.py): ids and ranking scores, best
        first (ties by passage id), and the BM25 score of every passage."""
        scores = self.scores(query)
        terms = [t for c in query.concepts for t in (c.term, *(e for e, _ in c.expansions))]
        matched = self.bm25.matching([*terms, *(t for t, _ in query.extra)])
        if exclude:
            matched[np.fromiter(exclude, dtype=np.int64)] = False
        # Candidates are the passages matching any term, best scores first. (In a very small corpus BM25Okapi
        # gives common terms a zero or negative idf, so "score > 0" would lose real matches.)
        candidates = np.flatnonzero(matched)
        if not len(candidates):
            return candidates, np.zeros(0), scores
        if len(candidates) > CANDIDATES:
            candidates = candidates[np.argpartition(-scores[candidates], CANDIDATES - 1)[:CANDIDATES]]
        own = scores[candidates]
        idf = None
        if self.general_blend > 0:
            idf = blended_idf(self.bm25, self.query_generality(query), self.general_blend)
            own = own + reweighted_scores(self.bm25, self.query_groups(query), candidates, idf)
        if self.paragraphs.split:
            concepts = [(c.term, c.expansions) for c in query.concepts]
            context = paragraph_scores(self.bm25, self.paragraphs, concepts, query.extra, candidates, idf)
        else:
            context = own  # every paragraph is one passage: its paragraph score is its own
        ranking = own + PARAGRAPH_WEIGHT * context
        units = [c.term for c in query.concepts if c.unit]
        if proximity_applies(units):
            order = np.lexsort((candidates, -ranking))[:PROXIMITY_CANDIDATES]
            weight_of = {u: self.bm25.informativeness(u) for u in units}
            for i in order:
                phrase, near = proximity_credit(self._positions(int(candidates[i])), units, weight_of)
                ranking[i] += PHRASE_WEIGHT * phrase + PROXIMITY_WEIGHT * near
        order = np.lexsort((candidates, -ranking))
        return candidates[order], ranking[order], scores

    @functools.cached_property
    def paragraphs(self) -> Paragraphs:
        """Which passages form each paragraph (computed on first use)."""
        documents, paragraphs = paragraph_keys(self.passages)  # without building every passage
        return Paragraphs.of_passages(documents, paragraphs, self.bm25.doc_len)

    def _fold_passage(self, pid: int) -> str:
        """A passage's folded text, white space collapsed (cached as `self._folded`)."""
        return " ".join(fold(self.passages[pid].text).split())

    def _compute_positions(self, pid: int) -> dict[str, list[int]]:
        """A passage's Latin-script terms and their positions (cached as `self._positions`)."""
        terms = latin_terms(self._folded(pid), self.analyzer.stem, self.analyzer.stopwords)
        return term_positions(terms)

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
                if (similar(shingles, g_shingles, 0.6) and stated == g_stated) or (
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
        return char_shingles(folded), figures(folded) | named

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

    def passage_counts(self) -> dict[str, int]:
        """Passages per document id, without building every passage of a loaded index."""
        if isinstance(self.passages, StoredPassages):
            return self.passages.document_counts()
        return dict(Counter(p.doc_id for p in self.passages))

    def passages_of(self, doc_id: str) -> list[Passage]:
        """One document's passages in order (a loaded index builds only these)."""
        if isinstance(self.passages, StoredPassages):
            return [self.passages[pid] for pid in self.passages.pids_of(doc_id)]
        return [p for p in self.passages if p.doc_id == doc_id]

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

    def _frequent_topics(self) -> list[tuple[str, str]]:
        """(concept term, name) of the glossary's topics the corpus mentions, most frequent first."""
        counted = [
            (self.bm25.df(entry.term), entry.canonical, entry.term)
            for entry in self.glossary.entries
            if entry.kind in ("org", "product", "term", "person") and self.bm25.df(entry.term)
        ]
        return [(term, name) for _, name, term in sorted(counted, key=lambda item: (-item[0], item[1]))]

    def suggest(self, near: Sequence[int] = (), limit: int = 3, avoid: Query | None = None) -> tuple[str, ...]:
        """Up to `limit` topics the corpus covers: those of the nearest passages first, then the most common. With
        `avoid` (the question just abstained on), never the subjects that question asked about: offering them
        as "covered" would contradict the answer."""
        asked: set[str] = set()
        question = ""
        if avoid is not None:
            question = fold(avoid.text)
            asked = {t for c in avoid.concepts for t, _ in c.expansions if t.startswith(CONCEPT_PREFIX)}
            asked |= {t for t, _ in avoid.extra if t.startswith(CONCEPT_PREFIX)}
            asked |= set(self.glossary.concept_terms(question))

        def allowed(term: str, name: str) -> bool:
            return term not in asked and fold(name) not in question

        names: list[str] = []
        for pid in near:
            for term in self.glossary.concept_terms(fold(self.passages[pid].text)):
                entry = self.glossary.by_id[term[len(CONCEPT_PREFIX) :]]
                if entry.canonical not in names and entry.kind != "person" and allowed(term, entry.canonical):
                    names.append(entry.canonical)
        for term, name in self._topic_terms:
            if name not in names and allowed(term, name):
                names.append(name)
        return tuple(names[:limit])

    @property
    def topics(self) -> list[str]:
        return [name for _term, name in self._topic_terms]


def _coverage_credit(term: str, factor: float) -> float:
    """How far a match through an expansion counts as the unit being present: a glossary alias is the same
    thing (full credit); a dictionary translation is likely the same (0.8 times its link quality)."""
    if term.startswith(CONCEPT_PREFIX) or factor >= NAME_WEIGHT:
        return 1.0
    return 0.8 * min(1.0, factor / DICTIONARY_WEIGHT)


_ZH_TERM = re.compile(f"[{HAN_CHARS}]{{2,}}")
_ZH_RUN = re.compile(f"[{HAN_CHARS}]{{2,}}")
_EN_WORD = re.compile(r"[a-z]+")
# Characters only Cantonese writes (嘅 咗 喺 冇 佢 啲 咩 嚟 嗰 㗎 唔 嘢), and the Cantonese function words that fold
# onto a written-Chinese word (係 "is" -> 系, 點 "how" -> 点, 邊 "which" -> 边, 晒 "all"): in a question that has
# the first, a lone one of the second is a function word (index/data/stopwords_yue.txt drops the rest).
_CANTONESE_MARK = re.compile("[嘅咗喺冇佢啲咩嚟嗰㗎唔嘢]")
_CANTONESE_FOLDED = frozenset({"係", "點", "邊", "晒"})
_LATIN_WORD_RE = re.compile(r"[A-Za-z]+")
