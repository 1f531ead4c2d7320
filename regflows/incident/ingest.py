"""``POST /incidents``: a monitoring system declares an incident through the regflows endpoint.

Prefect's inbound webhooks are Cloud-only, so the regflows endpoint (the one that serves the
acknowledgement links, :mod:`notices.ack_server`) takes the declaration and starts the
``incident-response`` deployment, exactly as the UI form and ``regflows incident declare`` do.
Before it creates that run (seconds later it starts: the serve loop's polling, the run's own
process), it records the incident for that run and sends its alert itself
(regflows/incident/declaration.py, issue 18 goal 4); the run goes on with it: the clock again,
the alert's undelivered channels, the drafts. The route is the incident procedure's: it is
mounted by the composition point (regflows/procedures.py), never named by the notices layer.

Bearer token ``REGFLOWS_INGEST_TOKEN``; the body is the incident record as JSON; the answer is
202 with the flow run id and ``incident_id``, 409 with ``incident_id`` and ``update_form`` (the
correction form's link) when the incident is already on record (same unit, discovery time and
title: issue 14, 2), or 4xx/503 naming what is wrong. Nothing is recorded until the record
validates; every refusal and every start is in the audit ledger. When the immediate record and
alert fail, the run is started all the same and does them (202 with a warning; the ledger says
why: ``incident.first_alert_failed``). When the run cannot be created, the answer is 503 naming
the incident already recorded and alerted; the sender's retry is then a duplicate (409), and
starts the missing run with the first attempt's idempotency key (once).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from prefect.deployments import arun_deployment
from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE, temporary_settings
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from regflows import config, ledger
from regflows.incident import store
from calendars.zone import now_local
from regflows.incident.closing import ignored_end_note
from regflows.incident.declaration import Recorded, declare_and_alert
from regflows.incident.form import SYSTEM_DECLARERS, IncidentForm, form_from_record
from regflows.incident.form_link import aupdate_form_link
from regflows.incident.record import IncidentRecord, IncidentRecordError, check_against_profile, check_times, validate_record
from regflows.incident.update import DuplicateDeclaration, existing_incident
from regflows.kit.refusals import note_refusal
from regflows.profile import Profile, load_profile, profile_path
from regflows.kit.uploads import bearer_matches

#: The deployment a declaration starts (prefect.yaml).
DEPLOYMENT = "incident-response/incident-response"


async def ingest_incident(request: Request, before_send_for: BeforeSendFor | None = None) -> JSONResponse:
    expected = config.ingest_token()
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
    # The record in the form's shape (times with their offsets, choices by name): one parameter for all entry points.
    parameters = {"incident": form_from_record(record, profile.unit_choices()).model_dump(mode="json"), "declared_by": SYSTEM_DECLARERS["monitoring"]}
    # The record as the run rebuilds it from that form (times in Beijing time, +08:00): recorded
    # here as the run will see it, one incident id for both (times sent in UTC made two
    # incidents and alerted everyone twice: review of issue 18, goal 4).
    # (the typed response end, which the form does not carry, is noted from the record as sent)
    note = ignored_end_note(record.response_ended_at.isoformat() if record.response_ended_at else None)
    record = IncidentForm.model_validate(parameters["incident"]).to_record(profile.unit_choices())
    existing = existing_incident(record, unit.code)  # already on record (issue 14, 2): refused before anything starts
    if existing:
        key = store.run_key_of(existing) or ""
        if key.startswith("ingest:"):  # recorded here before: its run is started now if Prefect refused it then (same key: once)
            try:
                await _start_run(api, parameters, key)
            except Exception as exc:  # noqa: BLE001  (the refusal below is the answer; the ledger says why the run is missing)
                ledger.append("incident.ingest_failed", "ingest", {"incident": existing, "error": f"{type(exc).__name__}: {exc}"[:500]})
        refusal = DuplicateDeclaration(existing, await aupdate_form_link(existing, api))
        return JSONResponse({"error": str(refusal), "incident_id": existing, "update_form": refusal.link}, status_code=409)
    warnings = [note] if note else []
    key = f"ingest:{uuid.uuid4().hex}"  # the run's idempotency key, which the incident is recorded with
    incident_id: str | None = None
    alerted = False
    try:  # at once, before the run is even created (see regflows/incident/declaration.py); the run does it all if this fails
        recorded, _ = await run_in_threadpool(_declare_and_alert, profile, record, unit.code, key, api, before_send_for)
    except Exception as exc:  # noqa: BLE001  (recorded and said: the run records, alerts and drafts by itself)
        rival = await run_in_threadpool(existing_incident, record, unit.code)
        if rival and store.run_key_of(rival) != key:  # the same declaration, sent at once, recorded by the other request
            refusal = DuplicateDeclaration(rival, await aupdate_form_link(rival, api))
            return JSONResponse({"error": str(refusal), "incident_id": rival, "update_form": refusal.link}, status_code=409)
        incident_id = rival  # recorded by this request before the failure (its clock too), or None
        ledger.append("incident.first_alert_failed", "ingest", {"run_key": key, "title": record.title, "error": f"{type(exc).__name__}: {exc}"[:500],
                                                                **({"incident": rival} if rival else {})})
        warnings.append(f"端点已登记事件 {rival}，但未能立即发出通知（{type(exc).__name__}），incident-response 运行启动后将通知" if rival
                        else f"端点未能立即登记并通知（{type(exc).__name__}），incident-response 运行启动后将登记并通知")
    else:
        if recorded.duplicate:  # another declaration of it was recorded between the check above and this one
            refusal = DuplicateDeclaration(recorded.incident_id, await aupdate_form_link(recorded.incident_id, api))
            return JSONResponse({"error": str(refusal), "incident_id": recorded.incident_id, "update_form": refusal.link}, status_code=409)
        incident_id, alerted = recorded.incident_id, True
    try:
        run = await _start_run(api, parameters, key)
    except Exception as exc:  # noqa: BLE001  (no server or no deployment: the sender must retry, and we say why)
        ledger.append("incident.ingest_failed", "ingest", {"error": f"{type(exc).__name__}: {exc}"[:500], "title": record.title,
                                                           **({"incident": incident_id} if incident_id else {})})
        if incident_id:
            said = "已登记并已通知" if alerted else "已登记（通知未能发出）"
            return JSONResponse({"error": f"事件 {incident_id} {said}，但无法启动 incident-response 部署（{type(exc).__name__}）："
                                          "监管时限表与报告草稿未生成，请在部署恢复后重发本申报", "incident_id": incident_id}, status_code=503)
        return JSONResponse({"error": f"无法启动 incident-response 部署：{type(exc).__name__}"}, status_code=503)
    ledger.append("incident.ingested", "ingest", {"flow_run": str(run.id), "title": record.title, **({"incident": incident_id} if incident_id else {}),
                                                  **({"warning": note} if note else {})})
    return JSONResponse({"flow_run_id": str(run.id), **({"incident_id": incident_id} if incident_id else {}),
                         **({"warnings": warnings} if warnings else {})}, status_code=202)


async def _start_run(api: str, parameters: dict[str, Any], key: str) -> Any:
    """The incident-response run of this declaration, created once per ``key`` (Prefect's
    idempotency key: a second call returns the run the first created)."""
    with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE: False}):
        return await arun_deployment(DEPLOYMENT, parameters=parameters, timeout=0, idempotency_key=key)


def _declare_and_alert(profile: Profile, record: IncidentRecord, unit: str, run_key: str, api: str,
                       before_send_for: BeforeSendFor | None) -> tuple[Recorded, Any]:
    """:func:`regflows.incident.declaration.declare_and_alert` in a worker thread, with Prefect's
    settings pointing at the server regflows uses (the SMS rate limit's slots are taken there)."""
    with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE: False}):
        make = (lambda: before_send_for(profile)) if before_send_for is not None else None
        return declare_and_alert(profile, record, unit, run_key, make_before_send=make)


#: Makes the alert's ``before_send`` hook for a profile (the SMS rate limit): given by the
#: composition point (regflows/procedures.py), which may reach tasks/.
BeforeSendFor = Callable[[Profile], Callable[[str], None]]


def routes(before_send_for: BeforeSendFor | None = None) -> tuple[Route, ...]:
    """The route, with the hook the immediate alert takes its SMS slots through."""

    async def endpoint(request: Request) -> JSONResponse:
        return await ingest_incident(request, before_send_for)

    return (Route("/incidents", endpoint, methods=["POST"]),)
