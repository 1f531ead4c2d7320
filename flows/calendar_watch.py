"""Calendar watch: keep the working-day calendar and the schedules built on it honest.

Daily (prefect.yaml: ``calendar-watch``). It checks that the official calendar covers today and
the profile's horizon (60 days by default), warns the compliance role (through the notices layer) from 1 November that next
year's State Council arrangement is missing, names every open deadline whose last day is
provisional (late December without next year's notice: it is recomputed once the notice is
imported), refreshes every working-day schedule, and fails
loudly when a deployment with a schedule has no upcoming run, because after its last calendar
date a Prefect RRule stops without a word.

A missing year is a warning raised every day, not a crash: the flow completes unless a schedule has
actually run out. The work is in tasks (tasks/calendar_watch.py, the notice through
tasks/notices.py); the flow decides what to say. The profile is read by a plain call, not a task:
reading and validating one YAML file (~15 ms) is cheap and changes nothing; a bad profile fails the
run with its message.
"""

from __future__ import annotations

import datetime as dt

from typing import Annotated

from prefect import flow
from pydantic import Field

from regflows.profile import load_profile, profile_path
from tasks.calendar_watch import coverage_task, open_deadlines_task, publish_task, schedules_task, shanghai_today
from tasks.notices import send_notice_task


class ScheduleRanOut(RuntimeError):
    pass


@flow(name="calendar-watch", log_prints=True)
async def calendar_watch(
    today: Annotated[str, Field(title="检查日", description="YYYY-MM-DD；留空为今天（北京时间）。")] = "",
) -> dict:
    """检查工作日日历覆盖、刷新工作日排程，并在排程耗尽时报警。"""
    profile = load_profile(profile_path())
    day = dt.date.fromisoformat(today) if today else shanghai_today()
    deadlines = open_deadlines_task()
    report = coverage_task(day, profile.settings.calendar_horizon_days, profile.settings.calendar_warn_from, deadlines)
    states = await schedules_task(day)
    publish_task(report, states)
    ran_out = [s.deployment for s in states if s.next_run is None]
    if report.warnings or ran_out:
        # One notice per day (a stable id): raised again every day until fixed, never twice a day.
        warnings = report.warnings + [f"部署 {name} 没有下一次计划运行（排程已耗尽）" for name in ran_out]
        context = {"warnings": warnings, "checked_on": day, "institution": profile.institution.name}
        send_notice_task(profile, "calendar_warning", context, ["compliance"], notice_id=f"calendar-watch:{day.isoformat()}")
    if ran_out:
        raise ScheduleRanOut(f"以下部署没有下一次计划运行：{', '.join(ran_out)}。请载入新年度日历后运行 regflows up 或等待日历检查刷新排程。")
    return {"warnings": report.warnings, "deployments": [s.__dict__ for s in states]}
