"""Tasks of the calendar watch: coverage, provisional deadlines, schedule refresh, deployments
whose next run is missing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from prefect import get_client, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.schedules import RRuleSchedule
from prefect.client.schemas.sorting import FlowRunSort

from calendars.coverage import CoverageReport, OpenDeadline, check_coverage, day_counted_last_day
from calendars.official import default_calendar
from calendars.zone import SHANGHAI
from calendars.schedules import TIMEZONE
from regflows import config
from regflows.deployments import read_prefect_yaml
from regflows.store.obligations import all_open_rows


def shanghai_today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


@task(name="read-open-deadlines 读取未完成的按日计算期限", retries=2, retry_delay_seconds=10)
def open_deadlines_task() -> list[OpenDeadline]:
    """Every open obligation whose deadline is counted in days (the only ones a holiday notice can
    move), with its last day, for the coverage check to name the provisional ones."""
    out = []
    for row in all_open_rows():
        if row.every is not None:
            continue  # a recurring obligation counts hours
        detail = row.detail or {}
        if "last_day" in detail and detail["last_day"] is None:
            continue  # the procedure says so: an "N hours" deadline, never moved by a holiday
        last_day = day_counted_last_day(row.due_at, detail.get("last_day"))
        if last_day is not None:
            out.append(OpenDeadline(f"{row.procedure} {row.subject}「{row.title}」", last_day))
    return out


@task(name="check-calendar-coverage 检查日历覆盖")
def coverage_task(today: dt.date, horizon_days: int, warn_from: str, deadlines: list[OpenDeadline] | None = None) -> CoverageReport:
    report = check_coverage(default_calendar(), today, horizon_days, warn_from, deadlines or [])
    logger = get_run_logger()
    for warning in report.warnings:
        logger.warning(warning)
    if report.ok:
        logger.info("日历数据覆盖 %s 至 %s", today, report.horizon_end)
    return report


@dataclass
class ScheduleState:
    deployment: str
    schedule: str
    next_run: str | None
    refreshed: bool


@task(name="refresh-schedules 刷新工作日排程并检查下次运行", retries=2, retry_delay_seconds=10)
async def schedules_task(today: dt.date) -> list[ScheduleState]:
    """Re-derive every working-day RRule from today, then find deployments with no next run.

    Refreshing daily keeps the RDATE list inside Prefect's size cap and picks up a newly added
    year; a deployment with active schedules but no upcoming run means its schedule ran out.
    Retried on an error (the server unreachable a moment): writing the same rule again changes nothing.
    """
    specs = {s.name: s for s in read_prefect_yaml(config.prefect_yaml())}
    states: list[ScheduleState] = []
    now = dt.datetime.now(dt.timezone.utc)
    async with get_client() as client:
        deployments = await client.read_deployments(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=list(specs)))
        )
        for deployment in deployments:
            spec = specs[deployment.name]
            refreshed = False
            by_slug = {s.slug: s for s in deployment.schedules if s.slug}
            for wd in spec.working_days:
                rule, _last = wd.rrule(today)
                current = by_slug.get(wd.slug)
                if current is None or not rule:
                    continue
                if getattr(current.schedule, "rrule", None) != rule:
                    await client.update_deployment_schedule(
                        deployment.id, current.id, schedule=RRuleSchedule(rrule=rule, timezone=TIMEZONE)
                    )
                    refreshed = True
            if refreshed:
                # Ask the server to create the new upcoming runs now rather than at its next loop,
                # so the next-run check below sees them.
                response = await client._client.post(f"/deployments/{deployment.id}/schedule", json={})
                response.raise_for_status()
                deployment = await client.read_deployment(deployment.id)
            if not any(s.active for s in deployment.schedules):
                continue
            upcoming = await client.read_flow_runs(
                deployment_filter=DeploymentFilter(id={"any_": [deployment.id]}),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                    expected_start_time=FlowRunFilterExpectedStartTime(after_=now),
                ),
                sort=FlowRunSort.EXPECTED_START_TIME_ASC,
                limit=1,
            )
            next_run = upcoming[0].expected_start_time.astimezone(SHANGHAI).isoformat() if upcoming else None
            states.append(ScheduleState(deployment.name, ", ".join(s.slug or "schedule" for s in deployment.schedules), next_run, refreshed))
    return states


@task(name="publish-calendar-check 发布日历检查结果", retries=2, retry_delay_seconds=10)  # artifacts by key: a retry replaces them
def publish_task(report: CoverageReport, states: list[ScheduleState]) -> None:
    rows = [
        {"部署": s.deployment, "排程": s.schedule, "下次运行（北京时间）": s.next_run or "无（排程已耗尽）", "今日已刷新": "是" if s.refreshed else "否"}
        for s in states
    ]
    if rows:
        create_table_artifact(rows, key="calendar-watch-schedules", description="各部署的下次计划运行")
    lines = [
        "# 工作日日历检查",
        "",
        f"- 检查日：{report.today}，前瞻至 {report.horizon_end}",
        f"- 已载入年份：{', '.join(str(y) for y in report.covered_years)}",
        "",
    ]
    lines += [f"- ⚠️ {w}" for w in report.warnings] or ["- ✅ 覆盖完整"]
    create_markdown_artifact("\n".join(lines), key="calendar-watch", description="日历覆盖与排程检查")
