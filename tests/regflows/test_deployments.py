"""Against a real Prefect server: `regflows up` registers prefect.yaml, schedules fall on working
days, stopping keeps the upcoming runs, and the calendar watch raises a schedule that ran out."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prefect import flow

from calendars.official import default_calendar
from calendars.zone import SHANGHAI
from calendars.schedules import WorkingDaySchedule
from regflows.deployments import ConcurrencyLimit, DeploymentFileError, read_prefect_yaml

REPO = Path(__file__).resolve().parents[2]
REGFLOWS = str(Path(sys.executable).parent / "regflows")
#: The deployments that run by themselves and must never overlap themselves (issue 11, item 5).
ONE_AT_A_TIME = {"notice-watch", "incident-watch", "credit-stats-watch", "calendar-watch", "audit-anchor", "audit-verify",
                 "credit-daily-check", "self-inspection-watch", "rating-watch",
                 "drill-watch"}


def test_the_watches_are_one_at_a_time_in_prefect_yaml() -> None:
    limits = {spec.name: spec.concurrency for spec in read_prefect_yaml(REPO / "prefect.yaml")}
    assert {name for name, limit in limits.items() if limit} == ONE_AT_A_TIME
    # a tick left Pending by a killed worker holds its watch's slot one minute, not Prefect's five
    assert all(limits[name] == ConcurrencyLimit(1, "CANCEL_NEW", 60) for name in ONE_AT_A_TIME)


@pytest.mark.parametrize(("raw", "expected"), [
    (2, ConcurrencyLimit(2, "ENQUEUE")),
    ({"limit": 1}, ConcurrencyLimit(1, "ENQUEUE")),
    ({"limit": 1, "collision_strategy": "CANCEL_NEW"}, ConcurrencyLimit(1, "CANCEL_NEW")),
    (0, "并发上限应为正整数"),
    (True, "并发上限应为正整数"),
    ({"limit": 1, "collision_strategy": "cancel"}, "collision_strategy 应为 ENQUEUE 或 CANCEL_NEW"),
    ({"limit": 1, "slots": 2}, "不支持的键 slots"),
    ({"limit": 1, "grace_period_seconds": 60}, ConcurrencyLimit(1, "ENQUEUE", 60)),
    ({"limit": 1, "grace_period_seconds": 30}, "grace_period_seconds 应为 60 至 86400"),
])
def test_concurrency_limit_forms_and_errors(tmp_path: Path, raw: object, expected: object) -> None:
    path = tmp_path / "prefect.yaml"
    path.write_text(yaml.safe_dump({"deployments": [{"name": "w", "entrypoint": "flows/x.py:x", "concurrency_limit": raw}]}),
                    encoding="utf-8")
    if isinstance(expected, ConcurrencyLimit):
        assert read_prefect_yaml(path)[0].concurrency == expected
    else:
        with pytest.raises(DeploymentFileError, match=str(expected)) as info:
            read_prefect_yaml(path)
        assert f"文件 {path} 第 2 行 deployments[0].concurrency_limit" in str(info.value)  # the line a person fixes


def api_post(api: str, path: str, body: dict) -> Any:
    response = httpx.post(f"{api}{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def deployments_by_name(api: str) -> dict[str, dict]:
    return {d["name"]: d for d in api_post(api, "/deployments/filter", {})}


def scheduled_runs(api: str, deployment_id: str) -> list[dict]:
    return api_post(
        api,
        "/flow_runs/filter",
        {
            "deployments": {"id": {"any_": [deployment_id]}},
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
            "sort": "EXPECTED_START_TIME_ASC",
        },
    )


def wait_for(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@pytest.mark.prefect
def test_up_serves_every_deployment_and_stopping_keeps_the_runs(prefect_server: str, tmp_path: Path) -> None:
    specs = read_prefect_yaml(REPO / "prefect.yaml")
    names = {spec.name for spec in specs}
    scheduled = {spec.name for spec in specs if spec.schedules or spec.working_days}  # the rest are run on demand
    # A working-day schedule whose next run day lies beyond the loaded calendar (self-inspection's
    # first working day of the next quarter, asked in late November) has no run yet: `up` warns.
    today = dt.datetime.now(SHANGHAI).date()
    run_out = {spec.name for spec in specs if spec.working_days and not spec.schedules
               and all(wd.rrule(today)[1] is None for wd in spec.working_days)}
    scheduled -= run_out
    env = dict(
        os.environ,
        PREFECT_API_URL=prefect_server,
        PREFECT_HOME=str(tmp_path / "prefect-client"),
        REGFLOWS_HOME=str(tmp_path / "home"),
        REGFLOWS_DATABASE_URL=f"sqlite:///{tmp_path / 'home' / 'regflows.db'}",
    )
    env.pop("REGFLOWS_PROFILE", None)
    log = (tmp_path / "up.log").open("wb")
    up = subprocess.Popen([REGFLOWS, "up", "--no-server"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: names <= set(deployments_by_name(prefect_server)), 120, f"deployments {names}")
        deployments = deployments_by_name(prefect_server)
        assert {"calendar-watch", "audit-verify", "incident-watch"} <= scheduled
        for name in scheduled:
            wait_for(lambda name=name: scheduled_runs(prefect_server, deployments[name]["id"]), 60, f"scheduled runs of {name}")
        verify_runs = scheduled_runs(prefect_server, deployments["audit-verify"]["id"])
        cal = default_calendar()
        for run in verify_runs:
            local = dt.datetime.fromisoformat(run["expected_start_time"]).astimezone(SHANGHAI)
            assert (local.hour, local.minute) == (9, 0)
            assert cal.is_working_day(local.date()), f"audit-verify scheduled on non-working day {local}"
        slugs = [s["slug"] for s in deployments["audit-verify"]["schedules"]]
        assert slugs == ["working-days-day-1-0900"]
        # PBOC-102 二（四） 日核查: the daily credit check every working day at 08:00
        daily_runs = scheduled_runs(prefect_server, deployments["credit-daily-check"]["id"])
        assert daily_runs
        for run in daily_runs:
            local = dt.datetime.fromisoformat(run["expected_start_time"]).astimezone(SHANGHAI)
            assert (local.hour, local.minute) == (8, 0) and cal.is_working_day(local.date()), local
        # The served watches carry their limit: the server cancels a run that would overlap.
        for name in names:
            served = deployments[name]
            if name in ONE_AT_A_TIME:
                assert served["global_concurrency_limit"]["limit"] == 1, served
                assert served["global_concurrency_limit"]["active"], served
                assert served["concurrency_options"]["collision_strategy"] == "CANCEL_NEW", served
                assert served["concurrency_options"]["grace_period_seconds"] == 60, served
            else:
                assert served["global_concurrency_limit"] is None, served
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            pytest.fail("regflows up did not stop on SIGINT within 60 s")
    said = (tmp_path / "up.log").read_text(encoding="utf-8", errors="replace")
    for name in run_out:
        assert f"部署 {name} 的" in said and "已无可用日期" in said, said[-2000:]
    after = deployments_by_name(prefect_server)
    for name in names:
        assert not after[name]["paused"], f"{name} was paused on shutdown"
    for name in scheduled:
        assert scheduled_runs(prefect_server, after[name]["id"]), f"{name} lost its scheduled runs on shutdown"


@flow(name="regflows-test-monthly")
def monthly_probe() -> None:
    """A flow for registering test deployments."""


@pytest.mark.prefect
def test_working_day_schedule_gives_the_right_runs_in_prefect(prefect_api: str) -> None:
    """October 2025's first working day is the 9th: the server must schedule it there."""
    spec = WorkingDaySchedule(every="month", n=1, at="09:00")
    rule, _ = spec.rrule(dt.date(2025, 9, 1))
    from prefect.schedules import RRule

    deployment = monthly_probe.to_deployment(name="first-working-day", schedules=[RRule(rule, timezone="Asia/Shanghai", slug=spec.slug)])
    deployment_id = str(deployment.apply())
    api_post(
        prefect_api,
        f"/deployments/{deployment_id}/schedule",
        {"start_time": "2025-09-01T00:00:00+08:00", "end_time": "2025-12-31T23:59:59+08:00", "min_runs": 10, "max_runs": 10},
    )
    runs = [
        dt.datetime.fromisoformat(r["expected_start_time"]).astimezone(SHANGHAI)
        for r in scheduled_runs(prefect_api, deployment_id)
    ]
    backfilled = [r.replace(tzinfo=None) for r in runs if r.year == 2025]
    assert backfilled == [
        dt.datetime(2025, 9, 1, 9), dt.datetime(2025, 10, 9, 9), dt.datetime(2025, 11, 3, 9), dt.datetime(2025, 12, 1, 9),
    ]


@flow(name="regflows-test-yearly")
def yearly_probe() -> None:
    """A flow for registering test deployments."""


@pytest.mark.prefect
def test_calendar_watch_refreshes_schedules_and_raises_one_that_ran_out(
    prefect_api: str, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.schedules import RRule
    from sqlalchemy import select

    from flows.calendar_watch import ScheduleRanOut, calendar_watch
    from regflows.store import db, migrate
    from regflows.store.models import OutboxMessage

    migrate()
    yearly = WorkingDaySchedule(every="year", n=1, at="09:00")  # 2026's first working day has passed
    monthly = WorkingDaySchedule(every="month", n=1, at="09:00")
    stale = "DTSTART:20250101T090000\nRDATE:20250102T090000"  # only a past date
    config = {
        "definitions": {"working_day_schedules": {"ran-out": [yearly.model_dump()], "refresh-me": [monthly.model_dump()]}},
        "deployments": [
            {"name": "ran-out", "entrypoint": "tests/regflows/test_deployments.py:yearly_probe"},
            {"name": "refresh-me", "entrypoint": "tests/regflows/test_deployments.py:monthly_probe"},
        ],
    }
    path = tmp_path / "prefect.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("REGFLOWS_PREFECT_YAML", str(path))
    yearly_probe.to_deployment(name="ran-out", schedules=[RRule(stale, timezone="Asia/Shanghai", slug=yearly.slug)]).apply()
    refresh_id = monthly_probe.to_deployment(
        name="refresh-me", schedules=[RRule(stale, timezone="Asia/Shanghai", slug=monthly.slug)]
    ).apply()

    with pytest.raises(ScheduleRanOut, match="ran-out"):
        asyncio.run(calendar_watch())

    today = dt.datetime.now(SHANGHAI).date()
    expected_rule, _ = monthly.rrule(today)
    refreshed = deployments_by_name(prefect_api)["refresh-me"]
    assert refreshed["schedules"][0]["schedule"]["rrule"] == expected_rule
    if expected_rule:  # the data reaches beyond today: the refreshed schedule has an upcoming run
        assert scheduled_runs(prefect_api, str(refresh_id))
    with db.session() as s:
        titles = [m.title for m in s.execute(select(OutboxMessage)).scalars()]
        bodies = " ".join(m.body for m in s.execute(select(OutboxMessage)).scalars())
    assert "【日历提醒】工作日日历需要处理" in titles and "ran-out" in bodies
