"""How the regulations count time (digest section 7), as pure functions.

- "Within N hours" is an exact instant on the wall clock, holidays included, never moved.
- "Within N working days" and "within N days" start counting the day after the event
  (民法典 第二百零一条: the start day is not counted).
- In "N days", a last day that is not a working day (a public holiday, or a weekend day that is
  not a make-up working day) moves to the next working day (民法典 第二百零三条). This is the
  profile setting ``deadline_roll_forward`` (on by default); "by day D of the month" rolls
  forward the same way.
- A deadline whose last day rests on the last days of December while the next year's notice is
  not loaded is *provisional* (``Deadline.provisional_days``, and said in its ``basis``): that
  notice may re-arrange those days (the 2019 notice made 2018-12-29 a working day). Whoever
  stores it recomputes it once the notice is imported.
- Every day-counted deadline ends at 24:00 of its last day, which this module represents as the
  instant 00:00 of the following day, Asia/Shanghai (a report filed at 23:59:59 is on time).

How much time is left (or how late an obligation is) is said in one Chinese wording,
:func:`time_left_zh`, for every view that shows it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import pendulum

from calendars.official import CalendarError, WorkingDayCalendar, default_calendar, to_shanghai_date
from calendars.zone import SHANGHAI


@dataclass(frozen=True)
class Deadline:
    """A due instant with the day it belongs to and how it was computed."""

    due: dt.datetime  # aware, Asia/Shanghai; day-counted deadlines: 00:00 after the last day
    last_day: dt.date | None  # None for hour deadlines
    basis: str  # Chinese, for people: how the deadline was counted
    moved_from: dt.date | None = None  # the nominal last day when it was rolled forward
    #: The provisional late-December days the last day rests on (next year's notice not loaded):
    #: the deadline may move when that notice is imported, and is recomputed then (the incident
    #: clock recomputes every watch run; the calendar watch names open ones). Empty: definite.
    provisional_days: tuple[dt.date, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_days)

    def label(self) -> str:
        """The deadline as a person writes it: ``2025-10-09 24:00`` or ``2025-10-01 11:00``."""
        if self.last_day is not None:
            return f"{self.last_day.isoformat()} 24:00"
        return self.due.strftime("%Y-%m-%d %H:%M")


def _aware(event: dt.datetime) -> dt.datetime:
    if not isinstance(event, dt.datetime):
        raise CalendarError(f"事件时间必须是带时区的日期时间：{event!r}")
    if event.tzinfo is None or event.tzinfo.utcoffset(event) is None:
        raise CalendarError(f"时间 {event.isoformat()} 没有时区（naive datetime），已拒绝")
    return event.astimezone(SHANGHAI)


def end_of_day(day: dt.date) -> dt.datetime:
    """24:00 of the day, i.e. the first instant of the next day in Asia/Shanghai."""
    nxt = day + dt.timedelta(days=1)
    return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=SHANGHAI)


def last_day_of(due_at: dt.datetime) -> dt.date:
    """The day whose 24:00 is ``due_at`` (the inverse of :func:`end_of_day`), as stored deadlines
    are kept as instants and shown to people as ``YYYY-MM-DD 24:00``."""
    return (due_at - dt.timedelta(microseconds=1)).astimezone(SHANGHAI).date()


def _provisional(cal: WorkingDayCalendar, d: Deadline, first: dt.date) -> Deadline:
    """Mark ``d`` provisional when a day from ``first`` to its last day is provisional: each of
    those days was judged working or not, and a notice still to come may judge it otherwise."""
    assert d.last_day is not None
    days = tuple(cal.provisional_days(first, d.last_day))
    if not days:
        return d
    nxt = "、".join(str(y + 1) for y in sorted({day.year for day in days}))
    note = f"；暂定：依据的 {days[0]}..{days[-1]} 为年末日期，{nxt} 年节假日安排尚未载入，载入后重算"
    return dataclasses.replace(d, basis=d.basis + note, provisional_days=days)


def within_hours(event: dt.datetime, hours: float) -> Deadline:
    """An exact wall-clock instant: never moved for holidays (digest section 7)."""
    if hours <= 0:
        raise CalendarError(f"小时数必须为正：{hours}")
    due = _aware(event) + dt.timedelta(hours=hours)
    return Deadline(due=due, last_day=None, basis=f"事件后 {hours:g} 小时（按自然时间，节假日不顺延）")


def within_working_days(
    event: dt.datetime | dt.date, n: int, calendar: WorkingDayCalendar | None = None
) -> Deadline:
    """N working days, counted from the day after the event (民法典 第二百零一条)."""
    if n < 1:
        raise CalendarError(f"工作日数必须至少为 1：{n}")
    cal = calendar or default_calendar()
    day = to_shanghai_date(_aware(event) if isinstance(event, dt.datetime) else event)
    last = cal.add_working_days(day, n)
    deadline = Deadline(end_of_day(last), last, f"{day} 次日起算 {n} 个工作日，截至该日 24:00")
    return _provisional(cal, deadline, day + dt.timedelta(days=1))


def within_days(
    event: dt.datetime | dt.date,
    n: int,
    *,
    roll_forward: bool = True,
    calendar: WorkingDayCalendar | None = None,
) -> Deadline:
    """N calendar days from the day after the event; a non-working last day rolls forward.

    民法典 第二百零一条 (start day not counted) and 第二百零三条 (last day a 法定休假日 → the day
    after the holiday). ``roll_forward`` is the profile's ``deadline_roll_forward`` setting.
    """
    if n < 1:
        raise CalendarError(f"天数必须至少为 1：{n}")
    cal = calendar or default_calendar()
    day = to_shanghai_date(_aware(event) if isinstance(event, dt.datetime) else event)
    nominal = day + dt.timedelta(days=n)
    basis = f"{day} 次日起算 {n} 日"
    if roll_forward and not cal.is_working_day(nominal):
        last = cal.roll_forward(nominal)
        moved = Deadline(
            end_of_day(last), last, basis + f"，期末 {nominal} 为休息日，顺延至 {last} 24:00", nominal
        )
        return _provisional(cal, moved, nominal)
    cal.require(nominal.year)
    deadline = Deadline(end_of_day(nominal), nominal, basis + f"，截至 {nominal} 24:00")
    # Counted in calendar days, the last day depends on the calendar only through the roll-forward.
    return _provisional(cal, deadline, nominal) if roll_forward else deadline


def by_day_of_month(
    year: int,
    month: int,
    day: int,
    *,
    roll_forward: bool = True,
    calendar: WorkingDayCalendar | None = None,
) -> Deadline:
    """"By day D of the month" (e.g. 每月初10日内), rolled forward like a day-counted deadline."""
    cal = calendar or default_calendar()
    try:
        nominal = dt.date(year, month, day)
    except ValueError as exc:
        raise CalendarError(f"日期无效：{year}-{month}-{day}（{exc}）") from exc
    basis = f"{year} 年 {month} 月 {day} 日前"
    if roll_forward and not cal.is_working_day(nominal):
        last = cal.roll_forward(nominal)
        moved = Deadline(end_of_day(last), last, basis + f"，该日为休息日，顺延至 {last} 24:00", nominal)
        return _provisional(cal, moved, nominal)
    cal.require(year)
    deadline = Deadline(end_of_day(nominal), nominal, basis + f"，截至 {nominal} 24:00")
    return _provisional(cal, deadline, nominal) if roll_forward else deadline


def time_left_zh(due: dt.datetime, now: dt.datetime) -> str:
    """How long until ``due``, or how long past it, as a duty officer reads it.

    - under a day: ``剩 1 小时 5 分`` / ``逾期 0 小时 3 分`` (the wording the clock view used);
    - a day or more: ``剩 2 天 3 小时`` / ``逾期 2 天 3 小时`` (minutes are noise at that scale);
    - exactly at the due instant: ``已到期``.

    Rounding always errs towards urgency: time left is rounded down (59 s left is ``剩 0 小时 0 分``,
    never a minute that does not exist), time overdue is rounded up (1 s late is ``逾期 0 小时 1 分``,
    so a missed deadline never reads as on time).
    """
    seconds = (_aware(due) - _aware(now)).total_seconds()
    if seconds == 0:
        return "已到期"
    word = "剩" if seconds > 0 else "逾期"
    minutes = math.floor(seconds / 60) if seconds > 0 else math.ceil(-seconds / 60)
    span = pendulum.duration(minutes=minutes)
    if span.days >= 1:
        return f"{word} {span.days} 天 {span.hours} 小时"
    return f"{word} {span.hours} 小时 {span.minutes} 分"
