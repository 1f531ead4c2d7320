"""The audit ledger: append-only, hash-chained, anchored outside the database.

Every regulated action (an incident recorded, a deadline met or missed, a notice delivered or
acknowledged, a report filed) is appended as one entry. Each entry carries the hash of the entry
before it, so changing any entry breaks every hash after it. Two attacks remain for someone with
database access: deleting the last entries, or rewriting the whole chain with fresh hashes. Both
are caught by *anchors*: the chain head (entry count and hash), written to a file outside the
database and sent to the compliance role; :func:`verify` checks the chain against every anchor.
"""

from __future__ import annotations

import os

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from regflows import config
from regflows.store import db
from regflows.store.models import AuditEntry, LedgerHead, utcnow

GENESIS = "0" * 64
ANCHOR_FILE = "ledger-anchors.jsonl"


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(seq: int, at: dt.datetime, actor: str, action: str, subject: str, payload: str, prev_hash: str) -> str:
    """The hash of one entry: SHA-256 over a canonical JSON of all its fields and the previous hash."""
    stamp = at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = canonical_json(
        {"seq": seq, "at": stamp, "actor": actor, "action": action, "subject": subject, "payload": payload, "prev": prev_hash}
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append_in(session: Session, action: str, subject: str, payload: dict[str, Any] | None = None, actor: str = "system") -> AuditEntry:
    """Append inside the caller's transaction, so the entry commits with the change it records.

    Bumping the head row first takes the write lock (a row lock on PostgreSQL, the database
    write lock on SQLite), so concurrent appends get consecutive sequence numbers.
    """
    session.execute(text("UPDATE ledger_head SET count = count + 1 WHERE id = 1"))
    head = session.execute(select(LedgerHead).where(LedgerHead.id == 1)).scalar_one()
    session.refresh(head)
    at = utcnow()
    body = canonical_json(payload or {})
    digest = entry_hash(head.count, at, actor, action, subject, body, head.head_hash)
    entry = AuditEntry(seq=head.count, at=at, actor=actor, action=action, subject=subject, payload=body, prev_hash=head.head_hash, hash=digest)
    session.add(entry)
    head.head_hash = digest
    session.flush()
    return entry


def append(action: str, subject: str, payload: dict[str, Any] | None = None, actor: str = "system", url: str | None = None) -> AuditEntry:
    with db.session(url) as s:
        return append_in(s, action, subject, payload, actor)


@dataclass(frozen=True)
class Anchor:
    count: int
    head_hash: str
    at: str

    def line(self) -> str:
        return canonical_json({"count": self.count, "head_hash": self.head_hash, "at": self.at})


@dataclass
class Verification:
    ok: bool
    count: int
    head_hash: str
    problems: list[str] = field(default_factory=list)
    anchors_checked: int = 0

    def summary(self) -> str:
        if self.ok:
            return f"审计账本完整：{self.count} 条，链头 {self.head_hash[:16]}…，已核对 {self.anchors_checked} 个锚点"
        return "审计账本校验失败：\n" + "\n".join(f"  - {p}" for p in self.problems)


def anchor_path(directory: Path | None = None) -> Path:
    return (directory or config.anchor_dir()) / ANCHOR_FILE


def read_anchors(path: Path) -> list[Anchor]:
    if not path.exists():
        return []
    anchors = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            anchors.append(Anchor(int(raw["count"]), str(raw["head_hash"]), str(raw["at"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: 锚点记录无法解析（{exc}）") from exc
    return anchors


def head(url: str | None = None) -> tuple[int, str]:
    """(count, hash) of the last entry as stored."""
    with db.session(url) as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
        return (last.seq, last.hash) if last else (0, GENESIS)


def write_anchor(url: str | None = None, directory: Path | None = None) -> Anchor:
    """Record the verified chain head outside the database. Refuses to anchor a broken chain."""
    result = verify(url, directory)
    if not result.ok:
        raise LedgerBroken(result)
    anchor = Anchor(result.count, result.head_hash, utcnow().isoformat())
    path = anchor_path(directory)
    # created owner-only (0600), as ack.key is: the anchors are evidence of the ledger's state
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8") as fh:
        fh.write(anchor.line() + "\n")
    return anchor


class LedgerBroken(RuntimeError):
    def __init__(self, result: Verification) -> None:
        self.result = result
        super().__init__(result.summary())


def verify(url: str | None = None, directory: Path | None = None) -> Verification:
    """Recompute the whole chain and check it against every anchor; name the first break."""
    problems: list[str] = []
    expected_seq, prev, count = 1, GENESIS, 0
    hashes: dict[int, str] = {}
    with db.session(url) as s:
        for entry in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
            if entry.seq != expected_seq:
                problems.append(f"第 {expected_seq} 条缺失（下一条是第 {entry.seq} 条）：账本中间有条目被删除")
                break
            if entry.prev_hash != prev:
                problems.append(f"第 {entry.seq} 条的前序哈希与第 {entry.seq - 1} 条不符：链被改写")
                break
            recomputed = entry_hash(entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.payload, entry.prev_hash)
            if recomputed != entry.hash:
                problems.append(f"第 {entry.seq} 条（{entry.action} {entry.subject}）内容与其哈希不符：该条被篡改")
                break
            hashes[entry.seq] = entry.hash
            prev, count, expected_seq = entry.hash, entry.seq, entry.seq + 1
    anchors = read_anchors(anchor_path(directory))
    if not problems:
        for anchor in anchors:
            if anchor.count > count:
                problems.append(
                    f"锚点（{anchor.at}）记录了 {anchor.count} 条，账本现只有 {count} 条：末尾 {anchor.count - count} 条被删除"
                )
            elif anchor.count and hashes.get(anchor.count) != anchor.head_hash:
                problems.append(
                    f"第 {anchor.count} 条的哈希与锚点（{anchor.at}）不符：账本在锚定后被整体重算或改写"
                )
    return Verification(not problems, count, prev, problems, len(anchors))
