"""Quotations: extraction (each style, statements vs scare-quoted terms), attribution (before, after, dash,
pronoun, continuation, transcript, block, pull-quote, unnamed sources), speaker unification, search, output,
and measured precision / recall on the annotated seeds and on news articles written for these tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from index.engine import Engine
from index.errors import QuestionError, UserFacingError
from index.evaluate_extraction import evaluate_quotes, format_quotes
from index.quotes import (
    UNATTRIBUTED,
    QuoteIndex,
    extract_quotes,
    format_text,
    quote_spans,
    to_json,
)

from ..conftest import ROOT, SEEDS

GOLD = ROOT / "tests" / "data" / "quotes_seeds.jsonl"
CODE_RED = "2025-12-02-netease-hao-openai-code-red"
GOOSE = "2025-12-16-goosepod-openai-in-trouble"
PODCAST_BLOG = "2025-12-19-unattributed-blog-altman-big-technology-podcast"
BIRTHDAY = "2025-12-19-unattributed-blog-openai-tenth-birthday"


def _article(*lines: str) -> str:
    """A document from its lines ("" for an empty line)."""
    return "\n".join(lines) + "\n"


# Small news articles in the styles of other outlets (none of them is in the seeds). Each quotation's true
# speaker is in ARTICLE_GOLD below.
ARTICLES = {
    "en-openai-refocus.txt": _article(
        "OpenAI refocuses on ChatGPT",
        "",
        "OpenAI Chief Executive Sam Altman said on Tuesday that the company would refocus on its "
        "chatbot. “We are going to make ChatGPT better for everyone,” Altman told employees in a memo. "
        "He added: “This is a critical time for us.”",
        "",
        "Analysts were less sure. “The gap is real and it is growing,” said Jane Whitfield, an analyst "
        "at Example Capital. Whitfield said the “code red” label was unusual.",
        "",
        "“I don't think anyone saw this coming,” one investor said.",
        "",
        "The company's so-called “superapp” strategy has drawn criticism. Critics call it a “one-stop-shop.”",
        "",
        "Mark Chen, the chief research officer, said the models were “on par with Gemini 3.”",
        "",
        "“We have internal models that are on par,” he said. “They will be released soon.”",
        "",
        "Robert Ingram, a professor at Example University, wrote: ‘Nobody wins a race by standing still.’",
    ),
    "en-nvidia-earnings.txt": _article(
        "Nvidia shares rise after earnings",
        "",
        'SANTA CLARA, Calif. — Nvidia reported record revenue on Wednesday. "Demand for our chips '
        'continues to exceed supply," Chief Financial Officer Colette Kress said in a statement.',
        "",
        "Jensen Huang, the company's chief executive, struck an upbeat tone on a call with analysts. "
        '"The age of AI is here," Huang said. "Every company will become an AI company."',
        "",
        'Not everyone is convinced. "Valuations are stretched and expectations are sky-high," said Maria '
        'Lopez, a portfolio manager at Example Funds. She added that the "AI trade" could cool next year.',
        "",
        'Some investors have called the rally a "bubble." Others see it differently.',
        "",
        '"We think the cycle has years to run," according to a note from Example Bank analysts.',
        "",
        'Huang has repeatedly described Nvidia\'s products as "AI factories." Asked about competition '
        'from Google, he said: "Competition makes us better."',
        "",
        'The company declined to comment on China. A spokesperson said, "We follow all export rules."',
    ),
    "en-arm-shortages.txt": _article(
        "Chipmaker warns of shortages",
        "",
        'The boss of chipmaker Arm, Rene Haas, says demand is "off the charts". Speaking to the BBC, he '
        "said: 'We have never seen anything like this.'",
        "",
        "'It is not a bubble,' Mr Haas added. 'It is a platform shift.'",
        "",
        'Industry analyst Ben Wood was more cautious. He told the programme that investors should "be '
        'careful what they wish for".',
        "",
        '"There will be winners and losers, and most of the losers have not noticed yet," Mr Wood said.',
        "",
        'Asked whether prices would rise, a company spokeswoman said: "We do not comment on pricing."',
    ),
    "zh-alibaba-cloud.txt": _article(
        "阿里巴巴加大云计算投入",
        "",
        "阿里巴巴集团董事长张勇在杭州表示:“我们将继续加大在云计算上的投入,这是公司最重要的战略。”",
        "",
        "他还强调,人工智能将改变每一个行业。“未来十年,所有的软件都会被重写。”",
        "",
        "“这并不是一场短跑,而是一场马拉松。”张勇说。",
        "",
        "业内人士表示:“这一轮竞争才刚刚开始。”",
        "",
        "有网友评论称,阿里的“全面云化”战略“有点冒险”。",
        "",
        "据《华尔街日报》报道,马斯克回应称:“我们会做得更好。”",
        "",
        "谈到“红色警报”,分析师李明认为,这只是“一种管理工具”。",
    ),
    "zh-hant-alibaba-taipei.txt": _article(
        "阿里巴巴在台北",
        "",
        "阿里巴巴董事長張勇在台北受訪時坦言,「雲端業務的競爭比我們預期的更激烈。」",
    ),
    "zh-nio-results.txt": _article(
        "蔚来发布年度财报",
        "",
        "蔚来创始人李斌周三在财报电话会上说:“明年我们的目标是实现盈利。”",
        "",
        "对于外界关于现金流的担忧,他回应称:“公司账上现金充足,足以支撑未来三年的发展。”",
        "",
        "“电动车行业已经进入淘汰赛,”李斌补充道,“只有规模足够大的企业才能活下来。”",
        "",
        "有投资者在社交媒体上质疑:“这个目标去年也说过。”",
        "",
        "“价格战不会持续太久。”——某券商汽车行业首席分析师",
        "",
        "蔚来总裁秦力洪则表示,公司将在下半年推出两款新车。他说:“新车的订单情况超出预期。”",
    ),
    "zh-hant-foxconn.txt": _article(
        "鴻海布局 AI 伺服器",
        "",
        "鴻海董事長劉揚偉今日出席股東會時指出,「AI 伺服器的需求至少還會成長三年。」",
        "",
        "他也坦言,供應鏈仍有瓶頸:「關鍵零組件的交期還是太長。」",
        "",
        "對於外界關心的電動車業務,劉揚偉僅表示「會持續投入」,未透露更多細節。",
        "",
        "法人分析,鴻海今年營收可望創新高。一名外資分析師則說:「估值已經反映了大部分利多。」",
        "",
        "「我們不會缺席這一波浪潮。」劉揚偉在會後受訪時再次強調。",
        "",
        "「這是最好的時代。」——劉揚偉",
    ),
    "zh-transcript.txt": _article(
        "科技早知道 第 12 期",
        "",
        "主持人小王",
        "大家好,欢迎收听科技早知道,今天我们请来了一位嘉宾,一起聊聊大模型竞争。",
        "嘉宾老李",
        "谢谢邀请。我觉得今年最大的变化是,谷歌真正追上来了,Gemini 3 的表现让很多人意外。",
        "主持人小王",
        "那你觉得 OpenAI 拉响的“红色警报”是不是有点反应过度?",
        "嘉宾老李",
        "不算过度。用奥特曼自己的话说,这是一种低风险的应对措施,他们只是想更快一点。",
    ),
    "zh-block-quote.txt": _article(
        "网友热议新模型",
        "",
        "新模型发布后,社交网络上的讨论很热烈。一位开发者在博客中写道:",
        "这次更新最大的变化不是跑分,而是它终于能听懂复杂的指令了。我用它重构了一个老项目,省下了一整周。",
        "",
        "另一段评论则更冷静,认为价格仍然太高。",
    ),
}

ARTICLE_GOLD = [
    ("en-openai-refocus", "We are going to make ChatGPT better for everyone,", "Sam Altman"),
    ("en-openai-refocus", "This is a critical time for us.", "Sam Altman"),
    ("en-openai-refocus", "The gap is real and it is growing,", "Jane Whitfield"),
    ("en-openai-refocus", "I don't think anyone saw this coming,", UNATTRIBUTED),
    ("en-openai-refocus", "We have internal models that are on par,", "Mark Chen"),
    ("en-openai-refocus", "They will be released soon.", "Mark Chen"),
    ("en-openai-refocus", "Nobody wins a race by standing still.", "Robert Ingram"),
    ("en-nvidia-earnings", "Demand for our chips continues to exceed supply,", "Colette Kress"),
    ("en-nvidia-earnings", "The age of AI is here,", "Jensen Huang"),
    ("en-nvidia-earnings", "Every company will become an AI company.", "Jensen Huang"),
    ("en-nvidia-earnings", "Valuations are stretched and expectations are sky-high,", "Maria Lopez"),
    ("en-nvidia-earnings", "We think the cycle has years to run,", UNATTRIBUTED),
    ("en-nvidia-earnings", "Competition makes us better.", "Jensen Huang"),
    ("en-nvidia-earnings", "We follow all export rules.", UNATTRIBUTED),
    ("en-arm-shortages", "We have never seen anything like this.", "Rene Haas"),
    ("en-arm-shortages", "It is not a bubble,", "Rene Haas"),
    ("en-arm-shortages", "It is a platform shift.", "Rene Haas"),
    ("en-arm-shortages", "There will be winners and losers, and most of the losers have not noticed yet,", "Ben Wood"),
    ("en-arm-shortages", "We do not comment on pricing.", UNATTRIBUTED),
    ("zh-alibaba-cloud", "我们将继续加大在云计算上的投入,这是公司最重要的战略。", "张勇"),
    ("zh-alibaba-cloud", "未来十年,所有的软件都会被重写。", "张勇"),
    ("zh-alibaba-cloud", "这并不是一场短跑,而是一场马拉松。", "张勇"),
    ("zh-alibaba-cloud", "这一轮竞争才刚刚开始。", UNATTRIBUTED),
    ("zh-alibaba-cloud", "我们会做得更好。", "Elon Musk"),
    ("zh-hant-alibaba-taipei", "雲端業務的競爭比我們預期的更激烈。", "张勇"),
    ("zh-nio-results", "明年我们的目标是实现盈利。", "李斌"),
    ("zh-nio-results", "公司账上现金充足,足以支撑未来三年的发展。", "李斌"),
    ("zh-nio-results", "电动车行业已经进入淘汰赛,", "李斌"),
    ("zh-nio-results", "只有规模足够大的企业才能活下来。", "李斌"),
    ("zh-nio-results", "这个目标去年也说过。", UNATTRIBUTED),
    ("zh-nio-results", "价格战不会持续太久。", UNATTRIBUTED),
    ("zh-nio-results", "新车的订单情况超出预期。", "秦力洪"),
    ("zh-hant-foxconn", "AI 伺服器的需求至少還會成長三年。", "劉揚偉"),
    ("zh-hant-foxconn", "關鍵零組件的交期還是太長。", "劉揚偉"),
    ("zh-hant-foxconn", "會持續投入", "劉揚偉"),
    ("zh-hant-foxconn", "估值已經反映了大部分利多。", UNATTRIBUTED),
    ("zh-hant-foxconn", "我們不會缺席這一波浪潮。", "劉揚偉"),
    ("zh-hant-foxconn", "這是最好的時代。", "劉揚偉"),
    ("zh-transcript", "大家好,欢迎收听科技早知道,今天我们请来了一位嘉宾,一起聊聊大模型竞争。", "小王"),
    ("zh-transcript", "谢谢邀请。我觉得今年最大的变化是,谷歌真正追上来了,Gemini 3 的表现让很多人意外。", "老李"),
    ("zh-transcript", "那你觉得 OpenAI 拉响的“红色警报”是不是有点反应过度?", "小王"),
    ("zh-transcript", "不算过度。用奥特曼自己的话说,这是一种低风险的应对措施,他们只是想更快一点。", "老李"),
    (
        "zh-block-quote",
        "这次更新最大的变化不是跑分,而是它终于能听懂复杂的指令了。我用它重构了一个老项目,省下了一整周。",
        UNATTRIBUTED,
    ),
]


@pytest.fixture(scope="module")
def seeds_index(engine: Engine) -> QuoteIndex:
    return QuoteIndex.build(engine)


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> QuoteIndex:
    """The articles above as a corpus of their own, with the seeds' glossary (for Altman, Musk, Mark Chen)."""
    corpus = tmp_path_factory.mktemp("news")
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "glossary.toml").write_bytes((SEEDS / "glossary.toml").read_bytes())
    return QuoteIndex.build(Engine.open(corpus, data_dir))


def by_text(index: QuoteIndex, words: str):
    found = [q for q in index.quotes if words in q.text]
    assert found, f"no quotation with {words!r}"
    return found[0]


def texts(index: QuoteIndex, doc_id: str | None = None) -> list[str]:
    return [q.text for q in index.quotes if doc_id is None or q.doc_id == doc_id]


# -- quotation marks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "inner"),
    [
        ("他说:“我们会赢。”然后离开。", "我们会赢。"),
        ("奥特曼坦言,「所谓的『红色警报』是好事。」", "所谓的『红色警报』是好事。"),
        ('He said, "We will win." Then he left.', "We will win."),
        ("She wrote: ‘I’m not going back.’ And that was that.", "I’m not going back."),
        ("He wrote: 'It isn't over.' Then he left.", "It isn't over."),
        ("« Nous gagnerons », a-t-il dit.", " Nous gagnerons "),
    ],
)
def test_each_quote_style_is_found_with_nested_marks_inside(text, inner):
    spans = quote_spans(text)
    assert [text[s.open + 1 : s.close] for s in spans] == [inner]


def test_apostrophes_and_unclosed_marks_are_not_quotations():
    assert quote_spans("It’s the users’ data, isn't it? Google’s “model") == []


def test_quotations_of_every_style_are_extracted_verbatim(seeds_index, news):
    styles = {q.style for q in (*seeds_index.quotes, *news.quotes)}
    assert {"curly", "corner", "straight", "single", "transcript", "block"} <= styles
    nested = by_text(seeds_index, "首先,所谓的")
    assert nested.style == "corner" and "『红色警报』" in nested.text  # nested marks stay inside the quotation
    assert not any(q.text == "红色警报" for q in seeds_index.quotes)
    for quote in (*seeds_index.quotes, *news.quotes):
        engine = seeds_index.engine if quote in seeds_index.quotes else news.engine
        passage = engine.passages[quote.pid]
        assert quote.text in passage.text or passage.text in quote.text, quote.text  # verbatim, from its passage
        start, end = quote.context_span
        assert quote.text in quote.context[start:end]  # the span marks the quotation in its sentence


# -- statements and scare-quoted terms ----------------------------------------------------------------------


def test_scare_quoted_terms_are_not_quotations(seeds_index):
    extracted = set(texts(seeds_index))
    for term in ("紅色警報", "红色警报", "Nano Banana", "Nano Banana,", "code red", "天选之子", "疯狂的", "塑料感强"):
        assert term not in extracted
    for fragment in ("the best model ever.", "AI winners.", "smartest", "reasoning"):
        assert fragment not in extracted
    # A commentary that puts labels and paraphrase in marks (“你越来越懒得换”, “AI 已经像同事”的描述) quotes nobody.
    assert texts(seeds_index, PODCAST_BLOG) == []


def test_statement_and_term_side_by_side(news):
    alibaba = texts(news, "zh-alibaba-cloud")
    assert "全面云化" not in alibaba and "有点冒险" not in alibaba  # a label, and a fragment in the writer's clause
    assert "红色警报" not in alibaba and "一种管理工具" not in alibaba  # 谈到“红色警报”, 分析师李明认为 ...
    assert "我们会做得更好。" in alibaba
    refocus = texts(news, "en-openai-refocus")
    for term in ("code red", "superapp", "one-stop-shop.", "on par with Gemini 3."):
        assert term not in refocus
    arm = texts(news, "en-arm-shortages")
    assert "off the charts" not in arm and "be careful what they wish for" not in arm
    assert "會持續投入" in texts(news, "zh-hant-foxconn")  # short, but put right after 表示 and closing the clause


# -- attribution --------------------------------------------------------------------------------------------


def test_attribution_before_the_quotation(seeds_index, news):
    tweet = by_text(seeds_index, "Congrats to Google")
    assert (tweet.speaker, tweet.attribution) == ("Sam Altman", "before")
    assert tweet.speaker_as_written == "薩姆·奧爾特曼"  # the name before the brackets, roles left out
    assert by_text(seeds_index, "這些競爭對手").speaker == "The Wall Street Journal"  # 《華爾街日報》稱
    assert by_text(news, "Nobody wins a race").speaker == "Robert Ingram"  # X, a professor at Y, wrote:
    assert by_text(news, "我们会做得更好").speaker == "Elon Musk"  # 据《华尔街日报》报道,马斯克回应称


def test_attribution_after_the_quotation(seeds_index, news):
    last = by_text(seeds_index, "我們的目標是成為")
    assert (last.speaker, last.attribution) == ("Sam Altman", "after")  # ……”薩姆·奧爾特曼說。
    first = by_text(seeds_index, "首先,所谓的")
    assert (first.speaker, first.attribution) == ("Sam Altman", "after")  # 」奥特曼坦言,「
    assert by_text(news, "The gap is real").speaker == "Jane Whitfield"  # ," said Jane Whitfield
    assert by_text(news, "Demand for our chips").speaker == "Colette Kress"  # ," Chief Financial Officer X said
    dash = by_text(news, "這是最好的時代")
    assert (dash.speaker, dash.attribution) == ("劉揚偉", "after")  # ——劉揚偉


def test_attribution_by_pronoun_to_the_nearest_named_person(seeds_index, news):
    he_said = by_text(seeds_index, "我們目前所看到的一切")  # 他稱, … (他 = 奧爾特曼 of the paragraph before)
    assert he_said.speaker == "Sam Altman" and he_said.pronoun
    holy = by_text(seeds_index, "Holy shit")  # “Holy shit,” he wrote on X.
    assert (holy.speaker, holy.attribution, holy.pronoun) == ("Marc Benioff", "after", True)
    assert by_text(news, "Competition makes us better").speaker == "Jensen Huang"  # not Maria Lopez, named later
    assert by_text(news, "公司账上现金充足").speaker == "李斌"  # 他回应称
    assert by_text(news, "新车的订单情况").speaker == "秦力洪"


def test_continuation_takes_the_speaker_of_the_sentence_before(seeds_index, news):
    turley = by_text(seeds_index, "我們現在的重點")  # 按照 … Nick Turley 的說法, …。“…”
    assert (turley.speaker, turley.attribution) == ("Nick Turley", "continuation")
    paragraph = by_text(seeds_index, "Gemini 3 到目前为止")  # a paragraph of its own after 他甚至提到了…
    assert (paragraph.speaker, paragraph.attribution) == ("Sam Altman", "continuation")
    assert by_text(seeds_index, "I’ve used ChatGPT every day").speaker == "Marc Benioff"
    assert by_text(news, "Every company will become").speaker == "Jensen Huang"


def test_transcript_turns_are_quotations_of_their_speaker_label(seeds_index, news):
    turns = [q for q in seeds_index.quotes if q.style == "transcript"]
    assert len(turns) == 20
    assert {q.speaker for q in turns} == {"雷总", "小撒1"}
    first = turns[0]
    assert first.text.startswith("Hello Norris1,我是雷总") and "--:--" not in first.text  # not the player header
    guest = by_text(news, "谢谢邀请")
    assert (guest.speaker, guest.speaker_as_written) == ("老李", "嘉宾老李")  # the role word is left out


def test_pull_quote_and_block_quotation(seeds_index, news):
    pull = by_text(seeds_index, "如果我們犯了錯,責任也在我們自己。")
    assert pull.text == "如果我們犯了錯,責任也在我們自己。" and (pull.speaker, pull.attribution) == (
        "Sam Altman",
        "repeated",
    )
    block = by_text(seeds_index, "OpenAI 现在并不需要一个更强大的模型")
    assert block.style == "block" and block.speaker == UNATTRIBUTED  # 用网友的话来说: (a netizen, no name)
    developer = by_text(news, "这次更新最大的变化")
    assert developer.style == "block" and developer.speaker == UNATTRIBUTED  # 一位开发者在博客中写道:


def test_unnamed_sources_are_unattributed_never_the_nearest_named_person(seeds_index, news):
    assert by_text(seeds_index, "在我看来,图像质量").speaker == UNATTRIBUTED  # ——匿名网友评价
    for words in ("I don't think anyone", "We follow all export rules", "We think the cycle", "这一轮竞争"):
        assert by_text(news, words).speaker == UNATTRIBUTED, words
    for words in ("这个目标去年也说过", "价格战不会持续太久", "估值已經反映", "We do not comment"):
        assert by_text(news, words).speaker == UNATTRIBUTED, words
    # Who the text does not name stays unattributed: the podcast host of “GPT-6 还要等多久?” is only 主持人.
    assert by_text(seeds_index, "GPT-6 还要等多久").speaker == UNATTRIBUTED


def test_addressee_and_object_are_not_the_speaker(tmp_path, data_dir):
    (tmp_path / "a.txt").write_text(
        "标题\n\n奥特曼对马斯克说:“我们会继续做下去,不会停。”\n\n"
        "OpenAI 在回应马斯克的言论时表示:“公司一直遵守承诺,从未改变。”\n",
        encoding="utf-8",
    )
    (tmp_path / "glossary.toml").write_bytes((SEEDS / "glossary.toml").read_bytes())
    index = QuoteIndex.build(Engine.open(tmp_path, data_dir))
    assert by_text(index, "我们会继续做下去").speaker == "Sam Altman"
    assert by_text(index, "公司一直遵守承诺").speaker == "OpenAI"


# -- speakers -----------------------------------------------------------------------------------------------


def test_aliases_in_every_script_are_one_speaker_without_titles(seeds_index, news):
    altman = [q for q in seeds_index.quotes if q.speaker == "Sam Altman"]
    assert len(altman) == 11
    assert {q.speaker_as_written for q in altman} >= {"薩姆·奧爾特曼", "奧爾特曼", "奥特曼"}
    assert all("CEO" not in q.speaker_as_written and "創始人" not in q.speaker_as_written for q in altman)
    for alias in (
        "Sam Altman",
        "altman",
        "奥特曼",
        "奧爾特曼",
        "山姆·奥特曼",
        "OpenAI CEO Sam Altman",
        "OpenAI 創始人兼 CEO 薩姆·奧爾特曼",
    ):
        assert seeds_index.resolve_speaker(alias) == "Sam Altman", alias
    assert (
        seeds_index.resolve_speaker("雷總") == "雷总"
        and seeds_index.resolve_speaker("WSJ") == "The Wall Street Journal"
    )
    # A name the glossary does not know is one speaker in simplified and traditional script.
    assert by_text(news, "雲端業務的競爭").speaker == by_text(news, "这并不是一场短跑").speaker == "张勇"
    assert news.resolve_speaker("張勇") == "张勇"


def test_part_of_a_name_finds_the_one_speaker_it_points_to(seeds_index):
    assert seeds_index.resolve_speaker("Nick") == "Nick Turley"
    assert seeds_index.resolve_speaker("benioff") == "Marc Benioff"
    assert seeds_index.resolve_speaker("奥尔") == "Sam Altman"
    with pytest.raises(UserFacingError, match="No speaker called “Mark”"):
        seeds_index.resolve_speaker("Mark")  # Mark Chen is in the glossary but quoted nowhere; no guessing


def test_unknown_speaker_gets_the_known_speakers(seeds_index):
    with pytest.raises(UserFacingError) as error:
        seeds_index.search(speaker="Bob Smith")
    message = str(error.value)
    assert "Bob Smith" in message and "Known speakers: Sam Altman (11)" in message and "雷总 (10)" in message
    with pytest.raises(UserFacingError, match=r"quotes no words of Elon Musk\..*Known speakers"):
        seeds_index.search(speaker="马斯克")


def test_autocomplete_lists_speakers_with_counts(seeds_index):
    everyone = seeds_index.autocomplete("")
    assert everyone[0] == ("Sam Altman (11 quotations)", "Sam Altman")
    assert ("Fidji Simo (1 quotation)", "Fidji Simo") in everyone
    assert len(everyone) <= 25 and all(len(name) <= 100 and len(value) <= 100 for name, value in everyone)
    assert [value for _, value in seeds_index.autocomplete("奧爾特")] == ["Sam Altman"]  # any alias, any script
    assert [value for _, value in seeds_index.autocomplete("benioff")] == ["Marc Benioff"]
    assert seeds_index.autocomplete("nobody-like-this") == []


# -- search -------------------------------------------------------------------------------------------------


def test_speaker_filter_matches_any_alias(seeds_index):
    expected = [hit.quote for hit in seeds_index.search(speaker="Sam Altman").hits]
    assert len(expected) == 11
    assert [h.quote for h in seeds_index.search(speaker="奧爾特曼").hits] == expected
    assert [h.quote for h in seeds_index.search(speaker="altman").hits] == expected
    assert [q.position for q in expected if q.doc_id == CODE_RED] == sorted(
        q.position for q in expected if q.doc_id == CODE_RED
    )


def test_topic_ranks_quotations_by_bm25_across_languages(seeds_index):
    infrastructure = seeds_index.search(topic="infrastructure")  # English topic, Chinese quotations
    assert infrastructure.hits and "基礎設施" in infrastructure.hits[0].quote.context
    data_centres = seeds_index.search(topic="数据中心 担保", speaker="Altman")
    assert data_centres.hits[0].quote.text.startswith("我們不需要也不希望政府")
    scores = [hit.score for hit in seeds_index.search(topic="红色警报").hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert [h.rank for h in seeds_index.search(topic="红色警报", limit=2, offset=1).hits] == [2, 3]


def test_nothing_found_says_so(seeds_index):
    empty = seeds_index.search(topic="banana", speaker="Altman")
    assert empty.hits == () and "No quotations by Sam Altman about “banana”" in empty.message
    assert format_text(empty) == empty.message


def test_bad_input_is_a_clear_error(seeds_index):
    with pytest.raises(QuestionError, match="speaker, a topic, or both"):
        seeds_index.search()
    with pytest.raises(QuestionError, match="no words to search"):
        seeds_index.search(topic="?!")
    with pytest.raises(UserFacingError, match="Which speaker"):
        seeds_index.search(speaker="<@123>")


# -- output -------------------------------------------------------------------------------------------------


def test_json_has_exactly_the_documented_shape(seeds_index):
    data = to_json(seeds_index.search(speaker="Nick Turley"))
    assert set(data) == {"speaker", "topic", "quotes"} and data["speaker"] == "Nick Turley" and data["topic"] is None
    [item] = data["quotes"]
    assert set(item) == {"quote", "speaker", "speaker_as_written", "doc_id", "passage", "context"}
    assert item["doc_id"] == CODE_RED and item["speaker_as_written"] == "Nick Turley"
    assert item["quote"] in seeds_index.engine.passages[item["passage"]].text and item["quote"] in item["context"]
    json.dumps(data, ensure_ascii=False)


def test_text_output_is_numbered_with_citations(seeds_index):
    text = format_text(seeds_index.search(speaker="Marc Benioff"))
    assert text.startswith("2 quotations by Marc Benioff")
    assert "[1] Holy shit," in text and "[2] I’ve used ChatGPT" in text
    assert "OpenAI 陷入困境 — Goose Pod, 2025-12-16, ¶ 28" in text and "— Marc Benioff" in text


# -- measured quality ---------------------------------------------------------------------------------------


def test_annotated_seeds_meet_the_quality_bar(engine, seeds_index):
    report = evaluate_quotes(engine, GOLD, seeds_index.quotes)
    assert report["annotated"] == 39
    assert report["precision"] >= 0.95 and report["recall"] >= 0.85, format_quotes(report)
    assert report["wrong_speaker"] == 0
    assert evaluate_quotes(engine, GOLD) == report  # the same without a prebuilt index


def test_rules_carry_to_other_news_articles(news, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "".join(
            json.dumps({"doc_id": d, "quote": q, "speaker": s}, ensure_ascii=False) + "\n" for d, q, s in ARTICLE_GOLD
        ),
        encoding="utf-8",
    )
    report = evaluate_quotes(news.engine, gold, news.quotes)
    assert report["precision"] >= 0.95 and report["recall"] >= 0.9, format_quotes(report)
    assert report["wrong_speaker"] == 0


def test_gold_file_errors_are_clear(engine, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"doc_id": "x", "quote": "y"}\n', encoding="utf-8")
    with pytest.raises(UserFacingError, match="needs doc_id or doc, quote, speaker"):
        evaluate_quotes(engine, bad)
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(UserFacingError, match="not JSON"):
        evaluate_quotes(engine, bad)


def test_extraction_is_deterministic_and_never_imports_discord(engine, seeds_index):
    assert extract_quotes(engine) == seeds_index.quotes
    code = "import sys, index.quotes; assert 'discord' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    goose = [q for q in seeds_index.quotes if q.doc_id == GOOSE]
    assert [q.position for q in goose] == sorted(q.position for q in goose)
    assert any(q.doc_id == BIRTHDAY for q in seeds_index.quotes)
