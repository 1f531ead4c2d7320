"""The quarterly compliance spot check of the business departments (issue 15, item 1; CUSTINFO 10.2).

CUSTINFO 10.2 asks the compliance function to spot-check, every quarter, how the business
departments handle customer information in three areas: 收集告知 (collecting it, telling the
customer), 权限管理 (who may reach it) and 销毁流程 (destroying it), and to send each department
with a problem a rectification notice (整改通知书) with a time limit. Each problem found becomes a
finding of the rectification register (source ``spot_check``), whose due day is the notice's
time limit (regflows/inspection/notice.py writes the notice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.rectification import RectificationFinding, new_finding

__all__ = ["AREAS", "CLAUSE", "area_code", "spot_check_finding"]

CLAUSE = "CUSTINFO 10.2"
#: CUSTINFO 10.2: the three areas of the quarterly spot check, by code and Chinese name.
AREAS: dict[str, str] = {"collection": "收集告知", "access": "权限管理", "destruction": "销毁流程"}


def area_code(text: str, field: str = "area") -> str:
    """An area by its code or its Chinese name (收集告知、权限管理、销毁流程)."""
    value = (text or "").strip()
    for code, name in AREAS.items():
        if value in (code, name):
            return code
    choices = "、".join(f"{name}（{code}）" for code, name in AREAS.items())
    raise InspectionInputError(f"抽查领域（{field}）只能是 {choices} 之一，实为 {text!r}")


def spot_check_finding(*, quarter: str | Quarter, department: str, area: str, problem: str, owner: str, found_on: dt.date | str,
                       detail: str = "", names: Mapping[str, str] | None = None,
                       people: Collection[str] | None = None, today: dt.date | None = None) -> RectificationFinding:
    """One problem the spot check found in ``department``'s ``area``: a finding to rectify, fed back
    (and its notice issued) on ``found_on`` (never after ``today`` when given: new_finding)."""
    code = area_code(area, (names or {}).get("area", "area"))
    return new_finding(quarter=quarter, source="spot_check", title=f"{AREAS[code]}：{problem.strip()}" if problem else "",
                       clause=CLAUSE, unit=department, owner=owner, feedback=found_on, detail=detail, ref=None,
                       names=names, people=people, today=today)
