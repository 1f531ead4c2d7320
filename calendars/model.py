"""The shape of one year's official arrangement, as typed from the State Council's notices.

A year file (``calendars/data/YYYY.yaml``) is the single source of truth for which days of
that year are public holidays (放假) and which weekend days are make-up working days (调休上班).
It records the notice(s) it comes from so that an auditor can open the original text.

Why a file per year and not a package: the ``chinese-calendar`` and ``holidays`` packages are
only cross-checks in the tests. ``holidays`` silently guesses years whose notice is not out,
and regulatory deadlines must never rest on a guess.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Notice(BaseModel):
    """One State Council notice (国务院办公厅关于…的通知)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: str = Field(description="发文字号, e.g. 国办发明电〔2024〕12号")
    title: str = Field(description="通知标题")
    date: dt.date = Field(description="成文日期")
    url: str = Field(description="公开来源地址 (gov.cn)")


class HolidayPeriod(BaseModel):
    """A run of consecutive days off (放假调休), both ends included."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="节日名称, e.g. 春节")
    start: dt.date
    end: dt.date
    days: int = Field(description="通知所述天数 (共…天), checked against start..end")
    notice: str = Field(description="number of the notice that fixes this period")

    @model_validator(mode="after")
    def _days_match_range(self) -> "HolidayPeriod":
        if self.end < self.start:
            raise ValueError(f"{self.name}: end {self.end} is before start {self.start}")
        span = (self.end - self.start).days + 1
        if span != self.days:
            raise ValueError(
                f"{self.name}: {self.start}..{self.end} is {span} days, the notice says {self.days}"
            )
        return self


class MakeupWorkday(BaseModel):
    """A Saturday or Sunday that is a working day (调休上班)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date
    for_holiday: str = Field(description="the holiday this make-up day belongs to")
    notice: str

    @model_validator(mode="after")
    def _is_weekend(self) -> "MakeupWorkday":
        if self.date.weekday() < 5:
            raise ValueError(f"make-up working day {self.date} is not a Saturday or Sunday")
        return self


class YearArrangement(BaseModel):
    """Everything the notices of one year say. Dates may fall in the previous December."""

    model_config = ConfigDict(extra="forbid")

    year: int
    notices: list[Notice] = Field(min_length=1)
    holidays: list[HolidayPeriod]
    makeup_workdays: list[MakeupWorkday] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list,
        description="where a reference package disagrees with the notice, and why the notice wins",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "YearArrangement":
        numbers = {n.number for n in self.notices}
        items: list[HolidayPeriod | MakeupWorkday] = [*self.holidays, *self.makeup_workdays]
        for item in items:
            if item.notice not in numbers:
                raise ValueError(f"{item!r} cites notice {item.notice}, not listed in notices")
        earliest = dt.date(self.year - 1, 12, 1)
        latest = dt.date(self.year, 12, 31)
        for h in self.holidays:
            if h.start < earliest or h.end > latest:
                raise ValueError(f"{h.name} {h.start}..{h.end} lies outside {self.year}")
        for m in self.makeup_workdays:
            if not earliest <= m.date <= latest:
                raise ValueError(f"make-up day {m.date} lies outside {self.year}")
        off = {h.start + dt.timedelta(days=i) for h in self.holidays for i in range(h.days)}
        clash = sorted(off & {m.date for m in self.makeup_workdays})
        if clash:
            raise ValueError(f"days both off and working: {clash}")
        return self
