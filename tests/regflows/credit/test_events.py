"""Credit events from the store: several kinds per incident, and events found late (issue 12, point 17).

PBOC-102 三（二） and 附件2: every month's 非法提供、违规使用、信用报告泄漏 are reported, zero included;
an event discovered after its month's table was filed is reported in the month it was discovered
(``credit_late_events = discovery_month``, the default) or as a correction of the filed month
(``correct_filed_month``), never lost; an incident with several kinds counts in each column.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from calendars.deadlines import end_of_day
from regflows.credit.events import counts_of, credit_events
from regflows.credit.models import Period
from regflows.profile import DEMO_PROFILE, Profile, load_profile
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Incident, Obligation

BJ = dt.timezone(dt.timedelta(hours=8))
SEP, OCT = Period(2025, 9), Period(2025, 10)


def _incident(i: str, unit: str, occurred: dt.datetime, discovered: dt.datetime, kind: str | None,
              more: list[str] | None = None) -> Incident:
    record: dict[str, Any] = {"credit_info_events": more} if more else {}
    return Incident(id=i, reporting_unit=unit, title="t", category="data", occurred_at=occurred, discovered_at=discovered,
                    drill=False, credit_info_event=kind, record=record)


def _filed(key: str, at: dt.datetime, due: dt.date) -> Obligation:
    return Obligation(procedure="credit-stats", subject=f"credit-stats:{key}", code="monthly-statistics", title="t",
                      clause="PBOC-102 三（二）、附件2", owner_role="compliance", regime="PBOC-102", due_at=end_of_day(due),
                      evidence={}, reminders_sent=[], detail={}, fulfilled_at=at, state="fulfilled", fulfilled_by="he.min")


def _profile(setting: str) -> Profile:
    data = load_profile(DEMO_PROFILE).model_dump(mode="json")
    data["settings"]["credit_late_events"] = setting
    return Profile.model_validate(data)


def test_an_incident_with_several_kinds_counts_in_each_of_its_columns(home: Path) -> None:
    """附件2: one incident is one 笔 in each of its columns (非法提供 and 信用报告泄漏 alike)."""
    from regflows.incident.record import validate_record

    record = validate_record({"title": "征信报告被出售", "occurred_at": "2025-09-10T09:00:00+08:00",
                              "discovered_at": "2025-09-10T10:00:00+08:00", "discovered_by": "合规部", "system_name": "征信查询系统",
                              "category": "information_destruction", "credit_info_events": ["illegal_provision", "report_leak"]})
    assert record.credit_info_event == "illegal_provision"  # the clock's immediate report still applies
    migrate()
    with db.session() as s:
        s.add(_incident("m", "YX0001", dt.datetime(2025, 9, 10, 9, tzinfo=BJ), dt.datetime(2025, 9, 10, 10, tzinfo=BJ),
                        record.credit_info_event, list(record.credit_info_events)))
    refs = credit_events(SEP, load_profile(DEMO_PROFILE))
    assert counts_of(refs) == {"YX0001": {"illegal_provision": 1, "report_leak": 1}}


@pytest.fixture
def late(home: Path) -> None:
    """September's head-office table filed on 10-09; an incident of 09-20 discovered on 10-15, one of
    09-25 discovered on 10-03 (before filing), and a Chengdu one of 09-28 discovered 10-16 whose
    own table is not filed yet."""
    migrate()
    with db.session() as s:
        s.add(_filed("2025-09", dt.datetime(2025, 10, 9, 10, tzinfo=BJ), dt.date(2025, 10, 9)))
        s.add(_incident("late", "YX0001", dt.datetime(2025, 9, 20, tzinfo=BJ), dt.datetime(2025, 10, 15, tzinfo=BJ), "report_leak"))
        s.add(_incident("early", "YX0001", dt.datetime(2025, 9, 25, tzinfo=BJ), dt.datetime(2025, 10, 3, tzinfo=BJ), "improper_use"))
        s.add(_incident("cd", "YX0101", dt.datetime(2025, 9, 28, tzinfo=BJ), dt.datetime(2025, 10, 16, tzinfo=BJ), "report_leak"))


def test_found_after_filing_counts_in_the_month_of_discovery_by_default(late: None, tmp_path: Path, row, write_csv) -> None:
    """三（二） (every month, never lost), setting ``discovery_month``: September keeps what it
    filed; October reports the late event, its 备注 saying it occurred in September."""
    from regflows.credit.pipeline import run

    profile = _profile("discovery_month")
    sep = {r.incident_id: r.late for r in credit_events(SEP, profile)}
    assert sep == {"early": False, "cd": False}  # Chengdu's own September table is not filed: it stays there
    oct_refs = credit_events(OCT, profile)
    assert [(r.incident_id, r.late, r.occurred) for r in oct_refs] == [("late", True, "2025-09")]
    log = write_csv(tmp_path / "log.csv", [])
    outcome = run(log, OCT, profile, tmp_path / "out", events=oct_refs)
    head = outcome.tables[0].rows[0]
    assert head.counts["report_leak"] == 1 and "late（2025-09 发生，报表报送后发现）" in head.remark


def test_found_after_filing_is_a_correction_of_the_filed_month_when_set(late: None, http, build_profile) -> None:
    """三（二）, setting ``correct_filed_month``: the event counts in September; September's filed
    table owes a correction (an obligation, in the ledger, reminded like the report)."""
    from regflows.credit.late import owe_corrections

    profile = _profile("correct_filed_month")
    assert {r.incident_id for r in credit_events(SEP, profile)} == {"late", "early", "cd"}
    assert credit_events(OCT, profile) == []
    assert owe_corrections(profile) == ["2025-09:monthly-statistics-correction:late"]
    assert owe_corrections(profile) == []  # once
    with db.session() as s:
        row = s.execute(select(Obligation).where(Obligation.code == "monthly-statistics-correction:late")).scalar_one()
        ledgered = s.execute(select(AuditEntry).where(AuditEntry.action == "credit_stats.correction_owed")).scalars().all()
    assert row.subject == "credit-stats:2025-09" and "更正报送" in row.title
    assert row.due_at == dt.datetime(2025, 11, 7, tzinfo=BJ)  # with the next regular report: 11-06, 24:00
    assert len(ledgered) == 1
    from regflows.credit.deadline import missing_events

    assert missing_events(profile, "2025-09") == ["early", "late"]  # no corrected table signed yet: both owed


def test_a_signed_table_that_leaves_out_an_event_it_owes_cannot_be_filed(home: Path, tmp_path: Path, row, write_csv) -> None:
    """三（二）: an event discovered between the run and the filing belongs to the month: the table
    prepared without it is refused at submission, naming the incident."""
    from regflows.credit.deadline import missing_events
    from regflows.credit.pipeline import run
    from regflows.credit.signoff import record_prepared

    migrate()
    profile = load_profile(DEMO_PROFILE)
    outcome = run(write_csv(tmp_path / "log.csv", []), SEP, profile, tmp_path / "out", events=credit_events(SEP, profile))
    record_prepared(profile, SEP, outcome.due, outcome.tables[0].files, "he.min")
    assert missing_events(profile, "2025-09") == []
    with db.session() as s:
        s.add(_incident("new", "YX0001", dt.datetime(2025, 9, 29, tzinfo=BJ), dt.datetime(2025, 10, 2, tzinfo=BJ), "report_leak"))
    assert missing_events(profile, "2025-09") == ["new"]
    assert missing_events(profile, "2025-09-YX0101") == []  # another unit's table


def test_a_correction_is_filed_once_the_signed_rerun_counts_the_late_event(late: None, tmp_path: Path) -> None:
    """三（二）, ``correct_filed_month``: ``submit --correction`` meets the correction only when the
    signed table of the month counts the late event; otherwise it is refused, naming it."""
    import json

    from regflows.credit.deadline import submit
    from regflows.credit.late import owe_corrections
    from regflows.credit.signoff import Signoff, Step

    profile = _profile("correct_filed_month")
    owe_corrections(profile)
    figures = tmp_path / "credit-stats-2025-09-YX0001.json"

    def signed(events: list[str]) -> None:
        figures.write_text(json.dumps({"events": [{"incident": e} for e in events]}), encoding="utf-8")
        step = Step("he.min", "何敏", "2025-10-20T02:00:00+00:00", "link")
        state = Signoff("2025-09", 2, "final", step, {"xlsx": "x.xlsx", "xlsx_sha256": "0" * 64, "summary": str(figures),
                                                       "summary_sha256": "0" * 64},
                        reviewer=step, signer=step, final={"xlsx": "x-final.xlsx", "xlsx_sha256": "1" * 64})
        with db.session() as s:
            row = s.execute(select(Obligation).where(Obligation.subject == "credit-stats:2025-09",
                                                     Obligation.code == "monthly-statistics")).scalar_one()
            row.detail = {"signoff": state.to_dict()}

    people = {p.id for p in profile.people}
    signed(["early"])  # the table as first filed
    with pytest.raises(ValueError, match="事件 late 应计入本统计表"):
        submit("2025-09", "更正报送", "he.min", people=people, profile=profile, correction=True)
    signed(["early", "late"])  # rerun, reviewed and signed
    row = submit("2025-09", "更正报送", "he.min", people=people, profile=profile, correction=True)
    assert row.code == "monthly-statistics-correction:late" and row.fulfilled_at is not None
    with pytest.raises(LookupError, match="没有待更正报送"):
        submit("2025-09", "再次", "he.min", people=people, profile=profile, correction=True)
