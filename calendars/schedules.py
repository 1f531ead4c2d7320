"""Working-day-aware schedules for Prefect deployments.

Prefect's schedules know cron, intervals and RFC 5545 rules, none of which knows the State
Council's holidays and make-up days. A BYSETPOS rule with EXDATEs would *drop* a holiday run
instead of moving it (tried on Prefect 3), so regflows computes the real run dates from the official
calendar and hands Prefect an RRule set made of an explicit RDATE list, in floating local time
with ``timezone="Asia/Shanghai"``. Prefect's scheduler then creates real runs on the right days
and the UI shows them.

The specification lives in prefect.yaml (``definitions.working_day_schedules``); the RDATE list
is derived from it whenever deployments are registered (``regflows up``) and refreshed daily by
the calendar watch, because the list must end where the calendar data ends (after its last date
a Prefect RRule silently stops: the watch raises that).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from calendars.official import CalendarError, WorkingDayCalendar, YearNotCovered, default_calendar

#: Prefect refuses an RRule longer than this many characters (its schedule validator, Prefect 3).
PREFECT_RRULE_MAX_CHARS = 6500
TIMEZONE = "Asia/Shanghai"

Period = Literal["day", "month", "quarter", "year"]


class WorkingDaySchedule(BaseModel):
    """"Every working day at 09:00" or "the Nth working day of each month/quarter/year at HH:MM"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every: Period = Field(description="day: every working day; month/quarter/year: the n-th working day of each")
    n: int = Field(default=1, description="which working day of the period; -1 is the last")
    at: str = Field(default="09:00", description="local time HH:MM, Asia/Shanghai")

    @field_validator("at")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        try:
            dt.time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"时间应为 HH:MM：{value!r}") from exc
        return value

    @field_validator("n")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("n 不能为 0（从 1 起计，-1 为最后一个工作日）")
        return value

    @property
    def slug(self) -> str:
        """Identifies the schedule on the deployment so the calendar watch can refresh it."""
        return f"working-days-{self.every}-{self.n}-{self.at.replace(':', '')}"

    @property
    def time(self) -> dt.time:
        return dt.time.fromisoformat(self.at)

    def describe(self) -> str:
        which = "最后一个" if self.n == -1 else f"第 {self.n} 个"
        unit = {"month": "每月", "quarter": "每季度", "year": "每年"}
        if self.every == "day":
            return f"每个工作日 {self.at}"
        return f"{unit[self.every]}{which}工作日 {self.at}"

    def run_days(self, start: dt.date, end: dt.date, calendar: WorkingDayCalendar | None = None) -> list[dt.date]:
        """The run days from start to end inclusive, limited to the covered years."""
        cal = calendar or default_calendar()
        years = [y for y in range(start.year, end.year + 1) if cal.covers(y)]
        days: list[dt.date] = []
        for year in years:
            if self.every == "day":
                days += cal.working_days_between(max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31)))
                continue
            for lo, hi in _periods(year, self.every):
                try:
                    day = cal.nth_working_day_in(lo, hi, self.n)
                except YearNotCovered:
                    continue
                if start <= day <= end:
                    days.append(day)
        return days

    def rrule(
        self, start: dt.date, calendar: WorkingDayCalendar | None = None, max_chars: int = PREFECT_RRULE_MAX_CHARS
    ) -> tuple[str, dt.date | None]:
        """An RFC 5545 set Prefect accepts, from start to the end of the data (or of the size cap).

        Returns the rule and its last run day (None when no run is left: the caller must raise).
        """
        cal = calendar or default_calendar()
        if not cal.years:
            raise CalendarError("日历数据为空")
        end = dt.date(cal.years[-1], 12, 31)
        stamp = self.time.strftime("T%H%M%S")
        head = f"DTSTART:{start.strftime('%Y%m%d')}{stamp}\nRDATE:"
        dates: list[str] = []
        length = len(head)
        last: dt.date | None = None
        for day in self.run_days(start, end, cal):
            item = day.strftime("%Y%m%d") + stamp
            if length + len(item) + 1 > max_chars:
                break
            dates.append(item)
            length += len(item) + 1
            last = day
        if not dates:
            return "", None
        return head + ",".join(dates), last


def _periods(year: int, every: Period) -> list[tuple[dt.date, dt.date]]:
    if every == "year":
        return [(dt.date(year, 1, 1), dt.date(year, 12, 31))]
    months = range(1, 13) if every == "month" else range(1, 13, 3)
    span = 1 if every == "month" else 3
    out = []
    for m in months:
        lo = dt.date(year, m, 1)
        nxt = dt.date(year + (m + span - 1) // 12, (m + span - 1) % 12 + 1, 1)
        out.append((lo, nxt - dt.timedelta(days=1)))
    return out
