"""Personal data typed into a form does not persist unmasked in Prefect (issue 14, 3): the run's
stored parameters, its logs, its events and its task runs, read back through the API."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest

from calendars.zone import SHANGHAI

ID_NUMBER, PHONE = "110101199003071234", "13812345678"


def _everything_prefect_keeps(api: str, run_id: str) -> str:
    run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=30).json()
    logs = httpx.post(f"{api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}}, timeout=30).json()
    events = httpx.post(f"{api}/events/filter", timeout=30, json={
        "filter": {"any_resource": {"id": [f"prefect.flow-run.{run_id}"]}, "occurred": {
            "since": (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat()}}, "limit": 50}).json()
    tasks = httpx.post(f"{api}/task_runs/filter", json={"flow_runs": {"id": {"any_": [run_id]}}}, timeout=30).json()
    states = httpx.get(f"{api}/flow_run_states/", params={"flow_run_id": run_id}, timeout=30).json()
    assert "events" in events and run["parameters"]["incident"]  # the events of a short failed run may still be on their way
    return json.dumps([run, logs, events, tasks, states], ensure_ascii=False)


def _form(**changes: object) -> dict[str, object]:
    discovered = dt.datetime.now(SHANGHAI) - dt.timedelta(minutes=10)
    return {"title": f"客户 {ID_NUMBER} 信息泄露", "discovered_at": discovered.strftime("%Y-%m-%d %H:%M"),
            "occurred_at": (discovered - dt.timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M"), "category": "信息破坏事件",
            "system_name": "网上银行系统", "discovered_by": "值班工程师", "cause": f"客户致电 {PHONE} 报告", **changes}


@pytest.mark.prefect
def test_a_run_keeps_nothing_unmasked(world, prefect_api: str, drain_prefect_workers) -> None:  # type: ignore[no-untyped-def]
    from flows.incident_response import incident_response

    from prefect.settings import get_current_settings

    storage = Path(get_current_settings().results.local_storage_path)
    before = {p: p.stat().st_mtime for p in storage.rglob("*") if p.is_file()} if storage.exists() else {}
    form = _form()  # once: a run that crosses a minute must still be compared with the form it got
    state = incident_response(form, "李明（li.ming）", return_state=True)
    assert state.is_completed(), state.message
    # Persisted results (if any task or the flow persisted one) hold no raw number either.
    written = [p for p in storage.rglob("*") if p.is_file() and before.get(p) != p.stat().st_mtime] if storage.exists() else []
    assert not [p for p in written if ID_NUMBER.encode() in p.read_bytes() or PHONE.encode() in p.read_bytes()]
    run_id = str(state.state_details.flow_run_id)
    drain_prefect_workers()
    kept = _everything_prefect_keeps(prefect_api, run_id)
    assert ID_NUMBER not in kept and PHONE not in kept and "核对申报表" in kept  # task runs and logs were read
    stored = httpx.get(f"{prefect_api}/flow_runs/{run_id}", timeout=30).json()["parameters"]
    assert stored["incident"]["title"].startswith("客户 1101") and "****" in stored["incident"]["title"]
    # The first log line reads the times back in Beijing time.
    logs = httpx.post(f"{prefect_api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC"},
                      timeout=30).json()
    ours = [m["message"] for m in logs if "收到事件申报" in m["message"]]
    assert ours and "（北京时间）" in ours[0] and str(form["discovered_at"]) in ours[0]


@pytest.mark.prefect
def test_a_run_that_fails_parameter_validation_keeps_nothing_unmasked(world, prefect_api: str, drain_prefect_workers) -> None:  # type: ignore[no-untyped-def]
    from flows.incident_response import incident_response

    # The refused value itself holds the ID number: Prefect's validation message must not carry it to the server.
    state = incident_response(_form(outage_provinces=f"{ID_NUMBER}号"), "李明（li.ming）", return_state=True)
    assert state.is_failed()
    run_id = str(state.state_details.flow_run_id)
    drain_prefect_workers()
    kept = _everything_prefect_keeps(prefect_api, run_id)
    assert ID_NUMBER not in kept and PHONE not in kept


@pytest.mark.prefect
def test_a_future_time_from_the_form_fails_the_run_in_chinese_without_a_traceback(world, prefect_api: str, drain_prefect_workers) -> None:  # type: ignore[no-untyped-def]
    from flows.incident_response import incident_response

    later = (dt.datetime.now(SHANGHAI) + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    state = incident_response(_form(discovered_at=later), "李明（li.ming）", return_state=True)
    assert state.is_failed() and "「发现时间」（discovered_at）" in (state.message or "") and "晚于当前时间" in (state.message or "")
    run_id = str(state.state_details.flow_run_id)
    drain_prefect_workers()
    logs = httpx.post(f"{prefect_api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}}, timeout=30).json()
    assert not any("Traceback" in m["message"] for m in logs)
    assert any("事件申报未登记" in m["message"] for m in logs)


@pytest.mark.prefect
def test_runs_that_never_start_are_masked_by_the_notice_watch(world, prefect_api: str) -> None:  # type: ignore[no-untyped-def]
    """Issue 14, 4: a run scheduled for later, one cancelled before it started and one waiting
    (Pending) run none of the flow's hooks; the notice watch masks their stored parameters. A run
    without a personal number and a run of another deployment are left as they are."""
    from flows.incident_response import incident_response
    from flows.notice_watch import notice_watch
    from tasks.parameters import MASKING_HOOKS

    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled, Pending, Scheduled

    assert MASKING_HOOKS["on_cancellation"]  # a running run that is cancelled masks itself
    deployment = incident_response.to_deployment(name="incident-response").apply()  # registered, not served: runs wait
    outside = incident_response.to_deployment(name="not-in-prefect-yaml").apply()
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    with get_client(sync_client=True) as client:
        def run(state, form=None, on=deployment):  # type: ignore[no-untyped-def]
            return str(client.create_flow_run_from_deployment(on, parameters={"incident": form or _form(), "declared_by": "李明（li.ming）"},
                                                               state=state).id)

        scheduled = run(Scheduled(scheduled_time=later))
        cancelled = run(Scheduled(scheduled_time=later))
        client.set_flow_run_state(cancelled, Cancelled(), force=True)
        pending = run(Pending())
        clean = run(Scheduled(scheduled_time=later), form=_form(title="网银登录异常", cause="待查"))
        elsewhere = run(Scheduled(scheduled_time=later), on=outside)

    def stored(run_id: str) -> str:
        return json.dumps(httpx.get(f"{prefect_api}/flow_runs/{run_id}", timeout=30).json()["parameters"], ensure_ascii=False)

    assert ID_NUMBER in stored(cancelled)  # what the review saw: kept for good
    before = {clean: stored(clean), elsewhere: stored(elsewhere)}
    notice_watch()
    for run_id in (scheduled, cancelled, pending):
        kept = stored(run_id)
        assert ID_NUMBER not in kept and PHONE not in kept and "110101********1234" in kept and "138****5678" in kept
    assert {run_id: stored(run_id) for run_id in before} == before
    assert httpx.get(f"{prefect_api}/flow_runs/{cancelled}", timeout=30).json()["state"]["type"] == "CANCELLED"
