"""Closing an incident: each level's decision as CQ-PLAN says, every party through its own link.

CQ-PLAN 第四篇三（应急结束）: I — the working group proposes, then the leadership group approves;
II — the working group decides; III — the division decides, then the working group consents;
IV — the division decides together with the development centre and the professional service
provider. The grading rules carry this as ``ending`` (rules/grading.yaml); :func:`ending_for`
turns it into ordered steps, each party of a step deciding through one of its own members'
signed links, so every party is on record with who and when. Where the profile does not enable
CQ-PLAN, one step: the role named by ``settings.incident_end_approval_role`` approves.

``incident close --proposed-by P`` starts the closing (the maker of the kit's maker-checker
core, ``regflows.kit.approvals``); P never approves any step, nor does one person decide for two
parties. A confirmation by someone outside the party (an escalation can reach people outside it)
is refused and recorded once, instead of blocking the closing. The approval is bound to the
SHA-256 of what is being closed (the incident, its grade, the deciding steps): a re-grade voids
earlier approvals and asks again. ``incident-watch`` calls :func:`try_close` every minute, the
acknowledgement endpoint after each click; the incident closes when the last step is approved.

The end of the response is the moment of that last approval (CQ-PLAN 第四篇三: the response ends
when the deciding body decides or approves), written to the record as ``response_ended_at`` in
the same transaction as the closing; the 30-day investigation clock (CQ-PLAN 第五篇) starts
there, never at a time typed before the approval.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from notices.escalation import mark_resolved
from notices.files import file_url
from regflows import ledger
from regflows.incident import store
from regflows.incident.documents import DOCUMENT_TITLES
from regflows.incident.grading import Grading, grading_rules
from regflows.kit import approvals
from regflows.kit.approvals import APPROVED, DONE, Act, Approval, NoticeRequest, Policy, Request
from regflows.profile import Profile, load_profile, profile_path
from regflows.store import db
from regflows.store.models import Incident, IncidentEvent, Notice, utcnow
from regflows.store.reports import latest_of_subject

#: The approval kind of an incident's closing in the store's ``approval`` table.
KIND = "incident-close"
#: The first step's name (the one step before issue 12: kept, so earlier ledger entries read alike).
STEP = "close"
#: The second step's name, where another body approves or consents (CQ-PLAN I, III).
APPROVE_STEP = "approve"


class CloseRefused(ValueError):
    pass


@dataclass(frozen=True)
class Ending:
    """Who ends the response, in order: ((roles deciding jointly, what they do), ...)."""

    steps: tuple[tuple[tuple[str, ...], str], ...]
    text: str
    clause: str

    @property
    def roles(self) -> list[str]:
        return list(dict.fromkeys(r for roles, _ in self.steps for r in roles))


def ending_for(profile: Profile, grading: dict[str, Any]) -> Ending:
    """CQ-PLAN's decision for the grade when the profile enables CQ-PLAN (the shipped rules of the
    grade: a corrected reading applies to incidents already open), else the profile's approver."""
    if not profile.regime_on("CQ-PLAN"):
        role = profile.settings.incident_end_approval_role
        name = "、".join(r.name for r in profile.roles_of_kind(role).values()) or (profile.roles[role].name if role in profile.roles else role)
        return Ending((((role,), "批准结束应急响应"),), f"本机构未采用 CQ-PLAN，由{name}批准结束应急响应",
                      "机构配置 settings.incident_end_approval_role")
    rules = grading_rules()
    grade = grading["grade"]
    ending = rules.levels[grade].ending if grade in rules.levels else Grading.model_validate(grading).ending
    return Ending(tuple((tuple(roles), act) for roles, act in ending.steps), ending.text, ending.clause)


def ignored_end_note(typed: str | None) -> str | None:
    """What the sender of a declaration is told when it typed an end of response: the value is
    not taken (CQ-PLAN 第四篇三: the end is the closing's last approval), and says so instead of
    dropping it silently (the form has no such field, so the run never sees it)."""
    if not typed:
        return None
    return (f"应急响应结束时间 {typed} 不予采用：它是结束应急响应的最后一项批准的时间（CQ-PLAN 第四篇三），"
            "调查评估报告的 30 日期限自该时起算（CQ-PLAN 第五篇）；请用 regflows incident close 发起结束审批")


def untyped_end(record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A declared record without its typed end of response, and that typed value (None if none):
    the end is the closing's last approval (CQ-PLAN 第四篇三), where 第五篇's 30 days start."""
    typed = record.get("response_ended_at")
    return {**record, "response_ended_at": None}, typed


def deciding_roles(profile: Profile, grading: dict[str, Any]) -> list[str]:
    """Every party that decides, in the order they are asked."""
    return ending_for(profile, grading).roles


def _step_names(ending: Ending) -> list[str]:
    return [STEP, APPROVE_STEP][: len(ending.steps)]


def legacy_notice_id(incident_id: str, role_kind: str) -> str:
    """The request id used before the approvals core (one per role, never re-sent)."""
    return f"incident:{incident_id}:close:{role_kind}"


def content_sha256(profile: Profile, incident: Incident) -> str:
    """What the deciding parties approve: ending this incident's response, at this grade, by these
    steps. The end time is not in it: it is the moment of the last approval."""
    ending = ending_for(profile, incident.grading)
    content = {"incident": incident.id, "grade": incident.grade,
               "steps": [{"roles": list(roles), "act": act} for roles, act in ending.steps]}
    return hashlib.sha256(ledger.canonical_json(content).encode("utf-8")).hexdigest()


def _role_name(profile: Profile, role: str) -> str:
    return "、".join(r.name for r in profile.roles_of_kind(role).values()) or (profile.roles[role].name if role in profile.roles else role)


def document_lines(profile: Profile, incident_id: str) -> list[str]:
    """One line per document of the incident on record (its latest version): the title and its
    signed, expiring download link, so that whoever decides on the end can open what was written
    (issue 14, 4). A document whose file is no longer on record is left out, never linked."""
    validity = dt.timedelta(hours=profile.settings.file_link_hours)
    lines = []
    for kind, row in latest_of_subject("incident_response", incident_id).items():
        title = DOCUMENT_TITLES.get(kind, kind)
        link = file_url(str(profile.public_base_url), row.path, f"{incident_id} {title}", sha256=row.sha256, validity=validity)
        if link:
            lines.append(f"《{title}》：{link}")
    return lines


def policy(profile: Profile, incident: Incident) -> Policy:
    ending = ending_for(profile, incident.grading)
    names = _step_names(ending)
    acts = {name: act for name, (_, act) in zip(names, ending.steps)}

    def request(approval: Approval, step: approvals.Step, role: str) -> NoticeRequest:
        earlier = "；".join(f"{_role_name(profile, d.role)}（{d.act.name}）已{acts.get(d.step, '决定')}" for d in approval.decisions)
        context = {"incident_id": incident.id, "incident_title": incident.title, "grade": incident.grade, "action": acts[step.name],
                   "decision_role": _role_name(profile, role), "basis": f"{ending.clause}：{ending.text}"[:300],
                   "proposed_by": approval.maker.name, "earlier": earlier[:300] or None,
                   "documents": document_lines(profile, incident.id),
                   "institution": profile.institution.name, "drill": incident.drill}
        return NoticeRequest("approval_request", context, address="role",
                             options={"urgent": True, "grade": incident.grade, "drill": incident.drill})

    def request_id(approval: Approval, step: approvals.Step, role: str, attempt: int) -> str:
        return f"incident:{approval.subject}:close:r{approval.revision}:{role}:{attempt}"

    # distinct: whoever started the closing never decides a step (maker-checker), and one person
    # cannot decide for two parties (CQ-PLAN names different bodies).
    steps = tuple(approvals.Step(name, roles, distinct=True, action="incident.close_approved")
                  for name, (roles, _) in zip(names, ending.steps))
    return Policy(KIND, steps, request=request, request_id=request_id, refused_action="incident.close_refused",
                  refused_reason="不是有权决定结束应急响应的部门的成员（CQ-PLAN 第四篇三）",
                  maker_refused_reason="提议人不能审批自己的结束提议（CQ-PLAN 应急结束：提议与批准须为不同人员）")


def request_close(profile: Profile, incident_id: str, proposed_by: str, **options: Any) -> list[str]:
    """Start the closing: the first step's parties get their signed links; returns every deciding party."""
    incident = store.load_incident(incident_id)
    if incident.state == "closed":
        raise CloseRefused(f"事件 {incident_id} 已结束")
    ending = ending_for(profile, incident.grading)
    roles = ending.roles
    try:
        proposer = profile.person(proposed_by)
    except KeyError:
        raise CloseRefused(f"提议人 {proposed_by} 不是机构配置中的人员") from None
    if incident.state == "closing":  # one proposal at a time: a second one would rewrite who proposed
        current = approvals.get(KIND, incident_id)
        if current is not None and current.maker.person != proposed_by:
            raise CloseRefused(f"事件 {incident_id} 已由 {current.maker.name} 提议结束，正在审批中；"
                               "同一时间只能有一个提议（原提议人可重新发送审批请求）")
    for role in roles:  # refused before anything is recorded: nobody else could approve
        if not [m for m in approvals.role_members(profile, role) if m != proposed_by]:
            raise CloseRefused(f"事件 {incident_id}：有权决定结束应急响应的{profile.role_label(role)}中没有提议人 {proposer.name} 以外的成员；"
                               "提议人不能审批自己的提议，请由其他人员提议或在机构配置中补充该部门成员")
    rules = policy(profile, incident)
    _take_over_legacy(profile, incident, rules)
    maker = Act(proposed_by, approvals.person_name(profile, proposed_by), utcnow().isoformat(), "proposal")
    approvals.bind(rules, incident_id, content_sha256(profile, incident), maker)
    store.set_state(incident_id, "closing", proposed_by, {"deciding_roles": roles, "basis": f"{ending.clause}：{ending.text}"})
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
        approvals.put_in(s, Approval(incident.id, KIND, 1, content_sha256(profile, incident), STEP, Act(proposer, approvals.person_name(profile, proposer), at, "proposal"),
                                     requests=requests))


def try_close(profile: Profile, incident_id: str) -> dict[str, str] | None:
    """Close when each deciding role approved through a member's own link; returns the approvers."""
    incident = store.load_incident(incident_id)
    if incident.state != "closing":
        return None
    rules = policy(profile, incident)
    _take_over_legacy(profile, incident, rules)
    current = approvals.get(KIND, incident_id)
    digest = content_sha256(profile, incident)
    if current is not None and current.stage != DONE and current.content_sha256 != digest:
        bound = approvals.bind(rules, incident_id, digest, current.maker)
        store.add_event(incident_id, "closing_voided", "regflows",
                        {"revision": bound.approval.revision, "deciding_roles": ending_for(profile, incident.grading).roles,
                         "reason": "级别或决定部门已变更，此前的审批作废，重新请求审批"})
    try:
        approval = approvals.advance(profile, rules, incident_id)
    except approvals.NobodyEligible as exc:
        raise CloseRefused(f"事件 {incident_id}：{profile.role_label(exc.role)}中没有可审批结束应急响应的人员") from None
    if approval.stage not in (APPROVED, DONE):
        return None
    approvers = {d.role: d.act.person for d in approval.decisions}
    # CQ-PLAN 第四篇三: the response ends when the last deciding party approved; 第五篇's 30 days start there.
    ended = max(dt.datetime.fromisoformat(d.act.at) for d in approval.decisions).astimezone(dt.timezone.utc)
    try:  # the endpoint's follow-up and the watch may race here: exactly one of them closes
        with db.session() as s:
            approvals.finish_in(s, KIND, incident_id, approval.revision)
            detail = {"approved_by": approvers, "response_ended_at": ended.isoformat()}
            if not store.set_state_in(s, incident_id, "closed", ",".join(approvers.values()), detail, only_from="closing"):
                return None  # closed meanwhile by the other
            row = s.get(Incident, incident_id)
            typed = row.record.get("response_ended_at")
            row.record = {**row.record, "response_ended_at": ended.isoformat()}
            s.add(IncidentEvent(incident_id=incident_id, at=utcnow(), kind="updated", actor="regflows",
                                detail={"response_ended_at": ended.isoformat(), "basis": "结束应急响应的最后一项批准时间（CQ-PLAN 第四篇三、第五篇）",
                                        **({"replaced": typed} if typed and typed != ended.isoformat() else {})}))
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
    profile = load_profile(profile_path())
    approvers = try_close(profile, incident_id)
    if approvers:
        return f"事件 {incident_id} 的应急响应已结束（批准：{'、'.join(approvers.values())}）。"
    state = approvals.get(KIND, incident_id)
    if state is None or store.load_incident(incident_id).state != "closing":
        return ""
    approved = {d.role for d in state.decisions}
    waiting = [role for role in deciding_roles(profile, store.load_incident(incident_id).grading) if role not in approved]
    return f"事件 {incident_id} 结束审批进行中，尚待：{'、'.join(waiting)}。" if waiting else ""
