"""The exit-code table (issue 13): one enum, the same table in the README."""

from __future__ import annotations

import re
from pathlib import Path

from regflows.exit_codes import ExitCode

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_table_is_the_issue_s() -> None:
    assert [(c.value, c.name) for c in ExitCode] == [
        (0, "DONE"), (1, "CHECK_FAILED"), (2, "USAGE"), (3, "NO_CALENDAR"), (4, "PROVISIONAL"), (5, "REFUSED"), (6, "PARTIAL"),
    ]
    assert all(c.meaning_zh for c in ExitCode)


def test_the_readme_carries_the_same_table() -> None:
    rows = re.findall(r"^\| (\d) \| `(\w+)` \| .+ \|$", README.read_text(encoding="utf-8"), re.MULTILINE)
    assert [(int(code), name) for code, name in rows] == [(c.value, c.name) for c in ExitCode]
