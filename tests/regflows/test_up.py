"""`regflows up` leaves a Prefect profile for `prefect` commands run outside regflows (issue 14, 7)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from regflows.up import PREFECT_PROFILE_NAME, user_prefect_profiles, write_prefect_profile

PREFECT = Path(sys.executable).with_name("prefect")
API = "http://127.0.0.1:4200/api"


def test_the_profiles_file_is_the_users_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_prefect_profiles({}) == tmp_path / ".prefect" / "profiles.toml"
    assert user_prefect_profiles({"PREFECT_HOME": "/srv/p"}) == Path("/srv/p/profiles.toml")
    assert user_prefect_profiles({"PREFECT_HOME": "/srv/p", "PREFECT_PROFILES_PATH": "/etc/p.toml"}) == Path("/etc/p.toml")


def test_a_prefect_command_with_a_fresh_home_finds_the_server_through_the_profile(tmp_path: Path) -> None:
    """With a temporary HOME: the profile is written to ~/.prefect/profiles.toml, a second `up`
    leaves the file alone, the user's own profiles and active choice survive, and Prefect's own
    CLI reads the API URL from it (`PREFECT_PROFILE=regflows`), not activated by default."""
    profiles = tmp_path / ".prefect" / "profiles.toml"
    assert write_prefect_profile(profiles, API) is True
    assert write_prefect_profile(profiles, API) is False  # unchanged: not rewritten
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["HOME"] = str(tmp_path)

    def prefect(*args: str, **extra: str) -> str:
        done = subprocess.run([str(PREFECT), *args], env={**env, **extra}, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = prefect("profile", "ls")
    assert PREFECT_PROFILE_NAME in listed and "* ephemeral" in listed  # there; Prefect's default still active
    assert f"PREFECT_API_URL='{API}'" in prefect("config", "view", PREFECT_PROFILE=PREFECT_PROFILE_NAME)
    # a user's own profiles file: their active profile and settings stay; a moved server is corrected
    profiles.write_text('active = "mine"\n\n[profiles.mine]\nPREFECT_API_URL = "http://other:4200/api"\n\n'
                        f'[profiles.{PREFECT_PROFILE_NAME}]\nPREFECT_API_URL = "http://old:4200/api"\n', encoding="utf-8")
    assert write_prefect_profile(profiles, API) is True
    listed = prefect("profile", "ls")
    assert "* mine" in listed
    assert "PREFECT_API_URL='http://other:4200/api'" in prefect("config", "view")
    assert f"PREFECT_API_URL='{API}'" in prefect("config", "view", PREFECT_PROFILE=PREFECT_PROFILE_NAME)


def test_the_server_starts_where_prefect_api_url_points_or_up_refuses_in_chinese() -> None:
    """Review of issue 15 (setup): PREFECT_API_URL on 4391 and no --port started the server on 4200,
    then registering the deployments crashed with an httpx traceback."""
    from regflows.server import ServerError
    from regflows.up import server_address

    assert server_address("http://127.0.0.1:4391/api", "127.0.0.1", None) == ("127.0.0.1", 4391)
    assert server_address("http://localhost:4391/api", "127.0.0.1", 4391) == ("127.0.0.1", 4391)
    assert server_address("http://127.0.0.1:4200/api", "127.0.0.1", None) == ("127.0.0.1", 4200)
    with pytest.raises(ServerError, match="4391.*--port 为 4200"):
        server_address("http://127.0.0.1:4391/api", "127.0.0.1", 4200)
    with pytest.raises(ServerError, match="只能在本机启动服务器"):
        server_address("https://prefect.example.com/api", "127.0.0.1", None)


def test_up_says_the_mismatch_before_starting_anything(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from regflows.cli import app

    monkeypatch.setenv("REGFLOWS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))  # restored after: up sets it for its process
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4391/api")  # nothing listens there
    result = CliRunner().invoke(app, ["up", "--port", "4200"])
    assert result.exit_code != 0 and "--port 为 4200" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "prefect").exists()  # no server started


def test_a_start_verifies_the_ledger_and_records_a_break_without_stopping(home: Path) -> None:
    """`regflows up` and `regflows deploy` recompute the chain and its anchors first (issue 19, 5)."""
    import json

    from sqlalchemy import select

    from regflows import ledger
    from regflows.store import db, migrate
    from regflows.store.models import AuditEntry
    from regflows.up import verify_ledger_on_start

    migrate()
    ledger.append("test.one", "T1", {})
    ledger.append("test.two", "T2", {})
    anchor = ledger.write_anchor()
    assert verify_ledger_on_start("regflows up") is True
    # The database was rewritten after anchoring: here the anchor no longer matches its entry.
    path = ledger.anchor_path()
    path.write_text(json.dumps({**json.loads(anchor.line()), "head_hash": "0" * 64}) + "\n", encoding="utf-8")
    assert verify_ledger_on_start("regflows deploy") is False
    with db.session() as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    assert (last.action, last.subject) == ("ledger.broken_on_start", "regflows deploy")
    assert "锚定后被整体重算或改写" in json.loads(last.payload)["problems"][0]


def test_the_profile_given_to_up_is_the_one_its_runs_and_endpoint_read(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``regflows up --profile FILE``: the runs it serves and its endpoint read FILE, not the demo
    institution (they find the profile through REGFLOWS_PROFILE)."""
    import shutil

    from regflows import up
    from regflows.profile import DEMO_PROFILE, profile_path

    mine = tmp_path / "bank.yaml"
    shutil.copy(DEMO_PROFILE, mine)
    monkeypatch.setenv("REGFLOWS_PROFILE", str(DEMO_PROFILE))  # so that what up sets is undone after
    monkeypatch.delenv("REGFLOWS_PROFILE")
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))  # restored after: up sets it for its process
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4391/api")
    seen: dict[str, object] = {}
    monkeypatch.setattr(up, "is_healthy", lambda api: True)  # "a server already runs": none is started
    monkeypatch.setattr(up, "_announce_prefect_profile", lambda *args: None)
    monkeypatch.setattr(up, "_start_ack_endpoint", lambda base: seen.setdefault("endpoint", profile_path()) and None)
    monkeypatch.setattr(up, "serve_deployments", lambda profile: seen.setdefault("runs", os.environ.get("REGFLOWS_PROFILE")))
    monkeypatch.setattr(up, "lower_thread_priority", lambda niceness: seen.setdefault("nice", niceness))
    up.run_up("127.0.0.1", 4391, mine)
    assert seen == {"endpoint": mine.resolve(), "runs": str(mine.resolve()), "nice": 5}  # the runs it serves run behind the endpoint


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a nice value per thread is Linux's")
def test_runs_started_after_lowering_run_behind_the_endpoint_thread_started_before() -> None:
    """``regflows up`` lowers the serve loop's thread only: the flow-run processes it starts run at
    the lower priority, the endpoint's thread (started before) and the server keep theirs. In a
    child interpreter: a nice value cannot be raised back without privileges."""
    script = textwrap.dedent(
        """
        import os, subprocess, sys, threading
        from regflows.priority import lower_thread_priority

        before = os.getpriority(os.PRIO_PROCESS, 0)
        seen = {}
        ready, done = threading.Event(), threading.Event()
        def endpoint():
            ready.set(); done.wait(); seen["endpoint"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        thread = threading.Thread(target=endpoint); thread.start(); ready.wait()
        assert lower_thread_priority(0) is None
        lowered = lower_thread_priority(5)
        child = subprocess.run([sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"],
                               capture_output=True, text=True, check=True)
        done.set(); thread.join()
        print(before, lowered, int(child.stdout), seen["endpoint"])
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    before, lowered, child, endpoint = map(int, out.stdout.split())
    assert lowered == min(19, before + 5) and child == lowered and endpoint == before
