"""Small text helpers shared by the readers: whitespace, joining a line broken by layout, CJK-aware."""

from __future__ import annotations

import re

_SPACE_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000\r\f\v]+")


def is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x3000 <= code <= 0x303F  # CJK punctuation
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x2FA1F
    )


def squeeze(text: str) -> str:
    """Runs of spaces (any width) as one space, trimmed; newlines are kept."""
    return "\n".join(_SPACE_RE.sub(" ", line).strip() for line in text.split("\n")).strip("\n")


def join_pieces(text: str, separator: str = "\n") -> str:
    """A paragraph that layout (or markup) broke at `separator`, joined as `join_broken_line` joins two pieces."""
    pieces = text.split(separator)
    joined = pieces[0]
    for piece in pieces[1:]:
        joined = join_broken_line(joined, piece)
    return joined


def join_broken_line(before: str, after: str) -> str:
    """Join two pieces of one paragraph that layout broke apart: no space between CJK characters (Chinese is
    written without spaces), one space between words otherwise."""
    before, after = before.rstrip(), after.lstrip()
    if not before or not after:
        return before + after
    if is_cjk(before[-1]) or is_cjk(after[0]):
        return before + after
    return before + " " + after
