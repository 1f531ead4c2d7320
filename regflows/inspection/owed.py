"""The quarter's self-inspection report is owed from the quarter's end, whatever happens to the run
(issue 15, item 7).

PBOC-102 三（三） asks for a quarterly written report (「将自查自纠情况向人民银行书面报告，报告流程参照征信
信息安全事件的报告要求」) and fixes no day: it is owed by :func:`regflows.inspection.due.report_due`
(``inspection_report_due_working_days`` after the quarter's last day). The obligation row is
written by the reminder loop's first call after the quarter (:func:`owe_last_quarter`), not when
a run prepares the report, so a run that never happens leaves the report owed and raised, as the
monthly statistics' reports are (regflows/credit/owed.py).

One report per :class:`~regflows.inspection.units.InspectionReport` (三（三）'s route, that of the
event reports, 三（二））: the head office's (subject ``self-inspection:2025Q3``, to the PBoC) and
each unit's that reports on its own (``self-inspection:2025Q3-YX0101``, to the PBoC branch where it
is), each with its addressee on the row, each fulfilled only by its own final report.

A quarter whose due day falls in a year with no calendar data (Q4 before next year's notice is
loaded) is written undated (state ``calendar_missing``): the kit's loop raises it as a calendar
warning, and the next call after the notice is imported gives it its day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from calendars.official import CalendarError, WorkingDayCalendar
from calendars.zone import SHANGHAI
from regflows import ledger
from regflows.inspection.due import report_due
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.units import InspectionReport, report_for, reports
from regflows.kit import obligations
from regflows.kit.units import unit_key
from regflows.profile import Profile
from regflows.kit.reminders import UNDATED
from regflows.kit.signoffs import FileChanged, check_final
from regflows.settings import InspectionSettings
from regflows.store import db
from regflows.store.models import Obligation
from regflows.store.obligations import find

__all__ = [
    "PROCEDURE", "REPORT_CLAUSE", "REPORT_CODE", "ensure_report_in", "last_quarter", "owe_last_quarter", "owe_report",
    "filed_reports", "final_files", "quarter_subject", "report_row_for", "signed_off_on", "submit_report",
]

#: The procedure's name on every obligation row it writes (findings' rows included).
PROCEDURE = "self-inspection"
REPORT_CODE = "self_inspection_report"
REPORT_CLAUSE = "PBOC-102 三（三）"
#: 三（三）: 「报告流程参照征信信息安全事件的报告要求」: the event reports' route (三（二）).
ROUTE = "报告流程参照征信信息安全事件的报告要求（PBOC-102 三（三）、三（二））：总部报人民银行，单独报送的分支机构报所在地人民银行分支机构"


def quarter_subject(quarter: Quarter, unit: str | None = None) -> str:
    """``self-inspection:2025Q3`` (the head office's report) or ``self-inspection:2025Q3-YX0101``."""
    return f"{PROCEDURE}:{unit_key(quarter.label, unit)}"


def _title(quarter: Quarter, report: InspectionReport | None = None) -> str:
    who = f"{report.unit.name}向{report.addressee}" if report is not None and not report.head_office else ""
    return f"{who}报送{quarter.year}年第{quarter.number}季度征信合规与信息安全自查自纠书面报告"


def _report_detail(report: InspectionReport | None) -> dict[str, Any]:
    if report is None:
        return {}
    return {"unit": report.unit.code, "unit_name": report.unit.name, "head_office": report.head_office,
            "addressee": report.addressee, "covers": list(report.covers), "others": list(report.others)}


def _due(quarter: Quarter, settings: InspectionSettings, calendar: WorkingDayCalendar | None) -> tuple[dt.datetime | None, dict[str, Any]]:
    try:
        deadline = report_due(quarter, settings, calendar)
    except CalendarError as exc:  # Q4 before next year's notice: raised by the loop, never guessed
        return None, {"basis": str(exc)}
    provisional = [d.isoformat() for d in deadline.provisional_days]
    return deadline.due, {"basis": deadline.basis, **({"provisional_days": provisional} if provisional else {})}


def ensure_report_in(s: Session, quarter: Quarter, settings: InspectionSettings | None = None,
                     calendar: WorkingDayCalendar | None = None, report: InspectionReport | None = None) -> tuple[Obligation, bool]:
    """The quarter's report obligation in session ``s`` (the head office's, or ``report``'s),
    created when missing; an undated row gets its day once the calendar has it; a row written
    without its report's facts (unit, addressee) gets them. Returns the row and whether it was created."""
    chosen = settings or InspectionSettings()
    subject = quarter_subject(quarter, report.code if report is not None else None)
    row = find(s, subject, REPORT_CODE, for_update=True)
    if row is not None:
        if report is not None and "addressee" not in (row.detail or {}):
            row.detail = {**(row.detail or {}), **_report_detail(report)}
        if row.state == UNDATED and row.fulfilled_at is None:
            due, detail = _due(quarter, chosen, calendar)
            if due is not None:
                row.due_at, row.state = due, "pending"
                row.detail = {**(row.detail or {}), **detail}
                ledger.append_in(s, "inspection.report_dated", row.subject, {"due": due.isoformat(), "basis": detail["basis"]})
        return row, False
    due, detail = _due(quarter, chosen, calendar)
    row = Obligation(procedure=PROCEDURE, subject=subject, code=REPORT_CODE, title=_title(quarter, report),
                     clause=REPORT_CLAUSE, owner_role="compliance", regime="PBOC-102", due_at=due,
                     state="pending" if due is not None else UNDATED, evidence={}, reminders_sent=[],
                     detail={"quarter": quarter.label, "route": ROUTE, **_report_detail(report), **detail})
    s.add(row)
    s.flush()
    ledger.append_in(s, "inspection.report_owed", row.subject, {"quarter": quarter.label, "due": due.isoformat() if due else None,
                                                                "basis": detail["basis"], **_report_detail(report)})
    return row, True


def owe_report(quarter: Quarter, settings: InspectionSettings | None = None, calendar: WorkingDayCalendar | None = None,
               url: str | None = None, profile: Profile | None = None) -> bool:
    """Write the quarter's report obligations unless written (with ``profile``: every report it
    owes, units.py; without: the head office's); True when one was created now."""
    chosen = settings or (profile.settings if profile is not None else None)
    with db.session(url) as s:
        if profile is None:
            return ensure_report_in(s, quarter, chosen, calendar)[1]
        return any([ensure_report_in(s, quarter, chosen, calendar, r)[1] for r in reports(profile)])


def report_row_for(s: Session, quarter: Quarter, unit: str | None) -> Obligation | None:
    """The report obligation that holds ``unit``'s findings: the unit's own report when it has one
    on record, else the head office's."""
    own = find(s, quarter_subject(quarter, unit), REPORT_CODE) if unit else None
    return own or find(s, quarter_subject(quarter), REPORT_CODE)


def last_quarter(day: dt.date) -> Quarter:
    """The quarter that ended before ``day``'s quarter began."""
    number = (day.month - 1) // 3 + 1
    return Quarter(day.year - 1, 4) if number == 1 else Quarter(day.year, number - 1)


def owe_last_quarter(now: dt.datetime, settings: InspectionSettings | None = None, calendar: WorkingDayCalendar | None = None,
                     url: str | None = None, profile: Profile | None = None) -> Quarter:
    """From a quarter's first day (Beijing), the previous quarter's reports are owed (``profile``:
    each report it owes)."""
    quarter = last_quarter(now.astimezone(SHANGHAI).date())
    owe_report(quarter, settings, calendar, url, profile)
    return quarter


def signed_off_on(s: Session, quarter: Quarter, unit: str | None = None) -> dt.date | None:
    """The day the report holding ``unit``'s findings (None: the head office's) was signed off, as
    recorded by :func:`regflows.inspection.rectification.record_signoff` (None before)."""
    row = report_row_for(s, quarter, unit)
    value = (row.detail or {}).get("signed_off_on") if row is not None else None
    return dt.date.fromisoformat(value) if value else None



def filed_reports(quarter: Quarter, url: str | None = None) -> dict[str, dt.datetime]:
    """The quarter's reports already filed (``submit``): obligation subject → when. A re-run of such
    a quarter is warned and ledgered by the run (review of issue 15, defect 1): what was filed stays
    the filed report; corrections go the report's route again (三（三）)."""
    from sqlalchemy import or_, select

    head = quarter_subject(quarter)
    with db.session(url) as s:
        rows = s.execute(select(Obligation).where(Obligation.code == REPORT_CODE,
                                                  or_(Obligation.subject == head, Obligation.subject.like(f"{head}-%")),
                                                  Obligation.fulfilled_at.is_not(None))).scalars()
        return {r.subject: r.fulfilled_at for r in rows if r.fulfilled_at is not None}


def final_files(quarter: Quarter, url: str | None = None, unit: str | None = None) -> dict[str, dict[str, str]]:
    """The quarter's final report and findings workbook (kind → path, SHA-256), once its sign-off is
    final (regflows/inspection/signoff.py: stage DONE); :class:`obligations.Refused` otherwise.

    Why: 三（三） asks for the *written report* (「向人民银行书面报告」): what is filed is the report
    reviewed and signed off, not a draft; each final file must still be on disk with the bytes
    recorded when it was made final."""
    from regflows.inspection.signoff import KIND  # signoff imports this module: loaded here, when used
    from regflows.kit import approvals

    approval = approvals.get(KIND, quarter_subject(quarter, unit), url)
    whose = f"报送单位 {unit} " if unit else ""
    if approval is None or approval.stage != approvals.DONE or not (approval.detail or {}).get("final"):
        stage = "尚未提交签发" if approval is None else "尚未定稿（复核、签发未完成）"
        raise obligations.Refused(f"{quarter.label} {whose}的自查自纠报告{stage}，不能登记报送：报送的须是经复核、签发定稿的报告"
                                  f"（regflows self-inspection signoff-status RUN_ID{' --unit ' + unit if unit else ''}）")
    titles = {"report": "报告", "findings": "问题清单"}
    try:
        files = check_final(approval.detail["final"], tuple(titles))
    except FileChanged as exc:
        raise obligations.Refused(f"{quarter.label} {whose}定稿的{titles[exc.key]} {exc.path} 已不存在或定稿后被改动（SHA-256 不符），不能登记报送") from None
    return {key: {**f, "revision": str(approval.revision)} for key, f in files.items()}


def submit_report(quarter: Quarter, *, evidence: str, by: str, reference: str | None = None, file: str | Path | None = None,
                  url: str | None = None, people: Collection[str] | None = None,
                  field_names: Mapping[str, str] | None = None, today: dt.date | None = None,
                  profile: Profile | None = None, unit: str | None = None) -> Obligation:
    """Record the quarter's report as filed, with evidence (the kit's fulfil): its reminders stop.
    A quarter not yet over has no report to file; a report not yet signed off (final) is refused
    (:func:`final_files`): the final files filed, their paths and SHA-256, go on the row
    (``detail["filed"]``) and in the ledger in the same transaction. ``unit``: the report of a unit
    that reports on its own (``profile`` says which do; units.py): only its own final report
    fulfils its obligation, never another's."""
    if quarter.last_day >= (today or dt.datetime.now(SHANGHAI).date()):
        raise InspectionInputError(f"{quarter.label} 尚未结束：自查自纠报告报送的是已结束季度的情况")
    if unit is not None and profile is not None:
        unit = report_for(profile, unit).code  # the head office's code: its report; a unit without its own: refused
    owe_report(quarter, url=url, profile=profile)  # owed from the quarter's end even if no watch has written it yet
    files: dict[str, dict[str, str]] = {}

    def only_final(row: Obligation) -> None:  # after the evidence and --by are checked: bad input first
        files.update(final_files(quarter, url, unit))

    def record_filed(s: Session, row: Obligation, record: dict[str, Any]) -> None:
        row.detail = {**(row.detail or {}), "filed": files}
        ledger.append_in(s, "inspection.report_filed", row.subject, {"quarter": quarter.label, "files": files,
                                                                     **({"unit": unit} if unit else {})}, actor=by)

    return obligations.fulfil(quarter_subject(quarter, unit), REPORT_CODE, evidence=evidence, by=by, reference=reference, file=file,
                              url=url, people=people, field_names=dict(field_names or {}), precondition=only_final,
                              step=record_filed)
