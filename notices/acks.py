"""Signed acknowledgement links that work from a phone, outside the Prefect UI.

A link carries a short token bound to one notice and one recipient, with an expiry, signed with
HMAC-SHA256 (short enough for an SMS: the binding is kept in the store and covered by the
signature). The Prefect UI alone cannot tell who clicked; a link that only its recipient
received can. A forged, altered, expired or replayed link is refused, and the refusal is
recorded in the audit ledger like the acceptance would be.

The signing key comes from ``REGFLOWS_ACK_SECRET``; without it a random key is created once in
``$REGFLOWS_HOME/ack.key`` (mode 0600). Rotating the key invalidates every outstanding link.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from regflows import config, ledger
from regflows.store import db
from regflows.store.models import AckLink, Acknowledgement, Notice, utcnow

DEFAULT_VALIDITY = dt.timedelta(hours=72)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signing_key() -> bytes:
    env = os.environ.get("REGFLOWS_ACK_SECRET")
    if env:
        return env.encode("utf-8")
    path: Path = config.home() / "ack.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


@dataclass(frozen=True)
class AckClaim:
    notice_id: str
    person_id: str
    expires: dt.datetime
    token_id: str


class AckRefused(ValueError):
    """Why a link was refused: forged, altered, expired, replayed or unknown."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


#: Short enough for an SMS: 8 random bytes name the link, 12 bytes of HMAC sign what it is bound
#: to. The binding (notice, person, expiry) lives in the store's ``ack_link`` row, and the
#: signature covers it, so neither the link nor the row can be altered without the key.
TOKEN_ID_BYTES, SIGNATURE_BYTES = 8, 12


def sign(*parts: str) -> str:
    """The one signature of every link regflows issues (acknowledgements, file downloads): HMAC-SHA256
    of the parts with :func:`signing_key`, cut to :data:`SIGNATURE_BYTES`, base64url. A link kind
    puts its own name first (``"file"``) so that no other kind's signature can stand for it."""
    message = "\x1f".join(parts).encode("utf-8")
    return _b64(hmac.new(signing_key(), message, hashlib.sha256).digest()[:SIGNATURE_BYTES])


def _signature(token_id: str, notice_id: str, person_id: str, expires: dt.datetime) -> str:
    return sign(token_id, notice_id, person_id, str(int(expires.timestamp())))


def make_token(notice_id: str, person_id: str, validity: dt.timedelta = DEFAULT_VALIDITY,
               now: dt.datetime | None = None, url: str | None = None) -> str:
    """Issue a link token for one notice and one person (recorded in the store)."""
    expires = ((now or utcnow()) + validity).replace(microsecond=0)
    token_id = _b64(secrets.token_bytes(TOKEN_ID_BYTES))
    with db.session(url) as s:
        s.add(AckLink(token_id=token_id, notice_id=notice_id, person_id=person_id, expires_at=expires))
    return f"{token_id}.{_signature(token_id, notice_id, person_id, expires)}"


def ack_url(base_url: str, token: str) -> str:
    return f"{str(base_url).rstrip('/')}/ack/{token}"


def read_token(token: str, now: dt.datetime | None = None, url: str | None = None) -> AckClaim:
    """Check the link exists, its signature matches its binding, and it has not expired."""
    token_id, dot, signature = token.partition(".")
    if not dot or not token_id or not signature:
        raise AckRefused("forged", "确认链接格式无效")
    with db.session(url) as s:
        link = s.get(AckLink, token_id)
        if link is None:
            raise AckRefused("forged", "确认链接不存在（伪造或被篡改）")
        claim = AckClaim(link.notice_id, link.person_id, link.expires_at, link.token_id)
    expected = _signature(claim.token_id, claim.notice_id, claim.person_id, claim.expires)
    if not hmac.compare_digest(signature, expected):
        raise AckRefused("altered", "确认链接签名不符（被篡改）")
    if (now or utcnow()) >= claim.expires:
        raise AckRefused("expired", f"确认链接已于 {claim.expires.isoformat()} 过期")
    return claim


def fingerprint(token: str) -> str:
    """What the ledger records of a refused token: never the token itself."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:16]


def acknowledge(token: str, via: str = "link", now: dt.datetime | None = None, url: str | None = None,
                on_refused: Callable[[AckRefused], None] | None = None) -> AckClaim:
    """Accept a link once: record the acknowledgement, stop escalation; refuse and record otherwise.

    A refusal is one ledger entry, unless ``on_refused`` takes it: the endpoint counts refusals
    per client and minute and summarises them (:mod:`regflows.kit.refusals`), so that anyone
    sending random links cannot flood the ledger."""
    try:
        claim = read_token(token, now, url)
        with db.session(url) as s:
            notice = s.get(Notice, claim.notice_id)
            if notice is None:
                raise AckRefused("unknown", "确认链接对应的通知不存在")
            at = now or utcnow()
            s.add(Acknowledgement(notice_id=claim.notice_id, person_id=claim.person_id, at=at, via=via, token_id=claim.token_id))
            try:
                s.flush()
            except IntegrityError as exc:
                raise AckRefused("replayed", "该确认链接已使用过（重放）") from exc
            if notice.acked_at is None:
                notice.acked_at, notice.acked_by = at, claim.person_id
            ledger.append_in(s, "ack.accepted", claim.notice_id, {"person": claim.person_id, "via": via, "token_id": claim.token_id})
        return claim
    except AckRefused as refused:
        if on_refused is not None:
            on_refused(refused)
        else:
            ledger.append("ack.refused", "ack", {"reason": refused.reason, "token": fingerprint(token), "via": via}, url=url)
        raise
