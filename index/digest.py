"""The daily digest's content: new documents, passages per topic, "on this day" events, unanswered questions.

Pure: the caller supplies what only it knows (which documents are new for this server, which passages were
posted in the last 30 days, which questions went unanswered, the dated events). Every item is verbatim corpus
text with its citation, and has a key so the caller can remember what was posted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

from index.engine import Citation, Engine
from index.excerpt import Excerpt
from index.passages import sentence_spans

PASSAGES_PER_TOPIC = 2
DEFAULT_TOPICS = 3


@dataclass(frozen=True)
class DigestItem:
    key: str  # identity of what was posted ("passage:<doc>:<start>", "document:<doc>", "event:...", "gap:...")
    text: str  # verbatim corpus text (or, for a gap, the question as asked)
    citation: Citation | None = None
    excerpt: Excerpt | None = None
    note: str = ""  # e.g. the title and date of a new document, or how often a question was asked


@dataclass(frozen=True)
class DigestSection:
    kind: str  # "new_documents", "topic", "on_this_day", "gaps"
    title: str
    items: tuple[DigestItem, ...]
    note: str = ""  # said under the title (e.g. how many questions were asked where this channel cannot see)


@dataclass(frozen=True)
class Digest:
    day: str
    corpus_version: str
    sections: tuple[DigestSection, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not any(section.items or section.note for section in self.sections)

    @property
    def keys(self) -> list[str]:
        return [item.key for section in self.sections for item in section.items]


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def passage_key(doc_id: str, start: int) -> str:
    """A passage's identity across corpus versions: its document and where it starts."""
    return f"passage:{doc_id}:{start}"


def lead_sentence(engine: Engine, doc_id: str) -> tuple[str, Citation] | None:
    """The first sentence of a document's first passage, verbatim, with its citation."""
    for passage in engine.passages:
        if passage.doc_id == doc_id:
            start, end = (sentence_spans(passage.text) or [(0, len(passage.text))])[0]
            return passage.text[start:end], engine.citation(passage)
    return None


def build_digest(
    engine: Engine,
    *,
    day: date,
    topics: Sequence[str] = (),
    new_documents: Sequence[str] = (),
    posted_recently: Collection[str] = (),
    unanswered: Sequence[tuple[str, int]] = (),
    unanswered_elsewhere: int = 0,
    events_on: Callable[[date], Sequence[tuple[str, str, Citation]]] | None = None,
) -> Digest:
    """Assemble the digest of `day`. `topics`: subscribed topics (the corpus' main topics when empty);
    `unanswered`: (question, times asked) of public questions asked where the digest's readers could see them;
    `unanswered_elsewhere`: how many more were asked elsewhere (counted, never quoted); `events_on(day)`: (date,
    sentence, citation) of events on this month and day in any year."""
    sections: list[DigestSection] = []
    documents = []
    for doc_id in new_documents:
        info = engine.documents.get(doc_id)
        lead = lead_sentence(engine, doc_id)
        if info is None or lead is None:
            continue
        text, citation = lead
        note = " — ".join(part for part in (info.title, info.source, info.date) if part)
        documents.append(DigestItem(f"document:{doc_id}", text, citation, note=note))
    if documents:
        sections.append(DigestSection("new_documents", "New in the corpus", tuple(documents)))

    chosen = list(topics) or engine.topics[:DEFAULT_TOPICS]
    used: set[str] = set(posted_recently)
    for topic in chosen:
        items = []
        answer = engine.ask(topic, k=10) if topic.strip() else None
        for result in answer.results if answer and not answer.abstained else ():
            key = passage_key(result.passage.doc_id, result.passage.start)
            if key in used:
                continue
            used.add(key)
            items.append(DigestItem(key, result.passage.text, result.citation, result.excerpt))
            if len(items) == PASSAGES_PER_TOPIC:
                break
        if items:
            sections.append(DigestSection("topic", topic, tuple(items)))

    if events_on is not None:
        events = [
            DigestItem(f"event:{citation.doc_id}:{when}:{_short_hash(text)}", text, citation, note=when)
            for when, text, citation in events_on(day)
        ]
        if events:
            sections.append(DigestSection("on_this_day", f"On this day ({day:%B} {day.day})", tuple(events)))

    gaps = [DigestItem(f"gap:{question}", question, note=f"asked {count}×") for question, count in unanswered]
    note = ""
    if unanswered_elsewhere:
        noun = "question" if unanswered_elsewhere == 1 else "questions"
        note = f"{unanswered_elsewhere} more {noun} asked in other channels (counted here, not quoted)."
    if gaps or note:
        sections.append(DigestSection("gaps", "Questions the corpus could not answer", tuple(gaps), note))
    return Digest(day.isoformat(), engine.version, tuple(sections))


def digest_to_json(digest: Digest) -> dict:
    def item(entry: DigestItem) -> dict:
        citation = entry.citation
        return {
            "key": entry.key,
            "text": entry.text,
            "note": entry.note,
            "citation": None
            if citation is None
            else {
                "doc_id": citation.doc_id,
                "title": citation.title,
                "source": citation.source,
                "date": citation.date,
                "paragraph": citation.paragraph,
                "location": citation.location,
            },
        }

    return {
        "date": digest.day,
        "corpus_version": digest.corpus_version,
        "sections": [
            {"kind": s.kind, "title": s.title, "note": s.note, "items": [item(i) for i in s.items]}
            for s in digest.sections
        ],
    }


def format_digest_text(digest: Digest) -> str:
    if digest.empty:
        return f"Digest for {digest.day}: nothing new to report."
    lines = [f"Digest for {digest.day}"]
    for section in digest.sections:
        lines.append("")
        lines.append(f"## {section.title}")
        if section.note:
            lines.append(section.note)
        for number, entry in enumerate(section.items, 1):
            text = entry.excerpt.plain if entry.excerpt is not None else entry.text
            lines.append(f"[{number}] {text}")
            if entry.note:
                lines.append(f"    {entry.note}")
            if entry.citation is not None:
                lines.append(f"    — {entry.citation.label()}")
    return "\n".join(lines)
