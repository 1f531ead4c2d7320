"""The credit-statistics procedure's notice kind: the request to review or sign the monthly table.

Registered with the notices layer when this module is imported, and the package imports it
(``regflows/credit/__init__.py``), so every process that loads a part of the procedure can send
it. Its templates are in ``templates/`` beside this module.

A confirmation of a sign-off request is a signature (PBOC-102 附件2: 复核人、签发人), so the page
shows the request as sent before the button, and the sign-off moves on at once after it
(:func:`after_ack`). Nothing escalates: the request goes to named people, not to a role's chain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from notices.kinds import NoticeKind, register_kind
from notices.templates import AckUrl, DueLabel, HexHash, Line, NoticeContext, Ref

TEMPLATES = Path(__file__).resolve().parent / "templates"


class SignoffRequestContext(NoticeContext):
    """A prepared report waits for one person's review or sign-off (PBOC-102 附件2: 填表人、复核人、签发人)."""

    state: Literal["review", "signoff"]
    subject_ref: Ref  # credit-stats:2025-10
    report_title: Line  # 征信信息安全情况统计表（2025年10月）
    prepared_by: Line
    reviewed_by: Line | None = None
    figures: list[Line] = Field(default_factory=list)  # one line per reporting unit
    file_name: Line
    file_sha256: HexHash
    clause: Line
    due_label: DueLabel
    ack_url: AckUrl | None = None
    institution: Line | None = None


def after_ack(notice_id: str) -> str:
    """The sign-off's next step, taken the moment a link is confirmed (:func:`regflows.credit.signoff.after_ack`).

    The credit-stats-watch deployment takes the same step later if this fails.
    """
    # Imported here, not at the top: this module is loaded with the credit package, hence by every
    # `regflows` command (the CLI mounts `credit-stats`), and the sign-off module loads the store
    # (sqlalchemy, alembic): 1.1 s measured, against 0.3 s for all of `regflows calendar ...`.
    from regflows.credit.signoff import after_ack as advance_after_ack

    return advance_after_ack(notice_id)


SIGNOFF_REQUEST = register_kind(NoticeKind(
    "signoff_request", SignoffRequestContext, TEMPLATES, button="确认（记录本人及时间）", shows_body=True,
    stops_escalation=False, after_ack=after_ack,
))

KINDS: tuple[NoticeKind, ...] = (SIGNOFF_REQUEST,)
