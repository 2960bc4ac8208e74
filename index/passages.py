"""Passages: paragraph-based units of retrieval with exact offsets into their source document.

A paragraph is a non-empty line. Noise lines (image placeholders, lone symbols, player timestamps, tip-jar and
platform footers) are dropped; short lines that recur before longer ones are speaker labels of a transcript and
are attached to the passage that follows rather than being passages of their own. Long paragraphs are split at
sentence ends into pieces of at most `max_chars` characters (a single longer sentence stays whole). Exact and
near-duplicate passages are collapsed afterwards (index/duplicates.py).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MAX_PASSAGE_CHARS = 480
# A paragraph this long without a sentence end is not prose (a dump, a log, a broken conversion): it is cut all
# the same, and its document is named in a warning.
LONG_PARAGRAPH_CHARS = 20_000
_SENTENCE_END = re.compile(r"[。！？!?.]")

log = logging.getLogger(__name__)

_IMAGE_RE = re.compile(r"^!\[[^\]]*\]\([^)]*\)$")
_SYMBOLS_RE = re.compile(r"^[\W_]+$")
_URL_ONLY_RE = re.compile(r"^(?:https?://|www\.)\S+$")
_FOOTER_MARKERS = (
    "扫一扫打赏",
    "掃一掃打賞",
    "特别声明：以上内容",
    "特別聲明：以上內容",
    "特别声明:以上内容",
    "特別聲明:以上內容",
    "notice: the content above",
    "仅提供信息存储服务",
    "僅提供信息存儲服務",
    "点击关注",
    "點擊關注",
    "长按二维码",
    "長按二維碼",
    "转载请注明",
    "轉載請注明",
    "all rights reserved",
)
# Sentence ends: Chinese full stops and marks, or an English . ! ? followed by space, a closing quote or the end.
_SENTENCE_END_RE = re.compile(r"(?:[。！？!?；;]+|\.(?=[\s\"”’)]|$)|…+)[\"”’」』)）\]]*\s*")
_LABEL_MAX_CHARS = 12
_HEADING_MAX_CHARS = 40


@dataclass(frozen=True, slots=True)
class Location:
    """Where a passage's text stands in a document."""

    doc_id: str
    paragraph: int
    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A unit of retrieval: verbatim text of one (piece of a) paragraph, with its citation coordinates."""

    pid: int
    doc_id: str
    paragraph: int
    start: int
    end: int
    text: str
    label: str | None = None
    duplicates: tuple[Location, ...] = field(default=())

    @property
    def location(self) -> Location:
        return Location(self.doc_id, self.paragraph, self.start, self.end)


def is_noise(line: str) -> bool:
    """True for lines that carry no content: placeholders, lone symbols, timestamps, footers, bare URLs."""
    if not line or _IMAGE_RE.match(line) or _SYMBOLS_RE.match(line) or _URL_ONLY_RE.match(line):
        return True
    lowered = line.lower()
    return any(marker in lowered for marker in _FOOTER_MARKERS)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences of text[start:end], covering it completely, each without trailing space."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    position = start
    for match in _SENTENCE_END_RE.finditer(text, start, end):
        if match.end() <= position:
            continue
        stop = match.end()
        while stop > position and text[stop - 1].isspace():
            stop -= 1
        if stop > position:
            spans.append((position, stop))
        position = match.end()
    if position < end:
        stop = end
        while stop > position and text[stop - 1].isspace():
            stop -= 1
        if stop > position:
            spans.append((position, stop))
    return spans


def _cap(text: str, spans: Sequence[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    """The spans, each longer than `max_chars` cut into pieces of at most `max_chars`: at the last white space in
    the second half of the allowance, else at exactly `max_chars` (text without spaces). A hard cap whatever the
    punctuation: a 10 MB line without a sentence end must not become one passage that every query scores."""
    capped: list[tuple[int, int]] = []
    for start, end in spans:
        while end - start > max_chars:
            limit = start + max_chars
            cut = text.rfind(" ", start + max_chars // 2, limit + 1)
            cut = cut if cut > start else limit
            capped.append((start, cut))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        if end > start:
            capped.append((start, end))
    return capped


def _pack(spans: Sequence[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    """Greedily join consecutive sentence spans into pieces of at most max_chars."""
    pieces: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for span in spans:
        if current is None:
            current = span
        elif span[1] - current[0] <= max_chars:
            current = (current[0], span[1])
        else:
            pieces.append(current)
            current = span
    if current is not None:
        pieces.append(current)
    return pieces


def _lines(text: str, start: int) -> Iterable[tuple[int, int]]:
    """Stripped (start, end) spans of the non-empty lines of text[start:]."""
    for match in re.finditer(r"[^\r\n]+", text[start:]):
        line_start, line_end = match.start() + start, match.end() + start
        while line_start < line_end and (text[line_start].isspace() or text[line_start] == "\ufeff"):
            line_start += 1
        while line_end > line_start and text[line_end - 1].isspace():
            line_end -= 1
        if line_end > line_start:
            yield line_start, line_end


def _speaker_labels(text: str, lines: Sequence[tuple[int, int]]) -> set[str]:
    """Short lines without sentence punctuation that recur, each time followed by a longer line."""
    counts: Counter[str] = Counter()
    for (a_start, a_end), (b_start, b_end) in itertools.pairwise(lines):
        line = text[a_start:a_end]
        if (
            len(line) <= _LABEL_MAX_CHARS
            and not re.search(r"[。！？!?,，.:：;；\"“”「」]", line)
            and b_end - b_start > 3 * len(line)
            and text.count("\n", a_end, b_start) == 1
        ):
            counts[line] += 1
    return {line for line, count in counts.items() if count >= 2}


def _content_lines(text: str, body_start: int) -> tuple[list[tuple[int, int]], set[str]]:
    """The spans of a document's lines that are not noise, and which of them are speaker labels."""
    lines = [span for span in _lines(text, body_start) if not is_noise(text[span[0] : span[1]])]
    return lines, _speaker_labels(text, lines)


def paragraph_starts(text: str, body_start: int = 0) -> list[int]:
    """Where each paragraph `split_document` numbers starts: paragraph n starts at offset ``result[n - 1]``."""
    lines, labels = _content_lines(text, body_start)
    return [start for start, end in lines if text[start:end] not in labels]


def split_document(doc_id: str, text: str, body_start: int = 0, max_chars: int = MAX_PASSAGE_CHARS) -> list[Passage]:
    """Passages of one document, in order, with pid = -1 (numbered when the corpus is assembled)."""
    lines, labels = _content_lines(text, body_start)
    passages: list[Passage] = []
    paragraph = 0
    label: str | None = None
    heading: tuple[int, int, int] | None = None  # (start, end, paragraph) of a heading awaiting its paragraph
    for line_start, line_end in lines:
        line = text[line_start:line_end]
        if line in labels:
            label = line
            continue
        paragraph += 1
        if line_end - line_start <= max_chars:
            pieces = [(line_start, line_end)]
        else:
            pieces = _pack(_cap(text, sentence_spans(text, line_start, line_end), max_chars), max_chars)
            if line_end - line_start >= LONG_PARAGRAPH_CHARS and not _SENTENCE_END.search(line):
                log.warning(
                    "%s: paragraph %d has %s characters and no sentence end; cut into %d passages",
                    doc_id,
                    paragraph,
                    f"{line_end - line_start:,}",
                    len(pieces),
                )
        if heading is not None:
            # A heading is read with the paragraph under it: alone it is a short, keyword-dense passage that
            # outranks the text that actually answers.
            if pieces[0][1] - heading[0] <= max_chars + _HEADING_MAX_CHARS and not _is_heading(line):
                pieces[0] = (heading[0], pieces[0][1])
            else:
                passages.append(Passage(-1, doc_id, heading[2], heading[0], heading[1], text[heading[0] : heading[1]]))
            heading = None
        if len(pieces) == 1 and _is_heading(line) and label is None:
            heading = (line_start, line_end, paragraph)
            continue
        for piece_start, piece_end in pieces:
            passages.append(Passage(-1, doc_id, paragraph, piece_start, piece_end, text[piece_start:piece_end], label))
        label = None
    if heading is not None:
        passages.append(Passage(-1, doc_id, heading[2], heading[0], heading[1], text[heading[0] : heading[1]]))
    return passages


def _is_heading(line: str) -> bool:
    """A short line that does not end like a sentence: a title or section heading."""
    return len(line) <= _HEADING_MAX_CHARS and not re.search(r"[。！？!?.…:：;；,，][)）\]\"”’」』]*$", line)
