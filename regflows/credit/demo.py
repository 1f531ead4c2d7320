"""A deterministic synthetic query log with known anomaly shares, for demos and the benchmark.

Clean rows are built so that no rule fires by accident (authorized, on a working day between
09:00 and 17:00, a fresh subject, users far below 250 queries a day); planted rows each fire
at most one rule, and :class:`DemoLog.expected` is the exact count the rules must find (with the
default thresholds: 250 a day, more than 3 queries of a subject within 30 days).

Not every planted repeated-subject group fires: each has one history query 1-5 days before the
month and three in the month's first 20 working-day dates, and when the month starts with a
holiday (October's National Day week) the fourth query can fall 30 days or more after the
history one, outside the rolling window. Only the groups whose four queries lie within the
window are expected (issue 18: 84,625 of 100,000 planted at 10 M rows in such a month).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from calendars import is_working_day
from regflows.credit.models import Period

#: Planted shares of the period's rows (flagged rows / all rows, approximately).
SHARES: dict[str, float] = {
    "no_authorization": 0.02,
    "authorization_after_query": 0.005,
    "authorization_expired": 0.005,
    "off_hours": 0.02,
    "daily_volume": 0.005,  # via heavy user-days of 300 queries: 50 flagged each
    "repeat_subject": 0.01,  # via groups of 4 queries of one subject: the 4th flagged
}
#: The 30-day rule's default window (settings.credit_repeat_window_days): a group fires only
#: when its fourth query is less than this after its first.
REPEAT_WINDOW_DAYS = 30
UNITS: tuple[tuple[str, str, float], ...] = (("YX0001", "重庆市", 0.5), ("YX0101", "四川省", 0.3), ("YX0201", "贵州省", 0.2))
_DAY_MS = 86_400_000


@dataclass
class DemoLog:
    frame: pd.DataFrame
    expected: dict[str, int] = field(default_factory=dict)  # rule → planted queries the rules must flag


def _days(period: Period, working: bool) -> np.ndarray:
    d, out = period.first_day, []
    while d < period.next_first_day:
        if is_working_day(d) == working:
            out.append(np.datetime64(d, "ms").astype("int64"))
        d += dt.timedelta(days=1)
    return np.array(out, dtype=np.int64)


def generate(rows: int, seed: int, period: Period, id_prefix: str = "Q") -> DemoLog:
    """``rows`` queries of the period (plus history rows before it for the 30-day rule); query ids
    are ``<id_prefix><n>`` (a prefix per month keeps the months of a quarter apart)."""
    rng = np.random.default_rng(seed)
    work = _days(period, True)
    rest = _days(period, False)
    n = int(rows)
    kind = np.full(n, "", dtype=object)
    counts = {k: int(n * v) for k, v in SHARES.items()}
    heavy_days = counts["daily_volume"] // 50
    heavy_rows = heavy_days * 300
    groups = counts["repeat_subject"]
    group_rows = groups * 3  # in-period rows of the groups (a 4th of each group's rows is history)
    planted_simple = sum(counts[k] for k in ("no_authorization", "authorization_after_query", "authorization_expired", "off_hours"))
    if planted_simple + heavy_rows + group_rows > n:
        heavy_days = groups = 0
        heavy_rows = group_rows = 0
        counts = {k: int(n * v) for k, v in SHARES.items() if k not in ("daily_volume", "repeat_subject")}
    pos = 0
    for k in ("no_authorization", "authorization_after_query", "authorization_expired", "off_hours"):
        kind[pos:pos + counts[k]] = k
        pos += counts[k]
    heavy_start, pos = pos, pos + heavy_rows
    group_start, pos = pos, pos + group_rows

    day = work[rng.integers(0, len(work), n)]
    tod = rng.integers(9 * 3600 * 1000, 17 * 3600 * 1000, n)
    # regular users average 100 queries a working day: never near 250
    n_users = max(1, int(np.ceil(n / (100 * len(work)))))
    user = rng.integers(0, n_users, n)
    user_ids = np.array([f"U{u:06d}" for u in range(n_users + heavy_days + 1)], dtype=object)
    unit_pick = rng.choice(len(UNITS), n, p=[u[2] for u in UNITS])
    subject = np.arange(n, dtype=np.int64) + 10_000_000

    off = kind == "off_hours"
    if off.any():
        idx = np.flatnonzero(off)
        weekend = rng.random(len(idx)) < 0.5
        if len(rest):
            day[idx[weekend]] = rest[rng.integers(0, len(rest), int(weekend.sum()))]
        else:
            weekend[:] = False
        tod[idx[~weekend]] = rng.integers(19 * 3600 * 1000, 22 * 3600 * 1000, int((~weekend).sum()))

    hist: list[pd.DataFrame] = []
    if heavy_days:
        for h in range(heavy_days):
            sl = slice(heavy_start + h * 300, heavy_start + (h + 1) * 300)
            day[sl] = work[h % len(work)]
            user[sl] = n_users + h
            tod[sl] = np.sort(rng.integers(9 * 3600 * 1000, 17 * 3600 * 1000, 300))
        counts["daily_volume"] = heavy_days * 50
    if groups:
        # each group: 1 history query 1-5 days before the period, 3 in the period's first 20 days
        sl = slice(group_start, group_start + group_rows)
        gsub = np.repeat(np.arange(groups, dtype=np.int64) + 5_000_000_000, 3)
        subject[sl] = gsub
        unit_pick[sl] = np.repeat(rng.choice(len(UNITS), groups), 3)
        first20 = work[work < work[0] + 20 * _DAY_MS] if len(work) else work
        day[sl] = first20[rng.integers(0, len(first20), group_rows)]
        h_day = np.datetime64(period.first_day, "ms").astype("int64") - rng.integers(1, 6, groups) * _DAY_MS
        # the group's 4th query is its last in the month: flagged only if the history query is
        # still inside the rolling window (t - 30 days, t]
        last = (day[sl] + tod[sl]).reshape(groups, 3).max(axis=1)
        counts["repeat_subject"] = int(np.count_nonzero(last - (h_day + 12 * 3600 * 1000) < REPEAT_WINDOW_DAYS * _DAY_MS))
        hist.append(pd.DataFrame({
            "queried_at": pd.to_datetime(h_day + 12 * 3600 * 1000, unit="ms"),
            "user": rng.integers(0, n_users, groups), "unit": unit_pick[sl][::3], "subject": gsub[::3],
            "authorized_offset": 0,
        }))

    qt = day + tod
    frame = pd.DataFrame({
        "queried_at": pd.to_datetime(qt, unit="ms"), "user": user, "unit": unit_pick, "subject": subject,
        "authorized_offset": rng.integers(0, 30, n),
    })
    frame["kind"] = kind
    if hist:
        h = pd.concat(hist, ignore_index=True)
        h["kind"] = ""
        frame = pd.concat([h, frame], ignore_index=True)
    m = len(frame)
    kinds = frame["kind"].to_numpy()
    qday = frame["queried_at"].dt.normalize()
    authorized = qday - pd.to_timedelta(frame["authorized_offset"], unit="D")
    expires = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ms]")
    late = kinds == "authorization_after_query"
    authorized[late] = qday[late] + pd.Timedelta(days=2)
    exp = kinds == "authorization_expired"
    expires[exp] = qday[exp] - pd.Timedelta(days=1)
    none = kinds == "no_authorization"
    authorized[none] = pd.NaT
    codes = np.array([u[0] for u in UNITS], dtype=object)
    regions = np.array([u[1] for u in UNITS], dtype=object)
    out = pd.DataFrame({
        "query_id": pd.Series(np.char.add(id_prefix, np.arange(m).astype(str)), dtype="str"),
        "queried_at": frame["queried_at"].astype("datetime64[ms]"),
        "user_id": pd.Series(user_ids[frame["user"].to_numpy()], dtype="str"),
        "institution": pd.Series(codes[frame["unit"].to_numpy()], dtype="str"),
        "region": pd.Series(regions[frame["unit"].to_numpy()], dtype="str"),
        "subject_id": pd.Series(np.char.add("h", frame["subject"].to_numpy().astype(str)), dtype="str"),
        "subject_type": pd.Series(np.where(rng.random(m) < 0.9, "person", "enterprise"), dtype="str"),
        "reason_code": pd.Series(rng.choice(np.array(["01", "02", "03"]), m), dtype="str"),
        # numpy's stubs reject None as a where() branch; an object array of None and str is meant
        "authorization_id": pd.Series(np.where(none, None, np.char.add("A", np.arange(m).astype(str))), dtype="str"),  # type: ignore[call-overload]
        "authorized_at": authorized.astype("datetime64[ms]"),
        "authorization_expires": expires,
    })
    expected = {k: v for k, v in counts.items() if v}
    return DemoLog(out, expected)


def write(demo: DemoLog, path: Path) -> Path:
    """Parquet, CSV (UTF-8) or Excel by the file's extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        demo.frame.to_parquet(path, index=False)
    elif suffix == ".csv":
        demo.frame.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    elif suffix == ".xlsx":
        if len(demo.frame) > 1_048_575:
            raise ValueError("Excel 最多 1,048,575 行数据：请改用 .parquet 或 .csv")
        demo.frame.to_excel(path, index=False)
    else:
        raise ValueError(f"不支持的文件类型 {suffix}：请用 .parquet、.csv 或 .xlsx")
    return path


def write_daily(demo: DemoLog, period: Period, path_of: Callable[[dt.date], Path], before: dt.date) -> list[Path]:
    """The demo month's queries as one log per day (the daily check's input, PBOC-102 二（四）
    日核查), for the days before ``before`` (and before the end of ``period``) whose file does not
    exist yet. The history rows before the month get their days' files too: the daily 30-day rule
    then sees what the monthly run sees. Split from the monthly log, so the month's table and its
    days agree."""
    days = demo.frame["queried_at"].dt.date
    parts = {day: part.reset_index(drop=True) for day, part in demo.frame.groupby(days, sort=True)}
    day = period.first_day
    while day < min(period.next_first_day, before):  # a day without queries has a log too: its header only
        parts.setdefault(day, demo.frame.iloc[0:0])
        day += dt.timedelta(days=1)
    written = []
    for day, part in sorted(parts.items()):
        path = path_of(day)
        if day < min(period.next_first_day, before) and not path.exists():
            written.append(write(DemoLog(part), path))
    return written
