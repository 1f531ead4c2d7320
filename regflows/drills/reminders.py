"""Reminders of the owed drills, raised when a period ends without one: the drills' feed on the kit's
one reminder loop (regflows/kit/reminders.py).

Why the kit's :class:`~regflows.kit.reminders.MonthlyUntilDueDay`: a drill is owed once in a year,
half year or quarter and planned in a month of the institution's choice (``drill_month``), so a
reminder each working day would be noise and one at the end too late to plan. So: 09:00 of the
first working day of each month from the profile's month in the period (regflows/drills/owed.py
``remind_from``), 09:00 of the period's last working day, and once the period's last day 24:00
has passed, raised as overdue (acknowledgement required, so the notice watch escalates it along
the role's chain).

Each gap of a drill's report (regflows/drills/gaps.py) is on the same feed: reminded to its owner by
name 5 and 1 working days before its due day and on it, raised once overdue.

Who hears it: the role that organises drills (``drill_owner_role``); overdue, also the
leadership group (CQ-PLAN 第六篇二: the drills are the leadership group's plan) and compliance.
These reminders are about a real obligation, not a drill: they carry no 【演练】 tag.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from calendars.official import WorkingDayCalendar
from regflows.drills.owed import PROCEDURE, owe_year
from notices.routing import Recipient, person_as_recipient
from regflows.drills.gaps import CODE as GAP_CODE
from regflows.kit.reminders import Feed, MonthlyUntilDueDay, ReminderPolicy, WorkingDaysBeforeDueDay
from regflows.kit.reminders import remind as remind_all
from regflows.profile import Profile
from regflows.store.models import Obligation, utcnow
from regflows.store.obligations import open_rows
from calendars.zone import SHANGHAI

__all__ = ["ESCALATE_TO", "REMIND_FROM", "DrillFeed", "remind"]

REMIND_FROM = dt.time(9, 0)  # office hours, not midnight
#: Role kinds told, besides the owner, once a period ended without its drill (those the profile has).
ESCALATE_TO: tuple[str, ...] = ("leadership_group", "compliance")
#: A drill gap's rectification: working days before its due day (as the self-inspection's findings).
GAP_DAYS_BEFORE: tuple[int, ...] = (5, 1)


class DrillFeed(Feed):
    """The owed drills: each reminded from its own month (``detail["remind_from"]``)."""

    def __init__(self, rows: Sequence[Obligation], profile: Profile, now: dt.datetime, calendar: WorkingDayCalendar | None = None) -> None:
        super().__init__(rows, MonthlyUntilDueDay(now.date(), REMIND_FROM, calendar))
        self.profile = profile
        self.now = now
        self.calendar = calendar

    def policy_for(self, row: Obligation) -> ReminderPolicy:
        if row.code == GAP_CODE:  # a gap's rectification runs for weeks (regflows/drills/gaps.py)
            return WorkingDaysBeforeDueDay(GAP_DAYS_BEFORE, REMIND_FROM, self.calendar)
        start = dt.date.fromisoformat(str((row.detail or {})["remind_from"]))
        return MonthlyUntilDueDay(start, REMIND_FROM, self.calendar)

    def recipients(self, row: Obligation) -> list[Recipient] | None:
        owner = (row.detail or {}).get("owner")
        if row.code != GAP_CODE or owner not in self.profile.person_ids:
            return None
        role = next((key for key, r in self.profile.roles.items() if owner in r.members), next(iter(self.profile.roles)))
        return [person_as_recipient(self.profile, str(owner), role)]

    def roles(self, row: Obligation) -> list[str]:
        if row.due_at is not None and self.now >= row.due_at:
            present = {role.kind for role in self.profile.roles.values()} | set(self.profile.roles)
            return [row.owner_role, *(kind for kind in ESCALATE_TO if kind in present and kind != row.owner_role)]
        return [] if self.recipients(row) else [row.owner_role]  # a gap's owner by name, else the organising role

    def notice_id(self, row: Obligation, key: str) -> str:
        return f"{row.subject}:{row.code}:{key}"  # the kinds of one period share its subject

    def context(self, row: Obligation) -> dict[str, Any]:
        detail = row.detail or {}
        if row.code == GAP_CODE:
            return {"subject_title": row.title, **({"basis": detail["basis"]} if detail.get("basis") else {})}
        start = dt.date.fromisoformat(str(detail["remind_from"]))
        return {"subject_title": row.title, "basis": f"{detail.get('clauses', row.clause)}；本机构自 {start.month} 月起提醒（drill_month）"}


def remind(
    profile: Profile, now: dt.datetime | None = None, url: str | None = None, calendar: WorkingDayCalendar | None = None, **options: Any
) -> list[str]:
    """The year's owed drills written (from its first day), then every reminder due now; returns the
    keys sent, ``<subject>:<code>:<key>``."""
    moment = now or utcnow()
    owe_year(profile, moment.astimezone(SHANGHAI).year, url)
    feed = DrillFeed(open_rows(PROCEDURE, url), profile, moment, calendar)
    return [f"{s.subject}:{s.code}:{s.key}" for s in remind_all(profile, [feed], moment, url=url, **options)]
