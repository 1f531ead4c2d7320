"""Command line: ``regflows drill owed`` and ``regflows drill fulfil`` (issue 17, "CLI contract").

Mounted by regflows/cli.py through regflows/procedures.py as the ``drill`` sub-app. Loaded by
every ``regflows`` command, so the commands import the store inside themselves.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

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
    from regflows.drills.owed import DrillInputError, record_held
    from regflows.kit.obligations import ObligationNotFound, Refused

    prof = _profile(profile)
    try:
        when = dt.datetime.fromisoformat(at) if at else None
    except ValueError:
        _fail(f"--at 不是日期时间：{at!r}（如 2026-09-15T10:00+08:00）", ExitCode.USAGE)
    try:
        row = record_held(
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
    except Refused as exc:
        _fail(str(exc), ExitCode.REFUSED)
    except (DrillInputError, ObligationNotFound, ValueError) as exc:
        _fail(str(exc), ExitCode.USAGE)
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
