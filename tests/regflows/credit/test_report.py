"""Rows per reporting unit, events from the store, due dates, and the .xlsx read back against summary.json."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regflows.credit.models import Period, UnitRow
from regflows.credit.summary import build_rows, due_date
from regflows.credit.table import read_table, write_table
from openpyxl import load_workbook
from regflows.profile import load_profile

REPO = Path(__file__).resolve().parents[3]
SEP = Period(2025, 9)


@pytest.fixture
def profile():  # type: ignore[no-untyped-def]
    return load_profile(REPO / "profiles" / "demo.yaml")


def cli():  # type: ignore[no-untyped-def]
    import typer

    from regflows.credit.cli import credit_app, demo_app

    app = typer.Typer()
    app.add_typer(credit_app, name="credit-stats")
    app.add_typer(demo_app, name="demo")
    return app


@pytest.mark.parametrize(("access", "period", "due"), [
    ("national_head_office", Period(2025, 9), dt.date(2025, 10, 10)),
    ("local", Period(2025, 9), dt.date(2025, 10, 9)),  # the 6th is in the National Day holiday
    ("national_branch", Period(2025, 9), dt.date(2025, 10, 9)),
    ("local", Period(2025, 10), dt.date(2025, 11, 6)),
    ("national_head_office", Period(2025, 12), dt.date(2026, 1, 12)),  # 2026-01-10 is a Saturday
])
def test_due_date_by_kind_rolled_forward(access: str, period: Period, due: dt.date) -> None:
    assert due_date(period, access).last_day == due


def test_every_unit_has_a_row_and_unknown_codes_their_own(profile) -> None:  # type: ignore[no-untyped-def]
    rows, warnings = build_rows(profile.reporting_units, {"YX0101": {"abnormal_query": 2}, "ZZ9": {"unauthorized_query": 1}},
                                {"YX0001": {"report_leak": 1}}, {"YX0101": "四川省", "ZZ9": "西藏自治区"})
    assert [r.institution for r in rows] == ["YX0001", "YX0101", "YX0201", "ZZ9"]
    assert rows[0].counts["report_leak"] == 1 and rows[1].counts["abnormal_query"] == 2
    assert rows[2].counts == {c: 0 for c in rows[2].counts}
    assert (rows[3].institution_name, rows[3].region, rows[3].known) == ("ZZ9", "西藏自治区", False)
    assert len(warnings) == 1 and "ZZ9" in warnings[0]


def test_events_counted_from_store_in_period_without_drills(home: Path) -> None:
    from regflows.credit.events import count_events
    from regflows.store.db import migrate, session
    from regflows.store.models import Incident

    migrate()
    sh = dt.timezone(dt.timedelta(hours=8))

    def incident(i: str, unit: str, at: dt.datetime, event: str | None, drill: bool = False) -> Incident:
        return Incident(id=i, reporting_unit=unit, title="t", category="data", occurred_at=at, discovered_at=at,
                        drill=drill, credit_info_event=event)

    with session() as s:
        s.add_all([
            incident("a", "YX0001", dt.datetime(2025, 9, 1, 0, 0, tzinfo=sh), "report_leak"),
            incident("b", "YX0001", dt.datetime(2025, 9, 30, 23, 59, tzinfo=sh), "report_leak"),
            incident("c", "YX0101", dt.datetime(2025, 9, 5, tzinfo=sh), "illegal_provision"),
            incident("d", "YX0101", dt.datetime(2025, 9, 5, tzinfo=sh), "improper_use", drill=True),
            incident("e", "YX0101", dt.datetime(2025, 8, 31, 23, 30, tzinfo=sh), "improper_use"),
            incident("f", "YX0101", dt.datetime(2025, 10, 1, 0, 0, tzinfo=sh), "improper_use"),
            incident("g", "YX0201", dt.datetime(2025, 9, 5, tzinfo=sh), None),
        ])
    assert count_events(SEP) == {"YX0001": {"report_leak": 2}, "YX0101": {"illegal_provision": 1}}


def test_xlsx_layout(tmp_path: Path) -> None:
    """PBOC-102 附件2: title, then the month, 填表单位 and 签发人 above; the five counts under the
    column group 「风险事件类型」 (the corner 征信信息安全／机构), 备注 last; 复核人 and 填表人 below."""
    rows = [UnitRow("重庆市", "YX0001", "总行"), UnitRow("西藏自治区", "ZZ9", "ZZ9", known=False, remark="机构代码 ZZ9 未在机构配置中")]
    rows[1].counts["abnormal_query"] = 3
    path = write_table(tmp_path / "t.xlsx", SEP, rows, unit_name="示范银行", preparer="李明", reviewer="王芳", signer="周强")
    back = read_table(path)
    assert (back["title"], back["month"]) == ("征信信息安全情况统计表", "2025年9月")
    assert back["group"] == "风险事件类型" and back["corner"] == "征信信息安全\n机构"
    assert (back["unit"], back["signer"], back["复核人"], back["填表人"]) == ("示范银行", "周强", "王芳", "李明")
    assert back["rows"][0]["abnormal_query"] == 0 and back["rows"][1]["abnormal_query"] == 3
    assert "ZZ9" in back["rows"][1]["remark"]
    sheet = load_workbook(path).worksheets[0]
    above = [str(sheet.cell(row=r, column=c).value or "") for r in range(1, 5) for c in range(1, 9)]
    assert any(v.startswith("填表单位：") for v in above) and any(v.startswith("签发人：") for v in above)
    assert [sheet.cell(row=5, column=c).value for c in range(3, 8)] == [
        "异常查询(笔)", "违规查询(笔)", "非法提供(笔)", "违规使用(笔)", "信用报告泄漏(笔)"]


def test_xlsx_prints_on_a4_landscape_one_page_wide_with_its_header_repeated(tmp_path: Path) -> None:
    """Issue 14 (6): the table printed over two portrait pages, cutting the title and the header
    from the figures. A4 landscape, fit to one page wide, rows 1-5 (title to column header)
    repeated on every page, and the print area reaching the 复核人/填表人 line below the table."""
    rows = [UnitRow("重庆市", f"YX{i:04d}", f"支行{i}") for i in range(60)]
    path = write_table(tmp_path / "t.xlsx", SEP, rows, unit_name="示范银行", preparer="李明")
    sheet = load_workbook(path).worksheets[0]
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, int(setup.fitToWidth), int(setup.fitToHeight)) == ("landscape", 9, 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.print_title_rows == "$1:$5"
    footer_row = next(c.row for c in sheet["A"] if str(c.value or "").startswith("复核人："))
    assert str(sheet.print_area).endswith(f"!$A$1:$H${footer_row}")


def test_xlsx_printed_to_pdf_is_one_a4_landscape_page_wide_with_title_and_header_on_every_page(  # type: ignore[no-untyped-def]
        tmp_path: Path, printed) -> None:
    """Issue 14 (6), checked on paper: LibreOffice prints the draft table of 60 institutions on A4
    landscape, every column on page 1 (the rightmost, 备注, included), the title and the column
    header again on each following page, and the 复核人/填表人 line below the table printed. The
    corner's two lines (征信信息安全 over 机构) sit inside their row, not over the 填表单位 line."""
    rows = [UnitRow("重庆市", f"YX{i:04d}", f"渝信示范银行第{i}支行") for i in range(60)]
    rows[0].remark = "机构代码未在机构配置中"
    path = write_table(tmp_path / "征信信息安全情况统计表-2025-09.xlsx", SEP, rows, unit_name="渝信示范银行",
                       preparer="李明", reviewer="王芳", signer="周强", prepared_on=dt.date(2025, 10, 5), draft=True)
    pdf = printed(path)
    width, height = pdf.size
    assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
    assert pdf.pages == 2  # one page wide: 60 rows over two pages down, not four
    first = pdf.texts[0]
    assert "草稿：未经复核、签发，不得报送" in first
    assert first.index("征信信息安全情况统计表") < first.index("2025年9月") < first.index("填表单位：渝信示范银行")
    header = ["地区", "机构名称", "异常查询(笔)", "违规查询(笔)", "非法提供(笔)", "违规使用(笔)", "信用报告泄漏(笔)"]
    for page in pdf.texts:
        assert "征信信息安全情况统计表" in page and "风险事件类型" in page and "备注" in page
        assert all(title in page for title in header), page[:600]
    assert "机构代码未在机构配置中" in first and "渝信示范银行第0支行" in first
    assert "渝信示范银行第59支行" in pdf.texts[-1] and "复核人：王芳" in pdf.texts[-1] and "填表人：李明" in pdf.texts[-1]
    corner, unit_line = pdf.word("征信信息安全"), pdf.word("填表单位")
    assert corner.top >= unit_line.bottom, (corner, unit_line)
    assert pdf.word("机构名称").top >= pdf.word("机构").bottom  # 机构 (the corner) above 机构名称, not over it
    assert pdf.png.is_file()


def test_a_long_remark_prints_whole_not_cut_to_one_line(tmp_path: Path, printed) -> None:  # type: ignore[no-untyped-def]
    """Review of issue 14 (6): a 备注 of several lines printed as one line, only its middle shown.
    The row is as tall as its wrapped text: its first and last words are on the page."""
    remark = ("违规查询 747 笔：未取得授权 508，超出授权范围 239；异常查询 769 笔：非工作时间 506，"
              "30日内重复查询同一信息主体 136，单日查询量超限 127（明细见 flagged-queries-2025-09.csv）")
    rows = [UnitRow("重庆市", "YX0001", "渝信示范银行总行")]
    rows[0].remark = remark
    path = write_table(tmp_path / "t.xlsx", SEP, rows, unit_name="渝信示范银行", preparer="李明", prepared_on=dt.date(2025, 10, 5))
    text = "".join(printed(path).texts[0].split())
    assert "违规查询747笔：未取得授权508" in text and "单日查询量超限127" in text, text


def test_xlsx_names_are_text_never_formulas_and_the_file_is_reproducible(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    hostile = '=HYPERLINK("http://evil.example","x")'
    rows = [UnitRow("+1", "YX0001", hostile), UnitRow("@SUM(A1)", "ZZ9", "=cmd|' /C calc'!A0", known=False)]
    kwargs = dict(unit_name="-1+2", preparer="李明", prepared_on=dt.date(2025, 10, 5), draft=True)
    first = write_table(tmp_path / "a" / "t.xlsx", SEP, rows, **kwargs)  # type: ignore[arg-type]
    second = write_table(tmp_path / "b" / "t.xlsx", SEP, rows, **kwargs)  # type: ignore[arg-type]
    assert first.read_bytes() == second.read_bytes()  # a rerun does not change the hash signed off
    back = read_table(first)
    assert [(r["region"], r["institution_name"]) for r in back["rows"]] == [("+1", hostile), ("@SUM(A1)", "=cmd|' /C calc'!A0")]
    assert back["unit"] == "-1+2" and back["draft"]
    sheet = load_workbook(first).worksheets[0]
    assert {sheet.cell(row=r, column=c).data_type for r in (6, 7) for c in (1, 2)} == {"s"}
    assert {sheet.cell(row=r, column=c).data_type for r in (6, 7) for c in range(3, 8)} == {"n"}
    with zipfile.ZipFile(first) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")
    undated = write_table(tmp_path / "c" / "t.xlsx", SEP, rows, unit_name="x")
    assert undated.read_bytes() == write_table(tmp_path / "d" / "t.xlsx", SEP, rows, unit_name="x").read_bytes()


def test_cli_run_writes_xlsx_matching_summary_json(tmp_path: Path, home: Path) -> None:
    runner = CliRunner()
    log = tmp_path / "log.parquet"
    r = runner.invoke(cli(), ["demo", "query-log", "--rows", "5000", "--seed", "3", "--period", "2025-09", "--out", str(log)])
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    r = runner.invoke(cli(), ["credit-stats", "run", "--logs", str(log), "--period", "2025-09",
                              "--profile", str(REPO / "profiles" / "demo.yaml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["period"] == "2025-09" and summary["due"] == "2025-10-09"  # a local institution: the 6th, rolled
    assert [row["institution"] for row in summary["rows"]] == ["YX0001", "YX0101", "YX0201"]
    assert set(summary["rows"][0]) == {"region", "institution", "institution_name", "abnormal_query",
                                       "unauthorized_query", "illegal_provision", "improper_use", "report_leak", "remark"}
    assert "完成" in r.stderr and "5/5" in r.stderr  # the progress bar over the run's steps
    files = [t["file"] for t in summary["tables"]]
    assert files == ["credit-stats-2025-09-YX0001.xlsx", "credit-stats-2025-09-YX0101.xlsx", "credit-stats-2025-09-YX0201.xlsx"]
    back_rows = []
    for name in files:
        back = read_table(out / name)
        assert back["draft"] and back["填表人"] == "何敏"  # not reviewed or signed: a draft, by settings.credit_preparer
        back_rows += back["rows"]
    assert back_rows == [{k: v for k, v in row.items() if k != "institution"} for row in summary["rows"]]
    total_unauth = sum(row["unauthorized_query"] for row in summary["rows"])
    assert total_unauth == 100 + 25 + 25  # planted: 2 % + 0.5 % + 0.5 % of 5,000
    flagged = (out / "flagged-queries-2025-09.csv").read_text(encoding="utf-8-sig").splitlines()
    assert flagged[0].startswith("行号,查询编号") and len(flagged) - 1 == sum(
        row["unauthorized_query"] + row["abnormal_query"] for row in summary["rows"])


def test_cli_run_is_recorded_like_a_flow_run(tmp_path: Path, home: Path, row, write_csv) -> None:  # type: ignore[no-untyped-def]
    """Issue 13 (10): the README says every report file is recorded; a CLI run recorded nothing.
    Now each file is in the store and the ledger with its SHA-256, and each table is a draft
    revision waiting for review, as after the flow."""
    from regflows.credit.signoff import signoff_rows
    from regflows.kit.evidence import sha256_file
    from regflows.store import db
    from regflows.store.models import AuditEntry, Report
    from sqlalchemy import select

    log = write_csv(tmp_path / "log.csv", [row("q1", "2025-09-10 22:00:00")])
    out = tmp_path / "out"
    r = CliRunner().invoke(cli(), ["credit-stats", "run", "--logs", str(log), "--period", "2025-09",
                                   "--profile", str(REPO / "profiles" / "demo.yaml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    with db.session() as s:
        recorded = {Path(f.path).name: f.sha256 for f in s.execute(select(Report)).scalars()}
        actions = [e.action for e in s.execute(select(AuditEntry)).scalars()]
    for name in ("credit-stats-2025-09-YX0001.xlsx", "credit-stats-2025-09-YX0101.xlsx", "summary.json",
                 "flagged-queries-2025-09.csv"):
        assert recorded[name] == sha256_file(out / name)[0]
    assert actions.count("credit_stats.prepared") == 3
    states = {(r["月份"], r["报送单位"]): (r["版本"], r["填表人"], r["状态"]) for r in signoff_rows()}
    assert states[("2025-09", "总行")][:2] == ("1", "何敏") and len(states) == 3


def test_cli_refuses_a_month_not_yet_over_and_an_out_folder_under_a_file(tmp_path: Path, home: Path, row, write_csv) -> None:  # type: ignore[no-untyped-def]
    """Review of issue 13: a month that has not ended has no table to file (三（二）: 上月情况), and an
    --out below a file failed with a traceback after the whole run."""
    log = write_csv(tmp_path / "log.csv", [row("q1", "2025-09-10 22:00:00")])
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    base = ["credit-stats", "run", "--logs", str(log), "--profile", str(REPO / "profiles" / "demo.yaml")]
    r = CliRunner().invoke(cli(), [*base, "--period", "2999-01", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "尚未结束" in r.output
    r = CliRunner().invoke(cli(), [*base, "--period", "2025-09", "--out", str(tmp_path / "afile" / "sub")])
    assert r.exit_code == 2 and "无法作为输出目录" in r.output and "Traceback" not in r.output


def test_cli_out_pointing_at_a_file_is_refused_before_the_run(tmp_path: Path, home: Path, row, write_csv) -> None:  # type: ignore[no-untyped-def]
    """Issue 13 (10): --out naming a file failed only after the whole run."""
    log = write_csv(tmp_path / "log.csv", [row("q1", "2025-09-10 22:00:00")])
    target = tmp_path / "a-file.txt"
    target.write_text("x", encoding="utf-8")
    r = CliRunner().invoke(cli(), ["credit-stats", "run", "--logs", str(log), "--period", "2025-09",
                                   "--profile", str(REPO / "profiles" / "demo.yaml"), "--out", str(target)])
    assert r.exit_code == 2 and "是一个文件" in r.output and "统计完成" not in r.output
    assert target.read_text(encoding="utf-8") == "x"


def test_cli_header_only_log_is_a_zero_month(tmp_path: Path, home: Path, write_csv) -> None:
    log = write_csv(tmp_path / "log.csv", [])
    out = tmp_path / "out"
    r = CliRunner().invoke(cli(), ["credit-stats", "run", "--logs", str(log), "--period", "2025-09",
                                   "--profile", str(REPO / "profiles" / "demo.yaml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["rows"]) == 3
    assert all(row[c] == 0 for row in summary["rows"] for c in ("abnormal_query", "unauthorized_query", "report_leak"))
    assert all(row["abnormal_query"] == 0 and row["remark"] == ""
               for row in read_table(out / "credit-stats-2025-09-YX0001.xlsx")["rows"])


def test_cli_empty_file_is_an_error_and_publishes_nothing(tmp_path: Path, home: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_bytes(b"")
    out = tmp_path / "out"
    r = CliRunner().invoke(cli(), ["credit-stats", "run", "--logs", str(log), "--period", "2025-09",
                                   "--profile", str(REPO / "profiles" / "demo.yaml"), "--out", str(out)])
    assert r.exit_code == 2
    assert "文件为空" in r.output
    assert not out.exists()


def test_a_due_day_in_a_year_without_calendar_data_publishes_and_raises(tmp_path: Path, home: Path, row, write_csv,  # type: ignore[no-untyped-def]
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13 (10): December 2026's tables are due in January 2027, a year the calendar does not
    hold yet. The tables are written (their counts do not depend on the date), the obligations are
    recorded as calendar_missing (the reminder loop raises them), the CLI exits with the calendar
    code; once the year is loaded the next owe_month gives them their day again."""
    from sqlalchemy import select

    from regflows.credit import owed
    from regflows.credit.sheets import DueDay
    from regflows.store import db
    from regflows.store.models import Obligation

    from calendars import zone

    log = write_csv(tmp_path / "log.csv", [row("q1", "2026-12-10 22:00:00", authorized_at="2026-12-01")])
    out = tmp_path / "out"
    monkeypatch.setattr(zone, "now_local", lambda: dt.datetime(2027, 1, 4, 9, 0, tzinfo=zone.SHANGHAI))  # December is over
    r = CliRunner().invoke(cli(), ["credit-stats", "run", "--logs", str(log), "--period", "2026-12",
                                   "--profile", str(REPO / "profiles" / "demo.yaml"), "--out", str(out)])
    assert r.exit_code == 3, r.output
    assert "2027" in r.stderr and "Traceback" not in r.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert all(t["calendar_missing"] for t in summary["tables"]) and (out / summary["tables"][0]["file"]).exists()
    with db.session() as s:
        rows = list(s.execute(select(Obligation).where(Obligation.procedure == "credit-stats")).scalars())
        assert rows and {o.state for o in rows} == {"calendar_missing"}
    # the 2027 notice imported: the months are dated again
    monkeypatch.setattr(owed, "due_of", lambda period, day, roll=True: DueDay(dt.date(2027, 1, 6), "2027 年 1 月 6 日前"))
    owed.owe_month(load_profile(REPO / "profiles" / "demo.yaml"), Period(2026, 12))
    with db.session() as s:
        rows = list(s.execute(select(Obligation).where(Obligation.procedure == "credit-stats")).scalars())
        assert {o.state for o in rows} == {"pending"}
