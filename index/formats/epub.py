"""EPUB: the book's chapters in reading order (its spine) with ebooklib; each chapter is a `Division`.

A chapter's XHTML becomes one line per block (paragraph, heading, list item, quotation, table row); scripts,
styles and link targets are dropped. A chapter is named by the book's table of contents, else by its first
heading, else "Chapter N"; a citation names it and counts paragraphs from its start. The book's title and
date (Dublin Core metadata) are catalog fields.
"""

from __future__ import annotations

import io
import re
import warnings

from index.errors import CorpusError
from index.formats import Division, Extracted, missing_extra
from index.formats.text import join_pieces, squeeze
from index.formats.ziparchive import open_zip

_BLOCKS = frozenset(
    ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "blockquote", "pre", "tr", "caption", "figcaption",
     "div", "section", "article", "aside", "header", "footer", "body", "table", "tbody", "thead", "tfoot", "ul", "ol",
     "dl", "figure", "main", "nav")
)  # fmt: skip
_SKIP = frozenset({"script", "style", "head", "title", "svg", "math"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4"})


def _tag(element: object) -> str:
    tag = getattr(element, "tag", "")
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def block_lines(root: object) -> list[tuple[str, str]]:
    """(tag, text) of each block of an lxml tree, in order; inline text is joined, whitespace squeezed."""
    lines: list[tuple[str, str]] = []

    def flush(tag: str, parts: list[str]) -> None:
        text = squeeze(" ".join("".join(parts).split()))
        if text:
            lines.append((tag, text))
        parts.clear()

    def walk(element: object, block: str, parts: list[str]) -> None:
        tag = _tag(element)
        if tag in _SKIP:
            return
        if tag == "br":
            parts.append(" ")
        elif tag in _BLOCKS:
            flush(block, parts)
            own: list[str] = [element.text or ""]
            for child in element:
                walk(child, tag, own)
            if tag == "tr":
                own = [" | ".join(t for t in (squeeze(c) for c in "".join(own).split("\x1f")) if t)]
            flush(tag, own)
        elif tag in ("td", "th"):
            parts.append("\x1f" + (element.text or ""))
            for child in element:
                walk(child, block, parts)
        else:
            parts.append(element.text or "")
            for child in element:
                walk(child, block, parts)
        if element.tail:
            parts.append(element.tail)

    walk(root, "body", [])
    return lines


def read_epub(name: str, data: bytes) -> Extracted:
    try:
        import ebooklib
        import lxml.etree
        import lxml.html
        from ebooklib import epub
    except ImportError:
        raise missing_extra(name, "epub", "ebooklib") from None
    open_zip(name, "epub", data, "META-INF/container.xml")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": False})
    except (epub.EpubException, KeyError, ValueError, SyntaxError, OSError, AttributeError, IndexError) as exc:
        raise CorpusError(f"{name}: not a readable EPUB book ({type(exc).__name__}: {exc})") from None
    toc_titles: dict[str, str] = {}

    def visit(entries: object) -> None:
        for entry in entries if isinstance(entries, list | tuple) else (entries,):
            if isinstance(entry, tuple) and len(entry) == 2:
                visit(entry[0])
                visit(entry[1])
            elif getattr(entry, "href", None) and getattr(entry, "title", None):
                toc_titles.setdefault(entry.href.split("#", 1)[0], squeeze(entry.title))

    visit(book.toc)
    parts: list[str] = []
    divisions: list[Division] = []
    offset = 0
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
            continue
        content = item.get_content()
        if not content.strip():
            continue
        try:
            root = lxml.html.document_fromstring(content)
        except (lxml.etree.ParserError, ValueError) as exc:
            raise CorpusError(f"{name}: a chapter ({item.get_name()}) is not readable XHTML ({exc})") from None
        # a space that only stands where the XHTML broke a line between two CJK characters is removed
        blocks = [(tag, join_pieces(text, " ")) for tag, text in block_lines(root)]
        if not blocks:
            continue
        heading = next((text for tag, text in blocks if tag in _HEADINGS), "")
        label = toc_titles.get(item.get_name()) or heading or f"Chapter {len(divisions) + 1}"
        chapter = "\n".join(text for _tag_name, text in blocks) + "\n\n"
        divisions.append(Division(offset, label))
        parts.append(chapter)
        offset += len(chapter)
    fields: dict[str, str] = {}
    for key in ("title", "date"):  # not its language: dc:language says "zh-CN", the catalog "zh-Hans" (inferred)
        values = book.get_metadata("DC", key)
        value = squeeze(str(values[0][0])) if values and values[0] and values[0][0] else ""
        if key == "date":
            value = value[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", value) else ""
        if value:
            fields[key] = value
    return Extracted("".join(parts), "epub", fields, tuple(divisions), "chapter")
