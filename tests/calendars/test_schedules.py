"""Working-day schedules: the run days, and the RRule set Prefect is given."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from pydantic import ValidationError

from calendars.official import default_calendar
from calendars.zone import SHANGHAI
from calendars.schedules import PREFECT_RRULE_MAX_CHARS, WorkingDaySchedule

D = dt.date


def test_first_working_day_of_october_2025_is_the_ninth() -> None:
    monthly = WorkingDaySchedule(every="month", n=1, at="09:00")
    assert monthly.run_days(D(2025, 9, 1), D(2025, 12, 31)) == [D(2025, 9, 1), D(2025, 10, 9), D(2025, 11, 3), D(2025, 12, 1)]


def test_quarter_year_last_and_every_day() -> None:
    assert WorkingDaySchedule(every="quarter", n=1).run_days(D(2026, 1, 1), D(2026, 12, 31)) == [
        D(2026, 1, 4), D(2026, 4, 1), D(2026, 7, 1), D(2026, 10, 8),  # 01-04: a make-up Sunday
    ]
    assert WorkingDaySchedule(every="year", n=-1).run_days(D(2025, 1, 1), D(2025, 12, 31)) == [D(2025, 12, 31)]
    week = WorkingDaySchedule(every="day").run_days(D(2025, 9, 27), D(2025, 10, 12))
    assert week == [D(2025, 9, 28), D(2025, 9, 29), D(2025, 9, 30), D(2025, 10, 9), D(2025, 10, 10), D(2025, 10, 11)]


def test_spec_validation() -> None:
    with pytest.raises(ValidationError):
        WorkingDaySchedule(every="month", n=0)
    with pytest.raises(ValidationError):
        WorkingDaySchedule(every="month", at="25:00")
    with pytest.raises(ValidationError):
        WorkingDaySchedule(every="fortnight")  # type: ignore[arg-type]


def test_rrule_is_what_prefect_expands_to_the_same_days() -> None:
    from prefect.server.schemas.schedules import RRuleSchedule

    spec = WorkingDaySchedule(every="month", n=1, at="09:30")
    rule, last = spec.rrule(D(2025, 1, 1))
    assert last == D(2026, 12, 1)
    schedule = RRuleSchedule(rrule=rule, timezone="Asia/Shanghai")
    start = dt.datetime(2025, 9, 1, tzinfo=SHANGHAI)
    dates = asyncio.run(schedule.get_dates(n=4, start=start)) if asyncio.iscoroutinefunction(schedule.get_dates) else schedule.get_dates(n=4, start=start)
    assert [dt.datetime.fromisoformat(d.astimezone(SHANGHAI).isoformat()).replace(tzinfo=None) for d in dates] == [
        dt.datetime(2025, 9, 1, 9, 30), dt.datetime(2025, 10, 9, 9, 30), dt.datetime(2025, 11, 3, 9, 30), dt.datetime(2025, 12, 1, 9, 30),
    ]


def test_rrule_stays_under_prefects_cap_and_reports_where_it_ends() -> None:
    spec = WorkingDaySchedule(every="day")
    rule, last = spec.rrule(D(2020, 1, 1))
    assert len(rule) <= PREFECT_RRULE_MAX_CHARS
    assert last is not None and last < D(2026, 12, 31)  # truncated by the cap, not the data
    rule, last = spec.rrule(D(2026, 6, 1))
    assert last == D(2026, 12, 31)  # the data's last working day
    assert default_calendar().is_working_day(last)


def test_no_runs_left_returns_empty_rule() -> None:
    rule, last = WorkingDaySchedule(every="month").rrule(D(2026, 12, 2))
    assert rule == "" and last is None
