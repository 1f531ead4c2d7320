"""Closing an incident with the approval CQ-PLAN requires for its response level.

CQ-PLAN (应急结束): I — the working group proposes, the leadership group approves; II — the
working group decides; III — the division decides with the working group's consent; IV — the
division decides with the development centre. The grading rules carry this as ``ending``
(``by``, ``approved_by``, ``together_with``); :func:`deciding_roles` reads who must approve
(``approved_by``, else ``by``, and ``together_with``): the proposal itself (``incident close
--proposed-by``) stands for ``by`` where another role approves.

The Prefect UI cannot tell who clicked, so this is the shared maker-checker core
(``regflows.kit.approvals``): the proposer is the maker; one step, in which each deciding role
approves through one of its own members' signed links (a joint step for level IV), sent as
``approval_request`` notices to the role, so the role's escalation chain applies. A confirmation
by someone outside the role (an escalation can reach people outside it) is refused and recorded
once, instead of blocking the closing. The approval is bound to the SHA-256 of what is being
closed (the incident, its grade, the recorded end of the response and the deciding roles): a
re-grade or a corrected end time voids earlier approvals and asks again. ``incident-watch``
calls :func:`try_close` every minute; the incident closes when every deciding role approved.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from notices.escalation import mark_resolved
from regflows import ledger
from regflows.incident import store
from regflows.kit import approvals
from regflows.kit.approvals import APPROVED, DONE, Act, Approval, NoticeRequest, Policy, Request
from regflows.profile import Profile, load_profile, profile_path
from regflows.store import db
from regflows.store.models import Incident, Notice, utcnow

#: The approval kind of an incident's closing in the store's ``approval`` table.
KIND = "incident-close"
STEP = "close"


class CloseRefused(ValueError):
    pass


def deciding_roles(grading: dict[str, Any]) -> list[str]:
    ending = grading["ending"]
    roles = [ending.get("approved_by") or ending["by"]]
    if ending.get("together_with"):
        roles.append(ending["together_with"])
    return list(dict.fromkeys(roles))


def legacy_notice_id(incident_id: str, role_kind: str) -> str:
    """The request id used before the approvals core (one per role, never re-sent)."""
    return f"incident:{incident_id}:close:{role_kind}"


def content_sha256(incident: Incident) -> str:
    """What the deciding roles approve: ending this incident, at this grade, with the response
    ended at the recorded time, decided by these roles."""
    content = {"incident": incident.id, "grade": incident.grade, "response_ended_at": incident.record.get("response_ended_at"),
               "deciding_roles": deciding_roles(incident.grading)}
    return hashlib.sha256(ledger.canonical_json(content).encode("utf-8")).hexdigest()


def policy(profile: Profile, incident: Incident) -> Policy:
    ending = incident.grading["ending"]

    def request(approval: Approval, step: approvals.Step, role: str) -> NoticeRequest:
        context = {"incident_id": incident.id, "incident_title": incident.title, "grade": incident.grade, "action": "结束应急响应",
                   "decision_role": "、".join(r.name for r in profile.roles_of_kind(role).values()) or role,
                   "basis": f"{ending['clause']}：{ending['text']}"[:300], "proposed_by": approval.maker.person,
                   "institution": profile.institution.name, "drill": incident.drill}
        return NoticeRequest("approval_request", context, address="role",
                             options={"urgent": True, "grade": incident.grade, "drill": incident.drill})

    def request_id(approval: Approval, step: approvals.Step, role: str, attempt: int) -> str:
        return f"incident:{approval.subject}:close:r{approval.revision}:{role}:{attempt}"

    # distinct: the proposer never approves their own proposal (maker-checker), and one person
    # cannot approve for two deciding roles.
    step = approvals.Step(STEP, tuple(deciding_roles(incident.grading)), distinct=True, action="incident.close_approved")
    return Policy(KIND, (step,), request=request, request_id=request_id, refused_action="incident.close_refused",
                  refused_reason="不是有权决定结束应急响应的部门的成员（CQ-PLAN 应急结束）",
                  maker_refused_reason="提议人不能审批自己的结束提议（CQ-PLAN 应急结束：提议与批准须为不同人员）")


def request_close(profile: Profile, incident_id: str, proposed_by: str, **options: Any) -> list[str]:
    incident = store.load_incident(incident_id)
    if incident.state == "closed":
        raise CloseRefused(f"事件 {incident_id} 已结束")
    if not incident.record.get("response_ended_at"):
        raise CloseRefused("尚未记录应急响应结束时间（response_ended_at）：请先用 regflows incident update 记录")
    roles = deciding_roles(incident.grading)
    try:
        proposer = profile.person(proposed_by)
    except KeyError:
        raise CloseRefused(f"提议人 {proposed_by} 不是机构配置中的人员") from None
    ending = incident.grading["ending"]
    if ending.get("approved_by"):  # CQ-PLAN: one body proposes, another approves (level I: the working group proposes)
        proposers = approvals.role_members(profile, ending["by"])
        if proposed_by not in proposers:
            body = "、".join(r.name for r in profile.roles_of_kind(ending["by"]).values()) or ending["by"]
            raise CloseRefused(f"事件 {incident_id}（{incident.grade}级）的结束应急响应须由{body}的成员提议"
                               f"（{ending['clause']}：{ending['text']}），{proposer.name} 不是其成员")
    if incident.state == "closing":  # one proposal at a time: a second one would rewrite who proposed
        current = approvals.get(KIND, incident_id)
        if current is not None and current.maker.person != proposed_by:
            raise CloseRefused(f"事件 {incident_id} 已由 {current.maker.name} 提议结束，正在审批中；"
                               "同一时间只能有一个提议（原提议人可重新发送审批请求）")
    for role in roles:  # refused before anything is recorded: nobody else could approve
        if not [m for m in approvals.role_members(profile, role) if m != proposed_by]:
            raise CloseRefused(f"事件 {incident_id}：有权决定结束应急响应的 {role} 中没有提议人 {proposer.name} 以外的成员；"
                               "提议人不能审批自己的提议，请由其他人员提议或在机构配置中补充该部门成员")
    rules = policy(profile, incident)
    _take_over_legacy(profile, incident, rules)
    maker = Act(proposed_by, approvals.person_name(profile, proposed_by), utcnow().isoformat(), "proposal")
    approvals.bind(rules, incident_id, content_sha256(incident), maker)
    store.set_state(incident_id, "closing", proposed_by, {"deciding_roles": roles})
    approvals.advance(profile, rules, incident_id, **options)
    return roles


def _take_over_legacy(profile: Profile, incident: Incident, rules: Policy) -> None:
    """An incident that was closing before the approvals core: its requests (one notice per role)
    become the approval's, proposed by whoever asked to close it."""
    if incident.state != "closing":
        return
    with db.session() as s:
        if approvals.get_in(s, KIND, incident.id) is not None:
            return
        proposals = [e for e in store.timeline(incident.id) if e.kind == "closing"]
        proposer = proposals[-1].actor if proposals else "regflows"
        at = proposals[-1].at.isoformat() if proposals else utcnow().isoformat()
        requests = [Request(STEP, role, legacy_notice_id(incident.id, role)) for role in rules.steps[0].roles
                    if s.get(Notice, legacy_notice_id(incident.id, role)) is not None]
        approvals.put_in(s, Approval(incident.id, KIND, 1, content_sha256(incident), STEP, Act(proposer, approvals.person_name(profile, proposer), at, "proposal"),
                                     requests=requests))


def try_close(profile: Profile, incident_id: str) -> dict[str, str] | None:
    """Close when each deciding role approved through a member's own link; returns the approvers."""
    incident = store.load_incident(incident_id)
    if incident.state != "closing":
        return None
    rules = policy(profile, incident)
    _take_over_legacy(profile, incident, rules)
    current = approvals.get(KIND, incident_id)
    digest = content_sha256(incident)
    if current is not None and current.stage != DONE and current.content_sha256 != digest:
        bound = approvals.bind(rules, incident_id, digest, current.maker)
        store.add_event(incident_id, "closing_voided", "regflows",
                        {"revision": bound.approval.revision, "deciding_roles": list(rules.steps[0].roles),
                         "reason": "级别、应急响应结束时间或决定部门已变更，此前的审批作废，重新请求审批"})
    try:
        approval = approvals.advance(profile, rules, incident_id)
    except approvals.NobodyEligible as exc:
        raise CloseRefused(f"事件 {incident_id}：角色 {exc.role} 中没有可审批结束应急响应的人员") from None
    if approval.stage not in (APPROVED, DONE):
        return None
    approvers = {d.role: d.act.person for d in approval.decisions if d.step == STEP}
    try:  # the endpoint's follow-up and the watch may race here: exactly one of them closes
        with db.session() as s:
            approvals.finish_in(s, KIND, incident_id, approval.revision)
            if not store.set_state_in(s, incident_id, "closed", ",".join(approvers.values()), {"approved_by": approvers},
                                      only_from="closing"):
                return None  # closed meanwhile by the other
    except StaleDataError:  # the other finished the approval first and is closing it
        return None
    for notice_id in (f"incident:{incident_id}:alert",):
        try:
            mark_resolved(notice_id, by="regflows")
        except LookupError:
            pass
    return approvers


def incident_of_request(notice_id: str) -> str | None:
    """``incident:INC-…:close:r1:division:1`` (or the legacy ``incident:INC-…:close:division``) → ``INC-…``."""
    parts = notice_id.split(":")
    return parts[1] if len(parts) >= 4 and parts[0] == "incident" and parts[2] == "close" else None


def after_ack(notice_id: str) -> str:
    """The acknowledgement endpoint's follow-up for an ``approval_request``: close at once when
    this was the last approval needed, and tell the person what their click did. The
    incident-watch deployment does the same within a minute if this fails."""
    incident_id = incident_of_request(notice_id)
    if incident_id is None:
        return ""
    approvers = try_close(load_profile(profile_path()), incident_id)
    if approvers:
        return f"事件 {incident_id} 的应急响应已结束（批准：{'、'.join(approvers.values())}）。"
    state = approvals.get(KIND, incident_id)
    if state is None or store.load_incident(incident_id).state != "closing":
        return ""
    approved = {d.role for d in state.decisions}
    waiting = [role for role in deciding_roles(store.load_incident(incident_id).grading) if role not in approved]
    return f"事件 {incident_id} 结束审批进行中，尚待：{'、'.join(waiting)}。" if waiting else ""
