"""The kit's CSV writer: round trip, BOM, and text that a spreadsheet never runs as a formula."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from regflows.credit.pipeline import QualityFailure, run
from regflows.credit.models import Period
from regflows.kit.documents import FORMULA_STARTS, neutralise, write_csv
from regflows.profile import load_profile

REPO = Path(__file__).resolve().parents[3]
HOSTILE = ['=HYPERLINK("http://evil.example","x")', "=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_reads_back_as_written_with_a_bom_and_plain_header(tmp_path: Path) -> None:
    frame = pd.DataFrame({"行号": [2, 3], "查询编号": pd.Series(['Q"1"', "Q,2"], dtype="str"),
                          "说明": pd.Series(["非工作日或工作时间以外查询（PBOC-102 二（四））", "两行\n说明"], dtype="str"),
                          "空": pd.Series([None, "x"], dtype="str")})
    path = write_csv(frame, tmp_path / "f.csv")
    raw = path.read_bytes()
    assert raw.startswith("\ufeff行号,查询编号,说明,空\n".encode("utf-8"))
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back.to_dict(orient="list") == {"行号": ["2", "3"], "查询编号": ['Q"1"', "Q,2"],
                                           "说明": ["非工作日或工作时间以外查询（PBOC-102 二（四））", "两行\n说明"], "空": ["", "x"]}


def _fields(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_text_that_a_spreadsheet_would_run_is_written_as_text(tmp_path: Path) -> None:
    """Issue 13 (1), OWASP CSV injection: a leading =, +, -, @, tab or CR gets a quote in front, in
    pyarrow string columns, object columns and header names; numbers (a negative count) stay numbers."""
    frame = pd.DataFrame({"arrow": pd.Series(HOSTILE, dtype="str"), "object": pd.Series(HOSTILE, dtype=object),
                          "n": [-1, 2, 3, 4, 5, 6, 7], "=head": ["ok"] * 7})
    rows = _fields(write_csv(frame, tmp_path / "f.csv"))
    assert rows[0] == ["arrow", "object", "n", "'=head"]
    for (arrow, obj, _n, _), value in zip(rows[1:], HOSTILE, strict=True):
        assert arrow == obj == "'" + value
    assert [r[2] for r in rows[1:]] == ["-1", "2", "3", "4", "5", "6", "7"]
    assert all(not field.startswith(FORMULA_STARTS) for row in rows for field in row[:2] + row[3:])
    assert neutralise("普通文本") == "普通文本"


def test_credit_flagged_and_failing_rows_files_carry_log_text_as_text(
        tmp_path: Path, row: Callable[..., dict], write_csv: Callable[..., Path]) -> None:  # noqa: F811
    """Issue 13 (1): a hostile user id in the query log reaches the flagged-queries CSV and the
    failing-rows CSV as text."""
    profile = load_profile(REPO / "profiles" / "demo.yaml")
    evil = HOSTILE[0]
    log = write_csv(tmp_path / "log.csv", [row("q1", "2025-09-10 22:00:00", user_id=evil)])
    outcome = run(log, Period(2025, 9), profile, tmp_path / "out", events={})
    flagged = _fields(outcome.files["flagged"])
    assert any("'" + evil in r for r in flagged[1:]) and not any(evil in r for r in flagged[1:])

    bad = write_csv(tmp_path / "bad.csv", [row("=cmd|' /C calc'!A0", "2025-09-10 10:00:00"),
                                           row("=cmd|' /C calc'!A0", "2025-09-10 11:00:00")])
    try:
        run(bad, Period(2025, 9), profile, tmp_path / "out2", events={})
    except QualityFailure as failure:
        for path in failure.files:
            fields = [f for r in _fields(path)[1:] for f in r]
            assert not any(f.startswith(FORMULA_STARTS) for f in fields), path.name
            assert any(f == "'=cmd|' /C calc'!A0" for f in fields) or "quality-failures" in path.name
    else:
        raise AssertionError("a duplicated query id must fail the quality check")
