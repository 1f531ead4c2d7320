"""Who is told what about an incident, and when: the alert, reminders, raised deadlines, approvals.

Everything goes through the notices layer (templates, fan-out with evidence, acknowledgement,
escalation). A drill sends exactly the same notices, tagged 【演练】, only to the drill's
participants; nothing is addressed to a regulator, the police or customers by regflows in any
case (reports are drafts for a person to file).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from notices.routing import Recipient, person_as_recipient
from notices.service import send_notice
from regflows.incident import store
from regflows.incident.grading import Grading, grading_rules
from regflows.incident.record import CATEGORY_NAMES
from regflows.incident.reminders import IncidentFeed
from regflows.kit import reminders
from regflows.profile import Profile
from regflows.store.models import Incident, Obligation
from regflows.store.obligations import CLOSED_STATES


def participants(profile: Profile, incident: Incident | None, listed: list[str] | None) -> list[Recipient]:
    """A drill's recipients: the listed people, else the on-call role."""
    ids = listed or list(profile.roles_of_kind("on_call").values())[0].members
    return [person_as_recipient(profile, pid, "on_call") for pid in ids]


def drill_participants(incident_id: str) -> list[str] | None:
    for event in store.timeline(incident_id):
        if event.kind == "recorded":
            return event.detail.get("participants")
    return None


def lead_name(profile: Profile, lead_role_kind: str) -> str | None:
    """Who leads the response, as the institution names it: its roles of the grading's lead kind
    (CQ-PLAN 第四篇二, ``lead`` in rules/grading.yaml), or None when the profile has none."""
    return "、".join(role.name for role in profile.roles_of_kind(lead_role_kind).values()) or None


def alert_roles(profile: Profile, grading: dict[str, Any]) -> list[str]:
    """Who is told at declaration. With CQ-PLAN: the grading's ``alert_roles`` (the lead,
    implementer and warning issuer of the level, the on-call duty, the information-management
    department: CQ-PLAN 第三篇三、第四篇二; CUSTINFO 8.2). Without it, CQ-PLAN's bodies have no part:
    ``without_plan.alert_roles`` of rules/grading.yaml and whoever approves the end
    (``settings.incident_end_approval_role``)."""
    if profile.regime_on("CQ-PLAN"):
        return list(Grading.model_validate(grading).alert_roles)
    return list(dict.fromkeys([*grading_rules().without_plan.alert_roles, profile.settings.incident_end_approval_role]))


def role_name(profile: Profile, role: str) -> str:
    return "、".join(r.name for r in profile.roles_of_kind(role).values()) or (profile.roles[role].name if role in profile.roles else role)


def possible_scope(record: dict[str, Any]) -> str:
    """可能影响范围 (CQ-PLAN 第三篇三) as far as the record tells it: the system, other systems, an
    outage's provinces and hours, the number of PFI subjects."""
    parts = [f"系统：{record['system_name']}"]
    if record.get("other_systems_affected"):
        parts.append(f"对其他系统的影响：{record['other_systems_affected']}")
    if record.get("outage"):
        outage = record["outage"]
        parts.append(f"{outage['provinces']} 个省级行政区业务无法正常开展，已 {outage['hours']:g} 小时")
    if record.get("pfi"):
        parts.append(f"涉及个人金融信息主体 {record['pfi']['subjects']} 人（{'、'.join(record['pfi']['types'])}）")
    return "；".join(parts)


def warning_context(profile: Profile, record: dict[str, Any], grading: dict[str, Any]) -> dict[str, Any]:
    """The warning's contents (CQ-PLAN 第三篇三: 预警信息包括事件的类别、预警级别、起始时间、可能影响范围、
    警示事项、应采取的措施和时限要求、发布处室): empty when the profile does not enable CQ-PLAN.
    The level's colour, cautions, measures and issuer are the grading rules'; the time limits are
    the alert's own next deadlines."""
    if not profile.regime_on("CQ-PLAN"):
        return {}
    level = grading_rules().levels.get(grading["grade"])
    issuer = grading.get("warning_issuer") or (level.warning_issuer if level is not None else None)
    context: dict[str, Any] = {
        "colour": grading.get("warning_zh"), "response_level": grading.get("response_level"),
        "lead_name": lead_name(profile, grading["lead"]) if grading.get("lead") else None,
        "category_name": CATEGORY_NAMES.get(record.get("category") or "", record.get("category")),
        "warning_start": record["discovered_at"], "scope": possible_scope(record)[:1000],
        "issuer_name": role_name(profile, issuer) if issuer else None,
    }
    if level is not None:
        context.update(cautions=level.warning_cautions, measures=level.warning_measures,
                       warning_clause=f"{level.warning_clause}；{level.warning_measures_clause}")
    return context


def send_alert(profile: Profile, incident_id: str, record: dict[str, Any], grading: dict[str, Any], rows: list[Obligation],
               roles: list[str], drill_people: list[str] | None, *, correction: str | None = None, revision: int = 0,
               **options: Any) -> Any:
    """The alert at declaration; with CQ-PLAN it is the warning (its contents: :func:`warning_context`),
    the colour, response level and who leads read from the grading rules and the profile, never
    from a table in code.

    After a correction of the facts (regflows/incident/update.py) the same alert goes again to the
    new level's roles, headed 【更正】 with what changed (``correction``) and numbered by
    ``revision``: its own notice id, so its deliveries are not taken for the first alert's."""
    upcoming = [r for r in rows if r.due_at and r.state not in CLOSED_STATES][:5]  # fulfilled or waived: nothing due
    context = {
        "incident_id": incident_id, "title": record["title"], "grade": grading["grade"], "discovered_at": record["discovered_at"],
        "next_due": [{"title": r.title, "due_label": r.detail["due_label"], "clause": r.clause} for r in upcoming if (r.detail or {}).get("due_label")],
        "summary": "；".join(grading.get("reasons", []))[:1000] or None, "institution": profile.institution.name, "drill": bool(record.get("drill")),
        **warning_context(profile, record, grading),
        **({"correction": correction[:1000], "corrected": True} if correction else {}),
    }
    drill = bool(record.get("drill"))
    return send_notice(profile, "incident_alert", context, [] if drill else roles,
                       to=participants(profile, None, drill_people) if drill else None,
                       notice_id=f"incident:{incident_id}:alert" + (f":u{revision}" if revision else ""), urgent=True, requires_ack=True, grade=grading["grade"],
                       related=incident_id, drill=drill, **options)


def remind(profile: Profile, incident: Incident, rows: list[Obligation], now: dt.datetime | None = None, **options: Any) -> list[str]:
    """Send each obligation's due reminder (late ones at once, saying so); raise the missed ones.

    The incident's feed on the kit's one reminder loop; returns ``code:key`` of each notice sent.
    """
    people = participants(profile, incident, drill_participants(incident.id)) if incident.drill else None
    sent = reminders.remind(profile, [IncidentFeed(profile, incident, rows, people)], now, **options)
    return [f"{s.code}:{s.key}" for s in sent]
