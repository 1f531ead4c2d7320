"""The self-inspections of a year, offered to the annual rating through the kit.

Why: the rating self-assessment (PBOC-102 附件3) fills in what the quarterly self-inspections
(三（三）) found: the user checks (5.x), the violations the owners verified (8.1, 9.x), the
written reports and the rectifications (3.2), and may not import this procedure
(tests/test_boundaries.py); it looks up the :class:`regflows.kit.yearfacts.YearFactsProvider`
registered here when ``regflows.inspection`` is imported. Read-only.

What is read, for each quarter of the year: the quarter's latest run (the one the watch follows,
:func:`regflows.inspection.records.latest_run_id`): its user checks' results as recorded with the
run (``summary.report.results``) and, for its query leads (``flagged``, ``sampled``), each link
whose latest answer is 违规 (``violation``; 需整改 is not a verified violation); the quarter's
written report (``self_inspection_report``); every finding of the quarter on the rectification
register with its rectification and report rows.
"""

from __future__ import annotations

from typing import Any

from regflows.kit.yearfacts import (
    Owed,
    RectificationRecord,
    UserCheckRecord,
    VerifiedViolation,
    YearFacts,
    YearFactsProvider,
    register_year_facts,
)

__all__ = ["PROVIDER", "QUERY_LEADS", "year_facts"]

#: The lead kinds that are one query each (models.LEAD_KINDS): their violations are the queries'.
QUERY_LEADS: tuple[str, ...] = ("flagged", "sampled")


def _owed(row: Any, topic: str = "") -> Owed:
    """An ``obligation`` row of the store as the kit's record."""
    return Owed(row.id, row.procedure, row.subject, row.code, row.title, row.clause, row.due_at, row.fulfilled_at, row.state, topic)


def year_facts(year: int, url: str | None = None) -> YearFacts:
    """The four quarters of ``year`` as the store holds them (quarters without a run give no checks nor violations)."""
    from sqlalchemy import select

    from regflows.inspection.models import Quarter
    from regflows.inspection.owed import PROCEDURE, REPORT_CODE, quarter_subject
    from regflows.inspection.records import latest_run_id
    from regflows.inspection.rectification import RECTIFY, REPORT
    from regflows.store import db
    from regflows.store.models import InspectionAnswer, InspectionLead, InspectionRun, Obligation

    quarters = [Quarter(year, n) for n in range(1, 5)]
    runs = {q.label: run_id for q in quarters if (run_id := latest_run_id(q.label, url)) is not None}
    checks: list[UserCheckRecord] = []
    violations: list[VerifiedViolation] = []
    with db.session(url) as s:
        for quarter, run_id in runs.items():
            run = s.get(InspectionRun, run_id)
            assert run is not None
            for result in ((run.summary or {}).get("report") or {}).get("results") or []:
                users = tuple(sorted({str(f["user_id"]) for f in result.get("findings") or []}))
                checks.append(UserCheckRecord(run_id, quarter, str(result["check"]), str(result["title"]), str(result["clause"]),
                                              users, result.get("not_evaluated")))
            leads = {lead.lead_id: lead for lead in s.execute(select(InspectionLead).where(
                InspectionLead.run_id == run_id, InspectionLead.kind.in_(QUERY_LEADS))).scalars()}
            latest: dict[tuple[str, str], InspectionAnswer] = {}
            for answer in s.execute(select(InspectionAnswer).where(InspectionAnswer.run_id == run_id)
                                    .order_by(InspectionAnswer.answered_at, InspectionAnswer.id)).scalars():
                latest[(answer.lead_id, answer.link)] = answer  # the latest per (lead, link) counts (records.py)
            for (lead_id, link), answer in sorted(latest.items()):
                if answer.outcome == "violation" and lead_id in leads:
                    violations.append(VerifiedViolation(run_id, quarter, lead_id, leads[lead_id].ref, link, answer.id,
                                                        answer.answered_by, answer.answered_at))
        reports = [_owed(r, "self_inspection_report") for r in s.execute(select(Obligation).where(
            Obligation.procedure == PROCEDURE, Obligation.code == REPORT_CODE,
            Obligation.subject.in_([quarter_subject(q) for q in quarters])).order_by(Obligation.subject)).scalars()]
        rows = s.execute(select(Obligation).where(Obligation.procedure == PROCEDURE, Obligation.code.in_([RECTIFY, REPORT]),
                                                  Obligation.subject.like(f"SI-{year:04d}Q%"))
                         .order_by(Obligation.subject, Obligation.code)).scalars().all()
        pairs: dict[str, dict[str, Obligation]] = {}
        for row in rows:
            pairs.setdefault(row.subject, {})[row.code] = row
        rectifications = []
        for finding_id, pair in pairs.items():
            if RECTIFY not in pair or REPORT not in pair:
                continue
            finding = (pair[RECTIFY].detail or {}).get("finding") or {}
            rectifications.append(RectificationRecord(
                finding_id, str(finding.get("quarter", "")), str(finding.get("source", "")), str(finding.get("title", "")),
                str(finding.get("clause", "")), _owed(pair[RECTIFY]), _owed(pair[REPORT], "rectification_report")))
    return YearFacts(year, reports=tuple(reports), violations=tuple(violations), rectifications=tuple(rectifications),
                     user_checks=tuple(checks), quarters_run=tuple(sorted(runs)))


PROVIDER = register_year_facts(YearFactsProvider("self-inspection", "季度自查自纠：用户检查、核实的违规、书面报告与整改", year_facts))
