"""The notices queries of the store (what the CLI and the notices artifact show) and the verdict
on an unknown delivery, through the ``regflows notices`` commands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from notices.delivery import NotUnknown, settle_unknown
from regflows import ledger
from regflows.cli import app
from regflows.store import db, migrate
from regflows.store.models import Acknowledgement, Delivery, DeliveryAttempt, Notice, OutboxMessage, Report, utcnow
from regflows.store.notices import ack_states, attempts_since, latest_outbox
from regflows.store.reports import kinds_reported, latest_paths


@pytest.fixture
def stored(home: Path) -> dict[str, int]:
    migrate()
    now = utcnow()
    with db.session() as s:
        s.add_all([Notice(id="n:ack", kind="test", subject="甲", requires_ack=True, acked_by="p.a", acked_at=now),
                   Notice(id="n:plain", kind="test", subject="乙")])
        s.flush()
        s.add(Acknowledgement(notice_id="n:ack", person_id="p.a", at=now, via="link", token_id="t1"))
        sent = Delivery(notice_id="n:ack", person_id="p.b", channel_index=0, channel_kind="sms", target_masked="json://***",
                        idempotency_key="k1", state="unknown", attempts=1)
        s.add(sent)
        s.flush()
        s.add(DeliveryAttempt(delivery_id=sent.id, at=now - dt.timedelta(minutes=5), outcome="unknown", error="中断"))
        s.add_all([OutboxMessage(target=f"outbox://p.{i}/email", title=f"标题{i}", body="正文") for i in range(3)])
        s.add_all([Report(procedure="credit-stats", kind="summary", subject="2025-09", path=f"/r/{i}.json", sha256="0" * 64)
                   for i in range(2)])
        return {"delivery": sent.id}


def test_queries_answer_what_the_cli_and_artifacts_show(stored: dict[str, int]) -> None:
    assert [m.title for m in latest_outbox(2)] == ["标题2", "标题1"]
    assert [(a.outcome, d.notice_id) for a, d in attempts_since(utcnow() - dt.timedelta(hours=1))] == [("unknown", "n:ack")]
    assert attempts_since(utcnow()) == []
    states = ack_states(["n:ack", "n:plain", "n:none"])
    assert set(states) == {"n:ack", "n:plain"}
    assert states["n:ack"].requires_ack and states["n:ack"].acked_by == "p.a" and set(states["n:ack"].by_person) == {"p.a"}
    assert not states["n:plain"].requires_ack and ack_states([]) == {}
    assert kinds_reported("2025-09") == {"summary"} and kinds_reported("2025-10") == set()
    assert latest_paths("credit-stats", "summary", ["2025-09", "2025-10"]) == {"2025-09": "/r/1.json"}


def test_settling_an_unknown_delivery_once_with_its_ledger_entry(stored: dict[str, int]) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["notices", "settle", str(stored["delivery"]), "--outcome", "delivered", "--by", "p.c"])
    assert result.exit_code == 0, result.output
    with db.session() as s:
        row = s.get(Delivery, stored["delivery"])
        assert row is not None and (row.state, row.settled_by) == ("delivered", "p.c")
    assert ledger.verify().ok
    again = runner.invoke(app, ["notices", "settle", str(stored["delivery"]), "--outcome", "failed", "--by", "p.c"])
    assert again.exit_code != 0 and "不是 unknown" in again.stderr
    with pytest.raises(NotUnknown):
        settle_unknown(999, "failed", "p.c")
    log = [json.loads(line) for line in runner.invoke(app, ["notices", "log", "--since", "1h"]).stdout.splitlines()]
    assert [entry["delivery_state"] for entry in log] == ["delivered"]
