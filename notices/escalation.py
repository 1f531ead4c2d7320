"""Acknowledgement watch: escalate what nobody acknowledged, re-notify what was not resolved.

The pure half (:func:`next_action`) decides from a notice's recorded state and the clock; the
driver (:func:`run_escalations`) executes the decisions and records them. A watcher deployment
runs the driver every minute, so escalation survives any restart: the state is in the store.

Rules (profile settings):
- An acknowledgement-required notice goes first to every member of its role (step 0). After
  ``ack_wait_minutes[grade]`` without acknowledgement it goes to the next person of the role's
  escalation chain (step 1, 2, ...), each with their own link, until someone acknowledges.
- When the chain is used up, that is itself raised: to the role's deputy, recorded in the ledger.
- Acknowledged but not resolved by ``resolve_by``: re-notify every ``renotify_every_minutes``
  (acknowledging is not fixing; a gap users of on-call products complain about).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select

from calendars.zone import SHANGHAI
from notices.routing import deputy_of, person_as_recipient, role_keys
from notices.service import send_notice
from regflows import ledger
from regflows.profile import Profile
from regflows.store import db
from regflows.store.models import Notice, utcnow

log = logging.getLogger("regflows.notices")


@dataclass(frozen=True)
class Action:
    kind: str  # escalate | chain_exhausted | renotify
    notice_id: str
    step: int | None = None
    person_id: str | None = None


def next_action(notice: Notice, chain: list[str], wait: dt.timedelta, renotify_every: dt.timedelta, now: dt.datetime) -> Action | None:
    if not notice.requires_ack or notice.resolved_at is not None:
        return None  # resolved: nothing left to escalate, acknowledged or not (an obligation withdrawn by a correction)
    if notice.acked_at is not None:
        if notice.resolve_by is None or notice.resolved_at is not None or now < notice.resolve_by:
            return None
        if notice.renotified_at is None or now - notice.renotified_at >= renotify_every:
            return Action("renotify", notice.id, person_id=notice.acked_by)
        return None
    since = notice.last_escalated_at or notice.created_at
    if now - since < wait:
        return None
    step = notice.escalation_step + 1
    if step < len(chain):
        return Action("escalate", notice.id, step, chain[step])
    if notice.chain_exhausted_at is None:
        return Action("chain_exhausted", notice.id, step)
    return None


def _chain(profile: Profile, notice: Notice) -> tuple[str | None, list[str]]:
    keys = role_keys(profile, list(notice.roles or [])) if notice.roles else []
    if not keys:
        return None, []
    return keys[0], profile.roles[keys[0]].chain()


def run_escalations(profile: Profile, now: dt.datetime | None = None, url: str | None = None, **send_options) -> list[Action]:  # type: ignore[no-untyped-def]
    """Find every notice that needs a step now and take it; returns what was done."""
    moment = now or utcnow()
    with db.session(url) as s:
        open_notices = list(
            s.execute(
                select(Notice).where(
                    Notice.requires_ack.is_(True),
                    Notice.resolved_at.is_(None),
                    Notice.chain_exhausted_at.is_(None),
                )
            ).scalars()
        )
    taken: list[Action] = []
    renotify_every = dt.timedelta(minutes=profile.settings.renotify_every_minutes)
    for notice in open_notices:
        role_key, chain = _chain(profile, notice)
        if role_key is None:
            continue
        wait = dt.timedelta(minutes=profile.settings.ack_wait_minutes.get(notice.grade or "IV", 30))  # type: ignore[call-overload]
        action = next_action(notice, chain, wait, renotify_every, moment)
        if action is None:
            continue
        waited = int((moment - (notice.last_escalated_at or notice.created_at)).total_seconds() // 60)
        base = {"notice_ref": notice.id, "notice_title": notice.subject, "drill": notice.drill}
        if action.kind == "escalate":
            person = person_as_recipient(profile, action.person_id, role_key)  # type: ignore[arg-type]
            context = {**base, "step": action.step, "minutes_waited": waited, "notified_before": _names(profile, chain[: action.step])}
            send_notice(profile, "escalation", context, to=[person], notice_id=f"{notice.id}:esc:{action.step}", urgent=True,
                        requires_ack=True, ack_for=notice.id, grade=notice.grade, related=notice.id, drill=notice.drill,
                        url=url, **send_options)
            _update(notice.id, url, escalation_step=action.step, last_escalated_at=moment)
            ledger.append("notice.escalated", notice.id, {"step": action.step, "person": action.person_id, "waited_minutes": waited}, url=url)
        elif action.kind == "chain_exhausted":
            deputy = deputy_of(profile, role_key)
            log.error("通知 %s 升级链已用尽仍无人确认", notice.id)
            if deputy is not None:
                context = {**base, "step": action.step, "minutes_waited": waited, "notified_before": _names(profile, chain), "chain_exhausted": True}
                send_notice(profile, "escalation", context, to=[deputy], notice_id=f"{notice.id}:exhausted", urgent=True,
                            requires_ack=True, ack_for=notice.id, grade=notice.grade, related=notice.id, drill=notice.drill,
                            url=url, **send_options)
            _update(notice.id, url, chain_exhausted_at=moment)
            ledger.append("notice.chain_exhausted", notice.id, {"chain": chain, "deputy": deputy.person_id if deputy else None}, url=url)
        else:
            people = [person_as_recipient(profile, action.person_id, role_key)] if action.person_id else []
            due_label = notice.resolve_by.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if notice.resolve_by else None
            context = {**base, "acked_by": _names(profile, [action.person_id])[0] if action.person_id else "", "due_label": due_label}
            send_notice(profile, "renotify", context, list(notice.roles or []), to=people,
                        notice_id=f"{notice.id}:renotify:{moment.strftime('%Y%m%dT%H%M')}", urgent=True, related=notice.id,
                        drill=notice.drill, url=url, **send_options)
            _update(notice.id, url, renotified_at=moment)
            ledger.append("notice.renotified", notice.id, {"acked_by": action.person_id}, url=url)
        taken.append(action)
    return taken


def _names(profile: Profile, person_ids: list[str]) -> list[str]:
    """People as a notice names them: by the profile's name, not the id (issue 14, 7)."""
    names = {p.id: p.name for p in profile.people}
    return [names.get(i, i) for i in person_ids]


def _update(notice_id: str, url: str | None, **values) -> None:  # type: ignore[no-untyped-def]
    with db.session(url) as s:
        notice = s.get(Notice, notice_id)
        for key, value in values.items():
            setattr(notice, key, value)


def mark_resolved(notice_id: str, by: str, url: str | None = None) -> None:
    with db.session(url) as s:
        notice = s.get(Notice, notice_id)
        if notice is None:
            raise LookupError(f"通知 {notice_id} 不存在")
        notice.resolved_at = utcnow()
        ledger.append_in(s, "notice.resolved", notice_id, {"by": by})
