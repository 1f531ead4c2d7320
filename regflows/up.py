"""``regflows up`` (what ``make run`` runs): server, store, profile, deployments, serve.

Order matters and each step says what it does: the profile is validated first (a bad profile
must stop everything before anything starts), then the store is migrated, then a local Prefect
server is started unless one already answers at the address, then every deployment of
prefect.yaml is registered with its schedule and served until Ctrl-C. Stopping keeps the
deployments' schedules and their upcoming runs (``pause_on_shutdown=False``: Prefect's default
would pause them and delete the runs, issue #16363).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import os
import signal
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import toml  # type: ignore[import-untyped]  # Prefect's own dependency, the writer it uses for this file

from rich.console import Console
from sqlalchemy.engine import make_url

from calendars.official import CalendarError
from calendars.zone import SHANGHAI
from notices.ack_server import bind_address, serve_in_thread
from regflows import config, ledger
from regflows.credit import demo
from regflows.credit.models import Period, previous_period
from regflows.deployments import DeploymentSpec, read_prefect_yaml, schedules_for, to_runner_deployments
from regflows.priority import lower_thread_priority
from regflows.procedures import endpoint_routes
from regflows.profile import DEMO_PROFILE, Profile, load_profile, profile_path
from regflows.server import ServerError, api_url, is_healthy, prefect_database, start, wait_healthy
from regflows.store import migrate

# Prefect is imported inside serve_deployments and deploy_to_pool only (lazy): it reads its settings (PREFECT_API_URL,
# PREFECT_HOME) when imported, so configure_prefect_env must run first. None of the modules above
# imports Prefect at their top level (tests/test_boundaries.py lists who may import it at all).

console = Console(stderr=True)


_LOCAL = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


def server_address(api: str, host: str, port: int | None) -> tuple[str, int]:
    """Where ``regflows up`` starts its server when nothing answers at ``api`` (the API every
    command of this process and its flow runs will call): that URL's host and port when it names
    this machine, so the deployments are registered on the server just started. Before, with
    PREFECT_API_URL on port 4391 and no ``--port``, the server started on 4200 and registering the
    deployments crashed with an httpx traceback (review of issue 15, setup). ``port``: ``--port``
    when given; one that differs from the URL's, or a URL of another machine, is a
    :class:`ServerError` in Chinese (nothing started)."""
    parts = urlsplit(api)
    try:
        url_port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ServerError(f"PREFECT_API_URL {api} 的端口无效") from None
    where = parts.hostname or ""
    if where not in _LOCAL and where != host:
        raise ServerError(f"PREFECT_API_URL 指向 {api}，该地址没有可用的 Prefect 服务器；regflows up 只能在本机启动服务器："
                          "请先启动该服务器，或改正、取消 PREFECT_API_URL")
    if port is not None and port != url_port:
        raise ServerError(f"PREFECT_API_URL 指向端口 {url_port}（{api}），而 --port 为 {port}：二者须一致，"
                          "否则部署会注册到没有服务器的地址；请改正其一，或取消 PREFECT_API_URL")
    return (host if where in _LOCAL else where), url_port


def prefect_home() -> Path:
    """The PREFECT_HOME of regflows' processes: the environment's, else ``$REGFLOWS_HOME/prefect``
    (where `regflows up`'s embedded server keeps its SQLite database)."""
    return Path(os.environ.get("PREFECT_HOME") or config.home() / "prefect")


def configure_prefect_env(host: str, port: int) -> str:
    """Point this process (and the flow runs it spawns) at the server; must precede importing prefect."""
    os.environ["PREFECT_HOME"] = str(prefect_home())
    if os.environ.get("PREFECT_SERVER_API_AUTH_STRING"):  # the server this process starts asks its own clients too
        os.environ.setdefault("PREFECT_API_AUTH_STRING", os.environ["PREFECT_SERVER_API_AUTH_STRING"])
    api = os.environ.get("PREFECT_API_URL") or api_url(host, port)
    os.environ["PREFECT_API_URL"] = api
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return api


#: The Prefect profile `regflows up` keeps pointing at its server, for `prefect` commands run elsewhere.
PREFECT_PROFILE_NAME = "regflows"


def user_prefect_profiles(environ: Mapping[str, str] = os.environ) -> Path:
    """The profiles file a `prefect` command run by the user reads: PREFECT_PROFILES_PATH, else
    $PREFECT_HOME/profiles.toml, else ~/.prefect/profiles.toml (Prefect's own defaults). Read
    before :func:`configure_prefect_env`, which gives this process a PREFECT_HOME of its own."""
    if environ.get("PREFECT_PROFILES_PATH"):
        return Path(environ["PREFECT_PROFILES_PATH"]).expanduser()
    home = Path(environ["PREFECT_HOME"]).expanduser() if environ.get("PREFECT_HOME") else Path.home() / ".prefect"
    return home / "profiles.toml"


def write_prefect_profile(path: Path, api: str) -> bool:
    """Add (or correct) the ``regflows`` profile with ``PREFECT_API_URL = api`` in the user's
    profiles file; the other profiles and which one is active are left as they are. Returns
    whether the file changed.

    Why not activate it: a user's `prefect` commands may serve another server on purpose, and a
    tool that silently moves them is worse than one line saying how to use this one (README)."""
    data: dict = tomllib.loads((path if path.is_file() else _prefect_default_profiles()).read_text(encoding="utf-8"))
    profiles = data.setdefault("profiles", {})
    if not isinstance(profiles, dict):
        raise ValueError(f"{path}：profiles 不是表，未写入 Prefect 配置 {PREFECT_PROFILE_NAME}")
    current = profiles.get(PREFECT_PROFILE_NAME) or {}
    if current.get("PREFECT_API_URL") == api:
        return False
    profiles[PREFECT_PROFILE_NAME] = {**current, "PREFECT_API_URL": api}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(toml.dumps(data), encoding="utf-8")
    tmp.replace(path)
    return True


def _prefect_default_profiles() -> Path:
    """Prefect's template of a profiles file (its profiles and the active one, ``ephemeral``): a
    user file is the whole list once it exists, so a new one starts as Prefect would write it
    (`prefect profile create` does the same). Found without importing Prefect (see above)."""
    spec = importlib.util.find_spec("prefect")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "settings" / "profiles.toml"


def _announce_prefect_profile(path: Path, api: str) -> None:
    try:
        changed = write_prefect_profile(path, api)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:  # regflows runs on; the user is told
        console.print(f"[yellow]![/] 未能写入 Prefect 配置 {PREFECT_PROFILE_NAME}（{path}）：{exc}")
        return
    console.print(f"[green]✓[/] Prefect 配置 {PREFECT_PROFILE_NAME}（{path}）{'已写入' if changed else '已存在'}，指向 {api}：")
    console.print(f"    其他终端中的 prefect 命令请用 `prefect profile use {PREFECT_PROFILE_NAME}`，"
                  f"或单次 `PREFECT_PROFILE={PREFECT_PROFILE_NAME} prefect …`")


def verify_ledger_on_start(starting: str) -> bool:
    """The audit ledger's chain and anchors recomputed before a start appends to it (`regflows up`,
    `regflows deploy`). A broken ledger is said in red, naming the first break, and recorded as a
    ``ledger.broken_on_start`` entry (after the break: the entries before it stay as evidence);
    the start goes on: stopping would also stop every deadline reminder, and the working-day
    ``audit-verify`` deployment raises the break to people. Returns whether it verified."""
    result = ledger.verify()
    if result.ok:
        console.print(f"[green]✓[/] {result.summary()}", soft_wrap=True)
        return True
    console.print(f"[bold red]⚠ {result.summary()}[/]", soft_wrap=True)
    ledger.append("ledger.broken_on_start", starting, {"problems": result.problems, "count": result.count})
    return False


def migrate_all() -> tuple[str | None, str]:
    """``regflows migrate``: the domain store (``REGFLOWS_DATABASE_URL``) and Prefect's own
    database (``PREFECT_SERVER_DATABASE_CONNECTION_URL``) brought to their newest schemas, in that
    order, each by its own tool (alembic; ``prefect server database upgrade -y``). Idempotent: a
    production deployment runs it before starting (or after upgrading) the server and the
    workers. Returns the store's revision and Prefect's last output line."""
    from regflows.server import upgrade_database
    from regflows.store import schema_status

    migrate()
    console.print(f"[green]✓[/] 业务数据库已迁移：{_masked(config.database_url())}", soft_wrap=True)
    said = upgrade_database(prefect_home())
    console.print(f"[green]✓[/] Prefect 数据库已迁移：{prefect_database(prefect_home())}", soft_wrap=True)
    return schema_status()[0], said


def run_up(host: str, port: int | None, profile_file: Path, start_server: bool = True) -> None:
    """``port``: ``--port`` when given (None: PREFECT_API_URL's, else the default)."""
    user_profiles = user_prefect_profiles()
    api = configure_prefect_env(host, port if port is not None else config.PREFECT_PORT)
    if start_server and not is_healthy(api):  # said before anything is started or written
        host, port = server_address(api, host, port)
    profile = load_profile(profile_file)
    # The flow runs this process serves (its children) and the endpoint it starts read the profile
    # through REGFLOWS_PROFILE (regflows.profile.profile_path): `--profile` is theirs too, never the
    # demo institution's people and channels behind the operator's back.
    os.environ["REGFLOWS_PROFILE"] = str(profile_file.resolve())
    console.print(f"[green]✓[/] 机构配置：{profile.institution.name}（{profile_file}）")
    migrate()
    console.print(f"[green]✓[/] 业务数据库已就绪：{_masked(config.database_url())}")
    verify_ledger_on_start("regflows up")
    ledger.append(
        "regflows.up",
        profile.institution.name,
        {"profile": str(profile_file), "profile_sha256": hashlib.sha256(profile_file.read_bytes()).hexdigest()},
    )

    if profile_file.resolve() == DEMO_PROFILE.resolve():
        _load_demo_data()
        _load_demo_quarter()
        _load_demo_daily_logs(profile.settings.credit_daily_log_pattern)
    acks = _start_ack_endpoint(str(profile.public_base_url))

    server = None
    if is_healthy(api):
        console.print(f"[green]✓[/] 使用已运行的 Prefect 服务器 {api}")
    elif not start_server:
        raise ServerError(f"{api} 没有可用的 Prefect 服务器（且指定了 --no-server）")
    else:
        prefect_home = Path(os.environ["PREFECT_HOME"])
        assert port is not None  # server_address gave it
        server = start(host, port, prefect_home, config.home() / "logs")
        with console.status(f"正在启动 Prefect 服务器（{api}，首次启动约需半分钟）…"):
            wait_healthy(server)
        console.print(f"[green]✓[/] Prefect 服务器已就绪：http://{host}:{port}")
    _announce_prefect_profile(user_profiles, api)

    def _terminate(signum, frame):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    # The flow-run processes served from here on yield the cores to the endpoint and the Prefect
    # server started above from this thread (regflows/priority.py): under `regflows up` a burst
    # of declarations starts a burst of runs, each a minute of CPU on a loaded 2-core machine, and
    # `POST /incidents` took p50 24.9 s at a load of 35 behind them (README, "Incident response").
    lower_thread_priority(profile.settings.served_runs_nice)
    try:
        serve_deployments(profile)
    except KeyboardInterrupt:
        console.print("已停止服务；计划运行保留在服务器中。")
    finally:
        if acks is not None:
            acks.should_exit = True
        if server is not None:
            server.stop()


def _load_demo_data() -> None:
    """The demo institution's query log for last month, so the credit-stats deployment has data
    on a fresh machine (``credit-stats`` reads ``$REGFLOWS_HOME/credit/query-log-YYYY-MM.parquet``).
    Generated once, deterministic (seed 2025), never for a real institution's profile."""
    period = previous_period()
    path = config.home() / "credit" / f"query-log-{period.label}.parquet"
    if path.exists():
        return
    try:
        with console.status(f"正在生成示范机构 {period.label} 的征信查询日志…"):
            demo.write(demo.generate(50_000, 2025, period), path)
    except CalendarError as exc:  # a missing calendar year must not stop the server
        console.print(f"[bold red]⚠ 未生成示范数据：{exc}[/]")
        return
    console.print(f"[green]✓[/] 示范数据：{path}")


def _load_demo_quarter() -> None:
    """The demo's query logs of the last quarter's three months and its users file, so the
    self-inspection deployment (and credit-stats for those months) has data on a fresh machine:
    ``$REGFLOWS_HOME/credit/query-log-YYYY-MM.parquet`` (ids prefixed by month, so the quarter's
    ids are unique), ``$REGFLOWS_HOME/credit/users.csv`` (every user of the logs, plus one
    planted user per user check) and ``$REGFLOWS_HOME/inspection/vulns.csv`` (a small register).
    Generated once, deterministic."""
    import pandas as pd

    from regflows.inspection.demo import users_csv, vulns_csv
    from regflows.inspection.pipeline import previous_quarter
    from regflows.kit.files import write_atomically

    quarter = previous_quarter()
    users_path = config.home() / "credit" / "users.csv"
    users: set[str] = set()
    try:
        with console.status(f"正在生成示范机构 {quarter.label} 的查询日志与用户清单…"):
            for offset in range(3):
                period = Period(quarter.year, 3 * quarter.number - 2 + offset)
                path = config.home() / "credit" / f"query-log-{period.label}.parquet"
                if not path.exists():
                    demo.write(demo.generate(50_000, 2025 + offset, period, id_prefix=f"Q{period.year:04d}{period.month:02d}-"), path)
                if not users_path.exists():  # read only to write the users file, once: not on every start
                    users.update(pd.read_parquet(path, columns=["user_id"])["user_id"].astype(str))
            if not users_path.exists():
                write_atomically(users_path, users_csv(sorted(users), quarter).encode("utf-8"))
            vulns_path = config.home() / "inspection" / "vulns.csv"  # the flow's default register
            if not vulns_path.exists():
                write_atomically(vulns_path, vulns_csv(quarter).encode("utf-8"))
    except CalendarError as exc:  # a missing calendar year must not stop the server
        console.print(f"[bold red]⚠ 未生成示范季度数据：{exc}[/]")
        return
    console.print(f"[green]✓[/] 示范季度数据：{quarter.label} 的查询日志与 {users_path}")


def _load_demo_daily_logs(pattern: str) -> None:
    """The demo's daily logs (``settings.credit_daily_log_pattern``) of last month and of this
    month up to yesterday, so the credit-daily-check deployment finds its days (PBOC-102 二（四）
    日核查). Last month's days are split from last month's log, so the month agrees with its days."""
    from regflows.credit.daily import log_path

    today = dt.datetime.now(SHANGHAI).date()
    this_month = Period(today.year, today.month)
    last_month = this_month.previous()
    written = 0
    try:
        for period, seed in ((last_month, 2025), (this_month, 2026)):
            month = demo.generate(50_000, seed, period)
            written += len(demo.write_daily(month, period, lambda d: log_path(pattern, d, config.home()), today))
    except CalendarError as exc:
        console.print(f"[bold red]⚠ 未生成示范每日日志：{exc}[/]")
        return
    if written:
        console.print(f"[green]✓[/] 示范每日查询日志 {written} 个：{config.home() / 'credit' / 'daily'}")


def _start_ack_endpoint(public_base_url: str):  # type: ignore[no-untyped-def]
    """Serve the acknowledgement links locally when the profile's public URL is on this machine."""
    host, port = bind_address(public_base_url)
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]![/] 确认链接地址 {public_base_url} 不在本机：请在该地址后运行 `regflows notices serve-acks`")
        return None
    server = serve_in_thread(host, port, endpoint_routes(), public_base_url)
    console.print(f"[green]✓[/] 确认链接端点：{public_base_url.rstrip('/')}/ack/…")
    return server


def _announced_deployments(profile: Profile | None) -> tuple[list[DeploymentSpec], list[Any]]:
    """prefect.yaml's deployments with their schedules computed from today (working-day ones
    included), each deployment's schedules and every warning printed: what `regflows up` serves
    and `regflows deploy` registers to a work pool, computed the one way."""
    path = config.prefect_yaml()
    specs = read_prefect_yaml(path)
    today = dt.datetime.now(SHANGHAI).date()
    deployments, warnings = to_runner_deployments(specs, path.parent, today, profile or load_profile(profile_path()))
    for spec in specs:
        kinds = "；".join(c.description for c in schedules_for(spec, today)) or "手动触发"
        console.print(f"  • {spec.name}: {kinds}")
    for warning in warnings:
        console.print(f"[bold red]⚠ {warning}[/]")
    return specs, deployments


def serve_deployments(profile: Profile | None = None) -> None:
    from prefect import serve  # lazy: after configure_prefect_env (see the top of this module)

    _, deployments = _announced_deployments(profile)
    serve(*deployments, pause_on_shutdown=False, print_starting_message=True)


#: The type of work pool `regflows deploy` uses: workers run each flow run as a child process of
#: a clone of this repository (README, "Production").
POOL_TYPE = "process"
#: The pool's work queue of the watches (deployments named ``*-watch``), first in priority: a
#: worker whose slots free up takes a due watch before the next of a burst of incident runs (the
#: load-and-faults run saw the watches wait 12 minutes behind 100 of them: reminders unsent).
WATCH_QUEUE = "watches"


def deploy_to_pool(pool: str, profile: Profile | None = None) -> list[str]:
    """``regflows deploy --pool NAME``: register every deployment of prefect.yaml, with the
    schedules `regflows up` gives them (working-day ones computed from today; the daily
    calendar-watch refreshes them the same way, by deployment name), to the process work pool
    ``pool``, created when missing. ``prefect worker start --pool NAME`` processes then run them:
    Prefect's server hands each scheduled run to one worker (the Scheduled → Pending transition is
    refused to every other), and the watches keep their one-at-a-time limit.

    Each deployment pulls its code by changing into prefect.yaml's folder on the worker's machine
    (``set_working_directory``, Prefect's own pull step): workers run from a clone of this
    repository at the same path, with the same ``REGFLOWS_*`` settings. Without a pull step a
    process worker would copy the deployment's folder, the virtualenv and ``var/`` included, for
    every run. Returns the names registered."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.runner.storage import LocalStorage
    from prefect.workers.process import ProcessWorker

    api = os.environ.get("PREFECT_API_URL") or config.prefect_api_url()
    if not is_healthy(api):
        raise ServerError(f"{api} 没有可用的 Prefect 服务器：请先启动服务器（prefect server start）并设置 PREFECT_API_URL")
    with get_client(sync_client=True) as client:
        try:
            existing = client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=pool, type=POOL_TYPE,
                                                   base_job_template=ProcessWorker.get_default_base_job_template()))
            console.print(f"[green]✓[/] 已创建工作池 {pool}（{POOL_TYPE}）")
        else:
            if existing.type != POOL_TYPE:
                raise ServerError(f"工作池 {pool} 的类型是 {existing.type}，regflows 的部署需要 {POOL_TYPE} 类型的工作池")
        try:
            queue = client.read_work_queue_by_name(WATCH_QUEUE, work_pool_name=pool)
        except ObjectNotFound:
            client.create_work_queue(name=WATCH_QUEUE, work_pool_name=pool, priority=1,
                                     description="regflows 的巡检部署（*-watch）：优先于其他运行取用空闲的执行位")
        else:
            if queue.priority != 1:
                client.update_work_queue(queue.id, priority=1)
    if not os.environ.get("REGFLOWS_ACK_SECRET"):
        console.print(f"[yellow]![/] 未设置 REGFLOWS_ACK_SECRET：每台 worker 机器会各自生成 {config.home() / 'ack.key'}，"
                      "一台机器发出的确认链接会被另一台拒绝；多台机器时请在所有机器上设置相同的值", soft_wrap=True)
    root = config.prefect_yaml().parent.resolve()
    specs, deployments = _announced_deployments(profile)
    for spec, deployment in zip(specs, deployments, strict=True):
        deployment.entrypoint = spec.entrypoint  # as prefect.yaml says: relative to its folder, where the pull step goes
        deployment.storage = LocalStorage(str(root))
        if spec.name.endswith("-watch"):
            deployment.work_queue_name = WATCH_QUEUE
        deployment.apply(work_pool_name=pool)
    console.print(f"[green]✓[/] 已向工作池 {pool} 注册 {len(specs)} 个部署；请在各 worker 机器上运行 "
                  f"`nice -n 5 .venv/bin/prefect worker start --pool {pool}`，并另起一个只运行巡检（提醒、升级）的 worker："
                  f"`.venv/bin/prefect worker start --pool {pool} --work-queue {WATCH_QUEUE} --name {WATCH_QUEUE}`")
    return [spec.name for spec in specs]


def _masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
