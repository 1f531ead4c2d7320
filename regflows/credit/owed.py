"""The month's reports are owed from the 1st, whatever happens to the run.

PBOC-102 三（二）: 「按月定期向人民银行报送…未发生征信信息安全风险事件的，应采取零报告制度」 and
each table by its day. The obligation of every table the month owes (regflows/credit/units.py)
is written on the 1st, by ``credit-stats-watch`` (hourly) and first thing in the ``credit-stats``
run, not when a table is prepared: a missing log, a failed quality check or a crashed run leaves
the report owed, reminded on working days and raised after its due day like any other
(regflows/credit/deadline.py).
"""

from __future__ import annotations

import datetime as dt

from calendars.deadlines import end_of_day
from calendars.zone import SHANGHAI
from sqlalchemy.orm import Session
from regflows import ledger
from regflows.credit.models import Period, previous_period
from regflows.credit.sheets import due_of
from regflows.credit.signoff import ensure_obligation_in, month_obligation, subject
from regflows.credit.units import tables
from regflows.kit.reminders import UNDATED
from regflows.profile import Profile
from regflows.store import db
from regflows.store.models import Obligation


#: Why a due day moved or a table became owed after the fact: our reading was corrected, not the law.
CORRECTED = "征信统计表报送主体与时限按 PBOC-102 三（二）、附件1、附件3 第二十一条 更正（issue 12）"


#: Why an undated month got its due day: the holiday arrangement of its year was imported.
CALENDAR_LOADED = "该年度节假日安排已载入，报送期限按工作日日历重算"


def _mark_undated(s: Session, row: Obligation, key: str, calendar_missing: bool) -> None:
    """An open month whose due day falls in a year with no calendar data is ``calendar_missing``
    (the kit's reminder loop raises it as a calendar warning, then daily until the notice is in);
    once the year is loaded it is pending again, with its rolled-forward day."""
    if row.fulfilled_at is not None:
        return
    if calendar_missing and row.state != UNDATED:
        row.state = UNDATED
        ledger.append_in(s, "credit_stats.calendar_missing", subject(key), {"nominal_due": row.due_at.isoformat() if row.due_at else None})
    elif not calendar_missing and row.state == UNDATED:
        row.state = "pending"  # as every credit month row that is not fulfilled


def owe_month(profile: Profile, period: Period, url: str | None = None, now: dt.datetime | None = None) -> list[str]:
    """Write the obligation of each table ``period`` owes that is not yet written; returns their keys.

    An open obligation whose due day the profile's reading now puts elsewhere (a bank once read as
    national, now local: the 6th, not the 10th) is moved, in the ledger with the reason; one
    written already past its due time is raised at once by the reminder loop (its overdue key is
    new), its ledger entry saying it is owed late because the reading was corrected.
    """
    if profile.institution.credit_access == "none":
        return []
    at = now or dt.datetime.now(dt.timezone.utc)
    created: list[str] = []
    with db.session(url) as s:
        for t in tables(profile):
            key = t.key(period)
            owed = due_of(period, t.due_day, profile.settings.deadline_roll_forward)
            due = owed.day
            existing = month_obligation(s, key)
            if existing is not None:
                if existing.fulfilled_at is None and existing.due_at != end_of_day(due):
                    ledger.append_in(s, "credit_stats.due_corrected", subject(key), {
                        "from": existing.due_at.isoformat() if existing.due_at else None, "to": end_of_day(due).isoformat(),
                        "reason": CALENDAR_LOADED if existing.state == UNDATED else CORRECTED})
                    existing.due_at = end_of_day(due)
                _mark_undated(s, existing, key, owed.calendar_missing)
                continue
            row = ensure_obligation_in(s, profile, key, due)
            late = end_of_day(due) <= at
            ledger.append_in(s, "credit_stats.owed", subject(key), {
                "unit": t.unit.code, "due": due.isoformat(), "title": row.title,
                **({"overdue_when_owed": True, "reason": CORRECTED} if late else {})})
            _mark_undated(s, row, key, owed.calendar_missing)
            created.append(key)
    return created


def owe_last_month(profile: Profile, now: dt.datetime | None = None, url: str | None = None) -> list[str]:
    """From the 1st of a month, the previous month's tables are owed."""
    at = now or dt.datetime.now(SHANGHAI)
    return owe_month(profile, previous_period(at.astimezone(SHANGHAI).date()), url, at)
