"""Deadline rules of digest section 7 (民法典 第二百零一条、第二百零三条)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from calendars.deadlines import (
    by_day_of_month,
    end_of_day,
    last_day_of,
    time_left_zh,
    within_days,
    within_hours,
    within_working_days,
)
from calendars.notice_import import parse_notice
from calendars.official import CalendarError, WorkingDayCalendar, YearNotCovered
from calendars.zone import SHANGHAI

D = dt.date


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def test_hours_are_exact_instants_even_over_a_holiday() -> None:
    deadline = within_hours(at(2025, 9, 30, 23, 0), 2)
    assert deadline.due == at(2025, 10, 1, 1, 0) and deadline.last_day is None
    assert deadline.label() == "2025-10-01 01:00"
    utc_event = dt.datetime(2025, 9, 30, 15, 0, tzinfo=dt.timezone.utc)  # 23:00 Beijing
    assert within_hours(utc_event, 1).due == at(2025, 10, 1, 0, 0)


def test_working_days_start_the_day_after_and_end_at_midnight() -> None:
    # Handling ended 2025-09-30; 5 working days (NFRA 48): 10-09, 10-10, 10-11 (make-up), 10-13, 10-14.
    deadline = within_working_days(at(2025, 9, 30, 10, 0), 5)
    assert deadline.last_day == D(2025, 10, 14)
    assert deadline.due == at(2025, 10, 15, 0, 0)
    assert deadline.label() == "2025-10-14 24:00"


def test_days_roll_forward_off_a_holiday_by_default() -> None:
    # 30 days after 2025-09-01 is 2025-10-01 (National Day): moves to 2025-10-09.
    deadline = within_days(at(2025, 9, 1, 9), 30)
    assert deadline.moved_from == D(2025, 10, 1) and deadline.last_day == D(2025, 10, 9)
    assert "顺延" in deadline.basis


def test_days_roll_forward_off_a_plain_weekend_but_not_a_make_up_day() -> None:
    assert within_days(D(2025, 11, 12), 10).last_day == D(2025, 11, 24)  # 11-22 Sat -> Mon 11-24
    assert within_days(D(2025, 9, 18), 10).last_day == D(2025, 9, 28)  # 9-28 Sun is a make-up working day


def test_roll_forward_setting_off_keeps_the_nominal_day() -> None:
    deadline = within_days(D(2025, 9, 1), 30, roll_forward=False)
    assert deadline.last_day == D(2025, 10, 1) and deadline.moved_from is None


def test_by_day_of_month_rolls_forward() -> None:
    # PBOC-102 III(2): head offices by the 10th. 2025-10-10 is a working day; 2026-10-10 a make-up Saturday.
    assert by_day_of_month(2025, 10, 10).last_day == D(2025, 10, 10)
    assert by_day_of_month(2026, 10, 10).last_day == D(2026, 10, 10)
    assert by_day_of_month(2025, 5, 4).last_day == D(2025, 5, 6)  # Labour Day holiday -> 5-6
    assert by_day_of_month(2025, 5, 4, roll_forward=False).last_day == D(2025, 5, 4)
    with pytest.raises(CalendarError, match="日期无效"):
        by_day_of_month(2025, 2, 30)


def test_bad_inputs_refused() -> None:
    with pytest.raises(CalendarError, match="naive"):
        within_hours(dt.datetime(2025, 1, 1, 8, 0), 2)
    with pytest.raises(CalendarError):
        within_hours(at(2025, 1, 1), 0)
    with pytest.raises(CalendarError):
        within_working_days(at(2025, 1, 1), 0)
    with pytest.raises(YearNotCovered, match="2027"):
        within_days(D(2026, 12, 20), 30)


def test_end_of_day_is_next_midnight() -> None:
    assert end_of_day(D(2025, 12, 31)) == at(2026, 1, 1)
    assert last_day_of(end_of_day(D(2025, 12, 31))) == D(2025, 12, 31)
    assert last_day_of(at(2025, 10, 9, 11)) == D(2025, 10, 9)


def test_time_left_wording_under_a_day_keeps_hours_and_minutes() -> None:
    due = at(2025, 10, 1, 12, 0)
    assert time_left_zh(due, due - dt.timedelta(hours=1, minutes=5)) == "剩 1 小时 5 分"
    assert time_left_zh(due, due - dt.timedelta(hours=23, minutes=59, seconds=59)) == "剩 23 小时 59 分"
    assert time_left_zh(due, due + dt.timedelta(hours=2, minutes=3)) == "逾期 2 小时 3 分"


def test_time_left_wording_at_the_edges_errs_towards_urgency() -> None:
    due = at(2025, 10, 1, 12, 0)
    assert time_left_zh(due, due) == "已到期"
    assert time_left_zh(due, due - dt.timedelta(seconds=59)) == "剩 0 小时 0 分"  # never a minute that is not there
    assert time_left_zh(due, due - dt.timedelta(seconds=60)) == "剩 0 小时 1 分"
    assert time_left_zh(due, due + dt.timedelta(seconds=1)) == "逾期 0 小时 1 分"  # a missed deadline never reads as met
    assert time_left_zh(due, due + dt.timedelta(seconds=59)) == "逾期 0 小时 1 分"
    assert time_left_zh(due, due + dt.timedelta(hours=23, minutes=59, seconds=1)) == "逾期 1 天 0 小时"


def test_time_left_wording_in_days() -> None:
    due = at(2025, 10, 9, 0, 0)
    assert time_left_zh(due, due - dt.timedelta(days=1)) == "剩 1 天 0 小时"
    assert time_left_zh(due, due - dt.timedelta(days=2, hours=3, minutes=59)) == "剩 2 天 3 小时"
    assert time_left_zh(due, due + dt.timedelta(days=2, hours=3, minutes=10)) == "逾期 2 天 3 小时"
    assert time_left_zh(due, due - dt.timedelta(days=10)) == "剩 10 天 0 小时"  # days, not weeks


def test_time_left_is_the_same_from_any_zone() -> None:
    due = at(2025, 10, 1, 12, 0)
    utc_now = dt.datetime(2025, 10, 1, 3, 0, tzinfo=dt.timezone.utc)  # 11:00 Beijing
    assert time_left_zh(due, utc_now) == "剩 1 小时 0 分"
    with pytest.raises(CalendarError, match="naive"):
        time_left_zh(due, dt.datetime(2025, 10, 1, 11, 0))


# -- provisional deadlines (issue 13, item 4) ---------------------------------------------------

NOTICES = Path(__file__).parent / "fixtures" / "notices"


def _replay(*names: str) -> WorkingDayCalendar:
    return WorkingDayCalendar(parse_notice((NOTICES / n).read_text("utf-8"), url="https://www.gov.cn/") for n in names)


def test_a_deadline_on_provisional_december_days_is_marked_and_moves_once_the_notice_is_in() -> None:
    """2018 without the 2019 notice: 3 working days after 2018-12-26 look like the 31st; the 2019
    notice made Saturday the 29th a working day, so the recomputed deadline is the 29th."""
    before = within_working_days(D(2018, 12, 26), 3, _replay("2018-1.txt"))
    assert before.last_day == D(2018, 12, 31) and before.provisional
    assert before.provisional_days == (D(2018, 12, 27), D(2018, 12, 28), D(2018, 12, 29), D(2018, 12, 30), D(2018, 12, 31))
    assert "暂定" in before.basis and "2019" in before.basis
    after = within_working_days(D(2018, 12, 26), 3, _replay("2018-1.txt", "2019-1.txt"))
    assert (after.last_day, after.provisional, "暂定" in after.basis) == (D(2018, 12, 29), False, False)


def test_a_rolled_calendar_day_deadline_is_provisional_too() -> None:
    only_2018 = _replay("2018-1.txt")
    rolled = within_days(D(2018, 12, 19), 10, calendar=only_2018)  # nominal 12-29, a Saturday
    assert rolled.last_day == D(2018, 12, 31) and rolled.provisional
    definite = within_days(D(2018, 12, 19), 10, calendar=_replay("2018-1.txt", "2019-1.txt"))
    assert (definite.last_day, definite.provisional) == (D(2018, 12, 29), False)
    not_rolled = within_days(D(2018, 12, 19), 10, roll_forward=False, calendar=only_2018)
    assert (not_rolled.last_day, not_rolled.provisional) == (D(2018, 12, 29), False)  # no calendar in it
    assert by_day_of_month(2018, 12, 29, calendar=only_2018).provisional
    assert not by_day_of_month(2018, 12, 10, calendar=only_2018).provisional
    assert not within_working_days(D(2018, 12, 3), 5, only_2018).provisional
