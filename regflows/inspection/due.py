"""When the quarter's self-inspection report is owed (issue 15, item 7).

PBOC-102 三（三） asks for a quarterly written report whose route follows the event reports
(「报告流程参照征信信息安全事件的报告要求」) and fixes no day; the institution's choice is N
official working days after the quarter's end (``inspection_report_due_working_days``, 15 by
default), counted from the next day as every working-day deadline is (民法典 第二百零一条).
"""

from __future__ import annotations

from calendars.deadlines import Deadline, within_working_days
from calendars.official import WorkingDayCalendar
from regflows.inspection.models import Quarter
from regflows.settings import InspectionSettings

__all__ = ["report_due"]


def report_due(quarter: Quarter, settings: InspectionSettings | None = None,
               calendar: WorkingDayCalendar | None = None) -> Deadline:
    """The report's deadline: 24:00 of the N-th official working day after the quarter's last day."""
    n = (settings or InspectionSettings()).inspection_report_due_working_days
    return within_working_days(quarter.last_day, n, calendar)
