"""Command line of the verification worklist: ``regflows self-inspection import FILE.xlsx`` and
``regflows self-inspection worklist RUN_ID --out FILE.xlsx`` (a fresh copy with the answers so far).

Mounted by the procedure's CLI (regflows/inspection/cli.py) on its Typer app, e.g.
``inspection_app.command("import")(import_command)`` and
``inspection_app.command("worklist")(export_command)``; ``worklist_app`` carries the same commands
for a composition that prefers ``add_typer``. Imports are lazy, as in every procedure's CLI:
regflows/procedures.py loads this module for every ``regflows`` command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from regflows.exit_codes import ExitCode

__all__ = ["export_command", "import_command", "worklist_app"]

worklist_app = typer.Typer(help="自查核实清单（PBOC-102 三（三））：导入填写后的清单。", no_args_is_help=True)


@worklist_app.callback()
def _group() -> None:
    """自查核实清单（PBOC-102 三（三））。"""


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


@worklist_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="填写后的核实清单（.xlsx，由 self-inspection run 导出）")],
    by: Annotated[str | None, typer.Option("--by", help="导入人（person_id）：核实人一栏为空的行以其为核实人（核实人须为该线索的负责人）")] = None,
) -> None:
    """校验并登记填写后的核实清单：有效行登记，错误行逐一列出（行号、列名、原因）。

    退出码：0 全部登记（或无变化）；6 部分行被拒绝（其余已登记）；2 文件无法使用（未登记任何结论）。
    """
    from regflows.inspection.models import InspectionInputError
    from regflows.inspection.worklist import import_worklist

    try:
        result = import_worklist(file, by)
    except InspectionInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    head, *refused = result.lines()
    typer.echo(head)
    for line in refused:
        typer.echo(line, err=True)
    if result.recorded:  # 违规/需整改 answers go onto the rectification register at once (issue 15, 5)
        _register(result.run_id)
    if result.partly_refused:
        typer.echo("部分行被拒绝（已登记的行不受影响）：请更正后重新导入同一份清单", err=True)
        raise typer.Exit(ExitCode.PARTIAL)


def _register(run_id: str) -> None:
    """Open the run's findings to rectify (regflows/inspection/register.py) and say what was opened
    and what could not be (the watch tries again every working day)."""
    from regflows.inspection.register import register_run
    from regflows.profile import ProfileError, load_profile, profile_path

    try:
        registered = register_run(run_id, load_profile(profile_path()))
    except ProfileError as exc:
        typer.echo(f"提示：未能读取机构配置（{exc}），需整改的结论将由每日核实进度检查登记整改", err=True)
        return
    if registered.opened:
        typer.echo(f"已登记整改问题 {len(registered.opened)} 个：{'、'.join(registered.opened)}")
    for problem in registered.problems:
        typer.echo(f"未能登记整改：{problem}", err=True)


def _names() -> dict[str, str]:
    """person_id → name from the profile in use, for the 负责人 column; none when it cannot be read
    (the ids are shown, which is still correct)."""
    from regflows.profile import ProfileError, load_profile, profile_path

    try:
        return {p.id: p.name for p in load_profile(profile_path()).people}
    except (ProfileError, OSError) as exc:
        typer.echo(f"提示：未能读取机构配置（{exc}），负责人一栏只显示 person_id", err=True)
        return {}


@worklist_app.command("worklist")
def export_command(
    run_id: Annotated[str, typer.Argument(help="自查运行编号（self-inspection run 的输出 summary.json 中的 run_id）")],
    out: Annotated[Path, typer.Option("--out", help="写出的核实清单（.xlsx）")],
) -> None:
    """重新导出某次自查运行的核实清单：填入目前已登记的结论，导出时间为现在。

    用于清单遗失，或某行因导出后已有新答复而被拒绝时，在新导出的清单上更正后再导入。
    """
    from regflows.inspection.models import InspectionInputError
    from regflows.inspection.worklist import export_run_worklist

    if out.suffix.lower() != ".xlsx":
        _fail(f"--out {out} 应以 .xlsx 结尾", ExitCode.USAGE)
    if out.is_dir():
        _fail(f"--out {out} 是目录，请给出文件名", ExitCode.USAGE)
    try:
        digest = export_run_worklist(out, run_id, owners=_names())
    except InspectionInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    except OSError as exc:
        _fail(f"无法写出 {out}（{exc.strerror or type(exc).__name__}）", ExitCode.USAGE)
    typer.echo(f"已导出自查运行 {run_id} 的核实清单：{out}（线索与环节的 SHA-256 {digest}，与该运行登记的一致）")
