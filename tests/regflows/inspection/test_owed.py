"""The quarter's self-inspection report as an obligation (regflows/inspection/owed.py; PBOC-102 三（三））:
owed by the head office and each unit that reports on its own, reminded on working days, raised
when missed, stopped by a submission with evidence, undated (and raised) without the calendar."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from regflows.cli import app
from regflows.exit_codes import ExitCode
from regflows.inspection import owed
from regflows.inspection.models import Quarter
from regflows.kit.reminders import UNDATED
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Notice, Obligation

BJ = dt.timezone(dt.timedelta(hours=8))
Q = Quarter.parse("2025Q3")


def at(m: int, d: int, h: int, minute: int = 0, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, m, d, h, minute, tzinfo=BJ)


@pytest.fixture
def profile(home: Path, http: Any, build_profile: Any) -> Any:
    migrate()
    return build_profile({"t.c": [("webhook", f"json://{http.base}/ok/compliance")]},
                         roles={"compliance": {"kind": "compliance", "name": "合规部", "members": ["t.c"], "deputy": "li.ming"}})


def rows() -> dict[str, Obligation]:
    with db.session() as s:
        found = s.query(Obligation).filter(Obligation.procedure == owed.PROCEDURE).all()
        for r in found:
            s.expunge(r)
        return {r.subject: r for r in found}


def test_the_head_office_and_each_unit_reporting_on_its_own_owe_the_report(profile: Any) -> None:
    assert owed.owe_quarter(profile, Q, now=at(9, 30, 23)) == []  # the quarter is not over yet
    assert owed.owe_quarter(profile, Q, now=at(10, 1, 0, 5)) == ["2025Q3", "2025Q3-YX0101", "2025Q3-YX0201"]
    assert owed.owe_quarter(profile, Q, now=at(10, 2, 9)) == []  # once
    found = rows()
    head = found["self-inspection:2025Q3"]
    assert head.due_at == dt.datetime(2025, 10, 29, tzinfo=BJ)  # 2025-10-28 24:00: 15 working days, National Day off
    assert head.owner_role == "compliance" and "向人民银行报送" in head.title and head.clause.startswith("PBOC-102 三（三）")
    assert "四川省人民银行分支机构" in found["self-inspection:2025Q3-YX0101"].title
    with db.session() as s:
        assert s.query(AuditEntry).filter(AuditEntry.action == "self_inspection.report_owed").count() == 3


def test_a_local_institutions_branch_without_its_own_flag_is_covered_by_the_head_office(build_profile: Any) -> None:
    profile = build_profile({})
    units = [u.model_copy(update={"reports_to_local_branch": None}) for u in profile.reporting_units]
    local = profile.model_copy(update={"reporting_units": units})
    assert [u.code for u in owed.reporting_units(local)] == ["YX0001"]
    national = local.model_copy(update={"institution": local.institution.model_copy(update={"credit_access": "national_head_office"})})
    assert [u.code for u in owed.reporting_units(national)] == ["YX0001", "YX0101", "YX0201"]


def test_reminded_on_working_days_raised_when_missed_stopped_by_submission(profile: Any, http: Any) -> None:
    owed.owe_quarter(profile, Q, now=at(10, 1, 0, 5))
    assert owed.remind(profile, at(10, 3, 10)) == []  # National Day: no reminder
    assert owed.remind(profile, at(10, 9, 9, 5)) == ["working-day@2025-10-09"] * 3
    assert owed.remind(profile, at(10, 9, 15)) == []  # once a day
    assert owed.remind(profile, at(10, 29, 0, 5)) == ["overdue@2025-10-28"] * 3
    with db.session() as s:
        alarm = s.get(Notice, "self-inspection:2025Q3:overdue@2025-10-28")
        assert alarm.requires_ack and alarm.urgent
    runner = CliRunner()
    stranger = runner.invoke(app, ["self-inspection", "submit", "2025Q3", "--evidence", "经公文系统报送", "--by", "nobody.x"])
    assert stranger.exit_code == ExitCode.USAGE and "nobody.x" in stranger.stderr
    other = runner.invoke(app, ["self-inspection", "submit", "2025Q3", "--unit", "ZZ9", "--evidence", "x", "--by", "li.ming"])
    assert other.exit_code == ExitCode.USAGE and "不单独报送" in other.stderr
    ok = runner.invoke(app, ["self-inspection", "submit", "2025Q3", "--evidence", "经公文系统报送人民银行重庆营管部",
                             "--by", "sun.li"])
    assert ok.exit_code == ExitCode.DONE, ok.output
    assert json.loads(ok.stdout)["unit"] == "YX0001"
    branch = runner.invoke(app, ["self-inspection", "submit", "2025Q3", "--unit", "YX0101", "--evidence", "报成都分行所在地", "--by", "sun.li"])
    assert branch.exit_code == ExitCode.DONE, branch.output
    again = runner.invoke(app, ["self-inspection", "submit", "2025Q3", "--evidence", "x", "--by", "sun.li"])
    assert again.exit_code == ExitCode.REFUSED and "已于" in again.stderr
    assert rows()["self-inspection:2025Q3-YX0201"].fulfilled_at is None  # the one not submitted stays owed


def test_without_the_years_calendar_the_report_is_undated_and_raised(profile: Any, http: Any) -> None:
    q4 = Quarter.parse("2026Q4")  # due in January 2027, whose State Council notice is not loaded
    assert owed.owe_quarter(profile, q4, now=at(1, 1, 0, 5, year=2027))
    head = rows()["self-inspection:2026Q4"]
    assert head.state == UNDATED and head.due_at is None
    sent = owed.remind(profile, at(1, 4, 10, year=2027))
    assert UNDATED in sent
    titles = [r.json()["title"] for r in http.wait_for("/ok/compliance", 1)]
    assert any("日历" in t for t in titles)
    assert owed.remind(profile, at(1, 4, 11, year=2027)) == []  # raised once, not every hour


def test_rectification_rows_of_the_procedure_are_not_in_this_feed(profile: Any) -> None:
    with db.session() as s:
        s.add(Obligation(procedure=owed.PROCEDURE, subject="self-inspection:finding-1", code="rectification", title="整改",
                         clause="PBOC-102 附件4 六（二）", owner_role="compliance", regime="PBOC-102",
                         due_at=dt.datetime(2025, 10, 9, tzinfo=BJ), evidence={}, reminders_sent=[], detail={}))
    assert owed.remind(profile, at(10, 9, 9, 5)) == []
