"""Start, wait for and stop a local Prefect server (embedded SQLite unless configured otherwise).

The server runs as a child process in its own process group, so that stopping regflows stops
it too, with a kill after a timeout (a Prefect process can outlive SIGTERM: seen with Prefect 3).
PostgreSQL is used when ``PREFECT_SERVER_DATABASE_CONNECTION_URL`` says so.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

_PR_SET_PDEATHSIG = 1
# Looked up here, not in the child: between fork and exec only already-bound calls are safe.
try:
    _PRCTL = ctypes.CDLL("libc.so.6", use_errno=True).prctl if sys.platform == "linux" else None
except OSError:  # a Linux without glibc
    _PRCTL = None


class ServerError(RuntimeError):
    pass


def api_url(host: str, port: int) -> str:
    return f"http://{host}:{port}/api"



def is_healthy(api: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class LocalServer:
    process: subprocess.Popen[bytes]
    api: str
    log: Path

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the server's whole process group, SIGKILL to what is left after ``timeout``.

        The group is signalled even when the server process itself has already exited: anything
        it started must not outlive it.
        """
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            self.process.wait()
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=5)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGTERM when the process that started it dies, however it dies
    (a test run killed by a timeout, ``regflows up`` killed with SIGKILL), so it is never
    orphaned. Elsewhere the process-group kill in ``stop`` is all there is."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


#: Addresses only this machine reaches: the embedded default listens there without authentication.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


#: Prefect's settings that put its messaging, event cache, causal ordering, concurrency leases,
#: background-task queue (docket) and worker-channel cleanup queue on Redis (prefect-redis): what
#: lets the API run as several replicas and the background services as a process of their own
#: (README, "Production"). Without them each process keeps these in its own memory, and events an
#: API replica receives never reach the services process that stores them.
REDIS_MODULES = {
    "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
    "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
    "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
    "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
    "PREFECT_SERVER_WORKER_CHANNEL_CLEANUP_QUEUE_STORAGE": "prefect_redis.cleanup_queue",
}


def redis_settings(host: str, port: int, db: int) -> dict[str, str]:
    """The environment of every API replica and of the services process for a Redis at
    ``host:port``, database ``db`` (:data:`REDIS_MODULES` plus where Redis is)."""
    return {**REDIS_MODULES, "PREFECT_REDIS_MESSAGING_HOST": host, "PREFECT_REDIS_MESSAGING_PORT": str(port),
            "PREFECT_REDIS_MESSAGING_DB": str(db), "PREFECT_SERVER_DOCKET_URL": f"redis://{host}:{port}/{db}"}


def _server_env(prefect_home: Path) -> dict[str, str]:
    env = dict(os.environ, PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env.pop("PREFECT_API_URL", None)
    return env


def start_services(prefect_home: Path, log_dir: Path, extra_env: dict[str, str] | None = None,
                   name: str = "prefect-services") -> LocalServer:
    """Launch ``prefect server services start``: Prefect's background services (scheduler, late
    runs, event persister, triggers, cancellations) in a process of their own, beside API
    replicas started with ``services=False``. Only useful with Redis messaging
    (:func:`redis_settings`): that is how events and messages reach it from the replicas. The
    returned server's ``api`` is empty: this process answers no HTTP."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    env = _server_env(prefect_home)
    env.update(extra_env or {})
    if env.get("PREFECT_SERVER_API_AUTH_STRING"):  # services that call the API (automations' actions) pass it too
        env.setdefault("PREFECT_API_AUTH_STRING", env["PREFECT_SERVER_API_AUTH_STRING"])
    cmd = [sys.executable, "-m", "prefect", "server", "services", "start"]
    with log.open("ab") as handle:
        process = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                   preexec_fn=_die_with_parent)
    return LocalServer(process, "", log)


def start(host: str, port: int, prefect_home: Path, log_dir: Path, extra_env: dict[str, str] | None = None,
          services: bool = True, name: str = "prefect-server") -> LocalServer:
    """Launch ``prefect server start`` with its own PREFECT_HOME; returns once the process runs.

    ``services=False`` starts an API replica only (``--no-services``): the background services
    then run in :func:`start_services`, and every process shares Redis (:func:`redis_settings`).

    A server on any other address than the loopback one is refused without Prefect's basic auth
    (``PREFECT_SERVER_API_AUTH_STRING``, ``user:password``): the API hands out Secret blocks and
    starts any deployment to whoever reaches its port.

    Call it from a thread that lives as long as the server should (the main thread): on Linux
    the server is ended when the thread that started it ends (``_die_with_parent``)."""
    if host not in LOOPBACK and not {**os.environ, **(extra_env or {})}.get("PREFECT_SERVER_API_AUTH_STRING"):
        raise ServerError(f"Prefect 服务器要在 {host} 上监听（不只是本机）：请先设置 PREFECT_SERVER_API_AUTH_STRING（用户名:密码），"
                          "客户端（worker、regflows 命令）设置相同的 PREFECT_API_AUTH_STRING；否则能访问该端口的任何人都能读取 Secret 块、触发部署")
    prefect_home.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    env = _server_env(prefect_home)
    # The UI asks /ui-settings where its API is; Prefect answers from its own host/port settings
    # (4200), not from `--port`: on another port the UI would call a server that is not there.
    env.setdefault("PREFECT_UI_API_URL", api_url(host, port))
    env.update(extra_env or {})
    if env.get("PREFECT_SERVER_API_AUTH_STRING"):  # the server's own clients (its services, the UI's settings) pass it too
        env.setdefault("PREFECT_API_AUTH_STRING", env["PREFECT_SERVER_API_AUTH_STRING"])
    # All services stay on unless they run elsewhere: the scheduler is what turns schedules into
    # the upcoming runs.
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]
    if not services:
        cmd.append("--no-services")
    with log.open("ab") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                   preexec_fn=_die_with_parent)
    return LocalServer(process, api_url(host, port), log)


def upgrade_database(prefect_home: Path, timeout: float = 600.0) -> str:
    """Apply Prefect's own migrations to its database: ``prefect server database upgrade -y``, on
    ``PREFECT_SERVER_DATABASE_CONNECTION_URL`` (PostgreSQL in production) or, unset, the SQLite
    file in ``prefect_home``. Prefect's command, run as a child with the same settings a server
    started by :func:`start` gets; returns its last output line. Raises :class:`ServerError`
    naming the database (password hidden) and Prefect's own message when it fails."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    cmd = [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ServerError(f"Prefect 数据库（{prefect_database(prefect_home)}）迁移在 {timeout:.0f} 秒内未完成") from exc
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise ServerError(f"Prefect 数据库（{prefect_database(prefect_home)}）迁移失败（退出码 {done.returncode}）：\n{output[-2000:]}")
    return output.splitlines()[-1] if output else ""


def prefect_database(prefect_home: Path) -> str:
    """Which database Prefect's server uses, for people: its URL with the password hidden."""
    url = os.environ.get("PREFECT_SERVER_DATABASE_CONNECTION_URL") or os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL")
    if not url:
        return f"SQLite {prefect_home / 'prefect.db'}"
    from sqlalchemy.engine import make_url  # lazy: `regflows up` imports this module before the store

    return make_url(url).render_as_string(hide_password=True)


def wait_healthy(server: LocalServer, timeout: float = 180.0, on_tick=None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise ServerError(f"Prefect 服务器启动失败（退出码 {server.process.returncode}），日志 {server.log}：\n{tail}")
        if is_healthy(server.api):
            return
        if on_tick:
            on_tick()
        time.sleep(0.5)
    server.stop()
    raise ServerError(f"Prefect 服务器在 {timeout:.0f} 秒内未就绪，日志见 {server.log}")
