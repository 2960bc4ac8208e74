"""When two passages say the same thing: the language-independent markers /ask's result merging compares.

`figures` reads a text's amounts as values ("6.5 亿" and "650 million" are both 6.5e8), `char_shingles` and
`similar` measure near-identical wording. Engine.merge_same_content groups results with them; passages whose
numbers, dates or names differ are never grouped (index.duplicates.facts is the stricter check).
"""

from __future__ import annotations

import re

from index.normalize import fold

_FIGURE_RE = re.compile(
    r"(\d+(?:[.,]\d+)*)\s*(%|万亿|千亿|百亿|亿|千万|百万|万|trillion|billion|million|thousand|bn\b|tn\b)?"
)
_UNIT_VALUE = {
    "万": 1e4, "百万": 1e6, "千万": 1e7, "亿": 1e8, "百亿": 1e10, "千亿": 1e11, "万亿": 1e12,
    "thousand": 1e3, "million": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12, "tn": 1e12,
}  # fmt: skip


def figures(folded: str) -> set[str]:
    """The figures of a folded text as language-independent values: "6.5 亿" and "650 million" are both
    6.5e8, "1.4 万亿" and "1.4 trillion" both 1.4e12; percentages keep their sign; one-digit numbers are
    too common to tell texts apart and are left out."""
    found: set[str] = set()
    for match in _FIGURE_RE.finditer(folded):
        digits, unit = match.group(1).replace(",", ""), match.group(2)
        if unit is None and len(digits) < 2:
            continue
        try:
            value = float(digits)
        except ValueError:
            continue
        if unit == "%":
            found.add(f"{value:g}%")
        else:
            found.add(f"{value * _UNIT_VALUE.get(unit or '', 1):.4g}")
    return found


def char_shingles(text: str, size: int = 3) -> set[str]:
    key = re.sub(r"[\W_]+", "", fold(text))
    return {key[i : i + size] for i in range(max(1, len(key) - size + 1))}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def similar(a: set[str], b: set[str], threshold: float) -> bool:
    """Jaccard(a, b) >= threshold, without the set operations when the sizes alone rule it out (the Jaccard of
    two sets is at most the smaller size over the larger)."""
    small, large = sorted((len(a), len(b)))
    return bool(large) and small >= threshold * large and jaccard(a, b) >= threshold
