"""``regflows incident``: grade an incident record and print its regulatory clock.

Mounted by ``regflows/cli.py`` as ``app.add_typer(incident_app, name="incident")``. More
commands (``declare``, ``fulfil``) are added to :data:`incident_app` by their own modules; the
helpers here (:func:`read_record`, :func:`read_profile`, :func:`parse_instant`, :func:`fail`,
:func:`emit_json`) are what they share, so every command reports a bad record the same way.

Contract (issue 6): JSON on stdout; a bad record, profile or option gets a message naming the
field on stderr and exit code 2. ``clock`` still prints its JSON when a due day falls in a year
without calendar data, and then exits 1 with the calendar's message on stderr, so a script
cannot mistake an uncomputed deadline for a computed one.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from calendars.zone import now_local
from regflows.exit_codes import ExitCode
from regflows.incident.record import IncidentRecord, IncidentRecordError, check_times, load_record
from regflows.profile import Profile, ProfileError, load_profile

# The grading and clock rules are imported inside the commands that use them (lazy): their models
# add ~30 ms (measured) to every `regflows` command's start-up, this module being loaded by all of them.

incident_app = typer.Typer(help="安全事件：定级、监管时钟。", no_args_is_help=True, add_completion=False)

RecordFile = Annotated[Path, typer.Argument(help="事件记录 JSON 文件（UTF-8）", metavar="FILE.json")]


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def read_record(path: Path) -> "IncidentRecord":
    """The record of a JSON file, or exit 2 with every problem (file:line field（标题）: message)."""
    try:
        return load_record(path)
    except IncidentRecordError as exc:
        fail(str(exc))


def read_profile(path: Path | None) -> "Profile | None":
    """The profile named by ``--profile``, or None (every regime applies), or exit 2."""
    if path is None:
        return None
    try:
        return load_profile(path)
    except ProfileError as exc:
        fail(str(exc))


def parse_instant(text: str | None, option: str) -> dt.datetime:
    """An ISO 8601 instant with offset for an option, default the current time; naive is refused."""
    if text is None:
        return now_local()
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option}: 不是有效的 ISO 8601 时间 {text!r}，请写成 2025-10-01T09:30:00+08:00")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        fail(f"{option}: 时间 {text} 没有时区偏移，请写成 {text}+08:00")
    return value


@incident_app.command("grade")
def grade_command(
    file: RecordFile,
    now: Annotated[str | None, typer.Option("--now", help="按该时刻判断时间是否合理（ISO 8601 带偏移），默认当前时间")] = None,
) -> None:
    """按 NFRA 附件分级标准定级，打印级别、预警颜色、响应级别与理由（JSON）。"""
    from regflows.incident.grading import grade

    record = read_record(file)
    try:
        check_times(record, parse_instant(now, "--now"))
    except IncidentRecordError as exc:
        fail(str(exc))
    grading = grade(record)
    emit_json(
        {
            **grading.summary(),
            "grade_name": grading.grade_name,
            "warning_zh": grading.warning_zh,
            "lead": grading.lead,
            "end_approvals": list(grading.ending.approvals_required),
            "rules_version": grading.rules_version,
        }
    )


@incident_app.command("clock")
def clock_command(
    file: RecordFile,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="机构配置 YAML；不给时适用全部五个监管来源")
    ] = None,
    now: Annotated[str | None, typer.Option("--now", help="按该时刻计算状态（ISO 8601 带偏移），默认当前时间")] = None,
) -> None:
    """列出事件的各项报告义务：期限、依据条款与在 --now 时刻的状态（JSON）。"""
    from regflows.incident.clock import ClockError, obligations, to_raise
    from regflows.incident.closing import untyped_end
    from regflows.incident.grading import grade

    record = read_record(file)
    if record.response_ended_at is not None:  # as declare stores it: the end is the closing's last approval
        data, typed = untyped_end(record.model_dump(mode="json"))
        record = IncidentRecord.model_validate(data)
        typer.echo(f"注意：记录中的应急响应结束时间 {typed} 不予采用：它是结束应急响应的最后一项批准的时间"
                   "（CQ-PLAN 第四篇三），第五篇的 30 日自该时起算", err=True)
    prof = read_profile(profile)
    at = parse_instant(now, "--now")
    try:
        check_times(record, at, prof.settings if prof is not None else None)
    except IncidentRecordError as exc:
        fail(str(exc))
    grading = grade(record)
    try:
        items = obligations(record, grading, prof, at)
    except IncidentRecordError as exc:
        fail(str(exc))
    except ClockError as exc:
        fail(str(exc))
    emit_json({"grade": grading.grade, "obligations": [o.cli_row() for o in items]})
    missing = [o for o in to_raise(items) if o.state == "calendar_missing"]
    if missing:
        for o in missing:
            typer.echo(f"错误：{o.id} 的期限无法计算：{o.note}", err=True)
        raise typer.Exit(ExitCode.NO_CALENDAR)
    provisional = [o for o in items if o.provisional and o.state != "fulfilled"]
    if provisional:  # printed as computed; stderr says which may still move (exit codes: 4)
        for o in provisional:
            typer.echo(f"{o.id} 的期限 {o.due_label}：{o.note}", err=True)
        raise typer.Exit(ExitCode.PROVISIONAL)
