"""Calendar answers name the provisional days they rest on (issue 13, item 4)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from calendars import answers
from calendars.notice_import import parse_notice
from calendars.official import WorkingDayCalendar

NOTICES = Path(__file__).parent / "fixtures" / "notices"


@pytest.fixture(scope="module")
def only_2018() -> WorkingDayCalendar:
    """2018 replayed without the 2019 notice (which made 2018-12-29 a working day)."""
    return WorkingDayCalendar([parse_notice((NOTICES / "2018-1.txt").read_text("utf-8"), url="https://www.gov.cn/")])


def test_the_provisional_days_are_the_last_week_of_a_year_without_its_successor(only_2018: WorkingDayCalendar) -> None:
    days = only_2018.provisional_days(dt.date(2018, 12, 31), dt.date(2018, 1, 1))
    assert days == [dt.date(2018, 12, d) for d in range(25, 32)]
    assert only_2018.provisional_days(dt.date(2018, 1, 1), dt.date(2018, 12, 24)) == []


def test_each_answer_rests_on_the_days_it_needs(only_2018: WorkingDayCalendar) -> None:
    d = dt.date
    assert answers.is_working_day(only_2018, d(2018, 12, 24)) == answers.Answer(True)
    assert answers.is_working_day(only_2018, d(2018, 12, 28)).provisional_days == (d(2018, 12, 28),)
    # The next working day after 2018-12-28 was really 12-29 (made a working day by the 2019 notice).
    nxt = answers.next_working_day(only_2018, d(2018, 12, 28))
    assert nxt.value == d(2018, 12, 31) and nxt.provisional_days == (d(2018, 12, 29), d(2018, 12, 30), d(2018, 12, 31))
    # Counting back from a provisional day over definite ones only: the start day's status does not count.
    back = answers.add_working_days(only_2018, d(2018, 12, 25), -1)
    assert back == answers.Answer(d(2018, 12, 24))
    assert answers.roll_forward(only_2018, d(2018, 12, 29)).provisional
    assert answers.nth_working_day_of_month(only_2018, 2018, 12, 1) == answers.Answer(d(2018, 12, 3))
    assert answers.nth_working_day_of_month(only_2018, 2018, 12, -1).provisional
    assert answers.count_working_days(only_2018, d(2018, 12, 1), d(2018, 12, 24)) == answers.Answer(16)
    assert answers.count_working_days(only_2018, d(2018, 12, 1), d(2018, 12, 25)).provisional
