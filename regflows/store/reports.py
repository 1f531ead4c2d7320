"""Queries on the report table (every document a procedure produced, with its SHA-256)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from regflows.store import db
from regflows.store.models import Report


def kinds_reported(subject: str, url: str | None = None) -> set[str]:
    """The document kinds already recorded for a subject (an incident id, a month)."""
    with db.session(url) as s:
        return set(s.execute(select(Report.kind).where(Report.subject == subject)).scalars())


def counts_reported(subject: str, url: str | None = None) -> dict[str, int]:
    """How many documents of each kind are recorded for a subject (revisions included)."""
    with db.session(url) as s:
        out: dict[str, int] = {}
        for kind in s.execute(select(Report.kind).where(Report.subject == subject)).scalars():
            out[kind] = out.get(kind, 0) + 1
        return out


def latest_paths(procedure: str, kind: str, subjects: Iterable[str], url: str | None = None) -> dict[str, str]:
    """Each subject's most recently recorded file of one kind (subjects with none are absent)."""
    wanted = list(subjects)
    if not wanted:
        return {}
    with db.session(url) as s:
        rows = s.execute(select(Report).where(Report.procedure == procedure, Report.kind == kind, Report.subject.in_(wanted))
                         .order_by(Report.created_at, Report.id)).scalars().all()
        return {r.subject: r.path for r in rows}


def latest_of_subject(procedure: str, subject: str, url: str | None = None) -> dict[str, Report]:
    """Each kind's most recently recorded document of one subject (an incident's drafts and
    reports, for the people asked to decide on it)."""
    with db.session(url) as s:
        rows = s.execute(select(Report).where(Report.procedure == procedure, Report.subject == subject)
                         .order_by(Report.created_at, Report.id)).scalars().all()
        return {r.kind: r for r in rows}
