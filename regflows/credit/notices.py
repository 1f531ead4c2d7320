"""The credit-statistics procedure's notice kinds: the request to review or sign the monthly
table, and the daily check's two notices (a 违规查询 raised at once, the daily digest of leads).

Registered with the notices layer when this module is imported, and the package imports it
(``regflows/credit/__init__.py``), so every process that loads a part of the procedure can send
it. Its templates are in ``templates/`` beside this module.

A confirmation of a sign-off request is a signature (PBOC-102 附件2: 复核人、签发人), so the page
shows the request as sent before the button, and the sign-off moves on at once after it
(:func:`after_ack`). Nothing escalates: the request goes to named people, not to a role's chain.
"""

from __future__ import annotations

import datetime as dt
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
    file_url: AckUrl | None = None  # the signed download link of that very file (notices/files.py)
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



class CreditViolationContext(NoticeContext):
    """One 违规查询 found by the daily check, raised at once (PBOC-102 三（二）: 发生征信信息安全风险事件的，
    应立即上报; 附件3 8.1). The acknowledgement records who took it up; it escalates like every
    unacknowledged notice."""

    subject_ref: Ref  # credit-daily:2025-10-03
    day: dt.date
    query_id: Line
    queried_at: Line
    unit: Line  # the institution code of the query
    user_id: Line
    rule_text: Line
    rules: Line
    clause: Line
    ack_url: AckUrl | None = None
    institution: Line | None = None


class CreditDailyDigestContext(NoticeContext):
    """The daily check's digest: the days checked, the 异常查询 leads by rule (PBOC-102 二（四）: 异常查询
    监控、处置与报告), where the full lists are, and every day that could not be checked (its log
    missing or failing its checks), which must be acknowledged."""

    state: Literal["ok", "problem"]
    subject_ref: Ref  # credit-daily:2025-10-12 (the last day checked)
    days: list[Line] = Field(default_factory=list)  # one line per day: queries, 违规, 异常
    leads: list[Line] = Field(default_factory=list)  # one line per rule: how many leads
    examples: list[Line] = Field(default_factory=list)  # the first leads, one line each
    more: int = Field(default=0, ge=0)  # leads not shown
    files: list[Line] = Field(default_factory=list)
    problems: list[Line] = Field(default_factory=list)  # days not checked, with why
    warnings: list[Line] = Field(default_factory=list)
    count: int = Field(default=0, ge=0)  # leads in all
    ack_url: AckUrl | None = None
    institution: Line | None = None


CREDIT_VIOLATION = register_kind(NoticeKind("credit_violation", CreditViolationContext, TEMPLATES, button="确认已知悉并着手核实"))
CREDIT_DAILY_DIGEST = register_kind(NoticeKind("credit_daily_digest", CreditDailyDigestContext, TEMPLATES,
                                               button="确认已知悉（缺失日志将补查）"))

KINDS: tuple[NoticeKind, ...] = (SIGNOFF_REQUEST, CREDIT_VIOLATION, CREDIT_DAILY_DIGEST)
