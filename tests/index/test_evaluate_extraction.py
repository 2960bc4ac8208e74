"""index/evaluate_extraction.py: both annotation formats, what counts as right, the timeline's recall rule and
floors, on a tiny invented corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.corpus import load_corpus
from index.engine import Engine
from index.errors import UserFacingError
from index.evaluate_extraction import (
    check_floors,
    evaluate_quotes,
    evaluate_timeline,
    parse_bounds,
    same_quote,
)

ARTICLES = {
    "harbour.txt": (
        "Harbour news\nExample Gazette, published 2024-05-16\n\n"
        "Harbour chief Nora Quist said on Tuesday that the new pier was finished. "
        '"We built it in record time," Quist said. The so-called "blue pier" will open in June.\n\n'
        '"It will change the town," a fisherman said.\n'
    ),
    "hk.txt": (
        "港口消息\n示例新聞（香港），2024-05-16\n\n"
        "港務局局長高麗華（Laura Gray）周二表示：「新碼頭已經完工，下月啟用。」高麗華說，工程「比預期快」。\n"
    ),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Path]:
    folder = tmp_path_factory.mktemp("eval-corpus")
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return Engine.from_documents(load_corpus(folder).documents, workers=1), folder


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_foreign_format_with_file_names_fragments_and_terms(corpus, tmp_path: Path) -> None:
    engine, _folder = corpus
    gold = _jsonl(
        tmp_path / "quotes.jsonl",
        [
            {"doc": "harbour.txt", "quote": "We built it in record time,", "speaker": "Quist", "kind": "speech"},
            {"doc": "harbour.txt", "quote": "It will change the town,", "speaker": "unattributed", "kind": "speech"},
            {"doc": "harbour.txt", "quote": "blue pier", "speaker": "unattributed", "kind": "term"},
            {"doc": "hk.txt", "quote": "新碼頭已經完工，下月啟用。", "speaker": "Laura Gray", "kind": "speech"},
            {"doc": "hk.txt", "quote": "比預期快", "speaker": "高麗華", "kind": "fragment"},
        ],
    )
    report = evaluate_quotes(engine, gold)
    # "Quist" = Nora Quist (lenient), 高麗華 = Laura Gray (the corpus pairs them), a fisherman = unattributed.
    assert (report["annotated"], report["correct"], report["wrong_speaker"]) == (3, 3, 0), report["errors"]
    assert report["terms_listed"] == 0  # the scare-quoted "blue pier" is not listed as a quotation


def test_a_term_listed_as_a_quotation_costs_precision(corpus, tmp_path: Path) -> None:
    engine, _folder = corpus
    gold = _jsonl(
        tmp_path / "quotes.jsonl",
        [{"doc_id": "harbour", "quote": "We built it in record time,", "speaker": "Nora Quist"}],
    )
    fake = [q for q in __import__("index.quotes", fromlist=["extract_quotes"]).extract_quotes(engine)]
    fake.append(type(fake[0])(**{**vars(fake[0]), "text": "blue pier", "speaker": "unattributed"}))
    rows = [*map(json.loads, gold.read_text(encoding="utf-8").splitlines())]
    rows.append({"doc_id": "harbour", "quote": "blue pier", "speaker": "unattributed", "kind": "term"})
    _jsonl(gold, rows)
    report = evaluate_quotes(engine, gold, fake)
    assert report["terms_listed"] == 1 and report["precision"] < 1.0
    assert any(e["error"] == "a term, not a quotation" for e in report["errors"])


def test_a_speaker_right_under_the_annotations_aliases(corpus, tmp_path: Path) -> None:
    engine, _folder = corpus
    (tmp_path / "aliases.json").write_text(json.dumps({"港務局局長": ["Laura Gray"]}, ensure_ascii=False))
    gold = _jsonl(
        tmp_path / "quotes.jsonl",
        [{"doc": "hk.txt", "quote": "新碼頭已經完工，下月啟用。", "speaker": "港務局局長", "kind": "speech"}],
    )
    assert evaluate_quotes(engine, gold)["correct"] == 1


def test_timeline_recall_needs_the_whole_period_inside_the_annotated_date(corpus, tmp_path: Path) -> None:
    engine, _folder = corpus
    gold = _jsonl(
        tmp_path / "timeline.jsonl",
        [
            {"doc": "harbour.txt", "date": "2024-05-14", "key": "said on Tuesday", "relative": True},
            {"doc": "hk.txt", "date": "2024-05-14", "key": "周二表示", "relative": True},
            {"doc": "hk.txt", "date": "2024-06", "key": "下月啟用", "relative": True},
            {"doc": "harbour.txt", "date": "2024-05-13", "key": "will open in June", "relative": False},
        ],
    )
    report = evaluate_timeline(engine, gold)
    assert (report["found"], report["annotated"]) == (3, 4)
    assert (report["relative_found"], report["relative"], report["absolute_found"]) == (3, 3, 0)
    [miss] = report["misses"]
    assert miss["date"] == "2024-05-13" and any("2024-06" in got for got in miss["got"])


def test_floors_and_bad_annotations(corpus, tmp_path: Path) -> None:
    report = {"precision": 0.9, "recall": None, "wrong_speaker": 1}
    assert check_floors(report, {"precision": 0.9}, {"wrong_speaker": 1}) == []
    assert check_floors(report, {"precision": 0.95, "recall": 0.5}, {"wrong_speaker": 0}) == [
        "precision = 0.9 is below 0.95",
        "recall = None is below 0.5",
        "wrong_speaker = 1 is above 0",
    ]
    with pytest.raises(UserFacingError, match="no figure called 'nope'"):
        check_floors(report, {"nope": 1}, {})
    with pytest.raises(UserFacingError, match="NAME=NUMBER"):
        parse_bounds(["recall"], "--min")
    engine, _folder = corpus
    bad = _jsonl(tmp_path / "bad.jsonl", [{"doc": "hk.txt", "date": "2024-13", "key": "x"}])
    with pytest.raises(UserFacingError, match="bad date"):
        evaluate_timeline(engine, bad)
    with pytest.raises(UserFacingError, match="no such file"):
        evaluate_quotes(engine, tmp_path / "missing.jsonl")


def test_same_quote_ignores_marks_and_spacing() -> None:
    assert same_quote("我们调查了说法。 ", "我们调查了说法。")
    assert same_quote("We built it in record time,", "we built it in record time")
    assert not same_quote("We built it", "We built it in record time, with a crew of forty people")
