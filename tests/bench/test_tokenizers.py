"""The tokeniser study's arithmetic and report (the measurements themselves run in `python -m bench.tokenizers`)."""

import json

from bench.tokenizers import (
    Agreement,
    Retrieval,
    SegmenterResult,
    TokenizerStudy,
    _retrieval,
    markdown,
    measure_agreement,
)


def test_agreement_counts_identical_texts_and_shared_terms():
    reference = [["红色", "警报"], ["亲往", "刘"], ["a", "b", "b"]]
    other = [["红色", "警报"], ["亲", "往", "刘"], ["b", "a", "b"]]
    agreement = measure_agreement(reference, other)
    assert agreement.texts == 3 and agreement.identical == 1 / 3  # order counts for "identical"
    assert agreement.terms == 6 / 7  # bags: 亲往 is the one reference term not found


def test_retrieval_with_each_segmenter_on_a_squad_file(tmp_path):
    data = {
        "data": [
            {
                "title": "t",
                "paragraphs": [
                    {"context": "谷歌的月活用户增长到六亿五千万。", "qas": [{"question": "谷歌的月活用户有多少?"}]},
                    {"context": "奥特曼宣布公司进入红色警报状态。", "qas": [{"question": "谁宣布了红色警报?"}]},
                    # others without questions, so that a word in one paragraph has a positive idf (BM25Okapi)
                    *({"context": text, "qas": []} for text in ("天气晴朗。", "股市上涨。", "比赛结束。")),
                ],
            }
        ]
    }
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    for segmenter in ("rjieba", "jieba"):
        figures = _retrieval(path, segmenter, None)
        assert figures.questions == 2 and figures.hit1 == 1.0 and figures.mrr10 == 1.0


def test_markdown_has_every_segmenter_and_set():
    def result(name: str, speed: float) -> SegmenterResult:
        return SegmenterResult(
            name,
            "1.0",
            {"seeds": Agreement(5, 1.0, 1.0), "CMRC": Agreement(848, 0.9988, 1.0)},
            {"CMRC": Retrieval(3219, 0.967, 0.997, 0.981)},
            speed,
            0.3,
            0.2,
            0.6 if name == "rjieba" else None,
        )

    study = TokenizerStudy((result("rjieba", 600_000), result("jieba", 150_000)), 1_000, ("jieba-fast",))
    text = markdown(study)
    assert "| rjieba 1.0 | 100.00% / 100.00% | 99.88% / 100.00% |" in text
    assert "| rjieba | 600,000 | 4.00× |" in text and "whole dictionary 0.600" in text
    assert "Not installed" in text and "jieba-fast" in text
