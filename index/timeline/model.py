"""What the timeline returns (events, reports, topic choices, the answer) and the index it builds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from index.bm25 import BM25Index
from index.dates import ResolvedDate
from index.engine import Citation
from index.normalize import fold

MIN_COVERAGE = 0.5
MAX_TOPIC_CHARS = 200
CHOICES_LIMIT = 25
CHOICE_NAME_LIMIT = 100
SUGGESTIONS = 3
NEAR_DUPLICATE = 0.6
_GLOSSARY_CREDIT = 1.0
_DICTIONARY_CREDIT = 0.8


@dataclass(frozen=True)
class EventReport:
    """One source's report of a dated event: its date, the verbatim sentence, and where it stands."""

    date: ResolvedDate
    expression: str
    text: str
    doc_id: str
    passage: int
    citation: Citation
    also: tuple[Citation, ...] = ()  # the same passage elsewhere (collapsed duplicates)
    relative: bool = False

    @property
    def citations(self) -> tuple[Citation, ...]:
        return (self.citation, *self.also)


@dataclass(frozen=True)
class TimelineEvent:
    """A dated event: the date, sentence and passage of its most precise report, and every report of it."""

    date: ResolvedDate
    text: str
    doc_id: str
    passage: int
    reports: tuple[EventReport, ...]
    conflict: bool = False

    @property
    def precision(self) -> str:
        return self.date.precision

    @property
    def citations(self) -> tuple[Citation, ...]:
        seen: dict[tuple[str, int], Citation] = {}
        for report in self.reports:
            for citation in report.citations:
                seen.setdefault((citation.doc_id, citation.paragraph), citation)
        return tuple(seen.values())

    @property
    def dates(self) -> tuple[ResolvedDate, ...]:
        """The distinct dates its reports give (several when the sources disagree)."""
        found: dict[str, ResolvedDate] = {}
        for report in self.reports:
            found.setdefault(report.date.iso, report.date)
        return tuple(found.values())


@dataclass(frozen=True)
class TopicChoice:
    name: str
    kind: str
    events: int
    aliases: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()  # folded name and aliases, for matching what the user types

    @property
    def label(self) -> str:
        count = f" ({self.events} event{'s' if self.events != 1 else ''})"
        return self.name[: CHOICE_NAME_LIMIT - len(count)] + count


@dataclass(frozen=True)
class Timeline:
    """The answer to a timeline request: events in chronological order, or why there are none."""

    topic: str
    start: date | None
    end: date | None
    events: tuple[TimelineEvent, ...]
    total: int  # events of the whole corpus timeline
    message: str = ""  # why the result is empty
    suggestions: tuple[str, ...] = ()
    elapsed_ms: float = 0.0

    @property
    def empty(self) -> bool:
        return not self.events


@dataclass
class _Report:
    """A report with what is needed to compare it with others."""

    report: EventReport
    order: tuple[str, str, int, int]  # publication date, document, passage, offset: the source order
    sentence_key: tuple[int, int]
    folded: str
    entities: frozenset[str]
    products: frozenset[str]
    actions: frozenset[str]
    figures: frozenset[str]
    shingles: frozenset[str]


@dataclass
class _Group:
    seed: _Report
    members: list[_Report] = field(default_factory=list)
    conflict: bool = False


@dataclass(frozen=True)
class TimelineIndex:
    """Every event of one corpus version, merged and sorted, with what topic filtering and autocomplete need."""

    version: str
    events: tuple[TimelineEvent, ...]
    choices: tuple[TopicChoice, ...]
    sentences: BM25Index  # one document per distinct event sentence
    event_sentences: tuple[tuple[int, ...], ...]  # sentence ids of each event
    reports: int = 0
    build_ms: float = 0.0

    def complete(self, typed: str, limit: int = CHOICES_LIMIT) -> list[tuple[str, str]]:
        """(label, value) autocomplete pairs for what the user typed, in any script: exact names first, then
        names starting with it, then names containing it; most events first within each."""
        key = fold(typed).strip()
        ranked: list[tuple[int, int, str, str]] = []
        for order, choice in enumerate(self.choices):
            if not key:
                ranked.append((0, order, choice.label, choice.name))
                continue
            ranks = [0 if k == key else 1 if k.startswith(key) else 2 if key in k else 3 for k in choice.keys]
            best = min(ranks, default=3)
            if best < 3:
                ranked.append((best, order, choice.label, choice.name))
        ranked.sort()
        return [(label[:CHOICE_NAME_LIMIT], value[:CHOICE_NAME_LIMIT]) for _, _, label, value in ranked[:limit]]

    def suggestions(self, exclude: str = "", limit: int = SUGGESTIONS) -> tuple[str, ...]:
        key = fold(exclude).strip()
        return tuple(c.name for c in self.choices if key not in c.keys)[:limit]
