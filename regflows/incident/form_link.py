"""The link to the ``incident-update`` form in the Prefect UI, for a refused second declaration.

A Prefect adapter (tests/test_boundaries.py ``PREFECT_ADAPTERS``): the form's address holds the
deployment's id, which only the Prefect server knows. The address itself is built without
Prefect (:func:`regflows.incident.update.update_form_url`). The three paths that refuse a
duplicate declaration use it: the form's run (tasks/incident.py), ``regflows incident declare``
and ``POST /incidents``. Without an answer from the server the link is the deployments list:
the refusal never waits on, nor fails because of, the link.
"""

from __future__ import annotations

from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE, temporary_settings

from regflows.incident.update import UPDATE_DEPLOYMENT, ui_base_of, update_form_url

__all__ = ["aupdate_form_link", "update_form_link"]


def update_form_link(incident_id: str, api_url: str) -> str:
    """The correction form of ``incident_id`` on the server at ``api_url`` (sync: the CLI, tasks)."""
    deployment_id = None
    try:
        with temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE: False}), \
                get_client(sync_client=True, httpx_settings={"timeout": 10}) as client:
            deployment_id = str(client.read_deployment_by_name(UPDATE_DEPLOYMENT).id)
    except Exception:  # noqa: BLE001  (no server, no deployment: the list of deployments instead)
        pass
    return update_form_url(ui_base_of(api_url), deployment_id, incident_id)


async def aupdate_form_link(incident_id: str, api_url: str) -> str:
    """The same for the endpoint's async route (``POST /incidents``)."""
    deployment_id = None
    try:
        with temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE: False}):
            async with get_client(httpx_settings={"timeout": 10}) as client:
                deployment_id = str((await client.read_deployment_by_name(UPDATE_DEPLOYMENT)).id)
    except Exception:  # noqa: BLE001
        pass
    return update_form_url(ui_base_of(api_url), deployment_id, incident_id)
