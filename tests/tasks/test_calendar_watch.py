"""The calendar watch reads the open day-counted deadlines from the store, so it can name the
provisional ones (issue 13, item 4)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from calendars.coverage import OpenDeadline, check_coverage
from calendars.official import WorkingDayCalendar, default_calendar
from calendars.zone import SHANGHAI
from regflows.store import db, migrate
from regflows.store.models import Obligation
from tasks.calendar_watch import open_deadlines_task


def _row(subject: str, code: str, due: dt.datetime | None, **over: object) -> Obligation:
    fields: dict = {"procedure": "incident", "subject": subject, "code": code, "title": code, "clause": "NFRA 第四十五条",
                    "owner_role": "compliance", "regime": "NFRA", "due_at": due, "state": "open", "evidence": {},
                    "reminders_sent": [], "detail": {}}
    fields.update(over)
    return Obligation(**fields)


def test_open_day_counted_deadlines_are_read_and_the_provisional_ones_named(home: Path) -> None:
    migrate()
    midnight = dt.datetime(2026, 12, 29, tzinfo=SHANGHAI)  # 24:00 of 2026-12-28
    with db.session() as s:
        s.add_all([
            _row("INC-1", "summary_report", midnight, detail={"last_day": "2026-12-28", "due_label": "2026-12-28 24:00"}),
            _row("INC-1", "initial_report", dt.datetime(2026, 12, 28, 11, 0, tzinfo=SHANGHAI), detail={"last_day": None}),
            _row("INC-1", "progress_report", dt.datetime(2026, 12, 29, tzinfo=SHANGHAI), every="PT2H"),
            _row("INC-2", "summary_report", midnight, fulfilled_at=dt.datetime(2026, 12, 27, tzinfo=SHANGHAI)),
            _row("2026-11", "monthly_report", dt.datetime(2026, 12, 11, tzinfo=SHANGHAI), procedure="credit"),
        ])
    deadlines = open_deadlines_task.fn()
    assert sorted(deadlines, key=lambda d: d.last_day) == [
        OpenDeadline("credit 2026-11「monthly_report」", dt.date(2026, 12, 10)),
        OpenDeadline("incident INC-1「summary_report」", dt.date(2026, 12, 28)),
    ]
    without_2027 = WorkingDayCalendar(default_calendar().arrangements[y] for y in (2025, 2026))
    report = check_coverage(without_2027, dt.date(2026, 12, 1), 60, "11-01", deadlines)
    assert [d.what for d in report.provisional_deadlines] == ["incident INC-1「summary_report」"]
