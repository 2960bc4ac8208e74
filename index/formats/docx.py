"""Word .docx: paragraphs and tables in document order with python-docx; headings are lines of their own.

A paragraph styled as a heading (Heading 1-9, Title) stands on its own line, so a passage never runs from one
section into the next: `split_document` reads a short heading with the paragraph under it, and a heading
always starts a passage. A table row is one line, its cells joined by " | " (merged cells once). A line break
inside a paragraph joins like a broken line (a space between words, nothing between CJK characters). The
document's title property, when set, is its title.
"""

from __future__ import annotations

import io

from index.errors import CorpusError
from index.formats import Extracted, missing_extra
from index.formats.text import join_pieces, squeeze
from index.formats.ziparchive import open_zip


def _paragraph_text(text: str) -> str:
    return squeeze(join_pieces(text).replace("\t", " "))


def read_docx(name: str, data: bytes) -> Extracted:
    try:
        import docx
        from docx.opc.exceptions import OpcError
        from docx.table import Table
    except ImportError:
        raise missing_extra(name, "docx", "python-docx") from None
    open_zip(name, "docx", data, "word/document.xml")
    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    cells: list[str] = []
                    for cell in row.cells:
                        text = _paragraph_text(cell.text)
                        if text and (not cells or cells[-1] != text):  # a merged cell repeats in each column
                            cells.append(text)
                    if cells:
                        lines.append(" | ".join(cells))
            else:
                text = _paragraph_text(block.text)
                if text:
                    lines.append(text)
        title = squeeze(document.core_properties.title or "")
    except (OpcError, KeyError, ValueError, SyntaxError, OSError, IndexError) as exc:
        raise CorpusError(f"{name}: not a readable Word document ({type(exc).__name__}: {exc})") from None
    fields = {"title": title} if title else {}
    return Extracted("\n".join(lines) + ("\n" if lines else ""), "docx", fields)
