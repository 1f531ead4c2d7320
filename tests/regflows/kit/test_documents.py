"""The kit's document writers (regflows/kit/documents): the official .docx and the safe .xlsx.

Read back from the files: identical content gives identical bytes (also in another process,
another hash seed and another local zone), text that looks like a formula stays text, East
Asian fonts are on every run, the page follows GB/T 9704-2012, and a write that fails half-way
leaves no partial file and the previous one intact.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import zipfile
from decimal import Decimal
from collections.abc import Sequence
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from regflows.kit.documents import (
    DRAFT_MARK,
    DRILL_NOTICE,
    DRILL_TAG,
    NO_DATE,
    CellStyle,
    OfficialDocument,
    PageLayout,
    SafeWorkbook,
    pending,
    write_atomically,
)
from regflows.kit.documents import workbook as workbook_module

REPO = Path(__file__).resolve().parents[3]
CST = dt.timezone(dt.timedelta(hours=8))
STAMP = dt.datetime(2025, 10, 9, 16, 30, 5, tzinfo=CST)

#: Texts that a spreadsheet would run or misread if they were written as formulas or errors.
HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "=cmd|' /C calc'!A0",
    "=1+1",
    "+1",
    "-1+2",
    "@SUM(A1)",
    "#N/A",
    "=",
]


def official(path: Path, *, body: str = "正文第一段。", stamp: dt.datetime = STAMP, **options: object) -> Path:
    """A small document with every kind of block the writer has."""
    document = OfficialDocument("关于2025年第三季度合规自查情况的报告", stamp=stamp, subtitle="（第一稿）",
                                header="示范银行", draft=DRAFT_MARK, draft_notice=DRAFT_MARK + "：须经审核后使用。",
                                **options)  # type: ignore[arg-type]
    document.paragraph("国家金融监督管理总局重庆监管局：", indent=False)
    document.paragraphs(body + "\n\n第二段 with Latin text 123。")
    document.heading("一、总体情况")
    document.heading("（一）自查范围", level=2)
    document.heading("1. 制度", level=3)
    document.heading("（1）细则", level=4)
    document.paragraph(f"整改期限：{pending('待部门确认')}")
    document.table([("项目", "结果"), ("制度建设", "已完成")], (42, 114), header=True)
    document.signature(["示范银行（盖章）", "2025年10月9日"])
    return document.save(path, subject="季度自查", keywords="自查", category="报告")


def workbook(path: Path, values: Sequence[object], *, stamp: dt.datetime | None = STAMP) -> Path:
    book = SafeWorkbook(stamp=stamp)
    sheet = book.sheet("2025年9月")
    sheet.merge(1, 1, 1, 3)
    sheet.write(1, 1, "征信信息安全情况统计表", CellStyle(size=16, bold=True, horizontal="center"))
    for row, value in enumerate(values, start=2):
        sheet.write(row, 1, value, CellStyle(border=True))  # type: ignore[arg-type]
    sheet.column_widths([30, 12, 12])
    sheet.page_header(DRAFT_MARK, colour="CC0000")
    sheet.page_footer("第 &P 页 共 &N 页")
    return book.save(path)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


# -- reproducible -------------------------------------------------------------------------------

_IN_ANOTHER_PROCESS = """
import importlib.util, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("documents_again", sys.argv[3])  # this module, in a fresh interpreter
this = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = this
spec.loader.exec_module(this)
this.official(Path(sys.argv[1]))
this.workbook(Path(sys.argv[2]), ["名称", 3, "=1+1"])
"""


def test_identical_content_gives_identical_bytes_here_and_in_another_process(tmp_path: Path) -> None:
    first_docx, first_xlsx = official(tmp_path / "a" / "r.docx"), workbook(tmp_path / "a" / "t.xlsx", ["名称", 3, "=1+1"])
    second_docx, second_xlsx = official(tmp_path / "b" / "r.docx"), workbook(tmp_path / "b" / "t.xlsx", ["名称", 3, "=1+1"])
    assert first_docx.read_bytes() == second_docx.read_bytes()
    assert first_xlsx.read_bytes() == second_xlsx.read_bytes()
    # Another interpreter, another hash seed, another local zone: still the same bytes.
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "America/New_York"}
    subprocess.run([sys.executable, "-c", _IN_ANOTHER_PROCESS,
                    str(tmp_path / "c" / "r.docx"), str(tmp_path / "c" / "t.xlsx"), __file__],
                   check=True, env=env, cwd=REPO, timeout=120)
    assert (tmp_path / "c" / "r.docx").read_bytes() == first_docx.read_bytes()
    assert (tmp_path / "c" / "t.xlsx").read_bytes() == first_xlsx.read_bytes()


def test_different_content_or_date_gives_different_bytes(tmp_path: Path) -> None:
    base = official(tmp_path / "base.docx").read_bytes()
    assert official(tmp_path / "text.docx", body="正文第一段！").read_bytes() != base
    assert official(tmp_path / "date.docx", stamp=STAMP + dt.timedelta(days=1)).read_bytes() != base
    table = workbook(tmp_path / "base.xlsx", ["甲"]).read_bytes()
    assert workbook(tmp_path / "other.xlsx", ["乙"]).read_bytes() != table


def test_files_carry_the_documents_date_not_the_wall_clock(tmp_path: Path) -> None:
    path = official(tmp_path / "r.docx")
    with zipfile.ZipFile(path) as z:
        assert {info.date_time for info in z.infolist()} == {(2025, 10, 9, 16, 30, 4)}  # zip: 2-second steps
    assert docx.Document(str(path)).core_properties.created == dt.datetime(2025, 10, 9, 8, 30, 5, tzinfo=dt.UTC)
    table = workbook(tmp_path / "t.xlsx", ["甲"])
    with zipfile.ZipFile(table) as z:
        assert {info.date_time for info in z.infolist()} == {(2025, 10, 9, 16, 30, 4)}
    props = openpyxl.load_workbook(table).properties
    assert props.created == props.modified == dt.datetime(2025, 10, 9, 8, 30, 5)  # stored in UTC
    undated = workbook(tmp_path / "u.xlsx", ["甲"], stamp=None)
    with zipfile.ZipFile(undated) as z:
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert openpyxl.load_workbook(undated).properties.created == NO_DATE.astimezone(dt.UTC).replace(tzinfo=None)
    assert workbook(tmp_path / "u2.xlsx", ["甲"], stamp=None).read_bytes() == undated.read_bytes()


def test_a_naive_stamp_is_refused() -> None:
    with pytest.raises(ValueError, match="必须带时区"):
        OfficialDocument("标题", stamp=dt.datetime(2025, 10, 9, 16, 30))
    with pytest.raises(ValueError, match="必须带时区"):
        SafeWorkbook(stamp=dt.datetime(2025, 10, 9, 16, 30))


# -- the safe .xlsx -----------------------------------------------------------------------------


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    path = workbook(tmp_path / "t.xlsx", HOSTILE)
    sheet = openpyxl.load_workbook(path).worksheets[0]
    for row, text in enumerate(HOSTILE, start=2):
        cell = sheet.cell(row=row, column=1)
        assert (cell.value, cell.data_type) == (text, "s"), text
    xml = parts(path)["xl/worksheets/sheet1.xml"].decode("utf-8")
    assert "<f>" not in xml and "<f " not in xml and 't="e"' not in xml


def test_plain_openpyxl_would_have_written_formulas(tmp_path: Path) -> None:
    """The hazard the writer exists for, so the test above can fail: openpyxl's own way."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = HOSTILE[0]
    sheet["A2"] = "#N/A"
    book.save(tmp_path / "plain.xlsx")
    xml = parts(tmp_path / "plain.xlsx")["xl/worksheets/sheet1.xml"].decode("utf-8")
    assert "<f>HYPERLINK(" in xml and 't="e"' in xml


def test_numbers_are_numbers_and_other_values_are_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "n.xlsx", [0, 42, 2.5, Decimal("1.25"), None, ""])
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert [(sheet.cell(row=r, column=1).value, sheet.cell(row=r, column=1).data_type) for r in range(2, 6)] == [
        (0, "n"), (42, "n"), (2.5, "n"), (1.25, "n")]
    assert sheet.cell(row=6, column=1).value is None and sheet.cell(row=7, column=1).value is None
    book = SafeWorkbook(stamp=STAMP)
    ws = book.sheet("表")
    with pytest.raises(TypeError, match="不支持的单元格值类型 bool"):
        ws.write(1, 1, True)
    with pytest.raises(TypeError, match="不支持的单元格值类型 date"):
        ws.write(1, 1, dt.date(2025, 10, 9))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="控制字符"):
        ws.write(1, 1, "名称\x07")
    ws.merge(2, 1, 2, 2)
    with pytest.raises(ValueError, match="合并单元格"):
        ws.write(2, 2, "x")


def test_every_written_cell_has_the_cjk_font_and_the_page_is_marked(tmp_path: Path) -> None:
    path = workbook(tmp_path / "t.xlsx", ["名称", 3])
    sheet = openpyxl.load_workbook(path).worksheets[0]
    for row in (1, 2, 3):
        assert sheet.cell(row=row, column=1).font.name == "宋体"
    assert sheet.cell(row=1, column=1).font.size == 16 and sheet.cell(row=1, column=1).font.bold
    assert sheet.cell(row=2, column=1).border.left.style == "thin"
    assert sheet.column_dimensions["A"].width == 30
    assert sheet.oddHeader.center.text == DRAFT_MARK and sheet.oddHeader.center.color == "CC0000"
    assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert "A1:C1" in {str(r) for r in sheet.merged_cells.ranges}


# -- the official .docx -------------------------------------------------------------------------


def test_page_follows_gbt_9704(tmp_path: Path) -> None:
    document = docx.Document(str(official(tmp_path / "r.docx")))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert tuple(round(m.mm) for m in margins) == (37, 35, 28, 26)
    # 7.5: page numbers "— n —" in 4号宋体, odd pages right and even pages left, one character in.
    assert document.settings.odd_and_even_pages_header_footer
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert (odd.alignment, even.alignment) == (WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT)
    assert odd.paragraph_format.right_indent.pt == 14 and even.paragraph_format.left_indent.pt == 14
    for footer in (odd, even):
        assert footer.text == "— 1 —"
        assert [i.text.strip() for i in footer._element.iter(qn("w:instrText"))] == ["PAGE"]
        assert {r.font.size.pt for r in footer.runs} == {14}
    # ... its 一字线 7 mm below the type area: footer bottom = 35 mm - 7 mm - one 4号 line.
    assert round(section.footer_distance.mm, 1) == round(35 - 7 - 14 * 25.4 / 72, 1)
    # 6.2: 28 三号 characters must fit the 156 mm line, so body text is condensed a little.
    spacing = document.styles["Normal"].element.rPr.find(qn("w:spacing"))
    condensed = 16 + int(spacing.get(qn("w:val"))) / 20
    assert 28 * condensed <= 156 / 25.4 * 72 < 28 * 16
    assert document.styles["RF Table"].element.rPr.find(qn("w:spacing")).get(qn("w:val")) == "0"


def test_the_page_of_total_footer_and_a_layout_without_condensing(tmp_path: Path) -> None:
    path = official(tmp_path / "r.docx", page_numbers="page_of_total", layout=PageLayout(chars_per_line=None))
    document = docx.Document(str(path))
    section = document.sections[0]
    assert not document.settings.odd_and_even_pages_header_footer
    assert section.footer.paragraphs[0].text == f"第 1 页 共 1 页　{DRAFT_MARK}"
    assert [i.text.strip() for i in section.footer._element.iter(qn("w:instrText"))] == ["PAGE", "NUMPAGES"]
    assert round(section.footer_distance.mm) == 15
    assert document.styles["Normal"].element.rPr.find(qn("w:spacing")) is None


def test_east_asian_fonts_on_every_run_and_style(tmp_path: Path) -> None:
    document = docx.Document(str(official(tmp_path / "r.docx")))
    section = document.sections[0]
    roots = [document.element.body, section.header._element, section.even_page_header._element,
             section.footer._element, section.even_page_footer._element]
    runs = [r for root in roots for r in root.iter(qn("w:r")) if r.find(qn("w:t")) is not None]
    assert len(runs) > 15
    for run in runs:
        fonts = run.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")), "".join(t.text for t in run.iter(qn("w:t")))
        assert fonts.get(qn("w:ascii")) == "Times New Roman"
        assert fonts.get(qn("w:eastAsiaTheme")) is None
    by_text = {p.text: p for p in document.paragraphs}
    body = by_text["正文第一段。"]
    assert body.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋"
    assert body.paragraph_format.first_line_indent.pt == 32  # 左空二字 (7.3.3)
    # 7.3.3: heading levels 黑体, 楷体, 仿宋, 仿宋; the title 黑体 二号 centred.
    levels = (("一、总体情况", 1, "黑体"), ("（一）自查范围", 2, "楷体"), ("1. 制度", 3, "仿宋"), ("（1）细则", 4, "仿宋"))
    for text, level, font in levels:
        paragraph = by_text[text]
        assert paragraph.style.name == f"Heading {level}"
        assert paragraph.style.element.rPr.rFonts.get(qn("w:eastAsia")) == font
        assert paragraph.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == font
    title = document.paragraphs[0]
    assert title.style.name == "RF Title" and title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.style.font.size.pt == 22 and title.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋"
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    cell = document.tables[0].cell(1, 1).paragraphs[0]
    assert cell.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    highlighted = [r.text for p in document.paragraphs for r in p.runs if r.font.highlight_color is not None]
    assert highlighted == ["整改期限：待补充（待部门确认）"]


def test_draft_and_drill_marks(tmp_path: Path) -> None:
    plain = docx.Document(str(official(tmp_path / "plain.docx")))
    assert plain.sections[0].header.paragraphs[0].text == f"示范银行　{DRAFT_MARK}"
    assert plain.core_properties.content_status == DRAFT_MARK
    assert plain.core_properties.title == "关于2025年第三季度合规自查情况的报告"
    assert DRILL_TAG not in "".join(part.decode("utf-8", "replace") for part in parts(tmp_path / "plain.docx").values())
    drill = docx.Document(str(official(tmp_path / "drill.docx", drill=True)))
    section = drill.sections[0]
    assert drill.paragraphs[0].text == DRILL_TAG + "关于2025年第三季度合规自查情况的报告"
    for header in (section.header, section.even_page_header):  # every page, odd and even
        assert header.paragraphs[0].text == f"{DRILL_TAG}示范银行　{DRAFT_MARK}"
    assert DRILL_NOTICE in [p.text for p in drill.paragraphs[:5]]
    assert drill.core_properties.title.startswith(DRILL_TAG) and DRILL_NOTICE in drill.core_properties.comments


def test_a_table_row_must_match_its_widths(tmp_path: Path) -> None:
    document = OfficialDocument("标题", stamp=STAMP)
    with pytest.raises(ValueError, match="第 2 行有 3 列"):
        document.table([("a", "b"), ("a", "b", "c")], (42, 114))
    with pytest.raises(ValueError, match="1 至 4"):
        document.heading("五级标题", level=5)


# -- atomic -------------------------------------------------------------------------------------


def _leftovers(folder: Path, keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


@pytest.mark.parametrize("error", [OSError("磁盘已满"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_previous_file_and_no_partial_one(
    error: BaseException, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.docx"
    previous = official(target).read_bytes()

    def fail(fd: int) -> None:  # the bytes are in the temporary file, the rename has not happened
        raise error

    monkeypatch.setattr("os.fsync", fail)  # files.py calls os.fsync through the os module
    with pytest.raises(type(error)):
        official(target, body="新的内容。")
    assert target.read_bytes() == previous
    assert _leftovers(tmp_path, "r.docx") == []


def test_a_library_failing_while_saving_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docx_target, xlsx_target = tmp_path / "r.docx", tmp_path / "t.xlsx"
    previous_docx, previous_xlsx = official(docx_target).read_bytes(), workbook(xlsx_target, ["甲"]).read_bytes()

    def half_then_fail(self: object, stream: object) -> None:
        raise RuntimeError("python-docx failed half-way")

    monkeypatch.setattr("docx.document.Document.save", half_then_fail)

    class BrokenWriter:
        def __init__(self, book: object, archive: zipfile.ZipFile) -> None:
            self.archive = archive

        def save(self) -> None:
            self.archive.writestr("xl/workbook.xml", b"<half")
            raise RuntimeError("openpyxl failed half-way")

    monkeypatch.setattr(workbook_module, "ExcelWriter", BrokenWriter)
    with pytest.raises(RuntimeError, match="python-docx"):
        official(docx_target, body="新的内容。")
    with pytest.raises(RuntimeError, match="openpyxl"):
        workbook(xlsx_target, ["乙"])
    assert docx_target.read_bytes() == previous_docx and xlsx_target.read_bytes() == previous_xlsx
    assert _leftovers(tmp_path, "") == ["r.docx", "t.xlsx"]


def test_written_files_are_owner_only_and_folders_are_created(tmp_path: Path) -> None:
    path = write_atomically(tmp_path / "new" / "folder" / "x.bin", b"data")
    assert path.read_bytes() == b"data"
    assert path.stat().st_mode & 0o777 == 0o600
    assert official(tmp_path / "r.docx").stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(not (shutil.which("libreoffice") or shutil.which("soffice")), reason="LibreOffice not installed")
def test_converts_to_pdf_with_libreoffice(tmp_path: Path) -> None:
    office = shutil.which("libreoffice") or shutil.which("soffice")
    assert office
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo'}",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(official(tmp_path / "r.docx"))],
        check=True, timeout=180, capture_output=True,
    )
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


def test_a_sheet_can_offer_a_dropdown_freeze_its_header_and_be_hidden(tmp_path: Path) -> None:
    book = SafeWorkbook(stamp=dt.datetime(2025, 10, 9, 16, 30, tzinfo=dt.timezone.utc))
    sheet = book.sheet("清单")
    sheet.write(1, 1, "结论")
    sheet.freeze(2)
    sheet.dropdown(2, 5, 1, ["合规", "违规"], title="结论", prompt="请选择", error="只能选择列表中的值")
    with pytest.raises(ValueError, match="逗号"):
        sheet.dropdown(2, 5, 2, ["甲,乙"])
    with pytest.raises(ValueError, match="不能为空"):
        sheet.dropdown(2, 5, 2, [])
    book.sheet("隐藏").hide(very=True)
    book.sheet("可恢复").hide()
    book.save(tmp_path / "b.xlsx")
    loaded = openpyxl.load_workbook(tmp_path / "b.xlsx")
    ws = loaded["清单"]
    (rule,) = ws.data_validations.dataValidation
    assert (rule.type, rule.formula1, str(rule.sqref), rule.showErrorMessage, rule.error) == (
        "list", '"合规,违规"', "A2:A5", True, "只能选择列表中的值")
    assert ws.freeze_panes == "A2"
    assert [loaded[n].sheet_state for n in ("清单", "隐藏", "可恢复")] == ["visible", "veryHidden", "hidden"]
