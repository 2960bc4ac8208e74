"""Querying a built timeline: events about a topic in a date range, why none, the digest's events of a day."""

from __future__ import annotations

import time
from datetime import date

import numpy as np

from index.dates import parse_range
from index.engine import Citation, Engine, clean_question
from index.errors import QuestionError
from index.glossary import CONCEPT_PREFIX
from index.timeline.build import build_index
from index.timeline.model import (
    _DICTIONARY_CREDIT,
    _GLOSSARY_CREDIT,
    MAX_TOPIC_CHARS,
    MIN_COVERAGE,
    Timeline,
    TimelineIndex,
)

# -- querying --------------------------------------------------------------------------------------------


def matching_events(engine: Engine, index: TimelineIndex, topic: str) -> list[int]:
    """Indexes of the events one of whose sentences covers at least half of the topic (idf-weighted)."""
    bm25 = index.sentences
    ids = np.arange(bm25.n_docs, dtype=np.int32)
    entry = engine.glossary.lookup(topic)
    if entry is not None:  # a name in any of its spellings: the events naming that entity
        named = set(np.flatnonzero(bm25.contains(entry.term, ids)).tolist())
        return [i for i, sentence_ids in enumerate(index.event_sentences) if named.intersection(sentence_ids)]
    query = engine.analyze(topic)
    if not query.concepts and not query.extra:
        raise QuestionError(f"I found no words to search for in the topic “{topic}”. Try a name, e.g. “Gemini”.")
    covered = np.zeros(len(ids))
    anchored = np.zeros(len(ids), dtype=bool)
    total = 0.0
    for concept in query.concepts:
        if not concept.unit:
            continue
        known = [t for t in (concept.term, *(e for e, _ in concept.expansions)) if bm25.df(t)]
        weight = max((bm25.informativeness(t) for t in known), default=bm25.max_informativeness)
        total += weight
        literal = bm25.contains(concept.term, ids)
        match = literal.astype(np.float64)
        anchored |= literal
        for term, factor in concept.expansions:
            present = bm25.contains(term, ids)
            if term.startswith(CONCEPT_PREFIX):
                anchored |= present
                match = np.maximum(match, _GLOSSARY_CREDIT * present)
            else:
                match = np.maximum(match, _DICTIONARY_CREDIT * min(1.0, factor / 0.5) * present)
        covered += weight * match
    for term, _factor in query.extra:
        weight = bm25.informativeness(term)
        total += weight
        present = bm25.contains(term, ids)
        anchored |= present
        covered += weight * present
    coverage = np.where(anchored, covered / total if total else 0.0, 0.0)
    good = set(np.flatnonzero(coverage >= MIN_COVERAGE).tolist())
    return [i for i, sentence_ids in enumerate(index.event_sentences) if good.intersection(sentence_ids)]


def timeline(
    engine: Engine,
    topic: str | None = None,
    start: date | None = None,
    end: date | None = None,
    *,
    index: TimelineIndex | None = None,
) -> Timeline:
    """The events about `topic` (all events without one) whose date lies in [start, end], oldest first."""
    began = time.perf_counter()
    if index is None or index.version != engine.version:
        index = build_index(engine)
    cleaned = clean_question(topic or "")
    if len(cleaned) > MAX_TOPIC_CHARS:
        raise QuestionError(f"The topic is {len(cleaned):,} characters long; please keep it under {MAX_TOPIC_CHARS}.")
    selected = list(range(len(index.events)))
    if cleaned:
        selected = matching_events(engine, index, cleaned)
    about = len(selected)
    events = tuple(
        index.events[i] for i in selected if any(report.date.within(start, end) for report in index.events[i].reports)
    )
    message, suggestions = "", ()
    if not events:
        message, suggestions = _why_empty(index, cleaned, start, end, about)
    return Timeline(
        cleaned,
        start,
        end,
        events,
        len(index.events),
        message,
        suggestions,
        (time.perf_counter() - began) * 1000,
    )


def _why_empty(
    index: TimelineIndex, topic: str, start: date | None, end: date | None, about: int
) -> tuple[str, tuple[str, ...]]:
    suggestions = index.suggestions(exclude=topic)
    if not index.events:
        return "The corpus has no dated events.", ()
    span = f"{index.events[0].date.iso} to {max(e.date.end for e in index.events).isoformat()}"
    window = _window(start, end)
    if topic and about == 0:
        return f"No dated events about “{topic}” in the corpus.", suggestions
    if topic:
        return (
            f"No dated events about “{topic}” {window}; it has {about} at other dates. The corpus' events run from "
            f"{span}.",
            suggestions,
        )
    return f"No dated events {window}. The corpus' events run from {span}.", suggestions


def _window(start: date | None, end: date | None) -> str:
    if start and end:
        return f"between {start.isoformat()} and {end.isoformat()}"
    if start:
        return f"from {start.isoformat()} on"
    return f"up to {end.isoformat()}" if end else "in the corpus"


def timeline_from_text(
    engine: Engine,
    topic: str | None = None,
    start: str | None = None,
    end: str | None = None,
    *,
    index: TimelineIndex | None = None,
) -> Timeline:
    """`timeline` with --from / --to as typed (YYYY, YYYY-MM or YYYY-MM-DD); DateBoundError for bad ones."""
    low, high = parse_range(start, end)
    return timeline(engine, topic, low, high, index=index)


def events_on(index: TimelineIndex, day: date) -> list[tuple[str, str, Citation]]:
    """(date, sentence, citation) of the day-precise events on this month and day in any year (the digest's
    "on this day")."""
    return [
        (event.date.iso, event.text, event.reports[0].citation)
        for event in index.events
        if event.precision == "day" and (event.date.start.month, event.date.start.day) == (day.month, day.day)
    ]
