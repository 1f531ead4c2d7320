"""Give back the runs a dead worker or a crash left behind (the rules: regflows/recovery.py).

Part of ``notice-watch`` (every minute, one at a time: two watches never act on the same run).
Every give-back is in the audit ledger (``run.given_back``) and the run's log; a run the rules
leave for a person is an error line of the watch's log, every minute until it is handled.
Before acting, the run is read again: a run that moved on since the list was read (its worker
did start it after all) is left as it is; then ``Scheduled`` is set with ``force``, past
Prefect's orchestration rules (written for the transitions of a live run). Between the read and
the write lie milliseconds, and only runs whose worker gave no sign for minutes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any
from uuid import UUID

from prefect import get_run_logger, task
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.states import Scheduled

from regflows import ledger
from regflows.profile import Profile
from regflows.recovery import RESTART_NAME, Decision, RecoveryPolicy, RunView, decisions

__all__ = ["recover_runs", "recover_runs_task"]


def _view(client: SyncPrefectClient, run: FlowRun, deployment: str) -> RunView:
    restarts = 0
    if run.state_type == StateType.CRASHED or run.infrastructure_pid:  # only then is the count needed (a request more each)
        restarts = sum(1 for s in client.read_flow_run_states(run.id) if s.name == RESTART_NAME)
    since = run.state.timestamp if run.state is not None else run.created
    assert since is not None
    return RunView(id=str(run.id), name=run.name, deployment=deployment, state_type=run.state_type.value if run.state_type else "",
                   since=since, process_started=bool(run.infrastructure_pid), restarts=restarts)


def _stuck_runs(client: SyncPrefectClient, names: Collection[str], policy: RecoveryPolicy, now: dt.datetime) -> list[RunView]:
    deployments = client.read_deployments(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=sorted(names))))
    by_id = {d.id: d.name for d in deployments}
    if not by_id:
        return []
    ids = FlowRunFilterDeploymentId(any_=list(by_id))
    pending = client.read_flow_runs(flow_run_filter=FlowRunFilter(
        deployment_id=ids, state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PENDING]))),
        sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=200)
    restartable = [i for i, name in by_id.items() if name in policy.restartable]
    crashed = client.read_flow_runs(flow_run_filter=FlowRunFilter(
        deployment_id=FlowRunFilterDeploymentId(any_=restartable),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CRASHED])),
        expected_start_time=FlowRunFilterExpectedStartTime(after_=now - policy.window)),
        sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=200) if restartable else []
    return [_view(client, run, by_id[run.deployment_id]) for run in [*pending, *crashed] if run.deployment_id in by_id]


def _give_back(client: SyncPrefectClient, decision: Decision, now: dt.datetime) -> bool:
    """Scheduled again, if the run is still in the state the decision read; True when done."""
    current = client.read_flow_run(UUID(decision.run.id))
    if current.state_type is None or current.state_type.value != decision.run.state_type or current.state is None \
            or current.state.timestamp != decision.run.since:
        return False  # it moved on meanwhile (its worker started it after all)
    state: State[Any] = Scheduled(scheduled_time=now, name=RESTART_NAME, message=f"regflows notice-watch：{decision.reason_zh}")
    client.set_flow_run_state(UUID(decision.run.id), state, force=True)
    ledger.append("run.given_back", decision.run.id, {"run": decision.run.name, "deployment": decision.run.deployment,
                                                       "was": decision.run.state_type, "action": decision.action, "reason": decision.reason_zh})
    return True


def recover_runs(names: Collection[str], policy: RecoveryPolicy, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Look at the stuck runs of these deployments (by name) and act on each as
    :func:`regflows.recovery.decide` says; what was decided, one row per run (``done``: False
    for a run that moved on before it was touched, or one left for a person)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if not names:
        return []
    rows: list[dict[str, Any]] = []
    with get_client(sync_client=True) as client:
        for decision in decisions(_stuck_runs(client, names, policy, now), policy, now):
            done = decision.action != "raise" and _give_back(client, decision, now)
            rows.append({"run": decision.run.name, "id": decision.run.id, "deployment": decision.run.deployment,
                         "action": decision.action, "reason": decision.reason_zh, "done": done})
    return rows


@task(name="recover-runs 找回中断的运行", retries=1, retry_delay_seconds=5)
def recover_runs_task(profile: Profile, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """:func:`recover_runs` for the deployments of prefect.yaml, with the profile's settings.
    Retried safely: a run already given back is Scheduled, no longer stuck."""
    from regflows import config
    from regflows.deployments import read_prefect_yaml

    names = {spec.name for spec in read_prefect_yaml(config.prefect_yaml())}
    rows = recover_runs(names, RecoveryPolicy.from_settings(profile.settings), now)
    logger = get_run_logger()
    for row in rows:
        if row["action"] == "raise":
            logger.error("运行 %s（%s）%s", row["run"], row["deployment"], row["reason"])
        elif row["done"]:
            logger.warning("运行 %s（%s）%s", row["run"], row["deployment"], row["reason"])
    return rows
