"""The date expressions of Chinese (matched on folded text: simplified, lower case) and English, each parsed into
a `_Raw` (what the text says: a year, a month offset, a weekday ...) before it is resolved against a reference.
`_candidates` returns the non-overlapping matches of a text, leftmost-longest, with explicit days winning over
the weekday or relative day they name (周一(12 月 1 日), 上周四（19日）).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from index.dates.values import number

# -- patterns --------------------------------------------------------------------------------------------

_CN_NUM = "[零〇○一二两三四五六七八九十]"
_MONTH_NUM = r"(?:\d{1,2}|十[一二]?|[一二三四五六七八九])"
_DAY_NUM = r"(?:\d{1,2}|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"
_YEAR4 = r"(?:\d{4}|[〇零○一二三四五六七八九]{4})"
_S = r"[ \t\u00a0]*"
_NOT_NUM_BEFORE = r"(?<!\d)(?<!\d[.,])"
_CN_MONTH_PART = r"(?P<mpart>初|底|末|上旬|中旬|下旬|中(?=[的,，。、;；\s时期]|$))"
_CN_YEAR_PART = (
    r"(?P<ypart>年初|年底|年末|年中(?=[的,，。、;；\s时期]|$)|初|底|末|上半年|下半年"
    r"|早些时候|晚些时候|稍早|稍晚|早期|晚期)"
)
_CN_QUARTER = rf"(?:第?{_S}(?P<q>[一二三四1-4]){_S}季度|{_S}q(?P<q2>[1-4])\b)"

_EN_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4,
    "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_EN_MONTH = (
    r"(?P<mname>january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_EN_PART = (
    r"(?:(?P<epart>early|mid|late|the\s+end\s+of|the\s+beginning\s+of|the\s+start\s+of|the\s+middle\s+of"
    r"|end\s+of|beginning\s+of|start\s+of)[\s-]+)"
)
_EN_ORDINAL = r"(?:st|nd|rd|th)?"
# Ambiguous month words (may, march) and abbreviations count only with a day, a year, or a temporal word before.
_EN_TEMPORAL_BEFORE = re.compile(
    r"(?:\b(?:in|since|by|from|until|till|through|during|before|after|around|of|early|mid|late|last|next|this|"
    r"end|beginning|start|middle|to)[\s-]+)$"
)
_EN_QUARTER_WORDS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_EN_PARTS = {
    "early": "early",
    "mid": "mid",
    "late": "late",
    "the end of": "end",
    "end of": "end",
    "the beginning of": "start",
    "beginning of": "start",
    "the start of": "start",
    "start of": "start",
    "the middle of": "mid",
}
_CN_PARTS = {
    "初": "start",
    "年初": "start",
    "上旬": "early",
    "中": "mid",
    "年中": "mid",
    "中旬": "mid",
    "下旬": "late",
    "底": "end",
    "末": "end",
    "年底": "end",
    "年末": "end",
    "上半年": "h1",
    "下半年": "h2",
    "早期": "early",
    "晚期": "late",
}
_RETRIEVAL_BEFORE = re.compile(
    r"(?:检索日期|检索于|访问日期|访问于|访问时间|获取日期|accessed(?:\s+on)?|retrieved(?:\s+on)?)[\s:：]*$"
)
_IMPOSSIBLE_YEAR_RE = re.compile(r"(?<![\d.])\d{5,}\s*年(?![代度龄级])")
_HAN_CHARS = re.compile(r"[\u3400-\u9fff]")
_CLOCK_AFTER = re.compile(r"^[\s,，-]*(?:\d{1,2}:\d{2}(?::\d{2})?|\d{1,2}\s*[ap]\.?m\.?\b)")
_TODAY_IS_BEFORE = re.compile(r"(?:今天是|今日是|今天|今日|today\s+is|it\s+is)\s*[,，]?\s*(?:星期.|周.)?\s*[,，]?\s*$")
FUTURE_RE = re.compile(
    r"将|即将|预计|计划|有望|准备|打算|拟于|拟在|届时|未来|\bwill\b|\bwon['’]t\b|['’]ll\b|\bexpect(?:s|ed)?\b|"
    r"\bplan(?:s|ned)?\s+to\b|\bscheduled\b|\bslated\b|\bset\s+to\b|\bdue\s+(?:to|in)\b|\bupcoming\b"
)


@dataclass
class _Raw:
    """A matched expression before resolution (resolution depends on the sentence's earlier dates)."""

    start: int
    end: int
    year: int | None = None
    year_offset: int | None = None  # relative to the reference year (今年 0, 去年 -1, 明年 +1)
    month: int | None = None
    month_offset: int | None = None  # relative to the reference month (本月 0, 上个月 -1)
    month_which: str | None = None  # "last" / "next" / "this" + a month name
    day: int | None = None
    day_offset: int | None = None  # 今天 0, 昨天 -1, 明天 +1
    week_offset: int | None = None
    quarter: int | None = None
    part: str | None = None
    ago: tuple[float, float, str] | None = None  # (least, most, unit) before the reference date
    few_days: bool = False
    since_year_start: str | None = None  # "earlier" / "later" this year
    anaphoric_year: bool = False  # 同年, that year
    weekday: int | None = None  # 0 = Monday; with week_offset (上周四) or without (周四, on Wednesday)
    bracket_day: int | None = None  # an explicit day of the month right after, in brackets: 上周四（19日）
    day_only: bool = False  # 8日: a day of the reference month (or of the month before)
    deictic: bool = False
    full: bool = False  # an absolute date with year, month and day

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    parse: Callable[[re.Match[str], str], _Raw | None]


def _opt_int(value: str | None) -> int | None:
    return None if value is None else number(value)


def _cn_ymd(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), year=number(m["y"]), month=number(m["m"]), day=number(m["d"]), full=True)


def _cn_ym(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), year=number(m["y"]), month=number(m["m"]), part=_CN_PARTS.get(m["mpart"] or ""))


def _cn_y(m: re.Match[str], text: str) -> _Raw | None:
    quarter = _opt_int(m["q"] or m["q2"])
    part = _CN_PARTS.get(m["ypart"] or "")
    raw = _Raw(m.start(), m.end(), year=number(m["y"]), quarter=quarter, part=part)
    if m["ypart"] in ("早些时候", "稍早", "晚些时候", "稍晚"):
        raw.part, raw.since_year_start = None, "earlier" if m["ypart"] in ("早些时候", "稍早") else "later"
    return raw


_REL_YEARS = {"今年": 0, "本年": 0, "去年": -1, "上一年": -1, "前年": -2, "明年": 1, "下一年": 1, "后年": 2}


def _cn_rel_year(m: re.Match[str], text: str) -> _Raw | None:
    offset = _REL_YEARS[m["rel"]]
    raw = _Raw(m.start(), m.end(), year_offset=offset)
    if m["m"]:
        raw.month, raw.day = number(m["m"]), _opt_int(m["d"])
        raw.part = _CN_PARTS.get(m["mpart"] or "")
    else:
        raw.quarter = _opt_int(m["q"] or m["q2"])
        ypart = m["ypart"]
        if ypart in ("早些时候", "稍早", "晚些时候", "稍晚"):
            raw.since_year_start = "earlier" if ypart in ("早些时候", "稍早") else "later"
        else:
            raw.part = _CN_PARTS.get(ypart or "")
    return raw


def _cn_year_part(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), part=_CN_PARTS[m["ypart"]])


def _cn_quarter(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), quarter=_opt_int(m["q"]))


def _cn_md(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), month=number(m["m"]), day=number(m["d"]))


def _cn_m(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), month=number(m["m"]), part=_CN_PARTS.get(m["mpart"] or ""))


_REL_MONTHS = {"本月": 0, "这个月": 0, "这月": 0, "上个月": -1, "上月": -1, "下个月": 1, "下月": 1}


def _cn_rel_month(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), month_offset=_REL_MONTHS[m["rel"]], part=_CN_PARTS.get(m["mpart"] or ""))


def _cn_rel_week(m: re.Match[str], text: str) -> _Raw | None:
    word = m.group()
    offset = -1 if word.startswith("上") else 1 if word.startswith("下") else 0
    return _Raw(m.start(), m.end(), week_offset=offset)


_REL_DAYS = {
    "今天": 0, "今日": 0, "今晨": 0, "今早": 0, "今晚": 0, "今夜": 0, "昨天": -1, "昨日": -1, "昨晚": -1,
    "前天": -2, "前日": -2, "明天": 1, "明日": 1, "后天": 2,
}  # fmt: skip


def _cn_rel_day(m: re.Match[str], text: str) -> _Raw | None:
    if text.startswith("的", m.end()):  # 今天的用户体验: "today's", not a date of an event
        return None
    if m["rel"] in ("今天", "今日") and re.match(rf"是?{_S}[,，]?{_S}(?:\d|{_CN_NUM})", text[m.end() :]):
        return None  # 今天是12月16日: part of the anchor that follows
    offset = _REL_DAYS[m["rel"]]
    return _Raw(m.start(), m.end(), day_offset=offset, deictic=offset >= 0)  # 昨天 / 前日 are never generic


def _few_days(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), few_days=True)


_AGO_UNITS = {"天": "day", "日": "day", "周": "week", "星期": "week", "个月": "month", "月": "month", "年": "year"}


def _cn_ago(m: re.Match[str], text: str) -> _Raw | None:
    count = number(m["n"])
    if count is None or count == 0:
        return None
    return _Raw(m.start(), m.end(), ago=(count, count, _AGO_UNITS[m["unit"]]))


def _anaphoric(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), anaphoric_year=True)


def _iso(m: re.Match[str], text: str) -> _Raw | None:
    year, month, day = int(m["y"]), int(m["m"]), _opt_int(m["d"])
    return _Raw(m.start(), m.end(), year=year, month=month, day=day, full=day is not None)


def _en_month_allowed(m: re.Match[str], text: str, has_day_or_year: bool) -> bool:
    name = m["mname"]
    if has_day_or_year or m["epart"]:
        return True
    if name in ("may", "march") or (len(name) <= 4 and name not in ("june", "july")):
        return bool(_EN_TEMPORAL_BEFORE.search(text, 0, m.start()))
    return True


def _en_mdy(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), year=int(m["y"]), month=_EN_MONTHS[m["mname"]], day=int(m["d"]), full=True)


def _en_md(m: re.Match[str], text: str) -> _Raw | None:
    if re.match(r"[.:%]\d|\s*%|:\d", text[m.end() :]):
        return None
    return _Raw(m.start(), m.end(), month=_EN_MONTHS[m["mname"]], day=int(m["d"]))


def _en_my(m: re.Match[str], text: str) -> _Raw | None:
    part = _EN_PARTS.get(re.sub(r"\s+", " ", m["epart"] or ""))
    return _Raw(m.start(), m.end(), year=int(m["y"]), month=_EN_MONTHS[m["mname"]], part=part)


def _en_m(m: re.Match[str], text: str) -> _Raw | None:
    if not _en_month_allowed(m, text, False):
        return None
    part = _EN_PARTS.get(re.sub(r"\s+", " ", m["epart"] or ""))
    raw = _Raw(m.start(), m.end(), month=_EN_MONTHS[m["mname"]], part=part)
    which = re.search(r"\b(last|next|this)\s+$", text[max(0, m.start() - 6) : m.start()])
    if which and not m["epart"]:
        raw.start = m.start() - len(which.group())
        raw.month_which = which.group(1)
    return raw


_WEEKDAYS_EN = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_WEEKDAYS_CN = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEK_WHICH = {"上": -1, "下": 1, "本": 0, "这": 0, "last": -1, "next": 1, "this": 0}
# Named days that are not the last / next such weekday (Black Friday, Super Tuesday), and recurring ones.
_NOT_A_WEEKDAY_BEFORE = re.compile(
    r"(?:\b(?:black|cyber|good|super|ash|holy|maundy|easter|giving|every|each|on\s+a|most|some|any)\s+|"
    r"[每逢隔]|一个|几个|至|到|、)$"
)
_NOT_A_WEEKDAY_AFTER = re.compile(r"^(?:s\b|\s*(?:至|到|、|-|–|through|to|and|or)\s*(?:周|星期|礼拜|\w+day\b))")


def _weekday(m: re.Match[str], text: str) -> _Raw | None:
    """上周四, 本周一, 周四, 星期四, on Wednesday, said Tuesday, last Thursday, next Tuesday."""
    if _NOT_A_WEEKDAY_BEFORE.search(text, max(0, m.start() - 12), m.start()):
        return None
    if _NOT_A_WEEKDAY_AFTER.match(text[m.end() : m.end() + 16]):
        return None  # Mondays, 周一至周五: a recurring day or a span of days, not one date
    name = m["wd_en"]
    weekday = _WEEKDAYS_EN[name] if name else _WEEKDAYS_CN[m["wd_cn"]]
    which = m["which_cn"] or m["which_en"]
    raw = _Raw(
        m.start(),
        m.end(),
        weekday=weekday,
        week_offset=_WEEK_WHICH[which[0] if m["which_cn"] else which] if which else None,
    )
    return raw


def _cn_day_only(m: re.Match[str], text: str) -> _Raw | None:
    """8日 / 15号 without a month: a day of the reference month (本月15日 says so)."""
    day = number(m["d"] or m["d2"])
    if day is None or not 1 <= day <= 31:
        return None
    raw = _Raw(m.start(), m.end(), day=day, day_only=True)
    if m["rel"]:
        raw.month_offset = _REL_MONTHS[m["rel"]]
    return raw


def _en_month_of_year(m: re.Match[str], text: str) -> _Raw | None:
    """May of this year, July of last year."""
    return _Raw(
        m.start(),
        m.end(),
        month=_EN_MONTHS[m["mname"]],
        year_offset={"this": 0, "last": -1, "next": 1}[m["rel"]],
    )


def _en_year(m: re.Match[str], text: str) -> _Raw | None:
    if not (m["prep"] or m["epart"] or m["half"]):
        return None  # a bare four-digit number is a year only after in / since / by ... or early / mid / late
    part = _EN_PARTS.get(re.sub(r"\s+", " ", m["epart"] or ""))
    half = m["half"]
    if half:
        part = "h1" if "first" in half else "h2"
    return _Raw(m.start("core"), m.end(), year=int(m["y"]), part=part)


def _en_quarter(m: re.Match[str], text: str) -> _Raw | None:
    quarter = int(m["qn"]) if m["qn"] else _EN_QUARTER_WORDS[m["qw"]]
    raw = _Raw(m.start(), m.end(), quarter=quarter)
    if m["y"]:
        raw.year = int(m["y"])
    elif m["rel"]:
        raw.year_offset = {"this": 0, "next": 1, "last": -1}[m["rel"]]
    return raw


def _en_year_quarter(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), year=int(m["y"]), quarter=int(m["qn"]))


def _en_relative(m: re.Match[str], text: str) -> _Raw | None:
    if re.search(r"\b(?:the|over|past)\s+$", text[max(0, m.start() - 6) : m.start()]) and not m["epart"]:
        return None  # "the last year", "over the last month": a duration, not a date
    offset = {"this": 0, "last": -1, "next": 1}[m["rel"]]
    unit = m["unit"]
    modifier = m["epart"] or m["ewhen"]
    raw = _Raw(m.start(), m.end())
    if unit == "year":
        raw.year_offset = offset
    elif unit == "month":
        raw.month_offset = offset
    else:
        raw.week_offset = offset
    if modifier in ("earlier", "later"):
        if offset != 0:
            return None
        raw.since_year_start = modifier
        raw.part = None
    elif modifier:
        raw.part = _EN_PARTS.get(re.sub(r"\s+", " ", modifier))
    return raw


def _en_ago(m: re.Match[str], text: str) -> _Raw | None:
    words = re.sub(r"\s+", " ", m["n"])
    unit = m["unit"]
    if words in ("a few", "a couple of", "several", "few"):
        least, most = (2, 3) if words == "a couple of" else (2, 7) if unit == "day" else (2, 5)
    else:
        count = number(words)
        if count is None or count == 0:
            return None
        least = most = count
    return _Raw(m.start(), m.end(), ago=(least, most, unit))


def _en_deictic(m: re.Match[str], text: str) -> _Raw | None:
    if re.match(r"['’]s\b", text[m.end() :]):  # today's
        return None
    if re.match(r"\s+is\s+(?:\w+day,?\s+)?(?:the\s+)?\d|\s+is\s+(?:\w+day,?\s+)?[a-z]+\.?\s+\d", text[m.end() :]):
        return None  # "today is December 9": part of the anchor that follows
    offset = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}[m["rel"]]
    return _Raw(m.start(), m.end(), day_offset=offset, deictic=offset >= 0)  # "yesterday" is never generic


def _en_that_year(m: re.Match[str], text: str) -> _Raw | None:
    return _Raw(m.start(), m.end(), anaphoric_year=True)


_PATTERNS: tuple[_Pattern, ...] = tuple(
    _Pattern(re.compile(regex), parse)
    for regex, parse in (
        # Chinese absolute
        (
            rf"{_NOT_NUM_BEFORE}(?P<y>{_YEAR4}){_S}年{_S}(?P<m>{_MONTH_NUM}){_S}月{_S}(?P<d>{_DAY_NUM}){_S}[日号]",
            _cn_ymd,
        ),
        (rf"{_NOT_NUM_BEFORE}(?P<y>{_YEAR4}){_S}年{_S}(?P<m>{_MONTH_NUM}){_S}月(?:份)?{_CN_MONTH_PART}?(?!活)", _cn_ym),
        (rf"{_NOT_NUM_BEFORE}(?P<y>{_YEAR4}){_S}年(?!代)(?:{_CN_QUARTER}|{_S}{_CN_YEAR_PART})?", _cn_y),
        # ISO and slashed dates
        (r"(?<![\d.])(?P<y>(?:19|20)\d{2})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?![\d.]\d)", _iso),
        (r"(?<![\d.\-/])(?P<y>(?:19|20)\d{2})-(?P<m>0[1-9]|1[0-2])(?![\d\-/.])(?P<d>)", _iso),
        # Chinese relative
        (
            rf"(?P<rel>今年|本年|去年|上一年|前年|明年|下一年|后年)"
            rf"(?:{_S}(?P<m>{_MONTH_NUM}){_S}月(?:份)?(?:{_S}(?P<d>{_DAY_NUM}){_S}[日号])?{_CN_MONTH_PART}?(?!活)"
            rf"|{_CN_QUARTER}|{_S}{_CN_YEAR_PART})?",
            _cn_rel_year,
        ),
        (r"(?<![今去明前后本])(?P<ypart>年初|年底|年末|年中(?=[的,，。、;；\s时期]|$)|上半年|下半年)", _cn_year_part),
        (rf"(?<![\d年])第{_S}(?P<q>[一二三四1-4]){_S}季度", _cn_quarter),
        (rf"(?P<rel>本月|这个月|这月|上个月|上月|下个月|下月){_CN_MONTH_PART}?", _cn_rel_month),
        (
            r"(?:本周|这周|这一周|上周|上一周|下周|下一周)(?![期年岁边围刊])"
            r"|这个星期|本星期|上个星期|上星期|下个星期|下星期",
            _cn_rel_week,
        ),
        (r"(?P<rel>今天|今日|今晨|今早|今晚|今夜|昨天|昨日|昨晚|前天|前日|明天|明日|后天)", _cn_rel_day),
        (
            r"(?:(?P<which_cn>上个|下个|这个|上|下|本|这)(?:周|星期|礼拜)|(?<![一二两几每上下本这个])(?:周|星期|礼拜))"
            r"(?P<wd_cn>[一二三四五六日天])(?![年刊报末期])(?P<wd_en>)(?P<which_en>)",
            _weekday,
        ),
        (
            r"\b(?:(?P<which_en>last|next|this)\s+)?(?P<wd_en>monday|tuesday|wednesday|thursday|friday|saturday"
            r"|sunday)\b(?P<wd_cn>)(?P<which_cn>)",
            _weekday,
        ),
        (
            r"(?:(?P<rel>本月|这个月|这月|上个月|上月|下个月|下月)(?P<d>[12]?\d|3[01])\s*[日号]"
            r"|(?<![\d.月年第])(?P<d2>[12]?\d|3[01])\s*日)"  # 9号 alone is a number (火箭9号, 1号线)
            r"(?![元圆币本内间游语文报])",
            _cn_day_only,
        ),
        (r"前几天|前两天|前些天|前些日子|这几天|近几天|几天前|几天之前|日前|近日", _few_days),
        (rf"(?<![\d.])(?P<n>\d{{1,3}}|{_CN_NUM}{{1,3}}){_S}(?P<unit>天|日|周|星期|个月|年)(?:前|以前|之前)", _cn_ago),
        (r"同年|当年|同一年", _anaphoric),
        # Chinese month(-day) without a year
        (rf"{_NOT_NUM_BEFORE}(?<!第)(?P<m>{_MONTH_NUM}){_S}月{_S}(?P<d>{_DAY_NUM}){_S}[日号]", _cn_md),
        (rf"{_NOT_NUM_BEFORE}(?<![第个])(?P<m>{_MONTH_NUM}){_S}月(?:份)?{_CN_MONTH_PART}?(?![活度])", _cn_m),
        # English
        (rf"\b{_EN_MONTH}\s+(?P<d>\d{{1,2}}){_EN_ORDINAL},?\s+(?P<y>(?:19|20)\d{{2}})\b", _en_mdy),
        (rf"\b(?P<d>\d{{1,2}}){_EN_ORDINAL}\s+(?:of\s+)?{_EN_MONTH}\s*,?\s+(?P<y>(?:19|20)\d{{2}})\b", _en_mdy),
        (rf"\b{_EN_MONTH}\s+(?P<d>[1-9]|[12]\d|3[01]){_EN_ORDINAL}\b", _en_md),
        (rf"\b(?:the\s+)?(?P<d>[1-9]|[12]\d|3[01]){_EN_ORDINAL}\s+(?:of\s+)?{_EN_MONTH}", _en_md),
        (rf"\b{_EN_PART}?{_EN_MONTH}\s*,?\s+(?:of\s+)?(?P<y>(?:19|20)\d{{2}})\b", _en_my),
        (rf"\b{_EN_MONTH}\s+of\s+(?P<rel>this|last|next)\s+year\b", _en_month_of_year),
        (rf"\b{_EN_PART}?{_EN_MONTH}\b", _en_m),
        (
            rf"\b(?:(?P<prep>in|since|by|from|until|till|through|during|before|after|around|of|for)\s+)?(?P<core>"
            rf"(?:{_EN_PART}|(?P<half>first\s+half\s+of|second\s+half\s+of|the\s+first\s+half\s+of|"
            rf"the\s+second\s+half\s+of)\s+)?(?P<y>(?:19|20)\d{{2}}))\b(?![-/.:]\d|\s*%|\s*(?:亿|万|元|美元|人))",
            _en_year,
        ),
        (
            r"\b(?:(?:the\s+)?(?P<qw>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter|q(?P<qn>[1-4]))"
            r"(?:\s*(?:of\s+)?,?\s*(?P<y>(?:19|20)\d{2})\b|\s+of\s+(?P<rel>this|next|last)\s+year)?",
            _en_quarter,
        ),
        (r"\b(?P<y>(?:19|20)\d{2})\s*q(?P<qn>[1-4])\b", _en_year_quarter),
        (
            rf"\b(?:{_EN_PART}|(?P<ewhen>earlier|later)\s+)?(?P<rel>this|last|next)\s+(?P<unit>year|month|week)\b",
            _en_relative,
        ),
        (
            r"\b(?P<n>\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\s+few|"
            r"a\s+couple\s+of|several)\s+(?P<unit>day|week|month|year)s?\s+ago\b",
            _en_ago,
        ),
        (r"\b(?P<rel>today|tonight|yesterday|tomorrow)\b", _en_deictic),
        (r"\b(?:that|the\s+same)\s+year\b", _en_that_year),
    )
)


# -- extraction ------------------------------------------------------------------------------------------


def _candidates(folded: str) -> list[_Raw]:
    """Non-overlapping matches, leftmost-longest (earlier patterns win ties)."""
    found: list[tuple[int, int, int, _Raw]] = []
    for order, pattern in enumerate(_PATTERNS):
        for match in pattern.regex.finditer(folded):
            if match.end() == match.start():
                continue
            raw = pattern.parse(match, folded)
            if raw is not None and raw.end > raw.start:
                found.append((raw.start, -raw.length, order, raw))
    found.sort(key=lambda item: item[:3])
    chosen: list[_Raw] = []
    taken_until = -1
    for start, _, _, raw in found:
        if start >= taken_until:
            chosen.append(raw)
            taken_until = raw.end
    return _explicit_days_win(chosen, folded)


_BRACKET_OPEN = re.compile(r"^\s*[（(]\s*$|^\s*[,，]\s*$")
_BRACKET_CLOSE = re.compile(r"\s*[）)]")


def _explicit_days_win(raws: list[_Raw], folded: str) -> list[_Raw]:
    """A weekday or a relative day followed by an explicit date (in brackets or after a comma) is that date:
    周一(12 月 1 日) and "Tuesday, Dec. 3" are the date; 上周四（19日） and 昨日（21日） are the 19th / 21st nearest
    the day the words alone would give."""
    kept: list[_Raw] = []
    skip: set[int] = set()
    for index, raw in enumerate(raws):
        if index in skip:
            continue
        following = raws[index + 1] if index + 1 < len(raws) else None
        names_date = raw.day is not None and raw.month is not None
        weekday_after = following is not None and following.weekday is not None and following.week_offset is None
        if names_date and weekday_after and _BRACKET_OPEN.match(folded[raw.end : following.start]):
            skip.add(index + 1)  # 12月16日,星期二 / Dec. 3 (Tuesday): the weekday only names the date
        if (raw.weekday is not None or raw.day_offset is not None) and following is not None:
            gap = folded[raw.end : following.start]
            if _BRACKET_OPEN.match(gap):
                if following.day_only and following.month_offset is None:
                    close = _BRACKET_CLOSE.match(folded, following.end)
                    raw.bracket_day = following.day
                    raw.end = close.end() if close else following.end
                    skip.add(index + 1)
                elif following.day is not None and following.month is not None:
                    continue  # the explicit month and day stand for the weekday
        kept.append(raw)
    return kept
