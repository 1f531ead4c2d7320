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

from openpyxl import load_workbook

from calendars.zone import SHANGHAI
from regflows.credit.models import COUNT_TITLES, COUNTS, Period, UnitRow
from regflows.kit.documents import RED_HEX, CellStyle, CellValue, SafeWorkbook

TITLE = "征信信息安全情况统计表"
HEADER_ROW = 3
FIRST_DATA_ROW = 5
COLUMNS = ["地区", "机构名称", *[COUNT_TITLES[c] for c in COUNTS], "备注"]
DRAFT_MARK = "草稿：未经复核、签发，不得报送"
WIDTHS = [12, 30, 10, 10, 10, 10, 12, 24]

_TITLE = CellStyle(size=16, bold=True, horizontal="center", vertical="center", wrap=True)
_HEAD = CellStyle(bold=True, horizontal="center", vertical="center", wrap=True, border=True)
_COUNT = CellStyle(horizontal="center", vertical="center", wrap=True, border=True)
_NAME = CellStyle(vertical="center", wrap=True, border=True)


def write_table(path: Path, period: Period, rows: list[UnitRow], *, unit_name: str, preparer: str = "",
                reviewer: str = "", signer: str = "", prepared_on: dt.date | None = None, draft: bool = False) -> Path:
    """Write the table; 填表人/复核人/签发人 are names (blank until the people are known).

    Names, regions and remarks are written as text whatever they start with (the kit's safe
    writer: a name such as ``=HYPERLINK(…)`` is never a formula). The file is stamped with the
    preparation date, so the same figures, people and date give the same bytes: a rerun does
    not change the hash the sign-off is bound to.
    """
    stamp = dt.datetime.combine(prepared_on, dt.time(), SHANGHAI) if prepared_on else None
    book = SafeWorkbook(stamp=stamp)
    ws = book.sheet(f"{period.year}年{period.month}月")

    ws.merge(1, 1, 1, 8)
    ws.write(1, 1, f"{TITLE}（{period.year}年{period.month}月）", _TITLE)
    ws.merge(2, 1, 2, 5)
    ws.write(2, 1, f"填表单位：{unit_name}")
    ws.merge(2, 6, 2, 8)
    ws.write(2, 6, f"签发人：{signer}")

    for col in (1, 2, 8):
        ws.merge(3, col, 4, col)
    ws.merge(3, 3, 3, 7)
    ws.write(3, 1, "地区", _HEAD)
    ws.write(3, 2, "机构名称", _HEAD)
    ws.write(3, 3, "征信信息安全情况（笔）", _HEAD)
    ws.write(3, 8, "备注", _HEAD)
    for i, c in enumerate(COUNTS):
        ws.write(4, 3 + i, COUNT_TITLES[c], _HEAD)
    for r in (3, 4):  # the merged cells' borders too
        for col in range(1, 9):
            ws.style(r, col, _HEAD)

    r = FIRST_DATA_ROW
    for row in rows:
        values: list[CellValue] = [row.region, row.institution_name, *[int(row.counts[c]) for c in COUNTS],
                                   "" if row.known else f"机构代码 {row.institution} 未在机构配置中"]
        for col, value in enumerate(values, start=1):
            ws.write(r, col, value, _COUNT if col > 2 else _NAME)
        r += 1
    r += 1
    ws.write(r, 1, f"复核人：{reviewer}")
    ws.write(r, 4, f"填表人：{preparer}")
    ws.write(r, 7, f"填表日期：{(prepared_on.isoformat() if prepared_on else '')}")
    ws.column_widths(WIDTHS)
    ws.row_height(1, 30)
    if draft:
        ws.page_header(DRAFT_MARK, colour=RED_HEX)
    return book.save(path)


def read_table(path: Path) -> dict[str, Any]:
    """The title, people and rows of a written table (for checks against summary.json)."""
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
