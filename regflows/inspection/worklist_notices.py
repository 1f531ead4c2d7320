"""The verification worklist's reminder: an owner with leads still to verify, on a working day.

Why a kind of its own: the reminder goes to one named owner (issue 15, item 3: 「owners who have
not answered are reminded on working days」), lists that owner's open leads, each with the
personal link to its page (:mod:`regflows.inspection.pages`), and is answered by verifying, not by
a confirmation button: it is sent without an acknowledgement link and escalates nothing (who is
late shows in the progress artifact and, at the report, as leads not verified).

Registered when this module is imported; the procedure's ``notices`` module imports it and lists
:data:`WORKLIST_REMINDER` in its ``KINDS`` (regflows/procedures.py). Templates in ``templates/``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from notices.kinds import NoticeKind, register_kind
from notices.templates import AckUrl, DueLabel, Line, NoticeContext, Ref
from regflows.inspection.models import LINKS, Answer, InspectionInputError, Lead
from regflows.inspection.progress import OwnerProgress, Reminders, owners_to_remind, progress
from regflows.profile import Profile

__all__ = ["WORKLIST_REMINDER", "ReminderRound", "WorklistReminderContext", "remind_owners", "reminder_context"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Leads listed one by one in a reminder; the rest are counted (the page and the workbook have all).
MAX_LISTED = 20
CLAUSE = "PBOC-102 三（三）（对风险线索及异常查询线索与对应信贷业务逐笔核实，从授权、审核、查询、使用、存储各环节梳理）"


class WorklistReminderContext(NoticeContext):
    """One owner's open leads of a quarter's self-inspection (PBOC-102 三（三） 逐笔核实)."""

    subject_ref: Ref  # self-inspection:2026Q3
    quarter: Line  # 2026Q3
    owner: Line  # the owner's name
    count: int = Field(ge=1)  # open leads
    unanswered: int = Field(ge=1)  # links without an answer
    leads: list[Line] = Field(default_factory=list)  # one line per open lead, with its page link
    more: int = Field(default=0, ge=0)  # open leads not listed
    worklist: Line | None = None  # where the workbook is (a download link or its name)
    due_label: DueLabel | None = None  # when the answers are wanted by
    clause: Line = CLAUSE
    ack_url: AckUrl | None = None
    institution: Line | None = None


WORKLIST_REMINDER = register_kind(NoticeKind("inspection_worklist_reminder", WorklistReminderContext, TEMPLATES,
                                             button="确认收到（核实请在各线索页面提交）", stops_escalation=False))


def reminder_context(quarter: str, owner_name: str, row: OwnerProgress, leads: Sequence[Lead],
                     latest: Mapping[tuple[str, str], Answer], links: Mapping[str, str], *,
                     worklist: str | None = None, due_label: str | None = None,
                     institution: str | None = None) -> dict[str, Any]:
    """The context of ``row``'s reminder: each open lead (in the worklist's order) with the links
    still unanswered and its page link (``links``: lead id → the owner's page URL, made with
    :func:`regflows.inspection.pages.page_url`); a lead without a link says so."""
    by_id = {lead.lead_id: lead for lead in leads}
    lines = []
    for lead_id in row.open_leads[:MAX_LISTED]:
        lead = by_id[lead_id]
        missing = "、".join(zh for key, zh in LINKS.items() if (lead_id, key) not in latest)
        page = links.get(lead_id)
        where = f"核实页面：{page}" if page else "核实页面链接未生成，请用核实清单填写"
        lines.append(" ".join(f"{lead_id} {lead.summary}（待答复：{missing}）{where}".split()))
    context: dict[str, Any] = {"subject_ref": f"self-inspection:{quarter}", "quarter": quarter, "owner": owner_name,
                               "count": len(row.open_leads), "unanswered": row.unanswered, "leads": lines,
                               "more": max(0, len(row.open_leads) - MAX_LISTED)}
    for key, value in (("worklist", worklist), ("due_label", due_label), ("institution", institution)):
        if value:
            context[key] = value
    return context


@dataclass(frozen=True)
class ReminderRound:
    """One day's reminders: the notices sent (one per owner with open leads), and what could not
    be reminded: open leads without an owner, owners the profile does not know."""

    reminders: Reminders
    sent: tuple[str, ...]
    unknown_owners: tuple[str, ...]


def _role_of(profile: Profile, person_id: str) -> str:
    """The role a delivery failure is raised in (its deputy is told): the first role the owner
    belongs to, else the compliance role, else the profile's first role."""
    for key, role in profile.roles.items():
        if person_id in role.members:
            return key
    return next((key for key, role in profile.roles.items() if role.kind == "compliance"), next(iter(profile.roles)))


def remind_owners(profile: Profile, run_id: str, day: dt.date, *, worklist: str | None = None, due_label: str | None = None,
                  now: dt.datetime | None = None, url: str | None = None,
                  before_send: Callable[[str], None] | None = None) -> ReminderRound:
    """Remind, on an official working day, each owner with unanswered links of the run (issue 15,
    3), each open lead with a fresh personal page link valid ``inspection_page_link_days``.

    One notice per owner and day (``self-inspection:<run>:remind:<day>:<owner>``), so a retried
    call sends nothing twice. Nothing on a day off. Open leads without an owner, and owners the
    profile does not name, are returned and put in the ledger (the caller raises them too): never
    dropped silently. A year the calendar does not cover raises
    :class:`calendars.official.YearNotCovered`."""
    from calendars.official import default_calendar
    from notices.routing import person_as_recipient
    from notices.service import send_notice
    from regflows import ledger
    from regflows.inspection import records
    from regflows.inspection.pages import page_url

    run = records.run_of(run_id, url)
    if run is None:
        raise InspectionInputError(f"自查运行 {run_id} 未登记")
    leads = records.leads_of(run_id, url)
    latest = records.latest_answers(run_id, url)
    reminders = owners_to_remind(progress(leads, latest), day, default_calendar())
    validity = dt.timedelta(days=profile.settings.inspection_page_link_days)
    people = {p.id: p.name for p in profile.people}
    sent: list[str] = []
    unknown: list[str] = []
    for row in reminders.owners:
        assert row.owner is not None  # owners_to_remind names owners only
        if row.owner not in people:
            unknown.append(row.owner)
            continue
        links = {lead_id: page_url(str(profile.public_base_url), run_id, lead_id, row.owner, validity, now)
                 for lead_id in row.open_leads[:MAX_LISTED]}
        context = reminder_context(run.quarter, people[row.owner], row, leads, latest, links, worklist=worklist,
                                   due_label=due_label, institution=profile.institution.name)
        notice_id = f"self-inspection:{run_id}:remind:{day.isoformat()}:{row.owner}"
        send_notice(profile, WORKLIST_REMINDER.name, context, to=[person_as_recipient(profile, row.owner, _role_of(profile, row.owner))],
                    notice_id=notice_id, related=f"self-inspection:{run_id}", before_send=before_send, url=url)
        sent.append(notice_id)
    if reminders.unowned or unknown:
        ledger.append("inspection.worklist_unreminded", run_id,
                      {"day": day.isoformat(), "unowned_leads": list(reminders.unowned), "unknown_owners": unknown}, url=url)
    return ReminderRound(reminders, tuple(sent), tuple(unknown))
