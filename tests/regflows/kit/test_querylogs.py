"""The query-log interface and its registry (regflows/kit/querylogs.py): one source, looked up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from regflows.kit import querylogs

REPO = Path(__file__).resolve().parents[3]


def test_nothing_registered_is_a_chinese_error_naming_what_to_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(querylogs, "_SOURCE", [])
    with pytest.raises(querylogs.NoQueryLogSource, match="没有登记查询日志.*regflows.credit"):
        querylogs.query_log_source()


def test_registering_replaces_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(querylogs, "_SOURCE", [])
    first = querylogs.QueryLogSource("a", "规则甲", read=lambda paths, settings: None, flag=lambda *a, **k: None)  # type: ignore[arg-type,return-value]
    second = querylogs.QueryLogSource("b", "规则乙", read=first.read, flag=first.flag)
    querylogs.register_query_log_source(first)
    assert querylogs.query_log_source() is first
    querylogs.register_query_log_source(second)
    assert querylogs.query_log_source() is second


def test_the_inspection_alone_has_no_source_and_the_credit_package_registers_one() -> None:
    """In a fresh process: the inspection never imports the statistics; importing regflows.credit registers."""
    code = ("import regflows.inspection.pipeline\n"
            "from regflows.kit.querylogs import NoQueryLogSource, query_log_source\n"
            "try:\n    query_log_source()\nexcept NoQueryLogSource:\n    print('none')\n"
            "import regflows.credit\nprint(query_log_source().owner)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout.split()
    assert out == ["none", "credit-stats"]
