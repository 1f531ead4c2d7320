"""The monthly report's deadline: working-day reminders, the due-day alarm, submission stops them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from calendars.deadlines import end_of_day
from regflows.cli import app
from regflows.credit.deadline import CODE, PROCEDURE, remind, subject
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Notice, Obligation

BJ = dt.timezone(dt.timedelta(hours=8))


def at(m: int, d: int, h: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, m, d, h, minute, tzinfo=BJ)


@pytest.fixture
def month(home: Path, http, build_profile):  # type: ignore[no-untyped-def]
    migrate()
    with db.session() as s:
        s.add(Obligation(procedure=PROCEDURE, subject=subject("2025-09"), code=CODE, title="报送征信信息安全情况统计表（2025年9月）",
                         clause="PBOC-102 三（二）、附件2", owner_role="compliance", regime="PBOC-102",
                         due_at=end_of_day(dt.date(2025, 10, 10)), evidence={}, reminders_sent=[], detail={}))
    profile = build_profile({"t.c": [("webhook", f"json://{http.base}/ok/compliance")]},
                            roles={"compliance": {"kind": "compliance", "name": "合规部", "members": ["t.c"], "deputy": "li.ming"}})
    return profile, http


def test_reminds_once_per_working_day_not_on_holidays_and_raises_when_missed(month) -> None:  # type: ignore[no-untyped-def]
    profile, http = month
    assert remind(profile, at(10, 3, 10)) == []  # National Day holiday: no reminder
    assert remind(profile, at(10, 9, 8, 30)) == []  # a working day, before 09:00
    assert remind(profile, at(10, 9, 9, 5)) == ["working-day@2025-10-09"]
    assert remind(profile, at(10, 9, 15)) == []  # once a day
    assert remind(profile, at(10, 10, 9, 5)) == ["working-day@2025-10-10"]  # the due day itself
    first, due_day = (r.json()["title"] for r in http.wait_for("/ok/compliance", 2)[:2])
    assert first.startswith("【时限即将到期】") and due_day.startswith("【时限已到期】")
    # Review 14, 10: the report said in Chinese where people read it, the ref kept beside it
    assert "2025年9月征信信息安全情况统计表" in first and "（credit-stats:2025-09）" not in first
    body = http.wait_for("/ok/compliance", 1)[0].json()["message"]
    assert "所属事项：2025年9月征信信息安全情况统计表（credit-stats:2025-09）" in body
    assert remind(profile, at(10, 11, 0, 5)) == ["overdue@2025-10-10"]
    with db.session() as s:
        alarm = s.get(Notice, "credit-stats:2025-09:overdue@2025-10-10")
        assert alarm.requires_ack and alarm.urgent
    # After the alarm, the acknowledgement watch escalates it; no further daily reminders pile up.
    assert remind(profile, at(10, 13, 9, 5)) == []


def _signed(label: str) -> None:
    """Mark the month's table reviewed and signed (the sign-off itself: tests/regflows/credit/test_signoff.py)."""
    from regflows.credit.signoff import Signoff, Step

    step = Step("t.c", "测试c", "2025-10-08T02:00:00+00:00", "link")
    state = Signoff(label, 1, "final", step, {"xlsx": "x.xlsx", "xlsx_sha256": "0" * 64, "summary": "s.json", "summary_sha256": "0" * 64},
                    reviewer=step, signer=step, final={"xlsx": "x-final.xlsx", "xlsx_sha256": "1" * 64})
    with db.session() as s:
        row = s.query(Obligation).filter_by(subject=subject(label)).one()
        row.detail = {"signoff": state.to_dict()}


def test_submission_with_evidence_stops_the_reminders(month) -> None:  # type: ignore[no-untyped-def]
    profile, _http = month
    runner = CliRunner()
    unsigned = runner.invoke(app, ["credit-stats", "submit", "2025-09", "--evidence", "经征信系统报送", "--by", "li.ming"])
    assert unsigned.exit_code == 5 and "尚未签发" in unsigned.stderr
    _signed("2025-09")
    blank = runner.invoke(app, ["credit-stats", "submit", "2025-09", "--evidence", " ", "--by", "li.ming"])
    assert blank.exit_code == 2 and "证据" in blank.stderr
    stranger = runner.invoke(app, ["credit-stats", "submit", "2025-09", "--evidence", "经征信系统报送", "--by", "nobody.x"])
    assert stranger.exit_code == 2 and "履行人（--by）nobody.x 不在机构配置的人员" in stranger.stderr
    missing = runner.invoke(app, ["credit-stats", "submit", "2025-08", "--evidence", "x", "--by", "li.ming"])
    assert missing.exit_code == 2 and "尚未生成" in missing.stderr
    ok = runner.invoke(app, ["credit-stats", "submit", "2025-09", "--evidence", "经征信系统报送", "--reference", "R-1", "--by", "li.ming"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["period"] == "2025-09"
    assert remind(profile, at(10, 9, 10)) == [] and remind(profile, at(10, 11, 1)) == []
    again = runner.invoke(app, ["credit-stats", "submit", "2025-09", "--evidence", "x", "--by", "li.ming"])
    assert again.exit_code == 5 and "已于" in again.stderr


def test_submission_records_the_receipt_file_sha256_and_refuses_a_missing_one(month, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    _signed("2025-09")
    runner = CliRunner()
    absent = tmp_path / "回执-缺失.pdf"
    missing = runner.invoke(app, ["credit-stats", "submit", "2025-09", "--evidence", "经征信系统报送", "--by", "li.ming", "--file", str(absent)])
    assert missing.exit_code == 2 and "证据文件（--file）不存在" in missing.stderr and "回执-缺失.pdf" in missing.stderr
    receipt = tmp_path / "回执.pdf"
    receipt.write_bytes(b"%PDF PBOC receipt 2025-09")
    ok = runner.invoke(app, ["credit-stats", "submit", "2025-09", "--evidence", "经征信系统报送", "--by", "li.ming", "--file", str(receipt)])
    assert ok.exit_code == 0, ok.output
    digest = hashlib.sha256(receipt.read_bytes()).hexdigest()
    assert json.loads(ok.stdout)["file_sha256"] == digest
    with db.session() as s:
        row = s.query(Obligation).filter_by(subject=subject("2025-09")).one()
        assert row.evidence["history"][-1]["file"] == {"path": str(receipt.resolve()), "name": "回执.pdf", "sha256": digest,
                                                        "size": len(b"%PDF PBOC receipt 2025-09")}
        fulfilled = s.query(AuditEntry).filter_by(action="obligation.fulfilled", subject=subject("2025-09")).one()
        assert json.loads(fulfilled.payload)["evidence"]["file"]["sha256"] == digest


def test_a_day_without_calendar_data_is_raised_as_a_calendar_warning(month, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from calendars.official import DATA_DIR, WorkingDayCalendar, load_year_file
    from regflows.credit import deadline
    from regflows.kit.reminders import WorkingDaysUntilDueDay

    profile, http = month
    only_2024 = WorkingDayCalendar([load_year_file(DATA_DIR / "2024.yaml")])
    monkeypatch.setattr(deadline, "POLICY", WorkingDaysUntilDueDay(calendar=only_2024))
    assert remind(profile, at(10, 9, 9, 5)) == ["calendar-missing@2025-10-09"]
    assert remind(profile, at(10, 9, 15)) == []  # once a day
    warning = http.wait_for("/ok/compliance", 1)[0].json()
    assert warning["title"].startswith("【日历提醒】") and "2025 年的节假日安排未载入" in warning["message"]
    with db.session() as s:
        assert s.get(Notice, "credit-stats:2025-09:calendar-missing@2025-10-09").kind == "calendar_warning"
