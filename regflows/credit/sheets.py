"""The month's attachment-2 tables: one per unit that reports on its own, and the head office's.

PBOC-102 三（二）: each table goes to its own PBoC office by its own day (regflows/credit/units.py
says which units and which day). For each table this module picks its rows, writes its 备注
(附件2 注2, regflows/credit/remarks.py), and writes two files named after the filing unit:
``credit-stats-YYYY-MM-<unit>.xlsx`` (the table, a draft until signed) and
``credit-stats-YYYY-MM-<unit>.json`` (the figures it is written from: the content its own
review and sign-off are bound to, so a rerun that changes one branch's figures voids only that
branch's approvals). ``summary.json`` lists them: ``tables: [{"unit", "due", "file"}]``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from calendars.deadlines import by_day_of_month
from calendars.official import YearNotCovered
from regflows.credit.events import EventRef
from regflows.credit.models import Period, UnitRow
from regflows.credit.remarks import event_remarks, query_remarks
from regflows.credit.table import write_table
from regflows.kit.files import write_atomically
from regflows.credit.units import ReportingTable, table_for, tables
from regflows.profile import Profile


@dataclass
class TableOutcome:
    """One table of the month: who files it, by when, its rows and the events behind them."""

    table: ReportingTable
    key: str
    due: dt.date
    due_basis: str
    rows: list[UnitRow]
    events: list[EventRef]
    files: dict[str, Path] = field(default_factory=dict)  # xlsx, summary (the bound figures)
    #: the due day is nominal: its year has no calendar data yet (:class:`DueDay`)
    calendar_missing: bool = False

    @property
    def unit(self) -> str:
        return self.table.unit.code

    def content(self, period: Period) -> dict[str, Any]:
        """The figures the table is written from (and its sign-off bound to)."""
        return {"period": period.label, "unit": self.unit, "filer": self.table.filer_name, "due": self.due.isoformat(),
                "rows": [r.as_summary() for r in self.rows], "events": [e.as_dict() for e in self.events]}


@dataclass(frozen=True)
class DueDay:
    """A table's due day; ``calendar_missing``: the year's holiday arrangement is not loaded, so
    ``day`` is the nominal day, not yet rolled forward (recomputed once the notice is imported)."""

    day: dt.date
    basis: str
    calendar_missing: bool = False


def due_of(period: Period, day: int, roll_forward: bool = True) -> DueDay:
    """:func:`due_on`, or, when the due day falls in a year with no calendar data, the nominal day
    marked ``calendar_missing`` (issue 13, 10): the table's counts do not depend on the date, so
    it is still written; the obligation is recorded as undated and raised."""
    try:
        return DueDay(*due_on(period, day, roll_forward))
    except YearNotCovered as exc:
        nxt = period.next_first_day
        nominal = dt.date(nxt.year, nxt.month, day)
        return DueDay(nominal, f"{nxt.year} 年节假日安排未载入，暂按名义日 {nominal} 计，可能顺延；载入后重算（{exc.year} 年无日历数据）", True)


def due_on(period: Period, day: int, roll_forward: bool = True) -> tuple[dt.date, str]:
    """The ``day``-th of the month after ``period``, rolled forward to a working day when set (民法典 203)."""
    nxt = period.next_first_day
    deadline = by_day_of_month(nxt.year, nxt.month, day, roll_forward=roll_forward)
    assert deadline.last_day is not None
    return deadline.last_day, deadline.basis


def annotate(rows: Sequence[UnitRow], flagged: pd.DataFrame, events: Sequence[EventRef]) -> None:
    """Write each row's 备注 (附件2 注2): unknown code, then query rules, then incidents."""
    queries, incidents = query_remarks(flagged), event_remarks(events)
    for row in rows:
        parts = [] if row.known else [f"机构代码 {row.institution} 未在机构配置中"]
        row.remark = "；".join(parts + queries.get(row.institution, []) + incidents.get(row.institution, []))


def assemble(period: Period, profile: Profile, rows: list[UnitRow], events: Sequence[EventRef],
             unit: str | None = None, *, all_tables: bool = True) -> list[TableOutcome]:
    """The tables the month owes (or the one of ``unit``), each with its rows and events."""
    chosen = [table_for(profile, unit)] if unit is not None or not all_tables else tables(profile)
    own = {code for t in tables(profile) if not t.head_office for code in t.covers}
    out: list[TableOutcome] = []
    for t in chosen:
        def mine(code: str, t: ReportingTable = t) -> bool:
            return code in t.covers or (t.head_office and code not in own)

        due = due_of(period, t.due_day, profile.settings.deadline_roll_forward)
        out.append(TableOutcome(t, t.key(period), due.day, due.basis, [r for r in rows if mine(r.institution)],
                                [e for e in events if mine(e.unit)], calendar_missing=due.calendar_missing))
    return out


def write_tables(outcomes: Sequence[TableOutcome], period: Period, out_dir: Path, *, preparer: str = "",
                 prepared_on: dt.date | None = None, preparers: dict[str, str] | None = None) -> None:
    """Each table's draft .xlsx and its figures (.json); 填表人 ``preparers[unit]`` or ``preparer``."""
    for t in outcomes:
        stem = t.table.file_stem(period)
        name = (preparers or {}).get(t.unit, preparer)
        xlsx = write_table(out_dir / f"{stem}.xlsx", period, t.rows, unit_name=t.table.filer_name, preparer=name,
                           prepared_on=prepared_on, draft=True)
        content = out_dir / f"{stem}.json"
        write_atomically(content, (json.dumps(t.content(period), ensure_ascii=False, indent=2) + "\n").encode())  # 0600 like the .xlsx
        t.files = {"xlsx": xlsx, "summary": content}


def overview(period: Period, outcomes: Sequence[TableOutcome]) -> dict[str, Any]:
    """summary.json: the CLI contract (issue 7; issue 12: one entry per table, file names relative)."""
    first = outcomes[0]
    return {"period": period.label, "due": first.due.isoformat(),
            "rows": [r.as_summary() for t in outcomes for r in t.rows],
            "tables": [{"unit": t.unit, "due": t.due.isoformat(), "file": f"{t.table.file_stem(period)}.xlsx",
                        **({"calendar_missing": True} if t.calendar_missing else {})} for t in outcomes]}
