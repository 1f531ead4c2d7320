"""The month's reports are owed from the 1st, whatever happens to the run (issue 12, point 13).

PBOC-102 三（二）: 「按月定期向人民银行报送…未发生征信信息安全风险事件的，应采取零报告制度」: a missing
log, a failed quality check or a crashed run does not make the report any less owed; it is
reminded and raised by credit-stats-watch like any other overdue report.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from regflows.credit.deadline import remind
from regflows.credit.owed import owe_last_month
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Notice, Obligation

BJ = dt.timezone(dt.timedelta(hours=8))


def test_without_any_run_each_table_is_owed_from_the_1st_and_raised_when_missed(home: Path, http, build_profile) -> None:
    """三（二）（零报告制度）: the obligations exist from the 1st with no run at all; overdue is raised."""
    migrate()
    profile = build_profile({"t.c": [("webhook", f"json://{http.base}/ok/compliance")]},
                            roles={"compliance": {"kind": "compliance", "name": "合规部", "members": ["t.c"], "deputy": "li.ming"}})
    assert owe_last_month(profile, dt.datetime(2025, 9, 30, 23, 0, tzinfo=BJ)) == ["2025-08", "2025-08-YX0101", "2025-08-YX0201"]
    created = owe_last_month(profile, dt.datetime(2025, 10, 1, 0, 30, tzinfo=BJ))
    assert created == ["2025-09", "2025-09-YX0101", "2025-09-YX0201"]
    assert owe_last_month(profile, dt.datetime(2025, 10, 1, 1, 30, tzinfo=BJ)) == []  # once
    with db.session() as s:
        rows = {r.subject: r for r in s.execute(select(Obligation).where(Obligation.subject.like("credit-stats:2025-09%"))).scalars()}
        owed = [e.subject for e in s.execute(select(AuditEntry).where(AuditEntry.action == "credit_stats.owed")).scalars()]
    assert set(rows) == {"credit-stats:2025-09", "credit-stats:2025-09-YX0101", "credit-stats:2025-09-YX0201"}
    assert all(r.due_at == dt.datetime(2025, 10, 10, tzinfo=BJ) for r in rows.values())  # the 6th in the holiday: the 9th
    assert "credit-stats:2025-09-YX0101" in owed
    sent = remind(profile, dt.datetime(2025, 10, 10, 0, 5, tzinfo=BJ))
    assert {k for k in sent if k.startswith("overdue@")} == {"overdue@2025-10-09", "overdue@2025-09-08"}  # August's too
    with db.session() as s:
        alarms = [n.id for n in s.execute(select(Notice).where(Notice.id.like("credit-stats:2025-09%overdue@2025-10-09"))).scalars()]
    assert set(alarms) == {"credit-stats:2025-09:overdue@2025-10-09", "credit-stats:2025-09-YX0101:overdue@2025-10-09",
                           "credit-stats:2025-09-YX0201:overdue@2025-10-09"}


def test_a_due_day_read_wrongly_is_corrected_and_what_is_now_overdue_raised_at_once(home: Path, http, build_profile) -> None:
    """三（二） and 附件1 (issue 12: a correction of our reading): the demo bank was read as national
    (the 10th); local, its head office's table is due on the 6th and its branches' tables are owed
    too, both already past due on the 8th: moved or written with the reason, and raised at once."""
    from calendars.deadlines import end_of_day

    migrate()
    profile = build_profile({"t.c": [("webhook", f"json://{http.base}/ok/compliance")]},
                            roles={"compliance": {"kind": "compliance", "name": "合规部", "members": ["t.c"], "deputy": "li.ming"}})
    with db.session() as s:
        s.add(Obligation(procedure="credit-stats", subject="credit-stats:2025-10", code="monthly-statistics", title="t",
                         clause="PBOC-102 三（二）、附件2", owner_role="compliance", regime="PBOC-102",
                         due_at=end_of_day(dt.date(2025, 11, 10)), evidence={}, reminders_sent=[], detail={}))
    now = dt.datetime(2025, 11, 8, 10, 0, tzinfo=BJ)
    assert owe_last_month(profile, now) == ["2025-10-YX0101", "2025-10-YX0201"]
    with db.session() as s:
        head = s.execute(select(Obligation).where(Obligation.subject == "credit-stats:2025-10")).scalar_one()
        entries = {(e.action, e.subject): e.payload for e in s.execute(select(AuditEntry)).scalars()}
    assert head.due_at == dt.datetime(2025, 11, 7, tzinfo=BJ)
    assert "更正" in entries[("credit_stats.due_corrected", "credit-stats:2025-10")]
    assert '"overdue_when_owed":true' in entries[("credit_stats.owed", "credit-stats:2025-10-YX0101")]
    sent = remind(profile, now)
    assert sent.count("overdue@2025-11-06") == 3  # all three raised at once
