"""The domain store and the audit ledger, on SQLite and on the PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, StatementError
from typer.testing import CliRunner

from regflows import ledger
from regflows.cli import app
from regflows.store import db, migrate, schema_status
from regflows.store.models import AuditEntry, Incident, IncidentEvent


def test_migrations_reach_head_and_are_idempotent(store_url: str) -> None:
    migrate(store_url)
    current, head = schema_status(store_url)
    assert current == head == "0005"


def test_times_round_trip_as_aware_utc_and_naive_is_refused(store_url: str) -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))
    occurred = dt.datetime(2025, 10, 1, 1, 30, 15, 123456, tzinfo=beijing)
    with db.session(store_url) as s:
        s.add(Incident(id="INC-1", reporting_unit="YX0001", title="测试", category="other", occurred_at=occurred, discovered_at=occurred))
        s.add(IncidentEvent(incident_id="INC-1", at=occurred, kind="recorded", actor="li.ming", detail={"说明": "中文"}))
    with db.session(store_url) as s:
        incident = s.get(Incident, "INC-1")
        assert incident.occurred_at == occurred and incident.occurred_at.utcoffset() == dt.timedelta(0)
        assert incident.timeline[0].detail == {"说明": "中文"}
    with pytest.raises(StatementError, match="naive"):
        with db.session(store_url) as s:
            s.add(Incident(id="INC-2", reporting_unit="YX0001", title="x", category="other", occurred_at=dt.datetime(2025, 1, 1), discovered_at=occurred))


def _fill(url: str, n: int) -> None:
    for i in range(n):
        ledger.append("incident.recorded", f"INC-{i}", {"n": i, "标题": "测试事件"}, url=url)


def test_chain_verifies_and_anchor_is_checked(store_url: str) -> None:
    _fill(store_url, 5)
    result = ledger.verify(store_url)
    assert result.ok and result.count == 5
    anchor = ledger.write_anchor(store_url)
    assert anchor.count == 5 and anchor.head_hash == result.head_hash
    _fill(store_url, 2)
    again = ledger.verify(store_url)
    assert again.ok and again.count == 7 and again.anchors_checked == 1


def test_ledger_is_append_only_in_the_database(store_url: str) -> None:
    _fill(store_url, 2)
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session(store_url) as s:
            s.execute(text("UPDATE audit_entry SET subject = 'x' WHERE seq = 1"))
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session(store_url) as s:
            s.execute(text("DELETE FROM audit_entry WHERE seq = 2"))


def _drop_guard(url: str) -> None:
    """What an attacker with DDL rights does first."""
    with db.session(url) as s:
        if s.bind.dialect.name == "sqlite":
            s.execute(text("DROP TRIGGER audit_entry_no_update"))
            s.execute(text("DROP TRIGGER audit_entry_no_delete"))
        else:
            s.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))


def test_tampering_with_one_row_is_named(store_url: str) -> None:
    _fill(store_url, 6)
    _drop_guard(store_url)
    with db.session(store_url) as s:
        s.execute(text("UPDATE audit_entry SET payload = :p WHERE seq = 3"), {"p": json.dumps({"n": 99})})
    result = ledger.verify(store_url)
    assert not result.ok
    assert "第 3 条" in result.problems[0] and "篡改" in result.problems[0]


def test_deleting_the_last_rows_after_an_anchor_is_caught(store_url: str) -> None:
    _fill(store_url, 6)
    ledger.write_anchor(store_url)
    _drop_guard(store_url)
    with db.session(store_url) as s:
        s.execute(text("DELETE FROM audit_entry WHERE seq > 4"))
    result = ledger.verify(store_url)
    assert not result.ok
    assert "6 条" in result.problems[0] and "4 条" in result.problems[0] and "删除" in result.problems[0]


def test_deleting_a_middle_row_is_caught(store_url: str) -> None:
    _fill(store_url, 5)
    _drop_guard(store_url)
    with db.session(store_url) as s:
        s.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
    result = ledger.verify(store_url)
    assert not result.ok and "第 2 条缺失" in result.problems[0]


def test_rehashing_the_whole_chain_after_an_anchor_is_caught(store_url: str) -> None:
    _fill(store_url, 5)
    ledger.write_anchor(store_url)
    _drop_guard(store_url)
    # Rewrite entry 2 and recompute every hash after it: the chain itself is consistent again.
    with db.session(store_url) as s:
        entries = list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
        prev = ledger.GENESIS
        for e in entries:
            payload = json.dumps({"n": 42}) if e.seq == 2 else e.payload
            digest = ledger.entry_hash(e.seq, e.at, e.actor, e.action, e.subject, payload, prev)
            s.execute(
                text("UPDATE audit_entry SET payload = :p, prev_hash = :prev, hash = :h WHERE seq = :seq"),
                {"p": payload, "prev": prev, "h": digest, "seq": e.seq},
            )
            prev = digest
    result = ledger.verify(store_url)
    assert not result.ok
    assert "锚点" in result.problems[0] and "重算" in result.problems[0]


def test_anchor_refuses_a_broken_chain(store_url: str) -> None:
    _fill(store_url, 3)
    _drop_guard(store_url)
    with db.session(store_url) as s:
        s.execute(text("UPDATE audit_entry SET actor = 'mallory' WHERE seq = 1"))
    with pytest.raises(ledger.LedgerBroken):
        ledger.write_anchor(store_url)


def test_cli_verify_and_anchor(store_url: str, home: Path) -> None:
    runner = CliRunner()
    _fill(store_url, 3)
    anchored = runner.invoke(app, ["audit", "anchor"])
    assert anchored.exit_code == 0, anchored.output
    assert json.loads(anchored.stdout.splitlines()[0])["count"] == 3
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "审计账本完整" in ok.stdout
    _drop_guard(store_url)
    with db.session(store_url) as s:
        s.execute(text("DELETE FROM audit_entry WHERE seq >= 3"))
    # The anchor itself was appended as a ledger entry (notice.outbox) after anchoring: entries 1-4.
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "末尾" in broken.stderr and "被删除" in broken.stderr


def test_concurrent_appends_keep_one_chain(store_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: ledger.append("test.concurrent", f"T{i}", {"i": i}, url=store_url), range(24)))
    result = ledger.verify(store_url)
    assert result.ok and result.count == 24


def test_migrations_match_the_models(store_url: str) -> None:
    """A model change without its migration would break every fresh install: compare them."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from regflows.store.models import Base

    with db.engine(store_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_store_and_anchors_are_owner_only_and_reading_creates_no_store(tmp_path: Path) -> None:
    """Issue 13 (10): regflows.db and the anchors file are created 0600 in 0700 folders, as ack.key
    is; a command that only reads a store that does not exist says so and creates nothing."""
    import stat

    from regflows.config import StoreNotReady

    url = f"sqlite:///{tmp_path / 'new' / 'regflows.db'}"
    with pytest.raises(StoreNotReady, match="db upgrade"):
        ledger.verify(url, tmp_path / "anchors")
    assert not (tmp_path / "new" / "regflows.db").exists()
    migrate(url)
    assert stat.S_IMODE((tmp_path / "new" / "regflows.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    anchors = tmp_path / "anchors"
    anchors.mkdir()
    ledger.write_anchor(url, anchors)
    assert stat.S_IMODE(ledger.anchor_path(anchors).stat().st_mode) == 0o600
