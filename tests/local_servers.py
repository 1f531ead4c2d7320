"""Real local servers that stand in for an SMTP relay, SMS gateways and push vendors.

Nothing here mocks Apprise: notices travel through Apprise over real sockets to these servers,
and the tests read what arrived.
"""

from __future__ import annotations

import email
import json
import threading
import time
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class HttpStandIn:
    """Answers by path prefix: /ok, /fail (500), /slow (3 s), /hang (until released),
    /vendor-error (200 + errcode), /vendor-ok (200 + errcode 0)."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"127.0.0.1:{port}"

    def at(self, prefix: str) -> list[Received]:
        return [r for r in self.received if r.path.startswith(prefix)]

    def wait_for(self, prefix: str, count: int = 1, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.at(prefix)) >= count:
                return self.at(prefix)
            time.sleep(0.05)
        raise AssertionError(f"{count} request(s) to {prefix} did not arrive; got {[r.path for r in self.received]}")

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def start_http() -> HttpStandIn:
    stand_in: HttpStandIn

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            stand_in.received.append(Received(self.path, dict(self.headers), body))
            path = self.path
            if path.startswith("/fail"):
                return self._answer(500, {"error": "internal"})
            if path.startswith("/slow"):
                time.sleep(3)
            if path.startswith("/hang"):
                stand_in.release.wait(60)
            if path.startswith("/vendor-error"):
                return self._answer(200, {"errcode": 310000, "errmsg": "keywords not in content", "code": 19021, "msg": "sign match fail"})
            if path.startswith("/vendor-ok"):
                return self._answer(200, {"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"})
            return self._answer(200, {"ok": True})

        def _answer(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stand_in = HttpStandIn(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return stand_in


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    subject: str
    body: str


class _Collect:
    def __init__(self) -> None:
        self.messages: list[Mail] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        msg = email.message_from_bytes(envelope.original_content or envelope.content)
        parts = [p for p in msg.walk() if p.get_content_type() in ("text/plain", "text/html")]
        body = parts[0].get_payload(decode=True).decode(parts[0].get_content_charset() or "utf-8") if parts else ""
        subject = str(make_header(decode_header(msg.get("Subject", ""))))
        self.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), subject, body))
        return "250 OK"


@dataclass
class SmtpStandIn:
    controller: Controller
    handler: _Collect

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def messages(self) -> list[Mail]:
        return self.handler.messages

    def close(self) -> None:
        self.controller.stop()


def start_smtp(port: int) -> SmtpStandIn:
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return SmtpStandIn(controller, handler)


def ack_link_in(message: str, base: str) -> str:
    """The personal acknowledgement link (``base/ack/<id>.<signature>``) a received message carries."""
    import re

    found = re.search(re.escape(base.rstrip("/")) + r"/ack/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", message)
    if found is None:
        raise AssertionError(f"no acknowledgement link to {base} in: {message}")
    return found.group(0)
