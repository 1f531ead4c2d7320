"""Command line of the verification worklist: ``regflows self-inspection import FILE.xlsx``.

Mounted by the procedure's CLI (regflows/inspection/cli.py) on its Typer app, e.g.
``inspection_app.command("import")(import_command)``; ``worklist_app`` carries the same commands
for a composition that prefers ``add_typer``. Imports are lazy, as in every procedure's CLI:
regflows/procedures.py loads this module for every ``regflows`` command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from regflows.exit_codes import ExitCode

__all__ = ["import_command", "worklist_app"]

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
    by: Annotated[str | None, typer.Option("--by", help="导入人（person_id）：核实人一栏为空的行以其为核实人")] = None,
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
    if result.partly_refused:
        typer.echo("部分行被拒绝（已登记的行不受影响）：请更正后重新导入同一份清单", err=True)
        raise typer.Exit(ExitCode.PARTIAL)
