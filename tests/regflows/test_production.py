"""The production path (README, "Production"): both databases on PostgreSQL migrated by one
command, the deployments of prefect.yaml registered to a process work pool with their working-day
schedules, and two `prefect worker` processes that run every scheduled run exactly once."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, inspect

from calendars.schedules import WorkingDaySchedule
from calendars.zone import SHANGHAI

REPO = Path(__file__).resolve().parents[2]
REGFLOWS = str(Path(sys.executable).parent / "regflows")


def _env(tmp_path: Path, store: str, prefect_db: str | None = None, **more: str) -> dict[str, str]:
    """The environment of a production process: this repository's code first (PYTHONPATH: the
    shared virtualenv's `regflows` script would import another checkout), both databases."""
    env = {k: v for k, v in os.environ.items() if k not in ("REGFLOWS_PROFILE", "PREFECT_API_URL")}
    env.update(PYTHONPATH=str(REPO), REGFLOWS_HOME=str(tmp_path / "home"), REGFLOWS_DATABASE_URL=store,
               REGFLOWS_ANCHOR_DIR=str(tmp_path / "anchors"), PREFECT_HOME=str(tmp_path / "prefect-home"),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", **more)
    if prefect_db is not None:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = prefect_db.replace("postgresql://", "postgresql+asyncpg://", 1)
    return env


def _tables(url: str) -> set[str]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_migrate_brings_both_databases_on_postgresql_to_their_newest_schema(pg_database: Callable[[str], str], tmp_path: Path) -> None:
    store, prefect_db = pg_database("store"), pg_database("prefect")
    env = _env(tmp_path, store, prefect_db)
    for _ in range(2):  # idempotent: an upgrade runs it again
        done = subprocess.run([REGFLOWS, "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert "数据库结构版本：" in done.stdout and "Prefect 数据库已迁移" in done.stderr
    assert {"audit_entry", "delivery", "obligation", "alembic_version"} <= _tables(store)
    assert {"flow_run", "deployment", "work_pool", "alembic_version"} <= _tables(prefect_db)


@pytest.mark.postgres
def test_migrate_names_the_prefect_database_it_could_not_reach(pg_database: Callable[[str], str], tmp_path: Path, free_port) -> None:  # type: ignore[no-untyped-def]
    env = _env(tmp_path, pg_database("store"), f"postgresql://regflows:hunter2@127.0.0.1:{free_port()}/prefect")
    done = subprocess.run([REGFLOWS, "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "Prefect 数据库（postgresql+asyncpg://regflows:***@127.0.0.1" in done.stderr and "迁移失败" in done.stderr
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr.splitlines()[0]


@pytest.mark.postgres
def test_a_backup_of_the_store_restores_to_a_store_whose_ledger_verifies(pg_database: Callable[[str], str], home: Path,
                                                                        tmp_path: Path) -> None:
    """The restore README's "Production" asks an institution to try: pg_dump of the store, pg_restore
    into an empty database, and the restored ledger checked against the anchors written before."""
    from regflows import ledger
    from regflows.store import migrate

    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.fail("pg_dump/pg_restore missing: apt-get install postgresql-client (the backup and its restore are part of production)")
    source, target = pg_database("store"), pg_database("restored")
    migrate(source)
    for i in range(5):
        ledger.append("test.backup", f"T{i}", {"i": i}, url=source)
    anchor = ledger.write_anchor(url=source)
    dump = tmp_path / "store.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source], check=True, timeout=120)
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)], check=True, timeout=120)
    restored = ledger.verify(url=target)
    assert restored.ok and (restored.count, restored.head_hash) == (anchor.count, anchor.head_hash), restored.summary()
    ledger.append("test.after-restore", "T", {}, url=target)  # the restored store takes new entries on the same chain
    assert ledger.verify(url=target).ok


def test_deploy_says_when_no_server_answers(home: Path, tmp_path: Path, free_port) -> None:  # type: ignore[no-untyped-def]
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api")
    subprocess.run([REGFLOWS, "db", "upgrade"], cwd=tmp_path, env=env, capture_output=True, check=True, timeout=120)
    done = subprocess.run([REGFLOWS, "deploy", "--pool", "regflows"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "没有可用的 Prefect 服务器" in done.stderr and "Traceback" not in done.stderr, done.stderr


# -- workers ------------------------------------------------------------------------------------

PROBE = textwrap.dedent(
    """
    import os, time
    from pathlib import Path

    from prefect import flow
    from prefect.runtime import flow_run


    def _record(name: str) -> None:
        line = f"{flow_run.id} {name} {os.getppid()}\\n".encode()
        fd = os.open(Path(__file__).parent.parent / "runs.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line)  # one append: lines of concurrent runs never interleave
        finally:
            os.close(fd)


    @flow(name="probe-watch")
    def probe_watch() -> None:
        _record("watch")


    @flow(name="probe-month")
    def probe_month() -> None:
        _record("month")
        time.sleep(6)  # longer than the interval: a busy worker (--limit 1) leaves the next run to the other
    """
)

#: The production server's basic auth (README, "Production": PREFECT_SERVER_API_AUTH_STRING on the
#: server, PREFECT_API_AUTH_STRING for every client: `regflows deploy`, the workers, the flow runs).
AUTH = ("regflows", "s3cret-for-tests")

#: Runs of each probe to see completed; the interval between scheduled runs (seconds).
WANTED, EVERY = 2, 5


def _probe_project(root: Path) -> Path:
    (root / "flows").mkdir(parents=True)
    (root / "flows" / "probe.py").write_text(PROBE, encoding="utf-8")
    config = {
        "definitions": {"working_day_schedules": {"probe-daily": [{"every": "day", "at": "09:00"}]}},
        "deployments": [
            {"name": "probe-watch", "entrypoint": "flows/probe.py:probe_watch",
             "concurrency_limit": {"limit": 1, "collision_strategy": "CANCEL_NEW"},
             "schedules": [{"interval": EVERY, "timezone": "Asia/Shanghai"}]},
            {"name": "probe-month", "entrypoint": "flows/probe.py:probe_month",
             "schedules": [{"interval": EVERY, "timezone": "Asia/Shanghai"}]},
            {"name": "probe-daily", "entrypoint": "flows/probe.py:probe_watch", "schedules": []},
        ],
    }
    path = root / "prefect.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _runs(api: str, states: list[str] | None = None) -> list[dict]:
    body: dict = {"limit": 200}
    if states:
        body["flow_runs"] = {"state": {"type": {"any_": states}}}
    response = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30, auth=AUTH)
    response.raise_for_status()
    return response.json()


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.postgres
@pytest.mark.prefect
def test_two_workers_run_each_scheduled_run_once(pg_database: Callable[[str], str], tmp_path: Path, free_port) -> None:  # type: ignore[no-untyped-def]
    from regflows.server import start, wait_healthy
    from regflows.store import migrate

    store, prefect_db = pg_database("store"), pg_database("prefect")
    yaml_path = _probe_project(tmp_path / "project")
    env = _env(tmp_path, store, prefect_db, REGFLOWS_PREFECT_YAML=str(yaml_path), PREFECT_API_AUTH_STRING=":".join(AUTH))
    # `regflows migrate` is tested above; the server applies Prefect's migrations itself on start.
    migrate(store)

    port = free_port()
    server_env = {"PREFECT_SERVER_DATABASE_CONNECTION_URL": env["PREFECT_SERVER_DATABASE_CONNECTION_URL"],
                  "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2", "PREFECT_SERVER_API_AUTH_STRING": ":".join(AUTH)}
    server = start("127.0.0.1", port, tmp_path / "server-home", tmp_path / "logs", extra_env=server_env)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        wait_healthy(server, timeout=240)
        api = server.api
        env["PREFECT_API_URL"] = api
        # Locked down: without the credentials, or with wrong ones, the API refuses (Secret blocks included).
        for auth in (None, ("regflows", "wrong")):
            for method, path in (("POST", "/flows/filter"), ("POST", "/block_documents/filter"), ("GET", "/work_pools/regflows-test")):
                assert httpx.request(method, f"{api}{path}", json={} if method == "POST" else None, auth=auth,
                                     timeout=30).status_code == 401, (method, path, auth)
        deployed = subprocess.run([REGFLOWS, "deploy", "--pool", "regflows-test"], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=300)
        assert deployed.returncode == 0, deployed.stderr
        assert deployed.stdout.split() == ["probe-watch", "probe-month", "probe-daily"]

        deployments = {d["name"]: d for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=30, auth=AUTH).json()}
        assert all(d["work_pool_name"] == "regflows-test" for d in deployments.values())
        # The watches in a queue of their own, served first (a burst of other runs cannot hold them back).
        assert {n: d["work_queue_name"] for n, d in deployments.items()} == {
            "probe-watch": "watches", "probe-month": "default", "probe-daily": "default"}
        queues = httpx.post(f"{api}/work_pools/regflows-test/queues/filter", json={}, timeout=30, auth=AUTH).json()
        assert sorted((q["priority"], q["name"]) for q in queues) == [(1, "watches"), (2, "default")]
        pool = httpx.get(f"{api}/work_pools/regflows-test", timeout=30, auth=AUTH).json()
        assert pool["type"] == "process"
        # The working-day schedule is the one `regflows up` computes (calendars.schedules), not a copy of it.
        today = dt.datetime.now(SHANGHAI).date()
        rule, _ = WorkingDaySchedule(every="day", at="09:00").rrule(today)
        daily = deployments["probe-daily"]["schedules"]
        assert [(s["slug"], s["schedule"].get("rrule")) for s in daily] == [("working-days-day-1-0900", rule)]
        assert deployments["probe-watch"]["global_concurrency_limit"]["limit"] == 1
        assert deployments["probe-watch"]["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
        # Pulled where prefect.yaml lies: no copy of the folder per run.
        assert deployments["probe-watch"]["pull_steps"] == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(yaml_path.parent.resolve())}}]

        worker_env = dict(env, PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_PREFETCH_SECONDS="1")
        for name in ("w1", "w2"):
            log = (tmp_path / f"worker-{name}.log").open("wb")
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "prefect", "worker", "start", "--pool", "regflows-test", "--name", name, "--limit", "1"],
                cwd=tmp_path, env=worker_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        by_id = {d["id"]: name for name, d in deployments.items()}
        deadline = time.monotonic() + 150
        while True:
            completed = Counter(by_id.get(r["deployment_id"]) for r in _runs(api, ["COMPLETED"]))
            if completed["probe-watch"] >= WANTED and completed["probe-month"] >= WANTED:
                break
            if time.monotonic() > deadline:
                logs = "\n".join((tmp_path / f"worker-{n}.log").read_text(errors="replace")[-1500:] for n in ("w1", "w2"))
                pytest.fail(f"only {dict(completed)} runs completed within the time allowed:\n{logs}")
            time.sleep(1)
        for deployment in deployments.values():  # no new runs while the workers stop
            httpx.post(f"{api}/deployments/{deployment['id']}/pause_deployment", timeout=30, auth=AUTH).raise_for_status()
        for worker in workers:
            _stop(worker)

        executed = [line.split() for line in (yaml_path.parent / "runs.log").read_text(encoding="utf-8").splitlines()]
        times = Counter(run_id for run_id, _, _ in executed)
        assert [run_id for run_id, n in times.items() if n > 1] == []  # no scheduled run executed twice
        done_runs = {r["id"]: r for r in _runs(api, ["COMPLETED"])}
        assert set(done_runs) <= set(times)  # every completed run executed, once
        assert all(r["auto_scheduled"] for r in done_runs.values())  # by the scheduler, not by this test
        # The two workers shared the load: each flow run is a child of the worker process that took it
        # (`prefect worker start` runs the worker in a child process, which it names when stopped).
        pids = {name: re.findall(r"process worker \(PID (\d+)\)", (tmp_path / f"worker-{name}.log").read_text(errors="replace"))
                for name in ("w1", "w2")}
        by_worker = Counter(parent for _, _, parent in executed)
        assert len(by_worker) == 2 and all(set(found) & set(by_worker) for found in pids.values()), (by_worker, pids)
    finally:
        for worker in workers:
            if worker.poll() is None:
                _stop(worker)
        server.stop()


# -- Redis: API replicas and a services process -------------------------------------------------

PLAIN = textwrap.dedent(
    """
    from prefect import flow


    @flow(name="replica-probe")
    def replica_probe() -> None:
        pass
    """
)


def _replica_project(root: Path) -> Path:
    """A manual deployment (runs made through the API) and a scheduled one (runs only the
    scheduler makes)."""
    (root / "flows").mkdir(parents=True)
    (root / "flows" / "probe.py").write_text(PLAIN, encoding="utf-8")
    config = {"deployments": [
        {"name": "replica-manual", "entrypoint": "flows/probe.py:replica_probe", "schedules": []},
        {"name": "replica-scheduled", "entrypoint": "flows/probe.py:replica_probe",
         "schedules": [{"interval": EVERY, "timezone": "Asia/Shanghai"}]},
    ]}
    path = root / "prefect.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _events(api: str, flow_run_id: str) -> list[str]:
    body = {"filter": {"any_resource": {"id": [f"prefect.flow-run.{flow_run_id}"]},
                       "occurred": {"since": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()}}, "limit": 50}
    response = httpx.post(f"{api}/events/filter", json=body, timeout=30, auth=AUTH)
    response.raise_for_status()
    return [e["event"] for e in response.json()["events"]]


def _wait(what: str, check: Callable[[], bool], logs: list[Path], timeout: float = 150) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tails = "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in logs if p.exists())
            pytest.fail(f"{what} within {timeout:.0f} s:\n{tails}")
        time.sleep(1)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.prefect
def test_api_replicas_and_a_services_process_share_redis(pg_database: Callable[[str], str], redis_db: int, tmp_path: Path,
                                                          free_port) -> None:  # type: ignore[no-untyped-def]
    """README "Production": two `prefect server start --no-services` replicas and one `prefect server
    services start`, all on one PostgreSQL and one Redis. A run made through replica A is run by a
    worker that talks to replica B, and its events (sent to B by the worker, stored by the services
    process from Redis) are read through A; a deployment's schedule makes runs only once the services
    process runs: the replicas really run none of the services."""
    from regflows.server import REDIS_MODULES, redis_settings, start, start_services, upgrade_database, wait_healthy
    from regflows.store import migrate

    store, prefect_db = pg_database("store"), pg_database("prefect")
    yaml_path = _replica_project(tmp_path / "project")
    env = _env(tmp_path, store, prefect_db, REGFLOWS_PREFECT_YAML=str(yaml_path), PREFECT_API_AUTH_STRING=":".join(AUTH))
    migrate(store)
    # `regflows migrate` in production; here Prefect's half of it, once, before any replica starts
    # (replicas started at once would otherwise race to migrate the same database).
    os.environ["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = env["PREFECT_SERVER_DATABASE_CONNECTION_URL"]
    try:
        upgrade_database(tmp_path / "migrate-home")
    finally:
        del os.environ["PREFECT_SERVER_DATABASE_CONNECTION_URL"]

    shared = {"PREFECT_SERVER_DATABASE_CONNECTION_URL": env["PREFECT_SERVER_DATABASE_CONNECTION_URL"],
              "PREFECT_SERVER_DATABASE_MIGRATE_ON_START": "false", "PREFECT_SERVER_API_AUTH_STRING": ":".join(AUTH),
              "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2", **redis_settings("127.0.0.1", 6379, redis_db)}
    assert set(REDIS_MODULES) <= set(shared)
    replicas: list = []
    services = None
    worker: subprocess.Popen[bytes] | None = None
    logs = [tmp_path / "logs" / f"{n}.log" for n in ("replica-a", "replica-b", "prefect-services")] + [tmp_path / "worker.log"]
    try:
        # One after the other: on a new database, replicas starting at once race to register
        # Prefect's block types and the loser exits (a duplicate key; README "Production").
        for name in ("a", "b"):
            replicas.append(start("127.0.0.1", free_port(), tmp_path / f"home-{name}", tmp_path / "logs", extra_env=shared,
                                  services=False, name=f"replica-{name}"))
            wait_healthy(replicas[-1], timeout=240)
        a, b = (r.api for r in replicas)
        deployed = subprocess.run([REGFLOWS, "deploy", "--pool", "replicas"], cwd=tmp_path, env=dict(env, PREFECT_API_URL=a),
                                  capture_output=True, text=True, timeout=300)
        assert deployed.returncode == 0, deployed.stderr
        deployments = {d["name"]: d for d in httpx.post(f"{b}/deployments/filter", json={}, timeout=30, auth=AUTH).json()}
        assert set(deployments) == {"replica-manual", "replica-scheduled"}  # registered through A, read through B

        made = httpx.post(f"{a}/deployments/{deployments['replica-manual']['id']}/create_flow_run", json={}, timeout=30, auth=AUTH)
        made.raise_for_status()
        run_id = made.json()["id"]
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", "replicas", "--name", "w-b"], cwd=tmp_path,
            env=dict(env, PREFECT_API_URL=b, PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_PREFETCH_SECONDS="1"),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def state(api: str) -> str:
            response = httpx.get(f"{api}/flow_runs/{run_id}", timeout=30, auth=AUTH)
            response.raise_for_status()
            return response.json()["state_type"]

        _wait("the run made through replica A did not complete", lambda: state(b) == "COMPLETED", logs)
        assert state(a) == "COMPLETED"
        # The replicas run no services: with the run complete and several scheduler loops gone
        # by (2 s each), the scheduled deployment still has no run, and the run's events, which
        # only the services' event persister stores, are nowhere.
        time.sleep(8)
        scheduled_id = deployments["replica-scheduled"]["id"]
        assert [r for r in _runs(a) if r["deployment_id"] == scheduled_id] == []
        assert _events(a, run_id) == []

        services = start_services(tmp_path / "home-services", tmp_path / "logs", extra_env=dict(shared, PREFECT_API_URL=a))
        # Events the worker and the flow run sent to B, and the state changes the replicas
        # published, waited in Redis; the services process stores them, and A shows them.
        _wait("the run's events did not become readable through replica A",
              lambda: {"prefect.flow-run.Running", "prefect.flow-run.Completed"} <= set(_events(a, run_id)), logs)
        _wait("the services process's scheduler made no run that completed",
              lambda: any(r["deployment_id"] == scheduled_id and r["auto_scheduled"] for r in _runs(b, ["COMPLETED"])), logs)
        assert services.process.poll() is None and all(r.process.poll() is None for r in replicas)
    finally:
        if worker is not None:
            _stop(worker)
        if services is not None:
            services.stop()
        for replica in replicas:
            replica.stop()
