"""``regflows self-inspection run`` (issue 15, "CLI contract"): exit codes, Chinese errors, the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from regflows.cli import app
from regflows.exit_codes import ExitCode
from regflows.inspection.checks import CHECK_IDS
from regflows.inspection.sample import MANIFEST_NAME


def args(data: Any, out: Path, *extra: str) -> list[str]:
    logs = [a for p in data.logs for a in ("--logs", str(p))]
    return ["self-inspection", "run", "--quarter", "2025Q3", *logs, "--users", str(data.users), "--out", str(out), *extra]


def test_run_writes_the_contracts_files_and_prints_the_summary(home: Path, tmp_path: Path, quarter_data: Any) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, args(quarter_data, out, "--vulns", str(quarter_data.vulns), "--seed", "5"))
    assert result.exit_code == ExitCode.DONE, result.output
    printed = json.loads(result.stdout)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {k: printed[k] for k in summary} == summary and summary["seed"] == 5
    assert set(summary["checks"]) == set(CHECK_IDS) and summary["report_due"] == "2025-10-28"
    assert (out / MANIFEST_NAME).exists() and (out / "worklist-2025Q3.xlsx").exists()
    assert (out / "findings-2025Q3.xlsx").exists() and (out / "self-inspection-report-2025Q3.docx").exists()
    # its findings are on the rectification register, as the flow puts them (register.py)
    from regflows.inspection.models import Quarter
    from regflows.inspection.rectification import list_findings

    register = list_findings(Quarter(2025, 3))
    assert sorted(printed["rectification"]["opened"]) == sorted(f.id for f in register)
    assert len(register) == summary["findings"] and {f.finding.source for f in register} == {"check"}
    assert printed["rectification"]["problems"] == [] and f"已登记整改问题 {len(register)} 个" in result.stderr
    # the worklist it wrote imports back (nothing filled in: nothing recorded, nothing refused)
    imported = CliRunner().invoke(app, ["self-inspection", "import", str(out / "worklist-2025Q3.xlsx")])
    assert imported.exit_code == ExitCode.DONE, imported.output


def test_without_vulns_the_run_warns_and_still_publishes(home: Path, tmp_path: Path, quarter_data: Any) -> None:
    result = CliRunner().invoke(app, args(quarter_data, tmp_path / "out"))
    assert result.exit_code == ExitCode.DONE, result.output
    assert "警告：未提供漏洞台账" in result.stderr


def test_a_bad_quarter_or_vulns_row_exits_2_naming_it_and_writes_nothing(home: Path, tmp_path: Path, quarter_data: Any) -> None:
    out = tmp_path / "out"
    bad = CliRunner().invoke(app, [*args(quarter_data, out)[:2], "--quarter", "2025Q5", *args(quarter_data, out)[4:]])
    assert bad.exit_code == ExitCode.USAGE and "季度应写作 YYYYQn" in bad.stderr
    vulns = tmp_path / "vulns.csv"
    vulns.write_text("id,severity,found,due,fixed\nV1,high,2025-07-01,,\n", encoding="utf-8")
    bad = CliRunner().invoke(app, args(quarter_data, out, "--vulns", str(vulns)))
    assert bad.exit_code == ExitCode.USAGE and "第 2 行「due」：不能为空" in bad.stderr
    assert "Traceback" not in bad.output
    assert not out.exists()


def test_an_output_path_that_is_a_file_is_refused_first(home: Path, tmp_path: Path, quarter_data: Any) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, args(quarter_data, target))
    assert result.exit_code == ExitCode.USAGE and "不是目录" in result.stderr
