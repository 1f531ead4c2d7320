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
    drafted = draft_new_reports(profile, incident, rows)
    approvers = closing.try_close(profile, incident_id)
    publish_clock(incident_id, incident.record, store.obligations_of(incident_id))
    if sent:
        get_run_logger().warning("事件 %s 已发送提醒：%s", incident_id, ", ".join(sent))
    return {"incident": incident_id, "reminders": sent, "drafted": drafted, "closed_by": approvers}


def draft_new_reports(profile: Profile, incident, rows) -> list[str]:  # type: ignore[no-untyped-def]
    """Once handling or the response has ended, the summary and investigation reports become due:
    draft each the first time its obligation has a due date (NFRA 48; CQ-PLAN 第五篇)."""
    from sqlalchemy import select

    from regflows.incident import drafts
    from regflows.store import db
    from regflows.store.models import Report

    with db.session() as s:
        done = set(s.execute(select(Report.kind).where(Report.subject == incident.id)).scalars())
    wanted = [k for k in drafts.drafts_due([r.code for r in rows if r.due_at is not None], incident.record) if k not in done]
    if not wanted:
        return []
    unit = next((u for u in profile.reporting_units if u.code == incident.reporting_unit), profile.head_office)
    ctx = drafts.context_for(incident.id, incident.record, incident.grading, profile, unit.name, drafts.opening_events(incident.record))
    written = drafts.write_drafts(incident.id, wanted, ctx)
    return [w["kind"] for w in written if w["path"]]


@flow(name="incident-watch")
def incident_watch() -> list[dict]:
    """每分钟：重算未结束事件的监管时限，到期前提醒、逾期上报，审批齐全后结束事件。"""
    profile = load_profile(profile_path())
    return [watch_incident(profile, incident.id) for incident in store.open_incidents()]
