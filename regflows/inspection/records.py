"""The self-inspection's records in the store: a quarter's run, its leads, the owners' answers.

Why here and not in a task: SQL stays in domain and store modules (README, "Adding a
procedure"). Answers are appended, never updated: the latest per (lead, link) counts and the
earlier ones are the trail an inspector reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from regflows import ledger
from regflows.inspection.models import Answer, InspectionInputError, Lead
from regflows.kit.reports import record_report_in
from regflows.store import db
from regflows.store.models import InspectionAnswer, InspectionLead, InspectionRun

__all__ = ["PROCEDURE", "answers_of", "carry_over", "document_subject", "latest_answers", "latest_run_id", "leads_of", "newer_run",
           "record_answers", "record_document", "refuse_superseded", "run_of", "save_run"]

PROCEDURE = "self-inspection"


def document_subject(run_id: str, unit: str | None = None) -> str:
    """The store's subject of a report's documents: the run id for the head office's report (as
    before units), ``<run id>/<unit>`` for the report of a unit that reports on its own (units.py)."""
    return run_id if unit is None else f"{run_id}/{unit}"


def save_run(run_id: str, quarter: str, seed: int, manifest: dict[str, Any], leads: Iterable[Lead],
             worklist_sha256: str | None, exported_at: dt.datetime, summary: dict[str, Any] | None = None,
             url: str | None = None, files: Mapping[str, tuple[Path, str]] | None = None,
             unit_files: Mapping[str, Mapping[str, tuple[Path, str]]] | None = None,
             carried: Sequence[Answer] = (), previous: str | None = None, notes: Mapping[str, Any] | None = None) -> None:
    """Record a run and its leads in one transaction (all or nothing). Saving the same run id
    again is refused: a run's worklist, once exported, is what its answers refer to. ``files``
    (kind → (path, SHA-256)): the run's documents, each on record and in the ledger in the same
    transaction (every produced document on record with its SHA-256); ``unit_files`` (unit →
    kind → (path, SHA-256)): the reports of units that report on their own, under
    :func:`document_subject`. ``carried``: the answers :func:`carry_over` took from ``previous``
    (the quarter's latest run when this one started: if another run was recorded since, nothing is
    saved), recorded on the new run and in the ledger (``inspection.answers_carried``). ``notes``
    (ledger action → payload): what the run raised that must stay on the trail (a re-run of a
    filed quarter), in the same transaction."""
    with db.session(url) as s:
        if s.get(InspectionRun, run_id) is not None:
            raise InspectionInputError(f"自查运行 {run_id} 已登记，不能重复登记")
        now_latest = _latest_in(s, quarter)
        if previous is not None and now_latest != previous:
            raise InspectionInputError(f"运行期间 {quarter} 又登记了自查运行 {now_latest}：本次运行未登记，请重新运行")
        s.add(InspectionRun(id=run_id, quarter=quarter, seed=str(seed), manifest=manifest, worklist_sha256=worklist_sha256,
                            summary=summary or {}, exported_at=exported_at))
        s.flush()
        for lead in leads:
            s.add(InspectionLead(run_id=run_id, lead_id=lead.lead_id, kind=lead.kind, ref=lead.ref, unit=lead.unit,
                                 owner=lead.owner, summary=lead.summary,
                                 detail={**lead.detail, "rules": list(lead.rules),
                                         "occurred_at": lead.occurred_at.isoformat() if lead.occurred_at else None}))
        for kind, (path, digest) in (files or {}).items():
            record_report_in(s, procedure=PROCEDURE, kind=kind, subject=run_id, path=path, sha256=digest,
                             action="self_inspection.written", detail={"quarter": quarter})
        for unit, unit_docs in (unit_files or {}).items():
            for kind, (path, digest) in unit_docs.items():
                record_report_in(s, procedure=PROCEDURE, kind=kind, subject=document_subject(run_id, unit), path=path, sha256=digest,
                                 action="self_inspection.written", detail={"quarter": quarter, "unit": unit})
        for a in carried:
            s.add(_row(run_id, a))
        if previous is not None:
            ledger.append_in(s, "inspection.answers_carried", run_id,
                             {"quarter": quarter, "from": previous, "carried": len(carried),
                              "origins": sorted({a.carried_from or previous for a in carried})})
        for action, payload in (notes or {}).items():
            ledger.append_in(s, action, run_id, {"quarter": quarter, **payload})


def carry_over(previous: str | None, leads: Iterable[Lead], url: str | None = None) -> list[Answer]:
    """The answers a re-run starts with (review of issue 15, defect 1): for each (lead, link) pair
    of the new run whose lead is identical on ``previous`` (the quarter's latest run so far: the
    same lead id, so the same query, event or incident, and the same owner), the answer that counts
    there, as source ``carried`` with its origin (the run it was first answered on; its time and
    person unchanged, so the trail says who verified and when). Nothing when ``previous`` is None.
    Why copy rather than read across runs: each run stays self-contained (its page, workbook,
    progress, register and report read only their own run's answers)."""
    if previous is None:
        return []
    before = {lead.lead_id: lead.owner for lead in leads_of(previous, url)}
    now = {lead.lead_id: lead.owner for lead in leads}
    return [dataclasses.replace(a, source="carried", carried_from=a.carried_from or previous)
            for (lead_id, _link), a in sorted(latest_answers(previous, url).items())
            if lead_id in now and lead_id in before and now[lead_id] == before[lead_id]]


def _latest_in(s: Any, quarter: str) -> str | None:
    return s.execute(select(InspectionRun.id).where(InspectionRun.quarter == quarter)
                     .order_by(InspectionRun.exported_at.desc(), InspectionRun.id.desc()).limit(1)).scalar()


def newer_run(run_id: str, url: str | None = None) -> str | None:
    """The quarter's latest run when it is not ``run_id`` (``run_id`` is superseded), else None."""
    with db.session(url) as s:
        run = s.get(InspectionRun, run_id)
        if run is None:
            return None
        latest = _latest_in(s, run.quarter)
    return latest if latest is not None and latest != run_id else None


def refuse_superseded(run_id: str, what: str, url: str | None = None) -> None:
    """Refuse ``what`` (Chinese: 导入核实清单, 答复, 提交签发) on a run the quarter has re-run since:
    its answers would count nowhere (the watch, the register and the report follow the latest run)."""
    newer = newer_run(run_id, url)
    if newer is not None:
        raise InspectionInputError(f"自查运行 {run_id} 已被同季度较新的运行 {newer} 取代，不能{what}："
                                   f"请在 {newer} 上进行（其核实清单与核实页面已带入 {run_id} 中相同线索的结论）")


def latest_run_id(quarter: str, url: str | None = None) -> str | None:
    """The quarter's latest run (by export time, as the watch follows it), or None."""
    with db.session(url) as s:
        return _latest_in(s, quarter)


def run_of(run_id: str, url: str | None = None) -> InspectionRun | None:
    with db.session(url) as s:
        return s.get(InspectionRun, run_id)


def leads_of(run_id: str, url: str | None = None) -> list[Lead]:
    """The run's leads in the order they were saved (the worklist's order)."""
    with db.session(url) as s:
        rows = s.execute(select(InspectionLead).where(InspectionLead.run_id == run_id).order_by(InspectionLead.id)).scalars()
        out = []
        for r in rows:
            detail = dict(r.detail)
            rules = tuple(detail.pop("rules", ()))
            occurred = detail.pop("occurred_at", None)
            out.append(Lead(kind=r.kind, ref=r.ref, unit=r.unit, owner=r.owner, summary=r.summary,
                            occurred_at=dt.datetime.fromisoformat(occurred) if occurred else None, rules=rules, detail=detail))
        return out


def record_answers(run_id: str, answers: Iterable[Answer], url: str | None = None) -> int:
    """Append answers in one transaction; returns how many were recorded."""
    count = 0
    with db.session(url) as s:
        for a in answers:
            s.add(_row(run_id, a))
            count += 1
    return count


def _row(run_id: str, a: Answer) -> InspectionAnswer:
    return InspectionAnswer(run_id=run_id, lead_id=a.lead_id, link=a.link, outcome=a.outcome, evidence=a.evidence,
                            answered_by=a.answered_by, answered_at=a.answered_at, source=a.source,
                            source_sha256=a.source_sha256, carried_from=a.carried_from)


def answers_of(run_id: str, url: str | None = None) -> list[Answer]:
    """Every answer of the run, oldest first (the trail)."""
    with db.session(url) as s:
        rows = s.execute(select(InspectionAnswer).where(InspectionAnswer.run_id == run_id)
                         .order_by(InspectionAnswer.answered_at, InspectionAnswer.id)).scalars()
        return [Answer(lead_id=r.lead_id, link=r.link, outcome=r.outcome, evidence=r.evidence, answered_by=r.answered_by,
                       answered_at=r.answered_at, source=r.source, source_sha256=r.source_sha256, carried_from=r.carried_from)
                for r in rows]


def latest_answers(run_id: str, url: str | None = None) -> dict[tuple[str, str], Answer]:
    """The answer that counts for each (lead, link): the latest recorded."""
    return {(a.lead_id, a.link): a for a in answers_of(run_id, url)}


def record_document(run_id: str, kind: str, path: Path, sha256: str, url: str | None = None, unit: str | None = None) -> None:
    """Put a document written for a run later (a redrafted report; ``unit``: of a unit's own report)
    on record with its SHA-256 and in the ledger."""
    with db.session(url) as s:
        if s.get(InspectionRun, run_id) is None:
            raise InspectionInputError(f"自查运行 {run_id} 未登记")
        record_report_in(s, procedure=PROCEDURE, kind=kind, subject=document_subject(run_id, unit), path=path, sha256=sha256,
                         action="self_inspection.written", detail={"unit": unit} if unit else None)
