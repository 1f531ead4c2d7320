"""The official Chinese working-day calendar, loaded from the year files in ``calendars/data``.

A day is a working day when it is Monday-Friday and not inside a public-holiday period, or when
it is a Saturday/Sunday that a notice makes a make-up working day (调休上班). That is all the
State Council's notices say, and all this module knows: it never guesses a year whose notice is
not loaded (digest section 7: "a year ... has no answer: say so loudly"). Asking about such a
year raises :class:`YearNotCovered`, which names the year and says how to add it.

Late-December answers are *provisional* until the next year's notice is loaded, because a notice
may re-arrange the last days of the year before it (the 2019 notice made 2018-12-29 a working
day; the 2023 notice put 2022-12-31 into the New Year holiday).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pendulum

from calendars.model import YearArrangement
from calendars.zone import SHANGHAI
from regflows.kit.errors import RuleFileError
from regflows.kit.rulefiles import load_yaml_model

DATA_DIR = Path(__file__).parent / "data"
#: How many of the last days of December stay provisional until the next year's notice is in.
#: Every cross-year change so far touched 12-29..12-31; a week leaves a margin.
PROVISIONAL_DECEMBER_DAYS = 7

HOW_TO_ADD = (
    "请在国务院办公厅发布该年度节假日安排通知后，运行 "
    "`regflows calendar import-notice 通知全文.txt --url 通知网址` 生成 calendars/data/{year}.yaml，"
    "经人工复核后提交。"
)


class CalendarError(ValueError):
    """A question the calendar refuses to answer (bad input or no data)."""


class YearNotCovered(CalendarError, LookupError):
    """The year's State Council arrangement is not loaded: there is no answer, only this error."""

    def __init__(self, year: int, covered: Iterable[int]) -> None:
        self.year = year
        self.covered = sorted(covered)
        span = f"{self.covered[0]}–{self.covered[-1]}" if self.covered else "无"
        super().__init__(
            f"{year} 年的节假日安排未载入（已载入年份：{span}），无法计算工作日。"
            + HOW_TO_ADD.format(year=year)
        )


def to_shanghai_date(value: dt.date | dt.datetime) -> dt.date:
    """The calendar date a value stands for in Asia/Shanghai.

    Aware datetimes are converted first (23:30 UTC is already the next day in Beijing); naive
    datetimes are refused because their day is ambiguous.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise CalendarError(
                f"时间 {value.isoformat()} 没有时区（naive datetime）：请给出带偏移的时间，如 +08:00"
            )
        return value.astimezone(SHANGHAI).date()
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    raise CalendarError(f"不是日期：{value!r}")


@dataclass(frozen=True)
class DayStatus:
    """What the calendar says about one day, with where it comes from."""

    date: dt.date
    working: bool
    reason: str  # "weekday", "weekend", "holiday:春节", "makeup:春节"
    notice: str | None
    provisional: bool


class WorkingDayCalendar:
    """Working-day facts and arithmetic over the loaded years.

    Built from :class:`YearArrangement` objects so tests can build calendars of their own; the
    default one (:func:`default_calendar`) reads ``calendars/data``.
    """

    def __init__(self, arrangements: Iterable[YearArrangement]) -> None:
        self.arrangements: dict[int, YearArrangement] = {}
        for arrangement in arrangements:
            if arrangement.year in self.arrangements:
                raise CalendarError(f"{arrangement.year} 年的数据重复载入")
            self.arrangements[arrangement.year] = arrangement
        self._off: dict[dt.date, tuple[str, str]] = {}
        self._makeup: dict[dt.date, tuple[str, str]] = {}
        for arrangement in self.arrangements.values():
            for period in arrangement.holidays:
                for i in range(period.days):
                    self._off[period.start + dt.timedelta(days=i)] = (period.name, period.notice)
            for day in arrangement.makeup_workdays:
                self._makeup[day.date] = (day.for_holiday, day.notice)
        # Sorted working days of every covered year, for O(log n) arithmetic.
        self._working: list[dt.date] = [
            d for year in sorted(self.arrangements) for d in _days_of(year) if self._is_working(d)
        ]

    # -- coverage -------------------------------------------------------------------------
    @property
    def years(self) -> list[int]:
        return sorted(self.arrangements)

    def covers(self, year: int) -> bool:
        return year in self.arrangements

    def require(self, year: int) -> None:
        if year not in self.arrangements:
            raise YearNotCovered(year, self.arrangements)

    def _require_span(self, a: dt.date, b: dt.date) -> None:
        for year in range(min(a, b).year, max(a, b).year + 1):
            self.require(year)

    # -- single days ----------------------------------------------------------------------
    def _is_working(self, d: dt.date) -> bool:
        if d in self._makeup:
            return True
        if d in self._off:
            return False
        return d.weekday() < 5

    def status(self, value: dt.date | dt.datetime) -> DayStatus:
        d = to_shanghai_date(value)
        self.require(d.year)
        provisional = self.is_provisional(d)
        if d in self._makeup:
            name, notice = self._makeup[d]
            return DayStatus(d, True, f"makeup:{name}", notice, provisional)
        if d in self._off:
            name, notice = self._off[d]
            return DayStatus(d, False, f"holiday:{name}", notice, provisional)
        weekday = d.weekday() < 5
        return DayStatus(d, weekday, "weekday" if weekday else "weekend", None, provisional)

    def is_working_day(self, value: dt.date | dt.datetime) -> bool:
        return self.status(value).working

    def is_provisional(self, value: dt.date | dt.datetime) -> bool:
        """True for the last days of December while the next year's notice is missing."""
        d = to_shanghai_date(value)
        last = dt.date(d.year, 12, 31)
        return (last - d).days < PROVISIONAL_DECEMBER_DAYS and not self.covers(d.year + 1)

    def provisional_days(self, a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> list[dt.date]:
        """The provisional days between a and b, both included, in either order.

        An answer that rests on any of them may change when the next year's notice is loaded:
        the caller says so (the CLI exits with the provisional code, a deadline is marked).
        """
        lo, hi = sorted((to_shanghai_date(a), to_shanghai_date(b)))
        days: list[dt.date] = []
        for year in range(lo.year, hi.year + 1):
            if self.covers(year + 1):
                continue
            first = max(lo, dt.date(year, 12, 31) - dt.timedelta(days=PROVISIONAL_DECEMBER_DAYS - 1))
            last = min(hi, dt.date(year, 12, 31))
            days += [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        return days

    # -- arithmetic -----------------------------------------------------------------------
    def next_working_day(self, value: dt.date | dt.datetime) -> dt.date:
        """The first working day strictly after the day."""
        return self.add_working_days(value, 1)

    def previous_working_day(self, value: dt.date | dt.datetime) -> dt.date:
        """The last working day strictly before the day."""
        return self.add_working_days(value, -1)

    def roll_forward(self, value: dt.date | dt.datetime) -> dt.date:
        """The day itself if it is a working day, else the next working day."""
        d = to_shanghai_date(value)
        self.require(d.year)
        i = bisect.bisect_left(self._working, d)
        return self._at(i, d)

    def add_working_days(self, value: dt.date | dt.datetime, n: int) -> dt.date:
        """Count n working days from the day; the start day itself is not counted.

        From a holiday, day 1 is the first working day after it; n < 0 counts backwards;
        n == 0 is :meth:`roll_forward`.
        """
        if not isinstance(n, int) or isinstance(n, bool):
            raise CalendarError(f"工作日数必须是整数：{n!r}")
        d = to_shanghai_date(value)
        self.require(d.year)
        if n == 0:
            return self.roll_forward(d)
        if n > 0:
            i = bisect.bisect_right(self._working, d) + n - 1
        else:
            i = bisect.bisect_left(self._working, d) + n
        result = self._at(i, d)
        self._require_span(d, result)
        return result

    def _at(self, i: int, origin: dt.date) -> dt.date:
        """The i-th working day of the loaded range, or YearNotCovered for the year past its edge."""
        if i < 0:
            raise YearNotCovered(self.years[0] - 1, self.arrangements)
        if i >= len(self._working):
            raise YearNotCovered(self.years[-1] + 1, self.arrangements)
        return self._working[i]

    def count_working_days(self, a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> int:
        """Working days from a to b, both ends included; a later than b is an error."""
        start, end = to_shanghai_date(a), to_shanghai_date(b)
        if start > end:
            raise CalendarError(f"起始日 {start} 晚于结束日 {end}")
        self._require_span(start, end)
        return bisect.bisect_right(self._working, end) - bisect.bisect_left(self._working, start)

    def working_days_between(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """The working days from start to end, both included."""
        self._require_span(start, end)
        lo = bisect.bisect_left(self._working, start)
        hi = bisect.bisect_right(self._working, end)
        return self._working[lo:hi]

    def nth_working_day_in(self, start: dt.date, end: dt.date, n: int) -> dt.date:
        """The n-th working day between start and end inclusive (n = -1 is the last)."""
        if n == 0 or not isinstance(n, int):
            raise CalendarError(f"第 n 个工作日的 n 不能为 {n!r}（从 1 起计，-1 为最后一个）")
        days = self.working_days_between(start, end)
        if abs(n) > len(days):
            raise CalendarError(f"{start}..{end} 只有 {len(days)} 个工作日，没有第 {n} 个")
        return days[n - 1] if n > 0 else days[n]

    def nth_working_day_of_month(self, year: int, month: int, n: int) -> dt.date:
        if not 1 <= month <= 12:
            raise CalendarError(f"月份必须在 1 到 12 之间：{month}")
        first = pendulum.date(year, month, 1)
        return self.nth_working_day_in(first, first.end_of("month"), n)


def _days_of(year: int) -> Iterator[dt.date]:
    d = dt.date(year, 1, 1)
    while d.year == year:
        yield d
        d += dt.timedelta(days=1)


def load_year_file(path: Path) -> YearArrangement:
    """Read and validate one year file; errors name the file, the line and the field."""
    try:
        arrangement = load_yaml_model(path, YearArrangement, what="节假日安排")
    except RuleFileError as exc:
        raise CalendarError(str(exc)) from exc
    if path.stem != str(arrangement.year):
        raise CalendarError(f"文件 {path}：文件名与 year: {arrangement.year} 不符")
    return arrangement


def load_calendar(data_dir: Path = DATA_DIR) -> WorkingDayCalendar:
    return WorkingDayCalendar(load_year_file(p) for p in sorted(data_dir.glob("[0-9][0-9][0-9][0-9].yaml")))


@functools.cache
def default_calendar() -> WorkingDayCalendar:
    """The calendar of the shipped data files, loaded once per process."""
    return load_calendar()
