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
from regflows.store import db
from regflows.store.models import Notice

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em;line-height:1.6}}
button{{font-size:1.2em;padding:.6em 2em}} .bad{{color:#b00}} .ok{{color:#070}}</style></head>
<body><h1>{title}</h1>{content}</body></html>"""


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
        form = (
            f"<p>通知：{html.escape(title)}</p><p>编号：{html.escape(claim.notice_id)}</p>"
            f'<form method="post"><button type="submit">确认收到</button></form>'
        )
        return _page("确认收到通知", form)

    async def confirm(request: Request):  # type: ignore[no-untyped-def]
        token = request.path_params["token"]
        try:
            claim = acknowledge(token, via="link")
        except AckRefused as refused:
            status = 409 if refused.reason == "replayed" else 400
            return _page("未能确认", f'<p class="bad">{html.escape(str(refused))}</p>', status)
        return _page("已确认", f'<p class="ok">已记录您对通知 {html.escape(claim.notice_id)} 的确认，升级提醒停止。</p>')

    async def health(request: Request):  # type: ignore[no-untyped-def]
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/ack/{token}", show, methods=["GET"]), Route("/ack/{token}", confirm, methods=["POST"]),
                             Route("/health", health)])


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
