"""Command line: ``regflows self-inspection run``, ``import``, ``worklist``, ``redraft``, the
rectification register's ``finding`` and ``submit`` (regflows/inspection/finding_cli.py), and the
report's ``signoff`` and ``signoff-status`` (regflows/inspection/signoff_cli.py) (issue 15,
"CLI contract").

Mounted by regflows/procedures.py as the ``self-inspection`` sub-app. Loaded by every
``regflows`` command, so the commands import inside themselves (pandas, python-docx, openpyxl,
the store: about a second), as the credit statistics' CLI does. The query logs are read and
flagged by the procedure that registered them in the kit (regflows/kit/querylogs.py); the
composition root imports it, never this module.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import json
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from regflows.exit_codes import ExitCode
from regflows.inspection.finding_cli import finding_app, spot_check_app, submit
from regflows.inspection.signoff_cli import signoff_command, signoff_status_command
from regflows.inspection.worklist_cli import export_command, import_command

__all__ = ["inspection_app"]

inspection_app = typer.Typer(help="季度征信合规与信息安全自查自纠（PBOC-102 三（三）；NFRA 23；CUSTINFO 10.2）。",
                             no_args_is_help=True)
inspection_app.command("import")(import_command)
inspection_app.command("worklist")(export_command)
inspection_app.add_typer(finding_app, name="finding")
inspection_app.add_typer(spot_check_app, name="spot-check")
inspection_app.command("submit")(submit)
inspection_app.command("signoff")(signoff_command)
inspection_app.command("signoff-status")(signoff_status_command)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def _progress() -> AbstractContextManager[Callable[[str], None]]:
    """A progress bar over the run's steps on stderr (the kit's step_progress)."""
    from regflows.kit.progress import step_progress
    from regflows.inspection.pipeline import STEPS

    return step_progress("季度自查", STEPS)


def _register(run_id: str, prof: Any) -> dict[str, list[str]]:
    """The run's findings onto the rectification register, as the flow does (register.py
    register_run; issue 15, item 5): what was opened, already open, withdrawn (a re-run no longer
    finds it) and what could not be opened, on stderr in Chinese and in the JSON. A store error
    is raised as such: the run itself is recorded and the daily watch registers it again."""
    from regflows.inspection.register import register_run

    result = register_run(run_id, prof)
    if result.opened:
        typer.echo(f"已登记整改问题 {len(result.opened)} 个：{'、'.join(result.opened)}", err=True)
    if result.existing:
        typer.echo(f"已在整改台账中的问题 {len(result.existing)} 个", err=True)
    if result.withdrawn:
        typer.echo(f"复查运行未再发现、已撤销的整改问题 {len(result.withdrawn)} 个：{'、'.join(result.withdrawn)}", err=True)
    if result.reinstated:
        typer.echo(f"曾因复查运行未再发现而撤销、本次再次发现的整改问题 {len(result.reinstated)} 个：{'、'.join(result.reinstated)}", err=True)
    for problem in result.problems:
        typer.echo(f"警告：未能登记整改：{problem}", err=True)
    return {"opened": result.opened, "existing": result.existing, "withdrawn": result.withdrawn,
            "reinstated": result.reinstated, "problems": result.problems}


@inspection_app.command("run")
def run_command(
    quarter: Annotated[str, typer.Option("--quarter", help="自查季度 YYYYQn，如 2025Q3")],
    logs: Annotated[list[Path], typer.Option("--logs", help="查询日志（可多次给出；季度前的记录作为用户检查的历史）")],
    users: Annotated[Path, typer.Option("--users", help="征信系统用户清单（CSV，UTF-8 或 GBK）")],
    out: Annotated[Path, typer.Option("--out", help="输出目录：核实清单、抽样清单、问题清单、报告草稿、summary.json")],
    vulns: Annotated[Path | None, typer.Option("--vulns", help="漏洞台账（CSV：id, severity, found, due, fixed）")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="抽样随机种子（不给时随机生成并记录）")] = None,
    profile: Annotated[Path | None, typer.Option("--profile", help="机构配置文件（默认 REGFLOWS_PROFILE）")] = None,
) -> None:
    """读取查询日志与用户清单，检查用户、标记线索并抽样，写出该季度的核实清单、抽样清单、问题清单、自查报告草稿与 summary.json，并登记到业务库。"""
    from regflows.inspection.models import InspectionInputError, Quarter
    from regflows.kit.querylogs import NoQueryLogSource
    from regflows.profile import ProfileError, load_profile, profile_path

    if out.exists() and not out.is_dir():
        _fail(f"--out {out} 是一个文件，不是目录：请给出输出目录", ExitCode.USAGE)
    existing = next(p for p in (out.absolute(), *out.absolute().parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        _fail(f"--out {out} 无法作为输出目录（{existing} 不是可写入的目录）", ExitCode.USAGE)
    try:
        parsed = Quarter.parse(quarter)
        prof = load_profile(profile or profile_path())
    except (InspectionInputError, ProfileError) as exc:
        _fail(f"输入错误：{exc}", ExitCode.USAGE)
    from regflows.inspection.pipeline import run

    try:
        with _progress() as on_step:
            outcome = run(parsed, logs, users, out, prof, vulns=vulns, seed=seed, on_step=on_step)
    except InspectionInputError as exc:
        _fail(f"输入错误：{exc}", ExitCode.USAGE)
    except NoQueryLogSource as exc:
        _fail(str(exc), ExitCode.USAGE)
    for w in outcome.warnings:
        typer.echo(f"警告：{w}", err=True)
    registered = _register(outcome.run_id, prof)
    typer.echo(json.dumps({**outcome.summary, "run_id": outcome.run_id,
                           "files": {k: str(p) for k, p in outcome.files.items()}, "rectification": registered},
                          ensure_ascii=False, indent=2))
    if outcome.calendar_missing:  # published; the report's due day waits for the year's notice
        _fail("自查报告截止日无法确定：请导入该年度国务院节假日安排通知（regflows calendar import-notice）",
              ExitCode.NO_CALENDAR)


@inspection_app.command("redraft")
def redraft_command(
    run_id: Annotated[str, typer.Argument(help="自查运行编号（run 输出的 run_id，亦见核实清单的隐藏工作表）")],
    out: Annotated[Path, typer.Option("--out", help="报告草稿 .docx 的路径")],
    unit: Annotated[str | None, typer.Option("--unit", help="单独报送自查报告的单位（机构代码；默认总部的报告）")] = None,
) -> None:
    """按负责人至今登记的核实结论重新起草该次自查的报告（第四部分按环节列出问题），其余内容与该次运行一致；登记其 SHA-256。总部与单独报送的单位各有报告（--unit）。"""
    from regflows.inspection.models import InspectionInputError
    from regflows.inspection.pipeline import redraft

    if out.suffix.lower() != ".docx":
        _fail(f"--out {out} 须为 .docx 文件", ExitCode.USAGE)
    if out.exists() and out.is_dir():
        _fail(f"--out {out} 是一个目录：请给出 .docx 文件路径", ExitCode.USAGE)
    try:
        written = redraft(run_id, out, unit=unit)
    except InspectionInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    except OSError as exc:
        _fail(f"无法写出 {out}（{exc.strerror or exc}）", ExitCode.USAGE)
    typer.echo(json.dumps({"run_id": run_id, **({"unit": unit} if unit else {}), "report": str(written)}, ensure_ascii=False))
