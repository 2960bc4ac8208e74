"""--from / --to bounds: YYYY, YYYY-MM or YYYY-MM-DD as the first or last day of the period, or a clear error."""

from __future__ import annotations

import calendar
import re
from datetime import date

from index.dates.values import MAX_YEAR, MIN_YEAR, _month_end
from index.errors import UserFacingError


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
