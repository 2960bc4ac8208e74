"""Document formats: real PDF, .docx, EPUB, HTML and Markdown files made here, read as a reader of the original
would read them, cited where the reader can find them, and broken files refused with a message naming them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from index.corpus import extract, load_corpus, load_document
from index.engine import Engine
from index.errors import CorpusError
from index.formats import INSTALL_FORMATS
from index.passages import split_document

from ..format_files import (
    ARTICLE,
    FOOTER,
    NAV,
    RUNNING_TITLE,
    html_page,
    write_docx,
    write_epub,
    write_image_pdf,
    write_pdf,
    write_zip_bomb,
)


def passages_of(path: Path) -> list[str]:
    doc = load_document(path, path.stem, {})
    return [p.text for p in split_document(doc.doc_id, doc.text, doc.body_start)]


def test_pdf_pages_paragraphs_and_furniture(tmp_path):
    path = write_pdf(tmp_path / "harbour.pdf")
    extracted = extract(path)
    text = extracted.text
    # reportlab wrapped these paragraphs over several lines: each is one line (one paragraph) again
    assert "The harbour authority counted 4,120 ships in the first quarter, a record for the port. Most of them" in text
    assert "港务局表示,新码头将在明年春天启用,届时吞吐能力将提高三成。\n" in text
    # the running title and the page numbers printed on every page are not text of the document
    assert RUNNING_TITLE not in text and not any(line.strip().isdigit() for line in text.splitlines())
    assert [d.label for d in extracted.divisions] == ["1", "2", "3"] and extracted.division_kind == "page"
    info = load_document(path, "harbour", {}).info
    assert info.title == "Harbour traffic report" and info.origins["title"] == "document"
    dredging = text.index("Dredging of the eastern channel")
    assert info.place(5, dredging) == ("p. 2", "2")
    assert info.place(1, text.index("The authority's director")) == ("p. 3", "3")


def test_encrypted_and_image_only_pdfs_are_refused_with_the_reason(tmp_path):
    with pytest.raises(CorpusError, match=r"locked\.pdf: the PDF is encrypted with a password"):
        extract(write_pdf(tmp_path / "locked.pdf", password="s3cret"))
    with pytest.raises(CorpusError, match=r"scan\.pdf: no text in this PDF \(2 page\(s\).*OCR"):
        extract(write_image_pdf(tmp_path / "scan.pdf"))


def test_docx_headings_start_passages_and_tables_are_rows(tmp_path):
    path = write_docx(tmp_path / "library.docx")
    extracted = extract(path)
    assert extracted.fields == {"title": "Library plans"}
    assert "Floor | Collection\nGround | Children's books\n" in extracted.text
    passages = passages_of(path)
    # every heading starts a passage; no passage runs from one section into the next
    for heading in ("Budget", "Opening hours"):
        assert any(p.startswith(heading) for p in passages)
    assert not any("Budget" in p and "Opening hours" in p for p in passages)
    assert not any("Work starts in May." in p and "weekdays" in p for p in passages)


def test_epub_chapters_are_cited_by_name_with_paragraphs_counted_from_the_chapter(tmp_path):
    path = write_epub(tmp_path / "lighthouse.epub")
    info = load_document(path, "lighthouse", {}).info
    text = extract(path).text
    assert (info.title, info.date, info.origins["date"]) == ("Lighthouse Stories", "1901-05-04", "document")
    assert [label for _start, label, _first in info.divisions] == ["The Lighthouse", "The Storm"]
    storm = split_document("lighthouse", text)
    replaced = next(p for p in storm if "replaced it by hand" in p.text)
    assert info.place(replaced.paragraph, replaced.start) == ("The Storm, ¶ 3", "")


def test_html_main_text_without_navigation_or_footer_and_its_title_and_date(tmp_path):
    path = tmp_path / "tram.html"
    path.write_text(html_page(), encoding="utf-8")
    extracted = extract(path)
    for paragraph in ARTICLE:
        assert paragraph in extracted.text
    for boilerplate in (*NAV, *FOOTER, "Most read this week"):
        assert boilerplate not in extracted.text
    info = load_document(path, "tram", {}).info
    assert (info.title, info.date, info.source) == ("Tram line doubles its forecast", "2025-11-03", "City Daily")
    assert info.origins["title"] == info.origins["date"] == "document"


def test_a_short_html_page_keeps_its_paragraphs_and_drops_its_navigation(tmp_path):
    path = tmp_path / "notice.html"
    path.write_text(html_page(paragraphs=["Short one.", "短的第二段。", "Third, also short."]), encoding="utf-8")
    assert extract(path).text == "Tram line doubles its forecast\nShort one.\n短的第二段。\nThird, also short.\n"


def test_markdown_is_parsed_so_no_link_or_table_syntax_reaches_a_passage(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(
        "---\ntitle: Ferry notes\n---\n# Ferry timetable\n\n"
        'The ferry leaves at **7:15** from [pier 3](https://x.example/p3 "map").\nIt returns at 18:40.\n\n'
        "- Tickets cost *4 euros*\n- Bikes ride free ![bike](b.png)\n\n"
        "| day | boats |\n|---|---|\n| Sunday | 2 |\n\n渡轮在[冬季](https://x.example/w)\n停航。\n",
        encoding="utf-8",
    )
    doc = load_document(path, "notes", {})
    assert doc.info.title == "Ferry notes" and doc.info.origins["title"] == "front matter"
    assert doc.text == (
        "Ferry timetable\nThe ferry leaves at 7:15 from pier 3. It returns at 18:40.\nTickets cost 4 euros\n"
        "Bikes ride free\nday | boats\nSunday | 2\n渡轮在冬季停航。\n"
    )
    for passage in passages_of(path):
        assert not any(mark in passage for mark in ("](", "**", "![", "|---", "https://"))


def test_bad_files_give_a_clear_message_naming_them_and_the_rest_of_the_corpus_loads(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("The good document is still read.\n", encoding="utf-8")
    write_pdf(tmp_path / "locked.pdf", password="pw")
    write_image_pdf(tmp_path / "scan.pdf")
    write_zip_bomb(tmp_path / "bomb.docx")
    (tmp_path / "lying.pdf").write_text(html_page(), encoding="utf-8")
    write_pdf(tmp_path / "report.docx")
    (tmp_path / "plain.epub").write_text("just some text\n", encoding="utf-8")
    (tmp_path / "huge.html").write_text("<html><body>" + "<p>Lorem ipsum dolor sit amet.</p>" * 1_600_000, "utf-8")
    write_pdf(tmp_path / "pages.md")  # a PDF with a text extension
    loaded = load_corpus(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["good"]
    why = {path.name: reason for path, reason in loaded.skipped}
    assert "encrypted" in why["locked.pdf"] and "no text" in why["scan.pdf"]
    assert "zip bomb" in why["bomb.docx"]
    assert "the name says PDF but the content is an HTML page" in why["lying.pdf"]
    assert "the name says Word document but the content is a PDF" in why["report.docx"]
    assert "the name says EPUB book but the content is plain text" in why["plain.epub"]
    assert "MB Footnote reads from a web page" in why["huge.html"]
    assert "the name says Markdown but the content is a PDF" in why["pages.md"]
    for name, reason in why.items():
        assert reason.startswith(f"{name}: ") and name in caplog.text


def test_a_missing_formats_extra_names_the_install_command(tmp_path, monkeypatch):
    path = write_pdf(tmp_path / "harbour.pdf")
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # as if the extra were not installed
    with pytest.raises(CorpusError) as caught:
        extract(path)
    assert str(caught.value).startswith("harbour.pdf: reading a PDF needs the `formats` extra")
    assert INSTALL_FORMATS in str(caught.value)


@pytest.fixture(scope="module")
def mixed_engine(tmp_path_factory) -> tuple[Engine, Path]:
    corpus = tmp_path_factory.mktemp("mixed")
    write_pdf(corpus / "harbour.pdf")
    write_docx(corpus / "library.docx")
    write_epub(corpus / "lighthouse.epub")
    (corpus / "tram.html").write_text(html_page(), encoding="utf-8")
    (corpus / "ferry.md").write_text("# Ferry\n\nThe [ferry](https://x.example) leaves at 7:15.\n", encoding="utf-8")
    write_pdf(corpus / "locked.pdf", password="pw")  # broken documents beside them: skipped, the rest answers
    write_zip_bomb(corpus / "bomb.docx")
    (corpus / "fake.epub").write_text("not a book\n", encoding="utf-8")
    engine = Engine.open(corpus, tmp_path_factory.mktemp("mixed-data"))
    for name in ("locked.pdf", "bomb.docx", "fake.epub"):
        (corpus / name).unlink()
    return engine, corpus


@pytest.mark.parametrize(
    ("question", "doc_id", "where"),
    [
        ("When does dredging of the eastern channel start?", "harbour", "p. 2"),
        ("港务局新码头什么时候启用", "harbour", "p. 1"),
        ("When did a storm break the lantern glass?", "lighthouse", "The Storm, ¶ 2"),
        ("How many passengers did the tram carry?", "tram", "¶ 2"),
        ("What are the library opening hours on weekdays?", "library", "¶ 6"),
        ("When does the ferry leave?", "ferry", "¶ 2"),
    ],
)
def test_answers_cite_a_findable_place_and_every_excerpt_is_in_its_documents_text(
    mixed_engine, question, doc_id, where
):
    engine, corpus = mixed_engine
    assert sorted(engine.documents) == ["ferry", "harbour", "library", "lighthouse", "tram"]
    answer = engine.ask(question)
    assert not answer.abstained
    top = answer.results[0]
    assert top.citation.doc_id == doc_id and top.citation.location == where
    assert where in top.citation.label()
    texts = {path.stem: extract(path).text for path in corpus.iterdir()}
    for result in answer.results:  # the verbatim guarantee, against each document's extracted text
        document = texts[result.citation.doc_id]
        assert result.passage.text in document
        for piece in result.excerpt.plain.split("…"):
            assert piece in document


def test_extracted_text_is_cached_by_content_so_loading_does_not_extract_again(tmp_path, monkeypatch):
    path = write_docx(tmp_path / "library.docx")
    cache = tmp_path / "extracted"
    first = extract(path, cache_dir=cache)
    [stored] = cache.glob("*.json")
    import index.formats.docx

    def fail(name, data):
        raise AssertionError("extracted again")

    monkeypatch.setattr(index.formats.docx, "read_docx", fail)
    assert extract(path, cache_dir=cache) == first
    write_docx(path, title="Changed")  # new content: a new entry, read again
    with pytest.raises(CorpusError, match="extracted again"):  # a reader's failure names the file, never escapes
        extract(path, cache_dir=cache)
    assert stored.exists()


def test_a_build_reports_progress_and_loading_its_index_does_not_extract_again(tmp_path, monkeypatch):
    from index.progress import Progress

    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    write_docx(corpus / "library.docx")
    (corpus / "ferry.txt").write_text("The ferry leaves at 7:15 every morning.\n", encoding="utf-8")
    lines: list[str] = []
    built = Engine.open(corpus, data, progress=Progress(write=lines.append, interval=0.0, quiet_for=0.0))
    assert lines[0].startswith("read: 1/2 documents (50%), ") and "elapsed, about" in lines[0]
    assert any(line.startswith("read: 2/2 documents (100%)") and line.endswith(", done") for line in lines)
    assert any(line.startswith("tokenise: 2/2 documents (100%)") and line.endswith(", done") for line in lines)
    [kept] = (data / "extracted").glob("*.json")  # the .docx's text, kept by content hash
    import index.formats.docx

    def fail(name, data):
        raise AssertionError("extracted again")

    monkeypatch.setattr(index.formats.docx, "read_docx", fail)
    loaded = Engine.open(corpus, data)  # the index is current: passages are cut from the kept text
    assert [p.text for p in loaded.passages] == [p.text for p in built.passages]
    assert loaded.ask("library opening hours on weekdays").results[0].citation.doc_id == "library"
    monkeypatch.undo()
    write_docx(corpus / "library.docx", title="Library plans, revised")  # changed: the old text is dropped
    Engine.open(corpus, data)
    assert not kept.exists() and len(list((data / "extracted").glob("*.json"))) == 1
