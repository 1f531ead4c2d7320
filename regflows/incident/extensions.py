"""Another due time by written approval, where a rule allows it (TENPAY 第十三条).

TENPAY 13: 「除非有公司管理层另行书面批准，上述第七条至第九条的措施应当在确认个人金融信息安全事件发生后的
24小时内予以处理完成」. A person asks for another due time with a reason (``regflows incident
extend``); a member of the management role (``settings.extension_approval_role``, default the
leadership group) approves it through a personal signed link: the kit's maker-checker approvals
(regflows/kit/approvals.py), so the approval is written, personal and recorded with who and when,
and the requester cannot approve their own request. Once approved (``incident-watch`` takes the
step within a minute), the clock counts the obligation to the approved time
(:class:`regflows.incident.clock.Extension`): it is not raised as overdue before it.

Only an obligation whose rule is ``extendable`` (the rule file names the clause and condition)
can be extended; any other is refused naming its clause.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from calendars.zone import SHANGHAI
from notices.masking import mask_pii
from regflows import ledger
from regflows.incident import store
from regflows.incident.clock import Extension
from regflows.kit import approvals
from regflows.kit.approvals import APPROVED, DONE, Act, Approval, NoticeRequest, Policy
from regflows.profile import Profile
from regflows.store import db
from regflows.store.models import IncidentEvent, utcnow

#: The approval kind in the store's ``approval`` table; the subject is ``<incident>:<obligation>``.
KIND = "incident-extend"
STEP = "management"


class ExtensionRefused(ValueError):
    pass


def subject_of(incident_id: str, code: str) -> str:
    return f"{incident_id}:{code}"


def _label(value: dt.datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def content_sha256(incident_id: str, code: str, until: str, reason: str) -> str:
    """What the manager approves: this obligation of this incident, due at this time, for this reason."""
    content = {"incident": incident_id, "obligation": code, "until": until, "reason": reason}
    return hashlib.sha256(ledger.canonical_json(content).encode("utf-8")).hexdigest()


def policy(profile: Profile, incident_id: str) -> Policy:
    role = profile.settings.extension_approval_role

    def request(approval: Approval, step: approvals.Step, asked: str) -> NoticeRequest:
        incident = store.load_incident(incident_id)
        detail = approval.detail
        context = {"incident_id": incident_id, "incident_title": incident.title, "grade": incident.grade,
                   "action": f"另定“{detail['title']}”的期限至 {_label(dt.datetime.fromisoformat(detail['until']))}（理由：{detail['reason']}）",
                   "decision_role": "、".join(r.name for r in profile.roles_of_kind(asked).values())
                   or (profile.roles[asked].name if asked in profile.roles else asked),
                   "basis": f"{detail['clause']}：{detail['when']}"[:300], "proposed_by": approval.maker.name,
                   "institution": profile.institution.name, "drill": incident.drill}
        return NoticeRequest("approval_request", context, address="eligible",
                             options={"urgent": True, "grade": incident.grade, "drill": incident.drill})

    def request_id(approval: Approval, step: approvals.Step, asked: str, attempt: int) -> str:
        code = approval.subject.split(":", 1)[1]
        return f"incident:{incident_id}:extend:{code}:r{approval.revision}:{asked}:{attempt}"

    step = approvals.Step(STEP, (role,), distinct=True, action="obligation.extension_approved")
    return Policy(KIND, (step,), request=request, request_id=request_id, refused_action="obligation.extension_refused",
                  refused_reason="不是公司管理层（settings.extension_approval_role）的成员（TENPAY 第十三条）",
                  maker_refused_reason="申请人不能批准自己的申请（TENPAY 第十三条：须由公司管理层另行书面批准）")


def request_extension(profile: Profile, incident_id: str, code: str, until: dt.datetime, reason: str, by: str,
                      now: dt.datetime | None = None, **options: Any) -> Approval:
    """Ask the management role to approve another due time; returns the approval (waiting)."""
    moment = now or utcnow()
    if until.tzinfo is None or until.utcoffset() is None:
        raise ExtensionRefused(f"--until 须带时区偏移：{until.isoformat()}")
    if not reason.strip():
        raise ExtensionRefused("另定期限必须写明理由（--reason）")
    reason = mask_pii(reason.strip())  # free text: masked before the approval, the timeline and the ledger keep it
    if by not in profile.person_ids:
        raise ExtensionRefused(f"申请人（--by）{by} 不在机构配置的人员（people）中")
    row = next((r for r in store.obligations_of(incident_id) if r.code == code), None)
    if row is None:
        raise store.IncidentNotFound(f"事件 {incident_id} 没有义务 {code}")
    allowed = (row.detail or {}).get("extendable")
    if not allowed:
        raise ExtensionRefused(f"义务“{row.title}”（{row.code}，{row.clause}）没有规则允许另定期限"
                               f"（规则 {row.rules_version} 中该义务没有 extendable）：须按期履行")
    if row.state in ("fulfilled", "waived", "withdrawn"):  # regflows/store/obligations.py CLOSED_STATES
        done = {"fulfilled": "履行", "waived": "豁免", "withdrawn": "因事件更正不再适用"}[row.state]
        raise ExtensionRefused(f"义务“{row.title}”（{row.code}）已{done}，无需另定期限")
    if until <= moment:
        raise ExtensionRefused(f"--until {until.isoformat()} 已过去：另定的期限须在将来")
    if not [m for m in approvals.role_members(profile, profile.settings.extension_approval_role) if m != by]:
        raise ExtensionRefused(f"角色 {profile.settings.extension_approval_role} 中没有申请人以外的成员可批准（TENPAY 第十三条）")
    iso = until.isoformat()
    rules = policy(profile, incident_id)
    subject = subject_of(incident_id, code)
    maker = Act(by, approvals.person_name(profile, by), moment.isoformat(), "request")
    detail = {"incident": incident_id, "obligation": code, "title": row.title, "until": iso, "reason": reason.strip(),
              "clause": allowed["clause"], "when": allowed["when"]}
    with db.session() as s:
        bound = approvals.bind_in(s, rules, subject, content_sha256(incident_id, code, iso, reason.strip()), maker, detail)
        event = {"obligation": code, "until": iso, "reason": reason.strip(), "revision": bound.approval.revision,
                 "approval_role": profile.settings.extension_approval_role}
        s.add(IncidentEvent(incident_id=incident_id, at=moment, kind="extension_requested", actor=by, detail=event))
        ledger.append_in(s, "incident.extension_requested", incident_id, {"actor": by, **event}, actor=by)
    return approvals.advance(profile, rules, subject, **options)


def advance(profile: Profile, incident_id: str) -> list[str]:
    """Take each waiting extension's next step (incident-watch, every minute); returns the codes extended now."""
    extended: list[str] = []
    rules = policy(profile, incident_id)
    for row in store.obligations_of(incident_id):
        if not (row.detail or {}).get("extendable"):
            continue
        subject = subject_of(incident_id, row.code)
        current = approvals.get(KIND, subject)
        if current is None or current.stage == DONE:
            continue
        try:
            approval = approvals.advance(profile, rules, subject)
        except approvals.NobodyEligible:  # the role changed since the request: nobody left may approve
            store.add_event(incident_id, "extension_stuck", "regflows",
                            {"obligation": row.code, "reason": f"角色 {profile.settings.extension_approval_role} 中没有可批准的人员"})
            continue
        if approval.stage != APPROVED:
            continue
        act = approval.decision(STEP)
        assert act is not None
        try:
            with db.session() as s:
                _, now_done = approvals.finish_in(s, KIND, subject, approval.revision)
                if now_done:
                    detail = {"obligation": row.code, "until": approval.detail["until"], "reason": approval.detail["reason"],
                              "approved_by": act.person, "approved_by_name": act.name, "approved_at": act.at,
                              "requested_by": approval.maker.person, "clause": approval.detail["clause"]}
                    s.add(IncidentEvent(incident_id=incident_id, at=utcnow(), kind="extended", actor=act.person, detail=detail))
                    ledger.append_in(s, "obligation.extended", incident_id, detail, actor=act.person)
                    extended.append(row.code)
        except StaleDataError:  # another writer finished it first
            continue
    return extended


def extended_map(incident_id: str) -> dict[str, Extension]:
    """The latest approved extension of each obligation of an incident (its timeline's "extended"
    events: a later request waiting for approval does not undo an earlier approved one)."""
    out: dict[str, Extension] = {}
    for event in store.timeline(incident_id):
        if event.kind == "extended":
            d = event.detail
            out[d["obligation"]] = Extension(until=dt.datetime.fromisoformat(d["until"]), approved_by=d["approved_by_name"],
                                             approved_at=dt.datetime.fromisoformat(d["approved_at"]))
    return out
