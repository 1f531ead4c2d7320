"""Review and sign-off of the monthly table: 填表人, 复核人, 签发人 (PBOC-102 III(2), attachment 2).

Attachment 2 names three people on the table: who filled it in (填表人), who reviewed it (复核人)
and who signed it for release (签发人). They must be three different people of the profile, and
each must be recorded with the time they acted. Only then is the report final.

How the "pause" works, and why not with Prefect's own pause: the Prefect UI cannot tell who
clicked "resume", and a flow run held open for the days a review can take would pin a worker
process and die with it. So the run prepares the draft and records it here (stage ``review``);
the review role's members, less the preparer, get a notice with a personal signed link
(``notices.acks``); the first of them to confirm is recorded as 复核人 (stage ``signoff``); the
sign-off role's members, less those two, get the next link; the first to confirm is 签发人, and
the final table is written with the three names (stage ``final``). The acknowledgement endpoint
advances the stages at once when a link is used; ``credit-stats-watch`` advances them too, and
re-sends a request whose links expired, so nothing depends on one process staying up.

All of that is the shared maker-checker core (``regflows.kit.approvals``): this module gives it
the two steps (both ``distinct``: the three are different people), the ``signoff_request``
notice and the ledger's action names, and writes the final table when both steps are approved.
The approval is bound to the SHA-256 of summary.json, the figures the table is written from: a
new run of the month with other figures is a new revision (earlier approvals were of other
figures and do not carry over); a byte-identical rerun keeps the review and the sign-off (and
the 填表人 of record). If summary.json no longer matches what was approved, finalising is refused.

The state lives in the store's ``approval`` table, each step in the audit ledger. A month
prepared before that table existed kept its state in ``Obligation.detail["signoff"]``: it is read
from there, and moved into the table the first time it is advanced or prepared again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm import Session

from calendars.deadlines import end_of_day, last_day_of, time_left_zh
from calendars.zone import SHANGHAI, local_label
from notices.files import file_url
from notices.service import send_notice
from regflows import ledger
from regflows.credit.models import COUNT_TITLES, COUNTS, CreditInputError, Period, UnitRow
from regflows.credit.table import write_table
from regflows.credit.units import ReportingTable, period_of, split_key, table_for, table_of_key
from regflows.kit import approvals
from regflows.kit.evidence import sha256_file
from regflows.kit.reports import record_report_in
from regflows.kit.approvals import APPROVED, DONE, Act, Approval, Decision, NoticeRequest, Policy, Request
from regflows.profile import Profile, Settings, load_profile, profile_path
from regflows.store import db
from regflows.store.models import Obligation, utcnow

PROCEDURE = "credit-stats"
CODE = "monthly-statistics"
CLAUSE = "PBOC-102 三（二）、附件2"
#: The approval kind of the monthly table in the store's ``approval`` table.
KIND = "credit-signoff"
STAGE_TITLES = {"review": "待复核", "signoff": "待签发", "final": "已签发"}
#: A request whose links expire within this margin is sent again rather than left to run out.
RESEND_MARGIN = dt.timedelta(hours=1)
REFUSED_REASON = "不是本步骤可签核的人员（填表人、复核人或不在角色中）"

#: Who did one step, when, and through what (a signed link's notice, or the run itself).
Step = Act


class SignoffError(RuntimeError):
    """The sign-off cannot go on (nobody eligible, the draft changed, no such month)."""


def subject(label: str) -> str:
    return f"{PROCEDURE}:{label}"


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in blocks (the kit's one hash of a file)."""
    return sha256_file(path)[0]


@dataclass
class Signoff:
    """The month's sign-off as the flow, the CLI and the notices see it (a view of the approval)."""

    label: str
    revision: int
    stage: str  # review | signoff | final
    preparer: Step
    draft: dict[str, str]  # xlsx, xlsx_sha256, summary, summary_sha256
    reviewer: Step | None = None
    signer: Step | None = None
    final: dict[str, str] | None = None  # xlsx, xlsx_sha256
    requests: list[str] = field(default_factory=list)  # notice ids sent for this revision, oldest first
    refused: list[str] = field(default_factory=list)  # acknowledgement token ids not counted (ledgered once)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signoff:
        steps = {k: Step(**data[k]) if data.get(k) else None for k in ("preparer", "reviewer", "signer")}
        return cls(label=data["label"], revision=int(data["revision"]), stage=data["stage"], draft=dict(data["draft"]),
                   final=data.get("final"), requests=list(data.get("requests", [])), refused=list(data.get("refused", [])),
                   **steps)  # type: ignore[arg-type]

    @property
    def stage_title(self) -> str:
        return STAGE_TITLES[self.stage]


def _view(approval: Approval) -> Signoff:
    """The approval as a :class:`Signoff`: signed but not yet finalised reads as ``signoff``."""
    stage = {DONE: "final", APPROVED: "signoff"}.get(approval.stage, approval.stage)
    return Signoff(label=approval.detail["label"], revision=approval.revision, stage=stage, preparer=approval.maker,
                   draft=dict(approval.detail["draft"]), reviewer=approval.decision("review"), signer=approval.decision("signoff"),
                   final=approval.detail.get("final"), requests=[r.notice for r in approval.requests], refused=list(approval.refused))


def _from_legacy(state: Signoff, settings: Settings | None) -> Approval:
    """A sign-off recorded in ``Obligation.detail["signoff"]`` (before the ``approval`` table)."""
    review_role = settings.credit_review_role if settings else ""
    signoff_role = settings.credit_signoff_role if settings else ""
    stage = {"final": DONE, "signoff": APPROVED if state.signer else "signoff"}.get(state.stage, state.stage)
    decisions = [Decision(step, role, act, state.draft["summary_sha256"])
                 for step, role, act in (("review", review_role, state.reviewer), ("signoff", signoff_role, state.signer)) if act]
    prefix = f"{subject(state.label)}:r{state.revision}:"
    requests = [Request(n.split(":")[3], review_role if n.split(":")[3] == "review" else signoff_role, n)
                for n in state.requests if n.startswith(prefix)]
    return Approval(subject(state.label), KIND, state.revision, state.draft["summary_sha256"], stage, state.preparer,
                    decisions, requests, list(state.refused),
                    {"label": state.label, "draft": dict(state.draft), **({"final": state.final} if state.final else {})})


def _approval_in(s: Session, label: str, adopt_with: Profile | None = None) -> Approval | None:
    """The month's approval; one still kept in the obligation row is read from there, and moved into
    the ``approval`` table when ``adopt_with`` (the profile, for the steps' roles) is given."""
    approval = approvals.get_in(s, KIND, subject(label))
    if approval is not None:
        return approval
    row = month_obligation(s, label)
    data = (row.detail or {}).get("signoff") if row is not None else None
    if not data:
        return None
    approval = _from_legacy(Signoff.from_dict(data), adopt_with.settings if adopt_with else None)
    if adopt_with is not None:
        approvals.put_in(s, approval)
    return approval


def month_obligation(s: Any, label: str) -> Obligation | None:
    """The month's obligation row in session ``s`` (None before its first run)."""
    return s.execute(select(Obligation).where(Obligation.subject == subject(label), Obligation.code == CODE)).scalar_one_or_none()


def _obligation(s: Any, label: str) -> Obligation:
    row = month_obligation(s, label)
    if row is None:
        raise LookupError(f"{label} 的统计表尚未生成：请先运行 credit-stats")
    return row


def load(label: str, url: str | None = None) -> Signoff | None:
    with db.session(url) as s:
        _obligation(s, label)
        approval = _approval_in(s, label)
    return _view(approval) if approval else None


def stage_of(label: str, url: str | None = None) -> str | None:
    """``review``, ``signoff`` or ``final``; None when the month has no sign-off (or no table)."""
    with db.session(url) as s:
        approval = _approval_in(s, label)
    return _view(approval).stage if approval else None


def is_final(label: str, url: str | None = None) -> bool:
    """Reviewed and signed, the final table written: only such a table may be filed (PBOC-102 附件2)."""
    return stage_of(label, url) == "final"


def person_name(profile: Profile, person_id: str) -> str:
    return approvals.person_name(profile, person_id)


def resolve_preparer(profile: Profile, preparer: str | None) -> str:
    """填表人: the given person id, else ``settings.credit_preparer``; a person of the profile."""
    person = preparer or profile.settings.credit_preparer
    if not person:
        raise SignoffError("未指定填表人：请在机构配置 settings.credit_preparer 中填写人员编号，或运行时传入 preparer")
    try:
        profile.person(person)
    except KeyError:
        raise SignoffError(f"填表人 {person} 不是机构配置中的人员") from None
    return person


def table_of(profile: Profile, key: str) -> ReportingTable | None:
    """The table a key names under the profile as it is now (None: a unit that no longer reports on its own)."""
    try:
        return table_of_key(profile, key)
    except CreditInputError:
        return None


def report_title(profile: Profile, key: str) -> str:
    """征信信息安全情况统计表（2025年10月）, with the filing unit's name for a unit's own table."""
    period = period_of(key)
    unit = split_key(key)[1]
    table = table_of(profile, key) if unit else None
    who = f"{table.filer_name if table else unit}，" if unit else ""
    return f"征信信息安全情况统计表（{who}{period.year}年{period.month}月）"


def preparers(profile: Profile, tables: list[ReportingTable], preparer: str | None) -> dict[str, str]:
    """填表人 of each table (unit code → person id): a unit's own ``credit_preparer``, else the
    given person, else ``settings.credit_preparer``; each a person of the profile."""
    out: dict[str, str] = {}
    for t in tables:
        own = t.unit.credit_preparer if not t.head_office else None
        out[t.unit.code] = resolve_preparer(profile, own or preparer)
    return out


def _context(profile: Profile, state: Signoff, due_at: dt.datetime) -> dict[str, Any]:
    summary = json.loads(Path(state.draft["summary"]).read_text(encoding="utf-8"))
    figures = [f"{r['region']} {r['institution_name']}：" + "，".join(f"{COUNT_TITLES[c]} {r[c]}" for c in COUNTS)
               for r in summary["rows"]]
    last_day = last_day_of(due_at)
    title = report_title(profile, state.label)
    # The very file asked about (its recorded SHA-256), openable as long as the request's own link lives.
    link = file_url(str(profile.public_base_url), state.draft["xlsx"], f"{title}（第{state.revision}版草稿）",
                    sha256=state.draft["xlsx_sha256"], validity=dt.timedelta(days=profile.settings.credit_signoff_link_days))
    return {"state": state.stage, "subject_ref": subject(state.label), "report_title": title,
            "prepared_by": state.preparer.name, "reviewed_by": state.reviewer.name if state.reviewer else None,
            "figures": figures, "file_name": Path(state.draft["xlsx"]).name, "file_sha256": state.draft["xlsx_sha256"],
            "file_url": link, "clause": CLAUSE, "due_label": f"{last_day.isoformat()} 24:00", "institution": profile.institution.name}


def policy(profile: Profile, due_at: dt.datetime | None, key: str | None = None) -> Policy:
    """The two steps of attachment 2, each asked through ``signoff_request`` notices to the eligible
    people; the roles are the table's (a unit's own, defaulting to the institution's)."""

    def request(approval: Approval, step: approvals.Step, role: str) -> NoticeRequest:
        assert due_at is not None
        return NoticeRequest("signoff_request", _context(profile, _view(approval), due_at), address="eligible")

    def request_id(approval: Approval, step: approvals.Step, role: str, attempt: int) -> str:
        return f"{approval.subject}:r{approval.revision}:{step.name}:{attempt}"

    settings = profile.settings
    table = table_of(profile, key) if key else None
    review = table.review_role if table else settings.credit_review_role
    sign = table.signoff_role if table else settings.credit_signoff_role
    return Policy(KIND, (approvals.Step("review", (review,), distinct=True, action="credit_stats.reviewed"),
                         approvals.Step("signoff", (sign,), distinct=True, action="credit_stats.signed")),
                  request=request, request_id=request_id, refused_action="credit_stats.signoff_refused",
                  refused_reason=REFUSED_REASON, link_validity=dt.timedelta(days=settings.credit_signoff_link_days),
                  resend_margin=RESEND_MARGIN)


def ensure_obligation_in(s: Session, profile: Profile, key: str, due: dt.date) -> Obligation:
    """The table's obligation row, created when missing (PBOC-102 三（二）: owed every month, zero
    report included, whether or not a run ever produced the table)."""
    row = month_obligation(s, key)
    if row is None:
        table = table_of(profile, key)
        owner = table.review_role if table and not table.head_office else "compliance"
        row = Obligation(procedure=PROCEDURE, subject=subject(key), code=CODE, title=f"报送{report_title(profile, key)}",
                         clause=CLAUSE, owner_role=owner, regime="PBOC-102", due_at=end_of_day(due), evidence={},
                         reminders_sent=[], detail={"unit": table.unit.code if table else split_key(key)[1]})
        s.add(row)
        s.flush()
    return row


def record_prepared(profile: Profile, period: Period, due: dt.date, files: dict[str, Path], preparer: str,
                    url: str | None = None, *, unit: str | None = None) -> tuple[Signoff, list[str]]:
    """Record the draft's files (store and ledger, with SHA-256), the month's deadline as an
    obligation, and the sign-off bound to summary.json prepared by ``preparer``: a new revision
    when the figures changed, the same one (its review and sign-off kept) when summary.json is
    byte-identical. Returns it and warnings."""
    preparer_name = profile.person(resolve_preparer(profile, preparer)).name
    warnings: list[str] = []
    label = table_for(profile, unit).key(period)  # the month for the head office's table, month-unit for a unit's
    digests = {kind: sha256_of(path) for kind, path in files.items()}
    now = utcnow()
    with db.session(url) as s:
        for kind, path in files.items():
            record_report_in(s, procedure=PROCEDURE, kind=kind, subject=label, path=path, sha256=digests[kind],
                             action="report.written", ledger_subject=subject(label))
        row = ensure_obligation_in(s, profile, label, due)
        _approval_in(s, label, adopt_with=profile)  # a month signed off before the approval table: move it there first
        draft = {"xlsx": str(files["xlsx"]), "xlsx_sha256": digests["xlsx"], "summary": str(files["summary"]),
                 "summary_sha256": digests["summary"]}
        bound = approvals.bind_in(s, policy(profile, row.due_at, label), subject(label), digests["summary"],
                                  Act(preparer, preparer_name, now.isoformat(), "run"), {"label": label, "draft": draft})
        revision = bound.approval.revision
        if bound.outcome == "voided":
            warnings.append(f"{label} 的统计表重新生成（第 {revision} 版）：此前的复核、签发不再有效，须重新复核、签发")
        elif bound.outcome == "kept":
            warnings.append(f"{label} 的统计表重新生成，summary.json 与第 {revision} 版逐字节相同：此前的复核、签发继续有效"
                            f"（当前：{_view(bound.approval).stage_title}）")
        if row.fulfilled_at is not None:
            warnings.append(f"{label} 的统计表已于 {local_label(row.fulfilled_at)} 标记为已报送；如数据有更正，须重新报送更正后的报表")
        ledger.append_in(s, "credit_stats.prepared", subject(label),
                         {"revision": revision, "preparer": preparer, "files": digests,
                          **({"unchanged": True, "preparer_of_record": bound.approval.maker.person} if bound.outcome == "kept" else {})},
                         actor=preparer)
    return _view(bound.approval), warnings


def record_run(profile: Profile, outcome: Any, people: dict[str, str], url: str | None = None) -> list[str]:
    """Record every table of a finished run (:func:`record_prepared`), the flow's and the CLI's
    alike: the run's flagged list and summary.json go with the first table. ``people``: unit
    code → 填表人 (:func:`preparers`). Returns the warnings."""
    extra = {"flagged": outcome.files["flagged"], "overview": outcome.files["overview"]}
    warnings: list[str] = []
    for i, t in enumerate(outcome.tables):
        table_files = {**t.files, **(extra if i == 0 else {})}
        _state, more = record_prepared(profile, outcome.period, t.due, table_files, people[t.unit], url, unit=t.unit)
        warnings += more
    return warnings


def advance(profile: Profile, label: str, now: dt.datetime | None = None, url: str | None = None, **send_options: Any) -> Signoff:
    """Take every step that can be taken now; idempotent, so the endpoint and the watch may both call it.

    Records a confirmed step, finalises after the sign-off, and sends a request when the current
    step has none whose links are still live. Raises :class:`SignoffError` when nobody may take
    the step (the roles left no one besides the earlier signers).
    """
    with db.session(url) as s:
        row = _obligation(s, label)
        if _approval_in(s, label, adopt_with=profile) is None:
            raise SignoffError(f"{label} 没有待复核的统计表记录")
        due_at, owner = row.due_at, row.owner_role
    try:
        approval = approvals.advance(profile, policy(profile, due_at, label), subject(label), now=now, url=url, **send_options)
    except approvals.NobodyEligible as exc:
        raise SignoffError(f"{label}：{profile.role_label(exc.role)}中没有填表人、复核人以外的人员，无法{STAGE_TITLES[exc.step][1:]}"
                           "（PBOC-102 附件2 要求填表人、复核人、签发人为不同人员）") from None
    if approval.stage == APPROVED:  # signed: write the final table (again, if finalising failed before)
        assert due_at is not None
        return finalize(profile, label, due_at, owner, url=url, now=now, **send_options)
    return _view(approval)


def finalize(profile: Profile, label: str, due_at: dt.datetime, owner_role: str, url: str | None = None,
             now: dt.datetime | None = None, **send_options: Any) -> Signoff:
    """Write the final table with the three names, record it, and tell the owner it may be filed."""
    with db.session(url) as s:
        approval = _approval_in(s, label, adopt_with=profile)
    if approval is None or approval.stage not in (APPROVED, DONE):
        raise SignoffError(f"{label}：统计表尚未复核、签发，不能生成签发版")
    state = _view(approval)
    assert state.reviewer is not None and state.signer is not None
    people = {state.preparer.person, state.reviewer.person, state.signer.person}
    if len(people) != 3:  # the distinct steps keep them apart; this guards the record itself
        raise SignoffError(f"{label}：填表人、复核人、签发人须为三个不同的人员，记录为 {sorted(people)}")
    summary_path = Path(state.draft["summary"])
    # Read once, hash and parse the same bytes: a rerun writing between two reads must not put
    # unapproved figures under the three names.
    approved = summary_path.read_bytes() if summary_path.is_file() else None
    if approved is None or hashlib.sha256(approved).hexdigest() != approval.content_sha256:
        ledger.append("credit_stats.final_refused", subject(label), {"revision": state.revision, "reason": "summary changed"}, url=url)
        raise SignoffError(f"{label}：{summary_path} 与复核时的内容不一致（或已不存在），不能生成签发版；请重新运行 credit-stats")
    summary = json.loads(approved.decode("utf-8"))
    known = {u.code for u in profile.reporting_units}
    rows = [UnitRow(r["region"], r["institution"], r["institution_name"], {c: int(r[c]) for c in COUNTS}, r["institution"] in known,
                    str(r.get("remark", ""))) for r in summary["rows"]]
    draft = Path(state.draft["xlsx"])
    final = draft.with_name(f"{draft.stem}-final.xlsx")
    prepared_on = dt.datetime.fromisoformat(state.preparer.at).astimezone(SHANGHAI).date()
    write_table(final, period_of(label), rows, unit_name=str(summary.get("filer") or profile.institution.name), preparer=state.preparer.name,
                reviewer=state.reviewer.name, signer=state.signer.name, prepared_on=prepared_on)
    digest = sha256_of(final)
    try:
        return _record_final(profile, label, state, approval.content_sha256, final, digest, due_at, owner_role, url,
                             now or utcnow(), **send_options)
    except StaleDataError:  # the endpoint and the watch finalised at the same moment: the other one recorded it
        with db.session(url) as s:
            current = _approval_in(s, label)
        if current is not None and current.stage == DONE:
            return _view(current)
        raise


def _record_final(profile: Profile, label: str, state: Signoff, content_sha256: str, final: Path, digest: str,
                  due_at: dt.datetime, owner_role: str, url: str | None, now: dt.datetime, **send_options: Any) -> Signoff:
    with db.session(url) as s:
        try:
            done, newly = approvals.finish_in(s, KIND, subject(label), state.revision,
                                              {"final": {"xlsx": str(final), "xlsx_sha256": digest}})
        except approvals.Voided as exc:  # a new run started meanwhile: this revision is void
            raise SignoffError(f"{label}：签发期间统计表已重新生成（第 {exc.current} 版），本次签发作废") from None
        if not newly:
            return _view(done)  # finalised meanwhile by the endpoint or the watch
        record_report_in(s, procedure=PROCEDURE, kind="xlsx-final", subject=label, path=final, sha256=digest,
                         action="credit_stats.final", ledger_subject=subject(label), actor=state.signer.person,
                         detail={"revision": state.revision, "preparer": state.preparer.person, "reviewer": state.reviewer.person,
                                 "signer": state.signer.person, "content_sha256": content_sha256})
    last_day = last_day_of(due_at)
    context = {**_deadline_state(due_at, now), "obligation": f"报送{report_title(profile, label)}，已签发待报送",
               "clause": CLAUSE, "due_label": f"{last_day.isoformat()} 24:00", "subject_ref": subject(label),
               "subject_title": f"签发版 {final.name}", "institution": profile.institution.name,
               "file_url": final_link(profile, label, final, digest)}
    send_notice(profile, "deadline_reminder", context, [owner_role], notice_id=f"{subject(label)}:r{state.revision}:final",
                related=subject(label), url=url, **send_options)
    return _view(done)


def _deadline_state(due_at: dt.datetime, now: dt.datetime) -> dict[str, str]:
    """The "may be filed" notice's state as of ``now``: a month signed after its due day is
    overdue, by how long (issue 14, 7: a month months overdue was told 「即将到期」)."""
    if now >= due_at:
        return {"state": "overdue", **({"overdue_for": time_left_zh(due_at, now)} if now > due_at else {})}
    return {"state": "due" if now.astimezone(SHANGHAI).date() == last_day_of(due_at) else "due_soon"}


def final_link(profile: Profile, label: str, final: Path, digest: str) -> str | None:
    """The signed table's download link (the recorded version), for the notice and the page that finalised it."""
    return file_url(str(profile.public_base_url), final, f"{report_title(profile, label)}（签发版）", sha256=digest,
                    validity=dt.timedelta(hours=profile.settings.file_link_hours))


def _month_approvals(s: Session, limit: int | None = None) -> list[tuple[Obligation, Approval | None]]:
    query = select(Obligation).where(Obligation.procedure == PROCEDURE, Obligation.code == CODE).order_by(Obligation.subject.desc())
    rows = s.execute(query.limit(limit) if limit else query).scalars().all()
    return [(r, _approval_in(s, r.subject.split(":", 1)[1])) for r in rows]


def open_labels(url: str | None = None) -> list[str]:
    """Months whose table is prepared but not yet signed and finalised."""
    with db.session(url) as s:
        return sorted(r.subject.split(":", 1)[1] for r, a in _month_approvals(s) if a is not None and a.stage != DONE)


def label_of_request(notice_id: str) -> str | None:
    """``credit-stats:2025-10:r1:review:1`` → ``2025-10``."""
    parts = notice_id.split(":")
    if len(parts) == 5 and parts[0] == PROCEDURE and parts[2].startswith("r"):
        return parts[1]
    return None


def after_ack(notice_id: str) -> str:
    """The acknowledgement endpoint's follow-up for a ``signoff_request``: advance at once."""
    label = label_of_request(notice_id)
    if label is None:
        return ""
    profile = load_profile(profile_path())
    state = advance(profile, label)
    if state.stage == "final" and state.final:
        link = final_link(profile, label, Path(state.final["xlsx"]), state.final["xlsx_sha256"])
        return (f"统计表已签发：{Path(state.final['xlsx']).name}（填表人 {state.preparer.name}，复核人 {state.reviewer.name if state.reviewer else ''}，"
                f"签发人 {state.signer.name if state.signer else ''}）" + (f" 签发版：{link}" if link else ""))
    if state.stage == "signoff" and state.reviewer:
        return f"已记录复核人 {state.reviewer.name}，已请签发人签发。"
    return f"当前状态：{state.stage_title}"


def signoff_rows(limit: int = 13, url: str | None = None) -> list[dict[str, str]]:
    """The latest months' sign-off and submission state, as rows for a table artifact."""
    with db.session(url) as s:
        out: list[dict[str, str]] = []
        for r, approval in _month_approvals(s, limit):
            state = _view(approval) if approval else None
            due = last_day_of(r.due_at).isoformat() if r.due_at else ""
            label, unit = split_key(r.subject.split(":", 1)[1])
            out.append({"月份": label, "报送单位": unit or "总行", "版本": str(state.revision) if state else "",
                        "状态": "已报送" if r.fulfilled_at else (state.stage_title if state else "无签核记录"),
                        "填表人": state.preparer.name if state else "",
                        "复核人": state.reviewer.name if state and state.reviewer else "",
                        "签发人": state.signer.name if state and state.signer else "", "报送截止": due})
        return out
