"""Date expressions in Chinese (simplified and traditional) and English, resolved to ISO dates.

`extract(text, reference)` finds every date expression of a block of text (a line of a passage) and resolves it
against `reference`, the date the text was written (the document's publication date, or the last dateline
seen before this text). Matching runs on folded text (NFKC, traditional -> simplified, lower case), so 12 月
9 日, 12月9號, １２月９日 and 十二月九日 are one pattern; offsets and the expression itself are the original's.

What is recognised (docs/timeline.md has the full table):

* absolute: 2022 年 11 月 30 日, 2025-12-15, 2025/12/10, 2025.12.10, 2025 年 5 月, 2026年, 2022 年底, 2026 年 Q1,
  二〇二五年; December 9, 2025; 9 December 2025; Dec. 9; November 2025; in 2022; Q1 2026; the first quarter of 2026.
* without a year: 12月9日, 11 月 18 日, 10 月份, 三月, 年初, 年底, 第一季度; in January, mid-November, December 9.
* relative to the reference date: 今年 3 月, 去年, 明年第一季度, 明年初, 上个月, 下周, 本周, 三年前, 两个月前, 今天,
  今天凌晨, 昨天, 明天, 前几天, 日前, 近日, 今年早些时候; last year, next year, this year, late last month, earlier
  this year, last week, 3 days ago, a few weeks ago, today, yesterday, tomorrow, last November.

Precision is one of day, month, quarter, year, approximate. An approximate date is written as the ISO period it
stands for: a single year or month (三年前 -> "2022"; mid-November -> "2025-11-11/2025-11-20" is an interval)
or an ISO interval ``start/end`` at the granularity of the expression.

The year rule, for a month or a day written without a year:
1. it takes the year of an earlier date with a known year in the same sentence ("今年 3 月 ... 10 月份"); a month
   earlier than that date's month moves to the following year ("2024 年 11 月至 3 月" -> 2025-03);
2. otherwise the reference year, except that a month after the reference month belongs to the previous year
   (written in January 2026, "12月9日" is 2025-12-09), unless the sentence speaks of the future (将, 预计, 计划,
   will, expected, plans to...): then a month after the reference month keeps the reference year and a month
   before it moves to the next year (written in December 2025, "预计 3 月发布" is 2026-03).
A part of a year without a year (年底, 年初, 上半年) that opens a sentence takes the year of the previous sentence
of the same block when that sentence names one ("2022 年,... 。年底,..." -> late 2022). 同年, 当年 and "that
year" take that year or are left out.

Anchors. A full date followed by a clock time at the start of a line or right after a sentence end (a dateline:
"Getty.December 9, 2025, 5:04 PM ET"), a sentence that is only a full date, and "今天是12月16日" / "today is ..."
are anchors: they are not events, and later relative expressions are resolved against them.

`deictic` marks today / tonight / tomorrow (今天, 今晚, 明天...), which are often generic ("today's AI");
the timeline keeps them only in sentences that report something happening.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from index.errors import UserFacingError
from index.normalize import fold_with_offsets
from index.passages import sentence_spans

PRECISIONS = ("day", "month", "quarter", "year", "approximate")
PRECISION_RANK = {name: rank for rank, name in enumerate(PRECISIONS)}
MIN_YEAR, MAX_YEAR = 1900, 2100
_FEW_DAYS = 7  # "a few days ago" / 前几天: within the week before the reference date
# A day without a month (8日) may fall this many days after the reference and still be of its month: publication
# dates are often a day or two off (time zones, a catalog date that is approximate).
AFTER_REFERENCE_DAYS = 3


@dataclass(frozen=True, slots=True)
class ResolvedDate:
    """A resolved date: its ISO text, precision and the period [start, end] (both inclusive) it stands for."""

    iso: str
    precision: str
    start: date
    end: date

    def overlaps(self, other: ResolvedDate) -> bool:
        return self.start <= other.end and other.start <= self.end

    def within(self, low: date | None, high: date | None) -> bool:
        """The whole period lies in [low, high] (an open bound is no constraint)."""
        return (low is None or self.start >= low) and (high is None or self.end <= high)

    @property
    def span_days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True, slots=True)
class DateMention:
    """One date expression of a text: where it is (offsets into the text given to `extract`), its verbatim
    expression, the sentence around it, and what it resolves to."""

    start: int
    end: int
    expression: str
    date: ResolvedDate
    sentence: tuple[int, int]
    relative: bool = False  # resolved against the reference date (or its year)
    anchor: bool = False  # a dateline or "today is ...": sets the reference, is not an event
    deictic: bool = False  # today / tonight / tomorrow (yesterday is never generic)


@dataclass(frozen=True, slots=True)
class Extraction:
    mentions: tuple[DateMention, ...]
    reference: date | None  # the reference date after this text (moved by its last anchor)
    rejected: tuple[str, ...] = ()  # written like dates but impossible (2月30日, Feb. 30, 0000年, 99999年)


# -- building resolved dates -----------------------------------------------------------------------------


def day_date(year: int, month: int, day: int) -> ResolvedDate | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    return ResolvedDate(value.isoformat(), "day", value, value)


def month_date(year: int, month: int) -> ResolvedDate | None:
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        return None
    return ResolvedDate(f"{year:04d}-{month:02d}", "month", date(year, month, 1), _month_end(year, month))


def quarter_date(year: int, quarter: int) -> ResolvedDate | None:
    """A quarter is written as its first month ("2026-01" with precision quarter)."""
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= quarter <= 4):
        return None
    first = 3 * quarter - 2
    return ResolvedDate(f"{year:04d}-{first:02d}", "quarter", date(year, first, 1), _month_end(year, first + 2))


def year_date(year: int) -> ResolvedDate | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    return ResolvedDate(f"{year:04d}", "year", date(year, 1, 1), date(year, 12, 31))


def approximate(start: date, end: date, unit: str) -> ResolvedDate | None:
    """An approximate period written at the granularity `unit` (day, month or year): one ISO value when the
    period is one unit, else an ISO interval "start/end"."""
    if not (MIN_YEAR <= start.year <= MAX_YEAR and MIN_YEAR <= end.year <= MAX_YEAR) or end < start:
        return None
    if unit == "year":
        start, end = date(start.year, 1, 1), date(end.year, 12, 31)
        iso = f"{start.year:04d}" if start.year == end.year else f"{start.year:04d}/{end.year:04d}"
    elif unit == "month":
        start, end = date(start.year, start.month, 1), _month_end(end.year, end.month)
        first, last = f"{start.year:04d}-{start.month:02d}", f"{end.year:04d}-{end.month:02d}"
        iso = first if first == last else f"{first}/{last}"
    else:
        iso = start.isoformat() if start == end else f"{start.isoformat()}/{end.isoformat()}"
    return ResolvedDate(iso, "approximate", start, end)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _shift_month(year: int, month: int, offset: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + offset
    return index // 12, index % 12 + 1


# Parts of a month (early / mid / late) and of a year, as (first, last) day or month.
_MONTH_PARTS = {"start": (1, 10), "early": (1, 10), "mid": (11, 20), "late": (21, 31), "end": (21, 31)}
_YEAR_PARTS = {
    "start": (1, 3),
    "early": (1, 4),
    "mid": (5, 8),
    "late": (9, 12),
    "end": (10, 12),
    "h1": (1, 6),
    "h2": (7, 12),
}


def _month_part(year: int, month: int, part: str) -> ResolvedDate | None:
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        return None
    first, last = _MONTH_PARTS[part]
    end = _month_end(year, month)
    return approximate(date(year, month, first), date(year, month, min(last, end.day)), "day")


def _year_part(year: int, part: str) -> ResolvedDate | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    first, last = _YEAR_PARTS[part]
    return approximate(date(year, first, 1), date(year, last, 1), "month")


# -- numbers ---------------------------------------------------------------------------------------------

_CN_DIGITS = {
    "零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_EN_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip


def number(text: str) -> int | None:
    """An Arabic, Chinese (三, 十二, 二十三, 两) or digit-by-digit Chinese (二〇二五) number below 10000."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if text in _EN_NUMBERS:
        return _EN_NUMBERS[text]
    if not text or any(c not in _CN_DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        if len(text) == 1:
            return _CN_DIGITS[text]
        value = 0
        for char in text:
            value = value * 10 + _CN_DIGITS[char]
        return value
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1:
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


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


def _nearest_day(around: date, day: int) -> date | None:
    """The date with this day of the month nearest `around` (its month, the one before or the one after)."""
    options = []
    for offset in (-1, 0, 1):
        year, month = _shift_month(around.year, around.month, offset)
        if day <= calendar.monthrange(year, month)[1] and MIN_YEAR <= year <= MAX_YEAR:
            options.append(date(year, month, day))
    return min(options, key=lambda value: abs((value - around).days)) if options else None


def _single_day(value: date | None) -> ResolvedDate | None:
    if value is None or not MIN_YEAR <= value.year <= MAX_YEAR:
        return None
    return ResolvedDate(value.isoformat(), "day", value, value)


@dataclass
class _Context:
    reference: date | None
    future: bool
    year: int | None = None  # the last known year in this sentence
    day_month: tuple[int, int] | None = None  # (year, month) of the sentence's last date with a month
    month: int | None = None  # and its month, when known
    end: int | None = None  # where that date ended (folded offset)


_RANGE_BETWEEN = re.compile(r"^\s*(?:至|到|—|–|-|~|～|until|till|through|to)\s*$")


def _year_for_month(month: int, context: _Context, between: str = "") -> tuple[int | None, bool]:
    """(year, relative) for a month given without a year: the year rule of the module docstring."""
    if context.year is not None:
        year = context.year
        if context.month is not None and month < context.month and _RANGE_BETWEEN.match(between):
            year += 1  # 2024 年 11 月至 3 月
        return year, False
    reference = context.reference
    if reference is None:
        return None, True
    if month > reference.month:
        return (reference.year if context.future else reference.year - 1), True
    if month < reference.month and context.future:
        return reference.year + 1, True
    return reference.year, True


def _resolve(raw: _Raw, context: _Context, between: str = "") -> tuple[ResolvedDate | None, bool]:
    """The date of a matched expression and whether it was resolved against the reference date."""
    ref = context.reference
    if raw.anaphoric_year:
        return (year_date(context.year) if context.year is not None else None), False
    if raw.day_offset is not None:
        if ref is None:
            return None, True
        value = ref + timedelta(days=raw.day_offset)
        if raw.bracket_day is not None:
            return _single_day(_nearest_day(value, raw.bracket_day)), True
        return ResolvedDate(value.isoformat(), "day", value, value), True
    if raw.weekday is not None:
        if ref is None:
            return None, True
        if raw.week_offset is not None:  # 上周四, next Tuesday: that day of the week before / after / this week
            value = ref - timedelta(days=ref.weekday()) + timedelta(weeks=raw.week_offset, days=raw.weekday)
        elif context.future:  # "will meet on Friday": the next such day (the reference day itself included)
            value = ref + timedelta(days=(raw.weekday - ref.weekday()) % 7)
        else:  # news reports what happened: the last such day, the reference day itself included
            value = ref - timedelta(days=(ref.weekday() - raw.weekday) % 7)
        if raw.bracket_day is not None:
            return _single_day(_nearest_day(value, raw.bracket_day)), True
        return _single_day(value), True
    if raw.day_only:
        if ref is None and context.day_month is None:
            return None, True
        if raw.month_offset is not None and ref is not None:
            year, month = _shift_month(ref.year, ref.month, raw.month_offset)
            return day_date(year, month, raw.day or 0), True
        if context.day_month is not None:  # 9月3日开幕，8日闭幕: the month of the sentence's date
            year, month = context.day_month
            return day_date(year, month, raw.day or 0), context.year is None
        assert ref is not None
        year, month = ref.year, ref.month
        if (raw.day or 0) > ref.day + AFTER_REFERENCE_DAYS and not context.future:
            year, month = _shift_month(year, month, -1)
        elif (raw.day or 0) < ref.day and context.future:
            year, month = _shift_month(year, month, 1)
        return day_date(year, month, raw.day or 0), True
    if raw.week_offset is not None:
        if ref is None:
            return None, True
        monday = ref - timedelta(days=ref.weekday()) + timedelta(weeks=raw.week_offset)
        return approximate(monday, monday + timedelta(days=6), "day"), True
    if raw.few_days:
        if ref is None:
            return None, True
        return approximate(ref - timedelta(days=_FEW_DAYS), ref - timedelta(days=1), "day"), True
    if raw.ago is not None:
        if ref is None:
            return None, True
        least, most, unit = raw.ago
        if unit == "day":
            if least == most:
                value = ref - timedelta(days=least)
                return ResolvedDate(value.isoformat(), "day", value, value), True
            return approximate(ref - timedelta(days=most), ref - timedelta(days=least), "day"), True
        if unit == "week":
            return approximate(ref - timedelta(weeks=most, days=3), ref - timedelta(weeks=least, days=-3), "day"), True
        if unit == "month":
            first = _shift_month(ref.year, ref.month, -int(most))
            last = _shift_month(ref.year, ref.month, -int(least))
            return approximate(date(*first, 1), date(*last, 1), "month"), True
        return approximate(date(ref.year - int(most), 1, 1), date(ref.year - int(least), 1, 1), "year"), True
    if raw.month_offset is not None:
        if ref is None:
            return None, True
        year, month = _shift_month(ref.year, ref.month, raw.month_offset)
        if raw.part:
            return _month_part(year, month, _month_part_name(raw.part)), True
        return month_date(year, month), True

    relative = False
    year = raw.year
    if year is None and raw.year_offset is not None:
        if ref is None:
            return None, True
        year, relative = ref.year + raw.year_offset, True
    if year is None and raw.month is not None and raw.month_which is not None:
        if ref is None:
            return None, True
        relative = True
        if raw.month_which == "this":
            year = ref.year
        elif raw.month_which == "last":
            year = ref.year if raw.month < ref.month else ref.year - 1
        else:
            year = ref.year if raw.month > ref.month else ref.year + 1
    if year is None and raw.month is not None:
        year, relative = _year_for_month(raw.month, context, between)
    if year is None and raw.quarter is not None:
        year, relative = _year_for_month(3 * raw.quarter - 2, context, between)
    if year is None and (raw.part is not None or raw.since_year_start):
        if context.year is not None:
            year = context.year
        elif ref is not None:
            year, relative = ref.year, True
    if year is None:
        return None, relative

    if raw.month is not None:
        if raw.day is not None:
            return day_date(year, raw.month, raw.day), relative
        if raw.part:
            return _month_part(year, raw.month, _month_part_name(raw.part)), relative
        return month_date(year, raw.month), relative
    if raw.quarter is not None:
        return quarter_date(year, raw.quarter), relative
    if raw.since_year_start:
        if ref is not None and ref.year == year:
            if raw.since_year_start == "earlier":
                return approximate(date(year, 1, 1), date(year, ref.month, 1), "month"), True
            return approximate(date(year, ref.month, 1), date(year, 12, 1), "month"), True
        return approximate(date(year, 1, 1), date(year, 12, 31), "year"), relative
    if raw.part:
        return _year_part(year, raw.part), relative
    return year_date(year), relative


def _month_part_name(part: str) -> str:
    return {"h1": "early", "h2": "late"}.get(part, part)


_QUOTE_END = re.compile(r"[?!？！。.…][」』”\"’']$")
_LEAD_CLAUSE = re.compile(r"\s*(?![A-Z])[^,，。;；:：!?！？\n]{1,12}?[,，。.:：]")


# A full stop after these is an abbreviation, not a sentence end (U.S. Defense Secretary, Mr. Cook, H. I. Sutton).
ABBREVIATION_END = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|prof|sen|rep|gov|gen|lt|col|capt|st|jr|sr|co|corp|inc|ltd|no|vs|jan|feb|mar|apr|jun"
    r"|jul|aug|sep|sept|oct|nov|dec)|(?<![\w.])[A-Z](?:\.[A-Z])*)\.$",
    re.I,
)


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (index.passages.sentence_spans), with a quoted question or exclamation kept with the few
    words that finish its sentence (「GPT-6 还要等多久?」时,奥特曼表示... / “No!” he said.), and a full stop after
    an abbreviation or an initial not taken for a sentence end (U.S. Defense Secretary Mark Esper ...)."""
    spans = sentence_spans(text) or [(0, len(text))]
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if not joined:
            joined.append((start, end))
            continue
        last_start, last_end = joined[-1]
        abbreviation = ABBREVIATION_END.search(text, max(last_start, last_end - 8), last_end)
        quoted = _QUOTE_END.search(text, last_start, last_end) and _LEAD_CLAUSE.match(text, start, end)
        if abbreviation or quoted:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def extract(text: str, reference: date | None) -> Extraction:
    """Every date expression of `text` (one line or paragraph), resolved against `reference` (None: only
    absolute dates resolve). Anchors inside the text move the reference for what follows them."""
    folded, offsets = fold_with_offsets(text)
    spans = sentences(text)
    raws = _candidates(folded)
    mentions: list[DateMention] = []
    rejected: list[str] = [text[m.start() : m.end()] for m in _IMPOSSIBLE_YEAR_RE.finditer(folded)]
    previous_year: int | None = None  # the last known year of the previous sentence
    context: _Context | None = None
    current: tuple[int, int] | None = None
    sentence_year: int | None = None
    for raw in raws:
        start, end = offsets[raw.start], offsets[raw.end - 1] + 1
        # The sentence around the expression (several, when a sentence end falls inside it: "Dec. 9, 2025").
        touched = [span for span in spans if span[0] < end and start < span[1]] or [(start, end)]
        sentence = (min(touched[0][0], start), max(touched[-1][1], end))
        if current is None or sentence[0] >= current[1]:
            if sentence_year is not None:
                previous_year = sentence_year
            sentence_year = None
            current = sentence
            context = _Context(reference, bool(FUTURE_RE.search(folded, sentence[0], sentence[1])))
        else:
            current = (current[0], max(current[1], sentence[1]))
        assert context is not None
        context.future = _speaks_of_the_future(folded, current, raw)
        opens_sentence = not re.search(r"[\w\u3400-\u9fff]", text[current[0] : start])
        inherits = (raw.part is not None and opens_sentence) or (raw.anaphoric_year and context.year is None)
        if inherits and raw.year is None and raw.year_offset is None and raw.month is None and previous_year:
            context.year, context.month, context.end = previous_year, None, None
        resolved, relative = _resolve(raw, context, folded[context.end : raw.start] if context.end else "")
        explicit = raw.year is not None or (raw.month is not None and raw.day is not None)
        resolvable = raw.year is not None or context.reference is not None or context.year is not None
        if resolved is None and explicit and resolvable:
            rejected.append(text[start:end])  # the numbers themselves are impossible: 2月30日, 0000年
        if resolved is None or _RETRIEVAL_BEFORE.search(folded, 0, raw.start):
            continue  # unresolvable, or 检索日期 2025/12/10 / "retrieved on ...": metadata of a reference
        if raw.year is not None or raw.year_offset is not None or raw.month_which is not None:
            context.year, context.month, context.end = resolved.start.year, raw.month, raw.end
            sentence_year = context.year
        if raw.month is not None and resolved.precision in ("day", "month"):
            context.day_month = (resolved.start.year, resolved.start.month)
        anchor = _is_anchor(raw, resolved, folded, text, current[0], start, end)
        mentions.append(
            DateMention(start, end, text[start:end], resolved, current, relative, anchor, raw.deictic and not anchor)
        )
        if anchor:
            reference = context.reference = resolved.start
    # A mention's sentence is the final extent of the sentence it was found in.
    extents: list[tuple[int, int]] = []
    for mention in mentions:
        if extents and mention.sentence[0] == extents[-1][0]:
            extents[-1] = (extents[-1][0], max(extents[-1][1], mention.sentence[1]))
        else:
            extents.append(mention.sentence)
    widest = {extent[0]: extent for extent in extents}
    mentions = [replace(m, sentence=widest[m.sentence[0]]) for m in mentions]
    return Extraction(tuple(mentions), reference, tuple(rejected))


_CLAUSE_BREAK = re.compile(r"[,，;；:：—]|\s-\s")


def _speaks_of_the_future(folded: str, sentence: tuple[int, int], raw: _Raw) -> bool:
    """Whether the clause of the expression speaks of the future (将, 预计, will, expected ...). Only its own
    clause counts: in "closed since floods in August, will reopen next Monday, officials announced on Friday"
    August and Friday are past."""
    start = max([m.end() for m in _CLAUSE_BREAK.finditer(folded, sentence[0], raw.start)] or [sentence[0]])
    following = _CLAUSE_BREAK.search(folded, raw.end, sentence[1])
    end = following.start() if following else sentence[1]
    return bool(FUTURE_RE.search(folded, start, end))


def _is_anchor(raw: _Raw, resolved: ResolvedDate, folded: str, text: str, s_start: int, start: int, end: int) -> bool:
    """A dateline, a date standing alone as its sentence, or "today is <date>"."""
    if resolved.precision != "day":
        return False
    if raw.full:
        before = text[:start]
        at_line_start = not before.strip() or before.rstrip(" \t").endswith("\n")
        after_sentence_end = bool(re.search(r"[.!?。！？]$", before)) and not before.endswith(("..", "…"))
        if _CLOCK_AFTER.match(text[end:]) and (at_line_start or after_sentence_end):
            return True
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end) if "\n" in text[end:] else len(text)
        head = text[line_start:start]
        short = len(re.findall(r"[A-Za-z]+", head)) <= 6 and len(_HAN_CHARS.findall(head)) <= 24
        if not text[end:line_end].strip(" \t)）") and short and not re.search(r"[.!?。！？;；]", head):
            return True  # "Gizmodo, published 2019-11-18", "新浪新闻（来源：北京日报），2019-09-07": a dateline
        s_end = next((e for b, e in sentences(text) if b <= start < e), len(text))
        rest = text[s_start:start] + text[end:s_end]
        if len(re.findall(r"[\w\u3400-\u9fff]", rest)) < 8:
            return True
    return raw.day_offset is None and bool(_TODAY_IS_BEFORE.search(folded, 0, raw.start))


def resolve(expression: str, reference: date | None) -> ResolvedDate | None:
    """The date of the first expression in `expression` (anchors included), or None."""
    mentions = extract(expression, reference).mentions
    return mentions[0].date if mentions else None


# -- range bounds (--from / --to) ------------------------------------------------------------------------


class DateBoundError(UserFacingError, ValueError):
    """A --from / --to value that is not a date."""


_BOUND_RE = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{1,2})(?:-(?P<d>\d{1,2}))?)?$")


def parse_bound(value: str, *, name: str = "from", end: bool = False) -> date:
    """The first (or, with `end`, the last) day of YYYY, YYYY-MM or YYYY-MM-DD; DateBoundError otherwise."""
    text = value.strip()
    match = _BOUND_RE.match(text)
    example = "e.g. 2025, 2025-11 or 2025-11-18"
    if match is None:
        raise DateBoundError(f"`{name}` must be a date written YYYY, YYYY-MM or YYYY-MM-DD ({example}), not “{text}”.")
    year, month, day = int(match["y"]), match["m"], match["d"]
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateBoundError(f"`{name}`: the year {year} is outside {MIN_YEAR}–{MAX_YEAR}.")
    if month is None:
        return date(year, 12, 31) if end else date(year, 1, 1)
    if not 1 <= int(month) <= 12:
        raise DateBoundError(f"`{name}`: “{text}” is not a date — there is no month {int(month)} ({example}).")
    if day is None:
        return _month_end(year, int(month)) if end else date(year, int(month), 1)
    last = calendar.monthrange(year, int(month))[1]
    if not 1 <= int(day) <= last:
        raise DateBoundError(
            f"`{name}`: “{text}” is not a date — {calendar.month_name[int(month)]} {year} has {last} days ({example})."
        )
    return date(year, int(month), int(day))


def parse_range(
    start: str | None, end: str | None, *, names: tuple[str, str] = ("from", "to")
) -> tuple[date | None, date | None]:
    """(from, to) bounds from optional texts; DateBoundError when one is not a date or from is after to.
    `names`: what the two options are called where the user typed them ("--from", "--to" in a terminal)."""
    low = parse_bound(start, name=names[0]) if start and start.strip() else None
    high = parse_bound(end, name=names[1], end=True) if end and end.strip() else None
    if low is not None and high is not None and low > high:
        raise DateBoundError(f"`{names[0]}` ({start}) is after `{names[1]}` ({end}); swap them or widen the range.")
    return low, high
