"""Adding documents to a corpus folder from sent bytes: names, limits, content, no overwrite, catalog fields."""

from __future__ import annotations

import tomllib

import pytest

from index.corpus import load_corpus
from index.errors import CorpusError
from index.uploads import clean_file_name, prepare, remove, restore, save

from ..format_files import html_page, write_image_pdf, write_pdf, write_zip_bomb

TEXT = b"The ferry to the island leaves at 7:15 every morning.\n"


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "catalog.toml").write_text('# kept comment\n["old.txt"]\ntitle = "Old"\n', encoding="utf-8")
    (folder / "old.txt").write_text("An old document about the harbour.\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("sent", "saved"),
    [
        ("report.PDF", "report.pdf"),
        ("Jahresbericht 2025 (final).docx", "Jahresbericht 2025 (final).docx"),
        ("新闻稿：发布会.md", "新闻稿_发布会.md"),
        ("  spaced\tname .txt", "spaced name.txt"),
        ("-rf.txt", "_rf.txt"),
        (".hidden.md", "hidden.md"),  # not hidden from the index
        ("a\u202egnp.txt", "agnp.txt"),  # a right-to-left override cannot disguise the name
        ("x" * 300 + ".html", "x" * 115 + ".html"),
    ],
)
def test_clean_file_names(sent, saved):
    assert clean_file_name(sent) == saved


@pytest.mark.parametrize(
    ("sent", "why"),
    [
        ("../../etc/passwd.md", "cannot contain a folder"),
        ("..\\..\\boot.ini.txt", "cannot contain a folder"),
        ("/etc/passwd.md", "cannot contain a folder"),
        ("..", "cannot contain a folder"),
        ("notes.exe", "Footnote reads"),
        ("catalog.toml", "Footnote reads"),
        ("userdict.txt", "kept for the corpus"),
        ("README.md", "kept for the corpus"),
        ("noextension", "Footnote reads"),
    ],
)
def test_names_that_cannot_be_documents_are_refused_naming_them(sent, why):
    with pytest.raises(CorpusError, match=why) as caught:
        clean_file_name(sent)
    assert sent[:20] in str(caught.value)


def test_path_traversal_never_writes_outside_the_corpus_folder(corpus, tmp_path):
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for name in ("../../etc/passwd.md", "../outside.md", "sub/../../x.md"):
        with pytest.raises(CorpusError, match="cannot contain a folder"):
            prepare(corpus, name, TEXT)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_add_then_replace_only_when_asked_and_the_catalog_keeps_its_comments(corpus):
    prepared = prepare(corpus, "ferry.txt", TEXT)
    assert not prepared.exists and prepared.doc_id == "ferry"
    save(prepared, title="Ferry timetable", when="2025-12-01")
    assert (corpus / "ferry.txt").read_bytes() == TEXT
    catalog_text = (corpus / "catalog.toml").read_text(encoding="utf-8")
    assert catalog_text.startswith("# kept comment\n")
    catalog = tomllib.loads(catalog_text)
    assert catalog["ferry.txt"] == {"title": "Ferry timetable", "date": "2025-12-01"} and catalog["old.txt"]
    again = prepare(corpus, "ferry.txt", b"A new timetable: the ferry leaves at 7:30.\n")
    assert again.exists
    with pytest.raises(CorpusError, match=r"ferry\.txt is already in the corpus; add it with replace:true"):
        save(again)
    assert (corpus / "ferry.txt").read_bytes() == TEXT
    saved = save(again, replace=True)
    assert (corpus / "ferry.txt").read_bytes().startswith(b"A new timetable")
    restore(saved)
    assert (corpus / "ferry.txt").read_bytes() == TEXT
    docs = {d.doc_id: d.info for d in load_corpus(corpus).documents}
    assert docs["ferry"].title == "Ferry timetable" and docs["ferry"].date == "2025-12-01"
    assert not [p for p in corpus.iterdir() if p.name.startswith(".upload-")]


def test_a_bad_date_is_refused_before_anything_is_written(corpus):
    with pytest.raises(CorpusError, match="not a date like 2025-12-31"):
        save(prepare(corpus, "ferry.txt", TEXT), when="next Tuesday")
    assert not (corpus / "ferry.txt").exists()


def test_size_cap_and_empty_files(corpus):
    with pytest.raises(CorpusError, match=r"big\.txt: 2\.0 MB is more than the 1 MB a document may be"):
        prepare(corpus, "big.txt", b"word " * (400 * 1024), max_bytes=1024 * 1024)
    with pytest.raises(CorpusError, match=r"empty\.md: the file is empty"):
        prepare(corpus, "empty.md", b"  \n")


def test_documents_without_text_or_lying_about_their_kind_are_refused_with_the_reason(corpus, tmp_path):
    cases = {
        "scan.pdf": (write_image_pdf(tmp_path / "scan.pdf").read_bytes(), "no text in this PDF"),
        "locked.pdf": (write_pdf(tmp_path / "locked.pdf", password="pw").read_bytes(), "encrypted"),
        "bomb.docx": (write_zip_bomb(tmp_path / "bomb.docx").read_bytes(), "zip bomb"),
        "page.pdf": (html_page().encode(), "the name says PDF but the content is an HTML page"),
        "image.md": (b"\x89PNG\r\n\x1a\n" + bytes(64), "the name says Markdown but the content is an image"),
    }
    for name, (data, why) in cases.items():
        with pytest.raises(CorpusError, match=why) as caught:
            prepare(corpus, name, data)
        assert str(caught.value).startswith(f"{name}: ")
    assert sorted(p.name for p in corpus.iterdir()) == ["catalog.toml", "old.txt"]


def test_remove_deletes_the_document_and_its_catalog_entry_only_inside_the_folder(corpus, tmp_path):
    (tmp_path / "secret.txt").write_text("outside\n", encoding="utf-8")
    for name in ("../secret.txt", "/etc/passwd", "catalog.toml", "missing.txt", ""):
        with pytest.raises(CorpusError):
            remove(corpus, name)
    assert (tmp_path / "secret.txt").exists() and (corpus / "catalog.toml").exists()
    assert remove(corpus, "old.txt") == corpus / "old.txt"
    assert not (corpus / "old.txt").exists()
    catalog = (corpus / "catalog.toml").read_text(encoding="utf-8")
    assert "old.txt" not in catalog and catalog.startswith("# kept comment")
