"""Working-day arithmetic on the shipped calendar: examples from the notices, and properties."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calendars
from calendars.model import YearArrangement
from calendars.official import CalendarError, WorkingDayCalendar, YearNotCovered, default_calendar

D = dt.date
COVERED = st.dates(min_value=D(2020, 3, 1), max_value=D(2026, 10, 31))


def test_make_up_saturday_and_holiday_weekday() -> None:
    assert calendars.is_working_day(D(2025, 9, 28))  # 周日上班（国庆调休，国办发明电〔2024〕12号）
    assert not calendars.is_working_day(D(2025, 10, 8))  # 国庆中秋假期
    assert calendars.is_working_day(D(2026, 1, 4))  # 周日上班（元旦调休，国办发明电〔2025〕7号）
    assert not calendars.is_working_day(D(2025, 11, 22))  # ordinary Saturday


def test_status_names_the_notice() -> None:
    status = default_calendar().status(D(2025, 10, 3))
    assert status.reason == "holiday:国庆节、中秋节" and status.notice == "国办发明电〔2024〕12号"


def test_neighbours_and_roll_forward() -> None:
    assert calendars.next_working_day(D(2025, 9, 30)) == D(2025, 10, 9)
    assert calendars.previous_working_day(D(2025, 10, 9)) == D(2025, 9, 30)
    assert calendars.roll_forward(D(2025, 10, 1)) == D(2025, 10, 9)
    assert calendars.roll_forward(D(2025, 10, 9)) == D(2025, 10, 9)


def test_add_working_days_from_holiday_and_backwards() -> None:
    assert calendars.add_working_days(D(2025, 10, 1), 1) == D(2025, 10, 9)  # from a holiday
    # 10-09 Thu, 10-10 Fri, 10-11 Sat (make-up day), 10-13 Mon, 10-14 Tue
    assert calendars.add_working_days(D(2025, 9, 30), 5) == D(2025, 10, 14)
    assert calendars.add_working_days(D(2025, 10, 9), -1) == D(2025, 9, 30)
    assert calendars.add_working_days(D(2025, 10, 4), 0) == D(2025, 10, 9)


def test_nth_working_day_of_month() -> None:
    assert calendars.nth_working_day_of_month(2025, 10, 1) == D(2025, 10, 9)
    assert calendars.nth_working_day_of_month(2025, 10, -1) == D(2025, 10, 31)
    assert calendars.nth_working_day_of_month(2026, 2, 1) == D(2026, 2, 2)
    with pytest.raises(CalendarError):
        calendars.nth_working_day_of_month(2025, 10, 0)
    with pytest.raises(CalendarError, match="没有第 30 个"):
        calendars.nth_working_day_of_month(2025, 10, 30)
    with pytest.raises(CalendarError):
        calendars.nth_working_day_of_month(2025, 13, 1)


def test_count_working_days_refuses_reversed_range() -> None:
    assert calendars.count_working_days(D(2025, 10, 1), D(2025, 10, 8)) == 0
    assert calendars.count_working_days(D(2025, 1, 1), D(2025, 12, 31)) == 248
    with pytest.raises(CalendarError, match="晚于"):
        calendars.count_working_days(D(2025, 10, 2), D(2025, 10, 1))


def test_aware_datetime_is_converted_naive_refused() -> None:
    # 2025-09-30 17:30 UTC is 2025-10-01 01:30 in Beijing: a holiday.
    late = dt.datetime(2025, 9, 30, 17, 30, tzinfo=dt.timezone.utc)
    assert not calendars.is_working_day(late)
    assert calendars.is_working_day(late.replace(hour=15))
    with pytest.raises(CalendarError, match="naive"):
        calendars.is_working_day(dt.datetime(2025, 9, 30, 12, 0))
    ny = dt.datetime(2025, 9, 30, 12, 0, tzinfo=ZoneInfo("America/New_York"))  # 10-01 00:00 Beijing
    assert not calendars.is_working_day(ny)


def test_uncovered_year_fails_closed_with_year_and_how() -> None:
    with pytest.raises(YearNotCovered) as err:
        calendars.is_working_day(D(2027, 1, 4))
    assert err.value.year == 2027 and "2027" in str(err.value) and "import-notice" in str(err.value)
    with pytest.raises(YearNotCovered, match="2027"):
        calendars.add_working_days(D(2026, 12, 30), 5)
    with pytest.raises(YearNotCovered, match="2019"):
        calendars.add_working_days(D(2020, 1, 2), -5)
    with pytest.raises(YearNotCovered, match="2027"):
        calendars.count_working_days(D(2026, 12, 1), D(2027, 1, 10))


def test_late_december_is_provisional_until_next_year_is_loaded() -> None:
    cal = default_calendar()
    assert cal.status(D(2026, 12, 28)).provisional
    assert not cal.status(D(2026, 12, 20)).provisional
    assert not cal.status(D(2025, 12, 31)).provisional  # 2026 is loaded


def _tiny(year: int, **extra: object) -> YearArrangement:
    notice = {"number": "测试〔0〕1号", "title": "t", "date": f"{year - 1}-11-01", "url": "https://example.invalid"}
    return YearArrangement.model_validate({"year": year, "notices": [notice], "holidays": [], **extra})


def test_cross_year_days_from_next_notice_apply() -> None:
    """A notice can make a day of the previous December a working day (as 2019's did for 2018-12-29)."""
    n = "测试〔0〕1号"
    y2018 = _tiny(2018)
    y2019 = _tiny(
        2019,
        holidays=[{"name": "元旦", "start": "2018-12-30", "end": "2019-01-01", "days": 3, "notice": n}],
        makeup_workdays=[{"date": "2018-12-29", "for_holiday": "元旦", "notice": n}],
    )
    without_next = WorkingDayCalendar([y2018])
    assert not without_next.is_working_day(D(2018, 12, 29)) and without_next.status(D(2018, 12, 29)).provisional
    both = WorkingDayCalendar([y2018, y2019])
    assert both.is_working_day(D(2018, 12, 29)) and not both.status(D(2018, 12, 29)).provisional
    assert not both.is_working_day(D(2018, 12, 31))
    assert both.next_working_day(D(2018, 12, 28)) == D(2018, 12, 29)


@settings(max_examples=300, deadline=None)
@given(d=COVERED, n=st.integers(min_value=-40, max_value=40))
def test_add_then_subtract_returns_the_working_day(d: dt.date, n: int) -> None:
    d = calendars.roll_forward(d)
    assert calendars.add_working_days(calendars.add_working_days(d, n), -n) == d


@settings(max_examples=200, deadline=None)
@given(a=COVERED, span=st.integers(min_value=0, max_value=60))
def test_count_agrees_with_stepping(a: dt.date, span: int) -> None:
    b = a + dt.timedelta(days=span)
    stepped = sum(calendars.is_working_day(a + dt.timedelta(days=i)) for i in range(span + 1))
    assert calendars.count_working_days(a, b) == stepped


@settings(max_examples=200, deadline=None)
@given(d=COVERED)
def test_next_and_previous_are_working_days_with_nothing_between(d: dt.date) -> None:
    nxt, prev = calendars.next_working_day(d), calendars.previous_working_day(d)
    assert calendars.is_working_day(nxt) and calendars.is_working_day(prev)
    assert prev < d < nxt
    assert calendars.count_working_days(prev, nxt) == 2 + calendars.is_working_day(d)


@settings(max_examples=200, deadline=None)
@given(d=COVERED, n=st.integers(min_value=1, max_value=30))
def test_add_working_days_counts_exactly_n(d: dt.date, n: int) -> None:
    result = calendars.add_working_days(d, n)
    assert calendars.is_working_day(result)
    assert calendars.count_working_days(d + dt.timedelta(days=1), result) == n
