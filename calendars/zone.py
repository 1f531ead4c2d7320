"""Beijing time: the one time zone every procedure counts deadlines and prints times in.

The regulations count in Beijing time (digest section 7), so every conversion of an instant to
a wall-clock time or a calendar day goes through :data:`SHANGHAI`, never a fixed ``+08:00``
offset: a fixed offset is right today, but a ``tzinfo`` with a name says which clock is meant,
and pandas, Prefect and the store see the same ``Asia/Shanghai`` key.

:data:`SHANGHAI` is pendulum's zone, a subclass of :class:`zoneinfo.ZoneInfo`, so it works
wherever a ``tzinfo`` is expected (``datetime.astimezone``, ``datetime.now``, pandas'
``tz_localize``/``tz_convert``) and also with pendulum's own arithmetic (:mod:`calendars.deadlines`).
The helpers return standard-library datetimes, not pendulum's subclass, because pendulum's
``DateTime`` prints and subtracts differently (``str()`` has a ``T``; ``a - b`` is an
``Interval``) and such values end up in f-strings and the store.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import pendulum

__all__ = ["SHANGHAI", "ZONE_NAME", "local_date", "now_local", "to_local"]

#: The IANA name, for the places that want the name rather than the object (Prefect schedules).
ZONE_NAME: Final = "Asia/Shanghai"
SHANGHAI: Final[pendulum.Timezone] = pendulum.Timezone(ZONE_NAME)


def to_local(moment: dt.datetime) -> dt.datetime:
    """The same instant on Beijing wall-clock time. A naive datetime is refused: its instant is
    unknown, and guessing the zone is how a deadline ends up eight hours off."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"时间 {moment.isoformat()} 没有时区（naive datetime）：请给出带偏移的时间，如 +08:00")
    return moment.astimezone(SHANGHAI)


def now_local() -> dt.datetime:
    """The current instant on Beijing wall-clock time (a standard-library datetime)."""
    return dt.datetime.now(SHANGHAI)


def local_date(moment: dt.datetime | None = None) -> dt.date:
    """The Beijing calendar day of an instant (default: now)."""
    return (to_local(moment) if moment is not None else now_local()).date()


def local_label(moment: dt.datetime) -> str:
    """A moment as people read it in a message: ``2025-10-01 10:05（北京时间）``."""
    return f"{to_local(moment):%Y-%m-%d %H:%M}（北京时间）"
