"""`build_index`: reports, merged events, the events' sentence index and the topic choices, once per corpus
version."""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Sequence

from index.bm25 import BM25Index
from index.engine import Engine, passage_terms
from index.glossary import CONCEPT_PREFIX
from index.normalize import fold
from index.timeline.merge import _event, _event_key, _merge
from index.timeline.model import CHOICE_NAME_LIMIT, CHOICES_LIMIT, TimelineEvent, TimelineIndex, TopicChoice
from index.timeline.reports import _reports

log = logging.getLogger(__name__)

# -- building --------------------------------------------------------------------------------------------


def build_index(engine: Engine) -> TimelineIndex:
    """Extract, merge and sort every dated event of the engine's corpus (pure; call it once per version)."""
    started = time.perf_counter()
    reports = _reports(engine)
    groups = _merge(reports)
    events = sorted((_event(group) for group in groups), key=_event_key)
    sentence_ids: dict[tuple[int, int], int] = {}
    texts: list[str] = []
    event_sentences: list[tuple[int, ...]] = []
    key_of = {id(r.report): r.sentence_key for r in reports}
    for event in events:
        ids = []
        for report in event.reports:
            key = key_of[id(report)]
            if key not in sentence_ids:
                sentence_ids[key] = len(texts)
                texts.append(report.text)
            ids.append(sentence_ids[key])
        event_sentences.append(tuple(dict.fromkeys(ids)))
    sentences = BM25Index.build([passage_terms(engine.analyzer, engine.glossary, text) for text in texts])
    choices = _choices(engine, events)
    elapsed = (time.perf_counter() - started) * 1000
    log.info(
        "timeline: %d events from %d dated mentions, %d topics (%.0f ms)",
        len(events),
        len(reports),
        len(choices),
        elapsed,
    )
    return TimelineIndex(
        engine.version, tuple(events), tuple(choices), sentences, tuple(event_sentences), len(reports), elapsed
    )


def _choices(engine: Engine, events: Sequence[TimelineEvent]) -> list[TopicChoice]:
    """Topics for autocomplete and suggestions: the glossary entities named in most events, then (for a corpus
    without a glossary, or to fill the list) the words found in most event sentences."""
    counts: Counter[str] = Counter()
    for event in events:
        terms: set[str] = set()
        for report in event.reports:
            terms.update(engine.glossary.concept_terms(fold(report.text)))
        counts.update(terms)
    choices: list[TopicChoice] = []
    for term, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        entry = engine.glossary.by_id.get(term[len(CONCEPT_PREFIX) :])
        if entry is None:
            continue
        aliases = tuple(dict.fromkeys(a for a in (entry.canonical, *entry.aliases) if a.strip()))
        choices.append(
            TopicChoice(
                entry.canonical[:CHOICE_NAME_LIMIT], entry.kind, count, aliases, tuple(fold(a) for a in aliases)
            )
        )
    if len(choices) < CHOICES_LIMIT:
        choices.extend(_frequent_words(engine, events, {c.keys[0] for c in choices}, CHOICES_LIMIT - len(choices)))
    return choices


def _frequent_words(engine: Engine, events: Sequence[TimelineEvent], taken: set[str], limit: int) -> list[TopicChoice]:
    """Words (as written) found in at least two events: capitalised names and longer Chinese words first."""
    counts: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    for event in events:
        seen: set[str] = set()
        for report in event.reports:
            for span in engine.analyzer.spans(report.text):
                word = report.text[span.start : span.end]
                if (
                    len(word) < 2
                    or re.search(r"\d", word)
                    or engine.analyzer.is_stopword(span.term)
                    or (word.isascii() and not word[:1].isupper())
                ):
                    continue
                surface.setdefault(span.term, Counter())[word] += 1
                seen.add(span.term)
        counts.update(seen)
    words = []
    for term, count in sorted(counts.items(), key=lambda item: (-item[1], -len(item[0]), item[0])):
        if count < 2:
            break
        name = surface[term].most_common(1)[0][0][:CHOICE_NAME_LIMIT]
        if fold(name) in taken or len(words) >= limit:
            continue
        taken.add(fold(name))
        words.append(TopicChoice(name, "word", count, (name,), (fold(name),)))
    return words
