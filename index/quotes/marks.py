"""Quotation marks: where quoted spans open and close, and whether a span reads as a statement or a term.

A span is outermost (nested 『…』 in 「…」 and ‘…’ in “…” belong to it); `quote_spans` finds them in a paragraph,
`is_statement` tells a quotation from a scare-quoted term (the rules are in index/quotes/__init__.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from index.glossary import Glossary
from index.normalize import fold
from index.quotes.lexicon import _CLAUSE_PUNCT, _SENTENCE_END

# The longest quotation: a few paragraphs of speech. A mark that does not close within it is a typo.
MAX_QUOTE_CHARS = 4000

# -- quotation marks --------------------------------------------------------------------------------------

_PAIRS = {"“": "”", "「": "」", "『": "』", '"': '"', "‘": "’", "'": "'", "«": "»"}
_STYLE = {"“": "curly", "「": "corner", "『": "corner", '"': "straight", "‘": "single", "'": "single", "«": "guillemet"}
_CLOSERS = set(_PAIRS.values())
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")

# Terms: what may stand right before / after a quoted term inside the writer's own clause.
_TERM_BEFORE_CN = set("是为成叫作把从到对被像个种项的于在和与及或这那其之所谓")
_TERM_AFTER_CN = re.compile(r"^\s*(?:的|之|等|这|那|一词|二字|两字|状态|模式|信号|式|型|版|系列)")
_TERM_BEFORE_EN = re.compile(
    r"\b(?:a|an|the|its|his|her|their|our|my|your|this|these|those|that|called|named|dubbed|so-called|as|of|is|"
    r"are|was|were|be|been|being|into|from|to|and|or|for|with|by)\s*$",
    re.I,
)


@dataclass(frozen=True)
class _Span:
    open: int  # index of the opening mark
    close: int  # index of the closing mark (exclusive end = close + 1); len(text) when unclosed
    mark: str

    @property
    def inner(self) -> tuple[int, int]:
        return self.open + 1, self.close

    @property
    def end(self) -> int:
        return self.close + 1


def _same_length_fold(text: str) -> str:
    """Folded text with the same length as `text`, so offsets are shared (for matching only)."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded
    return "".join((fold(char) or char)[:1] for char in text)


def quote_spans(text: str, runs_on: bool = False, problems: list[str] | None = None) -> list[_Span]:
    """Outermost quoted spans of a paragraph. Nested spans (『…』 in 「…」, ‘…’ in “…”) belong to the outer one.

    A quotation may run over paragraphs: news leaves its closing mark out at the end of each paragraph but the
    last and opens every paragraph with a mark again. So an opening mark never closed counts, to the end of the
    paragraph, when the next paragraph opens with a mark (`runs_on`); any other unclosed mark is a typo (or a
    quotation that would run to the end of the document) and is ignored. A span longer than MAX_QUOTE_CHARS is
    no quotation either (an unbalanced mark would swallow the rest of a long paragraph). Both are noted in
    `problems`."""
    spans: list[_Span] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char not in _PAIRS or not _opens(text, position):
            position += 1
            continue
        close = _closing(text, position)
        if close is None:
            if runs_on and length - position <= MAX_QUOTE_CHARS:
                spans.append(_Span(position, length, char))
                break
            if problems is not None and char not in "'‘":  # a lone ’ or ' is an apostrophe more often than not
                reason = "runs for more than" if length - position > MAX_QUOTE_CHARS else "is not closed within"
                problems.append(f"a quotation mark {char} at character {position:,} {reason} its paragraph")
            position += 1
            continue
        spans.append(_Span(position, close, char))
        position = close + 1
    return spans


def _opens(text: str, position: int) -> bool:
    char = text[position]
    if char in "\"'‘":
        before = text[position - 1] if position else " "
        # A straight or single quote opens after space, punctuation or the start, not inside a word (it's).
        if before.isalnum():
            return False
        if char == "'":  # and a straight single quote only before a word ('The hype ...')
            return position + 1 < len(text) and text[position + 1].isalnum()
    return True


def _closing(text: str, position: int) -> int | None:
    """The closing mark of the quotation opened at `position`, within MAX_QUOTE_CHARS; None when there is none."""
    opener = text[position]
    closer = _PAIRS[opener]
    depth = 0
    for index in range(position + 1, min(len(text), position + MAX_QUOTE_CHARS)):
        char = text[index]
        if char == closer:
            if closer in "’'" and index + 1 < len(text) and text[index + 1].isalpha():
                continue  # an apostrophe (I’m), not the closing mark
            if closer == "'" and text[index - 1].isspace():
                continue
            if opener == closer or depth == 0:
                return index
            depth -= 1
        elif char == opener and opener != closer:
            depth += 1
        elif char == "\n" and opener in "\"'‘":
            return None
    return None


def _han(text: str) -> int:
    return len(_HAN_RE.findall(text))


def _words(text: str) -> int:
    return len(_WORD_RE.findall(text))


def _long_enough(text: str, han: int, words: int) -> bool:
    return _han(text) >= han or (not _han(text) and _words(text) >= words)


def is_statement(
    text: str,
    span: _Span,
    verbs: Sequence[tuple[int, int]],
    after_attributed: bool,
    glossary: Glossary | None = None,
    framed: bool = False,
) -> bool:
    """Whether the quoted span reads as a statement (a quotation) rather than a term (see the module doc).
    `verbs`: (start, end) of speech verbs outside quotation marks in `text`; `after_attributed`: a speaker is
    named right after the closing mark; a span that is exactly a glossary name or term is a term."""
    start, stop = span.inner
    inner = text[start:stop].strip()
    if not inner:
        return False
    if glossary is not None and glossary.lookup(inner.rstrip(" ,.;:!?。，！？；：…、")) is not None:
        return False
    core = inner.rstrip(" ,.;:!?。，！？；：…、")
    before = text[: span.open].rstrip()
    after = text[span.end :] if span.close < len(text) else ""
    if span.close >= len(text):  # a quotation running on from the paragraph before
        return _long_enough(inner, 6, 4)
    if framed and inner[-1] in ",，" and _long_enough(inner, 2, 2):
        return True  # “It is done,” the mayor said: the comma hands the words to a speech frame
    if re.search(r"[。！？；，：…]", core) or re.search(r"[,.!?;:](?=\s|[A-Z\u3400-\u9fff])", core):
        return True
    if _han(inner) >= 4 and inner[-1] in "。！？!?":
        return True
    if not _han(inner) and inner[-1] in "!?" and _words(inner) >= 2:
        return True
    glued = _han(inner) and _han(after[:1]) and _han(inner) < 6  # 「火眼」先進活動主任史東說: a name, then its noun
    if (
        after_attributed
        and not glued
        and (not before or before[-1] in _CLAUSE_PUNCT or before[-1] in _CLOSERS or before[-1] == ".")
    ):
        # Attributed right after and opening its own sentence or clause (“Holy shit,” he wrote).
        return _long_enough(inner, 2, 2)
    term_before = (before[-1:] in _TERM_BEFORE_CN) or bool(_TERM_BEFORE_EN.search(before))
    term_after = bool(_TERM_AFTER_CN.match(after)) or bool(re.match(r"^\s*[a-z]", after))
    if term_after:
        return False
    introduced = before.endswith((":", "：")) or any(
        end <= span.open
        and not re.search(r"[。！？!?“”「」\"]", text[end : span.open])
        and (before.endswith((",", "，")) or not text[end : span.open].strip())
        for _start, end in verbs
    )
    if introduced and not term_before:
        # Put right after the verb and closing the clause (表示「會持續投入」,): four Han characters are enough.
        attached = any(end == span.open for _start, end in verbs) and (
            not after.strip() or after.lstrip()[0] in _CLAUSE_PUNCT
        )
        return _long_enough(inner, 4 if attached else 6, 3)
    if before[-1:] in ("，", ",", "：", ":") and _han(inner) >= 10 and re.match(r"^\s*(?:[。！？!?]|$)", after):
        # A clause of its own closing the sentence (……，把人手調往核心業務，「整個團隊才能專心把事情做好……」。)
        return True
    standalone_before = not before or before[-1] in _SENTENCE_END or before[-1] in _CLOSERS or before[-1] == "."
    standalone_after = (
        not after.strip()
        or after.lstrip()[:1] in _SENTENCE_END
        or bool(re.match(r"^\s*(?:[A-Z\u3400-\u9fff]|$)", after))
    )
    return standalone_before and standalone_after and _long_enough(inner, 6, 4)


def _mask(folded: str, spans: Iterable[tuple[int, int]]) -> str:
    """Folded text with quoted spans blanked (NUL), so verbs and names inside quotations are not read as the
    writer's."""
    chars = list(folded)
    for start, end in spans:
        for index in range(start, min(end, len(chars))):
            chars[index] = "\x00"
    return "".join(chars)
