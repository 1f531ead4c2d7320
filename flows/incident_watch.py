"""Incident watch, every minute: recompute each open incident's clock, remind, raise, close.

Obligations live in the store, so this run holds no state: it looks at the clock and sends what
is due. After an outage it sends the missed reminder at once, saying it is late. It also closes
an incident whose deciding roles have all approved through their own signed links.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task

from regflows.incident import alerts, closing, store
from regflows.profile import Profile, load_profile, profile_path
from regflows.store.models import utcnow
from tasks.incident import clock_rows, publish_clock
from tasks.notices import sms_rate_limiter


@task(name="检查事件时限")
def watch_incident(profile: Profile, incident_id: str) -> dict:
    incident = store.load_incident(incident_id)
    rows = clock_rows(incident_id, incident.record, incident.grading, profile, utcnow())
    sent = alerts.remind(profile, incident, rows, before_send=sms_rate_limiter(profile))
    approvers = closing.try_close(profile, incident_id)
    publish_clock(incident_id, incident.record, store.obligations_of(incident_id))
    if sent:
        get_run_logger().warning("事件 %s 已发送提醒：%s", incident_id, ", ".join(sent))
    return {"incident": incident_id, "reminders": sent, "closed_by": approvers}


@flow(name="incident-watch")
def incident_watch() -> list[dict]:
    """每分钟：重算未结束事件的监管时限，到期前提醒、逾期上报，审批齐全后结束事件。"""
    profile = load_profile(profile_path())
    return [watch_incident(profile, incident.id) for incident in store.open_incidents()]
