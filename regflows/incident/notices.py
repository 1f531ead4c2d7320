"""The incident procedure's notice kinds: the alert at declaration and the approval to close.

Registered with the notices layer when this module is imported, and the package imports it
(``regflows/incident/__init__.py``): any process that loads a part of the incident procedure, a
flow run in a worker above all, can send these kinds. Their templates are in ``templates/``
beside this module; the field types come from :mod:`notices.templates`, whose design check
(``tests/notices/test_templates.py``) covers these models like the generic ones.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, computed_field

from notices.kinds import NoticeKind, register_kind
from notices.templates import AckUrl, DueLabel, Line, NoticeContext, Ref, Text

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: NFRA grade (附件 分级标准) and CQ-PLAN response level: both I to IV.
Grade = Literal["I", "II", "III", "IV"]
#: A warning colour as the grading rules name it (``warning_zh`` in rules/grading.yaml: 红色,
#: 橙色 ...). A short text ending in 色, so that it may appear in an SMS: it cannot hold a name.
WarningColour = Annotated[str, StringConstraints(pattern=r"^[\u4e00-\u9fff]{1,2}色$")]


class NextDue(NoticeContext):
    """One of the nearest deadlines an alert lists."""

    title: Line  # 向国家金融监督管理总局报告
    due_label: DueLabel
    clause: Line  # NFRA 45


class IncidentAlertContext(NoticeContext):
    """A security incident was declared (CQ-PLAN warning colours, NFRA grades)."""

    incident_id: Ref
    title: Line
    grade: Grade
    colour: WarningColour | None = None  # 预警颜色, when the institution follows CQ-PLAN
    response_level: Grade | None = None
    lead_name: Line | None = None  # who leads the response: the profile's name of the grading's lead role
    discovered_at: dt.datetime
    # The warning's contents (CQ-PLAN 第三篇三), when the institution follows CQ-PLAN; the time
    # limits are ``next_due``.
    category_name: Line | None = None  # 事件类别 (CQ-PLAN 第一篇三)
    warning_start: dt.datetime | None = None  # 起始时间
    scope: Text | None = None  # 可能影响范围
    cautions: Text | None = None  # 警示事项
    measures: Text | None = None  # 应采取的措施
    issuer_name: Line | None = None  # 发布处室
    warning_clause: Line | None = None
    next_due: list[NextDue] = Field(default_factory=list)
    summary: Text | None = None
    ack_url: AckUrl | None = None
    institution: Line | None = None
    drill: bool = False
    # A correction of the facts (regflows/incident/update.py): what changed, and the SMS's 【更正】.
    correction: Text | None = None
    corrected: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def next_due_label(self) -> str | None:
        """The earliest deadline: labels sort as text (``24:00`` after ``23:59`` of the same day)."""
        return min((o.due_label for o in self.next_due), default=None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def next_due_count(self) -> int:
        return len(self.next_due)


class ApprovalRequestContext(NoticeContext):
    """A decision only a given role may take (e.g. ending a response, CQ-PLAN): asks its members."""

    incident_id: Ref
    incident_title: Line
    grade: Grade
    action: Line  # what this party does: 提出结束应急响应的建议 / 批准结束应急响应 (CQ-PLAN 第四篇三)
    decision_role: Line  # 网络安全领导小组
    basis: Line  # the clause that gives that role the decision
    proposed_by: Line | None = None  # who started the closing
    earlier: Line | None = None  # the parties that decided before this step, with who
    documents: list[Line] = Field(default_factory=list)  # 《title》：signed download link, one per document on record
    ack_url: AckUrl | None = None
    institution: Line | None = None
    drill: bool = False


def superseding_alert(notice_id: str) -> str | None:
    """The newer alert of the same incident (a 【更正】 after a correction of the facts) that
    replaces ``notice_id``, or None: the acknowledgement page shows it instead of stale content."""
    parts = notice_id.split(":")
    if len(parts) < 3 or parts[0] != "incident" or parts[2] != "alert":
        return None
    from regflows.incident import store  # loads the store only when a link is opened (see after_approval)

    incident_id = parts[1]
    mine, latest = store.alert_revision(notice_id, incident_id), store.latest_alert(incident_id)
    return latest[1] if mine is not None and latest is not None and latest[0] > mine else None


INCIDENT_ALERT = register_kind(NoticeKind(
    "incident_alert", IncidentAlertContext, TEMPLATES, superseded_by=superseding_alert,
    sms_fields=frozenset({"incident_id", "grade", "colour", "response_level", "discovered_at", "next_due_label", "next_due_count",
                        "corrected"}),
))
#: A decision: the page shows what is decided before the button, and the button says so.
def after_approval(notice_id: str) -> str:
    """Closing's next step, taken the moment an approval link is confirmed
    (:func:`regflows.incident.closing.after_ack`); incident-watch takes it later if this fails."""
    # Imported here, not at the top: this module loads with the incident package, hence with every
    # `regflows` command, and closing loads the store and the notices engine (about 1 s measured).
    from regflows.incident.closing import after_ack

    return after_ack(notice_id)


APPROVAL_REQUEST = register_kind(NoticeKind(
    "approval_request", ApprovalRequestContext, TEMPLATES, button="同意", shows_body=True,
    sms_fields=frozenset({"incident_id", "grade"}), after_ack=after_approval,
))

KINDS: tuple[NoticeKind, ...] = (INCIDENT_ALERT, APPROVAL_REQUEST)
