"""What the rating year owes, on the kit's obligations (issue 16, item 6).

Two obligations per rated year, subject ``rating:<year>``:

- ``rating_self_assessment``: the self-assessment and its evidence to the PBoC (第十条（一）:
  31 January, national; 第十一条: the profile's day, local; rolled forward to a working day:
  :func:`regflows.rating.schedule.submission_due`). Written by the reminder loop's first call
  in January (:func:`owe_last_year`) or by the yearly run, whichever comes first, so a run that
  never happens leaves it owed and raised. Fulfilled with :func:`submit` only once the report is
  signed off (regflows/rating/signoff.py, stage DONE): what is filed is the final copies.
- ``rating_objection``: the objection window (第十条（四）: 7 working days from the day the
  feedback was received), written when an operator enters that day (:func:`record_feedback`),
  closed with :func:`close_objection` (the objection filed, or the decision not to object).

A year the institution is not rated for (第九条: newly connected) owes neither: refused in Chinese.
A due day in a year with no calendar data is written undated (``calendar_missing``) and raised
by the kit's loop; the next call gives it its day once the notice is loaded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from calendars.official import CalendarError, WorkingDayCalendar
from calendars.zone import SHANGHAI
from regflows import ledger
from regflows.kit import obligations
from regflows.kit.reminders import UNDATED
from regflows.kit.signoffs import FileChanged, check_final
from regflows.profile import Profile
from regflows.rating.schedule import (
    OBJECTION_CLAUSE, OBJECTION_WORKING_DAYS, PROCEDURE, RatingInputError, not_rated, objection_due, previous_year, submission_clause, submission_due,
    year_subject,
)
from regflows.store import db
from regflows.store.models import Obligation
from regflows.store.obligations import find

__all__ = [
    "OBJECTION_CODE", "SUBMISSION_CODE", "RatingInputError", "close_objection", "ensure_submission_in", "final_files",
    "owe_last_year", "owe_submission", "record_feedback", "submit",
]

SUBMISSION_CODE = "rating_self_assessment"
OBJECTION_CODE = "rating_objection"


def _refuse_unrated(profile: Profile, year: int) -> None:
    why = not_rated(profile.institution, year)
    if why is not None:
        raise obligations.Refused(why)


def _submission_due(year: int, profile: Profile, calendar: WorkingDayCalendar | None) -> tuple[dt.datetime | None, dict[str, Any], str]:
    try:
        deadline, clause = submission_due(year, profile.institution, profile.settings, calendar)
    except CalendarError as exc:  # next year's notice not loaded: raised by the loop, never guessed
        return None, {"basis": str(exc)}, submission_clause(profile.institution)
    provisional = [d.isoformat() for d in deadline.provisional_days]
    return deadline.due, {"basis": deadline.basis, **({"provisional_days": provisional} if provisional else {})}, clause


def ensure_submission_in(s: Session, year: int, profile: Profile, calendar: WorkingDayCalendar | None = None) -> tuple[Obligation, bool]:
    """The year's self-assessment obligation in session ``s``, created when missing (an undated row
    gets its day once the calendar has it). Returns the row and whether it was created now."""
    _refuse_unrated(profile, year)
    row = find(s, year_subject(year), SUBMISSION_CODE, for_update=True)
    if row is not None:
        if row.state == UNDATED and row.fulfilled_at is None:
            due, detail, _ = _submission_due(year, profile, calendar)
            if due is not None:
                row.due_at, row.state = due, "pending"
                row.detail = {**(row.detail or {}), **detail}
                ledger.append_in(s, "rating.submission_dated", row.subject, {"due": due.isoformat(), "basis": detail["basis"]})
        return row, False
    due, detail, clause = _submission_due(year, profile, calendar)
    row = Obligation(procedure=PROCEDURE, subject=year_subject(year), code=SUBMISSION_CODE,
                     title=f"报送{year}年度征信合规与信息安全考核评级自评结果及相关证明材料", clause=clause,
                     owner_role="compliance", regime="PBOC-102", due_at=due, state="pending" if due is not None else UNDATED,
                     evidence={}, reminders_sent=[], detail={"year": year, **detail})
    s.add(row)
    s.flush()
    ledger.append_in(s, "rating.submission_owed", row.subject, {"year": year, "due": due.isoformat() if due else None,
                                                                "basis": detail["basis"]})
    return row, True


def owe_submission(year: int, profile: Profile, calendar: WorkingDayCalendar | None = None, url: str | None = None) -> bool:
    """Write the year's self-assessment obligation unless written; True when created now."""
    with db.session(url) as s:
        return ensure_submission_in(s, year, profile, calendar)[1]


def owe_last_year(now: dt.datetime, profile: Profile, calendar: WorkingDayCalendar | None = None,
                  url: str | None = None) -> int | None:
    """From 1 January (Beijing), the previous year's self-assessment is owed (第九条, 第十条（一）);
    None for a year the institution is not rated for (第九条: the yearly run says why)."""
    year = previous_year(now.astimezone(SHANGHAI).date())
    if not_rated(profile.institution, year) is not None:
        return None
    owe_submission(year, profile, calendar, url)
    return year


def record_feedback(year: int, received: dt.date, by: str, profile: Profile, *, calendar: WorkingDayCalendar | None = None,
                    url: str | None = None, today: dt.date | None = None) -> tuple[Obligation, bool]:
    """The PBoC's feedback on ``year``'s rating received on ``received``: the objection window is
    owed until 24:00 of the 7th working day after it (第十条（四）). Entering the same day again
    changes nothing; another day is refused (the window is what it was: correct it by hand in
    the ledger's sight, never silently). Returns the row and whether it was created now."""
    if by not in profile.person_ids:
        raise RatingInputError(f"--by {by} 不是机构配置中的人员（people）")
    if received > (today or dt.datetime.now(SHANGHAI).date()):
        raise RatingInputError(f"--received {received.isoformat()} 晚于今天：收到反馈的日期须已过去")
    if received.year <= year:
        raise RatingInputError(f"--received {received.isoformat()}：{year} 年度的考核评级结果在次年反馈（第九条、第十条），收到日期应在 {year + 1} 年及以后")
    _refuse_unrated(profile, year)
    deadline = objection_due(received, calendar)  # CalendarError: the caller says which year to load
    with db.session(url) as s:
        row = find(s, year_subject(year), OBJECTION_CODE, for_update=True)
        if row is not None:
            recorded = (row.detail or {}).get("received")
            if recorded != received.isoformat():
                raise obligations.Refused(f"{year} 年度已登记于 {recorded} 收到考核评级反馈，申述期限已据此计算；不能改为 {received.isoformat()}")
            return row, False
        row = Obligation(procedure=PROCEDURE, subject=year_subject(year), code=OBJECTION_CODE,
                         title=f"{year}年度考核评级结果如有异议，提出书面申述并提交相关证明材料", clause=OBJECTION_CLAUSE,
                         owner_role="compliance", regime="PBOC-102", due_at=deadline.due, state="pending", evidence={},
                         reminders_sent=[], detail={"year": year, "received": received.isoformat(), "entered_by": by, "due_label": deadline.label(),
                                                    "basis": f"收到反馈之日起 {OBJECTION_WORKING_DAYS} 个工作日内：{deadline.basis}"})
        # The feedback answers a submitted self-assessment; recorded before the submission is (filed outside regflows,
        # or not yet entered), the window still runs (第十条（四）: from the feedback): recorded, warned and on the ledger.
        submission = find(s, year_subject(year), SUBMISSION_CODE)
        if submission is None or submission.state != "fulfilled":
            row.detail = {**(row.detail or {}), "submitted": False,
                          "warning": f"{year} 年度的自评尚未登记报送（regflows rating submit {year} …）：已按收到反馈的日期计算申述期限，"
                                     "请核实自评结果是否已报送人民银行并补登报送"}
        s.add(row)
        s.flush()
        ledger.append_in(s, "rating.feedback_received", row.subject,
                         {"year": year, "received": received.isoformat(), "due": deadline.due.isoformat(), "basis": deadline.basis,
                          "before_submission": "warning" in (row.detail or {})},
                         actor=by)
        return row, True


def close_objection(year: int, *, evidence: str, by: str, reference: str | None = None, file: str | Path | None = None,
                    url: str | None = None, people: Collection[str] | None = None) -> Obligation:
    """The objection window closed: the written objection filed, or the decision not to object, with evidence."""
    return obligations.fulfil(year_subject(year), OBJECTION_CODE, evidence=evidence, by=by, reference=reference, file=file,
                              url=url, people=people,
                              not_found=f"{year} 年度尚未登记收到考核评级反馈（regflows rating feedback --year {year} --received 日期）")


def final_files(year: int, url: str | None = None) -> dict[str, dict[str, str]]:
    """The year's final report and score sheet (key → path, SHA-256), once signed off (stage
    DONE); :class:`obligations.Refused` otherwise or when a final file changed on disk since."""
    from regflows.kit import approvals
    from regflows.rating.signoff import KIND  # signoff imports this module: loaded when used

    approval = approvals.get(KIND, year_subject(year), url)
    if approval is None or approval.stage != approvals.DONE or not (approval.detail or {}).get("final"):
        stage = "尚未提交签发" if approval is None else "尚未定稿（复核、签发未完成）"
        raise obligations.Refused(f"{year} 年度自评报告{stage}，不能登记报送：报送的须是经复核、签发定稿的自评报告"
                                  f"（regflows rating signoff-status {year}）")
    try:
        return check_final(approval.detail["final"])
    except FileChanged as exc:
        raise obligations.Refused(f"{year} 年度定稿文件 {exc.path} 已不存在或定稿后被改动（SHA-256 不符），不能登记报送") from None


def submit(year: int, profile: Profile, *, evidence: str, by: str, reference: str | None = None, file: str | Path | None = None,
           url: str | None = None, today: dt.date | None = None) -> tuple[Obligation, dict[str, dict[str, str]]]:
    """Record the year's self-assessment as sent to the PBoC (the kit's fulfil): only the final
    copies (:func:`final_files`), their paths and SHA-256 kept on the row and in the ledger."""
    if year >= (today or dt.datetime.now(SHANGHAI).date()).year:
        raise RatingInputError(f"{year} 年度尚未结束：自评的是上一年度（PBOC-102 附件3 第九条）")
    owe_submission(year, profile, url=url)  # owed from 1 January even if no watch has written it yet
    files: dict[str, dict[str, str]] = {}

    def only_final(row: Obligation) -> None:
        files.update(final_files(year, url))

    def record_filed(s: Session, row: Obligation, record: dict[str, Any]) -> None:
        row.detail = {**(row.detail or {}), "filed": files}
        ledger.append_in(s, "rating.self_assessment_filed", row.subject, {"year": year, "files": files}, actor=by)

    row = obligations.fulfil(year_subject(year), SUBMISSION_CODE, evidence=evidence, by=by, reference=reference, file=file,
                             url=url, people=profile.person_ids, precondition=only_final, step=record_filed)
    return row, files
