"""Calendar answers with the provisional days they rest on (issue 13, item 4).

Why a second form of the arithmetic: a bare ``true`` or ``2026-12-28`` cannot say that it may
change. The last :data:`~calendars.official.PROVISIONAL_DECEMBER_DAYS` days of a year stay
provisional until the next year's State Council notice is loaded (the 2019 notice made
2018-12-29 a working day and 2018-12-31 a holiday: a calendar of 2018 alone answered both
wrongly). Each function here gives the value of the plain method together with the provisional
days among those the value depends on, so the command line can print the value and say, on
stderr, that it is provisional.

Which days an answer depends on:

- a single day's status: that day;
- ``roll_forward``: from the day to the result (each day before the result was judged a rest day);
- ``add_working_days`` (``next``/``previous``): the days counted, start day excluded, result
  included (the start day's own status does not change the count);
- the n-th working day of a month: from the month's first day to the result (n > 0) or from the
  result to the month's last day (n < 0);
- a count: every day of the range.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from calendars.official import WorkingDayCalendar, to_shanghai_date

__all__ = [
    "Answer",
    "add_working_days",
    "count_working_days",
    "is_working_day",
    "next_working_day",
    "nth_working_day_of_month",
    "previous_working_day",
    "roll_forward",
]


@dataclass(frozen=True)
class Answer:
    """A calendar answer and the provisional days it rests on (empty: a definite answer)."""

    value: bool | dt.date | int
    provisional_days: tuple[dt.date, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_days)


def _answer(cal: WorkingDayCalendar, value: bool | dt.date | int, a: dt.date, b: dt.date) -> Answer:
    return Answer(value, tuple(cal.provisional_days(a, b)))


def is_working_day(cal: WorkingDayCalendar, day: dt.date | dt.datetime) -> Answer:
    d = to_shanghai_date(day)
    return _answer(cal, cal.is_working_day(d), d, d)


def roll_forward(cal: WorkingDayCalendar, day: dt.date | dt.datetime) -> Answer:
    d = to_shanghai_date(day)
    result = cal.roll_forward(d)
    return _answer(cal, result, d, result)


def add_working_days(cal: WorkingDayCalendar, day: dt.date | dt.datetime, n: int) -> Answer:
    d = to_shanghai_date(day)
    if n == 0:
        return roll_forward(cal, d)
    result = cal.add_working_days(d, n)
    step = dt.timedelta(days=1 if n > 0 else -1)
    return _answer(cal, result, d + step, result)


def next_working_day(cal: WorkingDayCalendar, day: dt.date | dt.datetime) -> Answer:
    return add_working_days(cal, day, 1)


def previous_working_day(cal: WorkingDayCalendar, day: dt.date | dt.datetime) -> Answer:
    return add_working_days(cal, day, -1)


def nth_working_day_of_month(cal: WorkingDayCalendar, year: int, month: int, n: int) -> Answer:
    result = cal.nth_working_day_of_month(year, month, n)
    first = dt.date(year, month, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return _answer(cal, result, first, result) if n > 0 else _answer(cal, result, result, last)


def count_working_days(cal: WorkingDayCalendar, a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> Answer:
    start, end = to_shanghai_date(a), to_shanghai_date(b)
    return _answer(cal, cal.count_working_days(start, end), start, end)
