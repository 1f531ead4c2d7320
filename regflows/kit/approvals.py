"""Maker-checker approvals on signed links: ordered steps, who may take each, the first eligible
confirmation, all bound to the SHA-256 of what was approved.

Why one core: closing an incident (CQ-PLAN 应急结束) and signing off the monthly credit table
(PBOC-102 附件2) are the same procedure with different people: someone makes something (the
maker: a preparer, a proposer), then people in given roles approve it, in order, each through a
personal signed link (``notices.acks``) because the Prefect UI cannot tell who clicked. The next
three procedures need the same; each describes its steps in a :class:`Policy` and calls
:func:`bind`, :func:`advance` and :func:`finish`.

The rules, and why:

- **Ordered steps.** A :class:`Step` names one or more roles (role keys or kinds). Each role must
  approve through one of its *own* members; a step with several roles is a joint decision
  (CQ-PLAN level IV: the division together with the development centre). The next step's
  requests go out only when every role of the step before has approved.
- **Who is eligible.** The members of the role; with ``distinct`` (PBOC-102 附件2: 填表人、复核人、
  签发人 are three people) also not the maker and not anyone who already approved. The FIRST
  eligible confirmation on the step's requests counts; a confirmation by anyone else (a link
  issued before the roles changed, an escalation that reached someone outside the role) is
  refused and recorded in the audit ledger once.
- **Bound to a content hash.** Every approval records the SHA-256 of what it approved. When the
  maker submits again, only a *changed* hash voids the earlier approvals (a new revision, asked
  again from the first step); a byte-identical resubmission keeps them, its revision and its
  open links, because nobody approved anything different. The maker of record stays who first
  made that content (the approvers approved it as theirs; the procedure ledgers the rerun).
- **Requests as notices.** A request is a notice with personal signed links, sent through
  ``notices.service.send_notice`` with ``requires_ack``. It is recorded here *before* it is sent:
  a crash in between re-sends the same notice id, which the delivery engine's claims keep from
  reaching anyone twice. A request whose links have expired (or expire within
  :attr:`Policy.resend_margin`) is sent again under a new id, so nothing waits on a dead link.
- **Ledger.** Each approval (:attr:`Step.action`) and each refusal
  (:attr:`Policy.refused_action`) is appended to the audit ledger in the same transaction as the
  state change; the procedure names the actions, so its existing ledger readers keep working.

Why a table (``approval``, store revision 0002) rather than the procedures' JSON columns: the
state of an approval is the same shape for every procedure, and incident closing had no place
for it (it read the first acknowledger of each notice, so a confirmation by someone outside the
role blocked the closing for good). One row per (subject, kind) gives one query for "what waits
for whom", a unique constraint against two approvals of the same thing, and a version column so
that two writers racing on the same row (the acknowledgement endpoint and a watch) cannot both
record an approval: the loser's transaction fails and :func:`advance` tries again.

The kit imports no procedure: procedures pass their names, contexts and roles in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from notices.routing import Recipient, person_as_recipient, role_keys
from notices.service import send_notice
from regflows import ledger
from regflows.profile import Profile
from regflows.store import db
from regflows.store.models import AckLink, Acknowledgement, utcnow
from regflows.store.models import Approval as ApprovalRow

__all__ = [
    "APPROVED",
    "DONE",
    "Act",
    "Approval",
    "Bound",
    "Decision",
    "NobodyEligible",
    "NoticeRequest",
    "Policy",
    "Request",
    "Step",
    "Voided",
    "advance",
    "bind",
    "bind_in",
    "eligible",
    "finish_in",
    "get",
    "get_in",
    "open_subjects",
    "person_name",
    "put_in",
    "role_members",
]

#: Every step approved; the procedure's own completion (a final document, the closing) follows.
APPROVED = "approved"
#: The procedure completed what was approved (:func:`finish`).
DONE = "done"
#: How often :func:`advance` starts again after losing a race on the same row.
RACE_RETRIES = 3


class NobodyEligible(LookupError):
    """A role of the current step has no member left who may approve."""

    def __init__(self, subject: str, step: str, role: str) -> None:
        self.subject, self.step, self.role = subject, step, role
        super().__init__(f"{subject}：角色 {role} 中没有可审批步骤 {step} 的人员")


class Voided(RuntimeError):
    """The approval was voided (a new revision) while the procedure was completing an older one."""

    def __init__(self, subject: str, revision: int, current: int) -> None:
        self.subject, self.revision, self.current = subject, revision, current
        super().__init__(f"{subject}：第 {revision} 版的审批已作废（当前第 {current} 版）")


@dataclass(frozen=True)
class Step:
    """One step: every role in ``roles`` approves through one of its own members."""

    name: str
    roles: tuple[str, ...]
    distinct: bool = True  # the maker and earlier approvers may not approve (four-eyes)
    action: str = "approval.approved"  # the audit-ledger action of each approval of this step


@dataclass(frozen=True)
class NoticeRequest:
    """What the procedure sends for one role of one step.

    ``address="eligible"`` sends to the eligible members only (nobody else holds a link, nothing
    escalates); ``address="role"`` sends to the role, whose escalation chain then applies, and a
    confirmation from someone in the chain but not eligible is refused.
    """

    kind: str
    context: Mapping[str, Any]
    address: Literal["eligible", "role"] = "eligible"
    options: Mapping[str, Any] = field(default_factory=dict)  # urgent, grade, drill, ...


@dataclass
class Act:
    """Who did one thing, when (ISO 8601, UTC), through what (a signed link's notice, a run)."""

    person: str
    name: str
    at: str
    via: str
    notice: str | None = None


@dataclass
class Decision:
    """One approval: of which step and role, by whom, of what content."""

    step: str
    role: str
    act: Act
    content_sha256: str


@dataclass
class Request:
    """A request notice sent for one role of one step (the current revision's)."""

    step: str
    role: str
    notice: str


#: Builds the notice for one role of one step of an approval.
RequestBuilder = Callable[["Approval", Step, str], NoticeRequest]
#: Names the request notice: (approval, step, role, attempt from 1) -> a stable notice id.
RequestNamer = Callable[["Approval", Step, str, int], str]


@dataclass(frozen=True)
class Policy:
    """A procedure's approval: its kind, its ordered steps, how requests are sent and named."""

    kind: str
    steps: tuple[Step, ...]
    request: RequestBuilder
    request_id: RequestNamer
    refused_action: str = "approval.refused"
    refused_reason: str = "不是本步骤可审批的人员"
    #: Why the maker's own confirmation does not count: said apart, since a maker who is also a
    #: member of the role would otherwise read as "not a member" in the ledger.
    maker_refused_reason: str = "提交人不能审批自己提交的内容（制作人与审核人须为不同人员）"
    link_validity: dt.timedelta | None = None  # None: the notices layer's default
    resend_margin: dt.timedelta = dt.timedelta(hours=1)

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"{self.kind} 没有审批步骤 {name}")

    def after(self, name: str) -> str:
        """The stage that follows step ``name``: the next step, or :data:`APPROVED`."""
        names = [s.name for s in self.steps]
        index = names.index(name)
        return names[index + 1] if index + 1 < len(names) else APPROVED


@dataclass
class Approval:
    """The state of one approval, as the row holds it."""

    subject: str
    kind: str
    revision: int
    content_sha256: str
    stage: str  # a step's name, APPROVED or DONE
    maker: Act
    decisions: list[Decision] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # acknowledgement token ids ledgered as refused
    detail: dict[str, Any] = field(default_factory=dict)

    def decision(self, step: str, role: str | None = None) -> Act | None:
        """Who approved ``step`` (for ``role``, when the step has several)."""
        for d in self.decisions:
            if d.step == step and (role is None or d.role == role):
                return d.act
        return None

    def actors(self) -> set[str]:
        """The maker and everyone who approved so far."""
        return {self.maker.person} | {d.act.person for d in self.decisions}

    def requests_for(self, step: str, role: str) -> list[str]:
        return [r.notice for r in self.requests if r.step == step and r.role == role]

    def steps_json(self) -> dict[str, Any]:
        return {"maker": asdict(self.maker), "decisions": [asdict(d) for d in self.decisions],
                "requests": [asdict(r) for r in self.requests], "refused": list(self.refused)}

    @classmethod
    def from_row(cls, row: ApprovalRow) -> Approval:
        data = row.steps or {}
        return cls(subject=row.subject, kind=row.kind, revision=row.revision, content_sha256=row.content_sha256,
                   stage=row.stage, maker=Act(**data["maker"]),
                   decisions=[Decision(d["step"], d["role"], Act(**d["act"]), d["content_sha256"]) for d in data.get("decisions", [])],
                   requests=[Request(**r) for r in data.get("requests", [])], refused=list(data.get("refused", [])),
                   detail=dict(row.detail or {}))


@dataclass(frozen=True)
class Bound:
    """What :func:`bind` did: created the approval, kept it (same content), or voided the old one."""

    approval: Approval
    outcome: Literal["new", "kept", "voided"]
    previous_revision: int | None = None


def _row(s: Session, kind: str, subject: str) -> ApprovalRow | None:
    return s.execute(select(ApprovalRow).where(ApprovalRow.subject == subject, ApprovalRow.kind == kind)).scalar_one_or_none()


def _write(row: ApprovalRow, approval: Approval) -> None:
    # Reassign the JSON columns: they track no in-place change.
    row.revision, row.content_sha256, row.stage = approval.revision, approval.content_sha256, approval.stage
    row.steps, row.detail, row.updated_at = approval.steps_json(), dict(approval.detail), utcnow()


def get_in(s: Session, kind: str, subject: str) -> Approval | None:
    row = _row(s, kind, subject)
    return Approval.from_row(row) if row is not None else None


def get(kind: str, subject: str, url: str | None = None) -> Approval | None:
    with db.session(url) as s:
        return get_in(s, kind, subject)


def put_in(s: Session, approval: Approval) -> None:
    """Store ``approval`` as it is (a procedure taking over state it kept elsewhere before)."""
    row = _row(s, approval.kind, approval.subject)
    if row is None:
        row = ApprovalRow(subject=approval.subject, kind=approval.kind)
        s.add(row)
    _write(row, approval)
    s.flush()


def bind_in(s: Session, policy: Policy, subject: str, content_sha256: str, maker: Act,
            detail: Mapping[str, Any] | None = None) -> Bound:
    """The maker submits content with its SHA-256 (in session ``s``, with the procedure's ledger entry).

    No approval yet: revision 1, waiting for the first step. The same hash as recorded: kept as it
    is (its approvals, revision, requests and maker), ``detail`` merged in. Another hash: a new
    revision, earlier approvals void, asked again from the first step.
    """
    row = _row(s, policy.kind, subject)
    first = policy.steps[0].name
    if row is None:
        approval = Approval(subject, policy.kind, 1, content_sha256, first, maker, detail=dict(detail or {}))
        put_in(s, approval)
        return Bound(approval, "new")
    current = Approval.from_row(row)
    if current.content_sha256 == content_sha256:
        current.detail = {**current.detail, **(detail or {})}
        _write(row, current)
        return Bound(current, "kept", current.revision)
    approval = Approval(subject, policy.kind, current.revision + 1, content_sha256, first, maker, detail=dict(detail or {}))
    _write(row, approval)
    return Bound(approval, "voided", current.revision)


def bind(policy: Policy, subject: str, content_sha256: str, maker: Act, detail: Mapping[str, Any] | None = None,
         url: str | None = None) -> Bound:
    with db.session(url) as s:
        return bind_in(s, policy, subject, content_sha256, maker, detail)


def role_members(profile: Profile, role: str) -> list[str]:
    """The members of a role key, or of every role of a kind, in the profile's order."""
    return list(dict.fromkeys(m for key in role_keys(profile, [role]) for m in profile.roles[key].members))


def eligible(profile: Profile, approval: Approval, step: Step, role: str) -> list[str]:
    """Who may approve ``role``'s part of ``step`` now: its members, less the maker and the
    approvers so far when the step is ``distinct``; nobody once that part is approved."""
    if approval.decision(step.name, role) is not None:
        return []
    taken = approval.actors() if step.distinct else set()
    return [m for m in role_members(profile, role) if m not in taken]


def person_name(profile: Profile, person_id: str) -> str:
    try:
        return profile.person(person_id).name
    except KeyError:
        return person_id


def _links_live(s: Session, notice_id: str, now: dt.datetime, margin: dt.timedelta) -> bool:
    latest = s.execute(select(AckLink.expires_at).where(AckLink.notice_id == notice_id)
                       .order_by(AckLink.expires_at.desc())).first()
    return latest is not None and latest[0] - margin > now


def _confirmations(s: Session, notice_ids: list[str], allowed: list[str]) -> tuple[Acknowledgement | None, list[Acknowledgement]]:
    """The earliest confirmation by an allowed person, and every confirmation by someone not allowed."""
    if not notice_ids:
        return None, []
    acks = s.execute(select(Acknowledgement).where(Acknowledgement.notice_id.in_(notice_ids))
                     .order_by(Acknowledgement.at, Acknowledgement.id)).scalars().all()
    others = [a for a in acks if a.person_id not in allowed]
    first = next((a for a in acks if a.person_id in allowed), None)
    return first, others


@dataclass(frozen=True)
class _Outgoing:
    notice_id: str
    request: NoticeRequest
    roles: list[str]
    to: list[Recipient]


def _recipients(profile: Profile, role: str, people: list[str]) -> list[Recipient]:
    keys = role_keys(profile, [role])
    return [person_as_recipient(profile, pid, next(k for k in keys if pid in profile.roles[k].members)) for pid in people]


def _take_step(s: Session, profile: Profile, policy: Policy, row: ApprovalRow, approval: Approval,
               moment: dt.datetime) -> tuple[bool, list[_Outgoing], NobodyEligible | None]:
    """Record what the current step's requests brought; returns (step done, requests to send, blocked)."""
    step = policy.step(approval.stage)
    changed = False
    for role in step.roles:
        if approval.decision(step.name, role) is not None:
            continue
        allowed = eligible(profile, approval, step, role)
        first, others = _confirmations(s, approval.requests_for(step.name, role), allowed)
        for other in others:
            if other.token_id in approval.refused:
                continue
            approval.refused.append(other.token_id)
            changed = True
            ledger.append_in(s, policy.refused_action, approval.subject,
                             {"stage": step.name, "role": role, "person": other.person_id, "revision": approval.revision,
                              "notice": other.notice_id,
                              "reason": policy.maker_refused_reason if other.person_id == approval.maker.person
                              else policy.refused_reason}, actor=other.person_id)
        if first is not None:
            act = Act(first.person_id, person_name(profile, first.person_id), first.at.isoformat(), first.via, first.notice_id)
            approval.decisions.append(Decision(step.name, role, act, approval.content_sha256))
            changed = True
            ledger.append_in(s, step.action, approval.subject,
                             {"revision": approval.revision, "step": step.name, "role": role, "person": first.person_id,
                              "notice": first.notice_id, "content_sha256": approval.content_sha256}, actor=first.person_id)
    done = all(approval.decision(step.name, role) is not None for role in step.roles)
    outgoing: list[_Outgoing] = []
    blocked: NobodyEligible | None = None
    if done:
        approval.stage, changed = policy.after(step.name), True
    else:
        for role in step.roles:
            if approval.decision(step.name, role) is not None:
                continue
            sent = approval.requests_for(step.name, role)
            if sent and _links_live(s, sent[-1], moment, policy.resend_margin):
                continue  # waiting for someone to confirm
            allowed = eligible(profile, approval, step, role)
            if not allowed:
                blocked = blocked or NobodyEligible(approval.subject, step.name, role)
                continue
            notice_id = policy.request_id(approval, step, role, len(sent) + 1)
            approval.requests.append(Request(step.name, role, notice_id))
            changed = True
            request = policy.request(approval, step, role)
            if request.address == "role":
                outgoing.append(_Outgoing(notice_id, request, [role], []))
            else:
                outgoing.append(_Outgoing(notice_id, request, [], _recipients(profile, role, allowed)))
    if changed:
        _write(row, approval)
        s.flush()  # the version check: a writer that raced us on this row fails here
    return done, outgoing, blocked


def advance(profile: Profile, policy: Policy, subject: str, now: dt.datetime | None = None, url: str | None = None,
            **send_options: Any) -> Approval:
    """Take every step that can be taken now; idempotent, so an endpoint and a watch may both call it.

    Records the first eligible confirmation of each pending role (and refuses the others, once),
    moves to the next step when a step is complete, and sends a request for every pending role
    that has none with live links. Returns the approval; raises :class:`NobodyEligible` after
    recording all that could be recorded when a role has nobody left who may approve, and
    :class:`LookupError` when there is no approval of ``subject``.
    """
    moment = now or utcnow()
    races = 0
    while True:
        try:
            with db.session(url) as s:
                row = _row(s, policy.kind, subject)
                if row is None:
                    raise LookupError(f"{subject} 没有审批记录")
                approval = Approval.from_row(row)
                if approval.stage in (APPROVED, DONE):
                    return approval
                done, outgoing, blocked = _take_step(s, profile, policy, row, approval, moment)
        except StaleDataError:
            races += 1
            if races > RACE_RETRIES:
                raise
            continue
        if done:
            continue  # the step is complete: ask for the next one now
        for out in outgoing:
            validity = {"ack_validity": policy.link_validity} if policy.link_validity else {}
            send_notice(profile, out.request.kind, dict(out.request.context), out.roles, to=out.to or None,
                        notice_id=out.notice_id, requires_ack=True, related=subject, url=url,
                        **{**validity, **out.request.options, **send_options})
        if blocked is not None:
            raise blocked
        return approval


def finish_in(s: Session, kind: str, subject: str, revision: int, detail: Mapping[str, Any] | None = None) -> tuple[Approval, bool]:
    """Mark an approved revision done (the procedure completed it), with ``detail`` merged in.

    Returns (approval, True) when marked now, (approval, False) when it was done already; raises
    :class:`Voided` when a newer revision replaced it, :class:`ValueError` when not yet approved.
    """
    row = _row(s, kind, subject)
    if row is None:
        raise LookupError(f"{subject} 没有审批记录")
    approval = Approval.from_row(row)
    if approval.revision != revision:
        raise Voided(subject, revision, approval.revision)
    if approval.stage == DONE:
        return approval, False
    if approval.stage != APPROVED:
        raise ValueError(f"{subject}：第 {revision} 版尚未审批完毕（当前：{approval.stage}）")
    approval.stage = DONE
    approval.detail = {**approval.detail, **(detail or {})}
    _write(row, approval)
    s.flush()
    return approval, True


def open_subjects(kind: str, url: str | None = None) -> list[str]:
    """Subjects of ``kind`` not yet done (waiting for a step, or approved and not completed)."""
    with db.session(url) as s:
        return list(s.execute(select(ApprovalRow.subject).where(ApprovalRow.kind == kind, ApprovalRow.stage != DONE)
                              .order_by(ApprovalRow.subject)).scalars())
