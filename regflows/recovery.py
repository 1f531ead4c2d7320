"""What to do with a run a dead worker or a crash left behind: the decision, apart from Prefect.

Prefect gives back nothing by itself (measured in the load-and-faults run, README "Load and
faults"): a process worker killed between taking a run (``Pending``) and starting its process
leaves that run ``Pending`` for good, and a run whose process exits before reaching its flow
(its first request to an API that was restarting is refused) ends ``Crashed``. A declaration
recorded by ``POST /incidents`` then never gets its drafts, a month its table. ``notice-watch``
(tasks/recovery.py) looks at such runs every minute and, by the rules below, gives them back to
the work pool: it sets them ``Scheduled`` (named :data:`RESTART_NAME`), and a worker starts
them again; Prefect counts the attempt in the run's ``run_count``, as for its own retries.

- ``Pending`` longer than ``run_pending_grace_minutes`` with no process started
  (``infrastructure_pid`` unset: a worker sets it the moment the process exists): nobody is
  starting it. Given back, whatever its deployment: it never ran.
- ``Pending`` with a process started: the process may still be alive on another machine, and
  starting the run again could run it twice; it had :data:`STARTED_GRACES` graces to report
  ``Running`` (a flow-run process does within seconds, two minutes at a load of 35), so past
  that it is taken for dead (the load-and-faults run: a process started a moment before its
  worker was killed never ran, its run ``Pending`` for good) and given back, at most
  ``run_restart_limit`` times. Before that it is left alone.
- ``Crashed`` within ``run_recovery_window_hours``, of a deployment in
  ``restart_crashed_deployments`` (flows written to be run again: the incident response finds
  its declaration already on record for the same run and goes on with it), at most
  ``run_restart_limit`` times: given back. Beyond the limit: raised. Other crashed runs are
  Prefect's to show, red in the UI, as before.

``Failed`` runs are left alone: a failure is the flow's own verdict (a refused form, a wrong
file), and running it again would only say the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from regflows.settings import CoreSettings

#: The name of the ``Scheduled`` state a run is given back in (Prefect's own retries say ``AwaitingRetry``).
RESTART_NAME = "AwaitingRestart"
#: How many ``run_pending_grace_minutes`` a run whose process started has to report ``Running``.
STARTED_GRACES = 3

Action = Literal["give_back", "restart", "raise"]


@dataclass(frozen=True)
class RunView:
    """What the decision reads of a flow run (from Prefect's API, tasks/recovery.py)."""

    id: str
    name: str
    deployment: str
    state_type: str  # Prefect's StateType value: "PENDING", "CRASHED", …
    since: dt.datetime  # when it entered that state (aware)
    process_started: bool  # infrastructure_pid set by the worker
    restarts: int  # earlier give-backs of this run (states named RESTART_NAME)


@dataclass(frozen=True)
class RecoveryPolicy:
    pending_grace: dt.timedelta
    window: dt.timedelta
    restartable: frozenset[str]
    restart_limit: int

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> RecoveryPolicy:
        return cls(pending_grace=dt.timedelta(minutes=settings.run_pending_grace_minutes),
                   window=dt.timedelta(hours=settings.run_recovery_window_hours),
                   restartable=frozenset(settings.restart_crashed_deployments), restart_limit=settings.run_restart_limit)


@dataclass(frozen=True)
class Decision:
    run: RunView
    action: Action
    reason_zh: str


def decide(run: RunView, policy: RecoveryPolicy, now: dt.datetime) -> Decision | None:
    """The action for this run now, or None (it is not stuck, or not ours to touch)."""
    age = now - run.since
    minutes = int(age.total_seconds() // 60)
    if run.state_type == "PENDING":
        if age < policy.pending_grace:
            return None
        if not run.process_started:
            return Decision(run, "give_back", f"已由工作进程领取 {minutes} 分钟仍未启动（工作进程可能已中断），重新排队")
        if age < policy.pending_grace * STARTED_GRACES:
            return None
        if run.restarts >= policy.restart_limit:
            return Decision(run, "raise", f"已启动进程但 {minutes} 分钟未进入运行，已重新排队 {run.restarts} 次，请人工核实后处理")
        return Decision(run, "give_back", f"已启动进程但 {minutes} 分钟未进入运行（进程视为已中断），重新排队")
    if run.state_type == "CRASHED":
        if age > policy.window or run.deployment not in policy.restartable:
            return None
        if run.restarts >= policy.restart_limit:
            return Decision(run, "raise", f"异常中断，已自动重新排队 {run.restarts} 次仍未完成，请人工处理")
        return Decision(run, "restart", f"异常中断（第 {run.restarts + 1} 次自动重新排队）")
    return None


def decisions(runs: list[RunView], policy: RecoveryPolicy, now: dt.datetime) -> list[Decision]:
    """The actions for these runs, in their order; runs with none are left out."""
    return [d for d in (decide(run, policy, now) for run in runs) if d is not None]
