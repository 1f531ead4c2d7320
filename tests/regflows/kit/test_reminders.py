"""The kit's reminder policies and its one loop, fed by a procedure that is neither incident nor credit."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from calendars.deadlines import end_of_day
from calendars.official import DATA_DIR, CalendarError, WorkingDayCalendar, load_year_file
from regflows.kit.reminders import BeforeDueInstant, Feed, WorkingDaysUntilDueDay, remind
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Notice, Obligation

BJ = dt.timezone(dt.timedelta(hours=8))
ONLY_2025 = WorkingDayCalendar([load_year_file(DATA_DIR / "2025.yaml")])


def at(y: int, m: int, d: int, h: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=BJ)


def test_working_days_until_the_due_day_then_overdue_once() -> None:
    policy = WorkingDaysUntilDueDay()
    due = end_of_day(dt.date(2025, 10, 10))
    assert policy.reminder(due, [], at(2025, 10, 3, 10)) is None  # National Day holiday
    assert policy.reminder(due, [], at(2025, 10, 9, 8, 59)) is None  # before 09:00
    first = policy.reminder(due, [], at(2025, 10, 9, 9, 0))
    assert first is not None and (first.key, first.state) == ("working-day@2025-10-09", "due_soon")
    assert policy.reminder(due, [first.key], at(2025, 10, 9, 17)) is None  # once a day
    last = policy.reminder(due, [first.key], at(2025, 10, 10, 9, 30))
    assert last is not None and last.state == "due"
    missed = policy.reminder(due, [], at(2025, 10, 11, 0, 0))
    assert missed is not None and (missed.key, missed.state, missed.overdue) == ("overdue@2025-10-10", "overdue", True)
    assert policy.reminder(due, [missed.key], at(2025, 10, 13, 9, 30)) is None
    assert policy.due_label(due) == "2025-10-10 24:00"
    assert WorkingDaysUntilDueDay(from_time=dt.time(14, 0)).reminder(due, [], at(2025, 10, 9, 9, 0)) is None


def test_a_day_without_calendar_data_is_an_error_not_a_quiet_day() -> None:
    with pytest.raises(CalendarError, match="2026"):
        WorkingDaysUntilDueDay(calendar=ONLY_2025).reminder(end_of_day(dt.date(2026, 1, 9)), [], at(2026, 1, 5, 10))


def _row(code: str, due: dt.datetime | None, state: str = "pending", every: str | None = None) -> Obligation:
    with db.session() as s:
        row = Obligation(procedure="self-inspection", subject="SI-2025Q4", code=code, title=f"义务{code}", clause="TEST 第三条",
                         owner_role="compliance", due_at=due, every=every, state=state, evidence={}, reminders_sent=[], detail={})
        s.add(row)
        s.flush()
        s.expunge(row)
        return row


def _rows() -> list[Obligation]:
    with db.session() as s:
        rows = list(s.execute(select(Obligation).order_by(Obligation.id)).scalars())
        for row in rows:
            s.expunge(row)
        return rows


@pytest.fixture
def world(home: Path, http, build_profile):  # type: ignore[no-untyped-def]
    migrate()
    profile = build_profile({"t.c": [("webhook", f"json://{http.base}/ok/compliance")]},
                            roles={"compliance": {"kind": "compliance", "name": "合规部", "members": ["t.c"], "deputy": "li.ming"}})
    return profile, http


def test_one_loop_reminds_raises_and_warns_for_any_procedure(world: Any) -> None:
    profile, http = world
    now = at(2026, 1, 5, 10, 0)
    _row("monthly", end_of_day(dt.date(2026, 1, 9)))  # day-counted, but 2026 is not in this calendar
    _row("undated", None, state="calendar_missing")
    _row("missed", now - dt.timedelta(minutes=5))  # hour-counted, missed 5 minutes ago (an outage)
    _row("done", now - dt.timedelta(minutes=5), state="fulfilled")
    _row("waived", now - dt.timedelta(minutes=5), state="waived")
    rows = {r.code: r for r in _rows()}

    def feeds() -> list[Feed]:
        fresh = {r.code: r for r in _rows()}
        return [Feed([fresh["monthly"]], WorkingDaysUntilDueDay(calendar=ONLY_2025)),
                Feed([fresh[c] for c in ("undated", "missed", "done", "waived")], BeforeDueInstant())]

    sent = remind(profile, feeds(), now)
    assert {(s.code, s.kind, s.key) for s in sent} == {
        ("monthly", "calendar_warning", "calendar-missing@2026-01-05"), ("undated", "calendar_warning", "calendar_missing"),
        ("missed", "deadline_reminder", f"overdue@{rows['missed'].due_at.astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}")}
    assert remind(profile, feeds(), now + dt.timedelta(minutes=30)) == []  # each once; the calendar warning once a day
    assert [s.key for s in remind(profile, feeds(), at(2026, 1, 6, 10, 0))] == ["calendar-missing@2026-01-06"]

    messages = [r.json() for r in http.wait_for("/ok/compliance", 4)]
    titles = [m["title"] for m in messages]
    assert sum(t.startswith("【日历提醒】") for t in titles) == 3
    missed = next(m for m in messages if "义务missed" in m["title"])
    assert "已逾期" in missed["title"] and "原定于" in missed["message"]  # raised, and says it is late
    assert "该时限已过（逾期 0 小时 5 分）" in missed["message"]  # and by how long
    assert any("SI-2025Q4 的义务“义务undated”" in m["message"] for m in messages)
    with db.session() as s:
        raised = s.execute(select(Notice).where(Notice.kind == "deadline_reminder")).scalar_one()
        assert raised.requires_ack and raised.urgent and raised.related == "SI-2025Q4"
        overdue = [json.loads(e.payload) for e in s.execute(select(AuditEntry).where(AuditEntry.action == "obligation.overdue")).scalars()]
    assert overdue == [{"obligation": "missed", "due": rows["missed"].due_at.isoformat()}]
    assert len(next(r for r in _rows() if r.code == "missed").reminders_sent) == 3  # the two skipped points marked passed
