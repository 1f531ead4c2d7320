"""Reminder points before a due time and at it; late ones after an outage, once (the incident's
policy: regflows.kit.reminders.BeforeDueInstant)."""

from __future__ import annotations

import datetime as dt

from regflows.kit.reminders import BeforeDueInstant

BJ = dt.timezone(dt.timedelta(hours=8))
DUE = dt.datetime(2025, 10, 1, 11, 0, tzinfo=BJ)
POLICY = BeforeDueInstant((30, 10))  # the profile default (settings.reminder_minutes_before)


def at(h: int, m: int) -> dt.datetime:
    return dt.datetime(2025, 10, 1, h, m, tzinfo=BJ)


def test_points_in_order() -> None:
    assert [(state, t.strftime("%H:%M")) for _, state, t in BeforeDueInstant((10, 30)).points(DUE)] == [
        ("due_soon", "10:30"), ("due_soon", "10:50"), ("overdue", "11:00"),
    ]


def test_each_point_once_on_time() -> None:
    sent: list[str] = []
    assert POLICY.reminder(DUE, sent, at(10, 29)) is None
    first = POLICY.reminder(DUE, sent, at(10, 30))
    assert first.state == "due_soon" and not first.late
    sent.append(first.key)
    assert POLICY.reminder(DUE, sent, at(10, 40)) is None
    second = POLICY.reminder(DUE, sent, at(10, 51))
    sent.append(second.key)
    third = POLICY.reminder(DUE, sent, at(11, 0))
    assert third.state == "overdue" and not third.late
    sent.append(third.key)
    assert POLICY.reminder(DUE, sent, at(12, 0)) is None


def test_after_an_outage_only_the_latest_goes_out_and_says_it_is_late() -> None:
    late = POLICY.reminder(DUE, [], at(11, 20))
    assert late.state == "overdue" and late.late and late.point == DUE
    assert len(late.passed) == 2  # the two due-soon points are marked passed, not sent


def test_unknown_due_has_no_reminder_and_recurring_due_gets_fresh_keys() -> None:
    assert POLICY.reminder(None, [], at(11, 0)) is None
    first = POLICY.reminder(DUE, [], at(11, 0))
    later_due = DUE + dt.timedelta(hours=2)
    nxt = POLICY.reminder(later_due, [first.key, *first.passed], later_due)
    assert nxt is not None and nxt.key != first.key


def test_every_until_met_reminds_each_interval_once_and_only_the_latest_after_an_outage() -> None:
    """An obligation with no fixed hour (及时: NFRA 46, CQ-PLAN 第三篇四) is reminded every interval from
    its start, never raised as overdue; after an outage only the latest interval point goes out."""
    import datetime as _dt

    from regflows.kit.reminders import EveryUntilMet

    start = _dt.datetime(2025, 9, 30, 9, tzinfo=_dt.timezone.utc)
    policy = EveryUntilMet(start, _dt.timedelta(hours=4))
    assert policy.reminder(None, [], start + _dt.timedelta(hours=3)) is None
    first = policy.reminder(None, [], start + _dt.timedelta(hours=4, minutes=1))
    assert first is not None and (first.state, first.overdue, first.point) == ("open", False, start + _dt.timedelta(hours=4))
    assert policy.reminder(None, [first.key], start + _dt.timedelta(hours=5)) is None
    late = policy.reminder(None, [first.key], start + _dt.timedelta(hours=13))
    assert late is not None and late.point == start + _dt.timedelta(hours=12)
    assert policy.reminder(start, [], start + _dt.timedelta(hours=13)) is None  # a row with a due time is not this policy's


def test_monthly_until_due_day_reminds_each_months_first_working_day_then_the_last_then_raises() -> None:
    """A yearly obligation planned from September (a drill: NFRA 44): 09:00 of the first working day of
    each month from the start (National Day 2026 runs 1-7 October: the 8th),
    of the period's last working day, then raised once its last day's 24:00 has passed."""
    from regflows.kit.reminders import MonthlyUntilDueDay

    due = dt.datetime(2027, 1, 1, tzinfo=BJ)
    policy = MonthlyUntilDueDay(dt.date(2026, 9, 1))
    assert [(key, t.date().isoformat()) for key, _, t in policy.points(due)] == [
        ("month@2026-09", "2026-09-01"), ("month@2026-10", "2026-10-08"), ("month@2026-11", "2026-11-02"),
        ("month@2026-12", "2026-12-01"), ("due@2026-12-31", "2026-12-31"), ("overdue@2026-12-31", "2027-01-01")]
    assert policy.reminder(due, [], dt.datetime(2026, 8, 31, 12, tzinfo=BJ)) is None
    first = policy.reminder(due, [], dt.datetime(2026, 9, 1, 9, 0, tzinfo=BJ))
    assert first is not None and first.key == "month@2026-09" and first.state == "due_soon"
    late = policy.reminder(due, [first.key], dt.datetime(2027, 1, 4, 9, tzinfo=BJ))
    assert late is not None and late.overdue and late.late and len(late.passed) == 4
    assert policy.due_label(due) == "2026-12-31 24:00"
