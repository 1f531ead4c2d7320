"""The maker-checker core (regflows/kit/approvals.py): ordered steps, who is eligible, the first
eligible confirmation, refusals ledgered once, binding to a content hash, expired links re-sent.

Requests travel as real notices through Apprise to a local HTTP server; people confirm with the
personal links those messages carry (``notices.acks.acknowledge``). The notice kind is the
shared ``deadline_reminder``: the core does not care what the request says.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from notices.acks import acknowledge, make_token
from regflows import ledger
from regflows.kit import approvals
from regflows.kit.approvals import APPROVED, DONE, Act, Approval, NoticeRequest, Policy, Step
from regflows.profile import Profile
from regflows.store import db, migrate
from regflows.store.models import Approval as ApprovalRow
from regflows.store.models import AuditEntry, Notice, utcnow

BASE = "http://127.0.0.1:4201"
SUBJECT = "kit-test:2025-10"
H1, H2 = hashlib.sha256(b"figures v1").hexdigest(), hashlib.sha256(b"figures v2").hexdigest()
FOUR_EYES = (Step("check", ("compliance",), distinct=True, action="kit_test.checked"),
             Step("sign", ("leadership_group",), distinct=True, action="kit_test.signed"))


def _profile(http: Any, build_profile: Callable[..., Profile]) -> Profile:
    """k.m makes; compliance = {k.m, k.a, k.b}, leadership = {k.a, k.c}; division = {k.c, k.m}, development centre = {k.d}."""
    people = {pid: [("webhook", f"json://{http.base}/ok/{pid}")] for pid in ("k.m", "k.a", "k.b", "k.c", "k.d")}
    roles = {"compliance": {"kind": "compliance", "name": "合规部", "members": ["k.m", "k.a", "k.b"]},
             "leadership_group": {"kind": "leadership_group", "name": "领导小组", "members": ["k.a", "k.c"]},
             "retail_division": {"kind": "division", "name": "零售处", "members": ["k.c", "k.m"]},
             "development_centre": {"kind": "development_centre", "name": "发展中心", "members": ["k.d"]}}
    return build_profile(people, roles=roles, base_url=BASE)


def _policy(steps: tuple[Step, ...] = FOUR_EYES, address: str = "eligible", validity: dt.timedelta | None = None) -> Policy:
    def request(approval: Approval, step: Step, role: str) -> NoticeRequest:
        context = {"state": "due_soon", "obligation": f"审批测试：{step.name}", "clause": "测试条款", "due_label": "2025-10-10 24:00",
                   "subject_ref": approval.subject}
        return NoticeRequest("deadline_reminder", context, address=address)  # type: ignore[arg-type]

    def request_id(approval: Approval, step: Step, role: str, attempt: int) -> str:
        return f"{approval.subject}:r{approval.revision}:{step.name}:{role}:{attempt}"

    return Policy("kit-test", steps, request, request_id, refused_action="kit_test.refused", link_validity=validity)


def _maker() -> Act:
    return Act("k.m", "测试k.m", utcnow().isoformat(), "run")


@pytest.fixture
def world(home: Path, http, build_profile):  # type: ignore[no-untyped-def]
    migrate()
    return _profile(http, build_profile), http


def _token(http: Any, person: str, count: int = 1) -> str:
    """The link of the ``count``-th message ``person`` received (waits for it)."""
    message = http.wait_for(f"/ok/{person}", count)[count - 1].json()["message"]
    return http.ack_link_in(message, BASE).rsplit("/", 1)[1]


def _actions(prefix: str = "kit_test.") -> list[str]:
    with db.session() as s:
        return [e.action for e in s.execute(select(AuditEntry).where(AuditEntry.subject == SUBJECT).order_by(AuditEntry.seq)).scalars()
                if e.action.startswith(prefix)]


def test_steps_in_order_first_eligible_confirmation_counts_and_four_eyes_exclude(world) -> None:  # type: ignore[no-untyped-def]
    profile, http = world
    policy = _policy()
    assert approvals.bind(policy, SUBJECT, H1, _maker()).outcome == "new"
    waiting = approvals.advance(profile, policy, SUBJECT)
    assert waiting.stage == "check" and [r.notice for r in waiting.requests] == [f"{SUBJECT}:r1:check:compliance:1"]
    http.wait_for("/ok/k.a"), http.wait_for("/ok/k.b")
    assert not http.at("/ok/k.m") and not http.at("/ok/k.c")  # not the maker; the sign step waits for the check

    # k.b clicks first in wall-clock order of calls, but k.a's confirmation is the earlier one.
    start = utcnow()
    acknowledge(_token(http, "k.b"), now=start + dt.timedelta(minutes=2))
    acknowledge(_token(http, "k.a"), now=start + dt.timedelta(minutes=1))
    state = approvals.advance(profile, policy, SUBJECT)
    assert state.decision("check") is not None and state.decision("check").person == "k.a"  # type: ignore[union-attr]
    assert state.stage == "sign" and state.decisions[0].content_sha256 == H1
    # k.a checked, so only k.c may sign: k.a (leadership too) gets no sign-off link.
    http.wait_for("/ok/k.c")
    assert len(http.at("/ok/k.a")) == 1
    acknowledge(_token(http, "k.c"))
    done = approvals.advance(profile, policy, SUBJECT)
    assert done.stage == APPROVED and done.decision("sign").person == "k.c"  # type: ignore[union-attr]
    assert _actions() == ["kit_test.checked", "kit_test.signed"]  # k.b was eligible, merely later: not refused
    with db.session() as s:
        finished, newly = approvals.finish_in(s, "kit-test", SUBJECT, 1, {"final": "x"})
    assert (finished.stage, newly, finished.detail["final"]) == (DONE, True, "x")
    assert approvals.advance(profile, policy, SUBJECT).stage == DONE
    assert approvals.open_subjects("kit-test") == [] and ledger.verify().ok


def test_a_confirmation_by_someone_not_eligible_is_refused_and_ledgered_once(world) -> None:  # type: ignore[no-untyped-def]
    profile, http = world
    policy = _policy()
    approvals.bind(policy, SUBJECT, H1, _maker())
    request = approvals.advance(profile, policy, SUBJECT).requests[0].notice
    acknowledge(make_token(request, "k.m"))  # the maker holds a link to the check (say, issued before a role change)
    assert approvals.advance(profile, policy, SUBJECT).stage == "check"
    state = approvals.advance(profile, policy, SUBJECT)
    assert state.stage == "check" and state.decisions == [] and len(state.refused) == 1
    assert _actions() == ["kit_test.refused"]
    with db.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "kit_test.refused")).scalar_one()
        assert entry.actor == "k.m" and json.loads(entry.payload)["stage"] == "check"
    acknowledge(_token(http, "k.b"))
    assert approvals.advance(profile, policy, SUBJECT).decision("check").person == "k.b"  # type: ignore[union-attr]


def test_a_joint_step_needs_each_role_through_its_own_members(world) -> None:  # type: ignore[no-untyped-def]
    profile, http = world
    policy = _policy((Step("close", ("division", "development_centre"), distinct=False, action="kit_test.approved"),), address="role")
    approvals.bind(policy, SUBJECT, H1, _maker())
    state = approvals.advance(profile, policy, SUBJECT)
    assert [(r.role, r.notice) for r in state.requests] == [("division", f"{SUBJECT}:r1:close:division:1"),
                                                            ("development_centre", f"{SUBJECT}:r1:close:development_centre:1")]
    with db.session() as s:  # addressed to the role: its escalation chain applies
        assert s.get(Notice, f"{SUBJECT}:r1:close:division:1").roles == ["division"]  # type: ignore[union-attr]
    # The development centre's member confirms through the division's request: not the division's approval.
    acknowledge(make_token(f"{SUBJECT}:r1:close:division:1", "k.d"))
    acknowledge(_token(http, "k.d"))
    state = approvals.advance(profile, policy, SUBJECT)
    assert state.stage == "close" and state.decision("close", "division") is None
    assert state.decision("close", "development_centre").person == "k.d"  # type: ignore[union-attr]
    # Not distinct: the maker, a division member, may take the division's part.
    acknowledge(_token(http, "k.m"))
    state = approvals.advance(profile, policy, SUBJECT)
    assert state.stage == APPROVED and state.decision("close", "division").person == "k.m"  # type: ignore[union-attr]
    assert _actions() == ["kit_test.refused", "kit_test.approved", "kit_test.approved"]


def test_only_a_changed_content_hash_voids_earlier_approvals(world) -> None:  # type: ignore[no-untyped-def]
    profile, http = world
    policy = _policy()
    approvals.bind(policy, SUBJECT, H1, _maker())
    approvals.advance(profile, policy, SUBJECT)
    acknowledge(_token(http, "k.a"))
    assert approvals.advance(profile, policy, SUBJECT).stage == "sign"
    sign_request = f"{SUBJECT}:r1:sign:leadership_group:1"

    again = approvals.bind(policy, SUBJECT, H1, Act("k.b", "测试k.b", utcnow().isoformat(), "run"), {"note": "rerun"})
    assert (again.outcome, again.approval.revision, again.approval.stage) == ("kept", 1, "sign")
    assert again.approval.decision("check").person == "k.a"  # type: ignore[union-attr]
    assert again.approval.maker.person == "k.m" and again.approval.detail == {"note": "rerun"}  # the maker of record stays
    kept = approvals.advance(profile, policy, SUBJECT)
    assert [r.notice for r in kept.requests][-1] == sign_request and len(http.at("/ok/k.c")) == 1  # its open link still serves

    changed = approvals.bind(policy, SUBJECT, H2, _maker())
    assert (changed.outcome, changed.previous_revision, changed.approval.revision) == ("voided", 1, 2)
    assert (changed.approval.stage, changed.approval.decisions, changed.approval.requests) == ("check", [], [])
    acknowledge(_token(http, "k.c"))  # a confirmation of the old revision's request counts for nothing now
    state = approvals.advance(profile, policy, SUBJECT)
    assert state.stage == "check" and state.decisions == [] and state.requests[-1].notice == f"{SUBJECT}:r2:check:compliance:1"
    assert len(http.wait_for("/ok/k.a", 2)) == 2
    with db.session() as s, pytest.raises(approvals.Voided):
        approvals.finish_in(s, "kit-test", SUBJECT, 1)


def test_a_request_whose_links_expired_is_sent_again(world) -> None:  # type: ignore[no-untyped-def]
    profile, http = world
    policy = _policy(validity=dt.timedelta(days=2))
    approvals.bind(policy, SUBJECT, H1, _maker())
    approvals.advance(profile, policy, SUBJECT)
    assert len(approvals.advance(profile, policy, SUBJECT, now=utcnow() + dt.timedelta(hours=46)).requests) == 1  # live: nothing sent
    later = utcnow() + dt.timedelta(hours=47, minutes=30)  # within the resend margin of expiry
    state = approvals.advance(profile, policy, SUBJECT, now=later)
    assert [r.notice for r in state.requests] == [f"{SUBJECT}:r1:check:compliance:1", f"{SUBJECT}:r1:check:compliance:2"]
    acknowledge(_token(http, "k.b", 2))
    assert approvals.advance(profile, policy, SUBJECT).decision("check").person == "k.b"  # type: ignore[union-attr]


def test_nobody_eligible_is_raised_and_nothing_is_sent(world) -> None:  # type: ignore[no-untyped-def]
    profile, http = world
    policy = _policy((Step("check", ("division",), distinct=True),))
    approvals.bind(policy, SUBJECT, H1, _maker())  # division = {k.c, k.m}: k.m made it, k.c may check
    assert approvals.advance(profile, policy, SUBJECT).stage == "check"
    http.wait_for("/ok/k.c")
    acknowledge(_token(http, "k.c"))
    only = _policy((Step("check", ("division",), distinct=True), Step("sign", ("division",), distinct=True)))
    with pytest.raises(approvals.NobodyEligible) as caught:  # both members took part: nobody left to sign
        approvals.advance(profile, only, SUBJECT)
    assert (caught.value.step, caught.value.role) == ("sign", "division")
    state = approvals.get("kit-test", SUBJECT)
    assert state is not None and state.stage == "sign" and state.decision("check").person == "k.c"  # type: ignore[union-attr]
    assert not http.at("/ok/k.m")


def test_two_writers_of_the_same_approval_cannot_both_win(world) -> None:  # type: ignore[no-untyped-def]
    approvals.bind(_policy(), SUBJECT, H1, _maker())
    with pytest.raises(StaleDataError):
        with db.session() as first:
            row = first.execute(select(ApprovalRow).where(ApprovalRow.subject == SUBJECT)).scalar_one()
            with db.session() as second:  # the other writer commits in between
                second.execute(select(ApprovalRow).where(ApprovalRow.subject == SUBJECT)).scalar_one().stage = "sign"
            row.stage = APPROVED
    assert approvals.get("kit-test", SUBJECT).stage == "sign"  # type: ignore[union-attr]
