"""Acknowledgement watch: every minute, escalate what nobody acknowledged in time.

The state of every acknowledgement-required notice is in the store, so this flow holds no execution
slot while it waits and loses nothing across restarts: each run looks at the clock and takes the
steps that are due (escalate to the next person of the chain, raise a chain that ran out, re-notify
what was acknowledged but not resolved in time). A late run takes them at once. The work is one task
(tasks/notices.py). Then the stored parameters of form runs that never started (scheduled for
later, waiting, cancelled) are masked (tasks/parameters.py: no hook of theirs ever runs), and the
runs a dead worker or a crash left behind are given back to the work pool (tasks/recovery.py,
regflows/recovery.py). The
profile is read by a plain call, not a task: reading and validating one YAML
file (~15 ms) is cheap and changes nothing; a bad profile fails the run with its message.
"""

from __future__ import annotations

from prefect import flow

from regflows.profile import load_profile, profile_path
from tasks.notices import escalation_task
from tasks.parameters import mask_unstarted_runs_task
from tasks.recovery import recover_runs_task


@flow(name="notice-watch")
def notice_watch() -> list[dict]:
    """检查需确认的通知：超时未确认则沿升级链升级，已确认但逾期未处理则再次提醒；对未启动或已取消运行的参数打码；
    将工作进程中断或异常中断遗留的运行重新排队。"""
    masking = mask_unstarted_runs_task(return_state=True)  # their failures must not hold the escalations up
    profile = load_profile(profile_path())
    recovery = recover_runs_task(profile, return_state=True)
    actions = escalation_task(profile)
    masking.result()  # then they fail the run (never silent)
    recovery.result()
    return actions
