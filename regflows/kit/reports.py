"""Every document a procedure produces, on record with its SHA-256: a row of the report table and
an audit-ledger entry, in the caller's transaction.

An inspector asks which report was filed and whether the file shown now is that file; the hash
recorded when it was written answers both. Procedures wrote this pair of records by hand (the
incident drafts, the credit statistics' draft and final tables); here it is once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from regflows import ledger
from regflows.kit.evidence import sha256_file
from regflows.store.models import Report

__all__ = ["record_report_in"]


def record_report_in(s: Session, *, procedure: str, kind: str, subject: str, path: str | Path, action: str,
                     ledger_subject: str | None = None, detail: Mapping[str, Any] | None = None,
                     sha256: str | None = None, actor: str = "system") -> str:
    """Record ``path`` (already written) as ``procedure``'s document ``kind`` of ``subject``; the
    ledger entry ``action`` carries the kind, path and SHA-256 and ``detail``. Returns the SHA-256
    (computed from the file unless the caller computed it from the same bytes already)."""
    digest = sha256 or sha256_file(Path(path))[0]
    s.add(Report(procedure=procedure, kind=kind, subject=subject, path=str(path), sha256=digest))
    ledger.append_in(s, action, ledger_subject or subject, {"kind": kind, "path": str(path), "sha256": digest, **(detail or {})},
                     actor=actor)
    return digest
