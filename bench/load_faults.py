"""Load and faults (issue 19 item 6): the production set-up on loopback, 100 incidents declared within
a minute while a big credit-stats month runs, and the Prefect API, a worker, Redis and PostgreSQL
each killed (SIGKILL) and restarted once during the run.

Run: ``.venv/bin/python bench/load_faults.py [--rows 10000000] [--incidents 100] [--keep]``

Everything it starts is its own: a PostgreSQL cluster (``initdb`` into a temporary folder, another
port), a Redis (``redis-server --port N --save ''``), one Prefect API (``--no-services``) and one
services process sharing them (README, "Production"), two ``prefect worker`` processes on a process
pool filled by ``regflows deploy --pool``, the regflows endpoint (``regflows notices serve-acks``)
and an HTTP receiver, in a process of its own, that every person's two channels post to (``json://``)
and that writes down each delivery it gets. It never stops the machine's shared PostgreSQL or Redis.

Afterwards it checks: every declaration accepted and its incident-response run completed once; every
incident's obligations stored as the clock computes them; every reminder point that fell in the run
sent; every delivery delivered, and received exactly once per (notice, channel); no flow run
executed twice (``run_count``); the ledger intact (``regflows audit verify``); and a ``pg_dump`` of
the store taken during the run restored into a fresh database whose ledger verifies. It prints the
figures (latency of POST /incidents, declaration to first notice, reminders late and by how much,
the machine's load) as JSON, and exits 1 with a Chinese and English message on any failure.

Bounded: about 15 minutes with the defaults (most of it waiting for the reminders' due times).
Not part of ``make test``: too long.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("REGFLOWS_BENCH_PG_BIN", "/usr/local/bin"))
POOL = "loadtest"
TOKEN = "load-faults-ingest-token"
#: Reminder points (minutes before each due time) in the bench's profile: short, so that they fall
#: inside a bounded run. The initial report of incident i is due ``--due-minutes`` + (i % 3)
#: minutes after its declaration.
REMINDER_MINUTES = (4, 2)
#: ``settings.run_pending_grace_minutes`` here (10 in production): a run the killed worker had
#: taken is given back within the run's span. Safe this short: a worker records the process the
#: moment it exists, and only a run with none is given back (regflows/recovery.py).
PENDING_GRACE_MINUTES = 2
#: The worker of the watches' queue alone (README "Production": a worker of their own).
WATCH_WORKER = "watches"
#: The general workers' nice value (README "Production"): their runs yield to the latency-bound parts.
WORKER_NICE = 5


class BenchFailure(Exception):
    """A check that failed: the message is Chinese, then English."""


def fail(zh: str, en: str) -> BenchFailure:
    return BenchFailure(f"{zh}\n{en}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the receiver: a process of its own that writes down every delivery --------------------------


def serve_receiver(out: Path) -> None:
    """Prints its port; every POST is one JSON line in ``out`` (time, path, body hash, title, message)."""
    lock = threading.Lock()
    sink = out.open("a", encoding="utf-8")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                payload = json.loads(body.decode("utf-8"))
            except ValueError:
                payload = {}
            line = json.dumps({"at": time.time(), "path": self.path, "sha": hashlib.sha256(body).hexdigest(),
                               "title": payload.get("title", ""), "message": payload.get("message", "")}, ensure_ascii=False)
            with lock:
                sink.write(line + "\n")
                sink.flush()
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    class Server(ThreadingHTTPServer):
        request_queue_size = 512

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the parent closes it
    server.shutdown()


# -- processes -----------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    cmd: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    cwd: Path | None = None

    def start(self) -> Proc:
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(self.cmd, env=self.env, cwd=self.cwd, stdout=handle, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def kill9(self) -> None:
        """SIGKILL to the process itself (not its group): what a crash of that process does."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 15) -> None:
        if self.process is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        # Children that left the group (flow runs of a killed worker) are found by the caller.

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, n: int = 1500) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-n:] if self.log.exists() else ""


def wait_until(what_zh: str, what_en: str, check, timeout: float, every: float = 1.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001  (a server still starting answers with errors)
            pass
        if time.monotonic() > deadline:
            raise fail(f"{what_zh}（{timeout:.0f} 秒内未完成）", f"{what_en} (not within {timeout:.0f} s)")
        time.sleep(every)


@dataclass
class Postgres:
    """A cluster of its own: initdb into ``root`` (as user postgres when run as root), trust on loopback."""

    root: Path
    port: int
    user: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.user, *args], capture_output=True, text=True, check=check, timeout=timeout)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            self.user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
            self.root.parent.chmod(0o711)  # the work folder (mkdtemp: 0700): postgres may pass through, not list
        done = self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                         "--locale=C.UTF-8", check=False)
        if done.returncode != 0:
            raise fail(f"initdb 失败：{done.stdout[-800:]}{done.stderr[-800:]}", "initdb failed")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on"
        last = ""
        for _ in range(20):  # after a SIGKILL the old backends take a moment to notice and exit
            done = self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "postgres.log"),
                             "-w", "-t", "60", "start", check=False)
            if done.returncode == 0:
                return
            last = done.stdout + done.stderr
            time.sleep(1)
        raise fail(f"PostgreSQL（端口 {self.port}）无法启动：{last}", f"PostgreSQL on port {self.port} did not start: {last}")

    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def kill9(self) -> None:
        os.kill(self.pid(), signal.SIGKILL)

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop", check=False)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create(self, database: str) -> str:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url("postgres").replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        engine.dispose()
        return self.url(database)


# -- the institution -----------------------------------------------------------------------------


def write_profile(path: Path, receiver_port: int, endpoint: str) -> list[str]:
    """The demo institution with every person's channels at the receiver (two each), the endpoint
    as the links' base, and short reminder points; returns the people's ids."""
    import yaml

    from regflows.profile import DEMO_PROFILE

    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    for person in data["people"]:
        pid = person["id"]
        person["channels"] = [{"kind": "webhook", "url": f"json://127.0.0.1:{receiver_port}/recv/{pid}/0"},
                              {"kind": "webhook", "url": f"json://127.0.0.1:{receiver_port}/recv/{pid}/1"}]
    data["public_base_url"] = endpoint
    data["settings"]["reminder_minutes_before"] = list(REMINDER_MINUTES)
    data["settings"]["run_pending_grace_minutes"] = PENDING_GRACE_MINUTES
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return [p["id"] for p in data["people"]]


def incident_body(i: int, due_in: dt.timedelta) -> dict[str, Any]:
    """A grade II incident (important system admin rights obtained) whose 2-hour initial report is due in ``due_in``."""
    beijing = dt.timezone(dt.timedelta(hours=8))
    discovered = dt.datetime.now(beijing).replace(microsecond=0) - (dt.timedelta(hours=2) - due_in)
    return {"title": f"压测事件 LF-{i:03d} 网银系统管理员权限被获取", "occurred_at": (discovered - dt.timedelta(minutes=30)).isoformat(),
            "discovered_at": discovered.isoformat(), "discovered_by": "值班工程师", "system_name": "网上银行系统",
            "location": "总行数据中心", "category": "network_attack", "important_system": True,
            "compromise": "important_system_admin", "cause": "压测：疑似弱口令"}


def tag(i: int) -> str:
    return f"LF-{i:03d}"


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3)

    return {"n": len(ordered), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 3),
            "mean": round(statistics.fmean(ordered), 3)}


# -- the run -------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="regflows-load-faults-"))
        self.logs = self.work / "logs"
        self.logs.mkdir()
        self.procs: dict[str, Proc] = {}
        self.receiver: subprocess.Popen[str] | None = None
        self.pg: Postgres | None = None
        self.redis: Proc | None = None
        self.loads: list[tuple[float, str]] = []
        self.faults: list[dict[str, Any]] = []
        self.exits: list[dict[str, Any]] = []
        self.figures: dict[str, Any] = {"rows": args.rows, "incidents": args.incidents, "cores": os.cpu_count()}
        self.stop_sampling = threading.Event()

    # environment

    def env(self, **more: str) -> dict[str, str]:
        from regflows.server import redis_settings

        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "REGFLOWS_"))}
        env.update(PYTHONPATH=str(ROOT), REGFLOWS_HOME=str(self.home), REGFLOWS_DATABASE_URL=self.store,
                   REGFLOWS_ANCHOR_DIR=str(self.work / "anchors"), REGFLOWS_PROFILE=str(self.profile),
                   REGFLOWS_ACK_SECRET="load-faults-ack-secret", REGFLOWS_INGEST_TOKEN=TOKEN,
                   PREFECT_SERVER_DATABASE_CONNECTION_URL=self.prefect_db.replace("postgresql://", "postgresql+asyncpg://", 1),
                   PREFECT_SERVER_DATABASE_MIGRATE_ON_START="false", PREFECT_SERVER_ANALYTICS_ENABLED="false",
                   PREFECT_CLIENT_RETRY_EXTRA_CODES="500",  # README "Production": a restarting PostgreSQL makes the API answer 500
                   PREFECT_API_URL=self.api, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="false",
                   PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="10",
                   **redis_settings("127.0.0.1", self.redis_port, 0))
        env.update(more)
        return env

    def sample_load(self) -> None:
        while not self.stop_sampling.wait(5):
            self.loads.append((time.time(), Path("/proc/loadavg").read_text().strip()))

    def setup(self) -> None:
        args = self.args
        self.home = self.work / "home"
        (self.home / "credit").mkdir(parents=True)
        self.pg_port, self.redis_port, self.api_port, self.endpoint_port = free_port(), free_port(), free_port(), free_port()
        self.api = f"http://127.0.0.1:{self.api_port}/api"
        self.endpoint = f"http://127.0.0.1:{self.endpoint_port}"

        log(f"工作目录 / work folder {self.work}")
        self.receipts = self.work / "receipts.jsonl"
        self.receiver = subprocess.Popen([sys.executable, __file__, "--serve-receiver", str(self.receipts)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.receiver.stdout is not None
        receiver_port = int(self.receiver.stdout.readline())
        self.profile = self.work / "profile.yaml"
        self.people = write_profile(self.profile, receiver_port, self.endpoint)

        log(f"PostgreSQL（自有，端口 {self.pg_port}）/ own PostgreSQL")
        self.pg = Postgres(self.work / "pg", self.pg_port)
        self.pg.init()
        self.pg.start()
        self.store, self.prefect_db = self.pg.create("regflows"), self.pg.create("prefect")

        log(f"Redis（自有，端口 {self.redis_port}）/ own Redis")
        # --save '': no snapshots; the append-only file (README "Production": persistence on) or nothing at all.
        aof = ["--appendonly", "yes", "--appendfsync", "everysec"] if args.redis_persistence == "aof" else ["--appendonly", "no"]
        (self.work / "redis").mkdir()
        self.redis = Proc("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                                    "--dir", str(self.work / "redis"), *aof], dict(os.environ), self.logs / "redis.log").start()
        self.figures["redis_persistence"] = args.redis_persistence
        wait_until("Redis 未就绪", "Redis not ready", lambda: _redis_ping(self.redis_port), 30, 0.2)

        log("regflows migrate")
        self.run_cli(["migrate"], timeout=600)

        self.start_api()
        self.procs["services"] = Proc("services", [str(BIN / "python"), "-m", "prefect", "server", "services", "start"],
                                      self.env(PREFECT_HOME=str(self.work / "prefect-services")), self.logs / "services.log").start()
        log(f"regflows deploy --pool {POOL}")
        self.run_cli(["deploy", "--pool", POOL], timeout=600)
        for name in ("w1", "w2", WATCH_WORKER):
            self.start_worker(name)
        self.procs["endpoint"] = Proc("endpoint", [str(BIN / "python"), "-m", "regflows.cli", "notices", "serve-acks", "--port",
                                                   str(self.endpoint_port)], self.env(PREFECT_HOME=str(self.work / "prefect-endpoint")),
                                      self.logs / "endpoint.log", cwd=ROOT).start()
        wait_until("regflows 端点未就绪", "the regflows endpoint did not answer", lambda: _http_up(f"{self.endpoint}/health"), 120, 0.5)

        log_path = self.home / "credit" / "query-log-2025-10.parquet"
        if args.query_log:
            os.symlink(Path(args.query_log).resolve(), log_path)
        else:
            log(f"regflows demo query-log --rows {args.rows}")
            self.run_cli(["demo", "query-log", "--rows", str(args.rows), "--period", "2025-10", "--out", str(log_path)], timeout=900)

    def run_cli(self, argv: list[str], timeout: float) -> str:
        done = subprocess.run([str(BIN / "python"), "-m", "regflows.cli", *argv], env=self.env(PREFECT_HOME=str(self.work / "prefect-cli")),
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise fail(f"regflows {' '.join(argv)} 失败（退出码 {done.returncode}）：\n{done.stderr[-2000:]}",
                       f"regflows {' '.join(argv)} failed (exit {done.returncode})")
        return done.stdout

    def start_api(self) -> None:
        proc = Proc("api", [str(BIN / "python"), "-m", "prefect", "server", "start", "--no-services", "--host", "127.0.0.1",
                            "--port", str(self.api_port)],
                    self.env(PREFECT_HOME=str(self.work / "prefect-api"), PREFECT_UI_API_URL=self.api), self.logs / "api.log")
        env = dict(proc.env)
        env.pop("PREFECT_API_URL", None)
        proc.env = env
        self.procs["api"] = proc.start()
        wait_until("Prefect API 未就绪", "the Prefect API did not become healthy", lambda: _http_up(f"{self.api}/health"), 240, 0.5)

    def start_worker(self, name: str) -> None:
        queue = ["--work-queue", "watches"] if name == WATCH_WORKER else []
        # README "Production": the general workers' runs yield the cores to the endpoint, the API and the watches.
        nice = [] if name == WATCH_WORKER else ["nice", "-n", str(WORKER_NICE)]
        self.procs[name] = Proc(name, [*nice, str(BIN / "python"), "-m", "prefect", "worker", "start", "--pool", POOL, "--name", name,
                                       "--limit", str(self.args.worker_limit), *queue],
                                self.env(PREFECT_HOME=str(self.work / f"prefect-{name}"), PREFECT_WORKER_QUERY_SECONDS="2",
                                         PREFECT_WORKER_PREFETCH_SECONDS="5"),
                                self.logs / f"{name}.log", cwd=ROOT).start()

    # the load

    def prefect(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        import httpx

        for attempt in range(30):  # the API may be down for a restart: retry, as Prefect's client does
            try:
                response = httpx.request(method, f"{self.api}{path}", json=body, timeout=timeout)
                if response.status_code < 500:
                    response.raise_for_status()
                    return response.json() if response.content else None
            except httpx.TransportError:
                pass
            time.sleep(min(2 + attempt, 10))
        raise fail(f"Prefect API 无法访问：{method} {path}", f"the Prefect API did not answer: {method} {path}")

    def deployment_id(self, name: str) -> str:
        return self.prefect("GET", f"/deployments/name/{name}/{name}")["id"]

    def start_month(self) -> str:
        run = self.prefect("POST", f"/deployments/{self.deployment_id('credit-stats')}/create_flow_run",
                           {"parameters": {"period": "2025-10", "notify": True}})
        log(f"credit-stats 2025-10（{self.args.rows} 行）已提交 / submitted: {run['id']}")
        wait_until("credit-stats 运行未开始", "the credit-stats run did not start",
                   lambda: self.prefect("GET", f"/flow_runs/{run['id']}")["state_type"] in ("RUNNING", "COMPLETED", "FAILED", "CRASHED"),
                   300, 1)
        return str(run["id"])

    def declare(self) -> list[dict[str, Any]]:
        import httpx

        n, span = self.args.incidents, self.args.declare_seconds
        results: list[dict[str, Any]] = [{} for _ in range(n)]
        t0 = time.monotonic()

        def one(i: int) -> None:
            time.sleep(max(0.0, t0 + i * span / n - time.monotonic()))
            due_in = dt.timedelta(minutes=self.args.due_minutes + i % 3)
            body = incident_body(i, due_in)
            started = time.time()
            try:
                response = httpx.post(f"{self.endpoint}/incidents", json=body, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"})
                status, answer = response.status_code, response.json()
            except httpx.HTTPError as exc:
                status, answer = 0, {"error": f"{type(exc).__name__}: {exc}"}
            results[i] = {"i": i, "sent": started, "latency": time.time() - started, "status": status, "answer": answer,
                          "due": dt.datetime.fromisoformat(body["discovered_at"]) + dt.timedelta(hours=2)}

        with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
            list(pool.map(one, range(n)))
        log(f"{n} 起事件已申报，用时 {time.monotonic() - t0:.1f} 秒 / declared")
        return results

    def supervise(self) -> None:
        """What systemd's ``Restart=always`` does for each part in production (README "Production"):
        a part that exited on its own (a worker whose API answered 500 while PostgreSQL was down)
        is started again, and counted."""
        for name, proc in list(self.procs.items()):
            if proc.alive():
                continue
            assert proc.process is not None
            self.exits.append({"part": name, "exit_code": proc.process.returncode, "at": dt.datetime.now().isoformat(timespec="seconds"),
                               "last_line": proc.tail(400).strip().splitlines()[-1:] if proc.tail(400).strip() else []})
            log(f"{name} 自行退出（退出码 {proc.process.returncode}），重启 / exited on its own, restarting")
            if name == "api":
                self.start_api()
            elif name in ("w1", "w2", WATCH_WORKER):
                self.start_worker(name)
            else:
                proc.start()

    # faults

    def fault(self, name: str, kill, restart) -> None:  # type: ignore[no-untyped-def]
        log(f"kill -9：{name}")
        killed = time.time()
        kill()
        time.sleep(self.args.down_seconds)
        restart()
        self.faults.append({"part": name, "killed_at": dt.datetime.fromtimestamp(killed).isoformat(timespec="seconds"),
                            "down_seconds": round(time.time() - killed, 1)})
        log(f"已重启 / restarted: {name}（{time.time() - killed:.0f} 秒）")

    def kill_api(self) -> None:
        self.fault("Prefect API", self.procs["api"].kill9, self.start_api)

    def kill_worker(self) -> None:
        self.fault("worker w1", self.procs["w1"].kill9, lambda: self.start_worker("w1"))

    def kill_redis(self) -> None:
        assert self.redis is not None
        redis = self.redis

        def restart() -> None:
            redis.start()
            wait_until("Redis 重启失败", "Redis did not restart", lambda: _redis_ping(self.redis_port), 30, 0.2)

        self.fault("Redis", redis.kill9, restart)

    def kill_postgres(self) -> None:
        assert self.pg is not None
        self.fault("PostgreSQL", self.pg.kill9, self.pg.start)

    def backup(self) -> Path:
        dump = self.work / "store.dump"
        log("pg_dump（运行中）/ during the run")
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", self.store], check=True, timeout=300,
                       capture_output=True)
        self.figures["backup_at"] = dt.datetime.now().isoformat(timespec="seconds")
        return dump

    # checks

    def _recorded_runs(self, timed_out: dict[int, dict[str, Any]], by_key: dict[str, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """The incident-response runs of the timed-out declarations that were recorded all the
        same: declaration number to run, through the run key the incident was recorded with."""
        if not timed_out:
            return {}
        from sqlalchemy import create_engine, select
        from sqlalchemy.orm import Session

        from regflows.store.models import Incident, IncidentEvent

        engine = create_engine(self.store.replace("postgresql://", "postgresql+psycopg://", 1))
        found: dict[int, dict[str, Any]] = {}
        with Session(engine) as session:
            for i in timed_out:
                row = session.execute(select(IncidentEvent.detail).join(Incident, Incident.id == IncidentEvent.incident_id)
                                      .where(Incident.title.like(f"压测事件 {tag(i)} %"), IncidentEvent.kind == "recorded")).first()
                key = (row[0] or {}).get("run_key") if row else None
                if key in by_key:
                    found[i] = by_key[key]
        engine.dispose()
        return found

    def check(self, declared: list[dict[str, Any]], month_run: str, dump: Path, end: float) -> list[str]:
        from sqlalchemy import create_engine, select
        from sqlalchemy.orm import Session

        from regflows.incident.clock import obligations as compute
        from regflows.incident.grading import Grading
        from regflows.incident.record import IncidentRecord
        from regflows.kit.reminders import BeforeDueInstant
        from regflows.profile import load_profile
        from regflows.store.models import Delivery, Incident, Notice, Obligation

        problems: list[str] = []
        runs: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.prefect("POST", "/flow_runs/filter", {"limit": 200, "offset": offset})
            runs += page
            offset += len(page)
            if len(page) < 200:
                break
        # A sender whose answer timed out does not know whether it was taken; the endpoint may
        # have recorded it all the same (it records and alerts before it answers). Such a
        # declaration counts as accepted when its incident is on record and its run exists (found
        # by the idempotency key the incident was recorded with); a sender retrying it would be
        # told 409 with the incident's id. Counted apart.
        by_key = {r["idempotency_key"]: r for r in runs if r.get("idempotency_key")}
        timed_out = {d["i"]: d for d in declared if d.get("status") == 0 and "Timeout" in str(d.get("answer"))}
        recorded_anyway = self._recorded_runs(timed_out, by_key)
        for i, run in recorded_anyway.items():
            timed_out[i].update(status=202, timed_out=True, answer={"flow_run_id": run["id"]})
        self.figures["answers_timed_out_but_recorded"] = len(recorded_anyway)
        refused = [d for d in declared if d.get("status") != 202]
        if refused:
            problems.append(f"{len(refused)} 次申报未被接受 / declarations not accepted: "
                            f"{[(d.get('i'), d.get('status'), d.get('answer')) for d in refused[:5]]}")
        lat = [d["latency"] for d in declared if d.get("status") == 202 and not d.get("timed_out")]
        self.figures["post_incidents_latency_s"] = percentiles(lat)

        # Flow runs: each executed at most once; the declarations' and the month's completed.
        # A run given back after a crash (notice-watch, regflows/recovery.py) runs again, as after
        # Prefect's own retries: counted apart; any other run_count above 1 is a run executed twice.
        names = {d["id"]: d["name"] for d in self.prefect("POST", "/deployments/filter", {})}
        given_back = [r for r in runs if r["state_type"] != "SCHEDULED" or r["state_name"] == "AwaitingRestart"]
        given_back = [r for r in given_back if any(s["name"] == "AwaitingRestart"
                                                   for s in self.prefect("GET", f"/flow_run_states/?flow_run_id={r['id']}"))]
        restarted = {r["id"] for r in given_back}
        self.figures["runs_given_back"] = [(names.get(r["deployment_id"]), r["name"], r["state_type"], r["run_count"]) for r in given_back]
        twice = [(r["name"], r["run_count"]) for r in runs if r["run_count"] > 1 and r["id"] not in restarted]
        if twice:
            problems.append(f"流程运行执行了不止一次 / flow runs executed more than once: {twice[:10]}")
        by_id = {r["id"]: r for r in runs}
        ingest_runs = [by_id.get(d["answer"].get("flow_run_id", "")) for d in declared if d.get("status") == 202]
        not_done = [(r["name"], r["state_type"]) if r else None for r in ingest_runs if not r or r["state_type"] != "COMPLETED"]
        if not_done:
            problems.append(f"{len(not_done)} 个 incident-response 运行未完成 / runs not completed: {not_done[:10]}")
        month = by_id.get(month_run)
        self.figures["credit_stats_run"] = {"state": month and month["state_type"], "seconds": month and month.get("total_run_time")}
        if not month or month["state_type"] != "COMPLETED":
            problems.append(f"credit-stats 月度统计未完成 / the month's run did not complete: {month and month['state_type']}")
        states = Counter(r["state_type"] for r in runs)
        self.figures["flow_runs"] = dict(states)
        self.figures["flow_runs_by_deployment"] = {
            name: dict(Counter(r["state_name"] for r in runs if names.get(r["deployment_id"]) == name and r["state_type"] != "SCHEDULED"))
            for name in sorted(set(names.values()))}
        # How long incident-watch's ticks took (a tick longer than the reminder points' spacing
        # lets a point pass unsent: the watch sends the latest one missed), and why one ended badly.
        ticks = [r for r in runs if names.get(r["deployment_id"]) == "incident-watch" and r["state_type"] in ("COMPLETED", "FAILED")]
        self.figures["incident_watch_tick_s"] = percentiles([r["total_run_time"] for r in ticks])
        self.figures["incident_watch_ticks"] = [(r["start_time"][11:19] if r.get("start_time") else None, round(r["total_run_time"], 1),
                                                 r["state_name"], (r.get("state") or {}).get("message") if r["state_type"] == "FAILED" else None)
                                                for r in sorted(ticks, key=lambda r: r.get("start_time") or "")]
        self.figures["stuck_pending"] = [(names.get(r["deployment_id"]), r["name"], r["state_name"]) for r in runs
                                         if r["state_type"] == "PENDING"]
        held = [(names.get(c["name"].removeprefix("deployment:"), c["name"]), c["active_slots"])
                for c in self.prefect("POST", "/v2/concurrency_limits/filter", {}) if c["active_slots"]]
        self.figures["concurrency_slots_held_at_end"] = held

        profile = load_profile(self.profile)
        policy = BeforeDueInstant(REMINDER_MINUTES)
        engine = create_engine(self.store.replace("postgresql://", "postgresql+psycopg://", 1))
        receipts = [json.loads(line) for line in self.receipts.read_text(encoding="utf-8").splitlines() if line.strip()]
        with Session(engine) as session:
            incidents = {i.id: i for i in session.scalars(select(Incident).where(Incident.title.like("压测事件 LF-%")))}
            if len(incidents) != len(declared):
                problems.append(f"登记的事件 {len(incidents)} 起，申报 {len(declared)} 起 / incidents stored vs declared")
            rows = list(session.scalars(select(Obligation).where(Obligation.subject.in_(list(incidents)))))
            stored = defaultdict(set)
            for row in rows:
                stored[row.subject].add(row.code)
            missing_obligations = []
            for iid, incident in incidents.items():
                expected = {o.id for o in compute(IncidentRecord.model_validate(incident.record), Grading.model_validate(incident.grading),
                                                   profile, incident.created_at)}
                if not expected <= stored[iid]:
                    missing_obligations.append((iid, sorted(expected - stored[iid])))
            if missing_obligations:
                problems.append(f"义务未全部登记 / obligations not scheduled: {missing_obligations[:5]}")
            self.figures["obligations_stored"] = len(rows)

            notices = {n.id: n for n in session.scalars(select(Notice))}
            deliveries = list(session.scalars(select(Delivery)))
            bad = Counter(row.state for row in deliveries if row.state != "delivered")
            if bad:
                problems.append(f"未送达的投递 / deliveries not delivered: {dict(bad)}")
            self.figures["notices"] = len(notices)
            self.figures["deliveries"] = len(deliveries)

            # Every reminder point of the initial reports that fell in the run, sent; how late.
            window_end = dt.datetime.fromtimestamp(end - self.args.grace_seconds, dt.timezone.utc)
            sent_at: dict[str, dt.datetime] = {}
            for delivery in deliveries:
                at = delivery.settled_at or delivery.claimed_at or delivery.created_at
                at = at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)
                if delivery.notice_id not in sent_at or at < sent_at[delivery.notice_id]:
                    sent_at[delivery.notice_id] = at
            # A point the watch reached only once a later point of the same deadline had passed too
            # is merged into that later one: one message, marked late, instead of two at once (the
            # documented behaviour after an outage, README "Interpretations", reminders); the
            # obligation records the merged key as handled. It counts as reminded when the later
            # point went out, late by then; merged points are counted apart. A point neither sent
            # nor merged into a sent one is lost.
            lost, merged, lateness = [], [], []
            for row in rows:
                if row.due_at is None or row.code != "regulator_initial_report":
                    continue
                due = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=dt.timezone.utc)
                created = incidents[row.subject].created_at
                created = created if created.tzinfo else created.replace(tzinfo=dt.timezone.utc)
                points = policy.points(due)
                for n, (key, _, instant) in enumerate(points):
                    if instant > window_end or instant < created:
                        continue
                    nid = f"incident:{row.subject}:{row.code}:{key}"
                    later = [f"incident:{row.subject}:{row.code}:{k}" for k, _, _ in points[n + 1:]]
                    into = next((i for i in later if i in sent_at), None)
                    if nid in sent_at:
                        lateness.append((sent_at[nid] - instant).total_seconds())
                    elif into is not None and key in (row.reminders_sent or []):
                        merged.append(nid)
                        lateness.append((sent_at[into] - instant).total_seconds())
                    else:
                        lost.append(nid)
            if lost:
                problems.append(f"{len(lost)} 条提醒未发出 / reminders lost: {lost[:5]}")
            self.figures["reminders_checked"] = len(lateness) + len(lost)
            self.figures["reminders_merged_into_a_later_point"] = len(merged)
            self.figures["reminder_lateness_s"] = percentiles(lateness)
            self.figures["reminders_later_than_60s"] = sum(v > 60 for v in lateness)

            # Exactly once per (notice, channel): the store's rows against what arrived. A claim
            # never settled (the process lost its database between send and settle) may or may not
            # have gone out: it is ``sending``/``unknown`` for a person to settle, never sent again.
            delivered = Counter((row.person_id, row.channel_index) for row in deliveries if row.state == "delivered")
            unsettled = Counter((row.person_id, row.channel_index) for row in deliveries if row.state in ("sending", "unknown"))
            got: Counter[tuple[str, int]] = Counter()
            for r in receipts:
                parts = r["path"].strip("/").split("/")
                if len(parts) == 3 and parts[0] == "recv":
                    got[(parts[1], int(parts[2]))] += 1
            diff = {f"{k[0]}/{k[1]}": (delivered.get(k, 0), unsettled.get(k, 0), got.get(k, 0)) for k in set(got) | set(delivered)
                    if not delivered.get(k, 0) <= got.get(k, 0) <= delivered.get(k, 0) + unsettled.get(k, 0)}
            if diff:
                problems.append(f"接收方收到的与库中记录不一致（已送达, 未结算, 收到）/ received vs the store differ (delivered, unsettled, "
                                f"received): {diff}")
            self.figures["unsettled_claims_received"] = sum(got.values()) - sum(delivered.values())
            # Each delivery row is one (notice, person, channel) claimed once (a unique key): with
            # the counts above equal, nothing went out twice. Identical bodies on one channel are
            # then distinct notices that read the same (the 4- and 2-minute reminders of one
            # deadline, when the text names only the due time): counted, not a failure.
            self.figures["identical_bodies_on_one_channel"] = sum(n - 1 for n in Counter((r["path"], r["sha"]) for r in receipts).values()
                                                                   if n > 1)
            self.figures["received"] = len(receipts)

            # Declaration to first notice (the alert), by the incident's tag in what arrived.
            first: dict[str, float] = {}
            for r in receipts:
                text = r["title"] + r["message"]
                for d in declared:
                    t = tag(d["i"])
                    if t in text and (t not in first or r["at"] < first[t]):
                        first[t] = r["at"]
            to_first = [first[tag(d["i"])] - d["sent"] for d in declared if tag(d["i"]) in first]
            if len(to_first) != len(declared):
                problems.append(f"{len(declared) - len(to_first)} 起事件没有收到任何通知 / incidents with no notice received")
            self.figures["declaration_to_first_notice_s"] = percentiles(to_first)
        engine.dispose()

        # The ledger, live and restored from the backup taken during the run.
        verify = subprocess.run([str(BIN / "python"), "-m", "regflows.cli", "audit", "verify"], env=self.env(), cwd=ROOT,
                                capture_output=True, text=True, timeout=600)
        if verify.returncode != 0:
            problems.append(f"审计账本校验失败 / ledger verify failed: {verify.stdout[-500:]}{verify.stderr[-500:]}")
        assert self.pg is not None
        restored = self.pg.create("restored")
        done = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)], capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0:
            problems.append(f"备份无法恢复 / the backup did not restore: {done.stderr[-500:]}")
        else:
            verify = subprocess.run([str(BIN / "python"), "-m", "regflows.cli", "audit", "verify"],
                                    env=self.env(REGFLOWS_DATABASE_URL=restored), cwd=ROOT, capture_output=True, text=True, timeout=600)
            self.figures["restored_ledger"] = verify.stdout.strip().splitlines()[-1] if verify.stdout.strip() else verify.stderr[-200:]
            if verify.returncode != 0:
                problems.append(f"恢复的库账本校验失败 / the restored ledger does not verify: {verify.stdout[-500:]}{verify.stderr[-500:]}")
        return problems

    def run(self) -> int:
        started = time.monotonic()
        sampler = threading.Thread(target=self.sample_load, daemon=True)
        sampler.start()
        self.setup()
        self.figures["setup_seconds"] = round(time.monotonic() - started, 1)
        month_run = self.start_month()
        self.figures["loadavg_at_declarations"] = Path("/proc/loadavg").read_text().strip()
        declared = self.declare()
        t0 = min(d["sent"] for d in declared)
        last_due = max(d["due"] for d in declared).timestamp()
        plan = [(self.args.fault_start, self.kill_api), (self.args.fault_start + self.args.fault_every, self.kill_worker),
                (self.args.fault_start + 2 * self.args.fault_every, self.kill_redis),
                (self.args.fault_start + 3 * self.args.fault_every, self.kill_postgres)]
        dump: Path | None = None
        for offset, action in plan:
            while time.time() < t0 + offset:
                self.supervise()
                time.sleep(min(2.0, max(0.0, t0 + offset - time.time())))
            action()
            if dump is None and action == self.kill_worker:
                dump = self.backup()
        assert dump is not None
        end = last_due + self.args.grace_seconds
        log(f"等待最后一个到期时间后 {self.args.grace_seconds} 秒 / waiting until {self.args.grace_seconds} s after the last due time "
            f"（{max(0, end - time.time()):.0f} 秒）")
        while time.time() < end:
            self.supervise()
            time.sleep(2)
        # No new scheduled runs, and the runs in flight finish, before counting what was sent.
        # Only deployments with schedules are paused: pausing deletes a deployment's Scheduled
        # runs, and declarations still waiting for a worker must be counted as not completed.
        for deployment in self.prefect("POST", "/deployments/filter", {}):
            if deployment.get("schedules"):
                self.prefect("POST", f"/deployments/{deployment['id']}/pause_deployment")
        # Not PENDING: a run whose worker died while submitting it stays PENDING for good
        # (counted below, with the concurrency slots such runs hold).
        with contextlib.suppress(BenchFailure):
            wait_until("仍有运行未结束", "runs still in flight",
                       lambda: not self.prefect("POST", "/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}},
                                                                             "limit": 1}), 300, 3)
        problems = self.check(declared, month_run, dump, end)
        self.figures["faults"] = self.faults
        self.figures["exited_on_their_own_and_restarted"] = self.exits
        self.figures["loadavg_samples"] = {"first": self.loads[0][1] if self.loads else None, "max_1min": max(
            (float(s.split()[0]) for _, s in self.loads), default=None), "last": self.loads[-1][1] if self.loads else None}
        self.figures["total_seconds"] = round(time.monotonic() - started, 1)
        print(json.dumps(self.figures, ensure_ascii=False, default=str, indent=1))
        if problems:
            raise fail("压测与故障演练未通过：\n- " + "\n- ".join(problems), "load-and-faults run failed (see above)")
        print("通过：无提醒丢失、无重复发送、无重复执行，审计账本完整，运行中的备份可恢复且账本校验通过 / "
              "passed: no reminder lost or sent twice, no run executed twice, ledger intact, the backup restores and verifies")
        return 0

    def teardown(self) -> None:
        self.stop_sampling.set()
        for proc in reversed(list(self.procs.values())):
            proc.stop()
        _kill_leftovers(self.work)
        if self.redis is not None:
            self.redis.stop()
        if self.pg is not None:
            self.pg.stop()
        if self.receiver is not None and self.receiver.poll() is None:
            assert self.receiver.stdin is not None
            self.receiver.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.receiver.wait(timeout=10)
            if self.receiver.poll() is None:
                self.receiver.kill()
        if self.args.keep:
            log(f"保留工作目录 / kept: {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def _kill_leftovers(work: Path) -> None:
    """Flow runs of a killed worker left its process group: end every process whose environment
    names this run's work folder (ours alone), by id."""
    marker = str(work).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")


def _http_up(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the credit-stats month (default 10 M)")
    parser.add_argument("--query-log", help="an existing query log for 2025-10 (regflows demo query-log), instead of generating one")
    parser.add_argument("--incidents", type=int, default=100)
    parser.add_argument("--declare-seconds", type=float, default=60, help="declarations spread over this many seconds")
    parser.add_argument("--due-minutes", type=int, default=7, help="initial reports due this many minutes (+0-2) after declaration")
    parser.add_argument("--fault-start", type=float, default=75, help="seconds after the first declaration: the API is killed")
    parser.add_argument("--fault-every", type=float, default=75, help="seconds between the faults (API, worker, Redis, PostgreSQL)")
    parser.add_argument("--down-seconds", type=float, default=5, help="how long each killed part stays down")
    parser.add_argument("--grace-seconds", type=float, default=120, help="wait after the last due time before checking")
    parser.add_argument("--worker-limit", type=int, default=4, help="flow runs at once per worker (two workers)")
    parser.add_argument("--redis-persistence", choices=["aof", "none"], default="aof",
                        help="aof: the append-only file, fsync every second (the README's recipe); none: a killed Redis loses everything")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, receipts, databases)")
    parser.add_argument("--serve-receiver", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 0 or args.incidents < 1 or args.declare_seconds <= 0:
        parser.error("--rows >= 0, --incidents >= 1, --declare-seconds > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_receiver:
        serve_receiver(args.serve_receiver)
        return 0
    sys.path.insert(0, str(ROOT))
    for tool in ("redis-server", "pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            print(f"缺少 {tool}（apt-get install redis-server postgresql-client）\n{tool} missing", file=sys.stderr)
            return 2
    if not (PG_BIN / "initdb").exists():
        print(f"缺少 {PG_BIN / 'initdb'}（设 REGFLOWS_BENCH_PG_BIN）\ninitdb missing", file=sys.stderr)
        return 2
    bench = Bench(args)
    try:
        return bench.run()
    except BenchFailure as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"命令失败：{' '.join(map(str, exc.cmd))}（退出码 {exc.returncode}）\n{exc.stderr or ''}\n"
              f"command failed: {exc.cmd[0]}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001  (whatever broke, said in both languages, then the details)
        import traceback

        traceback.print_exc()
        print(f"压测脚本出错：{type(exc).__name__}: {exc}\nthe load-and-faults script broke: {type(exc).__name__}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        return 130
    finally:
        bench.teardown()


if __name__ == "__main__":
    sys.exit(main())
