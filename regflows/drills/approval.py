"""A drill plan's approval on the kit's approvals (issue 17, item 2): reviewed by the role that
organises drills (``drill_owner_role``), approved by ``drill_plan_approval_role`` (the leadership
group by default), the maker, reviewer and approver three different people, each asked by name
through a ``drill_plan_request`` with signed links to both files.

The approval is bound to the SHA-256 of ``plan.yaml``: the .docx is written again from it at each
submission, so the document approved is the plan that runs; a plan edited after its approval is a
new revision, approved again, and :func:`require_approved` refuses to run it until then. Only
``--rehearsal`` runs an unapproved plan, and the run is marked as a rehearsal (item 3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calendars.zone import SHANGHAI
from notices.files import file_url
from regflows import ledger
from regflows.drills.run import formal_runs
from regflows.drills.plan import DrillPlan, check_plan, load_plan, plan_docx_name, plan_sha256, write_docx
from regflows.kit import approvals
from regflows.kit.approvals import APPROVED, DONE, Act, Approval, NoticeRequest, Policy
from regflows.kit.evidence import sha256_file
from regflows.kit.obligations import Refused
from regflows.kit.publish import publishing
from regflows.kit.reports import record_report_in
from regflows.profile import Profile, load_profile, profile_path
from regflows.store import db
from regflows.store.models import utcnow

__all__ = [
    "KIND",
    "PlanStatus",
    "advance_plan",
    "after_ack",
    "open_plans",
    "plan_status",
    "policy",
    "require_approved",
    "submit",
    "subject",
]

KIND = "drill_plan"
REFUSED_REASON = "不是本步骤可审核、批准演练方案的人员"
MAKER_REFUSED = "提交人不能审核、批准自己提交的演练方案（提交人、审核人、批准人须为不同人员）"


def subject(plan_id: str) -> str:
    return f"drill-plan:{plan_id}"


def _files(profile: Profile, approval: Approval) -> list[str]:
    validity = dt.timedelta(days=profile.settings.drill_plan_link_days)
    lines = []
    for key, title in (("plan", "演练方案（plan.yaml）"), ("docx", "演练方案（公文）")):
        f = approval.detail["files"][key]
        link = file_url(str(profile.public_base_url), f["path"], sha256=f["sha256"], validity=validity)
        lines.append(f"《{title}》{Path(f['path']).name}，SHA-256 {f['sha256']}：{link or '（文件未登记，不提供下载，请联系提交人）'}")
    return lines


def policy(profile: Profile) -> Policy:
    settings = profile.settings

    def request(approval: Approval, step: approvals.Step, role: str) -> NoticeRequest:
        detail = approval.detail
        reviewer = approval.decision("review")
        context: dict[str, Any] = {
            "state": step.name,
            "subject_ref": approval.subject,
            "plan_title": detail["title"],
            "event_title": detail["event_title"],
            "on": detail["on"],
            "revision": approval.revision,
            "prepared_by": approval.maker.name,
            "reviewed_by": reviewer.name if reviewer else None,
            "participants": detail["participants"],
            "files": _files(profile, approval),
            "content_sha256": approval.content_sha256,
            "clause": detail["clause"][:900],
            "institution": profile.institution.name,
        }
        return NoticeRequest("drill_plan_request", context, options={"urgent": False})

    def request_id(approval: Approval, step: approvals.Step, role: str, attempt: int) -> str:
        return f"{approval.subject}:r{approval.revision}:{step.name}:{attempt}"

    return Policy(
        KIND,
        (
            approvals.Step("review", (settings.drill_owner_role,), action="drill.plan_reviewed"),
            approvals.Step("approve", (settings.drill_plan_approval_role,), action="drill.plan_approved"),
        ),
        request=request,
        request_id=request_id,
        refused_action="drill.plan_refused",
        refused_reason=REFUSED_REASON,
        maker_refused_reason=MAKER_REFUSED,
        link_validity=dt.timedelta(days=settings.drill_plan_link_days),
    )


def _check_people(profile: Profile, maker: str) -> None:
    settings = profile.settings
    reviewers = [m for m in approvals.role_members(profile, settings.drill_owner_role) if m != maker]
    approvers = [m for m in approvals.role_members(profile, settings.drill_plan_approval_role) if m != maker]
    if not any(r != a for r in reviewers for a in approvers):
        raise Refused(
            f"{profile.role_label(settings.drill_owner_role)}与{profile.role_label(settings.drill_plan_approval_role)}中"
            f"找不到提交人 {approvals.person_name(profile, maker)} 以外的两名不同人员担任审核人和批准人"
        )


def submit(
    profile: Profile,
    plan_path: Path,
    by: str,
    *,
    people: Collection[str] | None = None,
    now: dt.datetime | None = None,
    url: str | None = None,
    **send_options: Any,
) -> Approval:
    """Submit ``plan_path`` for approval: checked again (profile, calendar), its .docx written again
    from it beside it (published as a set), both files recorded with their SHA-256, the approval
    bound to plan.yaml's hash (a changed plan voids earlier approvals) and the requests sent."""
    if by not in (people if people is not None else profile.person_ids):
        raise ValueError(f"提交人（--by）{by} 不在机构配置的人员（people）中")
    plan = load_plan(plan_path)
    check_plan(plan, profile)
    _check_people(profile, by)
    moment = now or utcnow()
    folder = plan_path.resolve().parent
    with publishing(folder) as stage:
        write_docx(plan, profile, stage.path / plan_docx_name(plan), moment)
    docx_path = folder / plan_docx_name(plan)
    content = plan_sha256(plan_path)
    files = {
        "plan": {"path": str(plan_path.resolve()), "sha256": content},
        "docx": {"path": str(docx_path), "sha256": sha256_file(docx_path)[0]},
    }
    names = {p.id: p.name for p in profile.people}
    detail = {
        "plan_id": plan.plan_id,
        "title": plan.title,
        "event_title": plan.event_title,
        "files": files,
        "on": f"{plan.on.isoformat()} {plan.start.strftime('%H:%M')}",
        "clause": plan.clause,
        "participants": "、".join(names.get(p, p) for p in plan.people),
    }
    maker = Act(by, approvals.person_name(profile, by), moment.isoformat(), "cli")
    with db.session(url) as s:
        for key, f in files.items():
            record_report_in(
                s,
                procedure="drill",
                kind=f"drill_plan_{key}",
                subject=subject(plan.plan_id),
                path=f["path"],
                action="drill.plan_written",
                sha256=f["sha256"],
                actor=by,
            )
        bound = approvals.bind_in(s, policy(profile), subject(plan.plan_id), content, maker, detail)
        ledger.append_in(
            s,
            "drill.plan_submitted",
            subject(plan.plan_id),
            {"revision": bound.approval.revision, "outcome": bound.outcome, "content_sha256": content},
            actor=by,
        )
    return approvals.advance(profile, policy(profile), subject(plan.plan_id), moment, url, **send_options)


def advance_plan(profile: Profile, plan_id: str, url: str | None = None, **send_options: Any) -> Approval:
    return approvals.advance(profile, policy(profile), subject(plan_id), url=url, **send_options)


def open_plans(url: str | None = None) -> list[str]:
    """The plan ids whose approval waits for someone."""
    return [s.removeprefix("drill-plan:") for s in approvals.open_subjects(KIND, url)]


@dataclass(frozen=True)
class PlanStatus:
    plan_id: str
    stage: str  # not_submitted | review | approve | approved | changed
    revision: int | None
    approved: bool
    reviewer: str | None = None
    approver: str | None = None


def plan_status(plan: DrillPlan, plan_path: Path, url: str | None = None) -> PlanStatus:
    """Where the plan's approval stands; ``approved`` only when every step approved this very
    plan.yaml (its SHA-256), so a plan edited after approval is not approved."""
    approval = approvals.get(KIND, subject(plan.plan_id), url)
    if approval is None:
        return PlanStatus(plan.plan_id, "not_submitted", None, False)
    reviewer, approver = approval.decision("review"), approval.decision("approve")
    names = (reviewer.name if reviewer else None, approver.name if approver else None)
    if approval.content_sha256 != plan_sha256(plan_path):
        return PlanStatus(plan.plan_id, "changed", approval.revision, False, *names)
    done = approval.stage in (APPROVED, DONE)
    return PlanStatus(plan.plan_id, "approved" if done else approval.stage, approval.revision, done, *names)


def require_approved(
    plan_path: Path, profile: Profile, *, rehearsal: bool = False, today: dt.date | None = None, url: str | None = None
) -> tuple[DrillPlan, bool]:
    """The plan to run and whether the run is a rehearsal. An unapproved plan is refused
    (:class:`Refused`, Chinese, saying why) unless ``rehearsal``: then it runs marked as such. A
    formal run happens on the plan's day only (``today``, Beijing time; the approval covers the
    plan with its day): on another day it is refused, a rehearsal runs any day."""
    plan = load_plan(plan_path)
    check_plan(plan, profile)
    status = plan_status(plan, plan_path, url)
    if rehearsal:
        return plan, True
    if not status.approved:
        why = {
            "not_submitted": "尚未提交审批（regflows drill submit）",
            "changed": "批准后被修改（SHA-256 不符），须重新提交审批",
            "review": "尚待审核",
            "approve": "尚待批准",
        }[status.stage]
        raise Refused(f"演练方案 {plan.plan_id} {why}：未经批准的方案不能正式运行（仅测试可用 --rehearsal，运行标注为预演）")
    today = today or dt.datetime.now(SHANGHAI).date()
    if today != plan.on:
        raise Refused(
            f"演练方案 {plan.plan_id} 的演练日期为 {plan.on.isoformat()}，今天是 {today.isoformat()}：正式演练只在方案日期运行；"
            "改期请修改 plan.yaml 的 on 并重新提交审批（测试可用 --rehearsal，运行标注为预演）"
        )
    earlier = formal_runs(plan.plan_id, url)
    if earlier:
        drill_id, started = earlier[0]
        local = dt.datetime.fromisoformat(started).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        raise Refused(
            f"演练方案 {plan.plan_id} 已于 {local} 正式运行（演练 {drill_id}）：一份批准的方案只正式运行一次；"
            "再次演练请编制新方案（regflows drill plan）并提交审批"
        )
    return plan, False


def after_ack(notice_id: str) -> str:
    """The acknowledgement page's follow-up: advance at once and say what the click did."""
    if not notice_id.startswith("drill-plan:"):
        return ""
    plan_id = notice_id.split(":")[1]
    profile = load_profile(profile_path())
    try:
        approval = advance_plan(profile, plan_id)
    except approvals.NobodyEligible as exc:
        return f"已记录您的确认；后续步骤未能完成：{exc}"
    if approval.stage in (APPROVED, DONE):
        return f"演练方案 {plan_id} 已批准（第 {approval.revision} 版），可正式运行。"
    return f"已记录您的确认；演练方案 {plan_id} 转入下一步审批。"
