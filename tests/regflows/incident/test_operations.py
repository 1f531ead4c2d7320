"""Operator actions on a recorded incident: re-grade (overdue raised at once), fulfil, later drafts."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regflows.cli import app
from regflows.incident import store
from regflows.incident.clock import obligations as compute_obligations
from regflows.incident.grading import grade
from regflows.incident.record import IncidentRecord
from regflows.profile import load_profile
from regflows.store import migrate
from regflows.store.models import utcnow

BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def recorded(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http, write_profile):  # type: ignore[no-untyped-def]
    migrate()
    profile_file = write_profile(tmp_path / "profile.yaml", http.base, 9, "http://127.0.0.1:4201")
    monkeypatch.setenv("REGFLOWS_PROFILE", str(profile_file))
    discovered = utcnow().astimezone(BEIJING).replace(microsecond=0) - dt.timedelta(hours=3)
    record = IncidentRecord.model_validate({
        "title": "内部办公系统异常", "occurred_at": (discovered - dt.timedelta(minutes=10)).isoformat(),
        "discovered_at": discovered.isoformat(), "discovered_by": "值班工程师", "system_name": "办公系统", "category": "other",
    })
    grading = grade(record)
    data = record.model_dump(mode="json")
    incident_id = store.incident_id_for(data, "YX0001")
    store.save_incident(incident_id, data, "YX0001", grading.model_dump(mode="json"), grading.rules_version, "test")
    _set_created(incident_id, utcnow() - dt.timedelta(hours=1))  # its declaration's run is long over
    return {"id": incident_id, "http": http, "profile": load_profile(profile_file)}


def _set_created(incident_id: str, at: dt.datetime) -> None:
    from regflows.store import db
    from regflows.store.models import Incident

    with db.session() as s:
        s.get_one(Incident, incident_id).created_at = at
        s.commit()


def test_regrade_upwards_raises_an_already_overdue_obligation_at_once(recorded) -> None:  # type: ignore[no-untyped-def]
    assert store.load_incident(recorded["id"]).grade == "IV"
    result = CliRunner().invoke(app, ["incident", "regrade", recorded["id"], "--assessed-grade", "II",
                                      "--reason", "影响面经研判扩大", "--by", "zhao.lei"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["grade"] == "II"
    assert any(r.startswith("regulator_initial_report:overdue@") for r in out["raised"])  # discovered 3 h ago, due at 2 h
    messages = [r.json() for r in recorded["http"].received]
    assert any("已逾期" in m["title"] and "向国家金融监督管理总局" in m["message"] for m in messages)
    events = [e.kind for e in store.timeline(recorded["id"])]
    assert "regraded" in events and "overdue" in events


def test_regrade_needs_a_reason_and_cannot_lower_by_assessment(recorded) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    bad = runner.invoke(app, ["incident", "regrade", recorded["id"], "--assessed-grade", "V", "--reason", "x", "--by", "zhao.lei"])
    assert bad.exit_code == 2 and "assessed_grade" in bad.stderr
    blank = runner.invoke(app, ["incident", "regrade", recorded["id"], "--reason", " ", "--by", "zhao.lei"])
    assert blank.exit_code == 2 and "理由" in blank.stderr
    # Whoever changes the record answers for it: a name not in the profile is refused, nothing recorded.
    for command in (["regrade", recorded["id"], "--assessed-grade", "III", "--reason", "x"],
                    ["update", recorded["id"], "--handling-ended-at", "2025-10-01T10:00:00+08:00"]):
        stranger = runner.invoke(app, ["incident", *command, "--by", "mallory"])
        assert stranger.exit_code == 2 and "mallory 不在机构配置的人员" in stranger.stderr
    assert all(e.actor != "mallory" for e in store.timeline(recorded["id"]))


def test_fulfil_requires_evidence_and_is_on_record(recorded) -> None:  # type: ignore[no-untyped-def]
    from regflows.incident.clock import obligations as compute

    incident = store.load_incident(recorded["id"])
    rows = compute(IncidentRecord.model_validate(incident.record), grade(IncidentRecord.model_validate(incident.record)), recorded["profile"], utcnow())
    store.sync_obligations(recorded["id"], [o.model_dump(mode="json") for o in rows], "v")
    runner = CliRunner()
    code = rows[0].id
    missing = runner.invoke(app, ["incident", "fulfil", recorded["id"], code, "--evidence", " ", "--by", "li.ming"])
    assert missing.exit_code == 2 and "证据" in missing.stderr
    unknown = runner.invoke(app, ["incident", "fulfil", recorded["id"], "no_such", "--evidence", "x", "--by", "li.ming"])
    assert unknown.exit_code == 2 and "no_such" in unknown.stderr
    ok = runner.invoke(app, ["incident", "fulfil", recorded["id"], code, "--evidence", "已提交书面报告", "--reference", "REF-1", "--by", "li.ming"])
    assert ok.exit_code == 0, ok.output
    status = json.loads(runner.invoke(app, ["incident", "status", recorded["id"]]).stdout)
    assert {o["id"]: o["state"] for o in status["obligations"]}[code] == "fulfilled"
    assert any(e["kind"] == "fulfilled" for e in status["timeline"])
    # Beijing time as clock prints it (the outside review found UTC here)
    assert all(o["due"] is None or o["due"].endswith("+08:00") for o in status["obligations"])
    assert all(e["at"].endswith("+08:00") for e in status["timeline"])
    # Once is once: a second fulfilment would move the recorded time (a report on time looking late).
    again = runner.invoke(app, ["incident", "fulfil", recorded["id"], code, "--evidence", "补充", "--by", "li.ming"])
    assert again.exit_code == 5 and "不能重复登记" in again.stderr
    stranger = runner.invoke(app, ["incident", "fulfil", recorded["id"], code, "--evidence", "x", "--by", "nobody.x"])
    assert stranger.exit_code == 2 and "nobody.x 不在机构配置的人员" in stranger.stderr


def _handling_ended(recorded) -> tuple:  # type: ignore[no-untyped-def]
    """Graded III by assessment and handling ended now, through the CLI: the summary report is due."""
    runner = CliRunner()
    runner.invoke(app, ["incident", "regrade", recorded["id"], "--assessed-grade", "III", "--reason", "研判", "--by", "zhao.lei"])
    ended = utcnow().astimezone(BEIJING).replace(microsecond=0).isoformat()
    assert runner.invoke(app, ["incident", "update", recorded["id"], "--handling-ended-at", ended, "--by", "zhao.lei"]).exit_code == 0
    incident = store.load_incident(recorded["id"])
    return incident, IncidentRecord.model_validate(incident.record)


def test_summary_report_is_drafted_once_handling_ended(recorded) -> None:  # type: ignore[no-untyped-def]
    from tasks.incident import draft_new_reports

    runner = CliRunner()
    incident, record = _handling_ended(recorded)
    obligations = compute_obligations(record, grade(record), recorded["profile"], utcnow())
    rows = store.sync_obligations(recorded["id"], [o.model_dump(mode="json") for o in obligations], "v")
    assert "summary_report" in draft_new_reports(recorded["profile"], incident, rows)
    assert "summary_report" not in draft_new_reports(recorded["profile"], incident, rows)  # once
    naive = runner.invoke(app, ["incident", "update", recorded["id"], "--handling-ended-at", "2025-10-01T10:00", "--by", "zhao.lei"])
    assert naive.exit_code == 2 and "偏移" in naive.stderr


def test_the_watch_leaves_an_incidents_first_drafts_to_its_declaration_run_for_a_while(recorded,  # type: ignore[no-untyped-def]
                                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.incident
    from tasks.incident import draft_new_reports

    profile = recorded["profile"]
    _set_created(recorded["id"], utcnow())  # just recorded, its run not yet started
    incident, record = _handling_ended(recorded)  # a summary report is owed
    obligations = compute_obligations(record, grade(record), profile, utcnow())
    rows = store.sync_obligations(recorded["id"], [o.model_dump(mode="json") for o in obligations], "v")
    assert draft_new_reports(profile, incident, rows) == []
    # The run never drafted them (it failed, or never started): the watch writes them after the wait.
    later = incident.created_at + dt.timedelta(minutes=profile.settings.first_drafts_wait_minutes)
    monkeypatch.setattr(tasks.incident, "utcnow", lambda: later)
    assert "summary_report" in draft_new_reports(profile, incident, rows)


def _synced(recorded) -> list:  # type: ignore[no-untyped-def]
    record = IncidentRecord.model_validate(store.load_incident(recorded["id"]).record)
    rows = compute_obligations(record, grade(record), recorded["profile"], utcnow())
    store.sync_obligations(recorded["id"], [o.model_dump(mode="json") for o in rows], "v")
    return rows


def _recorded_evidence(incident_id: str, code: str) -> dict:
    return next(o for o in store.obligations_of(incident_id) if o.code == code).evidence["history"][-1]


def test_fulfil_from_the_cli_records_the_file_sha256_and_refuses_a_missing_file(recorded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    code = _synced(recorded)[0].id
    runner = CliRunner()
    absent = tmp_path / "不存在的回执.pdf"
    missing = runner.invoke(app, ["incident", "fulfil", recorded["id"], code, "--evidence", "已报告", "--by", "li.ming",
                                  "--file", str(absent)])
    assert missing.exit_code == 2 and "证据文件（--file）不存在" in missing.stderr and "不存在的回执.pdf" in missing.stderr
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(b"%PDF receipt of the written report")
    ok = runner.invoke(app, ["incident", "fulfil", recorded["id"], code, "--evidence", "已提交书面报告", "--by", "li.ming",
                             "--file", str(receipt)])
    assert ok.exit_code == 0, ok.output
    digest = hashlib.sha256(receipt.read_bytes()).hexdigest()
    assert json.loads(ok.stdout)["file_sha256"] == digest
    assert _recorded_evidence(recorded["id"], code)["file"]["sha256"] == digest
    event = next(e for e in store.timeline(recorded["id"]) if e.kind == "fulfilled")
    assert event.detail["file"]["sha256"] == digest and event.detail["obligation"] == code


@pytest.mark.prefect  # the flow runs (its one step is a task) against the session server
def test_fulfil_from_the_ui_form_records_the_file_sha256_and_refuses_a_missing_file(recorded, tmp_path: Path, prefect_api: str) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    from flows.incident_fulfil import incident_fulfil
    from prefect.exceptions import FailedRun

    from regflows.kit.uploads import store_upload

    from prefect.utilities.callables import parameter_schema

    help_text = parameter_schema(incident_fulfil.fn).properties["file"]["description"]
    assert "证据目录" in help_text and "POST /uploads" in help_text  # the form says what to paste
    code = _synced(recorded)[0].id
    # The form runs on the server: any path outside the evidence areas is refused, in the same
    # words whether it exists (the link-signing key, a file of the server) or not (issue 14, 14).
    from regflows import config

    key = config.home() / "ack.key"
    key.write_bytes(b"the link-signing key")
    elsewhere = tmp_path / "server-file.pdf"
    elsewhere.write_bytes(b"%PDF any file the server reads")
    refusals = set()
    for path in (tmp_path / "nowhere.pdf", key, elsewhere):
        with pytest.raises(FailedRun, match=r"证据文件（file）不在允许的证据区") as caught:  # refused: the run fails in Chinese
            incident_fulfil(recorded["id"], code, "已报告", "li.ming", file=str(path))
        refusals.add(str(caught.value))
    assert len(refusals) == 1
    assert not next(o for o in store.obligations_of(recorded["id"]) if o.code == code).evidence  # nothing recorded
    uploaded = store_upload(b"scanned written report", "书面报告.pdf")  # as POST /uploads stores it
    out = incident_fulfil(recorded["id"], code, "已提交书面报告", "li.ming", reference="REF-2", file=str(uploaded.path))
    digest = hashlib.sha256(b"scanned written report").hexdigest()
    assert out["file_sha256"] == digest
    evidence = _recorded_evidence(recorded["id"], code)
    assert evidence["file"]["sha256"] == digest and evidence["file"]["size"] == 22 and evidence["reference"] == "REF-2"


def test_fulfil_masks_numbers_in_the_obligation_the_timeline_the_ledger_and_the_status(recorded) -> None:  # type: ignore[no-untyped-def]
    """Issue 14, 3: text typed as evidence is masked before anything keeps or prints it."""
    from sqlalchemy import select

    from regflows.store import db
    from regflows.store.models import AuditEntry

    code = _synced(recorded)[0].id
    ok = CliRunner().invoke(app, ["incident", "fulfil", recorded["id"], code, "--evidence",
                                  "已电话 13812345678 告知 身份证 110101199003074514", "--by", "li.ming"])
    assert ok.exit_code == 0, ok.output
    status = CliRunner().invoke(app, ["incident", "status", recorded["id"]])
    with db.session() as s:
        ledgered = "\n".join(e.payload for e in s.execute(select(AuditEntry)).scalars())
    kept = {
        "obligation": json.dumps(_recorded_evidence(recorded["id"], code), ensure_ascii=False),
        "timeline": json.dumps([e.detail for e in store.timeline(recorded["id"])], ensure_ascii=False),
        "ledger": ledgered, "status": status.stdout,
    }
    assert "138****5678" in kept["obligation"] and "138****5678" in kept["timeline"]
    for where, text in kept.items():
        assert "13812345678" not in text and "110101199003074514" not in text, where


def test_status_shows_who_acknowledged_the_incidents_notices_now(recorded) -> None:  # type: ignore[no-untyped-def]
    """Issue 14, 13: a run's notices artifact is a snapshot at send time; the status is now."""
    from regflows.store import db
    from regflows.store.models import Acknowledgement, Notice

    incident_id = recorded["id"]
    with db.session() as s:
        s.add_all([Notice(id=f"incident:{incident_id}:alert", kind="incident_alert", subject="【事件告警】", requires_ack=True,
                          related=incident_id),
                   Notice(id=f"incident:{incident_id}:alert:u1", kind="incident_alert", subject="【更正】", requires_ack=True,
                          related=incident_id),
                   Notice(id="incident:INC-OTHER:alert", kind="incident_alert", subject="另一事件", requires_ack=True),
                   Notice(id=f"incident:{incident_id}:info", kind="test", subject="无需确认", related=incident_id)])
        s.flush()
        s.add(Acknowledgement(notice_id=f"incident:{incident_id}:alert", person_id="zhao.lei",
                              at=dt.datetime(2025, 10, 1, 2, 5, tzinfo=dt.timezone.utc), via="link", token_id="tok-1"))
    shown = json.loads(CliRunner().invoke(app, ["incident", "status", incident_id]).stdout)["acknowledgements"]
    assert [(a["notice"], a["acknowledged"]) for a in shown] == [
        (f"incident:{incident_id}:alert", {"zhao.lei": "2025-10-01T10:05:00+08:00"}), (f"incident:{incident_id}:alert:u1", "未确认")]


def test_a_waived_obligation_stays_waived_across_clock_syncs_and_is_not_reminded(recorded) -> None:  # type: ignore[no-untyped-def]
    from regflows.incident import alerts
    from regflows.kit.obligations import waive

    record = IncidentRecord.model_validate({**store.load_incident(recorded["id"]).record, "assessed_grade": "II",
                                            "assessed_reason": "研判"})
    rows = compute_obligations(record, grade(record), recorded["profile"], utcnow())
    waivable = "TEST：本条规则允许豁免（仅测试用）"
    items = [{**o.model_dump(mode="json"), **({"waivable": waivable} if o.id == "regulator_initial_report" else {})} for o in rows]
    store.sync_obligations(recorded["id"], items, "v")
    with pytest.raises(ValueError, match="没有规则允许豁免"):
        waive(recorded["id"], "regulator_written_report", "不需要", "zhao.lei")
    waive(recorded["id"], "regulator_initial_report", "已在书面报告中一并报告", "zhao.lei")
    synced = {r.code: r for r in store.sync_obligations(recorded["id"], items, "v")}
    assert synced["regulator_initial_report"].state == "waived" and synced["regulator_initial_report"].detail["waivable"] == waivable
    incident = store.load_incident(recorded["id"])
    raised = alerts.remind(recorded["profile"], incident, list(synced.values()), now=utcnow() + dt.timedelta(days=2))
    assert any(r.startswith("regulator_written_report:overdue@") for r in raised)  # the one not waived is raised
    assert not any(r.startswith("regulator_initial_report:") for r in raised)


# -- waivers -------------------------------------------------------------------------------------

ALLOWED = {"clause": "TEST 第五条（仅测试用）", "when": "经评估不需要报告的情形"}


@pytest.fixture
def waivable(recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The recorded incident at grade II, counted by a copy of the rules in which the written report
    (due 24 h after occurrence) is waivable and the initial report (overdue) is not."""
    import shutil

    import yaml

    from regflows.incident import clock
    from regflows.incident.recompute import clock_rows

    folder = tmp_path / "rules"
    shutil.copytree(clock.RULES_DIR, folder)
    (path,) = folder.glob("obligations-*.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(r for r in data["obligations"] if r["id"] == "regulator_written_report")["waivable"] = ALLOWED
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(clock, "shipped_rule_sets", lambda: tuple(clock.load_rule_sets(folder)))
    incident_id = recorded["id"]
    record = store.update_record(incident_id, {"assessed_grade": "II", "assessed_reason": "研判"}, "test")
    store.set_grading(incident_id, grade(IncidentRecord.model_validate(record)).model_dump(mode="json"), "研判", "test")
    incident = store.load_incident(incident_id)
    rows = {r.code: r for r in clock_rows(incident_id, incident.record, incident.grading, recorded["profile"], utcnow())}
    return {**recorded, "rows": rows}


def test_the_rule_files_waivable_reaches_the_obligation_row(waivable) -> None:  # type: ignore[no-untyped-def]
    rows = waivable["rows"]
    assert rows["regulator_written_report"].detail["waivable"] == ALLOWED
    assert "waivable" not in rows["regulator_initial_report"].detail and rows["regulator_initial_report"].state == "overdue"


def test_waive_from_the_cli_refuses_in_chinese_then_records_the_waiver(waivable) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from regflows.store import db
    from regflows.store.models import AuditEntry

    incident_id, runner = waivable["id"], CliRunner()

    def waive(code: str, reason: str, by: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["incident", "waive", incident_id, code, "--reason", reason, "--by", by])

    refused = waive("regulator_initial_report", "已在书面报告中一并报告", "zhao.lei")
    assert refused.exit_code == 5  # refused by a rule (exit codes, issue 13)
    assert "没有规则允许豁免" in refused.stderr and "regulator_initial_report" in refused.stderr and "nfra-draft-2024" in refused.stderr
    blank = waive("regulator_written_report", " ", "zhao.lei")
    assert blank.exit_code == 2 and "豁免义务必须写明理由（--reason）" in blank.stderr
    stranger = waive("regulator_written_report", "经评估不需要", "nobody")
    assert stranger.exit_code == 2 and "决定人（--by）nobody 不在机构配置的人员" in stranger.stderr
    unknown = waive("no_such", "经评估不需要", "zhao.lei")
    assert unknown.exit_code == 2 and "没有义务 no_such" in unknown.stderr
    assert all(o.state != "waived" for o in store.obligations_of(incident_id))  # nothing recorded by a refusal

    ok = waive("regulator_written_report", "经评估不需要单独书面报告", "zhao.lei")
    assert ok.exit_code == 0, ok.output
    out = json.loads(ok.stdout)
    assert (out["state"], out["reason"], out["by"], out["clause"], out["when"]) == (
        "waived", "经评估不需要单独书面报告", "zhao.lei", ALLOWED["clause"], ALLOWED["when"])
    again = waive("regulator_written_report", "再次", "zhao.lei")
    assert again.exit_code == 5 and "已豁免" in again.stderr

    status = json.loads(runner.invoke(app, ["incident", "status", incident_id]).stdout)
    shown = {o["id"]: o for o in status["obligations"]}
    assert shown["regulator_written_report"]["state"] == "waived"
    assert shown["regulator_written_report"]["waiver"]["reason"] == "经评估不需要单独书面报告"
    assert shown["regulator_written_report"]["waivable"] == ALLOWED and "waivable" not in shown["regulator_initial_report"]
    [event] = [e for e in status["timeline"] if e["kind"] == "waived"]
    assert event["actor"] == "zhao.lei" and event["detail"]["obligation"] == "regulator_written_report"
    with db.session() as s:
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.action == "obligation.waived")).scalars()
        assert (entry.subject, entry.actor, json.loads(entry.payload)["reason"]) == (incident_id, "zhao.lei", "经评估不需要单独书面报告")


def test_a_waived_obligation_is_not_reminded_not_in_the_alert_and_labelled_in_the_clock_table(  # type: ignore[no-untyped-def]
        waivable, monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.incident
    from regflows.incident import alerts
    from regflows.incident.recompute import clock_rows

    incident_id, profile = waivable["id"], waivable["profile"]
    store.waive(incident_id, "regulator_written_report", reason="经评估不需要单独书面报告", by="zhao.lei",
                people=profile.person_ids)
    incident = store.load_incident(incident_id)
    rows = clock_rows(incident_id, incident.record, incident.grading, profile, utcnow())  # the watch's recomputation
    assert {r.code: r.state for r in rows}["regulator_written_report"] == "waived"
    raised = alerts.remind(profile, incident, rows, now=utcnow() + dt.timedelta(days=2))  # both past due by then
    assert any(r.startswith("regulator_initial_report:overdue@") for r in raised)
    assert not any(r.startswith("regulator_written_report:") for r in raised)

    tables: list[list[dict]] = []
    monkeypatch.setattr(tasks.incident, "create_table_artifact", lambda table, **kw: tables.append(table))
    monkeypatch.setattr(tasks.incident, "create_markdown_artifact", lambda *a, **kw: None)
    tasks.incident.publish_clock(incident_id, incident.record, store.obligations_of(incident_id), profile)
    line = next(r for r in tables[0] if r["编号"] == "regulator_written_report")
    assert (line["状态"], line["剩余"]) == ("已豁免", "")
    owners = {r["责任部门"] for r in tables[0]}  # the profile's role names, never a code such as division (issue 14, 7)
    assert owners and not any(re.search(r"[A-Za-z_]", o) for o in owners), owners

    contexts: list[dict] = []
    monkeypatch.setattr(alerts, "send_notice", lambda profile, kind, context, roles, **kw: contexts.append(context))
    alerts.send_alert(profile, incident_id, incident.record, incident.grading, store.obligations_of(incident_id), [], None)
    titles = [item["title"] for item in contexts[0]["next_due"]]
    assert "向国家金融监督管理总局或其派出机构报告事件" in titles and "向监管提交正式书面报告" not in titles


@pytest.mark.prefect  # the flow runs (its one step is a task) against the session server
def test_waive_from_the_ui_form(waivable, prefect_api: str) -> None:  # type: ignore[no-untyped-def]
    from prefect.utilities.callables import parameter_schema

    from prefect.exceptions import FailedRun

    from flows.incident_waive import incident_waive

    assert "理由" in parameter_schema(incident_waive.fn).properties["reason"]["description"]
    with pytest.raises(FailedRun, match="义务未豁免：.*没有规则允许豁免"):  # refused: the run fails in Chinese
        incident_waive(waivable["id"], "regulator_initial_report", "不需要", "zhao.lei")
    with pytest.raises(FailedRun, match="不在机构配置的人员"):
        incident_waive(waivable["id"], "regulator_written_report", "不需要", "nobody")
    out = incident_waive(waivable["id"], "regulator_written_report", "经评估不需要单独书面报告", "zhao.lei")
    assert out["state"] == "waived" and out["clause"] == ALLOWED["clause"]
    row = next(o for o in store.obligations_of(waivable["id"]) if o.code == "regulator_written_report")
    assert row.evidence["waiver"]["reason"] == "经评估不需要单独书面报告" and row.fulfilled_at is None


def test_a_waived_report_is_not_drafted(recorded) -> None:  # type: ignore[no-untyped-def]
    from tasks.incident import draft_new_reports

    incident, record = _handling_ended(recorded)
    items = [{**o.model_dump(mode="json"), **({"waivable": ALLOWED} if o.id == "summary_report" else {})}
             for o in compute_obligations(record, grade(record), recorded["profile"], utcnow())]
    store.sync_obligations(recorded["id"], items, "v")
    store.waive(recorded["id"], "summary_report", reason="经评估不需要", by="zhao.lei", people=["zhao.lei"])
    assert "summary_report" not in draft_new_reports(recorded["profile"], incident, store.obligations_of(recorded["id"]))
