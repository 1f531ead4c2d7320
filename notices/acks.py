"""Signed acknowledgement links that work from a phone, outside the Prefect UI.

A link carries a token bound to one notice and one recipient, with an expiry, signed with
HMAC-SHA256. The Prefect UI alone cannot tell who clicked; a link that only its recipient
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
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from regflows import config, ledger
from regflows.store import db
from regflows.store.models import Acknowledgement, Notice, utcnow

DEFAULT_VALIDITY = dt.timedelta(hours=72)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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


def make_token(notice_id: str, person_id: str, validity: dt.timedelta = DEFAULT_VALIDITY, now: dt.datetime | None = None) -> str:
    expires = (now or utcnow()) + validity
    payload = {"n": notice_id, "p": person_id, "x": int(expires.timestamp()), "j": secrets.token_hex(8)}
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    signature = _b64(hmac.new(signing_key(), body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{signature}"


def ack_url(base_url: str, token: str) -> str:
    return f"{str(base_url).rstrip('/')}/ack/{token}"


def read_token(token: str, now: dt.datetime | None = None) -> AckClaim:
    """Check signature and expiry (not replay: that needs the store)."""
    try:
        body, signature = token.split(".", 1)
        expected = _b64(hmac.new(signing_key(), body.encode("ascii"), hashlib.sha256).digest())
    except (ValueError, UnicodeEncodeError) as exc:
        raise AckRefused("forged", "确认链接格式无效") from exc
    if not hmac.compare_digest(signature, expected):
        raise AckRefused("forged", "确认链接签名无效（伪造或被篡改）")
    try:
        raw = json.loads(_unb64(body))
        claim = AckClaim(str(raw["n"]), str(raw["p"]), dt.datetime.fromtimestamp(int(raw["x"]), dt.timezone.utc), str(raw["j"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise AckRefused("altered", "确认链接内容无法解析") from exc
    if (now or utcnow()) >= claim.expires:
        raise AckRefused("expired", f"确认链接已于 {claim.expires.isoformat()} 过期")
    return claim


def fingerprint(token: str) -> str:
    """What the ledger records of a refused token: never the token itself."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:16]


def acknowledge(token: str, via: str = "link", now: dt.datetime | None = None, url: str | None = None) -> AckClaim:
    """Accept a link once: record the acknowledgement, stop escalation; refuse and record otherwise."""
    try:
        claim = read_token(token, now)
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
        ledger.append("ack.refused", "ack", {"reason": refused.reason, "token": fingerprint(token), "via": via}, url=url)
        raise
