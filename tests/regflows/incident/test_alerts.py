"""The incident alert (regflows/incident/alerts.py send_alert) and the incident ingest route
(regflows/incident/ingest.py): what the alert says comes from the rules and the profile, and the
ingest refuses what it must without any Prefect server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from starlette.testclient import TestClient

from notices.ack_server import create_app
from notices.delivery import RetryPolicy
from regflows.incident import alerts
from regflows.incident.grading import GradingRules, grade, load_grading_rules
from regflows.incident.record import load_record
from regflows.procedures import endpoint_routes
from regflows.profile import DEMO_PROFILE, Profile
from regflows.store import db, migrate
from regflows.store.models import AuditEntry

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "incidents"
FAST = RetryPolicy(attempts=1, backoff_seconds=0.01, timeout_seconds=5)


def _profile(http: Any, renamed: dict[str, str]) -> Profile:
    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    for person in data["people"]:
        person["channels"] = [{"kind": "webhook", "url": f"json://{http.base}/ok/{person['id']}"}]
    for key, name in renamed.items():
        data["roles"][key]["name"] = name
    return Profile.model_validate(data)


def _rules_with(grade_key: str, **changes: str) -> GradingRules:
    data = load_grading_rules().model_dump(mode="json")
    data["levels"][grade_key].update(changes)
    return GradingRules.model_validate(data)


def test_the_alert_says_who_leads_by_the_profiles_names_and_the_colour_by_the_rules(home: Path, http: Any) -> None:
    migrate()
    record = load_record(FIXTURES / "grade-iii-pfi-leak.json")
    profile = _profile(http, {"retail_division": "公司业务部（测试）"})
    grading = grade(record, _rules_with("III", warning_zh="琥珀色")).model_dump(mode="json")
    assert (grading["grade"], grading["lead"]) == ("III", "division")
    alerts.send_alert(profile, "INC-20250930-0001", record.model_dump(mode="json"), grading, [], ["division"], None, policy=FAST)
    message = http.wait_for("/ok/chen.jing")[0].json()
    assert message["title"].startswith("【III级网络安全事件·琥珀色预警】")
    assert "III级响应，由公司业务部（测试）牵头" in message["message"]  # not the division name of a table in code


def test_without_a_role_of_the_lead_kind_the_alert_names_nobody(http: Any) -> None:
    profile = _profile(http, {})
    assert alerts.lead_name(profile, "leadership_group") == "网络安全领导小组"
    assert alerts.lead_name(profile, "no_such_kind") is None


@pytest.fixture
def ingest(home: Path) -> TestClient:
    migrate()
    return TestClient(create_app(endpoint_routes()))


def _ledger(action: str) -> list[dict[str, Any]]:
    with db.session() as s:
        return [json.loads(e.payload) for e in s.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars()]


def test_ingest_refuses_without_a_token_a_wrong_token_and_a_bad_record(ingest: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (FIXTURES / "grade-iii-pfi-leak.json").read_bytes()
    monkeypatch.delenv("REGFLOWS_INGEST_TOKEN", raising=False)
    assert ingest.post("/incidents", content=body).status_code == 503  # not configured: accepts nothing
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", "t0ken")
    refused = ingest.post("/incidents", content=body, headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401 and refused.json()["error"] == "认证失败"
    ingest.app.state.refusals.flush(force=True)  # type: ignore[attr-defined]  # summarised per minute (regflows/kit/refusals.py)
    assert [e["clients"]["testclient"]["refusals"] for e in _ledger("endpoint.refusals")] == [{"incident.ingest_refused:bad token": 1}]
    naive = (FIXTURES / "naive-time.json").read_bytes()
    bad = ingest.post("/incidents", content=naive, headers={"Authorization": "Bearer t0ken"})
    assert bad.status_code == 422 and "POST /incidents" in bad.json()["error"]
    # issue 13 (8): a discovery in 2030 would start a clock in the future
    future = json.loads(body) | {"discovered_at": "2030-09-30T10:00:00+08:00", "confirmed_at": "2030-09-30T11:00:00+08:00"}
    late = ingest.post("/incidents", json=future, headers={"Authorization": "Bearer t0ken"})
    assert late.status_code == 422 and "discovered_at" in late.json()["error"] and "晚于当前时间" in late.json()["error"]
    assert _ledger("incident.ingested") == []  # nothing recorded before the record validates


def test_the_alert_carries_the_warning_s_contents(home: Path, http: Any) -> None:
    """CQ-PLAN 第三篇三: 预警信息包括事件的类别、预警级别、起始时间、可能影响范围、警示事项、应采取的措施和时限要求、
    发布处室; yellow is issued by the division (第三篇三), its measures are 第三篇四（三）'s."""
    migrate()
    record = load_record(FIXTURES / "grade-iii-pfi-leak.json")
    profile = _profile(http, {})
    grading = grade(record).model_dump(mode="json")
    alerts.send_alert(profile, "INC-20250930-0001", record.model_dump(mode="json"), grading, [], ["division"], None, policy=FAST)
    text = http.wait_for("/ok/chen.jing")[0].json()["message"]
    block = text[text.index("预警信息"):]
    for line in ("事件类别：网络攻击事件", "预警级别：黄色预警", "起始时间：", "可能影响范围：系统：", "涉及个人金融信息主体",
                 "警示事项：发生或可能发生较大网络安全事件", "应采取的措施：各处室组织预警响应", "时限要求：", "发布处室：零售业务处",
                 "CQ-PLAN 第三篇四（三）"):
        assert line in block, line


def test_without_cq_plan_the_alert_has_no_colour_and_goes_to_the_profile_s_roles(home: Path, http: Any) -> None:
    """Levels, colours and CQ-PLAN's bodies apply only where the profile enables CQ-PLAN (docs/regulations.md:
    the regimes are the profile's); otherwise the on-call duty, the information-management department
    (CUSTINFO 8.2) and whoever approves the end (settings.incident_end_approval_role) are alerted."""
    migrate()
    record = load_record(FIXTURES / "grade-iii-pfi-leak.json")
    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    for person in data["people"]:
        person["channels"] = [{"kind": "webhook", "url": f"json://{http.base}/ok/{person['id']}"}]
    data["regimes"]["CQ-PLAN"] = False
    profile = Profile.model_validate(data)
    grading = grade(record).model_dump(mode="json")
    roles = alerts.alert_roles(profile, grading)
    assert roles == ["on_call", "information_management", "leadership_group"] and "division" not in roles
    alerts.send_alert(profile, "INC-20250930-0001", record.model_dump(mode="json"), grading, [], roles, None, policy=FAST)
    message = http.wait_for("/ok/zhou.qiang")[0].json()
    assert message["title"].startswith("【III级网络安全事件】") and "预警" not in message["message"]


def test_ingest_without_a_server_answers_503_and_starts_no_temporary_server(
        ingest: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review of issue 13: with no PREFECT_API_URL and no server, POST /incidents started an
    ephemeral Prefect server that outlived the endpoint. It asks regflows' own address and says 503."""
    import socket

    import prefect.server.api.server as prefect_server

    from regflows import config

    started: list[object] = []
    monkeypatch.setattr(prefect_server.SubprocessASGIServer, "__init__", lambda self, *a, **k: started.append(self))
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(config, "PREFECT_PORT", port)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", "t0ken")
    record = json.loads((FIXTURES / "grade-iii-pfi-leak.json").read_bytes())
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE, temporary_settings

    # as in a process where Prefect may start a temporary server (the tests otherwise forbid it)
    with temporary_settings(updates={PREFECT_SERVER_ALLOW_EPHEMERAL_MODE: True}, set_defaults={PREFECT_API_URL: None},
                            restore_defaults={PREFECT_API_URL}):
        answer = ingest.post("/incidents", json=record, headers={"Authorization": "Bearer t0ken"})
    assert answer.status_code == 503 and "incident-response" in answer.json()["error"]
    assert started == []


def test_the_alert_reads_the_times_in_beijing_time_whatever_offset_was_stored(home: Path, http: Any) -> None:
    """Issue 14, 1: a record stored with a UTC time (a monitoring system's ``Z``) is alerted in Beijing time."""
    migrate()
    record = load_record(FIXTURES / "grade-iii-pfi-leak.json").revised(
        occurred_at="2025-09-30T01:00:00Z", discovered_at="2025-09-30T01:50:00Z")
    grading = grade(record).model_dump(mode="json")
    alerts.send_alert(_profile(http, {}), "INC-20250930-0002", record.model_dump(mode="json"), grading, [], ["division"], None,
                      policy=FAST)
    text = http.wait_for("/ok/chen.jing")[0].json()["message"]
    assert "发现时间：2025-09-30 09:50" in text and "01:50" not in text
