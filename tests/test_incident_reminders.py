"""Reminder points before a due time and at it; late ones after an outage, once."""

from __future__ import annotations

import datetime as dt

from regflows.incident.reminders import reminder_now, reminder_points

BJ = dt.timezone(dt.timedelta(hours=8))
DUE = dt.datetime(2025, 10, 1, 11, 0, tzinfo=BJ)


def at(h: int, m: int) -> dt.datetime:
    return dt.datetime(2025, 10, 1, h, m, tzinfo=BJ)


def test_points_in_order() -> None:
    assert [(state, t.strftime("%H:%M")) for _, state, t in reminder_points(DUE, (10, 30))] == [
        ("due_soon", "10:30"), ("due_soon", "10:50"), ("overdue", "11:00"),
    ]


def test_each_point_once_on_time() -> None:
    sent: list[str] = []
    assert reminder_now(DUE, sent, at(10, 29)) is None
    first = reminder_now(DUE, sent, at(10, 30))
    assert first.state == "due_soon" and not first.late
    sent.append(first.key)
    assert reminder_now(DUE, sent, at(10, 40)) is None
    second = reminder_now(DUE, sent, at(10, 51))
    sent.append(second.key)
    third = reminder_now(DUE, sent, at(11, 0))
    assert third.state == "overdue" and not third.late
    sent.append(third.key)
    assert reminder_now(DUE, sent, at(12, 0)) is None


def test_after_an_outage_only_the_latest_goes_out_and_says_it_is_late() -> None:
    late = reminder_now(DUE, [], at(11, 20))
    assert late.state == "overdue" and late.late and late.point == DUE
    assert len(late.passed) == 2  # the two due-soon points are marked passed, not sent


def test_unknown_due_has_no_reminder_and_recurring_due_gets_fresh_keys() -> None:
    assert reminder_now(None, [], at(11, 0)) is None
    first = reminder_now(DUE, [], at(11, 0))
    later_due = DUE + dt.timedelta(hours=2)
    nxt = reminder_now(later_due, [first.key, *first.passed], later_due)
    assert nxt is not None and nxt.key != first.key
