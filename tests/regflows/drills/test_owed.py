"""What drills are owed per period from the profile's regimes, reminded from the profile's month
and raised when the period ends without them; one held outside regflows fulfilled with its
evidence (issue 17, item 1)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from regflows.cli import app
from regflows.drills.owed import DrillInputError, Period, owe_year, owed, record_held, remind_from, status
from regflows.drills.reminders import remind
from regflows.exit_codes import ExitCode
from regflows.kit.obligations import Refused
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Notice, Obligation

BJ = dt.timezone(dt.timedelta(hours=8))
ALL_OFF = {"TENPAY": False, "CUSTINFO": False, "CQ-PLAN": False, "NFRA": False, "PBOC-102": True}


@pytest.fixture
def store(home: Path) -> Path:
    migrate()
    return home


def kinds(profile: Any, year: int = 2026) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in owed(profile, year):
        out.setdefault(item.kind, []).append(item.period.label)
    return out


def regimes(build_profile: Any, cii: bool = False, **on: bool) -> Any:
    profile = build_profile({})
    data = profile.model_dump(mode="json", by_alias=True)
    data["regimes"] = {**ALL_OFF, **{k.replace("_", "-"): v for k, v in on.items()}}
    data["institution"]["cii_operator"] = cii
    return type(profile).model_validate(data)


# -- what is owed (pure) ---------------------------------------------------------------------------


def test_each_regime_owes_its_drills_at_its_frequency(build_profile: Any) -> None:
    assert kinds(regimes(build_profile)) == {}  # PBOC-102 alone asks for no drill
    assert kinds(regimes(build_profile, NFRA=True)) == {"incident": ["2026"], "supplier": ["2026"]}  # NFRA 44, 30
    assert kinds(regimes(build_profile, NFRA=True, cii=True)) == {
        "incident": ["2026"],
        "supplier": ["2026"],
        "cii_real": ["2026"],
        "attack_defence": ["2026"],
    }  # NFRA 57, 60
    assert kinds(regimes(build_profile, TENPAY=True)) == {"incident": ["2026"], "plan_review": ["2026"]}  # TENPAY 14, 15
    assert kinds(regimes(build_profile, CQ_PLAN=True)) == {"incident": ["2026"], "plan_review": ["2026"]}  # 第六篇二, 第八章一
    assert kinds(regimes(build_profile, CUSTINFO=True)) == {
        "incident": ["2026H1", "2026H2"],
        "disaster_recovery": ["2026Q1", "2026Q2", "2026Q3", "2026Q4"],
    }  # 8.1, 5.3


def test_the_shortest_period_wins_and_every_clause_is_cited(build_profile: Any) -> None:
    profile = regimes(build_profile, NFRA=True, CUSTINFO=True)
    incident = [o for o in owed(profile, 2026) if o.kind == "incident"]
    assert [o.period.label for o in incident] == ["2026H1", "2026H2"]
    assert "NFRA 第四十四条" in incident[0].clause and "CUSTINFO 8.1" in incident[0].clause
    assert incident[0].runs and not [o for o in owed(profile, 2026) if o.kind == "disaster_recovery"][0].runs


def test_reminders_start_in_the_profiles_month_of_each_period() -> None:
    assert remind_from(Period.parse("2026"), 9) == dt.date(2026, 9, 1)
    assert [remind_from(Period.parse(p), 9) for p in ("2026H1", "2026H2")] == [dt.date(2026, 3, 1), dt.date(2026, 9, 1)]
    assert [remind_from(Period.parse(f"2026Q{i}"), 9) for i in (1, 2, 3, 4)] == [
        dt.date(2026, 3, 1),
        dt.date(2026, 6, 1),
        dt.date(2026, 9, 1),
        dt.date(2026, 12, 1),
    ]
    assert remind_from(Period.parse("2026Q2"), 4) == dt.date(2026, 4, 1)


def test_periods_parse_and_end_at_24_00() -> None:
    assert Period.parse("2026h2").label == "2026H2" and Period.parse("2026H2").last_day == dt.date(2026, 12, 31)
    assert Period.parse("2026Q1").due == dt.datetime(2026, 4, 1, tzinfo=BJ)
    for bad in ("2026H3", "26", "2026Q5", "2026-1"):
        with pytest.raises(DrillInputError, match="期间格式"):
            Period.parse(bad)


# -- the rows, reminders and raising ---------------------------------------------------------------


def test_owed_rows_are_written_once_and_in_the_ledger(store: Path, build_profile: Any) -> None:
    profile = build_profile({})  # the demo: NFRA, CUSTINFO, CQ-PLAN on, a CII operator
    written = owe_year(profile, 2026)
    assert "drill:2026:supplier" in written and "drill:2026Q3:disaster_recovery" in written
    assert owe_year(profile, 2026) == []
    with db.session() as s:
        row = s.execute(select(Obligation).where(Obligation.subject == "drill:2026H2", Obligation.code == "incident")).scalar_one()
        assert row.procedure == "drill" and row.owner_role == "emergency_working_group"
        assert row.due_at == dt.datetime(2027, 1, 1, tzinfo=BJ) and row.title == "2026年下半年网络安全事件应急演练"
        assert len(s.execute(select(AuditEntry).where(AuditEntry.action == "drill.owed")).scalars().all()) == len(written)


def test_reminded_from_the_month_and_raised_when_the_period_ends(store: Path, http: Any, build_profile: Any) -> None:
    profile = build_profile(
        {"t.o": [("webhook", f"json://{http.base}/ok/owner")]},
        roles={
            "emergency_working_group": {
                "kind": "emergency_working_group",
                "name": "网络安全应急工作组",
                "members": ["t.o"],
                "deputy": "zhao.lei",
            }
        },
        settings={"drill_month": 11},
    )
    october = remind(profile, dt.datetime(2026, 10, 30, 10, tzinfo=BJ))
    assert [k for k in october if ":2026:" in k] == []  # the yearly ones: not before November
    assert sorted(october) == [  # the periods already ended without their drill: raised at once, never silent
        "drill:2026H1:incident:overdue@2026-06-30",
        "drill:2026Q1:disaster_recovery:overdue@2026-03-31",
        "drill:2026Q2:disaster_recovery:overdue@2026-06-30",
        "drill:2026Q3:disaster_recovery:overdue@2026-09-30",
    ]
    first = remind(profile, dt.datetime(2026, 11, 2, 9, 5, tzinfo=BJ))  # Monday 2 November: the month's first working day
    assert "drill:2026:supplier:month@2026-11" in first and "drill:2026:plan_review:month@2026-11" in first
    assert remind(profile, dt.datetime(2026, 11, 2, 15, tzinfo=BJ)) == []  # once
    assert len(http.wait_for("/ok/owner", len(october) + len(first))) == len(october) + len(first)
    record_held(
        profile,
        "supplier",
        "2026",
        evidence="与核心系统外包商开展服务中断切换演练",
        by="zhao.lei",
        at=dt.datetime(2026, 11, 20, 15, tzinfo=BJ),
        people=profile.person_ids,
    )
    december = remind(profile, dt.datetime(2026, 12, 1, 9, 30, tzinfo=BJ))
    assert "drill:2026:plan_review:month@2026-12" in december and not [k for k in december if "supplier" in k]
    last = remind(profile, dt.datetime(2026, 12, 31, 9, 30, tzinfo=BJ))  # the period's last working day
    assert "drill:2026:plan_review:due@2026-12-31" in last
    raised = remind(profile, dt.datetime(2027, 1, 1, 0, 5, tzinfo=BJ))
    assert "drill:2026:plan_review:overdue@2026-12-31" in raised and "drill:2026:supplier:overdue@2026-12-31" not in raised
    with db.session() as s:
        alarm = s.get(Notice, "drill:2026:plan_review:overdue@2026-12-31")
        assert alarm.requires_ack and alarm.urgent and not alarm.drill
        assert {"emergency_working_group", "leadership_group", "compliance"} <= set(alarm.roles)
        overdue = [
            json.loads(e.payload)["obligation"]
            for e in s.execute(
                select(AuditEntry).where(AuditEntry.action == "obligation.overdue", AuditEntry.subject == "drill:2026")
            ).scalars()
        ]
        assert "plan_review" in overdue and "supplier" not in overdue
    later = remind(profile, dt.datetime(2027, 1, 4, 9, 30, tzinfo=BJ))
    assert not [k for k in later if k.startswith("drill:2026:")]  # raised once
    assert [s.state for s in status(profile, 2026, dt.datetime(2027, 1, 4, tzinfo=BJ)) if s.kind in ("supplier", "plan_review")] == [
        "done",
        "missing",
    ]


def test_a_drill_held_outside_is_fulfilled_with_its_evidence_once(store: Path, build_profile: Any, tmp_path: Path) -> None:
    profile = build_profile({})
    report = tmp_path / "dr-2026q3.pdf"
    report.write_bytes(b"%PDF-1.4 disaster recovery drill report")
    row = record_held(
        profile,
        "disaster_recovery",
        "2026Q3",
        evidence="同城灾备切换演练，RTO 35 分钟",
        by="zhao.lei",
        file=report,
        reference="YX-DR-2026-03",
        at=dt.datetime(2026, 9, 12, 10, tzinfo=BJ),
        people=profile.person_ids,
    )
    assert row.state == "fulfilled" and row.fulfilled_by == "zhao.lei"
    assert row.evidence["history"][0]["file"]["sha256"]

    def again(period: str, day: int) -> None:
        record_held(
            profile,
            "disaster_recovery",
            period,
            evidence="再次",
            by="zhao.lei",
            at=dt.datetime(2026, 9, day, 10, tzinfo=BJ),
            people=profile.person_ids,
        )

    with pytest.raises(Refused, match="不能重复登记"):
        again("2026Q3", 13)
    with pytest.raises(DrillInputError, match="不在期间 2026Q2"):  # a drill counts in the period it was held in
        again("2026Q2", 12)
    with pytest.raises(DrillInputError, match="没有期间 2026"):
        record_held(profile, "disaster_recovery", "2026", evidence="x", by="zhao.lei", people=profile.person_ids)
    with pytest.raises(DrillInputError, match="不存在"):
        record_held(profile, "tabletop", "2026", evidence="x", by="zhao.lei", people=profile.person_ids)


def test_cli_owed_and_fulfil(store: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "drill",
            "fulfil",
            "attack_defence",
            "2026",
            "--evidence",
            "2026 年攻防演习，方案已报批",
            "--by",
            "zhao.lei",
            "--at",
            "2026-06-18T09:00+08:00",
            "--reference",
            "YX-GF-2026",
        ],
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["kind"] == "attack_defence"
    listed = runner.invoke(app, ["drill", "owed", "--year", "2026"])
    assert listed.exit_code == 0, listed.output
    rows = {(r["kind"], r["period"]): r for r in json.loads(listed.stdout)}
    assert rows[("attack_defence", "2026")]["state"] == "done" and rows[("attack_defence", "2026")]["held_by"] == "zhao.lei"
    assert rows[("disaster_recovery", "2026Q1")]["state"] in ("missing", "open")
    again = runner.invoke(
        app, ["drill", "fulfil", "attack_defence", "2026", "--evidence", "x", "--by", "zhao.lei", "--at", "2026-06-19T09:00+08:00"]
    )
    assert again.exit_code == ExitCode.REFUSED and "不能重复登记" in again.stderr
    bad = runner.invoke(app, ["drill", "fulfil", "incident", "2026Q1", "--evidence", "x", "--by", "zhao.lei"])
    assert bad.exit_code == ExitCode.USAGE and "2026H1" in bad.stderr
    nobody = runner.invoke(
        app, ["drill", "fulfil", "cii_real", "2026", "--evidence", "x", "--by", "nobody", "--at", "2026-06-19T09:00+08:00"]
    )
    assert nobody.exit_code == ExitCode.USAGE and "nobody" in nobody.stderr


def test_only_the_regimes_on_are_cited_each_clause_once(build_profile: Any) -> None:
    from regflows.drills.plan import make_plan

    profile = build_profile({})  # the demo: TENPAY off, CUSTINFO on (a half-yearly drill: two periods, one clause)
    incident = [o for o in owed(profile, 2026) if o.kind == "incident"]
    assert len(incident) == 2 and "TENPAY" not in incident[0].clause and "NFRA 第四十四条" in incident[0].clause
    assert all("TENPAY" not in o.clause for o in owed(profile, 2026))  # the plan review: CQ-PLAN only
    clause = make_plan(profile, 2026, on=dt.date(2026, 9, 15)).clause
    assert clause.count("NFRA 第四十四条") == 1 and clause.count("CUSTINFO 8.1") == 1
    assert "TENPAY 第十五条" not in clause and clause.startswith("参照 TENPAY 第十六条")  # its contents' model, not owed
