"""Operator actions on a recorded incident: re-grade (overdue raised at once), fulfil, later drafts."""

from __future__ import annotations

import datetime as dt
import json
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
from tests.local_servers import start_http
from tests.test_incident_flow import write_profile

BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def recorded(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    migrate()
    http = start_http()
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
    yield {"id": incident_id, "http": http, "profile": load_profile(profile_file)}
    http.close()


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


def test_summary_report_is_drafted_once_handling_ended(recorded) -> None:  # type: ignore[no-untyped-def]
    from tasks.incident import draft_new_reports
    from regflows.incident.clock import obligations as compute

    runner = CliRunner()
    runner.invoke(app, ["incident", "regrade", recorded["id"], "--assessed-grade", "III", "--reason", "研判", "--by", "zhao.lei"])
    ended = utcnow().astimezone(BEIJING).replace(microsecond=0).isoformat()
    assert runner.invoke(app, ["incident", "update", recorded["id"], "--handling-ended-at", ended, "--by", "zhao.lei"]).exit_code == 0
    incident = store.load_incident(recorded["id"])
    record = IncidentRecord.model_validate(incident.record)
    rows = store.sync_obligations(recorded["id"], [o.model_dump(mode="json") for o in compute(record, grade(record), recorded["profile"], utcnow())], "v")
    assert "summary_report" in draft_new_reports(recorded["profile"], incident, rows)
    assert "summary_report" not in draft_new_reports(recorded["profile"], incident, rows)  # once
    naive = runner.invoke(app, ["incident", "update", recorded["id"], "--response-ended-at", "2025-10-01T10:00", "--by", "x"])
    assert naive.exit_code == 2 and "偏移" in naive.stderr


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
    from regflows.kit.evidence import EvidenceError
    from regflows.kit.uploads import store_upload

    from prefect.utilities.callables import parameter_schema

    help_text = parameter_schema(incident_fulfil.fn).properties["file"]["description"]
    assert "服务器" in help_text and "POST /uploads" in help_text  # the form says what to paste
    code = _synced(recorded)[0].id
    with pytest.raises(EvidenceError, match=r"证据文件（file）不存在：.*nowhere\.pdf"):
        incident_fulfil(recorded["id"], code, "已报告", "li.ming", file=str(tmp_path / "nowhere.pdf"))
    assert not next(o for o in store.obligations_of(recorded["id"]) if o.code == code).evidence  # nothing recorded
    uploaded = store_upload(b"scanned written report", "书面报告.pdf")  # as POST /uploads stores it
    out = incident_fulfil(recorded["id"], code, "已提交书面报告", "li.ming", reference="REF-2", file=str(uploaded.path))
    digest = hashlib.sha256(b"scanned written report").hexdigest()
    assert out["file_sha256"] == digest
    evidence = _recorded_evidence(recorded["id"], code)
    assert evidence["file"]["sha256"] == digest and evidence["file"]["size"] == 22 and evidence["reference"] == "REF-2"


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
