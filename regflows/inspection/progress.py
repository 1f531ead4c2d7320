"""How far the owners are with the verification worklist, and whom to remind today.

Why pure: the run's task shows :func:`progress_table` as a table artifact in the Prefect UI and a
watch reminds the owners :func:`owners_to_remind` names (issue 15, item 3: 「Progress shows in
the Prefect UI as an artifact; owners who have not answered are reminded on working days」);
both are decided here from the run's leads and the answers that count, without a server.

Counted per (lead, link): a lead is verified when each of its five links (PBOC-102 三（三）:
授权、审核、查询、使用、存储) has an answer. A lead without an owner cannot be reminded: it is
listed apart (``unowned``) so the caller raises it, never dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from calendars.official import WorkingDayCalendar
from regflows.inspection.models import LINKS, Answer, Lead

__all__ = ["OwnerProgress", "Reminders", "owners_to_remind", "progress", "progress_of", "progress_table"]

UNOWNED = "未指定"


@dataclass(frozen=True)
class OwnerProgress:
    """One owner's part of a run: links answered and not, and the leads still open."""

    owner: str | None  # person_id; None: the leads nobody owns
    leads: int
    answered: int  # (lead, link) pairs with an answer
    unanswered: int
    open_leads: tuple[str, ...]  # lead ids with at least one link unanswered, in the worklist's order

    @property
    def done(self) -> bool:
        return self.unanswered == 0


@dataclass(frozen=True)
class Reminders:
    """Who is reminded on ``day`` (empty on a day that is not an official working day), and the
    open leads that have no owner to remind (raised by the caller)."""

    day: dt.date
    working_day: bool
    owners: tuple[OwnerProgress, ...]
    unowned: tuple[str, ...]


def progress(leads: Sequence[Lead], latest: Mapping[tuple[str, str], Answer]) -> list[OwnerProgress]:
    """Per owner (in the order owners first appear in the worklist; the unowned last)."""
    by_owner: dict[str | None, list[Lead]] = {}
    for lead in leads:
        by_owner.setdefault(lead.owner, []).append(lead)
    out = []
    for owner in sorted(by_owner, key=lambda o: o is None):  # stable: worklist order, None last
        mine = by_owner[owner]
        answered = sum((lead.lead_id, link) in latest for lead in mine for link in LINKS)
        open_leads = tuple(lead.lead_id for lead in mine if any((lead.lead_id, link) not in latest for link in LINKS))
        out.append(OwnerProgress(owner, len(mine), answered, len(mine) * len(LINKS) - answered, open_leads))
    return out


def progress_of(run_id: str, url: str | None = None) -> list[OwnerProgress]:
    """:func:`progress` of a recorded run."""
    from regflows.inspection import records

    return progress(records.leads_of(run_id, url), records.latest_answers(run_id, url))


def progress_table(rows: Sequence[OwnerProgress], names: Mapping[str, str] | None = None) -> list[dict[str, str | int]]:
    """Rows for a table artifact (the UI shows cells as text), one per owner, then a total."""
    names = names or {}
    table: list[dict[str, str | int]] = []
    for r in rows:
        who = UNOWNED if r.owner is None else (f"{names[r.owner]}（{r.owner}）" if r.owner in names else r.owner)
        table.append({"负责人": who, "线索": r.leads, "已答复环节": r.answered, "未答复环节": r.unanswered,
                      "未完成线索": len(r.open_leads), "状态": "已完成" if r.done else "未完成"})
    total_answered = sum(r.answered for r in rows)
    total_open = sum(r.unanswered for r in rows)
    table.append({"负责人": "合计", "线索": sum(r.leads for r in rows), "已答复环节": total_answered, "未答复环节": total_open,
                  "未完成线索": sum(len(r.open_leads) for r in rows), "状态": "已完成" if total_open == 0 else "未完成"})
    return table


def owners_to_remind(rows: Sequence[OwnerProgress], day: dt.date, calendar: WorkingDayCalendar) -> Reminders:
    """The owners with unanswered links, on an official working day (make-up Saturdays included,
    holidays not): 「owners who have not answered are reminded on working days」 (issue 15, 3).
    A year the calendar does not cover raises :class:`calendars.official.YearNotCovered`: no
    reminder is sent or skipped on a guess."""
    working = calendar.is_working_day(day)
    unowned = tuple(lead for r in rows if r.owner is None for lead in r.open_leads)
    owners = tuple(r for r in rows if working and r.owner is not None and not r.done)
    return Reminders(day, working, owners, unowned)
