"""Data for the self-inspection runs: six months of demo query logs (the credit statistics'
generator, ids made unique per month), the demo users file and a small vulnerability register."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

MONTHS = ("2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09")
VULNS = """id,severity,found,due,fixed
V1,高危,2025-06-01,2025-07-01,
V2,low,2025-07-02,2025-08-01,2025-07-20
V3,critical,2025-08-01,2025-08-05,2025-08-20
V4,medium,2025-09-01,2025-12-01,
V5,medium,2025-10-02,2025-12-01,
"""


@dataclass(frozen=True)
class QuarterData:
    logs: list[Path]
    users: Path
    vulns: Path
    folder: Path


def _write_quarter(folder: Path, rows: int = 400) -> QuarterData:
    import regflows.credit  # noqa: F401  (registers the query-log source, as a composition root does)
    from regflows.credit.demo import generate
    from regflows.credit.models import Period
    from regflows.inspection.demo import users_csv
    from regflows.inspection.models import Quarter

    folder.mkdir(parents=True, exist_ok=True)
    logs, users = [], set()
    for i, month in enumerate(MONTHS):
        frame = generate(rows, 100 + i, Period.parse(month)).frame
        frame["query_id"] = f"M{month}-" + frame["query_id"].astype(str)
        path = folder / f"query-log-{month}.csv"
        frame.to_csv(path, index=False)
        logs.append(path)
        if month >= "2025-07":
            users |= set(frame["user_id"].astype(str))
    users_path = folder / "users.csv"
    users_path.write_text(users_csv(sorted(users), Quarter.parse("2025Q3")), encoding="utf-8")
    vulns = folder / "vulns.csv"
    vulns.write_text(VULNS, encoding="utf-8")
    return QuarterData(logs, users_path, vulns, folder)


@pytest.fixture(scope="session")
def quarter_data(tmp_path_factory: pytest.TempPathFactory) -> QuarterData:
    """2025Q3 with the three months before it (history for the six-month check)."""
    return _write_quarter(tmp_path_factory.mktemp("inspection-data"))


@pytest.fixture
def copy_logs(tmp_path: Path, quarter_data: QuarterData) -> Callable[[Callable[[pd.DataFrame], pd.DataFrame]], list[Path]]:
    """The logs with the last month's frame changed by a function (a changed population)."""
    def change(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> list[Path]:
        out = [*quarter_data.logs[:-1]]
        frame = pd.read_csv(quarter_data.logs[-1], dtype=str, keep_default_na=False)
        path = tmp_path / quarter_data.logs[-1].name
        edit(frame).to_csv(path, index=False)
        return [*out, path]
    return change
