"""/compare in the engine: two subjects side by side, or one subject across the corpus' documents.

Subjects. A subject that is exactly a glossary name (any alias, any script: "谷歌", "Google", "google") is that
entry: a passage mentions it when it carries the entry's concept term, i.e. names any of its aliases. Any other
subject is a phrase: the passage must contain its words, in order, after folding (glossary names inside the
phrase may be written with any of their aliases: "Google TPU" also matches "谷歌 TPU"). A subject the corpus never
mentions is reported as missing, with suggestions; a side is never filled with passages about something else.

Routing. With two subjects, a passage that mentions both goes to `both`, not to either side. A name written
only inside the other subject's name does not count ("Gemini 3 上線" mentions Gemini 3, not Gemini as well), so
"Gemini vs Gemini 3" still has two sides. With an aspect, every passage must also cover the aspect (the engine's
coverage of the aspect as a question, at least ABSTAIN_BELOW), and scores add the aspect's BM25 to the subject's.

One subject: `by_source` gives, per document (oldest first), the best passage mentioning it, so a reader sees
where the sources agree or differ; documents that do not mention it are listed in `silent`.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from index.corpus import DocumentInfo
from index.engine import ABSTAIN_BELOW, Citation, Concept, Engine, Query, Result, clean_question
from index.errors import UserFacingError
from index.excerpt import EXCERPT_CHARS, Excerpt, make_excerpt
from index.glossary import Entry
from index.normalize import fold, fold_with_offsets

MAX_SUBJECT_CHARS = 100
MAX_ASPECT_CHARS = 200
SUBJECT_WEIGHT = 1.0
MERGE_LIMIT = 300  # passages per section grouped by content; pages show at most the first few dozen results
_VERSUS_RE = re.compile(r"\s+(?:vs\.?|versus)\s+", re.I)
_SEPARATORS = r"[\s\-_·・.,'’:/]*"
_PIECE_RE = re.compile(r"[a-z0-9]+(?:[-.'’_][a-z0-9]+)*%?|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\W_]+")

# Figures: amounts, percentages, dates and plain numbers, not parts of names ("GPT-5.2", "4o", "Q1", "Gemini 3").
_UNIT = r"(?:万亿|萬億|千亿|千億|百亿|百億|亿|億|千万|千萬|百万|百萬|万|萬|trillion|billion|million|thousand|bn|tn)"
_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"  # noqa: E501
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,10}(?:\.\d+)?"  # longer digit runs are ids, not figures
_FIGURE_RE = re.compile(
    rf"""
    (?<![A-Za-z0-9_.\-/])
    (?:
        \d{{4}}\s?年\s?\d{{1,2}}\s?月(?:\s?\d{{1,2}}\s?[日号號])?           # 2025 年 12 月 1 日
      | \d{{4}}-\d{{1,2}}-\d{{1,2}} | \d{{4}}/\d{{1,2}}/\d{{1,2}}          # 2025-12-01
      | \d{{1,2}}\s?月\s?\d{{1,2}}\s?[日号號]                                # 12 月 1 日
      | (?:US\$|\$|¥|￥|€|£)\s?(?:{_NUMBER})(?:\s?{_UNIT}(?![A-Za-z]))?(?:\s?(?:美元|元))?
      | (?:{_NUMBER})\s?(?:%|％|percent(?![A-Za-z])|个百分点|個百分點)
      | (?:{_NUMBER})\s?{_UNIT}(?![A-Za-z])(?:\s?(?:美元|美金|元|dollars(?![A-Za-z])))?
      | (?:{_NUMBER})\s?(?:美元|美金|元)
      | \d{{4}}\s?年 | \d{{1,2}}\s?(?:月份|月)
      | (?:{_NUMBER})
    )
    (?![A-Za-z0-9%])
    |
    \b{_MONTH}\.?\s\d{{1,2}}(?:,\s\d{{4}})?(?![0-9])                          # December 9, 2025
    """,
    re.X,
)
_NAME_BEFORE_RE = re.compile(r"[A-Z][A-Za-z]*\s$")


@dataclass(frozen=True)
class Subject:
    """What one side of a comparison is about, as resolved against the corpus."""

    text: str  # as the user typed it (cleaned)
    name: str  # what to call it: the glossary's canonical name, else the text
    entries: tuple[Entry, ...]  # glossary entries it names (exactly one for an entity subject)
    requirements: tuple[tuple[str, ...], ...]  # index terms: a passage has one of each group
    pattern: re.Pattern[str] | None  # phrase subjects: the words in order, over folded text

    @property
    def entity(self) -> Entry | None:
        """The glossary entry when the subject is exactly one (matched by concept term, any alias)."""
        return self.entries[0] if self.pattern is None and len(self.entries) == 1 else None

    @property
    def key(self) -> tuple:
        return (self.requirements, self.pattern.pattern if self.pattern else None)


@dataclass(frozen=True)
class Side:
    subject: Subject
    results: tuple[Result, ...]  # this page of the side's own passages (not mentioning the other subject)
    total: int  # results available on this side (same content in two languages counts once)
    mentions: int  # passages that mention the subject at all (before the aspect; including `both`)

    @property
    def found(self) -> bool:
        return self.mentions > 0


@dataclass(frozen=True)
class SourceCoverage:
    """The best passage of one document about the subject."""

    document: DocumentInfo
    result: Result
    mentions: int  # passages of this document that qualify


@dataclass(frozen=True)
class Comparison:
    a: Side
    b: Side | None
    aspect: str | None
    both: tuple[Result, ...] = ()
    both_total: int = 0
    by_source: tuple[SourceCoverage, ...] = ()
    sources_total: int = 0  # documents with a qualifying passage (one-subject mode)
    silent: tuple[DocumentInfo, ...] = ()  # documents without one (one-subject mode)
    suggestions: tuple[str, ...] = ()
    elapsed_ms: float = 0.0

    @property
    def sides(self) -> tuple[tuple[str, Side], ...]:
        return (("a", self.a),) if self.b is None else (("a", self.a), ("b", self.b))

    @property
    def missing(self) -> tuple[str, ...]:
        """Which sides ("a", "b") name something the corpus never mentions."""
        return tuple(label for label, side in self.sides if not side.found)

    @property
    def empty(self) -> bool:
        """Nothing to show: a side is missing, or no passage covers the aspect."""
        if self.missing:
            return True
        if self.b is None:
            return not self.sources_total
        return not (self.a.total or self.b.total or self.both_total)

    def message(self) -> str:
        """Why there is nothing to show (a missing subject, with suggestions; an aspect nothing covers); else ""."""
        missing = [side.subject.text for _, side in self.sides if not side.found]
        if missing:
            names = " and ".join(f"“{name}”" for name in missing)
            which = " and ".join(f"{label}" for label in self.missing)
            verb = "are" if len(missing) > 1 else "is"
            text = f"{names} ({which}) {verb} not mentioned in any document of the corpus, so there is nothing to "
            text += "compare." if self.b is not None else "show."
            if self.suggestions:
                text += " Subjects it does cover: " + ", ".join(self.suggestions) + "."
            return text
        if self.aspect and self.empty:
            names = " or ".join(f"“{side.subject.name}”" for _, side in self.sides)
            return f"No passage that mentions {names} is about “{self.aspect}”."
        return ""


@dataclass(frozen=True)
class SubjectChoice:
    name: str  # canonical
    kind: str
    aliases: tuple[str, ...]  # as written in the glossary
    keys: tuple[str, ...]  # folded canonical and aliases, for matching what a user types
    passages: int


@dataclass(frozen=True)
class SubjectCatalog:
    """The glossary entities the corpus mentions, most mentioned first: autocomplete and suggestions."""

    version: str
    choices: tuple[SubjectChoice, ...]

    def complete(self, typed: str, limit: int = 25, kinds: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """(label, value) pairs for what the user typed so far, in any script or language: exact names
        first, then names starting with it, then names with a word starting with it, then names containing it."""
        wanted = set(kinds) if kinds is not None else None
        key = fold(typed).strip()
        ranked: list[tuple[int, int, str, str]] = []
        for order, choice in enumerate(self.choices):
            if wanted is not None and choice.kind not in wanted:
                continue
            if not key:
                ranked.append((0, order, choice.name, choice.name))
                continue
            best: tuple[int, str] | None = None
            for alias, folded in zip((choice.name, *choice.aliases), choice.keys, strict=True):
                if folded == key:
                    rank = 0
                elif folded.startswith(key):
                    rank = 1
                elif any(word.startswith(key) for word in re.split(r"[\s\-·・]+", folded)):
                    rank = 2
                elif key in folded:
                    rank = 3
                else:
                    continue
                if best is None or rank < best[0]:
                    best = (rank, alias)
            if best is not None:
                rank, alias = best
                label = choice.name if fold(alias) == fold(choice.name) else f"{choice.name} · {alias}"
                ranked.append((rank, order, label, choice.name))
        ranked.sort()
        return [(label[:100], value[:100]) for _, _, label, value in ranked[:limit]]

    def closest(self, text: str, limit: int = 3) -> list[str]:
        """Names that look like `text` (a misspelling, another spelling), best first."""
        keys = {key: choice.name for choice in self.choices for key in choice.keys}
        names: list[str] = []
        for key in difflib.get_close_matches(fold(text).strip(), list(keys), n=limit * 4, cutoff=0.72):
            if keys[key] not in names:
                names.append(keys[key])
        return names[:limit]


def subject_catalog(engine: Engine) -> SubjectCatalog:
    """Every glossary entry the corpus mentions, by number of passages (computed once per corpus version)."""
    choices = []
    for entry in engine.glossary.entries:
        passages = engine.bm25.df(entry.term)
        if not passages:
            continue
        aliases = tuple(a for a in dict.fromkeys(entry.aliases) if a.strip())
        keys = tuple(fold(a).strip() for a in (entry.canonical, *aliases))
        choices.append(SubjectChoice(entry.canonical, entry.kind, aliases, keys, passages))
    choices.sort(key=lambda c: (-c.passages, c.name.lower()))
    return SubjectCatalog(engine.version, tuple(choices))


# -- subjects ----------------------------------------------------------------------------------------------


def resolve_subject(engine: Engine, text: str, label: str = "a") -> Subject:
    """Resolve what the user typed: a glossary entry by any alias, else a phrase of its own words."""
    cleaned = clean_question(text)
    if not cleaned:
        raise UserFacingError(f"Subject {label} is empty: name a company, product, person or term.")
    if len(cleaned) > MAX_SUBJECT_CHARS:
        raise UserFacingError(
            f"Subject {label} is {len(cleaned)} characters long; name it in under {MAX_SUBJECT_CHARS} "
            "(put what you want to know about it in aspect)."
        )
    entry = engine.glossary.lookup(cleaned)
    if entry is not None:
        return Subject(cleaned, entry.canonical, (entry,), ((entry.term,),), None)
    folded = fold(cleaned)
    mentions = engine.glossary.find_folded(folded)
    # Outermost mentions only ("gemini 3 pro", not the "gemini" inside it); one span may name several entries.
    spans: dict[tuple[int, int], list[Entry]] = {}
    for mention in mentions:
        inside = any(
            m.start <= mention.start and mention.end <= m.end and (m.end - m.start) > (mention.end - mention.start)
            for m in mentions
        )
        if not inside:
            spans.setdefault((mention.start, mention.end), [])
            if mention.entry not in spans[(mention.start, mention.end)]:
                spans[(mention.start, mention.end)].append(mention.entry)
    parts: list[str] = []
    requirements: list[tuple[str, ...]] = []
    entries: list[Entry] = []
    position = 0
    for (start, end), named in sorted(spans.items()):
        if start < position:
            continue
        _words(engine, folded[position:start], parts, requirements)
        aliases = sorted({fold(a).strip() for e in named for a in (*e.aliases, e.canonical)}, key=len, reverse=True)
        parts.append(_bounded("(?:" + "|".join(re.escape(a) for a in aliases if a) + ")", aliases))
        requirements.append(tuple(e.term for e in named))
        entries.extend(named)
        position = end
    _words(engine, folded[position:], parts, requirements)
    if not requirements:
        raise UserFacingError(f"I found no words to search for in subject {label} (“{cleaned}”).")
    pattern = re.compile(_SEPARATORS.join(parts))
    return Subject(cleaned, cleaned, tuple(dict.fromkeys(entries)), tuple(requirements), pattern)


def _words(engine: Engine, folded: str, parts: list[str], requirements: list[tuple[str, ...]]) -> None:
    """Regex parts and index-term requirements of the plain words of a phrase subject."""
    for word in _PIECE_RE.findall(folded):
        parts.append(_bounded(re.escape(word), [word]))
        terms = tuple(dict.fromkeys(engine.analyzer.terms(word)))
        if terms:  # stopwords stay in the phrase but need no index term
            requirements.append(terms)


def _bounded(pattern: str, alternatives: Sequence[str]) -> str:
    """Latin names match whole words only, and not as the start of a longer version name (as in the glossary)."""
    if any(a[:1].isascii() and a[:1].isalnum() for a in alternatives):
        pattern = r"(?<![a-z0-9])" + pattern
    if any(a[-1:].isascii() and a[-1:].isalnum() for a in alternatives):
        pattern += r"(?![a-z0-9]|[.\-][a-z0-9])"
    return pattern


def subject_query(subject: Subject) -> Query:
    """The subject as scoring concepts: one per requirement, its alternatives as full-weight expansions."""
    concepts = tuple(
        Concept(group[0], 0, 0, tuple((term, SUBJECT_WEIGHT) for term in group[1:])) for group in subject.requirements
    )
    return Query(subject.text, concepts)


def _salience(engine: Engine, subject: Subject) -> np.ndarray:
    """How much each passage is about the subject, 0..1: its mentions, saturating like BM25's term frequency
    (1 mention 0.4, 2 0.57, 3 0.67 with k1 = 1.5), averaged over the subject's required terms. No idf: every
    candidate mentions the subject, so only how often counts."""
    bm25 = engine.bm25
    k1 = bm25.params.k1
    total = np.zeros(bm25.n_docs, dtype=np.float64)
    for group in subject.requirements:
        best = np.zeros(bm25.n_docs, dtype=np.float64)
        for term in group:
            term_id = bm25.term_ids.get(term)
            if term_id is None:
                continue
            lo, hi = bm25.indptr[term_id], bm25.indptr[term_id + 1]
            ids, tf = bm25.doc_ids[lo:hi], bm25.tfs[lo:hi].astype(np.float64)
            best[ids] = np.maximum(best[ids], tf / (tf + k1))
        total += best
    return total / max(1, len(subject.requirements))


def subject_spans(engine: Engine, subject: Subject, text: str) -> list[tuple[int, int]]:
    """Where `text` (original) mentions the subject, as offsets into it."""
    if subject.pattern is None:
        wanted = {entry.term for entry in subject.entries}
        return [(m.start, m.end) for m in engine.glossary.find(text) if m.entry.term in wanted]
    folded, offsets = fold_with_offsets(text)
    return [
        (offsets[m.start()], offsets[m.end() - 1] + 1) for m in subject.pattern.finditer(folded) if m.end() > m.start()
    ]


def _mention_mask(engine: Engine, subject: Subject) -> np.ndarray:
    mask = np.ones(engine.bm25.n_docs, dtype=bool)
    for group in subject.requirements:
        mask &= engine.bm25.matching(group)
    if subject.pattern is not None:  # the index terms are a filter; the phrase itself must be there
        for pid in np.flatnonzero(mask):
            if not subject.pattern.search(fold(engine.passages[pid].text)):
                mask[pid] = False
    return mask


def _can_nest(engine: Engine, inner: Subject, outer: Subject) -> bool:
    """Whether a name of `inner` can be written inside a name of `outer` ("Gemini" inside "Gemini 3")."""
    names = [a for entry in outer.entries for a in (*entry.aliases, entry.canonical)] + [outer.text]
    return any(subject_spans(engine, inner, name) for name in names)


def _own(spans: Sequence[tuple[int, int]], other: Sequence[tuple[int, int]]) -> bool:
    """Some span is not inside a longer span of the other subject."""
    return any(
        not any(o_start <= start and end <= o_end and (o_end - o_start) > (end - start) for o_start, o_end in other)
        for start, end in spans
    )


# -- comparing ---------------------------------------------------------------------------------------------


def split_versus(a: str, b: str | None) -> tuple[str, str | None]:
    """`compare "OpenAI vs Google"` is `compare OpenAI Google`."""
    if b is not None and b.strip():
        return a, b
    parts = _VERSUS_RE.split(a.strip())
    if len(parts) == 2 and all(p.strip() for p in parts):
        return parts[0], parts[1]
    return a, None


def compare(
    engine: Engine,
    a: str,
    b: str | None = None,
    aspect: str | None = None,
    *,
    k: int = 5,
    offset: int = 0,
    source_k: int | None = None,
    source_offset: int = 0,
    excerpt_chars: int = EXCERPT_CHARS,
    catalog: SubjectCatalog | None = None,
) -> Comparison:
    """Compare `a` and `b` (each side `k` results from `offset`), or, without `b`, show how each document covers
    `a` (`source_k` documents from `source_offset`, all by default). Raises UserFacingError for unusable input."""
    started = time.perf_counter()
    a, b = split_versus(a, b)
    subject_a = resolve_subject(engine, a, "a")
    subject_b = resolve_subject(engine, b, "b") if b is not None and b.strip() else None
    if subject_b is not None and subject_a.key == subject_b.key:
        raise UserFacingError(
            f"a and b are the same subject ({subject_a.name}). Give two different subjects, or leave b empty "
            f"to see how each source covers {subject_a.name}."
        )
    aspect_text = clean_question(aspect or "") or None
    aspect_query = None
    if aspect_text is not None:
        if len(aspect_text) > MAX_ASPECT_CHARS:
            raise UserFacingError(
                f"The aspect is {len(aspect_text)} characters long; keep it under {MAX_ASPECT_CHARS}."
            )
        aspect_query = engine.analyze(aspect_text)
        if not aspect_query.concepts and not aspect_query.extra:
            raise UserFacingError(f"I found no words to search for in the aspect (“{aspect_text}”).")

    mask_a = _mention_mask(engine, subject_a)
    mask_b = _mention_mask(engine, subject_b) if subject_b is not None else np.zeros_like(mask_a)
    mentions_a, mentions_b = int(mask_a.sum()), int(mask_b.sum())
    if subject_b is not None and (mask_a & mask_b).any():
        nest_ab, nest_ba = _can_nest(engine, subject_a, subject_b), _can_nest(engine, subject_b, subject_a)
        if nest_ab or nest_ba:
            for pid in np.flatnonzero(mask_a & mask_b):
                text = engine.passages[pid].text
                spans_a, spans_b = subject_spans(engine, subject_a, text), subject_spans(engine, subject_b, text)
                if nest_ab and not _own(spans_a, spans_b):
                    mask_a[pid] = False
                elif nest_ba and not _own(spans_b, spans_a):
                    mask_b[pid] = False

    substance = np.sqrt(np.minimum(1.0, engine.bm25.doc_len / max(engine.bm25.avgdl, 1.0)))
    score = _salience(engine, subject_a) * mask_a
    if subject_b is not None:
        score = score + _salience(engine, subject_b) * mask_b
    coverage = np.ones(len(score), dtype=np.float64)
    if aspect_query is not None:
        candidates = np.flatnonzero(mask_a | mask_b)
        on_aspect = np.zeros(len(score), dtype=bool)
        aspect_score = engine.scores(aspect_query)
        if len(candidates):
            cover = engine.coverage(aspect_query, candidates.astype(np.int32))
            coverage[candidates] = cover
            on_aspect[candidates] = cover >= ABSTAIN_BELOW
            top = float(aspect_score[candidates].max())
            if top > 0:
                score = score + np.maximum(aspect_score, 0.0) / top
        mask_a, mask_b = mask_a & on_aspect, mask_b & on_aspect
    score = score * substance

    missing = (not mentions_a) or (subject_b is not None and not mentions_b)
    suggestions: tuple[str, ...] = ()
    if missing:
        absent = [s for s, n in ((subject_a, mentions_a), (subject_b, mentions_b)) if s is not None and not n]
        suggestions = suggest_subjects(engine, absent, catalog, exclude=[s.name for s in (subject_a, subject_b) if s])

    def section(mask: np.ndarray, subjects: Sequence[Subject], k: int, offset: int) -> tuple[tuple[Result, ...], int]:
        groups, total = _groups(engine, mask, score)
        query = _joined([*(subject_query(s) for s in subjects), *([aspect_query] if aspect_query else [])])
        page = groups[offset : offset + k]
        results = tuple(
            _result(engine, offset + i + 1, group, score, coverage, query, subjects, excerpt_chars)
            for i, group in enumerate(page)
        )
        return results, total

    if subject_b is None:
        results, total = section(mask_a, [subject_a], k, offset)
        side_a = Side(subject_a, results, total, mentions_a)
        by_source, sources_total, silent = _by_source(
            engine, mask_a, score, coverage, subject_a, aspect_query, source_k, source_offset, excerpt_chars
        )
        return Comparison(
            side_a, None, aspect_text, by_source=by_source, sources_total=sources_total, silent=silent,
            suggestions=suggestions, elapsed_ms=(time.perf_counter() - started) * 1000,
        )  # fmt: skip
    results_a, total_a = section(mask_a & ~mask_b, [subject_a], k, offset)
    results_b, total_b = section(mask_b & ~mask_a, [subject_b], k, offset)
    both, both_total = section(mask_a & mask_b, [subject_a, subject_b], k, offset)
    return Comparison(
        Side(subject_a, results_a, total_a, mentions_a),
        Side(subject_b, results_b, total_b, mentions_b),
        aspect_text,
        both,
        both_total,
        suggestions=suggestions,
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


def suggest_subjects(
    engine: Engine,
    absent: Sequence[Subject],
    catalog: SubjectCatalog | None = None,
    exclude: Sequence[str] = (),
    limit: int = 5,
) -> tuple[str, ...]:
    """Subjects the corpus covers, for a subject it does not: names spelled like it, glossary names inside it
    ("OpenAI's compute" -> OpenAI), then the most mentioned topics."""
    catalog = catalog if catalog is not None and catalog.version == engine.version else subject_catalog(engine)
    names: list[str] = []
    for subject in absent:
        names.extend(catalog.closest(subject.text))
        names.extend(e.canonical for e in subject.entries if engine.bm25.df(e.term))
    names.extend(engine.topics)
    chosen: list[str] = []
    for name in names:
        if name not in chosen and name not in exclude:
            chosen.append(name)
    return tuple(chosen[:limit])


def _joined(queries: Sequence[Query]) -> Query:
    concepts = tuple(c for q in queries for c in q.concepts)
    extra = tuple(e for q in queries for e in q.extra)
    return Query(" ".join(q.text for q in queries), concepts, extra)


def _groups(engine: Engine, mask: np.ndarray, score: np.ndarray) -> tuple[list[list[int]], int]:
    """Passages of `mask`, best first, results that say the same thing grouped (shown once, cited all), and how
    many results there are. Only the best MERGE_LIMIT passages are grouped (pages never reach further); the rest
    count one result each."""
    ids = np.flatnonzero(mask)
    if not len(ids):
        return [], 0
    ranked = [int(pid) for pid in ids[np.lexsort((ids, -score[ids]))]]
    groups = engine.merge_same_content(ranked[:MERGE_LIMIT])
    return groups, len(groups) + max(0, len(ranked) - MERGE_LIMIT)


def _result(
    engine: Engine,
    rank: int,
    group: Sequence[int],
    score: np.ndarray,
    coverage: np.ndarray,
    query: Query,
    subjects: Sequence[Subject],
    excerpt_chars: int,
) -> Result:
    passage = engine.passages[group[0]]
    citations: list[Citation] = []
    seen: set[tuple[str, int]] = set()
    for pid in group:
        for location in (engine.passages[pid].location, *engine.passages[pid].duplicates):
            if (location.doc_id, location.paragraph) not in seen:
                seen.add((location.doc_id, location.paragraph))
                citations.append(engine.citation(location))
    excerpt = _excerpt(engine, query, subjects, passage.text, excerpt_chars)
    pid = group[0]
    return Result(rank, passage, float(score[pid]), float(coverage[pid]), excerpt, tuple(citations))


def _excerpt(engine: Engine, query: Query, subjects: Sequence[Subject], text: str, max_chars: int) -> Excerpt:
    """The sentence(s) naming the subjects and the aspect's words, with those marked. Matches are weighted as
    in `Engine.excerpt` (by how telling each term is); a mention of a subject weighs like the rarest term, so
    the excerpt is about the subject."""
    wanted: dict[str, float] = {}
    for concept in query.concepts:
        wanted[concept.term] = max(wanted.get(concept.term, 0.0), engine.bm25.informativeness(concept.term))
        for term, factor in concept.expansions:
            wanted[term] = max(wanted.get(term, 0.0), factor * engine.bm25.informativeness(term))
    for term, factor in query.extra:
        wanted[term] = max(wanted.get(term, 0.0), factor * engine.bm25.informativeness(term))
    hits: dict[tuple[int, int], float] = {}
    for span in engine.analyzer.spans(text):
        if span.term in wanted and engine.bm25.df(span.term):
            hits[(span.start, span.end)] = wanted[span.term]
    for mention in engine.glossary.find(text):
        weight = wanted.get(mention.entry.term)
        if weight:
            hits[(mention.start, mention.end)] = max(hits.get((mention.start, mention.end), 0.0), weight)
    top = engine.bm25.max_informativeness
    for subject in subjects:
        for span in subject_spans(engine, subject, text):
            hits[span] = top
    return make_excerpt(text, hits, max_chars)


def _by_source(
    engine: Engine,
    mask: np.ndarray,
    score: np.ndarray,
    coverage: np.ndarray,
    subject: Subject,
    aspect_query: Query | None,
    k: int | None,
    offset: int,
    excerpt_chars: int,
) -> tuple[tuple[SourceCoverage, ...], int, tuple[DocumentInfo, ...]]:
    best: dict[str, int] = {}
    counts: dict[str, int] = {}
    for pid in np.flatnonzero(mask):
        doc_id = engine.passages[pid].doc_id
        counts[doc_id] = counts.get(doc_id, 0) + 1
        current = best.get(doc_id)
        if current is None or score[pid] > score[current]:
            best[doc_id] = int(pid)
    order = sorted(engine.documents.values(), key=lambda d: (d.date or "9999", d.title.lower(), d.doc_id))
    covered = [doc for doc in order if doc.doc_id in best]
    silent = tuple(doc for doc in order if doc.doc_id not in best)
    page = covered[offset : offset + k] if k is not None else covered[offset:]
    query = _joined([subject_query(subject), *([aspect_query] if aspect_query else [])])
    rows = tuple(
        SourceCoverage(
            doc,
            _result(engine, offset + i + 1, [best[doc.doc_id]], score, coverage, query, [subject], excerpt_chars),
            counts[doc.doc_id],
        )
        for i, doc in enumerate(page)
    )
    return rows, len(covered), silent


# -- figures -----------------------------------------------------------------------------------------------


def figure_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the figures in `text` (amounts, percentages, dates, numbers of two or more digits), for
    renderers to emphasise. Numbers that are parts of names are not figures: GPT-5.2, 4o, Q1, Gemini 3."""
    spans: list[tuple[int, int]] = []
    for match in _FIGURE_RE.finditer(text):
        start, end = match.span()
        found = match.group()
        if found.isdigit() and len(found) < 2:
            continue  # a lone digit: too common to be telling
        if re.fullmatch(r"\d{1,2}(?:\.\d+)?", found) and _NAME_BEFORE_RE.search(text, 0, start):
            continue  # a version after a capitalised name: "Gemini 30", "Opus 4.5"
        spans.append((start, end))
    return spans
