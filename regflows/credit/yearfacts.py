"""The monthly statistics' tables of a year, offered to the annual rating through the kit.

Why: the rating self-assessment (PBOC-102 附件3) reads which tables were filed on time, late or not
at all (a late or missed report is a possible 第十五条（三）, for a person to confirm), and may not
import this procedure (tests/test_boundaries.py); it looks up the
:class:`regflows.kit.yearfacts.YearFactsProvider` registered here when ``regflows.credit`` is
imported. Read-only: the obligation rows this procedure writes (regflows/credit/owed.py, late.py),
each table of each month of the year (``credit-stats:YYYY-MM[-unit]``), its corrections included
(``monthly-statistics-correction:<incident>``, owed on the month's subject). The store loads
inside the function: importing the package stays light.
"""

from __future__ import annotations

from regflows.kit.yearfacts import Owed, YearFacts, YearFactsProvider, register_year_facts

__all__ = ["PROVIDER", "year_facts"]


def year_facts(year: int, url: str | None = None) -> YearFacts:
    """Every table (and correction) owed for the months of ``year``, as :class:`Owed` rows, topic ``monthly_statistics``."""
    from sqlalchemy import or_, select

    from regflows.credit.late import CORRECTION_CODE
    from regflows.credit.signoff import CODE, PROCEDURE, subject
    from regflows.store import db
    from regflows.store.models import Obligation

    with db.session(url) as s:
        rows = s.execute(select(Obligation).where(
            Obligation.procedure == PROCEDURE, Obligation.subject.like(f"{subject(f'{year:04d}-')}%"),
            or_(Obligation.code == CODE, Obligation.code.startswith(f"{CORRECTION_CODE}:")),
        ).order_by(Obligation.subject, Obligation.id)).scalars().all()
        owed = tuple(Owed(r.id, r.procedure, r.subject, r.code, r.title, r.clause, r.due_at, r.fulfilled_at, r.state,
                          "monthly_statistics") for r in rows)
    return YearFacts(year, reports=owed)


PROVIDER = register_year_facts(YearFactsProvider("credit-stats", "征信信息安全情况统计表的报送（按月）", year_facts))
