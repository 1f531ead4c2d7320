"""The request to review or approve the year's rating self-assessment report, a notice kind of
the procedure (issue 16, item 5).

Why a kind of its own: a procedure never imports another (tests/test_boundaries.py), and this
request carries three files (the report, the score sheet and summary.json), each with its SHA-256
and a signed download link, and the score. A confirmation is the person's review or approval, so
the page shows the request before the button, and the sign-off moves on at once after it
(:func:`after_ack`). Nothing escalates: the request goes to the eligible people by name.

Registered when this module is imported; the package imports it (``regflows/rating/__init__.py``)
and regflows/procedures.py lists :data:`SIGNOFF_REQUEST` in the procedure's kinds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from notices.kinds import NoticeKind, register_kind
from notices.templates import AckUrl, DueLabel, HexHash, Line, NoticeContext, Ref

__all__ = ["SIGNOFF_REQUEST", "RatingSignoffContext", "after_ack"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


class RatingSignoffContext(NoticeContext):
    """The year's self-assessment report waits for one person's review (复核) or approval (签发)."""

    state: Literal["review", "approve"]
    subject_ref: Ref  # rating:2025
    report_title: Line  # 2025年度征信合规与信息安全考核评级自评报告
    score_label: Line  # 96.5 分，A 级
    revision: int = Field(ge=1)
    prepared_by: Line
    reviewed_by: Line | None = None
    files: list[Line] = Field(min_length=1)  # one line per file: name, SHA-256, signed download link
    content_sha256: HexHash  # what the approval is bound to (the three files' hashes)
    clause: Line
    due_label: DueLabel | None = None  # the self-assessment's due day, when the calendar gives it
    ack_url: AckUrl | None = None
    institution: Line | None = None


def after_ack(notice_id: str) -> str:
    """The sign-off's next step, taken the moment a link is confirmed
    (:func:`regflows.rating.signoff.after_ack`); rating-watch takes it later if this fails."""
    from regflows.rating.signoff import after_ack as advance_after_ack  # the store: only when a link is confirmed

    return advance_after_ack(notice_id)


SIGNOFF_REQUEST = register_kind(NoticeKind(
    "rating_signoff_request", RatingSignoffContext, TEMPLATES, button="确认（记录本人及时间）", shows_body=True,
    stops_escalation=False, after_ack=after_ack,
))
