"""The table's rows (one per reporting unit, zeros included) and the due date.

PBOC-102 III(2): national access institutions' head offices report by the 10th of the next
month (每月初10日内), local institutions and branches of national ones by the 6th; a last day
that is not a working day rolls forward (民法典 第二百零三条, profile ``deadline_roll_forward``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from calendars.deadlines import Deadline, by_day_of_month
from regflows.credit.models import COUNTS, DUE_DAY, CreditInputError, Period, UnitRow


def due_date(period: Period, credit_access: str, roll_forward: bool = True) -> Deadline:
    """The report's deadline for the profile's kind of access institution."""
    day = DUE_DAY.get(credit_access)
    if day is None:
        raise CreditInputError(f"机构配置 credit_access={credit_access}：不是征信接入机构，无需报送统计表")
    nxt = period.next_first_day
    return by_day_of_month(nxt.year, nxt.month, day, roll_forward=roll_forward)


def build_rows(units: Iterable[Any], query_counts: dict[str, dict[str, int]],
               event_counts: dict[str, dict[str, int]], log_regions: dict[str, str]) -> tuple[list[UnitRow], list[str]]:
    """One row per profile unit in profile order, then one per unknown code (sorted), with warnings.

    Why an unknown code gets its own row: merging it into another unit would misreport both;
    the attachment 2 table is per institution.
    """
    rows: list[UnitRow] = [UnitRow(region=u.region, institution=u.code, institution_name=u.name) for u in units]
    known = {r.institution for r in rows}
    warnings: list[str] = []
    unknown = sorted((set(query_counts) | set(event_counts) | set(log_regions)) - known)
    for code in unknown:
        rows.append(UnitRow(region=log_regions.get(code) or "未知", institution=code, institution_name=code, known=False))
        warnings.append(f"机构代码 {code} 不在机构配置的报送单位中：已单列一行（名称暂以代码表示），请核实后补充配置")
    by_code = {r.institution: r for r in rows}
    for source in (query_counts, event_counts):
        for code, counts in source.items():
            for kind, n in counts.items():
                by_code[code].counts[kind] += int(n)
    return rows, warnings


def totals(rows: list[UnitRow]) -> dict[str, int]:
    return {c: sum(r.counts[c] for r in rows) for c in COUNTS}
