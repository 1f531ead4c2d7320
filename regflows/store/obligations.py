"""Obligation rows shared by every procedure: the SQL the kit's fulfil, waive and reminder loop need.

The store layer owns SQL: the kit (regflows/kit/obligations.py, regflows/kit/reminders.py) and
the procedures ask for rows here instead of writing queries of their own.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from regflows.store import db
from regflows.store.models import Notice, Obligation

#: States in which an obligation asks nothing more (a recurring one stays open when fulfilled).
#: ``withdrawn``: a correction of the facts made it no longer apply (regflows/incident/store.py
#: sync_obligations); like a waiver it stops reminders and is never counted as a fulfilment.
CLOSED_STATES = ("fulfilled", "waived", "withdrawn")
#: Closed without being fulfilled: what the open-row queries leave out besides the fulfilled.
ENDED_STATES = ("waived", "withdrawn")


def find(s: Session, subject: str, code: str, *, for_update: bool = False) -> Obligation | None:
    """The obligation ``code`` of ``subject`` in session ``s``, or None. ``for_update`` locks the
    row until the transaction ends (PostgreSQL; SQLite's one writer serialises anyway), so two
    fulfilments racing from the form and the CLI are checked one after the other."""
    query = select(Obligation).where(Obligation.subject == subject, Obligation.code == code)
    return s.execute(query.with_for_update() if for_update else query).scalar_one_or_none()


def open_rows(procedure: str, url: str | None = None) -> list[Obligation]:
    """A procedure's obligations not yet fulfilled nor waived nor withdrawn, detached from the session."""
    with db.session(url) as s:
        rows = list(s.execute(select(Obligation).where(Obligation.procedure == procedure, Obligation.fulfilled_at.is_(None),
                                                       Obligation.state.not_in(ENDED_STATES))).scalars())
        for row in rows:
            s.expunge(row)
        return rows


def all_open_rows(url: str | None = None) -> list[Obligation]:
    """Every procedure's obligations not yet fulfilled nor waived (the calendar watch names the
    ones whose deadline is provisional), detached from the session."""
    with db.session(url) as s:
        rows = list(s.execute(select(Obligation).where(Obligation.fulfilled_at.is_(None), Obligation.state.not_in(ENDED_STATES))
                              .order_by(Obligation.procedure, Obligation.subject, Obligation.code)).scalars())
        for row in rows:
            s.expunge(row)
        return rows


def mark_reminded(obligation_id: int, keys: list[str], url: str | None = None) -> None:
    """Add reminder keys to an obligation's ``reminders_sent`` (a set, kept sorted)."""
    with db.session(url) as s:
        row = s.get(Obligation, obligation_id)
        if row is None:
            raise LookupError(f"义务记录 {obligation_id} 不存在")
        row.reminders_sent = sorted(set(row.reminders_sent or []) | set(keys))


def waiting_acknowledgements(s: Session, related: str, *, prefix: str | None = None) -> list[Notice]:
    """The acknowledgement-required notices about ``related`` nobody has resolved yet (reminders and
    their escalations), optionally only those whose id starts with ``prefix`` (one obligation's)."""
    query = select(Notice).where(Notice.related == related, Notice.requires_ack.is_(True), Notice.resolved_at.is_(None))
    if prefix is not None:
        query = query.where(Notice.id.startswith(prefix, autoescape=True))
    return list(s.execute(query).scalars())
