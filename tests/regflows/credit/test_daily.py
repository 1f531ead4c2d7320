"""The daily check (日核查, PBOC-102 二（四）) and the monthly table agree (issue 12, point 14)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from regflows.credit.daily import Day, check_day, days_to_check, history_days, log_path, sum_counts
from regflows.credit.demo import generate
from regflows.credit.models import Period
from regflows.credit.rules import apply_rules
from regflows.credit.settings import thresholds

OCT = Period(2025, 10)  # National Day holidays 10-01..08, a make-up Saturday 10-11


def _by_day(frame: pd.DataFrame) -> dict[dt.date, pd.DataFrame]:
    days = frame["queried_at"].dt.date
    return {d: part.reset_index(drop=True) for d, part in frame.groupby(days, sort=True)}


def test_the_sum_of_the_days_is_the_month(tmp_path: Path) -> None:
    """PBOC-102 二（四） (日核查) and 三（二） (the monthly table): the daily checks of every day of the
    month, each with the earlier days' logs as the 30-day rule's history, find exactly the
    queries the monthly run counts, per institution and column, on the demo-style log (every rule
    planted, history rows before the month)."""
    demo = generate(6000, seed=3, period=OCT)
    log = demo.frame.copy()
    log["queried_at"] = log["queried_at"].dt.tz_localize("Asia/Shanghai")
    log["queried_at"] = log["queried_at"].astype("datetime64[ms, Asia/Shanghai]")
    th = thresholds()
    month = apply_rules(log, OCT, th)
    assert sum(c.get("abnormal_query", 0) for c in month.counts.values()) > 100  # every kind of lead is there
    logs = _by_day(log)
    daily = []
    day = OCT.first_day
    while day < OCT.next_first_day:
        history = {d: logs.get(d) for d in history_days(day, th)}
        daily.append(check_day(day, logs.get(day, log.iloc[0:0]), history, th))
        day += dt.timedelta(days=1)
    assert sum_counts(daily) == month.counts
    flagged_days = pd.concat([d.rules.flagged for d in daily], ignore_index=True)
    assert sorted(zip(flagged_days["query_id"], flagged_days["rules"])) == sorted(zip(month.flagged["query_id"], month.flagged["rules"]))


def test_days_to_check_are_every_day_since_the_last_check_weekends_included() -> None:
    """二（四）: every day is checked once, holidays too; a day left unchecked (its log was missing)
    is tried again; today is never checked (its log is not complete)."""
    monday = dt.date(2025, 10, 13)
    assert days_to_check([], monday) == [dt.date(2025, 10, 12)]
    checked = [dt.date(2025, 10, 8), dt.date(2025, 10, 9), dt.date(2025, 10, 11)]  # 10-10 missing
    assert days_to_check(checked, monday) == [dt.date(2025, 10, 10), dt.date(2025, 10, 12)]
    assert days_to_check([], monday, first=dt.date(2025, 10, 11)) == [dt.date(2025, 10, 11), dt.date(2025, 10, 12)]


def test_the_log_path_follows_the_setting_pattern(tmp_path: Path) -> None:
    day = dt.date(2025, 10, 3)
    assert log_path("credit/daily/query-log-{date}.csv", day, tmp_path) == tmp_path / "credit/daily/query-log-2025-10-03.csv"
    assert log_path("/data/q{date:%Y%m%d}.parquet", day, tmp_path) == Path("/data/q20251003.parquet")
    assert Day(day).end.isoformat() == "2025-10-04T00:00:00+08:00"
