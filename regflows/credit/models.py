"""Columns, value sets, rule names and errors of the credit statistics.

The column lists are the issue's input contract (issue 7, "Inputs"); the rule names are what the
flagged-queries file and the artifacts show, each with the clause it comes from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, Protocol

from calendars.zone import SHANGHAI

LOG_COLUMNS: tuple[str, ...] = (
    "query_id", "queried_at", "user_id", "institution", "region", "subject_id", "subject_type",
    "reason_code", "authorization_id", "authorized_at",
)
LOG_OPTIONAL_COLUMNS: tuple[str, ...] = ("authorization_expires", "loan_application_id")
#: Columns that must hold a value on every row (authorization is a rule-2 finding, not a DQ failure).
LOG_REQUIRED_VALUES: tuple[str, ...] = (
    "query_id", "queried_at", "user_id", "institution", "subject_id", "subject_type", "reason_code",
)
LOG_DATE_COLUMNS: tuple[str, ...] = ("authorized_at", "authorization_expires")
#: The longest text a log or users field may hold (ids, codes, region names are far shorter): a
#: longer value is a data-quality failure naming its row, never carried into summary.json or cut
#: silently by Excel's cell limit (issue 13, 10).
MAX_TEXT_LENGTH = 200

LOG_STRING_COLUMNS: tuple[str, ...] = (
    "query_id", "user_id", "institution", "region", "subject_id", "subject_type", "reason_code",
    "authorization_id", "loan_application_id",
)

USER_COLUMNS: tuple[str, ...] = ("user_id", "status", "formal_employee")
USER_OPTIONAL_COLUMNS: tuple[str, ...] = ("status_since",)
USER_STATUSES: tuple[str, ...] = ("active", "locked", "suspended")

SUBJECT_TYPES: tuple[str, ...] = ("person", "enterprise")
#: A raw resident identity number (GB 11643: 17 digits and a check digit 0-9/X): the log must
#: carry masked or hashed subjects (PBOC-102 II(4); CUSTINFO: personal data minimised).
RAW_ID_PATTERN = r"^\d{17}[\dXx]$"

Count = Literal["abnormal_query", "unauthorized_query", "illegal_provision", "improper_use", "report_leak"]
COUNTS: tuple[str, ...] = ("abnormal_query", "unauthorized_query", "illegal_provision", "improper_use", "report_leak")
COUNT_TITLES: dict[str, str] = {
    "abnormal_query": "异常查询",
    "unauthorized_query": "违规查询",
    "illegal_provision": "非法提供",
    "improper_use": "违规使用",
    "report_leak": "信用报告泄漏",
}
#: Incident.credit_info_event values counted from the store (PBOC-102 III(2), attachment 2).
EVENT_KINDS: tuple[str, ...] = ("illegal_provision", "improper_use", "report_leak")

#: Rule name → (count it feeds, Chinese description with its clause).
RULES: dict[str, tuple[str, str]] = {
    "no_authorization": ("unauthorized_query", "未取得授权（PBOC-102 附件3 8.1）"),
    "authorization_after_query": ("unauthorized_query", "授权日期晚于查询日期（PBOC-102 附件3 8.1）"),
    "authorization_expired": ("unauthorized_query", "查询日期晚于授权到期日（PBOC-102 附件3 8.1）"),
    "user_status": ("abnormal_query", "查询时用户已锁定/停用或非正式员工（PBOC-102 二（四））"),
    "off_hours": ("abnormal_query", "非工作日或工作时间以外查询（PBOC-102 二（四））"),
    "daily_volume": ("abnormal_query", "同一用户单日查询量超过阈值（PBOC-102 二（四））"),
    "repeat_subject": ("abnormal_query", "同一机构30日内多次查询同一主体（PBOC-102 二（四））"),
    # An unlisted 查询原因 code: the purpose of the query is not one agreed for that subject type,
    # a lead to verify in the quarterly self-inspection (PBOC-102 三（三）), not bad data
    # (附件3 9.1: 不得用于约定外用途; interpretation in the README).
    "reason_not_agreed": ("abnormal_query", "查询原因不在约定用途的代码集合内，待季度自查核实（PBOC-102 附件3 9.1）"),
}

DUE_DAY: dict[str, int] = {"national_head_office": 10, "national_branch": 6, "local": 6}


class CreditInputError(ValueError):
    """An input that cannot be read at all (empty, unreadable, missing column): nothing is published."""


@dataclass(frozen=True)
class Period:
    """A reporting month; ``start``/``end`` are aware Asia/Shanghai instants, end exclusive."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Period":
        try:
            year, month = (int(p) for p in text.split("-"))
            dt.date(year, month, 1)
        except (ValueError, TypeError) as exc:
            raise CreditInputError(f"统计期间应为 YYYY-MM，实为 {text!r}") from exc
        return cls(year, month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> dt.date:
        return dt.date(self.year + (self.month == 12), self.month % 12 + 1, 1)

    @property
    def start(self) -> dt.datetime:
        d = self.first_day
        return dt.datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)

    @property
    def end(self) -> dt.datetime:
        d = self.next_first_day
        return dt.datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)

    def previous(self) -> "Period":
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


class Span(Protocol):
    """What the rules and the log suite need of a stretch of days: a month (:class:`Period`) for the
    monthly table, one day (:class:`regflows.credit.daily.Day`) for the daily check (日核查)."""

    @property
    def label(self) -> str: ...

    @property
    def first_day(self) -> dt.date: ...

    @property
    def next_first_day(self) -> dt.date: ...

    @property
    def end(self) -> dt.datetime: ...


def previous_period(today: dt.date | None = None) -> Period:
    """The month before today (Asia/Shanghai): what a run on the 1st reports."""
    day = today or dt.datetime.now(SHANGHAI).date()
    return Period(day.year, day.month).previous()


@dataclass(frozen=True)
class Thresholds:
    """异常查询 thresholds (PBOC-102 II(4) asks for monitoring with thresholds; values are ours).

    No defaults here: each value is a profile setting defined once, with its default, in
    :class:`regflows.settings.CreditSettings`; :func:`regflows.credit.settings.thresholds` builds
    this from them. ``reason_codes`` are the personal 查询原因代码 (PH010Q03),
    ``enterprise_reason_codes`` the enterprise ones (EA01BD02): the same number means something
    else for each subject type, so each is checked against its own set.
    """

    work_start: dt.time
    work_end: dt.time
    daily_limit: int
    repeat_limit: int
    repeat_window_days: int
    reason_codes: tuple[str, ...]
    enterprise_reason_codes: tuple[str, ...]
    blocked_statuses: tuple[str, ...]
    non_formal_abnormal: bool


@dataclass
class UnitRow:
    """One row of the table: a reporting unit (or an unknown code) and its five counts."""

    region: str
    institution: str
    institution_name: str
    counts: dict[str, int] = field(default_factory=lambda: {c: 0 for c in COUNTS})
    known: bool = True
    remark: str = ""  # 备注 (PBOC-102 附件2 注2): what lies behind the non-zero counts

    def as_summary(self) -> dict[str, object]:
        return {"region": self.region, "institution": self.institution, "institution_name": self.institution_name,
                **{c: int(self.counts[c]) for c in COUNTS}, "remark": self.remark}
