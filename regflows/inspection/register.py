"""Every finding of a self-inspection run onto the rectification register (issue 15, item 5:
「Every finding (from the checks, the worklist, the spot checks ...) gets an owner and a
rectification due date」), so each one is traceable from its lead to its closure.

- A user check's finding (附件3 5.1-5.7) is opened on the run's day, one per user and check
  (:func:`~regflows.inspection.rectification.from_check`), in the unit of the report that holds
  the user (units.py: a unit that reports on its own, owned by its ``inspection_owner``; else the
  head office's, owned by the head office's ``inspection_owner``).
- A worklist answer of 违规 or 需整改 (三（三） 逐笔核实) is opened on the day it was answered,
  owned by the lead's owner, in the lead's unit, its reference the lead and the link.

A re-run of the quarter (the latest run) that no longer finds a user check's finding still open
withdraws it (state ``withdrawn``, 「复查运行未再发现」,
:func:`~regflows.inspection.rectification.withdraw_unfound_checks`): only check findings of the
same quarter, and only for checks the re-run evaluated; an older run registered again never
withdraws what a newer one found.

Opening is idempotent (a finding's id is a hash of its facts): the watch calls this every day and
after each import, and nothing is opened twice. What cannot be opened (no owner, a due day in a
year without calendar data, the same finding already open with other facts) is returned with the
reason, for the caller to raise: never dropped silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from calendars.official import CalendarError
from calendars.zone import SHANGHAI
from regflows.inspection import records
from regflows.inspection.checks import Finding
from regflows.inspection.models import LINKS, InspectionInputError, Quarter
from regflows.inspection.rectification import (
    RectificationConflict,
    RectificationFinding,
    from_check,
    new_finding,
    finding_status,
    open_rectification,
    reinstate_check,
    withdraw_unfound_checks,
)
from regflows.profile import Profile

__all__ = ["Registered", "register_run"]

#: What a worklist answer becomes (PBOC-102 三（三）: 自查自纠).
WORKLIST_CLAUSE = "PBOC-102 三（三）"
TO_RECTIFY = ("violation", "rectify")


@dataclass
class Registered:
    """What :func:`register_run` did: findings opened now, already open, and those it could not open (with why)."""

    opened: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)  # check findings a re-run no longer finds
    reinstated: list[str] = field(default_factory=list)  # withdrawn by a re-run, found again by a later one


def _open(finding: RectificationFinding, profile: Profile, out: Registered, url: str | None) -> None:
    try:
        opened = open_rectification(finding, settings=profile.settings, url=url)
    except (CalendarError, RectificationConflict, InspectionInputError) as exc:
        out.problems.append(f"{finding.title}：{exc}")
        return
    (out.opened if opened.created else out.existing).append(opened.finding_id)


def _found_again(finding: RectificationFinding, run_id: str, latest: bool, out: Registered, url: str | None) -> bool:
    """A user check's finding already registered by an earlier run of the quarter, found again
    (another day, another row number): the one registered first, not a conflict; withdrawn by a
    re-run in between, it is owed again (:func:`reinstate_check`) when this run is the quarter's
    latest (an older run registered again reinstates nothing). Another owner is left to
    :func:`_open`, which refuses it with the reason."""
    try:
        status = finding_status(finding.id, url)
    except LookupError:
        return False
    if status.finding.owner != finding.owner:
        return False
    if latest and reinstate_check(finding.id, run_id=run_id, url=url):
        out.reinstated.append(finding.id)
    else:
        out.existing.append(finding.id)
    return True


def register_run(run_id: str, profile: Profile, url: str | None = None) -> Registered:
    """Open the run's check findings and its worklist's violations on the rectification register."""
    out = Registered()
    run = records.run_of(run_id, url)
    if run is None:
        raise InspectionInputError(f"自查运行 {run_id} 未登记")
    quarter = Quarter.parse(run.quarter)
    people = profile.person_ids
    head = profile.head_office
    owners = {u.code: u.inspection_owner for u in profile.reporting_units}
    found_on = run.created_at.astimezone(SHANGHAI).date()
    kept = run.summary or {}
    # each report's own checks (the head office's, then each unit's that reports on its own)
    held = [kept.get("report") or {}, *(kept.get("unit_reports") or {}).values()]
    checks = held[0].get("results") or []
    latest = records.latest_run_id(run.quarter, url) == run_id
    found: set[str] = set()
    complete = True  # every finding of the run has its id: only then can the ones not found be told
    for facts in held:
        findings = [Finding(**f) for r in facts.get("results") or [] for f in r.get("findings") or []]
        unit = head.code if facts.get("head_office", True) else str(facts.get("unit"))
        owner = owners.get(unit)
        if findings and not owner:
            out.problems.append(f"用户检查发现的 {len(findings)} 个问题无法登记整改：{'总行/总部' if unit == head.code else '报送单位'}"
                                f"（{unit}）未配置 inspection_owner")
            complete = False
            continue
        for check in findings:
            try:
                finding = from_check(check, quarter=quarter, unit=unit, owner=owner or "", feedback=found_on, people=people)
            except InspectionInputError as exc:
                out.problems.append(f"用户 {check.user_id} 的检查问题：{exc}")
                complete = False
                continue
            found.add(finding.id)
            if not _found_again(finding, run_id, latest, out, url):
                _open(finding, profile, out, url)
    evaluated = {str(r.get("check")) for r in checks if r.get("not_evaluated") is None}
    if complete and latest:
        out.withdrawn = withdraw_unfound_checks(quarter, found, evaluated, run_id=run_id, url=url)
    elif not complete:
        out.problems.append("本次运行有检查问题未能登记，未据此撤销复查未再发现的问题")
    leads = {lead.lead_id: lead for lead in records.leads_of(run_id, url)}
    for (lead_id, link), answer in sorted(records.latest_answers(run_id, url).items()):
        if answer.outcome not in TO_RECTIFY:
            continue
        lead = leads.get(lead_id)
        owner = lead.owner if lead is not None else None
        if lead is None or not owner:
            out.problems.append(f"线索 {lead_id} 的{LINKS.get(link, link)}环节需整改，但线索没有核实负责人，无法登记整改")
            continue
        answered: dt.date = answer.answered_at.astimezone(SHANGHAI).date()
        verdict = "违规" if answer.outcome == "violation" else "需整改"
        try:
            finding = new_finding(quarter=quarter, source="worklist", title=f"{LINKS.get(link, link)}环节{verdict}：{lead.summary}"[:150],
                                  clause=WORKLIST_CLAUSE, unit=lead.unit, owner=owner, feedback=answered,
                                  detail=f"核实人 {answer.answered_by}：{answer.evidence}"[:2000], ref=f"{lead_id}:{link}", people=people)
        except InspectionInputError as exc:
            out.problems.append(f"线索 {lead_id} 的{LINKS.get(link, link)}环节：{exc}")
            continue
        _open(finding, profile, out, url)
    return out
