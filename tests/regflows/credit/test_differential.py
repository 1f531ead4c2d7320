"""The differential check (issue 18): regflows' checks, counts and flagged rows against the
independent DuckDB implementation in bench/credit_duckdb.py, on 100,000 demo rows with every rule
exercised and hand-made edge cases, and on a file of failing rows."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from regflows.credit.demo import DemoLog, generate, write
from regflows.credit.models import RULES, Period

SEP = Period(2025, 9)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory, edge_cases: pd.DataFrame) -> tuple[Path, Path]:
    """100,000 demo queries of September 2025 (with history), reason codes and user statuses
    varied, and the edge cases appended; the users file."""
    demo = generate(100_000, 5, SEP)
    frame = demo.frame
    rng = np.random.default_rng(5)
    picks = rng.choice(len(frame), 600, replace=False)
    frame.loc[picks[:300], "reason_code"] = "09"
    frame.loc[picks[300:], "reason_code"] = "16"  # abnormal for the enterprise rows among them only
    user_ids = sorted(frame["user_id"].unique())
    users = pd.DataFrame({"user_id": user_ids, "status": "active", "formal_employee": "true", "status_since": ""})
    users.loc[0, ["status", "status_since"]] = ["locked", "2025-09-15"]
    users.loc[1, "status"] = "Suspended"
    users.loc[2, "formal_employee"] = "否"
    extra = pd.DataFrame({"user_id": ["E-clean", "E-v250", "E-v251", "E-locked", "E-suspended", "E-temp"],
                          "status": ["active", "active", "active", "locked", "suspended", "active"],
                          "formal_employee": ["是", "true", "yes", "true", "true", "false"],
                          "status_since": ["", "", "", "2025-09-20", "", ""]})
    edges = edge_cases.copy()
    edges["query_id"] = "X" + edges["query_id"]
    log = pd.concat([frame, edges.astype({c: frame[c].dtype for c in frame.columns if c in edges.columns})],
                    ignore_index=True)
    folder = tmp_path_factory.mktemp("differential")
    log_path = write(DemoLog(log), folder / "log.parquet")
    users_path = folder / "users.csv"
    pd.concat([users, extra], ignore_index=True).to_csv(users_path, index=False)
    return log_path, users_path


def test_regflows_and_the_duckdb_baseline_flag_the_same_queries(baseline: ModuleType, month: tuple[Path, Path]) -> None:
    log, users = month
    ours = baseline.run(log, SEP.label, users)
    theirs = baseline.regflows_result(log, SEP.label, users)
    assert ours.failures.empty and theirs.failures.empty
    assert baseline.differences(ours, theirs) == []
    # every rule exercised, the edge cases as the rule text reads
    assert set(theirs.flagged["rule"]) == set(RULES)
    rules = dict(zip(theirs.flagged["query_id"], theirs.flagged["rules"]))
    assert {q for q in rules if q.startswith("Xe-")} >= {"Xe-0829", "Xe-1801", "Xe-holiday", "Xe-auth-late", "Xe-exp-after",
                                                          "Xe-no-id", "Xe-no-date", "Xe-both", "Xe-v251-250", "Xe-r29-3",
                                                          "Xe-reason-e16", "Xe-reason-09", "Xe-locked-after", "Xe-suspended",
                                                          "Xe-temp"}
    for clean in ("Xe-0830", "Xe-1800", "Xe-makeup", "Xe-auth-same", "Xe-exp-day", "Xe-v250-249", "Xe-v251-249", "Xe-r30-3",
                  "Xe-rinst-3", "Xe-reason-p16", "Xe-locked-before", "Xe-unknown"):
        assert clean not in rules, clean
    assert rules["Xe-both"] == "no_authorization"


def test_the_same_rows_fail_the_checks_on_both_sides(baseline: ModuleType, tmp_path: Path) -> None:
    frame = generate(2_000, 2, SEP).frame
    frame.loc[3, "user_id"] = None
    frame.loc[5, "query_id"] = frame.loc[6, "query_id"]
    frame.loc[7, "subject_type"] = "robot"
    frame.loc[8, "subject_id"] = "11010519491231002X"
    frame.loc[9, "region"] = "长" * 201
    frame.loc[10, "queried_at"] = pd.Timestamp("2025-10-01 00:00:00")
    frame.loc[11, "reason_code"] = "  "
    log = write(DemoLog(frame), tmp_path / "bad.parquet")
    users = tmp_path / "users.csv"
    pd.DataFrame({"user_id": ["U000000", "U000000", "U000001", "U000002"], "status": ["active", "active", "gone", "locked"],
                  "formal_employee": ["true", "true", "maybe", ""], "status_since": ["", "", "2025-13-01", ""]}).to_csv(users, index=False)
    ours = baseline.run(log, SEP.label, users)
    theirs = baseline.regflows_result(log, SEP.label, users)
    assert len(theirs.failures) >= 10
    assert baseline.differences(ours, theirs) == []
