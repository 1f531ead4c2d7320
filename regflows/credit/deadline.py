"""The monthly report's deadline: remind on working days before it, raise it when missed,
stop when the report is marked submitted with evidence.

PBOC-102 III(2): national head offices report by the 10th of the following month, local
institutions and branches by the 6th (rolled forward to a working day). The obligation row is
written when the table is prepared (``tasks/credit_stats.py``); this module is the pure-ish half
of the ``credit-stats-watch`` deployment: each working day (from 09:00) one reminder while the
report is not submitted, on the due day a "due today" reminder, after 24:00 of the due day one
raised alarm that must be acknowledged (and escalates like every such notice). Only a table
that was reviewed and signed (regflows/credit/signoff.py) can be marked submitted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from calendars.deadlines import last_day_of
from calendars.official import CalendarError, default_calendar
from calendars.zone import SHANGHAI
from regflows import ledger
from regflows.credit.signoff import CODE, PROCEDURE, STAGE_TITLES, is_final, month_obligation, stage_of, subject
from regflows.profile import Profile
from regflows.store import db
from regflows.store.models import Obligation, utcnow
from regflows.store.obligations import mark_reminded

__all__ = ["CODE", "PROCEDURE", "REMIND_FROM", "open_obligations", "remind", "reminder_for", "subject", "submit"]

REMIND_FROM = dt.time(9, 0)  # reminders go out in office hours, not at midnight


def open_obligations(url: str | None = None) -> list[Obligation]:
    with db.session(url) as s:
        rows = list(s.execute(select(Obligation).where(Obligation.procedure == PROCEDURE, Obligation.fulfilled_at.is_(None))).scalars())
        for row in rows:
            s.expunge(row)
        return rows


def reminder_for(row: Obligation, now: dt.datetime) -> tuple[str, str] | None:
    """(key, state) of the reminder due at ``now``, or None. Raises CalendarError for a day with no data."""
    if row.due_at is None:
        return None
    sent = set(row.reminders_sent or [])
    last_day = last_day_of(row.due_at)
    if now >= row.due_at:
        key = f"overdue@{last_day.isoformat()}"
        return (key, "overdue") if key not in sent else None
    local = now.astimezone(SHANGHAI)
    if local.time() < REMIND_FROM or not default_calendar().is_working_day(local.date()):
        return None
    key = f"working-day@{local.date().isoformat()}"
    if key in sent:
        return None
    return key, ("due" if local.date() == last_day else "due_soon")


def remind(profile: Profile, now: dt.datetime | None = None, url: str | None = None, **options: Any) -> list[str]:
    """Send what is due now for every unsubmitted monthly report; returns the keys sent."""
    from notices.service import send_notice

    moment = now or utcnow()
    sent: list[str] = []
    for row in open_obligations(url):
        try:
            due = reminder_for(row, moment)
        except CalendarError as exc:  # a missing calendar year is raised, not skipped
            due = (f"calendar-missing@{moment.astimezone(SHANGHAI).date()}", "calendar_missing")
            if due[0] in (row.reminders_sent or []):
                continue
            send_notice(profile, "calendar_warning", {"warnings": [str(exc)], "institution": profile.institution.name},
                        ["compliance"], notice_id=f"{row.subject}:{due[0]}", urgent=True, related=row.subject, url=url, **options)
            mark_reminded(row.id, [due[0]], url)
            sent.append(due[0])
            continue
        if due is None:
            continue
        key, state = due
        last_day = last_day_of(row.due_at)
        stage = stage_of(row.subject.split(":", 1)[1], url)
        context = {"state": state, "obligation": row.title, "clause": row.clause, "due_label": f"{last_day.isoformat()} 24:00",
                   "subject_ref": row.subject, "institution": profile.institution.name,
                   **({"subject_title": f"当前：{STAGE_TITLES[stage]}"} if stage in STAGE_TITLES else {})}
        send_notice(profile, "deadline_reminder", context, [row.owner_role], notice_id=f"{row.subject}:{key}", urgent=True,
                    requires_ack=state == "overdue", related=row.subject, url=url, **options)
        mark_reminded(row.id, [key], url)
        if state == "overdue":
            ledger.append("obligation.overdue", row.subject, {"obligation": row.code, "due": row.due_at.isoformat()}, url=url)
        sent.append(key)
    return sent


def submit(label: str, evidence: str, by: str, reference: str | None = None, url: str | None = None) -> Obligation:
    """Mark the month's report submitted, with evidence; stops its reminders; in the ledger."""
    if not evidence.strip():
        raise ValueError("标记已报送必须附证据（报送方式、对象或回执）")
    with db.session(url) as s:
        row = month_obligation(s, label)
        if row is None:
            raise LookupError(f"{label} 的统计表尚未生成：请先运行 credit-stats")
        if row.fulfilled_at is not None:
            raise ValueError(f"{label} 的统计表已于 {row.fulfilled_at.isoformat()} 标记为已报送")
        if not is_final(label, url):  # PBOC-102 附件2: only a reviewed and signed table is filed
            now = STAGE_TITLES.get(stage_of(label, url) or "", "无签核记录")
            raise ValueError(f"{label} 的统计表尚未签发（当前：{now}），不能标记为已报送：须先经复核人复核、签发人签发")
        record = {"evidence": evidence, **({"reference": reference} if reference else {})}
        row.fulfilled_at, row.fulfilled_by, row.state = utcnow(), by, "fulfilled"
        row.evidence = {"history": [{"at": row.fulfilled_at.isoformat(), "by": by, **record}]}
        ledger.append_in(s, "obligation.fulfilled", row.subject, {"obligation": row.code, "by": by, "evidence": record})
        s.flush()
        s.expunge(row)
        return row
