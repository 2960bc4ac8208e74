"""Quotation and timeline quality against an annotated folder: `footnote eval --quotes` / `--timeline`.

Quotations (JSON lines). Two formats are read: the project's (``doc_id``, ``quote``, ``speaker``, optional
``kind``: ``quote`` or ``fragment``) and the foreign_dev one (``doc``: a file name, ``quote``, ``speaker``,
``kind``: ``speech``, ``fragment`` or ``term``). A statement (quote / speech) is scored; a fragment is not
scored either way (an extracted fragment is neither right nor wrong); a term is not a quotation, so extracting
one costs precision. A predicted quotation is correct when it is an annotated statement of the same document
(the same words: one contains the other and the shorter has at least half the length) with the annotated
speaker. The speaker is right when it is the same person under any alias the corpus gives (`AliasTable` over the
corpus and its glossary, plus an ``aliases.json`` beside the annotation, ``{"史東": ["Steve Stone"]}``) or by
lenient name matching ("Esper" = "Mark Esper"); "unattributed" is right only for a quotation left unattributed.
Precision = correct / extracted (in the annotated documents), recall = correct / annotated statements.

Timeline (JSON lines ``doc``/``doc_id``, ``date`` YYYY[-MM[-DD]], ``key``, optional ``relative``). An annotated
event is found when a report of that document has a sentence containing ``key`` and a date whose whole period
lies within the annotated one (2019-11-20 for "on Wednesday" written 2019-11-20; 2020-01/2020-06 for "the first
half of 2020" annotated 2020; not the week 2019-08-19/25 for a day annotated 2019-08-19). Recall is split into
absolute and relative dates. The reports of annotated documents that match no annotated event are listed, for a
look at precision (an annotation need not list every date).

Floors: `check_floors(report, minimums, maximums)` names each figure outside its bound; the CLI exits 1 then.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from index.aliases import AliasTable, Pairing
from index.dates import parse_range
from index.engine import Engine
from index.errors import UserFacingError
from index.normalize import fold

SCORED_KINDS = {"quote", "speech"}
NOT_SCORED_KINDS = {"fragment"}
NOT_QUOTATION_KINDS = {"term"}
UNATTRIBUTED = "unattributed"


def read_jsonl(path: Path, required: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file; each must have one field of every group in `required`."""
    if not path.is_file():
        raise UserFacingError(f"{path}: no such file")
    rows = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserFacingError(f"{path}:{line_no}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or not all(any(name in row for name in group) for group in required):
            wanted = ", ".join(" or ".join(group) for group in required)
            raise UserFacingError(f"{path}:{line_no}: each line needs {wanted}")
        rows.append(row)
    return rows


def _doc_resolver(engine: Engine) -> Any:
    """Annotation document names -> doc ids: the id itself, or a file name with its suffix or folders."""
    by_name: dict[str, str] = {}
    for doc_id, info in engine.documents.items():
        by_name[doc_id] = doc_id
        by_name.setdefault(Path(info.path).name, doc_id)
        by_name.setdefault(doc_id.rsplit("/", 1)[-1], doc_id)

    def resolve(name: str) -> str:
        return by_name.get(name) or by_name.get(name.rsplit(".", 1)[0]) or name

    return resolve


def _normalized(text: str) -> str:
    return re.sub(r"[\W_]+", "", fold(text))


def same_quote(a: str, b: str) -> bool:
    """The same quotation: one's words contain the other's, and the shorter has at least half the length."""
    x, y = _normalized(a), _normalized(b)
    if not x or not y:
        return False
    short, long = sorted((x, y), key=len)
    return short in long and len(short) >= 0.5 * len(long)


def annotation_aliases(path: Path) -> list[Pairing]:
    """Pairs from an ``aliases.json`` beside the annotation ({"史東": ["Steve Stone"]}), if there is one."""
    aliases = path.parent / "aliases.json"
    if not aliases.is_file():
        return []
    try:
        data = json.loads(aliases.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserFacingError(f"{aliases}: not JSON ({exc.msg})") from exc
    return [Pairing(str(name), str(other), "annotation") for name, others in data.items() for other in others]


class _Aliases:
    """The corpus' alias table and the annotation's own pairs, kept apart: the annotation is trusted as it is,
    while the corpus table drops a form it finds paired with two unlinked things."""

    def __init__(self, engine: Engine, annotation: Iterable[Pairing]) -> None:
        from index.quotes import corpus_aliases

        self.corpus = corpus_aliases(engine)
        self.annotation = AliasTable(annotation)

    def same(self, a: str, b: str) -> bool:
        if self.corpus.same(a, b) or self.annotation.same(a, b):
            return True
        # through both: the annotation's 史東 = Steve Stone, the corpus' Steve Stone = 史東 ...
        return any(self.corpus.same(form, b) for form in self.annotation.forms(a))


def _right_speaker(aliases: _Aliases, gold: str, speaker: str, written: str, attributed: bool) -> bool:
    if gold == UNATTRIBUTED:
        return not attributed
    if not attributed:
        return False
    return any(aliases.same(gold, name) for name in (speaker, written) if name)


def evaluate_quotes(engine: Engine, path: Path, quotes: Sequence[Any] | None = None) -> dict[str, Any]:
    """Precision and recall of quotation extraction plus attribution (see the module docstring)."""
    from index.quotes import extract_quotes

    rows = read_jsonl(path, (("doc_id", "doc"), ("quote",), ("speaker",)))
    resolve = _doc_resolver(engine)
    for row in rows:
        row["doc_id"] = resolve(str(row.get("doc_id") or row.get("doc")))
        row["kind"] = str(row.get("kind") or "quote")
    gold = [row for row in rows if row["kind"] in SCORED_KINDS]
    others = [row for row in rows if row["kind"] not in SCORED_KINDS]
    aliases = _Aliases(engine, annotation_aliases(path))
    docs = {row["doc_id"] for row in rows}
    predicted = [q for q in (quotes if quotes is not None else extract_quotes(engine)) if q.doc_id in docs]
    used: set[int] = set()
    correct = extracted = wrong = missing_speaker = named = 0
    errors: list[dict[str, Any]] = []
    for row in gold:
        match = next(
            (
                i
                for i, q in enumerate(predicted)
                if i not in used and q.doc_id == row["doc_id"] and same_quote(q.text, row["quote"])
            ),
            None,
        )
        where = {"doc": row["doc_id"], "quote": row["quote"][:80], "speaker": row["speaker"]}
        if match is None:
            errors.append({"error": "missed", **where})
            continue
        used.add(match)
        extracted += 1
        quote = predicted[match]
        named += quote.attributed
        if _right_speaker(aliases, row["speaker"], quote.speaker, quote.speaker_as_written, quote.attributed):
            correct += 1
        elif quote.attributed:
            wrong += 1
            errors.append({"error": "wrong speaker", **where, "got": quote.speaker})
        else:
            missing_speaker += 1
            errors.append({"error": "unattributed", **where})
    fragments = terms = fragments_right = 0
    for i, quote in enumerate(predicted):
        if i in used:
            continue
        other = next(
            (r for r in others if r["doc_id"] == quote.doc_id and same_quote(quote.text, r["quote"])),
            None,
        )
        if other is not None and other["kind"] in NOT_SCORED_KINDS:
            fragments += 1
            used.add(i)
            right = _right_speaker(aliases, other["speaker"], quote.speaker, quote.speaker_as_written, quote.attributed)
            fragments_right += right
            if not right:
                errors.append(
                    {
                        "error": "fragment (not scored), other speaker",
                        "doc": quote.doc_id,
                        "quote": quote.text[:80],
                        "speaker": other["speaker"],
                        "got": quote.speaker,
                    }
                )
            continue
        terms += other is not None
        kind = "a term, not a quotation" if other is not None else "not an annotated quotation"
        errors.append({"error": kind, "doc": quote.doc_id, "quote": quote.text[:80], "got": quote.speaker})
    n_pred = len(predicted) - fragments
    n_gold = len(gold)
    return {
        "file": str(path),
        "annotated": n_gold,
        "predicted": n_pred,
        "precision": _ratio(correct, n_pred),
        "recall": _ratio(correct, n_gold),
        "extraction_precision": _ratio(extracted, n_pred),
        "extraction_recall": _ratio(extracted, n_gold),
        "attribution_accuracy": _ratio(correct, extracted),
        "named_speaker_precision": _ratio(named - wrong, named),
        "correct": correct,
        "wrong_speaker": wrong,
        "unattributed_but_named": missing_speaker,
        "fragments_listed": fragments,
        "fragments_with_annotated_speaker": fragments_right,
        "terms_listed": terms,
        "errors": errors,
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def format_quotes(report: dict[str, Any]) -> str:
    lines = [
        f"{report['file']}",
        f"quotations: {report['annotated']} annotated statements, {report['predicted']} extracted "
        f"(+{report['fragments_listed']} annotated fragments, not scored; "
        f"{report['fragments_with_annotated_speaker']} of them with the annotated speaker)",
        f"extraction + attribution: precision {report['precision']}, recall {report['recall']}",
        f"extraction only:          precision {report['extraction_precision']}, recall {report['extraction_recall']}",
        f"attribution of extracted quotations: {report['attribution_accuracy']} correct; "
        f"{report['wrong_speaker']} wrong speaker, {report['unattributed_but_named']} left unattributed; "
        f"named-speaker precision {report['named_speaker_precision']}",
    ]
    for error in report["errors"]:
        got = f" (got {error['got']})" if "got" in error else ""
        want = f" [{error['speaker']}]" if "speaker" in error else ""
        lines.append(f"  {error['error']}: {error['doc']}: {error['quote']}{want}{got}")
    return "\n".join(lines)


# -- timeline -----------------------------------------------------------------------------------------------


def evaluate_timeline(engine: Engine, path: Path, index: Any | None = None) -> dict[str, Any]:
    """Recall of annotated dated events, absolute and relative, and the unannotated reports (module docstring)."""
    from index.timeline import build_index

    rows = read_jsonl(path, (("doc_id", "doc"), ("date",), ("key",)))
    resolve = _doc_resolver(engine)
    if index is None:
        index = build_index(engine)
    reports = [report for event in index.events for report in event.reports]
    by_doc: dict[str, list[Any]] = {}
    for report in reports:
        by_doc.setdefault(report.doc_id, []).append(report)
    found = {True: 0, False: 0}
    total = {True: 0, False: 0}
    misses: list[dict[str, Any]] = []
    matched: set[int] = set()
    for row in rows:
        doc_id = resolve(str(row.get("doc_id") or row.get("doc")))
        relative = bool(row.get("relative"))
        total[relative] += 1
        try:
            low, high = parse_range(str(row["date"]), str(row["date"]))
        except UserFacingError as exc:
            raise UserFacingError(f"{path}: bad date {row['date']!r} ({exc})") from exc
        assert low is not None and high is not None
        candidates = [r for r in by_doc.get(doc_id, ()) if row["key"] in r.text]
        hits = [r for r in candidates if low <= r.date.start and r.date.end <= high]
        if hits:
            found[relative] += 1
            matched.update(id(r) for r in hits)
        else:
            misses.append(
                {
                    "doc": doc_id,
                    "date": row["date"],
                    "relative": relative,
                    "key": row["key"][:80],
                    "got": [f"{r.date.iso} ({r.expression})" for r in candidates],
                }
            )
    docs = {resolve(str(row.get("doc_id") or row.get("doc"))) for row in rows}
    unannotated = [
        {"doc": r.doc_id, "date": r.date.iso, "expression": r.expression, "text": r.text[:100]}
        for r in reports
        if r.doc_id in docs and id(r) not in matched
    ]
    n = total[True] + total[False]
    return {
        "file": str(path),
        "annotated": n,
        "found": found[True] + found[False],
        "recall": _ratio(found[True] + found[False], n),
        "absolute_found": found[False],
        "absolute": total[False],
        "absolute_recall": _ratio(found[False], total[False]),
        "relative_found": found[True],
        "relative": total[True],
        "relative_recall": _ratio(found[True], total[True]),
        "reports_in_annotated_documents": sum(1 for r in reports if r.doc_id in docs),
        "unannotated_reports": len(unannotated),
        "misses": misses,
        "unannotated": unannotated,
    }


def format_timeline(report: dict[str, Any]) -> str:
    lines = [
        f"{report['file']}",
        f"events found: {report['found']}/{report['annotated']} (recall {report['recall']}); "
        f"absolute {report['absolute_found']}/{report['absolute']}, relative {report['relative_found']}/"
        f"{report['relative']}",
        f"reports in the annotated documents: {report['reports_in_annotated_documents']}, of which "
        f"{report['unannotated_reports']} match no annotated event (listed below, for a look at precision)",
    ]
    for miss in report["misses"]:
        kind = "relative" if miss["relative"] else "absolute"
        got = "; ".join(miss["got"]) or "no date in that sentence"
        lines.append(f"  missed ({kind}) {miss['doc']} {miss['date']}: {miss['key']} — got: {got}")
    for item in report["unannotated"]:
        lines.append(f"  not annotated: {item['doc']} {item['date']} ({item['expression']}): {item['text']}")
    return "\n".join(lines)


# -- floors -------------------------------------------------------------------------------------------------


def parse_bounds(values: Iterable[str] | None, flag: str) -> dict[str, float]:
    """``NAME=VALUE`` items (from --min / --max) as a dict; a malformed one is a UserFacingError."""
    bounds: dict[str, float] = {}
    for item in values or ():
        name, sep, value = item.partition("=")
        try:
            bounds[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise UserFacingError(f"{flag} takes NAME=NUMBER (e.g. {flag} recall=0.85), not {item!r}.")
    return bounds


def check_floors(report: Mapping[str, Any], minimums: Mapping[str, float], maximums: Mapping[str, float]) -> list[str]:
    """The figures of `report` outside their bounds, as messages (empty when every bound holds)."""
    failures: list[str] = []
    for bounds, below in ((minimums, True), (maximums, False)):
        for name, bound in bounds.items():
            if name not in report or not isinstance(report[name], int | float | None):
                raise UserFacingError(f"no figure called {name!r} in this report (figures: {_figure_names(report)})")
            value = report[name]
            if value is None or (value < bound if below else value > bound):
                failures.append(f"{name} = {value} is {'below' if below else 'above'} {bound:g}")
    return failures


def _figure_names(report: Mapping[str, Any]) -> str:
    return ", ".join(k for k, v in report.items() if isinstance(v, int | float) and not isinstance(v, bool))
