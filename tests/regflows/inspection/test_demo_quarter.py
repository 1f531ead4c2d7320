"""The demo's last quarter (regflows/up.py ``_load_demo_quarter``): what `make run` writes so the
self-inspection deployment has data on a fresh machine, and that the quarter then runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from regflows.inspection.demo import PLANTED, vulns_csv
from regflows.inspection.models import Quarter
from regflows.inspection.users import read_users
from regflows.inspection.vulns import figures, parse_vulns


def test_the_demo_quarter_has_unique_ids_every_user_and_a_vulnerability_register(home: Path) -> None:
    from regflows import up
    from regflows.inspection.pipeline import previous_quarter

    up._load_demo_quarter()
    quarter = previous_quarter()
    months = [home / "credit" / f"query-log-{quarter.year:04d}-{3 * quarter.number - 2 + i:02d}.parquet" for i in range(3)]
    frames = [pd.read_parquet(p, columns=["query_id", "user_id"]) for p in months]
    ids = pd.concat([f["query_id"] for f in frames])
    assert ids.is_unique  # the months of a quarter never share an id (the run refuses repeated ids)
    users = read_users(home / "credit" / "users.csv")
    named = {u.user_id for u in users.users}
    assert set(pd.concat([f["user_id"] for f in frames])) | set(PLANTED) == named
    vulns = parse_vulns((home / "inspection" / "vulns.csv").read_text(encoding="utf-8"))
    assert len(vulns) == 6
    before = [p.stat().st_mtime_ns for p in months]
    up._load_demo_quarter()  # generated once: a second start leaves the files alone
    assert [p.stat().st_mtime_ns for p in months] == before


def test_the_demo_register_has_each_kind_of_figure() -> None:
    quarter = Quarter(2026, 3)
    result = figures(parse_vulns(vulns_csv(quarter)), quarter)
    assert result.overdue and result.fixed_late and result.mean_days_to_fix is not None, result
    assert dt.date(2026, 9, 30) == quarter.last_day
