"""Cross-language matching without a glossary: romanised Chinese names, n-grams of unknown names, Cantonese
function words, numbers written in words. Every corpus here is invented for the test."""

from __future__ import annotations

import pytest

from index.engine import Engine
from index.romanize import latin_key, name_keys, split_syllables
from index.tokenize import Analyzer, zh_numeral


def _engine(tmp_path, files: dict[str, str]) -> Engine:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return Engine.open(tmp_path, None)


def _first(engine: Engine, question: str) -> str:
    ids = engine.search(question, limit=3)
    assert ids, f"nothing found for {question!r}"
    return engine.passages[ids[0]].text


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def test_romanised_keys_cover_pinyin_and_wade_giles_in_both_orders():
    keys = name_keys("郭台铭")
    assert {"guotaiming", "taimingguo", "kuotaiming", "taimingkuo"} <= set(keys)
    assert latin_key("Tsai Ying-wen") == "tsaiyingwen" and "tsaiyingwen" in name_keys("蔡英文")
    assert split_syllables("Zhengfei") == ["zheng", "fei"]
    assert split_syllables("Samsung") is None  # not sa-m-sung


def test_english_question_in_pinyin_finds_the_chinese_name(tmp_path):
    engine = _engine(
        tmp_path,
        {
            "a.txt": "标题\n\n记者莫立伦报道，新工厂明年投产。\n\n天气晴朗，适合出游。莫立伦还说，工人在招聘中。\n",
            "b.txt": "标题二\n\n柯立伦认为市场仍在增长。\n\n港口的货运量下降了，柯立伦说。\n",
            # (more passages, so that a name in two of them has a positive idf)
            "c.txt": "标题三\n\n图书馆周末开放。\n\n公园里新种了一排树。\n\n地铁延长了运营时间。\n",
        },
    )
    assert "莫立伦" in _first(engine, "what did mo lilun report about the factory")
    assert "柯立伦" in _first(engine, "Li-lun Ko")  # Wade-Giles, given name first


def test_chinese_question_finds_the_name_romanised_in_english(tmp_path):
    engine = _engine(
        tmp_path,
        {
            "en.txt": "Title\n\nAnalyst Chang Wei-ming expects the new phone to ship in March.\n\n"
            "The weather was mild all week.\n",
            "en2.txt": "Other\n\nA ferry company raised its prices again.\n",
        },
    )
    assert "Chang Wei-ming" in _first(engine, "张伟明怎么说")
    assert ("romanised", "Chang Wei Ming", ()) in engine.aliases()


def test_unknown_names_are_terms_of_their_own(analyzer):
    spans = analyzer.spans("记者莫立伦报道")
    grams = [s.term for s in spans if s.gram]
    assert "莫立伦" in grams
    assert not any(s.gram and s.term.startswith("的") for s in analyzer.spans("他的莫立伦"))


def test_cantonese_function_words_are_dropped(analyzer):
    terms = analyzer.terms("佢喺邊度買咗幾多部手機？")
    assert not {"佢", "喺", "咗", "几多", "边度"} & set(terms)
    assert "手机" in terms


@pytest.mark.parametrize(
    ("word", "terms"),
    [("二十", ["20"]), ("两成", ["20%", "20"]), ("三千五百", ["3500"]), ("两万", ["20000", "2万"]), ("一样", [])],
)
def test_chinese_numerals_are_digits(word, terms):
    assert zh_numeral(word) == terms


def test_numbers_in_words_meet_digits(tmp_path, analyzer):
    assert "20" in analyzer.terms("twenty stores") and "20" in analyzer.terms("二十家店")
    engine = _engine(
        tmp_path,
        {
            "a.txt": "T\n\n兩成受訪者表示會換手機。\n\n另有一段說天氣。\n",
            "b.txt": "T2\n\nThe bakery opened 20 stores.\n",
        },
    )
    assert "兩成" in _first(engine, "是不是有20%的人会换手机")
    assert "20 stores" in _first(engine, "how many stores, twenty?")


def test_dictionary_abbreviations_are_glosses(tmp_path):
    engine = _engine(
        tmp_path,
        {"a.txt": "T\n\n这台电脑售价5999元人民币。\n\n另一段讲的是天气。\n", "b.txt": "T2\n\nRain is expected.\n"},
    )
    links = dict(engine._links("rmb"))
    assert "人民币" in links


def test_shorthand_for_a_product_the_corpus_writes_in_full(tmp_path):
    engine = _engine(
        tmp_path,
        {
            "a.txt": "T\n\nThe 14-inch RoadRunner Max starts at $1,299.\n\nA paragraph about the weather.\n",
            "b.txt": "T2\n\nThe city opened a new library.\n",
        },
    )
    assert "RoadRunner Max" in _first(engine, "price of the 14in rrm?")
