"""Documents of a loaded index are stored as columns and built on access (index/storeddocuments.py); they equal
the ones a build makes, field for field, in every format (pages of a PDF, chapters of an EPUB, catalog origins)."""

import dataclasses
import shutil

import pytest

from index.corpus import DocumentInfo
from index.engine import Engine
from index.storeddocuments import DocumentTable, StoredDocuments, document_columns

from ..conftest import SEEDS
from ..format_files import write_epub, write_pdf


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stored-documents") / "corpus"
    shutil.copytree(SEEDS, folder)
    write_pdf(folder / "harbour.pdf")
    (folder / "books").mkdir()
    write_epub(folder / "books" / "lighthouse.epub")
    data = folder.parent / "data"
    built = Engine.open(folder, data)  # built here: a list of documents
    loaded = Engine.open(folder, data)  # read from the index file
    return built, loaded


def test_loaded_documents_are_stored_and_equal_the_built_ones(engines):
    built, loaded = engines
    assert isinstance(loaded.documents, DocumentTable)
    assert len(loaded.documents) == len(built.documents) >= 7
    assert list(loaded.documents) == list(built.documents)  # the same doc_ids in the same order
    for doc_id, info in built.documents.items():
        assert loaded.documents[doc_id] == info  # every field: divisions, origins, languages, format
    assert loaded.documents.field("fingerprint") == built.documents.field("fingerprint")
    assert loaded.documents.field("title") == {doc_id: info.title for doc_id, info in built.documents.items()}
    kinds = {info.division_kind for info in loaded.documents.values()}
    assert {"page", "chapter"} <= kinds
    assert any(info.origins.get("title") == "catalog" for info in loaded.documents.values())


def test_a_loaded_index_cites_pages_and_chapters_as_the_built_one(engines):
    built, loaded = engines
    for doc_id, info in built.documents.items():
        if info.divisions:
            start = info.divisions[-1][0]
            assert loaded.documents[doc_id].place(3, start) == info.place(3, start)


def _info(doc_id, **fields):
    base = {
        "doc_id": doc_id,
        "path": f"/corpus/{doc_id}.txt",
        "title": f"Title of {doc_id}",
        "source": "",
        "date": "",
        "languages": ("en",),
        "url": "",
        "origins": {"title": "inferred"},
    }
    return DocumentInfo(**{**base, **fields})


def test_columns_round_trip_every_field():
    documents = [
        _info("a"),
        _info("b", languages=(), origins={"title": "catalog", "date": "catalog"}, date="2025-12-01"),
        _info("c", languages=("zh-Hans", "en"), divisions=((0, "i", 1), (120, "2", 4)), division_kind="page"),
        _info("d", title='含逗号, 和 "引号" 的标题\n', format="epub", fingerprint="0123abcd"),
    ]
    stored = StoredDocuments(document_columns(documents))
    assert list(stored) == documents and stored[-1] == documents[-1] and stored[1:3] == documents[1:3]
    assert stored.doc_ids == ["a", "b", "c", "d"]
    # Each document gets its own origins dict: changing one never changes another sharing the same table row.
    stored[0].origins["title"] = "changed"
    assert stored[2].origins == stored[3].origins == {"title": "inferred"}
    with pytest.raises(IndexError):
        stored[4]


def test_documents_stored_otherwise_are_refused():
    with pytest.raises(ValueError):
        StoredDocuments([dataclasses.asdict(_info("a"))])  # the old one-object-per-document form
    broken = document_columns([_info("a"), _info("b")])
    broken["columns"]["title"].pop()
    with pytest.raises(ValueError):
        StoredDocuments(broken)


def test_document_table_maps_ids_over_a_list():
    documents = [_info("x"), _info("y")]
    table = DocumentTable(documents)
    assert table["y"] is documents[1] and "x" in table and "z" not in table and table.get("z") is None
    assert dict(table.items()) == {"x": documents[0], "y": documents[1]}
