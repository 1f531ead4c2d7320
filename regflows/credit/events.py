"""非法提供 / 违规使用 / 信用报告泄漏 counted from the incidents of the domain store.

PBOC-102 III(2) and attachment 2: these three counts are events, not queries. One incident is
one 笔; it belongs to the month it occurred in (``occurred_at``, Asia/Shanghai); drills never
count (they are exercises, not events to report). The institution is the incident's
``reporting_unit``.
"""

from __future__ import annotations

from sqlalchemy import select

from regflows.credit.models import EVENT_KINDS, Period
from regflows.store.db import migrate, session
from regflows.store.models import Incident


def count_events(period: Period, url: str | None = None) -> dict[str, dict[str, int]]:
    """institution code → {event kind: number of incidents} for the period."""
    migrate(url)
    out: dict[str, dict[str, int]] = {}
    with session(url) as s:
        rows = s.execute(
            select(Incident.reporting_unit, Incident.credit_info_event).where(
                Incident.credit_info_event.in_(EVENT_KINDS),
                Incident.drill.is_(False),
                Incident.occurred_at >= period.start,
                Incident.occurred_at < period.end,
            )
        ).all()
    for unit, kind in rows:
        bucket = out.setdefault(str(unit), {})
        bucket[str(kind)] = bucket.get(str(kind), 0) + 1
    return out
