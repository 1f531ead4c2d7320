"""Incidents in the domain store: the record, its timeline, its obligations, their evidence.

Everything here is a transaction on the store with its audit-ledger entry in the same
transaction, so an incident, a fulfilment or a re-grade is on record exactly when it happened.
Inputs are plain dicts (``model_dump(mode="json")`` of the record, grading and obligations) so
that the store does not change shape when a rule set does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from calendars.zone import SHANGHAI
from regflows import ledger
from regflows.kit import obligations as kit_obligations
from regflows.store import db
from regflows.store.models import Incident, IncidentEvent, Notice, Obligation, utcnow
from regflows.store.obligations import CLOSED_STATES

PROCEDURE = "incident_response"


class IncidentNotFound(LookupError):
    pass


def incident_id_for(record: dict[str, Any], unit: str) -> str:
    """Stable for the same report (unit, discovery time, title): a retried flow finds its incident."""
    discovered = dt.datetime.fromisoformat(str(record["discovered_at"]))
    digest = hashlib.sha256(f"{unit}|{discovered.isoformat()}|{record['title']}".encode()).hexdigest()[:6].upper()
    local = discovered.astimezone(SHANGHAI)
    return f"INC-{local:%Y%m%d}-{digest}"


def save_incident(incident_id: str, record: dict[str, Any], unit: str, grading: dict[str, Any], rules_version: str,
                  actor: str, participants: list[str] | None = None, url: str | None = None, *, run_key: str | None = None) -> bool:
    """Record the incident once (True when new); the ledger entry commits with it. ``run_key``: the
    idempotency key of the incident-response run the declaration starts, when it is recorded
    before that run does it (``POST /incidents``, regflows/incident/declaration.py): that run then
    goes on with it."""
    with db.session(url) as s:
        if s.get(Incident, incident_id) is not None:
            return False
        s.add(
            Incident(
                id=incident_id, reporting_unit=unit, title=record["title"], category=record["category"],
                grade=grading["grade"], occurred_at=dt.datetime.fromisoformat(str(record["occurred_at"])),
                discovered_at=dt.datetime.fromisoformat(str(record["discovered_at"])), state="open",
                drill=bool(record.get("drill")), credit_info_event=record.get("credit_info_event"), record=record,
                grading=grading, rules_version=rules_version,
            )
        )
        s.flush()
        now = utcnow()
        detail: dict[str, Any] = {"unit": unit, **({"participants": participants} if participants else {}),
                                  **({"run_key": run_key} if run_key else {})}
        s.add(IncidentEvent(incident_id=incident_id, at=now, kind="recorded", actor=actor, detail=detail))
        s.add(IncidentEvent(incident_id=incident_id, at=now, kind="graded", actor="regflows",
                            detail={"grade": grading["grade"], "reasons": grading.get("reasons", [])}))
        ledger.append_in(s, "incident.recorded", incident_id, {"unit": unit, "title": record["title"], "grade": grading["grade"],
                                                               "drill": bool(record.get("drill")), "rules_version": rules_version,
                                                               **({"run_key": run_key} if run_key else {})})
    return True


def load_incident(incident_id: str, url: str | None = None) -> Incident:
    with db.session(url) as s:
        incident = s.get(Incident, incident_id)
        if incident is None:
            raise IncidentNotFound(f"事件 {incident_id} 不存在")
        s.expunge(incident)
        return incident


def add_event(incident_id: str, kind: str, actor: str, detail: dict[str, Any], url: str | None = None) -> None:
    with db.session(url) as s:
        s.add(IncidentEvent(incident_id=incident_id, at=utcnow(), kind=kind, actor=actor, detail=detail))
        ledger.append_in(s, f"incident.{kind}", incident_id, {"actor": actor, **detail})


def update_record(incident_id: str, changes: dict[str, Any], actor: str, url: str | None = None) -> dict[str, Any]:
    """Record later facts (response or handling ended, confirmed): the clock recomputes from them."""
    with db.session(url) as s:
        incident = s.get(Incident, incident_id)
        if incident is None:
            raise IncidentNotFound(f"事件 {incident_id} 不存在")
        record = {**incident.record, **changes}
        incident.record = record
        s.add(IncidentEvent(incident_id=incident_id, at=utcnow(), kind="updated", actor=actor, detail=changes))
        ledger.append_in(s, "incident.updated", incident_id, {"actor": actor, "changes": changes})
        return record


def exists(incident_id: str, url: str | None = None) -> bool:
    """Whether an incident of this id is on record (a second declaration of it is refused)."""
    with db.session(url) as s:
        return s.get(Incident, incident_id) is not None


def run_key_of(incident_id: str, url: str | None = None) -> str | None:
    """The idempotency key of the incident-response run the incident was recorded for
    (:func:`save_incident` ``run_key``): ``ingest:…`` when ``POST /incidents`` recorded it,
    ``run:<flow run id>`` when a run without an idempotency key did, None for older records."""
    with db.session(url) as s:
        detail = s.execute(select(IncidentEvent.detail).where(IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "recorded")
                           .order_by(IncidentEvent.id).limit(1)).scalar_one_or_none()
    return (detail or {}).get("run_key")


def recorded_for_run(incident_id: str, run_key: str | None, url: str | None = None) -> bool:
    """Whether the incident was recorded for the incident-response run of idempotency key
    ``run_key`` (by the declaration that starts it): that run is not a second declaration of it."""
    return bool(run_key) and run_key_of(incident_id, url) == run_key


def revise(incident_id: str, record: dict[str, Any], grading: dict[str, Any], detail: dict[str, Any], actor: str, *,
           regraded: bool, url: str | None = None) -> int:
    """A correction of the facts (regflows/incident/update.py) in one transaction: the record and
    the columns read from it, the grading, the timeline event "updated" (and "regraded" when
    ``regraded``) and their ledger entries. Returns how many corrections the incident has had,
    this one included (it numbers the correction's alert)."""
    with db.session(url) as s:
        incident = s.get(Incident, incident_id)
        if incident is None:
            raise IncidentNotFound(f"事件 {incident_id} 不存在")
        before = incident.grade
        incident.record = record
        incident.title, incident.category = record["title"], record["category"]
        incident.occurred_at = dt.datetime.fromisoformat(str(record["occurred_at"]))
        incident.discovered_at = dt.datetime.fromisoformat(str(record["discovered_at"]))
        incident.credit_info_event = record.get("credit_info_event")
        incident.grade, incident.grading = grading["grade"], grading
        now = utcnow()
        s.add(IncidentEvent(incident_id=incident_id, at=now, kind="updated", actor=actor, detail=detail))
        ledger.append_in(s, "incident.updated", incident_id, {"actor": actor, **detail}, actor=actor)
        if regraded:
            change = {"from": before, "to": grading["grade"], "reason": detail.get("reason")}
            s.add(IncidentEvent(incident_id=incident_id, at=now, kind="regraded", actor=actor, detail=change))
            ledger.append_in(s, "incident.regraded", incident_id, {"actor": actor, **change}, actor=actor)
        s.flush()
        count = s.execute(select(IncidentEvent.id).where(IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "updated"))
        return len(count.all())


def set_grading(incident_id: str, grading: dict[str, Any], reason: str, actor: str, url: str | None = None) -> None:
    with db.session(url) as s:
        incident = s.get(Incident, incident_id)
        before = incident.grade
        incident.grade, incident.grading = grading["grade"], grading
        detail = {"from": before, "to": grading["grade"], "reason": reason}
        s.add(IncidentEvent(incident_id=incident_id, at=utcnow(), kind="regraded", actor=actor, detail=detail))
        ledger.append_in(s, "incident.regraded", incident_id, {"actor": actor, **detail})


def fulfilled_map(incident_id: str, url: str | None = None) -> dict[str, dt.datetime]:
    with db.session(url) as s:
        rows = s.execute(select(Obligation).where(Obligation.subject == incident_id, Obligation.fulfilled_at.is_not(None))).scalars()
        return {row.code: row.fulfilled_at for row in rows if row.fulfilled_at is not None}


#: What the ledger and the timeline say of an obligation a correction of the rules added or moved.
CORRECTED = "义务规则解读已更正（更正的是对同一条文的理解，不是法规变化）：本义务按更正后的规则（{version} 第 {revision} 次修订）{what}"


def _utc(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat()


def sync_obligations(incident_id: str, obligations: list[dict[str, Any]], rules_version: str, url: str | None = None, *,
                     withdraw: dict[str, str] | None = None) -> list[Obligation]:
    """Upsert the clock's obligations; keeps fulfilment and reminders; returns the rows.

    ``withdraw`` (``{"by": person, "reason": text}``, given by a correction of the facts:
    regflows/incident/update.py) closes every obligation still owed that the clock no longer
    counts as ``withdrawn`` (:func:`_withdraw`): recorded on the row, the timeline and the ledger,
    its reminders' escalations stopped. Without it (the watch) a row the clock stops counting is
    left as it is: only a correction on record takes a duty away. A withdrawn obligation the
    clock counts again (the grade raised back) is reinstated with its new due time (:func:`_reinstate`).

    Each row remembers the revision of the rules it was computed with (``detail["rules_revision"]``;
    1 when not written). When the rule set was corrected in place since (a correction of reading,
    not a change of law: the rule file's ``revision``), every obligation the correction adds or
    whose due time it moves gets, in this same transaction, a timeline event ``rules_corrected``
    and a ledger entry ``obligation.rules_corrected`` saying so; the reminder loop then raises one
    already overdue at once, marked late.
    """
    with db.session(url) as s:
        rows = {r.code: r for r in s.execute(select(Obligation).where(Obligation.subject == incident_id)).scalars()}
        before = {code: (int((r.detail or {}).get("rules_revision") or 1), _utc(r.due_at), r.rules_version) for code, r in rows.items()}
        for item in obligations:
            due = dt.datetime.fromisoformat(item["due"]) if item.get("due") else None
            row = rows.get(item["id"])
            if row is None:
                row = Obligation(procedure=PROCEDURE, subject=incident_id, code=item["id"], evidence={}, reminders_sent=[], detail={})
                s.add(row)
                rows[item["id"]] = row
            row.title, row.clause, row.owner_role = item["title"], item["clause"], item["owner"]
            row.regime, row.every, row.due_at, row.rules_version = item.get("regime"), item.get("every"), due, rules_version
            row.detail = {k: item.get(k) for k in ("due_label", "basis", "note", "last_day", "addressee", "untimed")}
            row.detail["rules_revision"] = int(item.get("rules_revision") or 1)
            for allowance in ("waivable", "extendable"):  # what the rule allows (regflows.kit.obligations.waive; extensions)
                if item.get(allowance):
                    row.detail[allowance] = item[allowance]
            if row.state == "withdrawn":
                _reinstate(s, incident_id, row, item, withdraw)
            if (row.fulfilled_at is None or item.get("every")) and row.state != "waived":
                row.state = item["state"]
        if withdraw is not None:
            counted = {item["id"] for item in obligations}
            for row in rows.values():
                if row.code not in counted and is_owed(row):
                    _withdraw(s, incident_id, row, withdraw)
        _record_corrections(s, incident_id, obligations, before, rules_version, rows)
        s.flush()
        for row in rows.values():
            s.expunge(row)
        return sorted(rows.values(), key=lambda r: (r.due_at is None, r.due_at or utcnow(), r.code))


def is_owed(row: Obligation) -> bool:
    """Still asks something (a recurring obligation stays owed when fulfilled): what can be withdrawn."""
    return row.state not in CLOSED_STATES or (row.state == "fulfilled" and bool(row.every))


#: Why a correction takes an obligation away, as the timeline, the ledger and the status say it.
WITHDRAWN_NOTE = "按更正后的事实不再适用（{reason}）"


def _withdraw(s: Session, incident_id: str, row: Obligation, withdraw: dict[str, str]) -> None:
    """Close an obligation a correction made inapplicable (NFRA 附件: the obligations follow the grade;
    CQ-PLAN 第四篇二) through the kit's :func:`~regflows.kit.obligations.withdraw_in` (state
    ``withdrawn``, the record on the row, the ledger entry ``obligation.withdrawn``, the
    obligation's reminders and their escalations resolved), plus the timeline event ``withdrawn``."""
    prefix = f"incident:{incident_id}:{row.code}:"  # the reminders' ids and their escalations' (regflows/incident/reminders.py)
    detail = kit_obligations.withdraw_in(s, row, by=withdraw["by"], reason=withdraw["reason"], cause="因事件更正",
                                         reminders=prefix, note=WITHDRAWN_NOTE.format(reason=withdraw["reason"]))
    s.add(IncidentEvent(incident_id=incident_id, at=dt.datetime.fromisoformat(detail["at"]), kind="withdrawn",
                        actor=withdraw["by"], detail=detail))


def _reinstate(s: Session, incident_id: str, row: Obligation, item: dict[str, Any], withdraw: dict[str, str] | None) -> None:
    """A withdrawn obligation the clock counts again (the grade raised back): owed again with the due
    time the clock gives now, its reminders counted afresh (the ones sent before it was withdrawn are
    kept with the withdrawal, in ``evidence["withdrawals"]``), through the kit's
    :func:`~regflows.kit.obligations.reinstate_in`; the timeline event ``reinstated``."""
    by = (withdraw or {}).get("by", "regflows")
    detail = kit_obligations.reinstate_in(s, row, state=item["state"], by=by, fresh_reminders=True,
                                          reason=(withdraw or {}).get("reason") or "按现有事实再次适用",
                                          extra={"due": item.get("due"), "due_label": item.get("due_label")})
    s.add(IncidentEvent(incident_id=incident_id, at=dt.datetime.fromisoformat(detail["at"]), kind="reinstated",
                        actor=by, detail=detail))


def _record_corrections(s: Session, incident_id: str, items: list[dict[str, Any]],
                        before: dict[str, tuple[int, str | None, str | None]], rules_version: str,
                        rows: dict[str, Obligation]) -> None:
    """Timeline and ledger entries for what a correction of the rules (same version, higher revision) added or moved."""
    revision = max((int(item.get("rules_revision") or 1) for item in items), default=1)
    corrected_since = [r for r, _, version in before.values() if version == rules_version and r < revision]
    if not corrected_since:
        return  # first computation, or nothing was counted by an older reading of this version
    for item in items:
        earlier = before.get(item["id"])
        due = _utc(dt.datetime.fromisoformat(item["due"])) if item.get("due") else None
        if earlier is None:
            what = "新增；期限 " + (item.get("due_label") or "未起算") + ("，已逾期" if item.get("state") == "overdue" else "")
        elif earlier[1] != due and earlier[0] < revision and rows[item["id"]].state not in CLOSED_STATES:
            what = "重新计算期限为 " + (item.get("due_label") or "未起算") + ("，已逾期" if item.get("state") == "overdue" else "")
        else:
            continue
        detail = {"obligation": item["id"], "rules_version": rules_version, "from_revision": min(corrected_since),
                  "to_revision": revision, "due": item.get("due"), "state": item.get("state"), "clause": item.get("clause"),
                  "note": CORRECTED.format(version=rules_version, revision=revision, what=what)}
        row = rows[item["id"]]  # marked for this tick's reminders only: a late one says why it is late
        row.detail = {**(row.detail or {}), "rules_corrected": {"revision": revision, "at": utcnow().isoformat()}}
        s.add(IncidentEvent(incident_id=incident_id, at=utcnow(), kind="rules_corrected", actor="regflows", detail=detail))
        ledger.append_in(s, "obligation.rules_corrected", incident_id, detail, actor="regflows")


def alert_revision(notice_id: str, incident_id: str) -> int | None:
    """0 for the declaration's alert ``incident:<id>:alert``, n for the n-th correction's ``…:alert:u<n>``;
    None for anything else (an escalation of an alert, a reminder)."""
    rest = notice_id.removeprefix(f"incident:{incident_id}:alert")
    if rest == notice_id:
        return None
    if rest == "":
        return 0
    return int(rest[2:]) if rest.startswith(":u") and rest[2:].isdigit() else None


def latest_alert(incident_id: str, url: str | None = None) -> tuple[int, str] | None:
    """The incident's newest alert (revision, notice id): the one every earlier alert is superseded by."""
    with db.session(url) as s:
        ids = s.execute(select(Notice.id).where(Notice.related == incident_id,
                                                Notice.id.startswith(f"incident:{incident_id}:alert", autoescape=True))).scalars()
        found = [(r, i) for i in ids if (r := alert_revision(i, incident_id)) is not None]
    return max(found) if found else None


def resolve_earlier_alerts(incident_id: str, revision: int, by: str, url: str | None = None) -> list[str]:
    """After the ``revision``-th correction's alert, the earlier alerts (and their escalations) are
    resolved: their content is out of date, the new alert escalates on its own (review 14, 14)."""
    prefix = f"incident:{incident_id}:alert"
    done = []
    with db.session(url) as s:
        rows = s.execute(select(Notice).where(Notice.related == incident_id, Notice.id.startswith(prefix, autoescape=True),
                                              Notice.resolved_at.is_(None))).scalars()
        for notice in rows:
            head = notice.id.split(":esc:", 1)[0].split(":exhausted", 1)[0]
            earlier = alert_revision(head, incident_id)
            if earlier is None or earlier >= revision:
                continue
            notice.resolved_at = utcnow()
            ledger.append_in(s, "notice.resolved", notice.id, {"by": by, "reason": f"已被第 {revision} 次更正的通知取代"}, actor=by)
            done.append(notice.id)
    return sorted(done)


def obligations_of(incident_id: str, url: str | None = None) -> list[Obligation]:
    with db.session(url) as s:
        rows = list(s.execute(select(Obligation).where(Obligation.subject == incident_id)).scalars())
        for row in rows:
            s.expunge(row)
        return sorted(rows, key=lambda r: (r.due_at is None, r.due_at or utcnow(), r.code))


def fulfil(incident_id: str, code: str, *, evidence: str, by: str, people: Collection[str], reference: str | None = None,
           file: str | Path | None = None, at: dt.datetime | None = None, url: str | None = None,
           field_names: dict[str, str] | None = None, server: bool = False) -> Obligation:
    """Fulfil an obligation with evidence through the kit's one path (regflows/kit/obligations.py):
    the file checked and hashed, the ledger entry, and the incident's timeline event "fulfilled"
    in the same transaction. A recurring obligation (progress reports) records each fulfilment
    and stays open: the clock computes its next due time from the last one. ``server``: named in
    the form on the server, the file must be in the evidence areas (regflows/kit/evidence.py).
    """
    def on_timeline(s: Session, row: Obligation, record: dict[str, Any]) -> None:
        s.add(IncidentEvent(incident_id=incident_id, at=row.fulfilled_at, kind="fulfilled", actor=row.fulfilled_by,
                            detail={"obligation": code, **record}))

    try:
        return kit_obligations.fulfil(incident_id, code, evidence=evidence, by=by, reference=reference, file=file, at=at, url=url,
                                      step=on_timeline, not_found=f"事件 {incident_id} 没有义务 {code}", field_names=field_names,
                                      people=people, server=server)
    except kit_obligations.ObligationNotFound as exc:
        raise IncidentNotFound(str(exc)) from None


def waive(incident_id: str, code: str, *, reason: str, by: str, people: Collection[str], at: dt.datetime | None = None,
          url: str | None = None, field_names: dict[str, str] | None = None) -> Obligation:
    """Waive an obligation whose rule allows it (``waivable`` in the rule file), with the reason,
    through the kit (regflows/kit/obligations.py: the ledger entry ``obligation.waived``), and the
    incident's timeline event "waived" in the same transaction. ``by`` must be one of ``people``
    (the profile's person ids): a waiver is a decision someone answers for.
    """
    def on_timeline(s: Session, row: Obligation, waiver: dict[str, Any]) -> None:
        s.add(IncidentEvent(incident_id=incident_id, at=dt.datetime.fromisoformat(waiver["at"]), kind="waived", actor=waiver["by"],
                            detail={"obligation": code, **waiver}))

    try:
        return kit_obligations.waive(incident_id, code, reason, by, at=at, url=url, step=on_timeline,
                                     not_found=f"事件 {incident_id} 没有义务 {code}", field_names=field_names, people=people)
    except kit_obligations.ObligationNotFound as exc:
        raise IncidentNotFound(str(exc)) from None


def reopen(incident_id: str, code: str, *, reason: str, by: str, people: Collection[str], at: dt.datetime | None = None,
           url: str | None = None, field_names: dict[str, str] | None = None) -> Obligation:
    """Reopen a waived obligation (TENPAY 第五条: the PBoC branch asks for the subjects' notification)
    through the kit (ledger ``obligation.reopened``), with the timeline event "reopened"; the clock
    then counts it "immediately" from the reopening."""
    def on_timeline(s: Session, row: Obligation, reopened: dict[str, Any]) -> None:
        s.add(IncidentEvent(incident_id=incident_id, at=dt.datetime.fromisoformat(reopened["at"]), kind="reopened",
                            actor=reopened["by"], detail={"obligation": code, **reopened}))

    try:
        return kit_obligations.reopen(incident_id, code, reason, by, at=at, url=url, step=on_timeline,
                                      not_found=f"事件 {incident_id} 没有义务 {code}", field_names=field_names, people=people)
    except kit_obligations.ObligationNotFound as exc:
        raise IncidentNotFound(str(exc)) from None


def reopened_map(incident_id: str, url: str | None = None) -> dict[str, dt.datetime]:
    """When each reopened obligation was reopened (the clock counts it from then)."""
    with db.session(url) as s:
        rows = s.execute(select(Obligation).where(Obligation.subject == incident_id)).scalars()
        return {row.code: dt.datetime.fromisoformat(row.evidence["reopened"]["at"]) for row in rows
                if (row.evidence or {}).get("reopened")}


def open_incidents(url: str | None = None) -> list[Incident]:
    """Incidents the watch still looks at: not closed, or closed with an obligation still owed
    (the investigation report's 30 days start at the closing itself: CQ-PLAN 第五篇)."""
    owed = select(Obligation.subject).where(Obligation.procedure == PROCEDURE, Obligation.state.not_in(CLOSED_STATES))
    with db.session(url) as s:
        rows = list(s.execute(select(Incident).where((Incident.state != "closed") | Incident.id.in_(owed))).scalars())
        for row in rows:
            s.expunge(row)
        return rows


def timeline(incident_id: str, url: str | None = None) -> list[IncidentEvent]:
    with db.session(url) as s:
        rows = list(s.execute(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.id)).scalars())
        for row in rows:
            s.expunge(row)
        return rows


def set_state_in(s: Session, incident_id: str, state: str, actor: str, detail: dict[str, Any], *, only_from: str) -> bool:
    """Move the incident from ``only_from`` to ``state`` in the caller's transaction; False (and
    nothing recorded) when it is no longer in ``only_from``. One conditional UPDATE, so that the
    acknowledgement endpoint and the watch, racing to close the same incident, close it once."""
    now = utcnow()
    values: dict[str, Any] = {"state": state, **({"closed_at": now} if state == "closed" else {})}
    moved = s.execute(update(Incident).where(Incident.id == incident_id, Incident.state == only_from).values(**values))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    s.add(IncidentEvent(incident_id=incident_id, at=now, kind=state, actor=actor, detail=detail))
    ledger.append_in(s, f"incident.{state}", incident_id, {"actor": actor, **detail})
    return True


def set_state(incident_id: str, state: str, actor: str, detail: dict[str, Any], url: str | None = None) -> None:
    with db.session(url) as s:
        incident = s.get(Incident, incident_id)
        incident.state = state
        if state == "closed":
            incident.closed_at = utcnow()
        s.add(IncidentEvent(incident_id=incident_id, at=utcnow(), kind=state, actor=actor, detail=detail))
        ledger.append_in(s, f"incident.{state}", incident_id, {"actor": actor, **detail})
