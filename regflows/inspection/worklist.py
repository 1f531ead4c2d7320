"""The verification worklist as a spreadsheet: exported with the run, imported filled in.

Why a workbook at all: the owners who verify the leads (PBOC-102 三（三）: 「与对应的信贷业务进行
逐笔核实，从授权、审核、查询、使用、存储各环节梳理」) work in spreadsheets; the signed page per lead
(:mod:`regflows.inspection.pages`) is the other way in. The contract is WORKLIST.md (issue 15,
item 3): one row per (lead, link), the owner fills 结论/证据说明/核实人, and a very hidden sheet
carries the run id and the SHA-256 of the (lead, link) cells, so an import attaches the file to
its quarter and detects an edited lead or link cell.

Reading is as careful as writing: a cell is read as the text it shows, a formula is never
evaluated (and refused: an owner's answer is typed, not computed), and every bad row is refused
with its row number and column while the good rows are recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from calendars.zone import SHANGHAI
from regflows.inspection.models import LEAD_KINDS, LINKS, OUTCOMES, Answer, InspectionInputError, Lead, Quarter
from regflows.kit.documents import CellStyle, SafeWorkbook

__all__ = [
    "COLUMNS",
    "META_SHEET",
    "SHEET",
    "ImportResult",
    "RefusedRow",
    "export_worklist",
    "worklist_sha256",
]

SHEET = "核实清单"
META_SHEET = "_regflows"
#: The columns of the worklist sheet, in order (WORKLIST.md). Owners fill the last three.
COLUMNS: tuple[str, ...] = ("线索编号", "类型", "单位", "负责人", "摘要", "命中规则", "发生时间（北京时间）",
                            "环节", "结论", "证据说明", "核实人")
_WIDTHS = (22, 14, 14, 14, 40, 24, 20, 8, 10, 40, 14)
COL_LEAD, COL_LINK, COL_OUTCOME, COL_EVIDENCE, COL_BY = 1, 8, 9, 10, 11
#: Outcomes that need evidence: a finding must say what was found (issue 15, item 5: every
#: finding traceable from lead to closure).
NEEDS_EVIDENCE = frozenset({"violation", "rectify"})

_HEADER = CellStyle(bold=True, horizontal="center", vertical="center", wrap=True, border=True)
_CELL = CellStyle(vertical="top", wrap=True, border=True)


def worklist_sha256(pairs: Sequence[tuple[str, str]]) -> str:
    """SHA-256 (hex) of the (lead_id, link key) rows: one "lead_id\\tlink" line per row, joined by
    "\\n" with no trailing newline (WORKLIST.md). Stored in the workbook and with the run."""
    text = "\n".join(f"{lead_id}\t{link}" for lead_id, link in pairs)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _beijing(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _utc_iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise InspectionInputError("导出时间须带时区")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def export_worklist(path: Path, run_id: str, quarter: Quarter, exported_at: dt.datetime,
                    leads: Sequence[Lead], owners: Mapping[str, str] | None = None) -> str:
    """Write the worklist .xlsx at ``path``; return its SHA-256 (store it with the run: save_run).

    ``owners`` maps an owner's person_id to the name shown in 负责人 (``姓名（person_id）``);
    without it, or for a person it does not name, the person_id alone is shown. A lead without
    an owner shows 「未指定」 (the run raises it). ``exported_at`` (timezone-aware) is both the
    file's stamp (same leads, same time: same bytes) and the time an import compares newer page
    answers with.
    """
    stamp = _utc_iso(exported_at)
    pairs = [(lead.lead_id, link) for lead in leads for link in LINKS]
    digest = worklist_sha256(pairs)
    names = owners or {}
    book = SafeWorkbook(stamp=exported_at)
    sheet = book.sheet(SHEET)
    for column, title in enumerate(COLUMNS, start=1):
        sheet.write(1, column, title, _HEADER)
    row = 1
    for lead in leads:
        if lead.kind not in LEAD_KINDS:
            raise InspectionInputError(f"线索 {lead.lead_id} 的类型 {lead.kind!r} 不在 {sorted(LEAD_KINDS)} 之中")
        if lead.owner is None:
            owner = "未指定"
        elif lead.owner in names and names[lead.owner] != lead.owner:
            owner = f"{names[lead.owner]}（{lead.owner}）"
        else:
            owner = lead.owner
        fixed = (lead.lead_id, LEAD_KINDS[lead.kind], lead.unit, owner, lead.summary, "、".join(lead.rules),
                 _beijing(lead.occurred_at))
        for link_zh in LINKS.values():
            row += 1
            for column, value in enumerate((*fixed, link_zh, "", "", ""), start=1):
                sheet.write(row, column, value or None, _CELL)
    sheet.column_widths(_WIDTHS)
    sheet.freeze(2, 1)
    sheet.dropdown(2, max(row, 2), COL_OUTCOME, list(OUTCOMES.values()), title="结论",
                   prompt="请选择：" + "、".join(OUTCOMES.values()), error="结论只能是：" + "、".join(OUTCOMES.values()))
    sheet.print_layout(last_row=max(row, 1), last_column=len(COLUMNS), repeat_rows=(1, 1))
    meta = book.sheet(META_SHEET)
    for index, (key, value) in enumerate((("run_id", run_id), ("quarter", quarter.label), ("exported_at", stamp),
                                          ("rows", str(len(pairs))), ("sha256", digest)), start=1):
        meta.write(index, 1, key)
        meta.write(index, 2, value)
    meta.hide(very=True)
    book.save(path)
    return digest


@dataclass(frozen=True)
class RefusedRow:
    """One worklist row that was not recorded: its row number, the column at fault, and why."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"第 {self.row} 行「{self.column}」：{self.reason}"


@dataclass
class ImportResult:
    """What an import did: the answers recorded, the rows already recorded identically, the rows
    refused (each with its row number and column), and the rows left empty."""

    run_id: str
    quarter: str
    sha256: str  # the file's SHA-256, recorded with every answer from it
    recorded: list[tuple[int, Answer]] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    refused: list[RefusedRow] = field(default_factory=list)
    empty: int = 0

    @property
    def partly_refused(self) -> bool:
        return bool(self.refused)
