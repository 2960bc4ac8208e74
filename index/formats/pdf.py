"""PDF: the text of each page with pypdfium2 (PDFium, the PDF engine of Chromium), paragraphs rebuilt from lines.

Why PDFium: on the measured set (scripts/measure_extractors.py, docs/formats.md) pypdf, pdfminer.six and
pypdfium2 recover the same sentences, and pypdfium2 is 3x faster than pypdf and 13x faster than pdfminer.six,
opens AES-encrypted files without another dependency, and is one wheel with no Python dependencies.

A PDF has lines, not paragraphs. Lines are joined into a paragraph unless the line before is short (a paragraph's
last line, a heading) or the next starts a list item; a hyphen PDFium marks as a line-break hyphen is removed
and the word joined. Lines repeated at the top or bottom of many pages (running titles, page numbers) and lone
page numbers are dropped. A page is a hard boundary: a paragraph that runs on to the next page is two passages,
each cited by its own page. Each page is a `Division` labelled with the page label the PDF prints (the PDF's
page labels when it has them: "xii", "12"), so a citation says "p. 12".
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import Counter
from dataclasses import dataclass

from index.errors import CorpusError
from index.formats import Division, Extracted, missing_extra
from index.formats.text import join_broken_line, squeeze

# PDFium is not thread-safe (pypdfium2's documentation): one document at a time per process.
_PDFIUM = threading.Lock()
_SOFT_HYPHEN = "\x02"  # what PDFium puts where a word was hyphenated at the end of a line
_PAGE_NUMBER_RE = re.compile(
    r"^(?:[-–—]\s*)?(?:page\s+|p\.\s*|第\s*)?[0-9ivxlcdm]+(?:\s*(?:of|/)\s*\d+)?(?:\s*页|\s*頁)?(?:\s*[-–—])?$", re.I
)
_BULLET_RE = re.compile(r"^(?:[•●▪◦‣∙·*–-]\s|\(?\d{1,2}[.)]\s|\(?[a-z][.)]\s)")
_SENTENCE_END = tuple('。！？!?.;；:：”"’」』)）')


def _width(line: str) -> int:
    """Display width: a CJK character is as wide as two Latin ones."""
    return sum(2 if "\u2e80" <= char <= "\uffef" else 1 for char in line)


def _furniture(pages: list[list[str]]) -> set[str]:
    """Lines at the top or bottom of pages that recur on many pages (3 and a tenth at least; digits ignored):
    running titles and footers."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        edges = {re.sub(r"\d+", "#", line) for line in lines[:2] + lines[-2:]}
        counts.update(edges)
    return {key for key, count in counts.items() if count >= max(3, len(pages) * 0.1)}


@dataclass
class _Line:
    text: str
    left: float
    bottom: float
    right: float
    top: float


def _page_lines(textpage: object) -> list[_Line]:
    """The page's lines in PDFium's reading order: its text rectangles, those that overlap vertically joined,
    each line's text read from its box (so PDFium places the spaces between words)."""
    lines: list[_Line] = []
    for index in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(index)
        last = lines[-1] if lines else None
        overlap = min(top, last.top) - max(bottom, last.bottom) if last is not None else 0.0
        if last is not None and overlap > 0.5 * min(top - bottom, last.top - last.bottom):
            last.left, last.right = min(last.left, left), max(last.right, right)
            last.bottom, last.top = min(last.bottom, bottom), max(last.top, top)
        else:
            lines.append(_Line("", left, bottom, right, top))
    for line in lines:
        text = textpage.get_text_bounded(line.left, line.bottom, line.right, line.top)
        line.text = squeeze(text.replace("\r", " ").replace("\n", " "))
    return [line for line in lines if line.text]


def _paragraphs(lines: list[_Line], full_width: float) -> list[str]:
    """Join the lines of one page into paragraphs: a new one starts after a short line, after a wider gap than
    the page's usual line spacing, at a first-line indent, at a list item, or where the text moves up (a column)."""
    steps = sorted(a.bottom - b.bottom for a, b in itertools.pairwise(lines) if a.bottom > b.bottom)
    leading = steps[len(steps) // 2] if steps else 0.0
    paragraphs: list[str] = []
    current, previous, left = "", None, 0.0
    for line in lines:
        if previous is not None:
            height = max(1.0, previous.top - previous.bottom)
            step = previous.bottom - line.bottom
            hyphenated = previous.text.endswith(_SOFT_HYPHEN)
            if (
                _BULLET_RE.match(line.text)
                or step <= 0
                or (leading and step > 1.3 * leading)
                or line.left > left + 0.8 * height
                or (not hyphenated and _width(previous.text) < 0.8 * full_width)
            ):
                paragraphs.append(current)
                current = ""
        if not current:
            current, left = line.text, line.left
        elif previous is not None and previous.text.endswith(_SOFT_HYPHEN):
            current = current.rstrip(_SOFT_HYPHEN + " ") + line.text
        else:
            current = join_broken_line(current, line.text)
            left = min(left, line.left)
        previous = line
    if current:
        paragraphs.append(current)
    return [squeeze(paragraph.replace(_SOFT_HYPHEN, "-")) for paragraph in paragraphs]


def read_pdf(name: str, data: bytes) -> Extracted:
    try:
        import pypdfium2
    except ImportError:
        raise missing_extra(name, "pdf", "pypdfium2") from None
    with _PDFIUM:
        try:
            pdf = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise CorpusError(f"{name}: the PDF is encrypted with a password; save a copy without one") from None
            raise CorpusError(f"{name}: not a readable PDF ({exc})") from None
        try:
            raw_pages: list[list[_Line]] = []
            labels: list[str] = []
            for index in range(len(pdf)):
                page = pdf[index]
                textpage = page.get_textpage()
                raw_pages.append(_page_lines(textpage))
                textpage.close()
                page.close()
                label = ""
                try:
                    label = (pdf.get_page_label(index) or "").strip()
                except (pypdfium2.PdfiumError, AttributeError):
                    label = ""
                labels.append(label or str(index + 1))
            metadata = pdf.get_metadata_dict(skip_empty=True)
        except pypdfium2.PdfiumError as exc:
            raise CorpusError(f"{name}: not a readable PDF ({exc})") from None
        finally:
            pdf.close()
    if not any(raw_pages):
        raise CorpusError(
            f"{name}: no text in this PDF ({len(raw_pages)} page(s) of images, e.g. a scan); "
            "make it searchable with OCR (such as ocrmypdf) and add it again"
        )
    furniture = _furniture([[line.text for line in lines] for lines in raw_pages])
    widths = sorted(_width(line.text) for lines in raw_pages for line in lines)
    full_width = widths[int(len(widths) * 0.8)] if widths else 0
    parts: list[str] = []
    divisions: list[Division] = []
    offset = 0
    for label, lines in zip(labels, raw_pages, strict=True):
        kept = [
            line
            for position, line in enumerate(lines)
            if not (
                (position < 2 or position >= len(lines) - 2)
                and (re.sub(r"\d+", "#", line.text) in furniture or _PAGE_NUMBER_RE.match(line.text))
            )
        ]
        paragraphs = _paragraphs(kept, full_width)
        if not paragraphs:
            continue
        page_text = "\n".join(paragraphs) + "\n\n"
        divisions.append(Division(offset, label))
        parts.append(page_text)
        offset += len(page_text)
    fields = {}
    if metadata.get("Title", "").strip():
        fields["title"] = metadata["Title"].strip()
    return Extracted("".join(parts), "pdf", fields, tuple(divisions), "page")
