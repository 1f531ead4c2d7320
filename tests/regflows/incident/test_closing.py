"""Closing an incident on the shared approvals core (CQ-PLAN 第四篇三 应急结束): each level's
decision in its order, every deciding party through one of its own members' signed links; a
confirmation from outside the party is refused once and blocks nothing; a re-grade voids earlier
approvals; the end of the response is the last approval (CQ-PLAN 第五篇's 30 days start there);
an incident that was closing before the core is taken over."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from notices.acks import acknowledge, make_token
from notices.service import send_notice
from regflows import ledger
from regflows.incident import closing, store
from regflows.incident.grading import grade
from regflows.incident.record import IncidentRecord
from regflows.kit import approvals
from regflows.profile import load_profile
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, utcnow

BASE = "http://127.0.0.1:4201"
BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def level_iv(home: Path, http, tmp_path: Path, write_profile):  # type: ignore[no-untyped-def]
    """A grade IV incident whose response has ended: the division and the development centre decide."""
    migrate()
    discovered = utcnow().astimezone(BEIJING).replace(microsecond=0) - dt.timedelta(hours=3)
    record = IncidentRecord.model_validate({
        "title": "内部办公系统异常", "occurred_at": (discovered - dt.timedelta(minutes=10)).isoformat(),
        "discovered_at": discovered.isoformat(), "discovered_by": "值班工程师", "system_name": "办公系统", "category": "other",
        "response_ended_at": (discovered + dt.timedelta(hours=2)).isoformat(),
    })
    grading = grade(record)
    data = record.model_dump(mode="json")
    incident_id = store.incident_id_for(data, "YX0001")
    store.save_incident(incident_id, data, "YX0001", grading.model_dump(mode="json"), grading.rules_version, "test")
    assert store.load_incident(incident_id).grade == "IV"
    return load_profile(write_profile(tmp_path / "profile.yaml", http.base, None, BASE)), http, incident_id


IV_APPROVERS = {"division": "chen.jing", "development_centre": "liu.yang", "service_provider": "wu.gang"}


def _regrade(incident_id: str, grade_: str) -> None:
    record = {**store.load_incident(incident_id).record, "assessed_grade": grade_, "assessed_reason": "影响经研判扩大"}
    grading = grade(IncidentRecord.model_validate(record))
    assert grading.grade == grade_
    store.update_record(incident_id, {"assessed_grade": grade_, "assessed_reason": "影响经研判扩大"}, "zhao.lei")
    store.set_grading(incident_id, grading.model_dump(mode="json"), "研判", "zhao.lei")


def _approval_link(http: Any, person: str, count: int = 1) -> str:
    messages = [m.json() for m in http.wait_for(f"/ok/{person}", count) if "【审批】" in m.json()["title"]]
    return http.ack_link_in(messages[count - 1]["message"], BASE).rsplit("/", 1)[1]


def _actions(incident_id: str) -> list[str]:
    with db.session() as s:
        return [e.action for e in s.execute(select(AuditEntry).where(AuditEntry.subject == incident_id).order_by(AuditEntry.seq)).scalars()
                if e.action.startswith("incident.")]


def test_level_iv_closes_when_all_three_parties_decided_and_an_outsider_blocks_nothing(level_iv) -> None:  # type: ignore[no-untyped-def]
    """CQ-PLAN 第四篇三（四）: IV级响应结束由事件发生处室会同发展中心与专业服务机构决定: three parties, each its own link."""
    profile, http, incident_id = level_iv
    assert closing.request_close(profile, incident_id, "li.ming") == ["division", "development_centre", "service_provider"]
    assert store.load_incident(incident_id).state == "closing"
    division_request = f"incident:{incident_id}:close:r1:division:1"
    # zhao.lei (not of the division) confirms the division's request first: refused, recorded once.
    acknowledge(make_token(division_request, "zhao.lei"))
    assert closing.try_close(profile, incident_id) is None
    acknowledge(_approval_link(http, "chen.jing"))
    acknowledge(_approval_link(http, "liu.yang"))
    assert closing.try_close(profile, incident_id) is None  # the professional service provider has not decided yet
    assert closing.request_close(profile, incident_id, "li.ming") == ["division", "development_centre", "service_provider"]  # asked again: nothing re-sent
    assert len([m for m in http.at("/ok/chen.jing") if "【审批】" in m.json()["title"]]) == 1
    acknowledge(_approval_link(http, "wu.gang"))
    assert closing.try_close(profile, incident_id) == IV_APPROVERS
    assert store.load_incident(incident_id).state == "closed"
    assert closing.try_close(profile, incident_id) is None
    actions = _actions(incident_id)
    assert actions.count("incident.close_refused") == 1 and actions.count("incident.close_approved") == 3
    assert actions.index("incident.closing") < actions.index("incident.close_approved") < actions.index("incident.closed")
    assert ledger.verify().ok


def test_each_deciding_party_can_open_the_incident_s_reports_from_its_request(level_iv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Issue 14, 4: whoever decides the end opens what was written, through a signed link to the
    recorded file (its latest version); a document no longer on record is not linked."""
    from notices.files import read_file_token, recorded_file
    from regflows.kit.reports import record_report_in

    profile, http, incident_id = level_iv
    old, new = tmp_path / "summary-v1.docx", tmp_path / "summary-v2.docx"
    old.write_bytes(b"first draft")
    new.write_bytes(b"second draft")
    with db.session() as s:
        for path in (old, new):
            record_report_in(s, procedure="incident_response", kind="summary_report", subject=incident_id, path=path,
                             action="incident.report_drafted")
    closing.request_close(profile, incident_id, "li.ming")
    [request] = [m.json()["message"] for m in http.wait_for("/ok/chen.jing") if "【审批】" in m.json()["title"]]
    assert "决定前可查阅本事件的报告" in request
    line = next(x for x in request.splitlines() if "/files/" in x)
    assert line.startswith("- 《网络安全事件总结报告》：http://127.0.0.1:4201/files/"), line
    token = line.rsplit("/files/", 1)[1].strip()
    report, data = recorded_file(read_file_token(token))
    assert data == b"second draft" and report.path == str(new)


def test_a_regrade_voids_earlier_approvals(level_iv) -> None:  # type: ignore[no-untyped-def]
    """CQ-PLAN 第四篇三: who decides follows the level; approvals given for another level do not count."""
    profile, http, incident_id = level_iv
    closing.request_close(profile, incident_id, "li.ming")
    acknowledge(_approval_link(http, "chen.jing"))
    assert closing.try_close(profile, incident_id) is None
    _regrade(incident_id, "III")  # now the division decides, then the working group consents
    assert closing.try_close(profile, incident_id) is None
    state = approvals.get(closing.KIND, incident_id)
    assert state is not None and (state.revision, state.decisions) == (2, [])
    assert "closing_voided" in [e.kind for e in store.timeline(incident_id)]
    acknowledge(_approval_link(http, "chen.jing", 2))
    assert closing.try_close(profile, incident_id) is None  # the working group has not consented yet
    acknowledge(_approval_link(http, "sun.li"))
    assert closing.try_close(profile, incident_id) == {"division": "chen.jing", "emergency_working_group": "sun.li"}


def test_an_incident_closing_before_the_approvals_core_is_taken_over(level_iv) -> None:  # type: ignore[no-untyped-def]
    """Before the core, one approval_request per role (incident:ID:close:ROLE) and the state closing."""
    profile, http, incident_id = level_iv
    for role in ("division", "development_centre"):
        send_notice(profile, "approval_request",
                    {"incident_id": incident_id, "incident_title": "内部办公系统异常", "grade": "IV", "action": "结束应急响应",
                     "decision_role": role, "basis": "CQ-PLAN 第四篇三（四）"}, [role],
                    notice_id=closing.legacy_notice_id(incident_id, role), urgent=True, requires_ack=True, grade="IV", related=incident_id)
    store.set_state(incident_id, "closing", "li.ming", {"deciding_roles": ["division", "development_centre"]})
    acknowledge(_approval_link(http, "chen.jing"))
    acknowledge(_approval_link(http, "liu.yang"))
    assert closing.try_close(profile, incident_id) is None  # the service provider is asked now (CQ-PLAN 第四篇三（四）)
    acknowledge(_approval_link(http, "wu.gang"))
    assert closing.try_close(profile, incident_id) == IV_APPROVERS
    state = approvals.get(closing.KIND, incident_id)
    assert state is not None and state.maker.person == "li.ming" and state.stage == approvals.DONE
    with db.session() as s:
        closed = s.execute(select(AuditEntry).where(AuditEntry.action == "incident.closed")).scalar_one()
    assert json.loads(closed.payload)["approved_by"] == IV_APPROVERS


def test_the_proposer_never_approves_their_own_proposal(level_iv) -> None:  # type: ignore[no-untyped-def]
    """Maker-checker: chen.jing, the division's only member, cannot propose and approve alone."""
    profile, http, incident_id = level_iv
    with pytest.raises(closing.CloseRefused, match="提议人不能审批自己的提议"):
        closing.request_close(profile, incident_id, "chen.jing")
    assert store.load_incident(incident_id).state == "open" and approvals.get(closing.KIND, incident_id) is None
    with pytest.raises(closing.CloseRefused, match="不是机构配置中的人员"):
        closing.request_close(profile, incident_id, "nobody.x")


def test_a_proposer_in_a_deciding_role_is_not_asked_and_cannot_approve(level_iv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    profile, http, incident_id = level_iv
    data = yaml.safe_load(Path(tmp_path / "profile.yaml").read_text(encoding="utf-8"))
    for role in data["roles"].values():
        if role["kind"] == "division":
            role["members"] = ["chen.jing", "li.ming"]
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    profile = load_profile(tmp_path / "profile.yaml")
    closing.request_close(profile, incident_id, "chen.jing")
    division_request = f"incident:{incident_id}:close:r1:division:1"
    acknowledge(make_token(division_request, "chen.jing"))  # the proposer's own confirmation counts for nothing
    acknowledge(_approval_link(http, "liu.yang"))
    acknowledge(_approval_link(http, "wu.gang"))
    assert closing.try_close(profile, incident_id) is None
    acknowledge(make_token(division_request, "li.ming"))
    assert closing.try_close(profile, incident_id) == {**IV_APPROVERS, "division": "li.ming"}
    assert "incident.close_refused" in _actions(incident_id)


def test_one_proposal_at_a_time_and_the_proposer_s_own_click_is_refused_as_such(level_iv) -> None:  # type: ignore[no-untyped-def]
    profile, http, incident_id = level_iv
    closing.request_close(profile, incident_id, "li.ming")
    with pytest.raises(closing.CloseRefused, match="已由 .* 提议结束，正在审批中"):
        closing.request_close(profile, incident_id, "zhao.lei")  # would rewrite who proposed
    assert closing.request_close(profile, incident_id, "li.ming") == ["division", "development_centre", "service_provider"]  # the proposer may ask again
    acknowledge(make_token(f"incident:{incident_id}:close:r1:division:1", "li.ming"))  # the proposer's own confirmation
    assert closing.try_close(profile, incident_id) is None
    with db.session() as s:
        refused = [json.loads(e.payload) for e in s.execute(select(AuditEntry).where(AuditEntry.action == "incident.close_refused")).scalars()]
    assert [r["reason"] for r in refused] == ["提议人不能审批自己的结束提议（CQ-PLAN 应急结束：提议与批准须为不同人员）"]


def test_level_iii_the_division_decides_then_the_working_group_consents_each_by_its_own_link(level_iv) -> None:  # type: ignore[no-untyped-def]
    """CQ-PLAN 第四篇三（三）: III级响应结束由事件发生处室决定，报应急工作组同意后结束: two steps in
    order; the working group is asked only once the division decided, and both are on record."""
    profile, http, incident_id = level_iv
    _regrade(incident_id, "III")
    assert closing.request_close(profile, incident_id, "li.ming") == ["division", "emergency_working_group"]
    assert closing.try_close(profile, incident_id) is None
    assert not [m for m in http.received if m.path.startswith(("/ok/zhao.lei", "/ok/sun.li")) and "【审批】" in m.json()["title"]]
    acknowledge(_approval_link(http, "chen.jing"))
    assert closing.try_close(profile, incident_id) is None  # the division decided: now the working group is asked
    request = [m.json() for m in http.wait_for("/ok/sun.li") if "【审批】" in m.json()["title"]][0]
    assert "同意结束应急响应" in request["title"] and "零售业务处（陈静）已决定结束应急响应" in request["message"]
    acknowledge(_approval_link(http, "sun.li"))
    assert closing.try_close(profile, incident_id) == {"division": "chen.jing", "emergency_working_group": "sun.li"}
    state = approvals.get(closing.KIND, incident_id)
    assert state is not None and [(d.step, d.role, d.act.person) for d in state.decisions] == [
        ("close", "division", "chen.jing"), ("approve", "emergency_working_group", "sun.li")]


def test_level_i_the_working_group_proposes_then_the_leadership_group_approves(level_iv) -> None:  # type: ignore[no-untyped-def]
    """CQ-PLAN 第四篇三（一）: I级响应结束由应急工作组提出建议，报局网络安全工作领导小组批准: the proposal is the
    working group's own signed link (not the command that started the closing), then the leadership group's."""
    profile, http, incident_id = level_iv
    _regrade(incident_id, "I")
    assert closing.request_close(profile, incident_id, "li.ming") == ["emergency_working_group", "leadership_group"]
    assert not [m for m in http.at("/ok/zhou.qiang") if "【审批】" in m.json()["title"]]
    proposal = [m.json() for m in http.wait_for("/ok/zhao.lei") if "【审批】" in m.json()["title"]][0]
    assert "提出结束应急响应的建议" in proposal["title"]
    acknowledge(_approval_link(http, "zhao.lei"))
    assert closing.try_close(profile, incident_id) is None
    acknowledge(_approval_link(http, "zhou.qiang"))
    assert closing.try_close(profile, incident_id) == {"emergency_working_group": "zhao.lei", "leadership_group": "zhou.qiang"}


def test_the_end_of_the_response_is_the_last_approval_not_a_typed_time(level_iv) -> None:  # type: ignore[no-untyped-def]
    """CQ-PLAN 第五篇: 事件的调查处理和总结评估工作原则上在应急响应结束后30天内完成; 第四篇三: the response ends
    by the decision. The record's typed end (two hours after discovery) is replaced by the time of the
    last approval, and the investigation report's 30 days count from that day."""
    from regflows.incident.clock import obligations
    from regflows.incident.grading import Grading

    from regflows.incident.recompute import clock_rows

    profile, http, incident_id = level_iv
    incident = store.load_incident(incident_id)
    typed = incident.record["response_ended_at"]
    clock_rows(incident_id, incident.record, incident.grading, profile, utcnow())  # as declared
    closing.request_close(profile, incident_id, "li.ming")
    for person in ("chen.jing", "liu.yang", "wu.gang"):
        acknowledge(_approval_link(http, person))
    assert closing.try_close(profile, incident_id) == IV_APPROVERS
    state = approvals.get(closing.KIND, incident_id)
    assert state is not None
    last = max(dt.datetime.fromisoformat(d.act.at) for d in state.decisions)  # when each clicked
    incident = store.load_incident(incident_id)
    ended = dt.datetime.fromisoformat(incident.record["response_ended_at"])
    assert ended == last and ended != dt.datetime.fromisoformat(typed)
    updated = [e for e in store.timeline(incident_id) if e.kind == "updated"][-1]
    assert updated.detail["replaced"] == typed and updated.detail["response_ended_at"] == ended.isoformat()
    record = IncidentRecord.model_validate(incident.record)
    investigation = next(o for o in obligations(record, Grading.model_validate(incident.grading), profile, utcnow())
                         if o.id == "investigation_report")
    assert investigation.last_day is not None
    assert (investigation.last_day - ended.astimezone(BEIJING).date()).days >= 30  # from the approved day (rolled forward)
    assert incident_id in [i.id for i in store.open_incidents()]  # closed, yet watched while the report is owed


def test_a_declared_end_of_the_response_is_not_taken() -> None:
    """CQ-PLAN 第四篇三、第五篇: a record declared with an end of response does not start the 30 days;
    the declaration (tasks/incident.py record_task) stores it without, and the timeline says what was typed."""
    record = {"title": "x", "response_ended_at": "2025-10-01T10:00:00+08:00"}
    assert closing.untyped_end(record) == ({"title": "x", "response_ended_at": None}, "2025-10-01T10:00:00+08:00")
    assert closing.untyped_end({"title": "x"}) == ({"title": "x", "response_ended_at": None}, None)


def test_the_end_of_the_response_cannot_be_typed(level_iv) -> None:  # type: ignore[no-untyped-def]
    """CQ-PLAN 第四篇三、第五篇: the end is decided, not typed; the command says how to start the closing."""
    from typer.testing import CliRunner

    from regflows.cli import app

    profile, http, incident_id = level_iv
    result = CliRunner().invoke(app, ["incident", "update", incident_id, "--response-ended-at", "2025-10-01T10:00:00+08:00",
                                      "--by", "zhao.lei"])
    assert result.exit_code == 2 and "不能手工填写" in result.stderr and "regflows incident close" in result.stderr


def test_without_cq_plan_the_profile_names_who_approves_the_end(level_iv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """CQ-PLAN binds only an institution that adopts it (docs/regulations.md: regimes are a profile
    setting); otherwise settings.incident_end_approval_role approves, whatever the grade."""
    profile, http, incident_id = level_iv
    data = yaml.safe_load(Path(tmp_path / "profile.yaml").read_text(encoding="utf-8"))
    data["regimes"]["CQ-PLAN"] = False
    data["settings"]["incident_end_approval_role"] = "information_management"
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    profile = load_profile(tmp_path / "profile.yaml")
    assert closing.request_close(profile, incident_id, "li.ming") == ["information_management"]
    acknowledge(_approval_link(http, "zhao.lei"))
    assert closing.try_close(profile, incident_id) == {"information_management": "zhao.lei"}


def test_the_last_approval_closes_at_once_through_the_endpoint_s_follow_up(level_iv) -> None:  # type: ignore[no-untyped-def]
    """The approval_request kind's after-confirmation hook: no waiting for the next incident-watch minute."""
    from notices.kinds import kind

    profile, http, incident_id = level_iv
    closing.request_close(profile, incident_id, "li.ming")
    hook = kind("approval_request").after_ack
    assert hook is not None
    first = acknowledge(_approval_link(http, "chen.jing"))
    assert hook(first.notice_id) == f"事件 {incident_id} 结束审批进行中，尚待：development_centre、service_provider。"
    acknowledge(_approval_link(http, "liu.yang"))
    last = acknowledge(_approval_link(http, "wu.gang"))
    assert hook(last.notice_id).startswith(f"事件 {incident_id} 的应急响应已结束")
    assert store.load_incident(incident_id).state == "closed"


def test_the_endpoint_and_the_watch_racing_close_the_incident_once(level_iv, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Both saw the incident 'closing' and the approvals complete: only the first closes it."""
    profile, http, incident_id = level_iv
    closing.request_close(profile, incident_id, "li.ming")
    for person in ("chen.jing", "liu.yang", "wu.gang"):
        acknowledge(_approval_link(http, person))
    stale = store.load_incident(incident_id)  # what the slower of the two read before the other closed it
    assert closing.try_close(profile, incident_id) == IV_APPROVERS
    monkeypatch.setattr(store, "load_incident", lambda _id, url=None: stale)
    assert closing.try_close(profile, incident_id) is None
    assert [e.kind for e in store.timeline(incident_id)].count("closed") == 1
    assert _actions(incident_id).count("incident.closed") == 1
