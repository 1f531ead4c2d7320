"""The self-inspection flow against a real Prefect server: a quarter end to end, its summary
artifact, its records; the worklist it wrote filled in and imported back."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest


@pytest.mark.prefect
def test_a_quarter_runs_on_the_server_and_its_filled_worklist_imports_back(prefect_api: str, home: Path, tmp_path: Path,
                                                                          quarter_data: Any, artifact_texts: Any) -> None:
    from flows.inspection import self_inspection
    from regflows.inspection import records
    from regflows.inspection.worklist import COL_BY, COL_EVIDENCE, COL_LEAD, COL_OUTCOME, SHEET, import_worklist

    result = self_inspection(quarter="2025Q3", logs="\n".join(str(p) for p in quarter_data.logs),
                             users=str(quarter_data.users), vulns=str(quarter_data.vulns), seed="21")
    out = home / "reports" / "self-inspection" / "2025Q3"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {k: result[k] for k in summary} == summary and summary["seed"] == 21 and summary["report_due"] == "2025-10-28"
    texts = artifact_texts(prefect_api, "self-inspection-summary")
    assert texts and any(summary["population_sha256"] in t and "漏洞处置情况" in t for t in texts)
    text = next(t for t in texts if summary["population_sha256"] in t)
    # a signed download link per file: the run's three, and a report and findings for the head office and
    # each branch reporting to its local PBoC branch (PBOC-102 三（三） after 三（二）'s route)
    assert text.count("/files/") == 9 and "自查自纠报告（草稿）（YX0101）" in text
    assert [(r["unit"], r["addressee"]) for r in summary["reports"]] == [
        ("YX0001", "所在地人民银行分支机构（重庆市）"), ("YX0101", "所在地人民银行分支机构（四川省）"),
        ("YX0201", "所在地人民银行分支机构（贵州省）")]
    assert sum(r["leads"] for r in summary["reports"]) == summary["leads"]
    assert "各报送单位的自查报告" in text and "所在地人民银行分支机构（贵州省）" in text
    for r in summary["reports"]:
        assert all((out / name).is_file() for name in r["files"].values())

    # the owner fills in the first lead's five links and imports the workbook
    path = Path(result["files"]["worklist"])
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET]
    first = sheet.cell(row=2, column=COL_LEAD).value
    owner = next(lead.owner for lead in records.leads_of(result["run_id"]) if lead.lead_id == first)
    assert owner  # only the lead's owner answers for it (as on the page)
    for row in range(2, 7):
        assert sheet.cell(row=row, column=COL_LEAD).value == first
        sheet.cell(row=row, column=COL_OUTCOME).value = "合规" if row < 6 else "需整改"
        sheet.cell(row=row, column=COL_EVIDENCE).value = "已核对授权书与贷款申请" if row < 6 else "存储期限超出制度规定"
        sheet.cell(row=row, column=COL_BY).value = owner
    filled = tmp_path / "filled.xlsx"
    book.save(filled)
    imported = import_worklist(filled)
    assert len(imported.recorded) == 5 and not imported.refused
    latest = records.latest_answers(result["run_id"])
    assert {(lead, link): a.outcome for (lead, link), a in latest.items()} == {
        (first, "authorisation"): "compliant", (first, "review"): "compliant", (first, "query"): "compliant",
        (first, "use"): "compliant", (first, "storage"): "rectify"}
    again = import_worklist(filled)  # the same file again changes nothing
    assert not again.recorded and len(again.unchanged) == 5

    # the working-day watch: progress per owner in the UI, a reminder to each owner with open leads
    from flows.inspection import self_inspection_watch
    from regflows.store.db import session
    from regflows.store.models import OutboxMessage

    from regflows.inspection.rectification import new_finding, open_rectification

    # a patrol's finding fed back on 2025-09-01: its rectification and its report due 15 working days later (09-22)
    finding = open_rectification(new_finding(quarter="2025Q3", source="patrol", title="查询授权书留存不全", clause="PBOC-102 三（三）",
                                             unit="YX0001", owner="chen.jing", feedback="2025-09-01"))
    assert finding.rectification_due.isoformat() == "2025-09-22"
    holiday = self_inspection_watch(day="2025-10-04")
    assert holiday["worklists"] == {result["run_id"]: []}  # National Day: progress only
    assert [k for k in holiday["rectification"] if k.startswith(finding.finding_id)]  # overdue: raised at once, even on a holiday
    watched = self_inspection_watch(day="2025-10-09")
    sent = watched["worklists"]
    assert not [k for k in watched["rectification"] if k.startswith(finding.finding_id)]  # raised once, not every day
    assert sorted(n.rsplit(":", 1)[1] for n in sent[result["run_id"]]) == ["chen.jing", "he.min"]
    table = artifact_texts(prefect_api, "self-inspection-progress-2025q3")
    assert table and any("chen.jing" in t and "合计" in t for t in table)
    with session() as s:
        to = {m.target.removeprefix("outbox://").split("/")[0] for m in s.query(OutboxMessage).all()}
    assert {"chen.jing", "he.min"} <= to
    assert self_inspection_watch(day="2025-10-09")["worklists"] == {result["run_id"]: list(sent[result["run_id"]])}  # same ids: sent once

    # one owner answers on the page their reminder links to; the next watch puts the 违规 on the register
    import re

    from starlette.testclient import TestClient

    from notices.ack_server import create_app
    from regflows.inspection.pages import ROUTES
    from regflows.inspection.rectification import list_findings
    from regflows.inspection.models import Quarter

    with session() as s:
        body = next(m.body for m in s.query(OutboxMessage).all()
                    if m.target.startswith("outbox://he.min/") and "/inspection/" in m.body)
    page = re.search(r"https?://[^/\s]+(/inspection/[A-Za-z0-9_.\-]+)", body)
    assert page, body
    answered = TestClient(create_app(ROUTES)).post(page.group(1), data={"link": "use", "outcome": "violation",
                                                                         "evidence": "查询结果用于营销，超出授权用途"})
    assert answered.status_code == 200, answered.text
    before = {f.id for f in list_findings(Quarter.parse("2025Q3"))}
    self_inspection_watch(day="2025-10-10")
    new = [f for f in list_findings(Quarter.parse("2025Q3")) if f.id not in before]
    assert [(f.finding.source, f.finding.owner) for f in new] == [("worklist", "he.min")]
    assert new[0].finding.title.startswith("使用环节违规：")

@pytest.mark.prefect
def test_the_watch_moves_the_report_s_sign_off_on_and_makes_it_final(prefect_api: str, home: Path, tmp_path: Path,
                                                                     quarter_data: Any) -> None:
    """The acknowledgement page's fallback: confirmations recorded while nobody advanced are taken
    by self-inspection-watch, which asks the next step and, after the approval, makes the report final;
    the head office's and a branch's report each on its own (PBOC-102 三（三）'s route)."""
    from flows.inspection import self_inspection_watch
    from notices.acks import acknowledge, make_token
    from regflows.inspection import pipeline, signoff
    from regflows.inspection.models import Quarter
    from regflows.profile import load_profile, profile_path
    from regflows.store import migrate

    migrate()
    quarter = Quarter.parse("2025Q3")
    profile = load_profile(profile_path())
    outcome = pipeline.run(quarter, quarter_data.logs, quarter_data.users, tmp_path / "out", profile, seed=3)
    view, _ = signoff.submit(profile, outcome.run_id, "he.min")
    assert view.stage == "review" and signoff.open_quarters() == [quarter]
    branch, _ = signoff.submit(profile, outcome.run_id, "he.min", unit="YX0101")
    assert branch.stage == "review" and signoff.open_reports() == [(quarter, None), (quarter, "YX0101")]
    acknowledge(make_token("self-inspection:2025Q3:r1:review:1", "sun.li"))
    assert self_inspection_watch(day="2025-10-09")["signoff"] == []
    status, _ = signoff.status_of_run(outcome.run_id)
    assert status is not None and status.stage == "approve" and status.requests[-1] == "self-inspection:2025Q3:r1:approve:1"
    acknowledge(make_token("self-inspection:2025Q3:r1:approve:1", "zhou.qiang"))
    assert self_inspection_watch(day="2025-10-09")["signoff"] == []
    status, _ = signoff.status_of_run(outcome.run_id)
    assert status is not None and status.stage == "final" and status.final is not None
    assert status.final["report"]["approved_sha256"] == hashlib.sha256(outcome.files["report"].read_bytes()).hexdigest()
    assert "草稿" not in "".join(p.text for p in docx.Document(status.final["report"]["path"]).paragraphs)
    # the branch's report is still at review: the head office's final report does not carry it
    assert signoff.open_reports() == [(quarter, "YX0101")]
    acknowledge(make_token("self-inspection:2025Q3-YX0101:r1:review:1", "sun.li"))
    self_inspection_watch(day="2025-10-09")
    mine, _ = signoff.status_of_run(outcome.run_id, unit="YX0101")
    assert mine is not None and mine.stage == "approve" and mine.requests[-1] == "self-inspection:2025Q3-YX0101:r1:approve:1"
    acknowledge(make_token("self-inspection:2025Q3-YX0101:r1:approve:1", "zhou.qiang"))
    self_inspection_watch(day="2025-10-09")
    mine, _ = signoff.status_of_run(outcome.run_id, unit="YX0101")
    assert mine is not None and mine.stage == "final" and mine.final is not None
    assert Path(mine.final["report"]["path"]).name == "self-inspection-report-2025Q3-YX0101-final-r1.docx"
    assert signoff.open_quarters() == []


@pytest.mark.prefect
def test_bad_input_fails_the_deployed_run_in_chinese_with_no_traceback_and_writes_nothing(
        prefect_api: str, home: Path, tmp_path: Path, quarter_data: Any, run_as_deployed: Any) -> None:
    """Review of issue 14, 7, for this procedure too: a bad users file, a bad seed and a bad quarter end
    the run Failed with the Chinese reason; the run's logs hold no traceback; nothing is published."""
    from flows.inspection import self_inspection
    from regflows.store import migrate

    migrate()
    users = tmp_path / "users.csv"
    users.write_text(quarter_data.users.read_text(encoding="utf-8").replace(",distributed,", ",everywhere,", 1), encoding="utf-8")
    out = tmp_path / "out"
    logs = "\n".join(str(p) for p in quarter_data.logs)
    cases = {
        "users": ({"quarter": "2025Q3", "logs": logs, "users": str(users), "seed": "5", "out_dir": str(out)}, "query_mode"),
        "seed": ({"quarter": "2025Q3", "seed": "七"}, "「抽样随机种子」须为非负整数"),
        "quarter": ({"quarter": "2025Q5"}, "「自查季度」"),
    }
    for name, (parameters, said) in cases.items():
        ran = run_as_deployed(self_inspection, parameters)
        state, messages = ran["run"]["state"], ran["logs"]
        assert state["type"] == "FAILED" and said in state["message"], (name, state)
        assert not [m for m in messages if "Traceback" in m or "unexpected exception" in m], (name, messages)
    assert not out.exists()  # all or nothing: the refused run published no file
