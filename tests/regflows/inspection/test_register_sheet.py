"""The rectification register as a spreadsheet (`regflows self-inspection finding export`,
regflows/inspection/register_sheet.py): one row per finding with its owner by name, due days and
states in Chinese; text typed as a formula stays text."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
from typer.testing import CliRunner

from calendars.zone import SHANGHAI
from regflows.cli import app
from regflows.inspection.register_sheet import COLUMNS

ADD = ["self-inspection", "finding", "add", "--quarter", "2026Q3", "--source", "patrol", "--clause", "PBOC-102 三（三）",
       "--unit", "YX0101", "--owner", "chen.jing", "--feedback-date", "2026-09-28"]


def test_the_register_exports_every_finding_with_names_due_days_and_states(home: Path, tmp_path: Path) -> None:
    from regflows.store import migrate

    migrate()
    runner = CliRunner()
    first = runner.invoke(app, [*ADD, "--title", "查询授权书留存不全"])
    hostile = runner.invoke(app, [*ADD, "--title", '=HYPERLINK("http://evil.example","x")'])
    assert first.exit_code == 0 and hostile.exit_code == 0, (first.output, hostile.output)
    done = runner.invoke(app, ["self-inspection", "finding", "close", json.loads(first.stdout)["id"], "--evidence", "已补齐",
                               "--by", "he.min", "--rechecked-by", "sun.li"])
    assert done.exit_code == 0, done.output
    out = tmp_path / "整改台账.xlsx"
    exported = runner.invoke(app, ["self-inspection", "finding", "export", "--quarter", "2026Q3", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["findings"] == 2
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert [c.value for c in sheet[2]] == COLUMNS
    rows = {r[2]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    closed = rows["查询授权书留存不全"]
    assert closed[4] == "渝信示范银行成都分行" and closed[5] == "陈静（chen.jing）" and closed[7] == "2026-10-23"
    assert closed[8] == "已完成（经复查）" and closed[10] == "已逾期"  # its report was due 2026-10-23, not filed
    formula = next(c for c in sheet["C"] if str(c.value).startswith("=HYPERLINK"))
    assert formula.data_type == "s"  # text, never a formula
    bad = runner.invoke(app, ["self-inspection", "finding", "export", "--quarter", "2026Q3", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and ".xlsx" in bad.stderr


def test_the_register_prints_landscape_one_page_wide_with_its_header_on_every_page(tmp_path: Path, printed: Any) -> None:
    """Review of issue 15, defect 3: 12 columns over 5 portrait pages, long text cut to one line."""
    from regflows.inspection.models import Quarter
    from regflows.inspection.rectification import FindingStatus, new_finding
    from regflows.inspection.register_sheet import write_register

    tail = "整改措施：重新梳理查询授权流程，逐笔补齐授权书并由合规部门复核，完成后报送整改情况。"
    findings = [FindingStatus(f"SI-2026Q3-{i:04d}", new_finding(
        quarter="2026Q3", source="patrol", title=f"第{i}项：查询授权书留存不全，部分查询无书面授权记录且未按规定归档保存",
        clause="PBOC-102 三（三）", unit="YX0101", owner="chen.jing", feedback="2026-09-28", detail=f"{tail}（{i}）末尾标记{i}"),
        {"state": "open", "due": "2026-10-23"}, {"state": "pending", "due": None, "waiting": True}) for i in range(1, 41)]
    out = write_register(tmp_path / "register.xlsx", Quarter.parse("2026Q3"), findings, institution="渝信示范银行",
                         names={"chen.jing": "陈静"}, now=dt.datetime(2026, 11, 27, 9, tzinfo=SHANGHAI))
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1 and sheet.print_title_rows
    result = printed(out)
    assert result.size[0] > result.size[1]  # landscape
    flat = ["".join(page.split()) for page in result.texts]
    assert result.pages > 1 and all("问题编号" in page and "整改情况报告期限" in page for page in flat)  # the header on every page
    whole = "".join(flat)
    assert all(f"末尾标记{i}" in whole for i in range(1, 41))  # every detail printed to its end
    assert "整改状态" in flat[0] and "情况说明" in flat[0]  # all 12 columns on one page width


def test_the_reports_register_rows_tell_check_findings_apart_by_user() -> None:
    """Review of issue 15, defect 7: section 六 showed three identical 连续未查询… rows, no user."""
    from regflows.inspection.checks import Finding
    from regflows.inspection.rectification import FindingStatus, from_check
    from regflows.inspection.register_sheet import report_rows

    statuses = [FindingStatus(f"SI-{user}", from_check(Finding("idle_not_locked", user, 3, "连续未查询的查询用户未及时锁定",
                                                               "PBOC-102 附件3 5.4", "连续 30 天未查询"),
                                                       quarter="2026Q3", unit="YX0001", owner="chen.jing", feedback="2026-10-09"),
                              {"state": "open", "due": "2026-10-30"}, {"state": "pending"}) for user in ("U1", "U2", "U3")]
    rows = report_rows(statuses, today=dt.date(2026, 10, 12))
    assert [r[0] for r in rows] == [f"连续未查询的查询用户未及时锁定（用户 {u}）" for u in ("U1", "U2", "U3")]
