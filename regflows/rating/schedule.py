"""The rating year's calendar (issue 16, item 6): which year is rated, whether the institution is
rated at all, when the self-assessment is due, and the objection window. Pure: no store.

- 第九条: the rating period is the previous calendar year (1 January to 31 December), and an
  institution newly connected in a year is not rated for that year (「对当年新接入机构不进行考核
  评级」). The connection day is the profile's ``institution.credit_connected_on``; a year before
  it (not yet connected) is refused too.
- 第十条（一）: a national institution sends its self-assessment and evidence to the PBoC by
  31 January; a day off rolls forward to the next official working day (民法典 第二百零三条, as
  every day-counted deadline of regflows). 第十一条: a local institution follows its PBoC branch,
  which applies 第十条 by analogy: the profile's ``rating_local_submission_due`` (default 01-31),
  rolled forward the same way.
- 第十条（四）: an objection within 7 working days of receiving the feedback, counted from the
  next day (民法典 第二百零一条).
"""

from __future__ import annotations

import datetime as dt

from calendars.deadlines import Deadline, by_day_of_month, within_working_days
from calendars.official import WorkingDayCalendar
from calendars.zone import SHANGHAI
from regflows.profile import Institution
from regflows.settings import RatingSettings

__all__ = [
    "NOT_AN_ACCESS_INSTITUTION", "OBJECTION_CLAUSE", "OBJECTION_WORKING_DAYS", "PROCEDURE", "SUBMISSION_CLAUSE", "RatingInputError", "due_sentence", "is_national",
    "not_rated", "objection_due", "previous_year", "submission_clause", "submission_due", "year_subject",
]

#: The procedure's name on its obligation rows, approvals and documents.
PROCEDURE = "rating"
#: 第十条（四）: 「在收到反馈之日起7个工作日内，提出书面申述」.
OBJECTION_WORKING_DAYS = 7
SUBMISSION_CLAUSE = "PBOC-102 附件3 第十条（一）"
LOCAL_SUBMISSION_CLAUSE = "PBOC-102 附件3 第十一条（参照第十条（一））"
OBJECTION_CLAUSE = "PBOC-102 附件3 第十条（四）"
NOT_AN_ACCESS_INSTITUTION = "机构配置 institution.credit_access 为 none（不是征信接入机构），不参加征信合规与信息安全年度考核评级（PBOC-102 附件3 第二条）"


class RatingInputError(ValueError):
    """What was asked names nothing valid (a year, a day, a person, a file): the entry point's usage error."""


def year_subject(year: int) -> str:
    """The subject of a rating year's obligations, approval and documents: ``rating:2025``."""
    return f"{PROCEDURE}:{year}"


def previous_year(day: dt.date | None = None) -> int:
    """第九条: the year rated is the calendar year before ``day`` (Beijing today by default)."""
    return (day or dt.datetime.now(SHANGHAI).date()).year - 1


def is_national(institution: Institution) -> bool:
    """A national access institution (PBOC-102 附件1), head office or branch: 第十条's 31 January."""
    return institution.credit_access in ("national_head_office", "national_branch")


def not_rated(institution: Institution, year: int) -> str | None:
    """Why ``year`` is not rated for this institution (Chinese), or None when it is.

    第九条: 「对当年新接入机构不进行考核评级」: the year of connection is not rated; a year before
    it neither (the institution was not connected). 第二条: only access institutions are rated."""
    if institution.credit_access == "none":
        return NOT_AN_ACCESS_INSTITUTION
    connected = institution.credit_connected_on
    if connected is None:
        return None
    if connected.year == year:
        return (f"{institution.name}于 {connected.isoformat()} 新接入金融信用信息基础数据库：对当年新接入机构不进行考核评级，"
                f"{year} 年度不自评（PBOC-102 附件3 第九条）")
    if connected.year > year:
        return (f"{institution.name}于 {connected.isoformat()} 才接入金融信用信息基础数据库，{year} 年度尚未接入，不进行考核评级"
                "（PBOC-102 附件3 第九条）")
    return None


def submission_clause(institution: Institution) -> str:
    return SUBMISSION_CLAUSE if is_national(institution) else LOCAL_SUBMISSION_CLAUSE


def submission_due(year: int, institution: Institution, settings: RatingSettings | None = None,
                   calendar: WorkingDayCalendar | None = None) -> tuple[Deadline, str]:
    """The self-assessment's deadline for rating ``year`` and its clause: 31 January of the next
    year (national, 第十条（一）) or the profile's day (local, 第十一条), rolled forward to a
    working day. Raises CalendarError when the next year's calendar is not loaded."""
    if is_national(institution):
        month, day = 1, 31
    else:
        month, day = (int(x) for x in (settings or RatingSettings()).rating_local_submission_due.split("-"))
    return by_day_of_month(year + 1, month, day, calendar=calendar), submission_clause(institution)


def due_sentence(year: int, institution: Institution, settings: RatingSettings | None = None) -> str:
    """When ``year``'s self-assessment is due, as the evidence template's header says it (no calendar
    needed: the day as written, and that a day off rolls forward)."""
    if is_national(institution):
        return f"全国性接入机构的自评结果及证明材料于 {year + 1} 年 1 月 31 日前报送人民银行（{SUBMISSION_CLAUSE}；遇休息日顺延至下一个工作日）。"
    month, day = (int(x) for x in (settings or RatingSettings()).rating_local_submission_due.split("-"))
    return (f"地方性接入机构的自评结果及证明材料于 {year + 1} 年 {month} 月 {day} 日前报送所在地人民银行分支机构"
            f"（{LOCAL_SUBMISSION_CLAUSE}；机构配置 rating_local_submission_due；遇休息日顺延至下一个工作日）。")


def objection_due(received: dt.date, calendar: WorkingDayCalendar | None = None) -> Deadline:
    """第十条（四）: 7 official working days after the day the feedback was received, from the next day."""
    return within_working_days(received, OBJECTION_WORKING_DAYS, calendar)
