"""The quarter's self-inspection report is owed from the quarter's end, whatever happens to the run
(issue 15, item 7; PBOC-102 三（三）).

三（三） asks for a quarterly written report to the PBoC whose route follows the event reports
(「报告流程参照征信信息安全事件的报告要求」, 三（二）): the head office reports to the PBoC, and each
unit that reports on its own to the PBoC branch where it is. So each of those owes the report:
one obligation per (quarter, unit), due :func:`regflows.inspection.due.report_due` (15 official
working days after the quarter's end by default, a setting), written by the run's first task and
by ``self-inspection-watch`` from the day after the quarter, reminded on working days from 09:00,
raised once its 24:00 has passed (the kit's one reminder loop), met by ``regflows self-inspection
submit`` with evidence (the kit's one fulfil). A due day in a year the calendar does not cover
yet is written undated and raised as a calendar warning (never a guessed day).

Which units report on their own is the profile's ``reports_to_local_branch``; unset, a branch of
a national access institution does and a local institution's branches do not (三（二）; the same
reading as the monthly statistics', README Interpretations): read from the profile here, since a
procedure never imports another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path
from typing import Any

from calendars.official import CalendarError
from calendars.zone import SHANGHAI
from regflows import ledger
from regflows.inspection.due import report_due
from regflows.inspection.models import Quarter
from regflows.kit import obligations
from regflows.kit.reminders import UNDATED, Feed, WorkingDaysUntilDueDay
from regflows.kit.reminders import remind as remind_all
from regflows.profile import Profile, ReportingUnit
from regflows.store import db
from regflows.store.models import Obligation
from regflows.store.obligations import find, open_rows

__all__ = ["CLAUSE", "CODE", "POLICY", "PROCEDURE", "key", "owe_last_quarter", "owe_quarter", "remind", "reporting_units",
           "subject", "submit"]

PROCEDURE = "self-inspection"
CODE = "quarterly-report"
CLAUSE = "PBOC-102 三（三）（按季度书面报告，报告流程参照征信信息安全事件）"
POLICY = WorkingDaysUntilDueDay(from_time=dt.time(9, 0))


def reporting_units(profile: Profile) -> list[ReportingUnit]:
    """The head office, then every unit that reports to its local PBoC branch on its own."""
    national = profile.institution.credit_access in ("national_head_office", "national_branch")
    head = profile.head_office
    own = [u for u in profile.reporting_units if u is not head
           and (u.reports_to_local_branch if u.reports_to_local_branch is not None else national)]
    return [head, *own]


def key(profile: Profile, quarter: Quarter, unit: str | None = None) -> str:
    """``2025Q3`` for the head office's report, ``2025Q3-YX0101`` for a unit's."""
    return quarter.label if unit is None or unit == profile.head_office.code else f"{quarter.label}-{unit}"


def subject(label: str) -> str:
    return f"{PROCEDURE}:{label}"


def owe_quarter(profile: Profile, quarter: Quarter, url: str | None = None, now: dt.datetime | None = None) -> list[str]:
    """Write each report the quarter owes that is not yet written; returns their keys. A quarter
    not yet over owes nothing yet."""
    if quarter.last_day >= (now or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI).date():
        return []
    try:
        deadline = report_due(quarter, profile.settings)
        due_at: dt.datetime | None = deadline.due
        label_due = deadline.label()
    except CalendarError:
        due_at, label_due = None, None
    created: list[str] = []
    with db.session(url) as s:
        for unit in reporting_units(profile):
            label = key(profile, quarter, unit.code)
            row = find(s, subject(label), CODE)
            if row is not None:
                if row.fulfilled_at is None and row.state == UNDATED and due_at is not None:
                    row.state, row.due_at = "pending", due_at  # the year's notice is in: dated now
                    row.detail = {**(row.detail or {}), "due_label": label_due}
                    ledger.append_in(s, "self_inspection.report_dated", subject(label), {"due": due_at.isoformat()})
                continue
            where = "人民银行" if unit is profile.head_office else f"{unit.region}人民银行分支机构"
            s.add(Obligation(procedure=PROCEDURE, subject=subject(label), code=CODE,
                             title=f"向{where}报送{unit.name}{quarter.label}征信合规与信息安全自查自纠报告", clause=CLAUSE,
                             owner_role=profile.settings.inspection_report_role, regime="PBOC-102", due_at=due_at,
                             state="pending" if due_at is not None else UNDATED, evidence={}, reminders_sent=[],
                             detail={"unit": unit.code, "quarter": quarter.label, **({"due_label": label_due} if label_due else {})}))
            ledger.append_in(s, "self_inspection.report_owed", subject(label),
                             {"unit": unit.code, "due": due_at.isoformat() if due_at else None})
            created.append(label)
    return created


def owe_last_quarter(profile: Profile, now: dt.datetime | None = None, url: str | None = None) -> list[str]:
    """From the day after a quarter, its reports are owed."""
    day = (now or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI).date()
    number = (day.month - 1) // 3 + 1
    last = Quarter(day.year - 1, 4) if number == 1 else Quarter(day.year, number - 1)
    return owe_quarter(profile, last, url, now)


class _ReportFeed(Feed):
    def undated_warning(self, row: Obligation) -> str:
        return f"{row.title}：报告截止日所在年度的国务院节假日安排尚未载入，截止日无法确定（{CLAUSE}）"


def remind(profile: Profile, now: dt.datetime | None = None, url: str | None = None, **options: Any) -> list[str]:
    """Send what is due now for every report not yet submitted; returns the keys sent. Only this
    module's rows: the procedure's other obligations (the rectifications) have their own feed."""
    rows = [r for r in open_rows(PROCEDURE, url) if r.code == CODE]
    return [s.key for s in remind_all(profile, [_ReportFeed(rows, POLICY)], now, url=url, **options)]


def submit(label: str, evidence: str, by: str, *, people: Collection[str], reference: str | None = None,
           file: str | Path | None = None, url: str | None = None, field_names: dict[str, str] | None = None) -> Obligation:
    """Mark a quarter's report submitted with evidence: stops its reminders, in the ledger."""
    return obligations.fulfil(subject(label), CODE, evidence=evidence, by=by, reference=reference, file=file, url=url,
                              not_found=f"{label} 的自查报告义务尚未登记：请先运行 self-inspection（或等待 self-inspection-watch）",
                              field_names=field_names, people=people)
