"""Resolved dates: the ISO value, its precision and the period it stands for; and how they are built."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

PRECISIONS = ("day", "month", "quarter", "year", "approximate")
PRECISION_RANK = {name: rank for rank, name in enumerate(PRECISIONS)}
MIN_YEAR, MAX_YEAR = 1900, 2100


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
