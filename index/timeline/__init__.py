"""The corpus' dated events, in order, with citations.

`build_index(engine)` does the work once per corpus version (under 0.1 s for the seeds): every date
expression of every passage line (index.dates) becomes a report of an event, with the verbatim sentence around it.
Reports of the same event are merged into one event with several citations; when sources give the same event
dates that cannot both be true, the event is kept once, marked `conflict`, and shows every date with its citation.
`timeline(engine, topic, start, end, index=...)` then filters and is cheap. docs/timeline.md explains the rules.

Reference dates. Relative expressions of a document are resolved against its publication date (the catalog's
`date`); a dateline or "today is ..." in the text moves the reference for the rest of that document.

Same event. Two reports (of different sentences) are the same event when their sentences are near-identical, or
when they share an action (release, announce, join, leave, pause, fund, grow, sue, found...: a bilingual lexicon
of news verbs), share named things (glossary entities; at least two when both name two or more, and half of the
smaller set), do not name different products, and do not give different figures. A report joins the most similar
event whose date its own date overlaps. Otherwise, if it is strictly the same event (the same products, the same
action, most entities shared) from another document, with neither date approximate, it joins as a conflict.

Topics. Event sentences form a small BM25 index of their own (the engine's terms plus glossary concept terms),
so a topic in any language or script reaches its aliases ("Altman" finds 奥特曼); an event is kept when one of its
sentences covers at least half of the topic's words (idf-weighted; a glossary alias counts as the word).

Bad input. A date written like one but impossible (2月30日, Feb. 30, 0000年, 99999年) is left out, and so named,
with its document, in one warning per document; a paragraph of 20,000 characters or more without a sentence end
is read all the same and named too.

The package: `reports` (dated sentences and their features), `merge` (same event, conflicts), `build`
(`build_index`, topic choices), `query` (`timeline`, `events_on`), `output` (JSON and text), `model`.
"""

from index.timeline.build import build_index
from index.timeline.merge import contradicts, similarity
from index.timeline.model import (
    CHOICE_NAME_LIMIT,
    CHOICES_LIMIT,
    MAX_TOPIC_CHARS,
    EventReport,
    Timeline,
    TimelineEvent,
    TimelineIndex,
    TopicChoice,
)
from index.timeline.output import date_label, format_text, heading, to_json
from index.timeline.query import events_on, matching_events, timeline, timeline_from_text

__all__ = [
    "CHOICES_LIMIT",
    "CHOICE_NAME_LIMIT",
    "MAX_TOPIC_CHARS",
    "EventReport",
    "Timeline",
    "TimelineEvent",
    "TimelineIndex",
    "TopicChoice",
    "build_index",
    "contradicts",
    "date_label",
    "events_on",
    "format_text",
    "heading",
    "matching_events",
    "similarity",
    "timeline",
    "timeline_from_text",
    "to_json",
]
