"""The documents' texts handed to the index file's writer, which cuts the passages' texts from them: released
document by document as the writer moves on (index.build._TextsInOrder), and only when the passages do come in
document order. Invented documents."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from index.build import _in_document_order, _TextsInOrder
from index.engine import Engine
from index.indexfile import read_index
from index.sources import index_path


def _passages(*doc_ids: str) -> list:
    return [SimpleNamespace(doc_id=doc_id) for doc_id in doc_ids]


def test_texts_are_given_in_order_and_dropped_once_passed():
    texts = _TextsInOrder([("a", "alpha text"), ("b", "beta text"), ("c", "gamma text")])
    assert texts["a"] == "alpha text" and texts["a"] == "alpha text"  # several passages of one document
    assert texts["c"] == "gamma text"  # b had no passage: passed over
    assert list(texts) == ["a", "b", "c"] and len(texts) == 3
    with pytest.raises(KeyError):
        texts["a"]  # dropped: an earlier document is not asked for again


def test_passages_out_of_document_order_are_noticed():
    order = {"a": "", "b": "", "c": ""}
    assert _in_document_order(_passages("a", "a", "c"), order)
    assert not _in_document_order(_passages("a", "c", "b"), order)
    assert not _in_document_order(_passages("a", "x"), order)  # a document the texts do not have


def test_a_saved_index_holds_every_passage_text_of_every_document(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    texts = {
        "first.txt": "Harbour report\n\nThe ferry left at dawn.\n\nGulls followed the wake.\n",
        "second.txt": "Orchard notes\n\nThe pears ripened late this year.\n",
        "third.txt": "天氣\n\n本週天氣晴朗，氣溫回升。\n\n週末有雨。\n",
    }
    for name, text in texts.items():
        (corpus / name).write_text(text, encoding="utf-8")
    engine = Engine.open(corpus, tmp_path / "data")
    stored = read_index(index_path(engine.corpus_dir, tmp_path / "data"))
    block = bytes(stored.arrays["p_text"])
    ptr = stored.arrays["p_text_ptr"]
    saved = [block[ptr[i] : ptr[i + 1]].decode("utf-8") for i in range(len(ptr) - 1)]
    assert saved == [engine.passages[i].text for i in range(len(engine.passages))]
    assert any("pears ripened" in text for text in saved) and any("週末有雨" in text for text in saved)
