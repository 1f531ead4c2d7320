"""``POST /incidents``: a monitoring system declares an incident through the regflows endpoint.

Prefect's inbound webhooks are Cloud-only, so the regflows endpoint (the one that serves the
acknowledgement links, :mod:`notices.ack_server`) takes the declaration and starts the
``incident-response`` deployment, exactly as the UI form and ``regflows incident declare`` do.
The route is the incident procedure's: it is mounted by the composition point
(regflows/procedures.py), never named by the notices layer.

Bearer token ``REGFLOWS_INGEST_TOKEN``; the body is the incident record as JSON; the answer is
202 with the flow run id, 409 with ``incident_id`` and ``update_form`` (the correction form's link)
when the incident is already on record (same unit, discovery time and title: issue 14, 2), or
4xx/503 naming what is wrong. Nothing is recorded until the record
validates; every refusal and every start is in the audit ledger.
"""

from __future__ import annotations

import os

from prefect.deployments import arun_deployment
from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE, temporary_settings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from regflows import config, ledger
from calendars.zone import now_local
from regflows.incident.closing import ignored_end_note
from regflows.incident.form import SYSTEM_DECLARERS, form_from_record
from regflows.incident.form_link import aupdate_form_link
from regflows.incident.record import IncidentRecordError, check_against_profile, check_times, validate_record
from regflows.incident.update import DuplicateDeclaration, existing_incident
from regflows.kit.refusals import note_refusal
from regflows.profile import load_profile, profile_path
from regflows.kit.uploads import bearer_matches

#: The deployment a declaration starts (prefect.yaml).
DEPLOYMENT = "incident-response/incident-response"


async def ingest_incident(request: Request) -> JSONResponse:
    expected = os.environ.get("REGFLOWS_INGEST_TOKEN")
    if not expected:
        return JSONResponse({"error": "未配置 REGFLOWS_INGEST_TOKEN，不接收事件"}, status_code=503)
    given = request.headers.get("authorization", "")
    if not bearer_matches(given, expected):
        note_refusal(request, "incident.ingest_refused", "bad token")  # counted per client and minute, summarised in the ledger
        return JSONResponse({"error": "认证失败"}, status_code=401)
    body = await request.body()
    try:
        record = validate_record(body, source="POST /incidents")
        profile = load_profile(profile_path())
        unit = check_against_profile(record, profile)
        check_times(record, now_local(), profile.settings)
    except IncidentRecordError as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    # The endpoint serves the server regflows uses (PREFECT_API_URL as set now, else the one
    # `regflows up` starts), never a temporary one Prefect would start in this process and leave
    # running, nor whatever Prefect's settings were when this thread started.
    api = config.prefect_api_url()
    existing = existing_incident(record, unit.code)  # already on record (issue 14, 2): refused before anything starts
    if existing:
        refusal = DuplicateDeclaration(existing, await aupdate_form_link(existing, api))
        return JSONResponse({"error": str(refusal), "incident_id": existing, "update_form": refusal.link}, status_code=409)
    try:
        with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE: False}):
            # The record in the form's shape (times with their offsets, choices by name): one parameter for all entry points.
            parameters = {"incident": form_from_record(record, profile.unit_choices()).model_dump(mode="json"), "declared_by": SYSTEM_DECLARERS["monitoring"]}
            run = await arun_deployment(DEPLOYMENT, parameters=parameters, timeout=0)
    except Exception as exc:  # noqa: BLE001  (no server or no deployment: the sender must retry, and we say why)
        ledger.append("incident.ingest_failed", "ingest", {"error": f"{type(exc).__name__}: {exc}"[:500], "title": record.title})
        return JSONResponse({"error": f"无法启动 incident-response 部署：{type(exc).__name__}"}, status_code=503)
    note = ignored_end_note(record.response_ended_at.isoformat() if record.response_ended_at else None)
    ledger.append("incident.ingested", "ingest", {"flow_run": str(run.id), "title": record.title, **({"warning": note} if note else {})})
    return JSONResponse({"flow_run_id": str(run.id), **({"warnings": [note]} if note else {})}, status_code=202)


ROUTES: tuple[Route, ...] = (Route("/incidents", ingest_incident, methods=["POST"]),)
