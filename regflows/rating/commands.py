"""The rating year's commands (issue 16, items 5 and 6), added to ``regflows rating``:
``run`` (the report, score sheet and summary.json), ``signoff`` and ``signoff-status`` (the
kit's approvals), ``submit`` (the self-assessment sent, final copies only), ``feedback`` (the
day the PBoC's feedback arrived: the objection window's 7 working days) and ``objection`` (the
window closed). Imported by regflows/procedures.py, as the incident's commands are.

Output is JSON on stdout; errors one Chinese line on stderr with the exit codes of
regflows/exit_codes.py (2 usage, 3 calendar, 5 refused by a rule).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from regflows.exit_codes import ExitCode
from regflows.rating.cli import rating_app

__all__ = ["feedback_command", "objection_command", "run_command", "signoff_command", "signoff_status_command", "submit_command"]

ProfileOption = Annotated[Path | None, typer.Option("--profile", help="机构配置文件（默认 REGFLOWS_PROFILE 或示范配置）")]
T = TypeVar("T")
YearArgument = Annotated[int, typer.Argument(help="评级年度（如 2025）")]


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _profile(path: Path | None) -> Any:
    from regflows.profile import ProfileError, load_profile, profile_path
    from regflows.store.db import migrate

    try:
        loaded = load_profile(path or profile_path())
    except ProfileError as exc:
        _fail(str(exc), ExitCode.USAGE)
    migrate()
    return loaded


def _recorded(record: Callable[[], T]) -> T:
    """An obligation fulfilled through the kit: bad evidence, person or year exit 2; a rule's refusal exit 5."""
    from regflows.kit.evidence import EvidenceError
    from regflows.kit.obligations import ObligationNotFound, Refused
    from regflows.rating.schedule import RatingInputError

    try:
        return record()
    except (RatingInputError, EvidenceError, ObligationNotFound) as exc:
        _fail(str(exc), ExitCode.USAGE)
    except Refused as exc:
        _fail(str(exc), ExitCode.REFUSED)


@rating_app.command("run")
def run_command(
    year: Annotated[int, typer.Option("--year", help="评级年度（上一年度，如 2025）")],
    evidence: Annotated[Path, typer.Option("--evidence", help="该年度的自评证据文件（YAML）")],
    out: Annotated[Path, typer.Option("--out", help="输出目录")],
    last: Annotated[Path | None, typer.Option("--last", help="上一年度的自评证据文件（与上一年度比较）")] = None,
    profile: ProfileOption = None,
) -> None:
    """写出该年度的自评报告（.docx，草稿）、自评计分表（.xlsx）与 summary.json，全部写出或都不写出，登记 SHA-256。"""
    from regflows.kit.obligations import Refused
    from regflows.rating.schedule import RatingInputError
    from regflows.rating.pipeline import RatingRefused, run
    from regflows.rating.scored import comparison_lines
    from regflows.rating.model import load_model

    loaded = _profile(profile)
    try:
        outcome = run(year, evidence, out, loaded, last=last)
    except RatingRefused as exc:
        _fail(str(exc), ExitCode.REFUSED)
    except (RatingInputError, Refused) as exc:
        _fail(str(exc), ExitCode.USAGE)
    for w in outcome.warnings:
        typer.echo(f"提示：{w}", err=True)
    for line in comparison_lines(outcome.comparison, load_model()) if outcome.comparison else ():
        typer.echo(line, err=True)
    _echo({"year": year, "score": str(outcome.result.score), "grade": outcome.result.grade,
           "unconfirmed": list(outcome.result.unconfirmed), "unevaluated": list(outcome.result.unevaluated), "files": {k: str(p) for k, p in outcome.files.items()}})


def _signoff_out(view: Any) -> dict[str, Any]:
    return {"year": view.year, "revision": view.revision, "stage": view.stage, "stage_title": view.stage_title,
            "content_sha256": view.content_sha256, "submitted_by": view.maker.person,
            "reviewed_by": view.reviewer.person if view.reviewer else None, "approved_by": view.approver.person if view.approver else None,
            "files": view.files, "final": view.final, "signed_off_on": view.signed_off_on, "requests": view.requests}


@rating_app.command("signoff")
def signoff_command(
    year: YearArgument,
    by: Annotated[str, typer.Option("--by", help="提交人（人员编号）；不能复核或签发本人提交的自评报告")],
    profile: ProfileOption = None,
) -> None:
    """提交该年度最近一次自评运行的报告、计分表与 summary.json 审批：复核、签发，三人不同；有未确认的指标时拒绝。"""
    from regflows.kit.obligations import Refused
    from regflows.rating.signoff import SignoffError, SignoffInputError, submit

    loaded = _profile(profile)
    try:
        view, warnings = submit(loaded, year, by)
    except SignoffInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    except (SignoffError, Refused) as exc:  # Refused: the year's obligation refuses (第九条: a year not rated)
        _fail(str(exc), ExitCode.REFUSED)
    for w in warnings:
        typer.echo(f"提示：{w}", err=True)
    _echo(_signoff_out(view))


@rating_app.command("signoff-status")
def signoff_status_command(year: YearArgument) -> None:
    """该年度自评报告的审批状态（JSON）：版本、提交人、复核人、签发人、定稿文件与签发日。"""
    from regflows.rating.signoff import status
    from regflows.store.db import migrate

    migrate()
    view = status(year)
    _echo(_signoff_out(view) if view else {"year": year, "stage": None, "stage_title": "未提交签发"})


@rating_app.command("submit")
def submit_command(
    year: YearArgument,
    evidence: Annotated[str, typer.Option("--evidence", help="报送情况（如 经人民银行征信管理部门报送）")],
    by: Annotated[str, typer.Option("--by", help="报送人（人员编号）")],
    reference: Annotated[str | None, typer.Option("--reference", help="报送文号")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="报送凭证文件")] = None,
    profile: ProfileOption = None,
) -> None:
    """登记该年度自评结果及相关证明材料已报送人民银行（第十条（一））：仅限已签发定稿的文件。"""
    from regflows.rating.owed import submit

    loaded = _profile(profile)
    row, files = _recorded(lambda: submit(year, loaded, evidence=evidence, by=by, reference=reference, file=file))
    for f in files.values():
        typer.echo(f"已报送：{f['path']}（SHA-256 {f['sha256']}）", err=True)
    _echo({"year": year, "obligation": row.code, "fulfilled_by": row.fulfilled_by, "files": files})


@rating_app.command("feedback")
def feedback_command(
    year: Annotated[int, typer.Option("--year", help="评级年度（如 2025）")],
    received: Annotated[str, typer.Option("--received", help="收到人民银行考核评级反馈的日期（YYYY-MM-DD）")],
    by: Annotated[str, typer.Option("--by", help="登记人（人员编号）")],
    profile: ProfileOption = None,
) -> None:
    """登记收到考核评级结果反馈的日期：自次日起 7 个工作日内可提出书面申述（第十条（四）），逐工作日提醒，逾期上报。"""
    from calendars.official import CalendarError
    from regflows.kit.obligations import Refused
    from regflows.rating.owed import RatingInputError, record_feedback

    try:
        day = dt.date.fromisoformat(received)
    except ValueError:
        _fail(f"--received 应为 YYYY-MM-DD 日期，实为 {received!r}", ExitCode.USAGE)
    loaded = _profile(profile)
    try:
        row, created = record_feedback(year, day, by, loaded)
    except RatingInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    except CalendarError as exc:
        _fail(str(exc), ExitCode.NO_CALENDAR)
    except Refused as exc:
        _fail(str(exc), ExitCode.REFUSED)
    if not created:
        typer.echo("提示：该反馈日期已登记，未作改动", err=True)
    detail = row.detail or {}
    if detail.get("warning"):
        typer.echo(f"注意：{detail['warning']}", err=True)
    _echo({"year": year, "received": detail.get("received"), "objection_due": detail.get("due_label"), "basis": detail.get("basis")})


@rating_app.command("objection")
def objection_command(
    year: YearArgument,
    evidence: Annotated[str, typer.Option("--evidence", help="已提出书面申述（附证明材料），或经研究不提出申述的决定")],
    by: Annotated[str, typer.Option("--by", help="登记人（人员编号）")],
    reference: Annotated[str | None, typer.Option("--reference", help="申述文号")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="申述书或决定的文件")] = None,
    profile: ProfileOption = None,
) -> None:
    """结束该年度的申述期限：登记已提出书面申述或不申述的决定（第十条（四）），停止提醒。"""
    from regflows.rating.owed import close_objection

    loaded = _profile(profile)
    row = _recorded(lambda: close_objection(year, evidence=evidence, by=by, reference=reference, file=file, people=loaded.person_ids))
    _echo({"year": year, "obligation": row.code, "fulfilled_by": row.fulfilled_by})
