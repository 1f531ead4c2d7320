"""A report per unit that reports on its own (PBOC-102 三（三）: 「报告流程参照征信信息安全事件的报告要求」,
三（二）'s route; issue 15, item 7): a profile with two branches of which one reports to its local
PBoC branch gives two reports, two obligations with the right addressee, each holding only its
own data, signed off and filed on its own."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from notices.acks import acknowledge, make_token
from regflows.cli import app
from regflows.exit_codes import ExitCode
from regflows.inspection import pipeline, signoff
from regflows.inspection.checks import CHECK_IDS
from regflows.inspection.demo import PLANTED
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.owed import REPORT_CODE, owe_report, submit_report
from regflows.inspection.rectification import list_findings
from regflows.inspection.register import register_run
from regflows.inspection.units import report_for, reports, user_units
from regflows.kit.obligations import Refused
from regflows.profile import DEMO_PROFILE, Profile, load_profile
from regflows.store import db, migrate
from regflows.store.models import Obligation

Q = Quarter.parse("2025Q3")
BRANCH = "YX0101"  # 成都分行: reports on its own
#: The planted user put into the branch by the users file's unit column.
MOVED = "X-SHARED"


@pytest.fixture
def two_units() -> Profile:
    """The demo bank with the Chengdu branch reporting to its local PBoC branch and the Guiyang
    branch covered by the head office."""
    base = load_profile(DEMO_PROFILE)
    units = [u.model_copy(update={"reports_to_local_branch": False}) if u.code == "YX0201" else u for u in base.reporting_units]
    return base.model_copy(update={"reporting_units": units})


def _users(src: Path, dst: Path, units: dict[str, str]) -> Path:
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with dst.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({**r, "unit": units.get(r["user_id"], r.get("unit") or "")})
    return dst


def _run(data: Any, tmp_path: Path, profile: Profile) -> pipeline.Outcome:
    users = _users(data.users, tmp_path / "users.csv", {MOVED: BRANCH, "X-PUBLIC": "ZZ9999"})
    return pipeline.run(Q, data.logs, users, tmp_path / "out", profile, vulns=data.vulns, seed=11)


def _text(path: Path) -> str:
    d = docx.Document(str(path))
    return "\n".join([p.text for p in d.paragraphs] + [c.text for t in d.tables for row in t.rows for c in row.cells])


def test_which_reports_a_quarter_owes_and_to_whom(two_units: Profile) -> None:
    head, branch = reports(two_units)
    assert (head.code, head.covers, head.others) == (None, ("YX0001", "YX0201"), (BRANCH,))
    assert (branch.code, branch.covers) == (BRANCH, (BRANCH,))
    # a local institution: its head office to the PBoC branch where it is (三（二））, the branch to its own
    assert head.addressee == "所在地人民银行分支机构（重庆市）" and branch.addressee == "所在地人民银行分支机构（四川省）"
    assert head.holds("ZZ9999") and not head.holds(BRANCH) and branch.holds(BRANCH) and not branch.holds("YX0201")
    national = two_units.model_copy(update={"institution": two_units.institution.model_copy(update={"credit_access": "national_head_office"})})
    assert reports(national)[0].addressee == "中国人民银行征信管理局"
    with pytest.raises(InspectionInputError, match="YX0201 不单独报送"):
        report_for(two_units, "YX0201")
    # a user's unit: the file's column, else where it queried most, else the head office
    assert user_units([("a", "YX0201"), ("b", None), ("c", None)], {("a", BRANCH): 5, ("b", BRANCH): 2, ("b", "YX0001"): 1},
                      "YX0001") == {"a": "YX0201", "b": BRANCH, "c": "YX0001"}


def test_two_reports_each_with_only_its_own_data(home: Path, tmp_path: Path, quarter_data: Any, two_units: Profile) -> None:
    migrate()
    outcome = _run(quarter_data, tmp_path, two_units)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert tuple(summary) == pipeline.SUMMARY_KEYS and summary == outcome.summary
    head, branch = summary["reports"]
    assert tuple(head) == pipeline.REPORT_KEYS
    assert (head["unit"], head["head_office"], branch["unit"], branch["head_office"]) == ("YX0001", True, BRANCH, False)
    assert branch["addressee"] == "所在地人民银行分支机构（四川省）" and branch["report_due"] == summary["report_due"] == "2025-10-28"
    # leads and the sample split by unit: the branch's are its own, the head office's the rest
    mine = [lead for lead in outcome.leads if lead.unit == BRANCH]
    assert branch["leads"] == sum(1 for lead in mine if lead.kind != "sampled") > 0
    assert branch["sampled"] == sum(1 for lead in mine if lead.kind == "sampled")
    assert head["leads"] + branch["leads"] == summary["leads"] and head["sampled"] + branch["sampled"] == summary["sampled"]
    # the user checks: the moved user's finding in the branch's report only; the totals add up
    assert branch["checks"]["shared_roles"] == 1 and head["checks"]["shared_roles"] == summary["checks"]["shared_roles"] - 1
    for check in CHECK_IDS:
        total = summary["checks"][check]
        assert (head["checks"][check], branch["checks"][check]) == ((None, None) if total is None else (head["checks"][check], total - head["checks"][check]))
    # each report's files, the branch's named for it
    assert branch["files"] == {"report": "self-inspection-report-2025Q3-YX0101.docx", "findings": "findings-2025Q3-YX0101.xlsx"}
    files = outcome.files
    assert {"report", "findings", f"report-{BRANCH}", f"findings-{BRANCH}"} <= set(files)
    users_in = {key: {row[3] for row in openpyxl.load_workbook(files[key])["问题清单"].iter_rows(min_row=2, values_only=True)}
                for key in ("findings", f"findings-{BRANCH}")}
    assert MOVED in users_in[f"findings-{BRANCH}"] and MOVED not in users_in["findings"]
    assert set(PLANTED) - {MOVED} <= users_in["findings"]  # X-PUBLIC's unknown unit: the head office's, and said
    assert any("ZZ9999 不在机构配置的报送单位" in w for w in outcome.warnings)
    branch_text, head_text = _text(files[f"report-{BRANCH}"]), _text(files["report"])
    assert "渝信示范银行成都分行" in branch_text and "所在地人民银行分支机构（四川省）" in branch_text and "本单位" in branch_text
    # the head office's report: its own scope, and a summary of the branch reporting on its own (a setting)
    assert "所在地人民银行分支机构（重庆市）" in head_text and "渝信示范银行贵阳分行" in head_text
    assert "单独编制自查报告并报送所在地人民银行分支机构，明细见其报告；概况如下" in head_text
    # the redraft of the branch's report holds only its leads; a unit without its own report is refused
    redrafted = pipeline.redraft(outcome.run_id, tmp_path / "branch.docx", unit=BRANCH)
    assert "渝信示范银行成都分行" in _text(redrafted)
    with pytest.raises(InspectionInputError, match="YX0201 没有单独的自查报告"):
        pipeline.redraft(outcome.run_id, tmp_path / "guiyang.docx", unit="YX0201")


def test_without_the_summary_setting_the_head_office_report_only_names_the_branch(home: Path, tmp_path: Path, quarter_data: Any,
                                                                                  two_units: Profile) -> None:
    migrate()
    plain = two_units.model_copy(update={"settings": two_units.settings.model_copy(update={"inspection_head_office_summary": False})})
    text = _text(_run(quarter_data, tmp_path, plain).files["report"])
    assert "其自查情况不在本报告中" in text and "概况如下" not in text


def test_each_report_is_owed_signed_off_and_filed_on_its_own(home: Path, tmp_path: Path, quarter_data: Any,
                                                               two_units: Profile) -> None:
    migrate()
    outcome = _run(quarter_data, tmp_path, two_units)
    register_run(outcome.run_id, two_units)
    owe_report(Q, profile=two_units)
    with db.session() as s:
        rows = {r.subject: (r.title, dict(r.detail)) for r in s.execute(select(Obligation).where(Obligation.code == REPORT_CODE)).scalars()}
    assert set(rows) == {"self-inspection:2025Q3", "self-inspection:2025Q3-YX0101"}
    assert rows["self-inspection:2025Q3"][1]["addressee"] == "所在地人民银行分支机构（重庆市）"
    title, detail = rows["self-inspection:2025Q3-YX0101"]
    assert detail["addressee"] == "所在地人民银行分支机构（四川省）" and title.startswith("渝信示范银行成都分行向所在地人民银行分支机构（四川省）报送")

    # the branch's report through review and approval, on its own
    view, _ = signoff.submit(two_units, outcome.run_id, "he.min", unit=BRANCH)
    assert view.unit == BRANCH and view.requests == ["self-inspection:2025Q3-YX0101:r1:review:1"]
    assert Path(view.files["report"]["path"]).name == "self-inspection-report-2025Q3-YX0101.docx"
    assert signoff.open_reports() == [(Q, BRANCH)]
    acknowledge(make_token("self-inspection:2025Q3-YX0101:r1:review:1", "sun.li"))
    assert signoff.advance(two_units, Q, unit=BRANCH).stage == "approve"
    acknowledge(make_token("self-inspection:2025Q3-YX0101:r1:approve:1", "zhou.qiang"))
    final = signoff.advance(two_units, Q, unit=BRANCH)
    assert final.stage == "final" and final.final is not None
    assert Path(final.final["report"]["path"]).name == "self-inspection-report-2025Q3-YX0101-final-r1.docx"
    assert signoff.status_of_run(outcome.run_id)[0] is None  # the head office's report: not submitted

    # the branch's sign-off dates its findings' rectification reports only (附件4 六（二））
    findings = list_findings(Q)
    branch_findings = [f for f in findings if f.finding.unit == BRANCH and f.finding.source == "check"]
    head_findings = [f for f in findings if f.finding.unit == "YX0001" and f.finding.source == "check"]
    assert [f.finding.owner for f in branch_findings] == ["chen.jing"] and head_findings
    assert branch_findings[0].report["due"] is not None and all(f.report["due"] is None for f in head_findings)

    # filing the branch's report does not fulfil the head office's, which is not signed off
    with pytest.raises(Refused, match="尚未提交签发"):
        submit_report(Q, evidence="书面报送人民银行重庆营管部", by="sun.li", profile=two_units, today=dt.date(2025, 10, 20))
    filed = submit_report(Q, evidence="书面报送人民银行四川省分行", by="sun.li", profile=two_units, unit=BRANCH, today=dt.date(2025, 10, 20))
    assert filed.fulfilled_at is not None and filed.detail["filed"]["report"]["path"] == final.final["report"]["path"]
    with db.session() as s:
        head_row = s.execute(select(Obligation).where(Obligation.subject == "self-inspection:2025Q3",
                                                      Obligation.code == REPORT_CODE)).scalar_one()
        assert head_row.fulfilled_at is None
    with pytest.raises(InspectionInputError, match="YX0201 不单独报送"):
        submit_report(Q, evidence="x", by="sun.li", profile=two_units, unit="YX0201", today=dt.date(2025, 10, 20))


def test_the_commands_take_the_unit(home: Path, tmp_path: Path, quarter_data: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo profile: both branches report on their own; the Guiyang branch's report is its own too."""
    migrate()
    profile = load_profile(DEMO_PROFILE)
    outcome = pipeline.run(Q, quarter_data.logs, quarter_data.users, tmp_path / "out", profile, seed=5)
    assert [r["unit"] for r in outcome.summary["reports"]] == ["YX0001", "YX0101", "YX0201"]
    runner = CliRunner()
    status = runner.invoke(app, ["self-inspection", "signoff-status", outcome.run_id, "--unit", "YX0201"])
    assert status.exit_code == 0 and json.loads(status.stdout)["unit"] == "YX0201", status.output
    unknown = runner.invoke(app, ["self-inspection", "signoff-status", outcome.run_id, "--unit", "ZZ9999"])
    assert unknown.exit_code == ExitCode.USAGE and "ZZ9999 不单独报送" in unknown.stderr
    sent = runner.invoke(app, ["self-inspection", "signoff", outcome.run_id, "--unit", "YX0201", "--by", "he.min"])
    assert sent.exit_code == 0 and json.loads(sent.stdout)["requests"] == ["self-inspection:2025Q3-YX0201:r1:review:1"], sent.output
    redrafted = runner.invoke(app, ["self-inspection", "redraft", outcome.run_id, "--unit", "YX0201", "--out", str(tmp_path / "g.docx")])
    assert redrafted.exit_code == 0 and "渝信示范银行贵阳分行" in _text(tmp_path / "g.docx"), redrafted.output
    refused = runner.invoke(app, ["self-inspection", "submit", "2025Q3", "--unit", "YX0201", "--evidence", "书面报送", "--by", "sun.li"])
    assert refused.exit_code == ExitCode.REFUSED and "YX0201" in refused.stderr, refused.output


def test_a_unit_s_report_is_approved_by_its_own_role_where_set(home: Path, tmp_path: Path, quarter_data: Any,
                                                                 two_units: Profile) -> None:
    migrate()
    units = [u.model_copy(update={"inspection_approval_role": "retail_division"}) if u.code == BRANCH else u
             for u in two_units.reporting_units]
    profile = two_units.model_copy(update={"reporting_units": units})
    assert [r.approval_role for r in reports(profile)] == ["leadership_group", "retail_division"]
    outcome = _run(quarter_data, tmp_path, profile)
    signoff.submit(profile, outcome.run_id, "he.min", unit=BRANCH)
    acknowledge(make_token("self-inspection:2025Q3-YX0101:r1:review:1", "sun.li"))
    assert signoff.advance(profile, Q, unit=BRANCH).stage == "approve"
    approve = "self-inspection:2025Q3-YX0101:r1:approve:1"
    acknowledge(make_token(approve, "zhou.qiang"))  # the institution's leadership: not this report's approver
    assert signoff.advance(profile, Q, unit=BRANCH).stage == "approve"
    acknowledge(make_token(approve, "chen.jing"))  # the branch's own role
    view = signoff.advance(profile, Q, unit=BRANCH)
    assert view.stage == "final" and view.approver is not None and view.approver.person == "chen.jing"
