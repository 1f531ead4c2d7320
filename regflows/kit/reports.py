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

from sqlalchemy import select
from sqlalchemy.orm import Session

from regflows import ledger
from regflows.kit.evidence import sha256_file
from regflows.store import db
from regflows.store.models import Report


class OnRecord(ValueError):
    """A path given for a new file is a document on record: writing there would replace the bytes
    whose SHA-256 the record keeps. The message is Chinese and names the document."""

__all__ = ["OnRecord", "on_record", "record_report_in", "refuse_overwriting"]


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


def on_record(path: str | Path, url: str | None = None) -> Report | None:
    """The latest record of a document at ``path`` (as given, absolute or resolved), or None."""
    given = Path(path)
    names = {str(given), str(given.absolute())}
    try:
        names.add(str(given.resolve()))
    except OSError:
        pass
    with db.session(url) as s:
        return s.execute(select(Report).where(Report.path.in_(sorted(names))).order_by(Report.created_at.desc(), Report.id.desc())
                         .limit(1)).scalar()


def refuse_overwriting(path: str | Path, url: str | None = None) -> None:
    """Raise :class:`OnRecord` when ``path`` holds a document on record (an ``--out`` pointed at a
    run's own files replaced them silently: review of issue 15, defect 4). Every procedure writing
    a file a person names calls it before writing."""
    found = on_record(path, url)
    if found is not None:
        raise OnRecord(f"{path} 是已登记的文件（{found.procedure} {found.subject} 的 {found.kind}，SHA-256 {found.sha256[:12]}…）："
                       "不能覆盖已登记的文件，请另选输出路径")
