"""Closing an incident with the approval CQ-PLAN requires for its response level.

CQ-PLAN (应急结束): I — the working group proposes, the leadership group approves; II — the
working group decides; III — the division decides with the working group's consent; IV — the
division decides with the development centre. The grading rules carry this as ``ending``
(``by``, ``approved_by``, ``together_with``).

The Prefect UI cannot tell who clicked, so each deciding role gets an approval request through
the notices layer with a personal signed link; a click records who approved and when. The
incident closes when every deciding role has an approval from one of its own members.
"""

from __future__ import annotations

from typing import Any

from notices.escalation import mark_resolved
from notices.service import send_notice
from regflows.incident import store
from regflows.profile import Profile
from regflows.store import db
from regflows.store.models import Notice


class CloseRefused(ValueError):
    pass


def deciding_roles(grading: dict[str, Any]) -> list[str]:
    ending = grading["ending"]
    roles = [ending.get("approved_by") or ending["by"]]
    if ending.get("together_with"):
        roles.append(ending["together_with"])
    return list(dict.fromkeys(roles))


def approval_notice_id(incident_id: str, role_kind: str) -> str:
    return f"incident:{incident_id}:close:{role_kind}"


def request_close(profile: Profile, incident_id: str, proposed_by: str, **options: Any) -> list[str]:
    incident = store.load_incident(incident_id)
    if incident.state == "closed":
        raise CloseRefused(f"事件 {incident_id} 已结束")
    if not incident.record.get("response_ended_at"):
        raise CloseRefused("尚未记录应急响应结束时间（response_ended_at）：请先用 regflows incident update 记录")
    grading = incident.grading
    roles = deciding_roles(grading)
    ending = grading["ending"]
    for role in roles:
        context = {"incident_id": incident_id, "incident_title": incident.title, "grade": incident.grade, "action": "结束应急响应",
                   "decision_role": "、".join(r.name for r in profile.roles_of_kind(role).values()) or role,
                   "basis": f"{ending['clause']}：{ending['text']}"[:300], "proposed_by": proposed_by,
                   "institution": profile.institution.name, "drill": incident.drill}
        send_notice(profile, "approval_request", context, [role], notice_id=approval_notice_id(incident_id, role), urgent=True,
                    requires_ack=True, grade=incident.grade, related=incident_id, drill=incident.drill, **options)
    store.set_state(incident_id, "closing", proposed_by, {"deciding_roles": roles})
    return roles


def try_close(profile: Profile, incident_id: str) -> dict[str, str] | None:
    """Close when each deciding role approved through a member's own link; returns the approvers."""
    incident = store.load_incident(incident_id)
    if incident.state != "closing":
        return None
    approvers: dict[str, str] = {}
    with db.session() as s:
        for role in deciding_roles(incident.grading):
            notice = s.get(Notice, approval_notice_id(incident_id, role))
            members = {m for r in profile.roles_of_kind(role).values() for m in r.members}
            if notice is None or notice.acked_by is None or notice.acked_by not in members:
                return None
            approvers[role] = notice.acked_by
    store.set_state(incident_id, "closed", ",".join(approvers.values()), {"approved_by": approvers})
    for notice_id in (f"incident:{incident_id}:alert",):
        try:
            mark_resolved(notice_id, by="regflows")
        except LookupError:
            pass
    return approvers
