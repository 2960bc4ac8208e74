"""Attribution rules as news writes them, each on invented sentences (none from the seeds or the dev sets):
speech verbs before and after, inverted order, titles and roles, transliterated names, organisations, quoted
names, Hong Kong honorific names and Cantonese, quotations over paragraphs and inside quotations, surname and
pronoun back-reference, unnamed sources; and speakers across forms and scripts for /quote speaker:."""

from __future__ import annotations

import pytest

from index.corpus import load_corpus
from index.engine import Engine
from index.quotes import UNATTRIBUTED, QuoteIndex

from ..conftest import ROOT

ARTICLES = {
    "en_council.txt": (
        "Council approves budget\nExample Wire, published 2024-05-16\n\n"
        'Councillor Dana Whitmore proposed the cuts. "We cannot spend what we do not have," said Ms. Whitmore.\n\n'
        'Treasurer Paul Okafor disagreed. "These cuts fall on the people who need help most," Okafor told '
        'Whitmore during the debate, "and I will not vote for them."\n\n'
        '"We found savings elsewhere," he said.\n\n'
        "Whitmore later recounted how a resident had stopped her: \"She said, 'Don't close my library,' and I "
        'promised I would not."\n\n'
        '"This is not over," the mayor said.\n\n'
        '"The vote was close," according to Example News.\n'
    ),
    "en_longquote.txt": (
        "A long statement\nExample Daily, published 2024-05-16\n\n"
        'Robotics pioneer Ilse Varga spoke for an hour. She began: "When we started, nobody believed a machine '
        "could fold laundry.\n\n"
        '"Today it folds better than I do, and it never complains about the socks."\n'
    ),
    "hans_minister.txt": (
        "示例国外长访华\n示例新闻网，2024-05-16\n\n"
        "示例国外交部长格雷戈尔周三在北京表示，两国将加强合作。格雷戈尔说：“我们的合作才刚刚开始。”\n\n"
        "蓝鲸科技公司当天对记者表示，“公司将在明年推出新一代芯片，性能提升一倍。”\n\n"
        "业内人士认为，“这样的目标过于乐观。”\n\n"
        "蓝鲸科技公司声明称，公司已完成测试。相关产品已进入量产准备阶段。“我们对产品质量充满信心。”\n\n"
        "据《示例财经日报》报道称，“蓝鲸的订单已经排到了后年。”会议在上海举行。\n"
    ),
    "hant_hk.txt": (
        "小店求生\n示例新聞（香港），2024-05-16\n\n"
        "網絡保安公司「雷霆」表示，「過去一年的攻擊次數增加了三倍」。\n\n"
        "在深水埗開設文具店二十年的陳生表示，生意大不如前。佢話：「而家啲人都喺網上買嘢，我哋點做落去？」\n\n"
        "立法會議員梁美儀前日到訪。她說：「政府應該幫小店一把。」\n"
    ),
    "hant_pairing.txt": (
        "專家示警\n示例通訊社，2024-05-16\n\n"
        "資安公司首席研究員葛蘭特（Nora Grant）說，「攻擊者已經改變了手法」。葛蘭特指，用戶應盡快更新系統。\n"
    ),
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> QuoteIndex:
    folder = tmp_path_factory.mktemp("rules")
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return QuoteIndex.build(Engine.from_documents(load_corpus(folder).documents, workers=1))


def quote(index: QuoteIndex, start: str):
    matches = [q for q in index.quotes if q.text.startswith(start)]
    assert len(matches) == 1, (start, [q.text for q in index.quotes])
    return matches[0]


@pytest.mark.parametrize(
    ("start", "speaker"),
    [
        ("We cannot spend", "Dana Whitmore"),  # inverted: said Ms. Whitmore (honorific + surname)
        ("These cuts fall", "Paul Okafor"),  # after: Okafor told Whitmore (the addressee is not the speaker)
        ("and I will not vote", "Paul Okafor"),  # the second half of a quotation split by its attribution
        ("We found savings", "Paul Okafor"),  # he said: the last speaker, not Whitmore named as his addressee
        ("She said, 'Don't close", "Dana Whitmore"),  # recounted ...: a quotation with a quotation inside
        ("This is not over", UNATTRIBUTED),  # the mayor: a role without a name
        ("When we started", "Ilse Varga"),  # a quotation running over two paragraphs (the mark reopens)
        ("Today it folds better", "Ilse Varga"),
        ("我们的合作才刚刚开始", "格雷戈尔"),  # 外交部长 + a transliterated name, then the name alone
        ("公司将在明年推出", "蓝鲸科技公司"),  # an organisation as the subject
        ("这样的目标过于乐观", UNATTRIBUTED),  # 业内人士: an unnamed source
        ("我们对产品质量充满信心", "蓝鲸科技公司"),  # reported speech over sentences, then the quotation
        ("過去一年的攻擊次數", "雷霆"),  # a company named in quotation marks
        ("蓝鲸的订单已经排到了后年", "示例财经日报"),  # the paper that reported the words; 上海 never speaks
        ("而家啲人都喺網上買嘢", "陳生"),  # Cantonese 佢話 after a surname with an honorific
        ("政府應該幫小店一把", "梁美儀"),  # a legislator named the day before yesterday, then 她說
        ("攻擊者已經改變了手法", "Nora Grant"),  # 葛蘭特（Nora Grant）: the pairing gives the canonical name
    ],
)
def test_attribution(index: QuoteIndex, start: str, speaker: str) -> None:
    assert quote(index, start).speaker == speaker


def test_a_news_agency_is_a_speaker_only_when_it_reported_the_words(index: QuoteIndex) -> None:
    assert quote(index, "The vote was close").speaker == "Example News"
    assert quote(index, "蓝鲸的订单已经排到了后年").speaker == "示例财经日报"
    assert not any(q.speaker in ("Geneva", "北京", "上海", "深水埗") for q in index.quotes)  # a place never speaks


def test_speaker_accepts_any_form_and_autocomplete_offers_the_canonical_name(index: QuoteIndex) -> None:
    for form in ("Nora Grant", "葛蘭特", "葛兰特", "Grant", "Ms. Grant"):
        assert index.resolve_speaker(form) == "Nora Grant", form
    assert index.resolve_speaker("Mr. Okafor") == "Paul Okafor"
    assert index.resolve_speaker("陳先生") == "陳生"  # the same surname with another honorific
    labels = dict(index.autocomplete("葛"))
    assert "Nora Grant" in labels.values()


def test_the_blind_articles_stay_above_their_floor() -> None:
    """tests/data/blind was annotated before the rules saw it (first run 0.72 / 0.72); this keeps what the
    general fixes reached from slipping back."""
    from index.evaluate_extraction import evaluate_quotes, evaluate_timeline

    blind = ROOT / "tests" / "data" / "blind"
    engine = Engine.from_documents(load_corpus(blind).documents, workers=1)
    quotes = evaluate_quotes(engine, blind / "quotes.jsonl")
    assert quotes["precision"] >= 0.9 and quotes["recall"] >= 0.9 and quotes["wrong_speaker"] == 0, quotes["errors"]
    timeline = evaluate_timeline(engine, blind / "timeline.jsonl")
    assert timeline["found"] == timeline["annotated"] == 26, timeline["misses"]
