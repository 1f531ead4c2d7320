"""The notice watch gives back the runs a dead worker or a crash left behind (tasks/recovery.py,
regflows/recovery.py; issue 19, item 6), on a real Prefect server, and a crashed incident
response started again goes on with the declaration it recorded instead of refusing it."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from uuid import UUID
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from calendars.zone import SHANGHAI
from regflows.store import db
from regflows.store.models import AuditEntry


@pytest.fixture
def world(world, tmp_path: Path):  # type: ignore[no-untyped-def]
    """tests/flows/conftest.py's world, its profile giving a run 1.2 s to start (the test's runs are old enough at once)."""
    profile_file = tmp_path / "profile.yaml"
    data = yaml.safe_load(profile_file.read_text(encoding="utf-8"))
    data.setdefault("settings", {})["run_pending_grace_minutes"] = 0.02
    profile_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return world


def _form(title: str) -> dict[str, object]:
    discovered = dt.datetime.now(SHANGHAI) - dt.timedelta(minutes=10)
    return {"title": title, "discovered_at": discovered.strftime("%Y-%m-%d %H:%M"),
            "occurred_at": (discovered - dt.timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M"), "category": "信息破坏事件",
            "system_name": "网上银行系统", "discovered_by": "值班工程师", "cause": "待查"}


def _state(api: str, run_id: str) -> tuple[str, str]:
    run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=30).json()
    return run["state"]["type"], run["state"]["name"]


def _run_again(client: Any, run_id: str) -> dict[str, Any]:
    """The incident response of this flow run, run here as a worker's process would run it."""
    from flows.incident_response import incident_response
    from prefect.flow_engine import run_flow

    flow_run = client.read_flow_run(UUID(run_id))
    result = run_flow(incident_response, flow_run=flow_run, parameters=flow_run.parameters)
    assert isinstance(result, dict)
    return result


@pytest.mark.prefect
def test_stuck_runs_are_given_back_and_a_crashed_incident_response_goes_on_with_its_incident(world, prefect_api: str,  # type: ignore[no-untyped-def]
                                                                                             drain_prefect_workers) -> None:
    from flows.incident_response import incident_response
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed, Pending, Scheduled

    from flows.notice_watch import notice_watch
    from regflows.incident import store
    from regflows.profile import load_profile, profile_path
    from regflows.recovery import RESTART_NAME, RecoveryPolicy
    from tasks.recovery import recover_runs

    response = incident_response.to_deployment(name="incident-response").apply()  # registered, not served: runs wait
    watch = incident_response.to_deployment(name="notice-watch").apply()  # a deployment not restarted after a crash
    with get_client(sync_client=True) as client:
        def run(on, title: str) -> str:  # type: ignore[no-untyped-def]
            return str(client.create_flow_run_from_deployment(on, parameters={"incident": _form(title), "declared_by": "李明（li.ming）"},
                                                               state=Scheduled()).id)

        taken = run(response, "网银登录异常 A")  # a worker took it and died before starting its process
        client.set_flow_run_state(taken, Pending(), force=True)
        started = run(response, "网银登录异常 B")  # its process started, and never reported Running in three graces
        client.set_flow_run_state(started, Pending(), force=True)
        client.update_flow_run(UUID(started), infrastructure_pid="4242")
        other = run(watch, "网银登录异常 D")
        client.set_flow_run_state(other, Crashed(), force=True)
        # An incident response that recorded its declaration and then crashed (run here, in this process).
        crashed = run(response, "核心系统数据泄露 E")
        first = _run_again(client, crashed)
        incident_id = first["incident_id"]
        client.set_flow_run_state(crashed, Crashed(message="process exited"), force=True)

    time.sleep(4)  # three graces of 1.2 s for the run whose process started
    watched = notice_watch(return_state=True)
    assert watched.is_completed()
    drain_prefect_workers()  # the run's log lines, still buffered, sent
    logs = [m["message"] for m in httpx.post(f"{prefect_api}/logs/filter", timeout=30,
                                             json={"logs": {"flow_run_id": {"any_": [str(watched.state_details.flow_run_id)]}}}).json()]
    assert any("进程视为已中断" in m for m in logs) and any("仍未启动" in m for m in logs) and any("异常中断" in m for m in logs)
    assert _state(prefect_api, taken) == ("SCHEDULED", RESTART_NAME)
    assert _state(prefect_api, crashed) == ("SCHEDULED", RESTART_NAME)
    assert _state(prefect_api, started) == ("SCHEDULED", RESTART_NAME)
    assert _state(prefect_api, other)[0] == "CRASHED"
    with db.session() as s:
        given = s.execute(select(AuditEntry.subject).where(AuditEntry.action == "run.given_back")).scalars().all()
    assert {taken, started, crashed} <= set(given) and other not in given  # (the session server may hold other tests' runs)
    again_rows = recover_runs({"incident-response", "notice-watch"}, RecoveryPolicy.from_settings(load_profile(profile_path()).settings))
    ours = [(r["id"], r["action"], r["done"]) for r in again_rows if r["id"] in {taken, started, other, crashed}]
    assert ours == []  # nothing given back twice

    # Started again (as a worker would): the same incident, not refused as a second declaration.
    with get_client(sync_client=True) as client:
        again = _run_again(client, crashed)
    assert again["incident_id"] == incident_id and "refused" not in again
    assert _state(prefect_api, crashed)[0] == "COMPLETED"
    assert store.run_key_of(incident_id) == f"run:{crashed}"
    drain_prefect_workers()


@pytest.mark.prefect
def test_a_store_that_goes_away_while_recording_is_retried(world, prefect_api: str, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                            drain_prefect_workers) -> None:
    """PostgreSQL restarting under a declaration's run (the load-and-faults run): the recording
    task is tried again and the run completes with one incident."""
    from sqlalchemy.exc import OperationalError

    import tasks.incident as module
    from flows.incident_response import incident_response

    real = module.record_declaration
    failed: list[bool] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if not failed:
            failed.append(True)
            raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "record_declaration", flaky)
    monkeypatch.setattr(module.record_task, "retry_delay_seconds", 0)
    state = incident_response(incident=_form("核心系统数据泄露 G"), declared_by="李明（li.ming）", return_state=True)
    assert failed and state.is_completed(), state
    with db.session() as s:
        recorded = s.execute(select(AuditEntry.subject).where(AuditEntry.action == "incident.recorded")).scalars().all()
    assert recorded == [state.result()["incident_id"]]
    drain_prefect_workers()
