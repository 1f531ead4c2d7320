"""The calendar watch's pure half: coverage of the days ahead, warnings from 1 November."""

from __future__ import annotations

import datetime as dt

from calendars.coverage import check_coverage
from calendars.official import default_calendar

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
