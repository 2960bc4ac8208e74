"""Measure PDF and HTML text extractors on documents whose true text is known (not a test; run by hand).

Each article of a folder of UTF-8 .txt files (line 1 headline, then paragraphs) is rendered to a PDF with
reportlab (CJK text in reportlab's built-in CID fonts) and wrapped in an HTML page with navigation, a sidebar,
a cookie banner and a footer. Each extractor's output is scored by sentence recall (share of the article's
sentences found verbatim in the extracted text, whitespace ignored) and, for HTML, by boilerplate leaked (share of
the boilerplate strings present in the output), with the time taken. Usage:

    python scripts/measure_extractors.py ../shared/eval/foreign_dev/corpus
"""

from __future__ import annotations

import html
import io
import os
import re
import sys
import time
from pathlib import Path

BOILERPLATE = [
    "Home",
    "World News",
    "Technology Desk",
    "Subscribe to our newsletter",
    "Related articles",
    "We use cookies to improve your experience",
    "Copyright 2019 Example Media Group",
    "Privacy policy",
    "Most read this week",
    "Sign in",
    "热门推荐",
    "版权所有",
]


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[。！？!?])|(?<=\.)\s", text)
    return [re.sub(r"\s+", "", p) for p in parts if len(re.sub(r"\s+", "", p)) >= 8]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def recall(truth: str, extracted: str) -> float:
    wanted = sentences(truth)
    got = squash(extracted)
    return sum(1 for s in wanted if s in got) / max(1, len(wanted))


def make_pdf(title: str, paragraphs: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("body", fontName="STSong-Light", fontSize=11, leading=15, wordWrap="CJK", spaceAfter=8)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4)
    doc.build([Paragraph(html.escape(p), style) for p in [title, *paragraphs]])
    return buffer.getvalue()


def make_html(title: str, paragraphs: list[str]) -> str:
    nav = "".join(f"<li><a href='/{i}'>{w}</a></li>" for i, w in enumerate(BOILERPLATE[:3] + BOILERPLATE[9:10]))
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    side = "".join(f"<li><a href='/r{i}'>{BOILERPLATE[8]} item {i}: another headline</a></li>" for i in range(5))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)} | Example</title>"
        "<meta property='article:published_time' content='2019-10-02T08:00:00Z'></head><body>"
        f"<div class='cookie'>{BOILERPLATE[5]}. <button>OK</button></div>"
        f"<header><nav><ul>{nav}</ul></nav><form>{BOILERPLATE[3]} <input></form></header>"
        f"<main><article><h1>{html.escape(title)}</h1><p class='byline'>By A. Reporter</p>{body}</article>"
        f"<aside><h2>{BOILERPLATE[6]}</h2><ul>{side}</ul></aside></main>"
        f"<footer><p>{BOILERPLATE[7]} · {BOILERPLATE[10]} · {BOILERPLATE[11]}</p><p>{BOILERPLATE[4]}</p></footer>"
        "</body></html>"
    )


def pdf_pypdf(data: bytes) -> str:
    import pypdf

    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def pdf_pdfminer(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data))


def pdf_pdfium(data: bytes) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf)))
    finally:
        pdf.close()


def html_trafilatura(page: str) -> str:
    import trafilatura

    return trafilatura.extract(page, include_comments=False, favor_precision=True) or ""


def html_readability(page: str) -> str:
    import lxml.html
    from readability import Document

    return lxml.html.fromstring(Document(page).summary()).text_content()


def html_justext(page: str) -> str:
    import justext

    stop = justext.get_stoplist("English")
    return "\n".join(p.text for p in justext.justext(page.encode(), stop) if not p.is_boilerplate)


def main(folder: str) -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    articles = []
    for path in sorted(Path(folder).glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        articles.append((path.name, lines[0], lines[2:]))
    pdfs = [(name, "\n".join(paras), make_pdf(title, paras)) for name, title, paras in articles]
    pages = [(name, "\n".join(paras), make_html(title, paras)) for name, title, paras in articles]
    for label, extractors, inputs in (
        ("PDF", {"pypdf": pdf_pypdf, "pdfminer.six": pdf_pdfminer, "pypdfium2": pdf_pdfium}, pdfs),
        (
            "HTML",
            {"trafilatura": html_trafilatura, "readability-lxml": html_readability, "justext": html_justext},
            pages,
        ),
    ):
        for name, extract in extractors.items():
            extract(inputs[0][2])  # warm imports
            scores, leaks, started = [], [], time.perf_counter()
            for _doc, truth, blob in inputs:
                out = extract(blob)
                scores.append(recall(truth, out))
                leaks.append(sum(1 for b in BOILERPLATE if b in out) / len(BOILERPLATE))
            elapsed = time.perf_counter() - started
            worst = min(scores)
            print(
                f"{label:5} {name:17} recall {sum(scores) / len(scores):.3f} (worst {worst:.3f})"
                + (f" boilerplate {sum(leaks) / len(leaks):.3f}" if label == "HTML" else "")
                + f"  {elapsed * 1000 / len(inputs):.1f} ms/doc"
            )
    footnote_readers(pdfs, pages)


def footnote_readers(pdfs: list, pages: list) -> None:
    """Footnote's own readers (index.formats) on the same files: sentence recall, and for PDFs the share of the
    article's paragraphs that come back as exactly one line (paragraph rebuilt from wrapped lines)."""
    from index.formats import read_binary

    for label, fmt, inputs in (("PDF", "pdf", pdfs), ("HTML", "html", pages)):
        scores, whole, total, started = [], 0, 0, time.perf_counter()
        for doc, truth, blob in inputs:
            text = read_binary(doc, fmt, blob if isinstance(blob, bytes) else blob.encode()).text
            scores.append(recall(truth, text))
            lines = {line.strip() for line in text.splitlines()}
            paragraphs = [p for p in truth.splitlines() if p.strip()]
            whole += sum(1 for p in paragraphs if " ".join(p.split()) in lines)
            total += len(paragraphs)
        elapsed = time.perf_counter() - started
        print(
            f"{label:5} footnote reader   recall {sum(scores) / len(scores):.3f} (worst {min(scores):.3f}) "
            f"paragraphs whole {whole / total:.3f}  {elapsed * 1000 / len(inputs):.1f} ms/doc"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/eval/foreign_dev/corpus")
