"""Passages of a loaded index are built on access (index/storedpassages.py) and equal the ones a build makes."""

import shutil

import pytest

from index.engine import Engine
from index.storedpassages import StoredPassages, paragraph_keys

from ..conftest import SEEDS


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stored") / "corpus"
    shutil.copytree(SEEDS, folder)
    data = folder.parent / "data"
    built = Engine.open(folder, data)  # built here: a list of passages
    loaded = Engine.open(folder, data)  # read from the index file
    return built, loaded


def test_loaded_passages_are_stored_and_equal_the_built_ones(engines):
    built, loaded = engines
    assert isinstance(loaded.passages, StoredPassages) and not isinstance(built.passages, StoredPassages)
    assert len(loaded.passages) == len(built.passages) > 100
    assert list(loaded.passages) == list(built.passages)  # every field, duplicates and labels included
    assert [loaded.passages[i] for i in range(len(built.passages))] == list(built.passages)
    assert any(p.duplicates for p in loaded.passages) or not any(p.duplicates for p in built.passages)


def test_indexing_like_a_list(engines):
    built, loaded = engines
    n = len(built.passages)
    assert loaded.passages[-1] == built.passages[-1] == loaded.passages[n - 1]
    assert loaded.passages[3:9:2] == built.passages[3:9:2]
    with pytest.raises(IndexError):
        loaded.passages[n]
    with pytest.raises(IndexError):
        loaded.passages[-n - 1]


def test_paragraph_keys_group_passages_as_the_built_list_does(engines):
    built, loaded = engines
    built_docs, built_paragraphs = paragraph_keys(built.passages)
    loaded_docs, loaded_paragraphs = paragraph_keys(loaded.passages)
    assert loaded_paragraphs.tolist() == built_paragraphs.tolist()
    pairs = {}
    for a, b in zip(built_docs.tolist(), loaded_docs.tolist(), strict=True):
        assert pairs.setdefault(b, a) == a  # one document number for one doc_id
    assert len(set(pairs.values())) == len(pairs)
    assert loaded.paragraphs.of.tolist() == built.paragraphs.of.tolist()


def test_a_loaded_index_answers_as_the_built_one(engines):
    built, loaded = engines
    question = "GPT-5.2 错误率"
    a, b = built.ask(question, k=5), loaded.ask(question, k=5)
    assert b.results and [r.passage for r in b.results] == [r.passage for r in a.results]
    assert [r.excerpt for r in b.results] == [r.excerpt for r in a.results]
    assert [r.citations for r in b.results] == [r.citations for r in a.results]


def test_per_document_counts_and_passages_match_the_built_list(engines):
    built, loaded = engines
    counts = loaded.passage_counts()
    assert counts == built.passage_counts() and sum(counts.values()) == len(built.passages)
    assert len(counts) == len({p.doc_id for p in built.passages}) >= 5
    for doc_id in counts:
        assert (
            loaded.passages_of(doc_id) == built.passages_of(doc_id) == [p for p in built.passages if p.doc_id == doc_id]
        )
    assert loaded.passages_of("no such document") == built.passages_of("no such document") == []
