"""The report's due day (issue 15, item 7) and the quarter it counts from."""

from __future__ import annotations

import datetime as dt

import pytest

from regflows.inspection.due import report_due
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.settings import InspectionSettings


def test_15_working_days_after_the_quarter_cross_national_day() -> None:
    # from 2025-10-01: 10-01..10-08 off, 10-09 is the 1st, 10-11 (a Saturday worked) the 3rd, 10-28 the 15th
    due = report_due(Quarter.parse("2025Q3"))
    assert due.last_day == dt.date(2025, 10, 28) and due.label() == "2025-10-28 24:00"
    assert report_due(Quarter.parse("2025Q3"), InspectionSettings(inspection_report_due_working_days=3)).last_day == dt.date(2025, 10, 11)


@pytest.mark.parametrize(("text", "first", "last", "six_months"), [
    ("2025Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31), dt.date(2024, 10, 1)),
    ("2025q4", dt.date(2025, 10, 1), dt.date(2025, 12, 31), dt.date(2025, 7, 1)),
    ("2024Q2", dt.date(2024, 4, 1), dt.date(2024, 6, 30), dt.date(2024, 1, 1)),
])
def test_quarters(text: str, first: dt.date, last: dt.date, six_months: dt.date) -> None:
    q = Quarter.parse(text)
    assert (q.first_day, q.last_day, q.months_back(6)) == (first, last, six_months)
    assert q.months_back(3) == q.first_day


@pytest.mark.parametrize("text", ["2025Q5", "2025-10", "Q3 2025", ""])
def test_a_bad_quarter_is_refused_in_chinese(text: str) -> None:
    with pytest.raises(InspectionInputError, match="季度应写作 YYYYQn"):
        Quarter.parse(text)
