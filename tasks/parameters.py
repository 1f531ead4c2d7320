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

What remains is the short window between the run's creation and its start (while it is
Scheduled/Pending, typically a second or two; longer when no runner is up): the raw values are
stored in Prefect's database then. regflows' own entry points (``regflows incident declare``,
``POST /incidents``) mask before sending, so the window concerns values typed into the UI.
Prefect's parameter-validation message names fields and rules, never the values
(``ParameterTypeError.from_validation_error``), and the forms hide inputs in their errors.
"""

from __future__ import annotations

from typing import Any

from prefect.client.orchestration import get_client

from notices.masking import mask_pii

__all__ = ["MASKING_HOOKS", "mask_stored_parameters", "masked", "person_field"]


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
}


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
