"""Signed, expiring download links to recorded documents: ``GET /files/<token>`` on the endpoint.

People approve and file documents they must be able to open: a review request that names a file
and a hash, or an artifact that shows a server path, gives them nothing to open. Every document a
procedure produces is on record with its SHA-256 (:mod:`regflows.kit.reports`); a link names one
such record and an expiry, signed with the acknowledgement links' key and signature
(:func:`notices.acks.sign`, one mechanism for every link regflows issues). Serving re-reads the
file and sends it only when its SHA-256 is still the recorded one: a file changed on disk after it
was recorded (or after it was approved) is refused with 409, never sent as if it were the record.

A link can reach nothing but a recorded document: the token carries the record's id, never a
path, and its signature covers the id, the expiry and the download name. A forged, altered or
expired link, a record gone or a changed file is refused with a Chinese page and counted like
every refusal of the endpoint (:mod:`regflows.kit.refusals`: per client and minute, one ledger
summary a minute); each download served is a ledger entry (``document.downloaded``). The route
sits behind the endpoint's guard (rate limit, security headers, ``Cache-Control: no-store``).

The token is base64url of ``file␟<record id>␟<expiry>␟<download name>`` and the signature: no
digit runs that the notices' masking could take for a phone number, and the Chinese download name
(``Content-Disposition`` with RFC 5987 ``filename*``) travels signed with it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import html
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from calendars.zone import SHANGHAI
from notices.acks import fingerprint, sign
from regflows import ledger
from regflows.kit.refusals import note_refusal
from regflows.store import db
from regflows.store.models import Report, utcnow

#: The default life of a link (the profile's ``settings.file_link_hours`` overrides it).
DEFAULT_VALIDITY = dt.timedelta(hours=72)
PURPOSE = "file"
SEP = "\x1f"

#: The office formats regflows writes, whatever the machine's mime.types knows.
CONTENT_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
}

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em;line-height:1.6}} .bad{{color:#b00}}</style></head>
<body><h1>{title}</h1><p class="bad">{message}</p></body></html>"""


class DownloadRefused(ValueError):
    """Why a download link was refused (``reason`` for the ledger, the message for the person)."""

    def __init__(self, reason: str, status: int, message: str) -> None:
        self.reason, self.status = reason, status
        super().__init__(message)


@dataclass(frozen=True)
class FileClaim:
    report_id: int
    expires: dt.datetime
    name: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def file_token(report_id: int, name: str, validity: dt.timedelta = DEFAULT_VALIDITY, now: dt.datetime | None = None) -> str:
    """A signed token for the recorded document ``report_id``, downloaded as ``name``, until now + validity."""
    expires = int(((now or utcnow()) + validity).timestamp())
    parts = (PURPOSE, str(report_id), str(expires), name)
    return f"{_b64(SEP.join(parts).encode('utf-8'))}.{sign(*parts)}"


def read_file_token(token: str, now: dt.datetime | None = None) -> FileClaim:
    """The claim of a genuine, unexpired token; :class:`DownloadRefused` otherwise."""
    payload, dot, signature = token.partition(".")
    try:
        parts = _unb64(payload).decode("utf-8").split(SEP) if dot and payload and signature else []
    except (binascii.Error, ValueError):
        parts = []
    if len(parts) != 4 or parts[0] != PURPOSE or not parts[1].isdigit() or not parts[2].isdigit():
        raise DownloadRefused("forged", 400, "下载链接格式无效")
    if not hmac.compare_digest(signature, sign(*parts)):
        raise DownloadRefused("altered", 400, "下载链接签名不符（伪造或被篡改）")
    expires = dt.datetime.fromtimestamp(int(parts[2]), tz=dt.timezone.utc)
    if (now or utcnow()) >= expires:
        when = expires.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        raise DownloadRefused("expired", 410, f"下载链接已于 {when}（北京时间）过期，请向发送人索取新的链接")
    return FileClaim(int(parts[1]), expires, parts[3])


def _latest_record(path: str | Path, sha256: str | None, url: str | None) -> Report | None:
    with db.session(url) as s:
        query = select(Report).where(Report.path == str(path))
        if sha256:
            query = query.where(Report.sha256 == sha256)
        row = s.execute(query.order_by(Report.id.desc()).limit(1)).scalar_one_or_none()
        if row is not None:
            s.expunge(row)
        return row


def file_url(base_url: str, path: str | Path, name: str | None = None, *, sha256: str | None = None,
             validity: dt.timedelta = DEFAULT_VALIDITY, now: dt.datetime | None = None, url: str | None = None) -> str | None:
    """The download link of the document recorded at ``path`` (its latest record, or the one with
    ``sha256``: the version a person is asked to approve), named ``name`` (default: the file's
    name) on the person's disk; None when no such document is on record (nothing unrecorded is
    ever served)."""
    row = _latest_record(path, sha256, url)
    if row is None:
        return None
    download = name or Path(row.path).name
    suffix = Path(row.path).suffix
    if suffix and not download.endswith(suffix):
        download += suffix
    return f"{str(base_url).rstrip('/')}/files/{file_token(row.id, download, validity, now)}"


def recorded_file(claim: FileClaim, url: str | None = None) -> tuple[Report, bytes]:
    """The record and the file's bytes as they are now, only when they still hash to the record."""
    with db.session(url) as s:
        row = s.get(Report, claim.report_id)
        if row is None:
            raise DownloadRefused("unknown", 404, "下载链接对应的文件记录不存在")
        s.expunge(row)
    try:
        data = Path(row.path).read_bytes()
    except OSError:
        raise DownloadRefused("missing", 410, "该文件已不在服务器上（已移走或删除），请联系发送人") from None
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise DownloadRefused("changed", 409, "该文件在登记后已被改动，与登记的 SHA-256 不符，拒绝提供；请联系发送人核实")
    return row, data


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the real (Chinese) name as RFC 5987 ``filename*``."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def content_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def _refused(refused: DownloadRefused) -> HTMLResponse:
    title = "文件已被改动" if refused.reason == "changed" else "链接已过期" if refused.reason == "expired" else "无法下载"
    return HTMLResponse(PAGE.format(title=html.escape(title), message=html.escape(str(refused))), status_code=refused.status)


async def download(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        claim = read_file_token(token)
        row, data = await run_in_threadpool(recorded_file, claim)
    except DownloadRefused as refused:
        note_refusal(request, "file.refused", refused.reason, fingerprint(token))
        return _refused(refused)
    client = request.client.host if request.client else None
    await run_in_threadpool(ledger.append, "document.downloaded", row.subject,
                            {"report": row.id, "kind": row.kind, "path": row.path, "sha256": row.sha256, "client": client})
    return Response(data, media_type=content_type(row.path),
                    headers={"content-disposition": content_disposition(claim.name), "x-content-sha256": row.sha256})


ROUTES: tuple[Route, ...] = (Route("/files/{token:path}", download, methods=["GET"]),)
