"""The searchable quotations of one corpus version: speakers (any alias, any script), BM25 over the sentences
around each quotation, autocomplete, and the JSON / terminal output of a search."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from index.aliases import AliasTable, strip_honorifics
from index.bm25 import BM25Index
from index.engine import Citation, Engine, clean_question
from index.errors import QuestionError, UserFacingError
from index.normalize import fold
from index.quotes.extraction import corpus_aliases, extract_quotes
from index.quotes.marks import _han
from index.quotes.model import UNATTRIBUTED, Quote, QuoteHit, QuoteResult, SpeakerCount

log = logging.getLogger(__name__)

MAX_TOPIC_CHARS = 300
MAX_SPEAKER_CHARS = 100

# -- the searchable index ---------------------------------------------------------------------------------


class QuoteIndex:
    """The quotations of one corpus version, their speakers, and a small BM25 index over their sentences.
    Build it once per engine (`QuoteIndex.build`, a fraction of a second for the seeds) and reuse it."""

    def __init__(self, engine: Engine, quotes: Sequence[Quote], aliases: AliasTable | None = None) -> None:
        self.engine = engine
        self.version = engine.version
        self.aliases = aliases if aliases is not None else corpus_aliases(engine)
        self.quotes: tuple[Quote, ...] = tuple(quotes)
        counts = Counter(q.speaker for q in self.quotes if q.attributed)
        written: dict[str, dict[str, None]] = {}
        ids: dict[str, str] = {}
        for quote in self.quotes:
            if quote.attributed:
                written.setdefault(quote.speaker, {})[quote.speaker_as_written] = None
                ids.setdefault(quote.speaker, quote.speaker_id)
        self.speakers: tuple[SpeakerCount, ...] = tuple(
            SpeakerCount(name, count, ids[name], tuple(written[name]))
            for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))
        )
        self.unattributed = sum(not q.attributed for q in self.quotes)
        self._by_key: dict[str, str] = {}
        for speaker in self.speakers:
            keys = {speaker.name, *speaker.written}
            entry = engine.glossary.by_id.get(speaker.entry_id) if speaker.entry_id else None
            if entry is not None:
                keys.update(entry.aliases)
            keys.update(self.aliases.forms(speaker.name))  # 史東 for Steve Stone: the corpus' own pairing
            for key in keys:
                self._by_key.setdefault(_speaker_key(key), speaker.name)
        analyzer, glossary = engine.analyzer, engine.glossary
        self.bm25 = BM25Index.build(
            [analyzer.terms(q.context) + glossary.concept_terms(fold(q.context)) for q in self.quotes]
        )

    @classmethod
    def build(cls, engine: Engine) -> QuoteIndex:
        aliases = corpus_aliases(engine)
        quotes = extract_quotes(engine, aliases)
        log.info("quotations: %d (%d attributed)", len(quotes), sum(q.attributed for q in quotes))
        return cls(engine, quotes, aliases)

    # -- speakers -------------------------------------------------------------------------------------

    def known_speakers(self, limit: int | None = None) -> str:
        """ "Sam Altman (11), 雷总 (10), ..." for messages."""
        names = [f"{s.name} ({s.count})" for s in self.speakers[:limit]]
        if limit is not None and len(self.speakers) > limit:
            names.append(f"and {len(self.speakers) - limit} more")
        return ", ".join(names) if names else "none"

    def resolve_speaker(self, name: str) -> str:
        """The canonical speaker for any alias, script or spelling of a known speaker's name, with titles and
        roles left out (OpenAI CEO Sam Altman, 奧爾特曼, altman -> Sam Altman); "unattributed" for the
        quotations without a speaker. Raises UserFacingError naming the known speakers otherwise."""
        cleaned = clean_question(name)[:MAX_SPEAKER_CHARS]
        if not cleaned:
            raise UserFacingError(f"Which speaker? Known speakers: {self.known_speakers(20)}.")
        if _speaker_key(cleaned) == UNATTRIBUTED:
            return UNATTRIBUTED
        bare = strip_honorifics(cleaned)  # Mr. Cook, 任先生
        found = (
            self._by_key.get(_speaker_key(cleaned))
            or self._by_key.get(_speaker_key(bare))
            or self._partial_speaker(bare)
            or self._same_person(cleaned)
        )
        if found:
            return found
        glossary = self.engine.glossary
        entry = glossary.lookup(cleaned)
        if entry is None:
            # A name with a title or role (OpenAI CEO Sam Altman): the one person it names, else the one org.
            named = {m.entry.id: m.entry for m in glossary.find(cleaned) if m.entry.kind in ("person", "org")}
            people = [e for e in named.values() if e.kind == "person"]
            if len(people) == 1:
                entry = people[0]
            elif len(named) == 1:
                entry = next(iter(named.values()))
        if entry is not None:
            if entry.canonical in {s.name for s in self.speakers}:
                return entry.canonical
            raise UserFacingError(
                f"The corpus quotes no words of {entry.canonical}. Known speakers: {self.known_speakers(20)}."
            )
        raise UserFacingError(f"No speaker called “{cleaned}”. Known speakers: {self.known_speakers(20)}.")

    def _partial_speaker(self, name: str) -> str | None:
        """The one known speaker a part of a name points to: a whole word of a Latin name (Nick -> Nick Turley),
        or two or more Han characters of a Chinese one (奥尔 -> Sam Altman)."""
        key = _speaker_key(name)
        if _han(key) >= 2:
            matches = {speaker for alias, speaker in self._by_key.items() if key in alias}
        elif re.fullmatch(r"[a-z0-9]{2,}", key):
            matches = {
                speaker.name
                for speaker in self.speakers
                if key
                in {fold(word) for form in (speaker.name, *speaker.written) for word in re.split(r"[\s·.\-]+", form)}
            }
        else:
            return None
        return next(iter(matches)) if len(matches) == 1 else None

    def _same_person(self, name: str) -> str | None:
        """The one known speaker a name leniently matches (a surname with an honorific, another form the
        corpus pairs with it)."""
        matches = {s.name for s in self.speakers if self.aliases.same(name, s.name)}
        return next(iter(matches)) if len(matches) == 1 else None

    def autocomplete(self, partial: str, limit: int = 25) -> list[tuple[str, str]]:
        """(label, value) choices for a speaker option: known speakers whose name or any alias contains what
        was typed, most quoted first. Labels are at most 100 characters."""
        key = _speaker_key(partial)
        choices: list[tuple[str, str]] = []
        for speaker in self.speakers:
            keys = [k for k, v in self._by_key.items() if v == speaker.name]
            if key and not any(key in k for k in keys):
                continue
            noun = "quotation" if speaker.count == 1 else "quotations"
            label = f"{speaker.name} ({speaker.count} {noun})"
            choices.append((label[:100], speaker.name[:100]))
            if len(choices) >= limit:
                break
        return choices

    # -- search ---------------------------------------------------------------------------------------

    def search(
        self, topic: str | None = None, speaker: str | None = None, limit: int | None = None, offset: int = 0
    ) -> QuoteResult:
        """Quotations by `speaker` (any alias) about `topic` (ranked by BM25), or all of a speaker's in document
        order, or everyone's on a topic. At least one of the two is needed."""
        topic = clean_question(topic or "")[:MAX_TOPIC_CHARS] or None
        speaker_text = (speaker or "").strip() or None
        if topic is None and speaker_text is None:
            raise QuestionError("Give a speaker, a topic, or both, e.g. speaker “Sam Altman”, topic “code red”.")
        canonical = self.resolve_speaker(speaker_text) if speaker_text is not None else None
        pool = [i for i, q in enumerate(self.quotes) if canonical is None or q.speaker == canonical]
        scores = np.zeros(len(self.quotes))
        if topic is not None:
            query = self.engine.analyze(topic)
            if not query.concepts and not query.extra:
                raise QuestionError("I found no words to search for in that topic. Try a word or a name.")
            scores, matched = self._scores(query)
            pool = [i for i in pool if matched[i]]
            pool.sort(key=lambda i: (-scores[i], i))
        message = ""
        if not pool:
            who = f" by {canonical}" if canonical else ""
            about = f" about “{topic}”" if topic else ""
            message = f"No quotations{who}{about}."
            if canonical and topic:
                message += f" {canonical} is quoted {self._count(canonical)} times; try without a topic."
        page = pool[offset : offset + limit] if limit is not None else pool[offset:]
        hits = tuple(
            QuoteHit(offset + rank + 1, self.quotes[i], self._citations(self.quotes[i]), round(float(scores[i]), 6))
            for rank, i in enumerate(page)
        )
        return QuoteResult(canonical, topic, hits, len(pool), message)

    def _count(self, canonical: str) -> int:
        return next((s.count for s in self.speakers if s.name == canonical), 0)

    def _scores(self, query: Any) -> tuple[np.ndarray, np.ndarray]:
        """BM25 over quotation sentences, each question concept scored by the best of its literal term and its
        weighted expansions (as Engine.scores does over passages)."""
        bm25 = self.bm25
        scores = np.zeros(bm25.n_docs, dtype=np.float64)
        matched = np.zeros(bm25.n_docs, dtype=bool)
        for concept in query.concepts:
            best = np.zeros(bm25.n_docs, dtype=np.float64)
            ids, weights = bm25.postings(concept.term)
            best[ids] = weights
            if concept.unit:
                matched[ids] = True
            for term, factor in concept.expansions:
                e_ids, e_weights = bm25.postings(term)
                best[e_ids] = np.maximum(best[e_ids], factor * e_weights)
                if concept.unit and term.startswith("@"):
                    matched[e_ids] = True
            scores += best
        for term, factor in query.extra:
            ids, weights = bm25.postings(term)
            scores[ids] += factor * weights
            matched[ids] = True
        return scores, matched

    def _citations(self, quote: Quote) -> tuple[Citation, ...]:
        passage = self.engine.passages[quote.pid]
        citations = [self.engine.citation(passage)]
        for location in passage.duplicates:
            citation = self.engine.citation(location)
            if citation not in citations:
                citations.append(citation)
        return tuple(citations)


def _speaker_key(name: str) -> str:
    return re.sub(r"[\s·・.\-_'’]+", "", fold(name))


def find_quotes(
    engine: Engine, topic: str | None = None, speaker: str | None = None, index: QuoteIndex | None = None
) -> QuoteResult:
    """One-shot search (the CLI): builds the index unless one for this engine version is given."""
    if index is None or index.version != engine.version:
        index = QuoteIndex.build(engine)
    return index.search(topic=topic, speaker=speaker)


# -- output -----------------------------------------------------------------------------------------------


def to_json(result: QuoteResult) -> dict[str, Any]:
    """{"speaker", "topic", "quotes": [{"quote", "speaker", "speaker_as_written", "doc_id", "passage", "context"}]}"""
    return {
        "speaker": result.speaker,
        "topic": result.topic,
        "quotes": [
            {
                "quote": hit.quote.text,
                "speaker": hit.quote.speaker,
                "speaker_as_written": hit.quote.speaker_as_written,
                "doc_id": hit.quote.doc_id,
                "passage": hit.quote.pid,
                "context": hit.quote.context,
            }
            for hit in result.hits
        ],
    }


def speaker_line(quote: Quote) -> str:
    """ "Sam Altman (as 奧爾特曼)" / "unattributed"."""
    if not quote.attributed:
        return UNATTRIBUTED
    if quote.speaker_as_written and _speaker_key(quote.speaker_as_written) != _speaker_key(quote.speaker):
        return f"{quote.speaker} (as {quote.speaker_as_written})"
    return quote.speaker


def format_text(result: QuoteResult) -> str:
    """Plain terminal text: numbered quotations, each with its speaker, sentence and citation."""
    if not result.hits:
        return result.message or "No quotations."
    about = []
    if result.speaker:
        about.append(f"by {result.speaker}")
    if result.topic:
        about.append(f"about “{result.topic}”")
    noun = "quotation" if result.total == 1 else "quotations"
    lines = [f"{result.total} {noun} {' '.join(about)}".rstrip(), ""]
    for hit in result.hits:
        quote = hit.quote
        lines.append(f"[{hit.rank}] {quote.text}")
        lines.append(f"    — {speaker_line(quote)}")
        if quote.context != quote.text:
            lines.append(f"    in: {quote.context}")
        for citation in hit.citations:
            lines.append(f"    {citation.label()}")
        lines.append("")
    return "\n".join(lines).rstrip()
