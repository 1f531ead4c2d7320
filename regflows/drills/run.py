"""A drill's run (issue 17, item 3): what the drill incident is declared with, when each inject fires,
and the run's records.

The drill deployment (flows/drill_run.py) declares a drill incident from the plan and runs the
real incident-response pipeline on it (the same flow, tasks, notices, deadlines and drafts as a
real incident), only with ``drill: true`` and the plan's participants: every notice is tagged
【演练】 and goes to the participants only (regflows/incident/alerts.py), and the incident is
excluded from the monthly statistics and any regulator-facing count by its ``drill`` column
(``Incident.drill``, regflows/store/models.py).

Time: the incident's times are real (discovered at the run's start), so the regulatory clocks,
the escalation waits and every measurement run in real seconds. ``--speed N`` compresses only
the scenario's inject timeline: the inject at T+30 minutes fires 30/N minutes after the start
(:func:`schedule`).

Records: ``drill.started`` (plan, incident, rehearsal, speed, the run key the command line waits
for) and one ``drill.inject`` per inject (planned and actual instants, what it did) in the audit
ledger under the incident's id, which is the drill's id; ``drill.finished`` at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from calendars.zone import SHANGHAI
from regflows import ledger
from regflows.drills.plan import DrillPlan, Inject
from regflows.store import db
from regflows.store.models import AuditEntry

__all__ = [
    "Scheduled",
    "drill_of_run",
    "entries",
    "formal_runs",
    "incident_facts",
    "record_finished",
    "record_inject",
    "record_started",
    "schedule",
    "started_payload",
]

#: The people's title a rehearsal's incident carries besides the drill tag (an unapproved plan, for testing).
REHEARSAL = "（预演）"


def incident_facts(plan: DrillPlan, started: dt.datetime, rehearsal: bool) -> dict[str, Any]:
    """The drill incident's record (the incident pipeline's JSON shape), discovered at ``started``,
    graded at the plan's initial grade (an assessed grade: the drill decides it, not the facts)."""
    local = started.astimezone(SHANGHAI).replace(microsecond=0)
    return {
        "title": f"{plan.event_title}{REHEARSAL if rehearsal else ''}",
        "occurred_at": local.isoformat(),
        "discovered_at": local.isoformat(),
        "discovered_by": "演练导调组",
        "system_name": plan.event_title[:60],
        "location": "演练环境",
        "category": plan.category,
        "cause": f"演练：{plan.background}"[:1000],
        "drill": True,
        "assessed_grade": plan.grade,
        "assessed_reason": f"演练方案 {plan.plan_id} 设定的初始级别",
        "other_systems_affected": "无（演练）",
        **({"credit_info_event": plan.credit_info_event} if plan.credit_info_event else {}),
    }


@dataclass(frozen=True)
class Scheduled:
    inject: Inject
    at: dt.datetime  # when it fires (the timeline compressed by the speed)
    planned: dt.datetime  # when it would fire at speed 1
    index: int


def schedule(plan: DrillPlan, started: dt.datetime, speed: float) -> list[Scheduled]:
    """Each inject's instant: ``started`` plus its minutes divided by ``speed`` (the timeline only)."""
    if not math.isfinite(speed) or speed <= 0:
        raise ValueError(f"--speed 须为有限的正数，而不是 {speed:g}")
    return [
        Scheduled(i, started + dt.timedelta(minutes=i.at_minutes / speed), started + dt.timedelta(minutes=i.at_minutes), n)
        for n, i in enumerate(plan.injects, start=1)
    ]


def started_payload(plan: DrillPlan, *, run_key: str, rehearsal: bool, speed: float, started: dt.datetime) -> dict[str, Any]:
    """The ``drill.started`` entry: the run's facts and the plan's overview the report shows (its
    title, event, participants with their sides, clauses), so the report needs no plan.yaml."""
    return {
        "plan_id": plan.plan_id,
        "kind": plan.kind,
        "run_key": run_key,
        "rehearsal": rehearsal,
        "speed": speed,
        "started": started.isoformat(),
        "participants": plan.people,
        "plan": {
            "plan_id": plan.plan_id,
            "kind": plan.kind,
            "on": plan.on.isoformat(),
            "title": plan.title,
            "event_title": plan.event_title,
            "participants": [{"person": p.person, "side": p.side, "duty": p.duty} for p in plan.participants],
            "clause": plan.clause,
            "injects": [{"index": n, **i.model_dump(mode="json")} for n, i in enumerate(plan.injects, start=1)],
        },
    }


def record_started(
    plan: DrillPlan, incident_id: str, *, run_key: str, rehearsal: bool, speed: float, started: dt.datetime, url: str | None = None
) -> None:
    ledger.append(
        "drill.started", incident_id, started_payload(plan, run_key=run_key, rehearsal=rehearsal, speed=speed, started=started), url=url
    )


def record_inject(incident_id: str, item: Scheduled, actual: dt.datetime, did: dict[str, Any], url: str | None = None) -> None:
    ledger.append(
        "drill.inject",
        incident_id,
        {
            "index": item.index,
            "action": item.inject.action,
            "at_minutes": item.inject.at_minutes,
            "scheduled": item.at.isoformat(),
            "actual": actual.isoformat(),
            "expected": item.inject.expected,
            "within_minutes": item.inject.within_minutes,
            **did,
        },
        url=url,
    )


def record_finished(incident_id: str, at: dt.datetime, url: str | None = None) -> None:
    ledger.append("drill.finished", incident_id, {"at": at.isoformat()}, url=url)


def entries(incident_id: str, action: str, url: str | None = None) -> list[dict[str, Any]]:
    """The payloads of the drill's ledger entries ``action``, in order."""
    with db.session(url) as s:
        rows = (
            s.execute(
                select(AuditEntry.payload).where(AuditEntry.subject == incident_id, AuditEntry.action == action).order_by(AuditEntry.seq)
            )
            .scalars()
            .all()
        )
    return [json.loads(p) for p in rows]


def formal_runs(plan_id: str, url: str | None = None) -> list[tuple[str, str]]:
    """The drills (drill id, start) a plan already ran formally (not as a rehearsal), oldest first."""
    with db.session(url) as s:
        rows = s.execute(
            select(AuditEntry.subject, AuditEntry.payload).where(AuditEntry.action == "drill.started").order_by(AuditEntry.seq)
        ).all()
    found = [(str(subject), json.loads(payload)) for subject, payload in rows]
    return [(d, str(p.get("started", ""))) for d, p in found if p.get("plan_id") == plan_id and not p.get("rehearsal")]


def drill_of_run(run_key: str, url: str | None = None) -> str | None:
    """The drill id (incident id) a run started with ``run_key`` declared, once it has."""
    with db.session(url) as s:
        rows = s.execute(
            select(AuditEntry.subject, AuditEntry.payload).where(AuditEntry.action == "drill.started").order_by(AuditEntry.seq.desc())
        ).all()
    return next((str(subject) for subject, payload in rows if json.loads(payload).get("run_key") == run_key), None)
