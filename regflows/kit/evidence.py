"""Evidence that an obligation was met: one standard for every procedure and every entry point.

An inspector asks what was done, by whom, under which reference number, and to see the
document. The text says what was done; a file, when named, must be one the server can read at
the moment of fulfilment, and its SHA-256 and size go into the record, so the document shown
later can be proved to be the one filed (a path alone proves nothing: the file can change or
vanish). A file uploaded through ``POST /uploads`` (regflows/kit/uploads.py) sits under a folder
named after its SHA-256; such a file is also checked against that name.

Pure apart from reading the file: no store, no procedure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "EvidenceError",
    "EvidenceFile",
    "check_file",
    "evidence_record",
    "sha256_file",
]

#: Read in blocks: an evidence file can be a scanned report of tens of megabytes.
BLOCK = 1 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}")


class EvidenceError(ValueError):
    """The evidence given is not enough or not readable; the message names the field."""


@dataclass(frozen=True)
class EvidenceFile:
    """A file as it was when the obligation was fulfilled."""

    path: str  # absolute, as the server reads it
    name: str
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "name": self.name, "sha256": self.sha256, "size": self.size}


def sha256_file(path: Path) -> tuple[str, int]:
    """(hex SHA-256, size in bytes) of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def check_file(file: str | Path, field: str = "file") -> EvidenceFile:
    """The named file, hashed; refused (naming ``field``) when absent, unreadable or empty.

    A file kept under ``uploads/<sha256>/`` must still have that SHA-256: a mismatch means it
    changed after upload, which is exactly what the hash is there to catch.
    """
    text = str(file).strip()
    if not text:
        raise EvidenceError(f"证据文件（{field}）为空：请填写服务器上可读取的文件路径，或 POST /uploads 返回的路径")
    path = Path(text).expanduser()
    path = path if path.is_absolute() else Path.cwd() / path
    if not path.exists():
        raise EvidenceError(f"证据文件（{field}）不存在：{path}（须为服务器上可读取的文件路径，或 POST /uploads 返回的路径）")
    if not path.is_file():
        raise EvidenceError(f"证据文件（{field}）不是文件：{path}")
    try:
        digest, size = sha256_file(path)
    except OSError as exc:
        raise EvidenceError(f"证据文件（{field}）无法读取：{path}（{exc.strerror or exc}）") from exc
    if size == 0:
        raise EvidenceError(f"证据文件（{field}）是空文件：{path}")
    folder = path.parent.name
    if path.parent.parent.name == "uploads" and _HEX64.fullmatch(folder) and folder != digest:
        raise EvidenceError(f"证据文件（{field}）与上传时的 SHA-256 不一致（上传后被改动）：{path}")
    return EvidenceFile(path=str(path.resolve()), name=path.name, sha256=digest, size=size)


def evidence_record(evidence: str, reference: str | None = None, file: str | Path | None = None,
                    field_names: dict[str, str] | None = None) -> dict[str, Any]:
    """The evidence record kept with the obligation and in the ledger: text, reference, file.

    ``field_names`` lets an entry point name its own fields in errors (the CLI says ``--file``).
    """
    names = {"evidence": "evidence", "reference": "reference", "file": "file", **(field_names or {})}
    if not isinstance(evidence, str) or not evidence.strip():
        raise EvidenceError(f"履行义务必须附证据说明（{names['evidence']}）：写明做了什么、发给谁、以何种方式")
    record: dict[str, Any] = {"evidence": evidence.strip()}
    if reference is not None and str(reference).strip():
        record["reference"] = str(reference).strip()
    if file is not None and str(file).strip():  # a form's cleared field arrives as "": no file
        record["file"] = check_file(file, names["file"]).to_dict()
    return record
