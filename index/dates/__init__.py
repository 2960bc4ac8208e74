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

News forms (docs/timeline.md has the rules): weekdays (on Wednesday, said Tuesday, 周四, 星期二) are the last such
day up to the reference, or the next one in a clause about the future; 上周四 / 本周一 / last Friday / next
Wednesday the day of that calendar week; an explicit day in brackets wins (上周四（19日）, 昨日（21日）); a day
alone (8日, 本月15日) is of the reference month, or of the month before when it is still ahead; "May of this
year". Whether a date is in the future is decided per clause, not per sentence.

The package: `values` (ResolvedDate and how it is built), `patterns` (the expressions), `resolve` (against the
reference; `extract`), `bounds` (--from / --to).

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

from index.dates.bounds import DateBoundError, parse_bound, parse_range
from index.dates.patterns import FUTURE_RE
from index.dates.resolve import ABBREVIATION_END, AFTER_REFERENCE_DAYS, extract, resolve, sentences
from index.dates.values import (
    MAX_YEAR,
    MIN_YEAR,
    PRECISION_RANK,
    PRECISIONS,
    DateMention,
    Extraction,
    ResolvedDate,
    approximate,
    day_date,
    month_date,
    number,
    quarter_date,
    year_date,
)

__all__ = [
    "ABBREVIATION_END",
    "AFTER_REFERENCE_DAYS",
    "FUTURE_RE",
    "MAX_YEAR",
    "MIN_YEAR",
    "PRECISIONS",
    "PRECISION_RANK",
    "DateBoundError",
    "DateMention",
    "Extraction",
    "ResolvedDate",
    "approximate",
    "day_date",
    "extract",
    "month_date",
    "number",
    "parse_bound",
    "parse_range",
    "quarter_date",
    "resolve",
    "sentences",
    "year_date",
]
