"""Evidence that an obligation was met: one standard for every procedure and every entry point.

An inspector asks what was done, by whom, under which reference number, and to see the
document. The text says what was done; a file, when named, must be one the server can read at
the moment of fulfilment, and its SHA-256 and size go into the record, so the document shown
later can be proved to be the one filed (a path alone proves nothing: the file can change or
vanish). A file uploaded through ``POST /uploads`` (regflows/kit/uploads.py) sits under a folder
named after its SHA-256; such a file is also checked against that name.

Where a file may come from (issue 14, 14): a form runs on the server, so a path typed into it
must not make the server read, hash and so reveal whatever it can read (``$REGFLOWS_HOME/ack.key``,
the link-signing key; any path's existence). A file is taken from the *evidence areas* only:
what ``POST /uploads`` stored (``$REGFLOWS_HOME/uploads``) and the configured evidence folder
(``REGFLOWS_EVIDENCE_DIR``, default ``$REGFLOWS_HOME/evidence``). The command line, run by an
operator on their own machine with their own rights, may still name any local file, except
anything else under ``$REGFLOWS_HOME`` (keys, store, anchors). The refusal is the same whether
the file exists or not, and comes before the file is looked at.

Pure apart from reading the file and the folders' configuration: no store, no procedure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notices.masking import mask_pii
from regflows import config
from regflows.kit.uploads import upload_root

__all__ = [
    "EvidenceError",
    "EvidenceFile",
    "evidence_areas",
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


def evidence_areas() -> list[Path]:
    """The folders an evidence file may be taken from on the server (resolved)."""
    return [upload_root().resolve(), config.evidence_dir().resolve()]


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _allowed(path: Path, field: str, server: bool) -> None:
    """Refuse a path outside the evidence areas (``server``) or inside regflows' own home; the
    same words whether it exists or not (symbolic links followed: a link in the evidence folder
    to the key is the key)."""
    areas = evidence_areas()
    uploads, evidence = areas
    home = config.home().resolve()
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a link loop: nothing to read anywhere
        real = home  # refused below, in the same words
    in_home = _within(real, home)
    if _within(real, uploads):
        return
    # An evidence folder set at or above the home (a broad REGFLOWS_EVIDENCE_DIR) does not open
    # the home's own files (the link-signing key, the store): only a folder inside it does.
    if _within(real, evidence) and (not in_home or (evidence != home and _within(evidence, home))):
        return
    if server or in_home:
        raise EvidenceError(f"证据文件（{field}）不在允许的证据区：请先经 regflows 端点 POST /uploads 上传并填写返回的路径，"
                            f"或将文件放入证据目录 {areas[1]}（REGFLOWS_EVIDENCE_DIR）后填写其路径")


def check_file(file: str | Path, field: str = "file", *, server: bool = False) -> EvidenceFile:
    """The named file, hashed; refused (naming ``field``) when outside the evidence areas,
    absent, unreadable or empty.

    ``server``: the path was typed into a form that runs on the server; only the evidence areas
    are allowed. Otherwise (the operator's command line) any local file but regflows' home.
    A file kept under ``uploads/<sha256>/`` must still have that SHA-256: a mismatch means it
    changed after upload, which is exactly what the hash is there to catch.
    """
    text = str(file).strip()
    if not text:
        raise EvidenceError(f"证据文件（{field}）为空：请填写服务器上可读取的文件路径，或 POST /uploads 返回的路径")
    path = Path(text).expanduser()
    path = path if path.is_absolute() else Path.cwd() / path
    _allowed(path, field, server)
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
                    field_names: dict[str, str] | None = None, *, server: bool = False) -> dict[str, Any]:
    """The evidence record kept with the obligation and in the ledger: text, reference, file.

    ``field_names`` lets an entry point name its own fields in errors (the CLI says ``--file``);
    ``server``: the file was named in a form run on the server (:func:`check_file`). The text and
    the reference are masked (notices/masking.py) before anything keeps them: a note such as
    「已电话 138… 告知」 would otherwise put a customer's number in the store and the ledger
    (CUSTINFO; the README's promise that numbers are masked before anything is stored).
    """
    names = {"evidence": "evidence", "reference": "reference", "file": "file", **(field_names or {})}
    if not isinstance(evidence, str) or not evidence.strip():
        raise EvidenceError(f"履行义务必须附证据说明（{names['evidence']}）：写明做了什么、发给谁、以何种方式")
    record: dict[str, Any] = {"evidence": mask_pii(evidence.strip())}
    if reference is not None and str(reference).strip():
        record["reference"] = mask_pii(str(reference).strip())
    if file is not None and str(file).strip():  # a form's cleared field arrives as "": no file
        record["file"] = check_file(file, names["file"], server=server).to_dict()
    return record
