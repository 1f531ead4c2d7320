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
from regflows.kit.obligations import ObligationNotFound, Refused, WaiverRefused, fulfil, reinstate_in, reopen, waive, withdraw_in
from regflows.kit.reminders import is_open
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Notice, Obligation
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


# -- personal numbers and where a file may come from (issue 14, 3 and 14) --------------------------

ID_NUMBER, MOBILE = "110101199003074514", "13812345678"


def _everything_stored() -> str:
    with db.session() as s:
        rows = [json.dumps(r.evidence, ensure_ascii=False) for r in s.execute(select(Obligation)).scalars()]
        rows += [r.payload for r in s.execute(select(AuditEntry)).scalars()]
    return "\n".join(rows)


def test_evidence_reference_and_reasons_are_masked_before_the_store_and_the_ledger(store: Path) -> None:
    seen: list[dict[str, Any]] = []
    fulfil("SI-2025Q3", "report", evidence=f"已电话 {MOBILE} 告知 身份证 {ID_NUMBER}", by="li.ming", reference=f"回执 {MOBILE}",
           step=lambda s, row, record: seen.append(record))
    _row("drill_report", detail={"waivable": "TEST 第二条"})
    waive("SI-2025Q3", "drill_report", f"客户 {ID_NUMBER} 已另行告知", "li.ming")
    reopen("SI-2025Q3", "drill_report", f"分支机构 {MOBILE} 来电要求", "li.ming")
    text = _everything_stored()
    assert ID_NUMBER not in text and MOBILE not in text
    assert "138****5678" in text and "110101********4514" in text  # masked, not dropped
    assert seen == [{"evidence": "已电话 138****5678 告知 身份证 110101********4514", "reference": "回执 138****5678"}]
    assert ledger.verify().ok


def test_a_form_on_the_server_takes_files_only_from_the_evidence_areas(store: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from regflows.kit.uploads import store_upload

    key = store / "ack.key"
    key.write_bytes(b"signing key")
    elsewhere = tmp_path / "elsewhere.pdf"
    elsewhere.write_bytes(b"%PDF any server file")
    refused = r"证据文件（证据文件）不在允许的证据区"
    names = {"file": "证据文件"}
    # The same words for a file that exists and one that does not: the refusal reveals nothing.
    messages = []
    for path in (key, store / "nothing.key", elsewhere, tmp_path / "nothing.pdf", store / "regflows.db"):
        with pytest.raises(EvidenceError, match=refused) as caught:
            fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", file=path, field_names=names, server=True)
        messages.append(str(caught.value))
    assert len(set(messages)) == 1 and "ack.key" not in messages[0]
    # A link in the evidence folder to the key is the key.
    evidence_dir = store / "evidence"
    evidence_dir.mkdir()
    (evidence_dir / "innocent.pdf").symlink_to(key)
    (evidence_dir / "loop.pdf").symlink_to(evidence_dir / "loop.pdf")  # a link loop is refused, not a traceback
    with pytest.raises(EvidenceError, match=refused):
        check_file(evidence_dir / "loop.pdf", "证据文件", server=True)
    with pytest.raises(EvidenceError, match=refused):
        fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", file=evidence_dir / "innocent.pdf", server=True,
               field_names=names)
    assert not _ledger("obligation.fulfilled")
    # An upload and a file in the configured evidence folder are taken.
    uploaded = store_upload(b"%PDF receipt", "回执.pdf")
    _row("second")
    fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", file=uploaded.path, server=True)
    configured = tmp_path / "shared-evidence"
    configured.mkdir()
    (configured / "通知记录.pdf").write_bytes(b"%PDF notice log")
    monkeypatch.setenv("REGFLOWS_EVIDENCE_DIR", str(configured))
    fulfil("SI-2025Q3", "second", evidence="已通知", by="li.ming", file=configured / "通知记录.pdf", server=True)
    assert [e["evidence"]["file"]["name"] for e in _ledger("obligation.fulfilled")] == ["回执.pdf", "通知记录.pdf"]
    # An evidence folder set above the home does not open the home's own files.
    monkeypatch.setenv("REGFLOWS_EVIDENCE_DIR", str(tmp_path))
    for path in (key, store / "regflows.db"):
        with pytest.raises(EvidenceError, match=refused):
            check_file(path, "证据文件", server=True)
    assert check_file(elsewhere, server=True).size == len(b"%PDF any server file")


def test_the_command_line_takes_local_files_but_never_regflows_own(store: Path, tmp_path: Path) -> None:
    """The operator's command line runs with their own rights on their machine: any local file,
    except regflows' home outside the evidence areas (the key, the store, the anchors)."""
    (store / "ack.key").write_bytes(b"signing key")
    for path in (store / "ack.key", store / "regflows.db", store / "nothing"):
        with pytest.raises(EvidenceError, match=r"证据文件（--file）不在允许的证据区"):
            fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", file=path, field_names={"file": "--file"})
    local = tmp_path / "本机回执.pdf"
    local.write_bytes(b"%PDF local")
    assert fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming", file=local).state == "fulfilled"


def test_a_withdrawal_closes_the_row_resolves_its_reminders_and_is_undone_by_a_reinstatement(store: Path) -> None:
    with db.session() as s:
        for nid in ("SI-2025Q3:report:r1", "SI-2025Q3:other:r1"):
            s.add(Notice(id=nid, kind="reminder", subject="提醒", related="SI-2025Q3", requires_ack=True))
    with db.session() as s:
        row = s.execute(select(Obligation).where(Obligation.code == "report")).scalar_one()
        detail = withdraw_in(s, row, by="system", reason="复查未再发现", cause="因复查运行未再发现",
                             reminders="SI-2025Q3:report:", extra={"run_id": "run-1"})
    row = _load()
    assert row.state == "withdrawn" and detail["state_before"] == "pending" and detail["run_id"] == "run-1"
    assert row.evidence["withdrawn"]["due_before"] == DUE.isoformat()
    assert [e["obligation"] for e in _ledger("obligation.withdrawn")] == ["report"]
    with db.session() as s:  # only this obligation's reminders stop escalating
        resolved = {n.id: n.resolved_at is not None for n in s.execute(select(Notice)).scalars()}
    assert resolved == {"SI-2025Q3:report:r1": True, "SI-2025Q3:other:r1": False}
    with pytest.raises(Refused, match="因复查运行未再发现不再适用"):  # the refusal gives the procedure's cause
        fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming")

    with db.session() as s:
        row = s.execute(select(Obligation).where(Obligation.code == "report")).scalar_one()
        reinstate_in(s, row, state="pending", by="system", reason="复查运行再次发现")
    row = _load()
    assert row.state == "pending" and "withdrawn" not in row.evidence
    assert row.evidence["withdrawals"][0]["reason"] == "复查未再发现"
    assert fulfil("SI-2025Q3", "report", evidence="已报送", by="li.ming").state == "fulfilled"
