"""Command line: ``regflows credit-stats run`` and ``regflows demo query-log`` (issue 7, "CLI contract").

Mounted by regflows/cli.py as ``app.add_typer(credit_app, name="credit-stats")`` and
``app.add_typer(demo_app, name="demo")``. great-expectations is imported only when ``run`` checks
the data, so ``--help`` stays fast.

This module is loaded by every ``regflows`` command (regflows/procedures.py mounts it), so the
commands import inside themselves (lazy), measured: the pipeline and the demo data (pandas,
pyarrow, python-docx, openpyxl: ~1.1 s), the sign-off and the deadline (the store and the notices
engine: ~1.3 s), rich's progress bar (~65 ms).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from calendars import zone
from regflows.credit.models import CreditInputError, Period
from regflows.exit_codes import ExitCode
from regflows.profile import ProfileError, load_profile, profile_path

if TYPE_CHECKING:
    from regflows.kit.progress import StepBar

credit_app = typer.Typer(help="征信信息安全情况统计表（PBOC-102 三（二）、附件2）：按月统计并生成报表。",
                         no_args_is_help=True)
demo_app = typer.Typer(help="演示数据：生成可复现的合成数据。", no_args_is_help=True)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)  # the same form as every other regflows command
    raise typer.Exit(code)


def _progress() -> AbstractContextManager[StepBar]:
    """A progress bar over the run's steps on stderr (the kit's step_progress)."""
    from regflows.kit.progress import step_progress
    from regflows.credit.pipeline import STEPS

    return step_progress("征信统计", STEPS)


@credit_app.command("run")
def run_command(
    logs: Annotated[Path, typer.Option("--logs", help="查询日志：.csv（UTF-8 或 GBK）、.parquet 或 .xlsx")],
    period: Annotated[str, typer.Option("--period", help="统计月份 YYYY-MM")],
    out: Annotated[Path, typer.Option("--out", help="输出目录：报表 .xlsx、summary.json、疑似问题查询清单")],
    users: Annotated[Path | None, typer.Option("--users", help="用户清单（可选）")] = None,
    profile: Annotated[Path | None, typer.Option("--profile", help="机构配置文件（默认 REGFLOWS_PROFILE）")] = None,
    preparer: Annotated[str | None, typer.Option("--preparer", help="填表人（人员编号，默认 settings.credit_preparer）")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="只生成该报送单位的统计表（机构代码；默认该月应报的全部统计表）")] = None,
) -> None:
    """读取查询日志，检查数据质量，统计异常查询、违规查询与事件，写出该月应报的每张统计表草稿，登记到业务库与审计账本（复核、签发见 credit-stats 部署）。"""
    from regflows.credit.owed import owe_month
    from regflows.credit.pipeline import QualityFailure, run
    from regflows.credit.signoff import SignoffError, preparers, record_run
    from regflows.credit.units import table_for, tables
    from regflows.store import migrate

    if out.exists() and not out.is_dir():  # checked first: not after a whole run (issue 13, 10)
        _fail(f"--out {out} 是一个文件，不是目录：请给出输出目录", ExitCode.USAGE)
    existing = next(p for p in (out.absolute(), *out.absolute().parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):  # said before the run, nothing created
        _fail(f"--out {out} 无法作为输出目录（{existing} 不是可写入的目录）", ExitCode.USAGE)
    try:
        month = Period.parse(period)
    except CreditInputError as exc:
        _fail(f"输入错误：{exc}", ExitCode.USAGE)
    if month.end > zone.now_local():  # a month not yet over has no table to file (PBOC-102 三（二）: 上月情况)
        _fail(f"--period {month.label} 尚未结束：统计表报送的是上月情况，请在该月结束后运行", ExitCode.USAGE)
    try:
        prof = load_profile(profile or profile_path())
        chosen = [table_for(prof, unit)] if unit is not None else tables(prof)  # an unknown unit: refused before reading
        # 填表人 of each table, as the flow finds them: a run nobody prepared cannot be signed off
        people = preparers(prof, chosen, preparer)
        names = {code: prof.person(person).name for code, person in people.items()}
        base = names.get(prof.head_office.code, "")
        parsed = Period.parse(period)
        migrate()
        owe_month(prof, parsed)  # owed whatever happens below, as in the flow (PBOC-102 三（二）)
        with _progress() as on_step:
            outcome = run(logs, parsed, prof, out, users=users, preparer=base, on_step=on_step, unit=unit,
                          preparers=names, progress=on_step.part)
        # recorded like a flow run: each file with its SHA-256, the draft revision to review and sign
        warnings = record_run(prof, outcome, people)
    except (ProfileError, SignoffError) as exc:
        _fail(str(exc), ExitCode.USAGE)
        return
    except CreditInputError as exc:
        _fail(f"输入错误：{exc}", ExitCode.USAGE)
        return
    except QualityFailure as exc:
        _fail(f"数据质量检查未通过，未生成报表：\n{exc}", ExitCode.CHECK_FAILED)
        return
    outcome.warnings += warnings
    for w in outcome.warnings:
        typer.echo(f"警告：{w}", err=True)
    typer.echo(f"{outcome.period.label} 统计完成，共 {len(outcome.tables)} 张统计表；统计表为草稿，须经复核人复核、签发人签发后方可报送")
    for t in outcome.tables:
        typer.echo(f"{t.table.filer_name}（{t.unit}）：报送截止 {t.due.isoformat()}（{t.due_basis}），{t.files['xlsx'].name}")
        for r in t.rows:
            c = r.counts
            typer.echo(f"  {r.region} {r.institution_name}：异常查询 {c['abnormal_query']}，违规查询 {c['unauthorized_query']}，"
                       f"非法提供 {c['illegal_provision']}，违规使用 {c['improper_use']}，信用报告泄漏 {c['report_leak']}")
    for name in ("flagged", "overview"):
        typer.echo(f"  {name}: {outcome.files[name]}")
    undated = [t for t in outcome.tables if t.calendar_missing]
    if undated:  # published (the counts do not depend on the date); the deadline is not known yet
        for t in undated:
            typer.echo(f"错误：{t.table.filer_name}（{t.unit}）的报送截止日无法确定：{t.due_basis}。"
                       "已登记为待定期限并提醒；请导入该年度国务院节假日安排通知（regflows calendar import-notice）", err=True)
        raise typer.Exit(ExitCode.NO_CALENDAR)


@demo_app.command("query-log")
def demo_query_log(
    rows: Annotated[int, typer.Option("--rows", min=0, help="统计期间内的查询条数")],
    period: Annotated[str, typer.Option("--period", help="月份 YYYY-MM")],
    out: Annotated[Path, typer.Option("--out", help="输出文件：.parquet、.csv 或 .xlsx")],
    seed: Annotated[int, typer.Option("--seed", help="随机种子：同一种子生成同一份数据")] = 0,
) -> None:
    """生成合成查询日志（已知比例的各类异常），用于演示与性能测试。"""
    from regflows.credit.demo import generate, write

    try:
        demo = generate(rows, seed, Period.parse(period))
        write(demo, out)
    except (CreditInputError, ValueError) as exc:
        _fail(str(exc), ExitCode.USAGE)
        return
    typer.echo(f"{out}：{len(demo.frame)} 行（含统计期前的历史查询）")
    for rule, n in demo.expected.items():
        typer.echo(f"  {rule}: {n}")


@credit_app.command("submit")
def submit(
    period: Annotated[str, typer.Argument(help="统计月份 YYYY-MM")],
    evidence: Annotated[str, typer.Option(help="证据：报送方式与对象（如 经征信管理系统报送人民银行重庆营管部）")],
    by: Annotated[str, typer.Option(help="报送人（人员编号）")],
    reference: Annotated[str | None, typer.Option(help="回执或文号")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="证据文件，如报送回执（记录其 SHA-256 与大小）")] = None,
    profile: Annotated[Path | None, typer.Option(help="机构配置文件（默认 REGFLOWS_PROFILE 或示范配置）")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="报送单位（机构代码；默认总行）")] = None,
    correction: Annotated[bool, typer.Option("--correction", help="报送的是更正后的统计表（补报报送后才发现的事件）")] = False,
) -> None:
    """标记该月统计表已报送（附证据）：停止提醒，写入审计账本；已签发的统计表须计入其应计的全部事件。"""
    from regflows.credit.deadline import submit as mark_submitted
    from regflows.credit.units import table_for
    from regflows.kit.obligations import Refused

    try:
        prof = load_profile(profile or profile_path())
        label = table_for(prof, unit).key(Period.parse(period))
        people = prof.person_ids
        row = mark_submitted(label, evidence, by, reference, file=file, people=people, profile=prof, correction=correction,
                             field_names={"evidence": "--evidence", "by": "--by", "file": "--file"})
    except Refused as exc:  # not signed, already submitted, an event left out: a rule says no
        _fail(str(exc), ExitCode.REFUSED)
    except (LookupError, ValueError, ProfileError) as exc:
        _fail(str(exc), ExitCode.USAGE)
    recorded = row.evidence["history"][-1]
    typer.echo(json.dumps({"period": Period.parse(period).label, "unit": unit or prof.head_office.code,
                           **({"correction": True} if correction else {}), "submitted_at": row.fulfilled_at.isoformat(), "by": by,
                           **({"file_sha256": recorded["file"]["sha256"]} if "file" in recorded else {})}, ensure_ascii=False))


@credit_app.command("status")
def status(period: Annotated[str, typer.Argument(help="统计月份 YYYY-MM")],
           unit: Annotated[str | None, typer.Option("--unit", help="报送单位（机构代码；默认总行）")] = None,
           profile: Annotated[Path | None, typer.Option(help="机构配置文件（默认 REGFLOWS_PROFILE 或示范配置）")] = None) -> None:
    """该月统计表的填表、复核、签发与报送状态（JSON）。"""
    from regflows.credit.signoff import load
    from regflows.credit.units import table_for

    try:
        prof = load_profile(profile or profile_path())
        table = table_for(prof, unit)
        label = table.key(Period.parse(period))
        state = load(label)
    except (CreditInputError, LookupError, ProfileError) as exc:
        _fail(str(exc), ExitCode.USAGE)
        return
    if state is None:
        _fail(f"{label} 没有签核记录", ExitCode.USAGE)
        return
    typer.echo(json.dumps({**state.to_dict(), "unit": table.unit.code, "stage_title": state.stage_title},
                          ensure_ascii=False, indent=2))
