"""An incident's reminders: its feed on the kit's one reminder loop (regflows/kit/reminders.py).

Incident deadlines are exact instants (NFRA 第四十五条: hours from discovery), so the policy is
:class:`~regflows.kit.reminders.BeforeDueInstant` with the profile's ``reminder_minutes_before``.
What is the incident's own: a drill is told only to its participants and tagged 【演练】; the
notice shows the incident's title and grade and how the deadline was counted; a missed deadline
is also an "overdue" event on the incident's timeline; a row whose due day falls in a year with
no calendar data is raised to compliance and the owner once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from notices.routing import Recipient
from regflows.incident import store
from regflows.kit.reminders import UNDATED, BeforeDueInstant, EveryUntilMet, Feed, Reminder, ReminderPolicy
from regflows.profile import Profile
from regflows.store.models import Incident, Obligation


class IncidentFeed(Feed):
    """The open obligations of one incident."""

    def __init__(self, profile: Profile, incident: Incident, rows: Sequence[Obligation], people: list[Recipient] | None) -> None:
        super().__init__(rows, BeforeDueInstant(tuple(profile.settings.reminder_minutes_before)))
        self.incident = incident
        self.profile = profile
        self.people = people  # a drill's participants (None: not a drill)

    def policy_for(self, row: Obligation) -> ReminderPolicy:
        """An obligation with no fixed hour (及时) is reminded every ``untimed_reminder_hours`` from
        discovery until met (NFRA 46, CQ-PLAN 第三篇四); the others before their due instant."""
        if row.due_at is None and (row.detail or {}).get("untimed"):
            start = self.incident.discovered_at
            start = start if start.tzinfo else start.replace(tzinfo=dt.timezone.utc)
            return EveryUntilMet(start, dt.timedelta(hours=float(self.profile.settings.untimed_reminder_hours)))
        return self.policy

    def roles(self, row: Obligation) -> list[str]:
        return [] if self.incident.drill else [row.owner_role, "on_call"]

    def recipients(self, row: Obligation) -> list[Recipient] | None:
        return self.people

    def notice_id(self, row: Obligation, key: str) -> str:
        return f"incident:{self.incident.id}:{row.code}:{'calendar' if key == UNDATED else key}"

    def context(self, row: Obligation) -> dict[str, Any]:
        corrected = (row.detail or {}).get("rules_corrected")
        why = {"late_reason": f"义务规则解读已更正（第 {corrected['revision']} 次修订）后新增或重算本义务"} if corrected else {}
        return {"subject_title": self.incident.title, "basis": (row.detail or {}).get("basis"), "drill": self.incident.drill, **why}

    def notice_options(self, row: Obligation, kind: str) -> dict[str, Any]:
        grade = {"grade": self.incident.grade} if kind == "deadline_reminder" else {}
        return {"related": self.incident.id, "drill": self.incident.drill, **grade}

    def undated_warning(self, row: Obligation) -> str:
        return f"事件 {super().undated_warning(row)}"

    def overdue(self, row: Obligation, reminder: Reminder, url: str | None) -> None:
        assert row.due_at is not None
        store.add_event(self.incident.id, "overdue", "regflows", {"obligation": row.code, "due": row.due_at.isoformat(),
                                                                   "late": reminder.late}, url=url)
