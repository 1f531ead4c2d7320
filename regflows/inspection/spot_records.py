"""What the quarterly compliance spot check covered (CUSTINFO 10.2; issue 15, item 1): each
department × area checked, on which day, by whom, with or without a problem.

CUSTINFO 10.2 asks for a quarterly spot check of the business departments' 收集告知、权限管理、
销毁流程. Its problems are findings of the rectification register (regflows/inspection/spot_check.py);
a check that found nothing left no trace, so the report could not say what was checked. Each
check performed is recorded here (table ``inspection_spot_check``, in the ledger as
``inspection.spot_check_recorded``).

The result is derived, never typed in: a department × area with spot-check findings in the
quarter (source ``spot_check``, the department as the finding's unit, the area as the title's
prefix) counts as ``problems`` with those findings' ids, otherwise ``ok``. Why derived: a result
typed beside the register could disagree with it; a finding added after the record still counts.
A department × area with findings but no record is covered too (the finding shows it was
checked): its day and person are then unknown (None), never invented.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from calendars.official import WorkingDayCalendar
from regflows import ledger
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.rectification import day_off, list_findings
from regflows.inspection.spot_check import AREAS, area_code
from regflows.store import db
from regflows.store.models import InspectionSpotCheck

__all__ = ["LABELS", "RESULTS", "SpotCheck", "record_spot_check", "spot_checks"]

#: The results as people read them (the CLI's JSON keeps the codes).
RESULTS = {"ok": "未发现问题", "problems": "发现问题"}
#: Field names as errors print them; an entry point passes its own (``{"by": "--by"}``).
LABELS = {"quarter": "季度", "department": "业务部门", "area": "抽查领域", "by": "抽查人", "checked_on": "抽查日期", "note": "说明"}
_LIMITS = {"department": 100, "note": 2000}  # the department is a finding's unit: the register's limit


@dataclass(frozen=True)
class SpotCheck:
    """One department × area checked in a quarter; ``checked_on``/``by`` None when only a finding shows it."""

    quarter: str
    department: str
    area: str  # spot_check.AREAS code
    checked_on: dt.date | None
    by: str | None
    note: str
    findings: tuple[str, ...]  # the ids of its spot-check findings in the quarter

    @property
    def result(self) -> str:
        return "problems" if self.findings else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {"quarter": self.quarter, "department": self.department, "area": self.area, "area_name": AREAS[self.area],
                "checked_on": self.checked_on.isoformat() if self.checked_on else None, "by": self.by, "note": self.note,
                "result": self.result, "findings": list(self.findings)}


def _field(name: str, names: Mapping[str, str] | None) -> str:
    return f"{LABELS[name]}（{(names or {}).get(name, name)}）"


def record_spot_check(*, quarter: str | Quarter, department: str, area: str, by: str, checked_on: dt.date | str | None = None,
                      note: str = "", people: Collection[str] | None = None, today: dt.date, names: Mapping[str, str] | None = None,
                      calendar: WorkingDayCalendar | None = None, url: str | None = None) -> tuple[SpotCheck, bool]:
    """Record that ``department``'s ``area`` was spot-checked on ``checked_on`` (default ``today``,
    Beijing) by ``by`` (a profile person). Every field checked first (a Chinese error names the
    first bad one; nothing written): the day is an official working day (the check is done at
    work; the calendar's CalendarError for a year without data), not after ``today``, not before
    the quarter's first day. Recording the same quarter, department, area and day again changes
    nothing (returns ``created`` False)."""
    try:
        q = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    except InspectionInputError as exc:
        raise InspectionInputError(f"{_field('quarter', names)}：{exc}") from exc
    dept = (department or "").strip()
    if not dept:
        raise InspectionInputError(f"{_field('department', names)}不能为空")
    for name, value in (("department", dept), ("note", (note or "").strip())):
        if len(value) > _LIMITS[name]:
            raise InspectionInputError(f"{_field(name, names)}过长：{len(value)} 字，最多 {_LIMITS[name]} 字")
    if "\n" in dept or "\r" in dept:
        raise InspectionInputError(f"{_field('department', names)}不能换行")
    code = area_code(area, (names or {}).get("area", "area"))
    person = (by or "").strip()
    if not person:
        raise InspectionInputError(f"{_field('by', names)}不能为空")
    if people is not None and person not in people:
        raise InspectionInputError(f"{_field('by', names)} {person} 不在机构配置的人员（people）中")
    if checked_on is None:
        day = today
    elif isinstance(checked_on, str):
        try:
            day = dt.date.fromisoformat(checked_on.strip())
        except ValueError as exc:
            raise InspectionInputError(f"{_field('checked_on', names)}应写作 YYYY-MM-DD，实为 {checked_on!r}") from exc
    else:
        day = checked_on
    if day > today:
        raise InspectionInputError(f"{_field('checked_on', names)} {day} 晚于今天 {today}（北京时间）：只能登记已完成的抽查")
    if day < q.first_day:
        raise InspectionInputError(f"{_field('checked_on', names)} {day} 早于 {q.label} 的第一天 {q.first_day}：不是该季度的抽查")
    from calendars.official import default_calendar

    status = (calendar or default_calendar()).status(day)  # CalendarError: a year without calendar data
    if not status.working:
        raise InspectionInputError(f"{_field('checked_on', names)} {day} 是{day_off(status)}，不是工作日：请写实际抽查的工作日")
    with db.session(url) as s:
        existing = s.execute(select(InspectionSpotCheck).where(
            InspectionSpotCheck.quarter == q.label, InspectionSpotCheck.department == dept, InspectionSpotCheck.area == code,
            InspectionSpotCheck.checked_on == day)).scalar_one_or_none()
        created = existing is None
        if created:
            s.add(InspectionSpotCheck(quarter=q.label, department=dept, area=code, checked_on=day, checked_by=person,
                                      note=(note or "").strip()))
            ledger.append_in(s, "inspection.spot_check_recorded", f"spot-check:{q.label}",
                             {"quarter": q.label, "department": dept, "area": code, "checked_on": day.isoformat(), "by": person,
                              "clause": "CUSTINFO 10.2"}, actor=person)
    found = [c for c in spot_checks(q, url) if (c.department, c.area, c.checked_on) == (dept, code, day)]
    return found[0], created


def spot_checks(quarter: Quarter, url: str | None = None) -> list[SpotCheck]:
    """The quarter's spot check as covered: every record (by department, area, day), each with its
    department × area's spot-check findings, then each department × area with findings but no
    record (day and person None)."""
    with db.session(url) as s:
        rows = list(s.execute(select(InspectionSpotCheck).where(InspectionSpotCheck.quarter == quarter.label)
                              .order_by(InspectionSpotCheck.department, InspectionSpotCheck.area,
                                        InspectionSpotCheck.checked_on, InspectionSpotCheck.id)).scalars())
    problems: dict[tuple[str, str], list[str]] = {}
    for status in list_findings(quarter, url):
        f = status.finding
        if f.source != "spot_check":
            continue
        for code, name in AREAS.items():
            if f.title.startswith(f"{name}："):  # spot_check_finding's title: 「<area>：<problem>」
                problems.setdefault((f.unit, code), []).append(status.id)
    out = [SpotCheck(quarter.label, r.department, r.area, r.checked_on, r.checked_by, r.note,
                     tuple(problems.get((r.department, r.area), ()))) for r in rows]
    recorded = {(r.department, r.area) for r in rows}
    out += [SpotCheck(quarter.label, dept, code, None, None, "", tuple(ids))
            for (dept, code), ids in sorted(problems.items()) if (dept, code) not in recorded]
    return out
