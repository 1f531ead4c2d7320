"""The year's run (regflows/rating/pipeline.py) and its documents (report.py; issue 16, items 4
and 5): the .docx in attachment 3's structure read back with python-docx and printed to PDF, the
.xlsx with values only, the artifact's five parts against their maxima, the comparison with last
year, everything published all or none, a newly connected year refused."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest

from calendars.zone import SHANGHAI
from regflows.profile import DEMO_PROFILE, load_profile
from regflows.rating import pipeline, report
from regflows.store import db
from regflows.store.models import Obligation, Report

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
#: This year: 8.1 costs 2 (two unauthorised queries), 3.2 costs 0.5, downgrade 第十五条（3）.
THIS_YEAR = {"8.1": {"unauthorized_queries": 2, "major_impact": False}, "3.2": {"late_audit_reports": 1}}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _text(document: Any) -> str:
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


@pytest.fixture
def files(tmp_path: Path, store_url: str, confirmed_text: Callable[..., str]) -> tuple[Path, Path]:
    this = _write(tmp_path / "evidence-2025.yaml", confirmed_text(THIS_YEAR, year=2025, downgrade_conditions=[3]))
    last = _write(tmp_path / "evidence-2024.yaml", confirmed_text({"8.1": {"unauthorized_queries": 1}}, year=2024))
    return this, last


def test_the_report_follows_attachment_3_and_every_lost_point_has_its_rule_and_evidence(files: tuple[Path, Path], tmp_path: Path,
                                                                                         printed: Any) -> None:
    this, last = files
    outcome = pipeline.run(2025, this, tmp_path / "out", load_profile(DEMO_PROFILE), last=last, now=NOW)
    result = outcome.result
    assert (result.score, result.grade, result.grade_before_downgrade) == (Decimal("94.5"), "B", "A")
    document = docx.Document(str(outcome.files["report"]))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert headings == ["一、自评总体情况", "二、征信业务内控机制（满分 10 分，自评 9.5 分）", "三、人员与用户管理（满分 20 分，自评 20 分）",
                        "四、征信业务合规操作（满分 30 分，自评 28 分）", "五、信息安全与技术保障（满分 30 分，自评 30 分）",
                        "六、落实征信管理工作要求（满分 10 分，自评 7 分）", "七、下调等级与定为 0 分的情形", "八、与上一年度比较", "九、确认与报送"]
    text = _text(document)
    # every item of the table with its 分值 and score; the deduction with its rule (row, 计分标准) and evidence (the fact)
    rows: dict[str, list[str]] = {}
    for table in document.tables:
        for row in table.rows:
            rows.setdefault(row.cells[0].text, [c.text for c in row.cells])  # the items' tables come before the comparison
    assert len([k for k in rows if k in {i.id for i in outcome.result.items}]) == 48
    assert rows["8.1"][2:4] == ["3", "1"] and "PBOC-102 附件3 指标 8.1 计分标准" in rows["8.1"][4]
    assert "unauthorized_queries = 2" in rows["8.1"][4] and "扣 2 分" in rows["8.1"][4]
    assert rows["1.1"][4] == "未发现扣分事项"
    assert "存在第十五条情形：（3）" in text and "等级由 A 级下调一级为 B 级" in text and "未发现第十六条所列情形" in text
    # the comparison with 2024 (8.1 lost 1 then, 2 now; 3.2 lost nothing then)
    assert "2025 年度自评 94.5 分、B 级；2024 年度 96 分、A 级；变化 -1.5 分" in text
    assert any(r[:4] == ["8.1", "2", "1", "-1"] for r in ([c.text for c in row.cells] for t in document.tables for row in t.rows))
    # the demo is a local institution (default 01-31): 2026-01-31 is a Saturday, rolled forward to Monday 02-02
    assert "各指标的事实均已由本机构人员逐项确认" in text and "应于 2026-02-02 24:00 前报送人民银行" in text
    assert "待补充（签发日期）" in text and document.core_properties.content_status == "草稿 — 待审核"
    pdf = printed(outcome.files["report"])
    assert pdf.pages >= 3 and abs(pdf.size[0] - 595.3) < 1  # A4
    everything = "".join(pdf.texts).replace(" ", "").replace("\n", "")
    assert "2025年度征信合规与信息安全考核评级自评报告" in everything and "九、确认与报送" in everything
    assert "二、征信业务内控机制（满分10分，自评9.5分）" in everything


def test_the_score_sheet_holds_values_only(files: tuple[Path, Path], tmp_path: Path) -> None:
    this, _ = files
    outcome = pipeline.run(2025, this, tmp_path / "out", load_profile(DEMO_PROFILE), now=NOW)
    book = openpyxl.load_workbook(outcome.files["sheet"])
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    sheet = book["自评计分"]
    assert [c.value for c in sheet[1]] == list(report.SHEET_COLUMNS)
    row81 = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[2] == "8.1")
    assert (row81[4], row81[5], row81[6]) == (3, 1, 2) and "unauthorized_queries = 2" in row81[8]
    summary = {r[0]: r[2] for r in book["汇总"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert summary["考核计分"] == 94.5 and summary["等级"] == "B" and summary["征信业务合规操作"] == 28
    assert summary["第十五条（下调一级）"] == "3" and summary["未确认的指标"] == "无"


def test_the_artifact_shows_the_five_parts_against_their_maxima(files: tuple[Path, Path], tmp_path: Path) -> None:
    this, last = files
    outcome = pipeline.run(2025, this, tmp_path / "out", load_profile(DEMO_PROFILE), last=last, now=NOW)
    lines = outcome.artifact.splitlines()
    assert "| 一、征信业务内控机制 | 10 | 9.5 | 0.5 |" in lines and "| 三、征信业务合规操作 | 30 | 28 | 2 |" in lines
    assert "| 合计 | 100 | 94.5 | 5.5 |" in lines
    assert any("第十五条情形（3）" in line for line in lines) and any("与 2024 年度比较：96 → 94.5 分（-1.5）" in line for line in lines)


def test_the_run_is_on_record_and_owes_the_self_assessment(files: tuple[Path, Path], tmp_path: Path) -> None:
    this, _ = files
    outcome = pipeline.run(2025, this, tmp_path / "out", load_profile(DEMO_PROFILE), now=NOW)
    summary = json.loads(outcome.files["summary"].read_text(encoding="utf-8"), parse_float=Decimal)
    assert summary["score"] == Decimal("94.5") and summary["comparison"] is None and summary["submission_due"] == outcome.summary["submission_due"]
    with db.session() as s:
        recorded = {r.kind: r.path for r in s.query(Report).filter(Report.subject == "rating:2025")}
        owed = s.query(Obligation).filter(Obligation.subject == "rating:2025").one()
    assert recorded == {k: str(p.absolute()) for k, p in outcome.files.items()}
    assert owed.code == "rating_self_assessment" and owed.clause == "PBOC-102 附件3 第十一条（参照第十条（一））"


def test_nothing_is_published_when_a_file_cannot_be_written(files: tuple[Path, Path], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    this, _ = files
    out = tmp_path / "out"
    first = pipeline.run(2025, this, out, load_profile(DEMO_PROFILE), now=NOW)
    before = {p.name: p.read_bytes() for p in first.files.values()}

    def broken(path: Path, ctx: Any) -> Path:
        raise OSError("磁盘已满")

    monkeypatch.setattr(pipeline, "write_sheet", broken)
    with pytest.raises(OSError):
        pipeline.run(2025, this, out, load_profile(DEMO_PROFILE), now=NOW + dt.timedelta(hours=1))
    assert {p.name: p.read_bytes() for p in first.files.values()} == before  # the last good set, whole
    kept = [p for p in out.iterdir() if p.name.startswith("failed-")]
    assert len(kept) == 1 and (kept[0] / "rating-self-assessment-2025.docx").is_file()  # the failed run's own files, apart


def test_a_year_of_new_connection_is_refused_and_nothing_is_written(files: tuple[Path, Path], tmp_path: Path,
                                                                    demo_with: Callable[..., Any]) -> None:
    this, _ = files
    profile = demo_with(tmp_path / "p.yaml", institution={"credit_connected_on": "2025-03-01"})
    with pytest.raises(pipeline.RatingRefused, match="对当年新接入机构不进行考核评级"):
        pipeline.run(2025, this, tmp_path / "out", profile, now=NOW)
    assert not (tmp_path / "out").exists()


def test_text_that_looks_like_a_formula_stays_text_in_the_sheet(store_url: str, tmp_path: Path, model: Any,
                                                                confirmed_text: Callable[..., str]) -> None:
    provenance = {i.id: {"source": "自评工作组", "confirmed_by": "sun.li", "confirmed_at": "2026-01-12"} for i in model.items}
    provenance["8.1"]["source"] = "=HYPERLINK(\"http://evil.example\",\"日核查\")"
    evidence = _write(tmp_path / "e.yaml", confirmed_text(THIS_YEAR, year=2025, provenance=provenance))
    outcome = pipeline.run(2025, evidence, tmp_path / "out", load_profile(DEMO_PROFILE), now=NOW)
    sheet = openpyxl.load_workbook(outcome.files["sheet"])["自评计分"]
    cell = next(row[8] for row in sheet.iter_rows(min_row=2) if row[2].value == "8.1")
    assert cell.data_type == "s" and "=HYPERLINK(" in str(cell.value)


def test_the_run_command_prints_its_files_and_refuses_a_newly_connected_year(files: tuple[Path, Path], tmp_path: Path,
                                                                             demo_with: Callable[..., Any]) -> None:
    from typer.testing import CliRunner

    from regflows.cli import app
    from regflows.exit_codes import ExitCode

    this, last = files
    runner = CliRunner()
    ran = runner.invoke(app, ["rating", "run", "--year", "2025", "--evidence", str(this), "--last", str(last), "--out", str(tmp_path / "o")])
    assert ran.exit_code == ExitCode.DONE, ran.output
    shown = json.loads(ran.stdout)
    assert (shown["score"], shown["grade"], shown["unconfirmed"]) == ("94.5", "B", []) and Path(shown["files"]["report"]).is_file()
    assert "与 2024 年度比较" in ran.stderr
    demo_with(tmp_path / "p.yaml", institution={"credit_connected_on": "2025-01-02"})
    refused = runner.invoke(app, ["rating", "run", "--year", "2025", "--evidence", str(this), "--out", str(tmp_path / "r"),
                                  "--profile", str(tmp_path / "p.yaml")])
    assert refused.exit_code == ExitCode.REFUSED and "第九条" in refused.stderr and not (tmp_path / "r").exists()


def test_the_score_sheet_prints_whole(files: tuple[Path, Path], tmp_path: Path, printed: Callable[[Path], Any]) -> None:
    """Printed by LibreOffice, every line of the wrapped 计分标准 and 证据 shows (row heights fitted
    to the text), on landscape pages one sheet wide with the header on every page, 汇总 included."""
    this, _ = files
    outcome = pipeline.run(2025, this, tmp_path / "out", load_profile(DEMO_PROFILE), now=NOW)
    book = openpyxl.load_workbook(outcome.files["sheet"])
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.print_title_rows in ("1:1", "$1:$1")
    pdf = printed(outcome.files["sheet"])
    width, height = pdf.size
    assert width > height  # landscape
    # 8.1's evidence wraps over three lines: its last line ends inside its row, above row 8.2 (no height: one line, the rest cut)
    top81, top82 = pdf.word("8.1").top, pdf.word("8.2").top
    tail = next(w for w in pdf.words if "自评工作组核对" in w.text and w.top >= top81)
    assert top81 < tail.bottom <= top82 + 1
    assert all("计分标准" in page for page in pdf.texts[:-1])  # the header repeated on every page of the score sheet
    assert "考核计分" in pdf.texts[-1] and "未确认的指标" in pdf.texts[-1]  # 汇总 printed, one page wide


def test_a_newly_connected_year_is_refused_by_signoff_template_and_score(files: tuple[Path, Path], tmp_path: Path,
                                                                        demo_with: Callable[..., Any]) -> None:
    """第九条: a year the institution was newly connected in is not rated: sign-off, template and score all say so (exit 5),
    never a traceback; a template for a year not yet begun is refused (exit 2)."""
    from typer.testing import CliRunner

    from regflows.cli import app
    from regflows.exit_codes import ExitCode

    this, _ = files
    pipeline.run(2025, this, tmp_path / "out", load_profile(DEMO_PROFILE), now=NOW)  # a run on record before the profile said so
    demo_with(tmp_path / "p.yaml", institution={"credit_connected_on": "2025-01-02"})
    profile = ["--profile", str(tmp_path / "p.yaml")]
    runner = CliRunner()
    for args in (["rating", "signoff", "2025", "--by", "he.min", *profile],
                 ["rating", "template", "--year", "2025", "--out", str(tmp_path / "t.yaml"), *profile],
                 ["rating", "score", str(this), *profile]):
        refused = runner.invoke(app, args)
        assert refused.exit_code == ExitCode.REFUSED, (args, refused.output)
        assert "新接入" in refused.stderr and "第九条" in refused.stderr and "Traceback" not in refused.output
        assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert not (tmp_path / "t.yaml").exists()
    future = runner.invoke(app, ["rating", "template", "--year", "2030", "--out", str(tmp_path / "f.yaml")])
    assert future.exit_code == ExitCode.USAGE and "尚未开始" in future.stderr and not (tmp_path / "f.yaml").exists()
