"""Send a notice to roles: render, record, fan out, raise what did not arrive.

This is the one entry point procedures use (through the Prefect tasks in ``tasks/notices.py``):
``send_notice(profile, kind, context, roles, ...)``. The notice id should be stable for the
event it reports (e.g. ``incident:INC-1:alert``): a retried flow then re-sends nothing that was
delivered.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

from notices import drill_faults
from notices.acks import ack_url, make_token
from notices.delivery import UNKNOWN, DeliveryEngine, Message, NoticeOutcome, RetryPolicy
from notices.routing import Recipient, deputy_of, recipients
from notices.templates import ACK_LINK_PLACEHOLDER, render
from regflows import ledger
from regflows.profile import Channel, Profile
from regflows.store import db
from regflows.store.models import Notice
from sqlalchemy.exc import IntegrityError

log = logging.getLogger("regflows.notices")
ACK_PLACEHOLDER = ACK_LINK_PLACEHOLDER


class NoticeNotDelivered(RuntimeError):
    """Raised after the deputies were told: some recipients were reached through no channel."""

    def __init__(self, outcome: NoticeOutcome) -> None:
        self.outcome = outcome
        names = ", ".join(f"{p.recipient.name}（{p.recipient.person_id}）" for p in outcome.unreached)
        super().__init__(f"通知 {outcome.notice_id} 未能送达：{names}")


#: The outcomes sent in this context, when someone is collecting them (see ``collecting``).
_collected: ContextVar[list[NoticeOutcome] | None] = ContextVar("regflows_notices_collected", default=None)


@contextmanager
def collecting() -> Iterator[list[NoticeOutcome]]:
    """Collect every outcome ``send_notice`` returns in this context (and thread), deputies'
    failure notices included: how a Prefect task shows what the domain code it called has sent,
    without that code returning its notices through every layer."""
    sent: list[NoticeOutcome] = []
    token = _collected.set(sent)
    try:
        yield sent
    finally:
        _collected.reset(token)


def new_notice_id(kind: str) -> str:
    # A letter first: an all-digit id could read as a phone number and be refused in an SMS.
    return f"{kind}:n{uuid.uuid4().hex[:16]}"


def send_notice(
    profile: Profile,
    kind: str,
    context: dict[str, Any],
    roles: list[str] | None = None,
    *,
    to: list[Recipient] | None = None,
    notice_id: str | None = None,
    urgent: bool = False,
    requires_ack: bool = False,
    ack_for: str | None = None,
    grade: str | None = None,
    related: str | None = None,
    drill: bool = False,
    resolve_by: dt.datetime | None = None,
    ack_validity: dt.timedelta | None = None,
    policy: RetryPolicy | None = None,
    before_send: Callable[[str], None] | None = None,
    raise_to_deputy: bool = True,
    url: str | None = None,
    engine: DeliveryEngine | None = None,
) -> NoticeOutcome:
    """Render per recipient (each gets their own acknowledgement link), record, fan out."""
    notice_id = notice_id or new_notice_id(kind)
    people = list(to or []) + [r for r in recipients(profile, roles or []) if r.person_id not in {t.person_id for t in to or []}]
    if not people:
        raise ValueError(f"通知 {notice_id} 没有收件人")
    if drill:  # a drill's injected channel faults, for real (notices/drill_faults.py); never a real notice's
        people = drill_faults.apply(people)
    base = dict(context)
    if requires_ack:
        base["ack_url"] = ACK_PLACEHOLDER
    record_full = render(kind, base, "full")
    needs_sms = any(c.kind == "sms" for p in people for c in p.channels)
    record_sms = render(kind, base, "sms").body if needs_sms else None
    # Only the original notice waits for acknowledgement; an escalation acknowledges *it*.
    _record_notice(notice_id, kind, record_full.title, record_full.body, record_sms, urgent, drill, grade, roles or [],
                   related, requires_ack and ack_for is None, resolve_by, url)

    links: dict[str, str] = {}
    if requires_ack:
        for person in people:
            # An escalation carries a link that acknowledges the original notice (ack_for).
            token = (make_token(ack_for or notice_id, person.person_id, ack_validity, url=url) if ack_validity
                     else make_token(ack_for or notice_id, person.person_id, url=url))
            links[person.person_id] = ack_url(str(profile.public_base_url), token)

    def message_for(recipient: Recipient, channel: Channel) -> Message:
        ctx = dict(context)
        if requires_ack:
            ctx["ack_url"] = links[recipient.person_id]
        form: Literal["full", "sms"] = "sms" if channel.kind == "sms" else "full"
        rendered = render(kind, ctx, form)
        return Message(rendered.title or record_full.title, rendered.body)

    sender = engine or DeliveryEngine(url=url, policy=policy, before_send=before_send)
    outcome = sender.fan_out(notice_id, people, message_for, urgent)
    if (sink := _collected.get()) is not None:
        sink.append(outcome)
    unknown = [c for c in outcome.deliveries if c.state == UNKNOWN and not c.already]
    if outcome.unreached or unknown:
        _raise_failures(profile, kind, notice_id, record_full.title, outcome, sender, raise_to_deputy, drill, url)
    return outcome


def _record_notice(notice_id: str, kind: str, title: str, body: str, sms: str | None, urgent: bool, drill: bool,
                   grade: str | None, roles: list[str], related: str | None, requires_ack: bool,
                   resolve_by: dt.datetime | None, url: str | None) -> None:
    try:
        with db.session(url) as s:
            if s.get(Notice, notice_id) is not None:
                return  # a retried send: the notice is already on record
            s.add(Notice(id=notice_id, kind=kind, subject=title, body=body, sms=sms, urgent=urgent, drill=drill, grade=grade,
                         roles=roles, related=related, requires_ack=requires_ack, resolve_by=resolve_by))
            ledger.append_in(s, "notice.created", notice_id, {"kind": kind, "title": title, "roles": roles, "urgent": urgent,
                                                             "requires_ack": requires_ack, "drill": drill})
    except IntegrityError:
        # Another process recorded the same notice between our look and our insert (two workers
        # sending it at once, PostgreSQL): theirs stands, with its one ledger entry; the deliveries'
        # claims decide who sends. Any other integrity error is still raised.
        with db.session(url) as s:
            if s.get(Notice, notice_id) is None:
                raise


def _raise_failures(profile: Profile, kind: str, notice_id: str, title: str, outcome: NoticeOutcome,
                    sender: DeliveryEngine, raise_to_deputy: bool, drill: bool, url: str | None) -> None:
    """Tell each unreached person's role deputy; a failure notice that fails is logged and ledgered."""
    troubled = [p for p in outcome.persons
                if p in outcome.unreached or any(c.state == UNKNOWN and not c.already for c in p.channels)]
    for person in troubled:
        tried = [{"kind": c.kind, "target": c.target, "state": c.state, "error": c.error or ""} for c in person.channels]
        ledger.append("notice.unreached" if not person.delivered else "notice.unknown", notice_id,
                      {"person": person.recipient.person_id, "channels": tried}, url=url)
        log.error("通知 %s 未确认送达 %s：%s", notice_id, person.recipient.person_id, tried)
        if not raise_to_deputy or kind == "delivery_failure":
            continue
        deputy = deputy_of(profile, person.recipient.role_key)
        if deputy is None:
            log.error("角色 %s 没有替补人员，无法上报投递失败", person.recipient.role_key)
            continue
        context = {
            "notice_ref": notice_id,
            "notice_title": title,
            "person_name": person.recipient.name,
            "channels": tried,
            "drill": drill,
        }
        try:
            send_notice(profile, "delivery_failure", context, to=[deputy], notice_id=f"{notice_id}:failure:{person.recipient.person_id}",
                        urgent=True, drill=drill, related=notice_id, raise_to_deputy=False, url=url, policy=sender.policy,
                        before_send=sender.before_send)
        except Exception as exc:  # the original failure is already recorded; never hide this one
            log.error("投递失败上报本身失败（通知 %s）：%s", notice_id, exc)
            ledger.append("notice.failure_report_failed", notice_id, {"error": str(exc)[:500]}, url=url)

