"""Ranking on top of BM25 (index/ranking.py): the paragraph context of split paragraphs, and proximity."""

from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from index.bm25 import BM25Index, BM25Params
from index.corpus import Document, DocumentInfo
from index.engine import Engine
from index.ranking import (
    BM25_PARAMS,
    Paragraphs,
    blended_idf,
    general_blend,
    latin_terms,
    paragraph_scores,
    proximity_applies,
    proximity_credit,
    reweighted_scores,
)


def _document(doc_id: str, text: str) -> Document:
    return Document(DocumentInfo(doc_id, f"{doc_id}.txt", doc_id, "", "", (), "", fingerprint=doc_id), text, 0, text)


def test_paragraph_score_is_bm25_of_the_whole_paragraph():
    # Passages 0 and 1 are one paragraph, 2 and 3 are single-passage paragraphs.
    passages = [["apple", "pie", "recipe"], ["pie", "crust", "butter", "apple"], ["pear", "tart"], ["apple"]]
    bm25 = BM25Index.build(passages, BM25Params(k1=0.9, b=0.4))
    paragraphs = Paragraphs.of_passages(["d", "d", "d", "e"], [1, 1, 2, 1], bm25.doc_len)
    assert paragraphs.split and paragraphs.of.tolist() == [0, 0, 1, 2]
    got = paragraph_scores(bm25, paragraphs, [("apple", ()), ("crust", ())], (), np.array([0, 1, 2, 3]))
    # The reference: BM25 with the paragraphs' lengths and term frequencies, the passages' idf.
    merged = [passages[0] + passages[1], passages[2], passages[3]]
    avgdl = sum(map(len, merged)) / 3
    expected = []
    for words in (merged[0], merged[0], merged[1], merged[2]):
        score = 0.0
        for term in ("apple", "crust"):
            tf = words.count(term)
            norm = 0.9 * (1 - 0.4 + 0.4 * len(words) / avgdl)
            score += float(bm25.idf[bm25.term_ids[term]]) * tf * 1.9 / (tf + norm)
        expected.append(score)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_paragraphs_are_numbered_in_the_order_they_first_come_whatever_the_document_keys():
    """Paragraph numbers as a dict numbering each (document, paragraph) on first sight gives them, from document
    ids or from document numbers (a loaded index's arrays), paragraphs not in order within a document."""
    rng = np.random.default_rng(7)
    documents = rng.integers(0, 40, 3000)
    paragraphs = rng.integers(0, 25, 3000)
    expected: dict[tuple[int, int], int] = {}
    keys = zip(documents.tolist(), paragraphs.tolist(), strict=True)
    reference = [expected.setdefault(key, len(expected)) for key in keys]
    doc_len = np.ones(3000)
    by_number = Paragraphs.of_passages(documents, paragraphs, doc_len)
    by_id = Paragraphs.of_passages([f"doc-{d}" for d in documents.tolist()], paragraphs.tolist(), doc_len)
    assert by_number.of.tolist() == reference == by_id.of.tolist()
    assert by_number.ptr.tolist() == by_id.ptr.tolist() and by_number.length.sum() == 3000
    empty = Paragraphs.of_passages([], [], np.ones(0))
    assert len(empty.of) == 0 and empty.ptr.tolist() == [0]


def test_expansions_score_a_paragraph_by_the_best_alternative():
    bm25 = BM25Index.build([["chip", "maker"], ["芯片", "公司"], ["bread"]], BM25Params())
    paragraphs = Paragraphs.of_passages(["a", "b", "c"], [1, 1, 1], bm25.doc_len)
    literal = paragraph_scores(bm25, paragraphs, [("chip", ())], (), np.array([0, 1]))
    expanded = paragraph_scores(bm25, paragraphs, [("chip", (("芯片", 0.5),))], (), np.array([0, 1]))
    assert literal[1] == 0 and expanded[1] == pytest.approx(0.5 * literal[0])
    assert expanded[0] == pytest.approx(literal[0])


def test_engine_scores_stay_bm25okapi_with_the_fitted_parameters():
    docs = [_document("a", "Solar panels convert light."), _document("b", "Wind turbines convert wind.")]
    engine = Engine.from_documents(docs)
    assert engine.bm25.params == BM25_PARAMS
    corpus = [engine.analyzer.terms(p.text) for p in engine.passages]
    reference = BM25Okapi(corpus, k1=BM25_PARAMS.k1, b=BM25_PARAMS.b, epsilon=BM25_PARAMS.epsilon)
    query = engine.analyze("convert wind")
    np.testing.assert_allclose(engine.scores(query), reference.get_scores(["convert", "wind"]), rtol=1e-5)


def test_a_piece_of_a_long_paragraph_is_found_through_its_paragraph():
    # The question names the subject (first sentences) and asks about a detail stated much later in the same
    # paragraph, beyond the 480-character cut; another document mentions the detail without the subject.
    filler = " ".join(f"The harbour authority also reported routine item number {i} during the year." for i in range(8))
    long_paragraph = f"The Kestrel Bridge opened to traffic in 1931. {filler} Its main span measures 412 metres."
    other = "A different bridge elsewhere has a main span that measures 300 metres, according to its builders."
    engine = Engine.from_documents([_document("bridge", long_paragraph), _document("other", other)])
    pieces = [p for p in engine.passages if p.doc_id == "bridge"]
    assert len(pieces) >= 2 and "412" in pieces[-1].text and "Kestrel" not in pieces[-1].text
    top = engine.search("How long is the main span of the Kestrel Bridge?", limit=3)
    assert engine.passages[top[0]].doc_id == "bridge"
    assert "412" in " ".join(engine.passages[pid].text for pid in top if engine.passages[pid].doc_id == "bridge")


def test_proximity_credits_words_standing_together():
    units = ["red", "panda"]
    weights = {"red": 1.0, "panda": 2.0}
    together = {"red": [3], "panda": [4]}
    apart = {"red": [0], "panda": [9]}
    assert proximity_credit(together, units, weights) == (1.0, 1.0)
    phrase, near = proximity_credit(apart, units, weights)
    assert phrase == 0 and near == pytest.approx(1 / 81)
    assert proximity_credit({"red": [1]}, units, weights) == (0.0, 0.0)


def test_proximity_ranks_the_phrase_above_scattered_words():
    docs = [
        _document("scattered", "The panda ate bamboo while a red kite circled over the valley at dawn."),
        _document("phrase", "A red panda climbed the tree and slept in the sun after eating bamboo."),
    ]
    engine = Engine.from_documents(docs)
    top = engine.search("where does the red panda sleep", limit=2)
    assert engine.passages[top[0]].doc_id == "phrase"


def test_proximity_applies_to_latin_questions_only():
    assert proximity_applies(["red", "panda"])
    assert not proximity_applies(["panda"])
    assert not proximity_applies(["red", "熊猫"])


def test_latin_terms_skip_chinese_without_joining_its_neighbours(analyzer):
    terms = latin_terms("openai 发布了 gpt models", analyzer.stem, analyzer.stopwords)
    assert terms == ["openai", "", "gpt", "model"]


def _small_town() -> Engine:
    # A corpus of ten passages: "say" (everyday) occurs once, "aqueduct" (rare in English) three times, so the
    # corpus' idf ranks "say" far above "aqueduct".
    texts = {
        "answer": "Councillor Varga called the aqueduct the pride of the valley and asked for its repair.",
        "distractor": "Councillor Varga did not say when the market would reopen.",
        "a1": "The aqueduct carried water to the lower town for two centuries.",
        "a2": "Engineers inspected the aqueduct after the spring floods.",
        "v1": "Councillor Varga chaired the budget meeting in March.",
        "f1": "The market sells fish, bread and cheese every morning.",
        "f2": "Fishing boats leave the harbour before dawn.",
        "f3": "The bakery on the square opens at six.",
        "f4": "Tourists visit the old chapel on the hill.",
        "f5": "The ferry to the island runs twice a day in summer.",
    }
    return Engine.from_documents([_document(doc_id, text) for doc_id, text in texts.items()])


def test_general_informativeness_outweighs_an_everyday_word_rare_in_a_small_corpus():
    engine = _small_town()
    question = "what did varga say about the aqueduct"
    assert engine.general_blend == pytest.approx(general_blend(len(engine.passages))) and engine.general_blend > 0.5
    assert engine.passages[engine.search(question, limit=1)[0]].doc_id == "answer"
    scores = engine.scores(engine.analyze(question))
    engine.general_blend = 0.0  # the corpus' idf alone: the passage with the everyday word wins
    assert engine.passages[engine.search(question, limit=1)[0]].doc_id == "distractor"
    np.testing.assert_array_equal(engine.scores(engine.analyze(question)), scores)  # BM25 itself is unchanged


def test_the_blend_fades_as_the_corpus_grows():
    sizes = [10, 1_000, 100_000]
    blends = [general_blend(n) for n in sizes]
    assert blends == sorted(blends, reverse=True) and blends[-1] < 0.02


def test_reweighted_scores_change_only_the_terms_given():
    bm25 = BM25Index.build([["say", "varga"], ["aqueduct", "varga"], ["aqueduct"], ["bread"]], BM25Params())
    groups = [[("varga", 1.0)], [("say", 1.0)], [("aqueduct", 1.0)]]
    candidates = np.array([0, 1])
    unchanged = {term: float(bm25.idf[bm25.term_ids[term]]) for term in ("say", "aqueduct")}
    np.testing.assert_allclose(reweighted_scores(bm25, groups, candidates, unchanged), [0.0, 0.0], atol=1e-12)
    idf = blended_idf(bm25, {"say": 0.0, "aqueduct": 1.0}, 0.5)
    change = reweighted_scores(bm25, groups, candidates, idf)
    assert change[0] < 0 < change[1]
