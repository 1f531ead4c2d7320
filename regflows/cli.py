"""The ``regflows`` command line.

Plain output, one value per line where scripts read it (``regflows calendar ...``); errors go to
stderr with a non-zero exit.

Imports inside commands are the lazy ones, measured: the store and everything that writes to it
(SQLAlchemy and Alembic, ~0.9 s), the notices engine (~1 s), ``regflows up`` and ``doctor`` (the
server client, the store, and Prefect ~2 s later), the endpoint (Starlette, uvicorn). Every
``regflows`` command would pay them at start-up, so ``regflows calendar`` would no longer answer
in a fraction of a second; tests/test_boundaries.py checks that start-up loads none of them. The
calendar, the profile and the deployment file reader are cheap and imported at the top.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from calendars import answers
from calendars.notice_import import NoticeParseError, dump_year_yaml, notice_target, parse_notice
from calendars.official import PROVISIONAL_DECEMBER_DAYS, CalendarError, YearNotCovered, default_calendar, load_year_file
from calendars.zone import SHANGHAI
from notices.routing import RoutingError, person_as_recipient, recipients
from regflows import config
from regflows.deployments import read_prefect_yaml
from regflows.exit_codes import ExitCode
from regflows.procedures import PROCEDURES, endpoint_routes
from regflows.profile import ProfileError, load_profile, profile_path

def _fold_long_help() -> None:
    """Help lines too long for the terminal fold onto the next line instead of ending in "…".

    Rich wraps at spaces, and a Chinese sentence has none: Typer's help tables cut it with an
    ellipsis (issue 14, 7). Typer builds every help text through ``rich_utils._make_rich_text``;
    its texts are made to fold (wrap at any character). Applied when help is first formatted, so
    a command that prints no help does not load rich (tests/test_boundaries.py: start-up cost)."""
    from rich.text import Text
    from typer import rich_utils

    if getattr(rich_utils, "_regflows_folds", False):
        return
    make = rich_utils._make_rich_text

    def folding(**kwargs):  # type: ignore[no-untyped-def]
        made = make(**kwargs)
        if isinstance(made, Text):
            made.overflow = "fold"
        return made

    rich_utils._make_rich_text = folding
    rich_utils._regflows_folds = True  # type: ignore[attr-defined]


def _folding(format_help):  # type: ignore[no-untyped-def]
    def format_help_folded(self, ctx, formatter):  # type: ignore[no-untyped-def]
        _fold_long_help()
        return format_help(self, ctx, formatter)
    return format_help_folded


for _cls in (typer.core.TyperGroup, typer.core.TyperCommand):
    _cls.format_help = _folding(_cls.format_help)  # type: ignore[method-assign]

app = typer.Typer(help="regflows：金融机构合规流程自动化（Prefect）。", no_args_is_help=True, add_completion=False)
calendar_app = typer.Typer(help="官方工作日日历：查询、推算、导入国务院通知。", no_args_is_help=True)
audit_app = typer.Typer(help="审计账本：校验哈希链、锚定链头。", no_args_is_help=True)
profile_app = typer.Typer(help="机构配置文件。", no_args_is_help=True)
db_app = typer.Typer(help="业务数据库。", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
app.add_typer(audit_app, name="audit")
app.add_typer(profile_app, name="profile")
app.add_typer(db_app, name="db")
notices_app = typer.Typer(help="通知：测试渠道、本地 outbox、投递记录、确认端点。", no_args_is_help=True)
app.add_typer(notices_app, name="notices")
for _procedure in PROCEDURES:  # each procedure's commands, from the one composition point
    for _name, _sub_app in _procedure.commands:
        app.add_typer(_sub_app, name=_name)

ProfileOption = Annotated[
    Path | None, typer.Option("--profile", help="机构配置 YAML（默认 REGFLOWS_PROFILE 或示范配置）")
]


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def _profile_file(option: Path | None) -> Path:
    return option or profile_path()


# -- up / doctor ---------------------------------------------------------------------------
@app.command()
def up(
    host: Annotated[str, typer.Option(help="Prefect 服务器监听地址")] = config.PREFECT_HOST,
    port: Annotated[int | None, typer.Option(help="Prefect 服务器端口（UI 与 API；默认取 PREFECT_API_URL 的端口，未设置时 4200）")] = None,
    profile: ProfileOption = None,
    no_server: Annotated[bool, typer.Option("--no-server", help="不启动服务器，只连接已运行的")] = False,
) -> None:
    """启动 Prefect 服务器、迁移数据库、载入机构配置，注册并运行 prefect.yaml 中的全部部署（Ctrl-C 停止）。"""
    from regflows.server import ServerError
    from regflows.up import run_up

    try:
        run_up(host, port, _profile_file(profile), start_server=not no_server)
    except (ProfileError, ServerError) as exc:
        fail(str(exc))


@app.command()
def deploy(
    pool: Annotated[str, typer.Option("--pool", help="Prefect 工作池名称（process 类型，不存在则创建）")],
    profile: ProfileOption = None,
) -> None:
    """把 prefect.yaml 的全部部署（含按官方工作日计算的排程）注册到工作池，由 `prefect worker start --pool 名称` 运行（生产部署）。"""
    from regflows.server import ServerError
    from regflows.up import configure_prefect_env, deploy_to_pool, verify_ledger_on_start

    try:
        loaded = load_profile(_profile_file(profile))
        verify_ledger_on_start("regflows deploy")
        configure_prefect_env(config.PREFECT_HOST, config.PREFECT_PORT)  # PREFECT_API_URL when set, else regflows up's address
        names = deploy_to_pool(pool, loaded)
    except (ProfileError, ServerError) as exc:
        fail(str(exc))
    typer.echo("\n".join(names))


@app.command()
def doctor(
    profile: ProfileOption = None,
    today: Annotated[str | None, typer.Option(help="以该日期为“今天”检查（YYYY-MM-DD），用于预演")] = None,
) -> None:
    """检查机构配置、数据库、审计账本、日历覆盖、通知渠道与部署，逐项报告。"""
    from regflows.doctor import FAIL, WARN, run_checks

    checks = run_checks(_profile_file(profile), _date(today) if today else None)
    marks = {"ok": "✓", "warn": "!", "fail": "✗"}
    for check in checks:
        typer.echo(f"{marks[check.status]} [{check.area}] {check.name}：{check.detail}")
    failures = sum(c.status == FAIL for c in checks)
    warnings = sum(c.status == WARN for c in checks)
    typer.echo(f"共 {len(checks)} 项检查：{failures} 项错误，{warnings} 项警告。")
    if failures:
        raise typer.Exit(1)


# -- profile / db --------------------------------------------------------------------------
@profile_app.command("check")
def profile_check(file: Annotated[Path, typer.Argument(help="机构配置 YAML")]) -> None:
    """校验机构配置文件；错误指出字段与行号。"""
    try:
        p = load_profile(file)
    except ProfileError as exc:
        fail(str(exc))
    typer.echo(f"机构配置有效：{p.institution.name}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把业务数据库迁移到最新结构。"""
    from regflows.store import migrate, schema_status

    migrate()
    typer.echo(f"数据库结构版本：{schema_status()[0]}")


@app.command("migrate")
def migrate_all() -> None:
    """迁移业务数据库（REGFLOWS_DATABASE_URL）与 Prefect 服务器自身的数据库（PREFECT_SERVER_DATABASE_CONNECTION_URL）；生产部署在启动服务器与 worker 前运行。"""
    from regflows.server import ServerError
    from regflows.up import migrate_all as run_migrations

    try:
        revision, _ = run_migrations()
    except ServerError as exc:
        fail(str(exc), code=1)
    typer.echo(f"数据库结构版本：{revision}；Prefect 数据库已迁移至最新结构")


# -- audit ---------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify() -> None:
    """重算哈希链并与锚点核对；失败时指出第一处断裂。"""
    from regflows import ledger

    result = ledger.verify()
    if not result.ok:
        fail(result.summary(), code=1)
    typer.echo(result.summary())


@audit_app.command("anchor")
def audit_anchor(profile: ProfileOption = None) -> None:
    """把链头（条数与哈希）写入库外锚点文件，并发送合规部门。"""
    from notices.service import NoticeNotDelivered, send_notice
    from regflows import ledger

    try:
        loaded = load_profile(_profile_file(profile))
        anchor = ledger.write_anchor()
    except ledger.LedgerBroken as exc:
        fail(str(exc), code=1)
    except ProfileError as exc:
        fail(str(exc))
    typer.echo(json.dumps({"count": anchor.count, "head_hash": anchor.head_hash, "at": anchor.at, "file": str(ledger.anchor_path())}, ensure_ascii=False))
    context = {"count": anchor.count, "head_hash": anchor.head_hash, "at": anchor.at, "institution": loaded.institution.name}
    outcome = send_notice(loaded, "ledger_anchor", context, ["compliance"], notice_id=f"ledger-anchor:{anchor.count}:{anchor.head_hash[:16]}")
    if outcome.unreached:
        fail(str(NoticeNotDelivered(outcome)), code=1)


# -- calendar ------------------------------------------------------------------------------
def _date(text: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        fail(f"日期格式应为 YYYY-MM-DD：{text!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:  # the right shape, a day that does not exist (2026-02-30)
        fail(f"没有这一天：{text}（日期写作 YYYY-MM-DD，月份 01-12，日为该月实有的日）")


def _answer(fn: Callable[..., answers.Answer], *args: object) -> None:
    """Print one calendar answer; exit with the table's code (regflows/exit_codes.py).

    No data for a year: 3. Bad input: 2. An answer resting on provisional late-December days
    (next year's notice not loaded): the value is printed all the same, stderr says which days
    are provisional and why, exit 4, so a script cannot take it for a definite answer.
    """
    try:
        answer = fn(default_calendar(), *args)
    except YearNotCovered as exc:
        fail(str(exc), ExitCode.NO_CALENDAR)
    except CalendarError as exc:
        fail(str(exc), ExitCode.USAGE)
    value = answer.value
    if isinstance(value, bool):
        typer.echo("true" if value else "false")
    elif isinstance(value, dt.date):
        typer.echo(value.isoformat())
    else:
        typer.echo(value)
    if answer.provisional:
        typer.echo(_provisional_zh(answer.provisional_days), err=True)
        raise typer.Exit(ExitCode.PROVISIONAL)


def _provisional_zh(days: tuple[dt.date, ...]) -> str:
    years = sorted({d.year for d in days})
    span = "、".join(d.isoformat() for d in days) if len(days) <= 3 else f"{days[0]}..{days[-1]}"
    nxt = "、".join(str(y + 1) for y in years)
    return (
        f"暂定：该结果取决于 {span}（年末最后 {PROVISIONAL_DECEMBER_DAYS} 天），而 {nxt} 年国务院节假日安排尚未载入；"
        f"该通知可能调整这些日期（如 2019 年通知把 2018-12-29 定为上班日、2018-12-31 定为假日）。"
        f"载入 {nxt} 年通知（regflows calendar import-notice）后请重新查询。"
    )


#: Commands whose last argument is a count that may be negative: click would read ``-1`` as an
#: option; with unknown options ignored it reaches the argument as typed (``add-working-days
#: 2025-10-09 -1``), and a real unknown option is still refused as "not a valid integer".
_NEGATIVE_NUMBERS = {"ignore_unknown_options": True}


@calendar_app.command("is-working-day")
def cal_is_working_day(date: str) -> None:
    """是否为工作日（打印 true/false）。"""
    _answer(answers.is_working_day, _date(date))


@calendar_app.command("next-working-day")
def cal_next(date: str) -> None:
    """该日之后的第一个工作日。"""
    _answer(answers.next_working_day, _date(date))


@calendar_app.command("previous-working-day")
def cal_previous(date: str) -> None:
    """该日之前的最后一个工作日。"""
    _answer(answers.previous_working_day, _date(date))


@calendar_app.command("roll-forward")
def cal_roll_forward(date: str) -> None:
    """该日若为工作日则为该日，否则顺延至下一工作日。"""
    _answer(answers.roll_forward, _date(date))


@calendar_app.command("add-working-days", context_settings=_NEGATIVE_NUMBERS)
def cal_add(date: str, n: Annotated[int, typer.Argument(help="工作日数，可为负（直接写 -1）；起始日不计入")]) -> None:
    """自该日起推算 N 个工作日（起始日不计）。"""
    _answer(answers.add_working_days, _date(date), n)


@calendar_app.command("nth-working-day", context_settings=_NEGATIVE_NUMBERS)
def cal_nth(year: int, month: int, n: Annotated[int, typer.Argument(help="第几个工作日，-1 为最后一个（直接写 -1）")]) -> None:
    """某月第 N 个工作日。"""
    _answer(answers.nth_working_day_of_month, year, month, n)


@calendar_app.command("count-working-days")
def cal_count(start: str, end: str) -> None:
    """两日之间（含首尾）的工作日数。"""
    _answer(answers.count_working_days, _date(start), _date(end))


@calendar_app.command("years")
def cal_years() -> None:
    """已载入的年份及其通知，每行一年。"""
    cal = default_calendar()
    for year in cal.years:
        notices = "; ".join(f"{n.number} {n.date} {n.url}" for n in cal.arrangements[year].notices)
        typer.echo(f"{year}\t{notices}")


@calendar_app.command("import-notice")
def cal_import_notice(
    file: Annotated[Path, typer.Argument(help="国务院办公厅通知全文（UTF-8 文本）")],
    url: Annotated[str, typer.Option(help="通知的公开网址（写入数据文件）")],
    output_dir: Annotated[Path, typer.Option(help="数据文件目录")] = Path(__file__).resolve().parent.parent / "calendars" / "data",
    force: Annotated[bool, typer.Option(help="以年度通知重写已有的年份文件")] = False,
) -> None:
    """解析通知全文，写出该年度数据文件供人工复核；无法解析的内容一律拒绝。"""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"无法读取 {file}：{exc}", ExitCode.USAGE)
    try:
        what = notice_target(text)
        target = output_dir / f"{what.year}.yaml"
        if what.amends:
            # An amending notice (the 2020 extension, the 2019 Labour Day adjustment) needs the year's file.
            if not target.exists():
                fail(f"这是修订 {what.year} 年安排的通知，但 {target} 不存在：请先导入该年度的安排通知", ExitCode.NO_CALENDAR)
            result = parse_notice(text, url=url, existing=load_year_file(target))
        else:
            if target.exists() and not force:
                fail(f"{target} 已存在；确认要以该通知重写时加 --force", ExitCode.USAGE)
            result = parse_notice(text, url=url)
    except (NoticeParseError, CalendarError) as exc:
        fail(str(exc), ExitCode.USAGE)
    target.write_text(dump_year_yaml(result), encoding="utf-8")
    typer.echo(str(target))
    typer.echo("请人工核对后提交；`regflows calendar years` 查看已载入年份。", err=True)


@calendar_app.command("schedules")
def cal_schedules(
    start: Annotated[str | None, typer.Option(help="起始日（默认今天）")] = None,
    limit: Annotated[int, typer.Option(help="每个排程显示的次数")] = 5,
) -> None:
    """prefect.yaml 中工作日排程的下几次运行日期（日历数据不足时照常打印已知的，退出码 3）。"""
    day = _date(start) if start else dt.datetime.now(SHANGHAI).date()
    cal = default_calendar()
    short = False
    for spec in read_prefect_yaml(config.prefect_yaml()):
        for wd in spec.working_days:
            days = wd.run_days(day, dt.date(cal.years[-1], 12, 31), cal)[:limit]
            typer.echo(f"{spec.name}\t{wd.describe()}\t" + " ".join(f"{d.isoformat()}T{wd.at}" for d in days))
            # A yearly schedule can list only the covered years' runs (a notice is published a year
            # ahead): it is cut short when its next run is unknown, not for want of five years' data.
            if not days or (len(days) < limit and wd.every != "year"):
                short = True
                typer.echo(f"警告：{spec.name} 的排程在 {cal.years[-1]} 年末后没有日历数据（缺 {cal.years[-1] + 1} 年国务院节假日安排）", err=True)
    if short:
        raise typer.Exit(ExitCode.NO_CALENDAR)


# -- notices -------------------------------------------------------------------------------
def _since(text: str) -> dt.datetime:
    """ISO time (with offset or Asia/Shanghai), or a span back from now: 30m, 2h, 7d."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].isdigit():
        return dt.datetime.now(dt.timezone.utc) - dt.timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(f"--since 应为 ISO 时间（如 2025-10-01T08:00+08:00）或 30m/2h/7d：{text!r}")
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


@notices_app.command("test")
def notices_test(
    profile: ProfileOption = None,
    role: Annotated[str | None, typer.Option(help="只测试该角色（键名或类型），默认全部人员")] = None,
) -> None:
    """向每个人（或该角色成员）的每个渠道发送测试通知；每次投递打印一行 JSON。"""
    from notices.service import send_notice
    from regflows.store import migrate

    try:
        loaded = load_profile(_profile_file(profile))
        people = recipients(loaded, [role]) if role else [
            person_as_recipient(loaded, p.id, next((k for k, r in loaded.roles.items() if p.id in r.members), "compliance"))
            for p in loaded.people
        ]
    except (ProfileError, RoutingError) as exc:
        fail(str(exc))
    migrate()
    sent_at = dt.datetime.now(SHANGHAI).replace(microsecond=0).isoformat()
    outcome = send_notice(loaded, "test", {"institution": loaded.institution.name, "sent_at": sent_at}, to=people,
                          urgent=True, raise_to_deputy=False)
    for c in outcome.deliveries:
        typer.echo(json.dumps({"notice": outcome.notice_id, "person": c.person_id, "channel": c.channel_index + 1, "kind": c.kind,
                               "target": c.target, "outcome": c.state, "attempts": c.attempts, "error": c.error}, ensure_ascii=False))
    if any(c.state != "delivered" for c in outcome.deliveries):
        raise typer.Exit(1)


@notices_app.command("outbox")
def notices_outbox(limit: Annotated[int, typer.Option(help="最多显示条数")] = 50) -> None:
    """本地 outbox 中的通知（示范配置的默认渠道），最新在前。"""
    from regflows.store import migrate
    from regflows.store.notices import latest_outbox

    migrate()
    for m in latest_outbox(limit):
        typer.echo(json.dumps({"id": m.id, "at": m.at.isoformat(), "target": m.target, "title": m.title, "body": m.body}, ensure_ascii=False))


@notices_app.command("log")
def notices_log(since: Annotated[str, typer.Option(help="起始时间：ISO 时间或 30m/2h/7d")] = "1d") -> None:
    """投递记录：每次尝试一行 JSON（收件人、渠道、脱敏地址、结果、错误）。"""
    from regflows.store import migrate
    from regflows.store.notices import attempts_since

    start = _since(since)
    migrate()
    for attempt, delivery in attempts_since(start):
        typer.echo(json.dumps({"at": attempt.at.isoformat(), "notice": delivery.notice_id, "person": delivery.person_id,
                               "kind": delivery.channel_kind, "target": delivery.target_masked, "outcome": attempt.outcome,
                               "error": attempt.error, "delivery_state": delivery.state}, ensure_ascii=False))


@notices_app.command("settle")
def notices_settle(
    delivery_id: Annotated[int, typer.Argument(help="状态为 unknown 的投递编号（notices log 可查）")],
    outcome: Annotated[str, typer.Option(help="核实结果：delivered 或 failed")],
    by: Annotated[str, typer.Option(help="核实人（人员编号）")],
) -> None:
    """人工核实一次“是否送达未知”的投递并记录结论。"""
    from notices.delivery import NotUnknown, settle_unknown

    if outcome not in ("delivered", "failed"):
        fail("--outcome 只能是 delivered 或 failed")
    try:
        settle_unknown(delivery_id, outcome, by)
    except NotUnknown as exc:
        fail(str(exc))
    typer.echo(f"{delivery_id}\t{outcome}")


@notices_app.command("escalate")
def notices_escalate(profile: ProfileOption = None) -> None:
    """立即执行一次确认与升级检查（通常由 notice-watch 部署每分钟执行）。"""
    from notices.escalation import run_escalations

    for action in run_escalations(load_profile(_profile_file(profile))):
        typer.echo(json.dumps(action.__dict__, ensure_ascii=False))


@notices_app.command("serve-acks")
def notices_serve_acks(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口（与机构配置 public_base_url 一致）")] = 4201,
    profile: ProfileOption = None,
) -> None:
    """只运行确认链接端点（regflows up 已包含）。"""
    import uvicorn

    from notices.ack_server import create_app

    try:
        public = str(load_profile(_profile_file(profile)).public_base_url)  # a browser's POST must come from there
    except ProfileError as exc:
        fail(str(exc))
    # uvicorn at "warning" says nothing once it listens: the person starting it is told here
    # (a newcomer's walkthrough could not tell it was up without /health)
    typer.echo(f"regflows 端点：监听 {host}:{port}，对外地址 {public}（Ctrl+C 停止）")
    if not config.ingest_token():
        typer.echo("警告：未配置 REGFLOWS_INGEST_TOKEN：POST /incidents 与 POST /uploads 将答 503，不接收事件与上传", err=True)
    uvicorn.run(create_app(endpoint_routes(), public), host=host, port=port, log_level="warning")


def main() -> None:
    """The console entry: the commands, and one Chinese line instead of a traceback for a store
    that was never migrated (any command that reads the store may meet it)."""
    try:
        app()
    except config.StoreNotReady as exc:
        typer.echo(f"错误：{exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
