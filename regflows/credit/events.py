"""非法提供 / 违规使用 / 信用报告泄漏 counted from the incidents of the domain store.

PBOC-102 III(2) and attachment 2: these three counts are events, not queries. One incident is
one 笔 in each column it belongs to: an incident with several kinds of credit event (the
record's ``credit_info_events``, with ``credit_info_event``) counts in each of its columns. It
belongs to the month it occurred in (``occurred_at``, Asia/Shanghai); drills never count (they
are exercises, not events to report). The institution is the incident's ``reporting_unit``.

An event discovered after its month's table was filed (the table covering its unit marked
submitted before ``discovered_at``) is never lost (issue 12, point 17): with
``settings.credit_late_events = discovery_month`` it counts in the month it was discovered,
marked late with the month it occurred in; with ``correct_filed_month`` it stays in the month it
occurred in, whose table must be filed again as a correction (``credit-stats-watch`` raises it:
:func:`late_for_filed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from calendars.zone import SHANGHAI
from regflows.credit.models import EVENT_KINDS, Period
from regflows.credit.signoff import CODE, PROCEDURE, subject
from regflows.credit.units import covering
from regflows.profile import Profile, load_profile, profile_path
from regflows.store.db import migrate, session
from regflows.store.models import Incident, Obligation


@dataclass(frozen=True)
class EventRef:
    """One incident in one month's table: its unit, its kinds (one column each), and whether it
    was found after the month it occurred in had been filed (``late``)."""

    incident_id: str
    unit: str
    kinds: tuple[str, ...]
    occurred: str  # YYYY-MM of occurred_at
    late: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"incident": self.incident_id, "unit": self.unit, "kinds": list(self.kinds), "occurred": self.occurred,
                "late": self.late}


def kinds_of(column: str | None, record: dict[str, object] | None) -> tuple[str, ...]:
    """The incident's credit-event kinds in attachment 2's column order, each once."""
    listed = list((record or {}).get("credit_info_events") or [])  # type: ignore[call-overload]
    found = {k for k in [column, *listed] if k in EVENT_KINDS}
    return tuple(k for k in EVENT_KINDS if k in found)


def _month(at: dt.datetime) -> Period:
    local = at.astimezone(SHANGHAI)
    return Period(local.year, local.month)


def credit_events(period: Period, profile: Profile, url: str | None = None) -> list[EventRef]:
    """The incidents the period's tables count, after the late-event setting."""
    migrate(url)
    mode = profile.settings.credit_late_events
    with session(url) as s:
        rows = s.execute(
            select(Incident.id, Incident.reporting_unit, Incident.credit_info_event, Incident.record,
                   Incident.occurred_at, Incident.discovered_at).where(
                Incident.credit_info_event.is_not(None),
                Incident.drill.is_(False),
                or_(and_(Incident.occurred_at >= period.start, Incident.occurred_at < period.end),
                    and_(Incident.discovered_at >= period.start, Incident.discovered_at < period.end,
                         Incident.occurred_at < period.start)),
            ).order_by(Incident.occurred_at, Incident.id)
        ).all()
        filed = dict(s.execute(select(Obligation.subject, Obligation.fulfilled_at).where(
            Obligation.procedure == PROCEDURE, Obligation.code == CODE, Obligation.fulfilled_at.is_not(None))).all())
    out: list[EventRef] = []
    for incident_id, unit, column, record, occurred_at, discovered_at in rows:
        kinds = kinds_of(column, record)
        if not kinds:
            continue
        home = _month(occurred_at)
        filed_at = filed.get(subject(covering(profile, str(unit)).key(home)))
        late = filed_at is not None and discovered_at > filed_at
        ref = EventRef(str(incident_id), str(unit), kinds, home.label, late)
        if home == period:
            if not (late and mode == "discovery_month"):  # else: counted in the month it was discovered
                out.append(ref)
        elif late and mode == "discovery_month":
            out.append(ref)
    return out


def counts_of(refs: Iterable[EventRef]) -> dict[str, dict[str, int]]:
    """institution code → {event kind: number of incidents}."""
    out: dict[str, dict[str, int]] = {}
    for ref in refs:
        bucket = out.setdefault(ref.unit, {})
        for kind in ref.kinds:
            bucket[kind] = bucket.get(kind, 0) + 1
    return out


def count_events(period: Period, url: str | None = None, profile: Profile | None = None) -> dict[str, dict[str, int]]:
    """institution code → {event kind: number of incidents} for the period."""
    return counts_of(credit_events(period, profile or load_profile(profile_path()), url))


def late_for_filed(profile: Profile, url: str | None = None) -> list[tuple[str, EventRef]]:
    """Under ``correct_filed_month``: (table key, event) for each event found after its month's
    table was filed; that table owes a correction."""
    if profile.settings.credit_late_events != "correct_filed_month":
        return []
    migrate(url)
    with session(url) as s:
        filed = dict(s.execute(select(Obligation.subject, Obligation.fulfilled_at).where(
            Obligation.procedure == PROCEDURE, Obligation.code == CODE, Obligation.fulfilled_at.is_not(None))).all())
        if not filed:
            return []
        rows = s.execute(select(Incident.id, Incident.reporting_unit, Incident.credit_info_event, Incident.record,
                                Incident.occurred_at, Incident.discovered_at).where(
            Incident.credit_info_event.is_not(None), Incident.drill.is_(False))).all()
    out: list[tuple[str, EventRef]] = []
    for incident_id, unit, column, record, occurred_at, discovered_at in rows:
        kinds = kinds_of(column, record)
        home = _month(occurred_at)
        key = covering(profile, str(unit)).key(home)
        filed_at = filed.get(subject(key))
        if kinds and filed_at is not None and discovered_at > filed_at:
            out.append((key, EventRef(str(incident_id), str(unit), kinds, home.label, True)))
    return out
