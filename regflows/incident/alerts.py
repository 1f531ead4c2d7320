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


def send_alert(profile: Profile, incident_id: str, record: dict[str, Any], grading: dict[str, Any], rows: list[Obligation],
               roles: list[str], drill_people: list[str] | None, **options: Any) -> Any:
    """The alert at declaration; the warning colour and who leads come from the grading rules and
    the profile (``warning_zh``, ``lead``), never from a table in code."""
    upcoming = [r for r in rows if r.due_at and r.state not in CLOSED_STATES][:5]  # fulfilled or waived: nothing due
    context = {
        "incident_id": incident_id, "title": record["title"], "grade": grading["grade"], "colour": grading["warning_zh"],
        "response_level": grading["response_level"], "lead_name": lead_name(profile, grading["lead"]), "discovered_at": record["discovered_at"],
        "next_due": [{"title": r.title, "due_label": r.detail["due_label"], "clause": r.clause} for r in upcoming if (r.detail or {}).get("due_label")],
        "summary": "；".join(grading.get("reasons", []))[:1000] or None, "institution": profile.institution.name, "drill": bool(record.get("drill")),
    }
    drill = bool(record.get("drill"))
    return send_notice(profile, "incident_alert", context, [] if drill else roles,
                       to=participants(profile, None, drill_people) if drill else None,
                       notice_id=f"incident:{incident_id}:alert", urgent=True, requires_ack=True, grade=grading["grade"],
                       related=incident_id, drill=drill, **options)


def remind(profile: Profile, incident: Incident, rows: list[Obligation], now: dt.datetime | None = None, **options: Any) -> list[str]:
    """Send each obligation's due reminder (late ones at once, saying so); raise the missed ones.

    The incident's feed on the kit's one reminder loop; returns ``code:key`` of each notice sent.
    """
    people = participants(profile, incident, drill_participants(incident.id)) if incident.drill else None
    sent = reminders.remind(profile, [IncidentFeed(profile, incident, rows, people)], now, **options)
    return [f"{s.code}:{s.key}" for s in sent]
