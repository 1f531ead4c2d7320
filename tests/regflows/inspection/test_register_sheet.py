"""The rectification register as a spreadsheet (`regflows self-inspection finding export`,
regflows/inspection/register_sheet.py): one row per finding with its owner by name, due days and
states in Chinese; text typed as a formula stays text."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

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
