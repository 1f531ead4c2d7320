"""Documents every procedure writes: official .docx letters and reports, and .xlsx tables.

Import from here (``from regflows.kit.documents import OfficialDocument``); the public API is
the ``__all__`` below, and the modules behind it are:

- :mod:`.official` — :class:`OfficialDocument`, a .docx laid out after GB/T 9704-2012 with East
  Asian fonts on every run, draft and drill marks, tables, page numbers;
- :mod:`.workbook` — :class:`SafeWorkbook`, an .xlsx writer that writes text from data as text
  (never a formula) and numbers as numbers, in a CJK font;
- :mod:`.csvfile` — :func:`write_csv`, a CSV whose text a spreadsheet never runs as a formula;
- :mod:`.markdown` — :func:`markdown_text`, text from data shown as typed inside a Markdown artifact;
- :mod:`.markers` — the draft mark, the drill tag and the ``待补充（原因）`` pending marker;
- :mod:`.final` — the signed-off copy of an approved draft .docx (marks out, named elements filled in);
- :mod:`.files` — reproducible zip packages and atomic writes, shared by both writers.

Why one package and not ``kit/docx.py`` + ``kit/xlsx.py``: both writers need the same file
machinery (a .docx and an .xlsx are both zip packages whose entries must carry a fixed stamp,
and both must be written atomically) and the same marks (a draft table and a draft report are
marked alike); one package keeps that shared part in one place, and module names of its own
(``official``, ``workbook``) do not shadow the libraries ``docx`` and ``openpyxl`` when read.

Procedures build on this and keep only their content: which documents they owe, the elements
each requires and the clause that requires it, their texts and masking rules. This package
never imports a procedure.
"""

from regflows.kit.documents.csvfile import FORMULA_STARTS, neutralise, neutralise_column, write_csv
from regflows.kit.documents.files import NO_DATE, reproducible_zip
from regflows.kit.documents.final import FINAL_STATUS, final_copy
from regflows.kit.documents.markdown import markdown_text
from regflows.kit.files import PRIVATE_FILE, write_atomically
from regflows.kit.documents.markers import (
    DRAFT_MARK,
    DRILL_NOTICE,
    DRILL_TAG,
    Pending,
    contains_pending,
    is_pending,
    pending,
    pending_reason,
)
from regflows.kit.documents.official import (
    AUTHOR,
    FIRST_LINE_INDENT,
    FONT_BODY,
    FONT_HEADING,
    FONT_HEADINGS,
    FONT_LATIN,
    FONT_PAGE_NUMBER,
    FONT_SUBTITLE,
    FONT_TABLE,
    FONT_TITLE,
    GBT9704,
    LINE_SPACING,
    RED,
    SIZE_BODY,
    SIZE_HEADER,
    SIZE_PAGE_NUMBER,
    SIZE_TABLE,
    SIZE_TITLE,
    OfficialDocument,
    PageLayout,
    PageNumbers,
    set_fonts,
)
from regflows.kit.documents.workbook import FONT_SHEET, RED_HEX, CellStyle, CellValue, SafeSheet, SafeWorkbook

__all__ = [
    "AUTHOR",
    "FINAL_STATUS",
    "final_copy",
    "DRAFT_MARK",
    "DRILL_NOTICE",
    "DRILL_TAG",
    "FIRST_LINE_INDENT",
    "FONT_BODY",
    "FORMULA_STARTS",
    "FONT_HEADING",
    "FONT_HEADINGS",
    "FONT_LATIN",
    "FONT_PAGE_NUMBER",
    "FONT_SHEET",
    "FONT_SUBTITLE",
    "FONT_TABLE",
    "FONT_TITLE",
    "GBT9704",
    "LINE_SPACING",
    "NO_DATE",
    "PRIVATE_FILE",
    "RED",
    "RED_HEX",
    "SIZE_BODY",
    "SIZE_HEADER",
    "SIZE_PAGE_NUMBER",
    "SIZE_TABLE",
    "SIZE_TITLE",
    "CellStyle",
    "CellValue",
    "OfficialDocument",
    "PageLayout",
    "PageNumbers",
    "Pending",
    "SafeSheet",
    "SafeWorkbook",
    "contains_pending",
    "is_pending",
    "markdown_text",
    "neutralise",
    "neutralise_column",
    "pending",
    "pending_reason",
    "reproducible_zip",
    "set_fonts",
    "write_atomically",
    "write_csv",
]
