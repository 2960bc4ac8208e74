import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from index.bm25 import BM25Index
from index.engine import clean_question, passage_terms
from index.ranking import BM25_PARAMS


def _parity(corpus, query):
    reference = BM25Okapi(corpus).get_scores(query)
    ours = BM25Index.build(corpus).scores(query)
    top_ref = np.argsort(-reference, kind="stable")[:10]
    top_ours = np.argsort(-ours, kind="stable")[:10]
    assert list(top_ours) == list(top_ref)
    np.testing.assert_allclose(ours[top_ours], reference[top_ref], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)


def test_parity_with_rank_bm25_on_the_seed_passages(engine):
    corpus = [engine.analyzer.terms(p.text) for p in engine.passages]
    for question in [
        "OpenAI 为什么要暂停 Sora?",
        "How many monthly active users does Gemini have?",
        "紅色警報 算力 芯片",
    ]:
        _parity(corpus, engine.analyzer.terms(clean_question(question)))


def test_parity_with_negative_idf_floor_and_repeated_query_terms():
    # "a" is in every document: BM25Okapi floors its negative idf to epsilon * average idf.
    corpus = [["a", "b"], ["a", "c", "c"], ["a", "d"], ["a", "b", "d", "e"], ["a"]]
    _parity(corpus, ["a", "b", "b", "zzz"])


def test_random_corpora_parity():
    rng = np.random.default_rng(7)
    vocab = [f"t{i}" for i in range(60)]
    corpus = [list(rng.choice(vocab, size=rng.integers(1, 30))) for _ in range(300)]
    for _ in range(20):
        _parity(corpus, list(rng.choice(vocab, size=rng.integers(1, 6))))


def test_query_cost_is_postings_not_corpus():
    index = BM25Index.build([["x"] * 3, ["y"], ["x", "y"]])
    ids, weights = index.postings("x")
    assert list(ids) == [0, 2] and len(weights) == 2
    assert len(index.postings("absent")[0]) == 0
    assert list(index.contains("y", np.array([0, 1, 2], dtype=np.int32))) == [False, True, True]


def test_engine_scores_without_expansion_equal_rank_bm25(engine):
    corpus = [passage_terms(engine.analyzer, engine.glossary, p.text) for p in engine.passages]
    query = engine.analyze("Mark Chen 的研究")
    plain = [c.term for c in query.concepts]
    stripped = type(query)(query.text, tuple(type(c)(c.term, c.start, c.end, (), c.unit) for c in query.concepts))
    reference = BM25Okapi(corpus, k1=BM25_PARAMS.k1, b=BM25_PARAMS.b, epsilon=BM25_PARAMS.epsilon)
    np.testing.assert_allclose(engine.scores(stripped), reference.get_scores(plain), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("k1,b", [(1.2, 0.75), (1.5, 0.3)])
def test_parameters_follow_rank_bm25(k1, b):
    from index.bm25 import BM25Params

    corpus = [["a", "b"], ["b", "c", "c", "c"], ["d"], ["a", "c"]]
    ours = BM25Index.build(corpus, BM25Params(k1=k1, b=b)).scores(["c", "a"])
    np.testing.assert_allclose(ours, BM25Okapi(corpus, k1=k1, b=b).get_scores(["c", "a"]), rtol=1e-5)


def test_postings_built_in_small_blocks_equal_one_block_and_rank_bm25():
    # from_bags sorts postings a block of terms at a time; tiny blocks (and weights computed in tiny chunks)
    # must give the same index as one block, and rank-bm25's scores.
    rng = np.random.default_rng(11)
    vocab = [f"t{i}" for i in range(80)]
    corpus = [list(rng.choice(vocab, size=rng.integers(0, 25))) for _ in range(200)]
    one = BM25Index.build(corpus)
    ptr = np.zeros(len(corpus) + 1, dtype=np.int64)
    terms, counts = [], []
    for d, doc in enumerate(corpus):
        bag = {}
        for token in doc:
            bag[one.term_ids[token]] = bag.get(one.term_ids[token], 0) + 1
        terms.extend(bag)
        counts.extend(bag.values())
        ptr[d + 1] = len(terms)
    small = BM25Index.from_bags(one.vocab, ptr, np.asarray(terms), np.asarray(counts), chunk=5)
    np.testing.assert_array_equal(small.indptr, one.indptr)
    np.testing.assert_array_equal(small.doc_ids, one.doc_ids)
    np.testing.assert_array_equal(small.tfs, one.tfs)
    np.testing.assert_array_equal(small._posting_weights(chunk=7), one.weights)
    for _ in range(10):
        query = list(rng.choice(vocab, size=3))
        np.testing.assert_allclose(small.scores(query), BM25Okapi(corpus).get_scores(query), rtol=1e-5, atol=1e-6)
