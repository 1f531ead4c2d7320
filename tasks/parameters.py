"""A run's stored parameters, masked: personal data typed into a form does not stay in Prefect.

Prefect stores a run's parameters (and shows them in the Parameters tab) before any flow code
runs, and the README promises that ID, card and phone numbers are masked before anything is
stored (CUSTINFO, TENPAY: a leaked ID number is an incident in itself). So every flow that takes
free text rewrites its own stored parameters with :func:`notices.masking.mask_pii` applied to
every string, through Prefect's ``update_flow_run(parameters=...)``:

- ``on_running``: the first thing that runs once the run is Running, before the flow's body
  (also before any task, log line or artifact of ours);
- ``on_failure`` / ``on_crashed``: a run that fails Prefect's parameter validation never gets to
  Running, but still enters Failed, so the raw values are masked there too.

- ``on_cancellation``: a running run that is cancelled (the runner calls it).

A run that never starts runs none of these hooks: one scheduled for later in the UI (「Start:
Later」), one waiting for a runner, one cancelled before it started (issue 14, 4). So
``notice-watch`` (every minute) also masks, through :func:`mask_unstarted_runs`, the stored
parameters of every run of regflows' deployments that is Scheduled (Late included), Pending,
Cancelling or Cancelled and still holds a personal number (:func:`notices.masking.find_pii`).
A run that starts afterwards gets the masked values, as the CLI and ``POST /incidents`` send
them. What remains is the window until the next watch run (a minute, while the watch is
served) in which the raw values are in Prefect's database. regflows' own entry points
(``regflows incident declare``, ``POST /incidents``) mask before sending, so the window
concerns values typed into the UI.
Prefect's parameter-validation message names fields and rules, never the values
(``ParameterTypeError.from_validation_error``), and the forms hide inputs in their errors.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from prefect import get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort

from notices.masking import find_pii, mask_pii

__all__ = ["MASKING_HOOKS", "mask_stored_parameters", "mask_unstarted_runs", "mask_unstarted_runs_task", "masked", "person_field"]


def masked(value: Any) -> Any:
    """``value`` with every string in it masked (dicts and lists walked; keys kept)."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(v) for v in value]
    return value


def mask_stored_parameters(flow: Any, flow_run: Any, state: Any) -> None:
    """A Prefect state hook: store the run's parameters masked, when masking changes anything."""
    raw = flow_run.parameters or {}
    clean = masked(raw)
    if clean == raw:
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run(flow_run.id, parameters=clean)
    flow_run.parameters = clean  # the later hooks of this run see it done


#: ``@flow(..., **MASKING_HOOKS)`` on every flow that takes free text.
MASKING_HOOKS: dict[str, Any] = {
    "on_running": [mask_stored_parameters],
    "on_failure": [mask_stored_parameters],
    "on_crashed": [mask_stored_parameters],
    "on_cancellation": [mask_stored_parameters],
}

#: States of a run that may never start (or never did): no hook of its own will mask it.
UNSTARTED = (StateType.SCHEDULED, StateType.PENDING, StateType.CANCELLING, StateType.CANCELLED)


def _holds_pii(value: Any) -> bool:
    if isinstance(value, str):
        return bool(find_pii(value))
    if isinstance(value, dict):
        return any(_holds_pii(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_pii(v) for v in value)
    return False


def mask_unstarted_runs(deployment_names: Collection[str], page: int = 200) -> list[str]:
    """Mask the stored parameters of the unstarted or cancelled runs of these deployments (by
    deployment name) that still hold a personal number; the ids of the runs masked.

    Only deployments that take parameters are read (the watches take none, and the scheduler
    keeps up to a hundred future runs of each), so the minute's look stays small.
    """
    if not deployment_names:
        return []
    done: list[str] = []
    with get_client(sync_client=True) as client:
        deployments = client.read_deployments(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=sorted(deployment_names))))
        ids = [d.id for d in deployments if (d.parameter_openapi_schema or {}).get("properties")]
        if not ids:
            return []
        wanted = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(UNSTARTED))),
                               deployment_id=FlowRunFilterDeploymentId(any_=ids))
        offset = 0
        while True:  # the states do not change here, so the pages stay put
            runs = client.read_flow_runs(flow_run_filter=wanted, sort=FlowRunSort.ID_DESC, limit=page, offset=offset)
            for run in runs:
                if _holds_pii(run.parameters or {}):
                    client.update_flow_run(run.id, parameters=masked(run.parameters))
                    done.append(str(run.id))
            if len(runs) < page:
                return done
            offset += page


@task(name="mask-unstarted-parameters 未启动运行参数打码", retries=1, retry_delay_seconds=5)
def mask_unstarted_runs_task() -> list[str]:
    """:func:`mask_unstarted_runs` for the deployments of prefect.yaml; says how many it masked
    (never the values). Retried safely: masking twice changes nothing."""
    from regflows import config
    from regflows.deployments import read_prefect_yaml

    names = {spec.name for spec in read_prefect_yaml(config.prefect_yaml())}
    done = mask_unstarted_runs(names)
    if done:
        get_run_logger().info("已对 %d 个未启动或已取消的运行的参数打码（身份证号、银行卡号、电话号码）", len(done))
    return done


def person_field(title: str, description: str = "机构配置中的人员。") -> Any:
    """A form field whose choices are the profile's people by name (``李明（li.ming）``), filled in
    at registration (regflows/deployments.py ``finish_parameter_schema``); read back with
    :func:`person_id`."""
    from pydantic import Field

    return Field(title=title, description=description, json_schema_extra={"x-regflows-choices": "people"})


def person_id(value: str, profile: Any) -> str:
    """The person a form's choice names (``李明（li.ming）``), or the id as typed (the CLI's
    and tests' way); an unknown value is left for the task to refuse in its own words."""
    text = value.strip()
    for pid, label in profile.people_choices().items():
        if text == label:
            return str(pid)
    return text
