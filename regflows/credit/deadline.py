"""The monthly report's deadline: remind on working days before it, raise it when missed,
stop when the report is marked submitted with evidence.

PBOC-102 III(2): national head offices report by the 10th of the following month, local
institutions and branches by the 6th (rolled forward to a working day). The obligation row is
written when the table is prepared (``tasks/credit_stats.py``); this module is the credit
report's feed on the kit's one reminder loop (regflows/kit/reminders.py, policy
``WorkingDaysUntilDueDay``): each working day (from 09:00) one reminder while the report is not
submitted, on the due day a "due today" reminder, after 24:00 of the due day one raised alarm
that must be acknowledged (and escalates like every such notice); a day with no calendar data
is raised as a calendar warning. Marking the report submitted is the kit's one fulfil
(regflows/kit/obligations.py), refused unless the table was reviewed and signed
(regflows/credit/signoff.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from calendars.zone import local_label
from regflows.credit.events import credit_events
from regflows.credit.late import open_corrections
from regflows.credit.signoff import CODE, PROCEDURE, STAGE_TITLES, is_final, load, stage_of, subject
from regflows.credit.units import covering, period_of
from regflows.kit import obligations
from regflows.kit.reminders import Feed, WorkingDaysUntilDueDay
from regflows.kit.reminders import remind as remind_all
from regflows.profile import Profile
from regflows.store.models import Obligation
from regflows.store.obligations import open_rows

__all__ = ["CODE", "POLICY", "PROCEDURE", "REMIND_FROM", "CreditFeed", "remind", "subject", "submit"]

REMIND_FROM = dt.time(9, 0)  # reminders go out in office hours, not at midnight
POLICY = WorkingDaysUntilDueDay(from_time=REMIND_FROM)


class CreditFeed(Feed):
    """The months whose report is not yet submitted; the notice shows the sign-off stage."""

    def __init__(self, rows: list[Obligation], policy: WorkingDaysUntilDueDay, url: str | None = None) -> None:
        super().__init__(rows, policy)
        self.url = url

    def context(self, row: Obligation) -> dict[str, Any]:
        stage = stage_of(row.subject.split(":", 1)[1], self.url)
        return {"subject_title": f"当前：{STAGE_TITLES[stage]}"} if stage in STAGE_TITLES else {}

    def subject_label(self, row: Obligation) -> str | None:
        """``credit-stats:2026-10`` → 2026年10月征信信息安全情况统计表 (PBOC-102 附件2; review 14, 10)."""
        try:
            period = period_of(row.subject.split(":", 1)[1])
        except (IndexError, ValueError):
            return None
        return f"{period.year}年{period.month}月征信信息安全情况统计表"

    def notice_id(self, row: Obligation, key: str) -> str:
        # a table's corrections share its subject: each keeps its own reminders
        return f"{row.subject}:{key}" if row.code == CODE else f"{row.subject}:{row.code}:{key}"


def remind(profile: Profile, now: dt.datetime | None = None, url: str | None = None, **options: Any) -> list[str]:
    """Send what is due now for every unsubmitted monthly report; returns the keys sent."""
    sent = remind_all(profile, [CreditFeed(open_rows(PROCEDURE, url), POLICY, url)], now, url=url, **options)
    return [s.key for s in sent]


def _signed_and_not_submitted(label: str, url: str | None, profile: Profile | None = None) -> obligations.Precondition:
    def check(row: Obligation) -> None:
        if row.fulfilled_at is not None and row.code == CODE:
            raise ValueError(f"{label} 的统计表已于 {local_label(row.fulfilled_at)} 标记为已报送")
        if not is_final(label, url):  # PBOC-102 附件2: only a reviewed and signed table is filed
            now = STAGE_TITLES.get(stage_of(label, url) or "", "无签核记录")
            raise ValueError(f"{label} 的统计表尚未签发（当前：{now}），不能标记为已报送：须先经复核人复核、签发人签发")
        if profile is not None:
            missing = missing_events(profile, label, url)
            if missing:  # issue 12, point 17: an event is never lost
                raise ValueError(f"{label}：事件 {'、'.join(missing)} 应计入本统计表，但不在已签发的统计表中（PBOC-102 三（二））："
                                 "请重新运行 credit-stats，经复核、签发后再报送")

    return check


def missing_events(profile: Profile, key: str, url: str | None = None) -> list[str]:
    """Incidents the table counts now (regflows/credit/events.py) that its signed figures do not."""
    period = period_of(key)
    owed = {e.incident_id for e in credit_events(period, profile, url) if covering(profile, e.unit).key(period) == key}
    for row in open_corrections(key, url):  # correct_filed_month: the late ones of this table too
        owed.add(str(row.detail["incident"]))
    state = load(key, url) if owed else None
    figures = Path(state.draft["summary"]) if state is not None else None
    content = json.loads(figures.read_text(encoding="utf-8")) if figures is not None and figures.is_file() else {}
    counted = {str(e["incident"]) for e in content.get("events", [])}
    return sorted(owed - counted)


def submit(label: str, evidence: str, by: str, reference: str | None = None, url: str | None = None, *,
           people: Collection[str], file: str | Path | None = None, field_names: dict[str, str] | None = None,
           profile: Profile | None = None, correction: bool = False) -> Obligation:
    """Mark the month's report (``label``: a table key) submitted, with evidence (the file checked
    and hashed); stops its reminders; in the ledger. ``by`` must be one of ``people`` (the
    profile's person ids). With ``profile``, the signed table must count every event it owes
    (never lost). ``correction``: the corrected table is filed; its open corrections are met."""
    check = _signed_and_not_submitted(label, url, profile)
    if not correction:
        return obligations.fulfil(subject(label), CODE, evidence=evidence, by=by, reference=reference, file=file, url=url,
                                  precondition=check, not_found=f"{label} 的统计表尚未生成：请先运行 credit-stats",
                                  field_names=field_names, people=people)
    rows = open_corrections(label, url)
    if not rows:
        raise LookupError(f"{label} 没有待更正报送的统计表")
    done = [obligations.fulfil(subject(label), r.code, evidence=evidence, by=by, reference=reference, file=file, url=url,
                               precondition=check, field_names=field_names, people=people) for r in rows]
    return done[-1]
