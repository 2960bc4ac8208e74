"""Text folding for matching only: NFKC, traditional -> simplified, lower case.

What users see is always the original text; these functions exist so that 紅色警報, 红色警报 and
full-width ＧＰＴ all meet the same index terms. `fold` is the fast path used to index passages;
`fold_with_offsets` also returns, for every folded character, the offset of the original character it came
from, so matches found in folded text can be highlighted in the original.
"""

from __future__ import annotations

import functools
import unicodedata

import opencc

_T2S = opencc.OpenCC("t2s")


def _nfkc_lower(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def fold(text: str) -> str:
    """Fold text for matching: NFKC (full-width to half-width), traditional to simplified, lower case."""
    return _T2S.convert(_nfkc_lower(text))


@functools.lru_cache(maxsize=65536)
def _fold_char(char: str) -> str:
    return _T2S.convert(_nfkc_lower(char))


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Fold `text` and map each folded character back to the index of its source character.

    When folding keeps the length (the usual case) the map is the identity; otherwise (NFKC expanding a
    ligature, a phrase conversion changing length) the text is folded character by character so that every
    output character still points at the character it came from.
    """
    folded = fold(text)
    if len(folded) == len(text):
        return folded, list(range(len(text)))
    pieces: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        out = _fold_char(char)
        pieces.append(out)
        offsets.extend([index] * len(out))
    return "".join(pieces), offsets


def is_traditional(text: str) -> bool:
    """True when a meaningful share of the Han characters change under traditional -> simplified folding."""
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not han:
        return False
    sample = "".join(han[:4000])
    changed = sum(1 for a, b in zip(sample, _T2S.convert(sample), strict=False) if a != b)
    return changed / len(sample) > 0.04
