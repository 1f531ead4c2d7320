"""Reminders of the rating year's two deadlines, and raising them when missed: the procedure's
feed on the kit's one reminder loop (regflows/kit/reminders.py; issue 16, item 6).

What is reminded: the self-assessment and its evidence (第十条（一）: 31 January, national;
第十一条: the profile's day, local; rolled forward to a working day) and the objection window
(第十条（四）: 7 working days from the feedback an operator entered). Both are short and fixed
by the regulator, so the kit's :class:`~regflows.kit.reminders.WorkingDaysUntilDueDay`: one
reminder each official working day from 09:00 until the due day, then raised once its 24:00 has
passed (acknowledgement required, so the notice watch escalates).

Who hears it: the compliance role (the obligations' owner) before; once overdue, the compliance
role and the leadership group. The previous year's self-assessment is owed from 1 January
(:func:`regflows.rating.owed.owe_last_year`), unless the year is not rated (第九条).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from calendars.official import WorkingDayCalendar
from regflows.kit.reminders import Feed, WorkingDaysUntilDueDay
from regflows.kit.reminders import remind as remind_all
from regflows.profile import Profile
from regflows.rating.owed import owe_last_year
from regflows.rating.schedule import PROCEDURE
from regflows.store.models import Obligation, utcnow
from regflows.store.obligations import open_rows

__all__ = ["ESCALATE_TO", "REMIND_FROM", "RatingFeed", "remind"]

REMIND_FROM = dt.time(9, 0)  # office hours, not midnight
#: Role kinds told once a deadline is missed (those the profile has).
ESCALATE_TO: tuple[str, ...] = ("compliance", "leadership_group")


class RatingFeed(Feed):
    """The procedure's open rows: compliance before the due day; compliance and the leadership once missed."""

    def __init__(self, rows: Sequence[Obligation], profile: Profile, now: dt.datetime,
                 calendar: WorkingDayCalendar | None = None) -> None:
        super().__init__(rows, WorkingDaysUntilDueDay(REMIND_FROM, calendar))
        self.profile = profile
        self.now = now

    def roles(self, row: Obligation) -> list[str]:
        if row.due_at is not None and self.now >= row.due_at:
            kinds = {role.kind for role in self.profile.roles.values()}
            return [kind for kind in ESCALATE_TO if kind in kinds or kind in self.profile.roles]
        return [row.owner_role]

    def notice_id(self, row: Obligation, key: str) -> str:
        return f"{row.subject}:{row.code}:{key}"  # the year's two obligations share its subject

    def context(self, row: Obligation) -> dict[str, Any]:
        basis = (row.detail or {}).get("basis")
        return {"subject_title": row.title, **({"basis": basis} if basis else {})}


def remind(profile: Profile, now: dt.datetime | None = None, url: str | None = None,
           calendar: WorkingDayCalendar | None = None, **options: Any) -> list[str]:
    """The previous year's self-assessment owed (from 1 January), then every reminder due now;
    returns the keys sent, ``<subject>:<code>:<key>``."""
    moment = now or utcnow()
    owe_last_year(moment, profile, calendar, url)
    feed = RatingFeed(open_rows(PROCEDURE, url), profile, moment, calendar)
    return [f"{s.subject}:{s.code}:{s.key}" for s in remind_all(profile, [feed], moment, url=url, **options)]
