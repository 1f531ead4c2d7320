"""The official-document writer: a .docx laid out after GB/T 9704-2012 (党政机关公文格式).

Chinese institutions and their regulators use GB/T 9704 for official letters, so a report laid
out after it is what a reviewer expects to edit, sign and send. What this writer applies:

- page: A4 (5.2.1); 版心 156 mm × 225 mm, 天头 37 mm, 订口 28 mm (5.2.2), so the margins are 37 /
  35 / 28 / 26 mm top / bottom / left / right;
- type: body 3号仿宋 (6.1: "如无特殊说明，公文格式各要素一般用3号仿宋体字"); title 2号 centred
  (7.3.2; the standard's 小标宋 is not installed with Windows or LibreOffice, so 黑体, which is,
  as 6.1 allows "特定情况可以作适当调整"); headings by level 黑体, 楷体, 仿宋, 仿宋 (7.3.3:
  "一般第一层用黑体字、第二层用楷体字、第三层和第四层用仿宋体字标注"); paragraphs indented two
  characters (7.3.3); tables 宋体 小四, page header and footer 宋体 五号;
- page numbers (7.5): "— 1 —" in 4号 半角宋体, odd pages on the right and even pages on the
  left, one character in from the type area's edge, 7 mm below it. A procedure whose documents
  predate this kit may keep "第 x 页 共 y 页" (``page_numbers="page_of_total"``);
- the marks of :mod:`regflows.kit.documents.markers`: a draft mark in the page header, footer,
  a banner and the properties; a drill tag on the title, every page and the properties; pending
  markers highlighted wherever they are printed.

East Asian fonts: python-docx names a font only in ``w:ascii``/``w:hAnsi``, and Word then shows
Chinese in whatever the theme's East Asian font is. So every style used and every run written
here gets an explicit ``w:eastAsia`` font (with Times New Roman as the Latin fallback), and the
theme-font attributes that would override the explicit names are removed.

The file is reproducible and written atomically (:mod:`regflows.kit.documents.files`): the
core properties and every zip entry carry the document's own date, never the wall clock.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import docx
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Length, Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from regflows.kit.documents.files import reproducible_zip, zip_stamp
from regflows.kit.files import write_atomically
from regflows.kit.documents.markers import DRILL_NOTICE, DRILL_TAG, contains_pending

# Fonts: the w:eastAsia names Word on Windows knows (LibreOffice maps them to installed CJK fonts).
FONT_LATIN = "Times New Roman"
FONT_TITLE = "黑体"
FONT_BODY = "仿宋"
FONT_TABLE = "宋体"
FONT_SUBTITLE = "楷体"
#: GB/T 9704-2012 7.3.3: level 1 黑体, level 2 楷体, levels 3 and 4 仿宋.
FONT_HEADINGS: dict[int, str] = {1: "黑体", 2: "楷体", 3: "仿宋", 4: "仿宋"}
FONT_HEADING = FONT_HEADINGS[1]
FONT_PAGE_NUMBER = "宋体"  # GB/T 9704-2012 7.5: 4号半角宋体阿拉伯数字

# Sizes: 号 → points.
SIZE_TITLE = Pt(22)  # 二号
SIZE_BODY = Pt(16)  # 三号
SIZE_PAGE_NUMBER = Pt(14)  # 四号
SIZE_TABLE = Pt(12)  # 小四
SIZE_HEADER = Pt(10.5)  # 五号

#: Body line spacing, exactly 28 pt: 22 lines fit the 225 mm type area (GB/T 9704-2012 6.2:
#: "一般每面排22行"), the spacing Word templates for 公文 commonly use.
LINE_SPACING = Pt(28)
#: Styles based on Normal that keep their natural character spacing: the condensing that fits
#: 28 三号 characters a line is for body text and headings only.
UNCONDENSED_STYLES = ("RF Title", "RF Subtitle", "RF Table", "Header", "Footer")
#: Two characters of 三号 body text (GB/T 9704-2012 7.3.3: each paragraph 左空二字).
FIRST_LINE_INDENT = Pt(32)

RED = RGBColor(0xC0, 0x00, 0x00)
BLACK = RGBColor(0, 0, 0)
AUTHOR = "regflows"

PageNumbers = Literal["gbt9704", "page_of_total"]

#: The w:rPr children that follow w:spacing (ECMA-376 17.3.2.28): it is inserted before them.
_AFTER_SPACING = (
    "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd",
    "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish",
    "w:oMath",
)


@dataclass(frozen=True)
class PageLayout:
    """The page, in millimetres. Defaults: GB/T 9704-2012 5.2 (A4; 天头 37 mm, 订口 28 mm, 版心
    156 mm × 225 mm, which leaves 35 mm below and 26 mm on the right)."""

    width_mm: float = 210
    height_mm: float = 297
    top_mm: float = 37
    bottom_mm: float = 35
    left_mm: float = 28
    right_mm: float = 26
    #: GB/T 9704-2012 6.2: "一般每面排22行，每行排28个字，并撑满版心". 28 characters of 3号
    #: (16 pt) need 448 pt and the type area is 442 pt wide, so Word and LibreOffice set 27 a
    #: line; the body text is condensed just enough for ``chars_per_line`` to fit (see
    #: :meth:`OfficialDocument._fit_characters`). ``None`` leaves the characters at 16 pt.
    chars_per_line: int | None = 28
    header_distance_mm: float = 15
    #: From the page's bottom edge to the footer's. ``None``: where GB/T 9704-2012 7.5 puts the
    #: page number (its 一字线 7 mm below the type area) for ``gbt9704`` page numbers, and 15 mm
    #: (as the incident documents always had) for ``page_of_total``.
    footer_distance_mm: float | None = None


GBT9704 = PageLayout()


def set_fonts(element: BaseOxmlElement, east_asia: str, latin: str = FONT_LATIN) -> None:
    """Set the Latin *and* East Asian font on a run's or style's properties, dropping theme fonts.

    ``element`` is a ``w:r`` or a ``w:style`` (``run._element``, ``style.element``).
    ``w:asciiTheme``/``w:eastAsiaTheme`` win over the explicit names in Word, so they go.
    """
    fonts = element.get_or_add_rPr().get_or_add_rFonts()  # keeps the schema's child order
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


class OfficialDocument:
    """One official document being written: title block, page furniture, body, then :meth:`save`.

    ``title`` is printed without the drill tag (it is added in red when ``drill``); ``header``
    is the text of the page header (e.g. the unit and the document's name), followed by the
    ``draft`` mark; ``draft_notice`` and ``drill_notice`` are the banners under the title.
    ``stamp`` (timezone-aware) is the document's date: its properties and its zip entries carry
    it, so the same content and stamp give the same bytes.
    """

    def __init__(
        self,
        title: str,
        *,
        stamp: dt.datetime,
        subtitle: str | None = None,
        header: str | None = None,
        draft: str | None = None,
        draft_notice: str | None = None,
        drill: bool = False,
        drill_notice: str | None = DRILL_NOTICE,
        page_numbers: PageNumbers = "gbt9704",
        layout: PageLayout = GBT9704,
    ) -> None:
        zip_stamp(stamp)  # refuse a naive stamp now, not after the whole document is built
        self.plain_title = title
        self.title = (DRILL_TAG if drill else "") + title
        self.stamp = stamp
        self.draft = draft
        self.drill = drill
        self.drill_notice = drill_notice
        self._doc = docx.Document()
        self._styled_headings: set[int] = set()
        self._style_fonts()
        self._page(layout, page_numbers)
        self._header_footer(header, page_numbers)
        self._title_block(subtitle, draft_notice)

    @property
    def document(self) -> DocxDocument:
        """The python-docx document, for what this writer has no method for; every run added
        through it must get its fonts with :func:`set_fonts`."""
        return self._doc

    # -- text ------------------------------------------------------------------------------

    def run(
        self,
        paragraph: Paragraph,
        text: str,
        font: str,
        *,
        bold: bool | None = None,
        size: Length | None = None,
        colour: RGBColor | None = None,
    ) -> Run:
        """Add ``text`` to ``paragraph`` in ``font`` (East Asian) with Times New Roman for Latin.

        A 待补充 marker anywhere in the text is highlighted and bold: it must catch the
        reviewer's eye.
        """
        run = paragraph.add_run(text)
        set_fonts(run._element, font)
        if bold is not None:
            run.font.bold = bold
        if size is not None:
            run.font.size = size
        if colour is not None:
            run.font.color.rgb = colour
        if contains_pending(text):
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            run.font.bold = True
        return run

    def paragraph(self, text: str, *, indent: bool = True) -> Paragraph:
        """One body paragraph (3号仿宋), its first line indented two characters unless ``indent``
        is false (a salutation such as ``国家金融监督管理总局：`` starts at the margin)."""
        paragraph = self._doc.add_paragraph()
        if indent:
            paragraph.paragraph_format.first_line_indent = FIRST_LINE_INDENT
        self.run(paragraph, text, FONT_BODY)
        return paragraph

    def paragraphs(self, text: str, *, indent: bool = True) -> None:
        """Body text of several lines: each non-blank line its own paragraph, never a blank one."""
        for line in text.splitlines():
            if line.strip():
                self.paragraph(line.strip(), indent=indent)

    def heading(self, text: str, level: int = 1) -> Paragraph:
        """A Word heading (``Heading 1``..``Heading 4``: the navigation pane and outline see it),
        in the font GB/T 9704-2012 7.3.3 gives its level."""
        if level not in FONT_HEADINGS:
            raise ValueError(f"标题层级只能是 1 至 4（GB/T 9704-2012 7.3.3），收到 {level}")
        if level not in self._styled_headings:
            self._heading_style(level)
        paragraph = self._doc.add_paragraph(style=f"Heading {level}")
        self.run(paragraph, text, FONT_HEADINGS[level])
        return paragraph

    def banner(self, text: str, *, size: Length = SIZE_TABLE) -> Paragraph:
        """A centred red bold line (draft and drill notices): it must not be overlooked."""
        paragraph = self._doc.add_paragraph(style="RF Table")
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_after = Pt(6)
        self.run(paragraph, text, FONT_HEADING, bold=True, colour=RED, size=size)
        return paragraph

    def table(
        self,
        rows: Sequence[Sequence[str]],
        widths_mm: Sequence[float],
        *,
        label_column: bool = True,
        header: bool = False,
    ) -> Table:
        """A bordered table in 宋体 小四, centred, followed by an empty line.

        ``label_column`` prints the first column bold (label/value tables); ``header`` the first
        row. Column widths are set on the grid (LibreOffice reads ``w:gridCol``) and on every
        cell (Word reads ``w:tcW``).
        """
        for number, row in enumerate(rows, start=1):
            if len(row) != len(widths_mm):
                raise ValueError(f"表格第 {number} 行有 {len(row)} 列，列宽给了 {len(widths_mm)} 列")
        table: Table = self._doc.add_table(rows=0, cols=len(widths_mm))
        table.style = self._doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for column, width in zip(table.columns, widths_mm, strict=True):
            column.width = Mm(width)
        for i, row in enumerate(rows):
            cells = table.add_row().cells  # type: ignore[no-untyped-call]  # unannotated in python-docx 1.2
            for j, (cell, text) in enumerate(zip(cells, row, strict=True)):
                cell.width = Mm(widths_mm[j])
                paragraph = cell.paragraphs[0]
                paragraph.style = self._doc.styles["RF Table"]
                self.run(paragraph, text, FONT_TABLE, bold=(j == 0 and label_column) or (header and i == 0))
        self._doc.add_paragraph(style="RF Table")  # a line of air after a table
        return table

    def signature(self, lines: Sequence[str]) -> None:
        """The closing block, right-aligned: signer or seal line, date (GB/T 9704-2012 7.3.5).
        Kept on one page with the body's last paragraph: a date alone on a page of its own
        (what a page break fell on before) is not a document anyone signs."""
        if self._doc.paragraphs:
            self._doc.paragraphs[-1].paragraph_format.keep_with_next = True
        for i, text in enumerate(lines):
            paragraph = self._doc.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            paragraph.paragraph_format.keep_with_next = i < len(lines) - 1
            self.run(paragraph, text, FONT_BODY)

    # -- saving ----------------------------------------------------------------------------

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        subject: str | None = None,
        keywords: str | None = None,
        category: str | None = None,
        comments: str | None = None,
    ) -> Path:
        """Set the file's properties and write it reproducibly and atomically; return its path.

        The title carries the drill tag, the status the draft mark, and the comments both
        notices unless ``comments`` is given: a file's properties are what a document list
        shows, and they must not make a drill or a draft look like the real thing.
        """
        props = self._doc.core_properties
        props.title = self.title
        if subject is not None:
            props.subject = subject
        props.author = AUTHOR
        props.last_modified_by = AUTHOR
        if keywords is not None:
            props.keywords = keywords
        if category is not None:
            props.category = category
        if self.draft:
            props.content_status = self.draft
        notes = [self.drill_notice if self.drill else None, self.draft]
        if comments is None and any(notes):
            comments = " ".join(note for note in notes if note)
        if comments is not None:
            props.comments = comments
        props.created = props.modified = self.stamp.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
        props.revision = 1
        raw = io.BytesIO()
        self._doc.save(raw)
        return write_atomically(path, reproducible_zip(raw.getvalue(), self.stamp))

    # -- the document's frame --------------------------------------------------------------

    def _paragraph_style(
        self, name: str, font: str, size: Length, *, base: str | None = None, bold: bool = False
    ) -> ParagraphStyle:
        styles = self._doc.styles
        try:
            style = styles[name]
        except KeyError:
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        assert isinstance(style, ParagraphStyle)
        if base:
            style.base_style = styles[base]
        set_fonts(style.element, font)
        style.font.size = size
        style.font.bold = bold
        style.font.italic = False
        style.font.color.rgb = BLACK
        fmt = style.paragraph_format
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(0)
        return style

    def _style_fonts(self) -> None:
        """Document defaults and the styles used, each with an explicit East Asian font (zh-CN)."""
        styles = self._doc.styles.element
        rpr = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
        fonts = rpr.find(qn("w:rFonts"))
        assert fonts is not None
        for attr in list(fonts.attrib):
            del fonts.attrib[attr]
        for attr in ("w:ascii", "w:hAnsi", "w:cs"):
            fonts.set(qn(attr), FONT_LATIN)
        fonts.set(qn("w:eastAsia"), FONT_BODY)
        lang = rpr.find(qn("w:lang"))
        assert lang is not None
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")

        normal = self._paragraph_style("Normal", FONT_BODY, SIZE_BODY)
        normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        normal.paragraph_format.line_spacing = LINE_SPACING

        title = self._paragraph_style("RF Title", FONT_TITLE, SIZE_TITLE, base="Normal")
        title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.line_spacing = Pt(36)
        title.paragraph_format.space_before = Pt(12)
        subtitle = self._paragraph_style("RF Subtitle", FONT_SUBTITLE, SIZE_BODY, base="Normal")
        subtitle.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        subtitle.paragraph_format.space_after = Pt(12)

        self._heading_style(1)

        table = self._paragraph_style("RF Table", FONT_TABLE, SIZE_TABLE, base="Normal")
        table.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        for name in ("Header", "Footer"):
            self._paragraph_style(name, FONT_TABLE, SIZE_HEADER)

    def _heading_style(self, level: int) -> None:
        """Styled when first used, so a document's styles hold only what it uses."""
        heading = self._paragraph_style(f"Heading {level}", FONT_HEADINGS[level], SIZE_BODY, base="Normal")
        heading.paragraph_format.space_before = Pt(8)
        heading.paragraph_format.space_after = Pt(4)
        heading.paragraph_format.keep_with_next = True
        self._styled_headings.add(level)

    def _page(self, layout: PageLayout, page_numbers: PageNumbers) -> None:
        section = self._doc.sections[0]
        section.page_width, section.page_height = Mm(layout.width_mm), Mm(layout.height_mm)
        section.top_margin, section.bottom_margin = Mm(layout.top_mm), Mm(layout.bottom_mm)
        section.left_margin, section.right_margin = Mm(layout.left_mm), Mm(layout.right_mm)
        footer = layout.footer_distance_mm
        if footer is None:
            # GB/T 9704-2012 7.5: the number's 一字线 sits 7 mm below the type area; the footer
            # line is exactly one 4号 line high (see _header_footer), so its bottom is that much lower.
            footer = layout.bottom_mm - 7 - SIZE_PAGE_NUMBER.mm if page_numbers == "gbt9704" else 15
        section.header_distance, section.footer_distance = Mm(layout.header_distance_mm), Mm(footer)
        if layout.chars_per_line:
            self._fit_characters(layout, layout.chars_per_line)

    def _fit_characters(self, layout: PageLayout, chars: int) -> None:
        """Condense body characters (w:spacing, in twentieths of a point) so ``chars`` 三号
        characters fit the type area's width (GB/T 9704-2012 6.2: 28 a line).

        Why not Word's document grid (w:docGrid linesAndChars with a negative w:charSpace), which
        Word templates for 公文 use: LibreOffice lays a character wider than the grid pitch over
        two grid cells, so the same file printed 14 characters a line there (measured with
        LibreOffice 7 on Debian). Character spacing means the same in both. Lines need nothing:
        the exact 28 pt spacing gives 22 a page (225 mm / 28 pt = 22.8).
        """
        width = Mm(layout.width_mm - layout.left_mm - layout.right_mm).pt
        excess = SIZE_BODY.pt - width / chars  # points each character must lose
        if excess <= 0:
            return
        condense = -math.ceil(excess * 20)
        for name, value in (("Normal", condense), *((n, 0) for n in UNCONDENSED_STYLES)):
            r_pr = self._doc.styles[name].element.get_or_add_rPr()
            spacing = r_pr.find(qn("w:spacing"))
            if spacing is None:
                spacing = OxmlElement("w:spacing")
                r_pr.insert_element_before(spacing, *_AFTER_SPACING)
            spacing.set(qn("w:val"), str(value))

    def _header_footer(self, header: str | None, page_numbers: PageNumbers) -> None:
        """The header on every page: the drill tag, ``header`` and the draft mark; the footer: the
        page number (and, for ``page_of_total``, the drill tag and the draft mark again)."""
        section = self._doc.sections[0]
        text = "　".join(part for part in (header, self.draft) if part)
        headers = [section.header.paragraphs[0]]
        if page_numbers == "gbt9704":  # odd and even pages differ (7.5), so both get the header
            self._doc.settings.odd_and_even_pages_header_footer = True
            headers.append(section.even_page_header.paragraphs[0])
        for paragraph in headers:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            if self.drill:
                self.run(paragraph, DRILL_TAG, FONT_HEADING, bold=True, colour=RED)
            if text:
                self.run(paragraph, text, FONT_TABLE)

        if page_numbers == "page_of_total":
            footer = section.footer.paragraphs[0]
            footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
            if self.drill:
                self.run(footer, DRILL_TAG + "　", FONT_HEADING, bold=True, colour=RED)
            self.run(footer, "第 ", FONT_TABLE)
            self._field(footer, "PAGE", FONT_TABLE)
            self.run(footer, " 页 共 ", FONT_TABLE)
            self._field(footer, "NUMPAGES", FONT_TABLE)
            self.run(footer, " 页" + ("　" + self.draft if self.draft else ""), FONT_TABLE)
            return
        # GB/T 9704-2012 7.5: "— 1 —", odd pages right and even pages left, one character in.
        for paragraph, odd in ((section.footer.paragraphs[0], True), (section.even_page_footer.paragraphs[0], False)):
            fmt = paragraph.paragraph_format
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
            if odd:
                fmt.right_indent = SIZE_PAGE_NUMBER
            else:
                fmt.left_indent = SIZE_PAGE_NUMBER
            fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            fmt.line_spacing = SIZE_PAGE_NUMBER
            self.run(paragraph, "— ", FONT_PAGE_NUMBER, size=SIZE_PAGE_NUMBER)
            self._field(paragraph, "PAGE", FONT_PAGE_NUMBER, size=SIZE_PAGE_NUMBER)
            self.run(paragraph, " —", FONT_PAGE_NUMBER, size=SIZE_PAGE_NUMBER)

    def _field(self, paragraph: Paragraph, instruction: str, font: str, *, size: Length | None = None) -> None:
        """A Word field (PAGE, NUMPAGES) as begin/instr/separate/result/end runs."""
        for kind in ("begin", "instr", "separate", "result", "end"):
            run = paragraph.add_run()
            set_fonts(run._element, font)
            if size is not None:
                run.font.size = size
            if kind == "instr":
                instr = OxmlElement("w:instrText")
                instr.set(qn("xml:space"), "preserve")
                instr.text = f" {instruction} "
                run._element.append(instr)
            elif kind == "result":
                run.text = "1"
            else:
                char = OxmlElement("w:fldChar")
                char.set(qn("w:fldCharType"), kind)
                run._element.append(char)

    def _title_block(self, subtitle: str | None, draft_notice: str | None) -> None:
        title = self._doc.add_paragraph(style="RF Title")
        if self.drill:
            self.run(title, DRILL_TAG, FONT_TITLE, colour=RED)
        self.run(title, self.plain_title, FONT_TITLE)
        if subtitle:
            self.run(self._doc.add_paragraph(style="RF Subtitle"), subtitle, FONT_SUBTITLE)
        if draft_notice:
            self.banner(draft_notice)
        if self.drill and self.drill_notice:
            self.banner(self.drill_notice, size=SIZE_BODY)
