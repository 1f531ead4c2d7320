"""A signed-off document set on the approvals core: the view procedures show of an approval
(review, then approve, then final) and the checks of its files' bytes.

Why here: the quarterly self-inspection's report and the annual rating's self-assessment are
signed off the same way (a maker, a reviewer, an approver; bound to the files' SHA-256; final
copies made from the approved bytes), and each had the same view and the same checks. A
procedure keeps its subject, its texts and what its final copy fills in; this module keeps:

- :class:`SignoffView`: who submitted, reviewed and approved which revision, the files and the
  final copies, the stage as people read it (:data:`STAGE_TITLES`); a procedure subclasses it to
  add its own keys (the quarter and run, the year).
- :func:`read_approved`: each approved file read once and checked against its approved SHA-256,
  so a file rewritten between two reads is never finalised under the approved names.
- :func:`check_final`: the final copies still on disk with the bytes recorded, before filing.
- :func:`final_path`: ``report.docx`` → ``report-final-r2.docx``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from regflows.kit.approvals import APPROVED, DONE, Act, Approval

__all__ = ["STAGE_TITLES", "FileChanged", "SignoffView", "check_final", "final_path", "read_approved", "view_fields"]

#: The stages as people read them: the two steps, approved but not yet final, final.
STAGE_TITLES = {"review": "待复核", "approve": "待签发", "approved": "已签发，待定稿", "final": "已签发定稿"}


class FileChanged(ValueError):
    """A file is missing or its bytes are not the ones recorded (``key``: its name in the set)."""

    def __init__(self, key: str, path: Path) -> None:
        self.key, self.path = key, path
        super().__init__(f"{path} 已不存在或内容与登记的 SHA-256 不符")


@dataclass(kw_only=True)
class SignoffView:
    """One approval of a review step and an approval step, as the CLI, the watch and the notices see it."""

    revision: int
    stage: str  # review | approve | approved | final
    content_sha256: str
    maker: Act
    files: dict[str, dict[str, str]]
    reviewer: Act | None = None
    approver: Act | None = None
    final: dict[str, dict[str, str]] | None = None
    signed_off_on: str | None = None
    requests: list[str] = field(default_factory=list)

    @property
    def stage_title(self) -> str:
        return STAGE_TITLES[self.stage]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stage_title": self.stage_title}


def view_fields(approval: Approval) -> dict[str, Any]:
    """The :class:`SignoffView` fields of an approval whose steps are ``review`` and ``approve``
    and whose detail holds ``files`` (and, once final, ``final`` and ``signed_off_on``)."""
    detail = approval.detail
    return {"revision": approval.revision, "stage": {DONE: "final", APPROVED: "approved"}.get(approval.stage, approval.stage),
            "content_sha256": approval.content_sha256, "maker": approval.maker, "files": dict(detail["files"]),
            "reviewer": approval.decision("review"), "approver": approval.decision("approve"), "final": detail.get("final"),
            "signed_off_on": detail.get("signed_off_on"), "requests": [r.notice for r in approval.requests]}


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def read_approved(files: Mapping[str, Mapping[str, str]]) -> dict[str, bytes]:
    """Each file (``key → {path, sha256}``) read once, its bytes checked against its SHA-256;
    :class:`FileChanged` for the first one missing or changed."""
    approved: dict[str, bytes] = {}
    for key, f in files.items():
        path = Path(f["path"])
        data = _read(path)
        if data is None or hashlib.sha256(data).hexdigest() != f["sha256"]:
            raise FileChanged(key, path)
        approved[key] = data
    return approved


def check_final(final: Mapping[str, Mapping[str, str]], keys: tuple[str, ...] | None = None) -> dict[str, dict[str, str]]:
    """The final copies (``key → {path, sha256}``; ``keys`` only, when given) still on disk with
    the bytes recorded: ``key → {path, sha256}``; :class:`FileChanged` otherwise."""
    checked = read_approved({k: final[k] for k in (keys or tuple(final))})
    return {k: {"path": str(final[k]["path"]), "sha256": hashlib.sha256(data).hexdigest()} for k, data in checked.items()}


def final_path(path: Path, revision: int) -> Path:
    """Where the final copy of ``path`` at ``revision`` goes: ``report-final-r2.docx``."""
    return path.with_name(f"{path.stem}-final-r{revision}{path.suffix}")
