"""The daily check (日核查) of the credit query log: which days to check, where each day's log is,
and the rules applied to one day. Pure: no store, no notices, no Prefect.

PBOC-102 二（四）: 「应分级建立征信用户查询操作日核查机制，完善异常查询监控、处置与报告机制」, and
三（二）: 「发生征信信息安全风险事件的，应立即上报相关情况」. So every day's log is checked on its
own, weekends and holidays included (queries happen then too, and a holiday query is exactly
what the off-hours rule looks for); the monthly table (attachment 2) must then agree with the
sum of the days, which it does because the same rules (:func:`regflows.credit.rules.apply_rules`)
run on the same queries with the same history:

- the 30-day rule (二（四）) takes its history from the previous ``repeat_window_days`` days'
  logs, as the monthly run takes it from the rows before the month;
- the daily volume and working-hours rules look at one day anyway;
- 违规 is counted before 异常 and each query once, in both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from calendars.zone import SHANGHAI
from regflows.credit.models import LOG_COLUMNS, LOG_OPTIONAL_COLUMNS, Thresholds
from regflows.credit.rules import RuleResult, apply_rules


class DailyCheckIncomplete(RuntimeError):
    """Some day could not be checked (its log missing or failing its checks): the run fails, so it
    shows red, after the days that could be checked were checked and the digest was sent."""


@dataclass(frozen=True)
class Day:
    """One calendar day (Asia/Shanghai) as the span the rules and the log suite take."""

    date: dt.date

    @property
    def label(self) -> str:
        return self.date.isoformat()

    @property
    def first_day(self) -> dt.date:
        return self.date

    @property
    def next_first_day(self) -> dt.date:
        return self.date + dt.timedelta(days=1)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.date.year, self.date.month, self.date.day, tzinfo=SHANGHAI)

    @property
    def end(self) -> dt.datetime:
        d = self.next_first_day
        return dt.datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)


def days_to_check(checked: Iterable[dt.date], today: dt.date, first: dt.date | None = None) -> list[dt.date]:
    """Every day up to yesterday that was not checked yet, oldest first.

    From ``first`` (the setting ``credit_daily_check_from``) when given, else from the oldest day
    ever checked, else yesterday alone. Today is never checked: its log is not complete before
    midnight. A day whose log was missing stays unchecked, so the next run tries it again (and
    raises it again): nothing is skipped, nothing is checked twice.
    """
    done = set(checked)
    yesterday = today - dt.timedelta(days=1)
    start = first or (min(done) if done else yesterday)
    out = []
    day = start
    while day <= yesterday:
        if day not in done:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def log_path(pattern: str, day: dt.date, home: Path) -> Path:
    """The day's log file by the setting's pattern (``{date}`` is YYYY-MM-DD; ``{date:%Y%m%d}``
    formats it otherwise); a relative pattern is under ``home`` (REGFLOWS_HOME)."""
    path = Path(pattern.format(date=day))
    return path if path.is_absolute() else home / path


def history_days(day: dt.date, thresholds: Thresholds) -> list[dt.date]:
    """The days whose logs hold the 30-day rule's history for ``day``: a query at 23:59 of ``day``
    looks back to the same time ``repeat_window_days`` days earlier."""
    return [day - dt.timedelta(days=n) for n in range(thresholds.repeat_window_days, 0, -1)]


@dataclass
class DayFindings:
    """What one day's check found: its flagged queries (one row each, as in the monthly file),
    counts per institution, and warnings (history logs missing, rows of other days)."""

    day: dt.date
    rows: int
    rules: RuleResult
    warnings: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        return self.rules.counts

    def total(self, count: str) -> int:
        return sum(c.get(count, 0) for c in self.rules.counts.values())

    def of(self, count: str) -> pd.DataFrame:
        """The flagged queries of one column (``unauthorized_query`` or ``abnormal_query``)."""
        flagged = self.rules.flagged
        return flagged[flagged["count"] == count] if len(flagged) else flagged


_KEEP = [*LOG_COLUMNS, *LOG_OPTIONAL_COLUMNS]


def check_day(day: dt.date, log: pd.DataFrame, history: dict[dt.date, pd.DataFrame | None], thresholds: Thresholds,
              users: pd.DataFrame | None = None, is_working_day: Callable[[dt.date], bool] | None = None) -> DayFindings:
    """Apply the rules to ``day``'s log (already read and quality-checked), with the logs of
    :func:`history_days` as history (``None`` for a day whose log is missing: the 30-day rule is
    then incomplete, which the warnings say).

    The day's rows come first, so the flagged ``row`` is the index in the day's own log.
    Rows dated before the day are history and not counted today: a log holding them is named in
    the warnings (they belong to an earlier day's log).
    """
    warnings: list[str] = []
    missing = sorted(d for d, frame in history.items() if frame is None)
    if missing:
        shown = "、".join(d.isoformat() for d in missing[:5]) + ("等" if len(missing) > 5 else "")
        warnings.append(f"{len(missing)} 天的查询日志缺失（{shown}）：30 日内重复查询规则缺少这些天的记录，结果可能偏少")
    earlier = (log["queried_at"] < Day(day).start).fillna(False)
    if bool(earlier.any()):
        warnings.append(f"{day.isoformat()} 的日志中有 {int(earlier.sum())} 笔查询早于该日：不计入该日，应在其所属日期的日志中")
    frames = [log[[c for c in _KEEP if c in log.columns]]]
    frames += [f[[c for c in _KEEP if c in f.columns]] for _, f in sorted(history.items(), key=lambda kv: kv[0])
               if f is not None and len(f)]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    result = apply_rules(frame, Day(day), thresholds, users, is_working_day)
    return DayFindings(day=day, rows=result.period_rows, rules=result, warnings=warnings + result.warnings)


def sum_counts(days: Iterable[DayFindings]) -> dict[str, dict[str, int]]:
    """The days' counts added up per institution: what the month's table must show."""
    total: dict[str, dict[str, int]] = {}
    for findings in days:
        for inst, counts in findings.counts.items():
            for name, n in counts.items():
                total.setdefault(inst, {})[name] = total.setdefault(inst, {}).get(name, 0) + n
    return total
