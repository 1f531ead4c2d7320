"""The minute watch republishes an incident's clock in the UI only when it changed (or its time
left is ``settings.clock_view_refresh_minutes`` old): on a real Prefect server, read back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest

from regflows.incident import store
from regflows.incident.declaration import record_declaration
from regflows.incident.recompute import clock_rows
from regflows.incident.record import IncidentRecord
from regflows.store.models import utcnow

BEIJING = dt.timezone(dt.timedelta(hours=8))


def declare(profile: Any, title: str, key: str) -> str:
    discovered = utcnow().astimezone(BEIJING).replace(microsecond=0) - dt.timedelta(minutes=70)
    record = IncidentRecord.model_validate({
        "title": title, "occurred_at": (discovered - dt.timedelta(minutes=30)).isoformat(), "discovered_at": discovered.isoformat(),
        "discovered_by": "值班工程师", "system_name": "网上银行系统", "location": "总行数据中心", "category": "network_attack",
        "important_system": True, "compromise": "important_system_admin", "cause": "疑似弱口令"})
    recorded = record_declaration(record, profile.head_office.code, "li.ming", None, key)
    clock_rows(recorded.incident_id, recorded.record, recorded.grading, profile, utcnow())
    return recorded.incident_id


def shown_clock(api: str, incident_id: str) -> list[dict[str, Any]]:
    found = httpx.get(f"{api}/artifacts/incident-{incident_id.lower()}-clock/latest", timeout=30).json()
    return json.loads(found["data"])


@pytest.mark.prefect
def test_the_watch_republishes_only_the_clock_that_changed(world, prefect_api: str, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import tasks.incident
    from flows.incident_watch import incident_watch

    profile = world["profile"]
    first, second = declare(profile, "网银系统管理员权限被获取", "k1"), declare(profile, "手机银行系统管理员权限被获取", "k2")

    def published() -> dict[str, bool]:
        return {r["incident"]: r["clock_published"] for r in incident_watch() if r["incident"] in (first, second)}

    assert published() == {first: True, second: True}  # never shown: both published
    assert published() == {first: False, second: False}  # a minute later, nothing but the time left moved

    store.fulfil(first, "regulator_initial_report", evidence="已电话报告监管联络人", by="zhao.lei", people=profile.person_ids)
    assert published() == {first: True, second: False}
    line = next(r for r in shown_clock(prefect_api, first) if r["编号"] == "regulator_initial_report")
    assert line["状态"] == "已履行"

    # Past the refresh interval the time left is republished though nothing else changed.
    later = utcnow() + dt.timedelta(minutes=profile.settings.clock_view_refresh_minutes)
    monkeypatch.setattr(tasks.incident, "utcnow", lambda: later)
    assert published() == {first: True, second: True}


@pytest.mark.prefect
def test_when_the_shown_clocks_cannot_be_read_every_clock_is_published(world, prefect_api: str,  # type: ignore[no-untyped-def]
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.incident
    from flows.incident_watch import incident_watch

    incident = declare(world["profile"], "网银系统管理员权限被获取", "k3")
    incident_watch()

    def refuse(*_: Any, **__: Any) -> Any:
        raise httpx.ConnectError("refused")

    monkeypatch.setattr(tasks.incident, "get_client", refuse)
    assert [r["clock_published"] for r in incident_watch() if r["incident"] == incident] == [True]
