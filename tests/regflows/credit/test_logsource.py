"""The statistics' query-log source as other procedures see it (regflows/credit/logsource.py): the
same reader and the same rules as the month's table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from regflows.credit import logsource
from regflows.credit.demo import generate, write
from regflows.credit.io import read_log
from regflows.credit.models import RULES, Period
from regflows.credit.rules import apply_rules
from regflows.credit.settings import thresholds
from regflows.kit.querylogs import COLUMNS, QueryLogError, query_log_source
from regflows.settings import Settings


@pytest.fixture
def quarter_logs(tmp_path: Path) -> list[Path]:
    paths = []
    for i, month in enumerate(("2025-07", "2025-08", "2025-09")):
        demo = generate(300, 7 + i, Period.parse(month))
        demo.frame["query_id"] = f"{month}-" + demo.frame["query_id"].astype(str)
        paths.append(write(demo, tmp_path / f"log-{month}.csv"))
    return paths


def test_importing_the_package_registers_this_source() -> None:
    assert query_log_source() is logsource.SOURCE and logsource.SOURCE.owner == "credit-stats"


def test_the_quarter_flags_exactly_the_union_of_its_months(quarter_logs: list[Path]) -> None:
    frame = logsource.read(quarter_logs, Settings())
    assert set(COLUMNS) <= set(frame.columns) and (frame["unit"] == frame["institution"]).all()
    flagged = logsource.flag(frame, dt.date(2025, 7, 1), dt.date(2025, 9, 30), Settings())
    monthly: dict[str, tuple[str, ...]] = {}
    for month in ("2025-07", "2025-08", "2025-09"):
        result = apply_rules(frame, Period.parse(month), thresholds(Settings()))
        for qid, hits in zip(result.flagged["query_id"], result.flagged["rules"], strict=True):
            monthly[str(qid)] = tuple(RULES[h][1] for h in str(hits).split(";"))
    assert monthly and dict(zip(flagged["query_id"], flagged["rules"], strict=True)) == monthly


def test_a_row_without_its_time_is_refused_with_file_and_line(tmp_path: Path, quarter_logs: list[Path]) -> None:
    frame = pd.read_csv(quarter_logs[0], dtype=str, keep_default_na=False)
    frame.loc[2, "queried_at"] = ""
    frame.loc[5, "user_id"] = ""
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    with pytest.raises(QueryLogError, match=r"bad\.csv：第 4、7 行"):
        logsource.read([bad], Settings())
    with pytest.raises(QueryLogError, match="文件不存在"):
        logsource.read([tmp_path / "absent.csv"], Settings())


def test_the_reader_is_the_months_reader(quarter_logs: list[Path]) -> None:
    frame = logsource.read(quarter_logs[:1], Settings())
    month = read_log(quarter_logs[0]).frame
    assert frame["queried_at"].equals(month["queried_at"]) and frame["query_id"].equals(month["query_id"])
