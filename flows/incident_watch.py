"""Incident watch, every minute: recompute each open incident's clock, remind, raise, close.

Obligations live in the store, so this run holds no state: it looks at the clock and sends what is
due. After an outage it sends the missed reminder at once, saying it is late. It also closes an
incident whose deciding roles have all approved through their own signed links. The work is one task
per incident (tasks/incident.py), after one that lists the open incidents; the reminders it sent are
the run's ``notices`` artifact. The profile is read by a plain call, not a task: reading and
validating one YAML file (~15 ms) is cheap and changes nothing; a bad profile fails the run with its
message.
"""

from __future__ import annotations

from prefect import flow

from regflows.profile import load_profile, profile_path
from tasks.incident import open_incidents_task, watch_incident


@flow(name="incident-watch")
def incident_watch() -> list[dict]:
    """每分钟：重算未结束事件的监管时限，到期前提醒、逾期上报，审批齐全后结束事件。"""
    profile = load_profile(profile_path())
    results = [watch_incident(profile, incident_id) for incident_id in open_incidents_task()]
    stuck = [r["stuck"] for r in results if r.get("stuck")]
    if stuck:  # every incident was watched first; then the run fails, red in the UI
        raise RuntimeError("；".join(stuck))
    return results
