"""When the minute watch republishes an incident's clock (regflows/incident/clock_view.py): only
when what it says changed, or its time left is older than the refresh interval."""

from __future__ import annotations

import datetime as dt

from regflows.incident.clock_view import TIME_LEFT, ShownClock, clock_current, clock_table
from regflows.store.models import Obligation

NOW = dt.datetime(2025, 10, 1, 1, 0, tzinfo=dt.timezone.utc)


def rows(state: str = "open", due_in: dt.timedelta = dt.timedelta(hours=1)) -> list[Obligation]:
    return [Obligation(code="regulator_initial_report", title="初报", clause="NFRA 45", owner_role="on_call", state=state,
                       due_at=NOW + due_in, detail={"due_label": "2025-10-01 10:00"})]


def owner(role: str) -> str:
    return {"on_call": "值班组"}.get(role, role)


def test_the_same_clock_a_minute_later_is_current_though_its_time_left_moved() -> None:
    shown = ShownClock(clock_table(rows(), NOW, owner), NOW)
    later = NOW + dt.timedelta(minutes=1)
    table = clock_table(rows(), later, owner)
    assert table[0][TIME_LEFT] != shown.table[0][TIME_LEFT]  # the minute moved...
    assert clock_current(table, shown, later, refresh_minutes=5)  # ...and that alone does not republish


def test_a_state_a_deadline_or_an_owner_changed_is_not_current() -> None:
    shown = ShownClock(clock_table(rows(), NOW, owner), NOW)
    assert not clock_current(clock_table(rows("due_soon"), NOW, owner), shown, NOW, 5)
    moved = rows()
    moved[0].detail = {"due_label": "2025-10-01 12:00"}
    assert not clock_current(clock_table(moved, NOW, owner), shown, NOW, 5)
    assert not clock_current(clock_table(rows(), NOW, lambda role: "零售业务处"), shown, NOW, 5)


def test_the_time_left_is_refreshed_once_the_interval_passed() -> None:
    shown = ShownClock(clock_table(rows(), NOW, owner), NOW)
    assert clock_current(clock_table(rows(), NOW, owner), shown, NOW + dt.timedelta(minutes=4, seconds=59), 5)
    assert not clock_current(clock_table(rows(), NOW, owner), shown, NOW + dt.timedelta(minutes=5), 5)


def test_nothing_shown_is_never_current() -> None:
    assert not clock_current(clock_table(rows(), NOW, owner), None, NOW, 5)
    assert not clock_current(clock_table(rows(), NOW, owner), ShownClock([], NOW), NOW, 5)
