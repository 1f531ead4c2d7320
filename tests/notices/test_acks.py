"""Acknowledgement links through the real endpoint, and escalation along the chain on time."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from notices.ack_server import serve_in_thread
from notices.acks import AckRefused, acknowledge, make_token, read_token
from notices.delivery import RetryPolicy
from notices.escalation import mark_resolved, run_escalations
from notices.service import send_notice
from regflows.incident.notices import INCIDENT_ALERT
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Notice

FAST = RetryPolicy(attempts=1, backoff_seconds=0.01, timeout_seconds=5)


@pytest.fixture
def ack_endpoint(home: Path, free_port):  # type: ignore[no-untyped-def]
    migrate()
    port = free_port()
    server = serve_in_thread("127.0.0.1", port)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    ENDPOINT_COUNTS.append(server.config.app.state.refusals)
    yield base
    ENDPOINT_COUNTS.clear()
    server.should_exit = True


#: The refusal counts of the endpoint the running test serves (written to the ledger once a minute).
ENDPOINT_COUNTS: list = []


def refusals() -> list[str]:
    """Every refusal in the ledger: one entry each outside the endpoint (``acknowledge`` called
    directly), counted in the endpoint's per-minute summaries for links opened there."""
    for counts in ENDPOINT_COUNTS:
        counts.flush(force=True)
    reasons: list[str] = []
    with db.session() as s:
        for row in s.execute(select(AuditEntry).where(AuditEntry.action.in_(["ack.refused", "endpoint.refusals"]))).scalars():
            payload = json.loads(row.payload)
            if row.action == "ack.refused":
                reasons.append(payload["reason"])
                continue
            for client in payload["clients"].values():
                for key, count in client["refusals"].items():
                    action, _, reason = key.partition(":")
                    reasons += [reason] * count if action == "ack.refused" else []
    return reasons


@pytest.fixture
def on_call_profile(build_profile):  # type: ignore[no-untyped-def]
    """A function: four people at the HTTP stand-in, an on-call role escalating t.a → t.b → t.c, deputy t.d."""
    def on_call_profile(http, base_url: str, wait_minutes: float = 0.02):  # type: ignore[no-untyped-def]
        return build_profile(
            {
                "t.a": [("webhook", f"json://{http.base}/ok/a")],
                "t.b": [("webhook", f"json://{http.base}/ok/b")],
                "t.c": [("webhook", f"json://{http.base}/ok/c")],
                "t.d": [("webhook", f"json://{http.base}/ok/d")],
            },
            roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a"], "escalation": ["t.a", "t.b", "t.c"], "deputy": "t.d"}},
            settings={"ack_wait_minutes": {"I": wait_minutes, "II": wait_minutes, "III": wait_minutes, "IV": wait_minutes},
                      "renotify_every_minutes": wait_minutes},
            base_url=base_url,
        )
    return on_call_profile


ALERT = {"incident_id": "INC-20251001-0001", "title": "核心系统中断", "grade": "I", "discovered_at": "2025-10-01T09:00:00+08:00"}


def alert(profile, notice_id: str, **options):  # type: ignore[no-untyped-def]
    return send_notice(profile, INCIDENT_ALERT.name, ALERT, ["on_call"], notice_id=notice_id, urgent=True,
                       requires_ack=True, grade="I", policy=FAST, **options)


def test_link_acknowledges_once_and_refuses_forged_altered_expired_replayed(http, ack_endpoint, on_call_profile) -> None:  # type: ignore[no-untyped-def]
    profile = on_call_profile(http, ack_endpoint)
    alert(profile, "test:ack")
    link = http.ack_link_in(http.wait_for("/ok/a")[0].json()["message"], ack_endpoint)
    assert link.startswith(f"{ack_endpoint}/ack/")
    page = httpx.get(link)
    assert page.status_code == 200 and "确认收到" in page.text  # GET never acknowledges
    with db.session() as s:
        assert s.get(Notice, "test:ack").acked_at is None
    assert httpx.post(link).status_code == 200
    with db.session() as s:
        notice = s.get(Notice, "test:ack")
        assert notice.acked_by == "t.a" and notice.acked_at is not None
    assert httpx.post(link).status_code == 409  # replayed
    used = httpx.get(link)  # opened again later: says it is done, offers no second button
    assert used.status_code == 200 and "此链接已由" in used.text and "<form" not in used.text
    token = link.rsplit("/", 1)[1]
    token_id, signature = token.split(".")
    forged = f"{ack_endpoint}/ack/AAAAAAAAAAA.{signature}"
    altered = f"{ack_endpoint}/ack/{token_id}.{signature[:-2]}xx"
    assert httpx.post(forged).status_code == 400
    assert httpx.post(altered).status_code == 400
    expiring = make_token("test:ack", "t.b", validity=dt.timedelta(seconds=-1))
    with pytest.raises(AckRefused, match="过期"):
        acknowledge(expiring)
    assert sorted(refusals()) == ["altered", "expired", "forged", "replayed"]


def test_the_page_shows_the_notice_and_its_deadlines_and_a_used_link_says_who_confirmed_when(  # type: ignore[no-untyped-def]
        http, ack_endpoint, on_call_profile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 (7): the page showed an internal id rather than the deadlines; reopened after use
    (from the browser's history) it showed the button again, and pressing it a red 「重放」 error.
    It shows the notice's text with its deadlines, and once used says by whom (the name in the
    profile) and when (Beijing time), with no button, also when the old page's button is pressed."""
    profile = on_call_profile(http, ack_endpoint)
    path = tmp_path / "profile.yaml"  # the endpoint reads names from the profile in use, as under `regflows up`
    path.write_text(yaml.safe_dump(profile.model_dump(mode="json"), allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("REGFLOWS_PROFILE", str(path))
    context = {**ALERT, "next_due": [{"title": "向国家金融监督管理总局首次报告", "due_label": "2025-10-01 11:00", "clause": "NFRA 45"}]}
    send_notice(profile, INCIDENT_ALERT.name, context, ["on_call"], notice_id="test:page", urgent=True,
                requires_ack=True, grade="I", policy=FAST)
    link = http.ack_link_in(http.wait_for("/ok/a")[0].json()["message"], ack_endpoint)
    page = httpx.get(link).text
    assert "核心系统中断" in page and "向国家金融监督管理总局首次报告：截止 2025-10-01 11:00（NFRA 45）" in page
    assert "每位收件人的专属确认链接" not in page and "<form" in page
    confirmed = httpx.post(link)
    assert confirmed.status_code == 200 and "已记录 测试甲" in confirmed.text and "（北京时间）" in confirmed.text
    with db.session() as s:
        acked_at = s.get(Notice, "test:page").acked_at
    when = acked_at.replace(tzinfo=acked_at.tzinfo or dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(hours=8)))
    said = f"此链接已由 测试甲 于 {when:%Y-%m-%d %H:%M}（北京时间） 确认，无需再次操作。"
    reopened = httpx.get(link)
    assert reopened.status_code == 200 and said in reopened.text and "<form" not in reopened.text
    assert "向国家金融监督管理总局首次报告" in reopened.text  # still says what it was about
    pressed_again = httpx.post(link)  # the old page's button, from the history
    assert pressed_again.status_code == 409 and said in pressed_again.text
    assert "重放" not in pressed_again.text and 'class="bad"' not in pressed_again.text
    other = http.ack_link_in(http.wait_for("/ok/a")[0].json()["message"], ack_endpoint)
    assert other == link


def test_token_is_bound_to_notice_and_person(home: Path) -> None:
    migrate()
    with db.session() as s:
        s.add(Notice(id="n1", kind="test", subject="t"))
    token = make_token("n1", "t.a")
    claim = read_token(token)
    assert (claim.notice_id, claim.person_id) == ("n1", "t.a")
    # Rebinding the stored link to another person (database access) breaks the signature.
    from regflows.store.models import AckLink

    with db.session() as s:
        s.get(AckLink, token.split(".")[0]).person_id = "t.b"
    with pytest.raises(AckRefused, match="篡改"):
        read_token(token)


def test_unacknowledged_notice_escalates_along_the_chain_then_raises(http, ack_endpoint, on_call_profile) -> None:  # type: ignore[no-untyped-def]
    profile = on_call_profile(http, ack_endpoint, wait_minutes=0.02)  # 1.2 s
    alert(profile, "test:esc")
    assert run_escalations(profile, policy=FAST) == []  # nothing due yet
    time.sleep(1.3)
    [first] = run_escalations(profile, policy=FAST)
    assert (first.kind, first.step, first.person_id) == ("escalate", 1, "t.b")
    escalation = http.wait_for("/ok/b")[0].json()["message"]
    assert "test:esc" in escalation and "此前已通知：测试甲" in escalation  # names, not ids (issue 14, 7)
    assert run_escalations(profile, policy=FAST) == []  # the wait starts again from the escalation
    time.sleep(1.3)
    [second] = run_escalations(profile, policy=FAST)
    assert (second.step, second.person_id) == (2, "t.c")
    time.sleep(1.3)
    [exhausted] = run_escalations(profile, policy=FAST)
    assert exhausted.kind == "chain_exhausted"
    assert "test:esc" in http.wait_for("/ok/d")[0].json()["message"]  # raised to the deputy
    time.sleep(1.3)
    assert run_escalations(profile, policy=FAST) == []  # raised once, not every minute


def test_acknowledging_an_escalation_link_stops_escalation(http, ack_endpoint, on_call_profile) -> None:  # type: ignore[no-untyped-def]
    profile = on_call_profile(http, ack_endpoint, wait_minutes=0.02)
    alert(profile, "test:stop")
    time.sleep(1.3)
    run_escalations(profile, policy=FAST)
    link = http.ack_link_in(http.wait_for("/ok/b")[0].json()["message"], ack_endpoint)
    assert httpx.post(link).status_code == 200  # t.b acknowledges the original notice
    with db.session() as s:
        assert s.get(Notice, "test:stop").acked_by == "t.b"
    time.sleep(1.3)
    assert run_escalations(profile, policy=FAST) == []
    assert http.at("/ok/c") == []


def test_acknowledged_but_unresolved_is_renotified(http, ack_endpoint, on_call_profile) -> None:  # type: ignore[no-untyped-def]
    profile = on_call_profile(http, ack_endpoint, wait_minutes=0.02)
    resolve_by = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    alert(profile, "test:renotify", resolve_by=resolve_by)
    assert httpx.post(http.ack_link_in(http.wait_for("/ok/a")[0].json()["message"], ack_endpoint)).status_code == 200
    assert run_escalations(profile, policy=FAST) == []
    time.sleep(1.3)
    [renotify] = run_escalations(profile, policy=FAST)
    assert renotify.kind == "renotify" and renotify.person_id == "t.a"
    assert len(http.wait_for("/ok/a", 2)) == 2
    mark_resolved("test:renotify", by="t.a")
    time.sleep(1.3)
    assert run_escalations(profile, policy=FAST) == []


def test_an_alert_replaced_by_a_correction_shows_the_correction_and_takes_no_confirmation(  # type: ignore[no-untyped-def]
        http, ack_endpoint, on_call_profile) -> None:
    """Review 14, 14: an old 【更正】II级 link stayed acknowledgeable, with stale content, after the
    incident was lowered to IV. Its page now shows the newer alert and no button; pressing the old
    button is refused; the newer alert's own link confirms as ever."""
    from regflows.incident import store

    profile = on_call_profile(http, ack_endpoint)
    first = "incident:INC-20251001-0001:alert:u1"
    send_notice(profile, INCIDENT_ALERT.name, {**ALERT, "grade": "II", "correction": "级别 IV级 → II级", "corrected": True},
                ["on_call"], notice_id=first, urgent=True, requires_ack=True, grade="II", related="INC-20251001-0001", policy=FAST)
    old_link = http.ack_link_in(http.wait_for("/ok/a")[0].json()["message"], ack_endpoint)
    assert "<form" in httpx.get(old_link).text  # not replaced yet: confirmable
    second = "incident:INC-20251001-0001:alert:u2"
    send_notice(profile, INCIDENT_ALERT.name, {**ALERT, "grade": "IV", "correction": "级别 II级 → IV级", "corrected": True},
                ["on_call"], notice_id=second, urgent=True, requires_ack=True, grade="IV", related="INC-20251001-0001", policy=FAST)
    new_link = http.ack_link_in(http.wait_for("/ok/a", 2)[1].json()["message"], ack_endpoint)
    assert store.resolve_earlier_alerts("INC-20251001-0001", 2, "t.a") == [first]  # its escalation stops
    page = httpx.get(old_link)
    assert page.status_code == 410 and "已被更正后的通知取代" in page.text and "<form" not in page.text
    assert "II级 → IV级" in page.text and "IV级 → II级" not in page.text  # the correction shown, not the stale content
    pressed = httpx.post(old_link)
    assert pressed.status_code == 410 and "已被更正后的通知取代" in pressed.text
    with db.session() as s:
        assert s.get(Notice, first).acked_at is None and s.get(Notice, first).resolved_at is not None
    assert "superseded" in refusals()
    assert httpx.post(new_link).status_code == 200
