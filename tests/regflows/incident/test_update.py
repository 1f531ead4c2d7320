"""Correcting an incident (regflows/incident/update.py; issue 14, 2): the form's facts, the one
correction path behind the CLI's ``update`` and ``regrade``, and the link a refused second
declaration gives."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from regflows.cli import app
from regflows.incident import store
from regflows.incident.grading import grade
from regflows.incident.recompute import clock_rows
from regflows.incident.record import IncidentRecord
from regflows.incident.update import IncidentFacts, UpdateRefused, update_form_url, update_incident
from regflows.kit.forms import FormError
from regflows.profile import load_profile
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, utcnow

BEIJING = dt.timezone(dt.timedelta(hours=8))


def test_the_form_link_is_the_deployments_run_page_with_the_id_filled_in() -> None:
    """Prefect 3.9's UI: route ``deployment/:deploymentId/run``; its page reads the ``parameters``
    query as JSON.parse(decodeURIComponent(value)) after the router decoded the query once."""
    url = update_form_url("http://127.0.0.1:4200/", "0b7c-42", "INC-20261126-0A1B2C")
    page, _, query = url.partition("?parameters=")
    assert page == "http://127.0.0.1:4200/deployments/deployment/0b7c-42/run"
    assert json.loads(unquote(unquote(query))) == {"incident_id": "INC-20261126-0A1B2C"}
    assert update_form_url("http://127.0.0.1:4200", None, "INC-1") == "http://127.0.0.1:4200/deployments"


def test_the_forms_facts_unchanged_by_default_beijing_times_chinese_choices() -> None:
    assert IncidentFacts().changes({}) == {}
    facts = IncidentFacts(important_system="是", cii="否", handling_ended_at="2026-11-26 19:50", category="设备设施故障",
                          compromise="无", data_incident="较大", outage_hours="0.5")
    changes = facts.changes({"outage": {"provinces": 1, "hours": 0.2, "business_hours": True}})
    assert changes == {"important_system": True, "cii": False, "handling_ended_at": "2026-11-26T19:50:00+08:00",
                       "category": "equipment_failure", "compromise": None, "data_incident": "larger",
                       "outage": {"provinces": 1, "hours": 0.5, "business_hours": True}}
    with pytest.raises(FormError, match="「处置结束时间（北京时间）」"):
        IncidentFacts(handling_ended_at="昨天晚上").changes({})
    with pytest.raises(FormError, match="尚无服务中断.*「服务中断：受影响的省级行政区数量」"):
        IncidentFacts(outage_hours="1").changes({})


@pytest.fixture
def level_iv(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http, write_profile):  # type: ignore[no-untyped-def]
    """A grade IV incident discovered 3 hours ago: a one-province, one-hour outage in business
    hours of a system not recorded as important (NFRA 附件: the outage does not count)."""
    migrate()
    profile_file = write_profile(tmp_path / "profile.yaml", http.base, 9, "http://127.0.0.1:4201")
    monkeypatch.setenv("REGFLOWS_PROFILE", str(profile_file))
    discovered = utcnow().astimezone(BEIJING).replace(microsecond=0) - dt.timedelta(hours=3)
    record = IncidentRecord.model_validate({
        "title": "核心系统中断", "occurred_at": (discovered - dt.timedelta(minutes=10)).isoformat(),
        "discovered_at": discovered.isoformat(), "discovered_by": "值班工程师", "system_name": "核心系统",
        "category": "equipment_failure", "outage": {"provinces": 1, "hours": 1, "business_hours": True},
    })
    grading = grade(record)
    data = record.model_dump(mode="json")
    incident_id = store.incident_id_for(data, "YX0001")
    store.save_incident(incident_id, data, "YX0001", grading.model_dump(mode="json"), grading.rules_version, "test")
    profile = load_profile(profile_file)
    clock_rows(incident_id, data, grading.model_dump(mode="json"), profile, utcnow())  # as the declaration stores them
    return {"id": incident_id, "http": http, "profile": profile, "record": record}


def _actions(incident_id: str) -> list[str]:
    with db.session() as s:
        return [e.action for e in s.execute(select(AuditEntry).where(AuditEntry.subject == incident_id)).scalars()]


def test_refusals_write_nothing(level_iv) -> None:  # type: ignore[no-untyped-def]
    incident_id, profile = level_iv["id"], level_iv["profile"]
    before = (len(store.timeline(incident_id)), _actions(incident_id))
    with pytest.raises(ValueError, match="不在机构配置的人员"):
        update_incident(profile, incident_id, {"important_system": True}, reason="核实", by="mallory")
    with pytest.raises(ValueError, match="理由"):
        update_incident(profile, incident_id, {"important_system": True}, reason=" ", by="zhao.lei")
    with pytest.raises(ValueError, match="没有要更正的事实"):
        update_incident(profile, incident_id, {"important_system": False}, reason="核实", by="zhao.lei")
    with pytest.raises(UpdateRefused, match="不能手工填写"):
        update_incident(profile, incident_id, {"response_ended_at": "2026-01-01T10:00:00+08:00"}, reason="x", by="zhao.lei")
    with pytest.raises(ValueError, match="outage.hours"):  # the revised record is as strict as a declaration
        update_incident(profile, incident_id, {"outage": {"provinces": 1, "hours": -1, "business_hours": True}}, reason="x",
                        by="zhao.lei")
    future = (utcnow() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(ValueError, match="晚于当前时间"):
        update_incident(profile, incident_id, {"handling_ended_at": future}, reason="x", by="zhao.lei")
    assert (len(store.timeline(incident_id)), _actions(incident_id)) == before
    assert not level_iv["http"].received


def test_cli_update_turns_on_the_important_system_switch_regrades_and_alerts(level_iv) -> None:  # type: ignore[no-untyped-def]
    incident_id, http = level_iv["id"], level_iv["http"]
    result = CliRunner().invoke(app, ["incident", "update", incident_id, "--important", "--reason", "核实为重要信息系统",
                                      "--by", "zhao.lei"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["grade_before"], out["grade"], out["updated"]) == ("IV", "III", {"important_system": True})
    assert "regulator_initial_report" in out["obligations_added"] and out["alerted"]
    assert any(r.startswith("regulator_initial_report:overdue@") for r in out["raised"])  # due 2 h after discovery: 1 h ago
    stored = store.load_incident(incident_id)
    assert stored.grade == "III" and stored.record["important_system"] is True
    assert stored.grading["history"][-1]["by"] == "zhao.lei"
    corrected = [m.json() for m in http.wait_for("/ok/chen.jing") if m.json()["title"].startswith("【更正】")]
    assert corrected and "III级" in corrected[0]["title"] and "IV级 → III级" in corrected[0]["message"]
    kinds = [e.kind for e in store.timeline(incident_id)]
    assert "updated" in kinds and "regraded" in kinds
    assert {"incident.updated", "incident.regraded"} <= set(_actions(incident_id))


def test_cli_update_of_a_time_point_alone_keeps_the_grade_and_tells_nobody(level_iv) -> None:  # type: ignore[no-untyped-def]
    incident_id, http = level_iv["id"], level_iv["http"]
    recovered = utcnow().astimezone(BEIJING).replace(microsecond=0).isoformat()
    result = CliRunner().invoke(app, ["incident", "update", incident_id, "--recovered-at", recovered, "--by", "zhao.lei"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["grade"] == "IV" and not out["alerted"] and out["updated"] == {"recovered_at": recovered}
    assert "regraded" not in [e.kind for e in store.timeline(incident_id)]
    assert not [m for m in http.received if m.json()["title"].startswith("【更正】")]


def _status(incident_id: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, ["incident", "status", incident_id])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_lowering_the_grade_withdraws_what_no_longer_applies_and_raising_it_reinstates(level_iv) -> None:  # type: ignore[no-untyped-def]
    """Review 14, 1: IV → II → IV → II. Lowering closes the higher grade's obligations as
    ``withdrawn`` (who, why, when on the row, the timeline and the ledger; escalations of their
    reminders stopped); a later correction does not announce them again; the IV alert's SMS
    counts only what is still owed; raising the grade again reinstates them with their due time."""
    from notices.escalation import run_escalations
    from regflows.kit.obligations import Refused
    from regflows.kit.reminders import is_open
    from regflows.store.models import Notice
    from regflows.store.obligations import all_open_rows, open_rows

    incident_id = level_iv["id"]
    path = Path(os.environ["REGFLOWS_PROFILE"])  # everyone also has an SMS channel: the SMS form is recorded
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for person in data["people"]:
        person["channels"].append({"kind": "sms", "url": f"json://{level_iv['http'].base}/sms/{person['id']}"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    profile = load_profile(path)
    owed_iv = {o["id"] for o in _status(incident_id)["obligations"] if o["state"] not in ("fulfilled", "waived", "withdrawn")}
    up = update_incident(profile, incident_id, {"important_system": True, "outage": {"provinces": 1, "hours": 3, "business_hours": True}},
                         reason="核实为重要信息系统，中断 3 小时", by="zhao.lei")
    assert up.grade_after == "II" and "regulator_initial_report" in up.added
    higher = set(up.added)
    with db.session() as s:  # an overdue reminder of a higher-grade obligation waits for acknowledgement
        waiting = [n.id for n in s.execute(select(Notice).where(Notice.related == incident_id, Notice.requires_ack.is_(True),
                                                                Notice.id.like(f"incident:{incident_id}:regulator_initial_report:%"))).scalars()]
    assert waiting

    down = update_incident(profile, incident_id, {"important_system": False}, reason="复核：非重要信息系统", by="zhao.lei")
    assert (down.grade_after, set(down.removed)) == ("IV", higher)
    status = _status(incident_id)
    states = {o["id"]: o["state"] for o in status["obligations"]}
    assert {code for code, state in states.items() if state == "withdrawn"} == higher
    assert {code for code, state in states.items() if state not in ("fulfilled", "waived", "withdrawn")} == owed_iv
    withdrawn = next(o for o in status["obligations"] if o["id"] == "regulator_initial_report")["withdrawn"]
    assert (withdrawn["by"], withdrawn["reason"]) == ("zhao.lei", "复核：非重要信息系统") and withdrawn["at"]
    events = [e for e in status["timeline"] if e["kind"] == "withdrawn"]
    assert {e["detail"]["obligation"] for e in events} == higher and {e["actor"] for e in events} == {"zhao.lei"}
    assert _actions(incident_id).count("obligation.withdrawn") == len(higher)
    rows = {r.code: r for r in store.obligations_of(incident_id)}
    assert not any(is_open(rows[c]) for c in higher)  # the reminder loop and the kit see them closed
    assert not {r.code for r in open_rows("incident_response") + all_open_rows() if r.subject == incident_id} & higher
    with pytest.raises(Refused, match="因事件更正不再适用"):
        store.fulfil(incident_id, "regulator_initial_report", evidence="已报送", by="zhao.lei", people=profile.person_ids)
    with db.session() as s:  # the withdrawn reminders' escalation stops
        assert all(s.get(Notice, n).resolved_at is not None for n in waiting)
    far = utcnow() + dt.timedelta(days=2)
    assert not [a for a in run_escalations(profile, now=far) if a.notice_id in waiting]
    with db.session() as s:  # the IV correction lists and its SMS counts only what is still owed
        body, sms = s.get(Notice, f"incident:{incident_id}:alert:u2").body, s.get(Notice, f"incident:{incident_id}:alert:u2").sms
    with db.session() as s:
        sms_ii = s.get(Notice, f"incident:{incident_id}:alert:u1").sms
    assert sms_ii and "项时限最早" in sms_ii  # the II correction's SMS counted the II grade's reports
    listed = [line for line in body.splitlines() if re.match(r"\d+\. .*：截止", line)]
    timed = [r for r in down.rows if r.due_at and r.state not in ("fulfilled", "waived", "withdrawn")]
    assert len(listed) == min(len(timed), 5) and (timed or "（暂无待办时限）" in body)  # was: the II grade's two reports
    assert sms and (f"，{len(timed)}项时限最早" in sms if timed else "项时限最早" not in sms)  # was 「2项时限最早 …」
    assert not [line for line in listed for r in down.rows if r.code in higher and r.title in line]

    moved = (dt.datetime.fromisoformat(level_iv["record"].model_dump(mode="json")["discovered_at"]) + dt.timedelta(minutes=20))
    later = update_incident(profile, incident_id, {"discovered_at": moved.isoformat()}, reason="发现时间核实", by="zhao.lei")
    assert later.removed == [] and later.added == [] and not later.alerted  # not announced again, nobody re-alerted
    assert _actions(incident_id).count("obligation.withdrawn") == len(higher)
    assert {r.code for r in later.rows if r.state == "withdrawn"} == higher

    again = update_incident(profile, incident_id, {"important_system": True}, reason="再次核实为重要信息系统", by="zhao.lei")
    assert again.grade_after == "II" and set(again.added) == higher
    rows = {r.code: r for r in store.obligations_of(incident_id)}
    assert all(rows[c].state not in ("withdrawn", "fulfilled", "waived") and is_open(rows[c]) for c in higher)
    def due(rows: list) -> dt.datetime:  # type: ignore[type-arg]
        value = next(r.due_at for r in rows if r.code == "regulator_initial_report")
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)

    assert due(again.rows) - due(up.rows) == dt.timedelta(minutes=20)  # its new due time: from the corrected discovery
    assert due(list(rows.values())) == due(again.rows)
    assert _actions(incident_id).count("obligation.reinstated") == len(higher)
    assert any(r.startswith("regulator_initial_report:") for r in again.raised)  # owed again: raised again


def test_the_form_corrects_the_pfi_the_credit_event_the_public_the_discoverer_and_the_place() -> None:
    """Review 14, 12: facts the update form could not correct."""
    current = {"pfi": {"types": ["手机号"], "subjects": 3, "high_sensitivity": False}}
    facts = IncidentFacts(pfi_subjects="1,200", pfi_high_sensitivity="是", credit_info_event="信用报告泄漏", public_concern="是",
                          discovered_by="监控中心", location="两江数据中心")
    assert facts.changes(current) == {"pfi": {"types": ["手机号"], "subjects": 1200, "high_sensitivity": True},
                                      "credit_info_event": "report_leak", "public_concern": True, "discovered_by": "监控中心",
                                      "location": "两江数据中心"}
    assert IncidentFacts(pfi_types="身份证号，银行卡号").changes(current)["pfi"]["types"] == ["身份证号", "银行卡号"]
    assert IncidentFacts(pfi_types="无", credit_info_event="无", public_concern="按级别判断").changes(current) == {
        "pfi": None, "credit_info_event": None, "public_concern": None}
    with pytest.raises(FormError, match="尚无个人金融信息.*「是否涉及高敏感信息」"):
        IncidentFacts(pfi_types="手机号", pfi_subjects="3").changes({})
    with pytest.raises(FormError, match="「涉及的信息主体人数」应为整数"):
        IncidentFacts(pfi_subjects="很多").changes(current)


def test_the_outage_can_be_corrected_back_to_no_province(level_iv) -> None:  # type: ignore[no-untyped-def]
    """Review 14, 12: 0 provinces was the form's "unchanged"; now 「不变」 is, and 0 removes the outage."""
    outage = {"outage": {"provinces": 2, "hours": 1, "business_hours": True}}
    assert IncidentFacts().outage_provinces == "不变" and IncidentFacts().changes(outage) == {}
    assert IncidentFacts(outage_provinces="0").changes(outage) == {"outage": None}
    assert IncidentFacts(outage_provinces="3").changes(outage) == {"outage": {"provinces": 3, "hours": 1, "business_hours": True}}
    with pytest.raises(FormError, match="填 0 表示没有服务中断"):
        IncidentFacts(outage_provinces="0", outage_hours="2").changes(outage)
    with pytest.raises(FormError, match="0 至 34"):
        IncidentFacts(outage_provinces="35").changes(outage)
    incident_id, profile = level_iv["id"], level_iv["profile"]
    changes = IncidentFacts(outage_provinces="0").changes(store.load_incident(incident_id).record)
    outcome = update_incident(profile, incident_id, changes, reason="核实：未发生服务中断", by="zhao.lei")
    assert store.load_incident(incident_id).record.get("outage") is None
    assert outcome.changes["outage"]["to"] is None


def test_the_update_log_and_artifact_say_titles_names_and_chinese_values(level_iv) -> None:  # type: ignore[no-untyped-def]
    """Review 14, 9 and 10: obligations by title, facts as Chinese text (never a dict), people by name."""
    from regflows.incident.update import fact_text
    from tasks.incident import update_markdown

    incident_id, profile = level_iv["id"], level_iv["profile"]
    outcome = update_incident(profile, incident_id, {"important_system": True, "outage": {"provinces": 1, "hours": 3, "business_hours": True}},
                              reason="核实为重要信息系统", by="zhao.lei")
    line = outcome.log_line()
    titles = outcome.titles()
    assert outcome.added and all(titles[c] in line for c in outcome.added)
    assert not [c for c in [*outcome.added, *outcome.moved] if c in line]  # no code in the Chinese text
    assert outcome.raised and "regulator_initial_report" not in outcome.raised_text() and "已逾期" in outcome.raised_text()
    text = update_markdown(outcome, "核实为重要信息系统", "zhao.lei", profile)
    assert "{" not in text and "'provinces'" not in text
    assert "1 个省级行政区业务无法正常开展，3 小时，业务服务时段内" in text
    assert next(p.name for p in profile.people if p.id == "zhao.lei") in text
    assert fact_text("pfi", {"types": ["手机号"], "subjects": 3, "high_sensitivity": True}) == "手机号；3 人；涉及高敏感信息"
    assert fact_text("discovered_at", "2026-11-26T15:00:00+00:00") == "2026-11-26 23:00（北京时间）"
    assert fact_text("category", "equipment_failure") == "设备设施故障" and fact_text("credit_info_events", ["report_leak"]) == "信用报告泄漏"
    down = update_incident(profile, incident_id, {"important_system": False}, reason="复核：非重要信息系统", by="zhao.lei")
    lowered = update_markdown(down, "复核：非重要信息系统", "zhao.lei", profile)
    title = titles["regulator_initial_report"]
    row = next(line for line in lowered.splitlines() if line.startswith(f"| {title} |"))
    assert row.split(" | ")[3] == "不再适用（已撤销）"  # was 「进行中」 while the log said it no longer applied
    assert title in down.log_line().split("不再适用（已撤销）", 1)[1].split("；", 1)[0]
