"""The safe .xlsx writer: data stays data, and the same content gives the same bytes.

Why "safe": openpyxl writes any string that starts with ``=`` as a formula, and a value such as
``=HYPERLINK("http://evil.example","x")`` or ``=cmd|' /C calc'!A0`` coming from a query log, a
customer name or a free-text field would then run in the reviewer's spreadsheet (formula
injection, CWE-1236); ``#N/A`` and the like would become error values. Every text written here
is a string cell (``data_type = "s"``, stored inline), whatever it starts with, so it reads back
as exactly the text that was written. Numbers are written as numbers, so totals still add up.
The writer has no way to write a formula: the reports need none.

The rest is what every report needs: a CJK font on every written cell (Excel's default Calibri
has no Chinese glyphs and the fallback differs per machine), column widths, borders, merged
cells, the page header and footer (a draft's header carries the draft mark, outside the
report's own layout, so a printed draft cannot pass for the filed one), A4 paper, and a file
written reproducibly and atomically (:mod:`regflows.kit.documents.files`): the workbook's
created/modified times and every zip entry carry the report's own date, never the wall clock.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from regflows.kit.documents.files import NO_DATE, reproducible_zip, zip_stamp
from regflows.kit.files import write_atomically

#: What a cell may hold. Text is always text (never a formula); a bool is refused because a
#: report should say 是/否, not TRUE/FALSE.
CellValue = str | int | float | Decimal | None

FONT_SHEET = "宋体"
RED_HEX = "CC0000"
#: Excel's limit on the characters in one cell; a longer text would be cut by Excel on opening.
MAX_CELL_TEXT = 32767

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@dataclass(frozen=True)
class CellStyle:
    """How one cell looks. Every written cell gets a font: the sheet's CJK font at ``size``."""

    size: float = 11
    bold: bool = False
    horizontal: Literal["left", "center", "right"] | None = None
    vertical: Literal["top", "center", "bottom"] | None = None
    wrap: bool = False
    border: bool = False


PLAIN = CellStyle()


def _display_width(text: str) -> int:
    """Width in Excel's character units: a wide (CJK, full-width) character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


class SafeSheet:
    """One worksheet. Cells are written only through :meth:`write` (see the module docstring)."""

    def __init__(self, worksheet: Worksheet, font: str) -> None:
        self._ws = worksheet
        self._font = font

    @property
    def title(self) -> str:
        return str(self._ws.title)

    def write(self, row: int, column: int, value: CellValue, style: CellStyle = PLAIN) -> None:
        """Write ``value`` at (row, column), both from 1: text as text, numbers as numbers."""
        cell = self._ws.cell(row=row, column=column)
        if not isinstance(cell, Cell):
            where = f"{self.title}!{get_column_letter(column)}{row}"
            raise ValueError(f"{where} 是合并单元格的一部分，只能写入其左上角单元格")
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal, type(None))):
            kind = type(value).__name__
            raise TypeError(f"{self.title}!{cell.coordinate}：不支持的单元格值类型 {kind}（只写文本、数字或空白）")
        if isinstance(value, str):
            if ILLEGAL_CHARACTERS_RE.search(value):
                raise ValueError(f"{self.title}!{cell.coordinate}：文本含有 Excel 不能保存的控制字符：{value!r}")
            if len(value) > MAX_CELL_TEXT:
                raise ValueError(f"{self.title}!{cell.coordinate}：文本超过 Excel 单元格上限 {MAX_CELL_TEXT} 个字符")
            cell.value = value
            cell.data_type = "s"  # openpyxl made "=…" a formula and "#N/A" an error: it is text
        else:
            cell.value = value
        self.style(row, column, style)

    def style(self, row: int, column: int, style: CellStyle) -> None:
        """Style a cell without writing it (e.g. the borders of a merged range's other cells)."""
        cell = self._ws.cell(row=row, column=column)
        cell.font = Font(name=self._font, size=style.size, bold=style.bold)
        if style.horizontal or style.vertical or style.wrap:
            cell.alignment = Alignment(horizontal=style.horizontal, vertical=style.vertical, wrap_text=style.wrap)
        if style.border:
            cell.border = _BOX

    def merge(self, first_row: int, first_column: int, last_row: int, last_column: int) -> None:
        """Merge a range; write its value to the top-left cell."""
        self._ws.merge_cells(start_row=first_row, start_column=first_column, end_row=last_row, end_column=last_column)

    def column_widths(self, widths: Sequence[float]) -> None:
        """Widths of columns A, B, … in Excel's character units."""
        for index, width in enumerate(widths, start=1):
            self._ws.column_dimensions[get_column_letter(index)].width = width

    def row_height(self, row: int, points: float) -> None:
        self._ws.row_dimensions[row].height = points

    def fit_row_height(self, row: int, *, line_points: float = 15.0, minimum: float = 15.0) -> float:
        """Set ``row``'s height to show every line of its wrapped cells, and return it.

        Why: a spreadsheet stores no height for a row it did not lay out, and LibreOffice prints
        such a row one line high, cutting a long wrapped cell (an attachment-2 备注) down to its
        middle line. Lines are estimated from the column width in Excel's character units, a CJK
        character counting two; merged cells are left alone."""
        lines = 1
        for cell in self._ws[row]:
            if cell.value is None or not (cell.alignment and cell.alignment.wrap_text):
                continue
            width = self._ws.column_dimensions[cell.column_letter].width or 8.43
            usable = max(1.0, width - 1)
            lines = max(lines, sum(max(1, -(-_display_width(part) // int(usable))) for part in str(cell.value).split("\n")))
        height = max(minimum, lines * line_points + 3)
        self._ws.row_dimensions[row].height = height
        return height

    def fit_row_heights(self, first_row: int, last_row: int, *, line_points: float = 15.0, minimum: float = 15.0) -> None:
        """:meth:`fit_row_height` for every row of a table (``first_row`` to ``last_row``): call it
        after :meth:`column_widths`, which the line count reads (review of issue 15, defect 3:
        clauses and details printed cut to one line)."""
        for row in range(first_row, last_row + 1):
            self.fit_row_height(row, line_points=line_points, minimum=minimum)

    def page_header(self, text: str, *, colour: str | None = None) -> None:
        """The centre of the printed page header (e.g. a draft mark, in red)."""
        header = self._ws.oddHeader
        assert header is not None  # openpyxl makes it with the sheet
        header.center.text = text
        if colour:
            header.center.color = colour

    def print_layout(self, *, last_row: int, last_column: int, landscape: bool = True,
                     repeat_rows: tuple[int, int] | None = None) -> None:
        """How the sheet prints: A4 (landscape for a wide table), every column on one page width
        (as many pages down as the rows need), the area from A1 to (``last_row``,
        ``last_column``) so the lines below the table print with it, and ``repeat_rows`` (first,
        last) at the top of every page, so a second page still has its header.

        Why: a regulator's table printed over two portrait pages cut the title and the header
        apart from the figures (issue 14, 6)."""
        ws = self._ws
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE if landscape else ws.ORIENTATION_PORTRAIT
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages down as needed
        ws.print_options.horizontalCentered = True
        ws.print_area = f"A1:{get_column_letter(last_column)}{last_row}"
        if repeat_rows is not None:
            ws.print_title_rows = f"{repeat_rows[0]}:{repeat_rows[1]}"

    def freeze(self, row: int, column: int = 1) -> None:
        """Keep the rows above ``row`` and the columns left of ``column`` in view when scrolling
        (a header row that stays on screen while an owner fills a long worklist)."""
        self._ws.freeze_panes = self._ws.cell(row=row, column=column).coordinate

    def dropdown(self, first_row: int, last_row: int, column: int, choices: Sequence[str], *,
                 title: str = "", prompt: str = "", error: str = "") -> None:
        """A list validation on one column's rows: Excel and LibreOffice offer ``choices`` and
        refuse other text. Why still validated on reading: a spreadsheet lets a paste bypass it."""
        if not choices or any("," in c or '"' in c for c in choices):
            raise ValueError(f"{self.title}：下拉选项不能为空，也不能含逗号或双引号：{list(choices)!r}")
        letter = get_column_letter(column)
        rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                              showErrorMessage=bool(error), showInputMessage=bool(prompt),
                              promptTitle=title or None, prompt=prompt or None, errorTitle=title or None, error=error or None)
        rule.add(f"{letter}{first_row}:{letter}{max(first_row, last_row)}")
        self._ws.add_data_validation(rule)

    def hide(self, *, very: bool = False) -> None:
        """Hide the sheet; ``very`` hides it so that only a program (or VBA) shows it again, for
        the machine-read facts a workbook carries (e.g. the run id of a worklist)."""
        self._ws.sheet_state = "veryHidden" if very else "hidden"

    def page_footer(self, text: str) -> None:
        """The centre of the printed page footer; ``&P`` and ``&N`` are Excel's page number and count."""
        footer = self._ws.oddFooter
        assert footer is not None  # openpyxl makes it with the sheet
        footer.center.text = text


class SafeWorkbook:
    """A workbook whose sheets are :class:`SafeSheet`; :meth:`save` writes it reproducibly.

    ``stamp`` (timezone-aware) is the report's date: the workbook's created/modified times and
    the zip entries carry it. Without one they carry :data:`NO_DATE` (1980-01-01), so identical
    content still gives identical bytes.
    """

    def __init__(self, *, stamp: dt.datetime | None = None, font: str = FONT_SHEET, creator: str = "regflows") -> None:
        zip_stamp(stamp)  # refuse a naive stamp now
        self._stamp = stamp
        self._font = font
        self._book = Workbook()
        self._book.properties.creator = creator
        self._fresh = True  # the first sheet is the one openpyxl made

    def sheet(self, title: str) -> SafeSheet:
        """A new sheet (A4, portrait) named ``title``."""
        if self._fresh:
            ws = self._book.active
            assert isinstance(ws, Worksheet)
            ws.title = title
            self._fresh = False
        else:
            ws = self._book.create_sheet(title)
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        return SafeSheet(ws, self._font)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the workbook atomically; return its path.

        openpyxl's own ``save`` stamps "modified" with the wall clock, so the package is written
        with its ``ExcelWriter`` into memory and the times are set here.
        """
        when = (self._stamp or NO_DATE).astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
        props = self._book.properties
        props.created = when
        props.modified = when
        raw = io.BytesIO()
        with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            ExcelWriter(self._book, archive).save()
        return write_atomically(path, reproducible_zip(raw.getvalue(), self._stamp))
