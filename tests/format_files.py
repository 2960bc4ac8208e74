"""Small real documents of each format, written by the libraries people write them with (for tests).

PDF with reportlab (CJK text in its built-in CID font, a running title and page numbers on every page, an
encrypted and an image-only variant), .docx with python-docx, EPUB with ebooklib, HTML with navigation, a sidebar
and a footer around the article, a zip bomb named .docx.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

RUNNING_TITLE = "Harbour Quarterly Review"
NAV = ("Home", "World News", "Subscribe to our newsletter", "Sign in")
FOOTER = ("Copyright 2025 Example Media Group", "Privacy policy", "We use cookies to improve your experience")

PDF_PAGES = (
    [
        "Harbour report",
        "The harbour authority counted 4,120 ships in the first quarter, a record for the port. Most of them "
        "were container ships bound for the northern terminals, and the authority expects the count to rise "
        "again once the new quay opens in the spring.",
        "港务局表示,新码头将在明年春天启用,届时吞吐能力将提高三成。",
    ],
    [
        "Dredging",
        "Dredging of the eastern channel will start in March and take eleven weeks, the authority said. "
        "During the works, ships longer than 300 metres will be guided through the western channel by two "
        "pilots instead of one.",
        "Fishermen asked for compensation for the weeks their moorings cannot be used.",
    ],
    [
        "Outlook",
        "The authority's director expects traffic to grow by six percent next year, driven by grain exports.",
    ],
)


def write_pdf(path: Path, pages: tuple[list[str], ...] = PDF_PAGES, *, password: str | None = None) -> Path:
    """A PDF of one page per entry (its paragraphs wrapped by reportlab), with a running title and a page
    number on every page; `password` encrypts it."""
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=10, leading=14, wordWrap="CJK", spaceAfter=8)

    def furniture(canvas, doc) -> None:
        canvas.setFont("Helvetica", 8)
        canvas.drawString(40, A5[1] - 30, RUNNING_TITLE)
        canvas.drawString(A5[0] / 2, 20, str(doc.page))

    encrypt = None
    if password is not None:
        from reportlab.lib import pdfencrypt

        encrypt = pdfencrypt.StandardEncryption(password, canPrint=0)
    doc = SimpleDocTemplate(str(path), pagesize=A5, encrypt=encrypt, title="Harbour traffic report")
    story = []
    for number, paragraphs in enumerate(pages):
        if number:
            story.append(PageBreak())
        story.extend(Paragraph(text, body) for text in paragraphs)
    doc.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return path


def write_image_pdf(path: Path) -> Path:
    """A PDF with drawings but no text (what a scan without OCR is to a text extractor)."""
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=A5)
    for page in range(2):
        canvas.rect(50 + page * 10, 50, 200, 300, fill=1)
        canvas.showPage()
    canvas.save()
    return path


DOCX_SECTIONS = (
    ("Budget", ["The council approved a budget of 12 million euros for the new library.", "Work starts in May."]),
    ("Opening hours", ["The library will open from 8 am to 9 pm on weekdays.", "周末开放时间为上午十点到下午六点。"]),
)


def write_docx(path: Path, sections=DOCX_SECTIONS, *, title: str = "Library plans") -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=0)
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for text in paragraphs:
            document.add_paragraph(text)
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, (("Floor", "Collection"), ("Ground", "Children's books")), strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.save(str(path))
    return path


EPUB_CHAPTERS = (
    ("The Lighthouse", ["The keeper climbed 118 steps every evening to light the lamp.", "He kept a log of ships."]),
    ("The Storm", ["In the winter of 1899 a storm broke the lantern glass.", "The keeper replaced it by hand.",
                   "暴风雨过后,灯塔又亮了。"]),
)  # fmt: skip


def write_epub(path: Path, chapters=EPUB_CHAPTERS, *, title: str = "Lighthouse Stories") -> Path:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("footnote-test-book")
    book.set_title(title)
    book.set_language("en")
    book.add_metadata("DC", "date", "1901-05-04")
    items = []
    for number, (heading, paragraphs) in enumerate(chapters, 1):
        item = epub.EpubHtml(title=heading, file_name=f"chapter{number}.xhtml", lang="en")
        item.content = f"<h1>{heading}</h1>" + "".join(f"<p>{text}</p>" for text in paragraphs)
        book.add_item(item)
        items.append(item)
    book.toc = tuple(epub.Link(item.file_name, item.title, f"c{n}") for n, item in enumerate(items))
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    epub.write_epub(str(path), book)
    return path


ARTICLE = [
    "The city's new tram line carried 52,000 passengers in its first week, twice what the operator had "
    "forecast, the transport department said on Monday.",
    "Trams run every six minutes at peak hours. The operator plans to add four more vehicles by the summer to "
    "cope with demand on the busiest section between the station and the university.",
    "Residents along the route complained about noise during the first nights of service, and the department "
    "promised to measure it again next month.",
    "新线路的票价与公交车相同,老年人可以免费乘坐。",
]


def html_page(title: str = "Tram line doubles its forecast", paragraphs=ARTICLE, date: str = "2025-11-03") -> str:
    nav = "".join(f"<li><a href='/{i}'>{word}</a></li>" for i, word in enumerate(NAV))
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    related = "".join(f"<li><a href='/r{i}'>Most read this week: another story, number {i}</a></li>" for i in range(5))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title} | City Daily</title>"
        f"<meta property='og:title' content='{title}'>"
        f"<meta property='article:published_time' content='{date}T08:00:00Z'>"
        "<meta property='og:site_name' content='City Daily'>"
        "<script>var tracking = 'Subscribe to our newsletter';</script></head><body>"
        f"<div class='cookie-banner'>{FOOTER[2]}. <button>OK</button></div>"
        f"<header><nav><ul>{nav}</ul></nav></header>"
        f"<main><article><h1>{title}</h1><p class='byline'>By A. Reporter, <a href='/transport'>transport</a></p>"
        f"{body}</article><aside><h2>Related</h2><ul>{related}</ul></aside></main>"
        f"<footer><p>{FOOTER[0]} · <a href='/privacy'>{FOOTER[1]}</a></p></footer></body></html>"
    )


def write_zip_bomb(path: Path, expanded_mb: int = 64) -> Path:
    """A zip laid out like a .docx whose document.xml expands from a few kB to `expanded_mb` MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (expanded_mb * 1024 * 1024))
    path.write_bytes(buffer.getvalue())
    return path
