"""Command line of the rectification register: ``regflows self-inspection finding ...`` and
``regflows self-inspection submit`` (issue 15, item 5), mounted by regflows/inspection/cli.py.

Loaded by every ``regflows`` command,
so each command imports the store, the calendar and the document writer inside itself (lazy).
Output is JSON on stdout; errors are one Chinese line on stderr naming the option, with the exit
codes of regflows/exit_codes.py.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from regflows.exit_codes import ExitCode
from regflows.profile import ProfileError, load_profile, profile_path

__all__ = ["finding_app", "spot_check_app", "submit"]


#: The obligation codes the kit's refusals put in brackets (``义务“整改：…”（rectification）``): a
#: person reads the title, already Chinese, not the code (review of issue 15, 15).
_CODES = ("rectification_report", "rectification", "self_inspection_report")


def _fail(message: str, code: int) -> NoReturn:
    for internal in _CODES:
        message = message.replace(f"（{internal}）", "")
    typer.echo(f"错误：{message}", err=True)  # the same form as every other regflows command
    raise typer.Exit(code)


@contextlib.contextmanager
def _obligation_errors() -> Iterator[None]:
    """The kit's obligation errors as this command line's exits: a rule's refusal (a state, a
    precondition) 5; an unknown finding or bad input (a ValueError, the domain's included) 2."""
    from regflows.kit.obligations import ObligationNotFound, Refused

    try:
        yield
    except Refused as exc:
        _fail(str(exc), ExitCode.REFUSED)
    except (ObligationNotFound, ValueError) as exc:
        _fail(str(exc), ExitCode.USAGE)


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


# -- rectification (issue 15, item 5): `self-inspection finding ...` and `self-inspection submit` ---------------

finding_app = typer.Typer(help="问题整改台账：登记问题（人民银行检查反馈、业务部门抽查等）、查看、复查后销号。", no_args_is_help=True)

#: The kit's and the domain's field names as this command line spells them.
_OPTIONS = {"quarter": "--quarter", "source": "--source", "title": "--title", "clause": "--clause", "unit": "--unit",
            "owner": "--owner", "detail": "--detail", "feedback": "--feedback-date", "due": "--due", "area": "--area",
            "evidence": "--evidence", "by": "--by", "department": "--department", "checked_on": "--checked-on", "note": "--note", "file": "--file", "reference": "--reference", "rechecked_by": "--rechecked-by"}
QuarterOption = Annotated[str, typer.Option("--quarter", help="所属季度 YYYYQn，如 2026Q3")]
ProfileOption = Annotated[Path | None, typer.Option("--profile", help="机构配置文件（默认 REGFLOWS_PROFILE 或示范配置）")]


def _profile(path: Path | None) -> Any:
    try:
        return load_profile(path or profile_path())
    except ProfileError as exc:
        _fail(str(exc), ExitCode.USAGE)


def _day(text: str | None, option: str) -> Any:
    import datetime as dt

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        _fail(f"{option} 应写作 YYYY-MM-DD，实为 {text!r}", ExitCode.USAGE)


def _quarter(text: str) -> Any:
    from regflows.inspection.models import InspectionInputError, Quarter

    try:
        return Quarter.parse(text)
    except InspectionInputError as exc:
        _fail(f"--quarter：{exc}", ExitCode.USAGE)


@finding_app.command("add")
def finding_add(
    quarter: QuarterOption,
    source: Annotated[str, typer.Option("--source", help="问题来源：patrol（人民银行检查反馈）、spot_check（业务部门合规抽查）、check、worklist")],
    title: Annotated[str, typer.Option("--title", help="问题（抽查问题不含领域名称）")],
    unit: Annotated[str, typer.Option("--unit", help="责任单位或部门")],
    owner: Annotated[str, typer.Option("--owner", help="整改责任人（人员编号）")],
    feedback_date: Annotated[str, typer.Option("--feedback-date", help="反馈日期 YYYY-MM-DD（人民银行检查：接到整改反馈之日）")],
    clause: Annotated[str | None, typer.Option("--clause", help="依据条款，必填（抽查问题 spot_check 除外，默认 CUSTINFO 10.2），如 PBOC-102 三（三）")] = None,
    due: Annotated[str | None, typer.Option("--due", help="整改期限 YYYY-MM-DD（由整改责任人确定，须为法定工作日，节假日与周末不予接受；默认反馈次日起 15 个工作日）")] = None,
    detail: Annotated[str, typer.Option("--detail", help="问题描述")] = "",
    area: Annotated[str | None, typer.Option("--area", help="抽查领域（spot_check 必填）：收集告知、权限管理、销毁流程")] = None,
    notice: Annotated[Path | None, typer.Option("--notice", help="同时出具整改通知书 .docx 到该文件（记录其 SHA-256）")] = None,
    profile: ProfileOption = None,
) -> None:
    """登记一个待整改问题：写入整改与整改情况报告两项义务（期限按法定工作日计算），重复登记不改变已有记录。"""
    from calendars.official import CalendarError
    from regflows.inspection.models import InspectionInputError
    from regflows.inspection.rectification import RectificationConflict, new_finding, open_rectification
    from regflows.inspection.spot_check import CLAUSE, spot_check_finding

    import datetime as dt

    from calendars.zone import SHANGHAI

    prof = _profile(profile)
    owner_due = _day(due, "--due")
    today = dt.datetime.now(SHANGHAI).date()  # a feedback day after it is refused (review of issue 15, defect 6)
    if notice is not None and (notice.is_dir() or not notice.absolute().parent.is_dir()):  # said before anything is written
        _fail(f"--notice {notice} 不是可写入的文件路径（须为已存在目录中的 .docx 文件）", ExitCode.USAGE)
    try:
        if source == "spot_check":
            if area is None:
                _fail("业务部门合规抽查（--source spot_check）须写明抽查领域（--area）：收集告知、权限管理、销毁流程", ExitCode.USAGE)
            if clause not in (None, CLAUSE):
                _fail(f"业务部门合规抽查的依据为 {CLAUSE}（--clause 不能另写）", ExitCode.USAGE)
            finding = spot_check_finding(quarter=quarter, department=unit, area=area, problem=title, owner=owner,
                                         found_on=feedback_date, detail=detail, names=_OPTIONS, people=prof.person_ids,
                                         today=today)
        else:
            if clause is None:
                _fail("依据条款（--clause）不能为空，如 PBOC-102 三（三）", ExitCode.USAGE)
            finding = new_finding(quarter=quarter, source=source, title=title, clause=clause, unit=unit, owner=owner,
                                  feedback=feedback_date, detail=detail, names=_OPTIONS, people=prof.person_ids, today=today)
        opened = open_rectification(finding, due=owner_due, settings=prof.settings, names=_OPTIONS)
    except InspectionInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    except RectificationConflict as exc:
        _fail(str(exc), ExitCode.REFUSED)
    except CalendarError as exc:
        _fail(f"整改期限无法计算：{exc}", ExitCode.NO_CALENDAR)
    out: dict[str, Any] = {"id": opened.finding_id, "created": opened.created, "rectification_due": opened.rectification_due.isoformat(),
                           "report_due": opened.report_due.isoformat() if opened.report_due else None,
                           "report_basis": opened.report_basis}
    if notice is not None:
        from regflows.inspection.notice import issue_notice

        written, digest = issue_notice(opened.finding_id, notice, institution=prof.institution.name,
                                       names={p.id: p.name for p in prof.people},
                                       units={u.code: u.name for u in prof.reporting_units})
        out["notice"] = {"file": str(written), "sha256": digest}
    if opened.provisional_days:
        out["provisional_days"] = list(opened.provisional_days)
    _echo(out)
    if opened.provisional_days:
        typer.echo(f"暂定：期限依赖尚未公布的节假日安排（{'、'.join(opened.provisional_days)}），公布后可能变化", err=True)
        raise typer.Exit(ExitCode.PROVISIONAL)


@finding_app.command("list")
def finding_list(quarter: Annotated[str, typer.Option("--quarter", help="季度 YYYYQn")]) -> None:
    """该季度的整改台账（JSON）：每个问题的整改与整改情况报告的状态与期限。"""
    from regflows.inspection.rectification import list_findings

    _echo([f.to_dict() for f in list_findings(_quarter(quarter))])


@finding_app.command("export")
def finding_export(
    quarter: Annotated[str, typer.Option("--quarter", help="季度 YYYYQn")],
    out: Annotated[Path, typer.Option("--out", help="写出的整改台账（.xlsx）")],
    profile: ProfileOption = None,
) -> None:
    """把该季度的整改台账写成 .xlsx：每个问题一行（来源、责任人、整改期限与状态、整改情况报告期限与状态）。"""
    from regflows.inspection.rectification import list_findings
    from regflows.inspection.register_sheet import write_register

    prof = _profile(profile)
    q = _quarter(quarter)
    if out.suffix.lower() != ".xlsx" or out.is_dir() or not out.absolute().parent.is_dir():
        _fail(f"--out {out} 须为已存在目录中的 .xlsx 文件", ExitCode.USAGE)
    from regflows.kit.reports import OnRecord, refuse_overwriting

    try:  # never over a document on record (a run's worklist, a report): review of issue 15, defect 4
        refuse_overwriting(out)
    except OnRecord as exc:
        _fail(str(exc), ExitCode.USAGE)
    findings = list_findings(q)
    written = write_register(out, q, findings, institution=prof.institution.name, names={p.id: p.name for p in prof.people},
                             units={u.code: u.name for u in prof.reporting_units})
    _echo({"quarter": q.label, "findings": len(findings), "file": str(written)})


@finding_app.command("close")
def finding_close(
    finding_id: Annotated[str, typer.Argument(help="问题编号（SI-...，见 finding list）")],
    evidence: Annotated[str, typer.Option("--evidence", help="整改证据：做了什么、结果如何")],
    by: Annotated[str, typer.Option("--by", help="登记人（人员编号）")],
    rechecked_by: Annotated[str | None, typer.Option("--rechecked-by", help="复查人（人员编号，不能是整改责任人）")] = None,
    recheck_note: Annotated[str | None, typer.Option("--recheck-note", help="复查记录")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="证据文件（记录其 SHA-256 与大小）")] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="文号或编号")] = None,
    profile: ProfileOption = None,
) -> None:
    """整改销号：须有证据并经责任人以外的人员复查。"""
    from regflows.inspection.rectification import close_finding

    prof = _profile(profile)
    with _obligation_errors():
        row = close_finding(finding_id, evidence=evidence, by=by, rechecked_by=rechecked_by, recheck_note=recheck_note,
                            file=file, reference=reference, people=prof.person_ids, field_names=_OPTIONS)
    recorded = row.evidence["history"][-1]
    _echo({"id": finding_id, "closed_at": row.fulfilled_at.isoformat() if row.fulfilled_at else None, "by": row.fulfilled_by,
           "rechecked_by": row.detail["recheck"]["by"],
           **({"file_sha256": recorded["file"]["sha256"]} if "file" in recorded else {})})


@finding_app.command("report")
def finding_report(
    finding_id: Annotated[str, typer.Argument(help="问题编号（SI-...）")],
    evidence: Annotated[str, typer.Option("--evidence", help="报送方式与对象，如 书面报送人民银行重庆营管部")],
    by: Annotated[str, typer.Option("--by", help="报送人（人员编号）")],
    file: Annotated[Path | None, typer.Option("--file", help="证据文件（记录其 SHA-256 与大小）")] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="文号或回执号")] = None,
    profile: ProfileOption = None,
) -> None:
    """登记整改情况已报送（PBOC-102 附件4 六（二））：停止该项提醒。"""
    from regflows.inspection.rectification import report_finding

    prof = _profile(profile)
    with _obligation_errors():
        row = report_finding(finding_id, evidence=evidence, by=by, file=file, reference=reference, people=prof.person_ids,
                             field_names=_OPTIONS)
    _echo({"id": finding_id, "reported_at": row.fulfilled_at.isoformat() if row.fulfilled_at else None, "by": row.fulfilled_by})


def submit(
    quarter: Annotated[str, typer.Argument(help="季度 YYYYQn")],
    evidence: Annotated[str, typer.Option("--evidence", help="报送方式与对象（报告流程参照征信信息安全事件，PBOC-102 三（三））")],
    by: Annotated[str, typer.Option("--by", help="报送人（人员编号）")],
    file: Annotated[Path | None, typer.Option("--file", help="证据文件，如报送回执")] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="文号或回执号")] = None,
    profile: ProfileOption = None,
    unit: Annotated[str | None, typer.Option("--unit", help="单独报送自查报告的单位（机构代码；默认总部的报告）")] = None,
) -> None:
    """登记该季度自查自纠书面报告已报送：停止提醒，写入审计账本。总部与单独报送的单位各自报送、各自登记（--unit）。

    须在该季度报告签发定稿之后（self-inspection signoff）：报送的是定稿的报告与问题清单，
    其路径与 SHA-256 写入输出与审计账本。未定稿时拒绝（退出码 5）。"""
    from regflows.inspection.models import InspectionInputError, Quarter
    from regflows.inspection.owed import submit_report

    prof = _profile(profile)
    try:
        q = Quarter.parse(quarter)
    except InspectionInputError as exc:
        _fail(f"季度：{exc}", ExitCode.USAGE)
    with _obligation_errors():
        row = submit_report(q, evidence=evidence, by=by, file=file, reference=reference, people=prof.person_ids,
                            field_names=_OPTIONS, profile=prof, unit=unit)
    filed = (row.detail or {}).get("filed") or {}
    _echo({"quarter": q.label, "unit": (row.detail or {}).get("unit") or prof.head_office.code,
           "addressee": (row.detail or {}).get("addressee"),
           "submitted_at": row.fulfilled_at.isoformat() if row.fulfilled_at else None, "by": row.fulfilled_by,
           "files": {key: {"path": f["path"], "sha256": f["sha256"]} for key, f in filed.items()}})
    for key, title in (("report", "定稿报告"), ("findings", "定稿问题清单")):
        if key in filed:
            typer.echo(f"已报送{title}：{filed[key]['path']}（SHA-256 {filed[key]['sha256']}）", err=True)


# -- the spot check's coverage (CUSTINFO 10.2): `self-inspection spot-check ...` --------------------------------

spot_check_app = typer.Typer(help="业务部门合规抽查（CUSTINFO 10.2）：登记每季度抽查了哪些部门的哪些领域（含未发现问题的）。",
                             no_args_is_help=True)


@spot_check_app.command("record")
def spot_check_record(
    quarter: QuarterOption,
    department: Annotated[str, typer.Option("--department", help="被抽查的业务部门（与抽查问题的 --unit 写法一致）")],
    area: Annotated[str, typer.Option("--area", help="抽查领域：收集告知、权限管理、销毁流程")],
    by: Annotated[str, typer.Option("--by", help="抽查人（人员编号）")],
    checked_on: Annotated[str | None, typer.Option("--checked-on", help="抽查日期 YYYY-MM-DD（工作日，不晚于今天；默认今天）")] = None,
    note: Annotated[str, typer.Option("--note", help="说明（抽查了什么、多少份）")] = "",
    profile: ProfileOption = None,
) -> None:
    """登记一次业务部门合规抽查（无论是否发现问题）；发现的问题另以 finding add --source spot_check 登记。
    重复登记同一季度、部门、领域与日期不改变已有记录。"""
    import datetime as dt

    from calendars.official import CalendarError
    from calendars.zone import SHANGHAI
    from regflows.inspection.models import InspectionInputError
    from regflows.inspection.spot_records import record_spot_check

    prof = _profile(profile)
    try:
        check, created = record_spot_check(quarter=quarter, department=department, area=area, by=by, checked_on=checked_on,
                                           note=note, people=prof.person_ids, today=dt.datetime.now(SHANGHAI).date(),
                                           names=_OPTIONS)
    except InspectionInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    except CalendarError as exc:
        _fail(f"抽查日期（--checked-on）无法判断是否为工作日：{exc}", ExitCode.NO_CALENDAR)
    _echo({**check.to_dict(), "created": created})


@spot_check_app.command("list")
def spot_check_list(quarter: Annotated[str, typer.Option("--quarter", help="季度 YYYYQn")]) -> None:
    """该季度的抽查覆盖（JSON）：每个部门与领域的抽查日期、抽查人与结果（ok 未发现问题，problems 附问题编号）。"""
    from regflows.inspection.spot_records import spot_checks

    _echo([c.to_dict() for c in spot_checks(_quarter(quarter))])
