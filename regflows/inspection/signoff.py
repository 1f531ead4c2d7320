"""Sign-off of the quarter's self-inspection report: submitted, reviewed, approved, final (issue 15,
items 6 and 7).

PBOC-102 三（三） asks for a written report of each quarter's 自查自纠 and says its route follows the
event reports' (「报告流程参照征信信息安全事件的报告要求」). The event reports of 三（二） are
prepared, reviewed and signed for release by different people (附件2: 填表人、复核人、签发人), so the
report goes the same way here: the person who submits the draft (the maker, ``--by``), a member
of ``inspection_review_role`` (default the compliance role) who reviews it, then a member of
``inspection_approval_role`` (default the leadership group) who approves it; three different
people. The roles are settings because the text names none (README, Interpretations).

All of that is the kit's maker-checker core (:mod:`regflows.kit.approvals`): each request is an
``inspection_signoff_request`` notice with personal signed links, carrying signed download links
of both files (notices/files.py) so that the people asked read what they approve. The approval
is bound to the SHA-256 of what is approved, the report .docx (the run's draft or its latest
redraft) and the findings .xlsx together (:func:`content_sha256`): a redraft with other content
is a new revision and the approvals given so far are void; a byte-identical one keeps them.

One approval per quarter and report (subject ``self-inspection:<quarter>`` for the head office's,
``self-inspection:<quarter>-<unit>`` for a unit that reports on its own, units.py; the report
obligation's subject): each report is reviewed, approved, made final and filed on its own (三（三）
after 三（二）'s route), and only a unit's own final report fulfils its obligation. A later run of the quarter submitted for sign-off replaces the earlier one's content,
so nothing approved for one run carries over to another's different files.

When the last step is approved the report is final: the approved bytes (read once, checked
against the approved hashes: a file changed since is refused, never finalised under the names)
are copied to ``*-final-r<revision>`` files and recorded with their SHA-256 (kinds
``report-final`` and ``findings-final``), the quarter's report obligation notes them, and the
sign-off day is recorded with :func:`regflows.inspection.rectification.record_signoff`, so that
every self-inspection finding's report obligation (附件4 六（二）) gets its due day.

Advancing happens when a person confirms on the acknowledgement page (the kind's ``after_ack``)
and in ``self-inspection-watch`` (:func:`open_quarters`, :func:`advance`), which also re-sends a
request whose links expired; both may run at once, the core's version column keeps one winner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from calendars.official import CalendarError
from calendars.zone import SHANGHAI
from notices.files import file_url
from regflows import ledger
from regflows.inspection import records
from regflows.inspection.due import report_due
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.owed import PROCEDURE, REPORT_CODE, ROUTE, ensure_report_in, quarter_subject
from regflows.inspection.units import InspectionReport, report_for, reports, split_key
from regflows.inspection.rectification import record_signoff
from regflows.inspection.report import RECTIFICATION_PENDING, SIGNOFF_DAY
from regflows.inspection.signoff_notices import SIGNOFF_REQUEST
from regflows.kit import approvals
from regflows.kit.approvals import APPROVED, DONE, Act, Approval, NoticeRequest, Policy
from regflows.kit.documents import final_copy
from regflows.kit.files import write_atomically
from regflows.kit.obligations import Refused
from regflows.kit.reports import record_report_in
from regflows.kit.signoffs import STAGE_TITLES, FileChanged, SignoffView, final_path, read_approved, view_fields
from regflows.profile import Profile, load_profile, profile_path
from regflows.store import db
from regflows.store.obligations import find
from regflows.store.reports import latest_of_subject

__all__ = [
    "CLAUSE", "KIND", "STAGE_TITLES", "Signoff", "SignoffError", "SignoffInputError", "advance", "after_ack", "content_sha256",
    "draft_of", "open_quarters", "open_reports", "policy", "status_of_run", "submit",
]

#: The approval kind in the store's ``approval`` table.
KIND = "self-inspection-signoff"
CLAUSE = "PBOC-102 三（三）（报告流程参照征信信息安全事件的报告要求）"
#: The report documents a sign-off may take, newest wins: the run's draft and its redrafts.
REPORT_KINDS = ("report", "report-redraft")
FINDINGS_KIND = "findings"
REFUSED_REASON = "不是本步骤可审批的人员（提交人、复核人或不在角色中）"
MAKER_REFUSED = "提交人不能复核或签发自己提交的自查报告（提交人、复核人、签发人须为三个不同的人员）"


class SignoffError(RuntimeError):
    """The sign-off cannot go on (nobody eligible, a file changed since it was recorded or approved)."""


class SignoffInputError(SignoffError):
    """What was asked names nothing known (a run, a person): the entry point's usage error."""


class SignoffCalendarError(SignoffError):
    """The findings' report due days cannot be computed: the calendar lacks the year."""


def content_sha256(report_sha256: str, findings_sha256: str) -> str:
    """What the approval is bound to: both files' SHA-256, in a fixed text (so anyone can recompute it)."""
    return hashlib.sha256(f"report {report_sha256}\nfindings {findings_sha256}\n".encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Draft:
    """The run's documents as recorded: the latest report (draft or redraft) and the findings workbook."""

    run_id: str
    quarter: Quarter
    report: Path
    report_sha256: str
    report_kind: str
    findings: Path
    findings_sha256: str
    unit: str | None = None  # None: the head office's report

    @property
    def content_sha256(self) -> str:
        return content_sha256(self.report_sha256, self.findings_sha256)

    def files(self) -> dict[str, dict[str, str]]:
        return {"report": {"path": str(self.report), "sha256": self.report_sha256, "kind": self.report_kind},
                "findings": {"path": str(self.findings), "sha256": self.findings_sha256, "kind": FINDINGS_KIND}}


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def draft_of(run_id: str, url: str | None = None, unit: str | None = None) -> Draft:
    """The run's report to sign off (the head office's, or ``unit``'s own): its latest recorded
    report (the run's draft or a later redraft) and its findings workbook, each still on disk with
    the bytes recorded (else refused)."""
    run = records.run_of(run_id, url)
    if run is None:
        raise SignoffInputError(f"自查运行 {run_id} 未登记（见 regflows self-inspection run 输出的 run_id）")
    docs = latest_of_subject(PROCEDURE, records.document_subject(run_id, unit), url)
    drafts = [docs[k] for k in REPORT_KINDS if k in docs]
    if not drafts or FINDINGS_KIND not in docs:
        whose = f"报送单位 {unit} 的" if unit else ""
        raise SignoffInputError(f"自查运行 {run_id} 没有登记的{whose}报告草稿或问题清单，无法提交签发")
    report = max(drafts, key=lambda r: (r.created_at, r.id))
    findings = docs[FINDINGS_KIND]
    for title, row in (("报告", report), ("问题清单", findings)):
        if _sha256(Path(row.path)) != row.sha256:
            raise SignoffError(f"{title} {row.path} 已不存在或在登记后被改动（与登记的 SHA-256 不符），不能提交签发；"
                               "请重新运行该季度或重新起草报告（regflows self-inspection redraft）")
    return Draft(run_id, Quarter.parse(run.quarter), Path(report.path), report.sha256, report.kind, Path(findings.path),
                 findings.sha256, unit)


@dataclass(kw_only=True)
class Signoff(SignoffView):
    """The quarter's sign-off as the CLI, the watch and the notices see it (a view of the approval,
    regflows/kit/signoffs.py)."""

    quarter: str
    run_id: str
    unit: str | None = None  # None: the head office's report


def _view(approval: Approval) -> Signoff:
    return Signoff(quarter=approval.detail["quarter"], run_id=approval.detail["run_id"], unit=approval.detail.get("unit"),
                   **view_fields(approval))


def _subject(quarter: Quarter, unit: str | None = None) -> str:
    return quarter_subject(quarter, unit)


def _due_label(profile: Profile, quarter: Quarter) -> str | None:
    try:
        deadline = report_due(quarter, profile.settings)
    except CalendarError:
        return None  # raised by the quarter's report obligation (owed.py); the request just omits it
    return f"{deadline.last_day.isoformat()} 24:00" if deadline.last_day else None


def _report_or_none(profile: Profile, unit: str | None) -> InspectionReport | None:
    try:
        return report_for(profile, unit)
    except InspectionInputError:  # the profile no longer has the unit report on its own: named by its code
        return None


def _report_title(quarter: Quarter, report: InspectionReport | None = None) -> str:
    from regflows.inspection.pipeline import quarter_title  # pandas and the report writer: only when a request is sent

    who = f"{report.unit.name}（报{report.addressee}）" if report is not None and not report.head_office else ""
    return f"{who}{quarter_title(quarter)}征信合规与信息安全自查自纠报告"


def _file_lines(profile: Profile, quarter: Quarter, files: dict[str, dict[str, str]], revision: int) -> list[str]:
    """One line per file: its name, SHA-256 and signed link to that very version (None: not on record, said so)."""
    validity = dt.timedelta(days=profile.settings.inspection_signoff_link_days)
    lines = []
    for key, title in (("report", "自查自纠报告"), ("findings", "问题清单")):
        f = files[key]
        name = f"{quarter.label} {title}（第{revision}版）"
        link = file_url(str(profile.public_base_url), f["path"], name, sha256=f["sha256"], validity=validity)
        where = link or "（文件未登记，不提供下载，请联系提交人）"
        lines.append(f"《{title}》{Path(f['path']).name}，SHA-256 {f['sha256']}：{where}")
    return lines


def policy(profile: Profile, unit: str | None = None) -> Policy:
    """Review by ``inspection_review_role``, then approval by ``inspection_approval_role`` (a unit's
    own report: the unit's roles where set); both ``distinct``: the maker, the reviewer and the
    approver are three people (PBOC-102 三（三） after 三（二）'s 附件2), each asked by name through an
    ``inspection_signoff_request``."""
    settings = profile.settings
    chosen = _report_or_none(profile, unit)
    review_role = chosen.review_role if chosen is not None else settings.inspection_review_role
    approval_role = chosen.approval_role if chosen is not None else settings.inspection_approval_role

    def request(approval: Approval, step: approvals.Step, role: str) -> NoticeRequest:
        view = _view(approval)
        quarter = Quarter.parse(view.quarter)
        context: dict[str, Any] = {
            "state": step.name, "subject_ref": approval.subject, "report_title": _report_title(quarter, _report_or_none(profile, view.unit)),
            "run_id": view.run_id,
            "revision": approval.revision, "prepared_by": approval.maker.name,
            "reviewed_by": view.reviewer.name if view.reviewer else None,
            "files": _file_lines(profile, quarter, view.files, approval.revision), "content_sha256": approval.content_sha256,
            "clause": CLAUSE, "route": ROUTE, "due_label": _due_label(profile, quarter), "institution": profile.institution.name}
        return NoticeRequest(SIGNOFF_REQUEST.name, context, address="eligible")

    def request_id(approval: Approval, step: approvals.Step, role: str, attempt: int) -> str:
        return f"{approval.subject}:r{approval.revision}:{step.name}:{attempt}"

    return Policy(KIND, (approvals.Step("review", (review_role,), distinct=True, action="inspection.report_reviewed"),
                         approvals.Step("approve", (approval_role,), distinct=True,
                                        action="inspection.report_approved")),
                  request=request, request_id=request_id, refused_action="inspection.signoff_refused", refused_reason=REFUSED_REASON,
                  maker_refused_reason=MAKER_REFUSED, link_validity=dt.timedelta(days=settings.inspection_signoff_link_days))


def _check_people(profile: Profile, maker: str, report: InspectionReport) -> None:
    """Refused before anything is recorded when the roles leave no reviewer and approver besides the maker."""
    reviewers = [m for m in approvals.role_members(profile, report.review_role) if m != maker]
    signers = [m for m in approvals.role_members(profile, report.approval_role) if m != maker]
    if not any(r != a for r in reviewers for a in signers):
        raise SignoffError(f"{profile.role_label(report.review_role)}与{profile.role_label(report.approval_role)}"
                           f"中找不到提交人 {approvals.person_name(profile, maker)} 以外的两名不同人员担任复核人和签发人"
                           "（提交人、复核人、签发人须为三个不同的人员）：请由其他人员提交，或在机构配置中补充角色成员")


def submit(profile: Profile, run_id: str, by: str, *, now: dt.datetime | None = None, url: str | None = None,
           unit: str | None = None, **send_options: Any) -> tuple[Signoff, list[str]]:
    """``by`` submits the run's report (its latest draft or redraft; the head office's, or
    ``unit``'s own: units.py) and findings for sign-off.

    Binds the quarter's approval to both files' SHA-256 (a changed content voids earlier
    approvals, identical content keeps them), ledgers the submission, makes sure the quarter's
    report is owed, and sends the current step's requests. Returns the sign-off and warnings.
    """
    try:
        maker = profile.person(by)
    except KeyError:
        raise SignoffInputError(f"提交人 {by} 不是机构配置中的人员（people）") from None
    try:
        report = report_for(profile, unit)
    except InspectionInputError as exc:
        raise SignoffInputError(str(exc)) from None
    try:  # a superseded run's report holds answers that no longer count (review of issue 15, defect 1)
        records.refuse_superseded(run_id, "提交签发", url)
    except InspectionInputError as exc:
        raise SignoffInputError(str(exc)) from None
    draft = draft_of(run_id, url, report.code)
    _check_people(profile, by, report)
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    subject = _subject(draft.quarter, report.code)
    warnings: list[str] = []
    with db.session(url) as s:
        bound = approvals.bind_in(s, policy(profile, report.code), subject, draft.content_sha256, Act(by, maker.name, moment.isoformat(), "submission"),
                                  {"quarter": draft.quarter.label, "run_id": run_id, "files": draft.files(), "unit": report.code})
        revision = bound.approval.revision
        ledger.append_in(s, "inspection.report_submitted", subject,
                         {"run_id": run_id, "revision": revision, "outcome": bound.outcome, "content_sha256": draft.content_sha256,
                          "files": draft.files(), **({"maker_of_record": bound.approval.maker.person} if bound.outcome == "kept" else {})},
                         actor=by)
        for each in reports(profile):  # every report of the quarter owed, so each finding is dated by its own
            row, _ = ensure_report_in(s, draft.quarter, profile.settings, report=each)
            if each.code == report.code:
                owed = row
        filed = owed.fulfilled_at
    if filed is not None and bound.outcome != "kept":
        warnings.append(f"{draft.quarter.label} 的自查报告已于 {filed.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 登记为已报送；"
                        "重新签发的报告如有更正，须按原报告流程重新报送")
    if bound.outcome == "voided":
        warnings.append(f"{draft.quarter.label} 的自查报告内容已改变（第 {revision} 版）：此前第 {bound.previous_revision} 版的复核、签发作废，须重新复核、签发")
    elif bound.outcome == "kept":
        warnings.append(f"{draft.quarter.label} 的自查报告与问题清单与第 {revision} 版逐字节相同：此前的复核、签发继续有效"
                        f"（当前：{_view(bound.approval).stage_title}）")
    return advance(profile, draft.quarter, now=now, url=url, unit=report.code, **send_options), warnings


def advance(profile: Profile, quarter: Quarter, *, now: dt.datetime | None = None, url: str | None = None,
            unit: str | None = None, **send_options: Any) -> Signoff:
    """Take every step that can be taken now on the quarter's report (the head office's, or
    ``unit``'s) (idempotent: the ack page and the watch both call it); finalise when the approval
    step is done."""
    try:
        approval = approvals.advance(profile, policy(profile, unit), _subject(quarter, unit), now=now, url=url, **send_options)
    except approvals.NobodyEligible as exc:
        step = "复核" if exc.step == "review" else "签发"
        raise SignoffError(f"{quarter.label}：{profile.role_label(exc.role)}中没有提交人、复核人以外的人员，无法{step}"
                           "（提交人、复核人、签发人须为三个不同的人员）") from None
    except LookupError:
        raise SignoffInputError(f"{quarter.label} {_whose(unit)}的自查报告尚未提交签发（regflows self-inspection signoff RUN_ID"
                                f"{' --unit ' + unit if unit else ''} --by 人员）") from None
    if approval.stage == APPROVED:
        return finalize(profile, quarter, url=url, unit=unit)
    return _view(approval)


def _name(profile: Profile, person_id: str) -> str:
    return next((p.name for p in profile.people if p.id == person_id), person_id)


def _whose(unit: str | None) -> str:
    return f"报送单位 {unit} " if unit else ""


def finalize(profile: Profile, quarter: Quarter, *, url: str | None = None, unit: str | None = None) -> Signoff:
    """Make the approved report final: copy the approved bytes, record them, record the sign-off day
    (for the findings its report holds)."""
    subject = _subject(quarter, unit)
    approval = approvals.get(KIND, subject, url)
    if approval is None or approval.stage not in (APPROVED, DONE):
        raise SignoffError(f"{quarter.label}：自查报告尚未复核、签发，不能定稿")
    if approval.stage == DONE:
        return _view(approval)
    view = _view(approval)
    assert view.reviewer is not None and view.approver is not None
    people = {view.maker.person, view.reviewer.person, view.approver.person}
    if len(people) != 3:  # the distinct steps keep them apart; this guards the record itself
        raise SignoffError(f"{quarter.label}：提交人、复核人、签发人须为三个不同的人员，记录为 {sorted(people)}")
    # Read once, hash and copy the same bytes: a file rewritten between two reads must not be
    # finalised under the three names.
    try:
        approved = read_approved(view.files)
    except FileChanged as exc:
        ledger.append("inspection.final_refused", subject, {"revision": view.revision, "file": str(exc.path), "reason": "changed"}, url=url)
        raise SignoffError(f"{quarter.label}：{exc.path} 与审批时的内容不一致（或已不存在），不能定稿；请重新起草并重新提交签发") from None
    if content_sha256(view.files["report"]["sha256"], view.files["findings"]["sha256"]) != approval.content_sha256:
        raise SignoffError(f"{quarter.label}：登记的文件与审批对象的 SHA-256 不一致，不能定稿")
    signed_at = dt.datetime.fromisoformat(view.approver.at).astimezone(SHANGHAI)
    signed_on = signed_at.date()
    # The report's final copy is the approved draft with its draft marks out and its sign-off filled
    # in (the kit's final_copy, from the approved bytes); the findings workbook is the approved one.
    approved["report"] = final_copy(approved["report"], stamp=signed_at, fill={
        SIGNOFF_DAY: f"{signed_on.year}年{signed_on.month}月{signed_on.day}日",
        RECTIFICATION_PENDING: (f"本报告经 {_name(profile, view.reviewer.person)} 复核、{_name(profile, view.approver.person)} 签发"
                                f"（{signed_on.isoformat()}）；各项问题见随本报告报送的问题清单，其整改期限与状态见本报告第六部分的问题整改台账，"
                                "整改情况报告期限自签发之日起算（附件4 六（二））。"),
    })
    final = {key: {"path": str(write_atomically(final_path(Path(f["path"]), view.revision), approved[key]).absolute()),
                   "sha256": hashlib.sha256(approved[key]).hexdigest(), "approved_sha256": f["sha256"]}
             for key, f in view.files.items()}
    report = report_for(profile, unit)
    with db.session(url) as s:
        row, _ = ensure_report_in(s, quarter, profile.settings, report=report)
        value = (row.detail or {}).get("signed_off_on")
        recorded = dt.date.fromisoformat(value) if value else None
    if recorded is None:
        try:
            record_signoff(quarter, signed_on, settings=profile.settings, url=url, by=view.approver.person, unit_report=report)
        except CalendarError as exc:  # stays approved, not final: the watch tries again once the calendar has the year
            raise SignoffCalendarError(f"{quarter.label}：自查报告已签发，但问题整改情况报告的期限无法计算：{exc}") from None
        except Refused:
            pass  # recorded meanwhile by the endpoint or the watch, the same day
    try:
        return _record_final(quarter, view, final, signed_on, recorded, url, unit)
    except StaleDataError:  # the endpoint and the watch finalised at the same moment: the other recorded it
        current = approvals.get(KIND, subject, url)
        if current is not None and current.stage == DONE:
            return _view(current)
        raise


def _record_final(quarter: Quarter, view: Signoff, final: dict[str, dict[str, str]], signed_on: dt.date,
                  recorded: dt.date | None, url: str | None, unit: str | None = None) -> Signoff:
    subject = _subject(quarter, unit)
    assert view.reviewer is not None and view.approver is not None
    day = (recorded or signed_on).isoformat()
    with db.session(url) as s:
        try:
            done, newly = approvals.finish_in(s, KIND, subject, view.revision, {"final": final, "signed_off_on": day})
        except approvals.Voided as exc:
            raise SignoffError(f"{quarter.label}：签发期间自查报告已重新提交（第 {exc.current} 版），本次签发作废") from None
        if not newly:
            return _view(done)
        names = {"maker": view.maker.person, "reviewer": view.reviewer.person, "approver": view.approver.person}
        for key, kind in (("report", "report-final"), ("findings", "findings-final")):
            record_report_in(s, procedure=PROCEDURE, kind=kind, subject=records.document_subject(view.run_id, unit),
                             path=final[key]["path"], sha256=final[key]["sha256"],
                             action="inspection.report_final", ledger_subject=subject, actor=view.approver.person,
                             detail={"revision": view.revision, "content_sha256": view.content_sha256, **names})
        row = find(s, subject, REPORT_CODE, for_update=True)
        if row is not None:  # the quarter's report obligation: what is to be filed
            row.detail = {**(row.detail or {}), "final": {"run_id": view.run_id, "revision": view.revision, **final, **names}}
        if recorded is not None and recorded != signed_on:
            ledger.append_in(s, "inspection.signoff_day_kept", subject,
                             {"recorded": recorded.isoformat(), "signed_on": signed_on.isoformat(), "revision": view.revision,
                              "reason": "整改情况报告期限自首次签发之日起算，已登记的签发日不变"})
    return _view(done)


def status_of_run(run_id: str, url: str | None = None, unit: str | None = None) -> tuple[Signoff | None, Quarter]:
    """The sign-off of the run's quarter's report (the head office's, or ``unit``'s; None before any
    submission) and the quarter."""
    run = records.run_of(run_id, url)
    if run is None:
        raise SignoffInputError(f"自查运行 {run_id} 未登记（见 regflows self-inspection run 输出的 run_id）")
    quarter = Quarter.parse(run.quarter)
    approval = approvals.get(KIND, _subject(quarter, unit), url)
    return (_view(approval) if approval else None), quarter


def open_reports(url: str | None = None) -> list[tuple[Quarter, str | None]]:
    """(quarter, unit) of each report submitted and not yet final (the watch advances them); unit
    None: the head office's."""
    return [split_key(s.split(":", 1)[1]) for s in approvals.open_subjects(KIND, url)]


def open_quarters(url: str | None = None) -> list[Quarter]:
    """Quarters with a report submitted and not yet final."""
    return list(dict.fromkeys(q for q, _ in open_reports(url)))


def report_of_request(notice_id: str) -> tuple[Quarter, str | None] | None:
    """``self-inspection:2025Q3:r1:review:1`` → (2025Q3, None); ``self-inspection:2025Q3-YX0101:r1:review:1`` → (2025Q3, YX0101)."""
    parts = notice_id.split(":")
    if len(parts) == 5 and parts[0] == PROCEDURE and parts[2].startswith("r") and parts[3] in ("review", "approve"):
        try:
            return split_key(parts[1])
        except (ValueError, InspectionInputError):
            return None
    return None


def quarter_of_request(notice_id: str) -> Quarter | None:
    """The quarter of a request's notice id (:func:`report_of_request`)."""
    found = report_of_request(notice_id)
    return found[0] if found else None


def after_ack(notice_id: str) -> str:
    """The acknowledgement page's follow-up: advance at once and tell the person what their click did."""
    found = report_of_request(notice_id)
    if found is None:
        return ""
    quarter, unit = found
    profile = load_profile(profile_path())
    try:
        view = advance(profile, quarter, unit=unit)
    except SignoffError as exc:
        return f"已记录您的确认；后续步骤未能完成：{exc}"
    if view.stage == "final":
        return (f"{quarter.label} {_whose(unit)}自查报告已签发定稿（提交人 {view.maker.name}，复核人 {view.reviewer.name if view.reviewer else ''}，"
                f"签发人 {view.approver.name if view.approver else ''}），签发日 {view.signed_off_on}。")
    if view.stage == "approve" and view.reviewer:
        return f"已记录复核人 {view.reviewer.name}，已请签发人签发。"
    return f"当前状态：{view.stage_title}"
