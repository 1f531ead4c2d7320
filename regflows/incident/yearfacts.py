"""The incidents of a year and their reports, offered to the annual rating through the kit.

Why: the rating self-assessment (PBOC-102 附件3) counts the credit-information security events of
the year (9.1 违规使用, 9.2 非法提供, 9.3 泄露) and reads which reports of incidents were made late or
not at all (a possible 第十五条（三）, for a person to confirm); it may not import this procedure
(tests/test_boundaries.py), so it looks up the :class:`regflows.kit.yearfacts.YearFactsProvider`
registered here when ``regflows.incident`` is imported. Read-only.

Which incidents: those that occurred in the year (Beijing time), as the monthly statistics count
them (regflows/credit/events.py). **Drills never count**: an incident whose ``drill`` flag is set
(the store's ``incident.drill``, from the record's ``drill``) is left out with all its obligations.

Which obligations are reports (:data:`REPORT_CODES`): those that tell an authority outside the
institution (the regulators, the PBoC, the police, the protection department, the cyberspace
office). Left out: the internal written report (CUSTINFO 8.2), the notices to users, subjects and
the public (NFRA 45, 46; TENPAY 5), the response steps, the investigation report and the audits,
and recurring rows (the 2-hourly progress report: one row stands for many reports).
"""

from __future__ import annotations

import datetime as dt

from regflows.kit.yearfacts import CreditEvent, Owed, YearFacts, YearFactsProvider, register_year_facts

__all__ = ["EVENT_KINDS", "PROVIDER", "REPORT_CODES", "year_facts"]

#: PBOC-102 附件2's three event columns, as the record names them (regflows/incident/record.py CreditInfoEvent).
EVENT_KINDS: tuple[str, ...] = ("illegal_provision", "improper_use", "report_leak")
#: The obligations (rules/obligations-*.yaml ids) that report an incident to an outside authority.
REPORT_CODES: tuple[str, ...] = (
    "regulator_initial_report", "police_report_cii", "regulator_written_report", "police_report", "pboc_pfi_report",
    "cii_protection_report", "cyberspace_office_report", "credit_event_report", "summary_report",
)


def year_facts(year: int, url: str | None = None) -> YearFacts:
    """The year's incidents that are credit events, and the reports of every incident of the year; drills excluded."""
    from sqlalchemy import select

    from calendars.zone import SHANGHAI
    from regflows.incident.store import PROCEDURE
    from regflows.store import db
    from regflows.store.models import Incident, Obligation

    start = dt.datetime(year, 1, 1, tzinfo=SHANGHAI)
    end = dt.datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
    with db.session(url) as s:
        incidents = s.execute(select(Incident).where(Incident.drill.is_(False), Incident.occurred_at >= start,
                                                     Incident.occurred_at < end).order_by(Incident.occurred_at, Incident.id)).scalars().all()
        ids = [i.id for i in incidents]
        events: list[CreditEvent] = []
        for incident in incidents:
            listed = {incident.credit_info_event, *((incident.record or {}).get("credit_info_events") or [])}
            kinds = tuple(k for k in EVENT_KINDS if k in listed)
            if kinds:
                events.append(CreditEvent(incident.id, incident.reporting_unit, incident.title, kinds, incident.occurred_at))
        rows = s.execute(select(Obligation).where(Obligation.procedure == PROCEDURE, Obligation.subject.in_(ids),
                                                  Obligation.code.in_(REPORT_CODES), Obligation.every.is_(None))
                         .order_by(Obligation.subject, Obligation.id)).scalars().all() if ids else []
        reports = tuple(Owed(r.id, r.procedure, r.subject, r.code, r.title, r.clause, r.due_at, r.fulfilled_at, r.state,
                             "incident_report") for r in rows)
    return YearFacts(year, reports=reports, credit_events=tuple(events))


PROVIDER = register_year_facts(YearFactsProvider("incident", "安全事件（演练除外）及其对外报告", year_facts))
