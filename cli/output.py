"""What the terminal shows for an answer: `footnote ask`'s text (bold matched words on a terminal) and its JSON.

`footnote chat` prints with the same `render_answer_text`; README.md's "Terminal commands" table documents the
JSON fields, which other programs read, so a change here is a change of contract (tests/cli/test_cli.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.engine import Answer


def answer_to_json(answer: Answer) -> dict:
    return {
        "query": answer.query,
        "abstained": answer.abstained,
        "confidence": answer.confidence,
        "suggestions": list(answer.suggestions),
        "total": answer.total,
        "results": [
            {
                "rank": r.rank,
                "doc_id": r.citation.doc_id,
                "title": r.citation.title,
                "source": r.citation.source,
                "date": r.citation.date,
                "url": r.citation.url,
                "passage": r.passage.pid,
                "paragraph": r.passage.paragraph,
                "location": r.citation.location,
                "page": r.citation.page,
                "text": r.passage.text,
                "excerpt": r.excerpt.render("**"),
                "score": round(r.score, 6),
                "coverage": round(r.coverage, 3),
                "citations": [c.as_json() for c in r.citations],
            }
            for r in answer.results
        ],
    }


def render_answer_text(answer: Answer, color: bool) -> str:
    bold, reset = ("\033[1m", "\033[0m") if color else ("**", "**")
    if answer.abstained:
        lines = ["The corpus does not cover this question."]
        if answer.suggestions:
            lines.append("It does cover: " + ", ".join(answer.suggestions) + ".")
        return "\n".join(lines)
    lines = []
    if answer.confidence == "low":
        lines.append("Low confidence: these passages match only part of the question.\n")
    for result in answer.results:
        excerpt = "".join(f"{bold}{t}{reset}" if hit else t for t, hit in result.excerpt.segments)
        excerpt = ("…" if result.excerpt.clipped_start else "") + excerpt + ("…" if result.excerpt.clipped_end else "")
        lines.append(f"[{result.rank}] {excerpt}")
        for citation in result.citations:
            lines.append(f"    — {citation.label()}")
        lines.append("")
    return "\n".join(lines).rstrip()
