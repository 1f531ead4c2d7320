"""Incident response: record, grade, start the regulatory clock, alert, draft the reports.

Triggered from the Prefect UI (the form is the incident record itself, with Chinese titles and
help on every field), from ``regflows incident declare FILE.json`` and from monitoring systems
through ``POST /incidents`` of the regflows endpoint. The run does the declaration and ends: it
does not sit paused holding an execution slot. What follows over hours and days (reminders
before each deadline, raising missed ones, progress reminders, escalation of unacknowledged
notices, closing with approval) is driven by the ``incident-watch`` and ``notice-watch``
deployments from the state kept in the store, so a restart loses nothing.

The flow only composes tasks (tasks/incident.py). The profile is read by a plain call, not a task: reading and validating one YAML file (~15 ms) is
cheap and changes nothing; a bad profile fails the run with its message.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.states import Failed

from regflows.incident.record import IncidentRecord
from regflows.profile import load_profile, profile_path
from tasks.incident import STATE_LABEL, alert_task, clock_task, drafts_task, record_task


@flow(name="incident-response", log_prints=True)
def incident_response(incident: IncidentRecord, drill_participants: list[str] | None = None, declared_by: str = "operator") -> dict:
    """登记网络安全事件、定级、启动监管时限、通知相关角色并起草报告。"""
    profile = load_profile(profile_path())
    recorded = record_task(incident, profile, declared_by, drill_participants)
    if "refused" in recorded:  # already on record (issue 14, 2): nothing written or sent; the id and the update form said
        return Failed(message=recorded["refused"])  # type: ignore[return-value]
    incident_id, grading = recorded["incident_id"], recorded["grading"]
    record = recorded["record"]  # as stored: a typed end of response is not taken (CQ-PLAN 第四篇三)
    obligations = clock_task(incident_id, record, grading, profile)
    unreached = alert_task(profile, incident_id, record, grading, drill_participants)
    drafts = drafts_task(incident_id, record, grading, profile, recorded["unit_name"], [o["id"] for o in obligations])
    logger = get_run_logger()
    for item in obligations:
        if item["state"] in ("overdue", "calendar_missing"):
            logger.error("义务“%s”（%s）%s：立即处理", item["title"], item["clause"], STATE_LABEL.get(item["state"], item["state"]))
    return {"incident_id": incident_id, "grade": grading["grade"], "warning": grading["warning"], "obligations": obligations,
            "drafts": drafts, "unreached": unreached}
