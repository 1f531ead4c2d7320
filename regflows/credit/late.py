"""Events found after their month's table was filed, under ``credit_late_events = correct_filed_month``.

PBOC-102 三（二） asks for every month's events (and 附件3 lists 迟报、漏报 among the failings), but
says nothing of an event discovered after its month's table was filed. With the default setting
(``discovery_month``) it counts in the month it was discovered (regflows/credit/events.py). With
``correct_filed_month`` it counts in the month it occurred in, and that table owes a correction:
one obligation per late incident (``monthly-statistics-correction:<incident>`` on the table's
subject), due on the table's own day in the month after the discovery (with the next regular
report), reminded and raised like the report itself, fulfilled by ``regflows credit-stats
submit --correction`` once the rerun table that counts the incident has been signed.
"""

from __future__ import annotations

from sqlalchemy import select

from calendars.deadlines import end_of_day
from calendars.zone import SHANGHAI
from regflows import ledger
from regflows.credit.events import late_for_filed
from regflows.credit.models import Period
from regflows.credit.sheets import due_on
from regflows.credit.signoff import CLAUSE, PROCEDURE, report_title, subject
from regflows.credit.units import table_of_key
from regflows.profile import Profile
from regflows.store import db
from regflows.store.models import Incident, Obligation

CORRECTION_CODE = "monthly-statistics-correction"


def correction_code(incident_id: str) -> str:
    return f"{CORRECTION_CODE}:{incident_id}"


def owe_corrections(profile: Profile, url: str | None = None) -> list[str]:
    """Write a correction obligation for each late event not yet owed one; returns their notice keys."""
    created: list[str] = []
    for key, ref in late_for_filed(profile, url):
        code = correction_code(ref.incident_id)
        with db.session(url) as s:
            if s.execute(select(Obligation.id).where(Obligation.subject == subject(key), Obligation.code == code)).first():
                continue
            incident = s.get(Incident, ref.incident_id)
            assert incident is not None
            found = incident.discovered_at.astimezone(SHANGHAI)
            due, _basis = due_on(Period(found.year, found.month), table_of_key(profile, key).due_day,
                                 profile.settings.deadline_roll_forward)
            title = f"更正报送{report_title(profile, key)}：补报事件 {ref.incident_id}"
            s.add(Obligation(procedure=PROCEDURE, subject=subject(key), code=code, title=title[:200], clause=CLAUSE,
                             owner_role="compliance", regime="PBOC-102", due_at=end_of_day(due), evidence={},
                             reminders_sent=[], detail={"incident": ref.incident_id, "kinds": list(ref.kinds),
                                                        "discovered_at": found.isoformat(), "correction": True}))
            ledger.append_in(s, "credit_stats.correction_owed", subject(key),
                             {"incident": ref.incident_id, "kinds": list(ref.kinds), "due": due.isoformat(),
                              "setting": "credit_late_events=correct_filed_month"})
        created.append(f"{key}:{code}")
    return created


def open_corrections(key: str, url: str | None = None) -> list[Obligation]:
    """The table's correction obligations not yet fulfilled."""
    with db.session(url) as s:
        rows = list(s.execute(select(Obligation).where(Obligation.subject == subject(key),
                                                       Obligation.code.startswith(f"{CORRECTION_CODE}:"),
                                                       Obligation.fulfilled_at.is_(None))).scalars())
        for r in rows:
            s.expunge(r)
        return rows
