"""The quarter's leads, each with the owner who verifies it (issue 15, item 1; PBOC-102 三（三）).

A lead is a query the monthly rules flagged (with their rules), a credit-information event or
another incident of the quarter from the store, or a query of the spot-check sample
(:mod:`.sample`). Its owner is its unit's ``inspection_owner`` in the profile (PBOC-102 三（三）:
逐笔核实 by the unit concerned). A lead whose unit has no owner, or whose unit the profile does not
know, keeps ``owner=None`` and is listed by :func:`unowned` so the run raises it: never silent.

Why incidents are read here and not through the monthly statistics: the store is a shared layer
(``regflows/store/models.py``), and a procedure never imports another. Drills are exercises, not
events to verify (as in the monthly counts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select

from calendars.zone import SHANGHAI
from regflows.inspection.models import InspectionInputError, Lead, Quarter
from regflows.profile import Profile
from regflows.store.db import migrate, session
from regflows.store.models import Incident

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EVENT_NAMES", "incident_leads", "owner_of", "query_leads", "quarter_rows", "unowned"]

#: PBOC-102 附件2's three event columns, as the incident record names them.
EVENT_NAMES = {"illegal_provision": "非法提供", "improper_use": "违规使用", "report_leak": "信用报告泄漏"}


def owner_of(profile: Profile | None, unit: str) -> str | None:
    """The person who verifies ``unit``'s leads: the unit's ``inspection_owner``; None when the
    unit has none or is not in the profile."""
    if profile is None:
        return None
    for u in profile.reporting_units:
        if u.code == unit:
            return u.inspection_owner
    return None


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def quarter_rows(frame: pd.DataFrame, quarter: Quarter) -> pd.DataFrame:
    """The rows of the quarter (Beijing days); a query id that appears twice among them is refused:
    two queries one id cannot tell apart would make the sample's population ambiguous."""
    times = frame["queried_at"]
    mask = (times >= _start(quarter.first_day)) & (times < _start(quarter.last_day + dt.timedelta(days=1)))
    rows = frame[mask.to_numpy()]
    repeated = rows["query_id"][rows["query_id"].duplicated()]
    if len(repeated):
        shown = "、".join(sorted({str(q) for q in repeated})[:10])
        raise InspectionInputError(f"查询日志中本季度有 {len(repeated)} 个重复的 query_id（如 {shown}）：同一编号对应多笔查询，无法逐笔核实与抽样")
    return rows


def _when(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    stamp = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=SHANGHAI)
    return stamp.astimezone(SHANGHAI)  # type: ignore[no-any-return]


def query_leads(rows: pd.DataFrame, flagged: pd.DataFrame, sampled: Sequence[str], profile: Profile | None) -> list[Lead]:
    """The flagged queries (by time, then id) and the sampled ones (in draw order) as leads."""
    keys = rows["query_id"].astype(str)
    rules = {str(q): tuple(r) for q, r in zip(flagged["query_id"], flagged["rules"], strict=True)}
    leads: list[Lead] = []
    flagged_rows = rows[keys.isin(list(rules)).to_numpy()].sort_values(["queried_at", "query_id"])
    for _, r in flagged_rows.iterrows():
        qid, unit = str(r["query_id"]), str(r["unit"])
        at = _when(r["queried_at"])
        hits = rules[qid]
        leads.append(Lead(kind="flagged", ref=qid, unit=unit, owner=owner_of(profile, unit),
                          summary=f"用户 {r['user_id']} 于 {at:%Y-%m-%d %H:%M}（北京时间）的查询被月度规则标记：{hits[0]}"
                                  + (f" 等 {len(hits)} 条规则" if len(hits) > 1 else ""),
                          occurred_at=at, rules=hits, detail={"user_id": str(r["user_id"])}))
    drawn = rows[keys.isin(list(sampled)).to_numpy()]  # only the sample's rows, not a map of the whole quarter
    by_id = {str(q): i for i, q in enumerate(drawn["query_id"])}
    for qid in sampled:
        r = drawn.iloc[by_id[qid]]
        unit, at = str(r["unit"]), _when(r["queried_at"])
        leads.append(Lead(kind="sampled", ref=str(qid), unit=unit, owner=owner_of(profile, unit),
                          summary=f"抽查：用户 {r['user_id']} 于 {at:%Y-%m-%d %H:%M}（北京时间）的查询（未被规则标记）",
                          occurred_at=at, detail={"user_id": str(r["user_id"])}))
    return leads


def incident_leads(quarter: Quarter, profile: Profile | None, url: str | None = None) -> list[Lead]:
    """The quarter's incidents (occurred or discovered in it, drills excluded): those with a
    credit-information event as ``event`` leads, the others as ``incident`` leads."""
    migrate(url)
    start, end = _start(quarter.first_day), _start(quarter.last_day + dt.timedelta(days=1))
    with session(url) as s:
        rows = s.execute(select(Incident.id, Incident.reporting_unit, Incident.title, Incident.credit_info_event,
                                Incident.record, Incident.occurred_at).where(
            Incident.drill.is_(False),
            or_(and_(Incident.occurred_at >= start, Incident.occurred_at < end),
                and_(Incident.discovered_at >= start, Incident.discovered_at < end)),
        ).order_by(Incident.occurred_at, Incident.id)).all()
    leads: list[Lead] = []
    for incident_id, unit, title, column, record, occurred_at in rows:
        listed = [k for k in [column, *((record or {}).get("credit_info_events") or [])] if k in EVENT_NAMES]
        kinds = [k for k in EVENT_NAMES if k in listed]
        at = _when(occurred_at)
        kind = "event" if kinds else "incident"
        what = f"征信信息安全事件（{'、'.join(EVENT_NAMES[k] for k in kinds)}）" if kinds else "安全事件"
        leads.append(Lead(kind=kind, ref=str(incident_id), unit=str(unit), owner=owner_of(profile, str(unit)),
                          summary=f"{what}：{title}", occurred_at=at, detail={"event_kinds": kinds}))
    return leads


def unowned(leads: Iterable[Lead], profile: Profile | None) -> list[str]:
    """One Chinese line per unit whose leads have no owner (the unit and how many)."""
    counts: dict[str, int] = {}
    for lead in leads:
        if lead.owner is None:
            counts[lead.unit] = counts.get(lead.unit, 0) + 1
    known = {u.code for u in profile.reporting_units} if profile is not None else set()
    return [f"单位 {unit} 的 {n} 条线索没有核实负责人（"
            + ("请在机构配置的报告单位中为该单位指定核实负责人（inspection_owner）" if unit in known
               else "机构配置中没有该单位，请在报告单位（reporting_units）中登记并指定核实负责人") + "）"
            for unit, n in sorted(counts.items())]
