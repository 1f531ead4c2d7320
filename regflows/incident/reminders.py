"""When to remind about an obligation: before its due time, and when it is missed.

Pure: from the due instant, the reminders already sent and the clock, which one reminder to send
now. Reminder points are the profile's ``reminder_minutes_before`` (30 and 10 by default) and
the due instant itself (the obligation is then overdue: that reminder is *raised*, it requires
acknowledgement and escalates). A watcher runs every minute; after an outage several points may
have passed: only the latest is sent, at once, saying when it was due, and the earlier ones are
marked as passed, so people get one clear late message instead of a burst.

Keys carry the due instant, so a recurring obligation (progress reports every 2 hours) gets a
fresh set of reminders for each due time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

#: A reminder sent more than this after its point is "late" and says so.
LATE_AFTER = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Reminder:
    key: str
    state: str  # due_soon | overdue  (the deadline_reminder template's states)
    point: dt.datetime  # when it should have gone out
    late: bool
    passed: tuple[str, ...]  # earlier points skipped in favour of this one


def reminder_points(due: dt.datetime, minutes_before: Iterable[int]) -> list[tuple[str, str, dt.datetime]]:
    """(key, state, instant) for every reminder of one due time, earliest first."""
    stamp = due.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    points = [(f"before-{m}@{stamp}", "due_soon", due - dt.timedelta(minutes=m)) for m in sorted(set(minutes_before), reverse=True) if m > 0]
    points.append((f"overdue@{stamp}", "overdue", due))
    return points


def reminder_now(due: dt.datetime | None, sent: Iterable[str], now: dt.datetime, minutes_before: Iterable[int] = (30, 10)) -> Reminder | None:
    """The reminder to send at ``now`` (or None): the latest point passed and not yet sent."""
    if due is None:
        return None
    done = set(sent)
    passed = [(key, state, at) for key, state, at in reminder_points(due, minutes_before) if at <= now and key not in done]
    if not passed:
        return None
    key, state, at = passed[-1]
    return Reminder(key, state, at, now - at > LATE_AFTER, tuple(k for k, _, _ in passed[:-1]))
