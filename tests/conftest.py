"""Fixtures for every folder of tests/: a private regflows home per test, the store on SQLite and
PostgreSQL, local servers that stand in for the notice channels, test profiles, credit query logs,
and one real Prefect server per test session (started only when a test asks for it).

Helpers reach the tests as fixtures (a fixture may return a function), never by importing a module
of tests/ (tests/README.md)."""

from __future__ import annotations

import os

# Before anything imports Prefect: a Prefect call that finds no API URL must fail loudly, not
# start a temporary server of its own (Prefect's default profile allows that, and such a
# server then outlives the test run).
os.environ["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] = "false"

import csv
import email
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from regflows.profile import DEMO_PROFILE, Profile

PG_ADMIN_URL = os.environ.get("REGFLOWS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(name="free_port")
def free_port_fixture() -> Callable[[], int]:
    """A function that returns a port nobody listens on (yet)."""
    return _free_port


# -- the regflows home and the store ------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private REGFLOWS_HOME with a SQLite store and its own anchor folder."""
    monkeypatch.setenv("REGFLOWS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REGFLOWS_DATABASE_URL", f"sqlite:///{tmp_path / 'home' / 'regflows.db'}")
    monkeypatch.setenv("REGFLOWS_ANCHOR_DIR", str(tmp_path / "anchors"))
    monkeypatch.delenv("REGFLOWS_PROFILE", raising=False)
    return tmp_path / "home"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the PostgreSQL database ``test``, dropped afterwards."""
    schema = f"regflows_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # the server is part of the test environment: its absence fails
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} unavailable: {exc}")
    yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_database() -> Iterator[Callable[[str], str]]:
    """A function that creates a PostgreSQL database of its own on the test server (a unique name
    from ``purpose``) and returns its URL without a driver (``postgresql://…``); every database it
    created is dropped afterwards, connections and all. For what needs a whole database, not a
    schema: Prefect's own, and ``regflows migrate``."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def create(purpose: str) -> str:
        name = f"rf_{purpose}_{uuid.uuid4().hex[:10]}"
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # the server is part of the test environment: its absence fails
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} unavailable: {exc}")
        made.append(name)
        return str(make_url(PG_ADMIN_URL).set(drivername="postgresql", database=name).render_as_string(hide_password=False))

    yield create
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


REDIS_HOST, REDIS_PORT = "127.0.0.1", int(os.environ.get("REGFLOWS_TEST_REDIS_PORT", "6379"))
_REDIS_CLAIM = "regflows-test:claim"


@pytest.fixture
def redis_db() -> Iterator[int]:
    """A database number of its own on the Redis server at 127.0.0.1:6379: the first of 1-15 that
    is empty, claimed atomically with a marker key (two test runs at once never share one). Every
    key in it is deleted afterwards: it was empty before, so they are all keys this test made
    (one by one, never FLUSHALL/FLUSHDB). An unreachable Redis fails the test: the server is part
    of the test environment (CI runs one), and a skip would hide that Redis messaging went untested."""
    import redis

    claim = uuid.uuid4().hex
    for db in range(1, 16):
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db, socket_timeout=5, socket_connect_timeout=5)
        try:
            if client.dbsize() == 0 and client.set(_REDIS_CLAIM, claim, nx=True) and client.dbsize() == 1:
                break
        except redis.RedisError as exc:
            pytest.fail(f"Redis at {REDIS_HOST}:{REDIS_PORT} unavailable: {exc} (Redis 不可用：生产路径的 Redis 消息测试需要它)")
        client.close()
    else:
        pytest.fail(f"Redis at {REDIS_HOST}:{REDIS_PORT}: no empty database among 1-15 for this test")
    try:
        yield db
    finally:
        for key in list(client.scan_iter(count=1000)):
            client.delete(key)
        client.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store on each supported backend, migrated to head and set as REGFLOWS_DATABASE_URL."""
    from regflows.store import migrate

    if request.param == "sqlite":
        url = os.environ["REGFLOWS_DATABASE_URL"]
    else:
        url = request.getfixturevalue("pg_url")
        monkeypatch.setenv("REGFLOWS_DATABASE_URL", url)
    migrate(url)
    return url


# -- local servers that stand in for an SMTP relay, SMS gateways and push vendors -----------------
# Nothing here mocks Apprise: notices travel through Apprise over real sockets to these servers,
# and the tests read what arrived.


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

    @staticmethod
    def ack_link_in(message: str, base: str) -> str:
        """The personal acknowledgement link (``base/ack/<id>.<signature>``) a received message carries."""
        found = re.search(re.escape(base.rstrip("/")) + r"/ack/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", message)
        if found is None:
            raise AssertionError(f"no acknowledgement link to {base} in: {message}")
        return found.group(0)

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


def _start_http() -> HttpStandIn:
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


def _start_smtp(port: int) -> SmtpStandIn:
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return SmtpStandIn(controller, handler)


@pytest.fixture
def http() -> Iterator[HttpStandIn]:
    """A local HTTP stand-in for push and SMS gateways."""
    server = _start_http()
    yield server
    server.close()


@pytest.fixture
def smtp() -> Iterator[SmtpStandIn]:
    """A local SMTP server (aiosmtpd) that keeps what it receives."""
    server = _start_smtp(_free_port())
    yield server
    server.close()


# -- test institutions ---------------------------------------------------------------------------


def _build_profile(people: dict[str, list[tuple[str, str]]], roles: dict[str, dict[str, Any]] | None = None,
                   settings: dict[str, Any] | None = None, base_url: str = "http://127.0.0.1:4201") -> Profile:
    """people: id -> [(kind, url), ...]; roles are merged over the demo's (demo people stay valid)."""
    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    names = {"a": "甲", "b": "乙", "c": "丙", "d": "丁", "e": "戊"}
    for pid, channels in people.items():
        data["people"].append(
            {"id": pid, "name": f"测试{names.get(pid[-1], pid)}", "channels": [{"kind": k, "url": u} for k, u in channels]}
        )
    data["roles"].update(roles or {})
    data["settings"].update(settings or {})
    data["public_base_url"] = base_url
    return Profile.model_validate(data)


@pytest.fixture
def build_profile() -> Callable[..., Profile]:
    """A function that builds a test institution whose people's channels point at the local stand-in
    servers: ``build_profile(people, roles=None, settings=None, base_url=...)``."""
    return _build_profile


def _write_profile(path: Path, http_base: str, smtp_port: int | None, ack_base: str) -> Path:
    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    for person in data["people"]:
        person["channels"] = [{"kind": "webhook", "url": f"json://{http_base}/ok/{person['id']}"}]
    if smtp_port is not None:
        data["people"][0]["channels"].append({"kind": "email", "url": f"mailto://127.0.0.1:{smtp_port}?from=regflows@example.cn&to=oncall@example.cn"})
    data["public_base_url"] = ack_base
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def write_profile() -> Callable[[Path, str, int | None, str], Path]:
    """A function that writes the demo institution to ``path`` with every person's channel at the
    HTTP stand-in (``/ok/<person>``), the first person also by mail to the SMTP port (none: HTTP
    only): ``write_profile(path, http_base, smtp_port, ack_base)``."""
    return _write_profile


# -- credit query logs ---------------------------------------------------------------------------

LOG_COLUMNS = ["query_id", "queried_at", "user_id", "institution", "region", "subject_id", "subject_type",
               "reason_code", "authorization_id", "authorized_at", "authorization_expires"]


def _row(query_id: str, queried_at: str, **over: Any) -> dict[str, Any]:
    """A clean query: authorized the day before, a working-day time, a fresh subject."""
    base = {"query_id": query_id, "queried_at": queried_at, "user_id": "u1", "institution": "YX0001",
            "region": "重庆市", "subject_id": f"h:{query_id}", "subject_type": "person", "reason_code": "02",
            "authorization_id": f"A-{query_id}", "authorized_at": "2025-08-01", "authorization_expires": ""}
    base.update(over)
    return base


def _write_csv(path: Path, rows: list[dict[str, Any]], encoding: str = "utf-8", columns: list[str] | None = None) -> Path:
    cols = columns or LOG_COLUMNS
    with path.open("w", newline="", encoding=encoding) as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


@pytest.fixture
def log_columns() -> list[str]:
    """The columns of a credit query log, in order."""
    return list(LOG_COLUMNS)


@pytest.fixture
def row() -> Callable[..., dict[str, Any]]:
    """A function that builds one log row with sane defaults: ``row(query_id, queried_at, **changes)``."""
    return _row


@pytest.fixture
def write_csv() -> Callable[..., Path]:
    """A function that writes rows as a log file: ``write_csv(path, rows, encoding="utf-8", columns=None)``."""
    return _write_csv


# -- the self-inspection's quarter (2025Q3) ------------------------------------------------------
# Six months of the credit statistics' demo logs (ids made unique per month), the inspection's demo
# users file (one planted user per check) and a small vulnerability register.

INSPECTION_MONTHS = ("2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09")
INSPECTION_VULNS = """id,severity,found,due,fixed
V1,高危,2025-06-01,2025-07-01,
V2,low,2025-07-02,2025-08-01,2025-07-20
V3,critical,2025-08-01,2025-08-05,2025-08-20
V4,medium,2025-09-01,2025-12-01,
V5,medium,2025-10-02,2025-12-01,
"""


@dataclass(frozen=True)
class QuarterData:
    logs: list[Path]
    users: Path
    vulns: Path
    folder: Path


def _write_quarter(folder: Path, rows: int = 400) -> QuarterData:
    import regflows.credit  # noqa: F401  (registers the query-log source, as a composition root does)
    from regflows.credit.demo import generate
    from regflows.credit.models import Period
    from regflows.inspection.demo import users_csv
    from regflows.inspection.models import Quarter

    folder.mkdir(parents=True, exist_ok=True)
    logs, users = [], set()
    for i, month in enumerate(INSPECTION_MONTHS):
        frame = generate(rows, 100 + i, Period.parse(month)).frame
        frame["query_id"] = f"M{month}-" + frame["query_id"].astype(str)
        path = folder / f"query-log-{month}.csv"
        frame.to_csv(path, index=False)
        logs.append(path)
        if month >= "2025-07":
            users |= set(frame["user_id"].astype(str))
    users_path = folder / "users.csv"
    users_path.write_text(users_csv(sorted(users), Quarter.parse("2025Q3")), encoding="utf-8")
    vulns = folder / "vulns.csv"
    vulns.write_text(INSPECTION_VULNS, encoding="utf-8")
    return QuarterData(logs, users_path, vulns, folder)


@pytest.fixture(scope="session")
def quarter_data(tmp_path_factory: pytest.TempPathFactory) -> QuarterData:
    """2025Q3 with the three months before it (history for the six-month check)."""
    return _write_quarter(tmp_path_factory.mktemp("inspection-data"))


# -- Prefect ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``prefect server start`` on a free port with its own SQLite database."""
    from regflows.server import start, wait_healthy

    root = tmp_path_factory.mktemp("prefect")
    # A short scheduler loop so that upcoming runs appear within seconds of registration.
    server = start(
        "127.0.0.1", _free_port(), root / "home", root / "logs",
        extra_env={"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "3"},
    )
    try:
        wait_healthy(server, timeout=240)
        yield server.api
    finally:
        _drain_prefect_workers()
        server.stop()


def _drain_prefect_workers(timeout: float = 30.0) -> None:
    """Send what Prefect still buffers (run logs, events) and stop its background workers, before
    a server goes away.

    Prefect sends logs and events from queue workers, one per server address, which it drains
    again at interpreter exit: a worker still holding items for a stopped server then retries it
    for minutes after pytest's summary. Draining here, while the server is up, leaves them
    nothing; the next flow run starts fresh workers for whatever server is current.
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=timeout, at_exit=False)


@pytest.fixture
def prefect_api(prefect_server: str) -> Iterator[str]:
    """Point this process's Prefect client at the session server."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
        yield prefect_server


@pytest.fixture(name="drain_prefect_workers")
def drain_prefect_workers_fixture() -> Callable[..., None]:
    """The function that sends what Prefect still buffers before a server the test started goes away."""
    return _drain_prefect_workers


def _artifact_texts(api: str, key: str) -> list[str]:
    """The artifacts' data as readable text (table data arrives as a JSON string)."""
    r = httpx.post(f"{api}/artifacts/filter", json={"artifacts": {"key": {"any_": [key]}}}, timeout=30)
    r.raise_for_status()
    out = []
    for a in r.json():
        data = a.get("data")
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                pass
        out.append((data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)) + (a.get("description") or ""))
    return out


@pytest.fixture
def artifact_texts() -> Callable[[str, str], list[str]]:
    """A function that reads the artifacts of a key from a Prefect server: ``artifact_texts(api, key)``."""
    return _artifact_texts
