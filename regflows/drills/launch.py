"""``regflows drill run``'s launch: the drill-run deployment started on the Prefect server, then the
drill's id (its incident's) awaited from the store, where the run records it (``drill.started``
with the run key given here). A Prefect adapter of the domain (tests/test_boundaries.py
PREFECT_ADAPTERS), as ``regflows incident declare`` is: the drill itself runs on the server, for
as long as its timeline takes, and the command returns once it has begun.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from regflows import config
from regflows.drills.run import drill_of_run
from regflows.exit_codes import ExitCode

__all__ = ["LaunchError", "start_run"]


class LaunchError(RuntimeError):
    """The run could not be started or did not begin; ``code`` is the command's exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def start_run(plan: Path, *, speed: float, rehearsal: bool, wait: float) -> str:
    """Start the drill-run deployment for ``plan``; return the drill id once the run declared it."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    key = uuid.uuid4().hex
    api = config.prefect_api_url()
    try:
        with temporary_settings(updates={PREFECT_API_URL: api}):
            run = run_deployment(
                "drill-run/drill-run",
                timeout=0,
                parameters={"plan": str(plan.resolve()), "speed": speed, "rehearsal": rehearsal, "run_key": key},
            )
            deadline = time.monotonic() + wait
            while (drill_id := drill_of_run(key)) is None:
                with get_client(sync_client=True) as client:
                    state = client.read_flow_run(run.id).state
                if state is not None and state.is_final():
                    raise LaunchError(f"演练运行 {run.name} 已结束（{state.name}）：{state.message or ''}", ExitCode.REFUSED)
                if time.monotonic() > deadline:
                    raise LaunchError(f"演练运行 {run.name} 在 {wait:g} 秒内未登记演练事件（worker 是否在运行？）", ExitCode.PARTIAL)
                time.sleep(1)
    except LaunchError:
        raise
    except Exception as exc:  # no server, no deployment: say so plainly
        raise LaunchError(
            f"无法在 {api} 启动 drill-run 部署（regflows up 是否在运行？）：{type(exc).__name__}: {exc}", ExitCode.USAGE
        ) from exc
    return drill_id
