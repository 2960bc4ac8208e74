"""Merging: reports of the same event become one event with several citations; dates that cannot both be
true for strictly the same event make a conflict (the rules are in index/timeline/__init__.py)."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence

from index.dates import PRECISION_RANK
from index.timeline.model import NEAR_DUPLICATE, TimelineEvent, _Group, _Report
from index.timeline.reports import _REPORTING


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def similarity(a: _Report, b: _Report) -> float:
    """How surely two reports tell the same event (0: not the same); see the module docstring."""
    if a.sentence_key == b.sentence_key:
        return 0.0
    if a.figures and b.figures and not a.figures & b.figures:
        return 0.0
    if a.products and b.products and not a.products & b.products:
        return 0.0
    if _jaccard(a.shingles, b.shingles) >= NEAR_DUPLICATE:
        return 1.0
    if not (a.actions & b.actions) - {_REPORTING}:
        return 0.0
    if a.products and b.products and not a.products & b.products:
        return 0.0
    shared = a.entities & b.entities
    smaller = min(len(a.entities), len(b.entities))
    if not shared or len(shared) < min(2, smaller):
        return 0.0
    overlap = len(shared) / smaller
    return overlap if overlap >= 0.5 else 0.0


def contradicts(a: _Report, b: _Report) -> bool:
    """Strictly the same event from two documents, with dates that cannot both hold."""
    if a.report.doc_id == b.report.doc_id or a.report.date.overlaps(b.report.date):
        return False
    if "approximate" in (a.report.date.precision, b.report.date.precision):
        return False
    if (a.figures and b.figures and not a.figures & b.figures) or a.products != b.products:
        return False
    if _jaccard(a.shingles, b.shingles) >= NEAR_DUPLICATE:
        return True
    persons_a = {e for e in a.entities if e not in a.products}
    persons_b = {e for e in b.entities if e not in b.products}
    return (
        bool((a.actions & b.actions) - {_REPORTING})
        and ((a.products == b.products and bool(a.products)) or (not a.products and not b.products and bool(persons_a)))
        and len(a.entities & b.entities) >= 2
        and _jaccard(a.entities, b.entities) >= 0.5
        and not (a.figures and b.figures and not a.figures & b.figures)
        and (a.products or persons_a == persons_b)
    )


_SKETCH_MASKS = (0x5BD1E995, 0x2545F491, 0x9E3779B9, 0x7FEB352D)  # near-identical sentences share a min-hash
_PAIRED_ENTITIES = 8  # entity pairs are formed from at most this many entities of a report
_MAX_CANDIDATES = 300  # groups compared with one report at most
_SKETCH_BUCKET = 50  # groups filed under one min-hash at most


def _sketch(shingles: frozenset[str]) -> tuple[int, ...]:
    hashes = [zlib.crc32(shingle.encode()) for shingle in shingles] or [0]
    return tuple(min(h ^ mask for h in hashes) for mask in _SKETCH_MASKS)


def _keys(report: _Report) -> tuple[set[tuple], set[tuple]]:
    """(keys a report looks under, keys its group is filed under when it seeds one). Only groups sharing a key
    are compared, which keeps merging near-linear. similarity() needs a near-identical sentence (a shared
    min-hash) or shared entities: two when both name two or more (a shared pair of entities), else the one a
    single-entity report names, and a shared action. Merging needs overlapping dates (a shared year); a conflict
    needs the same products, or with none the same people."""
    date = report.report.date
    years = range(date.start.year, min(date.end.year, date.start.year + 10) + 1)
    entities = sorted(report.entities)
    actions = sorted(report.actions - {_REPORTING})
    sketch = {("sketch", i, value) for i, value in enumerate(_sketch(report.shingles))}
    if not entities or not actions:
        return sketch, sketch  # without a shared action or entity only a near-identical sentence is the same event
    pairs = {
        ("pair", a, b, act, year)
        for i, a in enumerate(entities[:_PAIRED_ENTITIES])
        for b in entities[i + 1 : _PAIRED_ENTITIES]
        for act in actions
        for year in years
    }
    singles = {("one", e, act, year) for e in entities for act in actions for year in years}
    anyone = {("any", e, act, year) for e in entities for act in actions for year in years}
    people = frozenset(e for e in entities if e not in report.products)
    same = {("same", report.products or people, act) for act in actions}
    if len(entities) == 1:
        look, files = anyone, singles | anyone
    else:
        look, files = pairs | singles, pairs | anyone
    return look | same | sketch, files | same | sketch


def _merge(reports: Sequence[_Report]) -> list[_Group]:
    """Group reports of the same event; the most precise report of a group is its seed."""
    order = sorted(reports, key=lambda r: (PRECISION_RANK[r.report.date.precision], r.report.date.span_days, r.order))
    groups: list[_Group] = []
    sentences: list[set[tuple[int, int]]] = []  # sentence keys of each group's members
    filed: dict[tuple, list[int]] = {}
    for report in order:
        look, files = _keys(report)
        best: tuple[float, int, bool] | None = None
        shared = Counter(g for key in look for g in filed.get(key, ()))
        # The groups sharing most keys are the likeliest; past _MAX_CANDIDATES (templated text) the rest wait.
        for number in sorted(g for g, _ in shared.most_common(_MAX_CANDIDATES)):
            group = groups[number]
            if report.sentence_key in sentences[number]:
                continue
            score = similarity(group.seed, report)
            if score <= 0 or (best is not None and score <= best[0]):
                continue
            if report.report.date.overlaps(group.seed.report.date):
                best = (score, number, False)
            elif contradicts(group.seed, report):
                best = (score, number, True)
        if best is None:
            for key in files:
                bucket = filed.setdefault(key, [])
                if key[0] != "sketch" or len(bucket) < _SKETCH_BUCKET:  # a min-hash of templated text: no signal
                    bucket.append(len(groups))
            groups.append(_Group(report, [report]))
            sentences.append({report.sentence_key})
            continue
        _, number, conflict = best
        group = groups[number]
        group.members.append(report)
        group.conflict = group.conflict or conflict
        sentences[number].add(report.sentence_key)
    return groups


def _event(group: _Group) -> TimelineEvent:
    seed = group.seed.report
    others = sorted(group.members[1:], key=lambda r: (r.report.date.start, r.order))
    reports = (seed, *(member.report for member in others))
    return TimelineEvent(seed.date, seed.text, seed.doc_id, seed.passage, reports, group.conflict)


def _event_key(event: TimelineEvent) -> tuple:
    seed = event.reports[0]
    return (event.date.start, PRECISION_RANK[event.date.precision], seed.citation.date, seed.doc_id, seed.passage)
