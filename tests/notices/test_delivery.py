"""Delivery for real through Apprise to a local SMTP server and local HTTP servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from notices.delivery import RetryPolicy
from notices.service import send_notice
from regflows.incident.notices import INCIDENT_ALERT
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Delivery, DeliveryAttempt, Notice

FAST = RetryPolicy(attempts=2, backoff_seconds=0.05, timeout_seconds=5)


@pytest.fixture
def store(home: Path) -> None:
    migrate()


def mail_url(port: int, to: str) -> str:
    return f"mailto://127.0.0.1:{port}?from=regflows@example.cn&to={to}"


def ledger_entries(action: str) -> list[dict]:
    with db.session() as s:
        rows = s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars()
        return [json.loads(r.payload) for r in rows]


def alert_context(**extra) -> dict:  # type: ignore[no-untyped-def]
    return {
        "incident_id": "INC-20251001-0001", "title": "网银系统异常", "grade": "II", "colour": "橙色",
        "response_level": "II", "discovered_at": "2025-10-01T09:00:00+08:00",
        "next_due": [{"title": "向监管部门报告", "due_label": "2025-10-01 11:00", "clause": "NFRA 45"}],
        "summary": "客户张先生（手机 13812345678，身份证 110101199003071234）反映无法登录。",
        **extra,
    }


def test_urgent_notice_reaches_every_channel_with_masked_data_and_ack_link(store, http, smtp, build_profile) -> None:  # type: ignore[no-untyped-def]
    profile = build_profile(
        {"t.a": [("email", mail_url(smtp.port, "a@example.cn")), ("sms", f"json://{http.base}/ok/sms"), ("webhook", f"json://{http.base}/ok/push")]},
        roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a"], "deputy": "li.ming"}},
    )
    outcome = send_notice(profile, INCIDENT_ALERT.name, alert_context(), ["on_call"], notice_id="incident:INC-1:alert",
                          urgent=True, requires_ack=True, grade="II", policy=FAST)
    assert [c.state for c in outcome.deliveries] == ["delivered"] * 3
    mail = smtp.messages[0]
    assert mail.recipients == ["a@example.cn"] and "网银系统异常" in mail.subject
    assert "13812345678" not in mail.body and "110101199003071234" not in mail.body
    assert "138****5678" in mail.body
    assert "http://127.0.0.1:4201/ack/" in mail.body
    sms = http.at("/ok/sms")[0].json()["message"]
    assert len(sms) <= 140 and "13812345678" not in sms and "张" not in sms and "/ack/" in sms
    push = http.at("/ok/push")[0].json()["message"]
    assert "NFRA 45" in push and "/ack/" in push
    with db.session() as s:
        notice = s.get(Notice, "incident:INC-1:alert")
        assert notice.requires_ack and "（每位收件人的专属确认链接）" in notice.body
    evidence = ledger_entries("notice.delivery")
    assert {e["kind"] for e in evidence} == {"email", "sms", "webhook"} and all(e["outcome"] == "delivered" for e in evidence)


def test_routine_notice_falls_back_retries_and_raises_to_the_deputy(store, http, smtp, build_profile, free_port) -> None:  # type: ignore[no-untyped-def]
    dead_smtp = free_port()
    profile = build_profile(
        {
            "t.a": [("webhook", f"json://{http.base}/fail/a"), ("email", mail_url(dead_smtp, "a@example.cn")), ("webhook", f"json://{http.base}/ok/a")],
            "t.b": [("webhook", f"json://{http.base}/fail/b"), ("sms", f"json://{http.base}/slow/b?rto=1")],
            "t.d": [("webhook", f"json://{http.base}/ok/deputy")],
        },
        roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a", "t.b"], "deputy": "t.d"}},
    )
    outcome = send_notice(profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["on_call"],
                          notice_id="test:fallback", policy=FAST)
    a, b = outcome.persons
    assert [c.state for c in a.channels] == ["failed", "failed", "delivered"]
    assert [c.attempts for c in a.channels] == [2, 2, 1]  # retried only what failed
    assert len(http.at("/fail/a")) == 2 and len(http.at("/ok/a")) == 1
    assert not b.delivered and [c.state for c in b.channels] == ["failed", "failed"]
    # Raised: the deputy got a delivery-failure notice naming the person and the channels tried.
    deputy_msg = http.wait_for("/ok/deputy")[0].json()["message"]
    assert "测试乙" in deputy_msg and "test:fallback" in deputy_msg
    with db.session() as s:
        attempts = s.execute(select(DeliveryAttempt)).scalars().all()
    assert len(attempts) == len(ledger_entries("notice.delivery"))  # every attempt is in the ledger
    assert ledger_entries("notice.unreached")[0]["person"] == "t.b"


def test_vendor_answer_200_with_error_code_is_not_delivered(store, http, build_profile) -> None:  # type: ignore[no-untyped-def]
    os.environ["REGFLOWS_TEST_DING_TOKEN"] = "dingtoken0123456789"
    profile = build_profile(
        {"t.a": [("dingtalk", f"dingtalk://{{env:REGFLOWS_TEST_DING_TOKEN}}/?base=http://{http.base}/vendor-error"),
                 ("dingtalk", f"dingtalk://{{env:REGFLOWS_TEST_DING_TOKEN}}/?base=http://{http.base}/vendor-ok")]},
        roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a"], "deputy": "li.ming"}},
    )
    outcome = send_notice(profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["on_call"],
                          notice_id="test:vendor", policy=FAST)
    first, second = outcome.persons[0].channels
    assert first.state == "failed" and "310000" in (first.error or "")
    assert second.state == "delivered"
    assert "dingtoken0123456789" not in json.dumps(ledger_entries("notice.delivery"), ensure_ascii=False)


def test_sending_again_sends_nothing_twice(store, http, build_profile) -> None:  # type: ignore[no-untyped-def]
    profile = build_profile(
        {"t.a": [("webhook", f"json://{http.base}/ok/a"), ("sms", f"json://{http.base}/ok/a-sms")]},
        roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a"], "deputy": "li.ming"}},
    )
    args = (profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["on_call"])
    send_notice(*args, notice_id="test:twice", urgent=True, policy=FAST)
    again = send_notice(*args, notice_id="test:twice", urgent=True, policy=FAST)
    assert all(c.already for c in again.deliveries)
    assert len(http.received) == 2



def test_a_fan_out_has_more_than_apprise_s_six_sends_in_flight(store, http, build_profile) -> None:  # type: ignore[no-untyped-def]
    """Apprise runs a call that has a deadline in its process-wide pool of min(32, cores + 4)
    threads: 6 on a 2-core machine, so 600 sends of 50 ms took 5 s whatever the engine's workers.
    The engine's own senders keep the cap: 16 channels are all at the server before any is answered."""
    people = {f"t.{i:02d}": [("webhook", f"json://{http.base}/hang/{i:02d}?rto=60")] for i in range(16)}
    profile = build_profile(people, roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": sorted(people),
                                                       "deputy": "li.ming"}})
    arrived_together: list[int] = []

    def answer_once_all_arrived() -> None:
        try:
            arrived_together.append(len(http.wait_for("/hang/", count=16, timeout=30)))
        finally:
            http.release.set()  # answered either way: without enough senders the rest come after

    releaser = threading.Thread(target=answer_once_all_arrived)
    releaser.start()
    outcome = send_notice(profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["on_call"],
                          notice_id="test:in-flight", urgent=True, policy=RetryPolicy(attempts=1, timeout_seconds=60))
    releaser.join()
    assert arrived_together == [16]
    assert [c.state for c in outcome.deliveries] == ["delivered"] * 16
    assert len(ledger_entries("notice.delivery")) == 16  # every settlement in the ledger

KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from notices.delivery import RetryPolicy
    from notices.service import send_notice
    from regflows.profile import Profile
    profile_file, mode = sys.argv[1], sys.argv[2]
    profile = Profile.model_validate_json(Path(profile_file).read_text(encoding="utf-8"))  # the test built it
    def before_send(kind):
        if mode == "before":
            print("waiting", flush=True)
            time.sleep(120)  # killed here: before anything was claimed or sent
    send_notice(profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["on_call"],
                notice_id="test:kill", policy=RetryPolicy(attempts=1, timeout_seconds=60), before_send=before_send)
    """
)


def _run_and_kill(tmp_path: Path, http, mode: str, profile) -> None:  # type: ignore[no-untyped-def]
    """Send ``profile``'s on-call notice in a child process, and kill it at ``mode``."""
    script = tmp_path / "send.py"
    script.write_text(KILL_SCRIPT, encoding="utf-8")
    profile_file = tmp_path / "profile.json"
    profile_file.write_text(profile.model_dump_json(), encoding="utf-8")
    child = subprocess.Popen([sys.executable, str(script), str(profile_file), mode], cwd=Path(__file__).resolve().parents[2],
                             env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        if mode == "after":
            http.wait_for("/hang/a", timeout=60)  # the server has accepted the message
        else:
            assert child.stdout.readline().strip() == b"waiting"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)


def test_killed_after_the_server_accepted_is_unknown_not_resent(store, http, tmp_path: Path, build_profile) -> None:  # type: ignore[no-untyped-def]
    killed = build_profile(
        {"t.a": [("webhook", f"json://{http.base}/hang/a?rto=60"), ("webhook", f"json://{http.base}/ok/a")]},
        roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a"], "deputy": "li.ming"}},
    )
    _run_and_kill(tmp_path, http, "after", killed)
    http.release.set()
    profile = build_profile(
        {"t.a": [("webhook", f"json://{http.base}/hang/a?rto=60"), ("webhook", f"json://{http.base}/ok/a")],
         "t.d": [("webhook", f"json://{http.base}/ok/deputy")]},
        roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a"], "deputy": "t.d"}},
    )
    retry = send_notice(profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["on_call"],
                        notice_id="test:kill", policy=FAST)
    first, second = retry.persons[0].channels
    assert first.state == "unknown" and second.state == "delivered"
    assert len(http.at("/hang/a")) == 1 and len(http.at("/ok/a")) == 1  # never twice to the same channel
    with db.session() as s:
        row = s.execute(select(Delivery).where(Delivery.channel_index == 0, Delivery.notice_id == "test:kill")).scalar_one()
        assert row.state == "unknown"
    assert "test:kill" in http.wait_for("/ok/deputy")[0].json()["message"]  # raised for a person to settle


def test_killed_before_sending_is_sent_once_on_retry(store, http, tmp_path: Path, build_profile) -> None:  # type: ignore[no-untyped-def]
    killed = build_profile(
        {"t.a": [("webhook", f"json://{http.base}/hang/a?rto=60"), ("webhook", f"json://{http.base}/ok/a")]},
        roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a"], "deputy": "li.ming"}},
    )
    _run_and_kill(tmp_path, http, "before", killed)
    assert http.received == []
    http.release.set()
    # The same profile as the killed run: the idempotency key covers the channel URL.
    profile = build_profile(
        {"t.a": [("webhook", f"json://{http.base}/hang/a?rto=60"), ("webhook", f"json://{http.base}/ok/a")]},
        roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a"], "deputy": "li.ming"}},
    )
    retry = send_notice(profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["on_call"],
                        notice_id="test:kill", policy=FAST)
    assert retry.persons[0].channels[0].state == "delivered"
    assert len(http.at("/hang/a")) == 1 and http.at("/ok/a") == []


RACE_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from notices.delivery import RetryPolicy
    from notices.service import send_notice
    from regflows.profile import Profile
    profile_file, go, urgent = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "urgent"
    profile = Profile.model_validate_json(profile_file.read_text(encoding="utf-8"))
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    outcome = send_notice(profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["on_call"],
                          notice_id="test:race", urgent=urgent, policy=RetryPolicy(attempts=1, timeout_seconds=20))
    print(json.dumps([[c.person_id, c.channel_index, c.state] for c in outcome.deliveries]), flush=True)
    """
)


@pytest.mark.postgres
@pytest.mark.parametrize("urgency", ["urgent", "routine"])
def test_processes_sending_one_notice_at_once_on_postgresql_deliver_each_channel_once(
        home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, http, tmp_path: Path, build_profile, urgency: str) -> None:  # type: ignore[no-untyped-def]
    """Two workers may run the same send at once (a retried task while the first still runs): on
    PostgreSQL each (notice, person, channel) is claimed by one process only, the others see it in
    flight, and nobody is raised to the deputy for a delivery another process holds."""
    monkeypatch.setenv("REGFLOWS_DATABASE_URL", pg_url)  # the children's store too
    migrate(pg_url)
    people = {f"t.{i}": [("webhook", f"json://{http.base}/ok/{i}-a"), ("webhook", f"json://{http.base}/ok/{i}-b")] for i in range(6)}
    people["t.d"] = [("webhook", f"json://{http.base}/ok/deputy")]
    profile = build_profile(people, roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": [f"t.{i}" for i in range(6)],
                                                       "deputy": "t.d"}})
    profile_file, go = tmp_path / "profile.json", tmp_path / "go"
    profile_file.write_text(profile.model_dump_json(), encoding="utf-8")
    script = tmp_path / "race.py"
    script.write_text(RACE_SCRIPT, encoding="utf-8")
    repo = Path(__file__).resolve().parents[2]
    children = [subprocess.Popen([sys.executable, str(script), str(profile_file), str(go), urgency], cwd=repo,
                                 env=dict(os.environ, PYTHONPATH=str(repo)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(4)]
    for child in children:
        assert child.stdout.readline().strip() == b"ready"
    go.touch()
    results = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0] * 4, [err.decode()[-2000:] for _, err in results]
    sent = [r.path for r in http.received]
    expected = [f"/ok/{i}-a" for i in range(6)] + ([f"/ok/{i}-b" for i in range(6)] if urgency == "urgent" else [])
    assert sorted(sent) == sorted(expected)  # each channel once, over all four processes; no deputy
    with db.session() as s:
        rows = s.execute(select(Delivery).where(Delivery.notice_id == "test:race")).scalars().all()
        assert sorted((r.person_id, r.channel_index, r.state, r.attempts) for r in rows) == sorted(
            (f"t.{i}", c, "delivered", 1) for i in range(6) for c in ((0, 1) if urgency == "urgent" else (0,)))
        assert s.execute(select(Notice).where(Notice.id == "test:race")).scalar_one()
    assert ledger_entries("notice.unreached") == []


def test_an_outcome_the_store_refused_for_a_moment_is_written_down_once(store, http, build_profile, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL restarting between a send and its settlement (the load-and-faults run left ten
    delivered notices ``sending``): the settlement is tried again and the delivery ends
    ``delivered``, with one attempt and one ledger entry; nothing is sent twice."""
    from sqlalchemy.exc import OperationalError

    from notices import delivery

    real = delivery._Writer.run
    refused: list[tuple] = []

    def flaky(self, order, op):  # type: ignore[no-untyped-def]
        if order[0] == 2 and not refused:  # the first settlement: the database is away
            refused.append(order)
            raise OperationalError("UPDATE delivery", {}, ConnectionRefusedError("connection refused"))
        return real(self, order, op)

    monkeypatch.setattr(delivery._Writer, "run", flaky)
    profile = build_profile({"t.a": [("webhook", f"json://{http.base}/ok/a")]},
                            roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a"], "deputy": "li.ming"}})
    policy = RetryPolicy(attempts=1, backoff_seconds=0.01, settle_waits=(0.05,))
    outcome = send_notice(profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["on_call"],
                          notice_id="test:settle-later", urgent=True, policy=policy)
    assert refused and [c.state for c in outcome.deliveries] == ["delivered"]
    with db.session() as s:
        row = s.execute(select(Delivery).where(Delivery.notice_id == "test:settle-later")).scalar_one()
        assert (row.state, row.attempts) == ("delivered", 1)
    assert len(http.received) == 1 and len(ledger_entries("notice.delivery")) == 1
