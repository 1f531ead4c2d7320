"""What drills the institution owes, per period, from its profile's regimes (issue 17, item 1).

Digest section 5: an incident-response drill every year (NFRA 44, TENPAY 15, CQ-PLAN 第六篇二) or
every half year under CUSTINFO (8.1); a disaster-recovery drill every quarter (CUSTINFO 5.3); a
drill of a supplier's service interruption (NFRA 30: no period given, yearly is our choice); for a
critical-information-infrastructure operator a real drill and an attack-defence exercise every
year (NFRA 57, 60); and the emergency plan's yearly review (CQ-PLAN 第八章一; TENPAY 14). The rules
are data (``rules/owed.yaml``, each with its clause); :func:`owed` is pure.

Each owed drill is an obligation row of the kit (procedure ``drill``, subject ``drill:<period>``,
code the kind), due at the period's last day 24:00, reminded from the profile's month
(``drill_month``: :func:`remind_from`) and raised once the period has ended without it
(regflows/drills/reminders.py). The rows of a year are written by the reminder loop's first call
in that year (:func:`owe_year`) or by ``regflows drill owed``, so a drill nobody plans is still
owed and raised. A drill is met by recording its evidence through the kit's ``fulfil``
(:func:`record_held`): the kinds held outside regflows (disaster recovery, the CII real drill, the
attack-defence exercise, the plan review) only so; the incident and supplier drills also by the
drill run's report, later (issue 17, items 3-5).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from calendars.deadlines import end_of_day
from calendars.zone import SHANGHAI
from regflows import ledger
from regflows.kit import obligations
from regflows.kit.rulefiles import load_yaml_model
from regflows.profile import Profile, RegimeTag
from regflows.store import db
from regflows.store.models import Obligation
from regflows.store.obligations import find

__all__ = [
    "KINDS",
    "PROCEDURE",
    "RULES_FILE",
    "DrillInputError",
    "DrillRule",
    "DrillRules",
    "Owed",
    "Period",
    "cited",
    "drill_rules",
    "owe_year",
    "period_of",
    "owed",
    "record_held",
    "remind_from",
    "status",
    "subject",
]

PROCEDURE = "drill"
RULES_FILE = Path(__file__).resolve().parent / "rules" / "owed.yaml"
Kind = Literal["incident", "disaster_recovery", "supplier", "cii_real", "attack_defence", "plan_review"]
KINDS: tuple[str, ...] = ("incident", "disaster_recovery", "supplier", "cii_real", "attack_defence", "plan_review")
PeriodName = Literal["year", "half_year", "quarter"]
_MONTHS: dict[str, int] = {"year": 12, "half_year": 6, "quarter": 3}


class DrillInputError(ValueError):
    """Bad input to a drill command (a period, a kind), said in Chinese."""


@dataclass(frozen=True, order=True)
class Period:
    """A year, a half year or a quarter: ``2026``, ``2026H1``, ``2026Q3``."""

    year: int
    months: int  # 12, 6 or 3
    index: int  # 1-based within the year

    @classmethod
    def parse(cls, text: str) -> Period:
        match = re.fullmatch(r"(\d{4})(?:([HQ])([1-4]))?", text.strip().upper())
        if not match or (match[2] == "H" and int(match[3]) > 2):
            raise DrillInputError(f"期间格式应为 YYYY、YYYYH1/H2 或 YYYYQ1-Q4，实为 {text!r}")
        if match[2] is None:
            return cls(int(match[1]), 12, 1)
        return cls(int(match[1]), 6 if match[2] == "H" else 3, int(match[3]))

    @classmethod
    def all_of(cls, year: int, name: str) -> list[Period]:
        months = _MONTHS[name]
        return [cls(year, months, i) for i in range(1, 12 // months + 1)]

    @property
    def label(self) -> str:
        return {12: f"{self.year}", 6: f"{self.year}H{self.index}", 3: f"{self.year}Q{self.index}"}[self.months]

    @property
    def title(self) -> str:
        if self.months == 12:
            return f"{self.year}年"
        if self.months == 6:
            return f"{self.year}年{'上' if self.index == 1 else '下'}半年"
        return f"{self.year}年第{self.index}季度"

    @property
    def first_month(self) -> int:
        return (self.index - 1) * self.months + 1

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.first_month, 1)

    @property
    def last_day(self) -> dt.date:
        following = self.first_month + self.months
        return (dt.date(self.year + 1, 1, 1) if following > 12 else dt.date(self.year, following, 1)) - dt.timedelta(days=1)

    @property
    def due(self) -> dt.datetime:
        """The period's last day 24:00, Beijing."""
        return end_of_day(self.last_day)

    def contains(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day


# -- the rule file ----------------------------------------------------------------------------


class DrillRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Kind
    title: str = Field(min_length=4, title="标题")
    period: PeriodName = Field(title="频次")
    regimes: list[RegimeTag] = Field(min_length=1, title="适用的监管来源")
    clause: str = Field(min_length=6, title="依据条款")
    cii: bool = Field(default=False, title="仅关键信息基础设施运营者")
    runs: bool = Field(default=False, title="由 regflows 组织运行")


class DrillRules(BaseModel):
    """``rules/owed.yaml``: every kind has a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rules: list[DrillRule]

    @model_validator(mode="after")
    def _complete(self) -> DrillRules:
        missing = [k for k in KINDS if k not in {r.kind for r in self.rules}]
        if missing:
            raise ValueError(f"缺少演练类型的规则：{'、'.join(missing)}")
        return self


@lru_cache(maxsize=4)
def drill_rules(path: Path = RULES_FILE) -> DrillRules:
    return load_yaml_model(path, DrillRules, what="演练规则")


# -- what is owed (pure) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    """One drill owed in one period."""

    kind: str
    title: str
    period: Period
    clause: str
    regimes: tuple[str, ...]
    runs: bool
    remind_from: dt.date

    @property
    def subject(self) -> str:
        return subject(self.period)


def subject(period: Period) -> str:
    return f"{PROCEDURE}:{period.label}"


def remind_from(period: Period, drill_month: int) -> dt.date:
    """The first day of the month of ``period`` in the same place as ``drill_month`` in its period:
    a yearly drill from that month, a half-yearly one from the month six apart, a quarterly one from
    the month three apart (README, Interpretations: the texts give a frequency, never a month)."""
    return dt.date(period.year, period.first_month + (drill_month - 1) % period.months, 1)


def cited(clause: str, regimes: Sequence[str], profile: Profile) -> list[str]:
    """The parts of a rule's ``clause`` (separated by ；) the profile's regimes apply: a part that
    opens with one of the rule's regime tags is cited only when that regime is on (a rule for
    NFRA, TENPAY and CQ-PLAN cites TENPAY only for an institution TENPAY applies to)."""
    return [part for part in clause.split("；") if part.split(" ", 1)[0] not in regimes or profile.regime_on(part.split(" ", 1)[0])]


def owed(profile: Profile, year: int, rules: DrillRules | None = None) -> list[Owed]:
    """Every drill ``profile`` owes in ``year``, in order of kind then period. For each kind the
    applicable rules (a regime on, and for a CII rule a CII operator) are joined: the shortest
    period is owed and all their clauses are cited."""
    chosen = rules or drill_rules()
    out: list[Owed] = []
    for kind in KINDS:
        applicable = [
            r
            for r in chosen.rules
            if r.kind == kind and any(profile.regime_on(g) for g in r.regimes) and (not r.cii or profile.institution.cii_operator)
        ]
        if not applicable:
            continue
        shortest = min(applicable, key=lambda r: _MONTHS[r.period])
        clause = "；".join(dict.fromkeys(part for r in applicable for part in cited(r.clause, r.regimes, profile)))
        regimes = tuple(dict.fromkeys(g for r in applicable for g in r.regimes if profile.regime_on(g)))
        runs = any(r.runs for r in applicable)
        for period in Period.all_of(year, shortest.period):
            out.append(Owed(kind, shortest.title, period, clause, regimes, runs, remind_from(period, profile.settings.drill_month)))
    return out


# -- the rows ----------------------------------------------------------------------------------


def _row_for(item: Owed, owner_role: str) -> Obligation:
    return Obligation(
        procedure=PROCEDURE,
        subject=item.subject,
        code=item.kind,
        title=f"{item.period.title}{item.title}",
        clause=item.clause[:120],
        owner_role=owner_role,
        regime=item.regimes[0] if item.regimes else None,
        due_at=item.period.due,
        state="pending",
        evidence={},
        reminders_sent=[],
        detail={
            "period": item.period.label,
            "kind": item.kind,
            "remind_from": item.remind_from.isoformat(),
            "runs": item.runs,
            "clauses": item.clause,
            "regimes": list(item.regimes),
        },
    )


def owe_year(profile: Profile, year: int, url: str | None = None) -> list[str]:
    """Write the rows of every drill owed in ``year`` that are not written yet; returns the
    ``subject:code`` of those written now (each also in the ledger, ``drill.owed``)."""
    written: list[str] = []
    with db.session(url) as s:
        for item in owed(profile, year):
            if find(s, item.subject, item.kind) is not None:
                continue
            row = _row_for(item, profile.settings.drill_owner_role)
            s.add(row)
            s.flush()
            ledger.append_in(
                s,
                "drill.owed",
                row.subject,
                {"kind": item.kind, "period": item.period.label, "due": item.period.due.isoformat(), "clause": item.clause},
            )
            written.append(f"{row.subject}:{row.code}")
    return written


@dataclass(frozen=True)
class Status:
    """One owed drill as ``regflows drill owed`` lists it."""

    kind: str
    period: str
    title: str
    clause: str
    due: str
    state: str  # done | missing | open | waived | withdrawn
    held_at: str | None
    held_by: str | None
    runs: bool


def status(profile: Profile, year: int, now: dt.datetime, url: str | None = None) -> list[Status]:
    """What ``year`` owes (its rows written first), each done, still open, or missing (its period
    ended without it)."""
    owe_year(profile, year, url)
    out: list[Status] = []
    with db.session(url) as s:
        for item in owed(profile, year):
            row = find(s, item.subject, item.kind)
            assert row is not None  # written just above
            if row.state == "fulfilled":
                state = "done"
            elif row.state in ("waived", "withdrawn"):
                state = row.state
            else:
                state = "missing" if now >= item.period.due else "open"
            out.append(
                Status(
                    item.kind,
                    item.period.label,
                    row.title,
                    item.clause,
                    f"{item.period.last_day.isoformat()} 24:00",
                    state,
                    row.fulfilled_at.astimezone(SHANGHAI).isoformat() if row.fulfilled_at else None,
                    row.fulfilled_by,
                    item.runs,
                )
            )
    return out


def record_held(
    profile: Profile,
    kind: str,
    period_text: str,
    *,
    evidence: str,
    by: str,
    reference: str | None = None,
    file: str | Path | None = None,
    at: dt.datetime | None = None,
    url: str | None = None,
    field_names: Mapping[str, str] | None = None,
    people: Collection[str] | None = None,
) -> Obligation:
    """Record that ``kind``'s drill of the period was held, with its evidence (the kit's
    ``fulfil``: text, reference, a file checked and hashed, ledger): its reminders stop. A kind the
    profile does not owe, or a period that is not the kind's, is refused naming what is owed."""
    if kind not in KINDS:
        raise DrillInputError(f"演练类型 {kind!r} 不存在（可选：{'、'.join(KINDS)}）")
    period = Period.parse(period_text)
    items = [o for o in owed(profile, period.year) if o.kind == kind]
    if not items:
        raise DrillInputError(f"本机构配置的监管来源不要求 {kind} 类演练（见 regflows drill owed）")
    if period not in {o.period for o in items}:
        raise DrillInputError(f"{kind} 类演练按 {'、'.join(o.period.label for o in items)} 分期，没有期间 {period.label}")
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise DrillInputError(f"举行时间须带时区（如 2026-09-15T10:00+08:00）：{at.isoformat()}")
    held = (at or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI).date()
    if not period.contains(held):  # a drill counts in the period it was held in, never in another
        when = "（未给出 --at 时按现在）" if at is None else ""
        raise DrillInputError(
            f"举行日期 {held.isoformat()}{when}不在期间 {period.label}（{period.first_day.isoformat()} 至 "
            f"{period.last_day.isoformat()}）内：演练只计入其举行的期间"
        )
    owe_year(profile, period.year, url)  # owed from the year's start even if no watch has written it yet
    return obligations.fulfil(
        subject(period),
        kind,
        evidence=evidence,
        by=by,
        reference=reference,
        file=file,
        at=at,
        url=url,
        people=people,
        field_names=dict(field_names or {}),
    )


def period_of(profile: Profile, kind: str, day: dt.date) -> Period:
    """The period of ``kind`` owed by ``profile`` that contains ``day``; DrillInputError when the
    profile owes no drill of that kind."""
    for item in owed(profile, day.year):
        if item.kind == kind and item.period.contains(day):
            return item.period
    raise DrillInputError(f"本机构配置的监管来源不要求 {kind} 类演练（见 regflows drill owed）")
