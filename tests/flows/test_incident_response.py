"""End to end on a real Prefect server: declare, alert, acknowledge, remind after a restart,
fulfil, draft the reports, close with the right approval; and the monitoring endpoint."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import httpx
import pytest
from docx import Document
from prefect.settings import PREFECT_API_URL, temporary_settings

from notices.escalation import run_escalations
from regflows.incident import alerts, closing, store
from regflows.incident.form import form_from_record
from regflows.incident.record import IncidentRecord
from regflows.server import start, wait_healthy
from regflows.store.models import utcnow

BEIJING = dt.timezone(dt.timedelta(hours=8))


def notices_artifact(api: str, flow_run_id: str) -> list[dict]:
    """The rows of a run's ``notices`` table artifact (its latest version)."""
    found = httpx.post(f"{api}/artifacts/filter", timeout=30, json={
        "artifacts": {"key": {"any_": ["notices"]}, "flow_run_id": {"any_": [flow_run_id]}},
        "sort": "CREATED_DESC",
    }).json()
    assert found, f"run {flow_run_id} published no notices artifact"
    data = found[0]["data"]
    return json.loads(data) if isinstance(data, str) else data


def run_logs(api: str, flow_run_id: str, containing: str, timeout: float = 30.0) -> list[str]:
    """The run's log messages on the server, once one contains ``containing`` (logs are sent in batches)."""
    deadline = time.monotonic() + timeout
    while True:
        logs = httpx.post(f"{api}/logs/filter", timeout=30, json={"logs": {"flow_run_id": {"any_": [flow_run_id]}}}).json()
        messages = [log["message"] for log in logs]
        if any(containing in m for m in messages) or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


def record_due_in(minutes: int, **extra) -> IncidentRecord:  # type: ignore[no-untyped-def]
    """A grade II incident (important system admin rights obtained) whose 2-hour report is due in ``minutes``."""
    discovered = utcnow().astimezone(BEIJING).replace(microsecond=0) - dt.timedelta(minutes=120 - minutes)
    return IncidentRecord.model_validate({
        "title": "网银系统管理员权限被获取", "occurred_at": (discovered - dt.timedelta(minutes=30)).isoformat(),
        "discovered_at": discovered.isoformat(), "discovered_by": "值班工程师", "system_name": "网上银行系统",
        "location": "总行数据中心", "category": "network_attack", "important_system": True,
        "compromise": "important_system_admin", "cause": "疑似弱口令，客户 13812345678 报告异常", **extra,
    })


@pytest.mark.prefect
def test_declare_alert_ack_remind_after_restart_fulfil_close(world, tmp_path: Path, drain_prefect_workers, free_port) -> None:  # type: ignore[no-untyped-def]
    from flows.incident_response import incident_response
    from flows.incident_watch import incident_watch

    http, smtp, profile = world["http"], world["smtp"], world["profile"]
    root = tmp_path / "prefect"
    port = free_port()
    server = start("127.0.0.1", port, root / "home", root / "logs")
    wait_healthy(server, timeout=240)
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api}):
            state = incident_response(form_from_record(record_due_in(25)), "li.ming", return_state=True)
        result = state.result()
        incident_id = result["incident_id"]
        assert result["grade"] == "II" and result["warning"] == "orange"
        ids = {o["id"] for o in result["obligations"]}
        assert {"regulator_initial_report", "regulator_written_report", "special_audit"} <= ids
        # Alerts reached the roles of a grade II response, masked, with a personal ack link.
        alert = http.wait_for("/ok/zhao.lei")[0].json()["message"]  # emergency working group
        assert incident_id in alert and "13812345678" not in alert
        assert http.at("/ok/li.ming") and smtp.messages and "网银系统管理员权限被获取" in smtp.messages[0].subject
        # The alert went through a task, and the run's notices artifact lists each delivery.
        alert_artifact = notices_artifact(server.api, str(state.state_details.flow_run_id))
        alert_rows = [r for r in alert_artifact if r["通知"] == f"incident:{incident_id}:alert"]
        assert {r["收件人"] for r in alert_rows} >= {"赵磊（zhao.lei）", "李明（li.ming）"}
        assert {r["渠道"] for r in alert_rows if r["收件人"] == "李明（li.ming）"} == {"1 webhook", "2 email"}
        assert all(r["结果"] == "已送达" and r["尝试次数"] == 1 and r["发送时是否已确认"] == "否" for r in alert_rows)
        # The regulator report draft opens and carries the NFRA 45 elements.
        drafts = {d["kind"]: d for d in result["drafts"]}
        document = Document(drafts["regulator_report"]["path"])
        text = "\n".join([p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells])
        assert "第四十五条" in text and "网上银行系统" in text
        # Acknowledging stops escalation of the alert.
        assert httpx.post(http.ack_link_in(alert, world["ack"])).status_code == 200
        assert run_escalations(profile, now=utcnow() + dt.timedelta(hours=1)) == []

        drain_prefect_workers()
        assert any(incident_id in m for m in run_logs(server.api, str(state.state_details.flow_run_id), incident_id))
        server.stop()  # the server goes down; the 30-minute reminder point passes while it is down
        server = start("127.0.0.1", port, root / "home", root / "logs")
        wait_healthy(server, timeout=240)
        before = len(http.received)
        with temporary_settings(updates={PREFECT_API_URL: server.api}):
            watch_state = incident_watch(return_state=True)
        watched = watch_state.result()
        sent = [r for w in watched if w["incident"] == incident_id for r in w["reminders"]]
        assert any(r.startswith("regulator_initial_report:before-30") for r in sent)
        late = [r.json()["message"] for r in http.received[before:] if "【迟发】" in r.json()["message"]]
        assert late and "原定于" in late[0]
        # The run's logs reach the restarted server (Prefect's log worker is not stuck on the old one).
        assert any("已发送提醒" in m for m in run_logs(server.api, str(watch_state.state_details.flow_run_id), "已发送提醒"))
        reminded = notices_artifact(server.api, str(watch_state.state_details.flow_run_id))
        assert any(r["通知"].startswith(f"incident:{incident_id}:regulator_initial_report:") and r["结果"] == "已送达" for r in reminded)

        # Fulfilment stops that obligation's reminders (checked an hour later, past its due time).
        store.fulfil(incident_id, "regulator_initial_report", evidence="已电话并书面报告监管联络人", reference="渝金监〔2025〕1号", by="zhao.lei",
                    people=profile.person_ids)
        incident = store.load_incident(incident_id)
        rows = store.obligations_of(incident_id)
        later = alerts.remind(profile, incident, rows, now=utcnow() + dt.timedelta(hours=1))
        assert not any(r.startswith("regulator_initial_report:") for r in later)
        assert any(r.startswith("regulator_written_report:") or r.startswith("police_report_cii:") for r in later) or later == []

        # Closing needs the emergency working group's decision for grade II (CQ-PLAN 第四篇三（二）).
        assert closing.request_close(profile, incident_id, "li.ming") == ["emergency_working_group"]
        assert closing.try_close(profile, incident_id) is None
        approval = [r.json()["message"] for r in http.at("/ok/sun.li") if "【审批】" in r.json()["title"]][0]
        page = httpx.post(http.ack_link_in(approval, world["ack"]))
        assert page.status_code == 200 and "应急响应已结束" in page.text  # the last approval closes at once
        assert store.load_incident(incident_id).state == "closed"
        closed = [e for e in store.timeline(incident_id) if e.kind == "closed"]
        assert [e.detail["approved_by"] for e in closed] == [{"emergency_working_group": "sun.li"}]
        assert store.load_incident(incident_id).record["response_ended_at"] == closed[0].detail["response_ended_at"]
        assert closing.try_close(profile, incident_id) is None  # nothing left for the watch to do
    finally:
        drain_prefect_workers()
        server.stop()


def test_drill_goes_only_to_participants_tagged(world) -> None:  # type: ignore[no-untyped-def]
    http, profile = world["http"], world["profile"]
    record = record_due_in(60, drill=True).model_dump(mode="json")
    grading = {"grade": "II", "warning": "orange", "warning_zh": "橙色", "response_level": "II", "lead": "emergency_working_group",
               "reasons": ["演练"]}
    incident_id = "INC-20251001-DRILL1"
    alerts.send_alert(profile, incident_id, record, grading, [], ["on_call", "emergency_working_group"], ["wang.fang"])
    payload = http.wait_for("/ok/wang.fang")[0].json()
    assert payload["title"].startswith("【演练】") and "应急演练" in payload["message"]
    assert [r.path for r in http.received] == ["/ok/wang.fang"]


def test_monitoring_endpoint_declares_through_the_deployment(world, prefect_api: str, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from flows.incident_response import incident_response

    incident_response.to_deployment(name="incident-response").apply()
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", "ingest-token-for-tests")
    body = record_due_in(60).model_dump(mode="json")
    url = f"{world['ack']}/incidents"
    os.environ["PREFECT_API_URL"] = prefect_api
    try:
        assert httpx.post(url, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
        bad = httpx.post(url, json={**body, "discovered_at": "2025-10-01T09:00:00"}, headers={"Authorization": "Bearer ingest-token-for-tests"})
        assert bad.status_code == 422 and "discovered_at" in bad.json()["error"]
        ok = httpx.post(url, json=body, headers={"Authorization": "Bearer ingest-token-for-tests"}, timeout=60)
        assert ok.status_code == 202, ok.text
        run = httpx.get(f"{prefect_api}/flow_runs/{ok.json()['flow_run_id']}").json()
        assert run["parameters"]["incident"]["title"] == body["title"]
        assert "warnings" not in ok.json()
        # A typed end of response is not taken (CQ-PLAN 第四篇三), and the sender is told so: the
        # form has no such field, so without this the value vanished without a word.
        ended = {**body, "title": body["title"] + "（已结束）", "response_ended_at": body["discovered_at"]}
        told = httpx.post(url, json=ended, headers={"Authorization": "Bearer ingest-token-for-tests"}, timeout=60)
        assert told.status_code == 202 and "不予采用" in told.json()["warnings"][0], told.text
    finally:
        os.environ.pop("PREFECT_API_URL", None)


@pytest.mark.prefect
def test_a_refused_form_fails_the_deployed_run_in_chinese_with_no_traceback(world, run_as_deployed) -> None:  # type: ignore[no-untyped-def]
    """Review of issue 14, 7: run as a deployment runs (``python -m prefect.engine``), a form
    refused for a future time ended Failed but logged ``Engine execution exited with unexpected
    exception`` and a traceback of ``FailedRun``. Now: Failed, the Chinese message, no traceback."""
    from flows.incident_response import incident_response

    later = utcnow().astimezone(BEIJING) + dt.timedelta(hours=8)
    form = form_from_record(record_due_in(60)).model_dump(mode="json")
    ran = run_as_deployed(incident_response, {"incident": {**form, "discovered_at": later.strftime("%Y-%m-%d %H:%M")},
                                              "declared_by": "李明（li.ming）"})
    state, logs = ran["run"]["state"], ran["logs"]
    assert state["type"] == "FAILED" and state["message"].startswith("事件申报未登记：") and "晚于当前时间" in state["message"]
    assert any("事件申报未登记" in m for m in logs)
    assert not [m for m in logs if "Traceback" in m or "unexpected exception" in m], logs


@pytest.mark.prefect
@pytest.mark.parametrize("zone", ["+08:00", "UTC"])
def test_the_endpoint_alerts_before_the_run_starts_and_the_run_goes_on_with_it(world, prefect_api: str, run_as_deployed,  # type: ignore[no-untyped-def]
                                                                             monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    """Issue 18, goal 4: ``POST /incidents`` records the incident for the run it starts (under that
    run's idempotency key) and sends its alert at once, while that run is still waiting for a
    runner (none serves it here: before, nothing was recorded or sent until it ran). The run, when it runs, goes on with the incident
    recorded for it (not a second declaration), completes, and sends nobody the alert twice."""
    from flows.incident_response import incident_response

    incident_response.to_deployment(name="incident-response").apply()
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", "ingest-token-for-tests")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    http = world["http"]
    record = record_due_in(60)
    body = record.model_dump(mode="json")
    if zone == "UTC":  # the same instants sent in UTC (review: the run rebuilt them in +08:00, another incident id)
        body = {**body, "title": f"{record.title}（UTC）",
                **{k: getattr(record, k).astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
                   for k in ("occurred_at", "discovered_at") if getattr(record, k) is not None}}
    answer = httpx.post(f"{world['ack']}/incidents", json=body, headers={"Authorization": "Bearer ingest-token-for-tests"}, timeout=60)
    assert answer.status_code == 202, answer.text
    run_id, incident_id = answer.json()["flow_run_id"], answer.json()["incident_id"]
    alerted = sorted(r.path for r in http.received if incident_id in r.json()["message"])
    assert alerted, [r.path for r in http.received]  # delivered before the answer
    assert httpx.get(f"{prefect_api}/flow_runs/{run_id}", timeout=30).json()["state"]["type"] == "SCHEDULED"
    recorded = [e for e in store.timeline(incident_id) if e.kind == "recorded"]
    key = httpx.get(f"{prefect_api}/flow_runs/{run_id}", timeout=30).json()["idempotency_key"]
    assert recorded[0].detail["run_key"] == key and key.startswith("ingest:") and recorded[0].actor == "monitoring"
    assert store.obligations_of(incident_id)  # the clock is stored: the alert named the next deadlines

    ran = run_as_deployed(incident_response, {}, flow_run_id=run_id)
    assert ran["run"]["state"]["type"] == "COMPLETED", ran["logs"]
    assert any(f"已登记 事件 {incident_id}" in m for m in ran["logs"]), ran["logs"]
    assert sorted(r.path for r in http.received if incident_id in r.json()["message"]) == alerted  # nobody twice
    assert [e.kind for e in store.timeline(incident_id)].count("recorded") == 1
    assert any(e.kind == "drafted" for e in store.timeline(incident_id))  # the run's own part: the drafts


@pytest.mark.prefect
def test_when_the_run_cannot_be_created_the_retry_starts_it_once(world, prefect_api: str, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The alert goes out before the run is created (issue 18, goal 4). When Prefect then refuses
    the run, the answer is 503 naming the incident already recorded and alerted; the sender's retry
    is a duplicate (409) and creates the missing run with the first attempt's idempotency key."""
    from flows.incident_response import incident_response
    from regflows.incident import ingest

    incident_response.to_deployment(name="incident-response").apply()
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", "ingest-token-for-tests")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    body = {**record_due_in(60).model_dump(mode="json"), "title": "核心系统数据库主机被入侵（重试）"}
    headers = {"Authorization": "Bearer ingest-token-for-tests"}
    monkeypatch.setattr(ingest, "DEPLOYMENT", "incident-response/no-such-deployment")
    refused = httpx.post(f"{world['ack']}/incidents", json=body, headers=headers, timeout=60)
    assert refused.status_code == 503 and "已登记并已通知" in refused.json()["error"], refused.text
    incident_id = refused.json()["incident_id"]
    assert any(incident_id in r.json()["message"] for r in world["http"].received)
    key = store.run_key_of(incident_id)
    monkeypatch.setattr(ingest, "DEPLOYMENT", "incident-response/incident-response")
    for _ in range(2):  # the second retry finds the run the first one created
        again = httpx.post(f"{world['ack']}/incidents", json=body, headers=headers, timeout=60)
        assert again.status_code == 409 and again.json()["incident_id"] == incident_id, again.text
    runs = httpx.post(f"{prefect_api}/flow_runs/filter", timeout=30, json={"limit": 200}).json()
    assert [r["idempotency_key"] for r in runs].count(key) == 1


@pytest.mark.prefect
def test_the_same_declaration_sent_three_times_at_once_is_one_incident_and_two_refusals(world, prefect_api: str,  # type: ignore[no-untyped-def]
                                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Review of issue 18, goal 4: two of three simultaneous copies were answered 202, one with a
    false promise and a run that then failed; the losers of the race are duplicates (409)."""
    from concurrent.futures import ThreadPoolExecutor

    from flows.incident_response import incident_response

    incident_response.to_deployment(name="incident-response").apply()
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", "ingest-token-for-tests")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    body = {**record_due_in(60).model_dump(mode="json"), "title": "核心系统数据库主机被入侵（并发）"}

    def send(_: int) -> httpx.Response:
        return httpx.post(f"{world['ack']}/incidents", json=body, headers={"Authorization": "Bearer ingest-token-for-tests"}, timeout=120)

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(send, range(3)))
    assert sorted(a.status_code for a in answers) == [202, 409, 409], [a.text for a in answers]
    assert len({a.json()["incident_id"] for a in answers}) == 1


@pytest.mark.prefect
def test_with_prefect_unreachable_the_incident_is_recorded_and_named(world, prefect_api: str,  # type: ignore[no-untyped-def]
                                                                     monkeypatch: pytest.MonkeyPatch, free_port) -> None:
    """Review of issue 18, goal 4: with Prefect's server unreachable (the usual 503) nothing was
    recorded: the SMS rate limit's hook, made first, needs the server. The incident and its clock
    are recorded first, and the 503 names the incident; the retry (409) starts the run later."""
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", "ingest-token-for-tests")
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")  # nothing listens there
    body = {**record_due_in(60).model_dump(mode="json"), "title": "核心系统数据库主机被入侵（服务器不可达）"}
    answer = httpx.post(f"{world['ack']}/incidents", json=body, headers={"Authorization": "Bearer ingest-token-for-tests"}, timeout=120)
    assert answer.status_code == 503, answer.text
    incident_id = answer.json()["incident_id"]
    assert incident_id in answer.json()["error"] and store.obligations_of(incident_id)
    assert store.run_key_of(incident_id)
