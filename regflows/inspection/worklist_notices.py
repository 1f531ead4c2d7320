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

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from notices.kinds import NoticeKind, register_kind
from notices.templates import AckUrl, DueLabel, Line, NoticeContext, Ref
from regflows.inspection.models import LINKS, Answer, Lead
from regflows.inspection.progress import OwnerProgress

__all__ = ["WORKLIST_REMINDER", "WorklistReminderContext", "reminder_context"]

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
