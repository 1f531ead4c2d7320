"""Each gap a drill's report finds becomes a rectification item on the shared register (issue 17,
item 5): an obligation row of the kit (store table ``obligation``, the register the
self-inspection's findings are on: regflows/inspection/rectification.py), procedure ``drill``,
subject the gap's id, code ``rectification``.

- **Due** ``drill_rectification_working_days`` (15) official working days after the report is
  written, counted from the next day (民法典 第二百零一条; ``calendars.deadlines.within_working_days``);
  reminded 5 and 1 working days before, on the day, and raised once overdue
  (regflows/drills/reminders.py, the kit's ``WorkingDaysBeforeDueDay``).
- **Owner**: a person of the profile (``--owner``), told by name.
- **Closure** with evidence through the kit's ``fulfil``, and only with a re-check by someone other
  than the owner (复查), as the self-inspection's findings are closed.

The id is a hash of the drill and the problem's text: the same report written again lands on the
same rows (opening again changes nothing). A rehearsal's report opens none (its plan was never
approved; its problems are the tester's).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.deadlines import within_working_days
from calendars.official import WorkingDayCalendar
from regflows import ledger
from regflows.drills.owed import PROCEDURE, DrillInputError
from regflows.kit import obligations
from regflows.profile import Profile
from regflows.store import db
from regflows.store.models import Obligation
from regflows.store.obligations import find

__all__ = ["CODE", "close_gap", "gap_id", "list_gaps", "open_gaps"]

CODE = "rectification"
CLAUSE = "TENPAY 第十五条；NFRA 第四十四条（演练发现的问题整改）"


def gap_id(drill_id: str, problem: str) -> str:
    return f"drill-gap:{drill_id}:{hashlib.sha256(problem.encode('utf-8')).hexdigest()[:10]}"


def open_gaps(
    profile: Profile,
    drill_id: str,
    found: Sequence[Mapping[str, str]],
    *,
    owner: str,
    opened_on: dt.date,
    calendar: WorkingDayCalendar | None = None,
    url: str | None = None,
) -> list[str]:
    """Write one rectification row per gap unless written; returns the ids written now."""
    if owner not in profile.person_ids:
        raise DrillInputError(f"整改责任人（--owner）{owner} 不在机构配置的人员（people）中")
    deadline = within_working_days(opened_on, profile.settings.drill_rectification_working_days, calendar)
    written: list[str] = []
    with db.session(url) as s:
        for gap in found:
            subject = gap_id(drill_id, gap["problem"])
            if find(s, subject, CODE) is not None:
                continue
            s.add(
                Obligation(
                    procedure=PROCEDURE,
                    subject=subject,
                    code=CODE,
                    title=f"演练问题整改：{gap['problem']}"[:200],
                    clause=CLAUSE,
                    owner_role=profile.settings.drill_owner_role,
                    regime=None,
                    due_at=deadline.due,
                    state="pending",
                    evidence={},
                    reminders_sent=[],
                    detail={
                        "drill": drill_id,
                        "problem": gap["problem"],
                        "improvement": gap["improvement"],
                        "owner": owner,
                        "basis": f"演练报告写出日 {deadline.basis}",
                    },
                )
            )
            s.flush()
            ledger.append_in(
                s,
                "drill.gap_opened",
                subject,
                {"drill": drill_id, "problem": gap["problem"], "owner": owner, "due": deadline.due.isoformat()},
            )
            written.append(subject)
    return written


def list_gaps(drill_id: str | None = None, url: str | None = None) -> list[dict[str, Any]]:
    with db.session(url) as s:
        rows = (
            s.execute(select(Obligation).where(Obligation.procedure == PROCEDURE, Obligation.code == CODE).order_by(Obligation.id))
            .scalars()
            .all()
        )
        return [
            {
                "id": r.subject,
                "drill": (r.detail or {}).get("drill"),
                "problem": (r.detail or {}).get("problem"),
                "improvement": (r.detail or {}).get("improvement"),
                "owner": (r.detail or {}).get("owner"),
                "due": r.due_at.isoformat() if r.due_at else None,
                "state": r.state,
            }
            for r in rows
            if drill_id is None or (r.detail or {}).get("drill") == drill_id
        ]


def close_gap(
    subject: str,
    *,
    evidence: str,
    by: str,
    rechecked_by: str,
    file: str | Path | None = None,
    reference: str | None = None,
    people: Collection[str] | None = None,
    url: str | None = None,
    field_names: Mapping[str, str] | None = None,
) -> Obligation:
    """Close a gap with evidence and a re-check by someone other than the owner (the kit's fulfil)."""
    checker = rechecked_by.strip()
    if people is not None and checker not in people:
        raise DrillInputError(f"复查人（--rechecked-by）{checker} 不在机构配置的人员（people）中")

    def rechecked(row: Obligation) -> None:
        if checker == (row.detail or {}).get("owner"):
            raise ValueError(f"复查人不能是整改责任人本人（{checker}）：整改须经他人复查后销号")

    def record(s: Session, row: Obligation, evidence_record: dict[str, Any]) -> None:
        row.detail = {**(row.detail or {}), "rechecked_by": checker}
        ledger.append_in(s, "drill.gap_closed", row.subject, {"rechecked_by": checker}, actor=by)

    return obligations.fulfil(
        subject,
        CODE,
        evidence=evidence,
        by=by,
        reference=reference,
        file=file,
        url=url,
        people=people,
        precondition=rechecked,
        step=record,
        not_found=f"没有演练问题 {subject}",
        field_names=dict(field_names or {}),
    )
