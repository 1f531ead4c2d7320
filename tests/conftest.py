"""Shared fixtures: a private regflows home per test, the store on SQLite and PostgreSQL, and one
real Prefect server per test session (started only when a test asks for it)."""

from __future__ import annotations

import os

# Before anything imports Prefect: a Prefect call that finds no API URL must fail loudly, not
# start a temporary server of its own (Prefect's default profile allows that, and such a
# server then outlives the test run).
os.environ["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] = "false"

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("REGFLOWS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


@pytest.fixture
def http():  # type: ignore[no-untyped-def]
    """A local HTTP stand-in for push and SMS gateways (tests/local_servers.py)."""
    from tests.local_servers import start_http

    server = start_http()
    yield server
    server.close()


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    """A local SMTP server (aiosmtpd) that keeps what it receives."""
    from tests.local_servers import start_smtp

    server = start_smtp(free_port())
    yield server
    server.close()


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``prefect server start`` on a free port with its own SQLite database."""
    from regflows.server import start, wait_healthy

    root = tmp_path_factory.mktemp("prefect")
    # A short scheduler loop so that upcoming runs appear within seconds of registration.
    server = start(
        "127.0.0.1", free_port(), root / "home", root / "logs",
        extra_env={"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "3"},
    )
    try:
        wait_healthy(server, timeout=240)
        yield server.api
    finally:
        drain_prefect_workers()
        server.stop()


def drain_prefect_workers(timeout: float = 30.0) -> None:
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
