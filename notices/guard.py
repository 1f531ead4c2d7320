"""What the endpoint enforces before and around every route (README, "Security of the endpoint").

An ASGI middleware around the whole endpoint (:func:`notices.ack_server.create_app`):

- **Rate limit.** A client that has had ``REGFLOWS_REFUSALS_PER_MINUTE`` (default 20) requests
  refused this minute gets 429 with ``Retry-After`` until the minute ends, before any route runs.
  Refusals are counted by :class:`regflows.kit.refusals.RefusalLog` and summarised into the
  ledger once a minute, never one entry each.
- **Body size.** A body larger than the route's limit is refused with 413: at once when
  ``Content-Length`` says so, else as soon as the bytes read pass it (never read further).
  ``POST /uploads`` has the upload limit (``REGFLOWS_UPLOAD_MAX_BYTES``), everything else
  ``REGFLOWS_BODY_MAX_BYTES`` (default 256 KiB: an incident record is a few KiB).
- **Origin.** A POST (any method but GET/HEAD/OPTIONS) whose ``Origin`` header is not the
  endpoint's own (``public_base_url``, or the address the request was made to) is refused with
  403: a page elsewhere cannot make a person's browser confirm a notice. A request without
  ``Origin`` (a monitoring system, curl) is judged by the route: its bearer token or signed link.
- **Headers.** Every answer carries a Content-Security-Policy (nothing loads, no script, forms
  post only to this endpoint, no framing), ``X-Frame-Options: DENY``, ``Referrer-Policy:
  same-origin`` (a link's token never leaks to another site; the page's own form still posts
  with its Origin), ``X-Content-Type-Options: nosniff``
  and ``Cache-Control: no-store``; over HTTPS also ``Strict-Transport-Security``.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from regflows.kit.refusals import RefusalLog
from regflows.kit.uploads import max_bytes as upload_max_bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_BODY_MAX_BYTES = 256 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Paths never rate-limited: a load balancer's health probe must not be locked out by its
#: neighbours behind the same address.
UNLIMITED_PATHS = frozenset({"/health"})
#: The pages need their inline <style> and post their one form to themselves; nothing else.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    # same-origin, not no-referrer: under no-referrer a browser sends ``Origin: null`` with the
    # page's own form POST, and the origin rule below refused every button press (found by the
    # browser test, issue 14). same-origin still sends nothing to another site: the token in the
    # page's address never leaves the endpoint.
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")


def body_max_bytes() -> int:
    """``REGFLOWS_BODY_MAX_BYTES`` (default 256 KiB): the largest body of any route but uploads."""
    raw = os.environ.get("REGFLOWS_BODY_MAX_BYTES", "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else DEFAULT_BODY_MAX_BYTES


def limit_for(path: str) -> int:
    return upload_max_bytes() if path == "/uploads" else body_max_bytes()


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` in lower case, the default port left out; None if not a URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


class _BodyTooLarge(Exception):
    pass


class EndpointGuard:
    """The middleware; ``public_base_url`` is the profile's (links point there)."""

    def __init__(self, app: ASGIApp, refusals: RefusalLog, public_base_url: str | None = None) -> None:
        self.app = app
        self.refusals = refusals
        self.public_origin = origin_of(str(public_base_url)) if public_base_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        https = scope.get("scheme") == "https" or (self.public_origin or "").startswith("https://")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {k.lower() for k, _v in message.get("headers", [])}
                extra = [h for h in (*SECURITY_HEADERS, *([HSTS] if https else [])) if h[0] not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        client = scope["client"][0] if scope.get("client") else None
        path = scope.get("path", "")
        if path not in UNLIMITED_PATHS and self.refusals.limited(client):
            wait = self.refusals.retry_after()
            await _answer(send_with_headers, 429, f"请求过于频繁：本分钟内被拒绝的请求已达 {self.refusals.limit} 次，请 {wait} 秒后再试",
                          [(b"retry-after", str(wait).encode())])
            return
        if scope.get("method", "GET") not in SAFE_METHODS and "origin" in headers and not self._own(headers["origin"], scope, headers):
            self.refusals.note(client, "endpoint.origin_refused", "foreign origin")
            await _answer(send_with_headers, 403, "拒绝：请求来自其他网站（Origin 不是本服务的地址）",
                          html_page="text/html" in headers.get("accept", ""))
            return
        limit = limit_for(path)
        declared = headers.get("content-length", "")
        if declared and (not declared.isdigit()):
            await _answer(send_with_headers, 400, "Content-Length 无效")
            return
        if declared.isdigit() and int(declared) > limit:
            self.refusals.note(client, "endpoint.too_large", "body too large")
            await _answer(send_with_headers, 413, f"请求体过大：{int(declared)} 字节，上限 {limit} 字节")
            return
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, bounded_receive, send_with_headers)
        except _BodyTooLarge:
            self.refusals.note(client, "endpoint.too_large", "body too large")
            if not started:
                await _answer(send_with_headers, 413, f"请求体过大：超过上限 {limit} 字节")

    def _own(self, origin: str, scope: Scope, headers: dict[str, str]) -> bool:
        """The request's Origin is this endpoint: its public address, or the address asked for."""
        given = origin_of(origin)
        if given is None:  # "null" (a sandboxed page, a file) or garbage: not this endpoint
            return False
        own: set[str | None] = {self.public_origin} if self.public_origin else set()
        host = headers.get("host")
        if host:
            own.add(origin_of(f"{scope.get('scheme', 'http')}://{host}"))
        return given in own


async def _answer(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None,
                  html_page: bool = False) -> None:
    """The refusal as JSON for programs, as a short Chinese page for a person's browser (a
    pressed button must never end on raw JSON)."""
    if html_page:
        text = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>未能处理</title></head>'
                f'<body><h1>未能处理</h1><p>{html.escape(message)}</p></body></html>')
        body, kind = text.encode("utf-8"), b"text/html; charset=utf-8"
    else:
        body, kind = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8"), b"application/json; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})
