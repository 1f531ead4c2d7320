"""Command line of the report's sign-off: ``regflows self-inspection signoff RUN_ID --by PERSON``
and ``regflows self-inspection signoff-status RUN_ID`` (issue 15, items 6 and 7), mounted by
regflows/inspection/cli.py.

Submitting sends the first pending step's requests; the steps themselves are taken on the
people's signed acknowledgement pages and by ``self-inspection-watch``, never from here (the
command line cannot tell who typed it). Output is JSON on stdout; errors are one Chinese line on
stderr, with the exit codes of regflows/exit_codes.py. Loaded by every ``regflows`` command, so
the store and the sign-off load inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from regflows.exit_codes import ExitCode

__all__ = ["signoff_command", "signoff_status_command"]

ProfileOption = Annotated[Path | None, typer.Option("--profile", help="机构配置文件（默认 REGFLOWS_PROFILE 或示范配置）")]
UnitOption = Annotated[str | None, typer.Option("--unit", help="单独报送自查报告的单位（机构代码；默认总部的报告）")]


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _out(view: Any) -> dict[str, Any]:
    return {"quarter": view.quarter, "unit": view.unit, "run_id": view.run_id, "revision": view.revision, "stage": view.stage,
            "stage_title": view.stage_title, "content_sha256": view.content_sha256, "submitted_by": view.maker.person,
            "reviewed_by": view.reviewer.person if view.reviewer else None,
            "approved_by": view.approver.person if view.approver else None, "files": view.files, "final": view.final,
            "signed_off_on": view.signed_off_on, "requests": view.requests}


def signoff_command(
    run_id: Annotated[str, typer.Argument(help="自查运行编号（run 输出的 run_id）")],
    by: Annotated[str, typer.Option("--by", help="提交人（人员编号）；不能复核或签发本人提交的报告")],
    profile: ProfileOption = None,
    unit: UnitOption = None,
) -> None:
    """提交该次自查的报告（最新草稿或重新起草稿）与问题清单审批：合规部门复核、领导签发，三人不同；内容未变时保留已有审批。总部与单独报送的单位各自提交（--unit）。"""
    from calendars.official import CalendarError
    from regflows.inspection.signoff import SignoffCalendarError, SignoffError, SignoffInputError, submit
    from regflows.profile import ProfileError, load_profile, profile_path
    from regflows.store.db import migrate

    try:
        prof = load_profile(profile or profile_path())
    except ProfileError as exc:
        _fail(str(exc), ExitCode.USAGE)
    migrate()
    try:
        view, warnings = submit(prof, run_id, by, unit=unit)
    except SignoffInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    except (SignoffCalendarError, CalendarError) as exc:
        _fail(str(exc), ExitCode.NO_CALENDAR)
    except SignoffError as exc:
        _fail(str(exc), ExitCode.REFUSED)
    for w in warnings:
        typer.echo(f"提示：{w}", err=True)
    _echo(_out(view))


def signoff_status_command(
    run_id: Annotated[str, typer.Argument(help="自查运行编号（run 输出的 run_id）")],
    unit: UnitOption = None,
    profile: ProfileOption = None,
) -> None:
    """该次自查所在季度的报告审批状态（JSON）：版本、提交人、复核人、签发人、定稿文件与签发日。"""
    from regflows.inspection.models import InspectionInputError
    from regflows.inspection.signoff import SignoffInputError, status_of_run
    from regflows.inspection.units import report_for
    from regflows.profile import ProfileError, load_profile, profile_path
    from regflows.store.db import migrate

    try:
        code = report_for(load_profile(profile or profile_path()), unit).code
    except (ProfileError, InspectionInputError) as exc:
        _fail(str(exc), ExitCode.USAGE)
    migrate()
    try:
        view, quarter = status_of_run(run_id, unit=code)
    except SignoffInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    if view is None:
        _echo({"quarter": quarter.label, "unit": code, "run_id": run_id, "stage": None, "stage_title": "未提交签发"})
        return
    out = _out(view)
    if view.run_id != run_id:  # the quarter's sign-off is of another run: say so, never show it as this one's
        out["note"] = f"该季度提交签发的是运行 {view.run_id}，不是 {run_id}"
    _echo(out)
