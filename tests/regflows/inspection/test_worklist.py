"""The verification worklist's spreadsheet round trip (regflows/inspection/worklist.py, WORKLIST.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import openpyxl

from regflows.inspection.models import LINKS, Lead, Quarter
from regflows.inspection.worklist import COLUMNS, META_SHEET, SHEET, export_worklist

Q3 = Quarter(2026, 3)
EXPORTED = dt.datetime(2026, 10, 9, 2, 0, tzinfo=dt.UTC)


def _leads() -> list[Lead]:
    return [
        Lead("flagged", "Q000002", "head", "li.ming", "=HYPERLINK(\"http://evil.example\",\"x\") 非工作时间查询",
             dt.datetime(2026, 8, 3, 15, 30, tzinfo=dt.UTC), ("非工作时间查询", "高频查询")),
        Lead("sampled", "Q000001", "branch-cq", None, "抽查"),
    ]


def test_export_writes_one_row_per_lead_and_link_with_a_dropdown_and_a_very_hidden_run_sheet(tmp_path: Path) -> None:
    path = tmp_path / "worklist.xlsx"
    digest = export_worklist(path, "R1", Q3, EXPORTED, _leads(), {"li.ming": "李明"})
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [SHEET, META_SHEET]
    sheet = book[SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    assert len(rows) == 1 + 2 * len(LINKS)
    assert [r[7] for r in rows[1:6]] == list(LINKS.values())
    first = rows[1]
    assert first[:7] == ("flagged:Q000002", "异常查询线索", "head", "李明（li.ming）",
                         "=HYPERLINK(\"http://evil.example\",\"x\") 非工作时间查询", "非工作时间查询、高频查询",
                         "2026-08-03 23:30")
    assert sheet["E2"].data_type == "s"  # text from data stays text, never a formula
    assert first[8:] == (None, None, None)
    assert rows[6][3] == "未指定" and rows[6][6] is None
    assert sheet.freeze_panes == "A2"
    (rule,) = sheet.data_validations.dataValidation
    assert rule.type == "list" and rule.formula1 == '"合规,违规,需整改"' and str(rule.sqref) == "I2:I11"
    meta = book[META_SHEET]
    assert meta.sheet_state == "veryHidden"
    facts = {r[0]: r[1] for r in meta.iter_rows(values_only=True)}
    text = "\n".join(f"{lead.lead_id}\t{link}" for lead in _leads() for link in LINKS)
    assert digest == hashlib.sha256(text.encode()).hexdigest()
    assert facts == {"run_id": "R1", "quarter": "2026Q3", "exported_at": "2026-10-09T02:00:00.000000Z",
                     "rows": "10", "sha256": digest}


def test_the_same_leads_and_time_give_the_same_bytes_and_other_leads_another_hash(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.xlsx", tmp_path / "b.xlsx", tmp_path / "c.xlsx"
    assert export_worklist(a, "R1", Q3, EXPORTED, _leads()) == export_worklist(b, "R1", Q3, EXPORTED, _leads())
    assert a.read_bytes() == b.read_bytes()
    assert export_worklist(c, "R1", Q3, EXPORTED, _leads()[:1]) != export_worklist(a, "R1", Q3, EXPORTED, _leads())
