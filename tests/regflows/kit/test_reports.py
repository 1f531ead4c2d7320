"""A produced document goes on record once, with the hash of the file as written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import select

from regflows import ledger
from regflows.kit.reports import record_report_in
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Report


def test_a_report_row_and_its_ledger_entry_carry_the_file_s_hash(home: Path, tmp_path: Path) -> None:
    migrate()
    path = tmp_path / "自查报告.docx"
    path.write_bytes(b"PK\x03\x04 a report")
    with db.session() as s:
        digest = record_report_in(s, procedure="inspection", kind="report", subject="2025Q3", path=path, action="report.written",
                                  ledger_subject="inspection:2025Q3", detail={"revision": 1})
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    with db.session() as s:
        row = s.execute(select(Report)).scalar_one()
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "report.written")).scalar_one()
        assert (row.procedure, row.kind, row.subject, row.path, row.sha256) == ("inspection", "report", "2025Q3", str(path), digest)
        assert entry.subject == "inspection:2025Q3"
        assert json.loads(entry.payload) == {"kind": "report", "path": str(path), "sha256": digest, "revision": 1}
    assert ledger.verify().ok
