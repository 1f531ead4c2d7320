"""The 征信信息安全情况统计表 as .xlsx, in the layout of PBOC-102 attachment 2, and its reader.

Layout (PBOC-102 附件2): the title, the year and month, 填表单位 and 签发人 above; two header rows
(the corner 征信信息安全／机构 over 地区 and 机构名称, the five counts under 「风险事件类型」, 备注);
one row per institution with zeros written as 0 (the zero-report rule) and its 备注 (注2); then
复核人, 填表人 and the date below. The reader exists so that tests and the
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
#: Attachment 2's rows: title, month, 填表单位/签发人, the column group 「风险事件类型」 over the five
#: counts (the corner reads 征信信息安全／机构), the column titles, then one row per institution.
MONTH_ROW = 2
PEOPLE_ROW = 3
GROUP_ROW = 4
HEADER_ROW = 5
FIRST_DATA_ROW = 6
GROUP_TITLE = "风险事件类型"
CORNER = "征信信息安全\n机构"
COLUMNS = ["地区", "机构名称", *[f"{COUNT_TITLES[c]}(笔)" for c in COUNTS], "备注"]
DRAFT_MARK = "草稿：未经复核、签发，不得报送"
WIDTHS = [12, 30, 12, 12, 12, 12, 14, 48]

_TITLE = CellStyle(size=16, bold=True, horizontal="center", vertical="center", wrap=True)
_MONTH = CellStyle(horizontal="center", vertical="center")
_HEAD = CellStyle(bold=True, horizontal="center", vertical="center", wrap=True, border=True)
_COUNT = CellStyle(horizontal="center", vertical="center", wrap=True, border=True)
_NAME = CellStyle(vertical="center", wrap=True, border=True)


def write_table(path: Path, period: Period, rows: list[UnitRow], *, unit_name: str, preparer: str = "",
                reviewer: str = "", signer: str = "", prepared_on: dt.date | None = None, draft: bool = False) -> Path:
    """Write the table; 填表人/复核人/签发人 are names (blank until the people are known).

    Names, regions and remarks are written as text whatever they start with (the kit's safe
    writer: a name such as ``=HYPERLINK(…)`` is never a formula). The file is stamped with the
    preparation date, so the same figures, people and date give the same bytes: a rerun does
    not change the hash the sign-off is bound to. Each row's 备注 (附件2 注2) is ``row.remark``.
    """
    stamp = dt.datetime.combine(prepared_on, dt.time(), SHANGHAI) if prepared_on else None
    book = SafeWorkbook(stamp=stamp)
    ws = book.sheet(f"{period.year}年{period.month}月")

    ws.merge(1, 1, 1, 8)
    ws.write(1, 1, TITLE, _TITLE)
    ws.merge(MONTH_ROW, 1, MONTH_ROW, 8)
    ws.write(MONTH_ROW, 1, f"{period.year}年{period.month}月", _MONTH)
    ws.merge(PEOPLE_ROW, 1, PEOPLE_ROW, 5)
    ws.write(PEOPLE_ROW, 1, f"填表单位：{unit_name}")
    ws.merge(PEOPLE_ROW, 6, PEOPLE_ROW, 8)
    ws.write(PEOPLE_ROW, 6, f"签发人：{signer}")

    ws.merge(GROUP_ROW, 1, GROUP_ROW, 2)
    ws.write(GROUP_ROW, 1, CORNER, _HEAD)
    ws.merge(GROUP_ROW, 3, GROUP_ROW, 7)
    ws.write(GROUP_ROW, 3, GROUP_TITLE, _HEAD)
    ws.merge(GROUP_ROW, 8, HEADER_ROW, 8)
    ws.write(GROUP_ROW, 8, "备注", _HEAD)
    for col, title in enumerate(COLUMNS[:-1], start=1):
        ws.write(HEADER_ROW, col, title, _HEAD)
    for r in (GROUP_ROW, HEADER_ROW):  # the merged cells' borders too
        for col in range(1, 9):
            ws.style(r, col, _HEAD)

    r = FIRST_DATA_ROW
    for row in rows:
        values: list[CellValue] = [row.region, row.institution_name, *[int(row.counts[c]) for c in COUNTS], row.remark]
        for col, value in enumerate(values, start=1):
            ws.write(r, col, value, _COUNT if 2 < col < 8 else _NAME)
        r += 1
    r += 1
    ws.write(r, 1, f"复核人：{reviewer}")
    ws.write(r, 4, f"填表人：{preparer}")
    ws.write(r, 7, f"填表日期：{(prepared_on.isoformat() if prepared_on else '')}")
    ws.column_widths(WIDTHS)
    for data_row in range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(rows)):  # a long 备注 printed whole (issue 14, 6)
        ws.fit_row_height(data_row)
    ws.row_height(1, 30)
    # the corner holds two lines (征信信息安全 over 机构): a one-line row let them spill over the
    # 填表单位 line above and the column titles below in print
    ws.row_height(GROUP_ROW, 32)
    # A4 landscape, one page wide, the title to the column header repeated on every page, the
    # lines below the table (复核人, 填表人, 填表日期) printed with it (issue 14, 6)
    ws.print_layout(last_row=r, last_column=len(COLUMNS), repeat_rows=(1, HEADER_ROW))
    if draft:
        ws.page_header(DRAFT_MARK, colour=RED_HEX)
    return book.save(path)


def read_table(path: Path) -> dict[str, Any]:
    """The title, people, column group and rows of a written table (for checks against the summary)."""
    book = load_workbook(path)
    ws = book.worksheets[0]
    draft = (ws.oddHeader.center.text or "") == DRAFT_MARK
    cells = [list(r) for r in ws.iter_rows(values_only=True)]
    header = [*cells[HEADER_ROW - 1][:7], cells[GROUP_ROW - 1][7]]
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
    return {"title": cells[0][0], "month": cells[MONTH_ROW - 1][0], "unit": str(cells[PEOPLE_ROW - 1][0]).split("：", 1)[1],
            "signer": str(cells[PEOPLE_ROW - 1][5]).split("：", 1)[1], "group": cells[GROUP_ROW - 1][2],
            "corner": cells[GROUP_ROW - 1][0], "rows": rows, "draft": draft, **footer}
