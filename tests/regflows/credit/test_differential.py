"""The differential check (issue 18): regflows' checks, counts and flagged rows against the
independent DuckDB implementation in bench/credit_duckdb.py, on 100,000 demo rows with every rule
exercised and hand-made edge cases, and on a file of failing rows."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from regflows.credit.demo import DemoLog, generate, write
from regflows.credit.models import RULES, Period

ROOT = Path(__file__).resolve().parents[3]
SEP = Period(2025, 9)


@pytest.fixture(scope="module")
def baseline() -> ModuleType:
    spec = importlib.util.spec_from_file_location("credit_duckdb", ROOT / "bench" / "credit_duckdb.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["credit_duckdb"] = module
    spec.loader.exec_module(module)
    return module


def _edge_cases() -> pd.DataFrame:
    """Hand-made rows at each rule's bounds (2025-09: 28 September is a make-up working Sunday)."""
    rows: list[dict[str, object]] = []

    def add(qid: str, at: str, user: str = "E-clean", subject: str | None = None, **kw: object) -> None:
        rows.append({"query_id": qid, "queried_at": pd.Timestamp(at), "user_id": user, "institution": "YX0001",
                     "region": "重庆市", "subject_id": subject or f"hE{qid}", "subject_type": "person", "reason_code": "01",
                     "authorization_id": f"AE{qid}", "authorized_at": pd.Timestamp(at).normalize(),
                     "authorization_expires": pd.NaT, **kw})

    # working hours: both bounds inside (08:30:00 and 18:00:00 are not abnormal)
    add("e-0829", "2025-09-15 08:29:59.999")
    add("e-0830", "2025-09-15 08:30:00")
    add("e-1800", "2025-09-15 18:00:00")
    add("e-1801", "2025-09-15 18:00:00.001")
    add("e-makeup", "2025-09-28 10:00:00")  # a make-up working Sunday: not abnormal
    add("e-holiday", "2025-09-27 10:00:00")  # a Saturday: abnormal
    # authorization: dated the query's day is valid, the next day is not; the expiry day is still valid
    add("e-auth-same", "2025-09-16 10:00:00", authorized_at=pd.Timestamp("2025-09-16"))
    add("e-auth-late", "2025-09-16 10:00:00", authorized_at=pd.Timestamp("2025-09-17"))
    add("e-exp-day", "2025-09-16 10:00:00", authorized_at=pd.Timestamp("2025-09-01"), authorization_expires=pd.Timestamp("2025-09-16"))
    add("e-exp-after", "2025-09-17 10:00:00", authorized_at=pd.Timestamp("2025-09-01"), authorization_expires=pd.Timestamp("2025-09-16"))
    add("e-no-id", "2025-09-16 10:00:00", authorization_id=None)
    add("e-no-date", "2025-09-16 10:00:00", authorized_at=pd.NaT)
    # both 违规 and off-hours: one 违规查询, its rules 违规 only
    add("e-both", "2025-09-16 20:00:00", authorization_id=None)
    # 250 queries of one user on a day are not abnormal, the 251st is (ties broken by file order)
    for k in range(250):
        add(f"e-v250-{k}", f"2025-09-17 10:{k // 60:02d}:{k % 60:02d}", user="E-v250")
    for k in range(251):
        add(f"e-v251-{k}", "2025-09-17 11:00:00", user="E-v251")
    # 30 days: the history query exactly 30 days before the 4th is outside (t - 30 days, t]
    for k, at in enumerate(["2025-08-18 10:00:00", "2025-09-01 10:00:00", "2025-09-02 10:00:00", "2025-09-17 10:00:00"]):
        add(f"e-r30-{k}", at, subject="hE-r30")
    for k, at in enumerate(["2025-08-18 10:00:00.001", "2025-09-01 10:00:00", "2025-09-02 10:00:00", "2025-09-17 10:00:00"]):
        add(f"e-r29-{k}", at, subject="hE-r29")
    # the same subject by another institution is another count
    for k in range(4):
        add(f"e-rinst-{k}", f"2025-09-0{k + 1} 10:00:00", subject="hE-rinst", institution="YX0101" if k % 2 else "YX0001")
    # 查询原因: 16 is agreed for a person, not for an enterprise; 09 for neither
    add("e-reason-p16", "2025-09-18 10:00:00", reason_code="16")
    add("e-reason-e16", "2025-09-18 10:00:00", reason_code="16", subject_type="enterprise")
    add("e-reason-09", "2025-09-18 10:00:00", reason_code="09")
    # users: locked from the 20th (queries before are fine), suspended, not a formal employee
    add("e-locked-before", "2025-09-19 10:00:00", user="E-locked")
    add("e-locked-after", "2025-09-22 10:00:00", user="E-locked")
    add("e-suspended", "2025-09-22 10:00:00", user="E-suspended")
    add("e-temp", "2025-09-22 10:00:00", user="E-temp")
    add("e-unknown", "2025-09-22 10:00:00", user="E-ghost")  # not in the users file: a warning, no finding
    frame = pd.DataFrame(rows)
    frame["queried_at"] = frame["queried_at"].astype("datetime64[ms]")
    for col in ("authorized_at", "authorization_expires"):
        frame[col] = frame[col].astype("datetime64[ms]")
    return frame


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
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
    edges = _edge_cases()
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
