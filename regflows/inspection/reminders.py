"""Reminders before each due date, escalation when overdue: the self-inspection's feed on the kit's
one reminder loop (regflows/kit/reminders.py).

What is reminded: each finding's rectification and its report (regflows/inspection/rectification.py)
and the quarter's self-inspection report (regflows/inspection/owed.py, PBOC-102 三（三）).

Why the kit's :class:`~regflows.kit.reminders.WorkingDaysBeforeDueDay` rather than its daily
``WorkingDaysUntilDueDay``: a rectification runs for weeks, and a reminder every working day of
it would teach the owner to ignore them. So: at 09:00 of the working day N working days before
the due day (``inspection_remind_working_days_before``, 5 and 1 by default), at 09:00 of the due
day, and once its 24:00 has passed, raised as overdue (acknowledgement required, so the notice
watch escalates it along the role's chain).
Points already past when a finding is opened are marked passed then (:func:`passed_at_opening`):
a reminder "5 working days before" of a finding due in 3 would otherwise go out as a late one
blaming an outage that never happened.

Who hears it: before the due day, the finding's owner (the quarter's report: the compliance
role); overdue, the owner and the compliance role and the leadership group (escalation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from calendars.official import CalendarError, WorkingDayCalendar
from notices.routing import Recipient, person_as_recipient
from regflows.inspection.owed import PROCEDURE, owe_last_quarter
from regflows.kit.reminders import Feed, WorkingDaysBeforeDueDay
from regflows.kit.reminders import remind as remind_all
from regflows.profile import Profile
from regflows.settings import InspectionSettings
from regflows.store.models import Obligation, utcnow
from regflows.store.obligations import open_rows

__all__ = ["ESCALATE_TO", "REMIND_FROM", "InspectionFeed", "WorkingDaysBeforeDueDay", "passed_at_opening", "policy", "remind"]

REMIND_FROM = dt.time(9, 0)  # office hours, not midnight
#: Role kinds told, besides the owner, once a deadline is missed (those the profile has).
ESCALATE_TO: tuple[str, ...] = ("compliance", "leadership_group")


def policy(settings: InspectionSettings | None = None, calendar: WorkingDayCalendar | None = None) -> WorkingDaysBeforeDueDay:
    chosen = settings or InspectionSettings()
    return WorkingDaysBeforeDueDay(tuple(chosen.inspection_remind_working_days_before), REMIND_FROM, calendar)


def passed_at_opening(due: dt.datetime | None, settings: InspectionSettings | None = None,
                      calendar: WorkingDayCalendar | None = None, now: dt.datetime | None = None) -> list[str]:
    """The reminder keys already past when an obligation is written (never the overdue one: a
    finding entered after its due day is raised at once)."""
    if due is None:
        return []
    moment = now or utcnow()
    try:
        points = policy(settings, calendar).points(due)
    except CalendarError:
        return []  # the loop raises the missing year as a calendar warning
    return sorted(key for key, state, at in points if at <= moment and state != "overdue")


class InspectionFeed(Feed):
    """The procedure's open rows: findings go to their owner, the quarter's report to compliance;
    a missed deadline also to the compliance role and the leadership group."""

    def __init__(self, rows: Sequence[Obligation], reminder_policy: WorkingDaysBeforeDueDay, profile: Profile,
                 now: dt.datetime) -> None:
        super().__init__(rows, reminder_policy)
        self.profile = profile
        self.now = now

    def _overdue(self, row: Obligation) -> bool:
        return row.due_at is not None and self.now >= row.due_at

    def _owner(self, row: Obligation) -> str | None:
        owner = (row.detail or {}).get("owner")
        return str(owner) if owner and owner in self.profile.person_ids else None

    def roles(self, row: Obligation) -> list[str]:
        kinds = {role.kind for role in self.profile.roles.values()}
        if self._overdue(row):
            return [kind for kind in ESCALATE_TO if kind in kinds or kind in self.profile.roles]
        return [] if self._owner(row) else [row.owner_role]  # an owner no longer in the profile: compliance

    def recipients(self, row: Obligation) -> list[Recipient] | None:
        owner = self._owner(row)
        if owner is None:
            return None
        roles = self.profile.roles
        compliance = next((key for key, role in roles.items() if role.kind == "compliance"), next(iter(roles)))
        role_key = next((key for key, role in roles.items() if owner in role.members), compliance)  # its deputy if undelivered
        return [person_as_recipient(self.profile, owner, role_key)]

    def notice_id(self, row: Obligation, key: str) -> str:
        return f"{row.subject}:{row.code}:{key}"  # a finding's two obligations share its subject

    def context(self, row: Obligation) -> dict[str, Any]:
        detail = row.detail or {}
        finding = detail.get("finding")
        title = f"{finding['unit']}：{finding['title']}（责任人 {finding['owner']}）" if finding else None
        return {**({"subject_title": title} if title else {}), **({"basis": detail["basis"]} if detail.get("basis") else {})}


def remind(profile: Profile, now: dt.datetime | None = None, url: str | None = None,
           calendar: WorkingDayCalendar | None = None, **options: Any) -> list[str]:
    """The last quarter's reports owed (from the quarter's first day: the head office's and each
    unit's that reports on its own), then every reminder due now;
    returns the keys sent, ``<subject>:<code>:<key>``."""
    moment = now or utcnow()
    settings = profile.settings
    owe_last_quarter(moment, settings, calendar, url, profile)  # every report the quarter owes (units.py)
    feed = InspectionFeed(open_rows(PROCEDURE, url), policy(settings, calendar), profile, moment)
    return [f"{s.subject}:{s.code}:{s.key}" for s in remind_all(profile, [feed], moment, url=url, **options)]
