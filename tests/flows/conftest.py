"""Fixtures of the flow tests that run an incident end to end on a real Prefect server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def world(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http, smtp, free_port, write_profile) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A migrated store, the regflows endpoint on a free port, and a profile whose people receive
    through the local HTTP and SMTP stand-ins: ``{"http", "smtp", "ack", "profile"}``."""
    from notices.ack_server import serve_in_thread
    from regflows.procedures import endpoint_routes
    from regflows.profile import load_profile
    from regflows.store import migrate

    migrate()
    port = free_port()
    ack = serve_in_thread("127.0.0.1", port, endpoint_routes())
    base = f"http://127.0.0.1:{port}"
    profile_file = write_profile(tmp_path / "profile.yaml", http.base, smtp.port, base)
    monkeypatch.setenv("REGFLOWS_PROFILE", str(profile_file))
    yield {"http": http, "smtp": smtp, "ack": base, "profile": load_profile(profile_file)}
    ack.should_exit = True
