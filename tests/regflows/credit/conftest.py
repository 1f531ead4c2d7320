"""Fixtures of the credit statistics' tests: the DuckDB baseline (bench/credit_duckdb.py) and
the hand-made edge cases of every rule, shared by the differential and the partitions tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def baseline() -> ModuleType:
    """The independent DuckDB implementation of the checks and rules, imported from bench/."""
    spec = importlib.util.spec_from_file_location("credit_duckdb", ROOT / "bench" / "credit_duckdb.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["credit_duckdb"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def edge_cases() -> pd.DataFrame:
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
