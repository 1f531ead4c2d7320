"""The 征信信息安全情况统计表 as .xlsx, in the layout of PBOC-102 attachment 2, and its reader.

Layout: the title with year and month, 填表单位 and 签发人, two header rows (地区, 机构名称, the
five counts under 征信信息安全情况（笔）, 备注), one row per institution with zeros written as 0
(the zero-report rule), then 复核人, 填表人 and the date. The reader exists so that tests and the
flow can check the file as filed against summary.json.

A table that has not been reviewed and signed is a draft: its printed page header says so
(``DRAFT_MARK``), outside the attachment 2 layout, so a draft printed by mistake cannot pass for
the filed report. The final table (regflows/credit/signoff.py) carries the three names and no mark.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from regflows.credit.models import COUNT_TITLES, COUNTS, Period, UnitRow

TITLE = "征信信息安全情况统计表"
HEADER_ROW = 3
FIRST_DATA_ROW = 5
COLUMNS = ["地区", "机构名称", *[COUNT_TITLES[c] for c in COUNTS], "备注"]
DRAFT_MARK = "草稿：未经复核、签发，不得报送"


def write_table(path: Path, period: Period, rows: list[UnitRow], *, unit_name: str, preparer: str = "",
                reviewer: str = "", signer: str = "", prepared_on: dt.date | None = None, draft: bool = False) -> Path:
    """Write the table; 填表人/复核人/签发人 are names (blank until the people are known)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    ws = wb.active
    ws.title = f"{period.year}年{period.month}月"
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    font = "宋体"

    ws.merge_cells("A1:H1")
    ws["A1"] = f"{TITLE}（{period.year}年{period.month}月）"
    ws["A1"].font = Font(name=font, size=16, bold=True)
    ws["A1"].alignment = centre
    ws.merge_cells("A2:E2")
    ws["A2"] = f"填表单位：{unit_name}"
    ws.merge_cells("F2:H2")
    ws["F2"] = f"签发人：{signer}"
    for cell in ("A2", "F2"):
        ws[cell].font = Font(name=font, size=11)

    ws.merge_cells("A3:A4")
    ws["A3"] = "地区"
    ws.merge_cells("B3:B4")
    ws["B3"] = "机构名称"
    ws.merge_cells("C3:G3")
    ws["C3"] = "征信信息安全情况（笔）"
    for i, c in enumerate(COUNTS):
        ws.cell(row=4, column=3 + i, value=COUNT_TITLES[c])
    ws.merge_cells("H3:H4")
    ws["H3"] = "备注"
    for r in (3, 4):
        for col in range(1, 9):
            cell = ws.cell(row=r, column=col)
            cell.font = Font(name=font, size=11, bold=True)
            cell.alignment = centre
            cell.border = box

    r = FIRST_DATA_ROW
    for row in rows:
        values: list[Any] = [row.region, row.institution_name, *[int(row.counts[c]) for c in COUNTS],
                             "" if row.known else f"机构代码 {row.institution} 未在机构配置中"]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col, value=value)
            cell.border = box
            cell.font = Font(name=font, size=11)
            cell.alignment = centre if col > 2 else Alignment(vertical="center", wrap_text=True)
        r += 1
    r += 1
    ws.cell(row=r, column=1, value=f"复核人：{reviewer}")
    ws.cell(row=r, column=4, value=f"填表人：{preparer}")
    ws.cell(row=r, column=7, value=f"填表日期：{(prepared_on.isoformat() if prepared_on else '')}")
    widths = [12, 30, 10, 10, 10, 10, 12, 24]
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    ws.row_dimensions[1].height = 30
    if draft:
        ws.oddHeader.center.text = DRAFT_MARK
        ws.oddHeader.center.color = "CC0000"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def read_table(path: Path) -> dict[str, Any]:
    """The title, people and rows of a written table (for checks against summary.json)."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    ws = book.worksheets[0]
    draft = (ws.oddHeader.center.text or "") == DRAFT_MARK
    cells = [list(r) for r in ws.iter_rows(values_only=True)]
    header = [*cells[HEADER_ROW - 1][:2], *cells[HEADER_ROW][2:7], cells[HEADER_ROW - 1][7]]
    if header != COLUMNS:
        raise ValueError(f"{path}：表头不符合附件2格式：{header}")
    rows: list[dict[str, Any]] = []
    footer: dict[str, str] = {}
    for values in cells[FIRST_DATA_ROW - 1:]:
        if all(v in (None, "") for v in values):
            continue
        first = str(values[0] or "")
        if first.startswith("复核人："):
            footer = {"复核人": first.split("：", 1)[1], "填表人": str(values[3] or "").split("：", 1)[1]}
            continue
        rows.append({"region": values[0], "institution_name": values[1],
                     **{c: values[2 + i] for i, c in enumerate(COUNTS)}, "remark": values[7] or ""})
    return {"title": cells[0][0], "unit": str(cells[1][0]).split("：", 1)[1],
            "signer": str(cells[1][5]).split("：", 1)[1], "rows": rows, "draft": draft, **footer}
