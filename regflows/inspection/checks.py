"""The automatic checks of the credit-system users (issue 15, item 2; PBOC-102 附件3 5.1-5.7).

Each check reads the users file as it stands at the quarter's end, the query logs (rows before
the quarter are history) and its numbers from :class:`regflows.settings.InspectionSettings`;
its title and clause come from ``rules/user-checks.yaml``. One finding per user and check.

A check the data cannot decide is *not evaluated* (:attr:`CheckResult.count` is None, with the
reason in Chinese), never reported as 0: the logs do not cover the days it needs (six months for
``low_volume_not_suspended``), or a column it needs is absent (:data:`NEEDS`; the other checks
still run). ``filing_late`` without ``changed_at``/``direct_user`` evaluates what it can and says
what it did not (:attr:`CheckResult.partial`).

Days: a query's day is its Beijing calendar day; working days are the official calendar's
(``calendars.official``: holidays off, make-up working days on); "N working days after" counts
from the next day (民法典 第二百零一条, ``WorkingDayCalendar.add_working_days``). Averages are
compared exactly (fractions), so 19.99 is below 20 and exactly 20 is not.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from calendars.official import WorkingDayCalendar, default_calendar
from calendars.zone import SHANGHAI
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.users import User, UsersFile
from regflows.kit.rulefiles import load_yaml_model
from regflows.settings import InspectionSettings

__all__ = [
    "CHECK_IDS", "RULES_FILE", "CheckId", "CheckResult", "CheckRule", "Finding", "QueryHistory", "UserCheckRules",
    "check_rules", "over_days_off", "query_history", "run_checks",
]

CheckId = Literal[
    "idle_not_locked", "low_volume_not_suspended", "centralised_out_of_range", "shared_roles", "public_user",
    "non_formal_user", "password_stale", "password_policy", "filing_late",
]
CHECK_IDS: tuple[str, ...] = (
    "idle_not_locked", "low_volume_not_suspended", "centralised_out_of_range", "shared_roles", "public_user",
    "non_formal_user", "password_stale", "password_policy", "filing_late",
)
RULES_FILE = Path(__file__).resolve().parent / "rules" / "user-checks.yaml"
#: 附件3 5.3: the three roles no user may combine (dispute handling is not among them).
EXCLUSIVE_ROLES: tuple[str, ...] = ("admin", "report", "query")
_ROLE_NAMES = {"admin": "管理员", "report": "报数", "query": "查询", "dispute": "异议处理"}
_STATUS_NAMES = {"active": "在用", "locked": "锁定", "suspended": "停用"}


# -- the rule file ----------------------------------------------------------------------------

class CheckRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: CheckId
    title: str = Field(min_length=4, title="标题")
    clause: str = Field(min_length=6, title="依据条款")
    settings: list[str] = Field(default_factory=list, title="阈值设置项")


class UserCheckRules(BaseModel):
    """``rules/user-checks.yaml``: every check once, each setting it names defined."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    checks: list[CheckRule]

    @model_validator(mode="after")
    def _complete(self) -> UserCheckRules:
        ids = [c.id for c in self.checks]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        missing = [i for i in CHECK_IDS if i not in ids]
        unknown = sorted({s for c in self.checks for s in c.settings} - set(InspectionSettings.model_fields))
        if repeated:
            raise ValueError(f"检查项重复：{'、'.join(repeated)}")
        if missing:
            raise ValueError(f"缺少检查项：{'、'.join(missing)}")
        if unknown:
            raise ValueError(f"设置项不存在：{'、'.join(unknown)}（见 regflows/settings.py InspectionSettings）")
        return self

    def rule(self, check: str) -> CheckRule:
        return next(c for c in self.checks if c.id == check)


def check_rules(path: Path = RULES_FILE) -> UserCheckRules:
    return load_yaml_model(path, UserCheckRules, what="用户检查规则")


# -- results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One user failing one check: what an owner rectifies (issue 15, item 5)."""

    check: str
    user_id: str
    line: int  # the user's line in the users file
    title: str
    clause: str
    detail: str  # Chinese: the facts that trip the check


@dataclass(frozen=True)
class CheckResult:
    check: str
    title: str
    clause: str
    findings: tuple[Finding, ...] = ()
    #: Why the data cannot decide this check (Chinese); None when it was evaluated.
    not_evaluated: str | None = None
    #: What part of the check the data could not decide (Chinese), when only part of it was
    #: evaluated (``filing_late`` without ``changed_at``/``direct_user``); None when whole.
    partial: str | None = None

    @property
    def count(self) -> int | None:
        """The number of findings, or None when not evaluated (never 0 for "unknown")."""
        return None if self.not_evaluated is not None else len(self.findings)


# -- the query logs ---------------------------------------------------------------------------

@dataclass(frozen=True)
class QueryHistory:
    """Each user's query days (Beijing) and counts per day, and the first and last days the logs
    cover (None when there is no query at all; ``last_day`` None with a ``first_day``: open-ended,
    as tests and callers that only know the start give it)."""

    first_day: dt.date | None
    per_day: dict[str, dict[dt.date, int]] = field(default_factory=dict)
    last_day: dt.date | None = None

    def covers(self, start: dt.date, end: dt.date) -> bool:
        """Whether the logs cover every day from ``start`` to ``end``."""
        return (self.first_day is not None and self.first_day <= start
                and (self.last_day is None or self.last_day >= end))

    def coverage(self) -> str:
        """The days covered, in Chinese."""
        if self.first_day is None:
            return "（日志中没有查询）"
        return f"{self.first_day} 至 {self.last_day}" if self.last_day is not None else f"自 {self.first_day} 起"

    def days(self, user_id: str) -> list[dt.date]:
        return sorted(self.per_day.get(user_id, {}))

    def count(self, user_id: str, start: dt.date, end: dt.date) -> int:
        return sum(n for d, n in self.per_day.get(user_id, {}).items() if start <= d <= end)


def query_history(logs: pd.DataFrame | Iterable[pd.DataFrame], covered_from: dt.date | None = None,
                  covered_to: dt.date | None = None) -> QueryHistory:
    """The logs (the monthly statistics' log schema: ``user_id``, ``queried_at``, ...; several
    frames for several ``--logs``) reduced to what the checks need.

    ``covered_from``/``covered_to``: the first and last days the logs cover; by default the days of
    the earliest and latest queries (a log file's name or month says nothing certain about the days
    it holds: the demo's July log starts on 06-26; taking the 1st of the month made days without
    any log count as days without a query, review of issue 15 item 2), None when there is no query
    at all. A caller that knows better (a log covering a whole month whose first day had no
    query) says so. Naive times
    are Beijing wall-clock times. A row without user or time is refused: the log reader's
    data-quality checks should have stopped it, and a count without it would be wrong.
    """
    frames = [logs] if isinstance(logs, pd.DataFrame) else list(logs)
    per_day: dict[str, dict[dt.date, int]] = {}
    earliest: dt.date | None = None
    latest: dt.date | None = None
    for frame in frames:
        missing = [c for c in ("user_id", "queried_at") if c not in frame.columns]
        if missing:
            raise InspectionInputError(f"查询日志缺少列 {', '.join(missing)}")
        times = pd.to_datetime(frame["queried_at"])
        if getattr(times.dtype, "tz", None) is not None:
            times = times.dt.tz_convert(SHANGHAI).dt.tz_localize(None)
        bad = times.isna() | frame["user_id"].isna()
        if bad.any():
            raise InspectionInputError(f"查询日志有 {int(bad.sum())} 行缺少 user_id 或 queried_at，无法用于用户检查")
        if frame.empty:
            continue
        counts = pd.DataFrame({"user_id": frame["user_id"].astype(str), "day": times.dt.date}).value_counts()
        for (user_id, day), n in counts.items():
            per_day.setdefault(str(user_id), {})
            per_day[str(user_id)][day] = per_day[str(user_id)].get(day, 0) + int(n)
            earliest = day if earliest is None or day < earliest else earliest
            latest = day if latest is None or day > latest else latest
    if covered_from is None:
        covered_from = earliest
    if covered_to is None:
        covered_to = latest
    return QueryHistory(covered_from, per_day, covered_to)


def over_days_off(history: QueryHistory, calendar: WorkingDayCalendar | None = None) -> QueryHistory:
    """The history with its covered days widened over the official non-working days right before
    its first query and right after its last: a log whose first query falls on the first working
    day after a holiday (10-09 after National Day, 01-02 after New Year) is taken to cover the
    holiday, when an institution that queries nobody has no row to show it (README
    Interpretations). A working day without any query is never assumed covered. Days the
    calendar does not know end the widening."""
    if history.first_day is None:
        return history
    cal = calendar or default_calendar()
    step = dt.timedelta(days=1)

    def off(day: dt.date) -> bool:
        try:
            return not cal.is_working_day(day)
        except Exception:  # noqa: BLE001 - a year the calendar lacks: no widening
            return False

    first = history.first_day
    while off(first - step):
        first -= step
    last = history.last_day
    if last is not None:
        while off(last + step):
            last += step
    return QueryHistory(first, history.per_day, last)


# -- the checks -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Context:
    users: UsersFile
    history: QueryHistory
    quarter: Quarter
    settings: InspectionSettings
    calendar: WorkingDayCalendar

    def active_working_days(self, user: User, start: dt.date, end: dt.date) -> int:
        return sum(1 for d in self.calendar.working_days_between(start, end) if user.active_on(d))


#: A check: the context and the finding's detail per failing user, or a reason it is not evaluated.
_Check = Callable[[_Context], "dict[str, str] | str"]


def _fmt(x: Fraction) -> str:
    return f"{float(x):.2f}"


def idle_not_locked(c: _Context) -> dict[str, str] | str:
    """5.4 (「连续30天未进行查询操作的查询用户，应立即锁定」): an active query user on a day D of
    the quarter that ends a run of at least N calendar days without a query, D being a day the logs
    cover. A run starts the day after the user's last query in the logs, or on the latest of its
    creation, the first day the logs cover and, for a user active again since ``status_since``, that
    day (an unlocked user starts afresh; README Interpretations). Every day of the quarter is tried,
    so a user who never queries and a run begun before the quarter (its N-th day before the quarter,
    the user still idle and active in it) are found (review of issue 15, item 1). The finding names
    the first such day."""
    h = c.history
    if h.first_day is None:
        return "查询日志中没有任何查询，无法确定日志覆盖的起始日"
    q, n = c.quarter, c.settings.inspection_idle_days
    last = q.last_day if h.last_day is None else min(q.last_day, h.last_day)
    if last < q.first_day:
        return f"查询日志覆盖 {h.coverage()}，不含本季度任何一天"
    out: dict[str, str] = {}
    for u in c.users.users:
        if not u.is_query_user:
            continue
        floor = max(u.created_at, h.first_day)
        if u.status == "active" and u.status_since is not None:
            floor = max(floor, u.status_since)
        queries = c.history.days(u.user_id)
        day = q.first_day
        while day <= last:
            if u.active_on(day):
                i = bisect.bisect_right(queries, day)
                start = max(floor, queries[i - 1] + dt.timedelta(days=1)) if i else floor
                length = (day - start).days + 1
                if length >= n:
                    nth = start + dt.timedelta(days=n - 1)
                    if nth == day:
                        out[u.user_id] = f"自 {start} 起连续 {n} 天无查询（第 {n} 天为 {nth}），当日仍为在用状态，未锁定"
                    else:
                        out[u.user_id] = (f"自 {start} 起无查询（第 {n} 天为 {nth}），至本季度 {day} 已连续 {length} 天无查询，"
                                          "当日仍为在用状态，未锁定")
                    break
            day += dt.timedelta(days=1)
    return out


def low_volume_not_suspended(c: _Context) -> dict[str, str] | str:
    """5.1: a distributed query user active at the quarter's end whose queries over the months
    up to the quarter's end, per official working day on which it existed and was active,
    average below the minimum."""
    months = c.settings.inspection_distributed_months
    start = c.quarter.months_back(months)
    if not c.history.covers(start, c.quarter.last_day):
        return f"需要 {start} 至 {c.quarter.last_day}（{months} 个月）的查询日志，现有日志覆盖 {c.history.coverage()}"
    floor = Fraction(str(c.settings.inspection_distributed_min_daily))
    out: dict[str, str] = {}
    for u in c.users.users:
        if not (u.is_query_user and u.query_mode == "distributed" and u.active_on(c.quarter.last_day)):
            continue
        days = c.active_working_days(u, start, c.quarter.last_day)
        if days == 0:
            continue
        queries = c.history.count(u.user_id, start, c.quarter.last_day)
        average = Fraction(queries, days)
        if average < floor:
            out[u.user_id] = (f"{start} 至 {c.quarter.last_day} 查询 {queries} 笔，在用工作日 {days} 天，日均 {_fmt(average)} 笔，"
                              f"低于 {c.settings.inspection_distributed_min_daily:g} 笔，季末仍为在用状态，未停用")
    return out


def centralised_out_of_range(c: _Context) -> dict[str, str] | str:
    """5.1: a centralised query user whose queries in the quarter, per official working day of
    the quarter on which it existed and was active (days without a query included), average
    outside the range (both bounds inside)."""
    if not c.history.covers(c.quarter.first_day, c.quarter.last_day):
        return f"需要本季度（{c.quarter.first_day} 至 {c.quarter.last_day}）的查询日志，现有日志覆盖 {c.history.coverage()}"
    low = Fraction(str(c.settings.inspection_centralised_min_daily))
    high = Fraction(str(c.settings.inspection_centralised_max_daily))
    out: dict[str, str] = {}
    for u in c.users.users:
        if not (u.is_query_user and u.query_mode == "centralised"):
            continue
        days = c.active_working_days(u, c.quarter.first_day, c.quarter.last_day)
        if days == 0:
            continue
        queries = c.history.count(u.user_id, c.quarter.first_day, c.quarter.last_day)
        average = Fraction(queries, days)
        if not low <= average <= high:
            out[u.user_id] = (f"本季度查询 {queries} 笔，在用工作日 {days} 天，日均 {_fmt(average)} 笔，"
                              f"不在 {c.settings.inspection_centralised_min_daily:g}-{c.settings.inspection_centralised_max_daily:g} 笔之间")
    return out


def shared_roles(c: _Context) -> dict[str, str] | str:
    out: dict[str, str] = {}
    for u in c.users.users:
        held = [r for r in EXCLUSIVE_ROLES if r in u.roles]
        if len(held) >= 2:
            out[u.user_id] = f"同时为{'、'.join(_ROLE_NAMES[r] for r in held)}用户"
    return out


def public_user(c: _Context) -> dict[str, str] | str:
    return {u.user_id: "未填写对应人员：用户未落实到具体人员" for u in c.users.users if u.person_id is None}


def non_formal_user(c: _Context) -> dict[str, str] | str:
    end = c.quarter.last_day
    return {u.user_id: f"持有人 {u.person_id or '（未对应人员）'} 不是正式员工，季末仍为在用状态"
            for u in c.users.users if u.active_on(end) and not u.formal_employee}


def password_stale(c: _Context) -> dict[str, str] | str:
    """5.6: last changed more than N days before the quarter's last day (an empty
    ``password_changed_at`` is the password set at creation)."""
    end, limit = c.quarter.last_day, c.settings.inspection_password_max_days
    out: dict[str, str] = {}
    for u in c.users.users:
        changed = u.password_changed_at or u.created_at
        if u.active_on(end) and (end - changed).days > limit:
            how = "最近更换口令" if u.password_changed_at else "未更换过口令，设立"
            out[u.user_id] = f"{how}于 {changed}，距季末 {end} 已 {(end - changed).days} 天，超过 {limit} 天"
    return out


def password_policy(c: _Context) -> dict[str, str] | str:
    out: dict[str, str] = {}
    for u in c.users.users:
        problems = (["口令策略未对该用户生效"] if not u.password_policy_ok else []) + (["口令重复使用"] if u.password_reused else [])
        if problems:
            out[u.user_id] = "；".join(problems)
    return out


def filing_late(c: _Context) -> dict[str, str] | str:
    """5.2: an admin or direct user filed more than N working days after it was created or last
    changed; any other user not filed by the quarter's end. The file is the state at the
    quarter's end (a filing dated later counts as not filed). A late filing is this quarter's
    finding when its due day or its filing falls in the quarter; an unfiled user every quarter
    until filed."""
    q, n = c.quarter, c.settings.inspection_filing_working_days
    out: dict[str, str] = {}
    for u in c.users.users:
        if u.created_at > q.last_day:
            continue
        filed = u.filed_at if u.filed_at is not None and u.filed_at <= q.last_day else None
        if "admin" in u.roles or u.direct_user:  # None (no direct_user column): only admins here
            ref = max(u.created_at, u.changed_at or u.created_at)
            what = "变更" if ref != u.created_at else "设立"
            if u.changed_at is not None and filed is not None and filed < u.changed_at:
                filed = None  # the filing predates the change: the change is not filed
            due = c.calendar.add_working_days(ref, n)
            kind = "管理员用户" if "admin" in u.roles else "直连用户"
            if filed is None and due <= q.last_day:
                out[u.user_id] = f"{kind}于 {ref} {what}，应于 {due} 前备案，截至季末 {q.last_day} 未备案"
            elif filed is not None and filed > due and (q.contains(due) or q.contains(filed)):
                out[u.user_id] = f"{kind}于 {ref} {what}，应于 {due} 前备案（{n} 个工作日），实际 {filed} 备案"
        elif filed is None:
            out[u.user_id] = f"截至季末 {q.last_day} 未备案"
    return out


#: The users file's columns each check needs beyond those every row has (users.COLUMNS): without
#: one the check is not evaluated, the others still run (issue 15: "a column absent").
NEEDS: dict[str, tuple[str, ...]] = {
    "public_user": ("person_id",), "non_formal_user": ("formal_employee",), "password_stale": ("password_changed_at",),
    "password_policy": ("password_policy_ok", "password_reused"), "filing_late": ("filed_at",),
}


def _filing_partial(columns: frozenset[str]) -> str | None:
    """What ``filing_late`` leaves undecided without its optional columns (5.2): an admin filed
    late needs neither, so the check runs on what the file has and says what it did not check."""
    notes = []
    if "direct_user" not in columns:
        notes.append("用户文件无直连用户（direct_user）列：非管理员用户只检查截至季末是否备案，"
                     "未检查直连用户设立或变更后 2 个工作日内备案")
    if "changed_at" not in columns:
        notes.append("用户文件无变更日期（changed_at）列：只按设立日期检查，未检查变更后的备案")
    return "；".join(notes) or None


CHECKS: dict[str, _Check] = {
    "idle_not_locked": idle_not_locked,
    "low_volume_not_suspended": low_volume_not_suspended,
    "centralised_out_of_range": centralised_out_of_range,
    "shared_roles": shared_roles,
    "public_user": public_user,
    "non_formal_user": non_formal_user,
    "password_stale": password_stale,
    "password_policy": password_policy,
    "filing_late": filing_late,
}


def run_checks(users: UsersFile, history: QueryHistory, quarter: Quarter, settings: InspectionSettings | None = None,
               calendar: WorkingDayCalendar | None = None, rules: UserCheckRules | None = None) -> dict[str, CheckResult]:
    """Every check of :data:`CHECK_IDS`, in that order; findings in the users file's order."""
    c = _Context(users, history, quarter, settings or InspectionSettings(), calendar or default_calendar())
    rules = rules or check_rules()
    line = {u.user_id: u.line for u in users.users}
    results: dict[str, CheckResult] = {}
    for check in CHECK_IDS:
        rule = rules.rule(check)
        absent = [col for col in NEEDS.get(check, ()) if col not in users.columns]
        if absent:
            results[check] = CheckResult(check, rule.title, rule.clause,
                                         not_evaluated=f"用户文件缺少 {'、'.join(absent)} 列")
            continue
        outcome = CHECKS[check](c)
        if isinstance(outcome, str):
            results[check] = CheckResult(check, rule.title, rule.clause, not_evaluated=outcome)
            continue
        findings = tuple(Finding(check, user_id, line[user_id], rule.title, rule.clause, detail)
                         for user_id, detail in sorted(outcome.items(), key=lambda item: line[item[0]]))
        partial = _filing_partial(users.columns) if check == "filing_late" else None
        results[check] = CheckResult(check, rule.title, rule.clause, findings, partial=partial)
    return results
