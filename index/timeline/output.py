"""The timeline as JSON and as terminal text."""

from __future__ import annotations

from index.dates import ResolvedDate
from index.engine import Citation
from index.timeline.model import EventReport, Timeline
from index.timeline.query import _window

# -- rendering -------------------------------------------------------------------------------------------


def _citation_json(report: EventReport, citation: Citation) -> dict:
    return {
        "doc_id": citation.doc_id,
        "title": citation.title,
        "source": citation.source,
        "date": citation.date,
        "paragraph": citation.paragraph,
        "location": citation.location,
        "passage": report.passage,
        "event_date": report.date.iso,
        "precision": report.date.precision,
        "expression": report.expression,
        "text": report.text,
    }


def to_json(result: Timeline) -> dict:
    """{"topic", "events": [{"date", "precision", "text", "doc_id", "passage", "citations", "conflict"}]}.
    Each citation is one report: where it is (doc_id, title, source, publication date, paragraph, passage) and
    what it says (event_date, precision, expression, text), so a conflict shows each source's date."""
    return {
        "topic": result.topic or None,
        "events": [
            {
                "date": event.date.iso,
                "precision": event.precision,
                "text": event.text,
                "doc_id": event.doc_id,
                "passage": event.passage,
                "citations": [
                    _citation_json(report, citation) for report in event.reports for citation in report.citations
                ],
                "conflict": event.conflict,
            }
            for event in result.events
        ],
    }


def date_label(value: ResolvedDate) -> str:
    """The date as shown to people: the ISO text, with "~" for an approximate one and the quarter named."""
    if value.precision == "quarter":
        return f"{value.start.year} Q{(value.start.month + 2) // 3}"
    if value.precision == "approximate":
        return f"~{value.iso}"
    return value.iso


def heading(result: Timeline) -> str:
    subject = f"Timeline: {result.topic}" if result.topic else "Timeline of the corpus"
    window = _window(result.start, result.end) if result.start or result.end else ""
    return f"{subject} {window}".strip()


def format_text(result: Timeline) -> str:
    """Plain terminal text: a heading, then numbered events, each with its citations (and, for a conflict, every
    source's date and sentence)."""
    count = len(result.events)
    lines = [f"{heading(result)} — {count} event{'s' if count != 1 else ''}"]
    if result.empty:
        lines.append(result.message)
        if result.suggestions:
            lines.append("Try: " + ", ".join(result.suggestions) + ".")
        return "\n".join(lines)
    for number, event in enumerate(result.events, 1):
        lines.append("")
        lines.append(f"[{number}] {date_label(event.date)} ({event.precision}) {event.text}")
        if event.conflict:
            dates = " vs ".join(date_label(d) for d in event.dates)
            lines.append(f"    ⚠ sources disagree on the date: {dates}")
            for report in event.reports:
                lines.append(f"    {date_label(report.date)}: {report.text}")
                lines.extend(f"        — {citation.label()}" for citation in report.citations)
        else:
            lines.extend(f"    — {citation.label()}" for citation in event.citations)
    return "\n".join(lines)
