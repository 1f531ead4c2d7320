"""Does the calendar data cover the days ahead? (The calendar watch's pure half.)

A missing year is not a crash: flows that do not need those days keep working. It is a warning
that is raised every day until the year's notice is loaded: from the profile's
``calendar_warn_from`` day (1 November by default, when the State Council usually publishes the
next year's arrangement), and as soon as any day within the horizon is uncovered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from calendars.official import WorkingDayCalendar
from calendars.zone import SHANGHAI


@dataclass(frozen=True)
class OpenDeadline:
    """An open obligation's day-counted deadline as stored: what is owed, and its last day."""

    what: str  # for people: procedure, subject, title
    last_day: dt.date  # the deadline is 24:00 of this day


def day_counted_last_day(due_at: dt.datetime | None, stated_last_day: object = None) -> dt.date | None:
    """The last day of a stored deadline that is counted in days, else None.

    Day-counted deadlines are stored as 00:00 (Asia/Shanghai) after their last day; a procedure
    may also store the day itself (``stated_last_day``, an ISO date), which wins. An "N hours"
    deadline never depends on the calendar and gives None (a row that says its last day is None).
    """
    if isinstance(stated_last_day, (dt.date, str)):
        return stated_last_day if isinstance(stated_last_day, dt.date) else dt.date.fromisoformat(stated_last_day[:10])
    if due_at is None:
        return None
    local = due_at.astimezone(SHANGHAI)
    if (local.hour, local.minute, local.second, local.microsecond) != (0, 0, 0, 0):
        return None
    return local.date() - dt.timedelta(days=1)


@dataclass(frozen=True)
class CoverageReport:
    today: dt.date
    horizon_end: dt.date
    covered_years: list[int]
    missing_in_horizon: list[int] = field(default_factory=list)
    first_uncovered_day: dt.date | None = None
    next_year_missing: bool = False
    provisional_from: dt.date | None = None
    #: Open deadlines whose last day is provisional: they may move when next year's notice is
    #: imported (and are recomputed then), so the watch names them until then.
    provisional_deadlines: list[OpenDeadline] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.missing_in_horizon:
            years = "、".join(str(y) for y in self.missing_in_horizon)
            out.append(
                f"未来 {(self.horizon_end - self.today).days} 天内自 {self.first_uncovered_day} 起没有日历数据"
                f"（缺 {years} 年国务院节假日安排），涉及这些日期的期限与排程无法计算。"
            )
        if self.next_year_missing and not self.missing_in_horizon:
            out.append(f"{self.today.year + 1} 年节假日安排尚未载入，请在通知发布后及时导入。")
        if self.provisional_from:
            out.append(f"{self.provisional_from} 起至年末的工作日判断为暂定，待下一年度通知确认。")
        if self.provisional_deadlines:
            years = "、".join(str(y + 1) for y in sorted({d.last_day.year for d in self.provisional_deadlines}))
            named = "；".join(f"{d.what}（{d.last_day} 24:00）" for d in self.provisional_deadlines)
            out.append(
                f"以下 {len(self.provisional_deadlines)} 个期限为暂定（末日在年末，{years} 年节假日安排尚未载入，"
                f"载入后按新安排重算，可能提前或推后）：{named}"
            )
        return out

    @property
    def ok(self) -> bool:
        return not self.warnings


def check_coverage(
    calendar: WorkingDayCalendar,
    today: dt.date,
    horizon_days: int,
    warn_from: str,
    deadlines: Iterable[OpenDeadline] = (),
) -> CoverageReport:
    """``horizon_days`` and ``warn_from`` come from the profile (``settings.calendar_horizon_days``,
    ``settings.calendar_warn_from``): defined there once, so no default here. ``deadlines`` are the
    open day-counted deadlines (from the store): those whose last day is provisional are named."""
    horizon_end = today + dt.timedelta(days=horizon_days)
    missing = [y for y in range(today.year, horizon_end.year + 1) if not calendar.covers(y)]
    first = None
    if missing:
        first = max(today, dt.date(missing[0], 1, 1))
    month, day = (int(x) for x in warn_from.split("-"))
    next_year_missing = today >= dt.date(today.year, month, day) and not calendar.covers(today.year + 1)
    provisional_from = None
    if calendar.covers(today.year) and calendar.is_provisional(dt.date(today.year, 12, 31)):
        candidate = next(
            (d for d in (dt.date(today.year, 12, 1) + dt.timedelta(days=i) for i in range(31)) if calendar.is_provisional(d)),
            None,
        )
        if candidate and candidate <= horizon_end:
            provisional_from = candidate
    provisional = sorted(
        (d for d in deadlines if calendar.covers(d.last_day.year) and calendar.is_provisional(d.last_day)),
        key=lambda d: (d.last_day, d.what),
    )
    return CoverageReport(
        today, horizon_end, calendar.years, missing, first, next_year_missing, provisional_from, provisional
    )
