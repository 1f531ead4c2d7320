"""The rectification register as a spreadsheet a compliance officer works from (review of issue
15, 8): every finding of a quarter (user checks, worklist, spot checks, patrol feedback) with its
source, owner, the rectification's and the report's due days and states, one row each.

Why a workbook of its own and not the run's findings .xlsx: the run's sheet is what the checks
found on the run's day and is part of the signed-off report; the register keeps moving (owners
set due days, findings close, patrol findings arrive) and is exported whenever someone asks.
Written with the kit's SafeWorkbook: a title typed as ``=…`` stays text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from calendars.zone import SHANGHAI
from regflows.inspection.models import Quarter
from regflows.inspection.rectification import SOURCES, FindingStatus
from regflows.kit.documents import CellStyle, SafeWorkbook

__all__ = ["COLUMNS", "STATES", "report_rows", "write_register"]

COLUMNS = ["问题编号", "来源", "问题", "依据", "责任单位", "整改责任人", "反馈日", "整改期限", "整改状态", "整改情况报告期限",
           "报告状态", "情况说明"]
#: The obligation states as people read them (regflows/kit/obligations.py).
STATES: dict[str, str] = {"pending": "未完成", "open": "未完成", "overdue": "已逾期", "fulfilled": "已完成（经复查）",
                          "waived": "已豁免", "withdrawn": "已撤销"}
_HEAD = CellStyle(bold=True, horizontal="center", vertical="center", wrap=True, border=True)
_CELL = CellStyle(vertical="center", wrap=True, border=True)
WIDTHS = [16, 12, 32, 18, 14, 12, 11, 11, 12, 13, 12, 36]


def _state(part: Mapping[str, object], today: dt.date) -> str:
    state = str(part.get("state") or "")
    due = part.get("due")
    if state in ("pending", "open") and isinstance(due, str) and dt.date.fromisoformat(due) < today:
        return STATES["overdue"]
    if state in ("pending", "open") and part.get("waiting"):
        return "待自查报告签发后起算"
    return STATES.get(state, state)


def write_register(path: Path, quarter: Quarter, findings: Sequence[FindingStatus], *, institution: str,
                   names: Mapping[str, str] | None = None, units: Mapping[str, str] | None = None,
                   now: dt.datetime | None = None) -> Path:
    """The quarter's register at ``path``; ``names`` and ``units`` give people and units by name."""
    stamp = (now or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI).replace(microsecond=0)
    today = stamp.date()
    book = SafeWorkbook(stamp=stamp)
    ws = book.sheet(f"{quarter.label}整改台账")
    ws.merge(1, 1, 1, len(COLUMNS))
    ws.write(1, 1, f"{institution} {quarter.label} 问题整改台账（截至 {stamp:%Y-%m-%d %H:%M} 北京时间）",
             CellStyle(size=14, bold=True, horizontal="center"))
    for col, title in enumerate(COLUMNS, start=1):
        ws.write(2, col, title, _HEAD)
    for r, status in enumerate(findings, start=3):
        f = status.finding
        owner = (names or {}).get(f.owner)
        values = [status.id, SOURCES.get(f.source, f.source), f.title, f.clause, (units or {}).get(f.unit, f.unit),
                  f"{owner}（{f.owner}）" if owner else f.owner, f.feedback.isoformat(), status.rectification.get("due") or "",
                  _state(status.rectification, today), status.report.get("due") or "", _state(status.report, today), f.detail]
        for col, value in enumerate(values, start=1):
            ws.write(r, col, value, _CELL)
    ws.column_widths(WIDTHS)
    last = len(findings) + 2
    ws.fit_row_heights(2, last)  # every wrapped title and detail printed whole (review of issue 15, defect 3)
    ws.freeze(3)
    # twelve columns: landscape, one page wide, the column header on every page
    ws.print_layout(last_row=last, last_column=len(COLUMNS), repeat_rows=(2, 2))
    return book.save(path)


def report_rows(findings: Sequence[FindingStatus], *, names: Mapping[str, str] | None = None,
                units: Mapping[str, str] | None = None, today: dt.date | None = None) -> list[Sequence[str]]:
    """The register as the report's section 六 shows it (regflows/inspection/report.py REGISTER_COLUMNS)."""
    day = today or dt.datetime.now(SHANGHAI).date()
    rows: list[Sequence[str]] = []
    for status in findings:
        f = status.finding
        owner = (names or {}).get(f.owner, f.owner)
        source = SOURCES.get(f.source, f.source).split("（", 1)[0]
        # a user check's findings share their title: the user tells them apart (review of issue 15, defect 7)
        user = f.ref.split(":", 1)[1] if f.source == "check" and f.ref and ":" in f.ref else None
        title = f"{f.title}（用户 {user}）" if user else f.title
        rows.append((title, source, (units or {}).get(f.unit, f.unit), owner, status.rectification.get("due") or "",
                     _state(status.rectification, day)))
    return rows
