"""A drill run (issue 17, item 3): the plan checked (approved, or run as a rehearsal), the drill
incident declared through the real incident-response flow (flows/incident_response.py, as a
subflow: the same record, grading, clock, alerts and drafts, with ``drill: true`` and the plan's
participants), then the injects fired on the plan's timeline (``speed`` compresses the timeline
only, never the regulatory clocks or the escalation waits). What follows the run (reminders,
escalation, the closing) is driven by incident-watch and notice-watch as for any incident.
Thin: tasks only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from flows.incident_response import incident_response
from regflows.drills.run import schedule
from regflows.profile import load_profile, profile_path
from tasks.drills import drill_form_task, finish_task, inject_task, plan_task, started_task
from tasks.refusals import refused

#: How long after the last inject's time limit a channel fault stays in force at most.
FAULT_MARGIN = dt.timedelta(minutes=30)


@flow(name="drill-run", log_prints=True)
def drill_run(
    plan: Annotated[
        str, Field(title="演练方案", description="plan.yaml 的路径（regflows drill plan 写出，经 regflows drill submit 批准）")
    ],
    speed: Annotated[
        float, Field(title="时间线加速倍数", gt=0, allow_inf_nan=False, description="只压缩注入时间线；监管时限、升级等待与测量均按真实时间")
    ] = 1.0,
    rehearsal: Annotated[bool, Field(title="预演", description="运行未经批准的方案（仅供测试），运行标注为预演")] = False,
    run_key: Annotated[str, Field(title="运行标识", description="命令行用以找到本次演练编号；可留空")] = "",
) -> dict[str, Any]:
    """按批准的演练方案运行演练：以演练方式申报事件并走完整的事件应急流程（通知均标注【演练】，仅发参演人员），按时间线注入故障、调级与处置结束。"""
    profile = load_profile(profile_path())
    checked = plan_task(plan, profile, rehearsal)
    if "refused" in checked:
        return refused(checked["refused"])
    drill, is_rehearsal = checked["plan"], checked["rehearsal"]
    started = dt.datetime.now(dt.UTC)
    form = drill_form_task(drill, profile, started, is_rehearsal)
    declared = incident_response(incident=form["form"], declared_by=form["declared_by"], drill_participants=form["participants"])
    incident_id = declared["incident_id"]
    started_task(drill, incident_id, run_key, is_rehearsal, speed, started)
    timeline = schedule(drill, started, speed)
    until = max(s.at + dt.timedelta(minutes=s.inject.within_minutes) for s in timeline) + FAULT_MARGIN
    fired = [inject_task(profile, drill, incident_id, item, until) for item in timeline]
    finish_task(incident_id)
    return {"drill_id": incident_id, "plan_id": drill.plan_id, "rehearsal": is_rehearsal, "grade": declared["grade"], "injects": fired}
