"""The quarter's report signed off through the kit's approvals (regflows/inspection/signoff.py;
issue 15, items 6 and 7): submitted by one person, reviewed by the compliance role, approved by
the leadership, three different people, each through the personal link of a real notice sent
through Apprise to a local HTTP stand-in; bound to both files' SHA-256; final copies recorded;
the sign-off day dates the findings' report obligations (PBOC-102 附件4 六（二））."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from calendars.deadlines import within_working_days
from calendars.zone import SHANGHAI
from notices.acks import acknowledge, make_token
from notices.files import read_file_token, recorded_file
from regflows import ledger
from regflows.cli import app
from regflows.exit_codes import ExitCode
from regflows.inspection import pipeline, signoff
from regflows.inspection.models import Quarter
from regflows.inspection.owed import REPORT_CODE, ensure_report_in, quarter_subject, submit_report
from regflows.inspection.rectification import REPORT, finding_status, new_finding, open_rectification
from regflows.kit import approvals
from regflows.profile import Profile, load_profile
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Obligation, Report

BASE = "http://127.0.0.1:4201"
Q = Quarter.parse("2025Q3")
SUBJECT = quarter_subject(Q)
REVIEW_1 = f"{SUBJECT}:r1:review:1"


@pytest.fixture
def quarter(home: Path, http: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quarter_data: Any,
            write_profile: Any) -> tuple[Profile, Any, pipeline.Outcome]:
    """The demo profile (compliance: sun.li, he.min; leadership: zhou.qiang), everyone's messages to the
    stand-in; REGFLOWS_PROFILE names it, as the acknowledgement endpoint's follow-up loads it from there."""
    migrate()
    path = write_profile(tmp_path / "profile.yaml", http.base, None, BASE)
    monkeypatch.setenv("REGFLOWS_PROFILE", str(path))
    profile = load_profile(path)
    outcome = pipeline.run(Q, quarter_data.logs, quarter_data.users, tmp_path / "out", profile, vulns=quarter_data.vulns, seed=11)
    return profile, http, outcome


def _requests(http: Any, person: str) -> list[dict[str, Any]]:
    return [m.json() for m in http.at(f"/ok/{person}") if "自查报告待" in m.json()["title"]]


def _link(http: Any, person: str, count: int = 1) -> str:
    http.wait_for(f"/ok/{person}", count)
    message = _requests(http, person)[count - 1]["message"]
    return str(http.ack_link_in(message, BASE))


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


def _actions() -> list[str]:
    with db.session() as s:
        return [e.action for e in s.execute(select(AuditEntry).where(AuditEntry.subject == SUBJECT).order_by(AuditEntry.seq)).scalars()]


def _client():  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from notices.ack_server import create_app

    return TestClient(create_app())


def test_three_different_people_through_their_links_and_then_the_report_is_final(quarter) -> None:  # type: ignore[no-untyped-def]
    profile, http, outcome = quarter
    finding = new_finding(quarter=Q, source="check", title="口令超期未更换", clause="PBOC-102 附件3 5.6", unit="YX0001",
                          owner="chen.jing", feedback=dt.date(2025, 10, 9), ref="password_stale:U9")
    opened = open_rectification(finding)
    assert opened.report_due is None  # waits for the report's sign-off (inspection_rectification_report_from=signoff)

    view, warnings = signoff.submit(profile, outcome.run_id, "he.min")
    assert (view.stage, view.revision, view.maker.person, warnings) == ("review", 1, "he.min", [])
    assert view.requests == [REVIEW_1]
    assert view.content_sha256 == signoff.content_sha256(
        hashlib.sha256(outcome.files["report"].read_bytes()).hexdigest(), hashlib.sha256(outcome.files["findings"].read_bytes()).hexdigest())
    link = _link(http, "sun.li")
    assert not _requests(http, "he.min") and not _requests(http, "zhou.qiang")  # the maker is not asked; the approver not yet

    # the maker's own confirmation and an outsider's are refused, each recorded once, and block nothing
    acknowledge(make_token(REVIEW_1, "he.min"))
    acknowledge(make_token(REVIEW_1, "chen.jing"))
    assert signoff.advance(profile, Q).stage == "review"
    assert signoff.advance(profile, Q).stage == "review"
    with db.session() as s:
        refused = [json.loads(e.payload) for e in s.execute(select(AuditEntry).where(AuditEntry.action == "inspection.signoff_refused")).scalars()]
    assert sorted((r["person"], r["reason"]) for r in refused) == [("chen.jing", signoff.REFUSED_REASON), ("he.min", signoff.MAKER_REFUSED)]

    acknowledge(_token(link))
    view = signoff.advance(profile, Q)
    assert view.stage == "approve" and view.reviewer is not None and view.reviewer.person == "sun.li"
    approve_link = _link(http, "zhou.qiang")
    approve_message = _requests(http, "zhou.qiang")[0]
    assert approve_message["title"].startswith("【自查报告待签发】") and "经 孙丽 复核" in approve_message["message"]
    assert len(_requests(http, "sun.li")) == 1  # the reviewer is not asked to approve

    # the last step through the acknowledgement endpoint: its follow-up (the kind's after_ack) finalises at once
    answer = _client().post(approve_link.removeprefix(BASE))
    assert answer.status_code == 200 and "自查报告已签发定稿" in answer.text, answer.text
    status, _ = signoff.status_of_run(outcome.run_id)
    assert status is not None and status.stage == "final" and status.approver is not None and status.approver.person == "zhou.qiang"
    signed_on = dt.datetime.fromisoformat(status.approver.at).astimezone(SHANGHAI).date()
    assert status.signed_off_on == signed_on.isoformat()

    # the final copies: the findings workbook as approved; the report the approved draft with its
    # draft marks out and its sign-off day and rectification line filled in, recorded with their SHA-256
    assert status.final is not None
    with db.session() as s:
        recorded = {r.kind: r for r in s.execute(select(Report).where(Report.subject == outcome.run_id)).scalars()}
    for key, kind in (("report", "report-final"), ("findings", "findings-final")):
        final = Path(status.final[key]["path"])
        assert final.name.endswith(f"-final-r1{final.suffix}")
        assert status.final[key]["approved_sha256"] == hashlib.sha256(outcome.files[key].read_bytes()).hexdigest()
        if key == "findings":
            assert final.read_bytes() == outcome.files[key].read_bytes()
        assert recorded[kind].path == str(final) and recorded[kind].sha256 == hashlib.sha256(final.read_bytes()).hexdigest()
    # what a regulator receives: no draft mark anywhere, the sign-off day and the signers in, the rest the approved text
    final_doc, draft_doc = docx.Document(status.final["report"]["path"]), docx.Document(str(outcome.files["report"]))
    headers = [p.text for sec in final_doc.sections for p in (*sec.header.paragraphs, *sec.footer.paragraphs)]
    final_text = "\n".join([p.text for p in final_doc.paragraphs] + headers)
    assert "草稿" not in final_text and "待补充（签发日期）" not in final_text and final_doc.core_properties.content_status == "定稿"
    assert f"{signed_on.year}年{signed_on.month}月{signed_on.day}日" in final_text and "孙丽 复核、周强 签发" in final_text
    # a regulator's document names the attached findings list, never a command (review of issue 15, defect 7)
    assert "regflows" not in final_text and "随本报告报送的问题清单" in final_text
    approved_body = [p.text for p in draft_doc.paragraphs if not p.text.startswith("草稿") and "待补充（" not in p.text]
    assert [p for p in approved_body if p] == [p.text for p in final_doc.paragraphs
                                               if p.text and p.text in approved_body]  # nothing approved was dropped or reworded
    with db.session() as s:
        owed = s.execute(select(Obligation).where(Obligation.subject == SUBJECT, Obligation.code == REPORT_CODE)).scalar_one()
        assert owed.detail["signed_off_on"] == signed_on.isoformat()
        assert owed.detail["final"]["approver"] == "zhou.qiang" and owed.detail["final"]["report"] == status.final["report"]

    # record_signoff gave the finding's report obligation its due day: 15 working days from the sign-off
    report = finding_status(opened.finding_id).report
    assert report["due"] == within_working_days(signed_on, 15).last_day.isoformat()  # type: ignore[union-attr]
    assert "waiting" not in report
    with db.session() as s:
        row = s.execute(select(Obligation).where(Obligation.subject == opened.finding_id, Obligation.code == REPORT)).scalar_one()
        assert row.due_at is not None

    actions = [a for a in _actions() if a.startswith("inspection.")]
    assert actions.count("inspection.report_submitted") == 1 and actions.count("inspection.signoff_refused") == 2
    assert actions.index("inspection.report_reviewed") < actions.index("inspection.report_approved") < actions.index("inspection.report_final")
    assert "inspection.report_signed_off" in actions
    assert ledger.verify().ok
    assert signoff.advance(profile, Q).stage == "final"  # the watch calling again changes nothing
    assert signoff.open_quarters() == []


def test_the_quarters_report_is_filed_only_once_final_and_what_is_filed_is_the_final_files(quarter) -> None:  # type: ignore[no-untyped-def]
    """PBOC-102 三（三） 「书面报告」: the signed-off report, not a draft (review of issue 15, 5)."""
    profile, http, outcome = quarter
    runner = CliRunner()
    args = ["self-inspection", "submit", Q.label, "--evidence", "书面报送人民银行重庆营管部", "--by", "sun.li"]
    never = runner.invoke(app, args)
    assert never.exit_code == ExitCode.REFUSED and "尚未提交签发" in never.stderr and "Traceback" not in never.output
    signoff.submit(profile, outcome.run_id, "he.min")
    reviewing = runner.invoke(app, args)
    assert reviewing.exit_code == ExitCode.REFUSED and "尚未定稿" in reviewing.stderr
    acknowledge(_token(_link(http, "sun.li")))
    signoff.advance(profile, Q)
    approving = runner.invoke(app, args)
    assert approving.exit_code == ExitCode.REFUSED
    acknowledge(_token(_link(http, "zhou.qiang")))
    status = signoff.advance(profile, Q)
    assert status.stage == "final" and status.final is not None
    ok = runner.invoke(app, args)
    assert ok.exit_code == ExitCode.DONE, ok.output
    files = json.loads(ok.stdout)["files"]
    for key in ("report", "findings"):
        path = Path(status.final[key]["path"])
        assert files[key] == {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        assert str(path) in ok.stderr
    with db.session() as s:
        filed = [json.loads(e.payload) for e in s.execute(select(AuditEntry).where(AuditEntry.action == "inspection.report_filed")).scalars()]
        row = s.execute(select(Obligation).where(Obligation.subject == SUBJECT, Obligation.code == REPORT_CODE)).scalar_one()
    assert [{k: {"path": f["path"], "sha256": f["sha256"]} for k, f in p["files"].items()} for p in filed] == [files]
    assert row.fulfilled_by == "sun.li" and row.detail["filed"]["report"]["sha256"] == files["report"]["sha256"]


def test_a_final_file_changed_on_disk_is_not_filed(quarter) -> None:  # type: ignore[no-untyped-def]
    profile, http, outcome = quarter
    signoff.submit(profile, outcome.run_id, "he.min")
    acknowledge(_token(_link(http, "sun.li")))
    signoff.advance(profile, Q)
    acknowledge(_token(_link(http, "zhou.qiang")))
    status = signoff.advance(profile, Q)
    assert status.final is not None
    Path(status.final["findings"]["path"]).write_bytes(b"changed")
    result = CliRunner().invoke(app, ["self-inspection", "submit", Q.label, "--evidence", "书面报送", "--by", "sun.li"])
    assert result.exit_code == ExitCode.REFUSED and "定稿后被改动" in result.stderr


def test_the_requests_carry_working_links_to_both_files(quarter) -> None:  # type: ignore[no-untyped-def]
    profile, http, outcome = quarter
    signoff.submit(profile, outcome.run_id, "he.min")
    http.wait_for("/ok/sun.li")
    message = _requests(http, "sun.li")[0]
    assert message["title"].startswith("【自查报告待复核】2025年第三季度征信合规与信息安全自查自纠报告")
    lines = [x for x in message["message"].splitlines() if "/files/" in x]
    assert len(lines) == 2, message["message"]
    for line, key in zip(lines, ("report", "findings")):
        assert outcome.files[key].name in line and f"SHA-256 {hashlib.sha256(outcome.files[key].read_bytes()).hexdigest()}" in line
        token = line.rsplit("/files/", 1)[1].strip()
        row, data = recorded_file(read_file_token(token))
        assert data == outcome.files[key].read_bytes() and row.path == str(outcome.files[key].absolute())
        assert _client().get(f"/files/{token}").content == data  # served by the endpoint too
    assert "报送路径：" in message["message"] and "2025-10-28 24:00" in message["message"]


def test_a_changed_draft_voids_the_approvals_and_an_identical_one_keeps_them(quarter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    profile, http, outcome = quarter
    signoff.submit(profile, outcome.run_id, "he.min")
    acknowledge(_token(_link(http, "sun.li")))
    assert signoff.advance(profile, Q).stage == "approve"

    # the same content submitted again (by another person): kept, its review, revision and maker of record too
    view, warnings = signoff.submit(profile, outcome.run_id, "sun.li")
    assert (view.stage, view.revision, view.maker.person) == ("approve", 1, "he.min")
    assert view.reviewer is not None and view.reviewer.person == "sun.li"
    assert warnings and "逐字节相同" in warnings[0] and "继续有效" in warnings[0]
    assert len(_requests(http, "zhou.qiang")) == 1  # its request is still live: nothing sent again

    # a redraft with another content: a new revision, the review void, asked again from the start
    pipeline.redraft(outcome.run_id, tmp_path / "redraft.docx", now=dt.datetime(2025, 10, 20, 10, tzinfo=SHANGHAI))
    view, warnings = signoff.submit(profile, outcome.run_id, "he.min")
    assert (view.stage, view.revision, view.reviewer) == ("review", 2, None)
    assert view.files["report"]["path"] == str((tmp_path / "redraft.docx").absolute())
    assert warnings and "作废" in warnings[0]
    # zhou.qiang's link of revision 1 counts for nothing now
    acknowledge(_token(_link(http, "zhou.qiang")))
    assert signoff.advance(profile, Q).stage == "review"
    state = approvals.get(signoff.KIND, SUBJECT)
    assert state is not None and state.decisions == [] and state.revision == 2
    acknowledge(_token(_link(http, "sun.li", 2)))
    assert signoff.advance(profile, Q).stage == "approve"


def test_a_file_changed_after_it_was_recorded_or_approved_is_refused(quarter) -> None:  # type: ignore[no-untyped-def]
    profile, http, outcome = quarter
    original = outcome.files["findings"].read_bytes()
    outcome.files["findings"].write_bytes(original + b"x")
    with pytest.raises(signoff.SignoffError, match="登记后被改动"):
        signoff.submit(profile, outcome.run_id, "he.min")
    assert approvals.get(signoff.KIND, SUBJECT) is None
    outcome.files["findings"].write_bytes(original)
    signoff.submit(profile, outcome.run_id, "he.min")
    acknowledge(_token(_link(http, "sun.li")))
    signoff.advance(profile, Q)
    outcome.files["report"].write_bytes(b"changed after approval")
    acknowledge(_token(_link(http, "zhou.qiang")))
    with pytest.raises(signoff.SignoffError, match="与审批时的内容不一致"):
        signoff.advance(profile, Q)
    state = approvals.get(signoff.KIND, SUBJECT)
    assert state is not None and state.stage == approvals.APPROVED  # approved, never finalised
    assert "inspection.final_refused" in _actions()


def test_nobody_besides_the_maker_refuses_before_anything_is_recorded(quarter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    profile, http, outcome = quarter
    with pytest.raises(signoff.SignoffInputError, match="不是机构配置中的人员"):
        signoff.submit(profile, outcome.run_id, "nobody.x")
    with pytest.raises(signoff.SignoffInputError, match="未登记"):
        signoff.submit(profile, "2025Q3-nope", "he.min")
    # zhou.qiang is the leadership's only member: if he submits, nobody is left to approve
    with pytest.raises(signoff.SignoffError, match="三个不同的人员"):
        signoff.submit(profile, outcome.run_id, "zhou.qiang")
    assert approvals.get(signoff.KIND, SUBJECT) is None and not http.received


def test_the_cli_submits_and_shows_the_state(quarter) -> None:  # type: ignore[no-untyped-def]
    profile, http, outcome = quarter
    runner = CliRunner()
    before = runner.invoke(app, ["self-inspection", "signoff-status", outcome.run_id])
    assert before.exit_code == ExitCode.DONE and json.loads(before.stdout)["stage_title"] == "未提交签发"
    done = runner.invoke(app, ["self-inspection", "signoff", outcome.run_id, "--by", "he.min"])
    assert done.exit_code == ExitCode.DONE, done.output
    printed = json.loads(done.stdout)
    assert (printed["stage"], printed["submitted_by"], printed["requests"]) == ("review", "he.min", [REVIEW_1])
    shown = json.loads(runner.invoke(app, ["self-inspection", "signoff-status", outcome.run_id]).stdout)
    assert shown["stage_title"] == "待复核" and shown["files"]["report"]["sha256"] == printed["files"]["report"]["sha256"]
    unknown = runner.invoke(app, ["self-inspection", "signoff", "nope", "--by", "he.min"])
    assert unknown.exit_code == ExitCode.USAGE and "错误：自查运行 nope 未登记" in unknown.stderr
    alone = runner.invoke(app, ["self-inspection", "signoff", outcome.run_id, "--by", "zhou.qiang"])
    assert alone.exit_code == ExitCode.REFUSED and "三个不同的人员" in alone.stderr
    missing = runner.invoke(app, ["self-inspection", "signoff-status", "nope"])
    assert missing.exit_code == ExitCode.USAGE and "未登记" in missing.stderr


def test_request_ids_name_their_quarter() -> None:
    assert signoff.quarter_of_request("self-inspection:2025Q3:r2:approve:1") == Q
    for other in ("self-inspection:2025Q3-20251009T093000-abcdef:remind:2025-10-09:he.min", "credit-stats:2025-10:r1:review:1",
                  "self-inspection:2025Q9:r1:review:1", "self-inspection:2025Q3:r1:close:1"):
        assert signoff.quarter_of_request(other) is None


def test_expired_links_are_sent_again_under_a_new_id(quarter) -> None:  # type: ignore[no-untyped-def]
    profile, http, outcome = quarter
    signoff.submit(profile, outcome.run_id, "he.min")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=profile.settings.inspection_signoff_link_days + 1)
    view = signoff.advance(profile, Q, now=later)
    assert view.stage == "review" and view.requests == [REVIEW_1, f"{SUBJECT}:r1:review:2"]
    http.wait_for("/ok/sun.li", 2)
    assert len(_requests(http, "sun.li")) == 2


def test_a_report_changed_after_it_was_final_is_signed_off_again_and_the_first_day_stays(quarter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    profile, http, outcome = quarter
    signoff.submit(profile, outcome.run_id, "he.min")
    acknowledge(_token(_link(http, "sun.li")))
    signoff.advance(profile, Q)
    acknowledge(_token(_link(http, "zhou.qiang")))
    first = signoff.advance(profile, Q)
    assert first.stage == "final" and first.final is not None
    first_final = Path(first.final["report"]["path"]).read_bytes()
    same, warnings = signoff.submit(profile, outcome.run_id, "he.min")  # nothing changed: still final, nothing asked
    assert same.stage == "final" and same.revision == 1 and "逐字节相同" in warnings[0]

    submit_report(Q, evidence="书面报送人民银行重庆营管部", by="sun.li")
    pipeline.redraft(outcome.run_id, tmp_path / "corrected.docx", now=dt.datetime(2025, 10, 21, 9, tzinfo=SHANGHAI))
    view, warnings = signoff.submit(profile, outcome.run_id, "he.min")
    assert (view.stage, view.revision, view.final) == ("review", 2, None) and "作废" in warnings[-1]
    assert "登记为已报送" in warnings[0] and "重新报送" in warnings[0]  # a corrected report is filed again
    acknowledge(_token(_link(http, "sun.li", 2)))
    signoff.advance(profile, Q)
    acknowledge(_token(_link(http, "zhou.qiang", 2)))
    second = signoff.advance(profile, Q)
    assert second.stage == "final" and second.final is not None and second.signed_off_on == first.signed_off_on
    assert Path(second.final["report"]["path"]).name == "corrected-final-r2.docx"
    assert Path(first.final["report"]["path"]).read_bytes() == first_final  # revision 1's copy untouched
    assert _actions().count("inspection.report_final") == 4  # two files, twice


def test_the_status_of_another_run_of_the_quarter_says_whose_sign_off_it_is(quarter, tmp_path: Path, quarter_data: Any) -> None:  # type: ignore[no-untyped-def]
    profile, http, outcome = quarter
    signoff.submit(profile, outcome.run_id, "he.min")  # before the re-run: a superseded run is not submitted (defect 1)
    other = pipeline.run(Q, quarter_data.logs, quarter_data.users, tmp_path / "other", profile, seed=12)
    shown = CliRunner().invoke(app, ["self-inspection", "signoff-status", other.run_id])
    assert shown.exit_code == ExitCode.DONE, shown.output
    printed = json.loads(shown.stdout)
    assert printed["run_id"] == outcome.run_id and printed["note"] == f"该季度提交签发的是运行 {outcome.run_id}，不是 {other.run_id}"
    # the other run submitted now: its files differ, so the quarter's approval moves to it as a new revision
    view, warnings = signoff.submit(profile, other.run_id, "he.min")
    assert (view.run_id, view.revision) == (other.run_id, 2) and "作废" in warnings[-1]



def test_a_superseded_run_is_not_signed_off_and_a_rerun_of_a_filed_quarter_is_warned(quarter, quarter_data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Review of issue 15, defect 1: sign-off of a superseded run was accepted, and a run after the
    quarter was filed said nothing."""
    profile, http, outcome = quarter
    with db.session() as s:  # the quarter filed (as `submit` records it), without the sign-off's round trip
        row, _ = ensure_report_in(s, Q, profile.settings)
        row.fulfilled_at = dt.datetime(2025, 10, 20, 2, tzinfo=dt.UTC)
    again = pipeline.run(Q, quarter_data.logs, quarter_data.users, tmp_path / "again", profile, vulns=quarter_data.vulns, seed=11)
    assert any("已报送" in w and SUBJECT in w and "2025-10-20 10:00" in w for w in again.warnings), again.warnings
    with db.session() as s:
        noted = [json.loads(e.payload) for e in s.execute(select(AuditEntry).where(
            AuditEntry.action == "inspection.filed_quarter_rerun", AuditEntry.subject == again.run_id)).scalars()]
    assert [n["previous"] for n in noted] == [outcome.run_id] and SUBJECT in noted[0]["filed"]
    refused = CliRunner().invoke(app, ["self-inspection", "signoff", outcome.run_id, "--by", "he.min"])
    assert refused.exit_code == ExitCode.USAGE and again.run_id in refused.stderr and "Traceback" not in refused.output
    with pytest.raises(signoff.SignoffInputError, match=again.run_id):
        signoff.submit(profile, outcome.run_id, "he.min")
    assert _requests(http, "sun.li") == []
    status, _ = signoff.submit(profile, again.run_id, "he.min")
    assert status.run_id == again.run_id
