"""The drills' notice kind: the request to review or approve a drill plan (issue 17, item 2),
sent through the kit's approvals (regflows/drills/approval.py) to the eligible people by name.

A request concerns a real document (the plan), so it carries no 【演练】 tag of its own: the plan's
.docx does (its scenario is fictional). A confirmation moves the approval on at once
(:func:`after_ack`); the drill-watch takes it later if that fails.

Registered when this module is imported; the package imports it (``regflows/drills/__init__.py``)
and regflows/procedures.py lists :data:`PLAN_REQUEST` in the procedure's kinds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from notices.kinds import NoticeKind, register_kind
from notices.templates import AckUrl, HexHash, Line, NoticeContext, Ref

__all__ = ["PLAN_REQUEST", "DrillPlanRequestContext", "after_ack"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


class DrillPlanRequestContext(NoticeContext):
    """A drill plan waits for one person's review (审核) or approval (批准)."""

    state: Literal["review", "approve"]
    subject_ref: Ref  # drill-plan:DRILL-20260915-incident
    plan_title: Line  # 2026年网络安全事件应急演练
    event_title: Line
    on: Line  # 2026-09-15 10:00
    revision: int = Field(ge=1)
    prepared_by: Line
    reviewed_by: Line | None = None
    participants: Line
    files: list[Line] = Field(min_length=1)  # one line per file: name, SHA-256, signed download link
    content_sha256: HexHash  # what the approval is bound to (plan.yaml)
    clause: Line
    ack_url: AckUrl | None = None
    institution: Line | None = None


def after_ack(notice_id: str) -> str:
    """The approval's next step, taken the moment a link is confirmed."""
    from regflows.drills.approval import after_ack as advance_after_ack  # loads the store: only when used

    return advance_after_ack(notice_id)


PLAN_REQUEST = register_kind(
    NoticeKind(
        "drill_plan_request",
        DrillPlanRequestContext,
        TEMPLATES,
        button="确认（记录本人及时间）",
        shows_body=True,
        stops_escalation=False,
        after_ack=after_ack,
    )
)
