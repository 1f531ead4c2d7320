"""Incident response: record, grade, start the regulatory clock, alert, draft the reports.

Triggered from the Prefect UI (the form is :class:`regflows.incident.form.IncidentForm`: times in
Beijing time, choices by their Chinese names), from ``regflows incident declare FILE.json`` and
from monitoring systems through ``POST /incidents`` of the regflows endpoint (both validate the
strict record, times with offsets, and send it in the form's shape). The run does the declaration and ends: it
does not sit paused holding an execution slot. What follows over hours and days (reminders
before each deadline, raising missed ones, progress reminders, escalation of unacknowledged
notices, closing with approval) is driven by the ``incident-watch`` and ``notice-watch``
deployments from the state kept in the store, so a restart loses nothing.

The flow only composes tasks (tasks/incident.py). The profile is read by a plain call, not a task: reading and validating one YAML file (~15 ms) is
cheap and changes nothing; a bad profile fails the run with its message.
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow, get_run_logger
from pydantic import Field

from regflows.incident.form import SYSTEM_DECLARERS, IncidentForm
from regflows.profile import load_profile, profile_path
from tasks.incident import STATE_LABEL, alert_task, clock_task, drafts_task, form_task, record_task
from tasks.parameters import MASKING_HOOKS
from tasks.refusals import refused

Declarer = Annotated[str, Field(
    title="申报人", description="谁在申报这起事件（机构配置中的人员；监控系统、命令行申报时自动填写）。",
    json_schema_extra={"x-regflows-choices": "people", "x-regflows-extra-choices": list(SYSTEM_DECLARERS.values())},
)]
Participants = Annotated[list[str], Field(
    title="演练参与人", description="仅演练时使用：通知只发给这些人（留空为值班角色）。",
    json_schema_extra={"x-regflows-choices": "people"},
)]
Incident = Annotated[IncidentForm, Field(title="事件申报", description="事件的事实：时间按北京时间填写，留空表示未知或不适用。")]


@flow(name="incident-response", log_prints=True, **MASKING_HOOKS)
def incident_response(incident: Incident, declared_by: Declarer, drill_participants: Participants = []) -> dict[str, Any]:  # noqa: B006
    """登记网络安全事件、定级、启动监管时限、通知相关角色并起草报告。"""
    profile = load_profile(profile_path())
    read = form_task(incident, declared_by, drill_participants, profile)  # first log line: the times in Beijing time
    if read["problems"]:
        # The run's final state: Failed with the Chinese problems, no traceback (tasks/refusals.py).
        return refused("事件申报未登记：" + "；".join(read["problems"]))
    record, declared_by, participants = read["record"], read["declared_by"], read["participants"] or None
    recorded = record_task(record, profile, declared_by, participants)
    if "refused" in recorded:  # already on record (issue 14, 2): nothing written or sent; the id and the update form said
        return refused(recorded["refused"])
    incident_id, grading = recorded["incident_id"], recorded["grading"]
    record = recorded["record"]  # as stored: a typed end of response is not taken (CQ-PLAN 第四篇三)
    obligations = clock_task(incident_id, record, grading, profile)
    unreached = alert_task(profile, incident_id, record, grading, participants)
    drafts = drafts_task(incident_id, record, grading, profile, recorded["unit_name"], [o["id"] for o in obligations])
    logger = get_run_logger()
    for item in obligations:
        if item["state"] in ("overdue", "calendar_missing"):
            logger.error("义务“%s”（%s）%s：立即处理", item["title"], item["clause"], STATE_LABEL.get(item["state"], item["state"]))
    return {"incident_id": incident_id, "grade": grading["grade"], "warning": grading["warning"], "obligations": obligations,
            "drafts": drafts, "unreached": unreached}
