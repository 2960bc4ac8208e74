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


# -- the query kernel (index/_bm25kernel.c, and the numpy path used without it) ---------------------------------


def _zipf_corpus(seed: int, n_docs: int = 2000, n_terms: int = 400, length: int = 40) -> list[list[str]]:
    """Documents whose terms follow a Zipf-like law: a few terms in most documents (long postings, low idf), many
    rare ones; the shape where max-score pruning skips postings."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_terms + 1)
    p /= p.sum()
    return [[f"t{i}" for i in rng.choice(n_terms, size=rng.integers(1, length), p=p)] for _ in range(n_docs)]


def _reference_top(corpus, query, k=10):
    scores = BM25Okapi(corpus).get_scores(query)
    top = np.argsort(-scores, kind="stable")[:k]
    return [int(d) for d in top if scores[d] > 0], scores


@pytest.fixture(params=["c", "numpy"])
def kernel(request, monkeypatch):
    """Each query path: the C kernel, and the numpy code an install without a compiler uses."""
    from index import bm25

    if request.param == "numpy":
        monkeypatch.setattr(bm25, "_bm25kernel", None)
    elif bm25._bm25kernel is None:
        pytest.fail("the C kernel (index/_bm25kernel.c) is not built: pip install -e . needs a C compiler")
    return request.param


@pytest.fixture(scope="module")
def large_corpus():
    """More documents than the kernel's block (32,768): pruning starts in the second block, with the k-th best
    score of the first as its threshold. rank-bm25 scores a few queries (it is slow at this size)."""
    corpus = _zipf_corpus(3, n_docs=70_000, n_terms=3000, length=12)
    rng = np.random.default_rng(5)
    queries = []
    for _ in range(30):
        query = [f"t{i}" for i in rng.integers(0, 3000, size=rng.integers(2, 12))]
        query[0] = "t0"  # in most documents: a long posting list with a low bound
        queries.append(query)
    okapi = BM25Okapi(corpus)
    reference = [okapi.get_scores(query) for query in queries[:6]]
    return BM25Index.build(corpus), queries, reference


def test_top_k_equals_rank_bm25_with_and_without_pruning(kernel, large_corpus):
    index, queries, reference = large_corpus
    pruned = 0
    for n, query in enumerate(queries):
        # rank-bm25's own scores for the first queries; for the rest BM25Index.scores (dense, no kernel), which
        # the tests above hold to rank-bm25
        scores = reference[n] if n < len(reference) else index.scores(query)
        top = np.argsort(-scores, kind="stable")[:10]
        expected = [int(d) for d in top if scores[d] > 0]
        for prune in (True, False):
            ids, got = index.search([[(t, 1.0)] for t in query], 10, prune=prune)
            assert ids.tolist() == expected
            np.testing.assert_allclose(got, scores[expected], rtol=1e-6)
            pruned += prune and index.postings_walked < sum(index.df(t) for t in query)
        assert index.top_k(query, 10)[0].tolist() == expected
    assert pruned >= 10 or kernel == "numpy"  # the corpus is shaped so that pruning happens


def test_kernel_paths_agree_bit_for_bit_on_weighted_groups_and_exclusions(kernel):
    corpus = _zipf_corpus(8, n_docs=1500)
    index = BM25Index.build(corpus)
    rng = np.random.default_rng(9)
    for _ in range(40):
        groups = []
        for _ in range(rng.integers(1, 6)):
            members = [(f"t{i}", 1.0) for i in rng.integers(0, 400, size=1)]
            members += [
                (f"t{i}", float(rng.choice([0.7, 0.5, 0.3]))) for i in rng.integers(0, 400, size=rng.integers(0, 3))
            ]
            if rng.random() < 0.2:
                members[0] = ("absent-term", 1.0)  # a word the corpus lacks, with expansions it has
            groups.append(members)
        exclude = set(rng.integers(0, 1500, size=rng.integers(0, 30)).tolist())
        # the reference: dense arrays, groups added in order (index.bm25's definition)
        dense = np.zeros(index.n_docs)
        reached = np.zeros(index.n_docs, dtype=bool)
        for members in groups:
            best = np.zeros(index.n_docs)
            for position, (term, factor) in enumerate(members):
                ids, weights = index.postings(term)
                reached[ids] = True
                value = factor * weights.astype(np.float64)
                best[ids] = value if position == 0 else np.maximum(best[ids], value)
            dense += best
        for k, positive in ((10, True), (25, False), (-1, False)):
            eligible = [
                d for d in range(index.n_docs) if reached[d] and d not in exclude and (dense[d] > 0 or not positive)
            ]
            expected = sorted(eligible, key=lambda d: (-dense[d], d))
            expected = expected if k < 0 else expected[:k]
            for prune in (True, False):
                ids, scores = index.search(groups, k, exclude=exclude, positive=positive, prune=prune)
                if k < 0:  # every document reached, in no particular order
                    order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))
                    ids, scores = ids[order], scores[order]
                assert ids.tolist() == expected
                assert scores.tolist() == dense[expected].tolist()  # the same additions in the same order


def test_negative_idf_corpus_is_never_pruned_wrongly(kernel):
    # Every term in most documents: BM25Okapi's idf floor (epsilon x a negative average) makes contributions
    # negative, where max-score's bounds would not hold; the kernel must score exhaustively.
    corpus = [["a", "b"], ["a", "c", "c"], ["a", "b", "d"], ["a", "b", "c", "d"], ["a", "b", "c"]]
    index = BM25Index.build(corpus)
    assert (index.weights < 0).any()
    for query in (["a", "b"], ["c", "d", "a"], ["b", "b", "d"]):
        expected, _ = _reference_top(corpus, query)
        assert index.top_k(query, 3)[0].tolist() == expected[:3]
        ids, _ = index.search([[(t, 1.0)] for t in query], -1, positive=False)
        assert sorted(ids.tolist()) == sorted({d for t in query for d in index.postings(t)[0].tolist()})


def test_kernel_rejects_malformed_input_instead_of_reading_out_of_bounds():
    from index import bm25

    if bm25._bm25kernel is None:
        pytest.fail("the C kernel (index/_bm25kernel.c) is not built: pip install -e . needs a C compiler")
    index = BM25Index.build([["a", "b"], ["b"]])
    scratch = np.zeros(bm25._bm25kernel.WORKSPACE_BYTES, dtype=np.uint8)
    postings = (index.indptr, index.doc_ids, index.weights, index.max_weight, index.n_docs)
    no_docs = np.zeros(0, np.int32)

    def call(terms, groups, work=scratch):
        terms = np.array(terms, dtype=np.int64)
        factors = np.ones(len(terms))
        groups = np.array(groups, dtype=np.int64)
        return bm25._bm25kernel.top_k(*postings, terms, factors, groups, no_docs, 10, False, True, work)

    with pytest.raises(ValueError, match="term id"):
        call([5], [0, 1])
    with pytest.raises(ValueError, match="groups"):
        call([0], [0, 2])
    with pytest.raises(ValueError, match="groups"):
        call([0, 1], [0, 0, 2])  # an empty group
    with pytest.raises(ValueError, match="sizes"):
        call([0], [0, 1], work=scratch[:100])
    ids, _, _ = call([0, 1], [0, 1, 2])
    assert np.frombuffer(ids, np.int32).tolist() == [0, 1]


def test_a_reused_workspace_gives_what_a_fresh_one_gives():
    # The kernel leaves its accumulators as it found them (zero): a thread's workspace serves every query.
    corpus = _zipf_corpus(4, n_docs=500)
    index = BM25Index.build(corpus)
    rng = np.random.default_rng(2)
    queries = [[f"t{i}" for i in rng.integers(0, 400, size=rng.integers(1, 8))] for _ in range(30)]
    reused = [index.search([[(t, 1.0)] for t in q], 10, positive=False) for q in queries]
    for query, (ids, scores) in zip(queries, reused, strict=True):
        fresh = BM25Index.build(corpus).search([[(t, 1.0)] for t in query], 10, positive=False)
        assert ids.tolist() == fresh[0].tolist() and scores.tolist() == fresh[1].tolist()
