"""An incident's obligations at a moment: computed by the clock's rules, kept in the store.

The incident-response run, every incident-watch run and ``regflows incident regrade`` recompute
them the same way: from the stored record and grading, with what was fulfilled so far, what was
reopened after a waiver (TENPAY 5) and what a written approval extended (TENPAY 13). After a
correction of the rules (the rule file's ``revision``), the first recomputation records what it
added or moved (:func:`regflows.incident.store.sync_obligations`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from regflows.incident import store
from regflows.incident.clock import obligations as compute_obligations
from regflows.incident.extensions import extended_map
from regflows.incident.grading import Grading
from regflows.incident.record import IncidentRecord
from regflows.profile import Profile
from regflows.store.models import Obligation


def computed(incident_id: str, record: dict[str, Any], grading: dict[str, Any], profile: Profile, now: dt.datetime) -> list[dict[str, Any]]:
    """The obligations at ``now`` as the clock counts them (nothing stored): what a correction of
    the facts would change is known before it is recorded (regflows/incident/update.py)."""
    rec = IncidentRecord.model_validate(record)
    result = compute_obligations(rec, Grading.model_validate(grading), profile, now, fulfilled=store.fulfilled_map(incident_id),
                                 reopened=store.reopened_map(incident_id), extended=extended_map(incident_id))
    return [o.model_dump(mode="json") for o in result]


def clock_rows(incident_id: str, record: dict[str, Any], grading: dict[str, Any], profile: Profile, now: dt.datetime, *,
               withdraw: dict[str, str] | None = None) -> list[Obligation]:
    """Recompute the obligations at ``now`` from the record and what was fulfilled; store them.
    ``withdraw`` (who and why, from a correction) closes those no longer counted (store.sync_obligations)."""
    result = computed(incident_id, record, grading, profile, now)
    rules_version = result[0]["rules_version"] if result else ""
    return store.sync_obligations(incident_id, result, rules_version, withdraw=withdraw)
