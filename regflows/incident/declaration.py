"""A declaration up to its alert: the incident recorded, its clock stored, its roles alerted.

The incident-response run does these steps (tasks/incident.py ``record_task``, ``clock_task``,
``alert_task``); ``POST /incidents`` does them too, itself, before it starts that run
(:func:`declare_and_alert`, issue 18, goal 4). A run starts seconds after it is created: the
serve loop looks for runs every ``PREFECT_RUNNER_POLL_FREQUENCY`` seconds (10), then the run's
own process imports Prefect and the flow before its first task: 10 s and more on this kind of
machine, a minute under load (bench/incident_latency.py); creating the run is itself a call to
Prefect's server. The endpoint's process is already running. The incident is recorded with the
idempotency key the endpoint then creates the run with (``run_key``); the run goes on with the
incident recorded for it (:func:`record_declaration` with its own key): it recomputes and
publishes the clock, sends the alert again under the same notice id (every channel already
delivered is claimed and settled in the store, so nothing is sent twice; what failed is retried)
and drafts the reports. Whichever does a step first, the other finds it done; the run alone
remains the whole procedure when the endpoint could not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from notices.delivery import NoticeOutcome
from regflows.incident import alerts, closing, store
from regflows.incident.clock import rule_set_for
from regflows.incident.grading import grade
from regflows.incident.recompute import clock_rows
from regflows.incident.record import IncidentRecord
from regflows.profile import Profile
from regflows.store.models import utcnow

#: The actor of a declaration by a monitoring system (the form's ``SYSTEM_DECLARERS`` code).
MONITORING = "monitoring"


@dataclass(frozen=True)
class Recorded:
    """The incident as on record after a declaration: ``duplicate`` when another declaration had
    already recorded it (nothing written: the caller refuses, naming the id)."""

    incident_id: str
    record: dict[str, Any]
    grading: dict[str, Any]
    created: bool
    duplicate: bool = False
    typed_end: str | None = None


def record_declaration(record: IncidentRecord, unit: str, actor: str, participants: list[str] | None = None,
                       run_key: str | None = None) -> Recorded:
    """Grade and record a declaration (store, timeline, ledger), once.

    ``run_key``: the idempotency key of the incident-response run of this declaration. An
    incident already on record for that same run (the endpoint recorded it before starting the
    run) is not a second declaration: the stored record and grading are returned and nothing is
    written again."""
    grading = grade(record)
    data, typed_end = closing.untyped_end(record.model_dump(mode="json"))  # CQ-PLAN 第四篇三、第五篇: the end is the closing's last approval
    incident_id = store.incident_id_for(data, unit)
    if store.exists(incident_id) and not store.recorded_for_run(incident_id, run_key):  # issue 14, 2
        return Recorded(incident_id, data, grading.model_dump(mode="json"), created=False, duplicate=True, typed_end=typed_end)
    rules = rule_set_for(record.discovered_at)
    created = store.save_incident(incident_id, data, unit, grading.model_dump(mode="json"), rules.version, actor,
                                  participants if record.drill else None, run_key=run_key)
    if created and typed_end:
        store.add_event(incident_id, "response_end_ignored", actor,
                        {"typed": typed_end, "reason": "应急响应结束时间由结束审批记录（CQ-PLAN 第四篇三），申报时填写的值不予采用"})
    stored = store.load_incident(incident_id)
    return Recorded(incident_id, stored.record, stored.grading, created=created, typed_end=typed_end)


def declare_and_alert(profile: Profile, record: IncidentRecord, unit: str, run_key: str,
                      before_send: Callable[[str], None] | None = None,
                      make_before_send: Callable[[], Callable[[str], None] | None] | None = None) -> tuple[Recorded, NoticeOutcome | None]:
    """What ``POST /incidents`` does at once, before it starts the run of idempotency key
    ``run_key``: record, store the clock, send the alert to the roles the run would alert (a monitoring system's declaration has
    no drill participants: a drill goes to the on-call role, as in the run). The alert's notice id
    is the run's (``incident:<id>:alert``). ``make_before_send`` makes the ``before_send`` hook
    once the incident and its clock are recorded (the SMS rate limit's slots are on Prefect's
    server, which may be the very thing that is down). Returns the incident and the alert's
    outcome (None for a duplicate: nothing was written or sent)."""
    recorded = record_declaration(record, unit, MONITORING, None, run_key)
    if recorded.duplicate:
        return recorded, None
    clock_rows(recorded.incident_id, recorded.record, recorded.grading, profile, utcnow())
    if make_before_send is not None:  # after the record and the clock: the hook may need Prefect's server, they do not
        before_send = make_before_send()
    outcome = alerts.send_alert(profile, recorded.incident_id, recorded.record, recorded.grading, store.obligations_of(recorded.incident_id),
                                alerts.alert_roles(profile, recorded.grading), None, before_send=before_send)
    return recorded, outcome
