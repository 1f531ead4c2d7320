"""The rectification register (issue 15, items 5 and 7): working-day due dates on the official
calendar, the 附件4 六（二） report's two starting points, closure only with evidence and a
re-check, idempotent opening, reminders and escalation, the 整改通知书, the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import docx
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from calendars.official import CalendarError
from regflows.cli import app
from regflows.exit_codes import ExitCode
from regflows.inspection.checks import Finding
from regflows.inspection.due import report_due
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.notice import issue_notice
from regflows.inspection.owed import REPORT_CODE, owe_last_quarter, quarter_subject
from regflows.inspection.rectification import (
    RECTIFY,
    REPORT,
    RectificationConflict,
    close_finding,
    finding_status,
    from_check,
    list_findings,
    new_finding,
    open_rectification,
    record_signoff,
    rectification_due,
    report_start,
)
from regflows.inspection.reminders import WorkingDaysBeforeDueDay, passed_at_opening, remind
from regflows.inspection.spot_check import spot_check_finding
from regflows.kit.obligations import EvidenceError, Refused
from regflows.settings import InspectionSettings
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Notice, Obligation

BJ = dt.timezone(dt.timedelta(hours=8))
CALENDAR_2026 = Path(__file__).resolve().parents[3] / "calendars" / "data" / "2026.yaml"
PEOPLE = {"chen.jing", "sun.li", "he.min", "zhou.qiang"}


def finding(**over: Any) -> Any:
    facts: dict[str, Any] = {"quarter": "2026Q3", "source": "patrol", "title": "查询授权书留存不全", "clause": "PBOC-102 三（三）",
                             "unit": "零售业务处", "owner": "chen.jing", "feedback": dt.date(2026, 9, 28), "detail": "抽查 20 笔缺 3 笔"}
    return new_finding(**{**facts, **over})


def working_days_from_the_yaml(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start``, from calendars/data/2026.yaml alone (not the calendar module)."""
    data = yaml.safe_load(CALENDAR_2026.read_text(encoding="utf-8"))
    off = {h["start"] + dt.timedelta(days=i) for h in data["holidays"] for i in range((h["end"] - h["start"]).days + 1)}
    makeup = {m["date"] for m in data["makeup_workdays"]}
    day, counted = start, 0
    while counted < n:
        day += dt.timedelta(days=1)
        if day in makeup or (day.weekday() < 5 and day not in off):
            counted += 1
    return day


@pytest.fixture
def store(home: Path) -> Path:
    migrate()
    return home


# -- due dates (pure) ------------------------------------------------------------------------------

def test_the_default_due_date_crosses_national_day_2026_on_the_official_calendar() -> None:
    deadline = rectification_due(finding())
    expected = working_days_from_the_yaml(dt.date(2026, 9, 28), 15)
    assert deadline.last_day == expected == dt.date(2026, 10, 23)  # 10-01..07 off, Saturday 10-10 worked
    assert deadline.due == dt.datetime(2026, 10, 24, tzinfo=BJ)  # 24:00 of the last day
    weekdays_only = [d for d in (dt.date(2026, 9, 28) + dt.timedelta(days=i) for i in range(1, 40)) if d.weekday() < 5][14]
    assert weekdays_only == dt.date(2026, 10, 19) != deadline.last_day  # a calendar without the holiday would be wrong
    assert rectification_due(finding(), settings=InspectionSettings(inspection_rectification_working_days=1)).last_day == dt.date(2026, 9, 29)
    assert rectification_due(finding(feedback=dt.date(2026, 9, 30)), settings=InspectionSettings(
        inspection_rectification_working_days=1)).last_day == dt.date(2026, 10, 8)  # the next working day after the holiday


def test_an_owner_set_due_date_is_kept_and_one_before_the_feedback_refused() -> None:
    owner = rectification_due(finding(), dt.date(2026, 10, 12))  # the owner's day (a Monday)
    assert owner.last_day == dt.date(2026, 10, 12) and "整改责任人确定" in owner.basis
    # a day off is refused, never moved: 国庆, a weekend; the make-up Saturday 2026-10-10 is a working day
    with pytest.raises(InspectionInputError, match=r"整改期限（--due） 2026-10-03 是法定节假日（国庆节）.*2026-09-30.*2026-10-08"):
        rectification_due(finding(), dt.date(2026, 10, 3), names={"due": "--due", "feedback": "--feedback-date"})
    with pytest.raises(InspectionInputError, match=r"2026-10-18 是周末休息日"):
        rectification_due(finding(), dt.date(2026, 10, 18))
    assert rectification_due(finding(), dt.date(2026, 10, 10)).last_day == dt.date(2026, 10, 10)
    assert rectification_due(finding(), dt.date(2026, 9, 28)).last_day == dt.date(2026, 9, 28)  # the feedback day itself: allowed
    with pytest.raises(InspectionInputError, match=r"整改期限（--due） 2026-09-27 早于反馈日期（--feedback-date）"):
        rectification_due(finding(), dt.date(2026, 9, 27), names={"due": "--due", "feedback": "--feedback-date"})


def test_a_due_date_in_a_year_without_calendar_data_is_refused_by_name() -> None:
    with pytest.raises(CalendarError, match="2027"):
        rectification_due(finding(feedback=dt.date(2026, 12, 20), today=dt.date(2026, 12, 20)))


def test_the_report_runs_from_the_patrols_feedback_or_for_self_inspection_from_the_setting() -> None:
    patrol = finding()
    own = finding(source="check", ref="password_stale:u1")
    signoff = InspectionSettings()  # default: signoff
    feedback = InspectionSettings(inspection_rectification_report_from="feedback")
    assert report_start(patrol, signoff, None)[0] == dt.date(2026, 9, 28)  # patrol: always its feedback
    assert report_start(patrol, signoff, dt.date(2026, 10, 15))[0] == dt.date(2026, 9, 28)
    assert report_start(own, signoff, None) == (None, "自自查报告签发之日起算，报告尚未签发（设置 inspection_rectification_report_from=signoff）")
    assert report_start(own, signoff, dt.date(2026, 10, 15))[0] == dt.date(2026, 10, 15)
    late = finding(source="worklist", ref="lead-9:使用", feedback=dt.date(2026, 10, 20))
    assert report_start(late, signoff, dt.date(2026, 10, 15))[0] == dt.date(2026, 10, 20)  # fed back after the sign-off
    assert report_start(own, feedback, None)[0] == dt.date(2026, 9, 28)
    with pytest.raises(ValueError):
        InspectionSettings(inspection_rectification_report_from="audit")  # type: ignore[arg-type]


def test_the_finding_id_is_stable_and_tells_findings_apart() -> None:
    assert finding().id == finding().id and finding().id.startswith("SI-2026Q3-")
    assert finding(ref="a").id != finding(ref="b").id
    assert finding(detail="另一问题").id != finding().id  # without a reference the detail tells them apart
    assert finding(owner="sun.li").id == finding().id  # the owner is not what the finding is


@pytest.mark.parametrize(("over", "message"), [
    ({"source": "audit"}, "问题来源（source）只能是"),
    ({"title": "  "}, "问题标题（title）不能为空"),
    ({"unit": ""}, "责任单位或部门（unit）不能为空"),
    ({"feedback": "2026/09/28"}, "反馈日期（feedback）应写作 YYYY-MM-DD"),
    ({"quarter": "2026Q5"}, "季度（quarter）"),
    ({"title": "a\nb"}, "问题标题（title）不能换行"),
    ({"owner": "nobody.x"}, "整改责任人（owner） nobody.x 不在机构配置的人员"),
])
def test_a_bad_field_is_refused_by_name(over: dict[str, Any], message: str) -> None:
    with pytest.raises(InspectionInputError, match=message.replace("(", r"\(")):
        finding(**over, people=PEOPLE)


# -- the register ---------------------------------------------------------------------------------

def test_opening_writes_two_obligations_and_opening_again_changes_nothing(store_url: str) -> None:
    f = finding()
    first = open_rectification(f, url=store_url, now=dt.datetime(2026, 9, 28, 10, tzinfo=BJ))
    assert first.created and first.rectification_due == first.report_due == dt.date(2026, 10, 23)
    again = open_rectification(finding(), url=store_url)
    assert not again.created and again == first.__class__(**{**first.__dict__, "created": False})
    with db.session(store_url) as s:
        rows = list(s.execute(select(Obligation).where(Obligation.subject == f.id)).scalars())
        opened = list(s.execute(select(AuditEntry).where(AuditEntry.action == "inspection.finding_opened")).scalars())
        assert sorted(r.code for r in rows) == [RECTIFY, REPORT] and len(opened) == 1
        # 2026Q3 was never run here: the finding does not make its report owed (review of issue 15, defect 5)
        assert s.execute(select(Obligation).where(Obligation.subject == quarter_subject(Quarter(2026, 3)))).scalar() is None
    with pytest.raises(RectificationConflict, match="整改责任人（owner）"):
        open_rectification(finding(owner="sun.li"), url=store_url)
    with pytest.raises(RectificationConflict, match="整改期限（due）"):
        open_rectification(finding(), due=dt.date(2026, 10, 30), url=store_url)
    assert finding_status(f.id, store_url).finding.owner == "chen.jing"  # the refused second opening changed nothing


def test_default_and_owner_set_due_dates_in_the_register(store: Path) -> None:
    default = open_rectification(finding())
    owner = open_rectification(finding(ref="2"), due=dt.date(2026, 11, 30))
    listed = {f.id: f for f in list_findings(Quarter(2026, 3))}
    assert listed[default.finding_id].rectification["due"] == "2026-10-23"
    assert listed[owner.finding_id].rectification["due"] == "2026-11-30"
    assert listed[owner.finding_id].report["due"] == "2026-10-23"  # the report still runs from the feedback
    assert list_findings(Quarter(2026, 4)) == []


def test_self_inspection_reports_wait_for_the_sign_off_then_get_their_day(store: Path) -> None:
    own = open_rectification(finding(source="check", ref="password_stale:u1"))
    patrol = open_rectification(finding())
    assert own.report_due is None and finding_status(own.finding_id).report["waiting"] == "自查报告签发后起算"
    assert record_signoff(Quarter(2026, 3), dt.date(2026, 10, 15)) == [own.finding_id]  # the patrol's report had its day
    assert finding_status(own.finding_id).report["due"] == working_days_from_the_yaml(dt.date(2026, 10, 15), 15).isoformat()
    assert finding_status(patrol.finding_id).report["due"] == "2026-10-23"
    later = open_rectification(finding(source="spot_check", clause="CUSTINFO 10.2", ref="x"))  # after the sign-off
    assert later.report_due == working_days_from_the_yaml(dt.date(2026, 10, 15), 15)
    assert record_signoff(Quarter(2026, 3), dt.date(2026, 10, 15)) == []  # again: nothing left to date
    with pytest.raises(Refused, match="已登记于 2026-10-15 签发"):
        record_signoff(Quarter(2026, 3), dt.date(2026, 10, 16))


def test_closing_needs_evidence_and_a_recheck_by_someone_other_than_the_owner(store: Path, tmp_path: Path) -> None:
    f = open_rectification(finding()).finding_id
    with pytest.raises(Refused, match=r"整改须经复查后方可关闭：请填写复查人（rechecked_by）"):
        close_finding(f, evidence="已补齐授权书", by="he.min", rechecked_by=None, people=PEOPLE)
    with pytest.raises(Refused, match="是该问题的整改责任人"):
        close_finding(f, evidence="已补齐授权书", by="he.min", rechecked_by="chen.jing", people=PEOPLE)
    with pytest.raises(EvidenceError, match="复查人（rechecked_by）nobody.x 不在机构配置的人员"):
        close_finding(f, evidence="已补齐授权书", by="he.min", rechecked_by="nobody.x", people=PEOPLE)
    with pytest.raises(EvidenceError):
        close_finding(f, evidence=" ", by="he.min", rechecked_by="sun.li", people=PEOPLE)
    assert finding_status(f).rectification["state"] == "pending"  # nothing recorded by a refusal
    proof = tmp_path / "授权书.pdf"
    proof.write_bytes(b"%PDF-1.4 scans")
    row = close_finding(f, evidence="已补齐授权书", by="he.min", rechecked_by="sun.li", recheck_note="逐笔核对 3 笔，致电 13812345678",
                        file=proof, people=PEOPLE)
    assert row.state == "fulfilled" and row.evidence["history"][-1]["file"]["sha256"]
    status = finding_status(f)
    # The note is free text: masked in the row and the ledger (issue 14, 3).
    assert status.rectification["recheck"] == {"by": "sun.li", "note": "逐笔核对 3 笔，致电 138****5678"}
    assert status.report["state"] == "pending"  # the report is its own obligation
    with pytest.raises(Refused, match="不能重复登记"):
        close_finding(f, evidence="再次", by="he.min", rechecked_by="sun.li", people=PEOPLE)
    with db.session() as s:
        assert [e.actor for e in s.execute(select(AuditEntry).where(AuditEntry.action == "inspection.rechecked")).scalars()] == ["sun.li"]
        assert not any("13812345678" in e.payload for e in s.execute(select(AuditEntry)).scalars())


# -- reminders and escalation --------------------------------------------------------------------

def test_the_policy_reminds_working_days_before_on_the_day_and_raises_after() -> None:
    policy = WorkingDaysBeforeDueDay((5, 1))
    due = dt.datetime(2026, 10, 24, tzinfo=BJ)  # 2026-10-23 24:00
    assert [(k, s, at.isoformat()) for k, s, at in policy.points(due)] == [
        ("before-5wd@2026-10-23", "due_soon", "2026-10-16T09:00:00+08:00"),
        ("before-1wd@2026-10-23", "due_soon", "2026-10-22T09:00:00+08:00"),
        ("due@2026-10-23", "due", "2026-10-23T09:00:00+08:00"),
        ("overdue@2026-10-23", "overdue", "2026-10-24T00:00:00+08:00"),
    ]
    early = policy.points(dt.datetime(2026, 10, 13, tzinfo=BJ))[0]  # due 10-12: 5 working days back cross the holiday
    assert early[2].date() == dt.date(2026, 9, 29)  # 10-10 (Saturday, worked), 10-09, 10-08, 09-30, 09-29
    assert policy.reminder(due, [], dt.datetime(2026, 10, 16, 8, 59, tzinfo=BJ)) is None
    outage = policy.reminder(due, [], dt.datetime(2026, 10, 23, 12, tzinfo=BJ))
    assert outage is not None and outage.key == "due@2026-10-23" and outage.late
    assert outage.passed == ("before-5wd@2026-10-23", "before-1wd@2026-10-23")
    assert passed_at_opening(due, now=dt.datetime(2026, 10, 20, 10, tzinfo=BJ)) == ["before-5wd@2026-10-23"]
    assert passed_at_opening(due, now=dt.datetime(2026, 10, 30, tzinfo=BJ)) == [
        "before-1wd@2026-10-23", "before-5wd@2026-10-23", "due@2026-10-23"]  # never the overdue one


def test_reminders_go_to_the_owner_and_escalate_when_overdue(store: Path, http: Any, build_profile: Any) -> None:
    profile = build_profile({"t.o": [("webhook", f"json://{http.base}/ok/owner")]},
                            roles={"retail_division": {"kind": "division", "name": "零售业务处", "members": ["chen.jing", "t.o"],
                                                       "deputy": "zhao.lei"}})
    opened = open_rectification(finding(owner="t.o"), now=dt.datetime(2026, 9, 28, 10, tzinfo=BJ))
    f = opened.finding_id
    assert remind(profile, dt.datetime(2026, 10, 9, 10, tzinfo=BJ)) == []  # the quarter's report is owed, nothing due yet
    assert sorted(remind(profile, dt.datetime(2026, 10, 16, 9, 1, tzinfo=BJ))) == [
        f"{f}:{RECTIFY}:before-5wd@2026-10-23", f"{f}:{REPORT}:before-5wd@2026-10-23"]
    assert remind(profile, dt.datetime(2026, 10, 16, 15, tzinfo=BJ)) == []  # once
    assert len(http.wait_for("/ok/owner", 2)) == 2
    overdue = remind(profile, dt.datetime(2026, 10, 24, 0, 5, tzinfo=BJ))
    assert f"{f}:{RECTIFY}:overdue@2026-10-23" in overdue and f"{f}:{REPORT}:overdue@2026-10-23" in overdue
    with db.session() as s:
        before = s.get(Notice, f"{f}:{RECTIFY}:before-5wd@2026-10-23")
        alarm = s.get(Notice, f"{f}:{RECTIFY}:overdue@2026-10-23")
        assert not before.requires_ack and before.roles == []  # the owner only
        assert alarm.requires_ack and alarm.urgent and set(alarm.roles) >= {"compliance", "leadership_group"}
        overdue_entries = [json.loads(e.payload)["obligation"] for e in s.execute(select(AuditEntry).where(
            AuditEntry.action == "obligation.overdue", AuditEntry.subject == f)).scalars()]
        assert sorted(overdue_entries) == [RECTIFY, REPORT]
    close_finding(f, evidence="已整改", by="he.min", rechecked_by="sun.li")
    later = remind(profile, dt.datetime(2026, 10, 27, 10, tzinfo=BJ))
    assert [k for k in later if k.startswith(f)] == []  # closed: no more; the report was raised once
    # the quarter's reports, due today: the head office's and each branch's that reports to its local PBoC branch
    assert later == [f"self-inspection:2026Q3{unit}:{REPORT_CODE}:due@2026-10-27" for unit in ("", "-YX0101", "-YX0201")]


def test_the_quarters_report_is_owed_reminded_and_raised(store: Path, build_profile: Any) -> None:
    profile = build_profile({})
    assert remind(profile, dt.datetime(2026, 10, 9, 10, tzinfo=BJ)) == []
    with db.session() as s:
        row = s.execute(select(Obligation).where(Obligation.subject == "self-inspection:2026Q3")).scalar_one()
        assert row.due_at == report_due(Quarter(2026, 3)).due and row.detail["quarter"] == "2026Q3"
    due_day = report_due(Quarter(2026, 3)).last_day
    assert due_day == working_days_from_the_yaml(dt.date(2026, 9, 30), 15)
    after = dt.datetime.combine(due_day + dt.timedelta(days=1), dt.time(0, 5), tzinfo=BJ)
    assert remind(profile, after) == [f"self-inspection:2026Q3{unit}:{REPORT_CODE}:overdue@{due_day.isoformat()}"
                                      for unit in ("", "-YX0101", "-YX0201")]
    with db.session() as s:  # each to its addressee (PBOC-102 三（三） after 三（二）'s route)
        rows = {r.subject: r.detail["addressee"] for r in s.execute(select(Obligation).where(Obligation.code == REPORT_CODE)).scalars()}
    assert rows == {"self-inspection:2026Q3": "所在地人民银行分支机构（重庆市）", "self-inspection:2026Q3-YX0101": "所在地人民银行分支机构（四川省）",
                    "self-inspection:2026Q3-YX0201": "所在地人民银行分支机构（贵州省）"}


def test_the_fourth_quarter_without_next_years_calendar_is_raised_not_guessed(store: Path, build_profile: Any) -> None:
    profile = build_profile({})
    assert owe_last_quarter(dt.datetime(2027, 1, 4, 10, tzinfo=BJ)) == Quarter(2026, 4)
    with db.session() as s:
        row = s.execute(select(Obligation).where(Obligation.subject == "self-inspection:2026Q4")).scalar_one()
        assert row.due_at is None and row.state == "calendar_missing" and "2027" in row.detail["basis"]
    sent = remind(profile, dt.datetime(2027, 1, 4, 10, tzinfo=BJ))
    assert sent == [f"self-inspection:2026Q4{unit}:{REPORT_CODE}:calendar_missing" for unit in ("", "-YX0101", "-YX0201")]


# -- the spot check's 整改通知书 --------------------------------------------------------------------

def test_a_spot_check_problem_becomes_a_finding_with_its_notice(store: Path, tmp_path: Path) -> None:
    problem = spot_check_finding(quarter="2026Q3", department="零售业务处", area="权限管理", problem="离职员工账号未及时注销",
                                 owner="chen.jing", found_on="2026-09-28", detail="2 名离职员工账号仍可登录")
    assert (problem.source, problem.clause, problem.title) == ("spot_check", "CUSTINFO 10.2", "权限管理：离职员工账号未及时注销")
    with pytest.raises(InspectionInputError, match=r"抽查领域（--area）只能是 收集告知（collection）"):
        spot_check_finding(quarter="2026Q3", department="零售业务处", area="档案", problem="x", owner="chen.jing",
                           found_on="2026-09-28", names={"area": "--area"})
    opened = open_rectification(problem, due=dt.date(2026, 10, 16))
    path, digest = issue_notice(opened.finding_id, tmp_path / "整改通知书.docx", institution="渝信示范银行股份有限公司",
                                issued_at=dt.datetime(2026, 9, 28, 15, tzinfo=BJ), names={"chen.jing": "陈静"})
    document = docx.Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert "整改通知书" in text and "零售业务处：" in text and "请于2026年10月16日24时前完成整改" in text
    assert "陈静（chen.jing）" in cells and "权限管理：离职员工账号未及时注销" in cells
    # the regulation named once, by its name, never the tag (CUSTINFO is the internal policy, docs/regulations.md)
    assert "《企业客户信息保护管理办法》10.2" in cells and "CUSTINFO" not in "\n".join([text, *cells])
    assert "\n".join([text, *cells]).count("企业客户信息保护管理办法") == 1
    assert "2026年9月28日" in text and document.core_properties.title == "整改通知书"
    with db.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "inspection.notice_written")).scalar_one()
        payload = json.loads(entry.payload)
        assert payload["sha256"] == digest and payload["due"] == "2026-10-16"
    # The signature and date never stand alone on a page: kept with the body's last paragraph.
    closing = [p for p in document.paragraphs if p.text.strip()][-3:]
    assert [bool(p.paragraph_format.keep_with_next) for p in closing] == [True, True, False], [p.text for p in closing]
    # A reporting unit is addressed by its name, not its code.
    unit = spot_check_finding(quarter="2026Q3", department="YX0101", area="权限管理", problem="用户未及时锁定",
                              owner="chen.jing", found_on="2026-09-28")
    path, _ = issue_notice(open_rectification(unit, due=dt.date(2026, 10, 16)).finding_id, tmp_path / "分行.docx",
                           institution="渝信示范银行股份有限公司", units={"YX0101": "渝信示范银行成都分行"})
    assert "渝信示范银行成都分行：" in [p.text for p in docx.Document(str(path)).paragraphs]


# -- the command line -------------------------------------------------------------------------------

ADD = ["self-inspection", "finding", "add", "--quarter", "2026Q3", "--source", "patrol", "--title", "查询授权书留存不全",
       "--clause", "PBOC-102 三（三）", "--unit", "零售业务处", "--owner", "chen.jing", "--feedback-date", "2026-09-28"]


def test_cli_add_list_close(store: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(app, ADD)
    assert added.exit_code == 0, added.output
    out = json.loads(added.stdout)
    assert (out["created"], out["rectification_due"], out["report_due"]) == (True, "2026-10-23", "2026-10-23")
    assert json.loads(runner.invoke(app, ADD).stdout)["created"] is False
    spot = runner.invoke(app, ["self-inspection", "finding", "add", "--quarter", "2026Q3", "--source", "spot_check", "--area", "销毁流程",
                               "--title", "纸质资料未经审批销毁", "--unit", "零售业务处", "--owner", "chen.jing",
                               "--feedback-date", "2026-09-28", "--due", "2026-10-12", "--notice", str(tmp_path / "n.docx")])
    assert spot.exit_code == 0, spot.output
    assert json.loads(spot.stdout)["rectification_due"] == "2026-10-12" and (tmp_path / "n.docx").is_file()
    listed = json.loads(runner.invoke(app, ["self-inspection", "finding", "list", "--quarter", "2026Q3"]).stdout)
    assert sorted(f["source"] for f in listed) == ["patrol", "spot_check"]
    close = ["self-inspection", "finding", "close", out["id"], "--evidence", "已补齐", "--by", "he.min"]
    no_check = runner.invoke(app, close)
    assert no_check.exit_code == 5 and "请填写复查人（--rechecked-by）" in no_check.stderr
    own = runner.invoke(app, [*close, "--rechecked-by", "chen.jing"])
    assert own.exit_code == 5 and "整改责任人" in own.stderr
    done = runner.invoke(app, [*close, "--rechecked-by", "sun.li"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["rechecked_by"] == "sun.li"
    reported = runner.invoke(app, ["self-inspection", "finding", "report", out["id"], "--evidence", "书面报送人民银行", "--by", "he.min"])
    assert reported.exit_code == 0, reported.output
    # closed twice, reported twice: refused in Chinese, the title named, never the obligation's code
    twice = runner.invoke(app, [*close, "--rechecked-by", "sun.li"])
    assert twice.exit_code == 5 and "义务“整改：查询授权书留存不全”已于" in twice.stderr and "rectification" not in twice.stderr
    again = runner.invoke(app, ["self-inspection", "finding", "report", out["id"], "--evidence", "再次", "--by", "he.min"])
    assert again.exit_code == 5 and "不能重复登记" in again.stderr and "rectification" not in again.stderr
    states = {f["id"]: (f["rectification"]["state"], f["report"]["state"])
              for f in json.loads(runner.invoke(app, ["self-inspection", "finding", "list", "--quarter", "2026Q3"]).stdout)}
    assert states[out["id"]] == ("fulfilled", "fulfilled")


@pytest.mark.parametrize(("change", "code", "message"), [
    ({"--feedback-date": "2026/09/28"}, 2, "反馈日期（--feedback-date）应写作 YYYY-MM-DD"),
    ({"--owner": "nobody.x"}, 2, "整改责任人（--owner） nobody.x 不在机构配置的人员"),
    ({"--source": "audit"}, 2, "问题来源（--source）只能是"),
    ({"--quarter": "2026-3"}, 2, "季度（--quarter）"),
    ({"--title": ""}, 2, "问题标题（--title）不能为空"),
    ({"--due": "10月30日"}, 2, "--due 应写作 YYYY-MM-DD"),
    ({"--due": "2026-09-01"}, 2, "整改期限（--due） 2026-09-01 早于反馈日期（--feedback-date）"),
    ({"--due": "2026-10-03"}, 2, "整改期限（--due） 2026-10-03 是法定节假日（国庆节），不是工作日"),
    ({"--source": "spot_check"}, 2, "须写明抽查领域（--area）"),
    ({"--due": "2027-01-05"}, 3, "2027"),
    ({"--feedback-date": "2099-12-05"}, 2, "反馈日期（--feedback-date） 2099-12-05 晚于今天"),  # review of issue 15, defect 6
])
def test_cli_bad_input_names_the_option(store: Path, change: dict[str, str], code: int, message: str) -> None:
    args = list(ADD)
    for option, value in change.items():
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.output
    with db.session() as s:
        assert list(s.execute(select(Obligation).where(Obligation.code == RECTIFY)).scalars()) == []  # nothing half-written


def test_cli_notice_path_and_the_quarters_report_submitted(store: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    nowhere = runner.invoke(app, [*ADD, "--notice", str(tmp_path / "missing" / "n.docx")])
    assert nowhere.exit_code == 2 and "--notice" in nowhere.stderr
    assert list_findings(Quarter(2026, 3)) == []  # refused before anything was written
    early = runner.invoke(app, ["self-inspection", "submit", "2099Q1", "--evidence", "书面报送", "--by", "he.min"])
    assert early.exit_code == 2 and "尚未结束" in early.stderr
    bad = runner.invoke(app, ["self-inspection", "submit", "2026Q3", "--evidence", "书面报送", "--by", "nobody.x"])
    assert bad.exit_code == 2 and "--by" in bad.stderr
    unsigned = runner.invoke(app, ["self-inspection", "submit", "2026Q3", "--evidence", "书面报送人民银行重庆营管部", "--by", "he.min"])
    assert unsigned.exit_code == ExitCode.REFUSED and "尚未提交签发" in unsigned.stderr and "定稿" in unsigned.stderr
    with db.session() as s:  # the report stays owed: nothing was recorded as filed
        rows = list(s.execute(select(Obligation).where(Obligation.code == "self_inspection_report")).scalars())
        assert len(rows) == 3 and all(row.fulfilled_at is None and "filed" not in (row.detail or {}) for row in rows)
    # submitted once final: tests/regflows/inspection/test_signoff.py


def test_a_user_checks_finding_is_one_finding_per_user_and_check() -> None:
    check = Finding("password_stale", "u7", 8, "口令超过 30 天未更换", "PBOC-102 附件3 5.6", "最近更换口令于 2026-07-01")
    first = from_check(check, quarter="2026Q3", unit="总行", owner="chen.jing", feedback="2026-10-09")
    assert (first.source, first.ref, first.clause) == ("check", "password_stale:u7", "PBOC-102 附件3 5.6")
    assert "第 8 行" in first.detail
    rerun = from_check(Finding("password_stale", "u7", 9, check.title, check.clause, "最近更换口令于 2026-07-02"),
                       quarter="2026Q3", unit="总行", owner="chen.jing", feedback="2026-10-09")
    assert rerun.id == first.id  # the same user and check: the same finding, whatever the wording
    other = from_check(Finding("password_stale", "u8", 9, check.title, check.clause, "x"), quarter="2026Q3", unit="总行",
                       owner="chen.jing", feedback="2026-10-09")
    assert other.id != first.id


def test_a_due_day_on_provisional_december_days_is_said(store: Path) -> None:
    # the feedback of 2026-12-10 as entered on that day (a later feedback day is refused: review of
    # issue 15, defect 6): + 15 working days = 2026-12-31, next year's notice not loaded
    opened = open_rectification(finding(feedback=dt.date(2026, 12, 10), today=dt.date(2026, 12, 10)))
    assert opened.rectification_due == dt.date(2026, 12, 31) and "2026-12-31" in opened.provisional_days
    assert finding_status(opened.finding_id).rectification["provisional_days"]  # recorded, so the calendar watch names it


def test_a_finding_of_a_quarter_never_run_does_not_make_its_report_owed(store: Path) -> None:
    """Review of issue 15, defect 5: a patrol finding tagged 2025Q1 (never run) created that quarter's
    report obligation, due 2025-04-22, which the watch raised as overdue."""
    from regflows.inspection import records

    old = ["--quarter", "2025Q1", "--feedback-date", "2026-11-02"]
    args = list(ADD)
    for option, value in zip(old[::2], old[1::2], strict=True):
        args[args.index(option) + 1] = value
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["report_due"]  # the finding's own rectification report is owed, from the feedback
    with db.session() as s:
        owed = list(s.execute(select(Obligation).where(Obligation.code == REPORT_CODE)).scalars())
    assert owed == []
    # once the quarter is run, its findings make its report owed
    records.save_run("R-2025Q1", "2025Q1", 1, {}, [], None, dt.datetime(2025, 4, 1, 1, tzinfo=dt.UTC))
    again = CliRunner().invoke(app, [*args[:args.index("--title") + 1], "另一项问题", *args[args.index("--title") + 2:]])
    assert again.exit_code == 0, again.output
    with db.session() as s:
        assert [r.subject for r in s.execute(select(Obligation).where(Obligation.code == REPORT_CODE)).scalars()] == [
            quarter_subject(Quarter(2025, 1))]
