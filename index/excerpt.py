"""Excerpts: the best-matching sentence(s) of a passage, bounded in length, with the matched words marked.

The excerpt is a slice of the verbatim passage text (plus ellipses where it was cut). Highlights are kept as
segments, not markup, so each renderer escapes the corpus text for its medium and then marks the highlights
(`Excerpt.render`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from index.passages import sentence_spans

EXCERPT_CHARS = 300
ELLIPSIS = "…"


@dataclass(frozen=True)
class Excerpt:
    segments: tuple[tuple[str, bool], ...]
    start: int
    end: int
    clipped_start: bool
    clipped_end: bool

    @property
    def plain(self) -> str:
        return self.render(marker="")

    def render(self, marker: str = "**", escape: Callable[[str], str] = lambda s: s) -> str:
        body = "".join(f"{marker}{escape(text)}{marker}" if hit else escape(text) for text, hit in self.segments)
        return (ELLIPSIS if self.clipped_start else "") + body + (ELLIPSIS if self.clipped_end else "")


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _safe_cut(text: str, position: int, forward: bool) -> int:
    """Move a cut point off the middle of a Latin word or a number (Han text can be cut anywhere)."""
    step = 1 if forward else -1
    limit = 12
    while 0 < position < len(text) and limit and text[position - 1].isalnum() and text[position].isalnum():
        if not text[position].isascii():
            break
        position += step
        limit -= 1
    return position


def make_excerpt(
    text: str,
    hits: Mapping[tuple[int, int], float],
    max_chars: int = EXCERPT_CHARS,
) -> Excerpt:
    """Choose and mark an excerpt of `text`.

    `hits` maps character spans of matched query words to their weight (idf); the sentence with the most
    distinct weight is the core, grown with neighbouring sentences while it fits in `max_chars`.
    """
    sentences = sentence_spans(text) or [(0, len(text))]
    weights = []
    for start, end in sentences:
        seen: dict[str, float] = {}
        for (h_start, h_end), weight in hits.items():
            if start <= h_start < end:
                seen[text[h_start:h_end].lower()] = max(seen.get(text[h_start:h_end].lower(), 0.0), weight)
        weights.append(sum(seen.values()))
    best = max(range(len(sentences)), key=lambda i: (weights[i], -i))
    lo = hi = best
    start, end = sentences[best]
    while True:
        grown = False
        for candidate in (hi + 1, lo - 1):
            if 0 <= candidate < len(sentences):
                c_start, c_end = sentences[candidate]
                if max(end, c_end) - min(start, c_start) <= max_chars:
                    if candidate > hi:
                        hi, end = candidate, c_end
                    else:
                        lo, start = candidate, c_start
                    grown = True
                    break
        if not grown:
            break
    if end - start > max_chars:
        first_hit = min((s for s, _ in hits if start <= s < end), default=start)
        window_start = max(start, min(first_hit - max_chars // 4, end - max_chars))
        start = _safe_cut(text, window_start, forward=True) if window_start > start else start
        new_end = _safe_cut(text, min(end, start + max_chars), forward=False)
        end = new_end if new_end > start else min(end, start + max_chars)
    highlights = _merge((max(s, start), min(e, end)) for (s, e) in hits if s < end and e > start)
    segments: list[tuple[str, bool]] = []
    position = start
    for h_start, h_end in highlights:
        if h_start > position:
            segments.append((text[position:h_start], False))
        segments.append((text[h_start:h_end], True))
        position = h_end
    if position < end:
        segments.append((text[position:end], False))
    return Excerpt(tuple(segments), start, end, start > 0, end < len(text.rstrip()))
