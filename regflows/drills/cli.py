"""Command line: ``regflows drill owed``, ``fulfil``, ``plan``, ``submit`` and ``plan-status`` (issue 17, "CLI contract").

Mounted by regflows/cli.py through regflows/procedures.py as the ``drill`` sub-app. Loaded by
every ``regflows`` command, so the commands import the store inside themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any, NoReturn

import typer

from calendars.official import CalendarError
from regflows.exit_codes import ExitCode
from regflows.profile import ProfileError, load_profile, profile_path

__all__ = ["drill_app"]

drill_app = typer.Typer(
    help="应急演练（NFRA 第三十、四十四、五十七、六十条；TENPAY 第十五、十六条；CUSTINFO 5.3、8.1；CQ-PLAN 第六篇二、第八章一）。",
    no_args_is_help=True,
)

ProfileOption = Annotated[Path | None, typer.Option("--profile", help="机构配置文件（默认 REGFLOWS_PROFILE 或示范配置）")]
#: The kit's field names as this command line spells them.
_OPTIONS = {"evidence": "--evidence", "by": "--by", "file": "--file", "reference": "--reference", "at": "--at"}
_STATES = {"done": "已完成", "open": "待完成", "missing": "期满未完成", "waived": "已豁免", "withdrawn": "已撤销"}


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def _profile(path: Path | None) -> Any:
    try:
        return load_profile(path or profile_path())
    except ProfileError as exc:
        _fail(str(exc), ExitCode.USAGE)


def _recorded(call: Callable[[], Any]) -> Any:
    """A fulfilment through the kit, its refusals as exit codes: a rule's refusal 5, bad input 2."""
    from regflows.drills.owed import DrillInputError
    from regflows.kit.obligations import ObligationNotFound, Refused

    try:
        return call()
    except Refused as exc:
        _fail(str(exc), ExitCode.REFUSED)
    except (DrillInputError, ObligationNotFound, ValueError) as exc:
        _fail(str(exc), ExitCode.USAGE)


@drill_app.command("owed")
def owed_command(
    year: Annotated[int | None, typer.Option("--year", help="年度（默认今年，北京时间）")] = None,
    profile: ProfileOption = None,
) -> None:
    """列出该年度按本机构监管来源应开展的演练与应急预案评估：已完成、待完成、期满未完成（JSON；摘要写到标准错误）。"""
    from calendars.zone import SHANGHAI
    from regflows.drills.owed import status

    prof = _profile(profile)
    now = dt.datetime.now(SHANGHAI)
    rows = status(prof, year or now.year, now)
    typer.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
    for r in rows:
        held = f"（{r.held_at[:10]} {r.held_by}）" if r.held_at else ""
        typer.echo(f"{r.period}\t{r.title}\t{_STATES[r.state]}{held}\t期限 {r.due}\t{r.clause}", err=True)
    if not rows:
        typer.echo("本机构配置的监管来源不要求开展演练", err=True)


@drill_app.command("fulfil")
def fulfil_command(
    kind: Annotated[str, typer.Argument(help="演练类型：incident、disaster_recovery、supplier、cii_real、attack_defence、plan_review")],
    period: Annotated[str, typer.Argument(help="期间：YYYY、YYYYH1/H2 或 YYYYQ1-Q4（见 regflows drill owed）")],
    evidence: Annotated[str, typer.Option("--evidence", help="举行情况：时间、范围、参加单位（含供应商）、结论")],
    by: Annotated[str, typer.Option("--by", help="登记人（人员编号）")],
    file: Annotated[Path | None, typer.Option("--file", help="证据文件，如演练报告、评估记录、报批文件")] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="文号或编号")] = None,
    at: Annotated[str | None, typer.Option("--at", help="举行时间，带时区，如 2026-09-15T10:00+08:00（默认现在）")] = None,
    profile: ProfileOption = None,
) -> None:
    """登记某期演练（或应急预案评估）已举行，附证据：停止提醒，写入审计账本。在 regflows 之外举行的演练
    （灾难恢复、关键信息基础设施实战演练、攻防演习、预案评估）以此登记。"""
    from regflows.drills.owed import record_held

    prof = _profile(profile)
    try:
        when = dt.datetime.fromisoformat(at) if at else None
    except ValueError:
        _fail(f"--at 不是日期时间：{at!r}（如 2026-09-15T10:00+08:00）", ExitCode.USAGE)
    row = _recorded(
        lambda: record_held(
            prof,
            kind,
            period,
            evidence=evidence,
            by=by,
            reference=reference,
            file=file,
            at=when,
            people=prof.person_ids,
            field_names=_OPTIONS,
        )
    )
    typer.echo(
        json.dumps(
            {
                "kind": row.code,
                "period": (row.detail or {}).get("period"),
                "title": row.title,
                "held_at": row.fulfilled_at.isoformat() if row.fulfilled_at else None,
                "by": row.fulfilled_by,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    typer.echo(f"已登记：{row.title}", err=True)


def _day(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        _fail(f"{option} 不是日期：{text!r}（如 2026-09-15）", ExitCode.USAGE)


@drill_app.command("plan")
def plan_command(
    year: Annotated[int, typer.Option("--year", help="年度")],
    out: Annotated[Path, typer.Option("--out", help="输出目录：写出 plan.yaml 与方案公文 .docx")],
    kind: Annotated[str, typer.Option("--kind", help="演练类型：incident 或 supplier（由 regflows 组织运行的类型）")] = "incident",
    on: Annotated[str | None, typer.Option("--on", help="演练日期 YYYY-MM-DD，须为工作日（默认演练计划月份的第一个工作日）")] = None,
    event: Annotated[
        str | None, typer.Option("--event", help="演练事件：denial_of_service、malicious_code、data_leak、supplier_outage")
    ] = None,
    profile: ProfileOption = None,
) -> None:
    """按本机构配置与所选项写出演练方案（TENPAY 第十六条：演练事件、组织、环境、背景、溯源、防护措施；参演人员含供应商；
    注入时间线）：plan.yaml 与方案公文 .docx，一并写出或都不写出。修改 plan.yaml 后以 regflows drill submit 提交审批。"""
    from regflows.drills.owed import DrillInputError
    from regflows.drills.plan import check_plan, make_plan, write_plan
    from regflows.kit.publish import publishing

    prof = _profile(profile)
    try:
        plan = make_plan(prof, year, kind, _day(on, "--on"), event)
        warnings = check_plan(plan, prof)
        with publishing(out) as stage:
            written = write_plan(plan, prof, stage.path)
    except DrillInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    except CalendarError as exc:
        _fail(str(exc), ExitCode.NO_CALENDAR)
    files = {key: str(out / path.name) for key, path in written.items()}
    typer.echo(json.dumps({"plan_id": plan.plan_id, "on": plan.on.isoformat(), "files": files}, ensure_ascii=False, indent=2))
    for line in warnings:
        typer.echo(f"注意：{line}", err=True)
    typer.echo(
        f"已写出演练方案 {plan.plan_id}：{files['plan']}；修改后请以 regflows drill submit {files['plan']} --by 人员 提交审批", err=True
    )


@drill_app.command("submit")
def submit_command(
    plan: Annotated[Path, typer.Argument(help="plan.yaml")],
    by: Annotated[str, typer.Option("--by", help="提交人（人员编号）")],
    profile: ProfileOption = None,
) -> None:
    """提交演练方案审批：先由组织演练的角色审核，再由批准角色批准（提交人、审核人、批准人须为不同人员），
    审批绑定 plan.yaml 的 SHA-256；方案改动后须重新审批。"""
    from regflows.drills.approval import submit
    from regflows.drills.owed import DrillInputError
    from regflows.kit.approvals import NobodyEligible
    from regflows.kit.errors import RuleFileError
    from regflows.kit.obligations import Refused

    prof = _profile(profile)
    try:
        approval = submit(prof, plan, by, people=prof.person_ids)
    except (RuleFileError, DrillInputError, ValueError) as exc:
        _fail(str(exc), ExitCode.USAGE)
    except (Refused, NobodyEligible) as exc:
        _fail(str(exc), ExitCode.REFUSED)
    typer.echo(
        json.dumps(
            {
                "subject": approval.subject,
                "revision": approval.revision,
                "stage": approval.stage,
                "content_sha256": approval.content_sha256,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    typer.echo(f"已提交审批（第 {approval.revision} 版），当前：{approval.stage}", err=True)


@drill_app.command("plan-status")
def plan_status_command(
    plan: Annotated[Path, typer.Argument(help="plan.yaml")],
    profile: ProfileOption = None,
) -> None:
    """演练方案的审批状态：not_submitted、review、approve、approved、changed（批准后被修改）。"""
    from regflows.drills.approval import plan_status
    from regflows.drills.plan import load_plan
    from regflows.kit.errors import RuleFileError

    _profile(profile)
    try:
        status = plan_status(load_plan(plan), plan)
    except RuleFileError as exc:
        _fail(str(exc), ExitCode.USAGE)
    typer.echo(json.dumps(asdict(status), ensure_ascii=False, indent=2))


@drill_app.command("run")
def run_command(
    plan: Annotated[Path, typer.Argument(help="plan.yaml（经 regflows drill submit 批准）")],
    speed: Annotated[float, typer.Option("--speed", help="注入时间线加速倍数（只压缩时间线，不压缩监管时限、升级等待与测量）")] = 1.0,
    rehearsal: Annotated[bool, typer.Option("--rehearsal", help="运行未经批准的方案（仅供测试），运行标注为预演")] = False,
    wait: Annotated[float, typer.Option("--wait", help="等待演练事件登记的最长秒数")] = 120.0,
    profile: ProfileOption = None,
) -> None:
    """在 Prefect 服务器上启动 drill-run 部署，打印演练编号（即演练事件的事件编号）。演练随后按时间线在服务器上继续运行。"""
    from regflows.drills.approval import require_approved
    from regflows.drills.owed import DrillInputError
    from regflows.kit.errors import RuleFileError
    from regflows.kit.obligations import Refused

    prof = _profile(profile)
    if not math.isfinite(speed) or speed <= 0:
        _fail(f"--speed 须为有限的正数（如 1、10、60），而不是 {speed:g}", ExitCode.USAGE)
    try:
        checked, is_rehearsal = require_approved(plan, prof, rehearsal=rehearsal)  # refused here before anything starts
    except (RuleFileError, DrillInputError) as exc:
        _fail(str(exc), ExitCode.USAGE)
    except Refused as exc:
        _fail(str(exc), ExitCode.REFUSED)
    from regflows.drills.launch import LaunchError, start_run

    try:
        drill_id = start_run(plan, speed=speed, rehearsal=rehearsal, wait=wait)
    except LaunchError as exc:
        _fail(str(exc), exc.code)
    typer.echo(drill_id)
    typer.echo(f"演练 {drill_id} 已开始（方案 {checked.plan_id}{'，预演' if is_rehearsal else ''}，时间线 {speed:g} 倍速）", err=True)


@drill_app.command("report")
def report_command(
    drill_id: Annotated[str, typer.Argument(help="演练编号（regflows drill run 打印的事件编号）")],
    out: Annotated[Path, typer.Option("--out", help="输出目录：写出演练报告 .docx 与 measurements.json")],
    by: Annotated[str | None, typer.Option("--by", help="登记人：以本报告为证据登记该期应开展的演练已举行（预演不登记）")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="整改责任人：每个发现的问题登记为整改事项（预演不登记）")] = None,
    profile: ProfileOption = None,
) -> None:
    """按记录测量演练（确认用时、升级、义务、渠道故障与备用渠道、注入的预期与实际），写出演练报告与 measurements.json（一并写出或都不写出）；
    给出 --by 时以报告为证据登记该期应开展的演练已举行。"""
    from regflows.drills.measure import measure, read_records
    from regflows.drills.report import CYBERSPACE_REMINDER, contract, write_report
    from regflows.kit.publish import publishing

    prof = _profile(profile)
    roles = {p.id: [key for key, role in prof.roles.items() if p.id in role.members] for p in prof.people}
    try:
        records = read_records(drill_id, roles)
    except LookupError as exc:
        _fail(str(exc), ExitCode.USAGE)
    measured = measure(records, dt.datetime.now(dt.UTC))
    with publishing(out) as stage:
        written = write_report(measured, records.started, prof, stage.path, dt.datetime.now(dt.UTC))
    typer.echo(
        json.dumps(
            {**{k: str(out / p.name) for k, p in written.items()}, "gaps": len(contract(measured)["gaps"])}, ensure_ascii=False, indent=2
        )
    )
    if prof.regime_on("CQ-PLAN"):
        typer.echo(CYBERSPACE_REMINDER, err=True)
    if owner is not None:
        _open_gaps(prof, records.started, measured, owner)
    if by is not None:
        _held_by_report(prof, records.started, measured["drill_id"], out / written["report"].name, by)


def _open_gaps(prof: Any, started: dict[str, Any], measured: dict[str, Any], owner: str) -> None:
    """Each gap of the report a rectification item on the shared register (regflows/drills/gaps.py)."""
    from calendars.zone import SHANGHAI
    from regflows.drills.gaps import open_gaps
    from regflows.drills.measure import gaps
    from regflows.drills.owed import DrillInputError

    if started.get("rehearsal"):
        _fail(f"演练 {measured['drill_id']} 是预演（未经批准的方案），其问题不登记为整改事项", ExitCode.REFUSED)
    try:
        opened = open_gaps(prof, measured["drill_id"], gaps(measured), owner=owner, opened_on=dt.datetime.now(SHANGHAI).date())
    except DrillInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    except CalendarError as exc:
        _fail(str(exc), ExitCode.NO_CALENDAR)
    typer.echo(f"已登记整改事项 {len(opened)} 个" + (f"：{'、'.join(opened)}" if opened else "（均已登记）"), err=True)


@drill_app.command("gaps")
def gaps_command(
    drill_id: Annotated[str | None, typer.Argument(help="演练编号（留空为全部）")] = None,
) -> None:
    """列出演练发现问题的整改事项：责任人、期限、状态（JSON）。"""
    from regflows.drills.gaps import list_gaps

    typer.echo(json.dumps(list_gaps(drill_id), ensure_ascii=False, indent=2))


@drill_app.command("close")
def close_command(
    gap: Annotated[str, typer.Argument(help="整改事项编号（以 drill-gap: 开头，见 regflows drill gaps）")],
    evidence: Annotated[str, typer.Option("--evidence", help="整改情况")],
    by: Annotated[str, typer.Option("--by", help="登记人（人员编号）")],
    rechecked_by: Annotated[str, typer.Option("--rechecked-by", help="复查人（人员编号，不能是整改责任人本人）")],
    file: Annotated[Path | None, typer.Option("--file", help="证据文件")] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="文号或编号")] = None,
    profile: ProfileOption = None,
) -> None:
    """整改完成、经他人复查后销号（附证据）：停止提醒，写入审计账本。"""
    from regflows.drills.gaps import close_gap

    prof = _profile(profile)
    row = _recorded(
        lambda: close_gap(
            gap,
            evidence=evidence,
            by=by,
            rechecked_by=rechecked_by,
            file=file,
            reference=reference,
            people=prof.person_ids,
            field_names=_OPTIONS,
        )
    )
    typer.echo(json.dumps({"id": row.subject, "state": row.state, "closed_by": row.fulfilled_by}, ensure_ascii=False, indent=2))


def _held_by_report(prof: Any, started: dict[str, Any], drill_id: str, report: Path, by: str) -> None:
    """The owed drill of the drill's period recorded as held, with the report as its evidence (the
    kit's fulfil); a rehearsal never counts."""
    from calendars.zone import SHANGHAI
    from regflows.drills.owed import DrillInputError, period_of, record_held
    from regflows.kit.obligations import Refused

    if started.get("rehearsal"):
        _fail(f"演练 {drill_id} 是预演（未经批准的方案），不能登记为应开展的演练已举行", ExitCode.REFUSED)
    held = dt.datetime.fromisoformat(str(started["started"]))
    kind = str(started.get("kind", "incident"))
    try:
        period = period_of(prof, kind, held.astimezone(SHANGHAI).date())
        row = record_held(
            prof,
            kind,
            period.label,
            evidence=f"演练 {drill_id}（方案 {started.get('plan_id')}）的演练报告",
            by=by,
            file=report,
            reference=drill_id,
            at=held,
            people=prof.person_ids,
            field_names={"by": "--by", "file": "报告文件"},
        )
    except Refused as exc:
        _fail(str(exc), ExitCode.REFUSED)
    except (DrillInputError, ValueError) as exc:
        _fail(str(exc), ExitCode.USAGE)
    typer.echo(f"已登记：{row.title}（证据：{report.name}）", err=True)
