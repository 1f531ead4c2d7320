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

from calendars.zone import SHANGHAI
from regflows import ledger
from regflows.credit.models import Period, previous_period
from regflows.credit.sheets import due_on
from regflows.credit.signoff import ensure_obligation_in, month_obligation, subject
from regflows.credit.units import tables
from regflows.profile import Profile
from regflows.store import db


def owe_month(profile: Profile, period: Period, url: str | None = None) -> list[str]:
    """Write the obligation of each table ``period`` owes that is not yet written; returns their keys."""
    if profile.institution.credit_access == "none":
        return []
    created: list[str] = []
    with db.session(url) as s:
        for t in tables(profile):
            key = t.key(period)
            if month_obligation(s, key) is not None:
                continue
            due, _basis = due_on(period, t.due_day, profile.settings.deadline_roll_forward)
            row = ensure_obligation_in(s, profile, key, due)
            ledger.append_in(s, "credit_stats.owed", subject(key), {"unit": t.unit.code, "due": due.isoformat(),
                                                                     "title": row.title})
            created.append(key)
    return created


def owe_last_month(profile: Profile, now: dt.datetime | None = None, url: str | None = None) -> list[str]:
    """From the 1st of a month, the previous month's tables are owed."""
    today = (now or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI).date()
    return owe_month(profile, previous_period(today), url)
