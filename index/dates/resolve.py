"""Resolution: a matched expression's date against the reference date, the sentence's earlier dates and whether
its clause speaks of the future; anchors (datelines, "today is") that move the reference; `extract`."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from index.dates.patterns import (
    _CLOCK_AFTER,
    _HAN_CHARS,
    _IMPOSSIBLE_YEAR_RE,
    _RETRIEVAL_BEFORE,
    _TODAY_IS_BEFORE,
    FUTURE_RE,
    _candidates,
    _Raw,
)
from index.dates.values import (
    MAX_YEAR,
    MIN_YEAR,
    DateMention,
    Extraction,
    ResolvedDate,
    _month_part,
    _shift_month,
    _year_part,
    approximate,
    day_date,
    month_date,
    quarter_date,
    year_date,
)
from index.normalize import fold_with_offsets
from index.passages import sentence_spans

_FEW_DAYS = 7  # "a few days ago" / 前几天: within the week before the reference date
# A day without a month (8日) may fall this many days after the reference and still be of its month: publication
# dates are often a day or two off (time zones, a catalog date that is approximate).
AFTER_REFERENCE_DAYS = 3


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
    an abbreviation or an initial not taken for a sentence end (U.S. Commerce Secretary Anna Lee ...)."""
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
