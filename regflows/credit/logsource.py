"""The monthly statistics' query-log reader and rules, offered to other procedures through the kit.

Why: the quarterly self-inspection verifies the leads the monthly rules flag (PBOC-102 三（三）)
but may not import this procedure (tests/test_boundaries.py); it looks up the
:class:`regflows.kit.querylogs.QueryLogSource` registered here when ``regflows.credit`` is
imported. The same reader (:func:`regflows.credit.io.read_log`) and the same rules
(:func:`regflows.credit.rules.apply_rules`, thresholds from the profile's credit settings) as the
month's table, so a lead is exactly what the table counted. Heavy modules load inside the
functions: importing the package must stay light (regflows/credit/__init__.py).

The rules run once over the days asked for (a quarter) rather than month by month: each rule is
per query, per user and day, or over a 30-day window of every row read (history included), so
one pass over the quarter flags exactly the union of its three months.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas loads with the reader, not with every regflows command
    import pandas as pd

from calendars.zone import SHANGHAI
from regflows.kit.querylogs import QueryLogError, QueryLogSource, register_query_log_source

#: The columns a lead needs that must hold a value on every row (the rules' own suite checks more).
_NEEDED = ("query_id", "user_id", "queried_at", "institution")
_SHOWN = 10


@dataclass(frozen=True)
class _Days:
    """A stretch of Beijing days as the rules' :class:`regflows.credit.models.Span` sees it."""

    first: dt.date
    last: dt.date

    @property
    def label(self) -> str:
        return f"{self.first}～{self.last}"

    @property
    def first_day(self) -> dt.date:
        return self.first

    @property
    def next_first_day(self) -> dt.date:
        return self.last + dt.timedelta(days=1)

    @property
    def end(self) -> dt.datetime:
        d = self.next_first_day
        return dt.datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)


def read(paths: Sequence[Path], settings: Any) -> pd.DataFrame:
    """Every log file read as the month reads it, in one frame; ``unit`` is ``institution``. A row
    whose id, user, unit or time is missing or unreadable is refused, naming file and lines."""
    import pandas as pd

    from regflows.credit.io import read_log
    from regflows.credit.models import CreditInputError

    if not paths:
        raise QueryLogError("未提供查询日志（--logs）")
    frames = []
    for path in paths:
        try:
            table = read_log(path, getattr(settings, "credit_log_time_format", None))
        except CreditInputError as exc:
            raise QueryLogError(str(exc)) from exc
        frame = table.frame
        bad = frame["_bad_queried_at"].to_numpy(dtype=bool)
        for col in _NEEDED:
            bad = bad | frame[col].isna().to_numpy()
        if bad.any():
            lines = [table.line(i) for i in frame.index[bad][:_SHOWN]]
            more = f" 等 {int(bad.sum())} 行" if bad.sum() > _SHOWN else ""
            raise QueryLogError(f"{path}：第 {'、'.join(map(str, lines))} 行{more}的 query_id、user_id、institution "
                                "或 queried_at 缺失或无法读取，无法用于自查")
        frames.append(frame.assign(unit=frame["institution"], source=str(path)))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def flag(frame: pd.DataFrame, first_day: dt.date, last_day: dt.date, settings: Any,
         users: Path | None = None) -> pd.DataFrame:
    """The queries of ``first_day``..``last_day`` the monthly rules flag, each with its rules'
    titles (违规 first, as the table counts them)."""
    import pandas as pd

    from regflows.credit.io import read_users
    from regflows.credit.models import RULES, CreditInputError
    from regflows.credit.rules import apply_rules
    from regflows.credit.settings import thresholds

    try:
        # the self-inspection decides what a users file without formal_employee means (not
        # evaluated, raised by its run); the monthly statistics' own reader still requires it
        user_frame = read_users(users, formal_optional=True).frame if users is not None else None
    except CreditInputError as exc:
        raise QueryLogError(str(exc)) from exc
    result = apply_rules(frame, _Days(first_day, last_day), thresholds(settings), user_frame)
    flagged = result.flagged
    rules = [tuple(RULES[name][1] for name in str(hits).split(";") if name in RULES) for hits in flagged["rules"]]
    return pd.DataFrame({"query_id": flagged["query_id"].astype(str).to_numpy() if len(flagged) else [],
                         "rules": pd.Series(rules, dtype=object)})


SOURCE = register_query_log_source(QueryLogSource(
    owner="credit-stats", title="月度统计的违规查询（附件3 8.1）与异常查询（PBOC-102 二（四））规则", read=read, flag=flag))
