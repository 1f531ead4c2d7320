"""The acknowledgement endpoint: what a signed link in an SMS, email or push opens.

GET shows the notice and a button; only POST acknowledges, so that link previews and mail
scanners, which fetch links on their own, never acknowledge on a person's behalf. Every refusal
(forged, altered, expired, replayed) is recorded in the audit ledger by :func:`acknowledge`.
"""

from __future__ import annotations

import html
import threading
from urllib.parse import urlsplit

from regflows import ledger
from regflows.kit.uploads import ROUTES as UPLOAD_ROUTES
from regflows.store import db
from regflows.store.models import Notice

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em;line-height:1.6}}
button{{font-size:1.2em;padding:.6em 2em}} .bad{{color:#b00}} .ok{{color:#070}}</style></head>
<body><h1>{title}</h1>{content}</body></html>"""


#: What the button says, by notice kind: a decision reads as one, everything else as receipt.
BUTTONS = {"approval_request": "同意", "signoff_request": "确认（记录本人及时间）"}

#: Follow-ups run after an acknowledgement, by notice kind ("module:function" taking the notice
#: id and returning a line for the person). A sign-off request moves its report on at once; the
#: credit-stats-watch deployment does the same later if this fails.
AFTER_ACK = {"signoff_request": "regflows.credit.signoff:after_ack"}


def run_after_ack(kind: str, notice_id: str) -> str:
    """Run the kind's follow-up; a failure is logged and ledgered and told to the person, never hidden."""
    import importlib
    import logging

    target = AFTER_ACK.get(kind)
    if target is None:
        return ""
    module, _, name = target.partition(":")
    try:
        return str(getattr(importlib.import_module(module), name)(notice_id) or "")
    except Exception as exc:
        logging.getLogger("regflows.notices").exception("确认后的后续处理失败：%s", notice_id)
        ledger.append("ack.follow_up_failed", notice_id, {"kind": kind, "error": f"{type(exc).__name__}: {exc}"[:500]})
        return f"您的确认已记录，但后续处理未完成（{type(exc).__name__}: {exc}），将由定时任务重试，请联系管理员。"


def _page(title: str, content: str, status: int = 200):  # type: ignore[no-untyped-def]
    from starlette.responses import HTMLResponse

    return HTMLResponse(PAGE.format(title=html.escape(title), content=content), status_code=status)


def create_app():  # type: ignore[no-untyped-def]
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from notices.acks import AckRefused, acknowledge, fingerprint, read_token

    async def show(request: Request):  # type: ignore[no-untyped-def]
        token = request.path_params["token"]
        try:
            claim = read_token(token)
        except AckRefused as refused:
            ledger.append("ack.refused", "ack", {"reason": refused.reason, "token": fingerprint(token), "via": "link-view"})
            return _page("链接无效", f'<p class="bad">{html.escape(str(refused))}</p>', 400)
        with db.session() as s:
            notice = s.get(Notice, claim.notice_id)
            title = notice.subject if notice else claim.notice_id
            kind = notice.kind if notice else ""
            body = notice.body if notice else ""
        button = BUTTONS.get(kind, "确认收到")
        # A decision is taken on what the notice said: show it (the record copy, as sent, masked).
        shown = f"<pre style=\"white-space:pre-wrap\">{html.escape(body)}</pre>" if kind in BUTTONS else ""
        form = (
            f"<p>通知：{html.escape(title)}</p><p>编号：{html.escape(claim.notice_id)}</p>{shown}"
            f'<form method="post"><button type="submit">{button}</button></form>'
        )
        return _page(title if kind in BUTTONS else "确认收到通知", form)

    async def confirm(request: Request):  # type: ignore[no-untyped-def]
        token = request.path_params["token"]
        try:
            claim = acknowledge(token, via="link")
        except AckRefused as refused:
            status = 409 if refused.reason == "replayed" else 400
            return _page("未能确认", f'<p class="bad">{html.escape(str(refused))}</p>', status)
        with db.session() as s:
            notice = s.get(Notice, claim.notice_id)
            kind = notice.kind if notice else ""
        from starlette.concurrency import run_in_threadpool

        follow_up = await run_in_threadpool(run_after_ack, kind, claim.notice_id)
        extra = f"<p>{html.escape(follow_up)}</p>" if follow_up else ""
        done = "" if kind == "signoff_request" else "，升级提醒停止"  # sign-off requests go to people, not roles: nothing escalates
        return _page("已确认", f'<p class="ok">已记录您对通知 {html.escape(claim.notice_id)} 的确认{done}。</p>{extra}')

    async def health(request: Request):  # type: ignore[no-untyped-def]
        return PlainTextResponse("ok")

    async def ingest(request: Request):  # type: ignore[no-untyped-def]
        return await ingest_incident(request)

    return Starlette(routes=[Route("/ack/{token}", show, methods=["GET"]), Route("/ack/{token}", confirm, methods=["POST"]),
                             Route("/health", health), Route("/incidents", ingest, methods=["POST"]), *UPLOAD_ROUTES])


async def ingest_incident(request):  # type: ignore[no-untyped-def]
    """``POST /incidents``: a monitoring system declares an incident (Prefect's inbound webhooks
    are Cloud-only). Bearer token ``REGFLOWS_INGEST_TOKEN``; the body is the incident record as
    JSON; the answer is 202 with the flow run id, or 4xx naming what is wrong. Nothing is
    recorded until the record validates."""
    import hmac
    import os

    from starlette.responses import JSONResponse

    from regflows.incident.record import IncidentRecordError, validate_record

    expected = os.environ.get("REGFLOWS_INGEST_TOKEN")
    if not expected:
        return JSONResponse({"error": "未配置 REGFLOWS_INGEST_TOKEN，不接收事件"}, status_code=503)
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        ledger.append("incident.ingest_refused", "ingest", {"reason": "bad token", "client": request.client.host if request.client else None})
        return JSONResponse({"error": "认证失败"}, status_code=401)
    body = await request.body()
    try:
        record = validate_record(body, source="POST /incidents")
    except IncidentRecordError as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # The endpoint serves the server named in the environment now (set by `regflows up`), not
    # whatever Prefect's settings were when this thread started.
    api = os.environ.get("PREFECT_API_URL")
    try:
        with temporary_settings(updates={PREFECT_API_URL: api} if api else {}):
            run = await run_deployment("incident-response/incident-response",
                                       parameters={"incident": record.model_dump(mode="json"), "declared_by": "monitoring"}, timeout=0)
    except Exception as exc:  # no server or no deployment: the sender must retry, and we say why
        ledger.append("incident.ingest_failed", "ingest", {"error": f"{type(exc).__name__}: {exc}"[:500], "title": record.title})
        return JSONResponse({"error": f"无法启动 incident-response 部署：{type(exc).__name__}"}, status_code=503)
    ledger.append("incident.ingested", "ingest", {"flow_run": str(run.id), "title": record.title})
    return JSONResponse({"flow_run_id": str(run.id)}, status_code=202)


def bind_address(public_base_url: str) -> tuple[str, int]:
    parts = urlsplit(str(public_base_url))
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)


def serve_in_thread(host: str, port: int):  # type: ignore[no-untyped-def]
    """Run the endpoint beside `regflows up`; returns the uvicorn server (set should_exit to stop)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(create_app(), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="ack-endpoint", daemon=True)
    thread.start()
    return server
