"""备注 of the attachment-2 table: what lies behind each non-zero count.

PBOC-102 附件2 注2: 「在备注中描述违规事件的详细情况，如事件较复杂时，另附详细报告」. A row with a
non-zero count in any of the five columns says, per column, the rules hit and how many queries
each (the query columns; every query under its first rule, so the numbers add up to the count;
the full list is the flagged-queries file, the "详细报告") and the incident references (the
event columns; an incident found after its month was filed says the month it occurred in).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from regflows.credit.events import EventRef
from regflows.credit.models import COUNT_TITLES, RULES

QUERY_COUNTS = ("abnormal_query", "unauthorized_query")
#: Short names of the rules for the table (the clause is in the flagged-queries file).
RULE_SHORT = {
    "no_authorization": "未取得授权", "authorization_after_query": "授权晚于查询", "authorization_expired": "授权已过期",
    "user_status": "用户状态异常", "off_hours": "非工作时间", "daily_volume": "单日查询量超限",
    "repeat_subject": "30日内重复查询同一主体",
}


def query_remarks(flagged: pd.DataFrame) -> dict[str, list[str]]:
    """institution code → one part per query column with its rules and counts."""
    out: dict[str, list[str]] = {}
    if flagged.empty:
        return out
    table = flagged.groupby(["institution", "count", "rule"], observed=True).size()
    for count in ("unauthorized_query", "abnormal_query"):  # 违规 first: the graver finding
        for code in sorted({str(i) for i, c, _ in table.index if c == count}):
            parts = table.loc[(code, count)].sort_values(ascending=False)
            total = int(parts.sum())
            rules = "，".join(f"{RULE_SHORT.get(str(r), RULES.get(str(r), ('', str(r)))[1])} {int(n)}" for r, n in parts.items())
            out.setdefault(code, []).append(f"{COUNT_TITLES[count]} {total} 笔：{rules}")
    for parts in out.values():  # 注2's 另附详细报告: the flagged-queries file lists every query
        parts[-1] += "（明细见疑似问题查询清单）"
    return out


def event_remarks(refs: Iterable[EventRef]) -> dict[str, list[str]]:
    """institution code → one part per event column with its incident references."""
    by_unit: dict[str, dict[str, list[str]]] = {}
    for ref in refs:
        note = f"{ref.incident_id}（{ref.occurred} 发生，报表报送后发现）" if ref.late else ref.incident_id
        for kind in ref.kinds:
            by_unit.setdefault(ref.unit, {}).setdefault(kind, []).append(note)
    out: dict[str, list[str]] = {}
    for unit, kinds in by_unit.items():
        for kind in ("illegal_provision", "improper_use", "report_leak"):
            if kind in kinds:
                out.setdefault(unit, []).append(f"{COUNT_TITLES[kind]} {len(kinds[kind])} 笔：事件 {'、'.join(kinds[kind])}")
    return out
