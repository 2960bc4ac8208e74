"""index/aliases.py on invented news text (not the seeds): pairings a corpus makes, lenient person names."""

from __future__ import annotations

import pytest

from index.aliases import AliasTable, Pairing, name_key, pairings, same_person, strip_honorifics
from index.glossary import Entry, Glossary

# Invented articles in the style of Chinese, Hong Kong, Taiwanese and English news.
HANT_SECURITY = (
    "美國網絡安全公司「雷霆」（Thunderbolt）週三公布報告，指有黑客組織長期入侵電訊商。"
    "該公司首席研究員高麗華（Laura Gray）表示，攻擊持續多年。高麗華又說，用戶應該為通訊加密。"
)
HANS_FOUNDER = "联合创始人萨姆·韦伯（Sam Webber）称，新模型将于明年推出。韦伯还表示，公司不会裁员。"
HANS_FOUNDER_DOTTED = "据悉约翰·史密斯（John Smith）昨日出席论坛。史密斯指出，芯片供应仍然紧张。"
HANS_SHORT_FORM = (
    "半导体巨头台湾积体电路制造公司（台积电）计划扩产，非营利组织绿色供应链观察（以下简称“绿链”）发表报告。"
    "台积电回应称，绿链的指控不实。"
)
EN_ACRONYMS = (
    "Shares of Northwind Analytics Group (NAG) fell 4% on Monday after the Federal Trade Commission (FTC) opened "
    "an inquiry. NAG said Ms. Holloway would step down."
)
HANT_TW = "晶片大廠臺積電 (TSMC) 今日公布財報。臺積電表示，先進製程需求強勁。"
LATIN_FIRST = "Orchid Robotics（兰花机器人）宣布完成新一轮融资。兰花机器人创始人表示，资金将用于研发。"
AMBIGUOUS = "他先在公司（Apple）工作，后来又到公司（Google）任职。"


@pytest.fixture(scope="module")
def table() -> AliasTable:
    return AliasTable.build(
        [
            HANT_SECURITY,
            HANS_FOUNDER,
            HANS_FOUNDER_DOTTED,
            HANS_SHORT_FORM,
            EN_ACRONYMS,
            HANT_TW,
            LATIN_FIRST,
            AMBIGUOUS,
        ]
    )


def test_han_name_before_latin_in_brackets() -> None:
    found = pairings(HANT_SECURITY)
    assert (
        Pairing("雷霆", "Thunderbolt", "han-latin") in found
    )  # the quotation marks around the name are not part of it
    assert Pairing("高麗華", "Laura Gray", "han-latin") in found  # cut after the title 首席研究员, by recurrence


def test_transliterated_name_keeps_its_given_name() -> None:
    assert pairings(HANS_FOUNDER) == [Pairing("萨姆·韦伯", "Sam Webber", "han-latin")]
    assert pairings(HANS_FOUNDER_DOTTED) == [Pairing("约翰·史密斯", "John Smith", "han-latin")]  # not 悉约翰 (据悉)


def test_short_forms_and_acronyms() -> None:
    assert Pairing("台湾积体电路制造公司", "台积电", "han-short") in pairings(HANS_SHORT_FORM)
    assert Pairing("绿色供应链观察", "绿链", "han-short") in pairings(HANS_SHORT_FORM)
    found = pairings(EN_ACRONYMS)
    assert Pairing("Northwind Analytics Group", "NAG", "acronym") in found
    assert Pairing("Federal Trade Commission", "FTC", "acronym") in found
    assert pairings("They met in a statement (AB) on Friday.") == []  # initials that do not match: no pairing


def test_latin_before_han_and_spaced_brackets() -> None:
    assert pairings(LATIN_FIRST) == [Pairing("Orchid Robotics", "兰花机器人", "latin-han")]
    assert pairings(HANT_TW) == [Pairing("臺積電", "TSMC", "han-latin")]


def test_forms_and_canonical_across_scripts(table: AliasTable) -> None:
    assert table.canonical("高丽华") == "Laura Gray"  # simplified lookup of a traditional pairing
    assert set(table.forms("Laura Gray")) == {"Laura Gray", "高麗華"}
    assert table.canonical("Ms. Gray") == "Laura Gray"  # honorific + surname
    assert table.canonical("韦伯") == "Sam Webber"  # the surname of the dotted name
    assert table.canonical("Mr. Webber") == "Sam Webber"
    assert table.canonical("臺積電") == "TSMC"
    assert table.canonical("台积电") == "TSMC" or table.canonical("台积电") == "台湾积体电路制造公司"
    assert table.canonical("兰花机器人") == "Orchid Robotics"
    assert table.canonical("NAG") == "Northwind Analytics Group"


def test_ambiguous_pairing_is_dropped(table: AliasTable) -> None:
    assert not table.known("公司")  # generic heads never pair
    assert not table.same("Apple", "Google")


def test_unknown_names_pass_through(table: AliasTable) -> None:
    assert table.canonical("Mr. Ortega") == "Ortega"
    assert table.forms("Ortega") == ("Ortega",)
    assert table.same("Ortega", "Luis Ortega")  # lenient matching still applies


def test_same_uses_the_table_and_lenient_names(table: AliasTable) -> None:
    assert table.same("高麗華", "Gray")
    assert table.same("Thunderbolt", "雷霆")
    assert not table.same("高麗華", "Sam Webber")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Esper", "Mark Esper", True),
        ("Mr. Cook", "Tim Cook", True),
        ("T. Cook", "Tim Cook", True),
        ("Tim Cook", "Tom Cook", False),
        ("Dr. Anna Lee", "Anna Lee", True),
        ("Lee", "Robert Cho", False),
        ("任先生", "任正非", True),  # surname + honorific
        ("任", "任正非", False),  # a bare one-character surname is no name
        ("奥特曼", "萨姆·奧特曼", True),  # the surname part of a transliteration, across scripts
        ("张勇", "張勇", True),
        ("张勇", "张伟", False),
        ("Cook", "库克", False),  # across scripts only through the table
        ("John Smith Jr.", "John Smith", True),
    ],
)
def test_same_person(a: str, b: str, same: bool) -> None:
    assert same_person(a, b) is same


def test_name_keys_and_honorifics() -> None:
    assert strip_honorifics("Ms. Holloway") == "Holloway"
    assert strip_honorifics("王女士") == "王"
    assert strip_honorifics("Mr.") == "Mr."  # nothing but an honorific is left as written
    assert name_key("Mark Esper").surname == "esper"
    assert name_key("萨姆·韦伯").surname == "韦伯"


def test_glossary_entries_join_pairings() -> None:
    glossary = Glossary([Entry("webber", "Sam Webber", "person", ("Sam Webber", "Webber", "韋伯"))])
    table = AliasTable.build([HANS_FOUNDER], glossary)
    assert table.canonical("韋伯") == "Sam Webber"
    assert {"Sam Webber", "萨姆·韦伯"} <= set(table.forms("Webber"))


def test_round_trip_through_json(table: AliasTable) -> None:
    again = AliasTable.from_json(table.to_json())
    assert again.canonical("高丽华") == "Laura Gray"
    assert again.pairs == table.pairs


def test_a_megabyte_run_of_han_characters_gives_a_short_form() -> None:
    text = "无标点的长段落" * 150_000 + "（Long Run）"  # ~1 MB of Han characters, then a pairing
    found = pairings(text)
    assert len(found) == 1 and len(found[0].first) <= 8 and found[0].second == "Long Run"
