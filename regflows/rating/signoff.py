"""Sign-off of the year's self-assessment report: submitted, reviewed, approved, final (issue 16,
item 5), on the kit's maker-checker approvals, as the quarterly self-inspection's report.

第十二条: the institution answers for the truth of its self-assessment and evidence. So the report
is final only when three different people have taken it: the person who submits it (``--by``),
a member of ``rating_review_role`` (default compliance) who reviews it, a member of
``rating_approval_role`` (default the leadership group) who approves it (the roles are settings:
the text names none). And no report whose facts someone has not confirmed is signed off: the
run's ``summary.json`` lists the items nobody confirmed (``unconfirmed``, evidence.py); while it
is not empty the submission is refused, and finalising checks it again from the approved bytes.

The approval (subject ``rating:<year>``, one per year) is bound to the SHA-256 of the run's
report .docx, score sheet .xlsx and summary.json together (:func:`content_sha256`): a run with
other content is a new revision and voids the approvals so far; a byte-identical one keeps them.
When approved, the report's final copy is the approved bytes without draft marks and with the
sign-off day filled in (the kit's ``final_copy``), the score sheet and summary the approved
bytes; all recorded with their SHA-256 (kinds ``report-final``, ``sheet-final``,
``summary-final``) and noted on the year's self-assessment obligation, which
``regflows rating submit`` then fulfils with them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from calendars.official import CalendarError
from calendars.zone import SHANGHAI
from notices.files import file_url
from regflows import ledger
from regflows.kit import approvals
from regflows.kit.approvals import APPROVED, DONE, Act, Approval, NoticeRequest, Policy
from regflows.kit.documents import final_copy
from regflows.kit.files import write_atomically
from regflows.kit.reports import record_report_in
from regflows.kit.signoffs import STAGE_TITLES, FileChanged, SignoffView, final_path, read_approved, view_fields
from regflows.profile import Profile, load_profile, profile_path
from regflows.rating.owed import SUBMISSION_CODE, ensure_submission_in
from regflows.rating.pipeline import FILE_KINDS
from regflows.rating.report import SIGNOFF_DAY, report_title
from regflows.rating.schedule import PROCEDURE, not_rated, submission_due, year_subject
from regflows.rating.signoff_notices import SIGNOFF_REQUEST
from regflows.store import db
from regflows.store.obligations import find
from regflows.store.reports import latest_of_subject

__all__ = ["CLAUSE", "KIND", "STAGE_TITLES", "Signoff", "SignoffError", "SignoffInputError", "advance", "after_ack", "content_sha256",
           "draft_of", "finalize", "open_years", "policy", "status", "submit"]

KIND = "rating-signoff"
CLAUSE = "PBOC-102 附件3 第十条（一）、第十二条（接入机构对自评结果和相关证明材料的真实性负责）"
REFUSED_REASON = "不是本步骤可审批的人员（提交人、复核人或不在角色中）"
MAKER_REFUSED = "提交人不能复核或签发自己提交的自评报告（提交人、复核人、签发人须为三个不同的人员）"
_TITLES = {"report": "自评报告", "sheet": "自评计分表", "summary": "summary.json"}


class SignoffError(RuntimeError):
    """The sign-off cannot go on (unconfirmed items, nobody eligible, a file changed)."""


class SignoffInputError(SignoffError):
    """What was asked names nothing known (a year without a run, a person): a usage error."""


def content_sha256(files: dict[str, str]) -> str:
    """What the approval is bound to: the three files' SHA-256 in a fixed text (anyone can recompute it)."""
    return hashlib.sha256("".join(f"{k} {files[k]}\n" for k in FILE_KINDS).encode("ascii")).hexdigest()


def _unconfirmed(summary: bytes, where: str) -> list[str]:
    """The items the summary lists as unconfirmed, then those it lists as unevaluated (marked 未评估)."""
    try:
        data = json.loads(summary)
        listed, unevaluated = data["unconfirmed"], data["unevaluated"]
    except (ValueError, KeyError, TypeError):
        raise SignoffError(f"{where} 不是本版本自评运行写出的 summary.json（没有 unconfirmed、unevaluated），不能签发；请重新运行该年度自评") from None
    return [str(x) for x in listed] + [f"{x}（未评估）" for x in unevaluated]


def _refuse_unconfirmed(year: int, unconfirmed: list[str]) -> None:
    """Refused while an item is unconfirmed or unevaluated (a band fact left null scores no deduction)."""
    if any(x.endswith("（未评估）") for x in unconfirmed):
        pending = [x for x in unconfirmed if x.endswith("（未评估）")]
        raise SignoffError(f"{year} 年度自评有 {len(pending)} 个指标未评估（{'、'.join(pending)}：事实为 null）：全部评估、确认"
                           "并重新运行后才能提交签发、定稿（PBOC-102 附件3 第十二条）")
    if unconfirmed:
        raise SignoffError(f"{year} 年度自评有 {len(unconfirmed)} 个指标的事实尚未确认（{'、'.join(unconfirmed)}）：全部确认"
                           "（证据文件 provenance 的 confirmed_by、confirmed_at）并重新运行后才能提交签发、定稿（PBOC-102 附件3 第十二条）")


@dataclass(frozen=True)
class Draft:
    """The year's latest run as recorded: its three files, each on disk with the recorded bytes."""

    year: int
    files: dict[str, dict[str, str]]  # kind → path, sha256
    unconfirmed: list[str]
    score: str
    grade: str

    @property
    def content_sha256(self) -> str:
        return content_sha256({k: f["sha256"] for k, f in self.files.items()})


def draft_of(year: int, url: str | None = None) -> Draft:
    docs = latest_of_subject(PROCEDURE, year_subject(year), url)
    if any(kind not in docs for kind in FILE_KINDS):
        raise SignoffInputError(f"{year} 年度没有登记的自评运行（regflows rating run --year {year} …）")
    files: dict[str, dict[str, str]] = {}
    data: dict[str, bytes] = {}
    for kind in FILE_KINDS:
        row = docs[kind]
        path = Path(row.path)
        content = path.read_bytes() if path.is_file() else b""
        if hashlib.sha256(content).hexdigest() != row.sha256:
            raise SignoffError(f"{_TITLES[kind]} {path} 已不存在或在登记后被改动（与登记的 SHA-256 不符），不能提交签发；请重新运行该年度自评")
        files[kind], data[kind] = {"path": str(path), "sha256": row.sha256}, content
    summary = json.loads(data["summary"])
    return Draft(year, files, _unconfirmed(data["summary"], files["summary"]["path"]), str(summary.get("score")),
                 str(summary.get("grade")))


@dataclass(kw_only=True)
class Signoff(SignoffView):
    """The year's sign-off (a view of the approval, regflows/kit/signoffs.py)."""

    year: int


def _view(approval: Approval) -> Signoff:
    return Signoff(year=int(approval.detail["year"]), **view_fields(approval))


def _due_label(profile: Profile, year: int) -> str | None:
    try:
        return submission_due(year, profile.institution, profile.settings)[0].label()
    except CalendarError:
        return None  # raised by the year's obligation (owed.py); the request just omits it


def policy(profile: Profile) -> Policy:
    """Review by ``rating_review_role``, then approval by ``rating_approval_role``; three different people."""
    settings = profile.settings
    validity = dt.timedelta(days=settings.rating_signoff_link_days)

    def request(approval: Approval, step: approvals.Step, role: str) -> NoticeRequest:
        view = _view(approval)
        lines = []
        for key in FILE_KINDS:
            f = view.files[key]
            link = file_url(str(profile.public_base_url), f["path"], f"{view.year} 年度{_TITLES[key]}（第{approval.revision}版）",
                            sha256=f["sha256"], validity=validity)
            lines.append(f"《{_TITLES[key]}》{Path(f['path']).name}，SHA-256 {f['sha256']}：{link or '（文件未登记，不提供下载，请联系提交人）'}")
        d = approval.detail
        grade = "0 分（第十六条）" if d.get("grade") == "0" else f"{d.get('grade')} 级"
        context: dict[str, Any] = {
            "state": step.name, "subject_ref": approval.subject, "report_title": report_title(view.year),
            "score_label": f"{d.get('score')} 分，{grade}", "revision": approval.revision, "prepared_by": approval.maker.name,
            "reviewed_by": view.reviewer.name if view.reviewer else None, "files": lines, "content_sha256": approval.content_sha256,
            "clause": CLAUSE, "due_label": _due_label(profile, view.year), "institution": profile.institution.name}
        return NoticeRequest(SIGNOFF_REQUEST.name, context, address="eligible")

    def request_id(approval: Approval, step: approvals.Step, role: str, attempt: int) -> str:
        return f"{approval.subject}:r{approval.revision}:{step.name}:{attempt}"

    return Policy(KIND, (approvals.Step("review", (settings.rating_review_role,), distinct=True, action="rating.report_reviewed"),
                         approvals.Step("approve", (settings.rating_approval_role,), distinct=True, action="rating.report_approved")),
                  request=request, request_id=request_id, refused_action="rating.signoff_refused", refused_reason=REFUSED_REASON,
                  maker_refused_reason=MAKER_REFUSED, link_validity=validity)


def submit(profile: Profile, year: int, by: str, *, now: dt.datetime | None = None, url: str | None = None,
           **send_options: Any) -> tuple[Signoff, list[str]]:
    """``by`` submits the year's latest run for sign-off; refused while any item is unconfirmed."""
    why = not_rated(profile.institution, year)
    if why is not None:  # 第九条: a newly connected year is not rated, so nothing of it is signed off
        raise SignoffError(why)
    try:
        maker = profile.person(by)
    except KeyError:
        raise SignoffInputError(f"提交人 {by} 不是机构配置中的人员（people）") from None
    draft = draft_of(year, url)
    _refuse_unconfirmed(year, draft.unconfirmed)
    settings = profile.settings
    reviewers = [m for m in approvals.role_members(profile, settings.rating_review_role) if m != by]
    signers = [m for m in approvals.role_members(profile, settings.rating_approval_role) if m != by]
    if not any(r != a for r in reviewers for a in signers):
        raise SignoffError(f"{profile.role_label(settings.rating_review_role)}与{profile.role_label(settings.rating_approval_role)}"
                           f"中找不到提交人 {maker.name} 以外的两名不同人员担任复核人和签发人（提交人、复核人、签发人须为三个不同的人员）")
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    warnings: list[str] = []
    with db.session(url) as s:
        bound = approvals.bind_in(s, policy(profile), year_subject(year), draft.content_sha256,
                                  Act(by, maker.name, moment.isoformat(), "submission"),
                                  {"year": year, "files": draft.files, "score": draft.score, "grade": draft.grade})
        ledger.append_in(s, "rating.report_submitted", year_subject(year),
                         {"revision": bound.approval.revision, "outcome": bound.outcome, "content_sha256": draft.content_sha256,
                          "files": draft.files}, actor=by)
        ensure_submission_in(s, year, profile)
    if bound.outcome == "voided":
        warnings.append(f"{year} 年度自评内容已改变（第 {bound.approval.revision} 版）：此前第 {bound.previous_revision} 版的复核、签发作废，须重新复核、签发")
    elif bound.outcome == "kept":
        warnings.append(f"{year} 年度自评文件与第 {bound.approval.revision} 版逐字节相同：此前的复核、签发继续有效")
    return advance(profile, year, now=now, url=url, **send_options), warnings


def advance(profile: Profile, year: int, *, now: dt.datetime | None = None, url: str | None = None, **send_options: Any) -> Signoff:
    """Take every step that can be taken now (idempotent: the ack page and the watch both call it)."""
    try:
        approval = approvals.advance(profile, policy(profile), year_subject(year), now=now, url=url, **send_options)
    except approvals.NobodyEligible as exc:
        raise SignoffError(f"{year} 年度：{profile.role_label(exc.role)}中没有提交人、复核人以外的人员，无法"
                           f"{'复核' if exc.step == 'review' else '签发'}（提交人、复核人、签发人须为三个不同的人员）") from None
    except LookupError:
        raise SignoffInputError(f"{year} 年度自评报告尚未提交签发（regflows rating signoff {year} --by 人员）") from None
    if approval.stage == APPROVED:
        return finalize(profile, year, url=url)
    return _view(approval)


def _name(profile: Profile, person_id: str) -> str:
    return approvals.person_name(profile, person_id)


def finalize(profile: Profile, year: int, *, url: str | None = None) -> Signoff:
    """Make the approved report final: the approved bytes, checked, copied without draft marks."""
    subject = year_subject(year)
    approval = approvals.get(KIND, subject, url)
    if approval is None or approval.stage not in (APPROVED, DONE):
        raise SignoffError(f"{year} 年度：自评报告尚未复核、签发，不能定稿")
    if approval.stage == DONE:
        return _view(approval)
    view = _view(approval)
    assert view.reviewer is not None and view.approver is not None
    try:
        approved = read_approved(view.files)
    except FileChanged as exc:
        ledger.append("rating.final_refused", subject, {"revision": view.revision, "file": str(exc.path), "reason": "changed"}, url=url)
        raise SignoffError(f"{year} 年度：{exc.path} 与审批时的内容不一致（或已不存在），不能定稿；请重新运行并重新提交签发") from None
    if content_sha256({k: f["sha256"] for k, f in view.files.items()}) != approval.content_sha256:
        raise SignoffError(f"{year} 年度：登记的文件与审批对象的 SHA-256 不一致，不能定稿")
    unconfirmed = _unconfirmed(approved["summary"], view.files["summary"]["path"])
    if unconfirmed:  # the approved summary itself: never final with an item nobody confirmed
        ledger.append("rating.final_refused", subject, {"revision": view.revision, "reason": "unconfirmed", "items": unconfirmed}, url=url)
        _refuse_unconfirmed(year, unconfirmed)
    signed_at = dt.datetime.fromisoformat(view.approver.at).astimezone(SHANGHAI)
    signed_on = signed_at.date()
    approved["report"] = final_copy(approved["report"], stamp=signed_at, fill={
        SIGNOFF_DAY: f"{signed_on.year}年{signed_on.month}月{signed_on.day}日"
                     f"（{_name(profile, view.reviewer.person)} 复核、{_name(profile, view.approver.person)} 签发）"})
    final: dict[str, dict[str, str]] = {}
    for key, f in view.files.items():
        target = final_path(Path(f["path"]), view.revision)
        final[key] = {"path": str(write_atomically(target, approved[key]).absolute()), "sha256": hashlib.sha256(approved[key]).hexdigest(),
                      "approved_sha256": f["sha256"]}
    names = {"maker": view.maker.person, "reviewer": view.reviewer.person, "approver": view.approver.person}
    try:
        with db.session(url) as s:
            try:
                done, newly = approvals.finish_in(s, KIND, subject, view.revision, {"final": final, "signed_off_on": signed_on.isoformat()})
            except approvals.Voided as exc:
                raise SignoffError(f"{year} 年度：签发期间自评已重新提交（第 {exc.current} 版），本次签发作废") from None
            if not newly:
                return _view(done)
            for key in FILE_KINDS:
                record_report_in(s, procedure=PROCEDURE, kind=f"{key}-final", subject=f"{subject}:final", path=final[key]["path"],
                                 sha256=final[key]["sha256"], action="rating.report_final", ledger_subject=subject,
                                 actor=view.approver.person, detail={"revision": view.revision, **names})
            row = find(s, subject, SUBMISSION_CODE, for_update=True)
            if row is not None:
                row.detail = {**(row.detail or {}), "final": {"revision": view.revision, **final, **names},
                              "signed_off_on": signed_on.isoformat()}
    except StaleDataError:  # the endpoint and the watch finalised at the same moment: the other recorded it
        current = approvals.get(KIND, subject, url)
        if current is not None and current.stage == DONE:
            return _view(current)
        raise
    return _view(done)


def status(year: int, url: str | None = None) -> Signoff | None:
    approval = approvals.get(KIND, year_subject(year), url)
    return _view(approval) if approval else None


def open_years(url: str | None = None) -> list[int]:
    """Years whose report is submitted and not yet final (the watch advances them)."""
    return [int(s.split(":", 1)[1]) for s in approvals.open_subjects(KIND, url)]


def year_of_request(notice_id: str) -> int | None:
    """``rating:2025:r1:review:1`` → 2025."""
    parts = notice_id.split(":")
    if len(parts) == 5 and parts[0] == PROCEDURE and parts[1].isdigit() and parts[3] in ("review", "approve"):
        return int(parts[1])
    return None


def after_ack(notice_id: str) -> str:
    """The acknowledgement page's follow-up: advance at once and say what the click did."""
    year = year_of_request(notice_id)
    if year is None:
        return ""
    profile = load_profile(profile_path())
    try:
        view = advance(profile, year)
    except SignoffError as exc:
        return f"已记录您的确认；后续步骤未能完成：{exc}"
    if view.stage == "final":
        return f"{year} 年度自评报告已签发定稿，签发日 {view.signed_off_on}。"
    if view.stage == "approve" and view.reviewer:
        return f"已记录复核人 {view.reviewer.name}，已请签发人签发。"
    return f"当前状态：{view.stage_title}"
