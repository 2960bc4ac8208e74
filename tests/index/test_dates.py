"""Date expressions: extraction and resolution in simplified and traditional Chinese and in English, the year
rule for dates without a year, anchors (datelines, "today is"), what is not a date, and --from / --to bounds."""

from __future__ import annotations

from datetime import date

import pytest

from index.dates import (
    DateBoundError,
    ResolvedDate,
    extract,
    number,
    parse_bound,
    parse_range,
    resolve,
    sentences,
)

DEC2 = date(2025, 12, 2)  # a Tuesday
DEC9 = date(2025, 12, 9)

# (text, reference date, expected ISO date, expected precision). The first date expression of the text is resolved.
TABLE = [
    # Chinese, absolute
    ("2022 年 11 月 30 日,OpenAI 對外發布了 ChatGPT。", DEC2, "2022-11-30", "day"),
    ("2022年11月30日 ChatGPT 发布", DEC2, "2022-11-30", "day"),
    ("二〇二二年十一月三十日,ChatGPT 发布", DEC2, "2022-11-30", "day"),
    ("２０２２年１１月３０日,ChatGPT 發布", DEC2, "2022-11-30", "day"),
    ("节目录制于 2025-12-15 晚间", DEC2, "2025-12-15", "day"),
    ("InfoQ (2025/12/10) 报道", DEC2, "2025-12-10", "day"),
    ("发布于 2025.12.10 的公告", DEC2, "2025-12-10", "day"),
    ("增长率自 2025 年 5 月起明显放缓", DEC2, "2025-05", "month"),
    ("他们还有一个秘密武器,预计2026年发布。", DEC2, "2026", "year"),
    ("2022 年底,OpenAI 发布 ChatGPT", DEC2, "2022-10/2022-12", "approximate"),
    ("2026 年第一季度将推出新模型", DEC2, "2026-01", "quarter"),
    ("2026 年 Q1 完成融资", DEC2, "2026-01", "quarter"),
    ("2025 年上半年,用户增长放缓", DEC2, "2025-01/2025-06", "approximate"),
    # Chinese, without a year (the reference is December 2025)
    ("他们在12月9日紧急发布了 GPT-5.2。", DEC2, "2025-12-09", "day"),
    ("11 月 18 日,谷歌正式對外推出了 Gemini 3", DEC2, "2025-11-18", "day"),
    ("10 月份已經躍升至 6.5 億", DEC2, "2025-10", "month"),
    ("GPT-4o 的吉卜力风格在三月还短暂带动过 ChatGPT 的使用", DEC2, "2025-03", "month"),
    ("當地時間十二月九號,OpenAI 發布新模型", DEC2, "2025-12-09", "day"),
    ("年初 DeepSeek 的出圈證明了", DEC2, "2025-01/2025-03", "approximate"),
    ("第三季度营收增长", DEC2, "2025-07", "quarter"),
    # Chinese, relative to the reference date
    ("今年 3 月,Gemini 的月活用戶尚只有 3.5 億", DEC2, "2025-03", "month"),
    ("我预计在明年第一季度会有新模型发布", DEC2, "2026-01", "quarter"),
    ("这家公司将在明年 Q1 之前完成融资", DEC2, "2026-01", "quarter"),
    ("Garlic 模型預計最快將在明年初亮相", DEC2, "2026-01/2026-03", "approximate"),
    ("去年 OpenAI 发布了推理模型", DEC2, "2024", "year"),
    ("前年谷歌推出了 Bard", DEC2, "2023", "year"),
    ("软银于上月出售所持的英伟达股份", DEC2, "2025-11", "month"),
    ("上個月谷歌發布了新模型", DEC2, "2025-11", "month"),
    ("三年前 ChatGPT 剛發布時", DEC2, "2022", "approximate"),
    ("Google 十二年前就开始布局专用 AI 芯片", DEC2, "2013", "approximate"),
    ("两个月前 OpenAI 发布了 Sora 应用", DEC2, "2025-10", "approximate"),
    ("The Information 今天凌晨的最新报道", DEC2, "2025-12-02", "day"),
    ("昨天 OpenAI 宣布暂停 Sora", DEC2, "2025-12-01", "day"),
    ("前幾天,OpenAI 被曝已在測試廣告", DEC2, "2025-11-25/2025-12-01", "approximate"),
    ("本周 OpenAI 将发布新模型", DEC2, "2025-12-01/2025-12-07", "approximate"),
    ("本週 OpenAI 將發布新模型", DEC2, "2025-12-01/2025-12-07", "approximate"),
    ("他們即將在下周發布一款推理模型", DEC2, "2025-12-08/2025-12-14", "approximate"),
    ("上週谷歌發布了 Gemini 3", DEC2, "2025-11-24/2025-11-30", "approximate"),
    ("而在今年早些时候,软银同意投资", DEC2, "2025-01/2025-12", "approximate"),
    ("去年 12 月 9 日,OpenAI 发布了 o1", DEC2, "2024-12-09", "day"),
    ("上个月底谷歌发布了 Gemini 3", DEC2, "2025-11-21/2025-11-30", "approximate"),
    # English
    ("Illustration by The Atlantic. December 9, 2025, 5:04 PM ET", DEC2, "2025-12-09", "day"),
    ("The model shipped on Dec. 9, 2025, after delays.", DEC2, "2025-12-09", "day"),
    ("The model shipped on 9 December 2025.", DEC2, "2025-12-09", "day"),
    ("OpenAI released GPT-5.2 on December 9.", DEC2, "2025-12-09", "day"),
    ("When Gemini 3 was released in mid-November, it won.", DEC9, "2025-11-11/2025-11-20", "approximate"),
    ("Then, late last month, he abruptly converted to Gemini.", DEC9, "2025-11-21/2025-11-30", "approximate"),
    ("In January, DeepSeek developed a cheaper bot.", DEC9, "2025-01", "month"),
    ("Last year, bots from Google seemed to be catching up.", DEC9, "2024", "year"),
    ("The company expects to turn a profit next year.", DEC9, "2026", "year"),
    ("A model released by Google this year, called Nano Banana.", DEC9, "2025", "year"),
    ("The firm kicked off the AI race in 2022 with the launch of ChatGPT.", DEC9, "2022", "year"),
    ("Sales slowed in November 2025.", DEC9, "2025-11", "month"),
    ("The round should close in Q1 2026.", DEC9, "2026-01", "quarter"),
    ("The round should close in the first quarter of 2026.", DEC9, "2026-01", "quarter"),
    ("Last week, in a company-wide memo, the CEO declared a code red.", DEC9, "2025-12-01/2025-12-07", "approximate"),
    ("Earlier this year, SoftBank agreed to invest.", DEC9, "2025-01/2025-12", "approximate"),
    ("ChatGPT launched three years ago.", DEC9, "2022", "approximate"),
    ("The outage started 3 days ago.", DEC9, "2025-12-06", "day"),
    ("OpenAI announced yesterday that it would pause Sora.", DEC9, "2025-12-08", "day"),
    ("Garlic may arrive in early 2026.", DEC9, "2026-01/2026-04", "approximate"),
    ("Benioff switched last November.", DEC9, "2025-11", "month"),
    ("OpenAI plans to break even by the end of 2029.", DEC9, "2029-10/2029-12", "approximate"),
]


@pytest.mark.parametrize(("text", "reference", "iso", "precision"), TABLE)
def test_date_expressions_resolve(text: str, reference: date, iso: str, precision: str) -> None:
    resolved = resolve(text, reference)
    assert resolved is not None, text
    assert (resolved.iso, resolved.precision) == (iso, precision)
    assert resolved.start <= resolved.end


def test_the_table_covers_scripts_and_languages() -> None:
    assert len(TABLE) >= 40
    english = [row for row in TABLE if row[0].isascii()]
    traditional = [row for row in TABLE if any(c in row[0] for c in "發個週幾號當將預躍")]
    assert len(english) >= 15 and len(traditional) >= 8 and len(TABLE) - len(english) >= 25


def test_offsets_point_at_the_verbatim_expression() -> None:
    text = "周一(12 月 1 日),奧爾特曼發布內部信。２０２２年１１月３０日,ChatGPT 發布;Then, late last month, he left."
    mentions = extract(text, DEC2).mentions
    assert [m.expression for m in mentions] == ["12 月 1 日", "２０２２年１１月３０日", "late last month"]
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.expression
        assert text[mention.sentence[0] : mention.sentence[1]].count(mention.expression) >= 1


def test_traditional_and_simplified_resolve_alike() -> None:
    for simplified, traditional in (
        ("上个月发布", "上個月發布"),
        ("下周发布", "下週發布"),
        ("前几天", "前幾天"),
        ("十二月九号", "十二月九號"),
        ("明年初亮相", "明年初亮相"),
    ):
        assert resolve(simplified, DEC2) == resolve(traditional, DEC2) is not None


@pytest.mark.parametrize(
    "text",
    [
        "自那之后的三年以來,整個世界都被改變了。",
        "過去一個月來,谷歌股價上漲超過 11%。",
        "如何在18个月内证明公司5000亿美元估值的商业可行性",
        "30天留存率更是跌至1%",
        "ChatGPT 的每日獨立活躍用戶(7 天平均值)下降了 6%",
        "用 6 到 8 周的时间快速补齐",
        "过去一年,OpenAI 押注了推理模型",
        "实现 2000 亿美元的收入,1,000 月份",
        "Gemini 的月活用户尚只有 3.5 亿",
        "为了维持今天的用户体验",
        "这周期的波动",
        "OpenAI's commercial ventures may have come at a cost.",
        "For nearly three years, Marc Benioff was a ChatGPT devotee.",
        "Over the last year the lab shipped GPT-5.2 and 2025 users joined.",
        "Today's users want more.",
        "检索日期2025/12/10",
    ],
)
def test_durations_amounts_and_generic_words_are_not_dates(text: str) -> None:
    assert extract(text, DEC2).mentions == ()


def test_a_month_after_the_publication_month_is_last_year() -> None:
    january = date(2026, 1, 10)
    assert resolve("12月9日,OpenAI 发布了 GPT-5.2", january).iso == "2025-12-09"
    assert resolve("In December, OpenAI released GPT-5.2.", january).iso == "2025-12"
    assert resolve("3 月,Gemini 的月活用户只有 3.5 亿", january).iso == "2025-03"
    assert resolve("1 月 5 日,谷歌发布了新模型", january).iso == "2026-01-05"


def test_the_future_keeps_months_ahead() -> None:
    assert resolve("新模型预计 3 月发布", DEC2).iso == "2026-03"
    assert resolve("The model will ship in March.", DEC2).iso == "2026-03"
    assert resolve("新模型将于 12 月 20 日发布", DEC2).iso == "2025-12-20"
    january = date(2026, 1, 10)
    assert resolve("新模型预计 3 月发布", january).iso == "2026-03"


def test_a_yearless_month_takes_the_year_of_its_sentence() -> None:
    mentions = extract("去年 11 月 Gemini 只有 3.5 亿用户,12 月已经增长至 4 亿。", DEC2).mentions
    assert [m.date.iso for m in mentions] == ["2024-11", "2024-12"]
    mentions = extract("促销从 2024 年 11 月至 3 月。", DEC2).mentions
    assert [m.date.iso for m in mentions] == ["2024-11", "2025-03"]
    mentions = extract("2025年12月9日发布,11月18日曾有预告。", DEC2).mentions
    assert [m.date.iso for m in mentions] == ["2025-12-09", "2025-11-18"]


def test_a_year_part_opening_a_sentence_continues_the_previous_year() -> None:
    text = "2022 年,OpenAI 將 GPT-3 的參數量提升至 1750 億。年底,OpenAI 對外發布 ChatGPT。同年 5 月也有消息。"
    assert [m.date.iso for m in extract(text, DEC2).mentions] == ["2022", "2022-10/2022-12", "2022", "2022-05"]
    # a month does not carry over from the previous sentence: "In January" is the reference's January
    text = "OpenAI released ChatGPT in 2022. In January, DeepSeek developed a bot."
    assert [m.date.iso for m in extract(text, DEC9).mentions] == ["2022", "2025-01"]


def test_a_dateline_moves_the_reference_for_what_follows() -> None:
    text = (
        "Sources: Getty.December 9, 2025, 5:04 PM ETFor nearly three years, Benioff was a devotee. "
        "Then, late last month, he converted. Last week, in a memo, the CEO declared a code red."
    )
    extraction = extract(text, date(2025, 12, 16))
    first, *rest = extraction.mentions
    assert first.anchor and first.date.iso == "2025-12-09"
    assert [(m.expression, m.date.iso, m.anchor) for m in rest] == [
        ("late last month", "2025-11-21/2025-11-30", False),
        ("Last week", "2025-12-01/2025-12-07", False),
    ]
    assert extraction.reference == date(2025, 12, 9)


def test_today_is_and_a_lone_date_are_anchors_a_timestamp_in_a_sentence_is_not() -> None:
    extraction = extract("今天是12月16日,星期二,现在是凌晨2点14分。我们明天再发布新一期。", date(2025, 12, 15))
    assert [(m.date.iso, m.anchor, m.deictic) for m in extraction.mentions] == [
        ("2025-12-16", True, False),
        ("2025-12-17", False, True),
    ]
    assert extraction.reference == date(2025, 12, 16)
    assert extract("2025-12-15OpenAI", DEC2).mentions[0].anchor
    timestamp = extract("各大论坛AI News 2025-12-06-12:13:38·悟道路·(2025/12/10)·检索日期2025/12/10", DEC2)
    assert [(m.date.iso, m.anchor) for m in timestamp.mentions] == [("2025-12-06", False), ("2025-12-10", False)]


def test_without_a_reference_only_absolute_dates_resolve() -> None:
    mentions = extract("上个月发布。2022 年 11 月 30 日上线,12 月 9 日更新。三年前成立,9 月改名。", None).mentions
    assert [m.date.iso for m in mentions] == ["2022-11-30", "2022-12-09"]  # the second takes its sentence's year


def test_deictic_days_are_marked() -> None:
    assert [m.deictic for m in extract("AI today is not what users want.", DEC2).mentions] == [True]
    mentions = extract("他们今天也正式发布了 GPT-5.2-Codex。Tomorrow the team will ship it.", DEC2).mentions
    assert [(m.date.iso, m.deictic, m.relative) for m in mentions] == [
        ("2025-12-02", True, True),
        ("2025-12-03", True, True),
    ]


def test_sentences_keep_a_quoted_question_with_its_end() -> None:
    text = "当主持人询问「GPT-6 还要等多久?」时,奥特曼表示:「明年第一季度。」“No!” he said. It is “insane.” The leap."
    parts = [text[a:b] for a, b in sentences(text)]
    assert parts[0].startswith("当主持人询问") and parts[0].endswith("「明年第一季度。」")
    assert "“No!” he said." in parts and "The leap." in parts


def test_chinese_numbers() -> None:
    assert [number(t) for t in ("三", "十", "十二", "二十三", "两", "二〇二五", "2025", "twelve")] == [
        3,
        10,
        12,
        23,
        2,
        2025,
        2025,
        12,
    ]
    assert number("百") is None


def test_resolved_periods() -> None:
    november = resolve("2025 年 11 月", DEC2)
    assert november == ResolvedDate("2025-11", "month", date(2025, 11, 1), date(2025, 11, 30))
    assert november.overlaps(resolve("11 月 18 日", DEC2))
    assert not november.overlaps(resolve("12 月 1 日", DEC2))
    assert november.within(date(2025, 11, 1), None) and not november.within(date(2025, 11, 2), None)
    leap = resolve("2024 年 2 月", DEC2)
    assert leap.end == date(2024, 2, 29)
    assert resolve("2025 年 2 月 30 日发布", DEC2) is None or resolve("2025 年 2 月 30 日发布", DEC2).precision != "day"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-13-45", "no month 13"),
        ("soon", "YYYY, YYYY-MM or YYYY-MM-DD"),
        ("2025-02-30", "February 2025 has 28 days"),
        ("12/9/2025", "YYYY, YYYY-MM or YYYY-MM-DD"),
        ("1850", "outside"),
        ("", "YYYY, YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_bad_bounds_say_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(DateBoundError) as caught:
        parse_bound(value)
    assert message in str(caught.value)
    assert value.strip() in str(caught.value) or not value.strip() or value == "1850"


def test_bounds_cover_whole_periods() -> None:
    assert parse_bound("2025") == date(2025, 1, 1)
    assert parse_bound("2025", end=True) == date(2025, 12, 31)
    assert parse_bound("2024-02", end=True) == date(2024, 2, 29)
    assert parse_bound(" 2025-11-18 ", end=True) == date(2025, 11, 18)
    assert parse_range("2025-11", "2025-12") == (date(2025, 11, 1), date(2025, 12, 31))
    assert parse_range(None, "") == (None, None)
    with pytest.raises(DateBoundError, match="after `to`"):
        parse_range("2025-12", "2025-01")
    with pytest.raises(DateBoundError, match="`to`"):
        parse_range("2025", "later")


# -- news forms: weekdays, a day of the month alone, "May of this year" (invented sentences) ----------------

THU = date(2024, 5, 16)  # a Thursday
SUN = date(2024, 5, 19)  # a Sunday

NEWS_FORMS = [
    # A weekday is the last such day up to the article's date, or the next one when the sentence is about the future.
    ("The minister said Tuesday that talks would resume.", THU, "2024-05-14"),
    ("On Thursday, the board approved the merger.", THU, "2024-05-16"),
    ("The company will report earnings on Monday.", THU, "2024-05-20"),
    ("The council met last Friday to discuss the budget.", THU, "2024-05-10"),
    ("The vote is scheduled for next Wednesday.", THU, "2024-05-22"),
    ("該公司周二公布第一季業績。", THU, "2024-05-14"),
    ("市政府上周三宣布新的交通措施。", THU, "2024-05-08"),
    ("部长本周一抵达北京进行访问。", THU, "2024-05-13"),
    ("峰会将于下周五举行。", THU, "2024-05-24"),
    ("警方星期二晚上拘捕一名男子。", THU, "2024-05-14"),
    # An explicit day in brackets wins over the week; an explicit month and day stand for the weekday.
    ("嫌犯上周四（16日）在机场被捕。", SUN, "2024-05-16"),
    ("他昨日（17日）對記者表示。", SUN, "2024-05-17"),
    ("当地时间周一(5 月 13 日),工会宣布罢工。", THU, "2024-05-13"),
    ("The deal was signed Tuesday, May 14, in Geneva.", THU, "2024-05-14"),
    # A day of the month alone is a day of the article's month (of the month before when it is still ahead).
    ("该机构8日发布一份报告称工厂违规。", THU, "2024-05-08"),
    ("该机构28日发布一份报告称工厂违规。", THU, "2024-04-28"),
    ("新规将于28日起生效。", THU, "2024-05-28"),
    ("本月20日起实施新规。", THU, "2024-05-20"),
    ("上月8日，两国签署协议。", THU, "2024-04-08"),
    ("今早，交易所暂停交易。", THU, "2024-05-16"),
    ("前日，大会通过了决议。", THU, "2024-05-14"),
    # English months with "of this year", abbreviations, day-month order.
    ("Sales peaked as recently as March of this year.", THU, "2024-03"),
    ("The plant closed in July of last year.", THU, "2023-07"),
    ("The firm filed suit on Sept. 3.", THU, "2023-09-03"),
    ("Shares fell 4% on Dec. 12.", THU, "2023-12-12"),
    ("The hearing was held on 21 October.", THU, "2023-10-21"),
    ("A new model is expected in the first half of 2025.", THU, "2025-01/2025-06"),
]


@pytest.mark.parametrize(("text", "reference", "iso"), NEWS_FORMS)
def test_news_forms_resolve_against_the_article_date(text: str, reference: date, iso: str) -> None:
    resolved = resolve(text, reference)
    assert resolved is not None, text
    assert resolved.iso == iso, text


def test_the_day_of_a_sentence_month_carries_to_a_day_alone() -> None:
    mentions = extract("博览会5月3日开幕，8日闭幕。", THU).mentions
    assert [m.date.iso for m in mentions] == ["2024-05-03", "2024-05-08"]


@pytest.mark.parametrize(
    "text",
    [
        "商场周一至周五营业，每周一例会。",
        "Black Friday sales rose sharply.",
        "The museum is closed on Mondays.",
        "门票售价100日元。",
        "须在30日内完成整改。",
        "火箭9号发射成功。",
    ],
)
def test_recurring_days_amounts_and_numbers_are_not_dates(text: str) -> None:
    assert extract(text, THU).mentions == ()


@pytest.mark.parametrize(
    "text", ["2月30日发布", "The launch on Feb. 30 was a hoax.", "Feb. 30, 2024", "0000年", "99999年"]
)
def test_impossible_dates_and_years_are_left_out(text: str) -> None:
    assert extract(text, THU).mentions == ()


def test_an_abbreviation_does_not_end_the_sentence() -> None:
    text = "WASHINGTON (Example) — U.S. Trade Representative Jane Roe on Monday said tariffs would stay. Mr. Lee left."
    [mention] = extract(text, THU).mentions
    assert mention.date.iso == "2024-05-13"
    assert text[mention.sentence[0] : mention.sentence[1]].startswith("WASHINGTON (Example) — U.S. Trade")


def test_an_outlet_and_date_line_is_a_dateline_not_an_event() -> None:
    [dateline] = extract("Example Wire, published 2024-03-05", None).mentions
    assert dateline.anchor and extract("Example Wire, published 2024-03-05", None).reference == date(2024, 3, 5)
    [event] = extract("Acme released Rocket 9 on May 20, 2025.", THU).mentions
    assert not event.anchor
