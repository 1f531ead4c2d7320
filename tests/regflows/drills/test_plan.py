"""The drill plan: TENPAY 第十六条's contents, participants with the suppliers (NFRA 44), a working day,
the injects; plan.yaml and the .docx, approved through the kit's approvals bound to plan.yaml's
SHA-256; an unapproved plan runs only as a rehearsal (issue 17, item 2)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import docx
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from notices.acks import acknowledge, make_token
from regflows.cli import app
from regflows.drills.approval import advance_plan, after_ack, plan_status, require_approved, submit
from regflows.drills.owed import DrillInputError
from regflows.drills.plan import PLAN_FILE, check_plan, load_plan, make_plan, plan_docx_name
from regflows.drills.run import record_started
from regflows.exit_codes import ExitCode
from regflows.kit import approvals
from regflows.kit.documents import DRILL_TAG
from regflows.kit.errors import RuleFileError
from regflows.kit.obligations import Refused
from regflows.profile import Profile, load_profile
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Report

BASE = "http://127.0.0.1:4201"


@pytest.fixture
def profile(home: Path, http: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_profile: Any) -> Profile:
    """The demo profile (working group: zhao.lei, liu.yang, sun.li; leadership: zhou.qiang), everyone's
    messages to the stand-in; REGFLOWS_PROFILE names it (the acknowledgement follow-up loads it)."""
    migrate()
    path = write_profile(tmp_path / "profile.yaml", http.base, None, BASE)
    monkeypatch.setenv("REGFLOWS_PROFILE", str(path))
    return load_profile(path)


def test_the_plan_has_tenpay_16s_contents_the_suppliers_and_the_injects(profile: Profile) -> None:
    plan = make_plan(profile, 2026, on=dt.date(2026, 9, 15))
    assert re.fullmatch(r"DRILL-20260915-incident-[0-9a-f]{6}", plan.plan_id) and plan.event == "denial_of_service"
    assert make_plan(profile, 2026, on=dt.date(2026, 9, 15)).plan_id != plan.plan_id  # another plan for the day: another id
    assert plan.background and plan.locate and plan.measures.handling and plan.measures.recovery
    assert plan.attackers and plan.defenders and plan.environment
    sides = {p.person: p.side for p in plan.participants}
    assert sides["zhao.lei"] == "command" and sides["wu.gang"] == "defence"  # wu.gang: the service provider (NFRA 44)
    assert [(i.at_minutes, i.action) for i in plan.injects] == [(10, "channel_down"), (30, "regrade"), (40, "end_handling")]
    assert plan.injects[0].channel == "sms" and plan.injects[1].grade == "II"
    assert "TENPAY 第十六条" in plan.clause and "NFRA 第四十四条" in plan.clause
    assert make_plan(profile, 2026, "supplier", dt.date(2026, 9, 15)).event == "supplier_outage"


def test_a_day_off_an_unknown_event_and_a_kind_held_outside_are_refused(profile: Profile, tmp_path: Path) -> None:
    with pytest.raises(DrillInputError, match="2026-10-03 不是工作日.*2026-09-30.*2026-10-08"):
        make_plan(profile, 2026, on=dt.date(2026, 10, 3))
    assert make_plan(profile, 2026, on=dt.date(2026, 9, 20)).on == dt.date(2026, 9, 20)  # a make-up working day (Sunday)
    with pytest.raises(DrillInputError, match="不存在"):
        make_plan(profile, 2026, event="earthquake")
    with pytest.raises(DrillInputError, match="regflows drill fulfil"):
        make_plan(profile, 2026, "disaster_recovery")
    for day in ("2027-03-01", "2025-12-01"):  # a day outside --year: a usage error, no traceback
        outside = CliRunner().invoke(app, ["drill", "plan", "--year", "2026", "--on", day, "--out", str(tmp_path / day)])
        assert outside.exit_code == ExitCode.USAGE and f"演练日期 {day} 不在 2026 年度内" in outside.stderr, outside.output


def test_an_edited_plan_is_checked_again_with_its_line(profile: Profile, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "plan"
    done = runner.invoke(app, ["drill", "plan", "--year", "2026", "--on", "2026-09-15", "--out", str(out)])
    assert done.exit_code == 0, done.output
    plan_id = json.loads(done.stdout)["plan_id"]
    assert plan_id.startswith("DRILL-20260915-incident-")
    document = docx.Document(str(out / f"drill-plan-{plan_id}.docx"))
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert document.paragraphs[0].text.startswith(DRILL_TAG)
    for part in (
        "演练事件",
        "组织与分工",
        "演练环境",
        "攻击方",
        "防守方",
        "背景",
        "溯源",
        "应急处置",
        "分析",
        "根除",
        "恢复",
        "T+10 分钟",
        "吴刚（wu.gang）",
    ):
        assert part in text, part
    path = out / PLAN_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on"] = "2026-10-04"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DrillInputError, match="不是工作日"):
        check_plan(load_plan(path), profile)
    data["on"] = "2026-09-15"
    data["participants"] = [p for p in data["participants"] if p["person"] != "wu.gang"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DrillInputError, match="NFRA 第四十四条"):
        check_plan(load_plan(path), profile)
    path.write_text(path.read_text(encoding="utf-8").replace("at_minutes: 30", "at_minutes: soon"), encoding="utf-8")
    with pytest.raises(RuleFileError, match="第 [0-9]+ 行"):
        load_plan(path)
    refused = runner.invoke(app, ["drill", "plan", "--year", "2026", "--on", "2026-10-03", "--out", str(tmp_path / "x")])
    assert refused.exit_code == ExitCode.USAGE and "不是工作日" in refused.stderr and not (tmp_path / "x" / PLAN_FILE).exists()


def _link(http: Any, person: str) -> str:
    http.wait_for(f"/ok/{person}", 1)
    message = next(m.json()["message"] for m in http.at(f"/ok/{person}") if "演练方案待" in m.json()["title"])
    return str(http.ack_link_in(message, BASE)).rsplit("/", 1)[1]


def test_approved_by_two_others_bound_to_the_plan_and_a_change_needs_approval_again(profile: Profile, http: Any, tmp_path: Path) -> None:
    from regflows.drills.plan import write_plan

    plan = make_plan(profile, 2026, on=dt.date(2026, 9, 15))
    write_plan(plan, profile, tmp_path)
    path = tmp_path / PLAN_FILE
    with pytest.raises(Refused, match="尚未提交审批"):
        require_approved(path, profile)
    assert require_approved(path, profile, rehearsal=True) == (plan, True)  # runs, marked as a rehearsal

    approval = submit(profile, path, "liu.yang")
    assert (approval.stage, approval.revision) == ("review", 1)
    with db.session() as s:
        kinds = {
            r.kind: r.sha256 for r in s.execute(select(Report).where(Report.subject == f"drill-plan:{plan.plan_id}")).scalars()
        }
    assert set(kinds) == {"drill_plan_plan", "drill_plan_docx"}
    acknowledge(make_token(f"drill-plan:{plan.plan_id}:r1:review:1", "liu.yang"))  # the maker: refused
    acknowledge(_link(http, "zhao.lei"))  # a working-group member reviews
    assert advance_plan(profile, plan.plan_id).stage == "approve"
    acknowledge(_link(http, "zhou.qiang"))  # the leadership group approves
    assert "已批准" in after_ack(f"drill-plan:{plan.plan_id}:r1:approve:1")  # the endpoint's follow-up
    status = plan_status(plan, path)
    assert status.approved and (status.reviewer, status.approver) == ("赵磊", "周强")
    assert require_approved(path, profile, today=dt.date(2026, 9, 15)) == (plan, False)
    with pytest.raises(Refused, match="演练日期为 2026-09-15，今天是 2026-11-27"):  # an approved plan runs on its day only
        require_approved(path, profile, today=dt.date(2026, 11, 27))
    assert require_approved(path, profile, rehearsal=True, today=dt.date(2026, 11, 27)) == (plan, True)  # a rehearsal any day
    record_started(plan, "INC-20260915-DRILLR", run_key="r", rehearsal=True, speed=1, started=dt.datetime(2026, 9, 15, 2, tzinfo=dt.UTC))
    assert require_approved(path, profile, today=dt.date(2026, 9, 15)) == (plan, False)  # a rehearsal does not use the plan up
    record_started(plan, "INC-20260915-DRILLF", run_key="f", rehearsal=False, speed=1, started=dt.datetime(2026, 9, 15, 2, tzinfo=dt.UTC))
    with pytest.raises(Refused, match="已于 2026-09-15 10:00 正式运行（演练 INC-20260915-DRILLF）"):  # once only
        require_approved(path, profile, today=dt.date(2026, 9, 15))
    with db.session() as s:
        actions = [
            e.action
            for e in s.execute(
                select(AuditEntry).where(AuditEntry.subject == f"drill-plan:{plan.plan_id}").order_by(AuditEntry.seq)
            ).scalars()
        ]
    assert "drill.plan_refused" in actions and actions.index("drill.plan_reviewed") < actions.index("drill.plan_approved")

    path.write_text(path.read_text(encoding="utf-8").replace("start: '10:00:00'", "start: '14:00:00'"), encoding="utf-8")
    assert plan_status(load_plan(path), path).stage == "changed"
    with pytest.raises(Refused, match="批准后被修改"):
        require_approved(path, profile)
    again = submit(profile, path, "liu.yang")
    assert (again.stage, again.revision) == ("review", 2)
    assert approvals.get("drill_plan", f"drill-plan:{plan.plan_id}") is not None
    assert (tmp_path / plan_docx_name(plan)).exists()


def test_cli_submit_and_status(profile: Profile, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "plan"
    assert runner.invoke(app, ["drill", "plan", "--year", "2026", "--on", "2026-09-15", "--out", str(out)]).exit_code == 0
    nobody = runner.invoke(app, ["drill", "submit", str(out / PLAN_FILE), "--by", "nobody"])
    assert nobody.exit_code == ExitCode.USAGE and "nobody" in nobody.stderr
    done = runner.invoke(app, ["drill", "submit", str(out / PLAN_FILE), "--by", "liu.yang"])
    assert done.exit_code == 0, done.output
    status = runner.invoke(app, ["drill", "plan-status", str(out / PLAN_FILE)])
    assert json.loads(status.stdout)["stage"] == "review" and not json.loads(status.stdout)["approved"]


def test_cli_run_refuses_an_unapproved_plan_before_starting_anything(profile: Profile, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "plan"
    assert runner.invoke(app, ["drill", "plan", "--year", "2026", "--on", "2026-09-15", "--out", str(out)]).exit_code == 0
    refused = runner.invoke(app, ["drill", "run", str(out / PLAN_FILE), "--speed", "10"])
    assert refused.exit_code == ExitCode.REFUSED and "尚未提交审批" in refused.stderr and "--rehearsal" in refused.stderr
    bad = runner.invoke(app, ["drill", "run", str(out / PLAN_FILE), "--speed", "0", "--rehearsal"])
    assert bad.exit_code == ExitCode.USAGE and "--speed" in bad.stderr
    for speed in ("inf", "nan"):  # refused before any server is asked
        odd = runner.invoke(app, ["drill", "run", str(out / PLAN_FILE), "--speed", speed, "--rehearsal"])
        assert odd.exit_code == ExitCode.USAGE and "--speed 须为有限的正数" in odd.stderr and "regflows up" not in odd.stderr, odd.output


def test_the_report_of_an_approved_drill_fulfils_its_period_and_a_rehearsals_does_not(profile: Profile, tmp_path: Path) -> None:
    from regflows.store.models import Obligation

    plan = make_plan(profile, 2026, on=dt.date(2026, 9, 15))
    started = dt.datetime(2026, 9, 15, 2, 0, tzinfo=dt.UTC)
    record_started(plan, "INC-20260915-DRILLA", run_key="a", rehearsal=False, speed=1, started=started)
    record_started(plan, "INC-20260915-DRILLB", run_key="b", rehearsal=True, speed=1, started=started)
    runner = CliRunner()
    rehearsed = runner.invoke(app, ["drill", "report", "INC-20260915-DRILLB", "--out", str(tmp_path / "b"), "--by", "zhao.lei"])
    assert rehearsed.exit_code == ExitCode.REFUSED and "预演" in rehearsed.stderr
    done = runner.invoke(app, ["drill", "report", "INC-20260915-DRILLA", "--out", str(tmp_path / "a"), "--by", "zhao.lei"])
    assert done.exit_code == 0, done.output
    assert json.loads((tmp_path / "a" / "measurements.json").read_text(encoding="utf-8"))["acks"] == []
    with db.session() as s:
        row = s.execute(select(Obligation).where(Obligation.subject == "drill:2026H2", Obligation.code == "incident")).scalar_one()
        assert row.state == "fulfilled" and row.fulfilled_by == "zhao.lei"
        assert row.evidence["history"][0]["reference"] == "INC-20260915-DRILLA"
    unknown = runner.invoke(app, ["drill", "report", "INC-NOPE", "--out", str(tmp_path / "c")])
    assert unknown.exit_code == ExitCode.USAGE and "不是 regflows 运行的演练" in unknown.stderr
