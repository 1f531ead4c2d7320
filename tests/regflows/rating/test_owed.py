"""The rating year's obligations and reminders (regflows/rating/owed.py, reminders.py; issue 16,
item 6): the self-assessment owed from 1 January, reminded each working day until its day
(31 January rolled forward), raised when missed; the objection window entered by an operator
(7 working days across National Day), reminded, raised, closed; a newly connected year owes nothing."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from calendars.zone import SHANGHAI as BJ
from regflows.cli import app
from regflows.exit_codes import ExitCode
from regflows.profile import DEMO_PROFILE, load_profile
from regflows.rating.owed import OBJECTION_CODE, SUBMISSION_CODE
from regflows.rating.reminders import remind
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Notice, Obligation

SUBMISSION = f"rating:2025:{SUBMISSION_CODE}"
OBJECTION = f"rating:2024:{OBJECTION_CODE}"


@pytest.fixture
def store(home: Path) -> Path:
    migrate()
    return home


def test_the_self_assessment_is_owed_from_january_reminded_on_working_days_and_raised(store: Path) -> None:
    profile = load_profile(DEMO_PROFILE)  # local, rating_local_submission_due 01-31: 2026-01-31 is a Saturday → 02-02
    assert remind(profile, dt.datetime(2026, 1, 5, 9, 30, tzinfo=BJ)) == [f"{SUBMISSION}:working-day@2026-01-05"]
    with db.session() as s:
        row = s.execute(select(Obligation).where(Obligation.subject == "rating:2025")).scalar_one()
        assert row.code == SUBMISSION_CODE and row.clause == "PBOC-102 附件3 第十一条（参照第十条（一））"
        assert "顺延至 2026-02-02" in row.detail["basis"]
    assert remind(profile, dt.datetime(2026, 1, 5, 15, tzinfo=BJ)) == []  # once a day
    assert remind(profile, dt.datetime(2026, 1, 31, 10, tzinfo=BJ)) == []  # a Saturday: no reminder
    assert remind(profile, dt.datetime(2026, 2, 2, 9, 30, tzinfo=BJ)) == [f"{SUBMISSION}:working-day@2026-02-02"]
    assert remind(profile, dt.datetime(2026, 2, 3, 0, 5, tzinfo=BJ)) == [f"{SUBMISSION}:overdue@2026-02-02"]
    with db.session() as s:
        due_day = s.get(Notice, f"{SUBMISSION}:working-day@2026-02-02")
        alarm = s.get(Notice, f"{SUBMISSION}:overdue@2026-02-02")
        assert not due_day.requires_ack and due_day.roles == ["compliance"]
        assert alarm.requires_ack and set(alarm.roles) == {"compliance", "leadership_group"}
        raised = s.execute(select(AuditEntry).where(AuditEntry.action == "obligation.overdue", AuditEntry.subject == "rating:2025")).scalars()
        assert [json.loads(e.payload)["obligation"] for e in raised] == [SUBMISSION_CODE]


def test_a_newly_connected_year_owes_nothing_and_is_refused(store: Path, tmp_path: Path, demo_with: Callable[..., Any]) -> None:
    profile = demo_with(tmp_path / "p.yaml", institution={"credit_connected_on": "2025-04-01"})
    assert remind(profile, dt.datetime(2026, 1, 5, 9, 30, tzinfo=BJ)) == []
    with db.session() as s:
        assert s.execute(select(Obligation).where(Obligation.procedure == "rating")).first() is None
    refused = CliRunner().invoke(app, ["rating", "feedback", "--year", "2025", "--received", "2026-03-20", "--by", "sun.li",
                                       "--profile", str(tmp_path / "p.yaml")])
    assert refused.exit_code == ExitCode.REFUSED and "对当年新接入机构不进行考核评级" in refused.stderr


def test_the_objection_window_is_tracked_across_national_day_and_closed(store: Path) -> None:
    profile = load_profile(DEMO_PROFILE)
    runner = CliRunner()
    entered = runner.invoke(app, ["rating", "feedback", "--year", "2024", "--received", "2025-09-26", "--by", "sun.li"])
    assert entered.exit_code == ExitCode.DONE, entered.output
    shown = json.loads(entered.stdout)
    assert shown["objection_due"] == "2025-10-13 24:00" and "7 个工作日" in shown["basis"]
    again = runner.invoke(app, ["rating", "feedback", "--year", "2024", "--received", "2025-09-26", "--by", "sun.li"])
    assert again.exit_code == ExitCode.DONE and "已登记" in again.stderr
    moved = runner.invoke(app, ["rating", "feedback", "--year", "2024", "--received", "2025-09-29", "--by", "sun.li"])
    assert moved.exit_code == ExitCode.REFUSED and "不能改为 2025-09-29" in moved.stderr

    now = dt.datetime(2025, 9, 28, 9, 30, tzinfo=BJ)  # a make-up working Sunday: reminded
    sent = [k for k in remind(profile, now) if k.startswith(OBJECTION)]
    assert sent == [f"{OBJECTION}:working-day@2025-09-28"]
    assert [k for k in remind(profile, dt.datetime(2025, 10, 3, 9, 30, tzinfo=BJ)) if k.startswith(OBJECTION)] == []  # 国庆
    assert [k for k in remind(profile, dt.datetime(2025, 10, 13, 9, 30, tzinfo=BJ)) if k.startswith(OBJECTION)] == [
        f"{OBJECTION}:working-day@2025-10-13"]
    with db.session() as s:
        notice = s.get(Notice, f"{OBJECTION}:working-day@2025-10-13")
        assert "2025-10-13 24:00" in notice.body and "申述" in notice.body and "7 个工作日" in notice.body
    assert [k for k in remind(profile, dt.datetime(2025, 10, 14, 0, 5, tzinfo=BJ)) if k.startswith(OBJECTION)] == [
        f"{OBJECTION}:overdue@2025-10-13"]

    closed = runner.invoke(app, ["rating", "objection", "2024", "--evidence", "经研究对评级结果无异议，不提出申述", "--by", "sun.li"])
    assert closed.exit_code == ExitCode.DONE, closed.output
    assert [k for k in remind(profile, dt.datetime(2025, 10, 15, 9, 30, tzinfo=BJ)) if k.startswith(OBJECTION)] == []


@pytest.mark.parametrize(("args", "message"), [
    (["--year", "2024", "--received", "2099-01-01"], "晚于今天"),
    (["--year", "2024", "--received", "2024-12-01"], "次年反馈"),
    (["--year", "2024", "--received", "26-03-2025"], "YYYY-MM-DD"),
])
def test_a_bad_feedback_day_is_a_usage_error(store: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["rating", "feedback", *args, "--by", "sun.li"])
    assert result.exit_code == ExitCode.USAGE and message in result.stderr and "Traceback" not in result.output


def test_closing_an_objection_window_never_opened_is_a_usage_error(store: Path) -> None:
    result = CliRunner().invoke(app, ["rating", "objection", "2024", "--evidence", "不申述", "--by", "sun.li"])
    assert result.exit_code == ExitCode.USAGE and "尚未登记收到考核评级反馈" in result.stderr


def test_feedback_before_the_submission_is_recorded_with_a_warning(store: Path) -> None:
    """Feedback entered while the year's self-assessment is not on record as submitted: the window still runs from
    the feedback (第十条（四）), so it is recorded, but said on stderr and on the ledger (README Interpretations)."""
    from regflows.rating.owed import owe_submission

    runner = CliRunner()
    entered = runner.invoke(app, ["rating", "feedback", "--year", "2024", "--received", "2025-09-26", "--by", "sun.li"])
    assert entered.exit_code == ExitCode.DONE, entered.output
    assert "2024 年度的自评尚未登记报送" in entered.stderr
    with db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "rating.feedback_received")).one()
        assert json.loads(entry.payload)["before_submission"] is True
    owe_submission(2023, load_profile(DEMO_PROFILE))
    with db.session() as s:
        row = s.scalars(select(Obligation).where(Obligation.subject == "rating:2023", Obligation.code == SUBMISSION_CODE)).one()
        row.state = "fulfilled"
    after = runner.invoke(app, ["rating", "feedback", "--year", "2023", "--received", "2024-09-26", "--by", "sun.li"])
    assert after.exit_code == ExitCode.DONE, after.output
    assert "尚未登记报送" not in after.stderr
