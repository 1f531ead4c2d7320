"""What the endpoint enforces around every route (issue 13, item 6): refusals counted and rate-
limited per client and minute and summarised into the ledger, a body size limit, an origin rule,
security headers, and malformed bodies answered with a 4xx naming the problem, never a 500."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from notices.ack_server import create_app, serve_in_thread
from regflows.kit.refusals import RefusalLog
from regflows.procedures import endpoint_routes
from regflows.store import db, migrate
from regflows.store.models import AuditEntry

PUBLIC = "https://regflows.example.cn"
TOKEN = {"Authorization": "Bearer t0ken"}


class Clock:
    """A clock the test moves: no timed assertions."""

    def __init__(self) -> None:
        self.now = 1_767_225_600.0  # 2026-01-01T00:00:00Z, the start of a minute

    def __call__(self) -> float:
        return self.now


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"size": len(await request.body())})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def counts(home: Path, clock: Clock) -> RefusalLog:
    return RefusalLog(limit=20, clock=clock)  # after `home`: it writes to the store of its creation


@pytest.fixture
def client(home: Path, counts: RefusalLog, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    migrate()
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", "t0ken")
    monkeypatch.setenv("REGFLOWS_BODY_MAX_BYTES", "4096")
    app = create_app([*endpoint_routes(), Route("/echo", echo, methods=["POST"])], PUBLIC, counts)
    yield TestClient(app, base_url=PUBLIC)


def entries(*actions: str) -> list[tuple[str, dict]]:
    with db.session() as s:
        rows = s.execute(select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.seq)).scalars()
        return [(r.action, json.loads(r.payload)) for r in rows]


def test_a_flood_of_refusals_is_limited_and_summarised_once_a_minute(client: TestClient, clock: Clock, counts: RefusalLog) -> None:
    answers = []
    for i in range(500):
        answers.append(client.get(f"/ack/AAAA{i:07d}.forged").status_code)
        answers.append(client.post("/incidents", content=b"{}", headers={"Authorization": f"Bearer guess{i}"}).status_code)
    assert answers[:20] == [400, 401] * 10  # refused by the routes until the limit...
    assert set(answers[20:]) == {429}  # ...then by the guard, before any route runs
    limited = client.get("/ack/x.y")
    assert limited.status_code == 429 and "请求过于频繁" in limited.json()["error"] and limited.headers["retry-after"] == "60"
    assert client.get("/health").status_code == 200  # a health probe is never locked out
    counts.flush()
    assert entries("ack.refused", "incident.ingest_refused", "upload.refused", "endpoint.refusals") == []  # the minute is not over
    clock.now += 61  # the next minute: the client may try again; the ended minute is one entry
    assert client.get("/ack/AAAA.again").status_code == 400
    assert counts.flush() == 1
    [(action, summary)] = entries("ack.refused", "incident.ingest_refused", "upload.refused", "endpoint.refusals")
    assert action == "endpoint.refusals" and summary["minute"] == "2026-01-01T00:00:00+00:00"
    assert summary["refusals"] == 20 and summary["limited"] == 981
    mine = summary["clients"]["testclient"]
    assert mine["refusals"] == {"ack.refused:forged (link-view)": 10, "incident.ingest_refused:bad token": 10}
    assert len(mine["tokens"]) == 5 and all(len(t) == 16 for t in mine["tokens"])  # fingerprints, never tokens
    counts.flush(force=True)  # at shutdown: the current minute too
    assert len(entries("endpoint.refusals")) == 2


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for answer in (client.get("/health"), client.get("/ack/x.y"), client.get("/nowhere"),
                   client.post("/incidents", content=b"{}", headers={"Origin": "https://evil.example"})):
        assert answer.headers["x-frame-options"] == "DENY", answer.url
        assert answer.headers["referrer-policy"] == "same-origin"  # a browser's own-page POST then carries its Origin
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert "script-src" not in answer.headers["content-security-policy"]  # default-src 'none' covers scripts
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["strict-transport-security"].startswith("max-age=")  # public_base_url is https


def test_a_post_from_another_origin_is_refused_one_without_origin_is_judged_by_its_token(client: TestClient) -> None:
    body = b'{"title": 1}'
    foreign = client.post("/incidents", content=body, headers={**TOKEN, "Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "其他网站" in foreign.json()["error"]
    page = client.post("/ack/x.y", headers={"Origin": "https://evil.example", "Accept": "text/html,*/*"})
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html") and "其他网站" in page.text
    assert client.post("/ack/x.y", headers={"Origin": "null"}).status_code == 403
    assert client.post("/ack/x.y", headers={"Origin": PUBLIC}).status_code == 400  # own origin: the link is judged
    assert client.post("/incidents", content=body, headers={**TOKEN, "Origin": PUBLIC}).status_code == 422
    assert client.post("/incidents", content=body, headers=TOKEN).status_code == 422  # no Origin: the token decides
    assert client.post("/incidents", content=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/ack/x.y", headers={"Origin": "https://evil.example"}).status_code == 400  # GET changes nothing


def test_a_body_over_the_limit_is_refused(client: TestClient) -> None:
    assert client.post("/echo", content=b"x" * 4096).json() == {"size": 4096}
    declared = client.post("/echo", content=b"x" * 4097)
    assert declared.status_code == 413 and "上限 4096 字节" in declared.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it is read
        for _ in range(10):
            yield b"x" * 1000

    streamed = client.post("/echo", content=chunks())
    assert streamed.status_code == 413 and "超过上限 4096 字节" in streamed.json()["error"]


def test_the_limit_is_enforced_before_the_body_is_read(home: Path, free_port, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A real server answers 413 to a declared 100 MB body having read none of it."""
    migrate()
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", "t0ken")
    port = free_port()
    server = serve_in_thread("127.0.0.1", port, endpoint_routes())
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t0ken\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{")
            raw = b""
            while b"\r\n\r\n" not in raw or len(raw.partition(b"\r\n\r\n")[2]) < _length(raw):
                part = sock.recv(65536)
                if not part:
                    break
                raw += part
            answer = raw.decode("utf-8", "replace")
        assert answer.startswith("HTTP/1.1 413") and "请求体过大" in answer
    finally:
        server.should_exit = True


def _length(raw: bytes) -> int:
    head = raw.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    return next((int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.startswith("content-length:")), 0)


@pytest.mark.parametrize(("body", "words"), [
    (b'{"title": "\xff\xfe"}', "不是有效的 UTF-8"),
    (b"[" * 50_000 + b"]" * 50_000, "嵌套过深"),
    (b'{"title": "x", "severity": ' + b"9" * 5000 + b"}", "数字过长"),
    (b'{"title": NaN}', "NaN"),
])
def test_a_malformed_body_gets_a_4xx_naming_the_problem(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                        body: bytes, words: str) -> None:
    monkeypatch.setenv("REGFLOWS_BODY_MAX_BYTES", str(1024 * 1024))
    answer = client.post("/incidents", content=body, headers=TOKEN)  # a 500 would raise here (TestClient)
    assert answer.status_code == 422 and words in answer.json()["error"]
