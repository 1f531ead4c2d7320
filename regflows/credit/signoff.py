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

The state lives in the month's obligation row (``Obligation.detail["signoff"]``), each step in
the audit ledger. A new run of the same month is a new revision: earlier approvals were of
other figures and do not carry over. Approving binds the draft's SHA-256: if summary.json no
longer matches what was reviewed, finalising is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from calendars.deadlines import end_of_day, last_day_of
from calendars.zone import SHANGHAI
from regflows import ledger
from regflows.credit.models import COUNT_TITLES, COUNTS, Period, UnitRow
from regflows.profile import Profile
from regflows.store import db
from regflows.store.models import Acknowledgement, AckLink, Obligation, Report, utcnow

PROCEDURE = "credit-stats"
CODE = "monthly-statistics"
CLAUSE = "PBOC-102 三（二）、附件2"
STAGE_TITLES = {"review": "待复核", "signoff": "待签发", "final": "已签发"}
#: A request whose links expire within this margin is sent again rather than left to run out.
RESEND_MARGIN = dt.timedelta(hours=1)


class SignoffError(RuntimeError):
    """The sign-off cannot go on (nobody eligible, the draft changed, no such month)."""


def subject(label: str) -> str:
    return f"{PROCEDURE}:{label}"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Step:
    """Who did one step, when, and through what (a signed link's notice, or the run itself)."""

    person: str
    name: str
    at: str  # ISO 8601, UTC
    via: str
    notice: str | None = None


@dataclass
class Signoff:
    label: str
    revision: int
    stage: str  # review | signoff | final
    preparer: Step
    draft: dict[str, str]  # xlsx, xlsx_sha256, summary, summary_sha256
    reviewer: Step | None = None
    signer: Step | None = None
    final: dict[str, str] | None = None  # xlsx, xlsx_sha256
    requests: list[str] = field(default_factory=list)  # notice ids sent, oldest first
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

    def request_id(self, attempt: int) -> str:
        return f"{subject(self.label)}:r{self.revision}:{self.stage}:{attempt}"

    def current_requests(self) -> list[str]:
        prefix = f"{subject(self.label)}:r{self.revision}:{self.stage}:"
        return [n for n in self.requests if n.startswith(prefix)]


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
        data = (_obligation(s, label).detail or {}).get("signoff")
    return Signoff.from_dict(data) if data else None


def _save(s: Any, row: Obligation, state: Signoff) -> None:
    row.detail = {**(row.detail or {}), "signoff": state.to_dict()}  # reassign: JSON columns track no in-place change


def person_name(profile: Profile, person_id: str) -> str:
    try:
        return profile.person(person_id).name
    except KeyError:
        return person_id


def _role_members(profile: Profile, role: str) -> list[str]:
    from notices.routing import role_keys

    return list(dict.fromkeys(m for key in role_keys(profile, [role]) for m in profile.roles[key].members))


def step_role(profile: Profile, state: Signoff) -> str:
    """The role (key or kind) whose members take the current step."""
    return profile.settings.credit_review_role if state.stage == "review" else profile.settings.credit_signoff_role


def eligible(profile: Profile, state: Signoff) -> list[str]:
    """Who may take the current step: the step's role, less whoever took an earlier one."""
    if state.stage == "final":
        return []
    role = step_role(profile, state)
    taken = {state.preparer.person} | ({state.reviewer.person} if state.reviewer else set())
    return [m for m in _role_members(profile, role) if m not in taken]


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


def record_prepared(profile: Profile, period: Period, due: dt.date, files: dict[str, Path], preparer: str,
                    url: str | None = None) -> tuple[Signoff, list[str]]:
    """Record the draft's files (store and ledger, with SHA-256), the month's deadline as an
    obligation, and a new sign-off revision prepared by ``preparer``. Returns it and warnings."""
    preparer_name = profile.person(resolve_preparer(profile, preparer)).name
    warnings: list[str] = []
    label = period.label
    digests = {kind: sha256_of(path) for kind, path in files.items()}
    now = utcnow()
    with db.session(url) as s:
        for kind, path in files.items():
            s.add(Report(procedure=PROCEDURE, kind=kind, subject=label, path=str(path), sha256=digests[kind]))
            ledger.append_in(s, "report.written", subject(label), {"kind": kind, "path": str(path), "sha256": digests[kind]})
        row = month_obligation(s, label)
        if row is None:
            row = Obligation(procedure=PROCEDURE, subject=subject(label), code=CODE,
                             title=f"报送征信信息安全情况统计表（{period.year}年{period.month}月）", clause=CLAUSE,
                             owner_role="compliance", regime="PBOC-102", due_at=end_of_day(due), evidence={},
                             reminders_sent=[], detail={})
            s.add(row)
            s.flush()
        previous = (row.detail or {}).get("signoff")
        revision = int(previous["revision"]) + 1 if previous else 1
        if previous:
            warnings.append(f"{label} 的统计表重新生成（第 {revision} 版）：此前的复核、签发不再有效，须重新复核、签发")
        if row.fulfilled_at is not None:
            warnings.append(f"{label} 的统计表已于 {row.fulfilled_at.isoformat()} 标记为已报送；如数据有更正，须重新报送更正后的报表")
        state = Signoff(label=label, revision=revision, stage="review",
                        preparer=Step(preparer, preparer_name, now.isoformat(), "run"),
                        draft={"xlsx": str(files["xlsx"]), "xlsx_sha256": digests["xlsx"],
                               "summary": str(files["summary"]), "summary_sha256": digests["summary"]})
        _save(s, row, state)
        ledger.append_in(s, "credit_stats.prepared", subject(label),
                         {"revision": revision, "preparer": preparer, "files": digests}, actor=preparer)
    return state, warnings


def _first_eligible_ack(s: Any, notice_ids: list[str], allowed: list[str]) -> tuple[Acknowledgement | None, list[Acknowledgement]]:
    """The earliest acknowledgement by an allowed person, and who else acknowledged (refused)."""
    acks = s.execute(select(Acknowledgement).where(Acknowledgement.notice_id.in_(notice_ids)).order_by(Acknowledgement.at)).scalars().all()
    others = [a for a in acks if a.person_id not in allowed]
    for a in acks:
        if a.person_id in allowed:
            return a, others
    return None, others


def _links_live(s: Any, notice_id: str, now: dt.datetime) -> bool:
    latest = s.execute(select(AckLink.expires_at).where(AckLink.notice_id == notice_id).order_by(AckLink.expires_at.desc())).first()
    return latest is not None and latest[0] - RESEND_MARGIN > now


def _context(profile: Profile, state: Signoff, due_at: dt.datetime) -> dict[str, Any]:
    summary = json.loads(Path(state.draft["summary"]).read_text(encoding="utf-8"))
    figures = [f"{r['region']} {r['institution_name']}：" + "，".join(f"{COUNT_TITLES[c]} {r[c]}" for c in COUNTS)
               for r in summary["rows"]]
    period = Period.parse(state.label)
    last_day = last_day_of(due_at)
    return {"state": state.stage, "subject_ref": subject(state.label),
            "report_title": f"征信信息安全情况统计表（{period.year}年{period.month}月）",
            "prepared_by": state.preparer.name, "reviewed_by": state.reviewer.name if state.reviewer else None,
            "figures": figures, "file_name": Path(state.draft["xlsx"]).name, "file_sha256": state.draft["xlsx_sha256"],
            "clause": CLAUSE, "due_label": f"{last_day.isoformat()} 24:00", "institution": profile.institution.name}


def advance(profile: Profile, label: str, now: dt.datetime | None = None, url: str | None = None, **send_options: Any) -> Signoff:
    """Take every step that can be taken now; idempotent, so the endpoint and the watch may both call it.

    Records a confirmed step, finalises after the sign-off, and sends a request when the current
    step has none whose links are still live. Raises :class:`SignoffError` when nobody may take
    the step (the roles left no one besides the earlier signers).
    """
    from notices.routing import person_as_recipient, role_keys
    from notices.service import send_notice

    moment = now or utcnow()
    while True:
        with db.session(url) as s:
            row = _obligation(s, label)
            data = (row.detail or {}).get("signoff")
            if not data:
                raise SignoffError(f"{label} 没有待复核的统计表记录")
            state = Signoff.from_dict(data)
            if state.stage == "final":
                return state
            if state.signer is not None:  # signed, but finalising failed before: try again, record nothing twice
                due_at, owner = row.due_at, row.owner_role
                break
            allowed = eligible(profile, state)
            sent = state.current_requests()
            ack, refused = _first_eligible_ack(s, sent, allowed) if sent else (None, [])
            for other in refused:
                if other.token_id in state.refused:
                    continue
                state.refused.append(other.token_id)
                _save(s, row, state)
                ledger.append_in(s, "credit_stats.signoff_refused", subject(label),
                                 {"stage": state.stage, "person": other.person_id, "revision": state.revision,
                                  "reason": "不是本步骤可签核的人员（填表人、复核人或不在角色中）"}, actor=other.person_id)
            if ack is not None:
                step = Step(ack.person_id, person_name(profile, ack.person_id), ack.at.isoformat(), ack.via, ack.notice_id)
                if state.stage == "review":
                    state.reviewer, state.stage = step, "signoff"
                else:
                    state.signer = step
                _save(s, row, state)
                ledger.append_in(s, "credit_stats.reviewed" if state.signer is None else "credit_stats.signed", subject(label),
                                 {"revision": state.revision, "person": ack.person_id, "notice": ack.notice_id}, actor=ack.person_id)
                if state.signer is None:
                    continue  # the review is in: ask for the sign-off now
                due_at, owner = row.due_at, row.owner_role
                break
            else:
                if sent and _links_live(s, sent[-1], moment):
                    return state  # waiting for someone to confirm
                if not allowed:
                    raise SignoffError(f"{label}：角色 {step_role(profile, state)} 中没有填表人、复核人以外的人员，无法{state.stage_title[1:]}"
                                       "（PBOC-102 附件2 要求填表人、复核人、签发人为不同人员）")
                notice_id = state.request_id(len(sent) + 1)
                state.requests.append(notice_id)
                _save(s, row, state)
                context = _context(profile, state, row.due_at)
                role_key = role_keys(profile, [step_role(profile, state)])[0]
                people = [person_as_recipient(profile, pid, role_key) for pid in allowed]
                validity = dt.timedelta(days=profile.settings.credit_signoff_link_days)
        # The request is on record before it is sent: a crash between the two re-sends the same id,
        # which the delivery engine's claims keep from reaching anyone twice.
        send_notice(profile, "signoff_request", context, to=people, notice_id=notice_id, requires_ack=True,
                    related=subject(label), ack_validity=validity, url=url, **send_options)
        return state
    return finalize(profile, label, due_at, owner, url=url, **send_options)


def finalize(profile: Profile, label: str, due_at: dt.datetime, owner_role: str, url: str | None = None,
             **send_options: Any) -> Signoff:
    """Write the final table with the three names, record it, and tell the owner it may be filed."""
    from notices.service import send_notice
    from regflows.credit.table import write_table

    state = load(label, url)
    assert state is not None and state.reviewer is not None and state.signer is not None
    people = {state.preparer.person, state.reviewer.person, state.signer.person}
    if len(people) != 3:  # eligible() keeps them apart; this guards the record itself
        raise SignoffError(f"{label}：填表人、复核人、签发人须为三个不同的人员，记录为 {sorted(people)}")
    summary_path = Path(state.draft["summary"])
    if not summary_path.exists() or sha256_of(summary_path) != state.draft["summary_sha256"]:
        ledger.append("credit_stats.final_refused", subject(label), {"revision": state.revision, "reason": "summary changed"}, url=url)
        raise SignoffError(f"{label}：{summary_path} 与复核时的内容不一致（或已不存在），不能生成签发版；请重新运行 credit-stats")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    known = {u.code for u in profile.reporting_units}
    rows = [UnitRow(r["region"], r["institution"], r["institution_name"], {c: int(r[c]) for c in COUNTS}, r["institution"] in known)
            for r in summary["rows"]]
    draft = Path(state.draft["xlsx"])
    final = draft.with_name(f"{draft.stem}-final.xlsx")
    prepared_on = dt.datetime.fromisoformat(state.preparer.at).astimezone(SHANGHAI).date()
    write_table(final, Period.parse(label), rows, unit_name=profile.institution.name, preparer=state.preparer.name,
                reviewer=state.reviewer.name, signer=state.signer.name, prepared_on=prepared_on)
    digest = sha256_of(final)
    state.final, state.stage = {"xlsx": str(final), "xlsx_sha256": digest}, "final"
    with db.session(url) as s:
        row = _obligation(s, label)
        current = Signoff.from_dict(row.detail["signoff"])
        if current.revision == state.revision and current.stage == "final":
            return current  # finalised meanwhile by the endpoint or the watch
        if current.revision != state.revision:  # a new run started meanwhile: this revision is void
            raise SignoffError(f"{label}：签发期间统计表已重新生成（第 {current.revision} 版），本次签发作废")
        _save(s, row, state)
        s.add(Report(procedure=PROCEDURE, kind="xlsx-final", subject=label, path=str(final), sha256=digest))
        ledger.append_in(s, "credit_stats.final", subject(label),
                         {"revision": state.revision, "sha256": digest, "path": str(final), "preparer": state.preparer.person,
                          "reviewer": state.reviewer.person, "signer": state.signer.person}, actor=state.signer.person)
    last_day = last_day_of(due_at)
    period = Period.parse(label)
    context = {"state": "due_soon", "obligation": f"报送征信信息安全情况统计表（{period.year}年{period.month}月），已签发待报送",
               "clause": CLAUSE, "due_label": f"{last_day.isoformat()} 24:00", "subject_ref": subject(label),
               "subject_title": f"签发版 {final.name}", "institution": profile.institution.name}
    send_notice(profile, "deadline_reminder", context, [owner_role], notice_id=f"{subject(label)}:r{state.revision}:final",
                related=subject(label), url=url, **send_options)
    return state


def open_labels(url: str | None = None) -> list[str]:
    """Months whose table is prepared but not yet signed."""
    with db.session(url) as s:
        rows = s.execute(select(Obligation).where(Obligation.procedure == PROCEDURE, Obligation.code == CODE)).scalars().all()
        return [r.subject.split(":", 1)[1] for r in rows
                if (r.detail or {}).get("signoff", {}).get("stage") in ("review", "signoff")]


def label_of_request(notice_id: str) -> str | None:
    """``credit-stats:2025-10:r1:review:1`` → ``2025-10``."""
    parts = notice_id.split(":")
    if len(parts) == 5 and parts[0] == PROCEDURE and parts[2].startswith("r"):
        return parts[1]
    return None


def after_ack(notice_id: str) -> str:
    """The acknowledgement endpoint's follow-up for a ``signoff_request``: advance at once."""
    from regflows.profile import load_profile, profile_path

    label = label_of_request(notice_id)
    if label is None:
        return ""
    state = advance(load_profile(profile_path()), label)
    if state.stage == "final" and state.final:
        return f"统计表已签发：{Path(state.final['xlsx']).name}（填表人 {state.preparer.name}，复核人 {state.reviewer.name if state.reviewer else ''}，签发人 {state.signer.name if state.signer else ''}）"
    if state.stage == "signoff" and state.reviewer:
        return f"已记录复核人 {state.reviewer.name}，已请签发人签发。"
    return f"当前状态：{state.stage_title}"


def signoff_rows(limit: int = 13, url: str | None = None) -> list[dict[str, str]]:
    """The latest months' sign-off and submission state, as rows for a table artifact."""
    with db.session(url) as s:
        rows = s.execute(select(Obligation).where(Obligation.procedure == PROCEDURE, Obligation.code == CODE)
                         .order_by(Obligation.subject.desc()).limit(limit)).scalars().all()
        out: list[dict[str, str]] = []
        for r in rows:
            data = (r.detail or {}).get("signoff")
            state = Signoff.from_dict(data) if data else None
            due = last_day_of(r.due_at).isoformat() if r.due_at else ""
            out.append({"月份": r.subject.split(":", 1)[1], "版本": str(state.revision) if state else "",
                        "状态": "已报送" if r.fulfilled_at else (state.stage_title if state else "无签核记录"),
                        "填表人": state.preparer.name if state else "",
                        "复核人": state.reviewer.name if state and state.reviewer else "",
                        "签发人": state.signer.name if state and state.signer else "", "报送截止": due})
        return out
