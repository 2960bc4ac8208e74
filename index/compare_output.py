"""/compare's output: the JSON of `footnote compare --json` and the plain terminal text. The Discord rendering is
cogs/compare.py's; both show the corpus' text verbatim (the excerpt's emphasis is markup around it, never in it)."""

from __future__ import annotations

from index.compare import Comparison, Side
from index.engine import Result


def result_to_json(result: Result) -> dict:
    """One result in the shape of `footnote ask --json` results."""
    return {
        "rank": result.rank,
        "doc_id": result.citation.doc_id,
        "title": result.citation.title,
        "source": result.citation.source,
        "date": result.citation.date,
        "url": result.citation.url,
        "passage": result.passage.pid,
        "paragraph": result.passage.paragraph,
        "location": result.citation.location,
        "page": result.citation.page,
        "text": result.passage.text,
        "excerpt": result.excerpt.render("**"),
        "score": round(result.score, 6),
        "coverage": round(result.coverage, 3),
        "citations": [c.as_json() for c in result.citations],
    }


def _side_json(side: Side | None) -> dict | None:
    if side is None:
        return None
    subject = side.subject
    entity = subject.entity
    return {
        "subject": subject.name,
        "typed": subject.text,
        "entity": entity.id if entity else None,
        "found": side.found,
        "mentions": side.mentions,
        "total": side.total,
        "results": [result_to_json(r) for r in side.results],
    }


def to_json(comparison: Comparison) -> dict:
    """{"a": {"subject", "results", ...}, "b": {...} or null, "both": [...], "by_source": [...], ...}."""
    return {
        "a": _side_json(comparison.a),
        "b": _side_json(comparison.b),
        "aspect": comparison.aspect,
        "both": [result_to_json(r) for r in comparison.both],
        "both_total": comparison.both_total,
        "by_source": [{**result_to_json(row.result), "mentions": row.mentions} for row in comparison.by_source],
        "sources_total": comparison.sources_total,
        "silent": [
            {"doc_id": d.doc_id, "title": d.title, "source": d.source, "date": d.date} for d in comparison.silent
        ],
        "missing": list(comparison.missing),
        "suggestions": list(comparison.suggestions),
        "message": comparison.message(),
    }


def _text_block(label: str, result: Result) -> list[str]:
    lines = [f"[{label}] {result.excerpt.render('**')}"]
    lines.extend(f"    — {c.label()}" for c in result.citations)
    return lines


def format_text(comparison: Comparison) -> str:
    """Plain terminal text: numbered excerpts per section, each with its citations."""
    message = comparison.message()
    if comparison.missing:
        return message
    aspect = f" — on “{comparison.aspect}”" if comparison.aspect else ""
    lines: list[str] = []
    if comparison.b is None:
        subject = comparison.a.subject
        total = len(comparison.silent) + comparison.sources_total
        lines.append(f"How the sources cover {subject.name}{aspect}: {comparison.sources_total} of {total} documents")
        for row in comparison.by_source:
            doc = row.document
            lines.append("")
            lines.append(f"{doc.date or 'undated'} · {doc.title} ({doc.source or 'unknown source'}) — {row.mentions}")
            lines[-1] += " passage" if row.mentions == 1 else " passages"
            lines.extend(_text_block(str(row.result.rank), row.result))
        if comparison.silent:
            lines.append("")
            verb = f"about “{comparison.aspect}”" if comparison.aspect else "mentioning it"
            lines.append(
                f"No passage {verb} in: " + "; ".join(f"{d.title} ({d.date or 'undated'})" for d in comparison.silent)
            )
        return "\n".join(lines)
    a, b = comparison.a, comparison.b
    lines.append(f"{a.subject.name} vs {b.subject.name}{aspect}")
    sections = (
        ("a", a.subject.name, a.results, a.total, b.subject.name),
        ("b", b.subject.name, b.results, b.total, a.subject.name),
        ("ab", f"Both {a.subject.name} and {b.subject.name}", comparison.both, comparison.both_total, ""),
    )
    for prefix, title, results, total, other in sections:
        lines.append("")
        lines.append(f"== {title} ({total} {'result' if total == 1 else 'results'}) ==")
        if total and not results:
            lines.append("(no more)")
        elif not total and comparison.aspect:
            lines.append(f"(no passage {'without ' + other + ' ' if other else ''}is about “{comparison.aspect}”)")
        elif not total:
            lines.append(f"(every passage naming {title} also names {other}: see Both)" if other else "(none)")
        for result in results:
            lines.extend(_text_block(f"{prefix}{result.rank}", result))
    if message:
        lines.extend(["", message])
    return "\n".join(lines)
