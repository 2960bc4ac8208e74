"""The build pipeline (index/build.py, analysis.py, duplicates.py, tokencache.py): parallel tokenising, the token
cache, duplicates over signatures, and equality with the straightforward pipeline."""

import logging
import shutil

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

import index.analysis as analysis_module
import index.build as build_module
from index.analysis import passage_terms
from index.bm25 import BM25Index
from index.corpus import load_corpus
from index.duplicates import _duplicate_key, _match_key, collapse_duplicates
from index.engine import Engine
from index.normalize import fold
from index.passages import split_document
from index.ranking import BM25_PARAMS
from index.sources import index_path
from index.tokencache import token_cache_path

from ..conftest import SEEDS

A = "OpenAI 现在并不需要一个更强大的模型，它需要的是 AMD。如果 OpenAI 收购了 AMD，这场 AI 之战就将宣告结束。"
NEAR = A.replace("。如果", "。 如果").replace("结束", "结束了")
OTHER = "谷歌的 Gemini 3 在多项基准测试中领先，月活跃用户达到六亿五千万。"


def small_corpus(folder):
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text(
        f"红色警报\n{A}\n{OTHER}\n主持人\n这是一个很长的段落，讲的是别的事情和别的公司。\n", "utf-8"
    )
    (folder / "b.txt").write_text(f"{NEAR}\n完全不同的一段话，讲的是芯片和算力。\n{A}\n", "utf-8")
    # Markdown: a blank line ends a paragraph (a single newline does not)
    (folder / "c.md").write_text("The board met on Tuesday. " * 30 + "\n\n" + OTHER + "\n", "utf-8")
    return folder


def reference(engine):
    """Passages and postings as the straightforward pipeline makes them (split, collapse, tokenise, build)."""
    loaded = load_corpus(engine.corpus_dir)
    raw = [p for doc in loaded.documents for p in split_document(doc.doc_id, doc.text, doc.body_start)]
    passages = collapse_duplicates(raw)
    bm25 = BM25Index.build((passage_terms(engine.analyzer, engine.glossary, p.text) for p in passages), BM25_PARAMS)
    return passages, bm25


def assert_same_index(engine, passages, bm25):
    assert [(p.pid, p.doc_id, p.paragraph, p.start, p.end, p.text, p.label, p.duplicates) for p in engine.passages] == [
        (p.pid, p.doc_id, p.paragraph, p.start, p.end, p.text, p.label, p.duplicates) for p in passages
    ]
    assert sorted(engine.bm25.vocab) == sorted(bm25.vocab)
    np.testing.assert_array_equal(engine.bm25.doc_len, bm25.doc_len)
    for term in bm25.vocab:
        ours, theirs = engine.bm25.term_ids[term], bm25.term_ids[term]
        a, b = slice(*engine.bm25.indptr[ours : ours + 2]), slice(*bm25.indptr[theirs : theirs + 2])
        np.testing.assert_array_equal(engine.bm25.doc_ids[a], bm25.doc_ids[b])
        np.testing.assert_array_equal(engine.bm25.tfs[a], bm25.tfs[b])
        np.testing.assert_allclose(engine.bm25.weights[a], bm25.weights[b], rtol=1e-6)


def built_records(caplog):
    return [r for r in caplog.records if r.name == "index.build" and r.msg.startswith("built index")]


def test_build_equals_the_reference_pipeline_in_process_and_in_workers(tmp_path, monkeypatch):
    corpus = small_corpus(tmp_path / "corpus")
    serial = Engine.open(corpus, None, workers=1)
    passages, bm25 = reference(serial)
    assert any(p.duplicates for p in passages), "the fixture plants duplicates"
    assert_same_index(serial, passages, bm25)
    monkeypatch.setattr(analysis_module, "PARALLEL_MIN_CHARS", 0)
    parallel = Engine.open(corpus, None, workers=2)  # spawned worker processes, jieba initialised in each
    assert_same_index(parallel, passages, bm25)


def test_seed_corpus_index_equals_the_reference_pipeline(engine):
    passages, bm25 = reference(engine)
    assert_same_index(engine, passages, bm25)


def test_duplicate_key_is_the_passage_splitters(engine):
    for passage in engine.passages:
        assert _duplicate_key(fold(passage.text)) == _match_key(passage.text)


def test_rebuild_analyses_only_new_documents_and_gives_the_same_index(tmp_path, caplog):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    data = tmp_path / "data"
    caplog.set_level(logging.INFO, logger="index")
    first = Engine.open(corpus, data)
    assert token_cache_path(index_path(corpus, data)).exists()
    assert built_records(caplog)[-1].args[4] == len(first.documents)

    caplog.clear()
    Engine.open(corpus, data)
    assert not built_records(caplog), "an unchanged corpus is loaded, not built"

    (corpus / "2026-01-02-added.txt").write_text("英伟达发布了新的芯片 Rubin，算力翻倍。\n", encoding="utf-8")
    caplog.clear()
    incremental = Engine.open(corpus, data)
    analysed, total = built_records(caplog)[-1].args[4:6]
    assert (analysed, total) == (1, len(first.documents) + 1)
    assert any("Rubin" in p.text for p in incremental.passages)

    full = Engine.open(corpus, tmp_path / "other-data", rebuild=True)
    assert incremental.version == full.version
    assert_same_index(incremental, full.passages, full.bm25)
    assert incremental.bm25.vocab == full.bm25.vocab, "the same index, term numbers included"

    glossary = corpus / "glossary.toml"
    glossary.write_text(glossary.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    caplog.clear()
    Engine.open(corpus, data)
    analysed, total = built_records(caplog)[-1].args[4:6]
    assert analysed == total, "another glossary means other tokens: nothing is reused"


def test_removed_and_edited_documents_leave_the_index(tmp_path):
    corpus = small_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    Engine.open(corpus, data)
    (corpus / "b.txt").unlink()
    (corpus / "c.md").write_text("A new text about GPT-5.2 and its error rate.\n", encoding="utf-8")
    engine = Engine.open(corpus, data)
    assert {p.doc_id for p in engine.passages} == {"a", "c"}
    assert any("GPT-5.2" in p.text for p in engine.passages)
    assert_same_index(engine, *reference(engine))


def test_index_passages_are_cut_from_the_documents_on_load(tmp_path):
    corpus = small_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    built = Engine.open(corpus, data)
    loaded = Engine.open(corpus, data)
    assert [p.text for p in loaded.passages] == [p.text for p in built.passages]
    texts = {d.doc_id: d.text for d in load_corpus(corpus).documents}
    assert all(texts[p.doc_id][p.start : p.end] == p.text for p in loaded.passages)


def test_from_bags_equals_build_and_top_k_equals_a_stable_argsort():
    rng = np.random.default_rng(11)
    vocab = [f"t{i}" for i in range(40)]
    corpus = [list(rng.choice(vocab, size=rng.integers(0, 25))) for _ in range(400)]
    corpus[5] = corpus[6] = ["t1", "t2", "t2"]  # identical documents tie
    index = BM25Index.build(corpus)
    reference = BM25Okapi(corpus)
    for _ in range(30):
        query = list(rng.choice(vocab, size=rng.integers(1, 5)))
        scores = reference.get_scores(query)
        expected = [int(d) for d in np.argsort(-scores, kind="stable")[:10] if scores[d] > 0]
        top, top_scores = index.top_k(query, 10)
        assert top.tolist() == expected
        np.testing.assert_allclose(top_scores, scores[expected], rtol=1e-5)
    top, _ = index.top_k(["t1", "t2"], 3)
    assert 5 in top.tolist() and 6 in top.tolist() and top.tolist().index(5) < top.tolist().index(6)
    assert index.top_k(["absent"], 10)[0].tolist() == []


@pytest.mark.parametrize("k", [1, 2, 5])
def test_top_k_keeps_the_lowest_ids_among_ties(k):
    index = BM25Index.build([["a"], ["b"], ["a"], ["a"], ["c"]])
    assert index.top_k(["a"], k)[0].tolist() == [0, 2, 3][:k]


def test_a_large_corpus_is_built_in_a_separate_process(tmp_path, monkeypatch, caplog):
    corpus = small_corpus(tmp_path / "corpus")
    monkeypatch.setattr(analysis_module, "PARALLEL_MIN_CHARS", 0)  # "large": built elsewhere, then loaded
    caplog.set_level(logging.INFO, logger="index")
    engine = Engine.open(corpus, tmp_path / "data")
    (record,) = built_records(caplog)
    assert record.msg.endswith("in a separate process") and record.args[4:6] == (3, 3)
    assert any(r.msg.startswith("index loaded") for r in caplog.records), "then loaded from the file it wrote"
    assert_same_index(engine, *reference(engine))
    assert index_path(corpus, tmp_path / "data").exists()


def test_rebuild_in_a_build_process_with_its_helper_gives_the_same_index(tmp_path, caplog):
    # What Engine.open runs in a separate process for a large corpus: with a token cache, a helper process
    # tokenises the new document and computes the links while the build process finds duplicates.
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    data = tmp_path / "data"
    first = Engine.open(corpus, data)
    (corpus / "2026-01-02-added.txt").write_text(
        "英伟达发布了新的芯片 Rubin，算力翻倍。The chip doubles compute.\n", "utf-8"
    )
    caplog.set_level(logging.INFO, logger="index")
    stats = build_module._build_index_file(str(corpus), str(data), "search", False, 2)
    assert stats[4:6] == (1, len(first.documents) + 1), "one document analysed (by the helper)"
    assert not any(r.levelno >= logging.WARNING for r in caplog.records), "the helper did its work"
    rebuilt = Engine.open(corpus, data)  # current: loaded, not built
    full = Engine.open(corpus, tmp_path / "other-data", rebuild=True)
    assert rebuilt.version == full.version
    assert_same_index(rebuilt, full.passages, full.bm25)
    assert (rebuilt.en_to_zh, rebuilt.zh_to_en) == (full.en_to_zh, full.zh_to_en), "the same links"


SENTENCES = [
    "OpenAI 在十二月宣布进入红色警报状态，要求团队集中精力改进 ChatGPT。",
    "谷歌的 Gemini 3 在多项基准测试中领先，月活跃用户达到六亿五千万。",
    "Anthropic 的企业客户增长很快，收入在一年内翻了几倍。",
    "奥特曼在内部备忘录中说，接下来的几个星期会很艰难。",
    "英伟达的芯片供不应求，数据中心的建设速度决定了谁能训练更大的模型。",
    "广告业务被推迟，Sora 的投入也被暂停，公司要把算力留给核心产品。",
    "The board met on Tuesday to discuss the compute budget for next year.",
    "Analysts said the code red was a sign of pressure rather than panic.",
]


def _near_duplicate_corpus(folder, rng, count):
    """Documents of shuffled sentences: many passages are exact or near duplicates of passages elsewhere."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        paragraphs = []
        for _ in range(int(rng.integers(1, 4))):
            picked = rng.choice(len(SENTENCES), size=int(rng.integers(3, 7)), replace=True)
            text = "".join(SENTENCES[j] for j in picked)
            if rng.random() < 0.3:
                text = text.replace("的", "之", 1)  # a near duplicate rather than an exact one
            paragraphs.append(text)
        (folder / f"doc-{i:03d}.txt").write_text("\n".join(paragraphs) + "\n", encoding="utf-8")


def test_incremental_duplicate_decisions_equal_a_full_build(tmp_path, caplog):
    rng = np.random.default_rng(5)
    corpus = tmp_path / "corpus"
    _near_duplicate_corpus(corpus, rng, 40)
    data = tmp_path / "data"
    Engine.open(corpus, data)
    changes = [
        lambda: (corpus / "doc-000a.txt").write_text(SENTENCES[0] * 3 + "\n" + SENTENCES[1] * 2 + "\n", "utf-8"),
        lambda: (corpus / "doc-010.txt").unlink(),
        lambda: (corpus / "doc-020.txt").rename(corpus / "zz-doc-020.txt"),
        lambda: (corpus / "doc-005.txt").write_text(SENTENCES[3] + SENTENCES[4] + "\n", "utf-8"),
        lambda: (corpus / "doc-030.txt").rename(corpus / "doc-000b.txt"),
    ]
    caplog.set_level(logging.DEBUG, logger="index")
    for step, change in enumerate(changes):
        change()
        caplog.clear()
        incremental = Engine.open(corpus, data)
        analysed, total = built_records(caplog)[-1].args[4:6]
        assert analysed < total, "a rebuild from the token cache"
        (decided,) = [r.args for r in caplog.records if r.msg.startswith("duplicates:")]
        assert decided[0] < decided[1], "only the passages a change can reach are decided again"
        full = Engine.open(corpus, tmp_path / f"full-{step}", rebuild=True)
        loaded = load_corpus(corpus)
        raw = sum(len(split_document(d.doc_id, d.text, d.body_start)) for d in loaded.documents)
        assert raw - len(full.passages) > 5, "the corpus has duplicates to collapse"
        assert sum(len(p.duplicates) for p in full.passages) >= 1, "and verbatim ones, cited where they stood"
        assert_same_index(incremental, full.passages, full.bm25)
        assert_same_index(incremental, *reference(incremental))


def test_bags_gathered_by_blocks_equal_one_gather(monkeypatch):
    from types import SimpleNamespace

    from index.arrays import offsets, ranges

    rng = np.random.default_rng(5)
    ptr = offsets([rng.integers(0, 12, 1000)])
    combined = SimpleNamespace(
        bag_ptr=ptr,
        bag_terms=rng.integers(0, 5000, int(ptr[-1])).astype(np.int32),
        bag_counts=rng.integers(1, 70, int(ptr[-1])).astype(np.uint16),
    )
    kept = rng.permutation(np.sort(rng.choice(1000, 700, replace=False)))
    bag_ptr = offsets([ptr[kept + 1] - ptr[kept]])
    monkeypatch.setattr(build_module, "_GATHER_ROWS", 64)  # many blocks, the last one partial
    terms, counts = build_module._gather_bags(combined, kept, bag_ptr)
    selected = ranges(ptr[kept], ptr[kept + 1])
    assert np.array_equal(terms, combined.bag_terms[selected]) and terms.dtype == np.int32
    assert np.array_equal(counts, combined.bag_counts[selected]) and counts.dtype == np.uint16
