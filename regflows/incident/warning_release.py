"""Releasing an incident's warning (CQ-PLAN 第三篇五 预警解除), recorded with who decided and who consented.

CQ-PLAN 第三篇五: red and orange — the emergency working group decides and publishes the release;
yellow — the division decides, and publishes once the working group consented; blue — the
division decides. Who that is per level is data (``warning_release`` in rules/grading.yaml, the
shipped rules of the incident's grade). The release is a decision someone answers for, so the
person recording it must be a member of the deciding body, the consenting person a member of
the consenting body and another person; it goes on the incident's timeline
(``warning_released``) and in the audit ledger (``incident.warning_released``) in one
transaction. Only where the profile enables CQ-PLAN: without it, an incident has no warning level.
"""

from __future__ import annotations

from typing import Any

from notices.masking import mask_pii
from regflows.incident import store
from regflows.incident.grading import grading_rules
from regflows.kit import approvals
from regflows.profile import Profile


class ReleaseRefused(ValueError):
    pass


def _body(profile: Profile, role: str) -> str:
    return profile.role_label(role)


def release_warning(profile: Profile, incident_id: str, by: str, consented_by: str | None = None,
                    note: str | None = None) -> dict[str, Any]:
    """Record the release of the incident's warning; refused (nothing recorded) when not allowed."""
    incident = store.load_incident(incident_id)
    if not profile.regime_on("CQ-PLAN"):
        raise ReleaseRefused("本机构未启用 CQ-PLAN：事件没有预警等级，无需解除预警")
    if any(e.kind == "warning_released" for e in store.timeline(incident_id)):
        raise ReleaseRefused(f"事件 {incident_id} 的预警已解除")
    level = grading_rules().levels[incident.grade]  # type: ignore[index]
    rule = level.warning_release
    basis = f"{rule.clause}：{rule.text}"
    if by not in approvals.role_members(profile, rule.by):
        raise ReleaseRefused(f"{level.warning_zh}预警由{_body(profile, rule.by)}决定解除（{basis}），{by} 不是其成员")
    if rule.consent is not None:
        if not consented_by:
            raise ReleaseRefused(f"{level.warning_zh}预警解除须经{_body(profile, rule.consent)}同意（{basis}）：请用 --consented-by 写明同意人")
        if consented_by == by or consented_by not in approvals.role_members(profile, rule.consent):
            raise ReleaseRefused(f"同意人 {consented_by} 须为{_body(profile, rule.consent)}中决定人以外的成员（{basis}）")
    elif consented_by:
        raise ReleaseRefused(f"{level.warning_zh}预警的解除无需他人同意（{basis}）：请去掉 --consented-by")
    detail = {"grade": incident.grade, "warning": level.warning_zh, "decided_by": by, "basis": basis,
              **({"consented_by": consented_by} if consented_by else {}), **({"note": mask_pii(note.strip())} if note and note.strip() else {})}
    store.add_event(incident_id, "warning_released", by, detail)
    return {"incident": incident_id, **detail}
