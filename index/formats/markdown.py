"""Markdown as a reader sees it rendered: markdown-it-py (CommonMark, with tables and strikethrough) parses it and
each block becomes one line of plain text.

Headings, paragraphs, list items, quoted paragraphs and table rows are lines of their own (table cells joined by
" | "); emphasis markers, link targets, images and inline HTML are dropped, a link keeps its text, inline code
keeps its content. A soft line break inside a paragraph is a space between words, nothing between two CJK
characters. Code blocks keep their lines. Front matter is read by index.corpus before the body gets here.
"""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from index.formats.text import join_pieces, squeeze

_TAG_RE = re.compile(r"<[^>]*>")


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _inline(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        # link_open/close, em, strong, s, image (its alt text is rarely prose) and inline HTML add nothing
    return squeeze(join_pieces("".join(parts)))


def markdown_text(source: str) -> str:
    """The plain text of a Markdown document: one line per block, in order."""
    lines: list[str] = []
    cells: list[str] | None = None
    for token in _parser().parse(source):
        if token.type == "inline":
            text = _inline(token)
            if cells is not None:
                cells.append(text)
            elif text:
                lines.append(text)
        elif token.type == "tr_open":
            cells = []
        elif token.type == "tr_close":
            row = " | ".join(cell for cell in cells or () if cell)
            if row:
                lines.append(row)
            cells = None
        elif token.type in ("fence", "code_block"):
            lines.extend(line.rstrip() for line in token.content.splitlines() if line.strip())
        elif token.type == "html_block":
            text = squeeze(html.unescape(_TAG_RE.sub(" ", token.content)))
            if text:
                lines.append(text)
    return "\n".join(lines) + ("\n" if lines else "")
