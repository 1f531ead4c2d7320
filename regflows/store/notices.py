"""Queries on the notices tables that the CLI and the Prefect tasks show to people.

The delivery engine (notices/delivery.py) writes these rows; this module reads them for the
``notices`` commands and artifacts, so that no task, flow or command holds SQL of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from regflows.store import db
from regflows.store.models import Acknowledgement, Delivery, DeliveryAttempt, Notice, OutboxMessage


def latest_outbox(limit: int = 50, url: str | None = None) -> list[OutboxMessage]:
    """The newest outbox messages first (the embedded default channel)."""
    with db.session(url) as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)).scalars())


@dataclass(frozen=True)
class SentText:
    """A notice as recorded when sent (personal links are per recipient and not in it)."""

    subject: str
    body: str
    sms: str | None


def sent_texts(notice_ids: Iterable[str], url: str | None = None) -> dict[str, SentText]:
    """The recorded title and forms of these notices, by id."""
    ids = sorted(set(notice_ids))
    if not ids:
        return {}
    with db.session(url) as s:
        return {n.id: SentText(n.subject, n.body, n.sms) for n in s.execute(select(Notice).where(Notice.id.in_(ids))).scalars()}


def settled_times(notice_ids: Iterable[str], url: str | None = None) -> dict[tuple[str, str, int], dt.datetime | None]:
    """When each delivery of these notices was settled, by (notice, person, channel index)."""
    ids = sorted(set(notice_ids))
    if not ids:
        return {}
    with db.session(url) as s:
        return {(d.notice_id, d.person_id, d.channel_index): d.settled_at
                for d in s.execute(select(Delivery).where(Delivery.notice_id.in_(ids))).scalars()}


def attempts_since(start: dt.datetime, url: str | None = None) -> list[tuple[DeliveryAttempt, Delivery]]:
    """Every delivery attempt from ``start`` on, oldest first, with its delivery."""
    with db.session(url) as s:
        rows = s.execute(
            select(DeliveryAttempt, Delivery).join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
            .where(DeliveryAttempt.at >= start).order_by(DeliveryAttempt.id)
        ).all()
        return [(attempt, delivery) for attempt, delivery in rows]


@dataclass(frozen=True)
class AckState:
    """Whether a notice waits for acknowledgement, and who acknowledged it when."""

    requires_ack: bool
    acked_by: str | None
    by_person: dict[str, dt.datetime]  # person id → first acknowledgement


@dataclass(frozen=True)
class AckOverview:
    """A notice that waits for acknowledgement, as it stands now."""

    notice_id: str
    title: str
    sent_at: dt.datetime
    by_person: dict[str, dt.datetime]  # person id → first acknowledgement


def acks_of(related: str, id_prefix: str, url: str | None = None) -> list[AckOverview]:
    """The notices about one matter (``related`` or an id starting with ``id_prefix``) that wait
    for acknowledgement, oldest first, with who acknowledged them so far: the current state that
    a run's ``notices`` artifact (a snapshot at send time) cannot show."""
    with db.session(url) as s:
        notices = list(s.execute(
            select(Notice).where(Notice.requires_ack.is_(True),
                                 (Notice.related == related) | Notice.id.startswith(id_prefix, autoescape=True))
            .order_by(Notice.created_at, Notice.id)).scalars())
    states = ack_states([n.id for n in notices], url)
    return [AckOverview(n.id, n.subject, n.created_at, states[n.id].by_person) for n in notices]


def ack_states(notice_ids: Iterable[str], url: str | None = None) -> dict[str, AckState]:
    ids = sorted(set(notice_ids))
    if not ids:
        return {}
    with db.session(url) as s:
        notices = {n.id: n for n in s.execute(select(Notice).where(Notice.id.in_(ids))).scalars()}
        acks: dict[str, dict[str, dt.datetime]] = {}
        for a in s.execute(select(Acknowledgement).where(Acknowledgement.notice_id.in_(ids)).order_by(Acknowledgement.at)).scalars():
            acks.setdefault(a.notice_id, {}).setdefault(a.person_id, a.at)
    return {
        nid: AckState(bool(n.requires_ack), n.acked_by, acks.get(nid, {}))
        for nid, n in notices.items()
    }
