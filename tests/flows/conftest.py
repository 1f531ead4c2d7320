"""Fixtures of the flow tests that run an incident end to end on a real Prefect server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def world(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http, smtp, free_port, write_profile) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A migrated store, the regflows endpoint on a free port, and a profile whose people receive
    through the local HTTP and SMTP stand-ins: ``{"http", "smtp", "ack", "profile"}``."""
    from notices.ack_server import serve_in_thread
    from regflows.procedures import endpoint_routes
    from regflows.profile import load_profile
    from regflows.store import migrate

    migrate()
    port = free_port()
    ack = serve_in_thread("127.0.0.1", port, endpoint_routes())
    base = f"http://127.0.0.1:{port}"
    profile_file = write_profile(tmp_path / "profile.yaml", http.base, smtp.port, base)
    monkeypatch.setenv("REGFLOWS_PROFILE", str(profile_file))
    yield {"http": http, "smtp": smtp, "ack": base, "profile": load_profile(profile_file)}
    ack.should_exit = True


def _run_as_deployed(api: str, flow: Any, parameters: dict[str, Any], timeout: float = 180, flow_run_id: str | None = None) -> dict[str, Any]:
    """Run ``flow`` the way a served deployment runs it: a flow run created on the server (or the
    run ``flow_run_id``, set Pending as a runner does when it picks it up), then
    ``python -m prefect.engine`` in a child process (what ``regflows up``'s runner starts for a
    deployment registered by entrypoint; that path logs an exception that ends a run, with its
    traceback, into the run's logs). Returns ``{"run": the flow run, "logs": its log messages}``."""
    import os
    import subprocess
    import sys
    import time
    import uuid

    import httpx
    from prefect.client.orchestration import get_client
    from prefect.states import Pending

    with get_client(sync_client=True) as client:
        if flow_run_id is None:
            run = client.create_flow_run(flow, parameters=parameters, state=Pending())
        else:
            client.set_flow_run_state(uuid.UUID(flow_run_id), Pending())
            run = client.read_flow_run(uuid.UUID(flow_run_id))
    repo = Path(__file__).resolve().parents[2]
    module = flow.fn.__module__.replace(".", "/")
    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT__FLOW_RUN_ID": str(run.id),
           "PREFECT__FLOW_ENTRYPOINT": f"{repo / module}.py:{flow.fn.__name__}"}
    subprocess.run([sys.executable, "-m", "prefect.engine", str(run.id)], cwd=repo, env=env, timeout=timeout,
                   capture_output=True, check=False)
    deadline = time.monotonic() + 30
    while True:  # the child sent its logs before it exited; the server may still be writing them
        final = httpx.get(f"{api}/flow_runs/{run.id}", timeout=30).json()
        logs = httpx.post(f"{api}/logs/filter", timeout=30, json={"logs": {"flow_run_id": {"any_": [str(run.id)]}},
                                                                  "sort": "TIMESTAMP_ASC"}).json()
        if (final["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED") and any("Finished in state" in g["message"] for g in logs)) \
                or time.monotonic() > deadline:
            return {"run": final, "logs": [g["message"] for g in logs]}
        time.sleep(0.5)


@pytest.fixture
def run_as_deployed(prefect_api: str) -> Any:
    """``run_as_deployed(flow, parameters)`` → ``{"run", "logs"}``: the flow run as a served
    deployment runs it (a child ``python -m prefect.engine``), read back from the server.
    ``flow_run_id=``: run that existing run (one a deployment's trigger created) instead."""
    return lambda flow, parameters, timeout=180, flow_run_id=None: _run_as_deployed(prefect_api, flow, parameters, timeout, flow_run_id)
