"""The request to review or approve the quarter's self-inspection report (PBOC-102 三（三）:
「报告流程参照征信信息安全事件的报告要求」), a notice kind of the procedure.

Why a kind of its own and not the credit statistics' ``signoff_request``: a procedure never
imports another (tests/test_boundaries.py), and this request carries two files (the report and
the findings workbook), each with its SHA-256 and a signed download link, and the route the
report takes once final. A confirmation is the person's review or approval, so the page shows the
request as sent before the button, and the sign-off moves on at once after it (:func:`after_ack`).
Nothing escalates: the request goes to the eligible people by name, not to a role's chain.

Registered when this module is imported; the package imports it (``regflows/inspection/__init__.py``)
and regflows/procedures.py lists :data:`SIGNOFF_REQUEST` in the procedure's kinds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from notices.kinds import NoticeKind, register_kind
from notices.templates import AckUrl, DueLabel, HexHash, Line, NoticeContext, Ref

__all__ = ["SIGNOFF_REQUEST", "InspectionSignoffContext", "after_ack"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


class InspectionSignoffContext(NoticeContext):
    """The quarter's report waits for one person's review (复核) or approval (签发)."""

    state: Literal["review", "approve"]
    subject_ref: Ref  # self-inspection:2025Q3
    report_title: Line  # 2025年第三季度征信合规与信息安全自查自纠报告
    run_id: Line
    revision: int = Field(ge=1)
    prepared_by: Line
    reviewed_by: Line | None = None
    files: list[Line] = Field(min_length=1)  # one line per file: name, SHA-256, signed download link
    content_sha256: HexHash  # what the approval is bound to (both files' hashes)
    clause: Line
    route: Line
    due_label: DueLabel | None = None  # the quarter's report due day, when the calendar gives it
    ack_url: AckUrl | None = None
    institution: Line | None = None


def after_ack(notice_id: str) -> str:
    """The sign-off's next step, taken the moment a link is confirmed
    (:func:`regflows.inspection.signoff.after_ack`); self-inspection-watch takes it later if this fails."""
    # Imported here: this module loads with the package, hence with every `regflows` command, and
    # the sign-off loads the store.
    from regflows.inspection.signoff import after_ack as advance_after_ack

    return advance_after_ack(notice_id)


SIGNOFF_REQUEST = register_kind(NoticeKind(
    "inspection_signoff_request", InspectionSignoffContext, TEMPLATES, button="确认（记录本人及时间）", shows_body=True,
    stops_escalation=False, after_ack=after_ack,
))
