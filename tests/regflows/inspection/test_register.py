"""A run's findings onto the rectification register (regflows/inspection/register.py): each user
check's finding and each worklist answer of 违规/需整改 becomes a finding with an owner and a due
day, once; what cannot be opened is returned with its reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from calendars.zone import SHANGHAI
from regflows.inspection import pipeline, records
from regflows.inspection.demo import PLANTED
from regflows.inspection.models import Answer, Quarter
from regflows.inspection.rectification import list_findings
from regflows.inspection.register import register_run
from regflows.profile import DEMO_PROFILE, load_profile

Q = Quarter.parse("2025Q3")


def test_check_findings_and_worklist_violations_are_registered_once(home: Path, tmp_path: Path, quarter_data: Any) -> None:
    profile = load_profile(DEMO_PROFILE)
    outcome = pipeline.run(Q, quarter_data.logs, quarter_data.users, tmp_path / "out", profile, vulns=quarter_data.vulns, seed=3)
    lead = next(lead for lead in outcome.leads if lead.owner)
    owner = lead.owner or ""
    at = dt.datetime(2025, 10, 9, 10, tzinfo=SHANGHAI)
    records.record_answers(outcome.run_id, [
        Answer(lead.lead_id, "storage", "rectify", "存储期限超出制度规定", owner, at, "page"),
        Answer(lead.lead_id, "query", "compliant", "已核对", owner, at, "page"),
    ])
    first = register_run(outcome.run_id, profile)
    checks = outcome.summary["findings"]
    assert len(first.opened) == checks + 1 and not first.problems, first
    register = {f.id: f.to_dict() for f in list_findings(Q)}
    by_source = sorted(f["source"] for f in register.values())
    assert by_source.count("check") == checks and by_source.count("worklist") == 1
    worklist = next(f for f in register.values() if f["source"] == "worklist")
    assert worklist["owner"] == lead.owner and worklist["unit"] == lead.unit and worklist["feedback"] == "2025-10-09"
    assert worklist["title"].startswith("存储环节需整改：") and worklist["rectification"]["due"] == "2025-10-29"  # 15 working days, the make-up Saturday 10-11 among them
    assert {f["detail"].split("（", 1)[0].removeprefix("用户 ") for f in register.values() if f["source"] == "check"} >= set(PLANTED)
    again = register_run(outcome.run_id, profile)  # every day from the watch: nothing opened twice
    assert not again.opened and sorted(again.existing) == sorted(first.opened)


def test_without_an_owner_the_findings_are_raised_not_dropped(home: Path, tmp_path: Path, quarter_data: Any) -> None:
    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    for unit in data["reporting_units"]:
        unit.pop("inspection_owner", None)
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    profile = load_profile(path)
    outcome = pipeline.run(Q, quarter_data.logs, quarter_data.users, tmp_path / "out", profile, vulns=quarter_data.vulns, seed=3)
    result = register_run(outcome.run_id, profile)
    assert not result.opened and any("未配置 inspection_owner" in p for p in result.problems), result


def test_a_rerun_withdraws_the_check_findings_it_no_longer_finds_and_nothing_else(home: Path, tmp_path: Path,
                                                                                   quarter_data: Any) -> None:
    """A corrected users file (X-REUSE no longer reuses its password): the re-run withdraws that
    check finding, 「复查运行未再发现」, and leaves the worklist's and a patrol's findings open."""
    import json

    from sqlalchemy import select

    from regflows.inspection.rectification import RERUN_REASON, new_finding, open_rectification
    from regflows.store import db
    from regflows.store.models import AuditEntry

    profile = load_profile(DEMO_PROFILE)
    first_run = pipeline.run(Q, quarter_data.logs, quarter_data.users, tmp_path / "one", profile, vulns=quarter_data.vulns, seed=3)
    lead = next(lead for lead in first_run.leads if lead.owner)
    records.record_answers(first_run.run_id, [Answer(lead.lead_id, "storage", "rectify", "存储期限超出制度规定", lead.owner or "",
                                                     dt.datetime(2025, 10, 9, 10, tzinfo=SHANGHAI), "page")])
    assert not register_run(first_run.run_id, profile).problems
    patrol = open_rectification(new_finding(quarter=Q, source="patrol", title="查询授权书留存不全", clause="PBOC-102 三（三）",
                                            unit="YX0001", owner="chen.jing", feedback="2025-10-10"))
    before = {f.id: f for f in list_findings(Q)}
    reuse = next(i for i, f in before.items() if f.finding.ref == "password_policy:X-REUSE")

    fixed = tmp_path / "users-fixed.csv"
    text = quarter_data.users.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("X-REUSE,"))
    fixed.write_text(text.replace(line, line.replace(",true,true,", ",true,false,")), encoding="utf-8")
    rerun = pipeline.run(Q, quarter_data.logs, fixed, tmp_path / "two", profile, vulns=quarter_data.vulns, seed=3)
    assert rerun.summary["findings"] == first_run.summary["findings"] - 1
    result = register_run(rerun.run_id, profile)
    assert result.withdrawn == [reuse] and not result.opened and not result.problems, result
    after = {f.id: f for f in list_findings(Q)}
    assert after[reuse].rectification["state"] == "withdrawn" and after[reuse].report["state"] == "withdrawn"
    assert all(f.rectification["state"] == "pending" for i, f in after.items() if i != reuse)  # worklist, patrol, other checks
    assert after[patrol.finding_id].finding.source == "patrol"
    with db.session() as s:
        entries = [json.loads(e.payload) for e in s.execute(select(AuditEntry).where(
            AuditEntry.action == "obligation.withdrawn", AuditEntry.subject == reuse)).scalars()]
    assert sorted(e["obligation"] for e in entries) == ["rectification", "rectification_report"]
    assert all(e["reason"] == RERUN_REASON and e["run_id"] == rerun.run_id for e in entries)
    # the older run registered again (an import of its workbook) withdraws nothing and reopens nothing
    older = register_run(first_run.run_id, profile)
    assert not older.withdrawn and not older.opened
    assert register_run(rerun.run_id, profile).withdrawn == []  # once withdrawn, it stays so
    # closing it is refused in the inspection's own words, not an incident's
    from regflows.inspection.rectification import close_finding
    from regflows.kit.obligations import Refused

    with pytest.raises(Refused, match="因复查运行未再发现不再适用") as refused:
        close_finding(reuse, evidence="已整改", by="he.min", rechecked_by="sun.li", people=profile.person_ids)
    assert "事件更正" not in str(refused.value)


def test_a_rerun_on_a_later_day_finds_the_registered_findings_and_reinstates_a_withdrawn_one(home: Path, tmp_path: Path,
                                                                                             quarter_data: Any) -> None:
    """The same user and check found again another day is the finding registered first (its
    feedback day stays), not a conflict; one withdrawn by a re-run in between is owed again."""
    from regflows.store import db
    from regflows.store.models import InspectionRun

    profile = load_profile(DEMO_PROFILE)
    one = pipeline.run(Q, quarter_data.logs, quarter_data.users, tmp_path / "one", profile, vulns=quarter_data.vulns, seed=3)
    first = register_run(one.run_id, profile)
    reuse = next(f.id for f in list_findings(Q) if f.finding.ref == "password_policy:X-REUSE")
    fixed = tmp_path / "users-fixed.csv"
    text = quarter_data.users.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("X-REUSE,"))
    fixed.write_text(text.replace(line, line.replace(",true,true,", ",true,false,")), encoding="utf-8")
    two = pipeline.run(Q, quarter_data.logs, fixed, tmp_path / "two", profile, vulns=quarter_data.vulns, seed=3)
    three = pipeline.run(Q, quarter_data.logs, quarter_data.users, tmp_path / "three", profile, vulns=quarter_data.vulns, seed=3)
    with db.session() as s:
        for run_id, days in ((two.run_id, 3), (three.run_id, 6)):
            row = s.get(InspectionRun, run_id)
            assert row is not None
            row.created_at = _aware(row.created_at) + dt.timedelta(days=days)
    # run two is registered while it is the latest (three not yet run, as the watch would have)
    with db.session() as s:
        latest = s.get(InspectionRun, three.run_id)
        assert latest is not None
        exported, latest.exported_at = latest.exported_at, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert register_run(two.run_id, profile).withdrawn == [reuse]
    with db.session() as s:
        latest = s.get(InspectionRun, three.run_id)
        assert latest is not None
        latest.exported_at = _aware(exported)
    again = register_run(three.run_id, profile)
    assert not again.problems and not again.opened and not again.withdrawn, again
    assert again.reinstated == [reuse] and sorted(again.existing + again.reinstated) == sorted(first.opened)
    status = {f.id: f for f in list_findings(Q)}[reuse]
    assert status.rectification["state"] == "pending" and status.report["state"] == "pending"
    run = records.run_of(one.run_id)
    assert run is not None and status.finding.feedback == _aware(run.created_at).astimezone(SHANGHAI).date()  # the day first found


def _aware(value: dt.datetime) -> dt.datetime:
    """The store gives naive UTC on SQLite and refuses naive values back."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
