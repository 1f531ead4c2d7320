"""The quarter under inspection and the procedure's input error.

Why a quarter of its own and not the credit statistics' month: procedures never import each
other (tests/test_boundaries.py), and the self-inspection counts in quarters (三（三）: 按季度).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LEAD_KINDS", "LINKS", "OUTCOMES", "Answer", "InspectionInputError", "Lead", "Quarter"]

_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


class InspectionInputError(ValueError):
    """An input that cannot be used (a file, a row, a quarter): the message is Chinese and names it."""


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, e.g. ``2026Q3``: 1 July to 30 September, both days included."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = _QUARTER.match(text.strip()) if isinstance(text, str) else None
        if not match:
            raise InspectionInputError(f"季度应写作 YYYYQn（如 2026Q3），实为 {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def label(self) -> str:
        return f"{self.year:04d}Q{self.number}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> dt.date:
        if self.number == 4:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, 3 * self.number + 1, 1) - dt.timedelta(days=1)

    def contains(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day

    def months_back(self, months: int) -> dt.date:
        """The first day of the ``months``-month window that ends with this quarter's last day
        (6 → the first day of the previous quarter: 附件3 5.1's six months)."""
        index = self.year * 12 + (3 * self.number - 1) - (months - 1)  # months since year 0, 0-based
        return dt.date(index // 12, index % 12 + 1, 1)


#: What a lead is (issue 15, item 1): a query flagged by the monthly rules, a query drawn for the
#: spot check (PBOC-102 三（三） 不定期组织抽查), a credit-information event or an incident of the quarter.
LEAD_KINDS: dict[str, str] = {"flagged": "异常查询线索", "sampled": "抽查查询", "event": "征信信息安全事件", "incident": "安全事件"}
#: The links each lead is verified along (PBOC-102 三（三）: 从授权、审核、查询、使用、存储各环节梳理).
LINKS: dict[str, str] = {"authorisation": "授权", "review": "审核", "query": "查询", "use": "使用", "storage": "存储"}
#: An owner's outcome for one link (issue 15, item 3); violation and rectify become findings.
OUTCOMES: dict[str, str] = {"compliant": "合规", "violation": "违规", "rectify": "需整改"}


@dataclass(frozen=True)
class Lead:
    """One line of the verification worklist, verified link by link by ``owner``.

    ``lead_id`` is stable across runs of the same data: ``<kind>:<ref>`` (``flagged:Q000123``,
    ``sampled:Q000456``, ``event:<obligation subject>``, ``incident:INC-...``), so re-running a
    quarter with the same data and seed gives the same worklist.
    """

    kind: str  # a key of LEAD_KINDS
    ref: str  # the query_id, event or incident id
    unit: str  # the reporting unit or department whose owner verifies it
    owner: str | None  # the owner's person_id (profile); None: nobody named, raised by the run
    summary: str  # Chinese, one line: what happened and why it is a lead
    occurred_at: dt.datetime | None = None
    rules: tuple[str, ...] = ()  # the monthly rules that flagged it (their Chinese titles)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def lead_id(self) -> str:
        return f"{self.kind}:{self.ref}"


@dataclass(frozen=True)
class Answer:
    """One owner's outcome for one link of one lead (a page or a workbook row)."""

    lead_id: str
    link: str  # a key of LINKS
    outcome: str  # a key of OUTCOMES
    evidence: str
    answered_by: str
    answered_at: dt.datetime
    source: str  # "page" | "workbook" | "carried" (from the quarter's previous run: records.carry_over)
    source_sha256: str | None = None
    carried_from: str | None = None  # a carried answer's origin: the run it was answered on
