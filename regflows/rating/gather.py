"""The facts regflows already holds, filled into the year's evidence template (issue 16, item 3).

What the other procedures hold comes through the kit (:func:`regflows.kit.yearfacts.gather_year`:
each procedure registers a reader of its own rows; the rating never imports a procedure,
tests/test_boundaries.py). This module reads those records against the table's rows
(PBOC-102 附件3 考核评级指标及标准) and fills an item only where the meaning matches; every filled
item names its source (the store's table and the rows' ids) and stays unconfirmed until a person
confirms it (第十二条: the institution answers for its self-assessment).

Filled (:data:`AUTO_FILLED`; README, "Annual rating self-assessment"):

- 3.2 ``late_audit_reports``: the quarters' self-inspection written reports (三（三）, a 内部检查 whose
  results go to the PBoC) and the self-inspection findings' rectification reports, each made late
  or not made by its due time (计分标准2 「未按规定进行报备的，每次扣0.5分」);
- 5.2, 5.3, 5.4, 5.6, 5.7 from the user checks of the quarters' latest runs, each user counted once
  per check over the year: ``public_user`` → 5.2 ``not_real_name`` and 5.3; ``filing_late`` → 5.2
  ``filing_failures``; ``shared_roles`` → 5.3; ``idle_not_locked`` → 5.4; ``password_stale``,
  ``password_policy`` → 5.6; ``non_formal_user`` → 5.7;
- 8.1 ``unauthorized_queries``: the queries whose 授权 link an owner verified as 违规;
- 9.1 ``purpose_misused``: the incidents with a 违规使用 event and the queries whose 使用 link was
  verified 违规; 9.2 ``illegal_provisions``: 非法提供 incidents; 9.3 ``leaks``: 信用报告泄漏 incidents.

Never filled here (a person states them): every other item and fact (policies, audits, training,
objections, the systems' functions, 5.1's deviation and 5.5's approvals, every ``major_impact`` and
``lawsuit_lost``); 第十五条 and 第十六条 conditions. Late or missed reports of the monthly tables and
of incidents become ``downgrade_candidates`` of 第十五条（三）, a PBoC patrol's rectification overdue
one of 第十五条（六）: for a person to confirm, never applied (never ``downgrade_conditions``).

Drills never count: the incident procedure leaves out every incident flagged ``drill`` (the
store's ``incident.drill``) with its obligations (regflows/incident/yearfacts.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from calendars.deadlines import last_day_of
from calendars.zone import SHANGHAI
from regflows.kit.yearfacts import TIMELINESS, Owed, YearFacts
from regflows.rating.evidence import Candidate, FactValue, Gathered

__all__ = ["AUTO_FILLED", "CHECK_FACTS", "Gathering", "from_year_facts"]

#: The items filled from the store, and from what (the README's list).
AUTO_FILLED: dict[str, str] = {
    "3.2": "自查自纠书面报告、自查问题整改情况报送的迟报与逾期未报（PBOC-102 三（三）；附件4 六（二））",
    "5.2": "用户自动检查：公共用户（未落实实名）、用户未按时备案",
    "5.3": "用户自动检查：兼任、公共用户",
    "5.4": "用户自动检查：连续未查询未锁定",
    "5.6": "用户自动检查：口令超期未更换、口令策略未落实",
    "5.7": "用户自动检查：非正式员工用户",
    "8.1": "风险线索逐笔核实：授权环节违规的查询",
    "9.1": "安全事件：违规使用（演练除外）；风险线索逐笔核实：使用环节违规的查询",
    "9.2": "安全事件：非法提供（演练除外）",
    "9.3": "安全事件：信用报告泄漏（演练除外）",
}
#: User check (regflows/inspection/rules/user-checks.yaml) → the (item, fact) it counts for.
CHECK_FACTS: dict[str, tuple[tuple[str, str], ...]] = {
    "public_user": (("5.2", "not_real_name"), ("5.3", "shared_or_public_users")),
    "filing_late": (("5.2", "filing_failures"),),
    "shared_roles": (("5.3", "shared_or_public_users"),),
    "idle_not_locked": (("5.4", "stop_failures"),),
    "password_stale": (("5.6", "password_failures"),),
    "password_policy": (("5.6", "password_failures"),),
    "non_formal_user": (("5.7", "non_formal_users"),),
}
#: Incident event kind → (item, fact).
EVENT_FACTS: dict[str, tuple[str, str]] = {
    "improper_use": ("9.1", "purpose_misused"), "illegal_provision": ("9.2", "illegal_provisions"),
    "report_leak": ("9.3", "leaks"),
}
#: Verified link → (item, fact): 查询前未取得授权 (8.1), 用作约定以外用途 (9.1).
LINK_FACTS: dict[str, tuple[str, str]] = {"authorisation": ("8.1", "unauthorized_queries"), "use": ("9.1", "purpose_misused")}
EVENT_NAMES = {"illegal_provision": "非法提供", "improper_use": "违规使用", "report_leak": "信用报告泄漏"}
LINK_NAMES = {"authorisation": "授权", "use": "使用"}
SELF_INSPECTION_SOURCES = ("check", "worklist", "spot_check")
_PREFIX = "regflows 自动汇总（未确认）"
#: How many ids a source lists before it says "等 N 项".
_SHOWN = 20


@dataclass(frozen=True)
class Gathering:
    """What the template gets: the filled items, the candidates, and what a person is told (Chinese lines)."""

    gathered: dict[str, Gathered] = field(default_factory=dict)
    candidates: tuple[Candidate, ...] = ()
    notes: tuple[str, ...] = ()


def _ids(refs: Iterable[str]) -> str:
    listed = list(dict.fromkeys(refs))
    shown = "、".join(listed[:_SHOWN])
    return shown + (f" 等 {len(listed)} 项" if len(listed) > _SHOWN else "")


def _beijing(at: dt.datetime | None) -> str:
    """Beijing time as people read it; a day's 24:00 (a day-counted deadline) as ``YYYY-MM-DD 24:00``."""
    if at is None:
        return "无固定期限"
    local = at.astimezone(SHANGHAI)
    if local.time() == dt.time(0, 0):
        return f"{last_day_of(at).isoformat()} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


def _late_or_missed(rows: Iterable[Owed], now: dt.datetime) -> list[tuple[Owed, str]]:
    return [(r, t) for r in rows if (t := r.timeliness(now)) in ("late", "missed")]


def _counts(rows: Sequence[Owed], now: dt.datetime) -> str:
    tally: dict[str, int] = {}
    for r in rows:
        tally[r.timeliness(now)] = tally.get(r.timeliness(now), 0) + 1
    return "，".join(f"{TIMELINESS[k]} {tally[k]}" for k in TIMELINESS if k in tally) or "无"


def _reports(facts: YearFacts, now: dt.datetime, gathered: dict[str, Gathered], notes: list[str]) -> list[Candidate]:
    """3.2 from the self-inspection's reports; 第十五条（三） candidates from the monthly tables and the incidents' reports."""
    quarterly = [r for r in facts.reports if r.topic == "self_inspection_report"]
    own = {r.finding_id for r in facts.rectifications if r.source in SELF_INSPECTION_SOURCES}
    rectified = [r.report for r in facts.rectifications if r.finding_id in own]
    audited = quarterly + rectified
    if audited:
        bad = _late_or_missed(audited, now)
        source = (f"{_PREFIX}：表 obligation，自查自纠书面报告 {len(quarterly)} 份（{_counts(quarterly, now)}），"
                  f"自查问题整改情况报送 {len(rectified)} 项（{_counts(rectified, now)}）；计入："
                  + (_ids(f"{r.ref}（{r.subject}，{TIMELINESS[t]}）" for r, t in bad) if bad else "无"))
        gathered["3.2"] = Gathered({"late_audit_reports": len(bad)}, source)
    candidates: list[Candidate] = []
    for topic, what in (("monthly_statistics", "征信信息安全情况统计表"), ("incident_report", "安全事件报告")):
        rows = [r for r in facts.reports if r.topic == topic]
        if rows:
            notes.append(f"{what}：{len(rows)} 项（{_counts(rows, now)}）")
        for row, t in _late_or_missed(rows, now):
            met = f"，{_beijing(row.fulfilled_at)} 报送" if row.fulfilled_at else ""
            candidates.append(Candidate(3, f"{what}{TIMELINESS[t]}：{row.title}（{row.subject}，期限 {_beijing(row.due_at)}{met}）"
                                           "；是否属于迟报、漏报重大风险事件或者违规事件并造成严重后果，须人工判断",
                                        f"表 obligation {row.ref}（{row.procedure}/{row.code}）"))
    return candidates


def _rectifications(facts: YearFacts, now: dt.datetime, notes: list[str]) -> list[Candidate]:
    """第十五条（六） candidates: a PBoC patrol's finding not rectified by its due time; the rest is told."""
    candidates: list[Candidate] = []
    overdue = [r for r in facts.rectifications if r.rectification.timeliness(now) == "missed"]
    late = [r for r in facts.rectifications if r.rectification.timeliness(now) == "late"]
    if facts.rectifications:
        notes.append(f"整改问题：{len(facts.rectifications)} 项，逾期未整改 {len(overdue)} 项、逾期后整改 {len(late)} 项"
                     "（附件3 无按整改时效扣分的指标：3.2 只计整改情况的报送，请人工判断是否影响其他指标）")
    for r in overdue:
        if r.source == "patrol":
            candidates.append(Candidate(6, f"人民银行检查反馈的问题逾期未整改：{r.title}（{r.finding_id}，整改期限 "
                                           f"{_beijing(r.rectification.due_at)}）；是否存在重大风险隐患、经3次以上监管督促仍未积极整改，须人工判断",
                                        f"表 obligation {r.rectification.ref}（整改登记 {r.finding_id}）"))
    return candidates


def _user_checks(facts: YearFacts, gathered: dict[str, Gathered], notes: list[str]) -> None:
    if not facts.user_checks:
        return
    found: dict[tuple[str, str], set[str]] = {}
    refs: dict[tuple[str, str], list[str]] = {}
    unknown: dict[str, list[str]] = {}
    runs = sorted({c.run_id for c in facts.user_checks})
    for check in facts.user_checks:
        for item_fact in CHECK_FACTS.get(check.check, ()):
            found.setdefault(item_fact, set())
            if check.not_evaluated is not None:
                unknown.setdefault(item_fact[0], []).append(f"{check.quarter} {check.title}")
                continue
            found[item_fact] |= set(check.users)
            refs.setdefault(item_fact, []).extend(f"{check.check}:{u}（{check.quarter}）" for u in check.users)
    missing = [f"{facts.year}Q{n}" for n in range(1, 5) if f"{facts.year}Q{n}" not in facts.quarters_run]
    by_item: dict[str, dict[str, FactValue]] = {}
    for (item_id, fact), users in found.items():
        by_item.setdefault(item_id, {})[fact] = len(users)
    for item_id, values in sorted(by_item.items()):
        listed = {fact: refs.get((item_id, fact), []) for fact in values}
        source = (f"{_PREFIX}：表 inspection_run（各季度最新一次自查运行 {_ids(runs)}）用户自动检查，同一用户同一检查项全年计一次；"
                  + "；".join(f"{fact}：{_ids(ids) if ids else '未发现'}" for fact, ids in listed.items())
                  + (f"；未运行的季度：{'、'.join(missing)}" if missing else "")
                  + (f"；未能判断：{'、'.join(unknown[item_id])}" if item_id in unknown else ""))
        gathered[item_id] = Gathered(values, source)
    if missing:
        notes.append(f"{'、'.join(missing)} 没有自查运行：5.x 的用户检查只含已运行的季度")


def _counted(facts: YearFacts, gathered: dict[str, Gathered]) -> None:
    """8.1 and 9.x: verified violations of the worklists and the incidents' credit events (drills excluded)."""
    counts: dict[tuple[str, str], list[str]] = {}
    for event in facts.credit_events:
        for kind in event.kinds:
            if kind in EVENT_FACTS:
                counts.setdefault(EVENT_FACTS[kind], []).append(f"incident {event.incident_id}（{EVENT_NAMES[kind]}）")
    seen: set[tuple[str, str, str]] = set()
    for v in facts.violations:
        target = LINK_FACTS.get(v.link)
        if target is None or (*target, v.query_id) in seen:
            continue  # a query counts once per fact, whichever run or quarter verified it
        seen.add((*target, v.query_id))
        counts.setdefault(target, []).append(f"查询 {v.query_id}（{v.quarter} {LINK_NAMES[v.link]}环节违规，"
                                             f"inspection_answer#{v.answer_id}，核实人 {v.answered_by}）")
    by_item: dict[str, dict[str, list[str]]] = {}
    for (item_id, fact), refs in counts.items():
        by_item.setdefault(item_id, {})[fact] = refs
    for item_id, facts_of in sorted(by_item.items()):
        refs = [ref for listed in facts_of.values() for ref in listed]
        tables = ["表 incident，演练除外" if any(r.startswith("incident ") for r in refs) else "",
                  "表 inspection_answer，各季度最新一次运行中各环节最新的核实结论" if any(r.startswith("查询 ") for r in refs) else ""]
        source = (f"{_PREFIX}：" + "；".join(f"{fact} {len(listed)}：{_ids(listed)}" for fact, listed in facts_of.items())
                  + f"（{'；'.join(t for t in tables if t)}）")
        gathered[item_id] = Gathered({fact: len(listed) for fact, listed in facts_of.items()}, source)


def from_year_facts(facts: YearFacts, now: dt.datetime) -> Gathering:
    """The template's gathered items and candidates from the procedures' records of the year.

    ``now``: when the records are judged (a report not met by its due time at ``now`` is missed).
    """
    gathered: dict[str, Gathered] = {}
    notes: list[str] = []
    candidates = _reports(facts, now, gathered, notes)
    candidates += _rectifications(facts, now, notes)
    _user_checks(facts, gathered, notes)
    _counted(facts, gathered)
    if facts.credit_events:
        notes.append(f"征信信息安全事件（演练除外）：{len(facts.credit_events)} 起")
    if facts.violations:
        notes.append(f"风险线索核实为违规的环节：{len(facts.violations)} 个")
    ordered = {item_id: gathered[item_id] for item_id in sorted(gathered, key=lambda i: [int(p) for p in i.split(".")])}
    return Gathering(ordered, tuple(candidates), tuple(notes))
