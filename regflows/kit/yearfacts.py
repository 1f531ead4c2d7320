"""What each procedure holds about a calendar year, for another procedure to read without importing it.

Why: the annual rating self-assessment (PBOC-102 附件3, issue 16 item 3) fills in the facts
regflows already holds: the monthly statistics' tables filed on time or late (三（二）), the
incidents and their reports, the self-inspection's verified violations, findings, rectifications
and user checks (三（三）). Those records belong to other procedures, and a procedure never
imports another (tests/test_boundaries.py). So, as for the query logs
(:mod:`regflows.kit.querylogs`), the kit declares the records and a registry: each procedure
registers a :class:`YearFactsProvider` when its package is imported, reading its own rows of the
store, read-only; the rating looks them up through :func:`gather_year` (the composition roots,
``regflows/procedures.py`` and the CLI, import every procedure). The records are the
procedures' own facts in neutral terms (what was owed and when it was met, which event, which
answer); what they mean for the rating's table is the rating's reading, not theirs.

Every record carries where it lives (``table`` and ``ref``: the store's table and the row's id)
so that a fact filled in from it can name its source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

__all__ = ["REPORT_TOPICS", "TIMELINESS", "CreditEvent", "NoYearFacts", "Owed", "RectificationRecord", "UserCheckRecord",
           "VerifiedViolation", "YearFacts", "YearFactsProvider", "gather_year", "register_year_facts", "year_facts_providers"]

#: What an owed report is, by topic (a provider sets one; the rating reads them by topic).
REPORT_TOPICS: dict[str, str] = {
    "monthly_statistics": "征信信息安全情况统计表（PBOC-102 三（二）、附件2）",
    "incident_report": "安全事件报告（向监管、公安等外部机关报告）",
    "self_inspection_report": "征信合规与信息安全自查自纠书面报告（PBOC-102 三（三））",
    "rectification_report": "整改情况报送（PBOC-102 附件4 六（二））",
}
#: How an owed row stands at a given time (:meth:`Owed.timeliness`), in Chinese.
TIMELINESS: dict[str, str] = {"on_time": "按时", "late": "迟报", "missed": "逾期未报", "open": "未到期", "ended": "已豁免或撤销"}
_ENDED = ("waived", "withdrawn")


@dataclass(frozen=True)
class Owed:
    """One row of the store's ``obligation`` table: what was owed, by when, and when it was met."""

    id: int  # the row's id in table ``obligation``
    procedure: str
    subject: str
    code: str
    title: str
    clause: str
    due_at: dt.datetime | None  # None: no fixed time (or waiting for its start)
    fulfilled_at: dt.datetime | None
    state: str
    topic: str = ""  # a key of REPORT_TOPICS, for the reports; "" for other rows

    @property
    def ref(self) -> str:
        return f"obligation#{self.id}"

    def timeliness(self, now: dt.datetime) -> str:
        """``on_time``, ``late`` (met after its due time), ``missed`` (due time passed at ``now``,
        not met), ``open`` (not yet due, or undated) or ``ended`` (waived or withdrawn: not owed)."""
        if self.state in _ENDED:
            return "ended"
        if self.fulfilled_at is not None:
            return "late" if self.due_at is not None and self.fulfilled_at > self.due_at else "on_time"
        return "missed" if self.due_at is not None and self.due_at < now else "open"


@dataclass(frozen=True)
class CreditEvent:
    """An incident that is a credit-information security event (PBOC-102 三（二）、附件2), drills excluded.

    ``kinds``: its attachment-2 columns among ``illegal_provision`` (非法提供), ``improper_use``
    (违规使用), ``report_leak`` (信用报告泄漏), each once."""

    incident_id: str  # the row's id in table ``incident``
    unit: str
    title: str
    kinds: tuple[str, ...]
    occurred_at: dt.datetime


@dataclass(frozen=True)
class VerifiedViolation:
    """A query lead of a self-inspection worklist whose owner's latest answer for one link is 违规
    (PBOC-102 三（三） 逐笔核实), in the latest run of its quarter."""

    run_id: str
    quarter: str
    lead_id: str  # ``flagged:<query_id>`` or ``sampled:<query_id>``
    query_id: str
    link: str  # authorisation | review | query | use | storage
    answer_id: int  # the row's id in table ``inspection_answer``
    answered_by: str
    answered_at: dt.datetime


@dataclass(frozen=True)
class RectificationRecord:
    """A finding on the rectification register with its two owed rows (the rectification and its report)."""

    finding_id: str
    quarter: str
    source: str  # check | worklist | spot_check | patrol
    title: str
    clause: str
    rectification: Owed
    report: Owed


@dataclass(frozen=True)
class UserCheckRecord:
    """One automatic user check of one quarter's latest self-inspection run (PBOC-102 附件3 5.1-5.7).

    ``users`` lists the users it found (none: the check passed), ``not_evaluated`` why the data
    could not decide it (then ``users`` is empty and means nothing)."""

    run_id: str
    quarter: str
    check: str
    title: str
    clause: str
    users: tuple[str, ...] = ()
    not_evaluated: str | None = None


@dataclass(frozen=True)
class YearFacts:
    """What the procedures hold about one calendar year; ``providers`` names who answered."""

    year: int
    reports: tuple[Owed, ...] = ()
    credit_events: tuple[CreditEvent, ...] = ()
    violations: tuple[VerifiedViolation, ...] = ()
    rectifications: tuple[RectificationRecord, ...] = ()
    user_checks: tuple[UserCheckRecord, ...] = ()
    #: The quarters of the year with a self-inspection run (the user checks and worklists read).
    quarters_run: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()

    def merged(self, other: YearFacts) -> YearFacts:
        if other.year != self.year:
            raise ValueError(f"cannot merge the facts of {other.year} into {self.year}")
        return replace(self, reports=self.reports + other.reports, credit_events=self.credit_events + other.credit_events,
                       violations=self.violations + other.violations, rectifications=self.rectifications + other.rectifications,
                       user_checks=self.user_checks + other.user_checks,
                       quarters_run=tuple(sorted({*self.quarters_run, *other.quarters_run})),
                       providers=self.providers + other.providers)


class NoYearFacts(LookupError):
    """No procedure registered its year's facts: a composition root forgot to import them."""


@dataclass(frozen=True)
class YearFactsProvider:
    """One procedure's reader of its own records of a year (read-only): ``gather(year, url)``."""

    owner: str  # the procedure that registered it, named in messages
    title: str  # Chinese: what it provides
    gather: Callable[[int, str | None], YearFacts] = field(compare=False)


_PROVIDERS: dict[str, YearFactsProvider] = {}


def register_year_facts(provider: YearFactsProvider) -> YearFactsProvider:
    """Register a procedure's provider; registering the same owner again replaces it."""
    _PROVIDERS[provider.owner] = provider
    return provider


def year_facts_providers() -> tuple[YearFactsProvider, ...]:
    """The registered providers, by owner."""
    return tuple(_PROVIDERS[k] for k in sorted(_PROVIDERS))


def gather_year(year: int, url: str | None = None) -> YearFacts:
    """Every registered procedure's facts of ``year``, merged; :class:`NoYearFacts` when none is registered."""
    if not _PROVIDERS:
        raise NoYearFacts("没有流程登记年度事实（须由各流程登记，如导入 regflows.credit、regflows.incident、regflows.inspection；"
                          "请经 regflows/procedures.py 或 regflows 命令运行）")
    out = YearFacts(year)
    for provider in year_facts_providers():
        out = out.merged(replace(provider.gather(year, url), providers=(provider.owner,)))
    return out
