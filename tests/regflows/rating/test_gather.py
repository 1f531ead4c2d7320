"""The template's auto-fill (issue 16, item 3; regflows/rating/gather.py): each filled item from the
records that produce it, with its source, unconfirmed; nothing filled without them; late or missed
reports only as candidates, never applied; drills never counted; and a year of demo-like records
in a store, the facts filled in agreeing with what the procedures themselves count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from calendars.zone import SHANGHAI
from regflows.kit.yearfacts import (
    CreditEvent,
    Owed,
    RectificationRecord,
    UserCheckRecord,
    VerifiedViolation,
    YearFacts,
    gather_year,
)
from regflows.rating.evidence import parse_evidence, template
from regflows.rating.gather import AUTO_FILLED, from_year_facts
from regflows.rating.model import RatingModel
from regflows.rating.scoring import score
from regflows.settings import RatingSettings

BJ = SHANGHAI
NOW = dt.datetime(2026, 1, 20, 12, tzinfo=BJ)


def _at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00")


def _owed(i: int, topic: str, due: str, met: str | None, state: str = "pending", subject: str = "s") -> Owed:
    return Owed(i, "p", subject, "c", f"报告{i}", "PBOC-102 三（二）", _at(due, 23), _at(met) if met else None,
                "fulfilled" if met else state, topic)


def _violation(query: str, link: str, answer: int = 1, quarter: str = "2025Q3") -> VerifiedViolation:
    return VerifiedViolation("run-3", quarter, f"flagged:{query}", query, link, answer, "he.min", _at("2025-10-09"))


# -- each item from the records that produce it, absent without them ----------------------------

def test_nothing_held_fills_nothing_and_lists_no_candidate() -> None:
    gathering = from_year_facts(YearFacts(2025), NOW)
    assert gathering.gathered == {} and gathering.candidates == () and gathering.notes == ()


def test_credit_events_fill_9_1_to_9_3_with_the_incidents_as_source() -> None:
    facts = YearFacts(2025, credit_events=(
        CreditEvent("INC-1", "YX0001", "征信报告被出售", ("illegal_provision", "report_leak"), _at("2025-03-01")),
        CreditEvent("INC-2", "YX0101", "报告外传", ("report_leak",), _at("2025-05-01")),
        CreditEvent("INC-3", "YX0101", "超范围使用", ("improper_use",), _at("2025-06-01")),
    ))
    g = from_year_facts(facts, NOW).gathered
    assert g["9.2"].facts == {"illegal_provisions": 1} and "incident INC-1（非法提供）" in g["9.2"].source
    assert "演练除外" in g["9.2"].source and "inspection_answer" not in g["9.2"].source
    assert g["9.3"].facts == {"leaks": 2} and "INC-1" in g["9.3"].source and "INC-2" in g["9.3"].source
    assert g["9.1"].facts == {"purpose_misused": 1} and "INC-3" in g["9.1"].source
    assert set(g) == {"9.1", "9.2", "9.3"}
    assert all("未确认" in found.source for found in g.values())


def test_verified_violations_fill_8_1_and_9_1_once_per_query() -> None:
    facts = YearFacts(2025, violations=(
        _violation("Q1", "authorisation", 11), _violation("Q1", "authorisation", 12, "2025Q4"),  # verified twice: one query
        _violation("Q2", "authorisation", 13), _violation("Q3", "use", 14), _violation("Q4", "storage", 15),
    ), quarters_run=("2025Q3", "2025Q4"))
    g = from_year_facts(facts, NOW).gathered
    assert g["8.1"].facts == {"unauthorized_queries": 2}
    assert "inspection_answer#11" in g["8.1"].source and "查询 Q2" in g["8.1"].source
    assert g["9.1"].facts == {"purpose_misused": 1} and "inspection_answer#14" in g["9.1"].source
    assert "major_impact" not in g["8.1"].facts  # a person judges the impact
    assert set(g) == {"8.1", "9.1"}  # a storage violation maps to no item


def test_user_checks_fill_5_x_each_user_once_per_check_over_the_year() -> None:
    checks = (
        UserCheckRecord("r1", "2025Q1", "shared_roles", "兼任", "PBOC-102 附件3 5.3", ("U1",)),
        UserCheckRecord("r3", "2025Q3", "shared_roles", "兼任", "PBOC-102 附件3 5.3", ("U1", "U2")),
        UserCheckRecord("r3", "2025Q3", "public_user", "公共", "PBOC-102 附件3 5.2、5.3", ("P1",)),
        UserCheckRecord("r3", "2025Q3", "filing_late", "备案", "PBOC-102 附件3 5.2", ()),
        UserCheckRecord("r3", "2025Q3", "idle_not_locked", "锁定", "PBOC-102 附件3 5.4", ("I1",)),
        UserCheckRecord("r3", "2025Q3", "password_stale", "口令", "PBOC-102 附件3 5.6", ("W1",)),
        UserCheckRecord("r3", "2025Q3", "password_policy", "口令", "PBOC-102 附件3 5.6", ("W2",)),
        UserCheckRecord("r3", "2025Q3", "non_formal_user", "非正式", "PBOC-102 附件3 5.7", ()),
        UserCheckRecord("r3", "2025Q3", "low_volume_not_suspended", "日均", "PBOC-102 附件3 5.1", ("L1",)),
    )
    gathering = from_year_facts(YearFacts(2025, user_checks=checks, quarters_run=("2025Q1", "2025Q3")), NOW)
    g = gathering.gathered
    assert g["5.3"].facts == {"shared_or_public_users": 3}  # U1 (twice), U2, P1
    assert g["5.2"].facts == {"not_real_name": 1, "filing_failures": 0}
    assert g["5.4"].facts == {"stop_failures": 1} and g["5.6"].facts == {"password_failures": 2}
    assert g["5.7"].facts == {"non_formal_users": 0}  # evaluated and clean: a fact, not an absence
    assert "5.1" not in g  # the deviation of 5.1 is a ratio a person states, not a count of users
    assert "r1" in g["5.3"].source and "2025Q2、2025Q4" in g["5.3"].source
    assert any("2025Q2、2025Q4 没有自查运行" in n for n in gathering.notes)


def test_a_check_the_data_could_not_decide_is_said_in_the_source() -> None:
    checks = (UserCheckRecord("r3", "2025Q3", "idle_not_locked", "连续未查询未锁定", "PBOC-102 附件3 5.4", (), "日志未覆盖"),)
    g = from_year_facts(YearFacts(2025, user_checks=checks, quarters_run=("2025Q3",)), NOW).gathered
    assert g["5.4"].facts == {"stop_failures": 0} and "未能判断：2025Q3 连续未查询未锁定" in g["5.4"].source


def test_self_inspection_reports_late_or_missed_fill_3_2_with_their_rows() -> None:
    quarterly = (_owed(1, "self_inspection_report", "2025-04-30", "2025-04-29", subject="self-inspection:2025Q1"),
                 _owed(2, "self_inspection_report", "2025-07-31", "2025-08-05", subject="self-inspection:2025Q2"),
                 _owed(3, "self_inspection_report", "2025-10-31", None, subject="self-inspection:2025Q3"),
                 _owed(4, "self_inspection_report", "2026-01-31", None, subject="self-inspection:2025Q4"))
    own = RectificationRecord("SI-2025Q3-a", "2025Q3", "check", "口令", "PBOC-102 附件3 5.6",
                              _owed(5, "", "2025-11-01", "2025-10-30"), _owed(6, "rectification_report", "2025-11-20", "2025-11-25"))
    patrol = RectificationRecord("SI-2025Q3-b", "2025Q3", "patrol", "授权书", "PBOC-102 三（三）",
                                 _owed(7, "", "2025-11-01", None), _owed(8, "rectification_report", "2025-11-20", "2025-12-25"))
    gathering = from_year_facts(YearFacts(2025, reports=quarterly, rectifications=(own, patrol)), NOW)
    found = gathering.gathered["3.2"]
    assert found.facts == {"late_audit_reports": 3}  # Q2 late, Q3 missed, the self-inspection finding's report late
    assert all(ref in found.source for ref in ("obligation#2", "obligation#3", "obligation#6"))
    assert "obligation#8" not in found.source.split("计入：")[1]  # a patrol's report goes to the patrol, not 3.2
    # The patrol's rectification overdue: a possible 第十五条（六）, never a deduction
    assert [(c.condition, c.source) for c in gathering.candidates] == [(6, "表 obligation obligation#7（整改登记 SI-2025Q3-b）")]
    assert any("逾期未整改 1 项" in n for n in gathering.notes)


def test_late_or_missed_monthly_tables_and_incident_reports_are_candidates_of_15_3() -> None:
    reports = (_owed(1, "monthly_statistics", "2025-02-06", "2025-02-05", subject="credit-stats:2025-01"),
               _owed(2, "monthly_statistics", "2025-03-06", "2025-03-10", subject="credit-stats:2025-02"),
               _owed(3, "monthly_statistics", "2025-04-07", None, subject="credit-stats:2025-03"),
               _owed(4, "monthly_statistics", "2026-02-06", None, subject="credit-stats:2026-01"),
               _owed(5, "monthly_statistics", "2025-05-06", None, state="waived", subject="credit-stats:2025-04"),
               _owed(6, "incident_report", "2025-06-01", "2025-06-02", subject="INC-1"))
    gathering = from_year_facts(YearFacts(2025, reports=reports), NOW)
    assert [(c.condition, c.source) for c in gathering.candidates] == [
        (3, "表 obligation obligation#2（p/c）"), (3, "表 obligation obligation#3（p/c）"), (3, "表 obligation obligation#6（p/c）")]
    assert "迟报" in gathering.candidates[0].what and "逾期未报" in gathering.candidates[1].what
    assert gathering.gathered == {}  # no item of the table scores the monthly tables


def test_candidates_are_written_but_never_applied(model: RatingModel) -> None:
    reports = (_owed(2, "monthly_statistics", "2025-03-06", "2025-03-10", subject="credit-stats:2025-02"),)
    facts = YearFacts(2025, reports=reports, credit_events=(CreditEvent("INC-9", "YX0001", "泄露", ("report_leak",), _at("2025-03-01")),))
    gathering = from_year_facts(facts, NOW)
    text = template(2025, model, gathering.gathered, gathering.candidates)
    evidence = parse_evidence(text, "evidence.yaml", model)
    assert evidence.downgrade_conditions == () and [c.condition for c in evidence.downgrade_candidates] == [3]
    result = score(model, evidence, RatingSettings())
    assert result.downgraded_by == () and result.grade_before_downgrade == result.grade == "A"
    assert result.score == Decimal("96.5")  # 97 less 9.3's 0.5 for the leak; the late table costs nothing
    assert "9.3" in evidence.provenance and not evidence.provenance["9.3"].confirmed
    assert "9.3" in evidence.unconfirmed(model)


# -- the store, through the procedures' providers ------------------------------------------------

def _declare(title: str, occurred: str, *, drill: bool = False, event: str | None = None) -> str:
    from regflows.incident import store
    from regflows.incident.clock import obligations
    from regflows.incident.grading import grade
    from regflows.incident.record import IncidentRecord
    from regflows.profile import DEMO_PROFILE, load_profile

    at = dt.datetime.fromisoformat(occurred)
    data: dict[str, Any] = {"title": title, "occurred_at": at.isoformat(), "discovered_at": (at + dt.timedelta(hours=1)).isoformat(),
                            "discovered_by": "合规部", "system_name": "征信查询系统", "category": "information_destruction",
                            "drill": drill}
    if event:
        data["credit_info_events"] = [event]
    record = IncidentRecord.model_validate(data)
    grading = grade(record)
    dumped = record.model_dump(mode="json")
    incident_id = store.incident_id_for(dumped, "YX0001")
    store.save_incident(incident_id, dumped, "YX0001", grading.model_dump(mode="json"), grading.rules_version, "test")
    rows = obligations(record, grading, load_profile(DEMO_PROFILE), at + dt.timedelta(hours=1))
    store.sync_obligations(incident_id, [o.model_dump(mode="json") for o in rows], grading.rules_version)
    return incident_id


def _fulfil(subject: str, code: str, at: dt.datetime) -> None:
    from regflows.kit.obligations import fulfil

    fulfil(subject, code, evidence="已报送（测试）", by="he.min", at=at)


@pytest.fixture
def drill_and_event(store_url: str) -> dict[str, str]:
    """A drill and a real event on each backend (the providers' queries run on SQLite and PostgreSQL)."""
    return {"drill": _declare("演练：征信报告外泄", "2025-05-10T09:00:00+08:00", drill=True, event="report_leak"),
            "event": _declare("征信报告外泄", "2025-06-10T09:00:00+08:00", event="report_leak")}


def test_drills_never_count(drill_and_event: dict[str, str]) -> None:
    import regflows.procedures  # noqa: F401  (the composition root registers every procedure's provider)

    facts = gather_year(2025)
    assert [e.incident_id for e in facts.credit_events] == [drill_and_event["event"]]
    assert {r.subject for r in facts.reports if r.topic == "incident_report"} == {drill_and_event["event"]}
    gathering = from_year_facts(facts, NOW)
    assert gathering.gathered["9.3"].facts == {"leaks": 1} and drill_and_event["drill"] not in gathering.gathered["9.3"].source
    assert all(drill_and_event["drill"] not in c.what + (c.source or "") for c in gathering.candidates)
    assert set(facts.providers) == {"credit-stats", "incident", "self-inspection"}


def test_the_incident_provider_names_the_record_s_event_kinds() -> None:
    from typing import get_args

    from regflows.incident.record import CreditInfoEvent
    from regflows.incident.yearfacts import EVENT_KINDS
    from regflows.rating.gather import EVENT_FACTS

    assert set(EVENT_KINDS) == set(get_args(CreditInfoEvent)) == set(EVENT_FACTS)


def test_the_command_writes_the_gathered_facts_unconfirmed(drill_and_event: dict[str, str], tmp_path: Path,
                                                             model: RatingModel) -> None:
    from regflows.cli import app

    out = tmp_path / "evidence-2025.yaml"
    result = CliRunner().invoke(app, ["rating", "template", "--year", "2025", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "已自动填入（待确认）的指标：9.3" in result.stderr
    evidence = parse_evidence(out.read_text(encoding="utf-8"), out, model)
    assert evidence.items["9.3"] == {"leaks": 1, "major_impact": False}
    assert drill_and_event["event"] in evidence.provenance["9.3"].source and not evidence.provenance["9.3"].confirmed
    # the event's immediate report was never made: a candidate of 第十五条（三）, not a condition
    assert evidence.downgrade_conditions == () and {c.condition for c in evidence.downgrade_candidates} == {3}


# -- a year of demo-like records: the filled facts agree with the store ----------------------------

@pytest.fixture
def demo_year(home: Path, tmp_path: Path, quarter_data: Any) -> dict[str, Any]:
    """2025 as the demo institution would hold it: the monthly tables of three units (two months
    filed late, one never), incidents with credit events (and a drill), the 2025Q3
    self-inspection run on the demo quarter with verified violations and its findings registered,
    the four quarters' reports (Q2 late, Q3 never)."""
    from regflows.credit.models import Period
    from regflows.credit.owed import owe_month
    from regflows.credit.signoff import CODE
    from regflows.inspection import pipeline, records
    from regflows.inspection.models import Answer, Quarter
    from regflows.inspection.owed import REPORT_CODE, owe_report, quarter_subject
    from regflows.inspection.register import register_run
    from regflows.profile import DEMO_PROFILE, load_profile
    from regflows.store import db, migrate
    from regflows.store.models import Obligation

    migrate()
    profile = load_profile(DEMO_PROFILE)
    for month in range(1, 13):
        owe_month(profile, Period(2025, month), now=dt.datetime(2025, month, 1, 8, tzinfo=BJ) + dt.timedelta(days=31))
    for neighbour in (Period(2024, 12), Period(2026, 1)):  # never filed, and of other years: not 2025's
        owe_month(profile, neighbour, now=dt.datetime(2026, 2, 1, 8, tzinfo=BJ))
    with db.session() as s:
        monthly = [(r.subject, r.due_at) for r in s.execute(select(Obligation).where(
            Obligation.code == CODE, Obligation.subject.like("credit-stats:2025-%"))).scalars() if r.due_at is not None]
    late = {"credit-stats:2025-03", "credit-stats:2025-08-YX0101"}
    never = {"credit-stats:2025-11-YX0201"}
    for subject, due in monthly:
        if subject not in never:
            _fulfil(subject, CODE, due + (dt.timedelta(days=2) if subject in late else -dt.timedelta(hours=5)))
    incidents = [_declare("征信报告被出售", "2025-02-10T09:00:00+08:00", event="illegal_provision"),
                 _declare("征信报告外泄", "2025-06-10T09:00:00+08:00", event="report_leak"),
                 _declare("信用报告用于营销", "2025-09-03T09:00:00+08:00", event="improper_use"),
                 _declare("演练：征信报告外泄", "2025-10-10T09:00:00+08:00", drill=True, event="report_leak"),
                 _declare("办公系统中断", "2025-11-10T09:00:00+08:00"),
                 _declare("跨年的征信报告外泄", "2024-12-31T23:30:00+08:00", event="report_leak")]  # 2024's, not 2025's
    outcome = pipeline.run(Quarter(2025, 3), quarter_data.logs, quarter_data.users, tmp_path / "out", profile,
                           vulns=quarter_data.vulns, seed=3)
    flagged = [lead for lead in outcome.leads if lead.kind == "flagged" and lead.owner][:3]
    at = dt.datetime(2025, 10, 9, 10, tzinfo=BJ)
    records.record_answers(outcome.run_id, [
        Answer(flagged[0].lead_id, "authorisation", "violation", "无授权书", flagged[0].owner or "", at, "page"),
        Answer(flagged[1].lead_id, "authorisation", "violation", "授权晚于查询", flagged[1].owner or "", at, "page"),
        Answer(flagged[1].lead_id, "use", "violation", "用于营销", flagged[1].owner or "", at, "page"),
        Answer(flagged[2].lead_id, "authorisation", "violation", "先记违规", flagged[2].owner or "", at, "page"),
        Answer(flagged[2].lead_id, "authorisation", "compliant", "补查授权书齐全", flagged[2].owner or "",
               at + dt.timedelta(hours=1), "page"),  # the latest answer counts
    ])
    assert not register_run(outcome.run_id, profile).problems
    for n in range(1, 5):
        owe_report(Quarter(2025, n), profile.settings)
    with db.session() as s:
        dues = {r.subject: r.due_at for r in s.execute(select(Obligation).where(Obligation.code == REPORT_CODE)).scalars()
                if r.due_at is not None}
    _fulfil(quarter_subject(Quarter(2025, 1)), REPORT_CODE, dues[quarter_subject(Quarter(2025, 1))] - dt.timedelta(days=1))
    _fulfil(quarter_subject(Quarter(2025, 2)), REPORT_CODE, dues[quarter_subject(Quarter(2025, 2))] + dt.timedelta(days=3))
    return {"profile": profile, "late": late, "never": never, "incidents": incidents, "outcome": outcome,
            "violations": {flagged[0].ref, flagged[1].ref}, "misused": {flagged[1].ref}, "q4_due": dues[quarter_subject(Quarter(2025, 4))]}


def test_the_filled_facts_agree_with_the_store_on_a_year_of_demo_data(demo_year: dict[str, Any]) -> None:
    import regflows.procedures  # noqa: F401  (the composition root registers every procedure's provider)
    from regflows.credit.events import count_events
    from regflows.credit.models import Period
    from regflows.inspection.checks import CHECK_IDS

    now = demo_year["q4_due"] - dt.timedelta(days=1)  # before the Q4 report is due: it is open, not missed
    facts = gather_year(2025)
    gathering = from_year_facts(facts, now)
    g = gathering.gathered
    # 9.x: what the monthly statistics count for the twelve months, column by column (drills left out there too)
    totals: dict[str, int] = {}
    for month in range(1, 13):
        for per_kind in count_events(Period(2025, month), profile=demo_year["profile"]).values():
            for kind, n in per_kind.items():
                totals[kind] = totals.get(kind, 0) + n
    assert totals == {"illegal_provision": 1, "report_leak": 1, "improper_use": 1}
    assert g["9.2"].facts == {"illegal_provisions": totals["illegal_provision"]}
    assert g["9.3"].facts == {"leaks": totals["report_leak"]}
    assert g["9.1"].facts == {"purpose_misused": totals["improper_use"] + len(demo_year["misused"])}
    # 8.1: the queries whose authorisation link's latest answer is 违规
    assert g["8.1"].facts == {"unauthorized_queries": len(demo_year["violations"])}
    assert all(f"查询 {q}" in g["8.1"].source for q in demo_year["violations"])
    # 5.x: the 2025Q3 run's check results (the demo users file plants one user per check)
    results = demo_year["outcome"].results
    users = {c: {f.user_id for f in results[c].findings} for c in CHECK_IDS}
    assert g["5.3"].facts == {"shared_or_public_users": len(users["shared_roles"] | users["public_user"])}
    assert g["5.7"].facts == {"non_formal_users": len(users["non_formal_user"])} and users["non_formal_user"]
    assert g["5.6"].facts == {"password_failures": len(users["password_stale"]) + len(users["password_policy"])}
    assert g["5.2"].facts == {"not_real_name": len(users["public_user"]), "filing_failures": len(users["filing_late"])}
    assert g["5.4"].facts == {"stop_failures": len(users["idle_not_locked"])}
    # 3.2: Q2's report late and Q3's never made (Q4 not yet due); the findings' reports not yet due
    assert g["3.2"].facts == {"late_audit_reports": 2}
    # candidates: exactly the monthly tables filed late or never, and the incidents' outside reports
    # not made in time (the drill's left out), as the obligation rows of the store say
    from regflows.credit.signoff import CODE
    from regflows.incident.yearfacts import REPORT_CODES
    from regflows.store import db
    from regflows.store.models import Obligation

    drill = demo_year["incidents"][3]
    with db.session() as s:
        tables = {f"obligation#{r.id}" for r in s.execute(select(Obligation).where(
            Obligation.code == CODE, Obligation.subject.in_(demo_year["late"] | demo_year["never"]))).scalars()}
        reports = {f"obligation#{r.id}" for r in s.execute(select(Obligation).where(
            Obligation.procedure == "incident_response", Obligation.code.in_(REPORT_CODES), Obligation.every.is_(None),
            Obligation.fulfilled_at.is_(None), Obligation.due_at < now,
            Obligation.subject.in_(demo_year["incidents"][:3] + demo_year["incidents"][4:5]))).scalars()}
        drill_rows = {f"obligation#{r.id}" for r in s.execute(select(Obligation).where(Obligation.subject == drill)).scalars()}
    named = {(c.source or "").split()[2].split("（")[0] for c in gathering.candidates}
    assert len(tables) == 3 and reports and drill_rows
    assert named == tables | reports and not named & drill_rows
    assert all(c.condition == 3 for c in gathering.candidates)
    assert all("24:00" in c.what for c in gathering.candidates if c.what.startswith("征信信息安全情况统计表"))  # a day's deadline as people read it
    assert set(g) == set(AUTO_FILLED)
