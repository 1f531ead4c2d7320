"""Builders shared by the credit statistics tests (no tests here): a log row with sane defaults, files of rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

COLUMNS = ["query_id", "queried_at", "user_id", "institution", "region", "subject_id", "subject_type",
           "reason_code", "authorization_id", "authorized_at", "authorization_expires"]


def row(query_id: str, queried_at: str, **over: Any) -> dict[str, Any]:
    """A clean query: authorized the day before, a working-day time, a fresh subject."""
    base = {"query_id": query_id, "queried_at": queried_at, "user_id": "u1", "institution": "YX0001",
            "region": "重庆市", "subject_id": f"h:{query_id}", "subject_type": "person", "reason_code": "02",
            "authorization_id": f"A-{query_id}", "authorized_at": "2025-08-01", "authorization_expires": ""}
    base.update(over)
    return base


def write_csv(path: Path, rows: list[dict[str, Any]], encoding: str = "utf-8", columns: list[str] | None = None) -> Path:
    cols = columns or COLUMNS
    with path.open("w", newline="", encoding=encoding) as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path
