"""The rules for runs a dead worker or a crash left behind (regflows/recovery.py; issue 19, item 6)."""

from __future__ import annotations

import datetime as dt

import pytest

from regflows.recovery import RecoveryPolicy, RunView, decide, decisions
from regflows.settings import Settings

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)
POLICY = RecoveryPolicy.from_settings(Settings())


def _run(state: str, minutes_ago: float, deployment: str = "incident-response", pid: bool = False, restarts: int = 0) -> RunView:
    return RunView(id="r", name="brave-fox", deployment=deployment, state_type=state, since=NOW - dt.timedelta(minutes=minutes_ago),
                   process_started=pid, restarts=restarts)


def test_the_defaults_are_those_the_readme_states() -> None:
    assert POLICY == RecoveryPolicy(pending_grace=dt.timedelta(minutes=10), window=dt.timedelta(hours=24),
                                    restartable=frozenset({"incident-response"}), restart_limit=2)


@pytest.mark.parametrize("deployment", ["incident-response", "credit-stats", "notice-watch"])
def test_a_run_taken_and_never_started_is_given_back_after_the_grace_whatever_its_deployment(deployment: str) -> None:
    assert decide(_run("PENDING", 9.9, deployment), POLICY, NOW) is None  # its worker may still be starting it
    decision = decide(_run("PENDING", 10, deployment), POLICY, NOW)
    assert decision is not None and decision.action == "give_back" and "10 分钟" in decision.reason_zh


def test_a_run_whose_process_started_is_given_back_only_after_three_graces_and_within_the_limit() -> None:
    """The process may live on another machine: starting the run again could run it twice; a
    process that has not reported Running in three graces is taken for dead."""
    assert decide(_run("PENDING", 29.9, pid=True), POLICY, NOW) is None
    decision = decide(_run("PENDING", 30, pid=True), POLICY, NOW)
    assert decision is not None and decision.action == "give_back" and "进程视为已中断" in decision.reason_zh
    exhausted = decide(_run("PENDING", 30, pid=True, restarts=2), POLICY, NOW)
    assert exhausted is not None and exhausted.action == "raise" and "人工" in exhausted.reason_zh


def test_a_crashed_run_is_restarted_only_if_its_deployment_may_be_run_again_within_the_window_and_the_limit() -> None:
    first = decide(_run("CRASHED", 1), POLICY, NOW)
    assert first is not None and first.action == "restart" and "第 1 次" in first.reason_zh
    second = decide(_run("CRASHED", 1, restarts=1), POLICY, NOW)
    assert second is not None and second.action == "restart" and "第 2 次" in second.reason_zh
    exhausted = decide(_run("CRASHED", 1, restarts=2), POLICY, NOW)
    assert exhausted is not None and exhausted.action == "raise" and "2 次" in exhausted.reason_zh
    assert decide(_run("CRASHED", 1, deployment="credit-stats"), POLICY, NOW) is None  # not in restart_crashed_deployments
    assert decide(_run("CRASHED", 24 * 60 + 1), POLICY, NOW) is None  # older than the window: a person's
    wider = RecoveryPolicy.from_settings(Settings(restart_crashed_deployments=["credit-stats"], run_restart_limit=0))
    assert decide(_run("CRASHED", 1), wider, NOW) is None
    assert getattr(decide(_run("CRASHED", 1, deployment="credit-stats"), wider, NOW), "action", None) == "raise"


@pytest.mark.parametrize("state", ["FAILED", "RUNNING", "SCHEDULED", "COMPLETED", "CANCELLED"])
def test_other_states_are_left_alone(state: str) -> None:
    """A failure is the flow's own verdict; a running or scheduled run is someone's."""
    assert decisions([_run(state, 600)], POLICY, NOW) == []
