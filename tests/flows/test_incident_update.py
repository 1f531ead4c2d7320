"""Issue 14, 2 on a real Prefect server: a second declaration of an incident is refused on each of
its three paths (the form, ``regflows incident declare``, ``POST /incidents``) with the incident's
id and a link to the update form, before anything is written or sent; the ``incident-update``
form corrects the facts, re-grades, recomputes, alerts the new level's roles and is on record."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from regflows.incident import store
from regflows.incident.form import form_from_record
from regflows.incident.record import IncidentRecord
from regflows.store import db
from regflows.store.models import AuditEntry, utcnow

BEIJING = dt.timezone(dt.timedelta(hours=8))
pytestmark = pytest.mark.prefect


@pytest.fixture
def world(world, prefect_api):  # type: ignore[no-untyped-def]
    """tests/flows/conftest.py's world, with the incident-update deployment registered."""
    from flows.incident_update import incident_update

    deployment_id = str(incident_update.to_deployment(name="incident-update").apply())
    return {**world, "api": prefect_api, "deployment": deployment_id}


def outage_iv() -> IncidentRecord:
    """Grade IV: a one-hour outage in one province in business hours, the system not recorded as an
    important one (NFRA 附件 各级第 2 项 counts only important systems); discovered 3 hours ago."""
    discovered = utcnow().astimezone(BEIJING).replace(microsecond=0) - dt.timedelta(hours=3)
    return IncidentRecord.model_validate({
        "title": "核心系统中断", "occurred_at": (discovered - dt.timedelta(minutes=10)).isoformat(),
        "discovered_at": discovered.isoformat(), "discovered_by": "值班工程师", "system_name": "核心系统",
        "category": "equipment_failure", "outage": {"provinces": 1, "hours": 1, "business_hours": True},
    })


def declared(record: IncidentRecord) -> str:
    from flows.incident_response import incident_response

    result = incident_response(form_from_record(record), "li.ming")
    assert result["grade"] == "IV"
    return result["incident_id"]


def _actions(incident_id: str) -> list[str]:
    with db.session() as s:
        return [e.action for e in s.execute(select(AuditEntry).where(AuditEntry.subject == incident_id).order_by(AuditEntry.seq)).scalars()]


def _form_link_of(link: str, world: dict) -> dict:  # type: ignore[type-arg]
    page, _, query = link.partition("?parameters=")
    assert page == world["api"].removesuffix("/api") + f"/deployments/deployment/{world['deployment']}/run"
    return json.loads(unquote(unquote(query)))


def test_a_second_declaration_is_refused_on_every_path_before_anything_is_written(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from flows.incident_response import incident_response

    record = outage_iv()
    incident_id = declared(record)
    http, api = world["http"], world["api"]
    before = (len(http.received), len(store.timeline(incident_id)), _actions(incident_id))

    # The form: the run fails with the Chinese refusal (no traceback), naming the id and the form.
    state = incident_response(form_from_record(record), "li.ming", return_state=True)
    assert state.is_failed()
    message = state.message or ""
    assert f"事件 {incident_id} 已登记" in message and "未登记、未通知任何人" in message
    link = message.split("事件更正表单：", 1)[1].split(" ", 1)[0]
    assert _form_link_of(link, world) == {"incident_id": incident_id}
    run_id = str(state.state_details.flow_run_id)
    deadline, logs = time.monotonic() + 30, list[str]()
    while time.monotonic() < deadline and not any("已登记" in m for m in logs):
        logs = [g["message"] for g in httpx.post(f"{api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}}).json()]
        time.sleep(0.5)
    assert any(f"事件 {incident_id} 已登记" in m for m in logs)
    assert not any("Traceback" in m for m in logs)

    # The CLI: the refusal code, the id and the link; nothing started.
    file = Path(os.environ["REGFLOWS_HOME"]) / "again.json"
    file.write_text(record.model_dump_json(), encoding="utf-8")
    monkeypatch.setenv("PREFECT_API_URL", api)
    result = CliRunner().invoke(app_cli(), ["incident", "declare", str(file)])
    assert result.exit_code == 5, result.output  # ExitCode.REFUSED
    out = json.loads(result.stdout)
    assert out["incident"] == incident_id and _form_link_of(out["update_form"], world) == {"incident_id": incident_id}
    assert incident_id in result.stderr and "flow_run_id" not in result.stdout

    # POST /incidents: 409 with the id and the link.
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", "ingest-token-for-tests")
    answer = httpx.post(f"{world['ack']}/incidents", json=record.model_dump(mode="json"), timeout=60,
                        headers={"Authorization": "Bearer ingest-token-for-tests"})
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["incident_id"] == incident_id and _form_link_of(body["update_form"], world) == {"incident_id": incident_id}
    assert "已登记" in body["error"] and "flow_run_id" not in body

    assert (len(http.received), len(store.timeline(incident_id)), _actions(incident_id)) == before

    # A new declaration with a typed end of response: started, and the CLI says the value is not taken.
    from flows.incident_response import incident_response

    incident_response.to_deployment(name="incident-response").apply()  # registered, not served: the run waits
    ended = record.model_copy(update={"title": record.title + "（已结束）", "response_ended_at": record.discovered_at})
    file.write_text(ended.model_dump_json(), encoding="utf-8")
    told = CliRunner().invoke(app_cli(), ["incident", "declare", str(file)])
    assert told.exit_code == 0, told.output
    assert "不予采用" in told.stderr and "不予采用" in json.loads(told.stdout)["warnings"][0]


def app_cli():  # type: ignore[no-untyped-def]
    from regflows.cli import app

    return app


def test_the_update_form_turns_on_the_important_system_regrades_to_iii_and_tells_the_new_level(  # type: ignore[no-untyped-def]
        world, artifact_texts) -> None:
    from flows.incident_update import incident_update
    from regflows.incident.update import IncidentFacts

    incident_id = declared(outage_iv())
    http, api = world["http"], world["api"]
    assert {o.code for o in store.obligations_of(incident_id) if o.state not in ("fulfilled", "waived")} == {"investigation_report"}
    seen = len(http.received)

    refused = incident_update(incident_id, "核实", "nobody", IncidentFacts(important_system="是"), return_state=True)
    assert refused.is_failed() and "不在机构配置的人员" in (refused.message or "")
    assert store.load_incident(incident_id).grade == "IV"

    state = incident_update(incident_id, "经核实核心系统为重要信息系统", "zhao.lei", IncidentFacts(important_system="是"),
                            return_state=True)
    out = state.result()
    assert (out["grade_before"], out["grade"]) == ("IV", "III")
    stored = store.load_incident(incident_id)
    assert stored.grade == "III" and stored.grading["grade"] == "III" and stored.record["important_system"] is True
    assert stored.grading["history"][-1]["reason"] == "经核实核心系统为重要信息系统"
    # The clock recomputed: the 2-hour report NFRA 45 owes from grade III on, overdue since an hour ago.
    obligations = {o.code: o.state for o in store.obligations_of(incident_id)}
    assert obligations["regulator_initial_report"] == "overdue" and "regulator_written_report" in obligations
    assert "regulator_initial_report" in out["obligations_added"]
    # The new level's roles (division, on call, information management) are told, delivered through the stand-in.
    corrected = [m.json() for m in http.received[seen:] if m.json()["title"].startswith("【更正】")]
    assert {m.path.rsplit("/", 1)[1] for m in http.received[seen:] if m.json()["title"].startswith("【更正】")} >= {
        "chen.jing", "li.ming", "wang.fang", "zhao.lei"}
    assert "III级" in corrected[0]["title"] and "IV级 → III级" in corrected[0]["message"]
    assert any("已逾期" in m.json()["title"] for m in http.received[seen:])  # raised at once
    # On the timeline and in the ledger, with who and why.
    events = {e.kind: e for e in store.timeline(incident_id)}
    assert events["updated"].actor == "zhao.lei" and events["updated"].detail["grade"] == {"from": "IV", "to": "III"}
    assert events["updated"].detail["changes"]["important_system"] == {"from": False, "to": True}
    assert events["regraded"].detail["reason"] == "经核实核心系统为重要信息系统"
    assert {"incident.updated", "incident.regraded"} <= set(_actions(incident_id))
    # The run publishes old vs new.
    [published] = artifact_texts(api, f"incident-{incident_id.lower()}-update")
    assert "IV级 → **III级**" in published and "是否重要信息系统" in published and "向国家金融监督管理总局" in published
    # Review 14, 9: the update run's clock names owners as the profile does, never by role code.
    from regflows.profile import load_profile, profile_path

    profile = load_profile(profile_path())
    clocks = artifact_texts(api, f"incident-{incident_id.lower()}-clock")
    assert clocks and not [c for c in clocks for code in profile.roles if f'"责任部门": "{code}"' in c]
    labels = {profile.role_label(code) for code in profile.roles} - set(profile.roles)
    assert all(any(f'"责任部门": "{label}"' in c for label in labels) for c in clocks)
