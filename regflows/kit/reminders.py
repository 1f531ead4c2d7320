"""Reminder policies and the one reminder loop that every procedure feeds.

A watch deployment runs every minute or hour and holds no state: the obligation rows in the
store say what is due and which reminder keys were already sent, so a restart loses nothing and
sends nothing twice. A *policy* decides, from a due instant, the keys sent and the clock, the one
reminder to send now:

- :class:`BeforeDueInstant` (incident deadlines counted in hours: NFRA 第四十五条 and the like):
  reminders ``minutes_before`` the due instant, then the due instant itself, *raised* as overdue
  (acknowledgement required, escalation). After an outage only the latest missed point goes
  out, at once, saying when it was due; the earlier ones are marked passed, so people get one
  clear late message instead of a burst. Keys carry the due instant, so a recurring obligation
  gets fresh reminders for each due time.
- :class:`WorkingDaysBeforeDueDay` (obligations that run for weeks, e.g. a rectification):
  N working days before the due day, on the due day, then raised as overdue.
- :class:`MonthlyUntilDueDay` (obligations owed once in a long period, e.g. a yearly drill):
  ``from_time`` of the first working day of each month from a start day until the due day, of the
  period's last working day, then raised as overdue once its 24:00 has passed.
- :class:`WorkingDaysUntilDueDay` (reports due by a day, e.g. PBOC-102 三（二）"每月初10日内"):
  one reminder each working day from ``from_time`` (09:00: office hours, not midnight), "due"
  on the last day, raised as overdue once its 24:00 has passed. A day the calendar has no data
  for raises :class:`~calendars.official.CalendarError`: the loop sends a ``calendar_warning``
  instead of skipping silently (digest 7: a year with no data has no answer, say so loudly).

:func:`remind` is the loop: each procedure hands it a :class:`Feed`, its open obligation rows
with a small adapter saying who is told, what extra context the notice shows, and what else
happens when a deadline is missed. The notice kinds (``deadline_reminder``, ``calendar_warning``)
and their contexts are the same for every procedure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from calendars.deadlines import last_day_of, time_left_zh
from calendars.official import CalendarError, WorkingDayCalendar, default_calendar
from calendars.zone import SHANGHAI
from notices.routing import Recipient
from notices.service import send_notice
from notices.templates import UNTIMED
from regflows import ledger
from regflows.profile import Profile
from regflows.store.models import Obligation, utcnow
from regflows.store.obligations import CLOSED_STATES, mark_reminded

__all__ = [
    "LATE_AFTER",
    "UNDATED",
    "BeforeDueInstant",
    "EveryUntilMet",
    "Feed",
    "MonthlyUntilDueDay",
    "Reminder",
    "ReminderPolicy",
    "Sent",
    "WorkingDaysBeforeDueDay",
    "WorkingDaysUntilDueDay",
    "is_open",
    "remind",
]

#: A reminder sent more than this after its point is "late" and says so.
LATE_AFTER = dt.timedelta(minutes=2)
#: The key recorded once a row whose due date could not be computed (no calendar data) was raised.
UNDATED = "calendar_missing"


@dataclass(frozen=True)
class Reminder:
    """The one reminder to send now for one obligation."""

    key: str  # recorded in reminders_sent, so it is sent once
    state: str  # due_soon | due | overdue | open  (the deadline_reminder template's states)
    point: dt.datetime  # when it should have gone out
    late: bool = False  # sent after an outage: the notice says when it was due
    passed: tuple[str, ...] = ()  # earlier points skipped in favour of this one

    @property
    def overdue(self) -> bool:
        return self.state == "overdue"


class ReminderPolicy(Protocol):
    """When to remind about one obligation; pure."""

    def reminder(self, due: dt.datetime | None, sent: Iterable[str], now: dt.datetime) -> Reminder | None:
        """The reminder to send at ``now``, or None; may raise CalendarError."""
        ...

    def due_label(self, due: dt.datetime) -> str:
        """The deadline as a person writes it."""
        ...


def _stamp(due: dt.datetime) -> str:
    return due.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _latest_unsent(points: Iterable[tuple[str, str, dt.datetime]], sent: Iterable[str], now: dt.datetime,
                   late_after: dt.timedelta) -> Reminder | None:
    """Of a policy's points, the latest passed and not yet sent, the earlier unsent ones marked
    passed: after an outage one clear late message, not a burst."""
    done = set(sent)
    passed = [(key, state, at) for key, state, at in points if at <= now and key not in done]
    if not passed:
        return None
    key, state, at = passed[-1]
    return Reminder(key, state, at, now - at > late_after, tuple(k for k, _, _ in passed[:-1]))


@dataclass(frozen=True)
class BeforeDueInstant:
    """Minutes before an exact due instant, then the instant itself as overdue."""

    minutes_before: tuple[int, ...] = (30, 10)
    late_after: dt.timedelta = LATE_AFTER

    def points(self, due: dt.datetime) -> list[tuple[str, str, dt.datetime]]:
        """(key, state, instant) for every reminder of one due time, earliest first."""
        stamp = _stamp(due)
        points = [(f"before-{m}@{stamp}", "due_soon", due - dt.timedelta(minutes=m))
                  for m in sorted(set(self.minutes_before), reverse=True) if m > 0]
        points.append((f"overdue@{stamp}", "overdue", due))
        return points

    def reminder(self, due: dt.datetime | None, sent: Iterable[str], now: dt.datetime) -> Reminder | None:
        """The latest point passed and not yet sent (earlier ones marked passed), or None."""
        return None if due is None else _latest_unsent(self.points(due), sent, now, self.late_after)

    def due_label(self, due: dt.datetime) -> str:
        return due.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class EveryUntilMet:
    """An obligation with no fixed hour (及时: NFRA 46, CQ-PLAN 第三篇四): reminded every ``every``
    from ``start`` until it is met, never raised as overdue (there is no due time to miss)."""

    start: dt.datetime
    every: dt.timedelta

    def reminder(self, due: dt.datetime | None, sent: Iterable[str], now: dt.datetime) -> Reminder | None:
        """The latest interval point passed and not yet sent; only the latest after an outage."""
        if due is not None or now < self.start + self.every:
            return None
        point = self.start + self.every * int((now - self.start) / self.every)
        key = f"every@{_stamp(point)}"
        return None if key in set(sent) else Reminder(key, "open", point)

    def due_label(self, due: dt.datetime) -> str:
        return UNTIMED


@dataclass(frozen=True)
class WorkingDaysUntilDueDay:
    """One reminder each working day from ``from_time`` until the due day; overdue after its 24:00."""

    from_time: dt.time = dt.time(9, 0)
    calendar: WorkingDayCalendar | None = None  # None: the shipped official calendar

    def reminder(self, due: dt.datetime | None, sent: Iterable[str], now: dt.datetime) -> Reminder | None:
        """Raises CalendarError for a day with no calendar data (the loop raises it in turn)."""
        if due is None:
            return None
        done = set(sent)
        last_day = last_day_of(due)
        if now >= due:
            key = f"overdue@{last_day.isoformat()}"
            return None if key in done else Reminder(key, "overdue", due)
        local = now.astimezone(SHANGHAI)
        calendar = self.calendar or default_calendar()
        if local.time() < self.from_time or not calendar.is_working_day(local.date()):
            return None
        key = f"working-day@{local.date().isoformat()}"
        if key in done:
            return None
        point = dt.datetime.combine(local.date(), self.from_time, tzinfo=SHANGHAI)
        return Reminder(key, "due" if local.date() == last_day else "due_soon", point)

    def due_label(self, due: dt.datetime) -> str:
        return f"{last_day_of(due).isoformat()} 24:00"


class _PointsUntilDueDay:
    """What the policies with points up to a due day's 24:00 share: the latest point passed and
    not yet sent (earlier ones marked passed), and the due day as people write it."""

    late_after: dt.timedelta

    def points(self, due: dt.datetime) -> list[tuple[str, str, dt.datetime]]:
        raise NotImplementedError

    def reminder(self, due: dt.datetime | None, sent: Iterable[str], now: dt.datetime) -> Reminder | None:
        return None if due is None else _latest_unsent(self.points(due), sent, now, self.late_after)

    def due_label(self, due: dt.datetime) -> str:
        return f"{last_day_of(due).isoformat()} 24:00"


@dataclass(frozen=True)
class WorkingDaysBeforeDueDay(_PointsUntilDueDay):
    """For obligations that run for weeks (a rectification: PBOC-102 附件4 六（二）), where a
    reminder every working day would teach the owner to ignore them: ``from_time`` of the N-th
    official working day before the due day for each N of ``days_before``, ``from_time`` of the
    due day, then raised as overdue once its 24:00 has passed. Keys carry the due day, so a moved
    due day gets fresh reminders. May raise CalendarError (the loop raises it in turn)."""

    days_before: tuple[int, ...] = (5, 1)
    from_time: dt.time = dt.time(9, 0)
    calendar: WorkingDayCalendar | None = None  # None: the shipped official calendar
    late_after: dt.timedelta = LATE_AFTER

    def points(self, due: dt.datetime) -> list[tuple[str, str, dt.datetime]]:
        """(key, state, instant) of every reminder of one due time, earliest first."""
        last = last_day_of(due)
        calendar = self.calendar or default_calendar()
        points = [(f"before-{n}wd@{last.isoformat()}", "due_soon",
                   dt.datetime.combine(calendar.add_working_days(last, -n), self.from_time, tzinfo=SHANGHAI))
                  for n in sorted(set(self.days_before), reverse=True)]
        points.append((f"due@{last.isoformat()}", "due", dt.datetime.combine(last, self.from_time, tzinfo=SHANGHAI)))
        points.append((f"overdue@{last.isoformat()}", "overdue", due))
        return sorted(points, key=lambda p: p[2])


@dataclass(frozen=True)
class MonthlyUntilDueDay(_PointsUntilDueDay):
    """For an obligation owed once in a long period (a yearly drill: NFRA 44; a quarterly one:
    CUSTINFO 5.3) that the institution plans in a month of its choice: ``from_time`` of the first
    official working day of each month from ``start`` (that day or after) until the due day, of
    the last working day before the due day ("due"), then raised as overdue once the due day's
    24:00 has passed. Keys carry the month or the due day, so a moved due day gets fresh
    reminders. May raise CalendarError (the loop raises it in turn)."""

    start: dt.date
    from_time: dt.time = dt.time(9, 0)
    calendar: WorkingDayCalendar | None = None  # None: the shipped official calendar
    late_after: dt.timedelta = LATE_AFTER

    def points(self, due: dt.datetime) -> list[tuple[str, str, dt.datetime]]:
        """(key, state, instant) of every reminder of one due time, earliest first."""
        last = last_day_of(due)
        calendar = self.calendar or default_calendar()
        final = last if calendar.is_working_day(last) else calendar.previous_working_day(last)
        points: list[tuple[str, str, dt.datetime]] = []
        month = dt.date(self.start.year, self.start.month, 1)
        while month <= last:
            first = calendar.roll_forward(max(month, self.start))
            if first < final:
                points.append((f"month@{month.strftime('%Y-%m')}", "due_soon",
                               dt.datetime.combine(first, self.from_time, tzinfo=SHANGHAI)))
            month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        if final >= self.start:
            points.append((f"due@{last.isoformat()}", "due", dt.datetime.combine(final, self.from_time, tzinfo=SHANGHAI)))
        points.append((f"overdue@{last.isoformat()}", "overdue", due))
        return sorted(points, key=lambda p: p[2])


class Feed:
    """One procedure's open obligations and how people are told about them.

    The defaults suit a new procedure: the owner role is told, notices are related to the
    row's subject, a missed deadline adds ``obligation.overdue`` to the ledger. A procedure
    subclasses and overrides only what differs (the incident: its drill recipients, its title
    and grade, its timeline event; the credit report: its sign-off stage).
    """

    def __init__(self, rows: Sequence[Obligation], policy: ReminderPolicy) -> None:
        self.rows = list(rows)
        self.policy = policy

    def policy_for(self, row: Obligation) -> ReminderPolicy:
        """The row's policy: the feed's, unless a row needs another (one with no fixed hour)."""
        return self.policy

    def roles(self, row: Obligation) -> list[str]:
        """Who is reminded (role keys or kinds)."""
        return [row.owner_role]

    def recipients(self, row: Obligation) -> list[Recipient] | None:
        """Named people instead of (or besides) roles: a drill's participants."""
        return None

    def notice_id(self, row: Obligation, key: str) -> str:
        return f"{row.subject}:{key}"

    def due_label(self, row: Obligation) -> str:
        label = (row.detail or {}).get("due_label")
        if label:
            return str(label)
        policy = self.policy_for(row)
        if isinstance(policy, EveryUntilMet):
            return UNTIMED
        assert row.due_at is not None  # a reminder exists only for a row with a due instant
        return policy.due_label(row.due_at)

    def subject_label(self, row: Obligation) -> str | None:
        """The row's subject said in Chinese (``2026年10月征信信息安全情况统计表``), shown where people
        would read ``credit-stats:2026-10`` (review 14, 10); None: the subject's id is what people know
        (an incident's INC-…). notices/templates.py SubjectLabel: a period, then a short noun."""
        return None

    def context(self, row: Obligation) -> dict[str, Any]:
        """Extra context of the row's deadline_reminder (subject_title, basis, drill)."""
        return {}

    def notice_options(self, row: Obligation, kind: str) -> dict[str, Any]:
        """send_notice options of the row's notices of ``kind`` (related, grade, drill)."""
        return {"related": row.subject}

    def undated_warning(self, row: Obligation) -> str:
        """The calendar_warning line for a row whose due date could not be computed."""
        return (f"{row.subject} 的义务“{row.title}”（{row.clause}）的期限落在没有日历数据的年份，无法计算："
                "请导入该年度国务院节假日安排。")

    def calendar_roles(self, row: Obligation, undated: bool) -> list[str]:
        """Who hears a calendar_warning: compliance keeps the calendar; the owner too when the
        row itself has no due date."""
        return ["compliance", row.owner_role] if undated else ["compliance"]

    def overdue(self, row: Obligation, reminder: Reminder, url: str | None) -> None:
        """What else a missed deadline does, besides the raised reminder."""
        assert row.due_at is not None
        ledger.append("obligation.overdue", row.subject, {"obligation": row.code, "due": row.due_at.isoformat()}, url=url)


@dataclass(frozen=True)
class Sent:
    """One notice the loop sent."""

    subject: str
    code: str
    key: str
    kind: str  # deadline_reminder | calendar_warning
    state: str  # due_soon | due | overdue | calendar_missing


def is_open(row: Obligation) -> bool:
    """Reminders stop at fulfilment (a recurring obligation stays open), a waiver, or a withdrawal
    (a correction made it no longer apply: regflows/store/obligations.py CLOSED_STATES)."""
    return not (row.state in CLOSED_STATES and not (row.state == "fulfilled" and row.every))


def remind(profile: Profile, feeds: Iterable[Feed], now: dt.datetime | None = None, *, url: str | None = None,
           **send_options: Any) -> list[Sent]:
    """Send what is due at ``now`` for every open row of every feed; record each key once."""
    moment = now or utcnow()
    out: list[Sent] = []
    for feed in feeds:
        for row in feed.rows:
            if is_open(row):
                sent = _remind_row(profile, feed, row, moment, url, send_options)
                if sent is not None:
                    out.append(sent)
    return out


def _warn(profile: Profile, feed: Feed, row: Obligation, key: str, warnings: list[str], undated: bool,
          url: str | None, send_options: dict[str, Any]) -> Sent:
    context = {"warnings": warnings, "institution": profile.institution.name}
    send_notice(profile, "calendar_warning", context, feed.calendar_roles(row, undated), notice_id=feed.notice_id(row, key),
                urgent=True, url=url, **feed.notice_options(row, "calendar_warning"), **send_options)
    mark_reminded(row.id, [key], url)
    return Sent(row.subject, row.code, key, "calendar_warning", "calendar_missing")


def _remind_row(profile: Profile, feed: Feed, row: Obligation, now: dt.datetime, url: str | None,
                send_options: dict[str, Any]) -> Sent | None:
    done = list(row.reminders_sent or [])
    if row.state == "calendar_missing" and UNDATED not in done:
        return _warn(profile, feed, row, UNDATED, [feed.undated_warning(row)], True, url, send_options)
    try:
        reminder = feed.policy_for(row).reminder(row.due_at, done, now)
    except CalendarError as exc:  # a missing calendar year is raised, not skipped
        key = f"calendar-missing@{now.astimezone(SHANGHAI).date().isoformat()}"
        return None if key in done else _warn(profile, feed, row, key, [str(exc)], False, url, send_options)
    if reminder is None:
        return None
    context: dict[str, Any] = {
        "state": reminder.state, "obligation": row.title, "clause": row.clause, "due_label": feed.due_label(row),
        "subject_ref": row.subject, "institution": profile.institution.name,
        **({"subject_label": label} if (label := feed.subject_label(row)) else {}),
        **({"late_from": reminder.point} if reminder.late else {}), **feed.context(row),
        # how long past it: "overdue" alone does not say whether by minutes or by weeks
        **({"overdue_for": time_left_zh(row.due_at, now)} if reminder.overdue and row.due_at and now > row.due_at else {}),
    }
    send_notice(profile, "deadline_reminder", context, feed.roles(row), to=feed.recipients(row),
                notice_id=feed.notice_id(row, reminder.key), urgent=True, requires_ack=reminder.overdue, url=url,
                **feed.notice_options(row, "deadline_reminder"), **send_options)
    mark_reminded(row.id, [reminder.key, *reminder.passed], url)
    if reminder.overdue:
        feed.overdue(row, reminder, url)
    return Sent(row.subject, row.code, reminder.key, "deadline_reminder", reminder.state)
