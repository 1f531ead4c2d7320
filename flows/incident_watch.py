"""Incident watch, every minute: recompute each open incident's clock, remind, raise, close.

Obligations live in the store, so this run holds no state: it looks at the clock and sends what is
due. After an outage it sends the missed reminder at once, saying it is late. It also closes an
incident whose deciding roles have all approved through their own signed links. The work is one task
per incident (tasks/incident.py), up to eight at a time, after one that lists the open incidents and
one that reads the clocks the UI shows (a clock is republished only when it changed or its time
left is ``settings.clock_view_refresh_minutes`` old: regflows/incident/clock_view.py); the
reminders it sent are the run's ``notices`` artifact. The profile is read by a plain call, not a task: reading and
validating one YAML file (~15 ms) is cheap and changes nothing; a bad profile fails the run with its
message.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.utilities.annotations import unmapped

from regflows.profile import load_profile, profile_path
from tasks.incident import open_incidents_task, shown_clocks_task, watch_incident

#: Incidents watched at once. Each one's work waits on the store, the Prefect API (its task run,
#: its clock's two artifacts when they changed) and the channels: one after another, 100 open incidents made a tick of six
#: minutes under load, every tick meanwhile cancelled by the one-at-a-time limit and the reminders
#: of the minutes between missed (the load-and-faults run, README "Production"). Each incident is
#: its own task run still; their notices are claimed once whatever the order.
WATCHED_AT_ONCE = 8
_RUNNER: TaskRunner[Any] = ThreadPoolTaskRunner(max_workers=WATCHED_AT_ONCE)


@flow(name="incident-watch", task_runner=_RUNNER)
def incident_watch() -> list[dict]:
    """每分钟：重算未结束事件的监管时限，到期前提醒、逾期上报，审批齐全后结束事件。"""
    profile = load_profile(profile_path())
    incidents = open_incidents_task()
    shown = shown_clocks_task(incidents)
    results = watch_incident.map(unmapped(profile), incidents, [shown.get(i) for i in incidents]).result()
    stuck = [r["stuck"] for r in results if r.get("stuck")]
    if stuck:  # every incident was watched first; then the run fails, red in the UI
        raise RuntimeError("；".join(stuck))
    return results
