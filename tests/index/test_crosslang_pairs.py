"""Cross-language links /ask builds from the corpus and CC-CEDICT, without a glossary: the names and terms a
corpus pairs itself (雲盾（Skyward）) and proper names in CC-CEDICT (华为 "Huawei"). Every corpus here is invented
for the test."""

from __future__ import annotations

import pytest

from index.crosslang import NAME, link_candidates
from index.engine import Engine
from index.tokenize import Analyzer

# A Chinese article that gives a company's and a person's English names once, in brackets, and then uses only
# the Chinese forms; two unrelated articles so that the names have a positive idf.
_PAIRED = {
    "zh.txt": "雲盾報告\n\n加拿大網絡保安公司「雲盾」（Skyward）周二發表報告，指一批路由器存在漏洞。\n\n"
    "雲盾建議用戶盡快更新路由器的韌體，並更改預設密碼。\n\n"
    "該公司研究主管韋德文（Brandon Wexley）表示，漏洞已存在多年。\n\n"
    "韋德文說，受影響的型號已經停產。\n",
    "other.txt": "Harbour news\n\nThe harbour authority dredged the eastern channel in March.\n\n"
    "Ferry timetables change next week.\n",
    "other2.txt": "天氣\n\n本週天氣晴朗，氣溫回升。\n\n週末有雨。\n",
}


def _engine(tmp_path, files: dict[str, str]) -> Engine:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return Engine.open(tmp_path, None)


@pytest.fixture(scope="module")
def paired(tmp_path_factory) -> Engine:
    return _engine(tmp_path_factory.mktemp("paired"), _PAIRED)


def test_a_name_the_corpus_pairs_reaches_the_paragraphs_that_only_write_the_other_form(paired):
    # "Skyward" is in no dictionary: only the corpus' own 「雲盾」（Skyward） links it to 雲盾.
    ids = paired.search("what does skyward recommend users do", limit=3)
    assert ids and "雲盾建議用戶" in paired.passages[ids[0]].text
    answer = paired.ask("what does skyward recommend users do")
    assert not answer.abstained and "雲盾建議用戶" in answer.results[0].passage.text


def test_a_paired_person_is_found_by_surname_and_from_the_han_side(paired):
    # The surname alone ("Wexley") is a form of the pairing 韋德文（Brandon Wexley）: it also reaches the paragraph
    # that writes only 韋德文.
    found = [paired.passages[i].text for i in paired.search("what did wexley say about the models", limit=3)]
    assert any("韋德文說" in text for text in found)
    forms = {row[1]: row[2] for row in paired.aliases() if row[0] == "paired"}
    assert "skyward" in forms and set(forms["skyward"]) <= {"云盾", "盾"}
    assert "wexley" in forms


def test_a_chinese_question_reaches_english_text_through_the_pairing(tmp_path):
    files = dict(_PAIRED)
    files["en.txt"] = "Router flaw\n\nBrandon Wexley told reporters the flaw affects discontinued models only.\n"
    engine = _engine(tmp_path, files)
    query = engine.analyze("韋德文怎麼說")
    assert any("brandon" in dict(c.expansions) or "wexley" in dict(c.expansions) for c in query.concepts)


def test_proper_names_in_cedict_link_as_names_both_ways():
    analyzer = Analyzer()
    zh = {"华为", "河内", "库克", "苹果", "联邦调查局"}
    en = {"huawei", "hanoi", "cook", "appl", "fbi"}
    en_to_zh, zh_to_en, lexicon = link_candidates(zh, en, analyzer.stem, analyzer.stopwords)
    assert en_to_zh["huawei"]["华为"] == NAME and zh_to_en["华为"]["huawei"] == NAME  # "Huawei (brand)"
    assert en_to_zh["hanoi"]["河内"] == NAME  # "Hanoi, capital of Vietnam"
    assert en_to_zh["fbi"]["联邦调查局"] == NAME  # "Federal Bureau of Investigation (FBI)"
    # An ordinary word is no name from English ("cook"), though 库克 [Ku4 ke4] "Cook (name)" is one from Chinese;
    # 苹果 [ping2 guo3] is no proper noun at all.
    assert en_to_zh["cook"]["库克"] < NAME and zh_to_en["库克"]["cook"] == NAME
    assert en_to_zh["appl"]["苹果"] < NAME and "cook" in lexicon.ordinary


def test_an_english_question_about_a_chinese_article_is_answered_through_a_proper_name(tmp_path):
    engine = _engine(
        tmp_path,
        {
            "zh.txt": "新品\n\n华为周三在深圳发布了一款折叠屏平板电脑，售价一万元。\n\n"
            "河内市政府宣布扩建地铁二号线。\n\n本地一家面包店开了新分店。\n",
            "zh2.txt": "天气\n\n本周天气晴朗，气温回升。\n\n周末有雨。\n",
        },
    )
    # Nothing of the question is written in the corpus: only CC-CEDICT's proper names reach it, and as names
    # they are evidence (a passage reached only through ordinary dictionary links is not).
    answer = engine.ask("what did huawei launch")
    assert not answer.abstained and "华为" in answer.results[0].passage.text
    answer = engine.ask("hanoi metro expansion")
    assert not answer.abstained and "河内" in answer.results[0].passage.text


def test_taiwan_and_mainland_words_for_one_thing_meet(tmp_path):
    engine = _engine(
        tmp_path,
        {
            "hans.txt": "标题\n\n这家工厂今年生产的芯片大多卖给了汽车厂商。\n\n工厂附近新开了一家咖啡馆。\n",
            "hant.txt": "標題\n\n該公司的軟體更新延後到明年三月。\n\n公司附近的公園整修完畢。\n",
            "other.txt": "天气\n\n本周天气晴朗。\n\n周末有雨。\n",
        },
    )
    # 晶片 (Taiwan) is the mainland's 芯片; 软件 (mainland) is Taiwan's 軟體: folding the script alone meets neither.
    assert any("芯片" in dict(c.expansions) for c in engine.analyze("這家工廠的晶片賣給誰").concepts)
    assert "芯片大多卖给" in _first_text(engine, "晶片賣給了誰")
    assert "軟體更新延後" in _first_text(engine, "软件更新推迟到什么时候")


def test_a_cantonese_question_drops_the_copula_that_folds_onto_a_written_word(tmp_path):
    engine = _engine(tmp_path, {"a.txt": "T\n\n系統升級之後，網站速度快了一倍。\n\n另一段講天氣。\n"})
    cantonese = [c.term for c in engine.analyze("網站係咪快咗一倍？係唔係真㗎").concepts]
    assert "系" not in cantonese and "网站" in cantonese
    # Without a Cantonese mark, 係 stays what written Chinese makes of it.
    assert "系" in [c.term for c in engine.analyze("本法所稱勞工係 指受僱者").concepts]


def _first_text(engine: Engine, question: str) -> str:
    ids = engine.search(question, limit=1)
    assert ids, f"nothing found for {question!r}"
    return engine.passages[ids[0]].text
