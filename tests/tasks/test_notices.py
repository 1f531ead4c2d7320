"""Notices inside Prefect: the SMS rate limit, the outbox artifact, and no secret anywhere."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import httpx
import pytest
from prefect import flow
from sqlalchemy import select
from typer.testing import CliRunner

from notices.delivery import RetryPolicy
from regflows.cli import app
from regflows.profile import DEMO_PROFILE, load_profile
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Delivery, DeliveryAttempt, Notice, OutboxMessage
from tasks.notices import SMS_LIMIT, _ensure_sms_limit, send_notice_task

PLANTED = "Pl4nted-S3cret-9f8e7d6c"


@flow(name="regflows-test-notice")
def notice_flow(profile, kind: str, context: dict, roles: list[str], notice_id: str) -> dict:  # type: ignore[no-untyped-def]
    return send_notice_task(profile, kind, context, roles, notice_id=notice_id, urgent=True,
                            policy=RetryPolicy(attempts=2, backoff_seconds=0.05, timeout_seconds=5))


def api(base: str, path: str, body: dict) -> list:
    response = httpx.post(f"{base}{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


@pytest.mark.prefect
def test_no_secret_in_any_log_artifact_or_ledger_entry(prefect_api: str, home: Path, caplog: pytest.LogCaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch, http, build_profile) -> None:  # type: ignore[no-untyped-def]
    migrate()
    monkeypatch.setenv("REGFLOWS_TEST_PLANTED", PLANTED)
    profile = build_profile(
        {
            "t.a": [
                ("webhook", f"json://bot:{{env:REGFLOWS_TEST_PLANTED}}@{http.base}/ok/a"),
                ("sms", f"json://bot:{{env:REGFLOWS_TEST_PLANTED}}@{http.base}/fail/a"),
                ("dingtalk", f"dingtalk://{{env:REGFLOWS_TEST_PLANTED}}/?base=http://{http.base}/vendor-error"),
            ],
        },
        roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a"], "deputy": "li.ming"}},
    )
    caplog.set_level(logging.DEBUG)
    state = notice_flow(profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["on_call"],
                        "test:secret", return_state=True)
    assert http.at("/ok/a")[0].headers.get("Authorization")  # the secret was really used to send
    flow_run_id = str(state.state_details.flow_run_id)
    # Run logs reach the server in batches, from a background worker: wait for the run's last line.
    deadline = time.monotonic() + 30
    while True:
        logs = api(prefect_api, "/logs/filter", {"logs": {"flow_run_id": {"any_": [flow_run_id]}}})
        if any("Finished in state" in log["message"] for log in logs) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    artifacts = api(prefect_api, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}})
    assert artifacts and logs
    with db.session() as s:
        stored = [
            *(r.payload for r in s.execute(select(AuditEntry)).scalars()),
            *(f"{r.target_masked} {r.last_error}" for r in s.execute(select(Delivery)).scalars()),
            *(str(r.error) for r in s.execute(select(DeliveryAttempt)).scalars()),
            *(f"{r.subject} {r.body} {r.sms}" for r in s.execute(select(Notice)).scalars()),
            *(f"{r.target} {r.body}" for r in s.execute(select(OutboxMessage)).scalars()),
        ]
        errors = [r.error for r in s.execute(select(DeliveryAttempt)).scalars() if r.error]
    cli_log = CliRunner().invoke(app, ["notices", "log", "--since", "1h"]).stdout
    haystacks = {
        "python logs": caplog.text,
        "prefect logs": json.dumps(logs, ensure_ascii=False),
        "artifacts": json.dumps(artifacts, ensure_ascii=False),
        "store and ledger": "\n".join(stored),
        "notices log": cli_log,
    }
    assert errors, "the failing channels must have recorded errors to search"
    for where, text in haystacks.items():
        assert PLANTED not in text, f"planted secret found in {where}"
        assert PLANTED[:12] not in text, f"part of the planted secret found in {where}"
    assert "test:secret" in cli_log


@pytest.mark.prefect
def test_sms_goes_through_the_global_rate_limit_and_outbox_is_an_artifact(prefect_api: str, home: Path) -> None:
    migrate()
    profile = load_profile(DEMO_PROFILE)
    state = notice_flow(profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["compliance"],
                        "test:outbox", return_state=True)
    assert state.is_completed()
    limits = api(prefect_api, "/v2/concurrency_limits/filter", {})
    assert "regflows-sms" in {limit["name"] for limit in limits}
    artifacts = api(prefect_api, "/artifacts/filter", {"artifacts": {"key": {"any_": ["outbox"]}}})
    assert any("outbox://sun.li/email" in json.dumps(a, ensure_ascii=False) for a in artifacts)


@flow(name="regflows-test-ack-notice")
def ack_notice_flow(profile, context: dict, notice_id: str) -> dict:  # type: ignore[no-untyped-def]
    return send_notice_task(profile, "deadline_reminder", context, ["compliance"], notice_id=notice_id, requires_ack=True,
                            policy=RetryPolicy(attempts=1, backoff_seconds=0.05, timeout_seconds=5))


@pytest.mark.prefect
def test_the_outbox_artifact_shows_only_the_runs_own_messages_and_no_personal_link(prefect_api: str, home: Path) -> None:
    """Issue 14, 2: another run's messages and anyone's acknowledgement or download link on a
    run's page are a sign-off (or a download) anyone can make in that person's name."""
    migrate()
    with db.session() as s:  # the institution's earlier message, with its recipient's link
        s.add(OutboxMessage(target="outbox://zhao.lei/email", title="【事件告警】另一事件", body="请确认：http://127.0.0.1:4201/ack/PlantedTok3n"))
    profile = load_profile(DEMO_PROFILE)
    context = {"state": "due", "obligation": "报送征信信息安全统计表", "clause": "PBOC-102 附件2", "due_label": "2025-10-10 17:00",
               "subject_ref": "credit-stats:2025-09", "file_url": "http://127.0.0.1:4201/files/SignedF1leTok3n"}
    state = ack_notice_flow(profile, context, "test:own-outbox", return_state=True)
    assert state.is_completed()
    with db.session() as s:
        sent = [m for m in s.execute(select(OutboxMessage)).scalars() if "统计表" in m.title]
    assert sent and all("/ack/" in m.body and "/files/SignedF1leTok3n" in m.body for m in sent)  # the links were really sent
    flow_run_id = str(state.state_details.flow_run_id)
    [artifact] = api(prefect_api, "/artifacts/filter",
                     {"artifacts": {"key": {"any_": ["outbox"]}, "flow_run_id": {"any_": [flow_run_id]}}})
    rows = artifact["data"] if isinstance(artifact["data"], list) else json.loads(artifact["data"])
    text = json.dumps([rows, artifact["description"]], ensure_ascii=False)
    assert len(rows) == len(sent) and {r["收件地址"] for r in rows} == {m.target for m in sent}
    assert "另一事件" not in text and "PlantedTok3n" not in text  # no other run's message
    assert "/ack/" not in text and "/files/" not in text and "SignedF1leTok3n" not in text
    assert "（个人链接，已隐去）" in text and "报送征信信息安全统计表" in text
    # Issue 14, 13: the notices table says its acknowledgement column is the state at send time,
    # and where to look for the state now.
    [notices] = api(prefect_api, "/artifacts/filter",
                    {"artifacts": {"key": {"any_": ["notices"]}, "flow_run_id": {"any_": [flow_run_id]}}})
    table = notices["data"] if isinstance(notices["data"], list) else json.loads(notices["data"])
    assert table and all(row["发送时是否已确认"] == "否" and "已确认" not in row for row in table)
    assert "发送时的状态" in notices["description"] and "regflows incident status" in notices["description"]


@pytest.mark.prefect
def test_an_sms_takes_its_slot_on_the_run_s_own_server(prefect_api: str, home: Path, http, build_profile) -> None:  # type: ignore[no-untyped-def]
    """The delivery pool's threads do not inherit Prefect's settings: the slot must still be taken
    on the server this run talks to (not on a temporary server, which the tests forbid). A limit
    left at another rate (an earlier setting, another run) is brought to the profile's rate."""
    migrate()
    # A stale limit of 30 a minute; the profile asks for one slot a minute, so the slot the SMS
    # takes is still held when we look.
    # (created, or set on whatever limit another run of the session already made: the same name is
    # shared by every run on the server, which is why the code must update it)
    # Through Prefect's client, as the code under test: it retries the 503 a busy SQLite server
    # answers under load (a raw request failed one run on a loaded machine).
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=SMS_LIMIT, limit=30, slot_decay_per_second=0.5))
        except ObjectAlreadyExists:
            client.update_global_concurrency_limit(SMS_LIMIT, GlobalConcurrencyLimitUpdate(limit=30, slot_decay_per_second=0.5,
                                                                                             active_slots=0))
        assert client.read_global_concurrency_limit_by_name(SMS_LIMIT).limit == 30
        _ensure_sms_limit.cache_clear()
        try:
            profile = build_profile({"t.s": [("sms", f"json://{http.base}/ok/s")]},
                                    roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.s"], "deputy": "li.ming"}},
                                    settings={"sms_per_minute": 1})
            state = notice_flow(profile, "test", {"institution": "测试", "sent_at": "2025-10-01T09:00:00+08:00"}, ["on_call"],
                                "test:sms-slot", return_state=True)
            assert state.is_completed() and http.at("/ok/s")
            limit = client.read_global_concurrency_limit_by_name(SMS_LIMIT)
            assert limit.limit == 1 and limit.active_slots >= 1
        finally:
            try:
                client.delete_global_concurrency_limit_by_name(SMS_LIMIT)  # the next test makes its own
            except ObjectNotFound:
                pass
            _ensure_sms_limit.cache_clear()


def test_cli_notices_test_outbox_and_log(home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["notices", "test", "--role", "compliance"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(d["person"], d["channel"]) for d in lines} == {("sun.li", 1), ("sun.li", 2), ("he.min", 1)}
    assert all(d["outcome"] == "delivered" for d in lines)
    outbox = [json.loads(line) for line in runner.invoke(app, ["notices", "outbox"]).stdout.splitlines()]
    assert {m["target"] for m in outbox} == {"outbox://sun.li/email", "outbox://sun.li/sms", "outbox://he.min/email"}
    log = [json.loads(line) for line in runner.invoke(app, ["notices", "log", "--since", "10m"]).stdout.splitlines()]
    assert len(log) == 3 and all(entry["outcome"] == "delivered" for entry in log)
    bad = runner.invoke(app, ["notices", "log", "--since", "yesterday"])
    assert bad.exit_code == 2 and "--since" in bad.stderr
