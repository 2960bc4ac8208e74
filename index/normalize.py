"""Text folding for matching only: NFKC, traditional -> simplified, lower case.

What users see is always the original text; these functions exist so that 紅色警報, 红色警报 and
full-width ＧＰＴ all meet the same index terms. `fold` is the fast path used to index passages;
`fold_with_offsets` also returns, for every folded character, the offset of the original character it came
from, so matches found in folded text can be highlighted in the original.
"""

from __future__ import annotations

import functools
import re
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


HAN_RUN = re.compile("[\u4e00-\u9fff]+")  # the basic CJK block: what language inference counts


def han_count(text: str) -> int:
    """How many characters of the basic CJK block `text` holds (a regex over runs: a corpus build counts every
    document's, and a Python test per character cost seconds at 100k passages)."""
    return sum(map(len, HAN_RUN.findall(text)))


def is_traditional(text: str) -> bool:
    """True when a meaningful share of the Han characters change under traditional -> simplified folding."""
    runs: list[str] = []
    taken = 0
    for run in HAN_RUN.finditer(text):  # the first 4,000 Han characters, without visiting the rest
        runs.append(run.group())
        taken += len(runs[-1])
        if taken >= 4000:
            break
    if not runs:
        return False
    sample = "".join(runs)[:4000]
    changed = sum(map(str.__ne__, sample, _T2S.convert(sample)))  # pairwise, to the shorter's end
    return changed / len(sample) > 0.04
