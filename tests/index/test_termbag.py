"""The build's per-term loops in C (index/_termbag.c) against their Python reference: the same terms, in the same
order, and the same bags, on the seeds, CMRC 2018 / DRCD / SQuAD paragraphs and invented edge cases."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from index import analysis, tokenize
from index.analysis import _ANALYSIS_ARRAYS, _analyse_documents, _number_bag
from index.corpus import document_files
from index.glossary import Glossary
from index.normalize import fold
from index.tokenize import Analyzer

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
SHARED_BENCH = ROOT.parent / "shared" / "bench"

# Invented: supplementary-plane and extension-A characters (outside jieba's own Han class), runs of unknown
# one-character words with stopword characters at their ends, Latin and numbers between Han runs, a run at the
# very start and end, a lone character, newlines inside the text.
EDGE_TEXTS = [
    "",
    "錤",
    "郭明錤说，莫乃光的蓬佩奥史东在𠮶里见了㐀㐁两人。",
    "的郭明錤的之锋了黄之锋吗",
    "GPT-5.2-Codex 在 2025 年 1.4 万亿 38% 的份额\n第二行：蓬佩奥 16in 屏幕\n\n三行",
    "中华人民共和国成立𫓹𫓹𫓹于北京",
    "a 甲 b 乙 c 丙丁戊己 d",
]


def _sample_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in document_files(SEEDS)]
    for name in ("cmrc2018/cmrc2018_dev.json", "drcd/DRCD_dev.json", "squad/squad_dev_a.json"):
        path = SHARED_BENCH / name
        if not path.exists():
            pytest.fail(f"{path} is missing (../shared/bench)")
        data = json.loads(path.read_text(encoding="utf-8"))
        texts.extend(p["context"] for article in data["data"][:8] for p in article["paragraphs"])
    return texts + EDGE_TEXTS


@pytest.fixture(autouse=True)
def _built():
    if tokenize._termbag is None:
        pytest.fail("the C extension (index/_termbag.c) is not built: pip install -e . needs a C compiler")


def _python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokenize, "_termbag", None)
    monkeypatch.setattr(analysis, "number_bag", _number_bag)


@pytest.mark.parametrize(("segmenter", "mode"), [("rjieba", "search"), ("rjieba", "precise"), ("jieba", "search")])
def test_c_terms_equal_python_terms(monkeypatch, segmenter, mode):
    analyzer = Analyzer(userdicts=[SEEDS / "userdict.txt"], mode=mode, segmenter=segmenter, whole_dictionary=True)
    texts = _sample_texts()
    in_c = [analyzer.terms(text) for text in texts]
    _python(monkeypatch)
    fresh = Analyzer(userdicts=[SEEDS / "userdict.txt"], mode=mode, segmenter=segmenter, whole_dictionary=True)
    for text, terms in zip(texts, in_c, strict=True):
        assert terms == fresh.terms(text), text[:40]
    assert fold("郭明錤") in in_c[-5] and "2025" in in_c[-3]  # an n-gram of an unknown name; a number between runs


def test_c_bags_equal_python_bags(monkeypatch):
    glossary = Glossary.load(SEEDS / "glossary.toml")
    analyzer = Analyzer(userdicts=[SEEDS / "userdict.txt"], whole_dictionary=True)
    jobs = [(text, 0, f"doc{i}") for i, text in enumerate(_sample_texts())]
    vocab: dict[str, int] = {}
    in_c = [
        _analyse_documents(jobs[:100], analyzer, glossary, vocab),
        _analyse_documents(jobs[100:], analyzer, glossary, vocab),
    ]
    _python(monkeypatch)
    vocab = {}
    in_python = [
        _analyse_documents(jobs[:100], analyzer, glossary, vocab),
        _analyse_documents(jobs[100:], analyzer, glossary, vocab),
    ]
    for c_part, py_part in zip(in_c, in_python, strict=True):
        for name in _ANALYSIS_ARRAYS:
            assert np.array_equal(getattr(c_part, name), getattr(py_part, name)), name
        assert c_part.terms == py_part.terms and c_part.term_base == py_part.term_base
    assert len(in_c[1].bag_terms) > 1000 and in_c[1].term_base > 0


def test_bag_counts_in_order_of_first_occurrence():
    vocab = {"b": 0}
    bag_terms: list[int] = []
    bag_counts: list[int] = []
    terms = ["a", "b", "a", "c", "a", "b", "d"] + ["e"] * 70_000
    assert tokenize._termbag.bag(terms, vocab, bag_terms, bag_counts) == 5
    assert vocab == {"b": 0, "a": 1, "c": 2, "d": 3, "e": 4}
    assert bag_terms == [1, 0, 2, 3, 4] and bag_counts == [3, 2, 1, 1, 70_000]
    assert tokenize._termbag.bag([], vocab, bag_terms, bag_counts) == 0 and len(bag_terms) == 5
    rng = np.random.default_rng(3)
    for _ in range(20):
        words = [f"w{int(i)}" for i in rng.integers(0, 300, size=int(rng.integers(0, 2000)))]
        c_vocab, py_vocab = {"w7": 0}, {"w7": 0}
        c_out: tuple[list[int], list[int]] = ([], [])
        py_out: tuple[list[int], list[int]] = ([], [])
        assert tokenize._termbag.bag(words, c_vocab, *c_out) == _number_bag(words, py_vocab, *py_out)
        assert c_vocab == py_vocab and c_out == py_out
        assert dict(zip(c_out[0], c_out[1], strict=True)) == {c_vocab[w]: n for w, n in Counter(words).items()}
