"""Official Chinese working days: data, arithmetic, deadlines and working-day schedules.

The module-level functions answer from the shipped calendar (``calendars/data``); build a
:class:`WorkingDayCalendar` yourself to answer from other data.
"""

from __future__ import annotations

import datetime as dt

from calendars.official import (
    CalendarError,
    DayStatus,
    WorkingDayCalendar,
    YearNotCovered,
    default_calendar,
    load_calendar,
    to_shanghai_date,
)
from calendars.zone import SHANGHAI

__all__ = [
    "SHANGHAI",
    "CalendarError",
    "DayStatus",
    "WorkingDayCalendar",
    "YearNotCovered",
    "add_working_days",
    "count_working_days",
    "default_calendar",
    "is_working_day",
    "load_calendar",
    "next_working_day",
    "nth_working_day_of_month",
    "previous_working_day",
    "roll_forward",
    "to_shanghai_date",
]


def is_working_day(value: dt.date | dt.datetime) -> bool:
    return default_calendar().is_working_day(value)


def next_working_day(value: dt.date | dt.datetime) -> dt.date:
    return default_calendar().next_working_day(value)


def previous_working_day(value: dt.date | dt.datetime) -> dt.date:
    return default_calendar().previous_working_day(value)


def roll_forward(value: dt.date | dt.datetime) -> dt.date:
    return default_calendar().roll_forward(value)


def add_working_days(value: dt.date | dt.datetime, n: int) -> dt.date:
    return default_calendar().add_working_days(value, n)


def nth_working_day_of_month(year: int, month: int, n: int) -> dt.date:
    return default_calendar().nth_working_day_of_month(year, month, n)


def count_working_days(a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> int:
    return default_calendar().count_working_days(a, b)
