"""Evidence uploads: ``POST /uploads`` on the regflows endpoint, for forms that cannot upload.

The Prefect UI's run form has no file field, so an evidence file reaches the server one of two
ways: it is already on a disk the server reads, or it is uploaded here first and the answered
``path`` is pasted into the form's ``file`` field. Either way fulfilment checks and hashes the
file again (regflows/kit/evidence.py), so the record never rests on what the uploader claimed.

Files are kept under ``$REGFLOWS_HOME/uploads/<sha256>/<name>``: the folder is the content's
hash, so the same bytes stored twice land in one place, two files with one name never collide,
and a file changed after upload no longer matches its folder (fulfilment refuses it).

The request: ``POST /uploads?name=<file name>`` with the file's bytes as the body and
``Authorization: Bearer $REGFLOWS_INGEST_TOKEN`` (the token monitoring systems already use for
``POST /incidents``), e.g.
``curl -H "Authorization: Bearer $TOKEN" --data-binary @回执.pdf "$BASE/uploads?name=回执.pdf"``.
No multipart: Starlette needs python-multipart for forms, which this project does not ship, and
a raw body is what curl and scripts send most simply. Size limit ``REGFLOWS_UPLOAD_MAX_BYTES``
(default 50 MiB). A name with a path in it (``../x``, ``a/b``, ``C:\\x``), a hidden name or
control characters is refused, never cleaned up silently.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from regflows import config, ledger
from regflows.kit.files import write_atomically
from regflows.kit.refusals import note_refusal

__all__ = [
    "bearer_matches",
    "ROUTES",
    "StoredUpload",
    "UploadRefused",
    "max_bytes",
    "safe_name",
    "store_upload",
    "upload_root",
]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_NAME_BYTES = 255  # the usual file-system limit of one path component


class UploadRefused(ValueError):
    """The upload cannot be stored (bad name, empty, too large)."""


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    name: str
    sha256: str
    size: int


def max_bytes() -> int:
    raw = os.environ.get("REGFLOWS_UPLOAD_MAX_BYTES")
    return int(raw) if raw and raw.strip().isdigit() else DEFAULT_MAX_BYTES


def safe_name(name: str) -> str:
    """The name itself, if it is a plain file name; else UploadRefused naming the problem."""
    if not name or not name.strip():
        raise UploadRefused("缺少文件名（name）")
    if name != name.strip():
        raise UploadRefused(f"文件名（name）首尾不能有空白：{name!r}")
    if any(sep in name for sep in ("/", "\\")) or name in (".", ".."):
        raise UploadRefused(f"文件名（name）不能包含路径：{name!r}")
    if name.startswith("."):
        raise UploadRefused(f"文件名（name）不能以“.”开头：{name!r}")
    if ":" in name or any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise UploadRefused(f"文件名（name）含有不允许的字符：{name!r}")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise UploadRefused(f"文件名（name）过长（最多 {MAX_NAME_BYTES} 字节）")
    return name


def upload_root(home: Path | None = None) -> Path:
    """The folder uploads are kept in (evidence files may be recorded from there)."""
    return (home or config.home()) / "uploads"


def store_upload(data: bytes, name: str, home: Path | None = None) -> StoredUpload:
    """Store the bytes under ``<home>/uploads/<sha256>/<name>``; idempotent for the same bytes."""
    name = safe_name(name)
    if not data:
        raise UploadRefused("上传的文件为空")
    digest = hashlib.sha256(data).hexdigest()
    root = upload_root(home)
    folder = root / digest
    folder.mkdir(parents=True, exist_ok=True)
    for private in (root, folder):  # owner-only like the files: evidence names can be personal data too
        private.chmod(0o700)
    target = folder / name
    if target.resolve().parent != folder.resolve():  # defence in depth: safe_name already refused paths
        raise UploadRefused(f"文件名（name）不能包含路径：{name!r}")
    if not (target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == digest):
        # Atomic (a reader never sees half a file) and owner-only, like the reports: evidence may
        # hold personal data.
        write_atomically(target, data)
    return StoredUpload(target, name, digest, len(data))


def bearer_matches(header: str, expected: str) -> bool:
    """``Authorization: Bearer <token>``, the scheme in any case (RFC 7235 2.1), compared in constant time."""
    scheme, _, token = header.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode())


def _refuse(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def upload(request: Request) -> JSONResponse:
    """``POST /uploads?name=…``: store the body, answer the path to paste in a form and its SHA-256."""
    expected = config.ingest_token()
    if not expected:
        return _refuse("未配置 REGFLOWS_INGEST_TOKEN，不接收上传", 503)
    given = request.headers.get("authorization", "")
    client = request.client.host if request.client else None
    if not bearer_matches(given, expected):
        note_refusal(request, "upload.refused", "bad token")  # counted and summarised, not one ledger entry each
        return _refuse("认证失败", 401)
    try:
        name = safe_name(request.query_params.get("name", ""))
    except UploadRefused as exc:
        return _refuse(f"{exc}：请以 POST /uploads?name=文件名 上传", 400)
    limit = max_bytes()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _refuse(f"文件过大：{int(declared)} 字节，上限 {limit} 字节", 413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return _refuse(f"文件过大：超过上限 {limit} 字节", 413)
        chunks.append(chunk)
    try:
        stored = await run_in_threadpool(store_upload, b"".join(chunks), name)
    except UploadRefused as exc:
        return _refuse(str(exc), 400)
    await run_in_threadpool(ledger.append, "upload.stored", f"upload:{stored.sha256}",
                            {"name": stored.name, "size": stored.size, "path": str(stored.path), "client": client})
    return JSONResponse({"path": str(stored.path), "sha256": stored.sha256, "size": stored.size, "name": stored.name},
                        status_code=201)


#: The endpoint's upload route (mounted by notices/ack_server.py beside the acknowledgement pages).
ROUTES: list[Route] = [Route("/uploads", upload, methods=["POST"])]
