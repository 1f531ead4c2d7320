"""The calendar watch's pure half: coverage of the days ahead, warnings from 1 November."""

from __future__ import annotations

import datetime as dt

from calendars.coverage import OpenDeadline, check_coverage, day_counted_last_day
from calendars.official import WorkingDayCalendar, default_calendar
from calendars.zone import SHANGHAI

D = dt.date


def test_covered_horizon_is_quiet_before_november() -> None:
    report = check_coverage(default_calendar(), D(2025, 6, 2), 60, "11-01")
    assert report.ok and report.missing_in_horizon == []


def test_next_year_missing_is_warned_from_november_first() -> None:
    cal = default_calendar()
    assert check_coverage(cal, D(2026, 10, 31), 30, "11-01").ok
    report = check_coverage(cal, D(2026, 11, 1), 30, "11-01")
    assert report.next_year_missing and not report.ok
    assert any("2027 年节假日安排尚未载入" in w for w in report.warnings)


def test_uncovered_days_in_horizon_name_the_first_day_and_year() -> None:
    report = check_coverage(default_calendar(), D(2026, 11, 23), 60, "11-01")
    assert report.missing_in_horizon == [2027] and report.first_uncovered_day == D(2027, 1, 1)
    assert any("2027-01-01" in w and "2027" in w for w in report.warnings)
    assert report.provisional_from == D(2026, 12, 25)


def test_custom_warn_from_setting() -> None:
    report = check_coverage(default_calendar(), D(2026, 10, 15), 10, warn_from="10-01")
    assert report.next_year_missing


def test_today_itself_uncovered() -> None:
    report = check_coverage(default_calendar(), D(2027, 2, 1), 10, "11-01")
    assert report.missing_in_horizon == [2027] and report.first_uncovered_day == D(2027, 2, 1)


def test_open_deadlines_on_provisional_days_are_named() -> None:
    """Without next year's notice, a deadline ending in the last days of December may move: the
    watch names each one until the notice is loaded."""
    cal = WorkingDayCalendar(default_calendar().arrangements[y] for y in (2025, 2026))
    deadlines = [OpenDeadline("incident INC-1「事件总结报告」", D(2026, 12, 28)),
                 OpenDeadline("incident INC-2「调查报告」", D(2026, 12, 24)),
                 OpenDeadline("credit 2026-11「统计表」", D(2026, 12, 10))]
    report = check_coverage(cal, D(2026, 12, 1), 10, "11-01", deadlines)
    assert report.provisional_deadlines == [deadlines[0]]
    assert any("INC-1" in w and "2026-12-28 24:00" in w and "暂定" in w and "2027" in w for w in report.warnings)
    assert not any("INC-2" in w for w in report.warnings)
    assert check_coverage(default_calendar(), D(2025, 12, 1), 10, "11-01",
                          [OpenDeadline("x", D(2025, 12, 31))]).provisional_deadlines == []  # 2026 is loaded


def test_the_last_day_of_a_stored_deadline() -> None:
    midnight = dt.datetime(2026, 12, 29, 0, 0, tzinfo=SHANGHAI)
    assert day_counted_last_day(midnight) == D(2026, 12, 28)  # stored as 00:00 after the last day
    assert day_counted_last_day(midnight.astimezone(dt.timezone.utc)) == D(2026, 12, 28)
    assert day_counted_last_day(midnight + dt.timedelta(hours=9, minutes=5)) is None  # an "N hours" deadline
    assert day_counted_last_day(None) is None
    assert day_counted_last_day(midnight, "2026-12-28") == D(2026, 12, 28)
