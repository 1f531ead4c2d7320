"""The kit's one fulfil and its waiver: evidence checked and hashed, ledger entries, procedure hooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from regflows import ledger
from regflows.kit.evidence import EvidenceError, check_file
from regflows.kit.obligations import ObligationNotFound, WaiverRefused, fulfil, waive
from regflows.kit.reminders import is_open
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Obligation
from regflows.store.obligations import open_rows

DUE = dt.datetime(2025, 10, 10, 16, 0, tzinfo=dt.timezone.utc)


def _row(code: str = "report", every: str | None = None, detail: dict[str, Any] | None = None) -> None:
    with db.session() as s:
        s.add(Obligation(procedure="self-inspection", subject="SI-2025Q3", code=code, title="报送自查报告", clause="TEST 第一条",
                         owner_role="compliance", due_at=DUE, every=every, evidence={}, reminders_sent=[], detail=detail or {}))


def _ledger(action: str) -> list[dict[str, Any]]:
    with db.session() as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars()
        return [{"actor": e.actor, "subject": e.subject, **json.loads(e.payload)} for e in entries]


def _load(code: str = "report") -> Obligation:
    with db.session() as s:
        row = s.execute(select(Obligation).where(Obligation.code == code)).scalar_one()
        s.expunge(row)
        return row


@pytest.fixture
def store(home: Path) -> Path:
    migrate()
    _row()
    return home


def test_a_file_is_checked_hashed_and_recorded_with_its_size(store: Path, tmp_path: Path) -> None:
    receipt = tmp_path / "回执.pdf"
    receipt.write_bytes(b"%PDF-1.7 receipt")
    row = fulfil("SI-2025Q3", "report", evidence="经监管报送系统报送", by="li.ming", reference="R-7", file=str(receipt))
    assert row.state == "fulfilled" and row.fulfilled_by == "li.ming"
    recorded = _load().evidence["history"][-1]
    assert recorded["file"] == {"path": str(receipt.resolve()), "name": "回执.pdf", "size": 16,
                                "sha256": hashlib.sha256(b"%PDF-1.7 receipt").hexdigest()}
    assert recorded["reference"] == "R-7" and recorded["evidence"] == "经监管报送系统报送"
    [entry] = _ledger("obligation.fulfilled")
    assert entry["subject"] == "SI-2025Q3" and entry["actor"] == "li.ming"
    assert entry["evidence"]["file"]["sha256"] == recorded["file"]["sha256"]
    assert ledger.verify().ok


def test_missing_unreadable_or_empty_evidence_is_refused_naming_the_field(store: Path, tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match=r"证据说明（evidence）"):
        fulfil("SI-2025Q3", "report", evidence=" ", by="li.ming")
    with pytest.raises(EvidenceError, match=r"证据文件（file）不存在：.*nowhere\.pdf"):
        fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", file=tmp_path / "nowhere.pdf")
    with pytest.raises(EvidenceError, match=r"证据文件（--file）不是文件"):
        fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", file=tmp_path, field_names={"file": "--file"})
    (tmp_path / "empty.pdf").write_bytes(b"")
    with pytest.raises(EvidenceError, match=r"证据文件（file）是空文件"):
        fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", file=tmp_path / "empty.pdf")
    with pytest.raises(EvidenceError, match=r"履行人（by）"):
        fulfil("SI-2025Q3", "report", evidence="已报送", by="")
    with pytest.raises(EvidenceError, match="时区"):
        fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", at=dt.datetime(2025, 10, 1, 10, 0))
    with pytest.raises(ObligationNotFound, match="SI-2025Q3 没有义务 nothing"):
        fulfil("SI-2025Q3", "nothing", evidence="已报送", by="li.ming")
    assert _load().fulfilled_at is None and not _ledger("obligation.fulfilled")


def test_an_uploaded_file_changed_after_upload_is_refused(tmp_path: Path) -> None:
    data = b"signed receipt"
    folder = tmp_path / "uploads" / hashlib.sha256(data).hexdigest()
    folder.mkdir(parents=True)
    (folder / "r.pdf").write_bytes(data)
    assert check_file(folder / "r.pdf").sha256 == folder.name
    (folder / "r.pdf").write_bytes(b"changed receipt")
    with pytest.raises(EvidenceError, match="上传后被改动"):
        check_file(folder / "r.pdf")


def test_the_procedure_refuses_or_adds_its_step_in_the_same_transaction(store: Path) -> None:
    def refuse(row: Obligation) -> None:
        raise ValueError(f"{row.code} 尚未复核")

    with pytest.raises(ValueError, match="尚未复核"):
        fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", precondition=refuse)

    def failing_step(s: Any, row: Obligation, record: dict[str, Any]) -> None:
        raise RuntimeError("timeline unavailable")

    with pytest.raises(RuntimeError):
        fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", step=failing_step)
    assert _load().fulfilled_at is None and not _ledger("obligation.fulfilled")  # all or nothing

    seen: list[dict[str, Any]] = []
    fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", step=lambda s, row, record: seen.append(record))
    assert seen == [{"evidence": "已报送"}]


def test_a_recurring_obligation_records_each_fulfilment_and_stays_open(store: Path) -> None:
    _row("progress", every="PT2H")
    fulfil("SI-2025Q3", "progress", evidence="第一次进展报告", by="li.ming")
    row = fulfil("SI-2025Q3", "progress", evidence="第二次进展报告", by="li.ming")
    assert row.state == "pending" and is_open(row)
    assert [h["evidence"] for h in _load("progress").evidence["history"]] == ["第一次进展报告", "第二次进展报告"]
    assert len(_ledger("obligation.fulfilled")) == 2


def test_a_waiver_needs_a_rule_that_allows_it_and_a_reason(store: Path) -> None:
    with pytest.raises(WaiverRefused, match="没有规则允许豁免"):
        waive("SI-2025Q3", "report", "本季度无业务", "li.ming")
    _row("drill_report", detail={"waivable": "TEST 第二条：当季已开展综合演练的，可不单独报送"})
    with pytest.raises(EvidenceError, match=r"理由（reason）"):
        waive("SI-2025Q3", "drill_report", " ", "li.ming")
    row = waive("SI-2025Q3", "drill_report", "当季已开展综合演练", "li.ming")
    assert row.state == "waived" and row.fulfilled_at is None and not is_open(row)
    assert _load("drill_report").evidence["waiver"]["clause"].startswith("TEST 第二条")
    [entry] = _ledger("obligation.waived")
    assert entry["obligation"] == "drill_report" and entry["reason"] == "当季已开展综合演练" and entry["actor"] == "li.ming"
    assert [r.code for r in open_rows("self-inspection")] == ["report"]  # no more reminders for the waived one
    with pytest.raises(WaiverRefused, match="已豁免"):
        waive("SI-2025Q3", "drill_report", "again", "li.ming")
