"""Obligations: fulfil one with evidence, or waive it where a rule allows; one path for every procedure.

Every entry point (a procedure's UI form, its CLI command, a report's "submitted" command) calls
:func:`fulfil`, so every fulfilment carries the same evidence (text, reference number, a file
checked and hashed: regflows/kit/evidence.py), the same history on the obligation row and the
same ledger entry ``obligation.fulfilled``, committed in one transaction. A procedure adds what
is its own through two hooks instead of a copy of this function:

- ``precondition(row)`` raises to refuse (the monthly credit report may be marked submitted only
  once its table is signed: PBOC-102 附件2);
- ``step(session, row, record)`` writes the procedure's own record in the same transaction (the
  incident's timeline event "fulfilled").

A recurring obligation (``every``: progress reports) records each fulfilment and stays open: its
next due time is computed from the last one.

A waived obligation can be reopened (:func:`reopen`: an authority asks for what was skipped, e.g.
TENPAY 第五条, the PBoC branch asks for the subjects' notification): the waiver is kept in the
row's history, the obligation is owed again and cannot be waived a second time.

An obligation the facts no longer call for (an incident's grade lowered, a self-inspection re-run
that no longer finds a check's finding) is withdrawn (:func:`withdraw_in`), and owed again if the
facts change back (:func:`reinstate_in`); both inside the procedure's own transaction, since the
procedure decides what no longer applies while it writes the rest of its correction.

A waiver is recorded only where the obligation row says a rule allows it: ``detail["waivable"]``
holds the clause, or ``{"clause": …, "when": …}`` (the clause and the condition in which it
allows skipping the obligation), set by the procedure from its rule file. Nothing else can waive
a deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from calendars.zone import local_label
from regflows import ledger
from notices.masking import mask_pii
from regflows.kit.evidence import EvidenceError, evidence_record
from regflows.store import db
from regflows.store.models import Obligation, utcnow
from regflows.store.obligations import find, waiting_acknowledgements

__all__ = ["EvidenceError", "ObligationNotFound", "Precondition", "Refused", "Step", "WaiverRefused", "fulfil",
           "reinstate_in", "reopen", "waive", "withdraw_in"]

#: Raises (ValueError, with a Chinese message) to refuse; runs inside the transaction, on the row.
Precondition = Callable[[Obligation], None]
#: The procedure's own record of the change, written in the same transaction.
Step = Callable[[Session, Obligation, dict[str, Any]], None]


class ObligationNotFound(LookupError):
    """No such obligation for that subject."""


class Refused(ValueError):
    """The obligation's state or the procedure's precondition refuses the change (not bad input):
    the command lines exit with "refused by a rule" (regflows/exit_codes.py, 5)."""


class WaiverRefused(Refused):
    """No rule allows waiving this obligation, or it is already met or waived."""


def _when(at: dt.datetime | None, field: str) -> dt.datetime:
    if at is None:
        return utcnow()
    if at.tzinfo is None or at.utcoffset() is None:
        raise EvidenceError(f"{field} 须带时区（如 2025-10-01T10:00+08:00）：{at.isoformat()}")
    return at


def _person(by: str, field: str, people: Collection[str] | None = None) -> str:
    """The person who answers for the record: named, and one of the profile's people when the
    entry point passes them (every entry point does; the kit's own tests may not)."""
    if not isinstance(by, str) or not by.strip():
        raise EvidenceError(f"{field}不能为空：请填写人员编号")
    if people is not None and by.strip() not in people:
        raise EvidenceError(f"{field}{by.strip()} 不在机构配置的人员（people）中")
    return by.strip()


def _row(s: Session, subject: str, code: str, not_found: str | None) -> Obligation:
    row = find(s, subject, code, for_update=True)  # checked and changed under one lock: fulfilled once
    if row is None:
        raise ObligationNotFound(not_found or f"{subject} 没有义务 {code}")
    return row


def fulfil(subject: str, code: str, *, evidence: str, by: str, reference: str | None = None, file: str | Path | None = None,
           at: dt.datetime | None = None, url: str | None = None, precondition: Precondition | None = None,
           step: Step | None = None, not_found: str | None = None, field_names: dict[str, str] | None = None,
           people: Collection[str] | None = None, server: bool = False) -> Obligation:
    """Record that ``subject``'s obligation ``code`` was met; returns the row (detached).

    The evidence is checked before the transaction (a missing file is refused with the field's
    name); ``not_found`` is the procedure's message for a missing row; ``field_names`` maps the
    kit's field names to the entry point's (``{"file": "--file"}``); ``people`` are the
    profile's person ids, one of whom ``by`` must be. A one-off obligation is fulfilled once: a
    second fulfilment would move the recorded time and could make a report made on time look
    late, so it is refused (a recurring one records each report). ``server``: the entry point runs
    on the server (a form), so the file must be in the evidence areas (regflows/kit/evidence.py);
    the text is masked either way.
    """
    record = evidence_record(evidence, reference, file, field_names, server=server)
    who = _person(by, f"履行人（{(field_names or {}).get('by', 'by')}）", people)
    when = _when(at, "履行时间（at）")
    with db.session(url) as s:
        row = _row(s, subject, code, not_found)
        if precondition is not None:
            try:
                precondition(row)
            except EvidenceError:
                raise
            except ValueError as exc:  # the procedure's rule says no (e.g. a table not yet signed)
                raise Refused(str(exc)) from exc
        if row.state == "waived":
            raise WaiverRefused(f"义务“{row.title}”（{row.code}）已豁免，不能再登记履行")
        if row.state == "withdrawn":
            raise Refused(_withdrawn(row, "无需登记履行"))
        if row.fulfilled_at is not None and not row.every:
            raise Refused(f"义务“{row.title}”（{row.code}）已于 {local_label(row.fulfilled_at)} 由 {row.fulfilled_by} 登记履行，"
                                "不能重复登记（重复登记会改变履行时间）")
        history = list((row.evidence or {}).get("history", []))
        history.append({"at": when.isoformat(), "by": who, **record})
        row.evidence = {**(row.evidence or {}), "history": history}  # reassign: JSON columns track no in-place change
        row.fulfilled_at, row.fulfilled_by = when, who
        if not row.every:
            row.state = "fulfilled"
        if step is not None:
            step(s, row, record)
        ledger.append_in(s, "obligation.fulfilled", row.subject, {"obligation": row.code, "by": who, "evidence": record}, actor=who)
        s.flush()
        s.expunge(row)
        return row


def _withdrawn(row: Obligation, then: str) -> str:
    """Why a withdrawn obligation asks nothing, in Chinese: the ``cause`` its procedure recorded with
    the withdrawal (an incident's correction, a self-inspection re-run), who and why."""
    withdrawn = (row.evidence or {}).get("withdrawn") or {}
    when = local_label(dt.datetime.fromisoformat(withdrawn["at"])) if withdrawn.get("at") else ""
    cause = withdrawn.get("cause", "经撤销")
    return (f"义务“{row.title}”已于 {when} {cause}不再适用（{withdrawn.get('by', '')}：{withdrawn.get('reason', '')}），{then}；"
            "如事实再次变化使其适用，更正后将重新计算期限")


def _iso_utc(value: dt.datetime | None) -> str | None:
    """A stored time as UTC ISO text (SQLite gives naive datetimes back: they are UTC)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat()


def withdraw_in(s: Session, row: Obligation, *, by: str, reason: str, cause: str, reminders: str | None = None,
                extra: dict[str, Any] | None = None, note: str | None = None) -> dict[str, Any]:
    """Close an obligation the facts no longer call for, in the caller's transaction ``s``.

    Why one function: a withdrawal must look the same whatever withdrew it, since :func:`fulfil`,
    :func:`waive` and the reminder loop read it back (``_withdrawn``'s refusal text quotes ``cause``).
    State ``withdrawn`` (closed: regflows/store/obligations.py CLOSED_STATES), who, why, the
    ``cause`` in Chinese (「因事件更正」), ``extra`` (e.g. the run that withdrew it) and the state and
    due time before on the row (``evidence["withdrawn"]``); the ledger entry ``obligation.withdrawn``
    (with ``note`` when given); the acknowledgement-required reminders about the row's subject
    (only those whose id starts with ``reminders`` when given) resolved, so their escalation stops.
    Returns the ledger entry's detail (for the procedure's own timeline)."""
    now = utcnow()
    record = {"at": now.isoformat(), "by": by, "reason": reason, "cause": cause, **(extra or {}),
              "state_before": row.state, "due_before": _iso_utc(row.due_at)}
    row.evidence = {**(row.evidence or {}), "withdrawn": record}  # reassign: JSON columns track no in-place change
    row.state = "withdrawn"
    detail = {"obligation": row.code, "title": row.title, **record, **({"note": note} if note else {})}
    ledger.append_in(s, "obligation.withdrawn", row.subject, detail, actor=by)
    for notice in waiting_acknowledgements(s, row.subject, prefix=reminders):
        notice.resolved_at = now
        ledger.append_in(s, "notice.resolved", notice.id, {"by": by, "reason": note or reason}, actor=by)
    return detail


def reinstate_in(s: Session, row: Obligation, *, state: str, by: str, reason: str, extra: dict[str, Any] | None = None,
                 fresh_reminders: bool = False) -> dict[str, Any]:
    """Owe a withdrawn obligation again (the facts changed back), in the caller's transaction ``s``.

    The withdrawal is kept in ``evidence["withdrawals"]`` (with the reminders sent before it when
    ``fresh_reminders``: they are then counted afresh); the row takes ``state``; the ledger entry
    ``obligation.reinstated``. Returns its detail."""
    now = utcnow()
    earlier = {**(row.evidence or {}).get("withdrawn", {}), "reinstated_at": now.isoformat()}
    if fresh_reminders:
        earlier["reminders_sent"] = list(row.reminders_sent or [])
        row.reminders_sent = []
    evidence = {k: v for k, v in (row.evidence or {}).items() if k != "withdrawn"}
    row.evidence = {**evidence, "withdrawals": [*evidence.get("withdrawals", []), earlier]}
    row.state = state
    detail = {"obligation": row.code, "title": row.title, "at": now.isoformat(), "by": by, "reason": reason, **(extra or {})}
    ledger.append_in(s, "obligation.reinstated", row.subject, detail, actor=by)
    return detail


def _condition(allowed: Any) -> dict[str, str]:
    """The rule's permission as recorded with the waiver: its clause, and its condition when given."""
    if isinstance(allowed, dict):
        return {"clause": str(allowed["clause"]), **({"when": str(allowed["when"])} if allowed.get("when") else {})}
    return {"clause": str(allowed)}


def waive(subject: str, code: str, reason: str, by: str, *, at: dt.datetime | None = None, url: str | None = None,
          step: Step | None = None, not_found: str | None = None, field_names: dict[str, str] | None = None,
          people: Collection[str] | None = None) -> Obligation:
    """Waive an obligation with its reason, where its rule allows (``detail["waivable"]``); in the ledger.

    The waiver stops the reminders like a fulfilment, but is never counted as one. ``field_names``
    maps ``reason`` and ``by`` to the entry point's names (``{"reason": "--reason"}``).
    """
    names = field_names or {}
    if not isinstance(reason, str) or not reason.strip():
        raise EvidenceError(f"豁免义务必须写明理由（{names.get('reason', 'reason')}）")
    who = _person(by, f"决定人（{names.get('by', 'by')}）", people)
    when = _when(at, "豁免时间（at）")
    with db.session(url) as s:
        row = _row(s, subject, code, not_found)
        allowed = (row.detail or {}).get("waivable")
        if not allowed:
            version = f"（规则 {row.rules_version} 中该义务没有豁免条款）" if row.rules_version else ""
            raise WaiverRefused(f"义务“{row.title}”（{row.code}，{row.clause}）没有规则允许豁免{version}：须按期履行")
        if row.state == "waived":
            raise WaiverRefused(f"义务“{row.title}”（{row.code}）已豁免")
        if row.state == "withdrawn":
            raise WaiverRefused(_withdrawn(row, "无需豁免"))
        if (row.evidence or {}).get("reopened"):
            raise WaiverRefused(f"义务“{row.title}”（{row.code}）豁免后已应要求重新打开（{row.evidence['reopened']['reason']}），"
                                "不能再次豁免：须履行")
        if row.state == "fulfilled" and not row.every:
            raise WaiverRefused(f"义务“{row.title}”（{row.code}）已于 {local_label(row.fulfilled_at) if row.fulfilled_at else ''} 履行，无需豁免")
        # Masked before it is stored or ledgered, like the evidence (CUSTINFO: numbers typed into a reason).
        waiver = {"at": when.isoformat(), "by": who, "reason": mask_pii(reason.strip()), **_condition(allowed)}
        row.evidence = {**(row.evidence or {}), "waiver": waiver}
        row.state = "waived"
        if step is not None:
            step(s, row, waiver)
        ledger.append_in(s, "obligation.waived", row.subject, {"obligation": row.code, **waiver}, actor=who)
        s.flush()
        s.expunge(row)
        return row


def reopen(subject: str, code: str, reason: str, by: str, *, at: dt.datetime | None = None, url: str | None = None,
           step: Step | None = None, not_found: str | None = None, field_names: dict[str, str] | None = None,
           people: Collection[str] | None = None) -> Obligation:
    """Reopen a waived obligation (an authority asks for it after all), with the reason; in the ledger.

    The row is owed again from ``at`` (the procedure's clock says by when); the waiver stays on
    the row (``evidence["reopened"]["waiver"]``) and in the ledger. Only a waived row can be reopened.
    """
    names = field_names or {}
    if not isinstance(reason, str) or not reason.strip():
        raise EvidenceError(f"重新打开义务必须写明理由（{names.get('reason', 'reason')}），如 人民银行分支机构要求通知")
    who = _person(by, f"登记人（{names.get('by', 'by')}）", people)
    when = _when(at, "重新打开时间（at）")
    with db.session(url) as s:
        row = _row(s, subject, code, not_found)
        waiver = (row.evidence or {}).get("waiver")
        if row.state != "waived" or not waiver:
            raise WaiverRefused(f"义务“{row.title}”（{row.code}）未豁免，无需重新打开")
        reopened = {"at": when.isoformat(), "by": who, "reason": mask_pii(reason.strip()), "waiver": waiver}
        evidence = {k: v for k, v in (row.evidence or {}).items() if k != "waiver"}
        row.evidence = {**evidence, "reopened": reopened}
        row.state = "open"  # the procedure's clock computes its new due time (reminder keys carry it)
        if step is not None:
            step(s, row, reopened)
        ledger.append_in(s, "obligation.reopened", row.subject, {"obligation": row.code, **reopened}, actor=who)
        s.flush()
        s.expunge(row)
        return row
