"""Rectification of findings (issue 15, item 5): an owner, a due date, a report, a checked closure.

Every finding (from the user checks, the verification worklist, the CUSTINFO 10.2 spot checks of
the business departments, or a PBoC patrol's feedback) becomes two obligations on the kit's
generic register (store table ``obligation``, subject = the finding's id), so the same register
serves the drills later and the kit's reminder loop reminds and raises both:

- ``rectification``: the rectification itself, due on the day the owner sets, by default
  ``inspection_rectification_working_days`` (15) official working days after the feedback,
  counted from the next day (民法典 第二百零一条; ``calendars.deadlines.within_working_days``);
- ``rectification_report``: PBOC-102 附件4 六（二） 「接到整改反馈后的 15 个工作日内…将整改情况报送」.
  For a patrol's finding the 15 working days run from its feedback; for a self-inspection
  finding the text has no feedback day, so ``inspection_rectification_report_from`` chooses:
  ``signoff`` (default: from the day the quarter's report is signed off, recorded with
  :func:`record_signoff`; until then the row waits, undated, and the register says so) or
  ``feedback`` (from the finding's own feedback day).

Why the id is a hash of what identifies the finding (quarter, source, unit, clause, title and
its reference in its source, or its detail): the same finding entered twice (a re-imported
worklist, a repeated command) must land on the same rows. Opening it again changes nothing; a
second opening that disagrees with the first (another owner, feedback day or due day) is
refused, never silently dropped nor silently applied.

Closure is the kit's ``fulfil`` with evidence (text, file hashed), and only with a re-check:
someone other than the owner re-checked the rectification (复查) and is named; the re-check is
on the row and in the ledger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.deadlines import Deadline, end_of_day, within_working_days
from calendars.official import DayStatus, WorkingDayCalendar
from notices.masking import mask_pii
from regflows import ledger
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.units import InspectionReport
from regflows.inspection.owed import PROCEDURE, REPORT_CODE, ensure_report_in, quarter_subject, report_row_for, signed_off_on
from regflows.inspection.reminders import passed_at_opening
from regflows.kit import obligations
from regflows.settings import InspectionSettings
from regflows.store import db
from regflows.store.models import Obligation
from regflows.store.obligations import find

if TYPE_CHECKING:  # the checks load pandas; a finding is only read here
    from regflows.inspection.checks import Finding

__all__ = [
    "PROCEDURE", "RECTIFY", "REPORT", "REPORT_CLAUSE", "REPORT_WORKING_DAYS", "SELF_INSPECTION", "SOURCES", "FindingStatus",
    "Opened", "RectificationConflict", "RectificationFinding", "Source", "close_finding", "day_off", "finding_status", "from_check", "list_findings",
    "new_finding", "open_rectification", "record_signoff", "rectification_due", "report_finding", "report_start",
    "reinstate_check", "withdraw_unfound_checks",
]

Source = Literal["check", "worklist", "spot_check", "patrol"]
SOURCES: dict[str, str] = {
    "check": "用户自动检查（PBOC-102 附件3 5.1-5.7）",
    "worklist": "风险线索逐笔核实（PBOC-102 三（三））",
    "spot_check": "业务部门合规抽查（CUSTINFO 10.2）",
    "patrol": "人民银行检查反馈（PBOC-102 附件4 六（二））",
}
#: The sources that are the institution's own self-inspection (the report's starting point is a setting).
SELF_INSPECTION: tuple[str, ...] = ("check", "worklist", "spot_check")
RECTIFY = "rectification"
REPORT = "rectification_report"
#: PBOC-102 附件4 六（二）: 「接到整改反馈后的 15 个工作日内…将整改情况报送」: fixed by the text, not a setting.
REPORT_WORKING_DAYS = 15
REPORT_CLAUSE = "PBOC-102 附件4 六（二）"
#: Field names as errors print them; an entry point passes its own (``{"title": "--title"}``).
LABELS = {"quarter": "季度", "source": "问题来源", "title": "问题标题", "clause": "依据条款", "unit": "责任单位或部门",
          "owner": "整改责任人", "detail": "问题描述", "feedback": "反馈日期", "due": "整改期限", "ref": "来源编号"}
_LIMITS = {"title": 150, "clause": 120, "unit": 100, "detail": 2000, "ref": 120}


class RectificationConflict(obligations.Refused):
    """The finding is open already with other facts: refused, the entry point exits "refused"."""


def _field(name: str, names: Mapping[str, str] | None) -> str:
    return f"{LABELS[name]}（{(names or {}).get(name, name)}）"


@dataclass(frozen=True)
class RectificationFinding:
    """One finding to rectify; build it with :func:`new_finding` (checked)."""

    quarter: str  # YYYYQn
    source: str
    title: str
    clause: str
    unit: str
    owner: str  # the owner's person id (the profile's people)
    detail: str
    feedback: dt.date  # the day the finding was fed back to the unit (patrol: the PBoC's feedback)
    ref: str | None = None  # its reference in its source: "<check>:<user>", "<lead>:<link>"...

    @property
    def id(self) -> str:
        """``SI-<quarter>-<12 hex>``: the same finding, the same id (see the module's docstring)."""
        key = json.dumps([self.quarter, self.source, self.unit, self.clause, self.title, self.ref or self.detail],
                         ensure_ascii=False)
        return f"SI-{self.quarter}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:12]}"

    @property
    def self_inspection(self) -> bool:
        return self.source in SELF_INSPECTION

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "feedback": self.feedback.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RectificationFinding:
        return cls(**{**data, "feedback": dt.date.fromisoformat(str(data["feedback"]))})


def new_finding(*, quarter: str | Quarter, source: str, title: str, clause: str, unit: str, owner: str, feedback: dt.date | str,
                detail: str = "", ref: str | None = None, names: Mapping[str, str] | None = None,
                people: Collection[str] | None = None, today: dt.date | None = None) -> RectificationFinding:
    """A finding, every field checked: a Chinese error names the first bad one (``names`` maps the
    field to the entry point's, e.g. ``--title``); ``people`` are the profile's person ids. Given
    ``today`` (a person's entry: ``finding add`` passes Beijing's today), the feedback day is never
    after it: a feedback not yet received would start its working days (附件4 六（二）) from a day
    that has not come (review of issue 15, defect 6). Findings the system registers date their own
    feedback (the run's day, the answer's) and pass none."""
    try:
        q = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    except InspectionInputError as exc:
        raise InspectionInputError(f"{_field('quarter', names)}：{exc}") from exc
    if source not in SOURCES:
        raise InspectionInputError(f"{_field('source', names)}只能是 {'、'.join(SOURCES)} 之一，实为 {source!r}")
    texts = {"title": title, "clause": clause, "unit": unit, "owner": owner}
    for name, value in texts.items():
        if not isinstance(value, str) or not value.strip():
            raise InspectionInputError(f"{_field(name, names)}不能为空")
    for name, value in {**texts, "detail": detail, "ref": ref or ""}.items():
        if name in _LIMITS and len(value.strip()) > _LIMITS[name]:
            raise InspectionInputError(f"{_field(name, names)}过长：{len(value.strip())} 字，最多 {_LIMITS[name]} 字")
        if name != "detail" and ("\n" in value or "\r" in value):
            raise InspectionInputError(f"{_field(name, names)}不能换行")
    if people is not None and owner.strip() not in people:
        raise InspectionInputError(f"{_field('owner', names)} {owner.strip()} 不在机构配置的人员（people）中")
    if isinstance(feedback, str):
        try:
            feedback = dt.date.fromisoformat(feedback.strip())
        except ValueError as exc:
            raise InspectionInputError(f"{_field('feedback', names)}应写作 YYYY-MM-DD，实为 {feedback!r}") from exc
    if today is not None and feedback > today:
        raise InspectionInputError(f"{_field('feedback', names)} {feedback.isoformat()} 晚于今天 {today.isoformat()}（北京时间）："
                                   "反馈日期是已收到反馈的日期，不能是将来的日期")
    return RectificationFinding(q.label, source, title.strip(), clause.strip(), unit.strip(), owner.strip(), detail.strip(),
                                feedback, ref.strip() if ref else None)


def from_check(check: Finding, *, quarter: str | Quarter, unit: str, owner: str, feedback: dt.date | str,
               people: Collection[str] | None = None) -> RectificationFinding:
    """A user check's finding (regflows/inspection/checks.py) to rectify: one per user and check,
    its reference ``<check>:<user_id>`` (so a rerun of the checks lands on the same finding)."""
    return new_finding(quarter=quarter, source="check", title=check.title, clause=check.clause, unit=unit, owner=owner,
                       feedback=feedback, detail=f"用户 {check.user_id}（用户文件第 {check.line} 行）：{check.detail}",
                       ref=f"{check.check}:{check.user_id}", people=people)


# -- the due dates (pure) -----------------------------------------------------------------------

def day_off(status: DayStatus) -> str:
    """A day off as an error names it: 法定节假日（国庆节） or 周末休息日."""
    kind = status.reason.split(":", 1)
    return f"法定节假日（{kind[1]}）" if kind[0] == "holiday" else "周末休息日"


def _working_due(due: dt.date, calendar: WorkingDayCalendar | None, names: Mapping[str, str] | None) -> None:
    """An owner's due day on a day off (weekend or holiday, the official calendar) is refused.

    Why refused and not moved: a deadline on 国庆 is unusual enough to be a slip (the owner meant
    another day); rolling it forward silently would give a day nobody chose, and back would
    shorten the owner's time. The error names both neighbours so the owner picks one (README,
    Interpretations). A year without calendar data raises CalendarError (nothing written)."""
    from calendars.official import default_calendar

    cal = calendar or default_calendar()
    status = cal.status(due)
    if status.working:
        return
    raise InspectionInputError(f"{_field('due', names)} {due} 是{day_off(status)}，不是工作日：整改期限应为工作日，"
                               f"请改为前一个工作日 {cal.previous_working_day(due)} 或后一个工作日 {cal.next_working_day(due)}")


def rectification_due(finding: RectificationFinding, due: dt.date | None = None, settings: InspectionSettings | None = None,
                      calendar: WorkingDayCalendar | None = None, names: Mapping[str, str] | None = None) -> Deadline:
    """The owner's day (24:00 of it) or, by default, N official working days after the feedback."""
    if due is not None:
        if due < finding.feedback:
            raise InspectionInputError(f"{_field('due', names)} {due} 早于{_field('feedback', names)} {finding.feedback}")
        _working_due(due, calendar, names)
        return Deadline(end_of_day(due), due, f"整改责任人确定的整改期限：{due} 24:00")
    n = (settings or InspectionSettings()).inspection_rectification_working_days
    deadline = within_working_days(finding.feedback, n, calendar)
    return Deadline(deadline.due, deadline.last_day, f"默认整改期限：反馈日 {deadline.basis}", deadline.moved_from,
                    deadline.provisional_days)


def report_start(finding: RectificationFinding, settings: InspectionSettings | None = None,
                 signed_off: dt.date | None = None) -> tuple[dt.date | None, str]:
    """The day the report's 15 working days run from (None: waiting for the report's sign-off), and why.

    A patrol's finding: its feedback (附件4 六（二）). A self-inspection finding: per
    ``inspection_rectification_report_from``; with ``signoff``, a finding fed back after the
    sign-off counts from its feedback (no report is owed on a finding before it was known).
    """
    if not finding.self_inspection:
        return finding.feedback, f"人民银行检查反馈之日 {finding.feedback}"
    if (settings or InspectionSettings()).inspection_rectification_report_from == "feedback":
        return finding.feedback, f"问题反馈之日 {finding.feedback}（设置 inspection_rectification_report_from=feedback）"
    if signed_off is None:
        return None, "自自查报告签发之日起算，报告尚未签发（设置 inspection_rectification_report_from=signoff）"
    start = max(signed_off, finding.feedback)
    why = f"自查报告签发之日 {signed_off}" if start == signed_off else f"问题反馈之日 {finding.feedback}（晚于自查报告签发之日 {signed_off}）"
    return start, f"{why}（设置 inspection_rectification_report_from=signoff）"


def _report_deadline(start: dt.date, why: str, calendar: WorkingDayCalendar | None) -> Deadline:
    deadline = within_working_days(start, REPORT_WORKING_DAYS, calendar)
    return Deadline(deadline.due, deadline.last_day, f"{why}，{deadline.basis}", deadline.moved_from, deadline.provisional_days)


def _dated(deadline: Deadline) -> dict[str, Any]:
    provisional = [d.isoformat() for d in deadline.provisional_days]
    return {"basis": deadline.basis, **({"provisional_days": provisional} if provisional else {})}


# -- the register (store, through the kit's obligation rows) --------------------------------------

@dataclass(frozen=True)
class Opened:
    finding_id: str
    created: bool  # False: it was open already, nothing changed
    rectification_due: dt.date
    report_due: dt.date | None  # None: waits for the quarter's report sign-off
    report_basis: str
    provisional_days: tuple[str, ...] = ()


def _opened(row: Obligation, report: Obligation, created: bool) -> Opened:
    days = tuple(sorted({*(row.detail or {}).get("provisional_days", []), *(report.detail or {}).get("provisional_days", [])}))
    return Opened(row.subject, created, dt.date.fromisoformat(row.detail["due_day"]),
                  dt.date.fromisoformat(report.detail["due_day"]) if report.detail.get("due_day") else None,
                  str(report.detail["basis"]), days)


def _same_opening(row: Obligation, finding: RectificationFinding, due: dt.date | None, names: Mapping[str, str] | None) -> None:
    recorded = RectificationFinding.from_dict(row.detail["finding"])
    owner_due = row.detail.get("owner_due")
    differs = [_field(name, names) for name, old, new in (
        ("owner", recorded.owner, finding.owner), ("feedback", recorded.feedback, finding.feedback),
        ("detail", recorded.detail, finding.detail),
        ("due", owner_due, due.isoformat() if due else None)) if old != new]
    if differs:
        raise RectificationConflict(f"问题 {finding.id} 已登记整改，{'、'.join(differs)}与已登记的不同：已登记的不变；"
                                    "变更须另行办理，不能以重复登记覆盖")


def open_rectification(finding: RectificationFinding, *, due: dt.date | None = None, settings: InspectionSettings | None = None,
                       calendar: WorkingDayCalendar | None = None, url: str | None = None, by: str = "system",
                       names: Mapping[str, str] | None = None, now: dt.datetime | None = None) -> Opened:
    """Write the finding's two obligations (rectification and its report) unless written; in the ledger.

    ``due``: the owner's day for the rectification (default: the setting's working days). Raises
    :class:`calendars.official.CalendarError` when a due day falls in a year with no calendar
    data (nothing written), :class:`RectificationConflict` when the finding is open with other facts.
    """
    chosen = settings or InspectionSettings()
    rectify = rectification_due(finding, due, chosen, calendar, names)
    quarter = Quarter.parse(finding.quarter)
    with db.session(url) as s:
        existing = find(s, finding.id, RECTIFY, for_update=True)
        if existing is not None:
            _same_opening(existing, finding, due, names)
            report_row = find(s, finding.id, REPORT)
            assert report_row is not None  # both rows are written in one transaction
            return _opened(existing, report_row, False)
        start, why = report_start(finding, chosen, signed_off_on(s, quarter, finding.unit))  # the report holding its unit
        report = _report_deadline(start, why, calendar) if start is not None else None
        assert rectify.last_day is not None
        facts = {"finding": finding.to_dict(), "owner": finding.owner}
        row = Obligation(procedure=PROCEDURE, subject=finding.id, code=RECTIFY, title=f"整改：{finding.title}"[:200],
                         clause=finding.clause[:120], owner_role="compliance", regime=finding.clause.split(" ")[0][:20],
                         due_at=rectify.due, state="pending", evidence={}, reminders_sent=[],
                         detail={**facts, **_dated(rectify), "due_day": rectify.last_day.isoformat(),
                                 "owner_due": due.isoformat() if due else None})
        report_row = Obligation(procedure=PROCEDURE, subject=finding.id, code=REPORT, title=f"报送整改情况：{finding.title}"[:200],
                                clause=REPORT_CLAUSE, owner_role="compliance", regime="PBOC-102",
                                due_at=report.due if report else None, state="pending", evidence={}, reminders_sent=[],
                                detail={**facts, **(_dated(report) if report else {"basis": why, "waiting": "signoff"}),
                                        "due_day": report.last_day.isoformat() if report and report.last_day else None})
        for r in (row, report_row):
            r.reminders_sent = passed_at_opening(r.due_at, chosen, calendar, now)
        s.add_all([row, report_row])
        s.flush()
        ledger.append_in(s, "inspection.finding_opened", finding.id, {
            **finding.to_dict(), "rectification_due": row.detail["due_day"], "due_set_by_owner": due is not None,
            "report_due": report_row.detail["due_day"], "report_basis": report_row.detail["basis"]}, actor=by)
        if _run_or_owed(s, quarter):  # the quarter's report lists it: owed too
            ensure_report_in(s, quarter, chosen, calendar)
        return _opened(row, report_row, True)


def _run_or_owed(s: Session, quarter: Quarter) -> bool:
    """Whether the quarter's report is owed already or the quarter was run: a finding (a patrol's,
    tagged with a quarter the system never inspected) must not create the report of a quarter that
    was never run, which the watch would then raise as overdue (review of issue 15, defect 5). A
    quarter inspected here owes its report from its run (its findings registered: register.py), its
    sign-off, or the watch from the quarter's first following day (reminders.remind)."""
    from regflows.store.models import InspectionRun

    if find(s, quarter_subject(quarter), REPORT_CODE) is not None:
        return True
    return s.execute(select(InspectionRun.id).where(InspectionRun.quarter == quarter.label).limit(1)).scalar() is not None


def record_signoff(quarter: Quarter, signed_on: dt.date, *, settings: InspectionSettings | None = None,
                   calendar: WorkingDayCalendar | None = None, url: str | None = None, by: str = "system",
                   unit_report: InspectionReport | None = None) -> list[str]:
    """Record the day the quarter's report (the head office's, or ``unit_report``'s: units.py) was
    signed off; with ``signoff`` as the starting point, every self-inspection finding's report of
    that quarter held by that report (:func:`~regflows.inspection.owed.report_row_for` of its
    unit) that waits gets its due day. Returns the finding ids dated now. The day recorded first
    stays (a later call for another day is refused)."""
    chosen = settings or InspectionSettings()
    dated: list[str] = []
    with db.session(url) as s:
        quarter_row, _ = ensure_report_in(s, quarter, chosen, calendar, unit_report)
        recorded = (quarter_row.detail or {}).get("signed_off_on")
        if recorded and recorded != signed_on.isoformat():
            raise obligations.Refused(f"{quarter.label} 的自查报告已登记于 {recorded} 签发，不能改为 {signed_on}")
        quarter_row.detail = {**(quarter_row.detail or {}), "signed_off_on": signed_on.isoformat()}
        for row in _rows(s, quarter, REPORT):
            if row.due_at is not None or (row.detail or {}).get("waiting") != "signoff":
                continue
            finding = RectificationFinding.from_dict(row.detail["finding"])
            holder = report_row_for(s, quarter, finding.unit)
            if holder is None or holder.subject != quarter_row.subject:
                continue  # another report's finding: dated by that report's sign-off
            start, why = report_start(finding, chosen, signed_on)
            assert start is not None
            report = _report_deadline(start, why, calendar)
            detail = {k: v for k, v in row.detail.items() if k != "waiting"}
            row.due_at = report.due
            row.detail = {**detail, **_dated(report), "due_day": report.last_day.isoformat() if report.last_day else None}
            dated.append(row.subject)
        ledger.append_in(s, "inspection.report_signed_off", quarter_row.subject,
                         {"signed_on": signed_on.isoformat(), "reports_dated": dated}, actor=by)
    return dated


#: Why a re-run withdraws a user check's finding it no longer finds (review of issue 15, 14).
RERUN_REASON = "复查运行未再发现"


def withdraw_unfound_checks(quarter: Quarter, found: Collection[str], evaluated: Collection[str], *, run_id: str,
                            by: str = "system", url: str | None = None) -> list[str]:
    """Withdraw the quarter's open user-check findings that a re-run of the quarter no longer finds.

    Why: a corrected re-run (a fixed users file, fixed logs) must be able to take a finding away,
    or the register keeps an obligation nobody owes. Only findings of source ``check`` of this
    quarter whose check was evaluated by the re-run (``evaluated``: check ids; a check the data
    could not decide says nothing about the finding) and whose id is not in ``found`` (the
    re-run's finding ids); never worklist, spot-check or patrol findings (a person entered them).
    Both obligations of such a finding still owed become ``withdrawn`` (a closed state,
    regflows/store/obligations.py CLOSED_STATES; closed ones stay as they are), with who, why
    (:data:`RERUN_REASON`), when and the run on the row (``evidence["withdrawn"]``) and the ledger
    entry ``obligation.withdrawn``, its reminders' acknowledgements resolved, as
    the kit's :func:`~regflows.kit.obligations.withdraw_in` does for every procedure. Returns the withdrawn finding ids."""
    from regflows.store.obligations import CLOSED_STATES

    withdrawn: list[str] = []
    with db.session(url) as s:
        rows = _rows(s, quarter)
        for row in rows:
            finding = (row.detail or {}).get("finding") or {}
            check = str(finding.get("ref") or "").split(":", 1)[0]
            if (finding.get("source") != "check" or finding.get("quarter") != quarter.label or row.subject in found
                    or check not in evaluated or row.state in CLOSED_STATES):
                continue
            obligations.withdraw_in(s, row, by=by, reason=RERUN_REASON, cause="因复查运行未再发现", extra={"run_id": run_id})
            if row.subject not in withdrawn:
                withdrawn.append(row.subject)
    return withdrawn


def reinstate_check(finding_id: str, *, run_id: str, by: str = "system", url: str | None = None) -> bool:
    """A check finding withdrawn by a re-run (:data:`RERUN_REASON`) that a later run finds again is
    owed again: both rows back to the state they had, their due days unchanged (the finding is the
    one first found), the withdrawal kept in ``evidence["withdrawals"]``, the ledger entry
    ``obligation.reinstated``. Returns whether anything was reinstated; a finding withdrawn for
    another reason is left alone."""
    reinstated = False
    with db.session(url) as s:
        for code in (RECTIFY, REPORT):
            row = find(s, finding_id, code, for_update=True)
            withdrawn = ((row.evidence or {}).get("withdrawn") or {}) if row is not None else {}
            if row is None or row.state != "withdrawn" or withdrawn.get("reason") != RERUN_REASON:
                continue
            obligations.reinstate_in(s, row, state=str(withdrawn.get("state_before") or "pending"), by=by,
                                     reason="复查运行再次发现", extra={"run_id": run_id})
            reinstated = True
    return reinstated


def _rows(s: Session, quarter: Quarter | None, code: str | None = None) -> list[Obligation]:
    query = select(Obligation).where(Obligation.procedure == PROCEDURE, Obligation.code.in_([code] if code else [RECTIFY, REPORT]))
    if quarter is not None:
        query = query.where(Obligation.subject.like(f"SI-{quarter.label}-%"))
    return list(s.execute(query.order_by(Obligation.subject, Obligation.code)).scalars())


@dataclass(frozen=True)
class FindingStatus:
    """One finding as the register shows it (the CLI's JSON, the report's rectification table)."""

    id: str
    finding: RectificationFinding
    rectification: dict[str, Any]  # state, due, basis, closed_at, closed_by, recheck
    report: dict[str, Any]  # state, due (None while waiting), basis

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **self.finding.to_dict(), "rectification": self.rectification, "report": self.report}


def _state(row: Obligation) -> dict[str, Any]:
    detail = row.detail or {}
    return {"state": row.state, "due": detail.get("due_day"), "basis": detail.get("basis"),
            **({"provisional_days": detail["provisional_days"]} if detail.get("provisional_days") else {}),
            **({"waiting": "自查报告签发后起算"} if detail.get("waiting") == "signoff" and row.due_at is None else {}),
            **({"fulfilled_at": row.fulfilled_at.isoformat(), "by": row.fulfilled_by} if row.fulfilled_at else {}),
            **({"recheck": detail["recheck"]} if detail.get("recheck") else {})}


def list_findings(quarter: Quarter | None = None, url: str | None = None) -> list[FindingStatus]:
    """The register: every finding (of ``quarter``, or all), by feedback day, unit and title."""
    with db.session(url) as s:
        rows = _rows(s, quarter)
    by_subject: dict[str, dict[str, Obligation]] = {}
    for row in rows:
        by_subject.setdefault(row.subject, {})[row.code] = row
    found = [FindingStatus(subject, RectificationFinding.from_dict(pair[RECTIFY].detail["finding"]), _state(pair[RECTIFY]),
                           _state(pair[REPORT]))
             for subject, pair in by_subject.items() if RECTIFY in pair and REPORT in pair]
    return sorted(found, key=lambda f: (f.finding.feedback, f.finding.unit, f.finding.title, f.id))


def finding_status(finding_id: str, url: str | None = None) -> FindingStatus:
    with db.session(url) as s:
        rectify, report = find(s, finding_id, RECTIFY), find(s, finding_id, REPORT)
        if rectify is None or report is None or rectify.procedure != PROCEDURE:
            raise LookupError(f"没有编号为 {finding_id} 的整改问题（见 regflows self-inspection finding list）")
        return FindingStatus(finding_id, RectificationFinding.from_dict(rectify.detail["finding"]), _state(rectify), _state(report))


def close_finding(finding_id: str, *, evidence: str, by: str, rechecked_by: str | None, recheck_note: str | None = None,
                  reference: str | None = None, file: str | Path | None = None, url: str | None = None,
                  people: Collection[str] | None = None, field_names: Mapping[str, str] | None = None) -> Obligation:
    """Close the rectification with evidence and a re-check (复查) by someone other than its owner.

    Refused (:class:`regflows.kit.obligations.Refused`) without a re-checker or when the owner
    re-checks their own rectification; the evidence (text, file hashed) and who acted are the
    kit's ``fulfil``, the re-check goes on the row and in the ledger in the same transaction.
    """
    names = dict(field_names or {})
    checker_field = names.get("rechecked_by", "rechecked_by")
    if rechecked_by is None or not rechecked_by.strip():
        raise obligations.Refused(f"整改须经复查后方可关闭：请填写复查人（{checker_field}），复查人须为整改责任人以外的人员")
    checker = rechecked_by.strip()
    if people is not None and checker not in people:
        raise obligations.EvidenceError(f"复查人（{checker_field}）{checker} 不在机构配置的人员（people）中")

    def rechecked_by_another(row: Obligation) -> None:
        owner = (row.detail or {}).get("owner")
        if checker == owner:
            raise ValueError(f"复查人（{checker_field}）{checker} 是该问题的整改责任人：整改须由责任人以外的人员复查后方可关闭")

    def record_recheck(s: Session, row: Obligation, record: dict[str, Any]) -> None:
        # The note is free text: masked before the row and the ledger keep it (CUSTINFO).
        recheck = {"by": checker, **({"note": mask_pii(recheck_note.strip())} if recheck_note and recheck_note.strip() else {})}
        row.detail = {**(row.detail or {}), "recheck": recheck}
        ledger.append_in(s, "inspection.rechecked", row.subject, recheck, actor=checker)

    return obligations.fulfil(finding_id, RECTIFY, evidence=evidence, by=by, reference=reference, file=file, url=url,
                              precondition=rechecked_by_another, step=record_recheck, people=people,
                              not_found=f"没有编号为 {finding_id} 的整改问题（见 regflows self-inspection finding list）",
                              field_names={k: v for k, v in names.items() if k in ("evidence", "by", "file", "reference")})


def report_finding(finding_id: str, *, evidence: str, by: str, reference: str | None = None, file: str | Path | None = None,
                   url: str | None = None, people: Collection[str] | None = None,
                   field_names: Mapping[str, str] | None = None) -> Obligation:
    """Record that the rectification was reported (附件4 六（二）), with evidence: the kit's fulfil."""
    return obligations.fulfil(finding_id, REPORT, evidence=evidence, by=by, reference=reference, file=file, url=url, people=people,
                              not_found=f"没有编号为 {finding_id} 的整改问题（见 regflows self-inspection finding list）",
                              field_names=dict(field_names or {}))
