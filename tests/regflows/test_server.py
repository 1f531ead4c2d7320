"""Stopping a local server leaves nothing behind: its whole process group goes, and a server
whose parent dies (a killed test run, a killed ``regflows up``) goes with it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from regflows.server import LocalServer


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0) until its parent reaps it: count it as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_stop_kills_the_whole_group_even_after_the_leader_exited(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # The leader starts a grandchild that ignores SIGTERM, then exits at once.
    script = f"import os, signal, subprocess, sys; p = subprocess.Popen([sys.executable, '-c', " \
             f"'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)']); " \
             f"open({str(pidfile)!r}, 'w').write(str(p.pid))"
    leader = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    leader.wait(timeout=30)
    grandchild = int(pidfile.read_text())
    assert alive(grandchild)
    LocalServer(leader, "http://127.0.0.1:1/api", tmp_path / "log").stop(timeout=1)
    assert wait_gone(grandchild), "a process of the server's group outlived stop()"


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux only")
def test_a_server_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    """The parent is SIGKILLed (no teardown runs): the child started like a server still goes."""
    pidfile = tmp_path / "server.pid"
    parent_code = (
        "import subprocess, sys, time\n"
        "from regflows.server import _die_with_parent\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], start_new_session=True,\n"
        "                     preexec_fn=_die_with_parent)\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 30
        while not pidfile.exists() or not pidfile.read_text():
            assert time.monotonic() < deadline, "the parent did not start its child"
            time.sleep(0.1)
        child = int(pidfile.read_text())
        assert alive(child)
    finally:
        parent.kill()
        parent.wait(timeout=10)
    assert wait_gone(child), "the child outlived the process that started it"


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::"])
def test_a_server_beyond_loopback_is_refused_without_basic_auth(tmp_path: Path, host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from regflows.server import ServerError, start

    monkeypatch.delenv("PREFECT_SERVER_API_AUTH_STRING", raising=False)
    with pytest.raises(ServerError, match="PREFECT_SERVER_API_AUTH_STRING"):
        start(host, 4299, tmp_path / "home", tmp_path / "logs")
    assert not (tmp_path / "logs").exists()  # refused before anything started
