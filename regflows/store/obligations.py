"""Obligation rows shared by every procedure: what a reminder watch records.

Each watch (incidents, the monthly credit statistics) decides which reminder is due from the
keys already sent; recording a key is the same for all of them, so it lives here once.
"""

from __future__ import annotations

from regflows.store import db
from regflows.store.models import Obligation


def mark_reminded(obligation_id: int, keys: list[str], url: str | None = None) -> None:
    """Add reminder keys to an obligation's ``reminders_sent`` (a set, kept sorted)."""
    with db.session(url) as s:
        row = s.get(Obligation, obligation_id)
        row.reminders_sent = sorted(set(row.reminders_sent or []) | set(keys))
