"""Closing an incident on the shared approvals core (CQ-PLAN 应急结束): every deciding role
approves through one of its own members' signed links; a confirmation from outside the role is
refused once and blocks nothing; a changed end of response voids earlier approvals; an incident
that was closing before the core is taken over."""

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
from regflows.profile import DEMO_PROFILE, Profile, load_profile
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, utcnow

BASE = "http://127.0.0.1:4201"
BEIJING = dt.timezone(dt.timedelta(hours=8))


def _profile(http: Any, tmp_path: Path) -> Profile:
    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    for person in data["people"]:
        person["channels"] = [{"kind": "webhook", "url": f"json://{http.base}/ok/{person['id']}"}]
    data["public_base_url"] = BASE
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_profile(path)


@pytest.fixture
def level_iv(home: Path, http, tmp_path: Path):  # type: ignore[no-untyped-def]
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
    return _profile(http, tmp_path), http, incident_id


def _approval_link(http: Any, person: str, count: int = 1) -> str:
    messages = [m.json() for m in http.wait_for(f"/ok/{person}", count) if "【审批】" in m.json()["title"]]
    return http.ack_link_in(messages[count - 1]["message"], BASE).rsplit("/", 1)[1]


def _actions(incident_id: str) -> list[str]:
    with db.session() as s:
        return [e.action for e in s.execute(select(AuditEntry).where(AuditEntry.subject == incident_id).order_by(AuditEntry.seq)).scalars()
                if e.action.startswith("incident.")]


def test_level_iv_closes_when_both_roles_approved_and_an_outsider_blocks_nothing(level_iv) -> None:  # type: ignore[no-untyped-def]
    profile, http, incident_id = level_iv
    assert closing.request_close(profile, incident_id, "li.ming") == ["division", "development_centre"]
    assert store.load_incident(incident_id).state == "closing"
    division_request = f"incident:{incident_id}:close:r1:division:1"
    # zhao.lei (not of the division) confirms the division's request first: refused, recorded once.
    acknowledge(make_token(division_request, "zhao.lei"))
    assert closing.try_close(profile, incident_id) is None
    acknowledge(_approval_link(http, "chen.jing"))
    assert closing.try_close(profile, incident_id) is None  # the development centre has not approved yet
    assert closing.request_close(profile, incident_id, "li.ming") == ["division", "development_centre"]  # asked again: nothing re-sent
    assert len([m for m in http.at("/ok/chen.jing") if "【审批】" in m.json()["title"]]) == 1
    acknowledge(_approval_link(http, "liu.yang"))
    assert closing.try_close(profile, incident_id) == {"division": "chen.jing", "development_centre": "liu.yang"}
    assert store.load_incident(incident_id).state == "closed"
    assert closing.try_close(profile, incident_id) is None
    actions = _actions(incident_id)
    assert actions.count("incident.close_refused") == 1 and actions.count("incident.close_approved") == 2
    assert actions[-1] == "incident.closed" and actions.index("incident.closing") < actions.index("incident.close_approved")
    assert ledger.verify().ok


def test_a_changed_end_of_response_voids_earlier_approvals(level_iv) -> None:  # type: ignore[no-untyped-def]
    profile, http, incident_id = level_iv
    closing.request_close(profile, incident_id, "li.ming")
    acknowledge(_approval_link(http, "chen.jing"))
    assert closing.try_close(profile, incident_id) is None
    store.update_record(incident_id, {"response_ended_at": utcnow().isoformat()}, "zhao.lei")  # corrected: what was approved changed
    assert closing.try_close(profile, incident_id) is None
    state = approvals.get(closing.KIND, incident_id)
    assert state is not None and (state.revision, state.decisions) == (2, [])
    assert "closing_voided" in [e.kind for e in store.timeline(incident_id)]
    acknowledge(_approval_link(http, "liu.yang", 2))
    assert closing.try_close(profile, incident_id) is None  # the division must approve the corrected end again
    acknowledge(_approval_link(http, "chen.jing", 2))
    assert closing.try_close(profile, incident_id) == {"division": "chen.jing", "development_centre": "liu.yang"}


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
    assert closing.try_close(profile, incident_id) == {"division": "chen.jing", "development_centre": "liu.yang"}
    state = approvals.get(closing.KIND, incident_id)
    assert state is not None and state.maker.person == "li.ming" and state.stage == approvals.DONE
    with db.session() as s:
        closed = s.execute(select(AuditEntry).where(AuditEntry.action == "incident.closed")).scalar_one()
    assert json.loads(closed.payload)["approved_by"] == {"division": "chen.jing", "development_centre": "liu.yang"}


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
    assert closing.try_close(profile, incident_id) is None
    acknowledge(make_token(division_request, "li.ming"))
    assert closing.try_close(profile, incident_id) == {"division": "li.ming", "development_centre": "liu.yang"}
    assert "incident.close_refused" in _actions(incident_id)


def test_one_proposal_at_a_time_and_the_proposer_s_own_click_is_refused_as_such(level_iv) -> None:  # type: ignore[no-untyped-def]
    profile, http, incident_id = level_iv
    closing.request_close(profile, incident_id, "li.ming")
    with pytest.raises(closing.CloseRefused, match="已由 .* 提议结束，正在审批中"):
        closing.request_close(profile, incident_id, "zhao.lei")  # would rewrite who proposed
    assert closing.request_close(profile, incident_id, "li.ming") == ["division", "development_centre"]  # the proposer may ask again
    acknowledge(make_token(f"incident:{incident_id}:close:r1:division:1", "li.ming"))  # the proposer's own confirmation
    assert closing.try_close(profile, incident_id) is None
    with db.session() as s:
        refused = [json.loads(e.payload) for e in s.execute(select(AuditEntry).where(AuditEntry.action == "incident.close_refused")).scalars()]
    assert [r["reason"] for r in refused] == ["提议人不能审批自己的结束提议（CQ-PLAN 应急结束：提议与批准须为不同人员）"]


def test_where_one_body_proposes_and_another_approves_the_proposer_is_of_the_first(level_iv) -> None:  # type: ignore[no-untyped-def]
    """Level III (CQ-PLAN 第四篇三（三）): the division decides, the working group consents."""
    profile, http, incident_id = level_iv
    record = {**store.load_incident(incident_id).record, "assessed_grade": "III", "assessed_reason": "影响较大"}
    grading = grade(IncidentRecord.model_validate(record))
    assert grading.grade == "III" and grading.ending.approved_by == "emergency_working_group"
    store.update_record(incident_id, {"assessed_grade": "III", "assessed_reason": "影响较大"}, "zhao.lei")
    store.set_grading(incident_id, grading.model_dump(mode="json"), "研判", "zhao.lei")
    with pytest.raises(closing.CloseRefused, match="须由.*的成员提议"):
        closing.request_close(profile, incident_id, "li.ming")  # on call, not of the division
    assert closing.request_close(profile, incident_id, "chen.jing") == ["emergency_working_group"]


def test_the_last_approval_closes_at_once_through_the_endpoint_s_follow_up(level_iv) -> None:  # type: ignore[no-untyped-def]
    """The approval_request kind's after-confirmation hook: no waiting for the next incident-watch minute."""
    from notices.kinds import kind

    profile, http, incident_id = level_iv
    closing.request_close(profile, incident_id, "li.ming")
    hook = kind("approval_request").after_ack
    assert hook is not None
    first = acknowledge(_approval_link(http, "chen.jing"))
    assert hook(first.notice_id) == f"事件 {incident_id} 结束审批进行中，尚待：development_centre。"
    last = acknowledge(_approval_link(http, "liu.yang"))
    assert hook(last.notice_id).startswith(f"事件 {incident_id} 的应急响应已结束")
    assert store.load_incident(incident_id).state == "closed"


def test_the_endpoint_and_the_watch_racing_close_the_incident_once(level_iv, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Both saw the incident 'closing' and the approvals complete: only the first closes it."""
    profile, http, incident_id = level_iv
    closing.request_close(profile, incident_id, "li.ming")
    acknowledge(_approval_link(http, "chen.jing"))
    acknowledge(_approval_link(http, "liu.yang"))
    stale = store.load_incident(incident_id)  # what the slower of the two read before the other closed it
    assert closing.try_close(profile, incident_id) == {"division": "chen.jing", "development_centre": "liu.yang"}
    monkeypatch.setattr(store, "load_incident", lambda _id, url=None: stale)
    assert closing.try_close(profile, incident_id) is None
    assert [e.kind for e in store.timeline(incident_id)].count("closed") == 1
    assert _actions(incident_id).count("incident.closed") == 1
